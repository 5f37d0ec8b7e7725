/**
 * A real Kubernetes control plane on 127.0.0.1 for the `control-plane` test bed: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and KWOK (which plays the kubelets), built from the Go
 * module proxy by scripts/control-plane/build.ts (see testbeds/control-plane/build.ts).
 *
 * Secure by default: TLS everywhere (etcd too), a client certificate per component identity, RBAC
 * (`--authorization-mode=Node,RBAC`), anonymous requests refused, service-account tokens signed with a
 * generated key. The worker's identity is the ServiceAccount `itinerant/itinerant-worker` bound by the
 * RBAC `itinerant rbac render` renders for the test beds' fleet, with a token from the TokenRequest API.
 *
 * A component that fails to start is reported with the tail of its log (ControlPlaneStartError), never
 * a hang: every wait has a deadline and watches the processes.
 *
 * NOTE: node-only module (child processes, files); workflow code must not import it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import YAML from 'yaml';
import { ControlPlaneUnavailable, ensureControlPlaneBinaries, findControlPlaneBinaries, pinnedVersions, type ControlPlaneBinary, type PinnedVersions } from './build.js';
import { KWOK_CONFIG, KWOK_CONTAINER_LOG, KWOK_EXEC_CRD, KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE, kwokClusterLogs } from './kwok-config.js';
import { kubeconfigYaml, makePki, type CertFiles, type Pki } from './pki.js';
import { startApiFront, type ApiFront } from './api-front.js';
import { getFreePort } from '../temporal/temporal-cli.js';
import { testbedWorkerRbac, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT, WORKER_USER } from '../worker-identity.js';

export { ControlPlaneUnavailable, ensureControlPlaneBinaries, findControlPlaneBinaries, pinnedVersions } from './build.js';
export { KUBELET_REASON_ANNOTATION, KUBELET_STATE_ANNOTATION, KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE, KWOK_POD_DELETE_DELAY_ANNOTATION } from './kwok-config.js';

export { WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT } from '../worker-identity.js';

export class ControlPlaneStartError extends Error {
  constructor(
    message: string,
    readonly component: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- last lines of ${component}'s log ---\n${logTail}`);
    this.name = 'ControlPlaneStartError';
  }
}

export interface ControlPlaneOptions {
  /** Working directory: pki/, etcd data, logs/, kubeconfigs. */
  dir: string;
  /** Cluster name used in kubeconfigs (default `sim-1`). */
  clusterName?: string;
  /** How long each start phase may take (default 120 s). */
  startTimeoutMs?: number;
  /** Extra flags per component (tests use this to make one fail). */
  extraArgs?: Partial<Record<ControlPlaneBinary, string[]>>;
  /** Build the binaries when missing (default false: throw ControlPlaneUnavailable naming the build command). */
  build?: boolean;
  /**
   * Directories put first on KWOK's PATH. KWOK answers pods/exec by running the command on this host
   * (as configured by `Exec` objects, kwok.x-k8s.io/v1alpha1), so these hold what a pod's commands are here.
   */
  execPath?: string[];
  /** The worker's RBAC manifest (default: rendered for the test beds' fleet, testbedWorkerRbac); its namespaces are created first. */
  workerRbac?: string;
  /**
   * 2: two kube-apiservers on the one etcd behind a front (api-front.ts) that every client connects to, restarted
   * one at a time, so that a restart fails no request. Default 1: one API server, connected to directly.
   */
  apiServers?: 1 | 2;
  log?: (line: string) => void;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port>: the API server, or the front before the two. */
  url: string;
  /** With two API servers: the front, whose `worker` listener the worker's kubeconfig names (its failures are the worker's). */
  front?: ApiFront;
  clusterName: string;
  versions: PinnedVersions;
  pki: Pki;
  /** system:masters client certificate: what a person's kubectl uses, and the fleet dynamics (kubelet registration). */
  adminKubeconfigPath: string;
  /** ServiceAccount itinerant/itinerant-worker (token), bound by the worker's rendered RBAC (workerRbac) only. */
  workerKubeconfigPath: string;
  logsDir: string;
  /**
   * Where the kubelets answer (KWOK's server, TLS, on 127.0.0.1): a Node must report this port in
   * status.daemonEndpoints and 127.0.0.1 as its InternalIP for pods/exec to reach its kubelet.
   */
  kubeletPort: number;
  /** Milliseconds from spawning etcd to a ready control plane. */
  startMs: number;
  /** etcd's client URL (TLS; the apiserver-etcd-client certificate of pki.clients authenticates). */
  etcdUrl: string;
  /**
   * Restart kube-apiserver with other key files (a control-plane member repaved with a new keyring): stopped
   * gracefully, started on the same port, ready again before this resolves. With two, one at a time, each
   * taken out of the front first and put back once ready.
   */
  restartApiServer(keys: ApiServerKeys): Promise<void>;
  /** Each API server stopped by restartApiServer: how long after SIGTERM it exited, and whether it had to be killed. */
  apiServerStops(): ApiServerStop[];
  /** Admin JSON request (for setup and the fleet dynamics). Resolves {status, body}. */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** The admin's TLS material (PEM), for streaming requests such as watches. */
  adminTls: { ca: string; cert: string; key: string };
  stop(): Promise<void>;
}

