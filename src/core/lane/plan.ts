// The plan of one sweep: which nodes are due (unhealthy, drifted, keyring, aged), in which order they are repaved, how many may start now.
// No clocks and no I/O: `now` and the observed nodes come in, a plan comes out.
import type { NodeGroupConfig } from '../config.js';
import { assessHealth } from './health.js';
import { DEFAULT_SWEEP_INTERVAL_MS, DEFAULT_UNHEALTHY_AFTER_MS } from './names.js';
import type { KeyringRequirements } from './keyrings.js';
import type { InFlightRepave, ObservedNode, UnhealthyReport } from './observed.js';
import type { Pace } from './pace.js';
import { driftAllowance, reasonBudgetOf, REPAVE_REASON_KINDS, REPAVE_REASONS, type DesiredImage, type RepaveReasonKind } from './reasons.js';


export interface Candidate {
  node: string;
  /** The first reason (in REPAVE_REASONS order) it is due for. */
  kind: RepaveReasonKind;
  reasons: string[];
  faultDomain?: string;
  severity: number;
  /** ISO */
  createdAt: string;
  ageMs: number;
  /** Already counts as unavailable: repaving it (n+1) disrupts nothing more. */
  unavailable: boolean;
  /** The group is above its size: the node is removed without a replacement instead of repaved. */
  retire?: boolean;
}

/** A group with more nodes than its configured size (e.g. a failed drain left a replacement beside the old node). */
export interface AboveSize {
  /** Ready nodes of the group. */
  nodes: number;
  size: number;
  /** Nodes beyond the size, less repaves in flight (each may add a node for a while). */
  surplus: number;
  /** Queued nodes that are retired rather than repaved, first in the queue. */
  retiring: string[];
  /** What the lane does about it, in words. */
  note: string;
}

export interface Budget {
  /** Most repaves at once: min(concurrency, maxUnavailable, maxSurge unless in-place). */
  cap: number;
  /** Our repaves in flight plus nodes other live workflows hold. */
  inFlight: number;
  /** Nodes of the group unavailable for other reasons (NotReady past the grace, cordoned). */
  unavailableElsewhere: number;
  /** Repaves that may start now (before pace). */
  slots: number;
  /** Why nothing may start, when so. */
  blockedBy?: string;
}

export interface PlanInput {
  group: NodeGroupConfig;
  nodes: ObservedNode[];
  reports: UnhealthyReport[];
  inFlight: InFlightRepave[];
  pace: Pace;
  now: number;
  /** Nodes not to be retried before this time (epoch ms), after a failed repave. */
  notBefore?: Record<string, number>;
  /** Repaves in flight at any time while `nodes` was listed (at least `inFlight`): each may have added a node to it. */
  inFlightWhileListing?: number;
  /**
   * Nodes whose repave ended while `nodes` was listed: what the list says of them is from before the end (an old
   * node may be listed after its repave deleted it, no longer held by it). Not planned this sweep; the next looks again.
   */
  endedWhileListing?: string[];
  /** The image the group's nodes should run; unset: no node is drifted. */
  desiredImage?: DesiredImage;
  /** Keyring versions rotations require; unset: no node is behind. */
  keyrings?: KeyringRequirements;
  /** Reasons that may start no repave now, and why (outside a maintenance window): queued, skipped. */
  notNow?: Partial<Record<RepaveReasonKind, string>>;
}

export interface RepavePlan {
  /** Every aged or unhealthy node that is not in flight, in the order it would be repaved. */
  queue: Candidate[];
  /** The head of the queue that fits the budget now. */
  start: Candidate[];
  budget: Budget;
  unhealthy: string[];
  drifted: string[];
  /** Nodes behind a keyring version a rotation requires. */
  keyring: string[];
  aged: string[];
  /** Nodes skipped this sweep and why (held by another workflow, backing off after a failure). */
  skipped: { node: string; why: string }[];
  /** Reports about nodes that are no longer in the group (drop them). */
  staleReports: string[];
  aboveSize?: AboveSize;
  maxAgeMs: number;
  unhealthyAfterMs: number;
}

export function maxAgeOf(group: NodeGroupConfig, pace: Pace): number {
  return pace.maxAge ?? group.maxAge;
}

export function unhealthyAfterOf(group: NodeGroupConfig): number {
  return group.unhealthyAfter ?? DEFAULT_UNHEALTHY_AFTER_MS;
}

export function sweepIntervalOf(group: NodeGroupConfig): number {
  return group.sweepInterval ?? DEFAULT_SWEEP_INTERVAL_MS;
}

