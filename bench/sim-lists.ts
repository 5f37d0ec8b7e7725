// The sim's own answers at the size a scenario seeded (issue 14 #6): whole-fleet lists of nodes and pods, and the
// per-node pod list a drain and the waits make, as a client sees them (median of 3, ms); the pods also in pages of 500.
import * as k8s from '@kubernetes/client-node';
import { percentile } from './measure.js';

async function timed(fn: () => Promise<{ items: unknown[] }>): Promise<{ ms: number; items: number }> {
  const runs: number[] = [];
  let items = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    items = (await fn()).items.length;
    runs.push(performance.now() - started);
  }
  return { ms: Math.round(percentile(runs, 50)), items };
}

export async function listLatency(admin: k8s.KubeConfig) {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const nodes = await timed(() => core.listNode());
  const pods = await timed(() => core.listPodForAllNamespaces());
  const node = (await core.listNode({ limit: 1 })).items[0]!.metadata!.name!;
  const podsOnNode = await timed(() => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
  // as client-go's pager and kubectl read a large list: pages of 500 following `continue`
  const podsPaged = await timed(async () => {
    const items: unknown[] = [];
    let token: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ limit: 500, ...(token ? { _continue: token } : {}) });
      items.push(...page.items);
      token = page.metadata?._continue;
    } while (token);
    return { items };
  });
  return { nodes, pods, podsPaged, podsOnNode };
}
