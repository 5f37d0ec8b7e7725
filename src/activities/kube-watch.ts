import * as k8s from '@kubernetes/client-node';

/** What to watch for a change: an API path (`/api/v1/pods`) and its selector, from the resourceVersion of the read it follows. */
export interface WatchTarget {
  path: string;
  fieldSelector?: string;
  resourceVersion?: string;
}

/**
 * Resolves at the first change to any of `targets` after its resourceVersion, or after `maxMs`, whichever comes
 * first. A wait loop re-reads either way, so a watch that fails (or is not allowed) only costs the full `maxMs`:
 * the loop then behaves as the plain poll it replaces, and never misses a change that happened since its read.
 */
export function nextChange(kc: k8s.KubeConfig, targets: WatchTarget[], maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    const watches: Promise<AbortController | undefined>[] = [];
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const w of watches) void w.then((c) => c?.abort());
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    const watch = new k8s.Watch(kc);
    for (const t of targets) {
      const query = { ...(t.fieldSelector ? { fieldSelector: t.fieldSelector } : {}), ...(t.resourceVersion ? { resourceVersion: t.resourceVersion } : {}), allowWatchBookmarks: false };
      watches.push(
        watch.watch(t.path, query, (type) => type !== 'BOOKMARK' && done(), () => undefined).catch(() => undefined),
      );
    }
  });
}
