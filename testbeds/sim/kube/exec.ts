// pods/exec over WebSocket, as the API server + kubelet answer it:
//   GET /api/v1/namespaces/{ns}/pods/{name}/exec?command=a&command=b&stdout=1&stderr=1[&container=c]
//   Upgrade: websocket, Sec-WebSocket-Protocol: v5.channel.k8s.io | v4.channel.k8s.io | ... | channel.k8s.io
// Every frame starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize (255 close, v5).
// On v4/v5 the status channel carries a meta/v1 Status: Success, or Failure with reason NonZeroExitCode
// and details.causes [{reason: 'ExitCode', message: '<n>'}]; on older protocols a plain error text.
// What a command does is pluggable: registerExecHandler(match, handler), most recent registration first.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KObject } from './resources.js';
import type { ObjectStore } from './store.js';
import { ApiError, failure, type Status } from './status.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecContext {
  namespace: string;
  /** The container the command runs in (the `container` parameter, or the pod's default container). */
  container: string;
  /** Aborted when the client goes away (the WebSocket closes before the command ends). The command may go on regardless. */
  signal: AbortSignal;
}

export type ExecMatch = (pod: KObject) => boolean;
export type ExecHandler = (argv: string[], pod: KObject, ctx: ExecContext) => Promise<ExecResult>;

/** Protocols in the order the server prefers them when a client offers several (the client's order wins, as in wsstream). */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

/** Commands every container answers when no handler claims them: a minimal coreutils. */
export async function builtinExec(argv: string[], pod: KObject): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
  switch (cmd) {
    case 'true': return ok();
    case 'false': return { stdout: '', stderr: '', exitCode: 1 };
    case 'echo': return ok(`${args.join(' ')}\n`);
    case 'hostname': return ok(`${pod.spec?.hostname ?? pod.metadata.name}\n`);
    case 'sh':
    case 'bash':
    case '/bin/sh':
    case '/bin/bash': {
      // `sh -c 'exit N'` and `sh -c 'echo ...'` only: enough for probes and smoke tests.
      const script = args[0] === '-c' ? (args[1] ?? '') : '';
      const exit = /^\s*exit\s+(\d+)\s*$/.exec(script);
      if (exit) return { stdout: '', stderr: '', exitCode: Number(exit[1]) };
      const echo = /^\s*echo\s+(.*)$/.exec(script);
      if (echo) return ok(`${echo[1]!.replace(/^['"]|['"]$/g, '')}\n`);
      return { stdout: '', stderr: `${cmd}: simulated shell only runs 'exit N' and 'echo ...'\n`, exitCode: 2 };
    }
    default:
      return { stdout: '', stderr: `${cmd ?? ''}: command not found\n`, exitCode: 127 };
  }
}

