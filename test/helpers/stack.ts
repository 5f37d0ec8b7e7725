import * as k8s from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetConfig } from '../../src/core/config.js';
import { loadFleetConfig } from '../../src/lib/fleet-config.js';
import { startDevServer, type DevServer } from '../../src/lib/temporal-cli.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';

export interface Stack {
  home: string;
  server: DevServer;
  sim: SimHandle;
  fleet: FleetConfig;
  client: Client;
  core: k8s.CoreV1Api;
  stop(): Promise<void>;
}

/** A real Temporal dev server (in memory, free port) and a seeded simulated fleet. */
export async function startStack(opts: { bootDelayMs?: number; nodeReadyDelayMs?: number } = {}): Promise<Stack> {
  const home = mkdtempSync(join(tmpdir(), 'itinerant-e2e-'));
  const [server, sim] = await Promise.all([
    startDevServer({ port: 0, ui: false, logFile: join(home, 'dev-server.log') }),
    startSim({ home, bootDelayMs: opts.bootDelayMs ?? 1000, nodeReadyDelayMs: opts.nodeReadyDelayMs ?? 500 }),
  ]);
  const fleet = loadFleetConfig(sim.fleetConfigPath);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  return {
    home,
    server,
    sim,
    fleet,
    client,
    core: kc.makeApiClient(k8s.CoreV1Api),
    async stop() {
      await connection.close();
      await Promise.allSettled([sim.stop(), server.stop()]);
    },
  };
}

export const isReady = (n: k8s.V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export async function nodesOfGroup(core: k8s.CoreV1Api, group: string) {
  return (await core.listNode({ labelSelector: `itinerant.dev/node-group=${group}` })).items;
}

/** Wait until fn returns a truthy value (or throw after timeoutMs, naming what was awaited). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
