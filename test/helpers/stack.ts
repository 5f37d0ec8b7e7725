import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FleetConfig } from '../../src/core/config.js';
import { loadFleetConfig } from '../../src/config/fleet-config.js';
import { startDevServer, type DevServer } from '../../testbeds/temporal/temporal-cli.js';
import type { TemporalCluster } from '../../testbeds/temporal-cluster/cluster.js';
import { startTestbed, testbedFromEnv, type StartTestbedOptions, type TestbedHandle, type Testbed } from '../../testbeds/index.js';
import { createItinerantWorker } from '../../src/workers/worker.js';
import { dataConverterFromEnv } from '../../src/codec/data-converter.js';
import { connectionOptions, type TemporalConnectionSettings } from '../../src/config/temporal-connection.js';
import { PREBUILT_BUNDLE_ENV, workflowBundle } from './bundle.js';
import { makeScratch, removeScratch } from './scratch.js';
import { poll } from './wait.js';

export interface Stack {
  /** `sim` (in-memory Kubernetes API) or `control-plane` (real kube-apiserver + controllers + KWOK); OCI is the sim in both. */
  backend: Testbed;
  home: string;
  /** The dev server, or (ITINERANT_TEMPORAL=cluster) the Temporal cluster's frontend. */
  server: StackServer;
  /** How workers and clients reach the server: its connection settings, the payload codec, and the same as a worker process's environment. */
  temporal: StackTemporal;
  sim: TestbedHandle;
  fleet: FleetConfig;
  client: Client;
  /** The worker's identity (fleet.yaml's kubeconfig). */
  core: k8s.CoreV1Api;
  /** The test bed's administrator, for what a test does that the worker may not (scale a StatefulSet, remove a workload). */
  admin: k8s.KubeConfig;
  stop(): Promise<void>;
}

export type StackServer = Pick<DevServer, 'address' | 'namespace' | 'logTail' | 'stop'> & { cluster?: TemporalCluster };

/** `dev` (default): the temporal CLI's dev server; `cluster`: the temporal-cluster test bed (PostgreSQL, four services, mTLS, codec on). */
export function temporalFromEnv(env: NodeJS.ProcessEnv = process.env): 'dev' | 'cluster' {
  const v = (env.ITINERANT_TEMPORAL ?? '').trim() || 'dev';
  if (v !== 'dev' && v !== 'cluster') throw new Error(`ITINERANT_TEMPORAL must be dev or cluster, not ${JSON.stringify(v)}`);
  return v;
}

async function startClusterServer(home: string): Promise<StackServer> {
  const cluster = await (await import('../../testbeds/temporal-cluster/cluster.js')).startTemporalCluster({ home });
  return { address: cluster.address, namespace: cluster.namespace, logTail: cluster.logTail, stop: cluster.stop, cluster };
}

export interface StackTemporal extends TemporalConnectionSettings {
  dataConverter?: DataConverter | undefined;
  /** TEMPORAL_* and ITINERANT_CODEC_KEYS_PATH for a worker process. */
  env: Record<string, string>;
}

/** Payload encryption as deployed: a fresh key file in `home`, read back through the worker's own variable. */
function codecEnv(home: string): Record<string, string> {
  const path = join(home, 'codec-keys.json');
  writeFileSync(path, JSON.stringify({ encryptWith: 'e2e-1', keys: { 'e2e-1': randomBytes(32).toString('base64') } }), { mode: 0o600 });
  return { ITINERANT_CODEC_KEYS_PATH: path };
}

/**
 * A real Temporal dev server (free port; in memory, or with `persistentServer` in `<home>/temporal.sqlite`, to be restarted on it) and a seeded fleet. The Kubernetes side is chosen by
 * `opts.backend`, else `ITINERANT_TESTBED` (sim | control-plane; default sim): see README "Test beds". With ITINERANT_TEMPORAL=cluster,
 * Temporal is the temporal-cluster test bed instead of the dev server, with mTLS and the payload codec on.
 */
export async function startStack(
  opts: { bootDelayMs?: number; nodeReadyDelayMs?: number; backend?: Testbed; nodeNaming?: StartTestbedOptions['nodeNaming']; persistentServer?: boolean; apiServerKeyrings?: boolean; fleetShape?: StartTestbedOptions['fleetShape']; codec?: boolean } = {},
): Promise<Stack> {
  const backend = opts.backend ?? testbedFromEnv();
  const home = makeScratch('itinerant-e2e-');
  const onCluster = temporalFromEnv() === 'cluster';
  const [server, sim] = await Promise.all([
    onCluster
      ? startClusterServer(home)
      : startDevServer({ port: 0, ui: false, logFile: join(home, 'dev-server.log'), ...(opts.persistentServer ? { dbFile: join(home, 'temporal.sqlite') } : {}) }),
    startTestbed({ home, backend, bootDelayMs: opts.bootDelayMs ?? 1000, nodeReadyDelayMs: opts.nodeReadyDelayMs ?? 500, ...(opts.nodeNaming ? { nodeNaming: opts.nodeNaming } : {}), ...(opts.apiServerKeyrings ? { apiServerKeyrings: true } : {}), ...(opts.fleetShape ? { fleetShape: opts.fleetShape } : {}) }),
  ]);
  const fleet = loadFleetConfig(sim.fleetConfigPath);
  const cluster = (server as StackServer).cluster;
  const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace, ...cluster?.clientEnv, ...(opts.codec || onCluster ? codecEnv(home) : {}) };
  const temporal: StackTemporal = { address: server.address, namespace: server.namespace, ...(cluster ? { tls: cluster.tls } : {}), dataConverter: dataConverterFromEnv(env), env };
  const connection = await Connection.connect(connectionOptions(temporal));
  const client = new Client({ connection, namespace: server.namespace, ...(temporal.dataConverter ? { dataConverter: temporal.dataConverter } : {}) });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(sim.adminKubeconfigPath ?? sim.kubeconfigPath);
  if (backend === 'sim') {
    // Let the seed settle as the control-plane backend does (StatefulSets start their pods one by one), so that
    // pods do not still land on nodes while a test counts them.
    const apps = admin.makeApiClient(k8s.AppsV1Api);
    await eventually('seeded Deployments and StatefulSets ready', async () => {
      const [deps, sts] = await Promise.all([apps.listDeploymentForAllNamespaces(), apps.listStatefulSetForAllNamespaces()]);
      return [...deps.items, ...sts.items].every((w) => (w.status?.readyReplicas ?? 0) === (w.spec?.replicas ?? 1));
    }, 60_000);
  }
  return {
    backend,
    home,
    server,
    temporal,
    sim,
    fleet,
    client,
    core: kc.makeApiClient(k8s.CoreV1Api),
    admin,
    async stop() {
      await connection.close();
      await Promise.allSettled([sim.stop(), server.stop()]);
      await removeScratch(home);
    },
  };
}

