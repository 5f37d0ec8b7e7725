// npm run chaos: every runbook, N runs each, under worker SIGKILLs, Temporal dev-server restarts and API
// faults, with the invariants watched throughout (README "Chaos suite"). Prints one summary line; exits 1 on
// any violation or when a run could not be carried out.
import { Command, InvalidArgumentError, Option } from 'commander';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { prebuiltBundle, startBed } from './bed.js';
import { disrupt, type ChaosCounts } from './disruptor.js';
import { faultsInjected, injectFaults, type FaultSettings } from './faults.js';
import { outcomeViolations, type Violation } from './invariants.js';
import { newSeed, randomFor } from './random.js';
import { decommission } from './scenarios/decommission.js';
import { lane } from './scenarios/lane.js';
import { nodeGroup } from './scenarios/node-group.js';
import { repave } from './scenarios/repave.js';
import type { Scenario } from './scenarios/scenario.js';
import { Watcher } from './watcher.js';

const SCENARIOS: Scenario[] = [repave, lane, nodeGroup, decommission];

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  return n;
};
const rate = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number in 0..1');
  return n;
};
const range = (v: string): [number, number] => {
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (!m || Number(m[1]) > Number(m[2])) throw new InvalidArgumentError('expected <min>-<max> in ms, e.g. 1000-6000');
  return [Number(m[1]), Number(m[2])];
};

const runbooks = (v: string) => {
  const names = v.split(',');
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.runbook === n));
  if (unknown.length) throw new InvalidArgumentError(`no runbook ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.runbook).join(', ')}`);
  return names;
};

const options = new Command('chaos')
  .description('every runbook under worker kills, Temporal restarts and API faults, with its invariants watched')
  .addOption(new Option('--runs <n>', 'runs per runbook').env('ITINERANT_CHAOS_RUNS').argParser(int(1)).default(1))
  .addOption(new Option('--seed <n>', 'replay the schedule of an earlier suite').env('ITINERANT_CHAOS_SEED').argParser(int(1)))
  .addOption(new Option('--only <runbooks>', `comma-separated subset of ${SCENARIOS.map((s) => s.runbook).join(', ')}`).argParser(runbooks))
  .addOption(new Option('--min-kills <n>', 'then more runs, one runbook after the other, until the worker was killed this often (at most one more round)').argParser(int(0)).default(20))
  .addOption(new Option('--kill-after <ms>', 'a ready worker is SIGKILLed after a uniform delay in this range').argParser(range).default([1000, 6000] as [number, number], '1000-6000'))
  .addOption(new Option('--error-rate <r>', 'fraction of OCI and Kubernetes requests failing with 500').argParser(rate).default(0.1))
  .addOption(new Option('--garbled-read-rate <r>', 'fraction of nodetool status/netstats outputs cut short or mangled').argParser(rate).default(0.1))
  .addOption(new Option('--latency <ms>', 'added latency per OCI and Kubernetes request').argParser(range).default([20, 100] as [number, number], '20-100'))
  .parse()
  .opts<{ runs: number; minKills: number; seed?: number; only?: string[]; killAfter: [number, number]; errorRate: number; garbledReadRate: number; latency: [number, number] }>();

const seed = options.seed ?? newSeed();
const faults: FaultSettings = { errorRate: options.errorRate, garbledReadRate: options.garbledReadRate, latencyMs: options.latency[0], latencyJitterMs: options.latency[1] - options.latency[0] };
const scenarios = SCENARIOS.filter((s) => !options.only || options.only.includes(s.runbook));
const counts: ChaosCounts = { runs: 0, kills: 0, serverRestarts: 0, faults: 0, violations: 0 };
const log = (line: string) => console.log(line);
const errors: string[] = [];
const started = Date.now();

const bundlePath = await prebuiltBundle();
log(`chaos: seed ${seed} (replay with --seed ${seed}), ${options.runs} run(s) of ${scenarios.map((s) => s.runbook).join(', ')}; faults ${JSON.stringify(faults)}`);
for (const scenario of scenarios) {
  for (let i = 0; i < options.runs; i++) await runOnce(scenario, i);
}
for (let extra = 0; counts.kills < options.minKills && extra < scenarios.length; extra++) {
  log(`chaos: ${counts.kills} kills so far, fewer than ${options.minKills}: one more run`);
  await runOnce(scenarios[extra]!, options.runs);
}
const wall = Math.round((Date.now() - started) / 1000);
log(
  `chaos summary: runs=${counts.runs} kills=${counts.kills} server-restarts=${counts.serverRestarts} faults-injected=${counts.faults} violations=${counts.violations} errors=${errors.length} seed=${seed} wall=${Math.floor(wall / 60)}m${wall % 60}s`,
);
for (const e of errors) log(`chaos error: ${e}`);
rmSync(dirname(bundlePath), { recursive: true, force: true });
process.exit(counts.violations > 0 || errors.length > 0 ? 1 : 0);

async function runOnce(scenario: Scenario, index: number): Promise<void> {
  const name = `${scenario.runbook}#${index}`;
  const random = randomFor(seed, name);
  const runStarted = Date.now();
  const report = (v: Violation) => {
    counts.violations++;
    log(`VIOLATION ${v.invariant} in ${name} at ${v.at}: ${v.evidence}`);
  };
  log(`${name}: starting`);
  const bed = await startBed(scenario.fleet, bundlePath);
  let watcher: Watcher | undefined;
  try {
    await bed.worker.whenReady();
    await scenario.prepare(bed);
    injectFaults(bed.stack.sim, faults);
    const plan = scenario.plan(bed);
    watcher = new Watcher(bed.stack.sim, plan, report);
    watcher.start();
    let inFlight = true;
    const run = scenario.run(bed, random, Date.now() + scenario.deadlineMs).finally(() => (inFlight = false));
    const serverRestartAt = index % 2 === 0 ? 1 : undefined; // the first disruption of every other run: at least once per runbook
    const [outcome] = await Promise.all([run, disrupt(bed, random, { killAfterMs: options.killAfter, ...(serverRestartAt ? { serverRestartAt } : {}) }, () => inFlight, counts, log)]);
    watcher.finish(plan.sizes);
    for (const crash of bed.worker.crashes) errors.push(`${name}: ${crash}`);
    for (const v of outcomeViolations(new Date().toISOString(), name, outcome)) report(v);
    counts.runs++;
    log(`${name}: ${outcome.status} in ${((Date.now() - runStarted) / 1000).toFixed(0)} s (faults injected: ${faultsInjected(bed.stack.sim).detail}); logs in ${bed.stack.home}`);
  } catch (e) {
    errors.push(`${name}: ${(e as Error).stack ?? String(e)}`);
    log(`${name}: could not be carried out: ${(e as Error).message}`);
  } finally {
    watcher?.stop();
    counts.faults += faultsInjected(bed.stack.sim).total;
    await bed.stop();
  }
}
