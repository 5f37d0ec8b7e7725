/**
 * The `temporal-cluster` test bed: the real Temporal server (testbeds/temporal-cluster/build.ts) in production topology,
 * each of its four services (frontend, history, matching, worker) its own process, on PostgreSQL for persistence and
 * visibility (schema applied by the server's own temporal-sql-tool), NUM_HISTORY_SHARDS shards, mTLS everywhere. Its
 * settings are deploy/temporal/temporal.env, the file docker-compose.yml gives its Temporal containers, rendered by the
 * server's own config template; only addresses, ports and file paths are local. A service can be restarted mid-run.
 */
import type { TLSConfig } from '@temporalio/client';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../../src/config/home.js';
import { ITINERANT_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { issue, makeCa, SERVER_EXT, CLIENT_EXT } from '../control-plane/pki.js';
import { isPortFree, LogTail, spawnWatchdog, waitForExit } from '../temporal/temporal-cli.js';
import { findTemporalServerBinaries, TemporalServerUnavailable, type TemporalServerBinaries } from './build.js';
import { startPostgres, type Postgres } from './postgres.js';

export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

export interface TemporalCluster {
  /** The frontend, `127.0.0.1:<port>`. */
  address: string;
  namespace: string;
  /** What a client needs (TLS with the cluster's CA, its client certificate, the server name). */
  tls: TLSConfig;
  /** The same as TEMPORAL_TLS_* variables, for a worker or CLI process. */
  clientEnv: Record<string, string>;
  /** The cluster's settings, shared with docker-compose.yml. */
  settings: Record<string, string>;
  /** Stop a service (SIGTERM, SIGKILL after a grace period) and start it again. */
  restart(service: TemporalService): Promise<void>;
  /** The last lines of every service's log, and of PostgreSQL's. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** An env file (NAME=value lines; # comments) as name → value. */
export function parseEnvFile(text: string): Record<string, string> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && l.includes('='));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** deploy/temporal/temporal.env: the settings docker-compose.yml gives its Temporal services, and the test bed its own. */
export const sharedClusterSettings = (): Record<string, string> => parseEnvFile(readFileSync(join(projectRoot(), 'deploy', 'temporal', 'temporal.env'), 'utf8'));

export const dynamicConfigPath = (): string => join(projectRoot(), 'deploy', 'temporal', 'dynamicconfig.yaml');

const { temporal } = proto; // CommonJS: its namespace is the default export under Node's ESM loader

const PORTS = ['FRONTEND_GRPC_PORT', 'FRONTEND_HTTP_PORT', 'FRONTEND_MEMBERSHIP_PORT', 'HISTORY_GRPC_PORT', 'HISTORY_MEMBERSHIP_PORT', 'MATCHING_GRPC_PORT', 'MATCHING_MEMBERSHIP_PORT', 'WORKER_GRPC_PORT', 'WORKER_MEMBERSHIP_PORT'] as const;

/**
 * A free port below 32768: the server keeps membership ports in a PostgreSQL smallint, and the kernel's ephemeral
 * ports (what port 0 gives) are above it.
 */
async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!taken.has(port) && (await isPortFree(port))) return taken.add(port), port;
  }
  throw new Error('no free port found between 20000 and 32000');
}

