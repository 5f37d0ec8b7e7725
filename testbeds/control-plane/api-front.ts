/**
 * The load balancer in front of the test bed's kube-apiservers (testbeds/control-plane, two API servers on
 * one etcd): a TCP front on 127.0.0.1, as a network load balancer in front of a control plane is. TLS passes
 * through (client certificates still reach the API server). Each new connection goes to a backend whose
 * /readyz answered 200 at the last look and that has not been taken out; a backend is taken out before it
 * restarts and put back once ready, so clients only ever connect to a serving API server.
 *
 * It counts what its clients would see fail, per listener: a connection with no backend to go to, a
 * backend refusing or resetting it, and a backend closing while the client's last request was unanswered.
 * It cannot see (TLS hides it) a response cut off part-way: a client's own log is the check for that.
 *
 * NOTE: node-only module (sockets); workflow code must not import it.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { getFreePort } from '../temporal/temporal-cli.js';

export interface FrontBackend {
  name: string;
  port: number;
}

export interface FrontListenerStats {
  url: string;
  connections: number;
  /** Connections per backend. */
  perBackend: Record<string, number>;
  /** What a client saw fail, one line each. */
  failures: string[];
}

export interface ApiFront {
  /** https://127.0.0.1:<port> of a listener (created at start). */
  url(listener: string): string;
  stats(listener: string): FrontListenerStats;
  /** No new connections to `backend`; resolves once no connection to it is still being opened. */
  takeOut(backend: string): Promise<void>;
  /** Back in once its /readyz answers; resolves then (throws after `timeoutMs`). */
  putBack(backend: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface ApiFrontOptions {
  backends: FrontBackend[];
  /** One port per listener name, so that a class of client (the worker) can be told apart. */
  listeners: string[];
  /** GET /readyz on a backend: true when it answers 200. */
  readyz: (port: number) => Promise<boolean>;
  healthEveryMs?: number;
}

/**
 * Client bytes the backend may leave unanswered when it closes: a TLS close_notify alert (24 bytes in TLS 1.3,
 * 31 in TLS 1.2) that crossed its own. Any request is larger (its headers alone).
 */
const CLOSE_NOTIFY_MAX = 64;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startApiFront(opts: ApiFrontOptions): Promise<ApiFront> {
  const healthEveryMs = opts.healthEveryMs ?? 500;
  // epoch: bumped when a backend is taken out or put back, so that a /readyz answer from before does not count
  const state = new Map(opts.backends.map((b) => [b.name, { ...b, in: true, healthy: false, opening: 0, epoch: 0 }]));
  const sockets = new Set<Socket>();
  let next = 0;
  let closed = false;

  const checkHealth = async () => {
    await Promise.all(
      [...state.values()].map(async (b) => {
        const epoch = b.epoch;
        const healthy = await opts.readyz(b.port).catch(() => false);
        if (b.epoch === epoch) b.healthy = healthy;
      }),
    );
  };
  const pick = () => {
    const ready = [...state.values()].filter((b) => b.in && b.healthy);
    return ready.length ? ready[next++ % ready.length] : undefined;
  };

  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const relay = (client: Socket, b: { name: string; port: number; opening: number }, fail: (what: string) => void) => {
    track(client);
    b.opening++;
    const upstream = createConnection({ host: '127.0.0.1', port: b.port });
    track(upstream);
    let connected = false;
    let clientEnded = false;
    // bytes the client sent since the backend last answered
    let unanswered = 0;
    upstream.once('connect', () => {
      connected = true;
      b.opening--;
    });
    client.on('data', (d: Buffer) => (unanswered += d.length));
    upstream.on('data', () => (unanswered = 0));
    client.once('end', () => (clientEnded = true));
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    // A backend that closes or resets a connection fails its client only if a request was unanswered on it:
    // after an answer, the client's own close_notify may well meet a closed socket (EPIPE, ECONNRESET).
    const unansweredRequest = () => !clientEnded && unanswered > CLOSE_NOTIFY_MAX;
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected) {
        b.opening--;
        fail(`${b.name}: connect: ${e.code ?? e.message}`);
      } else if (!client.destroyed && unansweredRequest()) fail(`${b.name}: ${e.code ?? e.message} with ${unanswered} bytes of the client's unanswered`);
      client.resetAndDestroy();
    });
    upstream.once('end', () => {
      if (unansweredRequest()) fail(`${b.name} closed with ${unanswered} bytes of the client's unanswered`);
    });
  };

  const servers = new Map<string, { server: Server; stats: FrontListenerStats }>();
  for (const name of opts.listeners) {
    const port = await getFreePort();
    const stats: FrontListenerStats = { url: `https://127.0.0.1:${port}`, connections: 0, perBackend: {}, failures: [] };
    const fail = (what: string) => stats.failures.push(`${new Date().toISOString()} ${what}`);
    const server = createServer((client) => {
      stats.connections++;
      client.on('error', () => undefined);
      const b = pick();
      if (!b) {
        fail('no ready backend: connection reset');
        client.resetAndDestroy();
        return;
      }
      stats.perBackend[b.name] = (stats.perBackend[b.name] ?? 0) + 1;
      relay(client, b, fail);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    servers.set(name, { server, stats });
  }

  await checkHealth();
  const health = (async () => {
    while (!closed) {
      await sleep(healthEveryMs);
      if (!closed) await checkHealth();
    }
  })();

  const backend = (name: string) => {
    const b = state.get(name);
    if (!b) throw new Error(`api front: no backend ${name} (it has ${[...state.keys()].join(', ')})`);
    return b;
  };
  const listener = (name: string) => {
    const l = servers.get(name);
    if (!l) throw new Error(`api front: no listener ${name} (it has ${[...servers.keys()].join(', ')})`);
    return l;
  };

  return {
    url: (name) => listener(name).stats.url,
    stats: (name) => structuredClone(listener(name).stats),
    async takeOut(name) {
      const b = backend(name);
      b.in = false;
      b.healthy = false;
      b.epoch++;
      const until = Date.now() + 10_000;
      while (b.opening > 0) {
        if (Date.now() > until) throw new Error(`api front: ${b.opening} connection(s) to ${name} still opening after 10 s`);
        await sleep(20);
      }
    },
    async putBack(name, timeoutMs) {
      const b = backend(name);
      const until = Date.now() + timeoutMs;
      while (!(await opts.readyz(b.port).catch(() => false))) {
        if (Date.now() > until) throw new Error(`api front: ${name} did not answer /readyz within ${timeoutMs} ms of being put back`);
        await sleep(100);
      }
      b.epoch++;
      b.healthy = true;
      b.in = true;
    },
    async close() {
      closed = true;
      for (const { server } of servers.values()) server.close();
      for (const s of sockets) s.destroy();
      await health;
    },
  };
}
