import * as k8s from '@kubernetes/client-node';
import { activityInfo, ApplicationFailure, heartbeat, log, sleep } from '@temporalio/activity';
import type { DrainCheckpoint, DrainRequest, DrainResult, KubernetesActivities, NodeInspection, NodeOfInstance, NodeRef } from '../core/activity-contracts.js';
import { ANNOTATION_OWNER, LABEL_CLUSTER, LABEL_CONTROL_PLANE, LABEL_NODE_GROUP } from '../core/labels.js';
import { instanceIdOfProviderID } from '../core/provider-id.js';
import type { ClientRegistry } from './clients.js';
import { nodeEvent, recordEvent, repaving } from './kube-events.js';
import { evictionsRefusedByPdb } from './metrics.js';
import { nextChange, untilAllGone, type WatchTarget } from './kube-watch.js';
import { claimPatch, isConflict, isNotFound, isPodReady, JSON_PATCH, MERGE_PATCH, messageOf, rethrow, statusOf } from './kube-api.js';

const POLL_MS = 1000;
const MAX_BACKOFF_MS = 8000;
const CONFLICT_RETRY_MS = 50;

export interface KubernetesDeps {
  clients: ClientRegistry;
  /** Is this workflow still running? Lets a claim left behind by a dead run be taken over. */
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
}


