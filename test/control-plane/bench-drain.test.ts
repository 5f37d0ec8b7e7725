// The drain comparison of the bench (issue 14 #4) on the real control plane, at its tiny size, so that it
// cannot rot: our drainNode and the real `kubectl drain` each empty the same KWOK node under the same PDBs.
// Nothing here depends on a figure's value (timings are the bench's business).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { resultFileName, runBench } from '../../bench/run.js';
import { testbedFromEnv } from '../../testbeds/index.js';

describe.skipIf(testbedFromEnv() !== 'control-plane')('npm run bench -- --testbed control-plane, tiny', () => {
  it('drains one node by ours and by kubectl on the real API server, with the controllers\' replacement pace measured', { timeout: 300_000 }, async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'itinerant-bench-results-'));
    onTestFinished(() => rmSync(resultsDir, { recursive: true, force: true }));
    const [result] = await runBench({ size: 'tiny', testbed: 'control-plane', scenarios: ['drain-vs-kubectl'], resultsDir });

    expect(result).toMatchObject({ scenario: 'drain-vs-kubectl', testbed: 'control-plane' });
    expect(readdirSync(resultsDir)).toEqual([resultFileName(result!)]);
    expect(resultFileName(result!)).toMatch(/-drain-vs-kubectl-control-plane\.json$/);
    const figures = result!.figures as { oursMs: number[]; kubectlMs: number[]; pacedEvictionMs: number; parallelEvictionMs: number; limitMs: number };
    expect(figures).toMatchObject({ oursMs: [expect.any(Number)], kubectlMs: [expect.any(Number)], pacedEvictionMs: expect.any(Number), parallelEvictionMs: expect.any(Number) });
    // the limit is built from what was measured: one step of the PDB's pace (evictions accepted back to back) or the
    // parallel pods' acceptance by the API server, whichever is longer, then the last pod's 200 ms termination
    expect(figures.limitMs).toBe(Math.max(figures.pacedEvictionMs, figures.parallelEvictionMs) + 200);
  });

  it('refuses a scenario that runs on the sim only, before starting anything', async () => {
    await expect(runBench({ size: 'tiny', testbed: 'control-plane', scenarios: ['concurrency'], resultsDir: tmpdir() })).rejects.toThrow(
      /no scenario "concurrency" on the control-plane test bed; its scenarios are drain-vs-kubectl/,
    );
  });
});
