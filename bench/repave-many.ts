// Repave many nodes at once on one worker and account for it: per-run history figures, makespan, the worker's
// CPU and peak RSS (it runs in this process), the sim process's CPU (to show whether the sim is what limits).
import * as k8s from '@kubernetes/client-node';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../src/core/ids.js';
import { LABEL_NODE_GROUP } from '../src/core/labels.js';
import { repaveNode } from '../src/workflows/repave-node.js';
import { simLoadSinceLast, type Bed } from './bed.js';
import { awaitWithin, cpuFigures, cpuMeter, rssSampler, runsFigures, runStats, type RunStats } from './measure.js';

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
  const ids = nodes.map((node) => repaveNodeWorkflowId(cluster, node));
  const rss = rssSampler();
  const cpu = cpuMeter({ sim: bed.sim.pid, temporalServer: bed.temporalServerPid });
  await simLoadSinceLast(bed.sim);
  const started = Date.now();
  let completed: Set<string>;
  try {
    completed = await bed.withWorker(async () => {
      const handles = await Promise.all(
        nodes.map((node, i) => bed.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId: ids[i]!, args: [{ cluster, node, reason: 'bench' }] })),
      );
      return awaitWithin(handles, opts);
    });
  } finally {
    rss.stop();
  }
  const wallSeconds = (Date.now() - started) / 1000;
  const cpuSeconds = cpu.read();
  const simLoad = await simLoadSinceLast(bed.sim);
  const runs: RunStats[] = [];
  for (const id of ids.filter((id) => completed.has(id))) runs.push(await runStats(bed.client, id));
  return {
    ...runsFigures(runs, nodes.length, wallSeconds, opts.withinMs),
    ...cpuFigures(cpuSeconds, runs.length, wallSeconds * 1000), // per completed run (all of them unless bounded)
    workerPeakRssMiB: rss.peakMiB(),
    simLoad,
  };
}