export const isNodeReady = (node: k8s.V1Node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isMirrorPod = (pod: k8s.V1Pod) => pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined;
const controllerOf = (pod: k8s.V1Pod) => pod.metadata?.ownerReferences?.find((o) => o.controller);
export const isDaemonSetPod = (pod: k8s.V1Pod) => controllerOf(pod)?.kind === 'DaemonSet';
const isFinished = (pod: k8s.V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const podKey = (pod: k8s.V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export async function podsOnNode(core: k8s.CoreV1Api, node: string): Promise<k8s.V1Pod[]> {
  return (await podListOnNode(core, node)).items;
}
const podListOnNode = (core: k8s.CoreV1Api, node: string) => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
/** A watch on the pods of a node, from a list's resourceVersion. */
const podsOnNodeChange = (node: string, list: k8s.V1PodList): WatchTarget => ({ path: '/api/v1/pods', fieldSelector: `spec.nodeName=${node}`, resourceVersion: list.metadata?.resourceVersion });
/** The PodDisruptionBudgets of the blocked pods' namespaces, after the pod list (resourceVersions are global, as etcd's). */
const budgetsChange = (blocked: string[], list: k8s.V1PodList): WatchTarget[] =>
  [...new Set(blocked.map((key) => key.split('/')[0]!))].map((ns) => ({ path: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, resourceVersion: list.metadata?.resourceVersion }));

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

  const runsOn = (n: k8s.V1Node | undefined, instanceId: string) => instanceIdOfProviderID(n?.spec?.providerID) === instanceId;

  /**
   * The Node of an instance: the one whose spec.providerID names it, never one found by name (a name can be
   * an IP another machine had before). `named` is checked first, so that a node already found costs one read.
   */
  async function nodeOfInstance(cluster: string, instanceId: string, named?: string): Promise<k8s.V1Node | undefined> {
    if (named) {
      const n = await readNode(cluster, named);
      if (runsOn(n, instanceId)) return n;
    }
    return (await core(cluster).listNode()).items.find((n) => runsOn(n, instanceId));
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
      // The node's pods are listed by its name, beside the read of the node: one round trip less. The client comes first:
      // a cluster whose credentials do not load throws here, before either request, not beside a pending one.
      const api = core(cluster);
      const [n, podsOnIt] = await Promise.all([readNode(cluster, node), podsOnNode(api, node)]);
      if (!n) return { exists: false, controlPlane: false, ready: false, unschedulable: false, unmanagedPods: [], groupReady: 0 };
      const labels = n.metadata?.labels ?? {};
      const group = labels[LABEL_NODE_GROUP];
      let groupReady = 0;
      if (group) {
        const members = await api.listNode({ labelSelector: `${LABEL_NODE_GROUP}=${group}` });
        groupReady = members.items.filter((m) => labels[LABEL_CLUSTER] === m.metadata?.labels?.[LABEL_CLUSTER] && isNodeReady(m)).length;
      }
      const pods = classify(podsOnIt).toEvict;
      return {
        exists: true,
        nodeCluster: labels[LABEL_CLUSTER],
        controlPlane: LABEL_CONTROL_PLANE in labels || 'node-role.kubernetes.io/master' in labels,
        nodeGroup: group,
        ready: isNodeReady(n),
        unschedulable: n.spec?.unschedulable ?? false,
        instanceId: instanceIdOfProviderID(n.spec?.providerID),
        owner: n.metadata?.annotations?.[ANNOTATION_OWNER],
        unmanagedPods: pods.filter((p) => !controllerOf(p)).map(podKey),
        groupReady,
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
      await recordEvent(core(cluster), nodeEvent(node, n.metadata?.uid), repaving() ? 'Repaving' : 'Claimed', repaving() ? 'to be replaced by a new instance' : 'claimed');
    },

    async releaseNode({ cluster, node, owner }: NodeRef & { owner: string }): Promise<void> {
      const n = await readNode(cluster, node);
      if (!n || n.metadata?.annotations?.[ANNOTATION_OWNER] !== owner) return;
      await core(cluster).patchNode({ name: node, body: { metadata: { annotations: { [ANNOTATION_OWNER]: null } } } }, MERGE_PATCH);
    },

    /**
     * Operational = Ready, and every DaemonSet that targets the node runs a Ready pod on it. The node is the
     * instance's (by providerID), whatever it is named; a node without one yet (its cloud controller has not
     * initialized it) is not it yet. Only a call without `instanceId` (scheduled by a run started before nodes
     * were found by providerID) waits for the node by name, as that run did.
     */
    async waitForNodeOperational({ cluster, instanceId, node: named, deadline }: NodeOfInstance & { deadline: number }) {
      let name = instanceId ? undefined : named;
      for (;;) {
        // The name the launch gave is tried first (one read, not a list of every node) but taken only if its
        // providerID names the instance; a group whose nodes are named otherwise (by IP) costs a read more.
        const n = instanceId ? await nodeOfInstance(cluster, instanceId, name ?? named) : await readNode(cluster, named ?? '');
        let missing: string[] = [instanceId ? `no node with providerID of ${instanceId}` : 'node not registered'];
        // Until the instance's node has registered there is no name to watch: the loop then polls.
        const changes: WatchTarget[] = n ? [{ path: '/api/v1/nodes', fieldSelector: `metadata.name=${n.metadata?.name ?? ''}`, resourceVersion: n.metadata?.resourceVersion }] : [];
        if (n) {
          name = n.metadata?.name ?? '';
          const daemonSets = (await apps(cluster).listDaemonSetForAllNamespaces()).items.filter((ds) => daemonSetTargets(ds, n));
          const podList = await podListOnNode(core(cluster), name);
          const pods = podList.items;
          changes.push(podsOnNodeChange(name, podList));
          missing = daemonSets
            .filter((ds) => !pods.some((p) => controllerOf(p)?.uid === ds.metadata?.uid && isPodReady(p)))
            .map((ds) => `DaemonSet ${ds.metadata?.namespace}/${ds.metadata?.name} pod not Ready`);
          if (!isNodeReady(n)) missing.unshift('node not Ready');
          if (missing.length === 0) return { node: name, daemonSetPods: daemonSets.length };
        }
        heartbeat({ waitingFor: missing, ...(name ? { node: name } : {}) });
        if (Date.now() > deadline) {
          const what = name ? `node ${name}` : instanceId ? `the node of instance ${instanceId}` : `node ${named}`;
          throw ApplicationFailure.nonRetryable(`${what} did not become operational in time: ${missing.join('; ')}`, 'ReplacementNotReady');
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
      else await recordEvent(api, nodeEvent(node), 'Draining', 'evicting its pods, honouring PodDisruptionBudgets');
      let blockedReported = false;
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
        // 409: evictions raced on one budget's status past the API server's own retries (the real one does, with many at
        // once); nothing refused them, so they go again after a moment.
        let conflicted = 0;
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
              if (statusOf(e) === 429) {
                blocked.push(podKey(pod));
                evictionsRefusedByPdb.inc({ cluster });
              } else if (statusOf(e) === 409) conflicted++;
              else if ((statusOf(e) ?? 0) >= 500) refused[podKey(pod)] = `${statusOf(e)}: ${messageOf(e)}`;
              else rethrow(e, `evict pod ${podKey(pod)}`);
            }
          }),
        );
        if (blocked.length > 0 && !blockedReported) {
          blockedReported = true;
          await recordEvent(api, nodeEvent(node), 'DrainBlocked', `PodDisruptionBudgets refuse evicting ${blocked.join(', ')}; retried until the drain deadline`, 'Warning');
        }
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
        // Refused evictions wait out their backoff, woken early when a budget of their namespaces changes (what frees
        // one happens elsewhere: a replacement turning Ready); pods already evicted are awaited on a watch of the node's pods.
        if (conflicted > 0) {
          await sleep(CONFLICT_RETRY_MS);
          continue;
        }
        if (Object.keys(refused).length > 0) await sleep(backoff);
        else if (blocked.length > 0) await changeOrTimeout(cluster, budgetsChange(blocked, podList), backoff);
        else await changeOrTimeout(cluster, [{ ...podsOnNodeChange(node, podList), wakesOn: untilAllGone(toEvict.map((p) => p.metadata?.uid)) }], backoff);
        backoff = blocked.length + Object.keys(refused).length > 0 ? Math.min(backoff * 2, MAX_BACKOFF_MS) : POLL_MS;
      }
    },

    /**
     * Delete the node. With `instanceId`, only the node that instance runs (by providerID; `node` is read first):
     * a node of that name on another machine, which reused the name, is left alone. Gone already: deleted false.
     */
    async deleteNode({ cluster, node, instanceId }: NodeOfInstance): Promise<{ deleted: boolean }> {
      let target: { name: string; uid?: string } | undefined;
      if (instanceId) {
        const n = await nodeOfInstance(cluster, instanceId, node);
        target = n?.metadata?.name ? { name: n.metadata.name, uid: n.metadata.uid } : undefined;
      } else if (node) target = { name: node };
      else throw ApplicationFailure.nonRetryable('deleteNode: neither a node nor an instance named', 'InvalidArgument');
      if (!target) return { deleted: false };
      await recordEvent(core(cluster), nodeEvent(target.name, target.uid), repaving() ? 'Replaced' : 'Removed', repaving() ? 'drained and deleted; its instance is terminated' : 'drained and deleted');
      try {
        // The UID precondition: never a node that replaced the one just read under the same name.
        await core(cluster).deleteNode({ name: target.name, ...(target.uid ? { body: { preconditions: { uid: target.uid } } } : {}) });
        return { deleted: true };
      } catch (e) {
        if (isNotFound(e) || isConflict(e)) return { deleted: false };
        rethrow(e, `delete node ${target.name}`);
      }
    },
  } satisfies KubernetesActivities;
}
