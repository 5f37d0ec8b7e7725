// Checks the invariants (invariants.ts) continuously while a run is disrupted: claim releases at the moment
// the sim's store records them, everything else every `everyMs`, and the end state once the run is over.
// It reads the in-process sim, never its APIs, so the faults injected there do not blind it.
import { TAG_NODE_GROUP, TAG_REPLACES } from '../../src/core/labels.js';
import type { SimHandle } from '../../testbeds/sim/index.js';
import {
  capacityViolations,
  duplicateDecommissions,
  duplicateLaunches,
  duplicateVolumeReleases,
  orphanInstances,
  volumeReleasedInRing,
  type InstanceView,
  type LaunchBudget,
  type MemberView,
  type Violation,
} from './invariants.js';

export interface WatchPlan {
  /** Ready nodes per group never below this (size − maxUnavailable). */
  floors: Record<string, number>;
  launches: LaunchBudget;
  /** Instances the run launched that are still live at its end (a scale up and down again: none). */
  liveAtEnd: number;
  /** PersistentVolumeClaim deletes the run needs. */
  claimsToRelease: number;
}

export class Watcher {
  readonly violations: Violation[] = [];
  private readonly seen = new Set<string>();
  private readonly instancesAtStart: Set<string>;
  private readonly seededNodes: Set<string>;
  private readonly claimsDeletedAtStart: number;
  private timelineFrom: number;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sim: SimHandle,
    private readonly plan: WatchPlan,
    private readonly report: (v: Violation) => void,
  ) {
    const instances = sim.oci.fleet.summary();
    this.instancesAtStart = new Set(instances.map((i) => i.id));
    this.seededNodes = new Set(instances.map((i) => i.node.name));
    this.claimsDeletedAtStart = sim.kube.counters().deletedClaims;
    this.timelineFrom = sim.kube.readinessTimeline().length;
  }

  start(everyMs = 100): void {
    this.unsubscribe = this.sim.kube.store.subscribe((e) => {
      if (e.resource !== 'persistentvolumeclaims') return;
      const released = e.type === 'DELETED' ? !e.old?.metadata.deletionTimestamp : e.type === 'MODIFIED' && !!e.object.metadata.deletionTimestamp && !e.old?.metadata.deletionTimestamp;
      if (!released) return;
      const claim = { namespace: e.object.metadata.namespace ?? '', name: e.object.metadata.name };
      this.record(volumeReleasedInRing(new Date().toISOString(), claim, this.members()));
    });
    this.timer = setInterval(() => this.check(), everyMs);
  }

  /** The invariants that hold at every moment. */
  check(): void {
    const at = new Date().toISOString();
    const points = this.sim.kube.readinessTimeline();
    this.record(capacityViolations(points.slice(this.timelineFrom), this.plan.floors));
    this.timelineFrom = points.length;
    this.record(duplicateLaunches(at, this.launched(), this.plan.launches, this.seededNodes));
    this.record(duplicateDecommissions(at, this.members()));
    this.record(duplicateVolumeReleases(at, this.claimsDeleted(), this.plan.claimsToRelease));
  }

  /** Stop watching, then check the end state: launches and claim deletes as needed, no orphan instance, every group at `sizes`. */
  finish(sizes: Record<string, number>): void {
    this.stop();
    this.check();
    const at = new Date().toISOString();
    const live = this.launched().filter((i) => i.lifecycleState !== 'TERMINATED' && i.lifecycleState !== 'TERMINATING');
    if (live.length !== this.plan.liveAtEnd) {
      this.record([{ at, invariant: 'duplicate-launch', evidence: `${live.length} instances launched by the run live at its end, ${this.plan.liveAtEnd} expected: ${live.map((i) => i.id).join(', ')}` }]);
    }
    if (this.claimsDeleted() !== this.plan.claimsToRelease) {
      this.record([{ at, invariant: 'duplicate-volume-release', evidence: `${this.claimsDeleted()} claims deleted at the end, ${this.plan.claimsToRelease} needed` }]);
    }
    this.record(orphanInstances(at, this.instances(), sizes));
  }

  stop(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  private record(found: Violation[]): void {
    for (const v of found) {
      const key = `${v.invariant}|${v.evidence}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.violations.push(v);
      this.report(v);
    }
  }

  private instances(): InstanceView[] {
    return this.sim.oci.fleet.summary().map((i) => ({
      id: i.id,
      lifecycleState: i.lifecycleState,
      timeCreated: i.timeCreated,
      group: i.freeformTags[TAG_NODE_GROUP],
      replaces: i.freeformTags[TAG_REPLACES],
      nodeName: i.node.name,
      nodePresent: i.node.present,
    }));
  }

  private launched(): InstanceView[] {
    return this.instances().filter((i) => !this.instancesAtStart.has(i.id));
  }

  private members(): MemberView[] {
    return this.sim.cassandra.rings().flatMap((r) =>
      r.members.map((m) => ({ pod: m.pod, hostId: m.hostId, inRing: m.inRing, replaced: m.replaced, decommissionsStarted: m.decommission.started })),
    );
  }

  private claimsDeleted(): number {
    return this.sim.kube.counters().deletedClaims - this.claimsDeletedAtStart;
  }
}
