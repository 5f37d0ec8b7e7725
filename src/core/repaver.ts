// Pure planning for the repaver lane of one node group: which nodes are aged or unhealthy, in which order
// they are repaved, how many may start now, and when the circuit breaker stops everything.
// No clocks and no I/O: `now` and the observed nodes come in, a plan comes out (the lane workflow and
// tests call the same functions).
import type { ParseResult } from './input.js';
import { z } from 'zod';
import { describeIssues, type NodeGroupConfig } from './config.js';
import { formatDuration, parseDuration } from './duration.js';
import type { EndPhase, RunbookProgress } from './runbook.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;

export const DEFAULT_SWEEP_INTERVAL_MS = 10 * MINUTE;
export const DEFAULT_UNHEALTHY_AFTER_MS = 5 * MINUTE;

/** Names of the lane's signals, update and query (shared by the workflow and by clients that only need the names). */
/** Sweep the group now (what the Schedule sends every sweepInterval). */
export const LANE_SIGNAL_SWEEP_NOW = 'sweepNow';
/** sweepNow's name before it said what it does; lanes still answer it. */
export const LEGACY_LANE_SIGNAL_SWEEP_NOW = 'drainNow';
export const LANE_SIGNAL_REPORT_UNHEALTHY = 'reportUnhealthy';
export const LANE_SIGNAL_RESET_BREAKER = 'resetCircuitBreaker';
export const LANE_UPDATE_SET_PACE = 'setPace';
export const LANE_QUERY_STATE = 'state';
/** Another runbook (the node group manager) holds the lane: no new repaves until it releases (or the hold expires). */
export const LANE_SIGNAL_HOLD = 'hold';
export const LANE_SIGNAL_RELEASE = 'release';

export interface LaneHold {
  /** Workflow ID of the holder. */
  holder: string;
  reason: string;
  /** ISO; a holder that died does not hold the lane forever. */
  until: string;
}

// ---- observations --------------------------------------------------------------------------------

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
  instanceId?: string;
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
}

export interface InFlightRepave {
  node: string;
  workflowId: string;
  /** ISO */
  startedAt: string;
  reason: string;
  faultDomain?: string;
}

// ---- pace -----------------------------------------------------------------------------------------

/** What an operator can change live (setPace). */
export interface Pace {
  /** Repaves the lane runs at once: 1..group maxUnavailable. */
  concurrency: number;
  /** Least time between one repave finishing (or starting) and the next one starting, ms. */
  pauseBetweenNodes: number;
  /** Overrides the group's maxAge when set (ms). */
  maxAge?: number;
}

export interface PacePatch {
  concurrency?: number;
  pauseBetweenNodes?: string | number;
  maxAge?: string | number;
}

export const defaultPace = (): Pace => ({ concurrency: 1, pauseBetweenNodes: 0 });

/** The result of validating an operator's request (same shape as an input parse). */
export type Checked<T> = ParseResult<T>;

/** Validate a setPace request against the group's budget; the message says what is acceptable. */
export function applyPacePatch(current: Pace, patch: unknown, group: Pick<NodeGroupConfig, 'name' | 'maxUnavailable'>): Checked<Pace> {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return { ok: false, message: 'setPace: expected an object such as {"concurrency": 1, "pauseBetweenNodes": "10m", "maxAge": "7d"}' };
  }
  const p = patch as Record<string, unknown>;
  const known = ['concurrency', 'pauseBetweenNodes', 'maxAge'];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length) return { ok: false, message: `setPace: unknown field(s) ${unknown.join(', ')}; expected concurrency, pauseBetweenNodes, maxAge` };
  if (Object.keys(p).length === 0) return { ok: false, message: 'setPace: nothing to change; give concurrency, pauseBetweenNodes and/or maxAge' };
  const next: Pace = { ...current };
  if (p.concurrency !== undefined) {
    const c = p.concurrency;
    if (group.maxUnavailable < 1) {
      return { ok: false, message: `concurrency: node group ${group.name} has maxUnavailable 0, so no repave may run at all` };
    }
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > group.maxUnavailable) {
      return {
        ok: false,
        message: `concurrency: expected an integer from 1 to ${group.maxUnavailable} (node group ${group.name}'s maxUnavailable), got ${JSON.stringify(c)}`,
      };
    }
    next.concurrency = c;
  }
  if (p.pauseBetweenNodes !== undefined) {
    const ms = durationOf(p.pauseBetweenNodes);
    if (ms === undefined || ms > 24 * HOUR) {
      return { ok: false, message: `pauseBetweenNodes: expected a duration from 0s to 24h such as "10m", got ${JSON.stringify(p.pauseBetweenNodes)}` };
    }
    next.pauseBetweenNodes = ms;
  }
  if (p.maxAge !== undefined) {
    const ms = durationOf(p.maxAge);
    if (ms === undefined || ms < HOUR || ms > 365 * 24 * HOUR) {
      return { ok: false, message: `maxAge: expected a duration from 1h to 365d such as "7d", got ${JSON.stringify(p.maxAge)}` };
    }
    next.maxAge = ms;
  }
  return { ok: true, value: next };
}

