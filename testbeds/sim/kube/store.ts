// Generic object store: one map per resource, a global resourceVersion counter,
// and a bounded event history for watches that resume from a resourceVersion.
// Semantics only (no validation, no defaulting): that is rest.ts.

import type { KObject } from './resources.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: string; // plural
  rv: number;
  object: KObject;
  /** Previous state for MODIFIED (lets watches with selectors turn it into ADDED/DELETED). */
  old?: KObject;
}

const key = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;
const keyOf = (o: KObject): string => key(o.metadata.namespace, o.metadata.name);

/**
 * What a read can be narrowed to before its full filter runs: an index lookup instead of a scan of every object of
 * the resource (50,000 pods). Each given field must hold for every object the read returns.
 */
export interface Narrow {
  ns?: string;
  /** Label equalities (`app=web`). */
  labels?: [string, string][];
  /** Pods bound to this node ('': not bound to any). */
  nodeName?: string;
  /** Controller ownerReference uid. */
  ownerUid?: string;
}

/** The index keys of an object: its namespace, each label, its node (pods), its controller. */
function indexKeys(o: KObject): string[] {
  const keys = [`ns:${o.metadata.namespace ?? ''}`];
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) keys.push(`label:${k}=${v}`);
  const node = o.spec?.nodeName;
  if (typeof node === 'string' && node) keys.push(`node:${node}`);
  else if (o.kind === 'Pod') keys.push('unbound');
  const owner = o.metadata.ownerReferences?.find((r) => r.controller)?.uid;
  if (owner) keys.push(`owner:${owner}`);
  return keys;
}
/** Byte order of the keys, as etcd (and so kube-apiserver) lists them. */
const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

const serialized = new WeakMap<KObject, string>();
/** JSON of a stored object, serialized once (stored objects are never mutated: a write stores a new one). */
export function wireJson(o: KObject): string {
  let text = serialized.get(o);
  if (text === undefined) serialized.set(o, (text = JSON.stringify(o)));
  return text;
}

function accepts(narrow: Narrow, match?: (o: KObject) => boolean): (o: KObject) => boolean {
  return (o: KObject): boolean =>
    (narrow.ns === undefined || (o.metadata.namespace ?? '') === narrow.ns) &&
    (narrow.nodeName === undefined || (o.spec?.nodeName || '') === narrow.nodeName) &&
    (narrow.ownerUid === undefined || o.metadata.ownerReferences?.find((r) => r.controller)?.uid === narrow.ownerUid) &&
    (narrow.labels ?? []).every(([k, v]) => o.metadata.labels?.[k] === v) &&
    (!match || match(o));
}

