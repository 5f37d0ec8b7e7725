// Pods for the nodes to carry: per node group, a Deployment pinned to the group (podsPerNode × its nodes) behind a
// PodDisruptionBudget that lets `budget` nodes drain at once (twice that: replacements still starting do not pace them).
import * as k8s from '@kubernetes/client-node';
import { LABEL_NODE_GROUP } from '../src/core/labels.js';
import { poll } from '../test/helpers/wait.js';

export const WORKLOAD_NAMESPACE = 'bench';

export async function deployGroupWorkloads(admin: k8s.KubeConfig, groups: string[], opts: { nodesPerGroup: number; podsPerNode: number; budget: number }): Promise<number> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const apps = admin.makeApiClient(k8s.AppsV1Api);
  const policy = admin.makeApiClient(k8s.PolicyV1Api);
  await core.createNamespace({ body: { metadata: { name: WORKLOAD_NAMESPACE } } });
  const replicas = opts.podsPerNode * opts.nodesPerGroup;
  for (const group of groups) {
    const labels = { app: `load-${group}` };
    await apps.createNamespacedDeployment({
      namespace: WORKLOAD_NAMESPACE,
      body: {
        metadata: { name: labels.app, labels },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { nodeSelector: { [LABEL_NODE_GROUP]: group }, containers: [{ name: 'app', image: 'registry.example.com/bench/app:1.0' }] } },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: WORKLOAD_NAMESPACE,
      body: { metadata: { name: labels.app }, spec: { maxUnavailable: 2 * opts.podsPerNode * opts.budget, selector: { matchLabels: labels } } },
    });
  }
  await poll(
    `${groups.length} × ${replicas} bench pods ready`,
    async () => (await apps.listNamespacedDeployment({ namespace: WORKLOAD_NAMESPACE })).items.every((d) => (d.status?.readyReplicas ?? 0) === replicas),
    { timeoutMs: 300_000, everyMs: 500, retryErrors: true },
  );
  return replicas * groups.length;
}