export const isReady = (n: k8s.V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export async function nodesOfGroup(core: k8s.CoreV1Api, group: string) {
  return (await core.listNode({ labelSelector: `itinerant.dev/node-group=${group}` })).items;
}

/**
 * Wait until fn returns a truthy value. Errors fn throws are retried (the last one is named when the wait times
 * out, with what was awaited), except a GiveUp (test/helpers/wait.ts), which fails the wait at once: a check
 * like "the worker process exited" throws it, via giveUpIfExited.
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  return poll(what, fn, { timeoutMs, everyMs, retryErrors: true });
}

/**
 * Take the seeded Cassandra ring (namespace data) out of the fleet. Tests about stateless capacity use it:
 * the ring keeps its data on node-local volumes and its PDB (maxUnavailable 1) would rightly hold every drain
 * touching its pods; members leave through the decommission runbook, not a plain drain.
 */
export async function removeCassandraRing(stack: Stack): Promise<void> {
  const apps = stack.admin.makeApiClient(k8s.AppsV1Api);
  const policy = stack.admin.makeApiClient(k8s.PolicyV1Api);
  const core = stack.admin.makeApiClient(k8s.CoreV1Api);
  const namespace = 'data';
  const gone = (e: unknown) => (e instanceof k8s.ApiException && e.code === 404 ? undefined : Promise.reject(e));
  for (const s of (await apps.listNamespacedStatefulSet({ namespace }).catch(() => ({ items: [] }))).items) {
    await apps.deleteNamespacedStatefulSet({ namespace, name: s.metadata!.name! }).catch(gone);
  }
  for (const p of (await policy.listNamespacedPodDisruptionBudget({ namespace }).catch(() => ({ items: [] }))).items) {
    await policy.deleteNamespacedPodDisruptionBudget({ namespace, name: p.metadata!.name! }).catch(gone);
  }
  for (const p of (await core.listNamespacedPod({ namespace }).catch(() => ({ items: [] }))).items) {
    await core.deleteNamespacedPod({ namespace, name: p.metadata!.name!, gracePeriodSeconds: 0 }).catch(gone);
  }
  await eventually('Cassandra pods gone', async () => (await core.listNamespacedPod({ namespace })).items.length === 0, 30_000);
}

/** A worker in this process on the stack's dev server, for its fleet (or another fleet configuration). */
export async function inProcessWorker(stack: Stack, fleet: FleetConfig = stack.fleet) {
  const { env: _, ...temporal } = stack.temporal;
  return createItinerantWorker({ ...temporal, fleet, workflowBundle: await workflowBundle() });
}

/** An in-process worker started on the stack (see inProcessWorker); `stop` shuts it down and closes its connection. */
export async function runWorker(stack: Stack, fleet: FleetConfig = stack.fleet): Promise<{ stop(): Promise<void> }> {
  const { worker, close } = await inProcessWorker(stack, fleet);
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await close();
    },
  };
}

/**
 * The worker as its own process (src/workers/main.ts, as deployed), one a test can SIGKILL; on the stack's dev server unless told
 * another; `env` adds to its environment (e.g. TEMPORAL_TLS_*).
 */
export function spawnWorkerProcess(
  stack: Stack,
  server: { address: string; namespace: string } = stack.temporal,
  opts: { captureOutput?: boolean; env?: Record<string, string> } = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../src/workers/main.ts', import.meta.url))], {
    env: {
      ...process.env,
      ...(server === stack.temporal ? stack.temporal.env : {}),
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      ITINERANT_CONFIG: stack.sim.fleetConfigPath,
      ITINERANT_LOG_LEVEL: 'WARN',
      ITINERANT_AUDIT_LOG: join(stack.home, 'audit.jsonl'),
      // npm test's bundle, as a deployed worker loads its prebuilt one: not seconds of bundling at every start
      ...(process.env[PREBUILT_BUNDLE_ENV] ? { ITINERANT_WORKFLOW_BUNDLE: process.env[PREBUILT_BUNDLE_ENV] } : {}),
      ...opts.env,
    },
    stdio: ['ignore', opts.captureOutput ? 'pipe' : 'inherit', opts.captureOutput ? 'pipe' : 'inherit'],
  });
}

/** Send a worker process `signal` and wait for it to exit (nothing to do when it is gone already). */
export async function stopWorkerProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
