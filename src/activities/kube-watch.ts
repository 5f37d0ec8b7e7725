import * as k8s from '@kubernetes/client-node';

/** What to watch for a change: an API path (`/api/v1/pods`) and its selector, from the resourceVersion of the read it follows. */
export interface WatchTarget {
  path: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** Which events wake the wait (every one by default): a drain waits for its evicted pods to be gone, not for each to go. */
  wakesOn?: (type: string, object: k8s.KubernetesObject) => boolean;
}

/**
 * Wakes when the last of `uids` is deleted (a drain's evicted pods terminate together: one re-read, not one per pod), or
 * when an object is added or the watch reports an error; other changes (a deletionTimestamp set, a status) do not wake.
 */
export function untilAllGone(uids: (string | undefined)[]): NonNullable<WatchTarget['wakesOn']> {
  const left = new Set(uids);
  return (type, o) => type === 'ADDED' || type === 'ERROR' || (type === 'DELETED' && left.delete(o.metadata?.uid) && left.size === 0);
}

/** A watch the server ends within this long of a wake is left to end: its connection goes back to the pool. */
const LEFT_TO_END_MS = 1_000;
/** A watch still open this long after the server should have ended it is aborted (a proxy that ignores timeoutSeconds). */
const OVERDUE_MS = 5_000;

/**
 * Resolves at the first change to any of `targets` after its resourceVersion, or after `maxMs`, whichever comes
 * first. A wait loop re-reads either way, so a watch that fails (or is not allowed) only costs the full `maxMs`:
 * the loop then behaves as the plain poll it replaces, and never misses a change that happened since its read.
 *
 * Each watch asks the server to end it at `maxMs` (timeoutSeconds). Aborting a watch closes its connection, and the
 * request after it pays a new TLS handshake; one the server ends leaves its keep-alive connection to the pool. So a
 * wake leaves the watches that end within a second to the server, and aborts the others.
 */
export function nextChange(kc: k8s.KubeConfig, targets: WatchTarget[], maxMs: number): Promise<void> {
  const timeoutSeconds = Math.max(1, Math.ceil(maxMs / 1000));
  const endsAt = Date.now() + timeoutSeconds * 1000;
  return new Promise((resolve) => {
    const watches: Promise<AbortController | undefined>[] = [];
    let settled = false;
    const abortAll = () => {
      for (const w of watches) void w.then((c) => c?.abort());
    };
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (endsAt - Date.now() > LEFT_TO_END_MS) abortAll();
      else setTimeout(abortAll, Math.max(0, endsAt - Date.now()) + OVERDUE_MS).unref();
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    const watch = new k8s.Watch(kc);
    for (const t of targets) {
      const query = {
        ...(t.fieldSelector ? { fieldSelector: t.fieldSelector } : {}),
        ...(t.resourceVersion ? { resourceVersion: t.resourceVersion } : {}),
        allowWatchBookmarks: false,
        timeoutSeconds,
      };
      watches.push(
        watch.watch(t.path, query, (type, object: k8s.KubernetesObject) => type !== 'BOOKMARK' && (!t.wakesOn || t.wakesOn(type, object)) && done(), () => undefined).catch(() => undefined),
      );
    }
  });
}
