// Scenario 1: the whole fleet repaved through the repaver lanes (an image pinned on every group's lane), against
// its lower bound: per group ceil(nodes / B) waves of L + D (boot to operational, then the drain's termination),
// fleet bound = the largest group's. Goal: makespan / bound ≤ 1.10. Also scenario 3's lane half (the worker's CPU
// per repaved node, the lanes' history per sweep and per simulated day, continue-as-new) and the sim's own request
// service time and event-loop delay while the fleet repaves (scenario 6's lists at 5,000 nodes: sim-scale).
import { simLoadSinceLast, startBed } from '../bed.js';
import { laneHistoryCost } from '../lane-history.js';
import { laneSlotUse } from '../lane-slots.js';
import { awaitLanesReplaced, lateRefusals, newestChannelImage, pinImageOnLanes, terminateLanes } from '../lanes.js';
import { repaveNodeWorkflowId } from '../../src/core/ids.js';
import { cpuFigures, cpuMeter, mean, percentile, round, runStats, type RunStats } from '../measure.js';
import { groupNodes } from '../repave-many.js';
import type { Scenario } from '../scenario.js';
import type { DevServer } from '../../testbeds/temporal/temporal-cli.js';
import { deployGroupWorkloads } from '../workload.js';
import { workerTuningFromEnv } from '../../src/workers/tuning.js';

const SIZES = {
  tiny: {
    fleet: { groups: 2, 'nodes-per-group': 3, budget: 2 },
    podsPerNode: 3,
    delays: { 'boot-delay-ms': 300, 'node-ready-delay-ms': 200, 'controller-delay-ms': 20, 'pod-start-delay-ms': 50, 'eviction-delay-ms': 200 },
  },
  // The 10 × 100 (1,000 nodes, 28,000 bench pods), B = 10: bound ceil(100 / 10) × 12.7 s = 127 s. README: Bench.
  // ITINERANT_BENCH_FLEET_GROUPS: fewer groups, the same bound, less load on the machine (README: what limits it).
  full: {
    fleet: { groups: Number(process.env.ITINERANT_BENCH_FLEET_GROUPS ?? 10), 'nodes-per-group': 100, budget: 10 },
    podsPerNode: 28, // beside each node's kube-proxy and node-agent pods: 30 per node
    delays: { 'boot-delay-ms': 8000, 'node-ready-delay-ms': 2000, 'controller-delay-ms': 200, 'pod-start-delay-ms': 500, 'eviction-delay-ms': 2000 },
  },
} satisfies Record<string, FleetMakespanShape>;

export interface FleetMakespanShape {
  fleet: { groups: number; 'nodes-per-group': number; budget: number };
  podsPerNode: number;
  delays: { 'boot-delay-ms': number; 'node-ready-delay-ms': number; 'controller-delay-ms': number; 'pod-start-delay-ms': number; 'eviction-delay-ms': number };
}

export const fleetMakespan: Scenario = {
  name: 'fleet-makespan',
  run: ({ server, size, log }) => measureFleetMakespan(server, SIZES[size], log),
};

export async function measureFleetMakespan(server: DevServer, { fleet: shape, podsPerNode, delays }: FleetMakespanShape, log: (line: string) => void) {
    const bed = await startBed(server, { ...shape, ...delays }, workerTuningFromEnv());
    try {
      const cluster = bed.fleet.clusters[0]!;
      const groups = cluster.nodeGroups.map((g) => g.name);
      const nodes = shape['nodes-per-group'];
      const budget = shape.budget;
      const pods = await deployGroupWorkloads(bed.admin, groups, { nodesPerGroup: nodes, podsPerNode, budget });
      log(`${groups.length} × ${nodes} nodes, ${pods} bench pods ready`);
      // L: boot, Ready, the DaemonSet controller and its pod's start on the replacement; D: the evicted pods' termination.
      const L = delays['boot-delay-ms'] + delays['node-ready-delay-ms'] + delays['controller-delay-ms'] + delays['pod-start-delay-ms'];
      const D = delays['eviction-delay-ms'];
      const boundMs = Math.ceil(nodes / budget) * (L + D);
      const imageId = await newestChannelImage(bed.fleet, groups[0]!);
      const repaveIds = (await groupNodes(bed)).map((node) => repaveNodeWorkflowId(cluster.name, node));
      return await bed.withWorker(async () => {
        const cpu = cpuMeter({ sim: bed.sim.pid, temporalServer: bed.temporalServerPid });
        await simLoadSinceLast(bed.sim);
        const started = Date.now();
        const laneIds = await pinImageOnLanes(bed.client, cluster.name, groups, imageId, { pace: { concurrency: budget }, sweepInterval: '1m' });
        try {
          const states = await awaitLanesReplaced(bed.client, laneIds, nodes, 5 * boundMs + 180_000, new Date(started), log); // 10 × 100 took 4.3 × its bound
          const makespanMs = Date.now() - started;
          const cpuSeconds = cpu.read();
          const simLoad = await simLoadSinceLast(bed.sim);
          log(`makespan ${makespanMs} ms against ${boundMs} ms`);
          const runs = await Promise.all(repaveIds.map((id) => runStats(bed.client, id)));
          return {
            goal: 'makespanOverBound <= 1.10; workerCpuMsPerNode <= 25',
            fleet: shape,
            podsPerNode,
            benchPods: pods,
            simDelaysMs: delays,
            L,
            D,
            boundMs,
            makespanMs,
            makespanOverBound: round(makespanMs / boundMs),
            replaced: states.reduce((n, s) => n + s.totals.replaced, 0),
            refusedAfterReplaced: lateRefusals(states),
            ...cpuFigures(cpuSeconds, nodes * groups.length, makespanMs),
            runWallMs: { p50: percentile(runs.map((r) => r.wallMs), 50), max: percentile(runs.map((r) => r.wallMs), 100) },
            eventsPerRun: round(mean(runs.map((r) => r.events)), 1),
            activityMeanMs: activityMeans(runs),
            simLoad,
            slots: await laneSlotUse(bed.client, laneIds, budget, makespanMs),
            lanes: await laneHistoryCost(bed.client, laneIds, states, cluster.nodeGroups[0]!),
          };
        } finally {
          await terminateLanes(bed.client, laneIds);
        }
      });
    } finally {
      await bed.stop();
    }
}

/** Mean time per activity type over `runs` (scheduled → closed, ms), and the first workflow task's (its local activities): where a repave's time goes. */
function activityMeans(runs: RunStats[]): Record<string, number> {
  const byType = new Map<string, number[]>();
  for (const a of runs.flatMap((r) => r.activityMs)) byType.set(a.type, [...(byType.get(a.type) ?? []), a.ms]);
  return { firstWorkflowTask: Math.round(mean(runs.map((r) => r.firstWorkflowTaskMs))), ...Object.fromEntries([...byType].map(([type, ms]) => [type, Math.round(mean(ms))])) };
}
