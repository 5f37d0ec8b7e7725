// The Temporal connection, and turning what describe() returns into plain values for printing.
import { Client, Connection, isGrpcServiceError, type WorkflowExecutionDescription } from '@temporalio/client';
import { createConnection } from 'node:net';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import { connectionOptions, splitAddress, TemporalSettingsError, temporalConnectionFromEnv, type TemporalConnectionSettings } from '../config/temporal-connection.js';
import { tlsProblem } from '../config/temporal-tls-check.js';
import { dataConverterFromEnv } from '../codec/data-converter.js';
import { CodecKeysError } from '../codec/keys.js';
import { CliError, EXIT } from './errors.js';
import { failureChain, type PendingActivityView } from './progress.js';

export type Target = TemporalConnectionSettings;

/** --address / --namespace over TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE; TLS and the API key from TEMPORAL_TLS* and TEMPORAL_API_KEY. */
export function resolveTarget(opts: { address?: string; namespace?: string }, env = process.env): Target {
  try {
    return temporalConnectionFromEnv(env, opts);
  } catch (e) {
    if (e instanceof TemporalSettingsError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

export function unreachable(address: string, detail?: string): CliError {
  return new CliError(
    `cannot reach Temporal at ${address}${detail ? ` (${detail})` : ''}; is it running? Start it with \`npm start\`, or point --address / TEMPORAL_ADDRESS at your server`,
    EXIT.failed,
  );
}

/** The error and its causes (five at most). */
function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err as { cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) chain.push(e);
  return chain;
}

/** True when the error (or a cause) says the server could not be reached at all. */
export function isUnreachable(err: unknown): boolean {
  const UNAVAILABLE = 14;
  return errorChain(err).some((e) => (isGrpcServiceError(e) && e.code === UNAVAILABLE) || (e instanceof Error && /Failed to connect before the deadline|ECONNREFUSED/.test(e.message)));
}

/** True when the server (or a gateway before it) refused the caller's credentials. */
function credentialsRefused(err: unknown): boolean {
  const UNAUTHENTICATED = 16;
  const PERMISSION_DENIED = 7;
  return errorChain(err).some((e) => isGrpcServiceError(e) && (e.code === UNAUTHENTICATED || e.code === PERMISSION_DENIED));
}

/** A plain TCP connect first: a refused or unresolvable address fails in milliseconds, not after gRPC's retries. */
function probe(address: string, timeoutMs = 3000): Promise<string | undefined> {
  const hostPort = splitAddress(address);
  if (!hostPort) return Promise.resolve(undefined); // let the client judge odd addresses
  return new Promise((resolve) => {
    const socket = createConnection(hostPort);
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000}s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

export async function connect(target: Target): Promise<Client> {
  const dataConverter = codecOrUsageError();
  const problem = await probe(target.address);
  if (problem) throw unreachable(target.address, problem);
  const tls = await tlsProblem(target);
  if (tls) throw new CliError(`TLS with ${target.address} failed: ${tls}`, EXIT.failed);
  try {
    const connection = await Connection.connect({ ...connectionOptions(target), connectTimeout: '5s' });
    return new Client({ connection, namespace: target.namespace, ...(dataConverter ? { dataConverter } : {}) });
  } catch (e) {
    if (credentialsRefused(e)) {
      throw new CliError(`Temporal at ${target.address} refused the credentials (${firstLine(e)}): check TEMPORAL_API_KEY`, EXIT.failed);
    }
    throw unreachable(target.address, firstLine(e));
  }
}

/** The payload codec (ITINERANT_CODEC_KEYS_*), so that the CLI reads and writes what the worker encrypts. */
function codecOrUsageError() {
  try {
    return dataConverterFromEnv();
  } catch (e) {
    if (e instanceof CodecKeysError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

function firstLine(e: unknown): string {
  const chain = failureChain(e);
  return (chain[chain.length - 1] ?? String(e)).split('\n')[0] ?? '';
}

const ACTIVITY_STATES = ['UNSPECIFIED', 'SCHEDULED', 'STARTED', 'CANCEL_REQUESTED', 'PAUSED', 'PAUSE_REQUESTED'];

/** Pending activities with their heartbeat details decoded (one heartbeat argument → that value). */
export function pendingActivities(client: Client, desc: WorkflowExecutionDescription): PendingActivityView[] {
  const converter = client.options.loadedDataConverter.payloadConverter;
  return (desc.raw.pendingActivities ?? []).map((a) => {
    const payloads = a.heartbeatDetails?.payloads ?? [];
    const decoded = payloads.map((p) => {
      try {
        return converter.fromPayload(p);
      } catch {
        return '<undecodable>';
      }
    });
    const hb = optionalTsToMs(a.lastHeartbeatTime);
    const view: PendingActivityView = {
      activityId: a.activityId ?? '',
      activityType: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      state: ACTIVITY_STATES[a.state ?? 0] ?? String(a.state),
    };
    if (decoded.length > 0) view.heartbeatDetails = decoded.length === 1 ? decoded[0] : decoded;
    if (hb !== undefined) view.lastHeartbeatTime = new Date(hb);
    if (a.lastFailure) view.lastFailure = failureChain(a.lastFailure).join(' ← ');
    return view;
  });
}

export function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'WorkflowNotFoundError';
}
