// The control plane reports a component that fails to start with its log tail, and never hangs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControlPlaneStartError, startControlPlane, type ControlPlane } from '../../testbeds/control-plane/control-plane.js';
import { testbedFromEnv } from '../../testbeds/index.js';

describe.skipIf(testbedFromEnv() !== 'control-plane')('control plane lifecycle', () => {
  it('a component that cannot start is reported with the tail of its log, promptly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itinerant-cp-fail-'));
    const started = Date.now();
    try {
      const err = await startControlPlane({ dir, extraArgs: { 'kube-apiserver': ['--no-such-flag=1'] }, startTimeoutMs: 60_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ControlPlaneStartError);
      expect((err as ControlPlaneStartError).component).toBe('kube-apiserver');
      expect((err as ControlPlaneStartError).message).toMatch(/kube-apiserver exited/);
      expect((err as ControlPlaneStartError).logTail).toMatch(/unknown flag: --no-such-flag/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts, serves the pinned version over TLS, and stops every process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itinerant-cp-'));
    try {
      const cp = await startControlPlane({ dir });
      const v = await cp.request('GET', '/version');
      expect(v.body.gitVersion).toBe(cp.versions.kubernetes);
      expect(cp.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await cp.stop();
      await expect(cp.request('GET', '/version')).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two API servers behind the front: restarted one at a time while a client keeps asking, none of its requests fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itinerant-cp-pair-'));
    let cp: ControlPlane | undefined;
    try {
      cp = await startControlPlane({ dir, apiServers: 2 });
      const front = cp.front!;
      // a connection per request, as the worker's Kubernetes client opens them, on the worker's listener
      const ask = () =>
        new Promise<number | string>((resolve) => {
          const u = new URL(front.url('worker'));
          const req = request({ host: u.hostname, port: u.port, path: '/api/v1/namespaces/default', agent: false, ...cp!.adminTls, timeout: 15_000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
          req.end();
        });
      let asking = true;
      const answers: (number | string)[] = [];
      const client = (async () => {
        while (asking) answers.push(await ask());
      })();
      await cp.restartApiServer({ clientCaFile: cp.pki.ca.cert, serviceAccountKeyFiles: [cp.pki.saPub], serviceAccountSigningKeyFile: cp.pki.saKey });
      asking = false;
      await client;
      expect(answers.filter((a) => a !== 200)).toEqual([]);
      expect(answers.length).toBeGreaterThan(20);
      const seen = front.stats('worker');
      expect(seen.failures).toEqual([]);
      expect(Object.keys(seen.perBackend).sort()).toEqual(['kube-apiserver-0', 'kube-apiserver-1']);
      // each ended on its own after SIGTERM (its watches within their grace period), none was killed
      const stops = cp.apiServerStops();
      console.log(`api servers stopped in ${stops.map((s) => `${s.name} ${s.exitMs} ms`).join(', ')}; ${answers.length} requests`);
      expect(stops.map((s) => [s.name, s.killed])).toEqual([['kube-apiserver-0', false], ['kube-apiserver-1', false]]);
    } finally {
      await cp?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
