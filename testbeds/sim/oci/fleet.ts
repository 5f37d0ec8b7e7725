// The simulated tenancy: images, instances booting into Kubernetes nodes, terminations,
// retry tokens, counters and faults. No HTTP here (see server.ts).
import { randomBytes } from 'node:crypto';
import type { NodeRegistration, SimCluster } from '../kube/cluster-api.js';
import { SIM_LABEL_DAEMONSETS_CRASH_LOOP } from '../kube/context.js';
import { LABEL_FAULT_DOMAIN, LABEL_INSTANCE_TYPE, LABEL_ZONE, METADATA_NODE_LABELS, METADATA_NODE_TAINTS, TAG_NODE_GROUP } from '../../../src/core/labels.js';
import { providerIDOf } from '../../../src/core/provider-id.js';
import { hostAddress, parseCidr } from '../../../src/core/cidr.js';
import type { OciSubnet } from './network.js';
import {
  OciApiError,
  type AvailabilityDomain,
  type FaultDomain,
  type InstanceLifecycleState,
  type InstanceShapeConfig,
  type OciFaults,
  type OciImage,
  type OciInstance,
} from './types.js';

export const INSTANCE_STATES: readonly InstanceLifecycleState[] = ['PROVISIONING', 'RUNNING', 'STOPPING', 'STOPPED', 'STARTING', 'TERMINATING', 'TERMINATED'];

export interface FleetOptions {
  cluster: SimCluster;
  region: string;
  /** Short region code used in OCIDs and Instance.region ("iad"). */
  regionKey: string;
  tenancyId: string;
  compartmentIds: string[];
  /** Availability domain names, e.g. "SIM:US-ASHBURN-AD-1". */
  availabilityDomains: string[];
  faultDomainsPerAd: number;
  faults: OciFaults;
  /** RUNNING → Node Ready delay. */
  nodeReadyDelayMs: number;
  /** TERMINATING → TERMINATED delay. */
  terminateDelayMs: number;
  /** How long a TERMINATED instance stays visible before GET answers 404. */
  terminatedRetentionMs: number;
  /** Called after a launched instance's Node registered (e.g. to create its static/mirror pods). */
  onNodeRegistered?: (nodeName: string, instance: OciInstance) => void;
  /** How the kubelets of each node group (instance tag itinerant.dev/node-group) name their nodes; default display-name. */
  nodeNaming?: Record<string, NodeNaming>;
  /** The Virtual Network's subnets: a launch into one of them must fit it, and takes its IP from its CIDR. */
  subnets?: { findSubnet(id: string): Readonly<OciSubnet> | undefined };
}

/**
 * `display-name`: the instance's display name, lower-cased (the hostname label it was launched with).
 * `private-ip`: its primary private IP, as OKE names nodes; a released IP goes to the next instance in the subnet.
 */
export type NodeNaming = 'display-name' | 'private-ip';

export type NodeStatus = 'none' | 'registered' | 'ready' | 'failed' | 'removed';

interface InstanceRecord {
  wire: OciInstance;
  /** Primary VNIC's private IP in its subnet; released when the instance is TERMINATED. */
  privateIp: string;
  subnet: string;
  nodeName: string;
  nodeStatus: NodeStatus;
  nodeError?: string;
  neverReady: boolean;
  timers: Set<NodeJS.Timeout>;
  terminatedAt?: number;
}

export interface RetryTokenRecord {
  requests: number;
  instanceId?: string;
  firstSeen: string;
  /** The launch parameters the token was first used with (compartment, AD, shape, display name). */
  signature?: string;
}

export interface OciCounters {
  /** Instances actually created by LaunchInstance (replays of a retry token do not count). */
  launches: number;
  /** Every LaunchInstance request that got past authentication. */
  launchRequests: number;
  launchReplays: number;
  launchRequestsByRetryToken: Record<string, RetryTokenRecord>;
  outOfCapacityRefusals: number;
  lostLaunchResponses: number;
  terminations: number;
  injectedErrors: number;
  authFailures: number;
  requests: number;
}

export interface LaunchDetails {
  compartmentId?: unknown;
  availabilityDomain?: unknown;
  faultDomain?: unknown;
  displayName?: unknown;
  shape?: unknown;
  shapeConfig?: unknown;
  imageId?: unknown;
  sourceDetails?: unknown;
  freeformTags?: unknown;
  definedTags?: unknown;
  metadata?: unknown;
  extendedMetadata?: unknown;
  subnetId?: unknown;
  createVnicDetails?: unknown;
}

