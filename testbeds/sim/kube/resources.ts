// The resource types the simulated API server knows. Everything else (routing,
// discovery, storage) is driven by this table: adding e.g. PersistentVolumeClaim
// later is one more entry here (plus a controller if it needs behaviour).
import { EVENTS_RESOURCE } from './events.js';

/** A stored Kubernetes object. Specs and statuses are loosely typed on purpose: this is a test bed. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface SubresourceType {
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

export interface ResourceType {
  group: string; // '' for core
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories?: string[];
  /** Bump metadata.generation on spec changes. */
  hasGeneration: boolean;
  /** Has a /status subresource: writes to the main resource keep the stored status. */
  hasStatus: boolean;
  subresources: Record<string, SubresourceType>;
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

export const RESOURCES: ResourceType[] = [
  {
    group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false,
    shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], hasGeneration: false, hasStatus: true,
    subresources: { status: { kind: 'Namespace', verbs: STATUS_VERBS } },
  },
  {
    group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false,
    shortNames: ['no'], verbs: RW, hasGeneration: false, hasStatus: true,
    subresources: { status: { kind: 'Node', verbs: STATUS_VERBS } },
  },
  {
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true,
    shortNames: ['po'], verbs: RW, categories: ['all'], hasGeneration: false, hasStatus: true,
    subresources: {
      status: { kind: 'Pod', verbs: STATUS_VERBS },
      eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
    },
  },
  {
    group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', namespaced: true,
    shortNames: ['pvc'], verbs: RW, hasGeneration: false, hasStatus: true,
    subresources: { status: { kind: 'PersistentVolumeClaim', verbs: STATUS_VERBS } },
  },
  {
    group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true,
    shortNames: ['deploy'], verbs: RW, categories: ['all'], hasGeneration: true, hasStatus: true,
    subresources: {
      status: { kind: 'Deployment', verbs: STATUS_VERBS },
      scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: STATUS_VERBS },
    },
  },
  {
    group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', namespaced: true,
    shortNames: ['rs'], verbs: RW, categories: ['all'], hasGeneration: true, hasStatus: true,
    subresources: {
      status: { kind: 'ReplicaSet', verbs: STATUS_VERBS },
      scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: STATUS_VERBS },
    },
  },
  {
    group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', namespaced: true,
    shortNames: ['ds'], verbs: RW, categories: ['all'], hasGeneration: true, hasStatus: true,
    subresources: { status: { kind: 'DaemonSet', verbs: STATUS_VERBS } },
  },
  {
    group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', singular: 'statefulset', namespaced: true,
    shortNames: ['sts'], verbs: RW, categories: ['all'], hasGeneration: true, hasStatus: true,
    subresources: {
      status: { kind: 'StatefulSet', verbs: STATUS_VERBS },
      scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: STATUS_VERBS },
    },
  },
  {
    group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', singular: 'poddisruptionbudget',
    namespaced: true, shortNames: ['pdb'], verbs: RW, hasGeneration: true, hasStatus: true,
    subresources: { status: { kind: 'PodDisruptionBudget', verbs: STATUS_VERBS } },
  },
  EVENTS_RESOURCE,
];

export function groupVersion(rt: { group: string; version: string }): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

export function resourceByPlural(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/** Lookup by plural only (resources are unique by plural in this sim). */
export function rt(plural: string): ResourceType {
  const r = RESOURCES.find((x) => x.plural === plural);
  if (!r) throw new Error(`unknown resource ${plural}`);
  return r;
}
