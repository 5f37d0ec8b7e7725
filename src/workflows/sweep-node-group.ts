import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { NodeGroupActivities } from '../core/activity-contracts.js';
import type { SweepNodeGroupInput } from '../core/lane/index.js';

const api = proxyActivities<NodeGroupActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s' },
});

/**
 * What a repaver Schedule starts every sweepInterval: make sure the group's lane runs and have it sweep
 * now (signal-with-start needs a client, so an activity does it). Short, so that overlap SKIP means
 * "never two sweeps of one group at once" without holding anything for long.
 */
export async function sweepNodeGroup(input: SweepNodeGroupInput): Promise<{ workflowId: string }> {
  if (!input || typeof input.cluster !== 'string' || typeof input.group !== 'string') {
    throw ApplicationFailure.nonRetryable('invalid sweepNodeGroup input: expected {"cluster": "...", "group": "..."}', 'InvalidInput');
  }
  return api.signalRepaverLane({ cluster: input.cluster, nodeGroup: input.group, signal: 'sweepNow', ...(input.lane ? { lane: input.lane } : {}) });
}
