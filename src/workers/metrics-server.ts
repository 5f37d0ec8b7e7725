// The worker's one HTTP port (ITINERANT_METRICS_ADDRESS, e.g. 0.0.0.0:9464): /metrics (the SDK runtime's metrics, which
// its Prometheus exporter serves on a loopback port of its own, followed by ours from prom-client), /healthz (alive)
// and /readyz (polling its task queue).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { State } from '@temporalio/worker';
import { register } from 'prom-client';

export type WorkerHealth = () => State | 'STARTING';

/** A free loopback port for the SDK runtime's own exporter (it takes an address, not port 0). */
export async function freeLoopbackAddress(): Promise<string> {
  const s = createNetServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  return `127.0.0.1:${port}`;
}

export function splitListen(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`expected host:port, got ${JSON.stringify(address)}`);
  return { host: address.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

export async function startMetricsServer(opts: { address: string; sdkMetricsAddress?: string; health: WorkerHealth }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    const state = opts.health();
    if (path === '/healthz') return void res.writeHead(state === 'FAILED' ? 503 : 200, { 'content-type': 'text/plain' }).end(`${state}\n`);
    if (path === '/readyz') return void res.writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'text/plain' }).end(`${state}\n`);
    if (path !== '/metrics') return void res.writeHead(404).end();
    void Promise.all([sdkMetrics(opts.sdkMetricsAddress), register.metrics()]).then(
      ([sdk, ours]) => res.writeHead(200, { 'content-type': register.contentType }).end(`${sdk}${ours}`),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics: ${(e as Error).message}\n`),
    );
  });
  const { host, port } = splitListen(opts.address);
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

async function sdkMetrics(address: string | undefined): Promise<string> {
  if (!address) return '';
  const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`the SDK runtime's exporter answered ${res.status}`);
  const text = await res.text();
  return text.endsWith('\n') || text === '' ? text : `${text}\n`;
}
