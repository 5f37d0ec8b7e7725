// Two repaverLanes (general and batch) replace the aged nodes of their group (older than 20 days: two of
// each seeded group), with continue-as-new on the way; the run is over when no aged node is left, each
// group has its size of Ready nodes and both lanes are idle. Lanes never end by themselves: they are
// terminated then.
import type { Client } from '@temporalio/client';
import { repaverLaneWorkflowId, TASK_QUEUE } from '../../../src/core/ids.js';
import type { LaneState } from '../../../src/core/lane/index.js';
import { TAG_NODE_GROUP } from '../../../src/core/labels.js';
import { laneStateQuery, repaverLane } from '../../../src/workflows/repaver-lane.js';
import { eventually, removeCassandraRing } from '../../../test/helpers/stack.js';
import { GiveUp } from '../../../test/helpers/wait.js';
import type { Bed } from '../bed.js';
import { seededGroups, type Scenario } from './scenario.js';

const GROUPS = ['general', 'batch'];
const MAX_AGE_MS = 20 * 86_400_000;
const laneInput = { pace: { maxAge: '20d' }, sweepInterval: '2s', readyTimeout: '2m', failureBackoff: '2s', sweepsPerRun: 15 };

export const lane: Scenario = {
  runbook: 'lane',
  deadlineMs: 420_000,
  fleet: { bootDelayMs: 800, nodeReadyDelayMs: 400 },
  prepare: (bed) => removeCassandraRing(bed.stack),
  plan: (bed) => ({ ...seededGroups(bed), launches: { needed: agedNodes(bed).size, strict: false }, liveAtEnd: agedNodes(bed).size, claimsToRelease: 0 }),
  async run(bed, _random, deadline) {
    const aged = agedNodes(bed);
    const ids = GROUPS.map((g) => repaverLaneWorkflowId('sim-1', g));
    for (const [i, group] of GROUPS.entries()) {
      await bed.temporal.client().workflow.start(repaverLane, { taskQueue: TASK_QUEUE, workflowId: ids[i]!, args: [{ cluster: 'sim-1', group, ...laneInput }] });
    }
    try {
      await eventually(
        'every aged node replaced, groups at size and Ready, lanes idle',
        async () => {
          const closed = await lanesClosed(bed.temporal.client(), ids);
          if (closed) throw new GiveUp(closed);
          return groupsRepaved(bed, aged) && (await lanesIdle(bed.temporal.client(), ids));
        },
        Math.max(0, deadline - Date.now()),
        500,
      );
      return { status: 'completed' };
    } catch (e) {
      return e instanceof GiveUp ? { status: 'failed', message: e.message } : { status: 'timed-out', waited: (e as Error).message };
    } finally {
      for (const id of ids) await bed.temporal.client().workflow.getHandle(id).terminate('chaos run over').catch(() => undefined);
    }
  },
};

/** The nodes of the lanes' groups older than the lanes' maxAge. */
function agedNodes(bed: Bed): Set<string> {
  const instances = bed.stack.sim.oci.fleet.summary().filter((i) => GROUPS.includes(i.freeformTags[TAG_NODE_GROUP] ?? '') && i.node.present);
  return new Set(instances.filter((i) => Date.now() - Date.parse(i.timeCreated) > MAX_AGE_MS).map((i) => i.node.name));
}

function groupsRepaved(bed: Bed, aged: Set<string>): boolean {
  const { sizes } = seededGroups(bed);
  const live = bed.stack.sim.oci.fleet.summary().filter((i) => i.lifecycleState !== 'TERMINATED' && i.lifecycleState !== 'TERMINATING');
  return GROUPS.every((g) => {
    const ofGroup = live.filter((i) => i.freeformTags[TAG_NODE_GROUP] === g);
    return ofGroup.length === sizes[g] && ofGroup.every((i) => !aged.has(i.node.name) && i.node.present && i.node.status === 'ready');
  });
}

async function lanesIdle(client: Client, ids: string[]): Promise<boolean> {
  const states = await Promise.all(ids.map((id) => client.workflow.getHandle(id).query(laneStateQuery) as Promise<LaneState>));
  return states.every((s) => s.inFlight.length === 0 && s.queue.length === 0);
}

/** How a lane ended, when one did (a lane should run until it is stopped). */
async function lanesClosed(client: Client, ids: string[]): Promise<string | undefined> {
  for (const id of ids) {
    const status = (await client.workflow.getHandle(id).describe()).status.name;
    if (status !== 'RUNNING') return `lane ${id} ${status}`;
  }
  return undefined;
}

