// Scenario 5: 1,000 repaveNode runs in flight on one worker against the sim with zero delays: how fast Temporal
// hands the worker its tasks (schedule-to-start, goal p99 < 1 s), throughput, memory, no task timeouts. Then as many
// runs of the SDK's floor (bench/sdk-floor: repaveNode's history, no work) on a worker tuned the same.
import { startBed, type SimFlags } from '../bed.js';
import { groupNodes, repaveMany } from '../repave-many.js';
import type { Scenario } from '../scenario.js';
import { measureSdkFloor } from '../sdk-floor/measure.js';
import { workerTuningFromEnv, type WorkerTuning } from '../../src/workers/tuning.js';

const ZERO_DELAYS: SimFlags = { 'boot-delay-ms': 0, 'node-ready-delay-ms': 0, 'terminate-delay-ms': 0, 'pod-start-delay-ms': 0, 'eviction-delay-ms': 0 };
/** ITINERANT_BENCH_CONCURRENCY_GROUPS: groups of 100 nodes at the full size (default 10: the 1,000 runs). */
const fullGroups = Number(process.env.ITINERANT_BENCH_CONCURRENCY_GROUPS ?? 10);
const SIZES = { tiny: { groups: 2, 'nodes-per-group': 3 }, full: { groups: fullGroups, 'nodes-per-group': 100 } };
/**
 * So that `npm run bench` ends within its 15 minutes (the other five scenarios take ≈ 11 of them at full size): runs still
 * open then are terminated and counted (`unfinished`).
 */
const BOUND_MS = { tiny: undefined, full: 2 * 60_000 };

/** The worker's settings for this scenario (the SDK's defaults unless the figures said otherwise; see the README's bench section). */
export const CONCURRENCY_TUNING: WorkerTuning = { ...workerTuningFromEnv() };

export const concurrency: Scenario = {
  name: 'concurrency',
  async run({ server, size, log }) {
    const bed = await startBed(server, { ...ZERO_DELAYS, ...SIZES[size] }, CONCURRENCY_TUNING);
    try {
      const bound = BOUND_MS[size] ? { withinMs: BOUND_MS[size] } : {};
      const figures = await repaveMany(bed, await groupNodes(bed), { ...bound, log });
      const sdkFloor = await measureSdkFloor(server, figures.runs, CONCURRENCY_TUNING, { ...bound, log });
      return { goal: 'workflowTaskScheduleToStartMs.p99 < 1000 and taskTimeouts = 0 and unfinished = 0', fleet: SIZES[size], tuning: CONCURRENCY_TUNING, ...figures, sdkFloor };
    } finally {
      await bed.stop();
    }
  },
};
