// Pure planning for the node group manager: where new nodes go, which nodes a scale-down removes.
import { z } from 'zod';
import type { NodeGroupConfig, Placement } from './config.js';
import { maxSizeOf, minReadyOf } from './group-size.js';
import { boundedDuration, parseObjectInput } from './input.js';
import type { Checked, ObservedNode } from './lane/index.js';
import type { EndPhase, RunbookProgress } from './runbook.js';

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label');
const nodeName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a Kubernetes node name');
export const nodeGroupManagerInputSchema = z
  .strictObject({
    cluster: name,
    group: name,
    /** create: bring the group to its configured size (or `size`); scale: to `size`; delete: drain and remove every node. */
    action: z.enum(['create', 'scale', 'delete']),
    size: z.number().int().min(0).max(1000).optional(),
    /** Scale-down: remove these nodes first (otherwise the youngest go, keeping the fault-domain spread). */
    nodes: z.array(nodeName).max(1000).optional(),
    readyTimeout: boundedDuration('20m', 1000, 6 * 3_600_000),
    drainTimeout: boundedDuration('30m', 1000, 24 * 3_600_000),
    evictUnmanagedPods: z.boolean().default(false),
    deletePodsBlockedByPdbAfterTimeout: z.boolean().default(false),
  })
  .refine((i) => i.action !== 'scale' || i.size !== undefined, { message: 'scale needs a target size', path: ['size'] })
  .refine((i) => i.action !== 'delete' || i.size === undefined, { message: 'delete removes every node; give no size', path: ['size'] });

export type NodeGroupManagerInput = z.input<typeof nodeGroupManagerInputSchema>;
export type NodeGroupManagerRequest = z.output<typeof nodeGroupManagerInputSchema>;

export const parseNodeGroupManagerInput = (input: unknown): Checked<NodeGroupManagerRequest> =>
  parseObjectInput(nodeGroupManagerInputSchema, input, '{"cluster": "sim-1", "group": "general", "action": "scale", "size": 5}');

export const zoneOf = (availabilityDomain: string) => availabilityDomain.slice(availabilityDomain.lastIndexOf(':') + 1);
const placementKey = (zone: string | undefined, fd: string | undefined) => `${zone ?? '?'}/${fd ?? '?'}`;

/** Placements for `count` new nodes: each goes to the group's placement with the fewest nodes (ties: config order). */
export function placementsForNewNodes(group: Pick<NodeGroupConfig, 'name' | 'placement'>, nodes: Pick<ObservedNode, 'zone' | 'faultDomain'>[], count: number): Placement[] {
  if (group.placement.length === 0) throw new Error(`node group ${group.name} has no placement`);
  const load = group.placement.map((p) => nodes.filter((n) => placementKey(n.zone, n.faultDomain) === placementKey(zoneOf(p.availabilityDomain), p.faultDomain)).length);
  const out: Placement[] = [];
  for (let i = 0; i < count; i++) {
    let best = 0;
    load.forEach((l, j) => {
      if (l < load[best]!) best = j;
    });
    out.push(group.placement[best]!);
    load[best]!++;
  }
  return out;
}

/**
 * Nodes a scale-down to `target` removes: the chosen ones first, then the youngest, taken from the fault
 * domain that has the most nodes left (so the spread is kept). Refuses chosen nodes outside the group.
 */
export function nodesToRemove(nodes: ObservedNode[], target: number, chosen: string[] = []): Checked<ObservedNode[]> {
  const excess = nodes.length - target;
  if (excess <= 0) {
    if (chosen.length > 0) return { ok: false, message: `nodes: only a scale-down removes nodes; the group has ${nodes.length} and the target is ${target}` };
    return { ok: true, value: [] };
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const unknown = chosen.filter((c) => !byName.has(c));
  if (unknown.length) return { ok: false, message: `nodes: ${unknown.join(', ')} not in the group (members: ${[...byName.keys()].join(', ') || 'none'})` };
  if (chosen.length > excess) return { ok: false, message: `nodes: ${chosen.length} chosen but scaling ${nodes.length} → ${target} removes only ${excess}` };
  const out = chosen.map((c) => byName.get(c)!);
  const left = nodes.filter((n) => !chosen.includes(n.name));
  while (out.length < excess) {
    const perFd = new Map<string, number>();
    for (const n of left) perFd.set(placementKey(n.zone, n.faultDomain), (perFd.get(placementKey(n.zone, n.faultDomain)) ?? 0) + 1);
    // Prefer nodes that are not Ready (they serve nothing), then the fullest fault domain, then the youngest.
    left.sort(
      (a, b) =>
        Number(a.ready) - Number(b.ready) ||
        (perFd.get(placementKey(b.zone, b.faultDomain)) ?? 0) - (perFd.get(placementKey(a.zone, a.faultDomain)) ?? 0) ||
        Date.parse(b.createdAt) - Date.parse(a.createdAt) ||
        (a.name < b.name ? -1 : 1),
    );
    out.push(left.shift()!);
  }
  return { ok: true, value: out };
}

/** Split into batches of at most `size`. */
export function batches<T>(items: T[], size: number): T[][] {
  const n = Math.max(1, size);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * The size a run brings the group to: delete → 0; create and scale → the asked size (default the configured
 * one), refused below the group's minimum Ready count (delete removes a group) and above its ceiling.
 */
export function targetSizeOf(group: NodeGroupConfig, action: NodeGroupManagerRequest['action'], size: number | undefined): Checked<number> {
  if (action === 'delete') return { ok: true, value: 0 };
  const want = size ?? group.size;
  const floor = minReadyOf(group);
  if (want < floor) {
    return {
      ok: false,
      message: `size: ${want} is below node group ${group.name}'s minimum of ${floor} Ready nodes (minReady, else size - maxUnavailable); to remove the group, use action delete`,
    };
  }
  const ceiling = maxSizeOf(group);
  if (want > ceiling) return { ok: false, message: `size: ${want} is above node group ${group.name}'s ceiling of ${ceiling} nodes (maxSize, else twice its size of ${group.size})` };
  return { ok: true, value: want };
}

export type NodeGroupManagerPhase = 'validating' | 'holding-lane' | 'creating-subnets' | 'launching' | 'removing' | 'deleting-subnets' | EndPhase;

export interface NodeGroupManagerProgress extends RunbookProgress<NodeGroupManagerPhase> {
  group: string;
  action: NodeGroupManagerRequest['action'];
  from?: number;
  /** The size the group is being brought to. */
  size?: number;
  launched: { node: string; instanceId?: string; ready: boolean }[];
  removed: string[];
  failed: { node: string; error: string }[];
  /** A group on dedicated subnets: the ones create made or found. */
  subnets?: { subnetId: string; cidrBlock: string; availabilityDomain?: string }[];
}

export interface NodeGroupManagerResult {
  cluster: string;
  group: string;
  action: NodeGroupManagerRequest['action'];
  from: number;
  to: number;
  launched: string[];
  removed: string[];
}
