// The test bed's front for its two kube-apiservers: new connections go to a ready backend that is in, and
// what a client sees fail is counted (the rotation e2e asserts the worker saw none). Plain HTTP backends
// here: the front relays TCP and does not care what runs over it.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiFront, type ApiFront } from '../../testbeds/control-plane/api-front.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** A backend that answers its name, or (`hangUp`) closes the connection without answering. */
async function backend(name: string, { hangUp = false } = {}): Promise<{ server: Server; port: number; ready: boolean }> {
  const server = createServer((req, res) => {
    if (hangUp) return req.socket.destroy();
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const b = { server, port: (server.address() as AddressInfo).port, ready: true };
  open.push({ close: () => new Promise((r) => server.close(r)) });
  return b;
}

async function front(backends: Record<string, { port: number; ready: boolean }>): Promise<ApiFront> {
  const byPort = new Map(Object.values(backends).map((b) => [b.port, b]));
  const f = await startApiFront({
    backends: Object.entries(backends).map(([name, b]) => ({ name, port: b.port })),
    listeners: ['worker'],
    readyz: async (port) => byPort.get(port)!.ready,
    healthEveryMs: 50,
  });
  open.push(f);
  return f;
}

/** One request on its own connection, as the worker's Kubernetes client sends them: the body, or the error. */
function get(url: string): Promise<string> {
  const u = new URL(url.replace('https:', 'http:'));
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, path: '/', agent: false, headers: { 'x-padding': 'x'.repeat(200) } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    req.end();
  });
}

describe('api front', () => {
  it('sends new connections to the backends in turn, and none to one taken out; nothing fails while it restarts', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const f = await front({ a, b });
    const url = f.url('worker');
    expect(new Set(await Promise.all([1, 2, 3, 4].map(() => get(url))))).toEqual(new Set(['a', 'b']));

    await f.takeOut('a');
    await new Promise((r) => a.server.close(r));
    a.ready = false;
    expect(await Promise.all([1, 2, 3].map(() => get(url)))).toEqual(['b', 'b', 'b']);

    a.server.listen(a.port, '127.0.0.1');
    a.ready = true;
    await f.putBack('a', 2_000);
    expect(await Promise.all([1, 2, 3, 4].map(() => get(url)))).toContain('a');
    expect(f.stats('worker')).toMatchObject({ connections: 11, failures: [] });
  });

  it('counts a connection with no ready backend and a request a backend closed on unanswered', async () => {
    const a = await backend('a', { hangUp: true });
    const f = await front({ a });
    expect(await get(f.url('worker'))).toMatch(/^error /);
    await f.takeOut('a');
    expect(await get(f.url('worker'))).toMatch(/^error /);
    const { failures } = f.stats('worker');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/a closed with \d+ bytes of the client's unanswered/);
    expect(failures[1]).toMatch(/no ready backend/);
  });

  it('will not put back a backend that does not answer /readyz, after its deadline', async () => {
    const a = await backend('a');
    const f = await front({ a });
    await f.takeOut('a');
    a.ready = false;
    await expect(f.putBack('a', 300)).rejects.toThrow(/a did not answer \/readyz within 300 ms/);
  });
});
