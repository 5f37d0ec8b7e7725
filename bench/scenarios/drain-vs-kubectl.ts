// Scenario 4: one node's drain by our drainNode activity against the real `kubectl drain --ignore-daemonsets
// --delete-emptydir-data`, alternating on the same sim: a node carrying pods under a PDB that lets them all go at
// once plus 10 under one at maxUnavailable 1. Goals: ours / kubectl ≤ 0.9, each / the physical limit ≤ 1.05.
// `--testbed control-plane` runs it on the real kube-apiserver, controllers and scheduler (KWOK playing the kubelets).
import * as k8s from '@kubernetes/client-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createActivities } from '../../src/activities/index.js';
import { loadFleetConfig } from '../../src/config/fleet-config.js';
import { isPodReady } from '../../src/activities/kube-api.js';
import { LABEL_NODE_GROUP } from '../../src/core/labels.js';
import { KWOK_POD_DELETE_DELAY_ANNOTATION } from '../../testbeds/control-plane/kwok-config.js';
import { poll } from '../../test/helpers/wait.js';
import { startSimProcess, type SimFlags } from '../bed.js';
import { mean, percentile, round } from '../measure.js';
import type { Scenario } from '../scenario.js';
import { makeScratch, removeScratch } from '../../test/helpers/scratch.js';

const SIZES = {
  tiny: { parallel: 8, paced: 2, rounds: 1, delays: { 'eviction-delay-ms': 200, 'pod-start-delay-ms': 50, 'controller-delay-ms': 20 } },
  full: { parallel: 100, paced: 10, rounds: 3, delays: { 'eviction-delay-ms': 2000, 'pod-start-delay-ms': 500, 'controller-delay-ms': 200 } },
} satisfies Record<string, { parallel: number; paced: number; rounds: number; delays: SimFlags }>;
const NS = 'drain';

