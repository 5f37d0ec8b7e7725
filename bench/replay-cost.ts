// Micro-measure: replay repaveNode-completed.json N times in one process, CPU per run (main + workflow thread: process.cpuUsage covers all threads).
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { workflowBundle } from '../test/helpers/bundle.js';
import { historyFromJSON } from '../test/replay/history-json.js';
// The replay has no sinks: its sink calls log errors, dropped here.
Runtime.install({ logger: new DefaultLogger('ERROR', () => {}) });
const N = Number(process.env.N ?? 200);
const file = process.env.HISTORY ?? 'repaveNode-completed.json';
const history = historyFromJSON(JSON.parse(readFileSync(new URL(`../test/replay/histories/${file}`, import.meta.url), 'utf8')));
const bundle = await workflowBundle();
console.log('bundle MB', (bundle.code.length / 1e6).toFixed(2));
async function run(n: number) {
  const histories = Array.from({ length: n }, (_, i) => ({ workflowId: `r${i}`, history }));
  let errors = 0;
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'bench' }, histories)) if (r.error) { errors++; if (errors < 3) console.error(r.error); }
  return errors;
}
await run(5); // warm-up
const c0 = process.cpuUsage(); const t0 = performance.now();
const errors = await run(N);
const c = process.cpuUsage(c0); const wall = performance.now() - t0;
console.log(JSON.stringify({ file, N, errors, cpuMsPerRun: +((c.user + c.system) / 1000 / N).toFixed(1), wallMsPerRun: +(wall / N).toFixed(1) }));
