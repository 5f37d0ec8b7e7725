// Watch streams: newline-delimited {"type","object"} JSON over a chunked response.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { groupVersion, type KObject, type ResourceType } from './resources.js';
import { fieldValue, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { failure } from './status.js';
import { wireJson, type StoreEvent } from './store.js';

export interface WatchOptions {
  ns?: string;
  name?: string;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  resourceVersion?: string | null;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  /** Turns each event object into what the client asked for (e.g. a Table row). */
  render: (o: KObject) => unknown;
  /** `render` returns the object as stored: every such watcher can share one serialization of an event. */
  plain?: boolean;
}

/** One event's line as plain watchers receive it, serialized once for all of them (not once per watcher). */
const lines = new WeakMap<StoreEvent, Map<string, string>>();
function sharedLine(e: StoreEvent, type: string): string {
  let byType = lines.get(e);
  if (!byType) lines.set(e, (byType = new Map()));
  let line = byType.get(type);
  if (line === undefined) byType.set(type, (line = `{"type":${JSON.stringify(type)},"object":${wireJson(e.object)}}\n`));
  return line;
}

type Watcher = (e: StoreEvent) => void;

/** Fields a watch is indexed by when its selector requires one to equal a value: a node's pods, one object by name. */
const INDEXED_FIELDS = ['spec.nodeName', 'metadata.name'].map((field) => ({ field, segments: field.split('.') }));

/**
 * The open watches of one resource: those indexed by a field's value (keyed `field=value`), and the rest. An event
 * reaches only the watches whose indexed value its object has (or had), not every watch of the fleet: hundreds of
 * drains and waits each watch one node's pods while thousands of pods change.
 */
interface Watchers {
  all: Set<Watcher>;
  byFieldValue: Map<string, Set<Watcher>>;
}

export class WatchHub {
  private readonly open = new Set<ServerResponse>();
  private readonly watchers = new Map<string, Watchers>();

  constructor(private readonly ctx: SimContext, private readonly bookmarkIntervalMs = 10_000) {
    ctx.store.subscribe((e) => this.dispatch(e));
  }

  private dispatch(e: StoreEvent): void {
    const w = this.watchers.get(e.resource);
    if (!w) return;
    for (const fn of w.all) fn(e);
    if (w.byFieldValue.size === 0) return;
    for (const { field, segments } of INDEXED_FIELDS) {
      const now = fieldValue(e.object, segments);
      const before = e.old ? fieldValue(e.old, segments) : now;
      for (const fn of w.byFieldValue.get(`${field}=${now}`) ?? []) fn(e);
      if (before !== now) for (const fn of w.byFieldValue.get(`${field}=${before}`) ?? []) fn(e);
    }
  }

  /** Adds `fn` for events of `resource`, under the first indexed field `equalities` fixes; returns its removal. */
  private add(resource: string, equalities: ReadonlyMap<string, string>, fn: Watcher): () => void {
    let w = this.watchers.get(resource);
    if (!w) this.watchers.set(resource, (w = { all: new Set(), byFieldValue: new Map() }));
    const indexed = INDEXED_FIELDS.find(({ field }) => equalities.has(field));
    if (!indexed) {
      w.all.add(fn);
      return () => w.all.delete(fn);
    }
    const key = `${indexed.field}=${equalities.get(indexed.field)}`;
    let set = w.byFieldValue.get(key);
    if (!set) w.byFieldValue.set(key, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) w.byFieldValue.delete(key);
    };
  }

  serve(_req: IncomingMessage, res: ServerResponse, rt: ResourceType, opts: WatchOptions): void {
    const lm = parseLabelSelector(opts.labelSelector);
    const fm = parseFieldSelector(opts.fieldSelector, rt.plural);
    const matches = (o: KObject | undefined): boolean =>
      !!o &&
      (opts.ns === undefined || o.metadata.namespace === opts.ns) &&
      (opts.name === undefined || o.metadata.name === opts.name) &&
      lm(o.metadata.labels) &&
      fm(o);
    const store = this.ctx.store;

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    this.open.add(res);
    const send = (type: string, object: unknown): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const bookmark = (annotations?: Record<string, string>): void =>
      send('BOOKMARK', { kind: rt.kind, apiVersion: groupVersion(rt), metadata: { resourceVersion: store.resourceVersion, ...(annotations ? { annotations } : {}) } });
    const sendEvent = (type: string, e: StoreEvent): void => {
      if (!opts.plain) send(type, opts.render(e.object));
      else if (!res.writableEnded) res.write(sharedLine(e, type));
    };
    const onEvent = (e: StoreEvent): void => {
      if (e.resource !== rt.plural) return; // a resume replays every resource's events
      const now = matches(e.object);
      const before = e.type === 'MODIFIED' ? matches(e.old) : now;
      if (e.type === 'MODIFIED') {
        if (now && before) sendEvent('MODIFIED', e);
        else if (now) sendEvent('ADDED', e);
        else if (before) sendEvent('DELETED', e);
      } else if (now) sendEvent(e.type, e);
    };

    const rv = opts.resourceVersion;
    if (!rv || rv === '0' || opts.sendInitialEvents) {
      for (const o of store.sorted(rt.plural, rt.namespaced ? opts.ns : undefined, matches)) send('ADDED', opts.render(o));
      if (opts.sendInitialEvents && opts.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      const events = store.since(Number(rv));
      if (events === 'expired' || !/^\d+$/.test(rv)) {
        send('ERROR', failure(410, `too old resource version: ${rv} (${store.resourceVersion})`, 'Expired'));
        this.open.delete(res);
        res.end();
        return;
      }
      for (const e of events) onEvent(e);
    }
    const equalities = opts.name === undefined ? fm.equalities : new Map([...fm.equalities, ['metadata.name', opts.name]]);
    const unsubscribe = this.add(rt.plural, equalities, onEvent);
    const timers: NodeJS.Timeout[] = [];
    if (opts.allowBookmarks) timers.push(setInterval(() => bookmark(), this.bookmarkIntervalMs));
    if (opts.timeoutSeconds && opts.timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), opts.timeoutSeconds * 1000));
    const cleanup = (): void => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(res);
    };
    res.on('close', cleanup);
    res.on('finish', cleanup);
  }

  closeAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }
}
