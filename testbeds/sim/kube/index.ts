// The simulated Kubernetes API server: createKubeSim() wires the store, the REST
// layer, the controllers and the HTTP front together.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NodeRegistration, SimCluster } from './cluster-api.js';
import { Timers, type Counters, type KubeFaults, type SimContext } from './context.js';
import { Controllers, type Controller } from './controllers.js';
import { ExecRegistry, type ExecHandler, type ExecMatch } from './exec.js';
import { createHandler } from './http.js';
import { NodeAgent, ReadinessTimeline, type ReadinessPoint } from './nodes.js';
import { NodeLeasesAndEvents } from './node-events.js';
import { pvcProtectionController } from './pvc.js';
import { authorized, forbidden, type RestrictedIdentity } from './rbac.js';
import type { ApiError } from './status.js';
import { KubeApi } from './rest.js';
import { ObjectStore } from './store.js';
import { selfSignedCert, type SelfSignedCert } from './tls.js';
import { WatchHub } from './watch.js';
import { timedHandler, type SimLoad } from '../load.js';

export type { NodeRegistration, SimCluster } from './cluster-api.js';
export type { KubeFaults } from './context.js';
export type { PolicyRule, RbacGrants, RestrictedIdentity } from './rbac.js';
export type { KObject } from './resources.js';
export type { ReadinessPoint } from './nodes.js';
export { KubeApi } from './rest.js';
export { ObjectStore } from './store.js';
export type { Controller, Controllers } from './controllers.js';
export { builtinExec, ExecRegistry, type ExecContext, type ExecHandler, type ExecMatch, type ExecResult } from './exec.js';

export interface KubeSimOptions {
  clusterName: string;
  /** The administrator's bearer token (may do anything). */
  token: string;
  /** A second identity whose requests RBAC checks against what is bound to it (the worker's rendered RBAC). */
  restricted?: RestrictedIdentity;
  faults: KubeFaults;
  /** Records each request's service time (GET /sim/load). */
  load?: SimLoad;
  now?: () => Date;
  /** Reaction latency of the controllers after a change (default 200 ms). */
  controllerDelayMs?: number;
}

/** The caller of a request: the administrator, or the restricted identity (RBAC applies). */
export type Caller = 'admin' | RestrictedIdentity;

/**
 * pods/exec over WebSocket is a GET upgrade: kube-apiserver checks `get` on pods/exec, and `create`
 * too (the WebSocket upgrade permission check, on by default since 1.35). Other upgrades are not served.
 */
function upgradeDenied(caller: RestrictedIdentity, req: IncomingMessage): ApiError | undefined {
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\/?$/.exec(new URL(req.url ?? '/', 'http://sim').pathname);
  if (!m) return undefined; // not found: the upgrade handler answers 404
  for (const verb of ['get', 'create']) {
    const a = { verb, group: '', resource: 'pods/exec', namespace: decodeURIComponent(m[1]!), name: decodeURIComponent(m[2]!) };
    if (!authorized(caller.grants, a)) return forbidden(caller.user, a);
  }
  return undefined;
}

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface KubeSim {
  cluster: SimCluster;
  /** node:http request handler (auth, routing). */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Starts the server on 127.0.0.1 (port 0 = any) and resolves its URL, `http://127.0.0.1:<port>`.
   * The same port also speaks HTTPS (self-signed, see `tls`): kubectl only sends bearer tokens over
   * TLS, so give kubectl `https://127.0.0.1:<port>` with insecure-skip-tls-verify (see kubeconfig()).
   * `opts.scheme: 'https'` makes listen() resolve the https URL instead.
   */
  listen(port: number, opts?: { scheme?: 'http' | 'https' }): Promise<string>;
  close(): Promise<void>;
  /** Every change of the Ready / Ready+schedulable node count, per node group (label itinerant.dev/node-group). */
  readinessTimeline(group?: string): ReadinessPoint[];
  counters(): Counters;
  /** Mutable at run time. */
  faults: KubeFaults;
  /** URLs of the running server (undefined before listen()). */
  urls(): { http: string; https: string } | undefined;
  /** A kubeconfig (YAML) for the running server: https URL, insecure-skip-tls-verify, bearer token (the administrator's, or the restricted identity's). Works for kubectl and client-node. */
  kubeconfig(identity?: 'admin' | 'restricted'): string;
  /** The self-signed certificate served on the HTTPS side (PEM; also usable as certificate-authority-data). */
  readonly tls: { cert: string };
  // ---- extension points for the rest of the sim (not part of the minimal contract) ----
  /** The REST layer (create/get/list/patch/delete as the API would, without HTTP). */
  api: KubeApi;
  /** The object store (resourceVersions, events). */
  store: ObjectStore;
  /** Add a control loop run in every reconcile pass (e.g. PVCs for StatefulSets). */
  addController(c: Controller): void;
  /** Run the controllers now instead of after controllerDelayMs. */
  reconcile(): void;
  /** Handles HTTP upgrades after the bearer token is checked; the default serves pods/exec over WebSocket (`exec`). */
  setUpgradeHandler(h: UpgradeHandler | undefined): void;
  /** pods/exec: handlers, sessions, and run() to execute a command without HTTP. */
  exec: ExecRegistry;
  /** Register a pods/exec command handler for the pods `match` accepts (most recent first). Returns an unregister function. */
  registerExecHandler(match: ExecMatch, handler: ExecHandler): () => void;
}

