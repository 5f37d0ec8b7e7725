// The bench at its tiny size, so that it cannot rot: every scenario runs once against a real dev server and the
// sim, and writes its figures. Nothing here depends on a figure's value (timings are the bench's business).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench, SCENARIOS } from '../../bench/run.js';

describe('npm run bench at its tiny size', () => {
  it('runs every scenario once and writes one result per scenario, with the machine it ran on', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'itinerant-bench-results-'));
    const results = await runBench({ size: 'tiny', resultsDir });

    expect(results.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    expect(readdirSync(resultsDir).sort()).toEqual(results.map((r) => `${r.startedAt.slice(0, 10)}-${r.scenario}.json`).sort());
    for (const r of results) {
      expect(JSON.parse(readFileSync(join(resultsDir, `${r.startedAt.slice(0, 10)}-${r.scenario}.json`), 'utf8'))).toEqual(r);
      expect(r.machine.cores).toBeGreaterThan(0);
      expect(r.machine.temporalSdk).toMatch(/^\d+\.\d+\.\d+$/);
      expect(r.figures.goal).toEqual(expect.any(String));
    }
    const [floor, cost, concurrency] = results.map((r) => r.figures as Record<string, unknown>);
    // one repave, its pods drained, its history read
    expect(floor).toMatchObject({ evictedPods: [expect.any(Number)], events: [expect.any(Number)], floorMs: 770 });
    expect((floor!.evictedPods as number[])[0]).toBeGreaterThan(0);
    // every seeded node repaved, each run's history read
    expect(cost).toMatchObject({ runs: 4, eventsPerRun: expect.any(Number), workerCpuMsPerNode: expect.any(Number) });
    expect(concurrency).toMatchObject({ runs: 6, workflowTaskScheduleToStartMs: { p50: expect.any(Number), p99: expect.any(Number) } });
  });
});
