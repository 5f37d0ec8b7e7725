import { z } from 'zod';
import type { NodeGroupConfig } from './config.js';
import { minReadyOf } from './group-size.js';
import { boundedDuration, type ParseResult, parseObjectInput } from './input.js';
import type { EndPhase, RunbookProgress } from './runbook.js';

const k8sName = z
  .string({ error: 'expected a string' })
  .min(1, 'must not be empty')
  .max(253, 'at most 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Kubernetes node name (lower-case letters, digits, "-" and ".")');

export const repaveNodeInputSchema = z.strictObject({
  /** Cluster name as declared in the fleet configuration. */
  cluster: k8sName,
  /** Node to replace. */
  node: k8sName,
  /** Why (shown in history and the UI): aged, unhealthy, image, manual... */
  reason: z.string().max(200).default('manual'),
  /** How long the replacement may take to become operational before it is given up (and terminated). */
  readyTimeout: boundedDuration('20m', 1000, 6 * 3_600_000),
  /** How long draining may take; evictions refused by a PodDisruptionBudget are retried until then. */
  drainTimeout: boundedDuration('30m', 1000, 24 * 3_600_000),
  /** Evict pods that no controller will recreate (kubectl drain --force). Off by default: they would be lost. */
  evictUnmanagedPods: z.boolean().default(false),
  /**
   * After drainTimeout, delete pods whose eviction a PodDisruptionBudget still refuses.
   * Off by default: PDBs are honoured and the run fails instead.
   */
  deletePodsBlockedByPdbAfterTimeout: z.boolean().default(false),
  /**
   * Remove the node without a replacement: the group runs above its configured size (a failed drain left a
   * replacement serving beside the old node). Refused unless the group has more nodes than its size.
   */
  retireOnly: z.boolean().default(false),
  /** Boot the replacement from this image (the group's desired image, as its lane passes it) instead of the group's configured one. */
  imageId: z.string().startsWith('ocid1.image.', 'expected an image OCID').optional(),
});

export type RepaveNodeInput = z.input<typeof repaveNodeInputSchema>;
export type RepaveNodeRequest = z.output<typeof repaveNodeInputSchema>;

export const parseRepaveNodeInput = (input: unknown): ParseResult<RepaveNodeRequest> =>
  parseObjectInput(repaveNodeInputSchema, input, '{"cluster": "sim-1", "node": "general-abc12"}');

/** What the preflight activities observed about the node and its group. */
export interface RepaveTargetFacts {
  cluster: string;
  node: string;
  exists: boolean;
  /** The node's itinerant.dev/cluster label (undefined when missing). */
  nodeCluster?: string;
  controlPlane: boolean;
  nodeGroup?: string;
  ready: boolean;
  /** The OCI instance its spec.providerID names (`oci://<OCID>` or the bare OCID); unset when none. */
  instanceId?: string;
  /** Pods that no controller would recreate, by namespace/name. */
  unmanagedPods: string[];
  /** Ready nodes of the group, this one included when Ready. */
  groupReady: number;
  group?: NodeGroupConfig;
}

export type RepaveDecision =
  | { ok: true; inPlace: boolean; minReady: number }
  | { ok: false; field: string; message: string };

/** Decide whether the node may be repaved at all, before any side effect. */
export function checkRepaveTarget(f: RepaveTargetFacts, req: Pick<RepaveNodeRequest, 'evictUnmanagedPods'> & { retireOnly?: boolean }): RepaveDecision {
  const refuse = (field: string, message: string): RepaveDecision => ({ ok: false, field, message });
  if (!f.exists) return refuse('node', `node ${f.node} does not exist in cluster ${f.cluster}`);
  if (f.nodeCluster !== undefined && f.nodeCluster !== f.cluster) {
    return refuse('cluster', `node ${f.node} belongs to cluster ${f.nodeCluster}, not ${f.cluster}`);
  }
  if (f.controlPlane) return refuse('node', `node ${f.node} is a control-plane node; itinerant only repaves worker nodes of node groups`);
  if (!f.nodeGroup) return refuse('node', `node ${f.node} has no itinerant.dev/node-group label: it belongs to no node group`);
  if (!f.group) return refuse('node', `node ${f.node} is in node group ${f.nodeGroup}, which the fleet configuration of cluster ${f.cluster} does not declare`);
  if (!f.instanceId) return refuse('node', `node ${f.node} has no OCI instance (its spec.providerID names no OCI instance: expected oci://ocid1.instance... or ocid1.instance...); a node is never matched to an instance by name`);
  if (f.unmanagedPods.length > 0 && !req.evictUnmanagedPods) {
    return refuse(
      'evictUnmanagedPods',
      `node ${f.node} runs pods no controller would recreate (${f.unmanagedPods.slice(0, 5).join(', ')}${f.unmanagedPods.length > 5 ? ', ...' : ''}); set evictUnmanagedPods: true to evict them anyway`,
    );
  }
  if (req.retireOnly && f.groupReady <= f.group.size) {
    return refuse('retireOnly', `node group ${f.group.name} has ${f.groupReady} Ready nodes for a size of ${f.group.size}: retiring ${f.node} without a replacement would shrink it; repave it instead`);
  }
  const inPlace = f.group.allowInPlace && f.group.maxSurge === 0;
  const drainFirst = inPlace || req.retireOnly === true;
  if (!drainFirst && f.group.maxSurge < 1) {
    return refuse('node', `node group ${f.group.name} has maxSurge 0 and does not allow in-place replacement: there is no way to repave it`);
  }
  const minReady = minReadyOf(f.group);
  // n+1: the replacement is Ready before the old node is drained, so a Ready node is swapped one for one.
  const readyWhileDraining = f.groupReady - (f.ready ? 1 : 0) + (drainFirst ? 0 : 1);
  if (readyWhileDraining < minReady) {
    return refuse(
      'node',
      `node group ${f.group.name} has ${f.groupReady} Ready nodes; repaving ${f.node} would leave ${readyWhileDraining} while draining, below its minimum of ${minReady}`,
    );
  }
  return { ok: true, inPlace, minReady };
}

export type RepavePhase =
  | 'validating'
  | 'launching-replacement'
  | 'waiting-for-replacement'
  | 'cordoning'
  | 'draining'
  | 'deleting-node'
  | 'terminating-instance'
  | EndPhase;

export interface RepaveProgress extends RunbookProgress<RepavePhase> {
  node: string;
  nodeGroup?: string;
  oldInstanceId?: string;
  replacement?: { nodeName: string; instanceId?: string; ready: boolean };
  /** Removed without a replacement (retireOnly: the group was above its size). */
  retireOnly?: boolean;
  /** Drain-first: the group allows in-place replacement and has no surge. */
  inPlace?: boolean;
  drain?: { evicted: number; remaining: number; blockedByPdb: string[] };
}

export interface RepaveNodeResult {
  node: string;
  /** Undefined when the node was retired without one (retireOnly). */
  replacement?: { nodeName: string; instanceId: string };
  oldInstanceId: string;
  evictedPods: number;
}
