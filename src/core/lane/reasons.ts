// Why a node is repaved: an ordered list of reasons (Karpenter's disruption methods as model), each deciding on
// its own whether a node is due and how its candidates are ordered. The first reason a node matches is its kind;
// a reason may have its own budget (reasonBudgets in the group's configuration). To add a reason, add it here.
import type { NodeGroupConfig } from '../config.js';
import { nodeCountOf } from '../group-size.js';
import { formatDuration } from '../duration.js';
import { roundMin, type NodeHealth } from './health.js';
import { keyringsBehind, type KeyringRequirements } from './keyrings.js';
import type { ImageDrift } from './names.js';
import type { ObservedNode } from './observed.js';
import type { WindowState } from '../windows.js';

export const REPAVE_REASON_KINDS = ['unhealthy', 'drifted', 'keyring', 'aged'] as const;
export type RepaveReasonKind = (typeof REPAVE_REASON_KINDS)[number];

/**
 * The image a group's nodes should run: resolved once from the group's configured image, or pinned by a
 * rollout. Replacements always boot from it; which nodes on other images are drifted is `drift`.
 */
export interface DesiredImage {
  imageId: string;
  displayName?: string;
  /** 'channel': resolved from the group's image; 'pinned': set by a runbook (a rollout). */
  source: 'channel' | 'pinned';
  /** Unset (lanes from before): every node on another image. A channel does not move nodes (`none`); an image id or a pin does. */
  drift?: ImageDrift;
  /** The workflow that pinned it. */
  by?: string;
  /** Move at most this many nodes to the image (a partial wave); unset: every node. */
  nodes?: number;
  /** ISO */
  at: string;
}

export interface ReasonFacts {
  health: NodeHealth;
  now: number;
  maxAgeMs: number;
  desiredImage?: DesiredImage;
  /** What rotations require of the group's nodes (a key rotation's spread). */
  keyrings?: KeyringRequirements;
}

export interface RepaveReason {
  kind: RepaveReasonKind;
  /** Why the node is due for this reason (shown), or undefined when it is not. */
  check(n: ObservedNode, f: ReasonFacts): string[] | undefined;
}

const unhealthy: RepaveReason = {
  kind: 'unhealthy',
  check: (_n, f) => (f.health.unhealthy ? f.health.reasons : undefined),
};

/** The node's instance runs another image than the group's desired one, and that image drifts (an unknown image does not). */
const drifted: RepaveReason = {
  kind: 'drifted',
  check: (n, f) =>
    f.desiredImage && n.imageId && n.imageId !== f.desiredImage.imageId && drifts(f.desiredImage.drift ?? 'all', n.imageId)
      ? [`drifted: runs image ${n.imageId}, the group's desired image is ${f.desiredImage.displayName ?? f.desiredImage.imageId}`]
      : undefined,
};

const drifts = (d: ImageDrift, image: string) => d === 'all' || (d !== 'none' && d.from === image);

/** The node holds an older keyring (or reports none) than a rotation requires: repaved, it boots with the current one. */
const keyring: RepaveReason = {
  kind: 'keyring',
  check: (n, f) => (f.keyrings ? keyringsBehind(n.keyrings, f.keyrings) : undefined),
};

const aged: RepaveReason = {
  kind: 'aged',
  check: (n, f) => {
    const ageMs = f.now - Date.parse(n.createdAt);
    return ageMs >= f.maxAgeMs ? [`aged ${formatDuration(roundMin(ageMs))} (maxAge ${formatDuration(f.maxAgeMs)})`] : undefined;
  },
};

/** In order: a node due for several reasons is repaved for the first. */
export const REPAVE_REASONS: readonly RepaveReason[] = [unhealthy, drifted, keyring, aged];

/** A reason's budget as a node count (a percentage of the size rounded down, at least 1 above 0%); unset: none. */
export function reasonBudgetOf(group: Pick<NodeGroupConfig, 'size' | 'reasonBudgets'>, kind: RepaveReasonKind): number | undefined {
  const b = group.reasonBudgets?.[kind];
  return b === undefined ? undefined : nodeCountOf(b, group.size);
}

/** How many more nodes a partial wave may move to the desired image (Infinity: no limit). */
export function driftAllowance(desired: DesiredImage | undefined, nodes: ObservedNode[], driftedInFlight: number): number {
  if (!desired || desired.nodes === undefined) return Number.POSITIVE_INFINITY;
  const onImage = nodes.filter((n) => n.imageId === desired.imageId).length;
  return Math.max(0, desired.nodes - onImage - driftedInFlight);
}

/** Outside the group's maintenance windows: the reasons that wait (aged, drifted, keyring; unhealthy only if the group says so), and why. */
export function waitingForWindow(
  group: Pick<NodeGroupConfig, 'name' | 'unhealthyOutsideWindows'>,
  w: Pick<WindowState, 'opensAt'>,
): Partial<Record<RepaveReasonKind, string>> {
  const why = `outside the maintenance windows of ${group.name}${w.opensAt !== undefined ? `; the next opens at ${new Date(w.opensAt).toISOString()}` : ''}`;
  return { aged: why, drifted: why, keyring: why, ...(group.unhealthyOutsideWindows === 'wait' ? { unhealthy: why } : {}) };
}
