// What each control loop has to look at again, from the store's events: the objects that changed or whose pods,
// ReplicaSets or nodes changed. A reconcile round then touches those, not every node and pod of the fleet.

import { pdbCandidates } from './pdb-pods.js';
import { podReady } from './rest.js';
import { matchesSelector } from './selectors.js';
import type { ObjectStore, StoreEvent } from './store.js';
import type { KObject } from './resources.js';

export const storeKey = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const ctrlRef = (o: KObject) => o.metadata.ownerReferences?.find((r) => r.controller);
const isActive = (p: KObject) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

/** The resources whose objects own pods or ReplicaSets (the garbage collector's owners). */
export const OWNER_RESOURCES = ['deployments', 'replicasets', 'daemonsets', 'statefulsets', 'nodes'];
/** Resources whose scale a PodDisruptionBudget's expected pod count reads. */
const SCALE_RESOURCES = new Set(['deployments', 'replicasets', 'daemonsets', 'statefulsets']);

/** What a PodDisruptionBudget's expected pod count reads of a workload (pdb.ts: expectedScale). */
const scaleOf = (o: KObject): string => JSON.stringify([o.kind === 'DaemonSet' ? o.status?.desiredNumberScheduled : o.spec?.replicas, o.metadata.ownerReferences]);

/** A set of store keys that can also be "everything" (until the loop has looked at all of them once). */
export class Dirty {
  private keys = new Set<string>();
  private all = true;

  add(key: string): void {
    if (!this.all) this.keys.add(key);
  }

  markAll(): void {
    this.all = true;
    this.keys.clear();
  }

  /** The keys to look at now (undefined: every object), emptied for the next round. */
  take(): Set<string> | undefined {
    if (this.all) {
      this.all = false;
      return undefined;
    }
    const keys = this.keys;
    this.keys = new Set();
    return keys;
  }
}

export class DirtySets {
  readonly nodes = new Dirty();
  /** Node names whose pods pod GC checks (the node went, or a pod was bound to it). */
  readonly podGcNodes = new Dirty();
  /** Controller uids the owner GC checks (the owner went, or a dependant names it). */
  readonly owners = new Dirty();
  readonly deployments = new Dirty();
  readonly replicaSets = new Dirty();
  readonly daemonSets = new Dirty();
  readonly statefulSets = new Dirty();
  readonly pdbs = new Dirty();
  /** The uids of the objects of OWNER_RESOURCES. */
  readonly liveOwners = new Set<string>();
  /** Active pods bound to each node (the scheduler's spreading), kept per pod as its events come. */
  readonly podsOnNode = new Map<string, number>();
  private readonly countedOn = new Map<string, string>();
  /** Per controller uid: its active pods and how many of them are Ready (what the workload loops count). */
  readonly ownedPods = new Map<string, { active: number; ready: number }>();
  private readonly countedFor = new Map<string, [owner: string, ready: boolean]>();

  constructor(private readonly store: ObjectStore) {
    for (const r of OWNER_RESOURCES) for (const o of store.peek(r)) this.liveOwners.add(o.metadata.uid);
    for (const p of store.peek('pods')) {
      this.countPod(storeKey(p), p);
      this.countOwned(storeKey(p), p);
    }
  }

  /** `resource/key` whose own loop is writing its status: that write does not make it due again. */
  private muted?: string;

  /**
   * Runs `write`, a loop's status write of its own object: the loop's output, not its input, so the object is not due
   * again for it (looked at again it would write nothing: each loop computes an object's status from what it reads).
   */
  ownStatusWrite<T>(resource: string, o: KObject, write: () => T): T {
    this.muted = `${resource}/${storeKey(o)}`;
    try {
      return write();
    } finally {
      this.muted = undefined;
    }
  }