export interface SeedInstanceSpec {
  displayName: string;
  subnetId?: string;
  availabilityDomain: string;
  faultDomain: string;
  shape: string;
  imageId: string;
  compartmentId?: string;
  freeformTags?: Record<string, string>;
  metadata?: Record<string, string>;
  timeCreated: Date;
  ocpus?: number;
  memoryInGBs?: number;
}

export interface ListInstancesFilter {
  compartmentId: string;
  availabilityDomain?: string;
  displayName?: string;
  lifecycleState?: string;
  sortBy?: string;
  sortOrder?: string;
}

export interface ListImagesFilter {
  compartmentId: string;
  displayName?: string;
  operatingSystem?: string;
  operatingSystemVersion?: string;
  lifecycleState?: string;
  sortBy?: string;
  sortOrder?: string;
}

const uid = (n = 12) => randomBytes(n).toString('hex');

const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** Kubernetes topology zone for an OCI availability domain: the name without its tenancy prefix ("SIM:US-ASHBURN-AD-1" → "US-ASHBURN-AD-1"). */
export function zoneOfAvailabilityDomain(ad: string): string {
  const i = ad.lastIndexOf(':');
  return i >= 0 ? ad.slice(i + 1) : ad;
}

export class OciFleet {
  /** Annotations a node boots with (the keyrings the test bed's key store holds as it boots); set by the test bed. */
  bootAnnotations: () => Record<string, string> = () => ({});
  readonly images = new Map<string, OciImage>();
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly retryTokens = new Map<string, RetryTokenRecord>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Which instance's kubelet registered the Node of that name last. */
  private readonly nodeOwner = new Map<string, string>();
  private fdCursor = 0;
  /** Private IPs in use, by subnet (each subnet a /24 of 10.0.0.0/16, in the order first used). */
  private readonly subnetIps = new Map<string, Set<string>>();
  /** Mutable: applies to instances launched from then on. */
  readonly nodeNaming: Record<string, NodeNaming>;
  private closed = false;
  readonly counters: OciCounters = {
    launches: 0,
    launchRequests: 0,
    launchReplays: 0,
    launchRequestsByRetryToken: {},
    outOfCapacityRefusals: 0,
    lostLaunchResponses: 0,
    terminations: 0,
    injectedErrors: 0,
    authFailures: 0,
    requests: 0,
  };
  readonly availabilityDomains: AvailabilityDomain[];
  readonly faultDomains: FaultDomain[];

  constructor(readonly opts: FleetOptions) {
    this.nodeNaming = { ...opts.nodeNaming };
    const comp = opts.tenancyId;
    this.availabilityDomains = opts.availabilityDomains.map((name, i) => ({
      id: `ocid1.availabilitydomain.oc1..sim${opts.regionKey}ad${i + 1}`,
      name,
      compartmentId: comp,
    }));
    this.faultDomains = this.availabilityDomains.flatMap((ad, i) =>
      Array.from({ length: opts.faultDomainsPerAd }, (_, j) => ({
        id: `ocid1.faultdomain.oc1..sim${opts.regionKey}ad${i + 1}fd${j + 1}`,
        name: `FAULT-DOMAIN-${j + 1}`,
        compartmentId: comp,
        availabilityDomain: ad.name,
      })),
    );
  }

  get faults(): OciFaults {
    return this.opts.faults;
  }

  // ---- images -------------------------------------------------------------------------------

  addImage(spec: { displayName: string; operatingSystem?: string; operatingSystemVersion?: string; freeformTags?: Record<string, string>; timeCreated?: Date; compartmentId?: string; id?: string }): OciImage {
    const image: OciImage = {
      id: spec.id ?? `ocid1.image.oc1.${this.opts.regionKey}.sim${uid()}`,
      compartmentId: spec.compartmentId ?? this.opts.compartmentIds[0]!,
      displayName: spec.displayName,
      operatingSystem: spec.operatingSystem ?? 'Oracle Linux',
      operatingSystemVersion: spec.operatingSystemVersion ?? '8',
      createImageAllowed: true,
      launchMode: 'PARAVIRTUALIZED',
      lifecycleState: 'AVAILABLE',
      sizeInMBs: 47694,
      billableSizeInGBs: 4,
      freeformTags: { ...spec.freeformTags },
      definedTags: {},
      timeCreated: (spec.timeCreated ?? new Date()).toISOString(),
    };
    this.images.set(image.id, image);
    return image;
  }

  getImage(id: string): OciImage {
    const image = this.images.get(id);
    if (!image) throw notFound();
    return image;
  }

