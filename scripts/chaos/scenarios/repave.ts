// repaveNode on a node of `general` picked at random: one replacement launched, the old instance terminated.
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../../src/core/ids.js';
import { TAG_NODE_GROUP } from '../../../src/core/labels.js';
import { repaveNode } from '../../../src/workflows/repave-node.js';
import { removeCassandraRing } from '../../../test/helpers/stack.js';
import { awaitWorkflow, seededGroups, type Scenario } from './scenario.js';

export const repave: Scenario = {
  runbook: 'repave',
  deadlineMs: 240_000,
  fleet: { bootDelayMs: 1000, nodeReadyDelayMs: 500 },
  prepare: (bed) => removeCassandraRing(bed.stack),
  plan: (bed) => ({ ...seededGroups(bed), launches: { needed: 1, strict: true }, liveAtEnd: 1, claimsToRelease: 0 }),
  async run(bed, random, deadline) {
    const nodes = bed.stack.sim.oci.fleet.summary().filter((i) => i.freeformTags[TAG_NODE_GROUP] === 'general' && i.node.present);
    const node = nodes[Math.floor(random.next() * nodes.length)]!.node.name;
    const workflowId = repaveNodeWorkflowId('sim-1', node);
    await bed.temporal.client().workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: 'sim-1', node, reason: 'chaos' }] });
    return awaitWorkflow(() => bed.temporal.client(), workflowId, deadline);
  },
};