function durationOf(v: unknown): number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
}

export function describePace(p: Pace): string {
  return `concurrency ${p.concurrency}, pause ${formatDuration(p.pauseBetweenNodes)}${p.maxAge !== undefined ? `, maxAge ${formatDuration(p.maxAge)}` : ''}`;
}

// ---- unhealthy reports ----------------------------------------------------------------------------

/** Add a report unless the node is already reported (duplicates are ignored: the first report stands). */
export function addReport(reports: UnhealthyReport[], report: { node: string; reason?: string }, at: string): { reports: UnhealthyReport[]; added: boolean } {
  if (reports.some((r) => r.node === report.node)) return { reports, added: false };
  return { reports: [...reports, { node: report.node, reason: (report.reason ?? 'reported unhealthy').slice(0, 200), at }], added: true };
}

// ---- health and age -------------------------------------------------------------------------------

export interface NodeHealth {
  unhealthy: boolean;
  /** 3 NotReady, 2 reported, 1 problem condition, 0 healthy. */
  severity: number;
  /** Epoch ms since when the worst problem holds (reports: when received). */
  since?: number;
  reasons: string[];
  /** Counts against the group's availability now (NotReady past a grace, or cordoned). */
  unavailable: boolean;
}

/** A node condition other than Ready is a problem when True (kubelet pressure, node-problem-detector conditions). */
const isProblem = (c: ObservedCondition) => c.type !== 'Ready' && c.status === 'True';
const sinceMs = (c: ObservedCondition) => (c.since ? Date.parse(c.since) : Number.NEGATIVE_INFINITY);

export function assessHealth(n: ObservedNode, report: UnhealthyReport | undefined, now: number, unhealthyAfterMs: number): NodeHealth {
  const reasons: string[] = [];
  let severity = 0;
  let since: number | undefined;
  const worse = (sev: number, at: number) => {
    if (sev > severity) {
      severity = sev;
      since = at;
    } else if (sev === severity && since !== undefined && at < since) since = at;
  };
  const createdAt = Date.parse(n.createdAt);
  const readyCond = n.conditions.find((c) => c.type === 'Ready');
  if (!n.ready) {
    // A node that never was Ready (still booting) is measured from its creation.
    const t = Math.max(readyCond ? sinceMs(readyCond) : Number.NEGATIVE_INFINITY, createdAt);
    if (now - t >= unhealthyAfterMs) {
      worse(3, t);
      reasons.push(`NotReady for ${formatDuration(roundMin(now - t))}${readyCond?.reason ? ` (${readyCond.reason})` : ''}`);
    }
  }
  if (report) {
    worse(2, Date.parse(report.at));
    reasons.push(`reported: ${report.reason}`);
  }
  for (const c of n.conditions.filter(isProblem)) {
    const t = sinceMs(c);
    if (now - t >= unhealthyAfterMs) {
      worse(1, t);
      reasons.push(`${c.type}${c.reason ? ` (${c.reason})` : ''}${Number.isFinite(t) ? ` for ${formatDuration(roundMin(now - t))}` : ''}`);
    }
  }
  const unhealthy = severity > 0;
  const unavailable = unhealthy || n.unschedulable || (!n.ready && now - createdAt >= unhealthyAfterMs);
  return { unhealthy, severity, ...(since !== undefined ? { since } : {}), reasons, unavailable };
}

