// Runs scenarios one after another on one Temporal dev server; each result is one JSON line, also written to
// <resultsDir>/<date>-<scenario>.json with the machine and the versions it was measured with.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Testbed } from '../testbeds/index.js';
import { startDevServer } from '../testbeds/temporal/temporal-cli.js';
import { workflowBundle } from '../test/helpers/bundle.js';
import { machine } from './measure.js';
import type { Scenario, Size } from './scenario.js';
import { concurrency } from './scenarios/concurrency.js';
import { drainVsKubectl } from './scenarios/drain-vs-kubectl.js';
import { fleetMakespan } from './scenarios/fleet-makespan.js';
import { orchestrationCost } from './scenarios/orchestration-cost.js';
import { repaveFloor } from './scenarios/repave-floor.js';
import { simScale } from './scenarios/sim-scale.js';

export const SCENARIOS: Scenario[] = [fleetMakespan, repaveFloor, orchestrationCost, drainVsKubectl, concurrency, simScale];

export interface BenchResult {
  scenario: string;
  size: Size;
  testbed: Testbed;
  startedAt: string;
  seconds: number;
  figures: Record<string, unknown>;
  machine: ReturnType<typeof machine>;
}

export async function runBench(opts: { size: Size; testbed?: Testbed; scenarios?: string[]; resultsDir: string; log?: (line: string) => void }): Promise<BenchResult[]> {
  const log = opts.log ?? (() => {});
  const testbed = opts.testbed ?? 'sim';
  const onBed = SCENARIOS.filter((s) => (s.testbeds ?? ['sim']).includes(testbed));
  const chosen = opts.scenarios?.length ? opts.scenarios.map((n) => onBed.find((s) => s.name === n) ?? unknown(n, testbed, onBed)) : onBed;
  void workflowBundle(); // bundling takes seconds: meanwhile the dev server starts
  const serverLog = join(tmpdir(), `itinerant-bench-dev-server-${process.pid}.log`);
  const server = await startDevServer({ port: 0, ui: false, logFile: serverLog });
  const results: BenchResult[] = [];
  let finished = false;
  try {
    mkdirSync(opts.resultsDir, { recursive: true });
    for (const s of chosen) {
      const startedAt = new Date();
      log(`${s.name} (${opts.size}, ${testbed}) ...`);
      const figures = await s.run({ server, size: opts.size, testbed, log });
      const result: BenchResult = { scenario: s.name, size: opts.size, testbed, startedAt: startedAt.toISOString(), seconds: (Date.now() - startedAt.getTime()) / 1000, figures, machine: machine() };
      writeFileSync(join(opts.resultsDir, resultFileName(result)), JSON.stringify(result, null, 2) + '\n');
      results.push(result);
      console.log(JSON.stringify(result));
    }
    finished = true;
  } finally {
    await server.stop();
    // the dev server's log is kept for reading only when a scenario failed
    if (finished) rmSync(serverLog, { force: true });
    else log(`the dev server's log is kept: ${serverLog}`);
  }
  return results;
}

/** `<date>-<scenario>.json`, `<date>-<scenario>-control-plane.json` for the real control plane. */
export const resultFileName = (r: Pick<BenchResult, 'startedAt' | 'scenario' | 'testbed'>) => `${r.startedAt.slice(0, 10)}-${r.scenario}${r.testbed === 'sim' ? '' : `-${r.testbed}`}.json`;

function unknown(name: string, testbed: Testbed, onBed: Scenario[]): never {
  throw new Error(`no scenario ${JSON.stringify(name)} on the ${testbed} test bed; its scenarios are ${onBed.map((s) => s.name).join(', ')}`);
}