export interface ApiServerStop {
  name: string;
  exitMs: number;
  /** Still running API_SERVER_EXIT_WITHIN_MS after SIGTERM: SIGKILLed (its open requests cut off). */
  killed: boolean;
}

/**
 * kube-apiserver's graceful termination. It keeps serving for the shutdown delay after SIGTERM, with /readyz failing
 * (the front has taken it out before), so that connections already relayed to it are answered. Its watches then end
 * within their grace period: without one, its HTTP server waits for them until its 60 s shutdown timeout (the
 * controllers', the scheduler's and KWOK's watches keep their connections busy), which is why it lingered.
 */
const API_SERVER_SHUTDOWN_DELAY = '2s';
const API_SERVER_WATCH_GRACE = '5s';
/** Delay, watch grace, draining and closing its storage, with room to spare on a loaded machine. */
const API_SERVER_EXIT_WITHIN_MS = 30_000;

/** The API server's key files: what a key rotation changes. */
export interface ApiServerKeys {
  clientCaFile: string;
  serviceAccountKeyFiles: string[];
  serviceAccountSigningKeyFile: string;
  encryptionProviderConfig?: string;
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A JSON request over mutual TLS. */
function tlsRequest(
  url: string,
  tls: { ca: string; cert?: string; key?: string; token?: string },
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  timeoutMs = 15_000,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        ca: tls.ca,
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          ...(tls.token ? { authorization: `Bearer ${tls.token}` } : {}),
        },
        timeout: timeoutMs,
        // a connection per request: a kept-alive one to an API server that restarts may be closed under the next
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* plain text (healthz) */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

const live = new Set<Proc>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner that dies must not leave an API server behind.
  process.once('exit', () => {
    for (const p of live) if (!p.exited) p.child.kill('SIGKILL');
  });
}

