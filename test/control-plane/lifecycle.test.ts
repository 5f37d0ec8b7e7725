// The control plane reports a component that fails to start with its log tail, and never hangs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControlPlaneStartError, startControlPlane } from '../../testbeds/control-plane/control-plane.js';
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
});
