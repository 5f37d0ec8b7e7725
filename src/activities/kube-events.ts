// Kubernetes Events on the objects runbooks act on, as `kubectl describe` shows them: what happens to a Node or a
// StatefulSet and which workflow does it. Best effort: an Event that cannot be written is logged, never a failed step.
import type * as k8s from '@kubernetes/client-node';
import { activityInfo, log } from '@temporalio/activity';

/** The activity's logger, or nothing outside an activity. */
function logWarn(message: string, attrs: Record<string, unknown>) {
  try {
    log.warn(message, attrs);
  } catch {
    // outside an activity context: nobody to tell
  }
}

export interface EventTarget {
  kind: 'Node' | 'StatefulSet';
  apiVersion: 'v1' | 'apps/v1';
  name: string;
  /** The object's namespace; events on cluster-scoped objects (Node) go to `default`, as the kubelet's do. */
  namespace?: string;
  uid?: string;
}

/** Record `reason` on the object, naming the workflow that acts (from the activity's context). */
export async function recordEvent(core: k8s.CoreV1Api, target: EventTarget, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
  const namespace = target.namespace ?? 'default';
  const now = new Date();
  try {
    const info = activityInfo();
    const workflowId = info.workflowExecution?.workflowId ?? 'unknown';
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${target.name}.`, namespace },
        involvedObject: { kind: target.kind, apiVersion: target.apiVersion, name: target.name, ...(target.namespace ? { namespace: target.namespace } : {}), ...(target.uid ? { uid: target.uid } : {}) },
        reason,
        message: `${message} (${info.workflowType} ${workflowId})`,
        type,
        source: { component: 'itinerant' },
        reportingComponent: 'itinerant.dev/worker',
        reportingInstance: workflowId.slice(0, 128),
        firstTimestamp: now,
        lastTimestamp: now,
        action: reason,
        count: 1,
      },
    });
  } catch (e) {
    logWarn('could not record a Kubernetes Event', { reason, object: `${target.kind}/${target.name}`, error: (e as Error).message });
  }
}

export const nodeEvent = (name: string, uid?: string): EventTarget => ({ kind: 'Node', apiVersion: 'v1', name, ...(uid ? { uid } : {}) });

/** Is the acting workflow a repave (its Node events say Repaving/Replaced), or another runbook (Claimed/Removed)? */
export function repaving(): boolean {
  try {
    return activityInfo().workflowType === 'repaveNode';
  } catch {
    return false; // called outside an activity (a direct call in a test)
  }
}