/**
 * Start etcd, kube-apiserver, apply RBAC, then kube-controller-manager, kube-scheduler and kwok, and
 * wait until the API serves, the controllers run (the `default` ServiceAccount exists) and the worker
 * identity has a token.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const clusterName = opts.clusterName ?? 'sim-1';
  const timeout = opts.startTimeoutMs ?? 120_000;
  const started = Date.now();
  const bins = opts.build ? (await ensureControlPlaneBinaries({ log })).binaries : findControlPlaneBinaries();
  if (!bins) {
    throw new ControlPlaneUnavailable(
      `the control-plane binaries (kubernetes ${pinnedVersions().kubernetes}) are not built yet: run \`npm run control-plane:build\` ` +
        '(Go and the Go module proxy needed; a cold build takes about 5-6 minutes on 2 cores)',
    );
  }
  const dir = opts.dir;
  const logsDir = join(dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const pki = makePki(join(dir, 'pki'));
  const ca = readFileSync(pki.ca.cert, 'utf8');
  const certOf = (c: CertFiles) => ({ cert: readFileSync(c.cert, 'utf8'), key: readFileSync(c.key, 'utf8') });
  const admin = certOf(pki.clients.admin!);
  const [etcdPort, etcdPeerPort, kubeletPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
  const apiPorts: number[] = [];
  for (let i = 0; i < (opts.apiServers ?? 1); i++) apiPorts.push(await getFreePort());
  let front: ApiFront | undefined;
  let url = `https://127.0.0.1:${apiPorts[0]}`;
  const procs: Proc[] = [];
  installExitHook();

  const writeKubeconfig = (name: string, client: CertFiles | { token: string }, user = name, server = url): string => {
    const p = join(dir, `${name}.kubeconfig`);
    writeFileSync(p, kubeconfigYaml({ server, caFile: pki.ca.cert, user, cluster: clusterName, client }), { mode: 0o600 });
    return p;
  };

  /** `member`: which of several of a kind (the second API server logs to kube-apiserver-1.log). */
  const spawnComponent = (bin: ControlPlaneBinary, args: string[], env?: NodeJS.ProcessEnv, member = 0): Proc => {
    const name = member ? `${bin}-${member}` : bin;
    const logFile = join(logsDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(bins[bin], [...args, ...(opts.extraArgs?.[bin] ?? [])], { cwd: dir, stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
    closeSync(fd);
    const p: Proc = { name, child, logFile };
    child.once('exit', (code, signal) => {
      p.exited = { code, signal };
      live.delete(p);
    });
    child.once('error', (e) => {
      p.exited = { code: -1, signal: null };
      writeFileSync(logFile, `spawn failed: ${e.message}\n`, { flag: 'a' });
    });
    procs.push(p);
    live.add(p);
    log(`started ${name} (pid ${child.pid}), log ${logFile}`);
    return p;
  };

  const stop = async (): Promise<void> => {
    await front?.close();
    for (const p of [...procs].reverse()) if (!p.exited) p.child.kill('SIGTERM');
    const until = Date.now() + 3_000;
    while (procs.some((p) => !p.exited) && Date.now() < until) await sleep(100);
    for (const p of procs) if (!p.exited) p.child.kill('SIGKILL');
    while (procs.some((p) => !p.exited)) await sleep(50);
  };

  /** Poll `check` until it returns true; fail with the log tail of a component that exited, or of `blame` at the deadline. */
  const waitFor = async (what: string, blame: Proc, check: () => Promise<boolean>): Promise<void> => {
    const until = Date.now() + timeout;
    let lastError = '';
    for (;;) {
      const dead = procs.find((p) => p.exited);
      if (dead) {
        await sleep(200); // let its last words reach the log
        throw new ControlPlaneStartError(
          `control plane: ${dead.name} exited (code ${dead.exited!.code}, signal ${dead.exited!.signal}) while waiting for ${what}`,
          dead.name,
          tail(dead.logFile),
        );
      }
      try {
        if (await check()) return;
      } catch (e) {
        lastError = (e as Error).message;
      }
      if (Date.now() > until) {
        throw new ControlPlaneStartError(
          `control plane: timed out after ${timeout} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
          blame.name,
          tail(blame.logFile),
        );
      }
      await sleep(250);
    }
  };

  const adminRequest = (method: string, path: string, body?: unknown, contentType?: string) =>
    tlsRequest(url, { ca, ...admin }, method, path, body, contentType);
  const readyz = async (port: number, timeoutMs?: number) => (await tlsRequest(`https://127.0.0.1:${port}`, { ca, ...admin }, 'GET', '/readyz', undefined, undefined, timeoutMs)).status === 200;

  try {
    // ---- etcd (TLS for clients, client certificates required) ----
    const etcd = spawnComponent('etcd', [
      '--name=itinerant',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=https://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=https://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=itinerant=http://127.0.0.1:${etcdPeerPort}`,
      `--cert-file=${pki.clients.etcd!.cert}`,
      `--key-file=${pki.clients.etcd!.key}`,
      `--trusted-ca-file=${pki.ca.cert}`,
      '--client-cert-auth=true',
      // a throwaway test bed: no fsync (much faster on a shared disk), small backend
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=1073741824',
      '--log-level=warn',
    ]);

    // ---- kube-apiserver ----
    const apiServerArgs = (keys: ApiServerKeys, member: number) => [
      `--etcd-servers=https://127.0.0.1:${etcdPort}`,
      `--etcd-cafile=${pki.ca.cert}`,
      `--etcd-certfile=${pki.clients['apiserver-etcd-client']!.cert}`,
      `--etcd-keyfile=${pki.clients['apiserver-etcd-client']!.key}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPorts[member]}`,
      `--cert-dir=${join(dir, `apiserver-certs-${member}`)}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${keys.clientCaFile}`,
      '--anonymous-auth=false',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      // pods/exec reaches the kubelets (KWOK) over TLS: their certificate checked, ours presented
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-certificate-authority=${pki.ca.cert}`,
      `--kubelet-client-certificate=${pki.clients['apiserver-kubelet-client']!.cert}`,
      `--kubelet-client-key=${pki.clients['apiserver-kubelet-client']!.key}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      ...keys.serviceAccountKeyFiles.map((f) => `--service-account-key-file=${f}`),
      `--service-account-signing-key-file=${keys.serviceAccountSigningKeyFile}`,
      ...(keys.encryptionProviderConfig ? [`--encryption-provider-config=${keys.encryptionProviderConfig}`] : []),
      `--shutdown-delay-duration=${API_SERVER_SHUTDOWN_DELAY}`,
      `--shutdown-watch-termination-grace-period=${API_SERVER_WATCH_GRACE}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ];
    const initialKeys = { clientCaFile: pki.ca.cert, serviceAccountKeyFiles: [pki.saPub], serviceAccountSigningKeyFile: pki.saKey };
    const apiservers = apiPorts.map((_, i) => spawnComponent('kube-apiserver', apiServerArgs(initialKeys, i), undefined, i));
    void etcd;
    for (const [i, p] of apiservers.entries()) await waitFor(`kube-apiserver ${i} /readyz`, p, () => readyz(apiPorts[i]!));
    if (apiPorts.length > 1) {
      front = await startApiFront({ backends: apiPorts.map((port, i) => ({ name: `kube-apiserver-${i}`, port })), listeners: ['cluster', 'worker'], readyz: (port) => readyz(port, 2_000) });
      url = front.url('cluster');
      log(`api front: ${url} (worker: ${front.url('worker')}) before kube-apiservers on ${apiPorts.join(', ')}`);
    }

    // ---- RBAC: the worker's rendered RBAC (the stateful-service namespaces it names exist first, as on a cluster that runs them), and kwok's own role ----
    await applyManifest(adminRequest, opts.workerRbac ?? testbedWorkerRbac(clusterName), { createNamespaces: true });
    await applyManifest(adminRequest, KWOK_RBAC);
    // KWOK's Exec resource: which local command answers pods/exec for a pod (created per pod by the test bed)
    await applyManifest(adminRequest, KWOK_EXEC_CRD);
    await waitFor('the Exec CustomResourceDefinition established', apiservers[0]!, async () => {
      const r = await adminRequest('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/execs.kwok.x-k8s.io');
      return (r.body?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True');
    });
    // each API server serves it once its own watch on CRDs has it
    for (const [i, port] of apiPorts.entries()) {
      await waitFor(`kube-apiserver ${i} serving Execs`, apiservers[i]!, async () => (await tlsRequest(`https://127.0.0.1:${port}`, { ca, ...admin }, 'GET', '/apis/kwok.x-k8s.io/v1alpha1/execs')).status === 200);
    }

    // ---- controllers, scheduler, kwok ----
    const kcmKubeconfig = writeKubeconfig('kube-controller-manager', pki.clients['kube-controller-manager']!, 'system:kube-controller-manager');
    const schedKubeconfig = writeKubeconfig('kube-scheduler', pki.clients['kube-scheduler']!, 'system:kube-scheduler');
    const kwokKubeconfig = writeKubeconfig('kwok', pki.clients.kwok!, 'itinerant:kwok');
    const adminKubeconfigPath = writeKubeconfig('admin', pki.clients.admin!, 'itinerant-admin');
    const kcm = spawnComponent('kube-controller-manager', [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await getFreePort()}`,
      `--cert-dir=${join(dir, 'kcm-certs')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.ca.cert}`,
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--cluster-name=${clusterName}`,
      '--controllers=*,-node-ipam-controller,-service-lb-controller,-cloud-node-lifecycle-controller,-node-route-controller,-persistentvolume-attach-detach-controller,-horizontal-pod-autoscaler-controller',
      // let PodDisruptionBudget status and the controllers react quickly, as in the sim
      '--concurrent-deployment-syncs=5',
      '--profiling=false',
      '--v=1',
    ]);
    const scheduler = spawnComponent('kube-scheduler', [
      `--kubeconfig=${schedKubeconfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`,
      `--authorization-kubeconfig=${schedKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await getFreePort()}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
    ]);
    const kwokConfig = join(dir, 'kwok.yaml');
    const containerLog = join(dir, 'container.log');
    writeFileSync(containerLog, KWOK_CONTAINER_LOG);
    writeFileSync(kwokConfig, KWOK_CONFIG + kwokClusterLogs(containerLog));
    const kwokEnv = { ...process.env, PATH: [...(opts.execPath ?? []), process.env.PATH ?? ''].join(':') };
    spawnComponent('kwok', [
      `--kubeconfig=${kwokKubeconfig}`,
      `--config=${kwokConfig}`,
      // the kubelet API (pods/exec) for every node it plays, TLS with a certificate of our CA
      `--server-address=127.0.0.1:${kubeletPort}`,
      `--tls-cert-file=${pki.kubelet.cert}`,
      `--tls-private-key-file=${pki.kubelet.key}`,
      '--enable-crds=Exec',
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
      '--node-lease-duration-seconds=40',
      '--cidr=10.0.0.0/16',
      '--node-ip=127.0.0.1',
    ], kwokEnv);

    // The controllers run when the serviceaccount controller has made `default` in `default`.
    await waitFor('kube-controller-manager (ServiceAccount default/default)', kcm, async () => (await adminRequest('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200);
    void scheduler;

    // ---- the worker identity: a token for the ServiceAccount bound by the worker's RBAC ----
    let token = '';
    await waitFor('a token for itinerant/itinerant-worker', apiservers[0]!, async () => {
      const r = await adminRequest('POST', `/api/v1/namespaces/${WORKER_NAMESPACE}/serviceaccounts/${WORKER_SERVICE_ACCOUNT}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 86_400 },
      });
      token = r.body?.status?.token ?? '';
      return r.status === 201 && token !== '';
    });
    const workerKubeconfigPath = writeKubeconfig('worker', { token }, WORKER_USER, front?.url('worker') ?? url);
    const startMs = Date.now() - started;
    log(`control plane ready at ${url} in ${startMs} ms`);
    const stops: ApiServerStop[] = [];
    const restartApiServer = async (keys: ApiServerKeys): Promise<void> => {
      for (const [i, old] of apiservers.entries()) {
        const name = `kube-apiserver-${i}`;
        await front?.takeOut(name);
        // A graceful termination, as a repaved member behind a load balancer: it serves on for its shutdown delay
        // (what the front relayed to it before the take-out is answered), then stops listening, drains its requests,
        // ends its watches within their grace period and exits. Bounded: killed only past that, and recorded.
        const sent = Date.now();
        old.child.kill('SIGTERM');
        while (!old.exited && Date.now() - sent < API_SERVER_EXIT_WITHIN_MS) await sleep(100);
        const killed = !old.exited;
        if (killed) {
          log(`${name} still running ${API_SERVER_EXIT_WITHIN_MS} ms after SIGTERM: killed (see ${old.logFile})`);
          old.child.kill('SIGKILL');
        }
        while (!old.exited) await sleep(50);
        stops.push({ name, exitMs: Date.now() - sent, killed });
        procs.splice(procs.indexOf(old), 1);
        apiservers[i] = spawnComponent('kube-apiserver', apiServerArgs(keys, i), undefined, i);
        await waitFor(`kube-apiserver ${i} /readyz after a restart`, apiservers[i]!, () => readyz(apiPorts[i]!));
        await front?.putBack(name, timeout);
      }
    };
    return {
      url,
      ...(front ? { front } : {}),
      clusterName,
      etcdUrl: `https://127.0.0.1:${etcdPort}`,
      restartApiServer,
      apiServerStops: () => structuredClone(stops),
      versions: pinnedVersions(),
      pki,
      adminKubeconfigPath,
      workerKubeconfigPath,
      logsDir,
      kubeletPort,
      startMs,
      request: adminRequest,
      adminTls: { ca, ...admin },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** KWOK plays every kubelet: node and pod status, pod deletion, node leases. Its own identity, not system:masters. */
const KWOK_RBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: itinerant:kwok
rules:
- apiGroups: [""]
  resources: ["nodes", "pods"]
  verbs: ["get", "list", "watch", "patch", "update", "delete"]
- apiGroups: [""]
  resources: ["nodes/status", "pods/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch", "update"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch", "update"]
- apiGroups: ["kwok.x-k8s.io"]
  resources: ["execs"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["kwok.x-k8s.io"]
  resources: ["execs/status"]
  verbs: ["get", "patch", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: itinerant:kwok
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: itinerant:kwok
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: itinerant:kwok
`;

/** Kind → collection path (the few kinds the test bed creates). */
export function collectionPath(obj: { apiVersion?: string; kind?: string; metadata?: { namespace?: string } }): string {
  const kinds: Record<string, [string, boolean]> = {
    Namespace: ['namespaces', false],
    ServiceAccount: ['serviceaccounts', true],
    Node: ['nodes', false],
    Pod: ['pods', true],
    Secret: ['secrets', true],
    ConfigMap: ['configmaps', true],
    PersistentVolumeClaim: ['persistentvolumeclaims', true],
    Service: ['services', true],
    Deployment: ['deployments', true],
    DaemonSet: ['daemonsets', true],
    StatefulSet: ['statefulsets', true],
    ReplicaSet: ['replicasets', true],
    PodDisruptionBudget: ['poddisruptionbudgets', true],
    ClusterRole: ['clusterroles', false],
    ClusterRoleBinding: ['clusterrolebindings', false],
    Role: ['roles', true],
    RoleBinding: ['rolebindings', true],
    PriorityClass: ['priorityclasses', false],
    PersistentVolume: ['persistentvolumes', false],
    StorageClass: ['storageclasses', false],
    CustomResourceDefinition: ['customresourcedefinitions', false],
    Exec: ['execs', true],
  };
  const k = kinds[obj.kind ?? ''];
  if (!k) throw new Error(`control plane: no REST path known for kind ${obj.kind}`);
  const apiVersion = obj.apiVersion ?? 'v1';
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return k[1] ? `${base}/namespaces/${obj.metadata?.namespace ?? 'default'}/${k[0]}` : `${base}/${k[0]}`;
}

type AdminRequest = ControlPlane['request'];

/** Create every document of a YAML manifest (existing objects are left as they are); with createNamespaces, the namespaces its objects are in too. */
export async function applyManifest(req: AdminRequest, yaml: string, { createNamespaces = false } = {}): Promise<void> {
  const objects = YAML.parseAllDocuments(yaml)
    .map((doc) => doc.toJSON() as Record<string, any> | null)
    .filter((o): o is Record<string, any> => !!o);
  if (createNamespaces) {
    const namespaces = new Set(objects.map((o) => o.metadata?.namespace).filter((ns): ns is string => !!ns));
    for (const name of namespaces) await createObject(req, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  for (const obj of objects) await createObject(req, obj);
}

export async function createObject(req: AdminRequest, obj: Record<string, any>): Promise<void> {
  const r = await req('POST', collectionPath(obj), obj);
  if (r.status === 201 || r.status === 200 || r.status === 409) return;
  throw new Error(`create ${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}: ${r.status} ${r.body?.message ?? JSON.stringify(r.body)}`);
}

