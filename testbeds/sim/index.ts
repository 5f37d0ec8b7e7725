// The simulated fleet: a Kubernetes API subset, an OCI API subset and a control API on 127.0.0.1,
// with the kubeconfig, OCI config and fleet.yaml that let the real clients talk to them.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createKubeSim, type KubeFaults, type KubeSim } from './kube/index.js';
import { createOciSim, type NodeNaming, type OciFaults, type OciSim } from './oci/index.js';
import { createControlServer } from './control.js';
import { cassandraObjects, createCassandraSim, type CassandraFaults, type CassandraSim } from './cassandra/index.js';
import { writeSimFiles } from './fleet-file.js';
import { SimLoad } from './load.js';
import { LABEL_CONTROL_PLANE } from '../../src/core/labels.js';
import { reportConfigMap, startKeyringEffects, startSimKeyrings, type ControlPlaneMember, type KeyringEffects } from './keyring/index.js';
import { grantsOf } from './kube/rbac.js';
import { TESTBED_STATEFUL_NAMESPACES, testbedWorkerRbac, WORKER_USER } from '../worker-identity.js';
import { DEFAULT_FLEET_SHAPE, kubeProxyMirrorPod, seedFleet, type FleetShape, SIM_CLUSTER, SIM_COMPARTMENT, SIM_REGION, type SeedResult } from './seed.js';

export { SIM_CLUSTER, SIM_COMPARTMENT, SIM_REGION, type FleetShape } from './seed.js';
export type { OciSim, OciFaults, NodeNaming } from './oci/index.js';
export type { KubeSim, KubeFaults } from './kube/index.js';
export type { CassandraSim, CassandraFaults } from './cassandra/index.js';

export interface StartSimOptions {
  /** Files go to `<home>/sim/`. */
  home: string;
  /** 0 (default) = a random free port. */
  kubePort?: number;
  ociPort?: number;
  controlPort?: number;
  /** Launched instance PROVISIONING → RUNNING (Node registers); default 3000 ms. */
  bootDelayMs?: number;
  /** Node registered → Ready; default 2000 ms. */
  nodeReadyDelayMs?: number;
  /** TERMINATING → TERMINATED; default 1000 ms. */
  terminateDelayMs?: number;
  /** Populate sim-1 (images, node groups, workloads); default true. */
  seed?: boolean;
  /** How many node groups and nodes per group the seed creates (default 2 × 4). */
  fleetShape?: Partial<FleetShape>;
  /** Seed the Cassandra ring (namespace data) with the rest; default true. */
  seedCassandra?: boolean;
  /** The Kubernetes controllers' reaction latency after a change; default 200 ms. */
  controllerDelayMs?: number;
  /** Initial faults (all also changeable at runtime through the control API). */
  ociFaults?: Partial<OciFaults>;
  kubeFaults?: Partial<KubeFaults>;
  /** Cassandra ring faults and timings (see CassandraFaults); also PUT /sim/cassandra/faults. */
  cassandraFaults?: Partial<CassandraFaults>;
  /** Log OCI requests (one line each). */
  log?: (line: string) => void;
  /**
   * The control-plane backend only: kube-apiserver runs the keyrings (restarted with new key files at each
   * keyring change) and the worker's token is refreshed into a token file its kubeconfig reads. Off by
   * default: the API server keeps the test bed's own keys and no restarts happen.
   */
  apiServerKeyrings?: boolean;
  /** Node groups whose kubelets name nodes otherwise than by the instance's display name, e.g. `{ batch: 'private-ip' }` (as OKE does). */
  nodeNaming?: Record<string, NodeNaming>;
}

export interface SimHandle {
  /** `https://127.0.0.1:<port>` — the kubeconfig's server (self-signed certificate, see kube.tls). */
  kubeUrl: string;
  /** `http://127.0.0.1:<port>` — the same port, plain HTTP (bearer token still required). */
  kubeHttpUrl: string;
  ociUrl: string;
  controlUrl: string;
  /** The control API's bearer token (random per start; also in endpoints.json). */
  controlToken: string;
  kubeconfigPath: string;
  ociConfigPath: string;
  fleetConfigPath: string;
  /** `<home>/sim/endpoints.json` ({kubeUrl, ociUrl, controlUrl, controlToken, pid, ...}, mode 0600); removed on stop. */
  endpointsPath: string;
  clusterName: string;
  compartmentId: string;
  kube: KubeSim;
  oci: OciSim;
  /** Cassandra rings in StatefulSets labelled app=cassandra (nodetool / cqlsh over pods/exec). */
  cassandra: CassandraSim;
  /** What the seed created (undefined with seed: false). */
  seeded: SeedResult | undefined;
  /** The control-plane member that runs the cluster's keyrings (seeded in the vault at start). */
  keyrings: ControlPlaneMember;
  /** What the keyrings do to the sim: untrusted kubelet certificates, Secrets stored under keys, the etcd view (the sim only: a real control plane has its own). */
  keyringEffects?: KeyringEffects;
  /** The administrator's kubeconfig (kubeconfigPath is the worker's least-privilege identity, held to the RBAC rendered for fleet.yaml). */
  adminKubeconfigPath: string;
  stop(): Promise<void>;
}

export const DEFAULT_KUBE_FAULTS: KubeFaults = { errorRate: 0, errorStatus: 500, evictionDelayMs: 0, blockEvictions: false, podStartDelayMs: 500, crashLoopImages: [] };