export function createKubeSim(opts: KubeSimOptions): KubeSim {
  const ctx: SimContext = {
    clusterName: opts.clusterName,
    store: new ObjectStore(),
    now: opts.now ?? (() => new Date()),
    faults: opts.faults,
    timing: { controllerDelayMs: opts.controllerDelayMs ?? 200 },
    counters: { evictions: 0, evictionsRefused: 0, deletedPods: 0, deletedClaims: 0, injectedErrors: 0 },
    timers: new Timers(),
  };
  const timeline = new ReadinessTimeline(ctx.store, ctx.now);
  const api = new KubeApi(ctx);
  const controllers = new Controllers(ctx, api);
  controllers.add(pvcProtectionController);
  const exec = new ExecRegistry(ctx.store);
  const nodes = new NodeAgent(ctx, api);
  new NodeLeasesAndEvents(ctx, api);
  const watches = new WatchHub(ctx);
  /** Who a request is: the administrator, the restricted identity, or nobody (401). */
  const authenticate = (req: IncomingMessage): Caller | undefined => {
    const auth = req.headers.authorization;
    if (auth === `Bearer ${opts.token}`) return 'admin';
    if (opts.restricted && auth === `Bearer ${opts.restricted.token}`) return opts.restricted;
    return undefined;
  };
  const answer = createHandler(ctx, api, watches, authenticate, `${opts.clusterName}-admin`);
  const handler = opts.load ? timedHandler(answer, opts.load) : answer;
  let server: NetServer | undefined;
  let port = 0;
  let upgrade: UpgradeHandler | undefined = (req, socket, head) => exec.handleUpgrade(req, socket, head);
  let cert: SelfSignedCert | undefined;
  const tlsCert = (): SelfSignedCert => (cert ??= selfSignedCert());
  const sockets = new Set<Socket>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const caller = authenticate(req);
    if (!upgrade || !caller) {
      socket.end(`HTTP/1.1 ${upgrade ? '401 Unauthorized' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    const denied = caller === 'admin' ? undefined : upgradeDenied(caller, req);
    if (denied) {
      const body = JSON.stringify(denied.status);
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    upgrade(req, socket, head);
  };

  const cluster: SimCluster = {
    name: opts.clusterName,
    registerNode: (reg: NodeRegistration) => nodes.register(reg),
    setNodeReady: (name, ready, reason) => nodes.setReady(name, ready, reason),
    removeNode: (name) => nodes.remove(name),
    hasNode: (name) => ctx.store.has('nodes', undefined, name),
    apply: (obj) => void api.apply(obj),
  };

  const sim: KubeSim = {
    cluster,
    handler,
    get faults() { return ctx.faults; },
    set faults(f: KubeFaults) { ctx.faults = f; },
    api,
    store: ctx.store,
    addController: (c) => controllers.add(c),
    reconcile: () => controllers.reconcile(),
    setUpgradeHandler: (h) => { upgrade = h; },
    exec,
    registerExecHandler: (match, handler) => exec.register(match, handler),
    readinessTimeline: (group) => timeline.list(group),
    counters: () => ({ ...ctx.counters }),
    listen(p: number, lopts?: { scheme?: 'http' | 'https' }): Promise<string> {
      const { key, cert: certPem } = tlsCert();
      const plain = createServer(handler).on('upgrade', onUpgrade);
      const secure = createHttpsServer({ key, cert: certPem }, handler).on('upgrade', onUpgrade);
      // One port, two protocols: a TLS ClientHello starts with 0x16.
      const front = createNetServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        socket.once('data', (buf: Buffer) => {
          socket.pause();
          socket.unshift(buf);
          (buf[0] === 0x16 ? secure : plain).emit('connection', socket);
          process.nextTick(() => socket.resume());
        });
      });
      return new Promise((resolve, reject) => {
        front.once('error', reject);
        front.listen(p, '127.0.0.1', () => {
          server = front;
          const addr = front.address();
          port = typeof addr === 'object' && addr ? addr.port : p;
          resolve(lopts?.scheme === 'https' ? `https://127.0.0.1:${port}` : `http://127.0.0.1:${port}`);
        });
      });
    },
    urls: () => (server ? { http: `http://127.0.0.1:${port}`, https: `https://127.0.0.1:${port}` } : undefined),
    kubeconfig(identity: 'admin' | 'restricted' = 'admin'): string {
      if (!server) throw new Error('kube sim: listen() first');
      if (identity === 'restricted' && !opts.restricted) throw new Error('kube sim: no restricted identity configured');
      const name = opts.clusterName;
      const user = identity === 'admin' ? `${name}-admin` : opts.restricted!.user;
      const token = identity === 'admin' ? opts.token : opts.restricted!.token;
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: ${JSON.stringify(name)}`,
        '  cluster:',
        `    server: https://127.0.0.1:${port}`,
        '    insecure-skip-tls-verify: true',
        'users:',
        `- name: ${JSON.stringify(user)}`,
        '  user:',
        `    token: ${JSON.stringify(token)}`,
        'contexts:',
        `- name: ${JSON.stringify(name)}`,
        '  context:',
        `    cluster: ${JSON.stringify(name)}`,
        `    user: ${JSON.stringify(user)}`,
        `current-context: ${JSON.stringify(name)}`,
        '',
      ].join('\n');
    },
    get tls() { return { cert: tlsCert().cert }; },
    close(): Promise<void> {
      ctx.timers.clear();
      watches.closeAll();
      exec.closeAll();
      const s = server;
      server = undefined;
      if (!s) return Promise.resolve();
      return new Promise((resolve) => {
        s.close(() => resolve());
        for (const sock of sockets) sock.destroy();
      });
    },
  };
  return sim;
}
