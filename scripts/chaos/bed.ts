// What the disruptor disrupts: the Temporal dev server (restartable on its SQLite file and port) and the
// worker process (SIGKILLable, restarted), over one stack (test/helpers/stack.ts) per run.
import { Client, Connection } from '@temporalio/client';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workflowBundle } from '../../test/helpers/bundle.js';
import { startDevServer, type DevServer } from '../../testbeds/temporal/temporal-cli.js';
import { spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../../test/helpers/stack.js';

/** The Temporal dev server of a stack, restarted on the same database and port; `client` is always the current one's. */
export class RestartableTemporal {
  private connection: Connection | undefined;
  private current: Client;
  private server: DevServer;

  constructor(private readonly stack: Stack) {
    if (stack.server.cluster) throw new Error('the chaos bed restarts a dev server: run it without ITINERANT_TEMPORAL=cluster');
    this.server = stack.server as DevServer;
    this.current = stack.client;
  }

  get address(): string {
    return this.server.address;
  }

  client(): Client {
    return this.current;
  }

  /** Stop the server (SIGTERM) and start it again on its SQLite file and port; the worker reconnects by itself. */
  async restart(downMs: number): Promise<void> {
    const { dbFile, port } = this.server;
    if (!dbFile) throw new Error('the dev server has no database file to restart on');
    await this.connection?.close().catch(() => undefined);
    this.connection = undefined;
    await this.server.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.server = await startDevServer({ dbFile, port, ui: false, logFile: join(this.stack.home, 'dev-server.log'), log: () => undefined });
    this.connection = await Connection.connect({ address: this.server.address });
    this.current = new Client({ connection: this.connection, namespace: this.server.namespace });
  }

  async stop(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    await this.server.stop();
  }
}

/** The worker as its own process (src/workers/main.ts), its output appended to `<home>/worker.log`. */
export class KillableWorker {
  /** Exits nobody asked for (a worker that dies by itself is a finding, not a disruption). */
  readonly crashes: string[] = [];
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly log: WriteStream;

  constructor(
    private readonly stack: Stack,
    private readonly temporal: RestartableTemporal,
    private readonly bundlePath: string,
  ) {
    this.log = createWriteStream(join(stack.home, 'worker.log'), { flags: 'a' });
  }

  start(): void {
    const child = spawnWorkerProcess(this.stack, { address: this.temporal.address, namespace: this.stack.server.namespace }, {
      captureOutput: true,
      env: { ITINERANT_WORKFLOW_BUNDLE: this.bundlePath },
    });
    this.child = child;
    let out = '';
    this.ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        this.log.write(b);
        out += b.toString();
        if (out.includes('itinerant worker:')) resolve();
      });
      child.once('exit', (code, signal) => {
        const how = `worker process ${child.pid} exited (${signal ?? code}) unasked; see ${join(this.stack.home, 'worker.log')}`;
        if (this.child === child) this.crashes.push(how);
        reject(new Error(how));
      });
    });
    this.ready.catch(() => undefined);
    child.stderr!.on('data', (b: Buffer) => this.log.write(b));
  }

  /** Resolves once the worker has loaded its workflows and polls; fails when it exits first or after `timeoutMs`. */
  async whenReady(timeoutMs = 120_000): Promise<void> {
    if (!this.ready) throw new Error('the worker was never started');
    await withDeadline(this.ready, timeoutMs, 'the worker process to be ready');
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await stopWorkerProcess(child, 'SIGKILL');
  }

  async stop(): Promise<void> {
    await this.kill();
    await new Promise((r) => this.log.end(r));
  }
}

/** The workflow code bundled once, in a file every worker process loads (ITINERANT_WORKFLOW_BUNDLE): a restart then takes seconds less. */
export async function prebuiltBundle(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'itinerant-chaos-')), 'workflow-bundle.js');
  writeFileSync(path, (await workflowBundle()).code);
  return path;
}

/** A fresh fleet and a persistent dev server for one run, with its worker started. */
export async function startBed(opts: { bootDelayMs: number; nodeReadyDelayMs: number }, bundlePath: string) {
  const stack = await startStack({ ...opts, backend: 'sim', persistentServer: true });
  const temporal = new RestartableTemporal(stack);
  const worker = new KillableWorker(stack, temporal, bundlePath);
  worker.start();
  return {
    stack,
    temporal,
    worker,
    async stop() {
      await worker.stop();
      await temporal.stop();
      await stack.stop();
    },
  };
}
export type Bed = Awaited<ReturnType<typeof startBed>>;

/** `p`, or an error naming `what` once `ms` have passed. */
export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