export async function startSim(opts: StartSimOptions): Promise<SimHandle> {
  const dir = path.resolve(opts.home, 'sim');
  await mkdir(path.join(dir, 'oci'), { recursive: true, mode: 0o700 });
  const clusterName = SIM_CLUSTER;
  const token = randomBytes(24).toString('hex');
  // As on a real cluster, the worker is not the administrator: its requests are held to the RBAC rendered for fleet.yaml.
  const worker = { token: randomBytes(24).toString('hex'), user: WORKER_USER, grants: grantsOf(testbedWorkerRbac(clusterName), WORKER_USER) };

  const load = new SimLoad();
  const kube = createKubeSim({
    clusterName,
    token,
    load,
    restricted: worker,
    faults: { ...DEFAULT_KUBE_FAULTS, ...opts.kubeFaults },
    ...(opts.controllerDelayMs !== undefined ? { controllerDelayMs: opts.controllerDelayMs } : {}),
  });
  const oci = createOciSim({
    cluster: kube.cluster,
    region: SIM_REGION,
    compartmentId: SIM_COMPARTMENT,
    faults: { ...(opts.bootDelayMs !== undefined ? { bootDelayMs: opts.bootDelayMs } : {}), ...opts.ociFaults },
    ...(opts.nodeReadyDelayMs !== undefined ? { nodeReadyDelayMs: opts.nodeReadyDelayMs } : {}),
    ...(opts.terminateDelayMs !== undefined ? { terminateDelayMs: opts.terminateDelayMs } : {}),
    // The kubelet of a new node starts its static pods: kube-proxy shows up as a mirror pod.
    onNodeRegistered: (nodeName) => kube.cluster.apply(kubeProxyMirrorPod(nodeName)),
    ...(opts.nodeNaming ? { nodeNaming: opts.nodeNaming } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const cassandra = createCassandraSim(kube, { faults: opts.cassandraFaults ?? {} });
  const control = createControlServer({ oci, kube, clusterName, routes: [cassandra.control, load.routes] });

  let stopped = false;
  let keyrings: ControlPlaneMember | undefined;
  let keyringEffects: KeyringEffects | undefined;
  const endpointsPath = path.join(dir, 'endpoints.json');
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await rm(endpointsPath, { force: true });
    keyrings?.close();
    await keyringEffects?.close();
    cassandra.close();
    load.stop();
    await Promise.allSettled([control.close(), oci.close(), kube.close()]);
  };

  try {
    // The cluster's keys exist before its nodes: seeded nodes boot holding the keyrings.
    ({ member: keyrings } = await startSimKeyrings(oci.vault, {
      clusterName,
      report: async (data, annotations) => {
        kube.cluster.apply(reportConfigMap(data));
        for (const n of kube.store.list('nodes', undefined, (o) => o.metadata.labels?.[LABEL_CONTROL_PLANE] !== undefined)) {
          kube.store.update('nodes', { ...n, metadata: { ...n.metadata, annotations: { ...n.metadata.annotations, ...annotations } } });
        }
      },
    }));
    const member = keyrings;
    oci.fleet.bootAnnotations = () => member.bootAnnotations();
    keyringEffects = await startKeyringEffects(kube, member);
    const seeded = opts.seed === false ? undefined : seedFleet(oci, kube.cluster, Date.now(), { ...DEFAULT_FLEET_SHAPE, ...opts.fleetShape });
    // the Cassandra ring (namespace data, StatefulSet cassandra x4, PDB), after the rest of the seed
    if (seeded && opts.seedCassandra !== false) for (const o of cassandraObjects()) kube.cluster.apply(o);
    const kubeHttpUrl = await kube.listen(opts.kubePort ?? 0, { scheme: 'http' });
    const kubeUrl = kube.urls()?.https ?? kubeHttpUrl.replace(/^http:/, 'https:');
    const ociUrl = await oci.listen(opts.ociPort ?? 0);
    const controlUrl = await control.listen(opts.controlPort ?? 0);

    // kubectl (client-go) only sends a bearer token over TLS: the kubeconfigs point at the HTTPS side of the
    // kube sim's port (self-signed, insecure-skip-tls-verify); the same port also answers plain HTTP.
    // `kubeconfig` is the worker's identity (fleet.yaml uses it), `admin.kubeconfig` may do anything.
    const { kubeconfigPath, adminKubeconfigPath, ociConfigPath, fleetConfigPath } = await writeSimFiles(dir, {
      clusterName,
      kubeconfig: kube.kubeconfig('restricted'),
      adminKubeconfig: kube.kubeconfig('admin'),
      oci,
      ociUrl,
      nodeGroups: seeded?.nodeGroups,
      statefulNamespaces: TESTBED_STATEFUL_NAMESPACES,
      etcd: { endpoints: [keyringEffects.etcdUrl] },
      header: 'Written by the itinerant simulated fleet (testbeds/sim)',
    });
    await writeFile(
      endpointsPath,
      JSON.stringify(
        { kubeUrl, kubeHttpUrl, ociUrl, controlUrl, controlToken: control.token, pid: process.pid, clusterName, kubeconfigPath, adminKubeconfigPath, ociConfigPath, fleetConfigPath },
        null,
        2,
      ) + '\n',
      { mode: 0o600 },
    );

    return {
      kubeUrl,
      kubeHttpUrl,
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
      keyrings,
      keyringEffects,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