export function planRepaves(input: PlanInput): RepavePlan {
  const { group, nodes, reports, inFlight, pace, now } = input;
  const maxAgeMs = maxAgeOf(group, pace);
  const unhealthyAfterMs = unhealthyAfterOf(group);
  const ours = new Map(inFlight.map((f) => [f.node, f]));
  const ended = new Set(input.endedWhileListing ?? []);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const reportOf = new Map(reports.map((r) => [r.node, r]));
  const staleReports = reports.filter((r) => !byName.has(r.node)).map((r) => r.node);

  const skipped: { node: string; why: string }[] = [];
  const due: Record<RepaveReasonKind, string[]> = { unhealthy: [], drifted: [], keyring: [], aged: [] };
  const candidates: Due[] = [];
  let heldElsewhere = 0;
  let unavailableElsewhere = 0;
  const busyFds: string[] = inFlight.map((f) => fdKey(f.faultDomain ?? byName.get(f.node)?.faultDomain));

  for (const n of nodes) {
    const health = assessHealth(n, reportOf.get(n.name), now, unhealthyAfterMs);
    const matched = REPAVE_REASONS.flatMap((r) => {
      const why = r.check(n, { health, now, maxAgeMs, ...(input.desiredImage ? { desiredImage: input.desiredImage } : {}), ...(input.keyrings ? { keyrings: input.keyrings } : {}) });
      return why ? [{ kind: r.kind, why }] : [];
    });
    for (const m of matched) due[m.kind].push(n.name);
    if (ours.has(n.name)) continue; // in flight: counted in the budget below
    if (ended.has(n.name)) {
      if (matched.length) skipped.push({ node: n.name, why: 'its repave ended while the group was listed: looked at again next sweep' });
      continue;
    }
    if (n.owner) {
      // Another live workflow (a manual repave, the node group manager, a lane run before a restart) holds it.
      heldElsewhere++;
      busyFds.push(fdKey(n.faultDomain));
      if (matched.length) skipped.push({ node: n.name, why: `held by workflow ${n.owner}` });
      continue;
    }
    if (health.unavailable) unavailableElsewhere++;
    if (!matched.length) continue;
    const nb = input.notBefore?.[n.name];
    if (nb !== undefined && nb > now) {
      skipped.push({ node: n.name, why: `last repave failed; retried after ${new Date(nb).toISOString()}` });
      continue;
    }
    const created = Date.parse(n.createdAt);
    candidates.push({
      node: n.name,
      kind: matched[0]!.kind,
      reasons: matched.flatMap((m) => m.why),
      ...(n.faultDomain !== undefined ? { faultDomain: n.faultDomain } : {}),
      severity: health.severity,
      createdAt: n.createdAt,
      ageMs: now - created,
      unavailable: health.unavailable,
      since: health.since ?? Number.POSITIVE_INFINITY,
      created,
      matched,
    });
  }
  limitDrift(candidates, driftAllowance(input.desiredImage, nodes, inFlight.filter((f) => f.kind === 'drifted').length));

  // Unhealthiest first (worst kind, then longest unhealthy), then oldest; the drifted, the keyring-behind and the aged follow, oldest first.
  const oldestFirst = (a: Due, b: Due) => a.created - b.created || cmp(a.node, b.node);
  const tier = (kind: RepaveReasonKind) =>
    candidates
      .filter((c) => c.kind === kind)
      .sort(kind === 'unhealthy' ? (a, b) => b.severity - a.severity || a.since - b.since || oldestFirst(a, b) : oldestFirst);
  const used = new Set(busyFds);
  const queue = REPAVE_REASON_KINDS.flatMap((k) => spreadOverFaultDomains(tier(k), used)).map(
    ({ since: _s, created: _c, matched: _m, ...c }) => c as Candidate,
  );

  // Only Ready nodes count: a replacement that never got Ready lingers NotReady for a while after it is terminated.
  const aboveSize = retireSurplus(group, nodes.filter((n) => n.ready).length, Math.max(inFlight.length, input.inFlightWhileListing ?? 0) + heldElsewhere, queue, skipped);

  // Budget. Every repave adds a node first (n+1) and takes one out of service while it drains.
  const inPlace = group.allowInPlace && group.maxSurge === 0;
  let blockedBy: string | undefined;
  let cap = Math.min(pace.concurrency, group.maxUnavailable, inPlace ? Number.POSITIVE_INFINITY : group.maxSurge);
  if (group.maxUnavailable < 1) blockedBy = `maxUnavailable is 0: node group ${group.name} allows no node to be disrupted`;
  else if (!inPlace && group.maxSurge < 1) blockedBy = `maxSurge is 0 and allowInPlace is false: node group ${group.name} cannot be repaved`;
  if (blockedBy) cap = 0;
  const inFlightCount = inFlight.length + heldElsewhere;
  let slots = Math.max(0, cap - inFlightCount);
  if (!blockedBy && slots === 0 && queue.length) blockedBy = `${inFlightCount} repave(s) in flight, the most at once is ${cap}`;

  // Disruption: repaves in flight plus nodes already out of service elsewhere may not exceed maxUnavailable.
  // Repaving a node that is already unavailable disrupts nothing more. Each reason also keeps to its own budget,
  // and a reason may not start now at all (outside a maintenance window).
  let disrupted = inFlightCount + unavailableElsewhere;
  const perReason = new Map<RepaveReasonKind, number>(REPAVE_REASON_KINDS.map((k) => [k, inFlight.filter((f) => f.kind === k).length]));
  const start: Candidate[] = [];
  const waiting = (c: Candidate) => input.notNow?.[c.kind] !== undefined && !c.retire;
  for (const c of queue.filter(waiting)) skipped.push({ node: c.node, why: input.notNow![c.kind]! });
  for (const c of queue.filter((c) => !waiting(c))) {
    if (slots === 0) break;
    const budget = reasonBudgetOf(group, c.kind);
    if (budget !== undefined && perReason.get(c.kind)! >= budget) {
      if (start.length === 0 && !blockedBy) blockedBy = `${perReason.get(c.kind)} ${c.kind} repave(s) in flight, the budget for ${c.kind} is ${budget}`;
      continue;
    }
    if (!c.unavailable) {
      if (disrupted + 1 > group.maxUnavailable) {
        if (start.length === 0 && !blockedBy) blockedBy = `${disrupted} node(s) disrupted or unavailable, maxUnavailable is ${group.maxUnavailable}`;
        continue;
      }
      disrupted++;
    }
    perReason.set(c.kind, perReason.get(c.kind)! + 1);
    start.push(c);
    slots--;
  }

  return {
    queue,
    start,
    budget: { cap, inFlight: inFlightCount, unavailableElsewhere, slots: Math.max(0, cap - inFlightCount), ...(blockedBy ? { blockedBy } : {}) },
    unhealthy: due.unhealthy,
    drifted: due.drifted,
    keyring: due.keyring,
    aged: due.aged,
    skipped,
    staleReports,
    ...(aboveSize ? { aboveSize } : {}),
    maxAgeMs,
    unhealthyAfterMs,
  };
}

