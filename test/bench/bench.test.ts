// The bench at its tiny size, so that it cannot rot: every scenario runs once against a real dev server and the
// sim, and writes its figures. Nothing here depends on a figure's value (timings are the bench's business).
import { mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runBench, SCENARIOS } from '../../bench/run.js';

describe('npm run bench at its tiny size', () => {
  // every scenario starts its own sim process: about a minute in all on this shared machine
  it('runs every scenario once and writes one result per scenario, with the machine it ran on', { timeout: 240_000 }, async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'itinerant-bench-results-'));
    onTestFinished(() => rmSync(resultsDir, { recursive: true, force: true }));
    const results = await runBench({ size: 'tiny', resultsDir });

    expect(results.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    expect(readdirSync(resultsDir).sort()).toEqual(results.map((r) => `${r.startedAt.slice(0, 10)}-${r.scenario}.json`).sort());
    for (const r of results) {
      expect(JSON.parse(readFileSync(join(resultsDir, `${r.startedAt.slice(0, 10)}-${r.scenario}.json`), 'utf8'))).toEqual(r);
      expect(r.testbed).toBe('sim');
      expect(r.machine.cores).toBeGreaterThan(0);
      expect(r.machine.temporalSdk).toMatch(/^\d+\.\d+\.\d+$/);
      expect(r.figures.goal).toEqual(expect.any(String));
    }
    const [fleet, floor, cost, drain, concurrency, simScale] = results.map((r) => r.figures as Record<string, unknown>);
    // every node of the fleet replaced through its group lane (2 waves of 770 ms at the bound); the lane history read, its continue-as-new seen
    expect(fleet).toMatchObject({ replaced: 6, boundMs: 1540, makespanOverBound: expect.any(Number), workerCpuMsPerNode: expect.any(Number) });
    const lanes = fleet!.lanes as { eventsPerIdleSweep: number; continueAsNew: { runs: number; continuedRunHistoryLengths: number[] } };
    expect(lanes.eventsPerIdleSweep).toBeGreaterThan(0);
    expect(lanes.continueAsNew.runs).toBeGreaterThan(1);
    expect(lanes.continueAsNew.continuedRunHistoryLengths.length).toBe(lanes.continueAsNew.runs - 1);
    expect((fleet!.simLoad as { kubeRequests: { count: number } }).kubeRequests.count).toBeGreaterThan(0);
    // one repave, its pods drained, its history read
    expect(floor).toMatchObject({ evictedPods: [expect.any(Number)], events: [expect.any(Number)], floorMs: 770 });
    expect((floor!.evictedPods as number[])[0]).toBeGreaterThan(0);
    // every seeded node repaved, each run's history read
    expect(cost).toMatchObject({ runs: 4, eventsPerRun: expect.any(Number), workerCpuMsPerNode: expect.any(Number) });
    // the same node drained by ours and by kubectl, each once
    expect(drain).toMatchObject({ oursMs: [expect.any(Number)], kubectlMs: [expect.any(Number)], pacedEvictionMs: expect.any(Number), parallelEvictionMs: expect.any(Number) });
    // one step of the PDB's pace or the parallel pods' acceptance, whichever is longer, then the last pod's termination
    expect(drain!.limitMs).toBe(Math.max(drain!.pacedEvictionMs as number, drain!.parallelEvictionMs as number) + 200);
    expect(concurrency).toMatchObject({ runs: 6, workflowTaskScheduleToStartMs: { p50: expect.any(Number), p99: expect.any(Number) } });
    // the sim at 2 × 5 nodes: every pod listed whole and in pages, every change delivered to every watcher
    expect(simScale).toMatchObject({ nodes: 11, benchPods: 30, lists: { pods: { items: simScale!.pods }, podsPaged: { items: simScale!.pods }, podsOnNode: { ms: expect.any(Number) } }, watchFanOut: { events: 50 } });
  });
});
