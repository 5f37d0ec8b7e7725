// What a scenario runs against: the simulated fleet in its own process (so that the sim never shares the worker's
// event loop or CPU accounting), a worker in this process on a shared Temporal dev server, and a client.
import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FleetConfig } from '../src/core/config.js';
import { loadFleetConfig } from '../src/config/fleet-config.js';
import { createItinerantWorker } from '../src/workers/worker.js';
import type { WorkerTuning } from '../src/workers/tuning.js';
import type { Testbed } from '../testbeds/index.js';
import type { SimLoad } from '../testbeds/sim/load.js';
import { SIM_TUNING } from '../testbeds/sim/tuning.js';
import type { DevServer } from '../testbeds/temporal/temporal-cli.js';
import { workflowBundle } from '../test/helpers/bundle.js';
import { makeScratch, removeScratch } from '../test/helpers/scratch.js';
import { poll } from '../test/helpers/wait.js';

/** Sim tuning by flag name (testbeds/sim/tuning.ts): `{ groups: 10, 'boot-delay-ms': 0 }`. */
export type SimFlags = Partial<Record<keyof typeof SIM_TUNING, number>>;

export interface SimProcess {
  pid: number;
  fleetConfigPath: string;
  adminKubeconfigPath: string;
  controlUrl: string;
  controlToken: string;
  stop(): Promise<void>;
}

const SIM_MAIN = fileURLToPath(new URL('../testbeds/fleet-main.ts', import.meta.url));

/**
 * The sim as its own process (testbeds/fleet-main.ts, no Cassandra ring: its PDB would hold drains), once its endpoints are
 * written; on `control-plane`, its Kubernetes side is the real control plane (testbeds/control-plane), which takes longer to come up.
 */
export async function startSimProcess(home: string, flags: SimFlags, testbed: Testbed = 'sim'): Promise<SimProcess> {
  // ITINERANT_BENCH_SIM_NODE_ARGS: extra node options for the sim, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = (process.env.ITINERANT_BENCH_SIM_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, '--import', 'tsx', SIM_MAIN, '--home', home, '--no-cassandra', ...Object.entries(flags).flatMap(([f, v]) => [`--${f}`, String(v)])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ITINERANT_TESTBED: testbed } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const endpointsPath = join(home, 'sim', 'endpoints.json');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const endpoints = await poll(
      'the sim process to write its endpoints',
      () => {
        if (child.exitCode !== null) throw new Error(`the sim exited with ${child.exitCode}: ${stderr.trim()}`);
        const e = JSON.parse(readFileSync(endpointsPath, 'utf8')) as { pid: number; fleetConfigPath: string; adminKubeconfigPath: string; controlUrl: string; controlToken: string };
        return e.pid === child.pid && e;
      },
      { timeoutMs: testbed === 'sim' ? 180_000 : 300_000, everyMs: 100, retryErrors: true }, // seeding 5,000 nodes comes first; the real control plane starts first
    );
    return { pid: child.pid!, fleetConfigPath: endpoints.fleetConfigPath, adminKubeconfigPath: endpoints.adminKubeconfigPath, controlUrl: endpoints.controlUrl, controlToken: endpoints.controlToken, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface Bed {
  client: Client;
  fleet: FleetConfig;
  sim: SimProcess;
  temporalServerPid: number;
  admin: k8s.KubeConfig;
  /** Runs the worker while `fn` runs. */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** A fresh sim (seeded, its Deployments ready) beside `server`, with a worker tuned by `tuning`. */
export async function startBed(server: DevServer, simFlags: SimFlags, tuning: WorkerTuning = {}): Promise<Bed> {
  const home = makeScratch('itinerant-bench-');
  const sim = await startSimProcess(home, simFlags);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(sim.adminKubeconfigPath);
  const apps = admin.makeApiClient(k8s.AppsV1Api);
  await poll('seeded Deployments ready', async () => (await apps.listDeploymentForAllNamespaces()).items.every((d) => (d.status?.readyReplicas ?? 0) === d.spec?.replicas), {
    timeoutMs: 120_000,
    everyMs: 200,
    retryErrors: true,
  });
  const fleet = loadFleetConfig(sim.fleetConfigPath);
  const { worker, close } = await createItinerantWorker({ address: server.address, namespace: server.namespace, fleet, workflowBundle: await workflowBundle(), tuning });
  return {
    client,
    fleet,
    sim,
    temporalServerPid: server.process.pid!,
    admin,
    withWorker: (fn) => worker.runUntil(fn),
    async stop() {
      await close();
      await connection.close();
      await sim.stop();
      await removeScratch(home);
    },
  };
}

/** The sim's own load since the last call (testbeds/sim/load.ts): its Kubernetes requests' service time and its event-loop delay. */
export async function simLoadSinceLast(sim: SimProcess): Promise<SimLoadFigures> {
  const res = await fetch(`${sim.controlUrl}/sim/load`, { method: 'DELETE', headers: { authorization: `Bearer ${sim.controlToken}` } });
  if (!res.ok) throw new Error(`DELETE /sim/load: ${res.status} ${await res.text()}`);
  return (await res.json()) as SimLoadFigures;
}
export type SimLoadFigures = ReturnType<SimLoad['snapshot']>;