  /** UpdateImage: display name, OS fields and tags (freeformTags replace the whole map, as in OCI). */
  updateImage(id: string, d: Record<string, unknown>): OciImage {
    const image = this.getImage(id);
    for (const k of ['displayName', 'operatingSystem', 'operatingSystemVersion'] as const) {
      const v = d[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string' || v === '') throw new OciApiError(400, 'InvalidParameter', `Invalid ${k}: expected a non-empty string.`);
      image[k] = v;
    }
    if (d.freeformTags !== undefined && d.freeformTags !== null) {
      if (!isStringRecord(d.freeformTags)) throw new OciApiError(400, 'InvalidParameter', 'Invalid freeformTags: expected an object of string values.');
      image.freeformTags = { ...d.freeformTags };
    }
    if (typeof d.definedTags === 'object' && d.definedTags !== null) image.definedTags = d.definedTags as Record<string, Record<string, unknown>>;
    return image;
  }

  listImages(f: ListImagesFilter): OciImage[] {
    this.checkCompartment(f.compartmentId, true); // OCI: 404 NotAuthorizedOrNotFound, not an empty list
    const items = [...this.images.values()].filter(
      (i) =>
        i.compartmentId === f.compartmentId &&
        (f.displayName === undefined || i.displayName === f.displayName) &&
        (f.operatingSystem === undefined || i.operatingSystem === f.operatingSystem) &&
        (f.operatingSystemVersion === undefined || i.operatingSystemVersion === f.operatingSystemVersion) &&
        (f.lifecycleState === undefined || i.lifecycleState === f.lifecycleState),
    );
    return sortResources(items, f.sortBy, f.sortOrder);
  }

  // ---- instances ----------------------------------------------------------------------------

  getInstance(id: string): OciInstance {
    const rec = this.instances.get(id);
    if (!rec) throw notFound();
    return rec.wire;
  }

  listInstances(f: ListInstancesFilter): OciInstance[] {
    this.checkCompartment(f.compartmentId, true); // OCI: 404 NotAuthorizedOrNotFound, not an empty list
    if (f.lifecycleState !== undefined && !INSTANCE_STATES.includes(f.lifecycleState as InstanceLifecycleState)) {
      throw new OciApiError(400, 'InvalidParameter', `Invalid lifecycleState ${f.lifecycleState}; expected one of ${INSTANCE_STATES.join(', ')}`);
    }
    const items = [...this.instances.values()]
      .map((r) => r.wire)
      .filter(
        (i) =>
          i.compartmentId === f.compartmentId &&
          (f.availabilityDomain === undefined || i.availabilityDomain === f.availabilityDomain) &&
          (f.displayName === undefined || i.displayName === f.displayName) &&
          (f.lifecycleState === undefined || i.lifecycleState === f.lifecycleState),
      );
    return sortResources(items, f.sortBy, f.sortOrder);
  }

  /** LaunchInstance. `retryToken` makes it idempotent: the same token returns the instance the first call created. */
  launch(details: LaunchDetails, retryToken: string | undefined): { instance: OciInstance; replay: boolean } {
    this.counters.launchRequests++;
    let tokenRec: RetryTokenRecord | undefined;
    if (retryToken !== undefined) {
      tokenRec = this.retryTokens.get(retryToken);
      if (!tokenRec) {
        tokenRec = { requests: 0, firstSeen: new Date().toISOString() };
        this.retryTokens.set(retryToken, tokenRec);
        this.counters.launchRequestsByRetryToken[retryToken] = tokenRec;
      }
      tokenRec.requests++;
    }
    const spec = this.validateLaunch(details);
    const signature = JSON.stringify([spec.compartmentId, spec.availabilityDomain, spec.shape, spec.displayName]);
    if (tokenRec?.instanceId) {
      if (tokenRec.signature !== signature) {
        throw new OciApiError(409, 'InvalidatedRetryToken', `The retry token ${retryToken} was already used for a different LaunchInstance request (${tokenRec.signature}).`);
      }
      const existing = this.instances.get(tokenRec.instanceId);
      if (existing) {
        this.counters.launchReplays++;
        return { instance: existing.wire, replay: true };
      }
      // The instance was purged: the token is no longer usable (as OCI does for purged resources).
      throw new OciApiError(409, 'InvalidatedRetryToken', `The retry token ${retryToken} refers to a resource that no longer exists.`);
    }
    if (this.faults.outOfCapacity > 0) {
      this.faults.outOfCapacity--;
      this.counters.outOfCapacityRefusals++;
      throw new OciApiError(500, 'InternalError', 'Out of host capacity.');
    }

    this.checkSubnet(spec.subnetId, spec.availabilityDomain);
    const id = `ocid1.instance.oc1.${this.opts.regionKey}.sim${uid()}`;
    const wire: OciInstance = {
      id,
      compartmentId: spec.compartmentId,
      availabilityDomain: spec.availabilityDomain,
      faultDomain: spec.faultDomain,
      displayName: spec.displayName,
      region: this.opts.regionKey,
      shape: spec.shape,
      shapeConfig: spec.shapeConfig,
      imageId: spec.imageId,
      sourceDetails: { sourceType: 'image', imageId: spec.imageId },
      freeformTags: spec.freeformTags,
      definedTags: spec.definedTags,
      metadata: spec.metadata,
      extendedMetadata: spec.extendedMetadata,
      launchMode: 'PARAVIRTUALIZED',
      lifecycleState: 'PROVISIONING',
      timeCreated: new Date().toISOString(),
    };
    const neverReady = this.faults.neverReady > 0;
    if (neverReady) this.faults.neverReady--;
    const rec: InstanceRecord = { wire, ...this.addressing(wire, spec.subnetId), nodeStatus: 'none', neverReady, timers: new Set() };
    this.instances.set(id, rec);
    this.counters.launches++;
    if (tokenRec) {
      tokenRec.instanceId = id;
      tokenRec.signature = signature;
    }
    this.after(rec, this.faults.bootDelayMs, () => this.boot(rec));
    return { instance: wire, replay: false };
  }

  /** TerminateInstance: RUNNING → TERMINATING → TERMINATED; terminating a terminating/terminated instance is a no-op. */
  terminate(id: string): void {
    const rec = this.instances.get(id);
    if (!rec) throw notFound();
    if (rec.wire.lifecycleState === 'TERMINATING' || rec.wire.lifecycleState === 'TERMINATED') return;
    this.counters.terminations++;
    this.clearTimers(rec);
    rec.wire.lifecycleState = 'TERMINATING';
    // The kubelet stops: the node (if the runbook has not deleted it already) goes NotReady.
    if (this.ownsLiveNode(rec)) {
      this.safe(() => this.opts.cluster.setNodeReady(rec.nodeName, false, 'KubeletStopped'));
    }
    this.after(rec, this.opts.terminateDelayMs, () => {
      rec.wire.lifecycleState = 'TERMINATED';
      rec.terminatedAt = Date.now();
      this.subnetIps.get(rec.subnet)?.delete(rec.privateIp);
      if (this.ownsLiveNode(rec)) {
        this.safe(() => this.opts.cluster.removeNode(rec.nodeName));
      }
      if (this.nodeOwner.get(rec.nodeName) === rec.wire.id) this.nodeOwner.delete(rec.nodeName);
      if (rec.nodeStatus !== 'none' && rec.nodeStatus !== 'failed') rec.nodeStatus = 'removed';
      this.after(rec, this.opts.terminatedRetentionMs, () => {
        this.instances.delete(id);
      });
    });
  }

  /** Put an already RUNNING instance (with its Ready, back-dated Node) into the fleet, bypassing the API. */
  seedInstance(spec: SeedInstanceSpec): OciInstance {
    const id = `ocid1.instance.oc1.${this.opts.regionKey}.sim${uid()}`;
    const wire: OciInstance = {
      id,
      compartmentId: spec.compartmentId ?? this.opts.compartmentIds[0]!,
      availabilityDomain: spec.availabilityDomain,
      faultDomain: spec.faultDomain,
      displayName: spec.displayName,
      region: this.opts.regionKey,
      shape: spec.shape,
      shapeConfig: shapeConfigFor(spec.shape, spec.ocpus ?? 2, spec.memoryInGBs ?? 16),
      imageId: spec.imageId,
      sourceDetails: { sourceType: 'image', imageId: spec.imageId },
      freeformTags: { ...spec.freeformTags },
      definedTags: {},
      metadata: { ...spec.metadata },
      extendedMetadata: {},
      launchMode: 'PARAVIRTUALIZED',
      lifecycleState: 'RUNNING',
      timeCreated: spec.timeCreated.toISOString(),
    };
    const rec: InstanceRecord = { wire, ...this.addressing(wire, spec.subnetId), nodeStatus: 'none', neverReady: false, timers: new Set() };
    this.instances.set(id, rec);
    this.registerNode(rec, true, spec.timeCreated);
    return wire;
  }

  /** The name of the Node this instance's kubelet registers (or would). */
  nodeNameOf(instanceId: string): string {
    const rec = this.instances.get(instanceId);
    if (!rec) throw notFound();
    return rec.nodeName;
  }

  /** Summary for the control API. */
  summary(): {
    id: string;
    displayName: string;
    privateIp: string;
    lifecycleState: InstanceLifecycleState;
    availabilityDomain: string;
    faultDomain: string;
    shape: string;
    imageId: string;
    timeCreated: string;
    freeformTags: Record<string, string>;
    node: { name: string; status: NodeStatus; present: boolean; error?: string; neverReady: boolean };
  }[] {
    return [...this.instances.values()].map((r) => ({
      id: r.wire.id,
      displayName: r.wire.displayName,
      privateIp: r.privateIp,
      lifecycleState: r.wire.lifecycleState,
      availabilityDomain: r.wire.availabilityDomain,
      faultDomain: r.wire.faultDomain,
      shape: r.wire.shape,
      imageId: r.wire.imageId,
      timeCreated: r.wire.timeCreated,
      freeformTags: r.wire.freeformTags,
      node: {
        name: r.nodeName,
        status: r.nodeStatus,
        present: this.opts.cluster.hasNode(r.nodeName),
        neverReady: r.neverReady,
        ...(r.nodeError ? { error: r.nodeError } : {}),
      },
    }));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.instances.values()) r.timers.clear();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** An instance's primary VNIC: its subnet and private IP (the VNIC's OCID is derived from the instance's). */
  vnicOf(instanceId: string): { vnicId: string; subnetId: string; privateIp: string; hostname: string; instance: OciInstance } {
    const rec = this.instances.get(instanceId);
    if (!rec) throw notFound();
    return { vnicId: rec.wire.id.replace('ocid1.instance.', 'ocid1.vnic.'), subnetId: rec.subnet, privateIp: rec.privateIp, hostname: rec.wire.displayName.toLowerCase(), instance: rec.wire };
  }

  /** Every instance, its state whatever it is (vnic attachments of the compartment). */
  allInstances(compartmentId: string): OciInstance[] {
    this.checkCompartment(compartmentId, true);
    return [...this.instances.values()].map((r) => r.wire).filter((w) => w.compartmentId === compartmentId);
  }

  /**
   * InstanceAction: a reset reboots a RUNNING instance in place (its node stays, as a kubelet comes back under
   * the same name); STOP / SOFTSTOP stop it (its node goes NotReady), START starts it again (Ready again).
   */
  instanceAction(id: string, action: string): OciInstance {
    const rec = this.instances.get(id);
    if (!rec) throw notFound();
    const state = rec.wire.lifecycleState;
    const refuse = () => new OciApiError(409, 'IncorrectState', `Instance ${id} is ${state}: action ${action} is not allowed.`);
    switch (action) {
      case 'SOFTRESET':
      case 'RESET':
      case 'SENDDIAGNOSTICINTERRUPT':
      case 'DIAGNOSTICREBOOT':
        if (state !== 'RUNNING') throw refuse();
        return rec.wire;
      case 'STOP':
      case 'SOFTSTOP':
        if (state === 'STOPPED' || state === 'STOPPING') return rec.wire;
        if (state !== 'RUNNING') throw refuse();
        rec.wire.lifecycleState = 'STOPPING';
        if (this.ownsLiveNode(rec)) this.safe(() => this.opts.cluster.setNodeReady(rec.nodeName, false, 'KubeletStopped'));
        this.after(rec, this.opts.terminateDelayMs, () => {
          if (rec.wire.lifecycleState === 'STOPPING') rec.wire.lifecycleState = 'STOPPED';
        });
        return rec.wire;
      case 'START':
        if (state === 'RUNNING' || state === 'STARTING') return rec.wire;
        if (state !== 'STOPPED') throw refuse();
        rec.wire.lifecycleState = 'STARTING';
        this.after(rec, this.faults.bootDelayMs, () => {
          if (rec.wire.lifecycleState !== 'STARTING') return;
          rec.wire.lifecycleState = 'RUNNING';
          if (this.ownsLiveNode(rec) && !rec.neverReady) this.safe(() => this.opts.cluster.setNodeReady(rec.nodeName, true, 'KubeletReady'));
        });
        return rec.wire;
      default:
        throw new OciApiError(400, 'InvalidParameter', `Invalid action ${action}; expected one of STOP, START, SOFTRESET, RESET, SOFTSTOP, SENDDIAGNOSTICINTERRUPT, DIAGNOSTICREBOOT.`);
    }
  }

  /** The ids of the VNICs in a subnet: one per instance launched into it that is not TERMINATED yet. */
  vnicsInSubnet(subnetId: string): string[] {
    return [...this.instances.values()].filter((r) => r.subnet === subnetId && r.wire.lifecycleState !== 'TERMINATED').map((r) => r.wire.id.replace('ocid1.instance.', 'ocid1.vnic.'));
  }

  /** A subnet of the Virtual Network must be AVAILABLE, and in the instance's AD unless regional; others are the sim's fixed ones. */
  private checkSubnet(subnetId: string | undefined, availabilityDomain: string): void {
    const subnet = subnetId === undefined ? undefined : this.opts.subnets?.findSubnet(subnetId);
    if (!subnet) return;
    if (subnet.lifecycleState !== 'AVAILABLE') throw new OciApiError(409, 'IncorrectState', `Subnet ${subnet.id} is ${subnet.lifecycleState}.`);
    if (subnet.availabilityDomain && subnet.availabilityDomain !== availabilityDomain) {
      throw new OciApiError(400, 'InvalidParameter', `Subnet ${subnet.id} is in ${subnet.availabilityDomain}, not in the instance's availability domain ${availabilityDomain}.`);
    }
  }

  /** A private IP from the instance's subnet (the lowest free one), and the node name its group's kubelets use. */
  private addressing(w: OciInstance, subnetId: string | undefined): Pick<InstanceRecord, 'privateIp' | 'subnet' | 'nodeName'> {
    const subnet = subnetId ?? `default-${w.availabilityDomain}`;
    let used = this.subnetIps.get(subnet);
    if (!used) this.subnetIps.set(subnet, (used = new Set()));
    // A Virtual Network subnet's own CIDR; the sim's fixed subnets are /24s of 10.0.0.0/16 in the order first used.
    const block = parseCidr(this.opts.subnets?.findSubnet(subnet)?.cidrBlock ?? `10.0.${10 + [...this.subnetIps.keys()].indexOf(subnet)}.0/24`)!;
    const last = 2 ** (32 - block.prefix) - 2; // OCI keeps the first two addresses and the last one
    let host = 2;
    while (used.has(hostAddress(block, host))) host++;
    if (host > last) throw new OciApiError(400, 'InvalidParameter', `Subnet ${subnet} has no free private IP.`);
    const privateIp = hostAddress(block, host);
    used.add(privateIp);
    const naming = this.nodeNaming[w.freeformTags[TAG_NODE_GROUP] ?? ''] ?? 'display-name';
    return { privateIp, subnet, nodeName: naming === 'private-ip' ? privateIp : w.displayName.toLowerCase() };
  }

  private boot(rec: InstanceRecord): void {
    if (rec.wire.lifecycleState !== 'PROVISIONING') return;
    rec.wire.lifecycleState = 'RUNNING';
    if (!this.registerNode(rec, false)) return;
    this.opts.onNodeRegistered && this.safe(() => this.opts.onNodeRegistered!(rec.nodeName, rec.wire));
    if (rec.neverReady) return;
    this.after(rec, this.opts.nodeReadyDelayMs, () => {
      if (rec.wire.lifecycleState !== 'RUNNING' || rec.nodeStatus !== 'registered' || !this.ownsLiveNode(rec)) return;
      this.safe(() => this.opts.cluster.setNodeReady(rec.nodeName, true, 'KubeletReady'));
      rec.nodeStatus = 'ready';
      const bad = this.faults.badImages[rec.wire.imageId];
      if (bad?.notReadyAfterMs !== undefined) {
        this.after(rec, bad.notReadyAfterMs, () => {
          if (rec.wire.lifecycleState === 'RUNNING' && this.ownsLiveNode(rec)) this.safe(() => this.opts.cluster.setNodeReady(rec.nodeName, false, 'KubeletNotReady'));
        });
      }
    });
  }

  /** The kubelet registers the node; on bad bootstrap metadata or a name clash it never does. */
  private registerNode(rec: InstanceRecord, ready: boolean, creationTimestamp?: Date): boolean {
    const w = rec.wire;
    let labels: Record<string, string> = {};
    let taints: NodeRegistration['taints'] = [];
    try {
      const rawLabels = w.metadata[METADATA_NODE_LABELS];
      if (rawLabels !== undefined) {
        const parsed: unknown = JSON.parse(rawLabels);
        if (!isStringRecord(parsed)) throw new Error(`${METADATA_NODE_LABELS} must be a JSON object of strings`);
        labels = parsed;
      }
      const rawTaints = w.metadata[METADATA_NODE_TAINTS];
      if (rawTaints !== undefined) {
        const parsed: unknown = JSON.parse(rawTaints);
        if (!Array.isArray(parsed) || !parsed.every(isTaint)) throw new Error(`${METADATA_NODE_TAINTS} must be a JSON array of {key, value?, effect}`);
        taints = parsed;
      }
    } catch (e) {
      rec.nodeStatus = 'failed';
      rec.nodeError = `kubelet bootstrap failed: ${(e as Error).message}`;
      return false;
    }
    const ownerId = this.nodeOwner.get(rec.nodeName);
    const owner = ownerId === undefined ? undefined : this.instances.get(ownerId);
    if (owner && owner !== rec && owner.wire.lifecycleState !== 'TERMINATED' && this.opts.cluster.hasNode(rec.nodeName)) {
      rec.nodeStatus = 'failed';
      rec.nodeError = `node ${rec.nodeName} already exists for instance ${owner.wire.id}`;
      return false;
    }
    const reg: NodeRegistration = {
      name: rec.nodeName,
      providerID: providerIDOf(w.id),
      internalIP: rec.privateIp,
      labels: {
        ...labels,
        'kubernetes.io/hostname': rec.nodeName,
        [LABEL_ZONE]: zoneOfAvailabilityDomain(w.availabilityDomain),
        [LABEL_FAULT_DOMAIN]: w.faultDomain,
        [LABEL_INSTANCE_TYPE]: w.shape,
        ...(this.faults.badImages[w.imageId]?.daemonSetsCrashLoop ? { [SIM_LABEL_DAEMONSETS_CRASH_LOOP]: 'true' } : {}),
      },
      taints,
      annotations: this.bootAnnotations(),
      ready,
      ...(creationTimestamp ? { creationTimestamp } : {}),
    };
    try {
      this.opts.cluster.registerNode(reg);
    } catch (e) {
      rec.nodeStatus = 'failed';
      rec.nodeError = `node registration failed: ${(e as Error).message}`;
      return false;
    }
    rec.nodeStatus = ready ? 'ready' : 'registered';
    this.nodeOwner.set(rec.nodeName, w.id);
    return true;
  }

  private validateLaunch(d: LaunchDetails) {
    const str = (v: unknown, name: string, required: boolean): string | undefined => {
      if (v === undefined || v === null) {
        if (required) throw new OciApiError(400, 'MissingParameter', `Missing required parameter ${name}.`);
        return undefined;
      }
      if (typeof v !== 'string' || v === '') throw new OciApiError(400, 'InvalidParameter', `Invalid ${name}: expected a non-empty string.`);
      return v;
    };
    const compartmentId = str(d.compartmentId, 'compartmentId', true)!;
    this.checkCompartment(compartmentId, true);
    const availabilityDomain = str(d.availabilityDomain, 'availabilityDomain', true)!;
    if (!this.availabilityDomains.some((a) => a.name === availabilityDomain)) {
      throw new OciApiError(400, 'InvalidParameter', `Invalid availabilityDomain ${availabilityDomain}; this tenancy has ${this.availabilityDomains.map((a) => a.name).join(', ')}.`);
    }
    let faultDomain = str(d.faultDomain, 'faultDomain', false);
    const fds = this.faultDomains.filter((f) => f.availabilityDomain === availabilityDomain).map((f) => f.name);
    if (faultDomain === undefined) faultDomain = fds[this.fdCursor++ % fds.length]!;
    else if (!fds.includes(faultDomain)) throw new OciApiError(400, 'InvalidParameter', `Invalid faultDomain ${faultDomain}; expected one of ${fds.join(', ')}.`);
    const shape = str(d.shape, 'shape', true)!;
    const src = d.sourceDetails as { sourceType?: unknown; imageId?: unknown } | undefined;
    if (src !== undefined && (typeof src !== 'object' || src === null || src.sourceType !== 'image')) {
      throw new OciApiError(400, 'InvalidParameter', 'sourceDetails: only sourceType "image" is supported by the simulated fleet.');
    }
    const imageId = str(src?.imageId ?? d.imageId, 'sourceDetails.imageId', true)!;
    const image = this.images.get(imageId);
    if (!image || image.lifecycleState !== 'AVAILABLE') throw new OciApiError(404, 'NotAuthorizedOrNotFound', `Image ${imageId} not found or not available.`);
    const displayName = str(d.displayName, 'displayName', false) ?? `instance${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}${uid(2)}`;
    const rec = (v: unknown, name: string): Record<string, string> => {
      if (v === undefined || v === null) return {};
      if (!isStringRecord(v)) throw new OciApiError(400, 'InvalidParameter', `Invalid ${name}: expected an object of string values.`);
      return { ...v };
    };
    const freeformTags = rec(d.freeformTags, 'freeformTags');
    const metadata = rec(d.metadata, 'metadata');
    const sc = (d.shapeConfig ?? {}) as { ocpus?: unknown; memoryInGBs?: unknown };
    const ocpus = typeof sc.ocpus === 'number' && sc.ocpus > 0 ? sc.ocpus : 1;
    const memoryInGBs = typeof sc.memoryInGBs === 'number' && sc.memoryInGBs > 0 ? sc.memoryInGBs : ocpus * 16;
    const vnic = d.createVnicDetails as { subnetId?: unknown } | undefined;
    const subnetId = vnic?.subnetId ?? d.subnetId;
    if (subnetId !== undefined && (typeof subnetId !== 'string' || !subnetId.startsWith('ocid1.subnet.'))) {
      throw new OciApiError(400, 'InvalidParameter', `Invalid subnetId ${String(subnetId)}.`);
    }
    return {
      compartmentId,
      availabilityDomain,
      faultDomain,
      ...(typeof subnetId === 'string' ? { subnetId } : {}),
      shape,
      shapeConfig: shapeConfigFor(shape, ocpus, memoryInGBs),
      imageId,
      displayName,
      freeformTags,
      metadata,
      definedTags: (typeof d.definedTags === 'object' && d.definedTags !== null ? d.definedTags : {}) as Record<string, Record<string, unknown>>,
      extendedMetadata: (typeof d.extendedMetadata === 'object' && d.extendedMetadata !== null ? d.extendedMetadata : {}) as Record<string, unknown>,
    };
  }

  private checkCompartment(id: string, strict: boolean): void {
    if (!this.opts.compartmentIds.includes(id) && id !== this.opts.tenancyId) {
      if (strict) throw new OciApiError(404, 'NotAuthorizedOrNotFound', `Authorization failed or requested resource not found: compartment ${id}.`);
    }
  }

  /** This instance's kubelet registered the Node of its name, and that Node still exists. */
  private ownsLiveNode(rec: InstanceRecord): boolean {
    return (rec.nodeStatus === 'registered' || rec.nodeStatus === 'ready') && this.nodeOwner.get(rec.nodeName) === rec.wire.id && this.opts.cluster.hasNode(rec.nodeName);
  }

  private after(rec: InstanceRecord, ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      rec.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
    rec.timers.add(t);
  }

  private clearTimers(rec: InstanceRecord): void {
    for (const t of rec.timers) {
      clearTimeout(t);
      this.timers.delete(t);
    }
    rec.timers.clear();
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      console.error(`[sim/oci] ${(e as Error).message}`);
    }
  }
}

