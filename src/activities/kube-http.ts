// How the worker's Kubernetes API clients send requests: @kubernetes/client-node's own fetch-based HTTP library,
// plus the one re-send Go's HTTP transport (client-go) makes and Node's does not: a request whose connection closed
// before any answer arrived (an API server behind a load balancer restarting just as the request reached it) is sent
// once more, on a new connection. Safe because every activity is idempotent: a request the server did act on before
// closing is one the activity would re-issue on its next attempt anyway.
import * as k8s from '@kubernetes/client-node';
import { log } from '@temporalio/activity';
import type https from 'node:https';

/** What node-fetch reports when the connection closed or was reset before the response's headers (`socket hang up` is ECONNRESET too). */
const CLOSED_BEFORE_ANSWER = new Set(['ECONNRESET', 'EPIPE']);

export function closedBeforeAnswer(e: unknown): boolean {
  const err = e as { name?: string; code?: unknown };
  // An answer's body cut off part-way fails later, in the caller's read of it, never here: send() resolves at the headers.
  return err?.name === 'FetchError' && typeof err.code === 'string' && CLOSED_BEFORE_ANSWER.has(err.code);
}

function logResend(request: k8s.RequestContext) {
  try {
    log.warn('kube request re-sent on a new connection: its connection closed before any answer', { method: request.getHttpMethod(), path: new URL(request.getUrl()).pathname });
  } catch {
    // outside an activity context: nobody to tell
  }
}

export class ResendOnceHttpLibrary implements k8s.HttpLibrary {
  constructor(
    private readonly inner: k8s.HttpLibrary = new k8s.IsomorphicFetchHttpLibrary(),
    private readonly onResend: (request: k8s.RequestContext) => void = logResend,
  ) {}

  send(request: k8s.RequestContext): k8s.Observable<k8s.ResponseContext> {
    const once = this.inner.send(request).toPromise();
    return new k8s.Observable(
      once.catch((e: unknown) => {
        if (!closedBeforeAnswer(e) || request.getSignal()?.aborted) throw e;
        this.onResend(request);
        // On a new connection (through a load balancer: most likely to another API server), never on another one kept
        // alive to the server that just closed this one (KeepAliveKubeConfig pools them).
        const agent = request.getAgent();
        if (agent) request.setAgent(new (agent.constructor as typeof https.Agent)({ ...(agent as https.Agent).options, keepAlive: false }));
        return this.inner.send(request).toPromise();
      }),
    );
  }
}

/** kc.makeApiClient, with requests sent by {@link ResendOnceHttpLibrary}. */
export function makeKubeApiClient<T extends k8s.ApiType>(kc: k8s.KubeConfig, api: k8s.ApiConstructor<T>, httpApi: k8s.HttpLibrary = new ResendOnceHttpLibrary()): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  return new api(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: kc }, httpApi }));
}