export async function startTemporalCluster(opts: { home: string; log?: (line: string) => void; startTimeoutMs?: number; /** Over everything (tests). */ extraEnv?: Record<string, string> }): Promise<TemporalCluster> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[temporal-cluster] ${l}\n`));
  const binaries = findTemporalServerBinaries();
  if (!binaries) throw new TemporalServerUnavailable('the Temporal server is not built: run `npm run temporal-cluster:build` (minutes, once)');
  const settings = sharedClusterSettings();
  const dir = join(opts.home, 'temporal-cluster');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const started = Date.now();

  const pkiDir = join(dir, 'pki');
  const ca = makeCa(pkiDir, '/CN=itinerant-temporal-ca');
  const names = [settings.TEMPORAL_TLS_FRONTEND_SERVER_NAME, settings.TEMPORAL_TLS_INTERNODE_SERVER_NAME].filter(Boolean).map((n) => `DNS:${n}`);
  const server = issue(pkiDir, 'temporal-server', '/CN=temporal-server', SERVER_EXT(['IP:127.0.0.1', 'DNS:localhost', ...names].join(',')));
  const client = issue(pkiDir, 'itinerant-worker', '/CN=itinerant-worker', CLIENT_EXT);

  const taken = new Set<number>();
  const ports: Record<string, string> = {};
  for (const p of PORTS) ports[p] = String(await freePort(taken));
  const pg = startPostgres({ port: await freePort(taken), user: settings.POSTGRES_USER ?? 'temporal', password: randomBytes(12).toString('hex') });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...settings,
    ...ports,
    POSTGRES_SEEDS: pg.host,
    DB_PORT: String(pg.port),
    POSTGRES_PWD: pg.password,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfigPath(),
    LOG_LEVEL: process.env.ITINERANT_TEMPORAL_LOG_LEVEL ?? 'warn',
    TEMPORAL_TLS_SERVER_CA_CERT: ca.cert,
    TEMPORAL_TLS_SERVER_CERT: server.cert,
    TEMPORAL_TLS_SERVER_KEY: server.key,
    TEMPORAL_TLS_FRONTEND_CERT: server.cert,
    TEMPORAL_TLS_FRONTEND_KEY: server.key,
    TEMPORAL_TLS_CLIENT1_CA_CERT: ca.cert,
    TEMPORAL_TLS_CLIENT2_CA_CERT: ca.cert,
    ...opts.extraEnv,
  };
  const tails = new Map<string, LogTail>();
  const processes = new Map<TemporalService, ChildProcess>();
  const logTail = (lines = 30) =>
    [...[...tails].map(([name, t]) => `--- ${name} ---\n${t.text(lines)}`), `--- postgresql ---\n${pg.logTail(lines)}`].join('\n');

  const startService = (service: TemporalService) => {
    const tail = tails.get(service) ?? new LogTail(200);
    tails.set(service, tail);
    const file = createWriteStream(join(dir, 'logs', `${service}.log`), { flags: 'a' });
    const child = spawn(binaries.server, ['start', '--service', service], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => (tail.push(d), file.write(d)));
    child.once('exit', () => file.end());
    spawnWatchdog(process.pid, child.pid!);
    processes.set(service, child);
  };
  const stopService = async (service: TemporalService) => {
    const child = processes.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, 15_000))) {
      child.kill('SIGKILL');
      await waitForExit(child, 10_000);
    }
  };
  const stop = async () => {
    for (const s of [...TEMPORAL_SERVICES].reverse()) await stopService(s);
    await pg.stop();
  };

  const tls: TLSConfig = {
    serverRootCACertificate: readFileSync(ca.cert),
    clientCertPair: { crt: readFileSync(client.cert), key: readFileSync(client.key) },
    ...(settings.TEMPORAL_TLS_FRONTEND_SERVER_NAME ? { serverNameOverride: settings.TEMPORAL_TLS_FRONTEND_SERVER_NAME } : {}),
  };
  const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  const namespace = settings.DEFAULT_NAMESPACE ?? 'default';
  try {
    setUpSchema(binaries, pg, settings);
    for (const s of TEMPORAL_SERVICES) startService(s);
    await waitUntilServing({ address, tls, namespace, retention: settings.DEFAULT_NAMESPACE_RETENTION ?? '7d', timeoutMs: opts.startTimeoutMs ?? 120_000, processes, logTail });
  } catch (e) {
    const tail = logTail();
    await stop().catch(() => undefined);
    throw e instanceof TemporalServerUnavailable ? e : new Error(`the Temporal cluster did not start: ${(e as Error).message}\n${tail}`);
  }
  log(`Temporal ${TEMPORAL_SERVICES.join('/')} on PostgreSQL :${pg.port}, ${settings.NUM_HISTORY_SHARDS} history shards, mTLS, frontend ${address}: ready in ${Date.now() - started}ms`);

  return {
    address,
    namespace,
    tls,
    clientEnv: {
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: client.key,
      ...(settings.TEMPORAL_TLS_FRONTEND_SERVER_NAME ? { TEMPORAL_TLS_SERVER_NAME: settings.TEMPORAL_TLS_FRONTEND_SERVER_NAME } : {}),
    },
    settings,
    async restart(service) {
      await stopService(service);
      startService(service);
      await waitUntilServing({ address, tls, namespace, timeoutMs: 60_000, processes, logTail });
    },
    logTail,
    stop,
  };
}

/**
 * Both databases, created and brought to the newest schema by docker-compose.yml's own `temporal-schema` job script
 * (temporal-sql-tool), run here with the built temporal-sql-tool on PATH: the test bed proves the job compose runs.
 */
function setUpSchema(binaries: TemporalServerBinaries, pg: Postgres, settings: Record<string, string>) {
  const env = { ...settings, PATH: `${dirname(binaries.sqlTool)}:${process.env.PATH ?? ''}`, POSTGRES_SEEDS: pg.host, DB_PORT: String(pg.port), POSTGRES_PWD: pg.password };
  const r = spawnSync('/bin/sh', ['-c', composeJobScript('temporal-schema')], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the schema job (docker-compose.yml temporal-schema) failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stderr}${r.stdout}`);
}

