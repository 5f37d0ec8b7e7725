import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { API_CALL, heartbeating } from './activity-options.js';
import type { FleetActivities, RepaveActivities } from '../core/activity-contracts.js';
import type { NodeGroupConfig, Placement } from '../core/config.js';
import {
  batches,
  nodesToRemove,
  parseNodeGroupManagerInput,
  placementsForNewNodes,
  type NodeGroupManagerInput,
  type NodeGroupManagerProgress,
  type NodeGroupManagerResult,
} from '../core/node-groups.js';
import { nodeLabelsFor } from '../core/placement.js';
import type { ObservedNode } from '../core/repaver.js';
import { SA_CLUSTER, SA_NODE_GROUP, SA_PHASE, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';

export const managerProgressQuery = defineQuery<NodeGroupManagerProgress>('progress');

type Acts = RepaveActivities & FleetActivities;

const api = proxyActivities<Acts>(API_CALL);
const longActivities = (timeoutMs: number) => proxyActivities<Acts>(heartbeating(timeoutMs));

/** New nodes launched at once (creation disrupts nothing; this only spreads the load on the API). */
const LAUNCH_BATCH = 10;
/** How long the lane is held at most, should this run die without releasing it. */
const HOLD_MS = 12 * 3_600_000;

/**
 * Create, scale or delete a node group's nodes. The group's repaver lane is held for the duration (and
 * its repaves in flight finish first), so scaling and repaving never run over each other; nodes being
 * removed are claimed like a repave claims them. One run per group: ID node-group-manager.<cluster>.<group>.
 */
export async function nodeGroupManager(input: NodeGroupManagerInput): Promise<NodeGroupManagerResult> {
  const parsed = parseNodeGroupManagerInput(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid nodeGroupManager input: ${parsed.message}`, 'InvalidInput');
  const req = parsed.value;
  const { cluster, action } = req;
  const owner = workflowInfo().workflowId;
  const progress: NodeGroupManagerProgress = { cluster, group: req.group, action, phase: 'validating', launched: [], removed: [], failed: [], log: [] };
  setHandler(managerProgressQuery, () => progress);

  const note = (message: string) => {
    progress.log.push({ at: new Date().toISOString(), message });
    if (progress.log.length > 100) progress.log.shift();
    log.info(message, { cluster, group: req.group });
  };
  const enter = (phase: NodeGroupManagerProgress['phase']) => {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
    setCurrentDetails(`**${phase}** — ${action} node group ${cluster}/${req.group}${progress.target !== undefined ? ` → ${progress.target} nodes` : ''}`);
  };

  upsertSearchAttributes([
    { key: SA_CLUSTER, value: cluster },
    { key: SA_NODE_GROUP, value: req.group },
    { key: SA_RUNBOOK, value: 'nodeGroupManager' },
    { key: SA_TARGET, value: req.group },
  ]);
  enter('validating');

  const group = await api.describeNodeGroup({ cluster, nodeGroup: req.group });
  if (!group) return refuse(`group: node group ${req.group} is not in the fleet configuration of cluster ${cluster}`);
  const target = action === 'delete' ? 0 : (req.size ?? group.size);
  progress.target = target;

  // Preflight before any side effect: the chosen nodes must belong to the group.
  const before = await api.listNodeGroupNodes({ cluster, nodeGroup: req.group });
  if (req.nodes?.length) {
    const check = nodesToRemove(before.nodes, target, req.nodes);
    if (!check.ok) return refuse(check.message);
  }

  enter('holding-lane');
  const laneDeadline = Date.now() + req.readyTimeout + req.drainTimeout;
  await api.holdRepaverLane({ cluster, nodeGroup: req.group, holder: owner, reason: `${action} to ${target} nodes`, until: Date.now() + HOLD_MS });
  try {
    await longActivities(req.readyTimeout + req.drainTimeout).waitForRepaverLaneIdle({ cluster, nodeGroup: req.group, holder: owner, deadline: laneDeadline });
    note(`repaver lane held; no repave in flight`);

    // Read again: the lane may have replaced nodes while we waited.
    const obs = await api.listNodeGroupNodes({ cluster, nodeGroup: req.group });
    const from = obs.nodes.length;
    progress.from = from;
    note(`${action}: ${from} → ${target} nodes`);
    if (target > from) await scaleUp(group, obs.nodes, target - from);
    else if (target < from) await scaleDown(group, obs.nodes, target);
    if (progress.failed.length) {
      enter('failed');
      throw ApplicationFailure.nonRetryable(
        `${action} of node group ${req.group} incomplete: ${progress.failed.map((f) => `${f.node}: ${f.error}`).join('; ')}`,
        'NodeGroupIncomplete',
        progress,
      );
    }
    enter('done');
    return { cluster, group: req.group, action, from, to: target, launched: progress.launched.filter((l) => l.ready).map((l) => l.node), removed: progress.removed };
  } finally {
    await CancellationScope.nonCancellable(async () => {
      const phase = progress.phase;
      await api.releaseRepaverLane({ cluster, nodeGroup: req.group, holder: owner });
      note('repaver lane released');
      progress.phase = phase;
    });
  }

  async function scaleUp(g: NodeGroupConfig, nodes: ObservedNode[], count: number) {
    enter('launching');
    const instance = nodes.find((n) => n.instanceId)?.instanceId;
    const old = instance ? await api.describeInstance({ cluster, instanceId: instance }) : undefined;
    const compartmentId = old?.compartmentId ?? (await api.describeClusterCompartment({ cluster })).compartmentId;
    const image = await api.resolveImage({ cluster, compartmentId, image: g.image });
    const placements = placementsForNewNodes(g, nodes, count);
    for (const batch of batches(placements, LAUNCH_BATCH)) {
      await Promise.all(batch.map((p) => launchOne(g, p, compartmentId, image.imageId)));
    }
  }

  async function launchOne(g: NodeGroupConfig, place: Placement, compartmentId: string, imageId: string) {
    const nodeName = `${g.name}-${uuid4().slice(0, 8)}`;
    const entry: NodeGroupManagerProgress['launched'][number] = { node: nodeName, ready: false };
    progress.launched.push(entry);
    try {
      const launched = await api.launchReplacement({
        cluster,
        nodeGroup: g.name,
        replaces: owner, // tags the instance with the run that launched it (a retried launch finds it by name and tag)
        displayName: nodeName,
        retryToken: uuid4(),
        compartmentId,
        availabilityDomain: place.availabilityDomain,
        faultDomain: place.faultDomain,
        subnetId: place.subnetId,
        shape: g.shape,
        imageId,
        nodeLabels: nodeLabelsFor(cluster, g),
        nodeTaints: g.taints,
      });
      entry.instanceId = launched.instanceId;
      note(`launched ${nodeName} (${launched.instanceId}) in ${place.availabilityDomain}/${place.faultDomain}`);
      const deadline = Date.now() + req.readyTimeout;
      const waits = longActivities(req.readyTimeout);
      await waits.waitForInstanceRunning({ cluster, instanceId: launched.instanceId, deadline });
      await waits.waitForNodeOperational({ cluster, node: nodeName, deadline });
      entry.ready = true;
      note(`${nodeName} is Ready and runs its DaemonSet pods`);
    } catch (e) {
      const error = rootMessage(e);
      progress.failed.push({ node: nodeName, error });
      note(`${nodeName} did not become operational: ${error}`);
      await CancellationScope.nonCancellable(async () => {
        if (entry.instanceId) {
          await api.terminateInstance({ cluster, instanceId: entry.instanceId });
          await api.deleteNode({ cluster, node: nodeName });
          note(`terminated ${entry.instanceId}`);
        }
      });
    }
  }

  async function scaleDown(g: NodeGroupConfig, nodes: ObservedNode[], to: number) {
    enter('removing');
    const plan = nodesToRemove(nodes, to, req.nodes ?? []);
    if (!plan.ok) return refuse(plan.message);
    // No more than maxUnavailable nodes out of service at once.
    for (const batch of batches(plan.value, Math.max(1, g.maxUnavailable))) {
      await Promise.all(batch.map((n) => removeOne(n)));
    }
  }

  async function removeOne(n: ObservedNode) {
    const node = n.name;
    try {
      await api.claimNode({ cluster, node, owner });
    } catch (e) {
      progress.failed.push({ node, error: rootMessage(e) });
      return;
    }
    try {
      await api.cordonNode({ cluster, node });
      const deadline = Date.now() + req.drainTimeout;
      const drained = await longActivities(req.drainTimeout).drainNode({
        cluster,
        node,
        deadline,
        evictUnmanagedPods: req.evictUnmanagedPods,
        deletePodsBlockedByPdbAfterTimeout: req.deletePodsBlockedByPdbAfterTimeout,
      });
      note(`drained ${node}: ${drained.evicted.length} pods evicted`);
    } catch (e) {
      progress.failed.push({ node, error: rootMessage(e) });
      await CancellationScope.nonCancellable(async () => {
        await api.uncordonNode({ cluster, node });
        await api.releaseNode({ cluster, node, owner });
      });
      note(`drain of ${node} failed; uncordoned and left serving`);
      return;
    }
    await api.deleteNode({ cluster, node });
    if (n.instanceId) await api.terminateInstance({ cluster, instanceId: n.instanceId });
    progress.removed.push(node);
    note(`removed ${node}${n.instanceId ? ` and terminated ${n.instanceId}` : ''}`);
  }

  function refuse(message: string): never {
    progress.phase = 'failed';
    upsertSearchAttributes([{ key: SA_PHASE, value: 'refused' }]);
    throw ApplicationFailure.nonRetryable(`refused to ${action} node group ${req.group}: ${message}`, 'InvalidTarget');
  }
}

function rootMessage(e: unknown): string {
  let cur = e as { message?: string; cause?: unknown } | undefined;
  while (cur?.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}