  /** Marks what `e` makes due. Called for every store event, before the loops run. */
  note(e: StoreEvent): void {
    const own = this.muted !== `${e.resource}/${storeKey(e.object)}`;
    const objects = e.old ? [e.object, e.old] : [e.object];
    if (OWNER_RESOURCES.includes(e.resource)) {
      if (e.type === 'DELETED') {
        this.liveOwners.delete(e.object.metadata.uid);
        this.owners.add(e.object.metadata.uid);
      } else this.liveOwners.add(e.object.metadata.uid);
    }
    if (SCALE_RESOURCES.has(e.resource) && (!e.old || scaleOf(e.old) !== scaleOf(e.object))) this.pdbsInNamespace(e.object.metadata.namespace);
    switch (e.resource) {
      case 'nodes':
        if (e.type === 'DELETED') this.podGcNodes.add(e.object.metadata.name);
        else this.nodes.add(storeKey(e.object));
        this.daemonSets.markAll(); // which nodes a DaemonSet's pods belong on
        break;
      case 'pods':
        this.countPod(storeKey(e.object), e.type === 'DELETED' ? undefined : e.object);
        this.countOwned(storeKey(e.object), e.type === 'DELETED' ? undefined : e.object);
        for (const p of objects) this.notePod(p);
        break;
      case 'replicasets':
        for (const rs of objects) {
          if (own) this.replicaSets.add(storeKey(rs));
          this.markOwner(rs);
        }
        break;
      case 'deployments':
        if (own) this.deployments.add(storeKey(e.object));
        break;
      case 'daemonsets':
        if (own) this.daemonSets.add(storeKey(e.object));
        break;
      case 'statefulsets':
        if (own) this.statefulSets.add(storeKey(e.object));
        break;
      case 'persistentvolumeclaims':
        this.statefulSets.markAll(); // their claims
        break;
      case 'poddisruptionbudgets':
        if (own) this.pdbs.add(storeKey(e.object));
        break;
    }
  }

  /** A ReplicaSet and the Deployment that owns it. */
  replicaSetAndDeployment(rs: KObject): void {
    this.replicaSets.add(storeKey(rs));
    this.markOwner(rs);
  }

  private notePod(p: KObject): void {
    const node = p.spec?.nodeName;
    if (typeof node === 'string' && node) this.podGcNodes.add(node);
    const ns = p.metadata.namespace ?? '';
    const ref = ctrlRef(p);
    if (ref) {
      this.owners.add(ref.uid);
      if (ref.kind === 'ReplicaSet') {
        this.replicaSets.add(`${ns}/${ref.name}`);
        const rs = this.store.peekOne('replicasets', ns, ref.name);
        if (rs) this.markOwner(rs);
      } else if (ref.kind === 'DaemonSet') this.daemonSets.add(`${ns}/${ref.name}`);
      else if (ref.kind === 'StatefulSet') this.statefulSets.add(`${ns}/${ref.name}`);
    }
    for (const key of pdbCandidates(this.store, ns, p.metadata.labels)) {
      const pdb = this.store.peekKey('poddisruptionbudgets', key);
      if (pdb && matchesSelector(pdb.spec?.selector, p.metadata.labels)) this.pdbs.add(key);
    }
  }

  /** The Deployment controlling `o` (a ReplicaSet), if any. */
  private markOwner(o: KObject): void {
    const ref = ctrlRef(o);
    if (!ref) return;
    this.owners.add(ref.uid);
    if (ref.kind === 'Deployment') this.deployments.add(`${o.metadata.namespace ?? ''}/${ref.name}`);
  }

  private pdbsInNamespace(ns: string | undefined): void {
    for (const pdb of this.store.scan('poddisruptionbudgets', { ns: ns ?? '' })) this.pdbs.add(storeKey(pdb));
  }

  private countOwned(key: string, p: KObject | undefined): void {
    const before = this.countedFor.get(key);
    const owner = p && isActive(p) ? ctrlRef(p)?.uid : undefined;
    const ready = !!p && podReady(p);
    if (before && before[0] === owner && before[1] === ready) return;
    if (before) {
      const c = this.ownedPods.get(before[0])!;
      c.active--;
      if (before[1]) c.ready--;
      if (c.active === 0) this.ownedPods.delete(before[0]);
      this.countedFor.delete(key);
    }
    if (owner !== undefined) {
      let c = this.ownedPods.get(owner);
      if (!c) this.ownedPods.set(owner, (c = { active: 0, ready: 0 }));
      c.active++;
      if (ready) c.ready++;
      this.countedFor.set(key, [owner, ready]);
    }
  }

  private countPod(key: string, p: KObject | undefined): void {
    const before = this.countedOn.get(key);
    const node = p && isActive(p) && typeof p.spec?.nodeName === 'string' && p.spec.nodeName ? p.spec.nodeName : undefined;
    if (before === node) return;
    if (before !== undefined) {
      const n = (this.podsOnNode.get(before) ?? 1) - 1;
      if (n > 0) this.podsOnNode.set(before, n);
      else this.podsOnNode.delete(before);
      this.countedOn.delete(key);
    }
    if (node !== undefined) {
      this.podsOnNode.set(node, (this.podsOnNode.get(node) ?? 0) + 1);
      this.countedOn.set(key, node);
    }
  }
}