/** The Status the kubelet sends on the error channel (v4+). */
export function execStatus(argv: string[], exitCode: number): Record<string, unknown> {
  if (exitCode === 0) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

const truthy = (v: string | null): boolean => v === '1' || v === 'true';

export class ExecRegistry {
  private readonly handlers: { match: ExecMatch; handler: ExecHandler }[] = [];
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered: Set<string>) => [...offered].find((p) => (EXEC_PROTOCOLS as readonly string[]).includes(p)) ?? false,
  });
  private readonly open = new Set<WebSocket>();
  /** Exec sessions started over WebSocket (for tests and counters). */
  sessions = 0;

  constructor(private readonly store: ObjectStore) {}

  /** Register a command handler for the pods `match` accepts; the most recent registration is tried first. Returns an unregister function. */
  register(match: ExecMatch, handler: ExecHandler): () => void {
    const entry = { match, handler };
    this.handlers.unshift(entry);
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** Run a command in a pod without HTTP (the same checks and handlers as the WebSocket path). */
  async run(namespace: string, podName: string, argv: string[], opts: { container?: string; signal?: AbortSignal } = {}): Promise<ExecResult> {
    const { pod, container } = this.check(namespace, podName, opts.container, argv);
    return this.dispatch(argv, pod, { namespace, container, signal: opts.signal ?? new AbortController().signal });
  }

  /** The kube sim's upgrade hook for pods/exec (bearer token already checked). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\/?$/.exec(url.pathname);
    if (!m) return reject(socket, failure(404, 'the server could not find the requested resource', 'NotFound', {}));
    const namespace = decodeURIComponent(m[1]!);
    const podName = decodeURIComponent(m[2]!);
    const q = url.searchParams;
    const argv = q.getAll('command');
    let target: { pod: KObject; container: string };
    try {
      target = this.check(namespace, podName, q.get('container') ?? undefined, argv);
    } catch (e) {
      if (e instanceof ApiError) return reject(socket, e.status);
      throw e;
    }
    const isWebSocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (!isWebSocket) {
      // client-go falls back to SPDY when the WebSocket upgrade fails: say plainly that only WebSocket is served.
      return reject(socket, failure(400, 'Upgrade request required: the simulated API server serves pods/exec over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io) only, not SPDY', 'BadRequest'));
    }
    if (req.method !== 'GET') return reject(socket, failure(405, 'a WebSocket upgrade must use GET', 'MethodNotAllowed'));
    const wantOut = truthy(q.get('stdout'));
    const wantErr = truthy(q.get('stderr'));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sessions++;
      this.open.add(ws);
      const abort = new AbortController();
      ws.on('close', () => {
        this.open.delete(ws);
        abort.abort(new Error('exec connection closed'));
      });
      ws.on('error', () => ws.terminate());
      ws.on('message', () => { /* stdin, resize and close frames are accepted and ignored */ });
      const v4plus = ws.protocol === 'v4.channel.k8s.io' || ws.protocol === 'v5.channel.k8s.io';
      const frame = (channel: number, data: string | Buffer): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8')]);
      this.dispatch(argv, target.pod, { namespace, container: target.container, signal: abort.signal })
        .catch((err: unknown): ExecResult => ({ stdout: '', stderr: `${(err as Error)?.message ?? String(err)}\n`, exitCode: 126 }))
        .then((res) => {
          if (ws.readyState !== ws.OPEN) return;
          if (wantOut && res.stdout) ws.send(frame(STDOUT, res.stdout));
          if (wantErr && res.stderr) ws.send(frame(STDERR, res.stderr));
          if (v4plus) ws.send(frame(STATUS, JSON.stringify(execStatus(argv, res.exitCode))));
          else if (res.exitCode !== 0) ws.send(frame(STATUS, `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${res.exitCode}`));
          ws.close(1000);
        });
    });
  }

  /** Close every open exec session (server shutdown). */
  closeAll(): void {
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    this.wss.close();
  }

  private check(namespace: string, podName: string, container: string | undefined, argv: string[]): { pod: KObject; container: string } {
    const pod = this.store.get('pods', namespace, podName);
    if (!pod) throw new ApiError(failure(404, `pods "${podName}" not found`, 'NotFound', { name: podName, kind: 'pods' }));
    const containers = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    const defaultContainer = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    const c = container ?? (defaultContainer && containers.includes(defaultContainer) ? defaultContainer : containers[0]) ?? '';
    if (!containers.includes(c)) throw new ApiError(failure(400, `container ${c} is not valid for pod ${podName}`, 'BadRequest'));
    if (argv.length === 0) throw new ApiError(failure(400, 'you must specify at least 1 command', 'BadRequest'));
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      throw new ApiError(failure(400, `cannot exec into a container in a completed pod; current phase is ${phase}`, 'BadRequest'));
    }
    if (!pod.spec?.nodeName) throw new ApiError(failure(400, `pod ${podName} does not have a host assigned`, 'BadRequest'));
    if (phase !== 'Running') throw new ApiError(failure(400, `unable to upgrade connection: container not found ("${c}")`, 'BadRequest'));
    return { pod, container: c };
  }

  private dispatch(argv: string[], pod: KObject, ctx: ExecContext): Promise<ExecResult> {
    const entry = this.handlers.find((h) => {
      try {
        return h.match(pod);
      } catch {
        return false;
      }
    });
    return entry ? entry.handler(argv, pod, ctx) : builtinExec(argv, pod);
  }
}

function reject(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  const reason = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed' }[status.code] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
