// The worker's Kubernetes clients re-send a request once when its connection closed before any answer (what Go's
// transport does for client-go), on a tiny local HTTP server that closes connections as told.
import * as k8s from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveKubeConfig } from '../../src/activities/kube-config.js';
import { makeKubeApiClient, ResendOnceHttpLibrary } from '../../src/activities/kube-http.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** Answers GET /api/v1/namespaces/x, except that the requests whose numbers `cut` names find their connection destroyed unanswered. */
async function serve(cut: (n: number) => boolean, kc: k8s.KubeConfig = new k8s.KubeConfig()) {
  const seen = { requests: 0, connections: new Set<Socket>() };
  server = createServer((req, res) => {
    seen.connections.add(req.socket);
    if (cut(++seen.requests)) return req.socket.destroy();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, seen };
}

describe('kube requests re-sent once when the connection closed before any answer', () => {
  it('client-node alone fails such a request with socket hang up; ours re-sends it on a new connection and gets the answer', async () => {
    const { kc, seen } = await serve((n) => n <= 2);
    await expect(kc.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'x' })).rejects.toMatchObject({ code: 'ECONNRESET', message: expect.stringMatching(/socket hang up/) });
    const resent: string[] = [];
    const core = makeKubeApiClient(kc, k8s.CoreV1Api, new ResendOnceHttpLibrary(undefined, (r) => resent.push(r.getUrl())));
    expect((await core.readNamespace({ name: 'x' })).metadata?.name).toBe('x');
    expect(seen.requests).toBe(3);
    expect(resent).toHaveLength(1);
    // a connection each: client-node keeps none alive, so the re-send never meets a second stale one
    expect(seen.connections.size).toBe(3);
  });

  it('with connections kept alive (KeepAliveKubeConfig), a request cut on a kept connection is re-sent on a new one', async () => {
    const { kc, seen } = await serve((n) => n === 2, new KeepAliveKubeConfig());
    const resent: string[] = [];
    const core = makeKubeApiClient(kc, k8s.CoreV1Api, new ResendOnceHttpLibrary(undefined, (r) => resent.push(r.getUrl())));
    expect((await core.readNamespace({ name: 'x' })).metadata?.name).toBe('x');
    expect((await core.readNamespace({ name: 'x' })).metadata?.name).toBe('x');
    expect(seen.requests).toBe(3);
    expect(resent).toHaveLength(1);
    // the first two requests on one kept connection, the re-send on a second
    expect(seen.connections.size).toBe(2);
  });

  it('re-sends only once, and not an answered error', async () => {
    const { kc, seen } = await serve(() => true);
    const core = makeKubeApiClient(kc, k8s.CoreV1Api, new ResendOnceHttpLibrary(undefined, () => undefined));
    await expect(core.readNamespace({ name: 'x' })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen.requests).toBe(2);
    server!.removeAllListeners('request');
    server!.on('request', (_req, res) => {
      seen.requests++;
      res.statusCode = 500;
      res.end('{}');
    });
    const before = seen.requests;
    await expect(core.readNamespace({ name: 'x' })).rejects.toMatchObject({ code: 500 });
    expect(seen.requests - before).toBe(1);
  });
});
