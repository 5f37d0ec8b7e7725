// What a sweep observes of a node group, and the reports and repaves the lane keeps track of.
import type { KeyPurpose } from '../keyring.js';
import type { RepaveReasonKind } from './reasons.js';



export interface ObservedCondition {
  type: string;
  /** "True", "False" or "Unknown". */
  status: string;
  /** lastTransitionTime (ISO); missing = unknown, taken as "long ago". */
  since?: string;
  reason?: string;
}

/** One node of the group as the sweep saw it. */
export interface ObservedNode {
  name: string;
  /** Node creation time (ISO): the node's age. */
  createdAt: string;
  ready: boolean;
  conditions: ObservedCondition[];
  unschedulable: boolean;
  faultDomain?: string;
  /** topology.kubernetes.io/zone (the availability domain without its tenancy prefix). */
  zone?: string;
  /** The live workflow that holds the node (claims of finished workflows are left out by the sweep). */
  owner?: string;
  /** The OCI instance the node runs (its spec.providerID). */
  instanceId?: string;
  /** The Node object's metadata.uid. */
  uid?: string;
  /** The image its instance booted from. */
  imageId?: string;
  /** The keyring version it reports per purpose (its keyring.itinerant.dev/<purpose> annotation). */
  keyrings?: Partial<Record<KeyPurpose, number>>;
}

export interface NodeGroupObservation {
  cluster: string;
  nodeGroup: string;
  /** When the sweep read the cluster (ISO, the activity's clock). */
  observedAt: string;
  nodes: ObservedNode[];
}

export interface UnhealthyReport {
  node: string;
  reason: string;
  /** When the lane received it (ISO). */
  at: string;
  /** The machine (machineOf) of the node that had the name at the first sweep after it came in; unset until then. */
  machine?: string;
}

export interface InFlightRepave {
  node: string;
  workflowId: string;
  /** ISO */
  startedAt: string;
  reason: string;
  faultDomain?: string;
  /** The machine (machineOf) being repaved. */
  machine?: string;
  /** The reason it is repaved for (its budget); unset in runs from before reasons were data. */
  kind?: RepaveReasonKind;
}


/** Add a report unless the node is already reported (duplicates are ignored: the first report stands). */
export function addReport(reports: UnhealthyReport[], report: { node: string; reason?: string }, at: string): { reports: UnhealthyReport[]; added: boolean } {
  if (reports.some((r) => r.node === report.node)) return { reports, added: false };
  return { reports: [...reports, { node: report.node, reason: (report.reason ?? 'reported unhealthy').slice(0, 200), at }], added: true };
}
