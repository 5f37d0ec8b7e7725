// OCI calls under faults must settle (succeed or fail) well inside the activity's startToClose timeout:
// a call that hangs stalls a repave for a whole timeout per occurrence. Injected 5xx/429 answers are
// retried briefly by the SDK; requests that are never answered are cut off by the per-attempt timeout
// (src/activities/clients.ts). The unanswered requests come from a small proxy in front of the sim.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientRegistry, OCI_MAX_ATTEMPTS, OCI_REQUEST_TIMEOUT_MS } from '../../src/activities/clients.js';
import { ociActivities } from '../../src/activities/oci.js';
import type { FleetConfig } from '../../src/core/config.js';
import { API_CALL } from '../../src/workflows/activity-options.js';
import { launchRequestFor, runActivity, startFixture, type Fixture } from './helpers.js';

/** Generous: a settled call takes at most a few seconds here; a hung one would take minutes. */
const SETTLE_BOUND_MS = 15_000;

let fx: Fixture;
let proxy: StallingProxy;

beforeAll(async () => {
  // The OCI SDK console.warns every failed attempt: keep the output readable.
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  fx = await startFixture();
  proxy = await startStallingProxy(fx.sim.ociUrl);
});

afterEach(() => {
  Object.assign(fx.sim.oci.faults, { errorRate: 0, errorStatus: 500 });
  proxy.decide = () => 'forward';
});

afterAll(async () => {
  await proxy?.close();
  await fx?.stop();
  vi.restoreAllMocks();
});

type Verdict = 'forward' | 'blackhole' | 'swallow';

