// Scenario 6: the sim itself at 5,000 nodes / 50,000 pods, so that scenarios 1–5 can show it is never what limits
// them: its time to come up and to start the pods, its lists (whole, paginated as client-go and kubectl read them,
// one node's pods), and a watch fan-out (many watchers on pods, pod changes delivered to all of them), with its own
// request service time and event-loop delay (`GET /sim/load`). No worker and no Temporal: only the sim and clients.
import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { simLoadSinceLast, startSimProcess, type SimFlags } from '../bed.js';
import { processCpuSeconds, round } from '../measure.js';
import type { Scenario } from '../scenario.js';
import { listLatency } from '../sim-lists.js';
import { watchFanOut } from '../watch-fan-out.js';
import { deployGroupWorkloads } from '../workload.js';
import { poll } from '../../test/helpers/wait.js';
import { makeScratch, removeScratch } from '../../test/helpers/scratch.js';

const SIZES = {
  tiny: { fleet: { groups: 2, 'nodes-per-group': 5 }, podsPerNode: 3, watchers: 5, changes: 10 },
  // 50 × 100 = 5,000 nodes; 8 bench pods per node beside the seeded node-agent and kube-proxy pods: 50,000 pods
  full: { fleet: { groups: 50, 'nodes-per-group': 100 }, podsPerNode: 8, watchers: 100, changes: 200 },
} satisfies Record<string, SimScaleShape>;

export interface SimScaleShape { fleet: { groups: number; 'nodes-per-group': number }; podsPerNode: number; watchers: number; changes: number }

// no boot or start delays: what is measured is the sim's own work
const DELAYS: SimFlags = { 'boot-delay-ms': 0, 'node-ready-delay-ms': 0, 'pod-start-delay-ms': 0, 'controller-delay-ms': 200 };

export const simScale: Scenario = {
  name: 'sim-scale',
  run: ({ size, log }) => measureSim(SIZES[size], log),
};

export async function measureSim({ fleet, podsPerNode, watchers, changes }: SimScaleShape, log: (line: string) => void) {
    const started = Date.now();
    const home = makeScratch('itinerant-bench-');
    const sim = await startSimProcess(home, { ...fleet, ...DELAYS });
    try {
      const admin = new k8s.KubeConfig();
      admin.loadFromFile(sim.adminKubeconfigPath);
      const core = admin.makeApiClient(k8s.CoreV1Api);
      const apps = admin.makeApiClient(k8s.AppsV1Api);
      const nodeCount = fleet.groups * fleet['nodes-per-group'];
      await poll(
        'the seeded fleet Ready and its Deployments ready',
        async () =>
          (await core.listNode()).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length > nodeCount &&
          (await apps.listDeploymentForAllNamespaces()).items.every((d) => (d.status?.readyReplicas ?? 0) === d.spec?.replicas),
        { timeoutMs: 300_000, everyMs: 500, retryErrors: true },
      );
      const comeUpMs = Date.now() - started;
      log(`${nodeCount} nodes up in ${comeUpMs} ms`);
      const groups = [...new Set((await core.listNode()).items.map((n) => n.metadata?.labels?.['itinerant.dev/node-group']).filter((g): g is string => !!g))];
      await simLoadSinceLast(sim);
      const simCpu = processCpuSeconds(sim.pid);
      const podsStarted = Date.now();
      const benchPods = await deployGroupWorkloads(admin, groups, { nodesPerGroup: fleet['nodes-per-group'], podsPerNode, budget: 1 });
      const podsReadyMs = Date.now() - podsStarted;
      const podsStartSimCpuSeconds = processCpuSeconds(sim.pid) - simCpu;
      const whilePodsStart = await simLoadSinceLast(sim);
      log(`${benchPods} bench pods ready in ${podsReadyMs} ms`);
      const lists = await listLatency(admin);
      const whileListing = await simLoadSinceLast(sim);
      const fanOut = await watchFanOut(admin, { watchers, changes });
      const whileWatching = await simLoadSinceLast(sim);
      log(`${changes} pod changes to ${watchers} watchers in ${fanOut.deliveredMs} ms`);
      return {
        goal: 'the sim is never the limit: its request p99 and event-loop delay p99 well under 100 ms at 5,000 nodes / 50,000 pods',
        fleet,
        nodes: lists.nodes.items,
        pods: lists.pods.items,
        benchPods,
        simDelaysMs: DELAYS,
        comeUpMs,
        podsReadyMs,
        podsStartSimCpuSeconds: round(podsStartSimCpuSeconds, 2),
        lists,
        watchFanOut: fanOut,
        simLoad: { whilePodsStart, whileListing, whileWatching },
      };
    } finally {
      await sim.stop();
      await removeScratch(home);
    }
}
