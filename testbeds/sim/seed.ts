// The default simulated fleet: cluster sim-1 in us-ashburn-1, two node groups of four aged nodes,
// a control-plane node, and a small shop application with PodDisruptionBudgets.
import type { SimCluster } from './kube/cluster-api.js';
import type { OciSim } from './oci/index.js';
import {
  LABEL_CLUSTER,
  LABEL_CONTROL_PLANE,
  LABEL_NODE_GROUP,
  METADATA_NODE_LABELS,
  METADATA_NODE_TAINTS,
  TAG_CLUSTER,
  TAG_IMAGE_CHANNEL,
  TAG_NODE_GROUP,
} from '../../src/core/labels.js';

export const SIM_CLUSTER = 'sim-1';
export const SIM_COMPARTMENT = 'ocid1.compartment.oc1..sim';
export const SIM_REGION = 'us-ashburn-1';
export const SIM_SHAPE = 'VM.Standard.E4.Flex';
export const KUBE_PROXY_IMAGE = 'registry.k8s.io/kube-proxy:v1.30.4';

/** A node group as written to fleet.yaml (input form of nodeGroupSchema in src/core/config.ts). */
export interface SeedNodeGroup {
  name: string;
  size: number;
  shape: string;
  image: { channel: string };
  placement: { availabilityDomain: string; faultDomain: string; subnetId: string }[];
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  maxAge: string;
  maxSurge: number;
  maxUnavailable: number;
  maxUnhealthy: string;
}

export interface SeedResult {
  images: { prodOld: string; prodNew: string; dev: string };
  nodeGroups: SeedNodeGroup[];
  /** Node names by group, and the control-plane node. */
  nodes: Record<string, string[]>;
  controlPlaneNode: string;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** How many node groups and nodes the seed creates: the default is `general` and `batch` of 4; groups past two are `group-3`, `group-4`, ... */
export interface FleetShape {
  groups: number;
  nodesPerGroup: number;
  /** Each group's maxUnavailable and maxSurge: the repaves it allows at once (default 1). */
  budget?: number;
}
export const DEFAULT_FLEET_SHAPE: FleetShape = { groups: 2, nodesPerGroup: 4 };

const groupName = (i: number) => ['general', 'batch'][i] ?? `group-${i + 1}`;

/** The node groups of sim-1 (pure: depends only on the availability domain names and the shape). */
export function simNodeGroups(availabilityDomains: string[], cluster = SIM_CLUSTER, shape: FleetShape = DEFAULT_FLEET_SHAPE): SeedNodeGroup[] {
  const ad = (i: number) => availabilityDomains[i % availabilityDomains.length]!;
  const group = (name: string, fdOffset: number): SeedNodeGroup => ({
    name,
    size: shape.nodesPerGroup,
    shape: SIM_SHAPE,
    image: { channel: 'prod' },
    placement: [0, 1, 2].map((i) => ({
      availabilityDomain: ad(i),
      faultDomain: `FAULT-DOMAIN-${((i + fdOffset) % 3) + 1}`,
      subnetId: `ocid1.subnet.oc1.iad.sim${cluster.replace(/-/g, '')}${name}ad${i + 1}`,
    })),
    labels: { [LABEL_CLUSTER]: cluster, [LABEL_NODE_GROUP]: name },
    taints: [],
    maxAge: '30d',
    maxSurge: shape.budget ?? 1,
    maxUnavailable: shape.budget ?? 1,
    maxUnhealthy: '25%',
  });
  return Array.from({ length: shape.groups }, (_, i) => group(groupName(i), i));
}

/** The mirror pod the kubelet creates for its static kube-proxy manifest. */
export function kubeProxyMirrorPod(nodeName: string): Record<string, unknown> {
  const hash = Buffer.from(`kube-proxy/${nodeName}`).toString('hex').slice(0, 32);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `kube-proxy-${nodeName}`,
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-proxy', component: 'kube-proxy', tier: 'node' },
      annotations: { 'kubernetes.io/config.mirror': hash, 'kubernetes.io/config.hash': hash, 'kubernetes.io/config.source': 'file' },
    },
    spec: {
      nodeName,
      priorityClassName: 'system-node-critical',
      hostNetwork: true,
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'kube-proxy', image: KUBE_PROXY_IMAGE }],
    },
  };
}

function deployment(ns: string, name: string, replicas: number, image: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name, image, ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

function pdb(ns: string, name: string, spec: { minAvailable: number } | { maxUnavailable: number }): Record<string, unknown> {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: ns },
    spec: { ...spec, selector: { matchLabels: { app: name } } },
  };
}

