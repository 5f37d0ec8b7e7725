// What a lane's history costs (scenario 3, the lane half): events per sweep while it repaves and when idle, its
// growth per simulated day at the group's sweep interval, and continue-as-new keeping each run's history bounded.
import type { Client } from '@temporalio/client';
import type { NodeGroupConfig } from '../src/core/config.js';
import { sweepIntervalOf, type LaneState } from '../src/core/lane/index.js';
import { TASK_QUEUE } from '../src/core/ids.js';
import { repaverLane } from '../src/workflows/repaver-lane.js';
import { sweepRepeatedly } from './lanes.js';
import { mean, round } from './measure.js';
import { poll } from '../test/helpers/wait.js';

const IDLE_SWEEPS = 5;
/** The restarted lane continues as new after this many sweeps (250 by default: the bound scales with it). */
const SWEEPS_PER_RUN = 3;
const BOUNDED_SWEEPS = 10;
const DAY_MS = 86_400_000;

export async function laneHistoryCost(client: Client, laneIds: string[], states: LaneState[], group: NodeGroupConfig) {
  const lengths = await Promise.all(laneIds.map(async (id) => (await client.workflow.getHandle(id).describe()).historyLength));
  // A lane's history length and sweeps are its current run's, its totals the lane's: a lane that continued as new
  // while repaving (Temporal suggests it for a large history) counts per sweep, not per node.
  const repaving = states.map((s, i) => ({ events: lengths[i]!, sweeps: s.sweeps, replaced: s.totals.replaced, runs: s.runs }));
  const oneRun = repaving.filter((r) => r.runs === 1);
  let idle = await sweepRepeatedly(client, laneIds[0]!, IDLE_SWEEPS);
  // The lane may continue as new meanwhile (Temporal suggests it once a run's history is large): measure on one run.
  const continuedWhileIdle = idle.runs !== idle.runsBefore;
  if (continuedWhileIdle) idle = await sweepRepeatedly(client, laneIds[0]!, IDLE_SWEEPS);
  if (idle.runs !== idle.runsBefore) throw new Error(`${laneIds[0]} continued as new twice in ${2 * IDLE_SWEEPS} idle sweeps`);
  const eventsPerIdleSweep = (idle.after - idle.before) / IDLE_SWEEPS;
  const sweepsPerDay = DAY_MS / sweepIntervalOf(group);
  const bounded = await continueAsNewBound(client, laneIds[0]!, states[0]!);
  return {
    eventsPerLaneWhileRepaving: round(mean(repaving.map((r) => r.events)), 1),
    sweepsPerLaneWhileRepaving: round(mean(repaving.map((r) => r.sweeps)), 1),
    eventsPerSweepWhileRepaving: round(mean(repaving.map((r) => r.events / r.sweeps)), 1),
    ...(oneRun.length ? { eventsPerRepavedNodeInLane: round(mean(oneRun.map((r) => r.events / r.replaced)), 1) } : {}),
    lanesContinuedAsNewWhileRepaving: repaving.length - oneRun.length,
    eventsPerIdleSweep: round(eventsPerIdleSweep, 1),
    ...(continuedWhileIdle ? { continuedAsNewWhileIdle: true } : {}),
    sweepIntervalMs: sweepIntervalOf(group),
    idleEventsPerSimulatedDay: Math.round(eventsPerIdleSweep * sweepsPerDay),
    /** An idle run's history at continue-as-new with the default 250 sweeps per run. */
    idleEventsPerRunAt250Sweeps: Math.round(eventsPerIdleSweep * 250),
    continueAsNew: bounded,
  };
}

/** Restarts the lane with SWEEPS_PER_RUN, sweeps it BOUNDED_SWEEPS times, and reads the history length of every run that continued as new. */
async function continueAsNewBound(client: Client, workflowId: string, state: LaneState) {
  await client.workflow.getHandle(workflowId).terminate('bench: restarted with few sweeps per run');
  const since = new Date(Date.now() - 1000).toISOString();
  await client.workflow.start(repaverLane, {
    workflowId,
    taskQueue: TASK_QUEUE,
    args: [{ cluster: state.cluster, group: state.group, sweepInterval: '1m', sweepsPerRun: SWEEPS_PER_RUN }],
  });
  const { runs } = await sweepRepeatedly(client, workflowId, BOUNDED_SWEEPS);
  const query = `WorkflowId = '${workflowId}' AND StartTime >= '${since}' AND ExecutionStatus = 'ContinuedAsNew'`;
  const lengths = await poll(
    `${runs - 1} continued runs of ${workflowId} in visibility`,
    async () => {
      const found: number[] = [];
      for await (const run of client.workflow.list({ query })) found.push(run.historyLength);
      return found.length >= runs - 1 && found;
    },
    { timeoutMs: 10_000, everyMs: 200, retryErrors: false },
  );
  return { sweepsPerRun: SWEEPS_PER_RUN, sweepNowSignals: BOUNDED_SWEEPS, runs, continuedRunHistoryLengths: lengths.sort((a, b) => a - b) };
}
