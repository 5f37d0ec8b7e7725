// Shared set-up for the activity tests: a simulated fleet per test file, the real activities built
// from the fleet.yaml it writes, and a MockActivityEnvironment per activity call.
import type { LaunchReplacementRequest } from '../../src/core/activity-contracts.js';
import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { register } from 'prom-client';
import { DefaultLogger } from '@temporalio/worker';
import { expect } from 'vitest';
import { makeScratch, removeScratch } from '../helpers/scratch.js';
import { createActivities } from '../../src/activities/index.js';
import type { FleetConfig } from '../../src/core/config.js';
import { LABEL_CLUSTER } from '../../src/core/labels.js';
import { loadFleetConfig } from '../../src/config/fleet-config.js';
import { startSim, type SimHandle, type StartSimOptions } from '../../testbeds/sim/index.js';
import type { KObject } from '../../testbeds/sim/kube/index.js';
import { kubeProxyMirrorPod } from '../../testbeds/sim/seed.js';
import { waitFor as poll } from '../helpers/wait.js';

export type Activities = ReturnType<typeof createActivities>;

export interface Fixture {
  sim: SimHandle;
  home: string;
  fleet: FleetConfig;
  acts: Activities;
  /** Workflow ids the fake isWorkflowRunning reports as running. */
  running: Set<string>;
  cluster: string;
  stop(): Promise<void>;
}

export async function startFixture(opts: Partial<StartSimOptions> = {}): Promise<Fixture> {
  const home = makeScratch('itinerant-activities-');
  const sim = await startSim({ home, bootDelayMs: 150, nodeReadyDelayMs: 150, terminateDelayMs: 150, ...opts });
  const fleet = loadFleetConfig(sim.fleetConfigPath);
  const running = new Set<string>();
  const acts = createActivities({ fleet, isWorkflowRunning: async (id) => running.has(id) });
  return {
    sim,
    home,
    fleet,
    acts,
    running,
    cluster: sim.clusterName,
    async stop() {
      await sim.stop();
      await removeScratch(home);
    },
  };
}

const quietLogger = new DefaultLogger('ERROR');

/** Runs one activity call in its own MockActivityEnvironment and records its heartbeats. */
export async function runActivity<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  args: A,
  info: Partial<Info> = {},
): Promise<{ result: R; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment(info, { logger: quietLogger });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const result = (await env.run(fn, ...args)) as R;
  return { result, heartbeats };
}

/** Like runActivity, but the call must fail: returns the error and the heartbeats. */
export async function failActivity<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  args: A,
  info: Partial<Info> = {},
): Promise<{ error: unknown; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment(info, { logger: quietLogger });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  try {
    const result = await env.run(fn, ...args);
    throw new Error(`expected the activity to fail, it returned ${JSON.stringify(result)}`);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('expected the activity to fail')) throw error;
    return { error, heartbeats };
  }
}

/** Asserts a non-retryable ApplicationFailure of the given type and returns it. */
export function expectNonRetryable(error: unknown, type: string): ApplicationFailure {
  expect(error).toBeInstanceOf(ApplicationFailure);
  const f = error as ApplicationFailure;
  expect(f.type).toBe(type);
  expect(f.nonRetryable).toBe(true);
  return f;
}

export const waitFor = <T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000) => poll(what, fn, timeoutMs);

// ---- Kubernetes fixtures (applied in-process; the activities under test go over HTTP) ----------

export const POOL_LABEL = 'itinerant.test/pool';
export const DEDICATED_TAINT = 'itinerant.test/dedicated';

/**
 * A Ready node of its own test pool, tainted so that the seeded workloads stay away: only the
 * node-agent DaemonSet (tolerates everything), its kube-proxy mirror pod and the test's own pods run there.
 */
