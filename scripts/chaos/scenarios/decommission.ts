// decommissionMember removes cassandra-3 from a healthy ring of four and releases its volume.
import { decommissionWorkflowId, TASK_QUEUE } from '../../../src/core/ids.js';
import { decommissionMember } from '../../../src/workflows/decommission-member.js';
import { eventually } from '../../../test/helpers/stack.js';
import { awaitWorkflow, seededGroups, type Scenario } from './scenario.js';

const [NS, STS, MEMBER] = ['data', 'cassandra', 'cassandra-3'];

export const decommission: Scenario = {
  runbook: 'decommission',
  deadlineMs: 300_000,
  fleet: { bootDelayMs: 1000, nodeReadyDelayMs: 500 },
  async prepare(bed) {
    // long enough a stream that kills and restarts land in it too
    bed.stack.sim.cassandra.faults.decommissionStreamMs = 8000;
    await eventually(
      'a healthy ring of 4',
      async () => {
        const live = bed.stack.sim.cassandra.ring(NS, STS)?.members.filter((m) => m.inRing) ?? [];
        return live.length === 4 && live.every((m) => m.state === 'Up' && m.mode === 'NORMAL');
      },
      60_000,
    );
  },
  plan: (bed) => ({ ...seededGroups(bed), launches: { needed: 0, strict: true }, liveAtEnd: 0, claimsToRelease: 1 }),
  async run(bed, _random, deadline) {
    const workflowId = decommissionWorkflowId('sim-1', NS, STS);
    await bed.temporal.client().workflow.start(decommissionMember, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ cluster: 'sim-1', namespace: NS, statefulSet: STS, member: MEMBER, releaseVolume: true }],
    });
    return awaitWorkflow(() => bed.temporal.client(), workflowId, deadline);
  },
};
