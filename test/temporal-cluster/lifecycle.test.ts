// The cluster reports a service that cannot start with the tail of its log, promptly, and leaves nothing running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTemporalCluster } from '../../testbeds/temporal-cluster/cluster.js';
import { temporalFromEnv } from '../helpers/stack.js';

describe.skipIf(temporalFromEnv() !== 'cluster')('Temporal cluster lifecycle', () => {
  it('a service that cannot start is reported with the tail of its log', async () => {
    const home = mkdtempSync(join(tmpdir(), 'itinerant-tc-fail-'));
    const started = Date.now();
    try {
      const err = await startTemporalCluster({ home, extraEnv: { NUM_HISTORY_SHARDS: 'many' }, startTimeoutMs: 60_000 }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/the Temporal cluster did not start: the \w+ service exited/);
      expect(err?.message).toMatch(/--- history ---[\s\S]*many/);
      expect(Date.now() - started).toBeLessThan(45_000);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
