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

/** The pods `pdb` selects in `store` (the index is built on first use and follows the store from then on). */
export function pdbPods(store: ObjectStore, pdb: KObject, scan: (pdb: KObject) => KObject[]): PdbPods {
  let index = indexes.get(store);
  if (!index) indexes.set(store, (index = new PdbPodIndex(store)));
  return index.of(pdb, scan);
}

class PdbPodIndex {
  /** namespace → PDB store key → what it selects. */
  private readonly byNamespace = new Map<string, Map<string, Entry>>();

  constructor(store: ObjectStore) {
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
    for (const entry of entries.values()) {
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
