// The lane's per-node state (unhealthy reports, failure backoff) belongs to the machine behind a node, not to
// its name: clusters that name nodes by private IP give a released IP, and so the name, to the next machine.
import { addReport, type InFlightRepave, type ObservedNode, type UnhealthyReport } from './observed.js';

/** The machine behind a node: its OCI instance, else its Node object (UID), else (an observation without either) its name. */
export function machineOf(n: Pick<ObservedNode, 'name' | 'instanceId' | 'uid'>): string {
  return n.instanceId ?? (n.uid ? `node-uid:${n.uid}` : `node:${n.name}`);
}

/** A repave of this machine failed: it is not tried again before `notBefore` (epoch ms). */
export interface Backoff {
  /** The node's name when it failed (shown; the key is `machine`). */
  node: string;
  /** Unset: keyed by name (a lane run from before machines, or carried from one), bound at the next sweep. */
  machine?: string;
  count: number;
  notBefore: number;
  /** Epoch ms. */
  failedAt: number;
}

export interface MachineState {
  reports: UnhealthyReport[];
  backoffs: Backoff[];
}

export interface ReconciledState extends MachineState {
  /** The reports of this sweep's nodes under the names the nodes have now: what the plan reads. */
  planReports: UnhealthyReport[];
  /** Node name → not before (epoch ms): what the plan reads. */
  notBefore: Record<string, number>;
  /** What was forgotten, and why (for the log). */
  dropped: string[];
}

/**
 * Align the lane's state with a sweep. By machine: a report or backoff that came in by name is bound to the
 * machine that has the name now, unless that machine was created after it (then it was about an earlier holder
 * of the name, and is dropped); what belongs to a machine no longer in the group is dropped (a report stays while
 * its node's repave is in flight); of two reports on one machine the first stands.
 * `byName`: a lane run started before this keying keeps its old rules (names only).
 * `listedSince`: when the listing of `nodes` began; a report by name that came in since, on a node not in the list,
 * is kept for the next sweep (the list may have been read before its node joined), not dropped as gone.
 */
export function reconcileMachineState(s: MachineState, nodes: ObservedNode[], inFlight: InFlightRepave[], byName: boolean, listedSince?: number): ReconciledState {
  const named = new Map(nodes.map((n) => [n.name, n]));
  const dropped: string[] = [];
  /** A report by name that came in while the nodes were listed, on a node the list lacks: the node may be newer than the list. */
  const newerThanList = (r: UnhealthyReport) => listedSince !== undefined && r.machine === undefined && !named.has(r.node) && Date.parse(r.at) >= listedSince;
  if (byName) {
    const inFlightNames = new Set(inFlight.map((f) => f.node));
    const reports = s.reports.filter((r) => named.has(r.node) || inFlightNames.has(r.node) || newerThanList(r) || !dropped.push(`report on ${r.node}: node gone`));
    const backoffs = s.backoffs.filter((b) => named.has(b.node) || !dropped.push(`backoff of ${b.node}: node gone`));
    return { reports, backoffs, planReports: reports, notBefore: Object.fromEntries(backoffs.map((b) => [b.node, b.notBefore])), dropped };
  }

  const nameOf = new Map(nodes.map((n) => [machineOf(n), n.name]));
  const inFlightMachines = new Set(inFlight.flatMap((f) => (f.machine ? [f.machine] : [])));
  /** The machine an entry is about, or why it is about none that is here. */
  const bind = (what: string, node: string, machine: string | undefined, at: number, keepWhile: Set<string>): string | undefined => {
    if (machine !== undefined) {
      if (nameOf.has(machine) || keepWhile.has(machine)) return machine;
      dropped.push(`${what} on ${node}: its machine ${machine} is gone`);
      return undefined;
    }
    const n = named.get(node);
    const inFlightHere = inFlight.find((f) => f.node === node && f.machine && keepWhile.has(f.machine));
    if (!n) {
      if (inFlightHere) return inFlightHere.machine;
      dropped.push(`${what} on ${node}: node gone`);
      return undefined;
    }
    if (Date.parse(n.createdAt) > at) {
      dropped.push(`${what} on ${node}: came before its machine ${machineOf(n)} was created (about an earlier node of that name)`);
      return undefined;
    }
    return machineOf(n);
  };

  const reports: UnhealthyReport[] = [];
  for (const r of s.reports) {
    if (newerThanList(r)) {
      reports.push(r); // kept unbound: the next sweep binds or drops it
      continue;
    }
    const machine = bind('report', r.node, r.machine, Date.parse(r.at), inFlightMachines);
    if (machine === undefined) continue;
    if (reports.some((k) => k.machine === machine)) continue; // a duplicate: the first report stands
    reports.push({ ...r, machine });
  }
  const backoffs: Backoff[] = [];
  for (const b of s.backoffs) {
    const machine = bind('backoff', b.node, b.machine, b.failedAt, new Set());
    if (machine !== undefined && !backoffs.some((k) => k.machine === machine)) backoffs.push({ ...b, machine });
  }
  const current = <T extends { node: string; machine?: string }>(x: T): T => ({ ...x, node: nameOf.get(x.machine!) ?? x.node });
  return {
    reports,
    backoffs,
    planReports: reports.filter((r) => r.machine !== undefined).map(current),
    notBefore: Object.fromEntries(backoffs.map((b) => [current(b).node, b.notBefore])),
    dropped,
  };
}

