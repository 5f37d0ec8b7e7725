// Generic StatefulSet-member activities: the Kubernetes side of removing a member of any stateful service
// (claim and release the StatefulSet, scale it down by one, wait for the member's pod to go, release its
// claims). The service's side (ring, decommission protocol) is in ./decommission.ts and src/services/.
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { DecommissionActivities } from '../core/activity-contracts.js';
import { ANNOTATION_DECOMMISSION_OWNER, type StatefulMemberRef } from '../core/decommission.js';
import type { ClientRegistry } from './clients.js';
import { claimPatch, isConflict, isNotFound, JSON_PATCH, MERGE_PATCH, rethrow } from './kube-api.js';

export interface StatefulSetDeps {
  clients: ClientRegistry;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
  /** How often a pod is polled while waiting for it to go (default 2s). */
  pollMs?: number;
}

/** Reads shared by the StatefulSet-member and decommission activities: absent objects are undefined. */
export function statefulSetReads(clients: ClientRegistry) {
  const core = (cluster: string) => clients.for(cluster).core;
  const apps = (cluster: string) => clients.for(cluster).apps;

  async function readStatefulSet({ cluster, namespace, statefulSet }: StatefulMemberRef): Promise<k8s.V1StatefulSet | undefined> {
    try {
      return await apps(cluster).readNamespacedStatefulSet({ name: statefulSet, namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      rethrow(e, `read StatefulSet ${namespace}/${statefulSet}`);
    }
  }

  async function readPod(cluster: string, namespace: string, name: string): Promise<k8s.V1Pod | undefined> {
    try {
      return await core(cluster).readNamespacedPod({ name, namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      rethrow(e, `read pod ${namespace}/${name}`);
    }
  }

  /** The workflow holding the StatefulSet's decommission claim, if any. */
  const holderOf = (sts: k8s.V1StatefulSet | undefined) => sts?.metadata?.annotations?.[ANNOTATION_DECOMMISSION_OWNER];

  return { readStatefulSet, readPod, holderOf };
}

type StatefulSetActivityName = 'claimStatefulSet' | 'releaseStatefulSet' | 'scaleDownStatefulSet' | 'waitForMemberPodGone' | 'deleteMemberClaims';

export function statefulSetActivities({ clients, isWorkflowRunning, pollMs = 2000 }: StatefulSetDeps) {
  const core = (cluster: string) => clients.for(cluster).core;
  const apps = (cluster: string) => clients.for(cluster).apps;
  const { readStatefulSet, readPod, holderOf } = statefulSetReads(clients);

  return {
    async claimStatefulSet(ref: StatefulMemberRef & { owner: string }): Promise<void> {
      const { cluster, namespace, statefulSet, owner } = ref;
      const sts = await readStatefulSet(ref);
      if (!sts) throw ApplicationFailure.nonRetryable(`StatefulSet ${namespace}/${statefulSet} does not exist`, 'StatefulSetNotFound');
      const holder = holderOf(sts);
      if (holder === owner) return;
      if (holder && (await isWorkflowRunning(holder))) {
        throw ApplicationFailure.nonRetryable(`another decommission of StatefulSet ${namespace}/${statefulSet} is running (workflow ${holder})`, 'StatefulSetBusy');
      }
      const ops = claimPatch(sts.metadata, ANNOTATION_DECOMMISSION_OWNER, owner);
      try {
        await apps(cluster).patchNamespacedStatefulSet({ name: statefulSet, namespace, body: ops }, JSON_PATCH);
      } catch (e) {
        if (isConflict(e)) throw new Error(`StatefulSet ${namespace}/${statefulSet} changed while claiming it; retrying`);
        rethrow(e, `claim StatefulSet ${namespace}/${statefulSet}`);
      }
    },

    async releaseStatefulSet(ref: StatefulMemberRef & { owner: string }): Promise<void> {
      const sts = await readStatefulSet(ref);
      if (!sts || holderOf(sts) !== ref.owner) return;
      await apps(ref.cluster).patchNamespacedStatefulSet(
        { name: ref.statefulSet, namespace: ref.namespace, body: { metadata: { annotations: { [ANNOTATION_DECOMMISSION_OWNER]: null } } } },
        MERGE_PATCH,
      );
    },

    async scaleDownStatefulSet(ref: StatefulMemberRef & { ordinal: number }) {
      const { cluster, namespace, statefulSet, ordinal } = ref;
      const sts = await readStatefulSet(ref);
      if (!sts) throw ApplicationFailure.nonRetryable(`StatefulSet ${namespace}/${statefulSet} does not exist`, 'StatefulSetNotFound');
      const replicas = sts.spec?.replicas ?? 1;
      if (replicas === ordinal) return { replicasBefore: ordinal + 1, replicasAfter: ordinal, changed: false };
      if (replicas !== ordinal + 1) {
        throw ApplicationFailure.nonRetryable(
          `StatefulSet ${namespace}/${statefulSet} has ${replicas} replicas, not ${ordinal + 1}: scaling it down would not remove ${ref.member}; someone changed it, scale it by hand`,
          'UnexpectedReplicas',
        );
      }
      try {
        // The test op makes it conditional: a concurrent change makes the API refuse the patch.
        await apps(cluster).patchNamespacedStatefulSet(
          {
            name: statefulSet,
            namespace,
            body: [
              { op: 'test', path: '/spec/replicas', value: ordinal + 1 },
              { op: 'replace', path: '/spec/replicas', value: ordinal },
            ],
          },
          JSON_PATCH,
        );
      } catch (e) {
        if (isConflict(e)) throw new Error(`StatefulSet ${namespace}/${statefulSet} changed while scaling it down; retrying`);
        rethrow(e, `scale StatefulSet ${namespace}/${statefulSet}`);
      }
      return { replicasBefore: ordinal + 1, replicasAfter: ordinal, changed: true };
    },

    async waitForMemberPodGone(ref: StatefulMemberRef & { deadline: number }): Promise<{ gone: true }> {
      for (;;) {
        const pod = await readPod(ref.cluster, ref.namespace, ref.member);
        if (!pod) return { gone: true };
        heartbeat({ phase: pod.status?.phase, terminating: !!pod.metadata?.deletionTimestamp });
        if (Date.now() > ref.deadline) {
          throw ApplicationFailure.nonRetryable(`pod ${ref.namespace}/${ref.member} is still there after the StatefulSet was scaled down`, 'PodNotGone');
        }
        await sleep(Math.min(pollMs, 1000));
      }
    },

    async deleteMemberClaims(ref: StatefulMemberRef & { claims: string[] }) {
      const { cluster, namespace, member } = ref;
      if (await readPod(cluster, namespace, member)) {
        throw ApplicationFailure.nonRetryable(`pod ${namespace}/${member} still exists: its volume is not released`, 'PodStillExists');
      }
      const deleted: string[] = [];
      const absent: string[] = [];
      for (const claim of ref.claims) {
        try {
          await core(cluster).deleteNamespacedPersistentVolumeClaim({ name: claim, namespace });
          deleted.push(claim);
        } catch (e) {
          if (isNotFound(e)) absent.push(claim);
          else rethrow(e, `delete PersistentVolumeClaim ${namespace}/${claim}`);
        }
      }
      return { deleted, absent };
    },
  } satisfies Pick<DecommissionActivities, StatefulSetActivityName>;
}