const roundMin = (ms: number) => (ms >= MINUTE ? Math.floor(ms / MINUTE) * MINUTE : Math.floor(ms / 1000) * 1000);

// ---- circuit breaker ------------------------------------------------------------------------------

export interface BreakerState {
  open: boolean;
  reason?: string;
  /** ISO time it opened. */
  since?: string;
  /** Set by an operator reset: the breaker stays closed unless more than this many nodes are unhealthy. */
  acknowledgedUnhealthy?: number;
}

export const closedBreaker = (): BreakerState => ({ open: false });

/** maxUnhealthy as a node count: a count as is; a percentage of the group's size, rounded down but at least 1 when above 0%. */
export function unhealthyThreshold(group: Pick<NodeGroupConfig, 'size' | 'maxUnhealthy'>): number {
  const m = group.maxUnhealthy;
  if (typeof m === 'number') return m;
  const pct = Number(m.slice(0, -1));
  if (pct <= 0) return 0;
  return Math.max(1, Math.floor((group.size * pct) / 100));
}

export interface BreakerDecision {
  state: BreakerState;
  event?: 'tripped' | 'recovered';
}

/**
 * Open when more than the group's maxUnhealthy nodes are unhealthy at once (and more than an operator
 * acknowledged); close again by itself once no more than maxUnhealthy are.
 */
export function evaluateBreaker(prev: BreakerState, unhealthy: string[], group: Pick<NodeGroupConfig, 'name' | 'size' | 'maxUnhealthy'>, nowIso: string): BreakerDecision {
  const threshold = unhealthyThreshold(group);
  const count = unhealthy.length;
  if (count <= threshold) {
    return prev.open ? { state: closedBreaker(), event: 'recovered' } : { state: closedBreaker() };
  }
  if (prev.acknowledgedUnhealthy !== undefined && count <= prev.acknowledgedUnhealthy) return { state: prev };
  const shown = unhealthy.slice(0, 8).join(', ') + (count > 8 ? ', ...' : '');
  const reason = `${count} of ${group.size} nodes of group ${group.name} are unhealthy (${shown}); maxUnhealthy is ${group.maxUnhealthy} (${threshold} nodes): repaving stopped`;
  if (prev.open) return { state: { ...prev, reason } };
  return { state: { open: true, reason, since: nowIso }, event: 'tripped' };
}

/** Operator reset: close the breaker and accept the unhealthy count seen at the last sweep (it re-trips if it grows). */
export function resetBreaker(lastUnhealthyCount: number): BreakerState {
  return { open: false, acknowledgedUnhealthy: lastUnhealthyCount };
}

// ---- the plan -------------------------------------------------------------------------------------

export interface Candidate {
  node: string;
  kind: 'unhealthy' | 'aged';
  reasons: string[];
  faultDomain?: string;
  severity: number;
  /** ISO */
  createdAt: string;
  ageMs: number;
  /** Already counts as unavailable: repaving it (n+1) disrupts nothing more. */
  unavailable: boolean;
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
}

export interface RepavePlan {
  /** Every aged or unhealthy node that is not in flight, in the order it would be repaved. */
  queue: Candidate[];
  /** The head of the queue that fits the budget now. */
  start: Candidate[];
  budget: Budget;
  unhealthy: string[];
  aged: string[];
  /** Nodes skipped this sweep and why (held by another workflow, backing off after a failure). */
  skipped: { node: string; why: string }[];
  /** Reports about nodes that are no longer in the group (drop them). */
  staleReports: string[];
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
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const reportOf = new Map(reports.map((r) => [r.node, r]));
  const staleReports = reports.filter((r) => !byName.has(r.node)).map((r) => r.node);

  const skipped: { node: string; why: string }[] = [];
  const unhealthy: string[] = [];
  const aged: string[] = [];
  const candidates: (Candidate & { since: number; created: number })[] = [];
  let heldElsewhere = 0;
  let unavailableElsewhere = 0;
  const busyFds: string[] = inFlight.map((f) => fdKey(f.faultDomain ?? byName.get(f.node)?.faultDomain));

