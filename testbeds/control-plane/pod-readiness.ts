// The part of a kubelet's status sync that KWOK does not play: when the node lifecycle controller has marked
// a pod not ready (it does so for every pod on a node whose Ready it has not seen True in time — an API
// server restarting, or its watch lagging behind a node that just registered), the pod's kubelet, still
// running and its containers ready, sets Ready again on its next sync. KWOK leaves it not ready for good, so
// a PodDisruptionBudget counting it stays at 0 and every drain waits forever.
import { KUBELET_STATE_ANNOTATION } from './kwok-config.js';

type Req = (method: string, path: string, body?: unknown, contentType?: string) => Promise<{ status: number; body: any }>;

interface Condition {
  type: string;
  status: string;
}
interface KPod {
  metadata: { name: string; namespace: string; deletionTimestamp?: string };
  spec?: { nodeName?: string; readinessGates?: unknown[] };
  status?: { phase?: string; conditions?: Condition[] };
}
export interface KubeletNode {
  metadata: { annotations?: Record<string, string> };
  status?: { conditions?: Condition[] };
}

/** How often a kubelet syncs a pod's status (the kubelet's own period is about 10 s). */
const SYNC_EVERY_MS = 5_000;

const is = (conditions: Condition[] | undefined, type: string, status: string) => conditions?.some((c) => c.type === type && c.status === status) ?? false;

/** Pods a running kubelet would report Ready again: running, containers ready, on a node whose kubelet is up and Ready. */
export function podsToReady(pods: KPod[], nodeOf: (name: string) => KubeletNode | undefined): KPod[] {
  return pods.filter((p) => {
    const node = p.spec?.nodeName ? nodeOf(p.spec.nodeName) : undefined;
    return (
      node?.metadata.annotations?.[KUBELET_STATE_ANNOTATION] === 'ready' &&
      is(node.status?.conditions, 'Ready', 'True') &&
      !p.metadata.deletionTimestamp &&
      !p.spec?.readinessGates?.length &&
      p.status?.phase === 'Running' &&
      is(p.status.conditions, 'ContainersReady', 'True') &&
      is(p.status.conditions, 'Ready', 'False')
    );
  });
}

/** Sync pod readiness as the kubelets would, every few seconds, until the returned stop is called. */
export function startPodReadinessSync(req: Req, nodeOf: (name: string) => KubeletNode | undefined, log: (line: string) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const sync = async () => {
    try {
      const r = await req('GET', '/api/v1/pods?fieldSelector=status.phase%3DRunning');
      for (const p of podsToReady((r.body?.items ?? []) as KPod[], nodeOf)) {
        const ready = { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString(), reason: null, message: null };
        const u = await req('PATCH', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/status`, { status: { conditions: [ready] } }, 'application/strategic-merge-patch+json');
        log(`kubelet of ${p.spec!.nodeName}: pod ${p.metadata.namespace}/${p.metadata.name} Ready again (${u.status})`);
      }
    } catch (e) {
      log(`kubelet pod status sync: ${(e as Error).message} (again in ${SYNC_EVERY_MS} ms)`);
    }
    if (!stopped) timer = setTimeout(() => void sync(), SYNC_EVERY_MS);
  };
  timer = setTimeout(() => void sync(), SYNC_EVERY_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
