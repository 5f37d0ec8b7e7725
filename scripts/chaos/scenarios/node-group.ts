// nodeGroupManager scales `general` up by one and back down: one instance launched, one node removed.
import { nodeGroupManagerWorkflowId, TASK_QUEUE } from '../../../src/core/ids.js';
import { nodeGroupManager } from '../../../src/workflows/node-group-manager.js';
import { removeCassandraRing } from '../../../test/helpers/stack.js';
import { awaitWorkflow, seededGroups, type Scenario } from './scenario.js';

export const nodeGroup: Scenario = {
  runbook: 'node-group',
  deadlineMs: 300_000,
  fleet: { bootDelayMs: 1000, nodeReadyDelayMs: 500 },
  prepare: (bed) => removeCassandraRing(bed.stack),
  plan: (bed) => ({ ...seededGroups(bed), launches: { needed: 1, strict: true }, claimsToRelease: 0 }),
  async run(bed, _random, deadline) {
    const size = seededGroups(bed).sizes.general!;
    const workflowId = nodeGroupManagerWorkflowId('sim-1', 'general');
    for (const target of [size + 1, size]) {
      await bed.temporal.client().workflow.start(nodeGroupManager, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: 'sim-1', group: 'general', action: 'scale', size: target }] });
      const outcome = await awaitWorkflow(() => bed.temporal.client(), workflowId, deadline);
      if (outcome.status !== 'completed') return outcome;
    }
    return { status: 'completed' };
  },
};
