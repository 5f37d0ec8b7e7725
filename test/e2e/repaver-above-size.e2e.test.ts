// A group above its configured size (here: the fleet says 3, the group has 4 nodes — as two failed drains
// would leave it): the lane retires the node that comes due instead of repaving it, launches nothing, and
// says so in its state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repaverLaneWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { laneStateQuery, repaverLane } from '../../src/workflows/repaver-lane.js';
import { eventually, nodesOfGroup, removeCassandraRing, runWorker, startStack, type Stack } from '../helpers/stack.js';
import { testbedFromEnv } from '../../testbeds/index.js';

let stack: Stack;
let worker: { stop(): Promise<void> } | undefined;
beforeAll(async () => {
  stack = await startStack();
  await removeCassandraRing(stack);
});
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

describe(`repaver lane, group above its size (dev server + worker + ${testbedFromEnv()} test bed)`, () => {
  it('retires the surplus node that comes due (the 41-day-old one) without a replacement, and reports it', async () => {
    const fleet = structuredClone(stack.fleet);
    Object.assign(fleet.clusters[0]!.nodeGroups.find((g) => g.name === 'general')!, { size: 3, minReady: 2 });
    worker = await runWorker(stack, fleet);
    const nodes = async () => (await nodesOfGroup(stack.core, 'general')).map((n) => ({ name: n.metadata!.name!, createdAt: n.metadata!.creationTimestamp }));
    const before = await nodes();
    expect(before).toHaveLength(4);
    const launches = stack.sim.oci.counters().launches;
    const oldest = stack.sim.oci.fleet
      .summary()
      .filter((i) => i.freeformTags['itinerant.dev/node-group'] === 'general' && i.node.present)
      .sort((a, b) => a.timeCreated.localeCompare(b.timeCreated))[0]!.node.name;

    const handle = await stack.client.workflow.start(repaverLane, {
      taskQueue: TASK_QUEUE,
      workflowId: repaverLaneWorkflowId('sim-1', 'general'),
      args: [{ cluster: 'sim-1', group: 'general', pace: { maxAge: '35d' }, sweepInterval: '2s' }],
    });
    try {
      // The lane's record of why: its aboveSize note lasts only until the retirement, a sweep or two, which a query
      // can miss (it did while the lane's sweep read was briefly a local activity).
      const retired = await eventually('the lane records the retirement and why', async () =>
        (await handle.query(laneStateQuery)).history.find((h) => h.node === oldest && h.outcome === 'retired'),
      );
      expect(retired.reason).toMatch(/group has 4 Ready nodes for a size of 3: retired, not replaced/);
      const state = await eventually(
        'the oldest node retired',
        async () => {
          const s = await handle.query(laneStateQuery);
          // the sweep after the retirement finds the group at its size
          return s.history.some((h) => h.node === oldest && h.outcome === 'retired') && s.inFlight.length === 0 && !s.aboveSize && s.lastSweep?.nodes === 3 && s;
        },
        120_000,
      );
      expect(state.queue).toEqual([]);
      const after = await nodes();
      expect(after.map((n) => n.name).sort()).toEqual(before.map((n) => n.name).filter((n) => n !== oldest).sort());
      expect(stack.sim.oci.counters().launches).toBe(launches);
    } finally {
      await handle.terminate('test over');
    }
  }, 180_000);
});
