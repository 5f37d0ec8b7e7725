/**
 * A throwaway PostgreSQL 15 server for the temporal-cluster test bed: initdb into a fresh directory, served on 127.0.0.1
 * at a free port with password authentication (scram-sha-256) for TCP. PostgreSQL refuses to run as root: as root, it
 * runs as the `postgres` system user (runuser), in a directory that user owns. Durability knobs are off (fsync,
 * synchronous_commit): the test bed restarts Temporal's services, never the database, and the cores are shared.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { TemporalServerUnavailable } from './build.js';

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The last lines of its server log. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** pg_ctl and initdb: $ITINERANT_PG_BIN, else the newest /usr/lib/postgresql/<n>/bin. */
export function findPostgresBin(): string {
  const fromEnv = process.env.ITINERANT_PG_BIN?.trim();
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions[0]) throw new TemporalServerUnavailable('the temporal-cluster test bed needs PostgreSQL (initdb, pg_ctl): apt-get install postgresql, or set ITINERANT_PG_BIN');
  return join(root, versions[0], 'bin');
}

export function startPostgres(opts: { port: number; user: string; password: string }): Postgres {
  const bin = findPostgresBin();
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'itinerant-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const pwFile = join(dir, 'pw');
  mkdirSync(data, { mode: 0o700 });
  writeFileSync(pwFile, opts.password, { mode: 0o600 });
  writeFileSync(logFile, '');
  if (asRoot) {
    const pg = postgresUser();
    for (const p of [dir, data, pwFile, logFile]) chownSync(p, pg.uid, pg.gid);
  }
  const run = (cmd: string, args: string[]) => {
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' }) : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new Error(`${cmd} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}${r.stdout}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : ''}`);
    }
  };
  run('initdb', ['-D', data, '-U', opts.user, `--pwfile=${pwFile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--no-sync']);
  rmSync(pwFile);
  const serverOpts = [`-c listen_addresses=127.0.0.1`, `-p ${opts.port}`, `-c unix_socket_directories=${dir}`, '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200'];
  run('pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60', '-o', serverOpts.join(' ')]);
  let stopped = false;
  return {
    host: '127.0.0.1',
    port: opts.port,
    user: opts.user,
    password: opts.password,
    logTail: (lines = 40) => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n') : '(removed)'),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new TemporalServerUnavailable('running as root, the test bed runs PostgreSQL as the postgres user, and there is none (apt-get install postgresql creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