interface StallingProxy {
  url: string;
  /** Per request: forward it, never answer it (`blackhole`: OCI never sees it), or forward it and drop the answer (`swallow`). */
  decide: (req: http.IncomingMessage, n: number) => Verdict;
  seen: { method: string; path: string; verdict: Verdict }[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of the sim's OCI endpoint (the signed Host header passes through unchanged). */
async function startStallingProxy(target: string): Promise<StallingProxy> {
  const t = new URL(target);
  const p: StallingProxy = { url: '', decide: () => 'forward', seen: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const verdict = p.decide(req, p.seen.length + 1);
    p.seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', verdict });
    if (verdict === 'blackhole') {
      req.resume(); // read the request, never answer
      return;
    }
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      if (verdict === 'swallow') return void r.resume();
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  p.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return p;
}

/** The OCI activities with Compute behind the proxy and a short per-attempt timeout (the default is 10 s). */
function activitiesBehindProxy(requestTimeoutMs: number) {
  const fleet: FleetConfig = {
    clusters: fx.fleet.clusters.map((c) => ({ ...c, oci: { ...c.oci, endpoints: { ...c.oci.endpoints, compute: proxy.url } } })),
  };
  return ociActivities({ clients: new ClientRegistry(fleet, { requestTimeoutMs }) });
}

const launchRequest = (displayName: string, retryToken: string) => launchRequestFor(fx, displayName, retryToken);

/** Runs the call; returns how it settled and how long it took. Never waits past twice the bound. */
async function settle<R>(call: () => Promise<R>): Promise<{ ms: number; ok: boolean; result?: R; error?: unknown }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${2 * SETTLE_BOUND_MS} ms`)), 2 * SETTLE_BOUND_MS);
  });
  try {
    const result = await Promise.race([call(), hung]);
    return { ms: Date.now() - t0, ok: true, result };
  } catch (error) {
    return { ms: Date.now() - t0, ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

describe('OCI calls under faults settle instead of hanging', () => {
  it('the default client configuration bounds one SDK call well inside the activity startToClose', () => {
    const delaysMs = 2_000 + 3_000; // the SDK's two retry delays, at most
    expect(OCI_MAX_ATTEMPTS * OCI_REQUEST_TIMEOUT_MS + delaysMs).toBeLessThan(msToNumber(API_CALL.startToCloseTimeout!));
  });

  it('with injected 500s (and 429s), resolveImage, describeInstance and launchReplacement each succeed or fail retryably within the bound', async () => {
    const acts = fx.acts;
    const seededId = fx.sim.oci.fleet.summary().find((i) => i.displayName === fx.sim.seeded!.nodes.batch![0])!.id;
    const calls: Record<string, (n: string) => Promise<unknown>> = {
      resolveImage: () => runActivity(acts.resolveImage, [{ cluster: fx.cluster, compartmentId: fx.sim.compartmentId, image: { channel: 'prod' } }]),
      describeInstance: () => runActivity(acts.describeInstance, [{ cluster: fx.cluster, instanceId: seededId }]),
      launchReplacement: (n) => runActivity(acts.launchReplacement, [launchRequest(`faults-${n}`, `faults-token-${n}`)]),
    };
    const before = fx.sim.oci.counters();
    const outcomes: { what: string; ms: number; ok: boolean; error?: unknown }[] = [];
    // Calls run side by side (as a worker runs activities): each SDK call takes a few seconds at most.
    const round = async (status: 500 | 429, perOperation: number) => {
      Object.assign(fx.sim.oci.faults, { errorRate: 0.4, errorStatus: status });
      const runs = Object.entries(calls).flatMap(([what, call]) =>
        Array.from({ length: perOperation }, async (_, i) => outcomes.push({ what: `${what} (${status})`, ...(await settle(() => call(`${status}-${i}`))) })),
      );
      await Promise.all(runs);
    };
    await round(500, 3);
    await round(429, 1);

    expect(fx.sim.oci.counters().injectedErrors - before.injectedErrors).toBeGreaterThan(0);
    expect(outcomes).toHaveLength(12);
    for (const o of outcomes) {
      expect(o.ms, `${o.what} took ${o.ms} ms`).toBeLessThan(SETTLE_BOUND_MS);
      if (!o.ok) {
        // Only the injected faults fail a call here, and Temporal may retry those.
        expect(o.error instanceof ApplicationFailure && o.error.nonRetryable, `${o.what}: ${String(o.error)}`).toBe(false);
        expect([500, 429]).toContain((o.error as { statusCode?: number }).statusCode);
      }
    }
  });

  it('a request OCI never answers is cut off by the per-attempt timeout and retried by the SDK', async () => {
    const acts = activitiesBehindProxy(300);
    // resolveImage: the first ListImages request goes unanswered; its retry is answered.
    proxy.seen.length = 0;
    proxy.decide = (_req, n) => (n === 1 ? 'blackhole' : 'forward');
    const resolved = await settle(() => runActivity(acts.resolveImage, [{ cluster: fx.cluster, compartmentId: fx.sim.compartmentId, image: { channel: 'prod' } }]));
    expect(resolved.ok, String(resolved.error)).toBe(true);
    expect(resolved.result?.result.imageId).toBe(fx.sim.seeded!.images.prodNew);
    expect(resolved.ms).toBeLessThan(SETTLE_BOUND_MS);
    expect(proxy.seen.map((s) => s.verdict)).toEqual(['blackhole', 'forward']);
  });

  it('when no attempt is ever answered the call fails retryably (OciNoAnswer) after the SDK attempts, within the bound', async () => {
    const acts = activitiesBehindProxy(300);
    const seededId = fx.sim.oci.fleet.summary()[0]!.id;
    proxy.seen.length = 0;
    proxy.decide = () => 'blackhole';
    const o = await settle(() => runActivity(acts.describeInstance, [{ cluster: fx.cluster, instanceId: seededId }]));
    expect(o.ok).toBe(false);
    expect(o.ms).toBeLessThan(SETTLE_BOUND_MS);
    expect(o.error).toBeInstanceOf(ApplicationFailure);
    const f = o.error as ApplicationFailure;
    expect(f.type).toBe('OciNoAnswer');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toMatch(/get instance .*no answer from OCI \(GET .*\/instances\//);
    expect(proxy.seen).toHaveLength(OCI_MAX_ATTEMPTS);
  });

  it('a launch whose answer is lost times out, and the SDK retry with the same token gets the one instance OCI created', async () => {
    const acts = activitiesBehindProxy(300);
    proxy.seen.length = 0;
    let launches = 0;
    // The first LaunchInstance reaches OCI (the instance is created) but its answer never comes back.
    proxy.decide = (req) => (req.method === 'POST' && ++launches === 1 ? 'swallow' : 'forward');
    const before = fx.sim.oci.counters();
    const req = launchRequest('faults-lost-answer', 'faults-lost-answer-token');
    const o = await settle(() => runActivity(acts.launchReplacement, [req]));
    expect(o.ok, String(o.error)).toBe(true);
    expect(o.ms).toBeLessThan(SETTLE_BOUND_MS);
    const after = fx.sim.oci.counters();
    expect(after.launches - before.launches).toBe(1);
    expect(after.launchReplays - before.launchReplays).toBe(1);
    const created = fx.sim.oci.fleet.summary().filter((i) => i.displayName === 'faults-lost-answer');
    expect(created.map((i) => i.id)).toEqual([o.result!.result.instanceId]);
    expect(proxy.seen.filter((s) => s.method === 'POST').map((s) => s.verdict)).toEqual(['swallow', 'forward']);
  });
});
