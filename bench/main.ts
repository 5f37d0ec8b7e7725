// npm run bench [-- [--size tiny|full] [--testbed sim|control-plane] [scenario ...]]: every scenario (or those named), one JSON line each,
// results under bench/results/. Not a test: nothing here passes or fails on a figure.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { testbedFromEnv } from '../testbeds/index.js';
import { runBench } from './run.js';

const { values, positionals } = parseArgs({ options: { size: { type: 'string', default: 'full' }, testbed: { type: 'string' } }, allowPositionals: true });
if (values.size !== 'tiny' && values.size !== 'full') {
  console.error(`--size: tiny or full, not ${JSON.stringify(values.size)}`);
  process.exit(2);
}
// the real control plane's binaries are built by `npm run control-plane:build` (scenarios that support it: drain-vs-kubectl)
const testbed = values.testbed ?? testbedFromEnv();
if (testbed !== 'sim' && testbed !== 'control-plane') {
  console.error(`--testbed: sim or control-plane, not ${JSON.stringify(testbed)}`);
  process.exit(2);
}
Runtime.install({ logger: new DefaultLogger('WARN') });
await runBench({
  size: values.size,
  testbed,
  scenarios: positionals,
  // tiny runs prove the bench works; only full-size figures belong in bench/results
  resultsDir: values.size === 'full' ? fileURLToPath(new URL('./results/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'itinerant-bench-results-')),
  log: (line) => process.stderr.write(`[bench] ${line}\n`),
});
