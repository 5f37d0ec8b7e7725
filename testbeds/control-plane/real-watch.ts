// List-then-watch of one collection of the real API server (what client-go calls a reflector): the
// initial list and every relist arrive as events, so a consumer only ever sees ADDED / MODIFIED /
// DELETED, and a watch that expires (410 Gone) or drops is resumed or relisted without losing state.
import { request } from 'node:https';
import type { ControlPlane } from './control-plane.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchedObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

export interface Informer {
  /** Resolves once the initial list has been delivered. */
  started: Promise<void>;
  close(): void;
}

const keyOf = (o: WatchedObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function startInformer<T extends WatchedObject>(
  cp: Pick<ControlPlane, 'request' | 'url' | 'adminTls'>,
  collection: string,
  onEvent: (type: WatchEventType, obj: T) => void,
): Informer {
  const known = new Set<string>();
  let closed = false;
  let abort: (() => void) | undefined;

  const deliver = (type: WatchEventType, obj: T) => {
    if (type === 'DELETED') known.delete(keyOf(obj));
    else known.add(keyOf(obj));
    onEvent(type, obj);
  };

  const list = async (): Promise<void> => {
    const r = await cp.request('GET', collection);
    if (r.status !== 200) throw new Error(`list ${collection}: ${r.status} ${r.body?.message ?? ''}`);
    const items = (r.body?.items ?? []) as T[];
    const seen = new Set(items.map(keyOf));
    for (const o of items) deliver(known.has(keyOf(o)) ? 'MODIFIED' : 'ADDED', o);
    // objects deleted while no watch was open
    for (const k of [...known]) {
      if (seen.has(k)) continue;
      const [namespace, name] = k.split('/') as [string, string];
      deliver('DELETED', { metadata: { name, ...(namespace ? { namespace } : {}) } } as T);
    }
    watch(r.body?.metadata?.resourceVersion ?? '0');
  };

  const relist = (delayMs: number) => {
    if (closed) return;
    setTimeout(() => {
      if (!closed) list().catch(() => relist(1000));
    }, delayMs);
  };

  const watch = (resourceVersion: string) => {
    if (closed) return;
    const sep = collection.includes('?') ? '&' : '?';
    const u = new URL(`${collection}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`, cp.url);
    let rv = resourceVersion;
    let buf = '';
    let over = false; // this watch has handed over (to a relist or a new watch): ignore its last events
    const next = (fn: () => void) => {
      if (over) return;
      over = true;
      fn();
    };
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', ...cp.adminTls }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        next(() => relist(500));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim() || over) continue;
          const ev = JSON.parse(line) as { type: string; object: T };
          if (ev.type === 'ERROR') {
            // 410 Gone: the resourceVersion is too old, start over from a list
            next(() => relist(0));
            req.destroy();
            return;
          }
          if (ev.object.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
          if (ev.type !== 'BOOKMARK') deliver(ev.type as WatchEventType, ev.object);
        }
      });
      res.on('error', () => undefined); // a dropped connection: 'close' follows
      res.on('close', () => next(() => setTimeout(() => watch(rv), closed ? 0 : 100)));
    });
    req.on('error', () => next(() => setTimeout(() => watch(rv), 500)));
    req.end();
    abort = () => req.destroy();
  };

  return {
    started: list(),
    close() {
      closed = true;
      abort?.();
    },
  };
}