export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KObject>>();
  /** Per resource: index key (indexKeys) → the store keys of the objects that have it. */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  /** Per resource, its keys sorted; dropped on create and remove. */
  private readonly sortedKeys = new Map<string, string[]>();
  private readonly history: StoreEvent[] = [];
  /** Highest resourceVersion whose event was dropped from the history. */
  private compactedRv = 0;
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(private readonly historyLimit = 20_000) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  private table(resource: string): Map<string, KObject> {
    let t = this.data.get(resource);
    if (!t) {
      t = new Map();
      this.data.set(resource, t);
    }
    return t;
  }

  private index(resource: string): Map<string, Set<string>> {
    let i = this.indexes.get(resource);
    if (!i) {
      i = new Map();
      this.indexes.set(resource, i);
    }
    return i;
  }

  private reindex(resource: string, k: string, before: KObject | undefined, after: KObject | undefined): void {
    const idx = this.index(resource);
    const old = before ? indexKeys(before) : [];
    const now = after ? indexKeys(after) : [];
    for (const ik of old) {
      if (now.includes(ik)) continue;
      const set = idx.get(ik);
      set?.delete(k);
      if (set?.size === 0) idx.delete(ik);
    }
    for (const ik of now) {
      if (old.includes(ik)) continue;
      let set = idx.get(ik);
      if (!set) idx.set(ik, (set = new Set()));
      set.add(k);
    }
  }

  /**
   * The stored objects `narrow` and `match` accept, not copied and in no particular order: for the sim's own
   * reads (controllers, evictions), which must not mutate them. What leaves the process is copied (`list`, `get`).
   */
  scan(resource: string, narrow: Narrow = {}, match?: (o: KObject) => boolean): KObject[] {
    const t = this.table(resource);
    const idx = this.index(resource);
    const lookups: string[] = [];
    if (narrow.ns !== undefined) lookups.push(`ns:${narrow.ns}`);
    for (const [k, v] of narrow.labels ?? []) lookups.push(`label:${k}=${v}`);
    if (narrow.nodeName !== undefined) lookups.push(narrow.nodeName ? `node:${narrow.nodeName}` : 'unbound');
    if (narrow.ownerUid !== undefined) lookups.push(`owner:${narrow.ownerUid}`);
    const accept = accepts(narrow, match);
    const found: KObject[] = [];
    if (lookups.length === 0) {
      for (const o of t.values()) if (accept(o)) found.push(o);
      return found;
    }
    let smallest: Set<string> | undefined;
    for (const l of lookups) {
      const set = idx.get(l);
      if (!set) return found;
      if (!smallest || set.size < smallest.size) smallest = set;
    }
    for (const k of smallest!) {
      const o = t.get(k);
      if (o && accept(o)) found.push(o);
    }
    return found;
  }

  /** A namespace or the whole resource in key order: its keys sorted once per create/remove, not per list. */
  private inKeyOrder(resource: string, narrow: Narrow, match?: (o: KObject) => boolean): KObject[] {
    const t = this.table(resource);
    let keys = this.sortedKeys.get(resource);
    if (!keys) this.sortedKeys.set(resource, (keys = [...t.keys()].sort()));
    const accept = accepts(narrow, match);
    const found: KObject[] = [];
    for (const k of keys) {
      const o = t.get(k);
      if (o && accept(o)) found.push(o);
    }
    return found;
  }

  /** The distinct nodes (`node`) or controllers (`owner`) the objects of a resource name: a GC's candidates. */
  indexedValues(resource: string, kind: 'node' | 'owner'): string[] {
    const prefix = `${kind}:`;
    return [...this.index(resource).keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** The stored object itself (not a copy): callers must not mutate it. */
  peekOne(resource: string, ns: string | undefined, name: string): KObject | undefined {
    return this.table(resource).get(key(ns, name));
  }

  /** `peekOne` by store key (`namespace/name`, `/name` for cluster-scoped objects). */
  peekKey(resource: string, storeKey: string): KObject | undefined {
    return this.table(resource).get(storeKey);
  }

  get(resource: string, ns: string | undefined, name: string): KObject | undefined {
    const o = this.table(resource).get(key(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  has(resource: string, ns: string | undefined, name: string): boolean {
    return this.table(resource).has(key(ns, name));
  }

  /**
   * All objects of a resource (optionally one namespace, optionally those `match` accepts), sorted by
   * namespace/name, as copies. Only what matches is copied: a selected list of a few pods among thousands
   * must not clone them all (the bench's 1,000 runs in flight spent most of the sim's CPU there).
   */
  list(resource: string, ns?: string, match?: (o: KObject) => boolean, narrow: Narrow = {}): KObject[] {
    return this.sorted(resource, ns, match, narrow).map((o) => structuredClone(o));
  }

  /** `list` without the copies: for what is serialized at once (a list's response), never mutated. */
  sorted(resource: string, ns?: string, match?: (o: KObject) => boolean, narrow: Narrow = {}): KObject[] {
    if (!narrow.labels?.length && narrow.nodeName === undefined && narrow.ownerUid === undefined) return this.inKeyOrder(resource, ns === undefined ? narrow : { ...narrow, ns }, match);
    const found = this.scan(resource, ns === undefined ? narrow : { ...narrow, ns }, match).map((o): [string, KObject] => [keyOf(o), o]);
    return found.sort(byKey).map(([, o]) => o);
  }

  /** Read-only view without copying (callers must not mutate). */
  peek(resource: string): Iterable<KObject> {
    return this.table(resource).values();
  }

  create(resource: string, obj: KObject): KObject {
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const t = this.table(resource);
    if (t.has(k)) throw new Error(`store: ${resource} ${k} exists`);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    t.set(k, stored);
    this.reindex(resource, k, undefined, stored);
    this.sortedKeys.delete(resource);
    this.emit({ type: 'ADDED', resource, rv: this.rv, object: stored });
    return structuredClone(stored);
  }

  update(resource: string, obj: KObject): KObject {
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const t = this.table(resource);
    const old = t.get(k);
    if (!old) throw new Error(`store: ${resource} ${k} missing`);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    t.set(k, stored);
    this.reindex(resource, k, old, stored);
    this.emit({ type: 'MODIFIED', resource, rv: this.rv, object: stored, old });
    return structuredClone(stored);
  }

  remove(resource: string, ns: string | undefined, name: string): KObject | undefined {
    const k = key(ns, name);
    const t = this.table(resource);
    const old = t.get(k);
    if (!old) return undefined;
    t.delete(k);
    this.reindex(resource, k, old, undefined);
    this.sortedKeys.delete(resource);
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource, rv: this.rv, object: gone });
    return structuredClone(gone);
  }

  /** Events after `rv` (exclusive), or 'expired' if some of them were compacted away. */
  since(rv: number): StoreEvent[] | 'expired' {
    if (rv < this.compactedRv) return 'expired';
    // history is sorted by rv: binary search for the first event > rv
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    // compacted a tenth at a time: one event at a time moved the whole history on every write
    if (this.history.length > this.historyLimit + Math.ceil(this.historyLimit / 10)) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        console.error('kube sim store listener failed', err);
      }
    }
  }
}