  for (const n of nodes) {
    const health = assessHealth(n, reportOf.get(n.name), now, unhealthyAfterMs);
    const created = Date.parse(n.createdAt);
    const ageMs = now - created;
    const isAged = ageMs >= maxAgeMs;
    if (health.unhealthy) unhealthy.push(n.name);
    if (isAged) aged.push(n.name);
    const mine = ours.get(n.name);
    if (mine) continue; // in flight: counted in the budget below
    if (n.owner) {
      // Another live workflow (a manual repave, the node group manager, a lane run before a restart) holds it.
      heldElsewhere++;
      busyFds.push(fdKey(n.faultDomain));
      if (health.unhealthy || isAged) skipped.push({ node: n.name, why: `held by workflow ${n.owner}` });
      continue;
    }
    if (health.unavailable) unavailableElsewhere++;
    if (!health.unhealthy && !isAged) continue;
    const nb = input.notBefore?.[n.name];
    if (nb !== undefined && nb > now) {
      skipped.push({ node: n.name, why: `last repave failed; retried after ${new Date(nb).toISOString()}` });
      continue;
    }
    const reasons = [...health.reasons];
    if (isAged) reasons.push(`aged ${formatDuration(roundMin(ageMs))} (maxAge ${formatDuration(maxAgeMs)})`);
    candidates.push({
      node: n.name,
      kind: health.unhealthy ? 'unhealthy' : 'aged',
      reasons,
      ...(n.faultDomain !== undefined ? { faultDomain: n.faultDomain } : {}),
      severity: health.severity,
      createdAt: n.createdAt,
      ageMs,
      unavailable: health.unavailable,
      since: health.since ?? Number.POSITIVE_INFINITY,
      created,
    });
  }

  // Unhealthiest first (worst kind, then longest unhealthy), then oldest; the aged follow, oldest first.
  const sick = candidates
    .filter((c) => c.kind === 'unhealthy')
    .sort((a, b) => b.severity - a.severity || a.since - b.since || a.created - b.created || cmp(a.node, b.node));
  const old = candidates.filter((c) => c.kind === 'aged').sort((a, b) => a.created - b.created || cmp(a.node, b.node));
  const used = new Set(busyFds);
  const queue = [...spreadOverFaultDomains(sick, used), ...spreadOverFaultDomains(old, used)].map(
    ({ since: _s, created: _c, ...c }) => c as Candidate,
  );

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
  // Repaving a node that is already unavailable disrupts nothing more.
  let disrupted = inFlightCount + unavailableElsewhere;
  const start: Candidate[] = [];
  for (const c of queue) {
    if (slots === 0) break;
    if (!c.unavailable) {
      if (disrupted + 1 > group.maxUnavailable) {
        if (start.length === 0 && !blockedBy) blockedBy = `${disrupted} node(s) disrupted or unavailable, maxUnavailable is ${group.maxUnavailable}`;
        continue;
      }
      disrupted++;
    }
    start.push(c);
    slots--;
  }

