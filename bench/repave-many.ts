// Repave many nodes at once on one worker and account for it: per-run history figures, makespan, the worker's
// CPU and peak RSS (it runs in this process), the sim process's CPU (to show whether the sim is what limits).
import * as k8s from '@kubernetes/client-node';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../src/core/ids.js';
import { LABEL_NODE_GROUP } from '../src/core/labels.js';
import { repaveNode } from '../src/workflows/repave-node.js';
import { simLoadSinceLast, type Bed } from './bed.js';
import { cpuFigures, cpuMeter, mean, percentile, round, runStats, sum, type RunStats } from './measure.js';

/** Every node of the seeded node groups (not the control plane). */
export async function groupNodes(bed: Bed): Promise<string[]> {
  const core = bed.admin.makeApiClient(k8s.CoreV1Api);
  return (await core.listNode({ labelSelector: LABEL_NODE_GROUP })).items.map((n) => n.metadata!.name!).sort();
}

/**
 * `withinMs`: the bound of a scenario that may not finish on this machine. The runs still open then are terminated,
 * counted (`unfinished`) and said so on the log; the figures are those of the runs that completed.
 */
export async function repaveMany(bed: Bed, nodes: string[], opts: { withinMs?: number; log?: (line: string) => void } = {}) {
  const cluster = bed.fleet.clusters[0]!.name;
  let ids = nodes.map((node) => repaveNodeWorkflowId(cluster, node));
  const completed = new Set<string>();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const cpu = cpuMeter({ sim: bed.sim.pid, temporalServer: bed.temporalServerPid });
  await simLoadSinceLast(bed.sim);
  const started = Date.now();
  try {
    await bed.withWorker(async () => {
      const handles = await Promise.all(
        nodes.map((node, i) => bed.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId: ids[i]!, args: [{ cluster, node, reason: 'bench' }] })),
      );
      const all = Promise.all(handles.map(async (h) => (await h.result(), completed.add(h.workflowId))));
      if (opts.withinMs === undefined) return void (await all);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'bound'>((r) => (timer = setTimeout(() => r('bound'), opts.withinMs)));
      const ended = await Promise.race([all.then(() => 'all' as const), bound]).finally(() => clearTimeout(timer));
      if (ended === 'bound') {
        all.catch(() => undefined); // the terminations below fail the rest
        const open = handles.filter((h) => !completed.has(h.workflowId));
        opts.log?.(`BOUND: ${completed.size} of ${nodes.length} runs completed within ${opts.withinMs / 1000} s; terminating the ${open.length} still open`);
        await Promise.all(open.map((h) => h.terminate('bench bound reached').catch(() => undefined)));
      }
    });
  } finally {
    clearInterval(sampler);
  }
  const wallSeconds = (Date.now() - started) / 1000;
  const unfinished = ids.length - completed.size;
  ids = ids.filter((id) => completed.has(id));
  const cpuSeconds = cpu.read();
  const simLoad = await simLoadSinceLast(bed.sim);
  const runs: RunStats[] = [];
  for (const id of ids) runs.push(await runStats(bed.client, id));
  const wft = runs.flatMap((r) => r.workflowTaskScheduleToStartMs);
  const act = runs.flatMap((r) => r.activityScheduleToStartMs);
  return {
    runs: nodes.length,
    ...(opts.withinMs !== undefined ? { boundSeconds: opts.withinMs / 1000, unfinished } : {}),
    wallSeconds: round(wallSeconds, 2),
    completedPerSecond: round(ids.length / wallSeconds, 2),
    eventsPerRun: round(mean(runs.map((r) => r.events)), 1),
    activitiesPerRun: round(mean(runs.map((r) => r.activities)), 1),
    localActivitiesPerRun: round(mean(runs.map((r) => r.localActivities)), 1),
    workflowTasksPerRun: round(mean(runs.map((r) => r.workflowTasks)), 1),
    runWallMs: { p50: percentile(runs.map((r) => r.wallMs), 50), p99: percentile(runs.map((r) => r.wallMs), 99), max: percentile(runs.map((r) => r.wallMs), 100) },
    workflowTaskScheduleToStartMs: { p50: percentile(wft, 50), p99: percentile(wft, 99), max: percentile(wft, 100) },
    activityScheduleToStartMs: { p50: percentile(act, 50), p99: percentile(act, 99), max: percentile(act, 100) },
    taskTimeouts: sum(runs.map((r) => r.taskTimeouts)),
    ...cpuFigures(cpuSeconds, ids.length, wallSeconds * 1000), // per completed run (all of them unless bounded)
    workerPeakRssMiB: round(peakRss / 2 ** 20, 1),
    simLoad,
  };
}
