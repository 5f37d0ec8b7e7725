// meta.k8s.io/v1 Table rendering (what `kubectl get` asks for), close to the
// API server's printers for the kinds we serve.

import type { KObject, ResourceType } from './resources.js';
import { selectorToString } from './selectors.js';

interface Column { name: string; type: string; format?: string; priority?: number; description?: string }
type Cell = string | number | boolean;

/** Kubernetes' duration.HumanDuration, as in the AGE column. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  if (h < 24 * 365 * 8) return `${y}y${Math.floor(h / 24) % 365}d`;
  return `${y}y`;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };

interface Printer { columns: Column[]; cells: (o: KObject, age: string) => Cell[] }

const orNone = (v: unknown): string => (v === undefined || v === null || v === '' ? '<none>' : String(v));

function nodeStatus(n: KObject): string {
  const ready = (n.status?.conditions as { type: string; status: string }[] | undefined)?.find((c) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown'];
  if (n.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(n: KObject): string {
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  if (n.metadata.labels?.['kubernetes.io/role']) roles.push(n.metadata.labels['kubernetes.io/role']);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function podStatus(p: KObject): string {
  if (p.metadata.deletionTimestamp) return 'Terminating';
  const phase = p.status?.phase ?? 'Pending';
  if (phase === 'Pending' && p.spec?.nodeName) return 'ContainerCreating';
  return p.status?.reason ?? phase;
}

const addr = (n: KObject, type: string) => orNone((n.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === type)?.address);
const containers = (o: KObject) => ((o.spec?.template?.spec?.containers ?? []) as { name: string; image: string }[]);

const PRINTERS: Record<string, Printer> = {
  nodes: {
    columns: [NAME,
      { name: 'Status', type: 'string', description: 'The status of the node' },
      { name: 'Roles', type: 'string', description: 'The roles of the node' },
      AGE,
      { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.' },
      { name: 'Internal-IP', type: 'string', priority: 1, description: 'List of internal IPs for the node.' },
      { name: 'External-IP', type: 'string', priority: 1, description: 'List of external IPs for the node.' },
      { name: 'OS-Image', type: 'string', priority: 1, description: 'OS Image reported by the node from /etc/os-release.' },
      { name: 'Kernel-Version', type: 'string', priority: 1, description: 'Kernel Version reported by the node.' },
      { name: 'Container-Runtime', type: 'string', priority: 1, description: 'Container Runtime Version reported by the node.' }],
    cells: (n, age) => [n.metadata.name, nodeStatus(n), nodeRoles(n), age, n.status?.nodeInfo?.kubeletVersion ?? '',
      addr(n, 'InternalIP'), addr(n, 'ExternalIP'), n.status?.nodeInfo?.osImage ?? '<unknown>', n.status?.nodeInfo?.kernelVersion ?? '<unknown>', n.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>'],
  },
  pods: {
    columns: [NAME,
      { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.' },
      { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
      { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' },
      AGE,
      { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.' },
      { name: 'Node', type: 'string', priority: 1, description: 'Name of the Node this pod is scheduled on.' },
      { name: 'Nominated Node', type: 'string', priority: 1, description: 'Name of the node this pod is nominated to run on.' },
      { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Pod readiness gates.' }],
    cells: (p, age) => {
      const cs = (p.status?.containerStatuses ?? []) as { ready: boolean; restartCount: number }[];
      const total = (p.spec?.containers ?? []).length;
      const ready = cs.filter((c) => c.ready && !p.metadata.deletionTimestamp).length;
      return [p.metadata.name, `${ready}/${total}`, podStatus(p), String(cs.reduce((s, c) => s + (c.restartCount ?? 0), 0)), age,
        orNone(p.status?.podIP), orNone(p.spec?.nodeName), '<none>', '<none>'];
    },
  },
  deployments: {
    columns: [NAME,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' },
      { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.' },
      { name: 'Available', type: 'string', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.' },
      AGE,
      { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
      { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' },
      { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.' }],
    cells: (d, age) => [d.metadata.name, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0, age,
      containers(d).map((c) => c.name).join(','), containers(d).map((c) => c.image).join(','), selectorToString(d.spec?.selector)],
  },
  replicasets: {
    columns: [NAME,
      { name: 'Desired', type: 'integer', description: 'Number of desired pods.' },
      { name: 'Current', type: 'integer', description: 'Number of actual replicas.' },
      { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.' },
      AGE,
      { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
      { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' },
      { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.' }],
    cells: (r, age) => [r.metadata.name, r.spec?.replicas ?? 1, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, age,
      containers(r).map((c) => c.name).join(','), containers(r).map((c) => c.image).join(','), selectorToString(r.spec?.selector)],
  },
  daemonsets: {
    columns: [NAME,
      { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.' },
      { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.' },
      { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.' },
      { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod' },
      { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.' },
      { name: 'Node Selector', type: 'string', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.' },
      AGE],
    cells: (d, age) => [d.metadata.name, d.status?.desiredNumberScheduled ?? 0, d.status?.currentNumberScheduled ?? 0, d.status?.numberReady ?? 0,
      d.status?.updatedNumberScheduled ?? 0, d.status?.numberAvailable ?? 0,
      orNone(Object.entries(d.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',')), age],
  },
  statefulsets: {
    columns: [NAME, { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' }, AGE,
      { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
      { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' }],
    cells: (s, age) => [s.metadata.name, `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age,
      containers(s).map((c) => c.name).join(','), containers(s).map((c) => c.image).join(',')],
  },
  poddisruptionbudgets: {
    columns: [NAME,
      { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.' },
      { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.' },
      { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.' },
      AGE],
    cells: (b, age) => [b.metadata.name, b.spec?.minAvailable === undefined ? 'N/A' : String(b.spec.minAvailable),
      b.spec?.maxUnavailable === undefined ? 'N/A' : String(b.spec.maxUnavailable), b.status?.disruptionsAllowed ?? 0, age],
  },
  persistentvolumeclaims: {
    columns: [NAME,
      { name: 'Status', type: 'string', description: 'Status represents the current information/status of a persistent volume claim.' },
      { name: 'Volume', type: 'string', description: 'VolumeName is the binding reference to the PersistentVolume backing this claim.' },
      { name: 'Capacity', type: 'string', description: 'Capacity represents the actual resources of the underlying volume.' },
      { name: 'Access Modes', type: 'string', description: 'AccessModes contains the actual access modes the volume backing the PVC has.' },
      { name: 'StorageClass', type: 'string', description: 'StorageClassName is the name of the StorageClass required by the claim.' },
      { name: 'VolumeAttributesClass', type: 'string', description: 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.' },
      AGE,
      { name: 'VolumeMode', type: 'string', priority: 1, description: 'volumeMode defines what type of volume is required by the claim.' }],
    cells: (c, age) => {
      const modes = ((c.status?.accessModes ?? c.spec?.accessModes ?? []) as string[])
        .map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m).join(',');
      return [c.metadata.name, c.metadata.deletionTimestamp ? 'Terminating' : (c.status?.phase ?? 'Pending'), c.spec?.volumeName ?? '',
        c.status?.capacity?.storage ?? '', modes, c.spec?.storageClassName ?? '', c.spec?.volumeAttributesClassName ?? '<unset>', age, c.spec?.volumeMode ?? 'Filesystem'];
    },
  },
  events: {
    columns: [
      { name: 'Last Seen', type: 'string', description: 'The time at which the most recent occurrence of this event was recorded.' },
      { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future.' },
      { name: 'Reason', type: 'string', description: 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.' },
      { name: 'Object', type: 'string', description: 'The object that this event is about.' },
      { name: 'Subobject', type: 'string', priority: 1, description: 'The subobject that this event is about.' },
      { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event.' },
      { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.' },
      { name: 'First Seen', type: 'string', priority: 1, description: 'The time at which the event was first recorded.' },
      { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.' },
      { name: 'Name', type: 'string', priority: 1, format: 'name', description: 'Name must be unique within a namespace.' },
    ],
    cells: (e, age) => {
      const since = (t: unknown) => (typeof t === 'string' ? humanDuration(Date.now() - Date.parse(t)) : age);
      const o = (e.involvedObject ?? {}) as { kind?: string; name?: string; fieldPath?: string };
      const src = (e.source ?? {}) as { component?: string; host?: string };
      return [since(e.lastTimestamp), String(e.type ?? ''), String(e.reason ?? ''), `${(o.kind ?? '').toLowerCase()}/${o.name ?? ''}`, o.fieldPath ?? '',
        [src.component, src.host].filter(Boolean).join(', '), String(e.message ?? ''), since(e.firstTimestamp), String(e.count ?? 1), e.metadata.name];
    },
  },
  leases: {
    columns: [NAME, { name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease.' }, AGE],
    cells: (l, age) => [l.metadata.name, l.spec?.holderIdentity ?? '', age],
  },
  namespaces: {
    columns: [NAME, { name: 'Status', type: 'string', description: 'The status of the namespace' }, AGE],
    cells: (n, age) => [n.metadata.name, n.metadata.deletionTimestamp ? 'Terminating' : (n.status?.phase ?? 'Active'), age],
  },
};

const GENERIC: Printer = { columns: [NAME, AGE], cells: (o, age) => [o.metadata.name, age] };

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function toTable(rt: ResourceType, objs: KObject[], opts: { includeObject?: string | null; now: Date; resourceVersion?: string; noHeaders?: boolean }): Record<string, unknown> {
  const printer = PRINTERS[rt.plural] ?? GENERIC;
  const include = (opts.includeObject ?? 'Metadata') as IncludeObject;
  const rows = objs.map((o) => {
    const age = humanDuration(opts.now.getTime() - Date.parse(o.metadata.creationTimestamp));
    const row: Record<string, unknown> = { cells: printer.cells(o, age) };
    if (include === 'Object') row['object'] = o;
    else if (include !== 'None') row['object'] = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return row;
  });
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: opts.noHeaders ? [] : printer.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    rows,
  };
  return table;
}

/** Whether an Accept header asks for a Table. */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /(^|[;,\s])as=Table(;|,|$)/.test(accept.replace(/\s+/g, ''));
}

