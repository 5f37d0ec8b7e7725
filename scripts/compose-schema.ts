/**
 * The official Compose Specification JSON schema, taken from the Go module
 * that docker compose itself validates with: github.com/compose-spec/compose-go/v2
 * (file schema/compose-spec.json), fetched through the Go module proxy with
 * `go mod download` and cached under <itinerant home>/cache/compose-spec/.
 *
 *   npx tsx scripts/compose-schema.ts      # fetch (no-op when cached)
 *
 * test/global-setup.ts fetches it before every test run; test/infra/compose.test.ts reads COMPOSE_SCHEMA_PATH.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir } from '../src/config/home.js';

export const COMPOSE_GO_MODULE = 'github.com/compose-spec/compose-go/v2';
export const COMPOSE_GO_VERSION = 'v2.16.2';
export const COMPOSE_SCHEMA_PATH = cacheDir('compose-spec', `compose-spec-${COMPOSE_GO_VERSION}.json`);
export const COMPOSE_SCHEMA_FETCH_COMMAND = 'npx tsx scripts/compose-schema.ts';

function findGo(): string {
  const candidates = ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go'];
  for (const c of candidates) {
    const r = spawnSync(c, ['version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  throw new Error(
    `cannot fetch the Compose schema: the \`go\` command was not found (PATH, /usr/local/go/bin). ` +
      `Install Go (Debian/Ubuntu: \`apt-get install -y golang-go\`); the schema ships in the Go module ${COMPOSE_GO_MODULE}.`,
  );
}

export function fetchComposeSchema(log: (line: string) => void = (l) => process.stderr.write(`[compose-schema] ${l}\n`)): string {
  if (existsSync(COMPOSE_SCHEMA_PATH)) return COMPOSE_SCHEMA_PATH;
  const go = findGo();
  const ref = `${COMPOSE_GO_MODULE}@${COMPOSE_GO_VERSION}`;
  log(`fetching ${ref} with \`${go} mod download -json\``);
  const started = Date.now();
  const r = spawnSync(go, ['mod', 'download', '-json', ref], {
    encoding: 'utf8',
    cwd: tmpdir(), // outside any go.mod
    env: { ...process.env, GO111MODULE: 'on', GOFLAGS: '-modcacherw' },
    timeout: 5 * 60_000,
  });
  if (r.status !== 0) {
    throw new Error(`\`go mod download ${ref}\` failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  }
  const info = JSON.parse(r.stdout) as { Dir?: string; Sum?: string; Error?: string };
  if (info.Error !== undefined || info.Dir === undefined) throw new Error(`go mod download ${ref}: ${info.Error ?? 'no Dir in output'}`);
  const src = join(info.Dir, 'schema', 'compose-spec.json');
  JSON.parse(readFileSync(src, 'utf8')); // must be JSON
  const dir = cacheDir('compose-spec');
  mkdirSync(dir, { recursive: true });
  const tmp = `${COMPOSE_SCHEMA_PATH}.tmp-${process.pid}`;
  copyFileSync(src, tmp);
  renameSync(tmp, COMPOSE_SCHEMA_PATH);
  writeFileSync(
    join(dir, `compose-spec-${COMPOSE_GO_VERSION}.source.json`),
    JSON.stringify({ module: COMPOSE_GO_MODULE, version: COMPOSE_GO_VERSION, sum: info.Sum, file: 'schema/compose-spec.json' }, null, 2) + '\n',
  );
  log(`cached ${COMPOSE_SCHEMA_PATH} (${ref}, ${info.Sum ?? 'no sum'}) in ${Date.now() - started}ms`);
  return COMPOSE_SCHEMA_PATH;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  try {
    process.stdout.write(`${fetchComposeSchema()}\n`);
  } catch (err) {
    process.stderr.write(`[compose-schema] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