  return {
    queue,
    start,
    budget: { cap, inFlight: inFlightCount, unavailableElsewhere, slots: Math.max(0, cap - inFlightCount), ...(blockedBy ? { blockedBy } : {}) },
    unhealthy,
    aged,
    skipped,
    staleReports,
    maxAgeMs,
    unhealthyAfterMs,
  };
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

// ---- lane input -----------------------------------------------------------------------------------

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label');
const dur = (field: string, minMs: number, maxMs: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `${field}: expected a duration between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

export interface HistoryEntry {
  at: string;
  node: string;
  outcome: 'replaced' | 'failed' | 'refused' | 'skipped' | 'circuit-open' | 'circuit-closed' | 'pace' | 'paused' | 'resumed' | 'held' | 'released';
  reason: string;
  replacement?: string;
  detail?: string;
}

/** State a lane hands to its next run (continue-as-new). */
export interface LaneCarry {
  pace: Pace;
  paused: boolean;
  reports: UnhealthyReport[];
  breaker: BreakerState;
  history: HistoryEntry[];
  failures: Record<string, { count: number; notBefore: number }>;
  runs: number;
  totals: { started: number; replaced: number; failed: number };
  /** Last repave start or finish (epoch ms), for the pace across runs. */
  lastActivityAt?: number;
  holds?: LaneHold[];
}

export const repaverLaneInputSchema = z.strictObject({
  cluster: name,
  group: name,
  /** Initial pace (setPace changes it live; a carried pace wins). */
  pace: z
    .strictObject({
      concurrency: z.number().int().min(1).optional(),
      pauseBetweenNodes: dur('pace.pauseBetweenNodes', 0, 24 * HOUR).optional(),
      maxAge: dur('pace.maxAge', HOUR, 365 * 24 * HOUR).optional(),
    })
    .optional(),
  /** Passed to each repaveNode run. */
  readyTimeout: z.union([z.string(), z.number()]).optional(),
  drainTimeout: z.union([z.string(), z.number()]).optional(),
  /** First wait before a node whose repave failed is tried again (doubles per failure, at most 16x). */
  failureBackoff: dur('failureBackoff', 0, 24 * HOUR).default(10 * MINUTE),
  /** Overrides the group's sweepInterval for the lane's own timer. */
  sweepInterval: dur('sweepInterval', 1000, 24 * HOUR).optional(),
  /** Continue-as-new after this many sweeps (or earlier when Temporal suggests it). */
  sweepsPerRun: z.number().int().min(1).max(10_000).default(250),
  /** Carried over by continue-as-new; not for operators. */
  carry: z.custom<LaneCarry>((v) => v === undefined || (typeof v === 'object' && v !== null)).optional(),
});

export type RepaverLaneInput = z.input<typeof repaverLaneInputSchema>;
/** Lane input besides its target: what a Schedule or a reporter passes when it starts the lane. */
export type LaneOptions = Omit<RepaverLaneInput, 'cluster' | 'group' | 'carry'>;

/** Input of the short sweepNodeGroup workflow a repaver Schedule starts. */
export interface SweepNodeGroupInput {
  cluster: string;
  group: string;
  lane?: LaneOptions;
}
export type RepaverLaneRequest = z.output<typeof repaverLaneInputSchema>;

export function parseRepaverLaneInput(input: unknown): Checked<RepaverLaneRequest> {
  if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, message: 'input: expected a JSON object such as {"cluster": "sim-1", "group": "general"}' };
  }
  const r = repaverLaneInputSchema.safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: describeIssues(r.error) };
}

export type LanePhase = 'starting' | 'sweeping' | 'idle' | 'repaving' | 'paused' | 'held' | 'circuit-open' | 'blocked' | 'continuing';

/** What the lane's progress query (the runbook frame's) answers; the `state` query has the whole picture. */
export interface LaneProgress extends RunbookProgress<LanePhase | EndPhase> {
  group: string;
  inFlight: number;
  queued: number;
  sweeps: number;
}

export interface LaneState {
  cluster: string;
  group: string;
  phase: LanePhase;
  paused: boolean;
  pace: Pace;
  breaker: BreakerState;
  queue: { node: string; kind: Candidate['kind']; reasons: string[]; faultDomain?: string }[];
  inFlight: InFlightRepave[];
  skipped: { node: string; why: string }[];
  reports: UnhealthyReport[];
  holds: LaneHold[];
  history: HistoryEntry[];
  lastSweep?: { at: string; nodes: number; aged: number; unhealthy: number; budget: Budget; error?: string };
  nextSweepAt?: string;
  nextStartAt?: string;
  sweeps: number;
  runs: number;
  totals: LaneCarry['totals'];
}

export const HISTORY_LIMIT = 100;
export const HISTORY_CARRIED = 30;

export function pushHistory(history: HistoryEntry[], e: HistoryEntry, limit = HISTORY_LIMIT): HistoryEntry[] {
  const next = [...history, e];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** Failure backoff: base, 2x, 4x ... at most 16x. */
export function backoffAfter(failures: number, baseMs: number): number {
  return baseMs * 2 ** Math.min(4, Math.max(0, failures - 1));
}