type Due = Candidate & { since: number; created: number; matched: { kind: RepaveReasonKind; why: string[] }[] };

/**
 * A partial wave moves only `allowance` more nodes to the desired image, oldest first: the other drifted
 * candidates are due for their next reason, if any, or not due this sweep.
 */
function limitDrift(candidates: Due[], allowance: number) {
  const drifting = candidates.filter((c) => c.kind === 'drifted').sort((a, b) => a.created - b.created || cmp(a.node, b.node));
  for (const c of drifting.slice(allowance)) {
    const rest = c.matched.filter((m) => m.kind !== 'drifted');
    if (rest.length) {
      c.kind = rest[0]!.kind;
      c.reasons = rest.flatMap((m) => m.why);
    } else candidates.splice(candidates.indexOf(c), 1);
  }
}

/**
 * Above its size, the group shrinks back as its nodes come due: the first queued nodes are retired (drained,
 * removed, not replaced) instead of repaved. Healthy nodes that are not due are never removed for it.
 */
function retireSurplus(group: NodeGroupConfig, nodes: number, inFlight: number, queue: Candidate[], skipped: { node: string; why: string }[]): AboveSize | undefined {
  const surplus = nodes - group.size - inFlight;
  if (surplus <= 0) return undefined;
  const retiring = queue.slice(0, surplus);
  for (const c of retiring) {
    c.retire = true;
    c.reasons.push(`group has ${nodes} Ready nodes for a size of ${group.size}: retired, not replaced`);
  }
  const head = `node group ${group.name} has ${nodes} Ready nodes for a size of ${group.size}`;
  const waiting = skipped.filter((s) => s.why.startsWith('last repave failed')).map((s) => `${s.node} (${s.why})`);
  const parts = [
    ...(retiring.length ? [`retiring ${retiring.map((c) => c.node).join(', ')} without a replacement`] : []),
    ...(retiring.length < surplus && waiting.length ? [`retrying ${waiting.join(', ')} as a retirement`] : []),
  ];
  const note = parts.length ? `${head}: ${parts.join('; ')}` : `${head}: no node is due (aged, unhealthy or reported); the surplus is retired as nodes come due`;
  return { nodes, size: group.size, surplus, retiring: retiring.map((c) => c.node), note };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const fdKey = (fd: string | undefined) => fd ?? '(unknown fault domain)';

/**
 * Keep the order, but never take two from one fault domain while another fault domain still has
 * candidates: round by round, each round takes the best candidate of each fault domain not yet used.
 * `used` holds the fault domains already taken (in flight, or by an earlier tier) and is updated.
 */
export function spreadOverFaultDomains<T extends { faultDomain?: string }>(sorted: T[], used: Set<string>): T[] {
  const out: T[] = [];
  const rest = [...sorted];
  while (rest.length) {
    if (rest.every((c) => used.has(fdKey(c.faultDomain)))) used.clear();
    const i = rest.findIndex((c) => !used.has(fdKey(c.faultDomain)));
    const [c] = rest.splice(i, 1) as [T];
    used.add(fdKey(c.faultDomain));
    out.push(c);
  }
  return out;
}
