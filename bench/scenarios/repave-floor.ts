// Scenario 2: one node's repave against its physical floor — the sim's own delays on the path a repave must wait
// for: boot, node Ready, the DaemonSet controller's reaction and its pod's start on the replacement, then the
// drained pods' termination (PDBs allow them in parallel on the chosen node). Goal: wall / floor ≤ 1.05.
import * as k8s from '@kubernetes/client-node';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { startBed, type SimFlags } from '../bed.js';
import { mean, round, runStats } from '../measure.js';
import type { Scenario } from '../scenario.js';

/** The sim's delays on a repave's path (also scenario orchestration-cost's). */
export const REPAVE_DELAYS = {
  tiny: { 'boot-delay-ms': 300, 'node-ready-delay-ms': 200, 'controller-delay-ms': 20, 'pod-start-delay-ms': 50, 'eviction-delay-ms': 200 },
  full: { 'boot-delay-ms': 3000, 'node-ready-delay-ms': 2000, 'controller-delay-ms': 200, 'pod-start-delay-ms': 500, 'eviction-delay-ms': 2000 },
} satisfies Record<string, SimFlags>;
const RUNS = { tiny: 1, full: 3 };
/**
 * Repaves before the measured ones, reported apart: a worker's first repave also pays for what a running worker
 * already has (its first connections to the cluster and OCI, the first workflow in its V8 context).
 */
const WARMUPS = { tiny: 0, full: 1 };

/** Nodes of `group` carrying shop pods, at most one per app (so no PDB paces their drain), busiest first. */
async function drainableNodes(admin: k8s.KubeConfig, group: string): Promise<string[]> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const nodes = (await core.listNode({ labelSelector: `itinerant.dev/node-group=${group}` })).items.map((n) => n.metadata!.name!);
  const pods = (await core.listNamespacedPod({ namespace: 'shop' })).items;
  const apps = (node: string) => pods.filter((p) => p.spec?.nodeName === node).map((p) => p.metadata!.labels!.app!);
  return nodes.filter((n) => apps(n).length > 0 && new Set(apps(n)).size === apps(n).length).sort((a, b) => apps(b).length - apps(a).length);
}

export const repaveFloor: Scenario = {
  name: 'repave-floor',
  async run({ server, size }) {
    const runs = RUNS[size];
    const flags = REPAVE_DELAYS[size];
    const bed = await startBed(server, flags);
    try {
      const floorMs = flags['boot-delay-ms'] + flags['node-ready-delay-ms'] + flags['controller-delay-ms'] + flags['pod-start-delay-ms'] + flags['eviction-delay-ms'];
      const cluster = bed.fleet.clusters[0]!.name;
      const results = await bed.withWorker(async () => {
        const out = [];
        for (let i = 0; i < WARMUPS[size] + runs; i++) {
          const node = (await drainableNodes(bed.admin, 'general'))[0] ?? (await drainableNodes(bed.admin, 'batch'))[0];
          if (!node) throw new Error('no node with shop pods to drain');
          const workflowId = repaveNodeWorkflowId(cluster, node);
          const result = await bed.client.workflow.execute(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster, node, reason: 'bench' }] });
          out.push({ node, evictedPods: result.evictedPods, ...(await runStats(bed.client, workflowId)) });
        }
        return out;
      });
      const warmups = results.splice(0, WARMUPS[size]);
      const walls = results.map((r) => r.wallMs);
      return {
        goal: 'wallOverFloor <= 1.05',
        simDelaysMs: flags,
        floorMs,
        warmupWallMs: warmups.map((r) => r.wallMs),
        wallMs: walls,
        wallOverFloor: round(mean(walls) / floorMs),
        evictedPods: results.map((r) => r.evictedPods),
        events: results.map((r) => r.events),
        activities: results[0]!.activities,
        localActivities: results[0]!.localActivities,
        workflowTasks: results[0]!.workflowTasks,
        searchAttributeUpserts: results[0]!.searchAttributeUpserts,
        activityMs: [`firstWorkflowTask ${results.at(-1)!.firstWorkflowTaskMs}`, ...results.at(-1)!.activityMs.map((a) => `${a.type} ${a.ms}`)],
      };
    } finally {
      await bed.stop();
    }
  },
};
