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
/** Byte order of the keys, as etcd (and so kube-apiserver) lists them. */
const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KObject>>();
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
  list(resource: string, ns?: string, match?: (o: KObject) => boolean): KObject[] {
    const found: [string, KObject][] = [];
    for (const o of this.table(resource).values()) {
      if ((ns === undefined || o.metadata.namespace === ns) && (!match || match(o))) found.push([key(o.metadata.namespace, o.metadata.name), o]);
    }
    return found.sort(byKey).map(([, o]) => structuredClone(o));
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
    this.emit({ type: 'MODIFIED', resource, rv: this.rv, object: stored, old });
    return structuredClone(stored);
  }

  remove(resource: string, ns: string | undefined, name: string): KObject | undefined {
    const k = key(ns, name);
    const t = this.table(resource);
    const old = t.get(k);
    if (!old) return undefined;
    t.delete(k);
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
    if (this.history.length > this.historyLimit) {
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