/** Populate the OCI tenancy and the cluster. Call once, before clients connect. */
export function seedFleet(oci: OciSim, cluster: SimCluster, now = Date.now(), shape: FleetShape = DEFAULT_FLEET_SHAPE): SeedResult {
  const fleet = oci.fleet;
  const ads = fleet.availabilityDomains.map((a) => a.name);

  const prodOld = fleet.addImage({
    displayName: 'itinerant-node-ol8-k8s1.30-2024.11.04',
    operatingSystem: 'Oracle Linux',
    operatingSystemVersion: '8',
    freeformTags: { [TAG_IMAGE_CHANNEL]: 'prod' },
    timeCreated: new Date(now - 75 * DAY),
  }).id;
  const prodNew = fleet.addImage({
    displayName: 'itinerant-node-ol8-k8s1.30-2025.01.13',
    operatingSystem: 'Oracle Linux',
    operatingSystemVersion: '8',
    freeformTags: { [TAG_IMAGE_CHANNEL]: 'prod' },
    timeCreated: new Date(now - 20 * DAY),
  }).id;
  const dev = fleet.addImage({
    displayName: 'itinerant-node-ol8-k8s1.31-2025.02.03',
    operatingSystem: 'Oracle Linux',
    operatingSystemVersion: '8',
    freeformTags: { [TAG_IMAGE_CHANNEL]: 'dev' },
    timeCreated: new Date(now - 2 * DAY),
  }).id;

  const nodeGroups = simNodeGroups(ads, cluster.name, shape);
  const ages: Record<string, number[]> = { general: [41, 27, 16, 6], batch: [38, 22, 12, 3] };
  const nodes: Record<string, string[]> = {};
  const allNodes: string[] = [];

  const cpName = `${cluster.name}-control-plane-1`;
  fleet.seedInstance({
    displayName: cpName,
    availabilityDomain: ads[0]!,
    faultDomain: 'FAULT-DOMAIN-1',
    shape: SIM_SHAPE,
    imageId: prodOld,
    ocpus: 2,
    memoryInGBs: 16,
    freeformTags: { [TAG_CLUSTER]: cluster.name },
    metadata: {
      [METADATA_NODE_LABELS]: JSON.stringify({ [LABEL_CLUSTER]: cluster.name, [LABEL_CONTROL_PLANE]: '' }),
      [METADATA_NODE_TAINTS]: JSON.stringify([{ key: LABEL_CONTROL_PLANE, effect: 'NoSchedule' }]),
    },
    timeCreated: new Date(now - 60 * DAY),
  });
  allNodes.push(cpName);

  for (const g of nodeGroups) {
    nodes[g.name] = [];
    for (let i = 0; i < g.size; i++) {
      const p = g.placement[i % g.placement.length]!;
      const ageDays = ages[g.name]?.[i] ?? 10 + i;
      const instance = fleet.seedInstance({
        displayName: `${cluster.name}-${g.name}-${i + 1}`,
        subnetId: p.subnetId,
        availabilityDomain: p.availabilityDomain,
        faultDomain: p.faultDomain,
        shape: g.shape,
        imageId: prodOld,
        ocpus: 2,
        memoryInGBs: 32,
        freeformTags: { [TAG_CLUSTER]: cluster.name, [TAG_NODE_GROUP]: g.name },
        metadata: {
          [METADATA_NODE_LABELS]: JSON.stringify(g.labels),
          [METADATA_NODE_TAINTS]: JSON.stringify(g.taints),
        },
        timeCreated: new Date(now - ageDays * DAY - i * 3 * HOUR),
      });
      const name = fleet.nodeNameOf(instance.id); // the display name, or the private IP (the group's nodeNaming)
      nodes[g.name]!.push(name);
      allNodes.push(name);
    }
  }

  cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } });
  cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  for (const n of allNodes) cluster.apply(kubeProxyMirrorPod(n));
  cluster.apply({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'node-agent', namespace: 'kube-system', labels: { app: 'node-agent' } },
    spec: {
      selector: { matchLabels: { app: 'node-agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'node-agent' } },
        spec: {
          tolerations: [{ operator: 'Exists' }],
          priorityClassName: 'system-node-critical',
          containers: [{ name: 'node-agent', image: 'registry.example.com/platform/node-agent:2.3.0', resources: { requests: { cpu: '20m', memory: '32Mi' } } }],
        },
      },
    },
  });
  cluster.apply(deployment('shop', 'web', 4, 'registry.example.com/shop/web:1.8.0'));
  cluster.apply(deployment('shop', 'api', 3, 'registry.example.com/shop/api:3.2.1'));
  cluster.apply(deployment('shop', 'worker', 2, 'registry.example.com/shop/worker:0.9.4'));
  cluster.apply(pdb('shop', 'web', { minAvailable: 3 }));
  cluster.apply(pdb('shop', 'api', { maxUnavailable: 1 }));

  return { images: { prodOld, prodNew, dev }, nodeGroups, nodes, controlPlaneNode: cpName };
}
