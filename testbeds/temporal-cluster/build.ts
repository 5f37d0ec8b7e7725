/**
 * The real Temporal server for the `temporal-cluster` test bed, built on demand from the Go module proxy: temporal-server
 * (go.temporal.io/server/cmd/server) and temporal-sql-tool (cmd/tools/sql), at the version pinned in
 * testbeds/temporal-cluster/go/go.mod. Nothing of Temporal's is committed: only that module.
 *
 * Cached under `<itinerant home>/temporal-cluster/<version>-<hash>/bin/`, keyed by the pin and a hash of go.mod and go.sum,
 * so a bump rebuilds and an unchanged pin never does. Built `nice -n 19` with `-p ITINERANT_GO_BUILD_P` (default 2).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homePath, projectRoot } from '../../src/config/home.js';

export class TemporalServerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalServerUnavailable';
  }
}

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
}

export const buildModuleDir = (): string => join(projectRoot(), 'testbeds', 'temporal-cluster', 'go');

export function pinnedServerVersion(): string {
  const gomod = readFileSync(join(buildModuleDir(), 'go.mod'), 'utf8');
  const v = /^\s*go\.temporal\.io\/server\s+(v\S+)/m.exec(gomod)?.[1];
  if (!v) throw new Error('testbeds/temporal-cluster/go/go.mod does not require go.temporal.io/server');
  return v;
}

export function binariesDir(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) h.update(readFileSync(join(buildModuleDir(), f)));
  return homePath('temporal-cluster', `temporal-${pinnedServerVersion()}-${h.digest('hex').slice(0, 10)}`, 'bin');
}

/** The cached binaries, or undefined when not built yet. `ITINERANT_TEMPORAL_SERVER_BIN` points elsewhere. */
export function findTemporalServerBinaries(): TemporalServerBinaries | undefined {
  const dir = process.env.ITINERANT_TEMPORAL_SERVER_BIN?.trim() || binariesDir();
  const found = { server: join(dir, 'temporal-server'), sqlTool: join(dir, 'temporal-sql-tool') };
  return existsSync(found.server) && existsSync(found.sqlTool) ? found : undefined;
}

export interface BuildResult {
  binaries: TemporalServerBinaries;
  built: boolean;
  seconds: number;
  version: string;
}

export async function ensureTemporalServerBinaries(opts: { log?: (line: string) => void } = {}): Promise<BuildResult> {
  const log = opts.log ?? (() => {});
  const version = pinnedServerVersion();
  const found = findTemporalServerBinaries();
  if (found) return { binaries: found, built: false, seconds: 0, version };
  const gov = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (gov.error || gov.status !== 0) {
    throw new TemporalServerUnavailable('cannot build the Temporal server: the Go toolchain (`go`, >= 1.26.8) is not on PATH (on these machines: /usr/local/go/bin)');
  }
  const dir = binariesDir();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const p = String(Number(process.env.ITINERANT_GO_BUILD_P) || 2);
  const args = ['-n', '19', 'go', 'build', '-p', p, '-trimpath', '-ldflags=-s -w', '-o', tmp + '/', 'tool'];
  log(`building temporal-server ${version} with ${gov.stdout.trim()} into ${dir}`);
  log(`$ nice ${args.slice(2).join(' ')}   (in testbeds/temporal-cluster/go; a cold build takes minutes on 2 cores)`);
  const started = Date.now();
  const tail: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('nice', args, { cwd: buildModuleDir(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOFLAGS: [process.env.GOFLAGS ?? '', '-mod=readonly'].join(' ').trim() } });
    const onData = (b: Buffer) => {
      for (const line of b.toString().split('\n').filter((l) => l.trim())) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new TemporalServerUnavailable(`building the Temporal server failed (go build exited ${code} after ${seconds}s):\n${tail.join('\n')}`);
  }
  // `go build tool` names the binaries after their packages' directories: cmd/server and cmd/tools/sql.
  renameSync(join(tmp, 'server'), join(tmp, 'temporal-server'));
  renameSync(join(tmp, 'sql'), join(tmp, 'temporal-sql-tool'));
  writeFileSync(join(tmp, 'build.json'), JSON.stringify({ version, go: gov.stdout.trim(), seconds, builtAt: new Date().toISOString() }, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(tmp, dir);
  const binaries = findTemporalServerBinaries();
  if (!binaries) throw new TemporalServerUnavailable(`binaries missing from ${dir} after the build`);
  return { binaries, built: true, seconds, version };
}