export const drainVsKubectl: Scenario = {
  name: 'drain-vs-kubectl',
  testbeds: ['sim', 'control-plane'],
  async run({ size, testbed, log }) {
    const { paced, rounds, delays } = SIZES[size];
    const E = delays['eviction-delay-ms'];
    const home = makeScratch('itinerant-bench-');
    const sim = await startSimProcess(home, { groups: 1, 'nodes-per-group': 2, ...delays }, testbed);
    try {
      const admin = new k8s.KubeConfig();
      admin.loadFromFile(sim.adminKubeconfigPath);
      const fleet = loadFleetConfig(sim.fleetConfigPath);
      const cluster = fleet.clusters[0]!.name;
      const pods = new Pods(admin);
      const [target, landing] = await pods.groupNodes();
      const parallel = await pods.setUp({ parallel: SIZES[size].parallel, paced, terminationMs: E }, target!, landing!);
      // The PDB's pace is measured, not summed from the sim's delays (the real controllers have none to sum).
      const pacedEvictionMs = await pods.pacedEvictionMs(target!, landing!, parallel + paced, Math.min(3, paced - 1));
      const parallelEvictionMs = await pods.parallelEvictionMs(target!, landing!, parallel + paced);
      const acts = createActivities({ fleet, isWorkflowRunning: async () => false });
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const drains = {
        ours: async () => {
          await pods.cordon(target!, true);
          await env.run(acts.drainNode, { cluster, node: target!, deadline: Date.now() + 300_000, evictUnmanagedPods: false, deletePodsBlockedByPdbAfterTimeout: false });
        },
        kubectl: async () => {
          await promisify(execFile)('kubectl', ['--kubeconfig', sim.adminKubeconfigPath, '--cache-dir', join(home, 'kubectl-cache'), 'drain', target!, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=300s'], { timeout: 330_000 });
        },
      };
      const ms: Record<keyof typeof drains, number[]> = { ours: [], kubectl: [] };
      for (let i = 0; i < rounds; i++) {
        for (const who of ['ours', 'kubectl'] as const) {
          const started = Date.now();
          await drains[who]();
          ms[who].push(Date.now() - started);
          log(`${who} drained ${parallel + paced} pods in ${ms[who].at(-1)} ms`);
          await pods.refill(target!, landing!, parallel + paced);
        }
      }
      // The slowest pod: the last of the paced ones, evicted at the PDB's pace, or the last of the parallel ones the API
      // server accepts, whichever comes later; then its termination.
      const limitMs = Math.max((paced - 1) * pacedEvictionMs, parallelEvictionMs) + E;
      return {
        goal: 'oursOverKubectl <= 0.9; oursOverLimit <= 1.05 and kubectlOverLimit <= 1.05',
        pods: { parallel, paced, pdbs: { parallel: `maxUnavailable ${parallel}`, paced: 'maxUnavailable 1' } },
        simDelaysMs: delays,
        pacedEvictionMs,
        parallelEvictionMs,
        limitMs,
        oursMs: ms.ours,
        kubectlMs: ms.kubectl,
        oursOverKubectl: round(mean(ms.ours) / mean(ms.kubectl)),
        oursOverLimit: round(mean(ms.ours) / limitMs),
        kubectlOverLimit: round(mean(ms.kubectl) / limitMs),
      };
    } finally {
      await sim.stop();
      await removeScratch(home);
    }
  },
};

/** The drained node's pods: two Deployments in namespace drain, pinned to the group (so evicted ones land on the other node). */
class Pods {
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly policy: k8s.PolicyV1Api;

  constructor(admin: k8s.KubeConfig) {
    this.core = admin.makeApiClient(k8s.CoreV1Api);
    this.apps = admin.makeApiClient(k8s.AppsV1Api);
    this.policy = admin.makeApiClient(k8s.PolicyV1Api);
  }

  async groupNodes(): Promise<string[]> {
    return (await this.core.listNode({ labelSelector: LABEL_NODE_GROUP })).items.map((n) => n.metadata!.name!).sort();
  }

  async cordon(node: string, unschedulable: boolean): Promise<void> {
    await this.core.patchNode({ name: node, body: { spec: { unschedulable } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch));
  }

  /**
   * The seeded shop leaves (its PDBs would pace the drain too); the two Deployments start on `target` alone. Returns how
   * many parallel pods: at most `counts.parallel`, fewer so that the node carries no more than its allocatable pods (a
   * kubelet's 110), its DaemonSet and mirror pods included: the real scheduler holds to that.
   */
  async setUp(counts: { parallel: number; paced: number; terminationMs: number }, target: string, landing: string): Promise<number> {
    for (const d of ['web', 'api', 'worker']) await this.apps.deleteNamespacedDeployment({ namespace: 'shop', name: d });
    const allocatable = Number((await this.core.readNode({ name: target })).status?.allocatable?.pods ?? '110');
    const staying = (await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${target}` })).items.filter((p) => p.metadata?.namespace !== 'shop');
    counts = { ...counts, parallel: Math.min(counts.parallel, allocatable - staying.length - counts.paced) };
    await this.core.createNamespace({ body: { metadata: { name: NS } } });
    await this.cordon(landing, true);
    const group = (await this.core.readNode({ name: target })).metadata!.labels![LABEL_NODE_GROUP]!;
    for (const [name, replicas, maxUnavailable] of [['parallel', counts.parallel, counts.parallel], ['paced', counts.paced, 1]] as const) {
      const labels = { app: name };
      await this.apps.createNamespacedDeployment({
        namespace: NS,
        body: { metadata: { name, labels }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels, annotations: { [KWOK_POD_DELETE_DELAY_ANNOTATION]: `${counts.terminationMs}ms` } }, spec: { nodeSelector: { [LABEL_NODE_GROUP]: group }, containers: [{ name, image: `registry.example.com/bench/${name}:1.0` }] } } } },
      });
      await this.policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name }, spec: { maxUnavailable, selector: { matchLabels: labels } } } });
    }
    await this.awaitAllOn(target, counts.parallel + counts.paced);
    await this.cordon(landing, false);
    return counts.parallel;
  }

  /**
   * The PDB's pace, as the API server enforces it: paced pods evicted one after another as fast as it lets them (a
   * refused eviction tried again every 20 ms), the median time from one accepted eviction to the next. That is the
   * replacement's scheduling and start plus the disruption controller's update of the PDB: what no drain can beat.
   * As in a drain, `target` is cordoned and the replacements land on `landing`; then every pod is moved back onto
   * `target` (`total` of them).
   */
  async pacedEvictionMs(target: string, landing: string, total: number, samples: number): Promise<number> {
    await this.cordon(target, true);
    const names = (await this.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=paced', fieldSelector: `spec.nodeName=${target}` })).items.map((p) => p.metadata!.name!);
    const ms: number[] = [];
    let last = await this.evictWhenAllowed(names[0]!);
    for (const name of names.slice(1, samples + 1)) {
      const accepted = await this.evictWhenAllowed(name);
      ms.push(accepted - last);
      last = accepted;
    }
    await this.refill(target, landing, total);
    return percentile(ms, 50);
  }

  /**
   * How soon the API server accepts the evictions of every parallel pod at once, each tried again every 20 ms while
   * refused: every one writes their one PDB's status, and kube-apiserver serializes those writes (answering 409 to
   * those that race). `target` cordoned, then every pod moved back onto it (`total`), as for the pace.
   */
  async parallelEvictionMs(target: string, landing: string, total: number): Promise<number> {
    await this.cordon(target, true);
    const names = (await this.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=parallel', fieldSelector: `spec.nodeName=${target}` })).items.map((p) => p.metadata!.name!);
    const started = Date.now();
    const accepted = await Promise.all(names.map((name) => this.evictWhenAllowed(name)));
    await this.refill(target, landing, total);
    return Math.max(...accepted) - started;
  }

  /** Evicts `name`, trying again every 20 ms while its PDB refuses (429) or its status is being written (409); the time it was accepted. */
  private evictWhenAllowed(name: string): Promise<number> {
    return poll(
      `the eviction of ${name}, allowed by its PDB`,
      async () => {
        try {
          await this.core.createNamespacedPodEviction({ name, namespace: NS, body: { metadata: { name, namespace: NS } } });
          return Date.now();
        } catch (e) {
          const code = (e as { code?: number }).code;
          if (code === 429 || code === 409) return false;
          throw e;
        }
      },
      { timeoutMs: 60_000, everyMs: 20, retryErrors: false },
    );
  }

  /** Moves every pod back onto `target` (the other node cordoned, its pods deleted), then makes both schedulable. */
  async refill(target: string, landing: string, count: number): Promise<void> {
    await this.cordon(landing, true);
    await this.cordon(target, false);
    await this.core.deleteCollectionNamespacedPod({ namespace: NS });
    await this.awaitAllOn(target, count);
    await this.cordon(landing, false);
  }

  private async awaitAllOn(node: string, count: number, labelSelector?: string): Promise<void> {
    await poll(
      `${count} pods Running on ${node} and none elsewhere`,
      async () => {
        const items = (await this.core.listNamespacedPod({ namespace: NS, ...(labelSelector ? { labelSelector } : {}) })).items;
        return items.length === count && items.every((p) => p.spec?.nodeName === node && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
      },
      { timeoutMs: 120_000, everyMs: 100, retryErrors: true },
    );
  }
}