export function addPoolNode(sim: SimHandle, name: string, pool: string): void {
  sim.kube.cluster.registerNode({
    name,
    providerID: `oci://ocid1.instance.oc1.iad.simtest${name.replace(/[^a-z0-9]/g, '')}`,
    labels: { [LABEL_CLUSTER]: sim.clusterName, [POOL_LABEL]: pool },
    taints: [{ key: DEDICATED_TAINT, value: pool, effect: 'NoSchedule' }],
    ready: true,
  });
  sim.kube.cluster.apply(kubeProxyMirrorPod(name));
}

const poolPlacement = (pool: string) => ({
  nodeSelector: { [POOL_LABEL]: pool },
  tolerations: [{ key: DEDICATED_TAINT, operator: 'Equal', value: pool, effect: 'NoSchedule' }],
});

export function applyDeployment(sim: SimHandle, ns: string, name: string, replicas: number, pool: string): void {
  sim.kube.cluster.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: `registry.example.com/test/${name}:1` }], ...poolPlacement(pool) },
      },
    },
  });
}

export function applyPdb(sim: SimHandle, ns: string, name: string, spec: { minAvailable: number } | { maxUnavailable: number }): void {
  sim.kube.cluster.apply({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: ns },
    spec: { ...spec, selector: { matchLabels: { app: name } } },
  });
}

/** A pod no controller owns, bound to the node. */
export function applyBarePod(sim: SimHandle, ns: string, name: string, node: string, pool: string): void {
  sim.kube.cluster.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { nodeName: node, containers: [{ name, image: `registry.example.com/test/${name}:1` }], ...poolPlacement(pool) },
  });
}

export const podKey = (p: KObject) => `${p.metadata.namespace}/${p.metadata.name}`;
export const isPodReady = (p: KObject) =>
  !p.metadata.deletionTimestamp && ((p.status?.conditions ?? []) as { type: string; status: string }[]).some((c) => c.type === 'Ready' && c.status === 'True');
export const controllerKind = (p: KObject) => p.metadata.ownerReferences?.find((r) => r.controller)?.kind;
export const isMirror = (p: KObject) => p.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;

export function podsOn(sim: SimHandle, node: string): KObject[] {
  return sim.kube.store.list('pods').filter((p) => p.spec?.nodeName === node);
}

export function appPods(sim: SimHandle, ns: string, app: string): KObject[] {
  return sim.kube.store.list('pods', ns).filter((p) => p.metadata.labels?.app === app);
}

/** Waits until the app has `n` Ready pods, all on `node` (when given); returns them. */
export function waitForReadyPods(sim: SimHandle, ns: string, app: string, n: number, node?: string): Promise<KObject[]> {
  return waitFor(`${n} Ready pods of ${ns}/${app}${node ? ` on ${node}` : ''}`, () => {
    const pods = appPods(sim, ns, app);
    const ready = pods.filter((p) => isPodReady(p) && (node === undefined || p.spec?.nodeName === node));
    return pods.length === n && ready.length === n && ready;
  });
}

/** A launchReplacement request for a node of group general, at the group's placement number `placement`. */
export function launchRequestFor(
  fx: Fixture,
  displayName: string,
  retryToken: string,
  { placement = 0, replaces = fx.sim.seeded!.nodes.general![0]! }: { placement?: number; replaces?: string } = {},
): LaunchReplacementRequest {
  const group = fx.fleet.clusters[0]!.nodeGroups.find((g) => g.name === 'general')!;
  const p = group.placement[placement]!;
  return {
    cluster: fx.cluster,
    nodeGroup: 'general',
    replaces,
    displayName,
    retryToken,
    compartmentId: fx.sim.compartmentId,
    availabilityDomain: p.availabilityDomain,
    faultDomain: p.faultDomain,
    subnetId: p.subnetId,
    shape: group.shape,
    shapeConfig: { ocpus: 2, memoryInGBs: 32 },
    imageId: fx.sim.seeded!.images.prodNew,
    nodeLabels: group.labels,
    nodeTaints: group.taints,
  };
}

/** A prom-client counter's value for one label set (0 when never incremented): the worker's metrics, read in process. */
export async function counterValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = register.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name} registered`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}