/**
 * An unhealthy report comes in (by node name). A second report on a name whose report is not yet bound is a
 * duplicate. One on a name whose report is bound to the machine last seen under that name is most likely a
 * duplicate too: it is kept, unbound, for the next sweep to bind or drop (the name may have passed to another
 * machine since), without waking the lane for it. `lastSeen`: name → machine, as of the last sweep.
 */
export function receiveReport(
  reports: UnhealthyReport[],
  report: { node: string; reason?: string },
  at: string,
  lastSeen: ReadonlyMap<string, string>,
  byName: boolean,
): { reports: UnhealthyReport[]; added: boolean; wake: boolean } {
  const pending = byName ? reports : reports.filter((r) => r.machine === undefined);
  const r = addReport(pending, report, at);
  if (!r.added) return { reports, added: false, wake: false };
  const news = !reports.some((k) => k.node === report.node && k.machine !== undefined && k.machine === lastSeen.get(report.node));
  return { reports: [...reports, r.reports[r.reports.length - 1]!], added: true, wake: news };
}

/** A repave of this node failed: its machine's backoff grows. `machine` unset: keyed by name (a run from before). */
export function recordFailure(backoffs: Backoff[], failed: { node: string; machine?: string }, now: number, backoffMs: (count: number) => number): Backoff[] {
  const same = (b: Backoff) => (failed.machine !== undefined ? b.machine === failed.machine : b.machine === undefined && b.node === failed.node);
  const count = (backoffs.find(same)?.count ?? 0) + 1;
  const entry: Backoff = { node: failed.node, ...(failed.machine !== undefined ? { machine: failed.machine } : {}), count, notBefore: now + backoffMs(count), failedAt: now };
  return [...backoffs.filter((b) => !same(b)), entry];
}

/** A node was replaced: forget its machine's reports and backoff (and those that came in by its name meanwhile). */
export function forgetReplaced(s: MachineState, replaced: { node: string; machine?: string }): MachineState {
  const about = (x: { node: string; machine?: string }) => (x.machine === undefined ? x.node === replaced.node : x.machine === replaced.machine);
  return { reports: s.reports.filter((r) => !about(r)), backoffs: s.backoffs.filter((b) => !about(b)) };
}

/**
 * The backoffs a lane hands its next run. Before they were keyed by machine, a lane carried `failures` by node
 * name; those become backoffs keyed by name (bound at the next sweep), failed when their backoff began.
 */
export function carriedBackoffs(
  carry: { backoffs?: Backoff[]; failures?: Record<string, { count: number; notBefore: number }> } | undefined,
  backoffMs: (count: number) => number,
): Backoff[] {
  if (carry?.backoffs) return [...carry.backoffs];
  return Object.entries(carry?.failures ?? {}).map(([node, f]) => ({ node, count: f.count, notBefore: f.notBefore, failedAt: f.notBefore - backoffMs(f.count) }));
}
