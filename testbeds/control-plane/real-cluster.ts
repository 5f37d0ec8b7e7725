// SimCluster over a real Kubernetes API server (the `control-plane` test bed): the simulated OCI
// fleet's dynamics register a Node when an instance boots and remove it when it is terminated, but
// everything else — scheduling, ReplicaSets, DaemonSets, StatefulSets, PodDisruptionBudget status,
// evictions, watches, RBAC — is the real kube-apiserver, kube-controller-manager and kube-scheduler.
// KWOK plays the kubelets: a node carries KWOK's annotation while its (simulated) kubelet runs, and
// KWOK then keeps it Ready, renews its lease and runs the pods bound to it.
//
// SimCluster is synchronous (the sim's fleet calls it from timers); here each call is queued and
// sent in order, and hasNode() answers from a local view kept current by a watch on Nodes.
import { writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { initialServiceAccountKey, restartWithKeyrings } from './keyring.js';
import path from 'node:path';
import { createControlServer, type ControlKube } from '../sim/control.js';
import { createOciSim } from '../sim/oci/index.js';
import { startInformer } from './real-watch.js';
import { startPodReadinessSync } from './pod-readiness.js';
import { kubeletCapacity, kubeletConditions, kubeletNodeInfo } from '../sim/kubelet-status.js';
import { CONTROL_PLANE_REPORT } from '../../src/activities/keyring.js';
import { LABEL_CONTROL_PLANE } from '../../src/core/labels.js';
import { reportConfigMap, startSimKeyrings, type ControlPlaneMember } from '../sim/keyring/index.js';
import { writeSimFiles } from '../sim/fleet-file.js';
import { TESTBED_STATEFUL_NAMESPACES, testbedWorkerRbac, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT } from '../worker-identity.js';
import { DEFAULT_FLEET_SHAPE, kubeProxyMirrorPod, seedFleet, SIM_CLUSTER, SIM_COMPARTMENT, SIM_REGION } from '../sim/seed.js';
import type { KubeSim, SimHandle, StartSimOptions } from '../sim/index.js';
import { cassandraObjects, createCassandraSim } from '../sim/cassandra/index.js';
import { blockVolumeStorageClass, RealWorkloads, writeExecShims } from './real-workloads.js';
import type { NodeRegistration, SimCluster } from '../sim/kube/cluster-api.js';
import type { ReadinessPoint } from '../sim/kube/nodes.js';
import type { KubeFaults } from '../sim/kube/context.js';
import {
  createObject,
  KWOK_NODE_ANNOTATION,
  KWOK_NODE_ANNOTATION_VALUE,
  KWOK_POD_DELETE_DELAY_ANNOTATION,
  KUBELET_REASON_ANNOTATION,
  KUBELET_STATE_ANNOTATION,
  startControlPlane,
  type ControlPlane,
} from './control-plane.js';

const NODE_GROUP_LABEL = 'itinerant.dev/node-group';
const MERGE = 'application/merge-patch+json';

type Req = ControlPlane['request'];
interface KNode {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

const nodeReady = (n: KNode) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export interface RealClusterOptions {
  clusterName: string;
  controlPlane: Pick<ControlPlane, 'request' | 'url' | 'adminTls' | 'kubeletPort'>;
  log?: (line: string) => void;
}

export class RealCluster implements SimCluster {
  readonly name: string;
  /** Requests that failed (also logged): a test can assert there are none. */
  readonly errors: string[] = [];
  private readonly req: Req;
  private readonly log: (line: string) => void;
  private queue: Promise<void> = Promise.resolve();
  private seq = 0;
  /** Nodes as the watch last saw them (plus names registered but not yet echoed). */
  private readonly nodes = new Map<string, KNode | undefined>();
  private readonly points: ReadinessPoint[] = [];
  private readonly last = new Map<string, { ready: number; readySchedulable: number }>();
  private closeWatch: (() => void) | undefined;
  private stopPodSync: (() => void) | undefined;

  constructor(private readonly opts: RealClusterOptions) {
    this.name = opts.clusterName;
    this.req = opts.controlPlane.request;
    this.log = opts.log ?? (() => {});
  }

  // ---- SimCluster ----

  registerNode(reg: NodeRegistration): void {
    const name = reg.name.toLowerCase();
    const seq = this.seq++;
    this.nodes.set(name, this.nodes.get(name));
    // What a kubelet registers: labels, taints (plus not-ready until it reports Ready), capacity, addresses, nodeInfo.
    const taints = [...(reg.taints ?? [])];
    if (!reg.ready) taints.push({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
    const now = new Date().toISOString();
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name, ...reg.labels },
        // KWOK plays this node's kubelet (it only takes on nodes created with its annotation); our kubelet state drives its stages.
        annotations: { ...reg.annotations, [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE, [KUBELET_STATE_ANNOTATION]: reg.ready ? 'ready' : 'starting' },
      },
      spec: { providerID: reg.providerID, ...(taints.length ? { taints } : {}) },
      status: {
        ...kubeletCapacity(),
        conditions: kubeletConditions(reg.ready, now),
        // every kubelet is KWOK on this host: the API server reaches it there for pods/exec
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: this.opts.controlPlane.kubeletPort } },
        nodeInfo: kubeletNodeInfo(seq, { kubelet: 'v1.36.3', kubeProxy: '' }),
      },
    };
    this.enqueue(`register node ${name}`, async () => {
      const r = await this.req('POST', '/api/v1/nodes', node);
      if (r.status === 409) {
        // re-registration of an existing node (same as the sim: labels merged, readiness reported)
        await this.must(`relabel node ${name}`, this.req('PATCH', `/api/v1/nodes/${name}`, { metadata: { labels: reg.labels } }, MERGE));
        await this.kubelet(name, reg.ready);
        return;
      }
      if (r.status !== 201) throw new Error(`${r.status} ${r.body?.message ?? ''}`);
    });
  }

  setNodeReady(name: string, ready: boolean, reason?: string): void {
    if (!this.nodes.has(name)) throw new Error(`node ${name} not found`);
    this.enqueue(`node ${name} ${ready ? 'Ready' : 'NotReady'}`, () => this.kubelet(name, ready, reason));
  }

  removeNode(name: string): void {
    if (!this.nodes.has(name)) return;
    this.nodes.delete(name);
    // The kubelet is gone and the cloud removes the Node; the pod GC controller deletes its pods.
    this.enqueue(`remove node ${name}`, async () => {
      const r = await this.req('DELETE', `/api/v1/nodes/${name}`);
      if (r.status !== 200 && r.status !== 404) throw new Error(`${r.status} ${r.body?.message ?? ''}`);
    });
  }

  hasNode(name: string): boolean {
    return this.nodes.has(name);
  }

  apply(obj: Record<string, unknown>): void {
    const o = obj as { kind?: string; metadata?: { namespace?: string; name?: string } };
    this.enqueue(`create ${o.kind} ${o.metadata?.namespace ? o.metadata.namespace + '/' : ''}${o.metadata?.name}`, () => createObject(this.req, obj));
  }

  // ---- the rest of the test bed ----

  /** Resolves when every queued request has been sent (and answered). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Every change of the Ready / Ready+schedulable node count per node group, as seen by a watch on Nodes. */
  readinessTimeline(group?: string): ReadinessPoint[] {
    return this.points.filter((p) => group === undefined || p.group === group).map((p) => ({ ...p }));
  }

  /**
   * The real equivalent of the sim's `evictionDelayMs`: KWOK deletes a terminating pod after the delay in
   * its annotation (see testbeds/control-plane/kwok-config.ts). Set on every pod outside kube-system now.
   */
  setPodDeleteDelay(ms: number): void {
    this.enqueue(`pod delete delay ${ms} ms`, async () => {
      const r = await this.req('GET', '/api/v1/pods');
      const pods = (r.body?.items ?? []) as { metadata: { name: string; namespace: string } }[];
      await Promise.all(
        pods
          .filter((p) => p.metadata.namespace !== 'kube-system')
          .map((p) =>
            this.req('PATCH', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, { metadata: { annotations: { [KWOK_POD_DELETE_DELAY_ANNOTATION]: `${ms}ms` } } }, MERGE),
          ),
      );
    });
  }

  /** Start the Nodes watch (call once, before seeding). Resolves after the initial list. */
  async start(): Promise<void> {
    const informer = startInformer<KNode>(this.opts.controlPlane, '/api/v1/nodes', (type, n) => this.onNodeEvent(type, n));
    this.closeWatch = () => informer.close();
    await informer.started;
    this.stopPodSync = startPodReadinessSync(this.req, (name) => this.nodes.get(name), this.log);
  }

  close(): void {
    this.closeWatch?.();
    this.stopPodSync?.();
  }

  // ---- internals ----

  /** The (simulated) kubelet is up (KWOK reports the node Ready) or stopped (KWOK reports it NotReady). */
  private async kubelet(name: string, ready: boolean, reason?: string): Promise<void> {
    const annotations = { [KUBELET_STATE_ANNOTATION]: ready ? 'ready' : 'stopped', [KUBELET_REASON_ANNOTATION]: ready ? null : (reason ?? 'KubeletNotReady') };
    await this.must(`kubelet ${ready ? 'up' : 'stopped'} on ${name}`, this.req('PATCH', `/api/v1/nodes/${name}`, { metadata: { annotations } }, MERGE), [404]);
  }

  private async must(what: string, p: Promise<{ status: number; body: any }>, ok: number[] = []): Promise<void> {
    const r = await p;
    if (r.status >= 300 && !ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.body?.message ?? ''}`);
  }

  /**
   * Requests in order, each retried for a minute as kubelets and the cloud do: the API server may be
   * restarting (a key rotation restarts it at every phase) and refuse connections or, just started, requests.
   */
  private enqueue(what: string, fn: () => Promise<void>): void {
    const attempt = async () => {
      const until = Date.now() + 60_000;
      for (;;) {
        try {
          return await fn();
        } catch (e) {
          if (Date.now() > until) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    this.queue = this.queue.then(attempt).catch((e: unknown) => {
      const line = `real cluster: ${what} failed: ${(e as Error).message}`;
      this.errors.push(line);
      this.log(line);
    });
  }

  private recompute(group: string): void {
    let ready = 0;
    let readySchedulable = 0;
    for (const n of this.nodes.values()) {
      if (!n || n.metadata.labels?.[NODE_GROUP_LABEL] !== group || !nodeReady(n)) continue;
      ready++;
      if (!n.spec?.unschedulable) readySchedulable++;
    }
    const prev = this.last.get(group);
    if (prev && prev.ready === ready && prev.readySchedulable === readySchedulable) return;
    this.last.set(group, { ready, readySchedulable });
    this.points.push({ at: new Date().toISOString(), group, ready, readySchedulable });
  }

  private onNodeEvent(type: string, n: KNode): void {
    const name = n.metadata.name;
    const old = this.nodes.get(name);
    if (type === 'DELETED') this.nodes.delete(name);
    else this.nodes.set(name, n);
    const groups = new Set<string>();
    for (const o of [n, old]) {
      const g = o?.metadata.labels?.[NODE_GROUP_LABEL];
      if (g !== undefined) groups.add(g);
    }
    for (const g of groups) this.recompute(g);
  }
}

/**
 * The `kube` side of a SimHandle on the control-plane backend: the parts a test uses that have a real
 * equivalent (readinessTimeline, faults.evictionDelayMs, cluster). Everything else of the in-memory
 * sim (its store, REST layer, exec registry, other faults) does not exist on a real API server and
 * throws, naming the member, so a test that needs it fails loudly instead of passing vacuously.
 */
const SIM_ONLY_MEMBERS = new Set(['handler', 'listen', 'close', 'counters', 'urls', 'kubeconfig', 'tls', 'api', 'store', 'addController', 'reconcile', 'setUpgradeHandler', 'exec', 'registerExecHandler']);

export function realKubeFacade(cluster: RealCluster, defaults: KubeFaults): unknown {
  let evictionDelayMs = defaults.evictionDelayMs;
  const unsupported = (what: string) => new Error(`${what} is a sim-only fault: it has no equivalent on the control-plane test bed`);
  const faults: KubeFaults = {
    get errorRate() {
      return 0;
    },
    set errorRate(v: number) {
      if (v !== 0) throw unsupported('kube.faults.errorRate');
    },
    get errorStatus() {
      return defaults.errorStatus;
    },
    set errorStatus(_v: number) {},
    get evictionDelayMs() {
      return evictionDelayMs;
    },
    set evictionDelayMs(v: number) {
      evictionDelayMs = v;
      cluster.setPodDeleteDelay(v);
    },
    get blockEvictions() {
      return false;
    },
    set blockEvictions(v: boolean) {
      if (v) throw unsupported('kube.faults.blockEvictions (use a PodDisruptionBudget that allows no disruption)');
    },
    get podStartDelayMs() {
      return 0;
    },
    set podStartDelayMs(_v: number) {},
  };
  const facade: Record<string, unknown> = {
    cluster,
    faults,
    readinessTimeline: (group?: string) => cluster.readinessTimeline(group),
  };
  return new Proxy(facade, {
    get(target, prop) {
      if (typeof prop === 'string' && !(prop in target) && SIM_ONLY_MEMBERS.has(prop)) {
        throw new Error(`sim.kube.${prop} belongs to the in-memory Kubernetes sim: it does not exist on the control-plane test bed`);
      }
      return target[prop as string];
    },
  });
}

// ---------------------------------------------------------------------------------------------
// startSim({ backend: 'control-plane' })
// ---------------------------------------------------------------------------------------------

/** Wait until the seeded workloads run as the real controllers see them: nodes Ready, DaemonSet and Deployments ready, PDB status current. */
async function waitSettled(cp: ControlPlane, expectNodes: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let missing: string[] = [];
  for (;;) {
    missing = [];
    const nodes = ((await cp.request('GET', '/api/v1/nodes')).body?.items ?? []) as KNode[];
    const ready = nodes.filter(nodeReady).length;
    if (ready < expectNodes) missing.push(`${ready}/${expectNodes} nodes Ready`);
    for (const ds of ((await cp.request('GET', '/apis/apps/v1/daemonsets')).body?.items ?? []) as any[]) {
      const st = ds.status ?? {};
      if (!(st.desiredNumberScheduled >= expectNodes && st.numberReady === st.desiredNumberScheduled))
        missing.push(`DaemonSet ${ds.metadata.name} ${st.numberReady ?? 0}/${st.desiredNumberScheduled ?? 0}`);
    }
    for (const d of ((await cp.request('GET', '/apis/apps/v1/deployments')).body?.items ?? []) as any[]) {
      if ((d.status?.readyReplicas ?? 0) !== d.spec?.replicas || d.status?.updatedReplicas !== d.spec?.replicas)
        missing.push(`Deployment ${d.metadata.namespace}/${d.metadata.name} ${d.status?.readyReplicas ?? 0}/${d.spec?.replicas}`);
    }
    for (const s of ((await cp.request('GET', '/apis/apps/v1/statefulsets')).body?.items ?? []) as any[]) {
      if ((s.status?.readyReplicas ?? 0) !== s.spec?.replicas) missing.push(`StatefulSet ${s.metadata.namespace}/${s.metadata.name} ${s.status?.readyReplicas ?? 0}/${s.spec?.replicas}`);
    }
    for (const p of ((await cp.request('GET', '/apis/policy/v1/poddisruptionbudgets')).body?.items ?? []) as any[]) {
      if (p.status?.observedGeneration !== p.metadata.generation || (p.status?.currentHealthy ?? 0) < (p.status?.expectedPods ?? 1) || !p.status?.expectedPods)
        missing.push(`PodDisruptionBudget ${p.metadata.namespace}/${p.metadata.name} not current`);
    }
    if (missing.length === 0) return;
    if (Date.now() > until) throw new Error(`control-plane test bed: the seeded fleet did not settle in ${timeoutMs} ms: ${missing.join('; ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A SimHandle whose Kubernetes side is the real control plane. */
export interface ControlPlaneSimHandle extends SimHandle {
  backend: 'control-plane';
  /** The running control plane and the SimCluster over it. */
  controlPlane: ControlPlane;
  realCluster: RealCluster;
}

export async function startSimOnControlPlane(opts: StartSimOptions, defaults: KubeFaults): Promise<ControlPlaneSimHandle> {
  const dir = path.resolve(opts.home, 'sim');
  await mkdir(path.join(dir, 'oci'), { recursive: true, mode: 0o700 });
  const clusterName = SIM_CLUSTER;
  const execBin = await writeExecShims(path.join(dir, 'exec-bin'));
  // the worker is held to the RBAC rendered for the fleet.yaml written below (statefulNamespaces: TESTBED_STATEFUL_NAMESPACES)
  const cp = await startControlPlane({
    dir: path.join(dir, 'control-plane'),
    clusterName,
    execPath: [execBin],
    workerRbac: testbedWorkerRbac(clusterName),
    // restarted at every keyring change: two behind a front, one at a time, as a repaved control plane is
    ...(opts.apiServerKeyrings ? { apiServers: 2 as const } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const cluster = new RealCluster({ clusterName, controlPlane: cp, ...(opts.log ? { log: opts.log } : {}) });
  const kube = realKubeFacade(cluster, { ...defaults, ...opts.kubeFaults }) as KubeSim;
  const oci = createOciSim({
    cluster,
    region: SIM_REGION,
    compartmentId: SIM_COMPARTMENT,
    faults: { ...(opts.bootDelayMs !== undefined ? { bootDelayMs: opts.bootDelayMs } : {}), ...opts.ociFaults },
    ...(opts.nodeReadyDelayMs !== undefined ? { nodeReadyDelayMs: opts.nodeReadyDelayMs } : {}),
    ...(opts.terminateDelayMs !== undefined ? { terminateDelayMs: opts.terminateDelayMs } : {}),
    onNodeRegistered: (nodeName) => cluster.apply(kubeProxyMirrorPod(nodeName)),
    ...(opts.nodeNaming ? { nodeNaming: opts.nodeNaming } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  // Cassandra rings in the real StatefulSets, nodetool / cqlsh through pods/exec → kube-apiserver → KWOK → exec shim
  const workloads = new RealWorkloads(cp, opts.log);
  const cassandra = createCassandraSim(workloads, { faults: opts.cassandraFaults ?? {} });
  const control = createControlServer({ oci, kube: kube as unknown as ControlKube, clusterName, routes: [cassandra.control] });
  const endpointsPath = path.join(dir, 'endpoints.json');
  let stopped = false;
  let keyrings: ControlPlaneMember | undefined;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await rm(endpointsPath, { force: true });
    keyrings?.close();
    cluster.close();
    cassandra.close();
    workloads.close();
    await Promise.allSettled([control.close(), oci.close()]);
    await cp.stop();
  };
  try {
    await cluster.start();
    await workloads.start();
    const workerToken = path.join(dir, 'worker.token');
    ({ member: keyrings } = await startSimKeyrings(oci.vault, {
      clusterName,
      initial: { 'service-account': initialServiceAccountKey(cp) },
      report: (data, annotations) => reportKeyrings(cp, data, annotations),
      ...(opts.apiServerKeyrings
        ? { run: (store) => restartWithKeyrings(cp, store, path.join(dir, 'keyring'), async (_rings, changed) => {
            // as a kubelet refreshes a pod's projected token: a new one, signed by the key that signs now
            if (changed === undefined || changed.includes('service-account')) writeFileSync(workerToken, await workerTokenOf(cp), { mode: 0o600 });
          }) }
        : {}),
    }));
    const member = keyrings;
    oci.fleet.bootAnnotations = () => member.bootAnnotations();
    const seeded = opts.seed === false ? undefined : seedFleet(oci, cluster, Date.now(), { ...DEFAULT_FLEET_SHAPE, ...opts.fleetShape });
    if (seeded) {
      // the Cassandra ring (namespace data, StatefulSet cassandra x4, PDB) on block volumes, as in the sim
      cluster.apply(blockVolumeStorageClass());
      for (const o of cassandraObjects()) cluster.apply(o);
    }
    await cluster.flush();
    if (cluster.errors.length) throw new Error(`control-plane test bed: seeding failed: ${cluster.errors.join('; ')}`);
    if (seeded) await waitSettled(cp, Object.values(seeded.nodes).flat().length + 1, 180_000);
    if (workloads.errors.length) throw new Error(`control-plane test bed: ${workloads.errors.join('; ')}`);
    const ociUrl = await oci.listen(opts.ociPort ?? 0);
    const controlUrl = await control.listen(opts.controlPort ?? 0);
    // fleet.yaml's kubeconfig is the worker's: ServiceAccount itinerant/itinerant-worker, held to the RBAC rendered for this fleet.yaml.
    const { kubeconfigPath, adminKubeconfigPath, ociConfigPath, fleetConfigPath } = await writeSimFiles(dir, {
      clusterName,
      kubeconfig: opts.apiServerKeyrings ? tokenFileKubeconfig(await readFile(cp.workerKubeconfigPath, 'utf8'), workerToken) : await readFile(cp.workerKubeconfigPath),
      adminKubeconfig: await readFile(cp.adminKubeconfigPath),
      oci,
      ociUrl,
      nodeGroups: seeded?.nodeGroups,
      statefulNamespaces: TESTBED_STATEFUL_NAMESPACES,
      etcd: { endpoints: [cp.etcdUrl], caFile: cp.pki.ca.cert, certFile: cp.pki.clients['apiserver-etcd-client']!.cert, keyFile: cp.pki.clients['apiserver-etcd-client']!.key },
      header: `Written by the itinerant test bed (testbeds/control-plane: kubernetes ${cp.versions.kubernetes})`,
    });
    await writeFile(
      endpointsPath,
      JSON.stringify(
        {
          backend: 'control-plane',
          kubeUrl: cp.url,
          ociUrl,
          controlUrl,
          controlToken: control.token,
          pid: process.pid,
          clusterName,
          kubeconfigPath,
          adminKubeconfigPath,
          ociConfigPath,
          fleetConfigPath,
        },
        null,
        2,
      ) + '\n',
      { mode: 0o600 },
    );
    return {
      backend: 'control-plane',
      kubeUrl: cp.url,
      kubeHttpUrl: cp.url,
      ociUrl,
      controlUrl,
      controlToken: control.token,
      kubeconfigPath,
      adminKubeconfigPath,
      ociConfigPath,
      fleetConfigPath,
      endpointsPath,
      clusterName,
      compartmentId: SIM_COMPARTMENT,
      kube,
      oci,
      cassandra,
      seeded,
      controlPlane: cp,
      realCluster: cluster,
      keyrings,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The control-plane member's report of the keyrings it runs (kube-system/itinerant-control-plane-keyring). */
async function reportKeyrings(cp: ControlPlane, data: Record<string, string>, annotations: Record<string, string>): Promise<void> {
  const nodes = await cp.request('GET', `/api/v1/nodes?labelSelector=${encodeURIComponent(LABEL_CONTROL_PLANE)}`);
  for (const n of (nodes.body?.items ?? []) as { metadata: { name: string } }[]) {
    await cp.request('PATCH', `/api/v1/nodes/${n.metadata.name}`, { metadata: { annotations } }, MERGE);
  }
  const path = `/api/v1/namespaces/${CONTROL_PLANE_REPORT.namespace}/configmaps/${CONTROL_PLANE_REPORT.name}`;
  const r = await cp.request('PUT', path, reportConfigMap(data));
  if (r.status === 404) {
    const c = await cp.request('POST', `/api/v1/namespaces/${CONTROL_PLANE_REPORT.namespace}/configmaps`, reportConfigMap(data));
    if (c.status !== 201) throw new Error(`report keyrings: ${c.status} ${c.body?.message ?? ''}`);
  } else if (r.status !== 200) throw new Error(`report keyrings: ${r.status} ${r.body?.message ?? ''}`);
}

/** A TokenRequest token for the worker's ServiceAccount, signed by whatever key signs now. */
async function workerTokenOf(cp: ControlPlane): Promise<string> {
  const r = await cp.request('POST', `/api/v1/namespaces/${WORKER_NAMESPACE}/serviceaccounts/${WORKER_SERVICE_ACCOUNT}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 86_400 },
  });
  const token = r.body?.status?.token as string | undefined;
  if (r.status !== 201 || !token) throw new Error(`worker token: ${r.status} ${r.body?.message ?? ''}`);
  return token;
}

/** The worker's kubeconfig reading its token from a file (re-read every minute by the client), as in a pod. */
function tokenFileKubeconfig(kubeconfig: string, tokenFile: string): string {
  const doc = YAML.parse(kubeconfig) as { users: { user: Record<string, unknown> }[] };
  for (const u of doc.users) u.user = { 'auth-provider': { name: 'tokenFile', config: { tokenFile } } };
  return YAML.stringify(doc);
}
