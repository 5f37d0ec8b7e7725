import { CancellationScope, patched, proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import { API_CALL, heartbeating, LAUNCH, PATCH_NODE_GROUP_SUBNETS, PATCH_TERMINATE_UNCONFIRMED_LAUNCH } from './activity-options.js';
import type { NodeGroupActivities, RepaveActivities, SubnetActivities } from '../core/activity-contracts.js';
import type { NodeGroupConfig, Placement } from '../core/config.js';
import {
  batches,
  nodesToRemove,
  parseNodeGroupManagerInput,
  type NodeGroupManagerInput,
  type NodeGroupManagerProgress,
  type NodeGroupManagerResult,
  placementsForNewNodes,
  targetSizeOf,
} from '../core/node-groups.js';
import { nodeLabelsFor } from '../core/placement.js';
import { placeOnSubnets } from '../core/subnets.js';
import type { ObservedNode } from '../core/lane/index.js';
import { FailureType, rootMessage } from '../core/runbook.js';
import { SA_CLUSTER, SA_NODE_GROUP, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { invalidInput, startRunbook } from './runbook.js';

type Acts = RepaveActivities & NodeGroupActivities & SubnetActivities;

const api = proxyActivities<Acts>(API_CALL);
const launching = proxyActivities<Acts>(LAUNCH);
const longActivities = (timeoutMs: number) => proxyActivities<Acts>(heartbeating(timeoutMs));

/** New nodes launched at once (creation disrupts nothing; this only spreads the load on the API). */
const LAUNCH_BATCH = 10;
/** How long the lane is held at most, should this run die without releasing it. */
const HOLD_MS = 12 * 3_600_000;
/** Until a group's new subnets are AVAILABLE (seconds in OCI). */
const SUBNETS_READY_MS = 10 * 60_000;
/** Until its subnets are deleted: their last instances must reach TERMINATED first (minutes in OCI). */
const SUBNETS_DELETED_MS = 30 * 60_000;

/**
 * Create, scale or delete a node group's nodes. The group's repaver lane is held for the duration (and
 * its repaves in flight finish first), so scaling and repaving never run over each other; nodes being
 * removed are claimed like a repave claims them. One run per group: ID node-group-manager.<cluster>.<group>.
 * Pause holds between batches; abort stops launching and draining (what was cut short is undone).
 */
export async function nodeGroupManager(input: NodeGroupManagerInput): Promise<NodeGroupManagerResult> {
  const parsed = parseNodeGroupManagerInput(input);
  if (!parsed.ok) throw invalidInput('nodeGroupManager', parsed.message);
  const req = parsed.value;
  const { cluster, action } = req;
  const owner = workflowInfo().workflowId;

  const rb = startRunbook<NodeGroupManagerProgress>({
    progress: { runbook: 'nodeGroupManager', cluster, target: req.group, group: req.group, action, phase: 'validating', launched: [], removed: [], failed: [] },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_NODE_GROUP, value: req.group },
      { key: SA_RUNBOOK, value: 'nodeGroupManager' },
      { key: SA_TARGET, value: req.group },
    ],
    details: (p) => `**${p.phase}** — ${action} node group ${cluster}/${req.group}${p.size !== undefined ? ` → ${p.size} nodes` : ''}`,
    refusing: `${action} node group ${req.group}`,
    logFields: { cluster, group: req.group },
    logLimit: 100,
    legacy: { endBeforeUndo: true },
  });
  const { progress } = rb;

  return rb.run(async () => {
    const group = await api.describeNodeGroup({ cluster, nodeGroup: req.group });
    if (!group) return rb.refuse(`group: node group ${req.group} is not in the fleet configuration of cluster ${cluster}`);
    const sized = targetSizeOf(group, action, req.size);
    if (!sized.ok) return rb.refuse(sized.message);
    const size = sized.value;
    progress.size = size;

    // Preflight before any side effect: the chosen nodes must belong to the group.
    const before = await api.listNodeGroupNodes({ cluster, nodeGroup: req.group });
    if (req.nodes?.length) {
      const check = nodesToRemove(before.nodes, size, req.nodes);
      if (!check.ok) return rb.refuse(check.message);
    }

    await rb.gate('holding-lane');
    const laneDeadline = Date.now() + req.readyTimeout + req.drainTimeout;
    await api.holdRepaverLane({ cluster, nodeGroup: req.group, holder: owner, reason: `${action} to ${size} nodes`, until: Date.now() + HOLD_MS });
    const releaseLane = async () => {
      await api.releaseRepaverLane({ cluster, nodeGroup: req.group, holder: owner });
      rb.note('repaver lane released');
    };
    const forgetLane = rb.onFailure(releaseLane);
    await rb.interruptible(() =>
      longActivities(req.readyTimeout + req.drainTimeout).waitForRepaverLaneIdle({ cluster, nodeGroup: req.group, holder: owner, deadline: laneDeadline }),
    );
    rb.note(`repaver lane held; no repave in flight`);

    // Read again: the lane may have replaced nodes while we waited.
    const obs = await api.listNodeGroupNodes({ cluster, nodeGroup: req.group });
    const from = obs.nodes.length;
    progress.from = from;
    // A group on dedicated subnets: create makes them before the first node, delete removes them after the last.
    const dedicated = group.subnets !== undefined && patched(PATCH_NODE_GROUP_SUBNETS);
    const placed = dedicated && action === 'create' ? await createSubnets(group) : group;
    rb.note(`${action}: ${from} → ${size} nodes`);
    if (size > from) await scaleUp(placed, obs.nodes, size - from);
    else if (size < from) await scaleDown(placed, obs.nodes, size);
    rb.checkAbort();
    if (progress.failed.length) {
      rb.end('failed', `${action} of node group ${req.group} incomplete: ${progress.failed.map((f) => `${f.node}: ${f.error}`).join('; ')}`, FailureType.Failed);
    }
    if (dedicated && action === 'delete') await deleteSubnets();
    rb.enter('done');
    forgetLane();
    await releaseLane();
    return { cluster, group: req.group, action, from, to: size, launched: progress.launched.filter((l) => l.ready).map((l) => l.node), removed: progress.removed };
  });

  /**
   * The group's subnets, made where missing. A failure from here on removes what this create made: the nodes it
   * launched that became Ready (drained and removed as a scale-down removes them), then the subnets it made,
   * unless an instance of the group is still in them (a node whose drain failed: it stays, and so does its subnet).
   */
  async function createSubnets(g: NodeGroupConfig): Promise<NodeGroupConfig> {
    await rb.gate('creating-subnets');
    const before = await api.findNodeGroupSubnets({ cluster, nodeGroup: g.name });
    rb.onFailure(async () => {
      const made = progress.launched.filter((l) => l.ready && l.instanceId);
      for (const batch of batches(made, Math.max(1, g.maxUnavailable))) {
        await Promise.all(batch.map((l) => removeOne({ name: l.node, instanceId: l.instanceId!, createdAt: '', ready: true, conditions: [], unschedulable: false })));
      }
      const deadline = Date.now() + SUBNETS_DELETED_MS;
      const { deleted, kept } = await longActivities(SUBNETS_DELETED_MS).deleteNodeGroupSubnets({
        cluster,
        nodeGroup: g.name,
        except: before.map((s) => s.subnetId),
        keepInUse: true,
        deadline,
      });
      if (deleted.length) rb.note(`deleted subnets ${deleted.join(', ')}, made by this run`);
      if (kept.length) rb.note(`kept subnets ${kept.join(', ')}: instances of the group are still in them`);
    });
    const deadline = Date.now() + SUBNETS_READY_MS;
    const { subnets, created } = await rb.interruptible(() =>
      longActivities(SUBNETS_READY_MS).ensureNodeGroupSubnets({ cluster, nodeGroup: g.name, retryToken: uuid4(), deadline }),
    );
    progress.subnets = subnets.map((s) => ({ subnetId: s.subnetId, cidrBlock: s.cidrBlock, ...(s.availabilityDomain ? { availabilityDomain: s.availabilityDomain } : {}) }));
    rb.note(`subnets ready: ${subnets.map((s) => `${s.cidrBlock} in ${s.availabilityDomain ?? 'the region'}${created.includes(s.subnetId) ? ' (new)' : ''}`).join(', ')}`);
    return placeOnSubnets(g, subnets);
  }

  async function deleteSubnets() {
    await rb.gate('deleting-subnets');
    const deadline = Date.now() + SUBNETS_DELETED_MS;
    const { deleted } = await rb.interruptible(() => longActivities(SUBNETS_DELETED_MS).deleteNodeGroupSubnets({ cluster, nodeGroup: req.group, deadline }));
    rb.note(deleted.length ? `deleted subnets ${deleted.join(', ')}` : 'no subnet left to delete');
  }

  async function scaleUp(g: NodeGroupConfig, nodes: ObservedNode[], count: number) {
    await rb.gate('launching');
    const instance = nodes.find((n) => n.instanceId)?.instanceId;
    const old = instance ? await api.describeInstance({ cluster, instanceId: instance }) : undefined;
    const compartmentId = old?.compartmentId ?? (await api.describeClusterCompartment({ cluster })).compartmentId;
    const image = await api.resolveImage({ cluster, compartmentId, image: g.image });
    const placements = placementsForNewNodes(g, nodes, count);
    for (const batch of batches(placements, LAUNCH_BATCH)) {
      await rb.gate('launching');
      await rb.interruptible(() => Promise.all(batch.map((p) => launchOne(g, p, compartmentId, image.imageId))));
    }
  }

  async function launchOne(g: NodeGroupConfig, place: Placement, compartmentId: string, imageId: string) {
    const nodeName = `${g.name}-${uuid4().slice(0, 8)}`;
    const entry: NodeGroupManagerProgress['launched'][number] = { node: nodeName, ready: false };
    progress.launched.push(entry);
    const launch = patched(PATCH_TERMINATE_UNCONFIRMED_LAUNCH) ? launching : api;
    try {
      const launched = await launch.launchReplacement({
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
      rb.note(`launched ${nodeName} (${launched.instanceId}) in ${place.availabilityDomain}/${place.faultDomain}`);
      const deadline = Date.now() + req.readyTimeout;
      const waits = longActivities(req.readyTimeout);
      await waits.waitForInstanceRunning({ cluster, instanceId: launched.instanceId, deadline });
      const operational = await waits.waitForNodeOperational({ cluster, instanceId: launched.instanceId, node: nodeName, deadline });
      entry.node = operational.node; // named as the cluster names it (IP, hostname), found by providerID
      entry.ready = true;
      rb.note(`${entry.node} is Ready and runs its DaemonSet pods`);
    } catch (e) {
      const error = rb.abortReason !== undefined ? `aborted by operator: ${rb.abortReason}` : rootMessage(e);
      progress.failed.push({ node: nodeName, error });
      rb.note(`${nodeName} did not become operational: ${error}`);
      await CancellationScope.nonCancellable(async () => {
        if (entry.instanceId) {
          await api.terminateInstance({ cluster, instanceId: entry.instanceId });
          await api.deleteNode({ cluster, node: nodeName, instanceId: entry.instanceId });
          rb.note(`terminated ${entry.instanceId}`);
        } else if (patched(PATCH_TERMINATE_UNCONFIRMED_LAUNCH)) {
          // Stopped mid-launch: OCI may have created the instance all the same. Find it by name and tag.
          const { terminated } = await api.terminateLaunched({ cluster, compartmentId, displayName: nodeName, replaces: owner });
          if (terminated.length) rb.note(`terminated ${terminated.join(', ')}, launched as ${nodeName} although the launch never answered`);
        }
      });
    }
  }

  async function scaleDown(g: NodeGroupConfig, nodes: ObservedNode[], to: number) {
    await rb.gate('removing');
    const plan = nodesToRemove(nodes, to, req.nodes ?? []);
    if (!plan.ok) return rb.refuse(plan.message);
    // No more than maxUnavailable nodes out of service at once.
    for (const batch of batches(plan.value, Math.max(1, g.maxUnavailable))) {
      await rb.gate('removing');
      await rb.interruptible(() => Promise.all(batch.map((n) => removeOne(n))));
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
      rb.note(`drained ${node}: ${drained.evicted.length} pods evicted`);
    } catch (e) {
      progress.failed.push({ node, error: rb.abortReason !== undefined ? `aborted by operator: ${rb.abortReason}` : rootMessage(e) });
      await CancellationScope.nonCancellable(async () => {
        await api.uncordonNode({ cluster, node });
        await api.releaseNode({ cluster, node, owner });
      });
      rb.note(`drain of ${node} failed; uncordoned and left serving`);
      return;
    }
    // Drained: finishing is the safe direction, even when an abort arrives now.
    await CancellationScope.nonCancellable(async () => {
      await api.deleteNode({ cluster, node, ...(n.instanceId ? { instanceId: n.instanceId } : {}) });
      if (n.instanceId) await api.terminateInstance({ cluster, instanceId: n.instanceId });
    });
    progress.removed.push(node);
    rb.note(`removed ${node}${n.instanceId ? ` and terminated ${n.instanceId}` : ''}`);
  }
}
