import type { ConfigActivities } from '../core/activity-contracts.js';
import type { ClientRegistry } from './clients.js';

/** The fleet configuration file is the source of truth for node groups (shape, image, placement, budgets). */
export function configActivities({ clients }: { clients: ClientRegistry }) {
  return {
    async describeNodeGroup({ cluster, nodeGroup }: { cluster: string; nodeGroup: string }) {
      return clients.clusterConfig(cluster).nodeGroups.find((g) => g.name === nodeGroup);
    },
  } satisfies ConfigActivities;
}