/** The shell script of a one-shot job in docker-compose.yml (entrypoint sh -c), with compose's `$$` escapes resolved. */
export function composeJobScript(service: string): string {
  const compose = parseYaml(readFileSync(join(projectRoot(), 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { command?: string[] }> };
  const script = compose.services[service]?.command?.[0];
  if (!script) throw new Error(`docker-compose.yml has no one-shot job ${service}`);
  return script.replaceAll('$$', '$');
}

const NOT_FOUND = 5;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Until the frontend answers over mTLS and the namespace (registered here when missing) has our search attributes. */
async function waitUntilServing(o: {
  address: string;
  tls: TLSConfig;
  namespace: string;
  retention?: string;
  timeoutMs: number;
  processes: Map<TemporalService, ChildProcess>;
  logTail: () => string;
}) {
  const deadline = Date.now() + o.timeoutMs;
  let last = '';
  for (;;) {
    for (const [name, p] of o.processes) if (p.exitCode !== null || p.signalCode !== null) throw new Error(`the ${name} service exited (${p.signalCode ?? p.exitCode})`);
    if (Date.now() > deadline) throw new Error(`not serving within ${o.timeoutMs}ms (last: ${last})`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address: o.address, tls: o.tls, connectTimeout: '3s' });
      if (o.retention) await ensureNamespace(connection, o.namespace, o.retention);
      // Matching answers for task queues; history for executions: NotFound is its answer for one that does not exist.
      await connection.workflowService.describeTaskQueue({ namespace: o.namespace, taskQueue: { name: 'itinerant-probe' } });
      const history = await connection.workflowService.describeWorkflowExecution({ namespace: o.namespace, execution: { workflowId: `itinerant-probe-${randomBytes(4).toString('hex')}` } }).then(
        () => 'found',
        (e: { code?: number }) => (e.code === NOT_FOUND ? 'serving' : Promise.reject(e)),
      );
      if (history !== 'serving') throw new Error('history answered for a workflow that does not exist');
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: o.namespace });
      if (ITINERANT_SEARCH_ATTRIBUTES.every((a) => customAttributes?.[a.name] !== undefined)) return;
      last = 'search attributes not registered yet';
    } catch (e) {
      last = (e as Error).message.split('\n')[0] ?? '';
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(500);
  }
}

async function ensureNamespace(connection: Connection, namespace: string, retention: string) {
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retention.replace(/^(\d+)d$/, (_, d: string) => `${Number(d) * 24}h`)) });
  } catch (e) {
    if (!/already exists|AlreadyExists/i.test((e as Error).message)) throw e;
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = ITINERANT_SEARCH_ATTRIBUTES.filter((a) => customAttributes?.[a.name] === undefined);
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((a) => [a.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${a.type}`]])),
  });
}