function isTaint(t: unknown): t is { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' } {
  if (typeof t !== 'object' || t === null) return false;
  const o = t as Record<string, unknown>;
  return typeof o.key === 'string' && (o.value === undefined || typeof o.value === 'string') && ['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(o.effect as string);
}

export function shapeConfigFor(shape: string, ocpus: number, memoryInGBs: number): InstanceShapeConfig {
  return {
    ocpus,
    memoryInGBs,
    vcpus: ocpus * 2,
    processorDescription: shape.includes('E4') ? '2.55 GHz AMD EPYC™ 7J13' : 'simulated processor',
    networkingBandwidthInGbps: Math.max(1, ocpus),
    maxVnicAttachments: Math.min(24, Math.max(2, ocpus)),
    gpus: 0,
    localDisks: 0,
  };
}

function sortResources<T extends { displayName: string; timeCreated: string }>(items: T[], sortBy: string | undefined, sortOrder: string | undefined): T[] {
  if (sortBy !== undefined && sortBy !== 'TIMECREATED' && sortBy !== 'DISPLAYNAME') {
    throw new OciApiError(400, 'InvalidParameter', `Invalid sortBy ${sortBy}; expected TIMECREATED or DISPLAYNAME.`);
  }
  if (sortOrder !== undefined && sortOrder !== 'ASC' && sortOrder !== 'DESC') {
    throw new OciApiError(400, 'InvalidParameter', `Invalid sortOrder ${sortOrder}; expected ASC or DESC.`);
  }
  const by = sortBy ?? 'TIMECREATED';
  const order = sortOrder ?? (by === 'TIMECREATED' ? 'DESC' : 'ASC');
  const dir = order === 'ASC' ? 1 : -1;
  return [...items].sort((a, b) => {
    const c = by === 'TIMECREATED' ? a.timeCreated.localeCompare(b.timeCreated) : a.displayName.localeCompare(b.displayName);
    return c * dir;
  });
}

function notFound(): OciApiError {
  return new OciApiError(404, 'NotAuthorizedOrNotFound', 'Authorization failed or requested resource not found.');
}
