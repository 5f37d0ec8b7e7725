// The health gates' observation: each node's readiness and its pods, as the gates judge them (src/core/rollout.ts).
import type { ImageRolloutActivities } from '../core/activity-contracts.js';
import type { NodeHealthFacts } from '../core/rollout.js';
import type { ClientRegistry } from './clients.js';
import { isNotFound, isPodReady, rethrow } from './kube-api.js';
import { isDaemonSetPod, isNodeReady, podsOnNode } from './kubernetes.js';

export function healthGateActivities({ clients }: { clients: ClientRegistry }) {
  return {
    async inspectNodeHealth({ cluster, nodes }: { cluster: string; nodes: string[] }): Promise<NodeHealthFacts[]> {
      const { core } = clients.for(cluster);
      const facts: NodeHealthFacts[] = [];
      for (const name of nodes) {
        let ready: boolean;
        try {
          ready = isNodeReady(await core.readNode({ name }));
        } catch (e) {
          if (isNotFound(e)) {
            facts.push({ node: name, exists: false, ready: false, pods: [] });
            continue;
          }
          rethrow(e, `read node ${name}`);
        }
        const pods = (await podsOnNode(core, name)).map((p) => {
          const statuses = p.status?.containerStatuses ?? [];
          const waiting = statuses.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined);
          return {
            name: `${p.metadata?.namespace}/${p.metadata?.name}`,
            daemonSet: isDaemonSetPod(p),
            phase: p.status?.phase ?? 'Unknown',
            ready: isPodReady(p),
            restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
            ...(waiting ? { waiting } : {}),
            createdAt: new Date(p.metadata?.creationTimestamp ?? 0).toISOString(),
          };
        });
        facts.push({ node: name, exists: true, ready, pods });
      }
      return facts;
    },
  } satisfies Pick<ImageRolloutActivities, 'inspectNodeHealth'>;
}
