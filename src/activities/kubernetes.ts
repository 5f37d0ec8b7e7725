import * as k8s from '@kubernetes/client-node';
import { activityInfo, ApplicationFailure, heartbeat, log, sleep } from '@temporalio/activity';
import type { DrainCheckpoint, DrainRequest, DrainResult, KubernetesActivities, NodeInspection, NodeRef } from '../core/activity-contracts.js';
import { ANNOTATION_OWNER, LABEL_CLUSTER, LABEL_CONTROL_PLANE, LABEL_NODE_GROUP } from '../core/labels.js';
import type { ClientRegistry } from './clients.js';
import { nextChange, type WatchTarget } from './kube-watch.js';
import { claimPatch, isConflict, isNotFound, isPodReady, JSON_PATCH, MERGE_PATCH, messageOf, rethrow, statusOf } from './kube-api.js';

const POLL_MS = 1000;
const MAX_BACKOFF_MS = 8000;

export interface KubernetesDeps {
  clients: ClientRegistry;
  /** Is this workflow still running? Lets a claim left behind by a dead run be taken over. */
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
}


export const isNodeReady = (node: k8s.V1Node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isMirrorPod = (pod: k8s.V1Pod) => pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined;
const controllerOf = (pod: k8s.V1Pod) => pod.metadata?.ownerReferences?.find((o) => o.controller);
const isDaemonSetPod = (pod: k8s.V1Pod) => controllerOf(pod)?.kind === 'DaemonSet';
const isFinished = (pod: k8s.V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const podKey = (pod: k8s.V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

async function podsOnNode(core: k8s.CoreV1Api, node: string): Promise<k8s.V1Pod[]> {
  return (await podListOnNode(core, node)).items;
}
const podListOnNode = (core: k8s.CoreV1Api, node: string) => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
/** A watch on the pods of a node, from a list's resourceVersion. */
const podsOnNodeChange = (node: string, list: k8s.V1PodList): WatchTarget => ({ path: '/api/v1/pods', fieldSelector: `spec.nodeName=${node}`, resourceVersion: list.metadata?.resourceVersion });

/** Pods drain must move away, as kubectl drain sees them: not DaemonSet-managed, not mirror, not finished. */
function classify(pods: k8s.V1Pod[]) {
  const skipped = { daemonSet: 0, mirror: 0, finished: 0 };
  const toEvict: k8s.V1Pod[] = [];
  for (const pod of pods) {
    if (isMirrorPod(pod)) skipped.mirror++;
    else if (isDaemonSetPod(pod)) skipped.daemonSet++;
    else if (isFinished(pod)) skipped.finished++;
    else toEvict.push(pod);
  }
  return { toEvict, skipped };
}

function tolerates(pod: k8s.V1PodSpec | undefined, taint: k8s.V1Taint): boolean {
  return (pod?.tolerations ?? []).some(
    (t) =>
      (t.operator === 'Exists' && (t.key === undefined || t.key === taint.key)) ||
      (t.key === taint.key && (t.operator ?? 'Equal') === 'Equal' && (t.value ?? '') === (taint.value ?? '')),
  );
}

/** Would this DaemonSet place a pod on the node? (nodeSelector and NoSchedule/NoExecute taints) */
function daemonSetTargets(ds: k8s.V1DaemonSet, node: k8s.V1Node): boolean {
  const spec = ds.spec?.template.spec;
  const labels = node.metadata?.labels ?? {};
  const selectorOk = Object.entries(spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  const taintsOk = (node.spec?.taints ?? [])
    .filter((t) => t.effect !== 'PreferNoSchedule' && !t.key.startsWith('node.kubernetes.io/'))
    .every((t) => tolerates(spec, t));
  return selectorOk && taintsOk;
}

export function kubernetesActivities({ clients, isWorkflowRunning }: KubernetesDeps) {
  const core = (cluster: string) => clients.for(cluster).core;
  const apps = (cluster: string) => clients.for(cluster).apps;
  /** Wake at the first change to `targets` (a Kubernetes watch), at the latest after `maxMs`. */
  const changeOrTimeout = (cluster: string, targets: WatchTarget[], maxMs: number) => {
    const kc = clients.for(cluster).kubeConfig;
    return kc ? nextChange(kc, targets, maxMs) : sleep(maxMs);
  };

  async function readNode(cluster: string, node: string): Promise<k8s.V1Node | undefined> {
    try {
      return await core(cluster).readNode({ name: node });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      rethrow(e, `read node ${node}`);
    }
  }

  async function setUnschedulable({ cluster, node }: NodeRef, unschedulable: boolean): Promise<{ changed: boolean }> {
    const current = await readNode(cluster, node);
    if (!current) throw ApplicationFailure.nonRetryable(`node ${node} does not exist`, 'NodeNotFound');
    if ((current.spec?.unschedulable ?? false) === unschedulable) return { changed: false };
    try {
      await core(cluster).patchNode({ name: node, body: { spec: { unschedulable } } }, MERGE_PATCH);
    } catch (e) {
      rethrow(e, `${unschedulable ? 'cordon' : 'uncordon'} node ${node}`);
    }
    return { changed: true };
  }

  return {
    async inspectNode({ cluster, node }: NodeRef): Promise<NodeInspection> {
      const n = await readNode(cluster, node);
      if (!n) return { exists: false, controlPlane: false, ready: false, unschedulable: false, unmanagedPods: [], groupReady: 0 };
      const labels = n.metadata?.labels ?? {};
      const group = labels[LABEL_NODE_GROUP];
      const providerID = n.spec?.providerID ?? '';
      let groupReady = 0;
      let groupNodes = 0;
      if (group) {
        const members = (await core(cluster).listNode({ labelSelector: `${LABEL_NODE_GROUP}=${group}` })).items.filter((m) => labels[LABEL_CLUSTER] === m.metadata?.labels?.[LABEL_CLUSTER]);
        groupNodes = members.length;
        groupReady = members.filter(isNodeReady).length;
      }
      const pods = classify(await podsOnNode(core(cluster), node)).toEvict;
      return {
        exists: true,
        nodeCluster: labels[LABEL_CLUSTER],
        controlPlane: LABEL_CONTROL_PLANE in labels || 'node-role.kubernetes.io/master' in labels,
        nodeGroup: group,
        ready: isNodeReady(n),
        unschedulable: n.spec?.unschedulable ?? false,
        instanceId: providerID.startsWith('oci://') ? providerID.slice('oci://'.length) : undefined,
        owner: n.metadata?.annotations?.[ANNOTATION_OWNER],
        unmanagedPods: pods.filter((p) => !controllerOf(p)).map(podKey),
        groupReady,
        groupNodes,
      };
    },

    /** Mark the node as owned by this run; refuse if another live run owns it. */
    async claimNode({ cluster, node, owner }: NodeRef & { owner: string }): Promise<void> {
      const n = await readNode(cluster, node);
      if (!n) throw ApplicationFailure.nonRetryable(`node ${node} does not exist in cluster ${cluster}`, 'NodeNotFound');
      const holder = n.metadata?.annotations?.[ANNOTATION_OWNER];
      if (holder === owner) return;
      if (holder && (await isWorkflowRunning(holder))) {
        throw ApplicationFailure.nonRetryable(`node ${node} is already being worked on by workflow ${holder}`, 'NodeBusy');
      }
      const ops = claimPatch(n.metadata, ANNOTATION_OWNER, owner);
      try {
        await core(cluster).patchNode({ name: node, body: ops }, JSON_PATCH);
      } catch (e) {
        // 422/409: the node changed under us; a retry reads it again.
        if (isConflict(e)) throw new Error(`node ${node} changed while claiming it; retrying`);
        rethrow(e, `claim node ${node}`);
      }
    },

    async releaseNode({ cluster, node, owner }: NodeRef & { owner: string }): Promise<void> {
      const n = await readNode(cluster, node);
      if (!n || n.metadata?.annotations?.[ANNOTATION_OWNER] !== owner) return;
      await core(cluster).patchNode({ name: node, body: { metadata: { annotations: { [ANNOTATION_OWNER]: null } } } }, MERGE_PATCH);
    },

    /** Operational = Ready, and every DaemonSet that targets the node runs a Ready pod on it. */
    async waitForNodeOperational({ cluster, node, deadline }: NodeRef & { deadline: number }) {
      for (;;) {
        const n = await readNode(cluster, node);
        let missing: string[] = ['node not registered'];
        const changes: WatchTarget[] = [{ path: '/api/v1/nodes', fieldSelector: `metadata.name=${node}`, resourceVersion: n?.metadata?.resourceVersion }];
        if (n) {
          const daemonSets = (await apps(cluster).listDaemonSetForAllNamespaces()).items.filter((ds) => daemonSetTargets(ds, n));
          const podList = await podListOnNode(core(cluster), node);
          const pods = podList.items;
          changes.push(podsOnNodeChange(node, podList));
          missing = daemonSets
            .filter((ds) => !pods.some((p) => controllerOf(p)?.uid === ds.metadata?.uid && isPodReady(p)))
            .map((ds) => `DaemonSet ${ds.metadata?.namespace}/${ds.metadata?.name} pod not Ready`);
          if (!isNodeReady(n)) missing.unshift('node not Ready');
          if (missing.length === 0) return { node, daemonSetPods: daemonSets.length };
        }
        heartbeat({ waitingFor: missing });
        if (Date.now() > deadline) {
          throw ApplicationFailure.nonRetryable(`node ${node} did not become operational in time: ${missing.join('; ')}`, 'ReplacementNotReady');
        }
        await changeOrTimeout(cluster, changes, POLL_MS);
      }
    },

    cordonNode: (ref: NodeRef) => setUnschedulable(ref, true),
    uncordonNode: (ref: NodeRef) => setUnschedulable(ref, false),

    /**
     * Evict every pod drain must move (in parallel), honouring PodDisruptionBudgets: a refused eviction
     * (429) is retried with backoff until the deadline. Resumes from its heartbeat after a crash.
     */
    async drainNode(req: DrainRequest): Promise<DrainResult> {
      const { cluster, node, deadline } = req;
      const api = core(cluster);
      const checkpoint = activityInfo().heartbeatDetails as DrainCheckpoint | undefined;
      const evicted = new Set(checkpoint?.evicted ?? []);
      if (checkpoint) log.info('drain resumes from checkpoint', { node, evicted: evicted.size, remaining: checkpoint.remaining });
      let backoff = POLL_MS;
      for (;;) {
        const podList = await podListOnNode(api, node);
        const { toEvict, skipped } = classify(podList.items);
        const unmanaged = toEvict.filter((p) => !controllerOf(p));
        if (unmanaged.length > 0 && !req.evictUnmanagedPods) {
          throw ApplicationFailure.nonRetryable(
            `node ${node} runs pods no controller would recreate: ${unmanaged.map(podKey).join(', ')} (evictUnmanagedPods is false)`,
            'UnmanagedPods',
          );
        }
        const pending = toEvict.filter((p) => !p.metadata?.deletionTimestamp);
        if (toEvict.length === 0) return { evicted: [...evicted], deletedAfterTimeout: [], skipped };
        const blocked: string[] = [];
        // Refused otherwise (5xx: e.g. a pod under two PodDisruptionBudgets, which the eviction API cannot honour):
        // retried like a PDB refusal until the deadline, then named with the API server's answer. Never retried past it.
        const refused: Record<string, string> = {};
        await Promise.all(
          pending.map(async (pod) => {
            const name = pod.metadata?.name ?? '';
            const namespace = pod.metadata?.namespace ?? 'default';
            try {
              await api.createNamespacedPodEviction({
                name,
                namespace,
                body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
              });
              evicted.add(podKey(pod));
            } catch (e) {
              if (isNotFound(e)) return;
              if (statusOf(e) === 429) blocked.push(podKey(pod));
              else if ((statusOf(e) ?? 0) >= 500) refused[podKey(pod)] = `${statusOf(e)}: ${messageOf(e)}`;
              else rethrow(e, `evict pod ${podKey(pod)}`);
            }
          }),
        );
        heartbeat({ evicted: [...evicted], remaining: toEvict.length, blockedByPdb: blocked, ...(Object.keys(refused).length ? { refused } : {}) } satisfies DrainCheckpoint);
        if (Date.now() > deadline) {
          if (blocked.length > 0 && Object.keys(refused).length === 0 && req.deletePodsBlockedByPdbAfterTimeout) {
            for (const key of blocked) {
              const [namespace, name] = key.split('/') as [string, string];
              await api.deleteNamespacedPod({ name, namespace }).catch((e) => (isNotFound(e) ? undefined : rethrow(e, `delete pod ${key}`)));
            }
            log.warn('drain deadline passed: deleted pods whose eviction a PodDisruptionBudget refused', { node, pods: blocked });
            return { evicted: [...evicted], deletedAfterTimeout: blocked, skipped };
          }
          const refusals = Object.entries(refused).map(([pod, answer]) => `${pod} (${answer})`);
          throw ApplicationFailure.nonRetryable(
            `drain of ${node} timed out with ${toEvict.length} pods left` +
              (blocked.length ? `; evictions refused by PodDisruptionBudgets for ${blocked.join(', ')}` : '') +
              (refusals.length ? `; evictions refused by the API server for ${refusals.join(', ')}` : '') +
              (blocked.length + refusals.length === 0 ? '; pods still terminating' : ''),
            'DrainTimeout',
            { blockedByPdb: blocked, refused, remaining: toEvict.length },
          );
        }
        // Refused evictions wait out their backoff (what frees a PDB happens elsewhere); pods already evicted are
        // awaited on a watch of the node's pods.
        if (blocked.length + Object.keys(refused).length > 0) await sleep(backoff);
        else await changeOrTimeout(cluster, [podsOnNodeChange(node, podList)], backoff);
        backoff = blocked.length + Object.keys(refused).length > 0 ? Math.min(backoff * 2, MAX_BACKOFF_MS) : POLL_MS;
      }
    },

    async deleteNode({ cluster, node }: NodeRef): Promise<{ deleted: boolean }> {
      try {
        await core(cluster).deleteNode({ name: node });
        return { deleted: true };
      } catch (e) {
        if (isNotFound(e)) return { deleted: false };
        rethrow(e, `delete node ${node}`);
      }
    },
  } satisfies KubernetesActivities;
}
