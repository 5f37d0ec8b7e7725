// The worker and the CLI reach Temporal over TLS, configured by the TEMPORAL_TLS_* / TEMPORAL_API_KEY variables Temporal's own
// tools read: real certificates (openssl), a TLS front (node:http2, ALPN h2) before the real dev server, a runbook end to end.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { temporalConnectionFromEnv } from '../../src/config/temporal-connection.js';
import { createItinerantWorker } from '../../src/workers/worker.js';
import { CLIENT_EXT, issue, makeCa, SERVER_EXT, type CertFiles } from '../../testbeds/control-plane/pki.js';
import { workflowBundle } from '../helpers/bundle.js';
import { itinerant } from '../helpers/cli.js';
import { startGrpcTlsProxy, type GrpcTlsProxy } from '../helpers/grpc-tls-proxy.js';
import { eventually, isReady, nodesOfGroup, spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../helpers/stack.js';

const API_KEY = 'itinerant-e2e-api-key-7f3a9c';
const SERVER_NAME = 'temporal.itinerant.test'; // the only name in the server certificate: connecting to 127.0.0.1 needs TEMPORAL_TLS_SERVER_NAME

let stack: Stack;
let ca: CertFiles;
let client: CertFiles;
let rogue: CertFiles;
let mtls: GrpcTlsProxy;
let keyed: GrpcTlsProxy;
let misconfiguredWorker: WorkerProcess;
let certlessWorker: WorkerProcess;
/** Everything the in-process workers log, down to DEBUG (SDK and core): the API key must not be in it. */
const workerLogs: string[] = [];

const trustServer = () => ({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME });
const mtlsEnv = (pair: CertFiles = client) => ({ ...trustServer(), TEMPORAL_TLS_CLIENT_CERT_PATH: pair.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: pair.key });

beforeAll(async () => {
  void workflowBundle(); // seconds of bundling, while the stack starts
  Runtime.install({ logger: new DefaultLogger('DEBUG', (entry) => workerLogs.push(`${entry.level} ${entry.message} ${inspect(entry.meta)}`)) });
  stack = await startStack();
  const dir = join(stack.home, 'tls');
  ca = makeCa(dir, '/CN=itinerant-e2e-temporal-ca');
  const server = issue(dir, 'frontend', `/CN=${SERVER_NAME}`, SERVER_EXT(`DNS:${SERVER_NAME}`));
  client = issue(dir, 'worker', '/CN=itinerant-worker', CLIENT_EXT);
  const rogueDir = join(stack.home, 'rogue');
  makeCa(rogueDir, '/CN=rogue-ca');
  rogue = issue(rogueDir, 'worker', '/CN=itinerant-worker', CLIENT_EXT);
  mtls = await startGrpcTlsProxy({ upstream: stack.server.address, ca: ca.cert, server, requireClientCert: true });
  keyed = await startGrpcTlsProxy({ upstream: stack.server.address, ca: ca.cert, server, requireClientCert: false, apiKey: API_KEY });
  // The worker as deployed (src/workers/main.ts) takes seconds to load: start it now, look at it in its test.
  misconfiguredWorker = startWorkerProcess(mtls.address, { TEMPORAL_TLS_CLIENT_KEY_PATH: client.key, TEMPORAL_API_KEY: API_KEY });
  certlessWorker = startWorkerProcess(mtls.address, trustServer());
});
afterAll(async () => {
  for (const w of [misconfiguredWorker, certlessWorker]) await stopWorkerProcess(w?.child, 'SIGTERM');
  await Promise.allSettled([mtls?.close(), keyed?.close()]);
  await stack?.stop();
});

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

function startWorkerProcess(address: string, env: Record<string, string>): WorkerProcess {
  const child = spawnWorkerProcess(stack, { address, namespace: stack.server.namespace }, { captureOutput: true, env });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)), output: () => output };
}

/** A worker in this process, configured from `env` exactly as src/workers/main.ts configures itself from the environment. */
async function inProcessWorker(env: Record<string, string>) {
  return createItinerantWorker({ ...temporalConnectionFromEnv(env), fleet: stack.fleet, workflowBundle: await workflowBundle() });
}

it('over mTLS, a worker and the CLI connect with the TEMPORAL_TLS_* variables, and a runbook completes', async () => {
  const { worker, close } = await inProcessWorker({ ...mtlsEnv(), TEMPORAL_ADDRESS: mtls.address });
  const running = worker.run();
  try {
    const [target] = (await nodesOfGroup(stack.core, 'batch')).filter(isReady);
    const node = target!.metadata!.name!;
    const run = await itinerant(mtls.address, ['run', 'repave-node', '--input', JSON.stringify({ cluster: 'sim-1', node, reason: 'tls e2e' }), '--wait'], mtlsEnv()).done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(`repave-node.sim-1.${node} completed`);
    const list = await itinerant(mtls.address, ['list', '--cluster', 'sim-1'], mtlsEnv()).done;
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`repave-node.sim-1.${node}`);
  } finally {
    worker.shutdown();
    await running;
    await close();
  }
});

