// The simulated OCI tenancy (Compute + Identity subset, and the cluster's Vault) for the simulated fleet.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey } from 'node:crypto';
import type { SimCluster } from '../kube/cluster-api.js';
import { generateOciCredentials, writeOciConfig, type KnownKey, type OciCredentials } from './auth.js';
import { OciFleet, type NodeNaming, type OciCounters } from './fleet.js';
import { createOciHttpServer } from './server.js';
import { OciNetwork, type OciVcn } from './network.js';
import { WorkRequests } from './work-requests.js';
import { SimVault } from './vault.js';
import type { OciFaults, OciInstance } from './types.js';

export { generateOciCredentials, writeOciConfig, signRequest, verifyRequest, fingerprintOf, type OciCredentials } from './auth.js';
export { OciFleet, zoneOfAvailabilityDomain, type OciCounters, type SeedInstanceSpec, type NodeStatus, type NodeNaming } from './fleet.js';
export { OciNetwork, type OciVcn, type OciSubnet } from './network.js';
export { SimVault, type SecretLifecycleState, type SecretStage } from './vault.js';
export type { OciFaults, OciInstance, OciImage, AvailabilityDomain, FaultDomain, InstanceLifecycleState } from './types.js';

export const DEFAULT_OCI_FAULTS: OciFaults = { errorRate: 0, errorStatus: 500, outOfCapacity: 0, neverReady: 0, lostLaunchResponses: 0, lostSecretWriteResponses: 0, launchResponseDelayMs: 0, bootDelayMs: 3000, badImages: {} };

export interface OciSimOptions {
  cluster: SimCluster;
  /** Defaults to us-ashburn-1. */
  region?: string;
  compartmentId: string;
  /** Availability domain names; defaults to three "SIM:US-ASHBURN-AD-n". */
  availabilityDomains?: string[];
  faults?: Partial<OciFaults>;
  /** RUNNING → Node Ready; default 2000 ms. */
  nodeReadyDelayMs?: number;
  /** TERMINATING → TERMINATED; default 1000 ms. */
  terminateDelayMs?: number;
  /** A secret's CREATING / UPDATING → ACTIVE; default 100 ms. */
  secretStateDelayMs?: number;
  /** TERMINATED instances stay visible this long; default 1 h. */
  terminatedRetentionMs?: number;
  /** Defaults to a fresh RSA 2048 key pair. */
  credentials?: OciCredentials;
  onNodeRegistered?: (nodeName: string, instance: OciInstance) => void;
  /** How each node group's kubelets name their nodes (default: by display name). */
  nodeNaming?: Record<string, NodeNaming>;
  log?: (line: string) => void;
}

/** The address space of the test bed's VCN, and the part of it node groups' dedicated subnets are carved from. */
export const SIM_VCN_CIDR = '10.0.0.0/16';
export const SIM_SUBNET_POOL = ['10.0.128.0/17'];

export interface OciSim {
  readonly fleet: OciFleet;
  /** The Virtual Network: one VCN (`vcn`), subnets created through the API. */
  readonly network: OciNetwork;
  readonly vcn: OciVcn;
  /** What fleet.yaml declares as the cluster's network. */
  fleetNetwork(): { vcnId: string; subnetPool: string[] };
  /** The cluster's vault (its vaultId and masterKeyId are in fleet.yaml); `vault.readCurrent(name)` reads a secret in-process. */
  readonly vault: SimVault;
  /** Mutable: changes apply to the next request. */
  readonly faults: OciFaults;
  readonly credentials: OciCredentials;
  readonly region: string;
  readonly compartmentId: string;
  counters(): OciCounters;
  /** Also accept requests signed by this key (keyId "<tenancy>/<user>/<fingerprint>"). */
  addKey(keyId: string, publicKeyPem: string): void;
  /** Write `<dir>/config` (profile DEFAULT) and `<dir>/key.pem`, mode 0600. */
  writeConfig(dir: string): Promise<{ configPath: string; keyPath: string }>;
  listen(port: number, host?: string): Promise<string>;
  readonly url: string | undefined;
  close(): Promise<void>;
}

const REGION_KEYS: Record<string, string> = { 'us-ashburn-1': 'iad', 'us-phoenix-1': 'phx', 'eu-frankfurt-1': 'fra', 'uk-london-1': 'lhr' };

export function createOciSim(opts: OciSimOptions): OciSim {
  const region = opts.region ?? 'us-ashburn-1';
  const regionKey = REGION_KEYS[region] ?? region.split('-')[1] ?? 'sim';
  const credentials = opts.credentials ?? generateOciCredentials();
  const faults: OciFaults = { ...DEFAULT_OCI_FAULTS, ...opts.faults };
  const keys: KnownKey[] = [{ keyId: credentials.keyId, publicKey: createPublicKey(credentials.publicKeyPem) }];
  const adPrefix = region.toUpperCase();
  const availabilityDomains = opts.availabilityDomains ?? [1, 2, 3].map((n) => `SIM:${adPrefix.replace(/-\d+$/, '')}-AD-${n}`);
  const network: OciNetwork = new OciNetwork({
    regionKey,
    tenancyId: credentials.tenancy,
    compartmentIds: [opts.compartmentId],
    availabilityDomains,
    vnicsIn: (subnetId) => fleet.vnicsInSubnet(subnetId),
  });
  const vcn = network.addVcn({ compartmentId: opts.compartmentId, cidrBlock: SIM_VCN_CIDR, displayName: 'sim-vcn', dnsLabel: 'sim' });
  const fleet: OciFleet = new OciFleet({
    cluster: opts.cluster,
    region,
    regionKey,
    tenancyId: credentials.tenancy,
    compartmentIds: [opts.compartmentId],
    availabilityDomains,
    faultDomainsPerAd: 3,
    subnets: network,
    faults,
    nodeReadyDelayMs: opts.nodeReadyDelayMs ?? 2000,
    terminateDelayMs: opts.terminateDelayMs ?? 1000,
    terminatedRetentionMs: opts.terminatedRetentionMs ?? 3_600_000,
    ...(opts.onNodeRegistered ? { onNodeRegistered: opts.onNodeRegistered } : {}),
    ...(opts.nodeNaming ? { nodeNaming: opts.nodeNaming } : {}),
  });
  const more = { fleet, workRequests: new WorkRequests(regionKey), tenancyId: credentials.tenancy, compartmentIds: [opts.compartmentId] };
  const vault = new SimVault({ regionKey, compartmentId: opts.compartmentId, stateDelayMs: opts.secretStateDelayMs ?? 100 });
  const server: http.Server = createOciHttpServer({ fleet, network, more, vault, keys: () => keys, ...(opts.log ? { log: opts.log } : {}) });
  let url: string | undefined;

  return {
    fleet,
    network,
    vcn,
    fleetNetwork: () => ({ vcnId: vcn.id, subnetPool: SIM_SUBNET_POOL }),
    vault,
    faults,
    credentials,
    region,
    compartmentId: opts.compartmentId,
    counters: () => structuredClone(fleet.counters),
    addKey(keyId, publicKeyPem) {
      keys.push({ keyId, publicKey: createPublicKey(publicKeyPem) });
    },
    writeConfig: (dir) => writeOciConfig(dir, credentials, region),
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          url = `http://${host}:${addr.port}`;
          resolve(url);
        });
      });
    },
    get url() {
      return url;
    },
    close() {
      fleet.close();
      network.close();
      vault.close();
      return new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
