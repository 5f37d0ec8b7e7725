// nodeGroupManager scales `general` up by one and back down: one instance launched, one node removed.
// The manager holds the group's repaver lane, starting it when none runs (signal-with-start), and a lane
// started that way repaves the group's aged nodes once released: so the group's lane runs here first, as a
// Schedule would start it, with a maxAge no seeded node reaches, and is stopped after the run.
import { nodeGroupManagerWorkflowId, repaverLaneWorkflowId, TASK_QUEUE } from '../../../src/core/ids.js';
import { nodeGroupManager } from '../../../src/workflows/node-group-manager.js';
import { repaverLane } from '../../../src/workflows/repaver-lane.js';
import { removeCassandraRing } from '../../../test/helpers/stack.js';
import { awaitWorkflow, seededGroups, type Scenario } from './scenario.js';

export const nodeGroup: Scenario = {
  runbook: 'node-group',
  deadlineMs: 300_000,
  fleet: { bootDelayMs: 1000, nodeReadyDelayMs: 500 },
  prepare: (bed) => removeCassandraRing(bed.stack),
  plan: (bed) => ({ ...seededGroups(bed), launches: { needed: 1, strict: true }, liveAtEnd: 0, claimsToRelease: 0 }),
  async run(bed, _random, deadline) {
    const size = seededGroups(bed).sizes.general!;
    const client = () => bed.temporal.client();
    const laneId = repaverLaneWorkflowId('sim-1', 'general');
    await client().workflow.start(repaverLane, { taskQueue: TASK_QUEUE, workflowId: laneId, args: [{ cluster: 'sim-1', group: 'general', pace: { maxAge: '365d' }, sweepInterval: '5s' }] });
    const workflowId = nodeGroupManagerWorkflowId('sim-1', 'general');
    try {
      for (const target of [size + 1, size]) {
        await client().workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: 'sim-1', group: 'general', action: 'scale', size: target }] });
        const outcome = await awaitWorkflow(client, workflowId, deadline);
        if (outcome.status !== 'completed') return outcome;
      }
      return { status: 'completed' };
    } finally {
      await client().workflow.getHandle(laneId).terminate('chaos run over').catch(() => undefined);
    }
  },
};
