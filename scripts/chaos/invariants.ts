// The chaos suite's invariants: pure functions over snapshots of the simulated fleet. Each returns the
// violations it finds (empty when the invariant holds), with the evidence a reader needs.

export interface Violation {
  invariant: 'run-outcome' | 'duplicate-launch' | 'duplicate-decommission' | 'duplicate-volume-release' | 'capacity' | 'volume-released-in-ring' | 'orphan-instance';
  /** ISO time it was seen (or happened, when the snapshot says). */
  at: string;
  evidence: string;
}

/** An OCI instance as the watcher sees it. */
export interface InstanceView {
  id: string;
  lifecycleState: string;
  timeCreated: string;
  group?: string;
  /** The node (or runbook) a replacement was launched for (tag itinerant.dev/replaces). */
  replaces?: string;
  nodeName: string;
  nodePresent: boolean;
}

export const isLive = (i: InstanceView) => i.lifecycleState !== 'TERMINATED' && i.lifecycleState !== 'TERMINATING';

/** The launches a run may make: `needed` at most while it runs; every live launch counts, and with `strict` every launch at all (a failed attempt may not relaunch). */
export interface LaunchBudget {
  needed: number;
  strict: boolean;
}

/** Instances launched during the run beyond what it needs, and two live replacements for one node. */
export function duplicateLaunches(at: string, launchedSinceStart: InstanceView[], budget: LaunchBudget, seededNodes: ReadonlySet<string>): Violation[] {
  const out: Violation[] = [];
  const counted = budget.strict ? launchedSinceStart : launchedSinceStart.filter(isLive);
  if (counted.length > budget.needed) {
    out.push({
      at,
      invariant: 'duplicate-launch',
      evidence: `${counted.length} ${budget.strict ? '' : 'live '}instances launched, ${budget.needed} needed: ${counted.map((i) => `${i.id} (${i.lifecycleState}, replaces ${i.replaces ?? '-'})`).join(', ')}`,
    });
  }
  const byNode = new Map<string, InstanceView[]>();
  for (const i of launchedSinceStart.filter(isLive)) {
    if (i.replaces && seededNodes.has(i.replaces)) byNode.set(i.replaces, [...(byNode.get(i.replaces) ?? []), i]);
  }
  for (const [node, twins] of byNode) {
    if (twins.length > 1) out.push({ at, invariant: 'duplicate-launch', evidence: `node ${node} has ${twins.length} live replacements: ${twins.map((i) => i.id).join(', ')}` });
  }
  return out;
}

/** A point of the sim's readiness timeline: a group's Ready node count from `at` on. */
export interface ReadinessPoint {
  at: string;
  group: string;
  ready: number;
}

/** Ready nodes per group never below `size − maxUnavailable` (the floor). */
export function capacityViolations(points: ReadinessPoint[], floors: Readonly<Record<string, number>>): Violation[] {
  return points
    .filter((p) => floors[p.group] !== undefined && p.ready < floors[p.group]!)
    .map((p) => ({ at: p.at, invariant: 'capacity' as const, evidence: `group ${p.group} had ${p.ready} Ready nodes, below its floor of ${floors[p.group]} (size − maxUnavailable)` }));
}

/** A Cassandra member as the watcher sees it. */
export interface MemberView {
  pod: string;
  hostId: string;
  inRing: boolean;
  /** Superseded by a member on a fresh volume: its pod name is another member's now. */
  replaced: boolean;
  /** `nodetool decommission` invocations that started a decommission of this member. */
  decommissionsStarted: number;
}

/** A claim released (deleted, or marked for deletion) while the member whose data it holds is in the ring. */
export function volumeReleasedInRing(at: string, claim: { namespace: string; name: string }, members: MemberView[]): Violation[] {
  const owner = members.find((m) => !m.replaced && claim.name.endsWith(`-${m.pod}`));
  if (!owner?.inRing) return [];
  return [{ at, invariant: 'volume-released-in-ring', evidence: `claim ${claim.namespace}/${claim.name} released while member ${owner.pod} (host ${owner.hostId}) is still in the ring` }];
}

/** `nodetool decommission` started more than once for one member. */
export function duplicateDecommissions(at: string, members: MemberView[]): Violation[] {
  return members
    .filter((m) => m.decommissionsStarted > 1)
    .map((m) => ({ at, invariant: 'duplicate-decommission' as const, evidence: `nodetool decommission started ${m.decommissionsStarted} times on member ${m.pod} (host ${m.hostId})` }));
}

/** More PersistentVolumeClaim deletes than the run needs. */
export function duplicateVolumeReleases(at: string, claimsDeleted: number, needed: number): Violation[] {
  if (claimsDeleted <= needed) return [];
  return [{ at, invariant: 'duplicate-volume-release', evidence: `${claimsDeleted} PersistentVolumeClaim deletes through the API, ${needed} needed` }];
}

/** At the end: a live instance without its node, or a group with more or fewer live instances than its size. */
export function orphanInstances(at: string, instances: InstanceView[], sizes: Readonly<Record<string, number>>): Violation[] {
  const live = instances.filter((i) => isLive(i) && i.group !== undefined);
  const out: Violation[] = live
    .filter((i) => !i.nodePresent)
    .map((i) => ({ at, invariant: 'orphan-instance' as const, evidence: `instance ${i.id} (group ${i.group}, ${i.lifecycleState}) is live but its node ${i.nodeName} is not in the cluster` }));
  for (const [group, size] of Object.entries(sizes)) {
    const n = live.filter((i) => i.group === group).length;
    if (n !== size) out.push({ at, invariant: 'orphan-instance', evidence: `group ${group} has ${n} live instances, its size is ${size}` });
  }
  return out;
}

/** How a run ended. */
export type RunOutcome = { status: 'completed' } | { status: 'failed'; type?: string; message: string } | { status: 'timed-out'; waited: string };

/** Every run completes, or fails with a refusal the scenario expects. */
export function outcomeViolations(at: string, run: string, outcome: RunOutcome, expectedRefusal?: RegExp): Violation[] {
  if (outcome.status === 'completed') return [];
  if (outcome.status === 'failed' && outcome.type === 'Refused' && expectedRefusal?.test(outcome.message)) return [];
  const why = outcome.status === 'failed' ? `failed (${outcome.type ?? 'no type'}): ${outcome.message}` : `did not end: ${outcome.waited}`;
  return [{ at, invariant: 'run-outcome', evidence: `${run} ${why}` }];
}
