// The pods each PodDisruptionBudget selects, kept up to date from the store's events: its status (computed on every
// eviction and by the disruption controller) then reads counts instead of walking thousands of pods each time.

import type { KObject } from './resources.js';
import { isTerminating, podReady } from './rest.js';
import { matchesSelector } from './selectors.js';
import type { ObjectStore, StoreEvent } from './store.js';

const storeKey = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
type OwnerRef = NonNullable<KObject['metadata']['ownerReferences']>[number];

export interface PdbPods {
  /** The selected pods by store key, as stored (read only). */
  members: Map<string, KObject>;
  /** The keys of those neither terminating nor unready. */
  healthy: Set<string>;
  /** Controllers of the selected pods: uid → [its reference, how many selected pods it controls]. */
  owners: Map<string, [OwnerRef, number]>;
  /** Selected pods without a controller. */
  bare: number;
}

interface Entry extends PdbPods {
  /** The PDB's selector as JSON: a changed one rebuilds the entry. */
  selector: string;
  labelSelector: KObject['spec'];
}

const indexes = new WeakMap<ObjectStore, PdbPodIndex>();
const selectorIndexes = new WeakMap<ObjectStore, PdbSelectorIndex>();

/** The PDBs (store keys) whose selector may select a pod with `labels` in `ns`: those to match it against. */
export function pdbCandidates(store: ObjectStore, ns: string, labels: Record<string, string> | undefined): Set<string> {
  let index = selectorIndexes.get(store);
  if (!index) selectorIndexes.set(store, (index = new PdbSelectorIndex(store)));
  return index.candidates(ns, labels);
}

/**
 * PDBs by one `key=value` of their selector's matchLabels (those without any under ''), so that a pod's change is
 * matched against the few PDBs that can select it, not every PDB of its namespace (50 of them in one, in sim-scale).
 */
class PdbSelectorIndex {
  /** namespace → `key=value` (or '') → PDB store keys. */
  private readonly byPair = new Map<string, Map<string, Set<string>>>();
  private readonly pairOf = new Map<string, string>();

  constructor(store: ObjectStore) {
    for (const pdb of store.peek('poddisruptionbudgets')) this.put(pdb);
    store.subscribe((e) => {
      if (e.resource !== 'poddisruptionbudgets') return;
      this.drop(e.object);
      if (e.type !== 'DELETED') this.put(e.object);
    });
  }

  candidates(ns: string, labels: Record<string, string> | undefined): Set<string> {
    const pairs = this.byPair.get(ns);
    const found = new Set<string>(pairs?.get('') ?? []);
    if (!pairs) return found;
    for (const [k, v] of Object.entries(labels ?? {})) for (const key of pairs.get(`${k}=${v}`) ?? []) found.add(key);
    return found;
  }

  private put(pdb: KObject): void {
    const first = Object.entries((pdb.spec?.selector?.matchLabels ?? {}) as Record<string, string>)[0];
    const pair = first ? `${first[0]}=${first[1]}` : '';
    const ns = pdb.metadata.namespace ?? '';
    let pairs = this.byPair.get(ns);
    if (!pairs) this.byPair.set(ns, (pairs = new Map()));
    let keys = pairs.get(pair);
    if (!keys) pairs.set(pair, (keys = new Set()));
    keys.add(storeKey(pdb));
    this.pairOf.set(storeKey(pdb), pair);
  }

  private drop(pdb: KObject): void {
    const key = storeKey(pdb);
    const pair = this.pairOf.get(key);
    if (pair === undefined) return;
    this.pairOf.delete(key);
    const pairs = this.byPair.get(pdb.metadata.namespace ?? '')!;
    pairs.get(pair)!.delete(key);
    if (pairs.get(pair)!.size === 0) pairs.delete(pair);
  }
}

/** The pods `pdb` selects in `store` (the index is built on first use and follows the store from then on). */
export function pdbPods(store: ObjectStore, pdb: KObject, scan: (pdb: KObject) => KObject[]): PdbPods {
  let index = indexes.get(store);
  if (!index) indexes.set(store, (index = new PdbPodIndex(store)));
  return index.of(pdb, scan);
}

class PdbPodIndex {
  /** namespace → PDB store key → what it selects. */
  private readonly byNamespace = new Map<string, Map<string, Entry>>();

  constructor(private readonly store: ObjectStore) {
    store.subscribe((e) => this.note(e));
  }

  of(pdb: KObject, scan: (pdb: KObject) => KObject[]): PdbPods {
    const ns = pdb.metadata.namespace ?? '';
    const selector = JSON.stringify(pdb.spec?.selector ?? null);
    let entries = this.byNamespace.get(ns);
    const known = entries?.get(storeKey(pdb));
    if (known && known.selector === selector) return known;
    const entry: Entry = { selector, labelSelector: pdb.spec?.selector, members: new Map(), healthy: new Set(), owners: new Map(), bare: 0 };
    for (const p of scan(pdb)) add(entry, p);
    if (!entries) this.byNamespace.set(ns, (entries = new Map()));
    entries.set(storeKey(pdb), entry);
    return entry;
  }

  private note(e: StoreEvent): void {
    const entries = this.byNamespace.get(e.object.metadata.namespace ?? '');
    if (!entries) return;
    if (e.resource === 'poddisruptionbudgets') {
      if (e.type === 'DELETED') entries.delete(storeKey(e.object));
      return; // a changed selector is seen by `of`
    }
    if (e.resource !== 'pods') return;
    const key = storeKey(e.object);
    const ns = e.object.metadata.namespace ?? '';
    // the PDBs that selected it (by its labels before) and those that may now
    const due = pdbCandidates(this.store, ns, e.object.metadata.labels);
    if (e.old) for (const k of pdbCandidates(this.store, ns, e.old.metadata.labels)) due.add(k);
    for (const pdbKey of due) {
      const entry = entries.get(pdbKey);
      if (!entry) continue;
      remove(entry, key);
      if (e.type !== 'DELETED' && matchesSelector(entry.labelSelector, e.object.metadata.labels)) add(entry, e.object);
    }
  }
}

function add(entry: PdbPods, p: KObject): void {
  const key = storeKey(p);
  entry.members.set(key, p);
  if (!isTerminating(p) && podReady(p)) entry.healthy.add(key);
  const ref = p.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) entry.bare++;
  else {
    const owner = entry.owners.get(ref.uid);
    if (owner) owner[1]++;
    else entry.owners.set(ref.uid, [ref, 1]);
  }
}

function remove(entry: PdbPods, key: string): void {
  const p = entry.members.get(key);
  if (!p) return;
  entry.members.delete(key);
  entry.healthy.delete(key);
  const ref = p.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) entry.bare--;
  else {
    const owner = entry.owners.get(ref.uid)!;
    if (--owner[1] === 0) entry.owners.delete(ref.uid);
  }
}
