import type { ConfigActivities, KubernetesActivities, LaneSweepActivities, NodeGroupActivities, OciActivities, RepaveStepActivities } from '../core/activity-contracts.js';

type Steps = Pick<KubernetesActivities, 'inspectNode' | 'waitForNodeOperational' | 'cordonNode' | 'drainNode' | 'deleteNode'> &
  Pick<OciActivities, 'describeInstance' | 'waitForInstanceRunning' | 'terminateInstance'> &
  ConfigActivities;

/**
 * Steps that a repave always runs back to back, as one activity each. Each makes the calls of the activities it folds,
 * in their order but for reads and a retirement's two ends, which go side by side; each call is idempotent, so a
 * retried attempt repeats what its first attempt did (the drain resumes from its heartbeat, as alone). Each history
 * event and workflow task costs the worker and Temporal more than the call itself (npm run bench, orchestration-cost).
 */
export function repaveStepActivities(a: Steps): RepaveStepActivities {
  return {
    async preflightNode({ cluster, node }) {
      const facts = await a.inspectNode({ cluster, node });
      // Side by side: the instance is read as its group is, and counts (a failed read included) only for a declared group.
      const [groupRead, instanceRead] = await Promise.allSettled([
        facts.nodeGroup ? a.describeNodeGroup({ cluster, nodeGroup: facts.nodeGroup }) : undefined,
        facts.nodeGroup && facts.instanceId ? a.describeInstance({ cluster, instanceId: facts.instanceId }) : undefined,
      ]);
      if (groupRead.status === 'rejected') throw groupRead.reason;
      const group = groupRead.value;
      if (group && instanceRead.status === 'rejected') throw instanceRead.reason;
      const instance = group && instanceRead.status === 'fulfilled' ? instanceRead.value : undefined;
      return { facts, ...(group ? { group } : {}), ...(instance ? { instance } : {}) };
    },
    async waitForReplacement({ cluster, instanceId, node, deadline }) {
      await a.waitForInstanceRunning({ cluster, instanceId, deadline });
      return a.waitForNodeOperational({ cluster, instanceId, ...(node ? { node } : {}), deadline });
    },
    async cordonAndDrain(request) {
      await a.cordonNode({ cluster: request.cluster, node: request.node });
      return a.drainNode(request);
    },
    async retireNode({ cluster, node, instanceId }) {
      // The node is drained: its deletion and its instance's termination need not wait for each other.
      const [{ deleted }, { lifecycleState }] = await Promise.all([a.deleteNode({ cluster, instanceId, ...(node ? { node } : {}) }), a.terminateInstance({ cluster, instanceId })]);
      return { deleted, lifecycleState };
    },
  };
}

/** A repaver lane's sweep reads the group's configuration and its nodes, always together: one activity. */
export function laneSweepActivities(a: ConfigActivities & Pick<NodeGroupActivities, 'listNodeGroupNodes'>): LaneSweepActivities {
  return {
    async observeNodeGroup({ cluster, nodeGroup }) {
      const group = await a.describeNodeGroup({ cluster, nodeGroup });
      return group ? { group, observation: await a.listNodeGroupNodes({ cluster, nodeGroup }) } : {};
    },
  };
}
