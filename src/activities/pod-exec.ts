// The exec transport: run a command in a pod through the Kubernetes exec API (pods/exec over a WebSocket,
// with @kubernetes/client-node), as a PodExecutor for the stateful-service adapters (src/services/).
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import type { ExecResult, PodExecutor } from '../core/decommission.js';

const EXEC_TIMEOUT_MS = 20_000;

/** The command's exit code from the exec API's final status (channel 3). */
function exitCodeOf(status: k8s.V1Status | undefined): number | undefined {
  if (!status) return undefined;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined && /^\d+$/.test(cause.message) ? Number(cause.message) : 1;
}

function collector(): { stream: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Live exec streams started by issueDecommission: kept so they are not collected while the command runs. */
const running = new Set<Promise<ExecResult>>();

export function kubeExecutor(kc: k8s.KubeConfig, core: k8s.CoreV1Api, namespace: string, preferredContainer?: string): PodExecutor {
  const exec = new k8s.Exec(kc);
  const containers = new Map<string, string>();

  async function containerOf(pod: string): Promise<string> {
    const known = containers.get(pod);
    if (known) return known;
    const p = await core.readNamespacedPod({ name: pod, namespace });
    const names = (p.spec?.containers ?? []).map((c) => c.name);
    const name = preferredContainer && names.includes(preferredContainer) ? preferredContainer : names[0];
    if (!name) throw new Error(`pod ${namespace}/${pod} has no containers`);
    containers.set(pod, name);
    return name;
  }

  /** Connect and return the socket plus a promise for the command's end. */
  async function open(pod: string, command: string[]) {
    const out = collector();
    const err = collector();
    let status: k8s.V1Status | undefined;
    const container = await containerOf(pod);
    const ws = await exec
      .exec(namespace, pod, container, command, out.stream, err.stream, null, false, (s) => {
        status = s;
      })
      .catch((e: unknown) => {
        // the WebSocket library rejects with an ErrorEvent, not an Error: keep its message (e.g. "Unexpected server response: 403")
        const message = e instanceof Error ? e.message : ((e as { message?: string })?.message ?? String(e));
        throw new Error(`exec ${command.join(' ')} in pod ${namespace}/${pod}: ${message}`);
      });
    const done = new Promise<ExecResult>((resolve, reject) => {
      ws.on('close', () => resolve({ stdout: out.text(), stderr: err.text(), exitCode: exitCodeOf(status) }));
      ws.on('error', (e: Error) => reject(e));
    });
    return { ws, done };
  }

  return {
    async run(pod, command, opts) {
      const { ws, done } = await open(pod, command);
      const timeoutMs = opts?.timeoutMs ?? EXEC_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ws.close();
          reject(new Error(`${command.join(' ')} in pod ${namespace}/${pod} did not finish within ${timeoutMs / 1000}s`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async start(pod, command) {
      const { done } = await open(pod, command);
      const tracked = done.finally(() => running.delete(tracked));
      running.add(tracked);
      tracked.catch(() => undefined);
      return { done };
    },
  };
}

