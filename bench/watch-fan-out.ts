// Watch fan-out (issue 14 #6): `watchers` watches on the bench namespace's pods, then `changes` pods labelled one by
// one (10 requests in flight): how long until every watcher has seen every change, and per watcher the delay of the
// last one. A watcher that misses a change fails the scenario (after 60 s), it is never counted as delivered.
import * as k8s from '@kubernetes/client-node';
import { percentile } from './measure.js';
import { WORKLOAD_NAMESPACE } from './workload.js';
import { poll } from '../test/helpers/wait.js';

export async function watchFanOut(admin: k8s.KubeConfig, opts: { watchers: number; changes: number }) {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const mark = `fanout-${Date.now()}`;
  // the resourceVersion to watch from, without listing 50,000 pods: a selector nothing matches
  const resourceVersion = (await core.listNamespacedPod({ namespace: WORKLOAD_NAMESPACE, labelSelector: `${mark}=none` })).metadata!.resourceVersion!;
  const targets = (await core.listNamespacedPod({ namespace: WORKLOAD_NAMESPACE, limit: opts.changes })).items.slice(0, opts.changes).map((p) => p.metadata!.name!);
  if (targets.length < opts.changes) throw new Error(`only ${targets.length} pods to change, ${opts.changes} wanted`);
  const seen = Array.from({ length: opts.watchers }, () => new Set<string>());
  const lastAt: number[] = Array.from({ length: opts.watchers }, () => 0);
  const watch = new k8s.Watch(admin);
  const controllers = await Promise.all(
    seen.map((names, i) =>
      watch.watch(`/api/v1/namespaces/${WORKLOAD_NAMESPACE}/pods`, { resourceVersion, allowWatchBookmarks: false }, (type, obj: k8s.V1Pod) => {
        if (type === 'MODIFIED' && obj.metadata?.labels?.[mark] === 'touched' && !names.has(obj.metadata.name!)) {
          names.add(obj.metadata.name!);
          lastAt[i] = performance.now();
        }
      }, () => undefined),
    ),
  );
  try {
    const started = performance.now();
    let next = 0;
    const patcher = async () => {
      while (next < targets.length) {
        const name = targets[next++]!;
        await core.patchNamespacedPod({ namespace: WORKLOAD_NAMESPACE, name, body: { metadata: { labels: { [mark]: 'touched' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      }
    };
    await Promise.all(Array.from({ length: 10 }, patcher));
    const patchedMs = performance.now() - started;
    await poll(`${opts.changes} pod changes seen by all ${opts.watchers} watchers`, () => seen.every((s) => s.size === opts.changes), { timeoutMs: 60_000, everyMs: 20, retryErrors: false });
    const perWatcher = lastAt.map((t) => t - started);
    return {
      watchers: opts.watchers,
      changes: opts.changes,
      events: opts.watchers * opts.changes,
      patchedMs: Math.round(patchedMs),
      deliveredMs: Math.round(Math.max(...perWatcher)),
      lastDeliveredPerWatcherMs: { p50: Math.round(percentile(perWatcher, 50)), max: Math.round(Math.max(...perWatcher)) },
    };
  } finally {
    for (const c of controllers) c.abort();
  }
}