it('without a client certificate, with one of another CA, or without trusting the server, the connection is refused with a clear error', async () => {
  const cli = (env: Record<string, string>) => itinerant(mtls.address, ['list'], env).done;
  const [noCert, wrongCa, noName, noCa] = await Promise.all([
    cli(trustServer()),
    cli(mtlsEnv(rogue)),
    cli({ ...mtlsEnv(), TEMPORAL_TLS_SERVER_NAME: '' }), // the certificate names SERVER_NAME, not 127.0.0.1
    cli({ ...mtlsEnv(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: '' }), // the system's roots do not know the test CA
  ]);
  const tlsFailed = `itinerant: TLS with ${mtls.address} failed: `;
  expect(noCert.code).toBe(1);
  expect(noCert.stderr).toBe(`${tlsFailed}the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH\n`);
  expect(wrongCa.code).toBe(1);
  expect(wrongCa.stderr).toBe(`${tlsFailed}the server closed the connection after the TLS handshake: it does not accept this client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)?\n`);
  expect(noName.code).toBe(1);
  expect(noName.stderr).toMatch(new RegExp(`^${tlsFailed}the server certificate is not for this name \\(.*\\): set TEMPORAL_TLS_SERVER_NAME to a name in it\\n$`));
  expect(noCa.code).toBe(1);
  expect(noCa.stderr).toMatch(new RegExp(`^${tlsFailed}the server certificate is not trusted \\(.*\\): set TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA\\n$`));
  expect(mtls.refusedHandshakes.some((m) => /peer did not return a certificate/.test(m))).toBe(true);

  // The worker's connection is refused too, and it says why.
  expect(await certlessWorker.exited).toBe(1);
  expect(certlessWorker.output()).toBe(
    `itinerant worker: TLS with ${mtls.address} failed: the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH\n`,
  );
});

it('an API key goes as authorization: Bearer <key>, from the CLI and the worker, and is never printed or logged', async () => {
  const before = keyed.authorizations.length;
  const list = await itinerant(keyed.address, ['list'], { ...trustServer(), TEMPORAL_API_KEY: API_KEY }).done;
  expect(list.code, list.stderr).toBe(0);
  const fromCli = keyed.authorizations.slice(before);
  expect(fromCli.length).toBeGreaterThan(0);
  expect(fromCli.every((a) => a === `Bearer ${API_KEY}`)).toBe(true);

  const wrong = await itinerant(keyed.address, ['list'], { ...trustServer(), TEMPORAL_API_KEY: 'not-the-key-1234' }).done;
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toBe(`itinerant: Temporal at ${keyed.address} refused the credentials (16 UNAUTHENTICATED: API key missing or wrong): check TEMPORAL_API_KEY\n`);

  const { worker, close } = await inProcessWorker({ ...trustServer(), TEMPORAL_ADDRESS: keyed.address, TEMPORAL_API_KEY: API_KEY });
  const running = worker.run();
  const fromWorker = keyed.authorizations.length;
  try {
    await eventually('the worker to poll through the gateway', async () => keyed.authorizations.length >= fromWorker + 3, 20_000);
  } finally {
    worker.shutdown();
    await running;
    await close();
  }
  expect(keyed.authorizations.slice(fromWorker).every((a) => a === `Bearer ${API_KEY}`)).toBe(true);
  expect(workerLogs.length).toBeGreaterThan(0);
  for (const output of [list.stdout, list.stderr, misconfiguredWorker.output(), ...workerLogs]) expect(output).not.toContain(API_KEY);
});

it('bad settings stop the worker and the CLI at startup, naming the variable', async () => {
  expect(await misconfiguredWorker.exited).toBe(1);
  expect(misconfiguredWorker.output()).toBe('itinerant worker: TEMPORAL_TLS_CLIENT_KEY_PATH is set but no client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA) too\n');
  const missing = join(stack.home, 'missing-ca.pem');
  const cli = await itinerant(mtls.address, ['list'], { TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing }).done;
  expect(cli.code).toBe(2);
  expect(cli.stderr).toBe(`itinerant: TEMPORAL_TLS_SERVER_CA_CERT_PATH: ${missing}: no such file\n`);
});
