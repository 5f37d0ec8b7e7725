import type { ConfigActivities } from '../core/activity-contracts.js';
import { placeOnSubnets } from '../core/subnets.js';
import type { ClientRegistry } from './clients.js';

/**
 * The fleet configuration file is the source of truth for node groups (shape, image, placement, budgets).
 * A group with dedicated subnets is placed on the ones OCI has for it (`findSubnets`, by tag).
 */
export function configActivities({ clients, findSubnets }: { clients: ClientRegistry; findSubnets: (cluster: string, nodeGroup: string) => Promise<{ subnetId: string; availabilityDomain?: string }[]> }) {
  return {
    async describeNodeGroup({ cluster, nodeGroup }: { cluster: string; nodeGroup: string }) {
      const group = clients.clusterConfig(cluster).nodeGroups.find((g) => g.name === nodeGroup);
      if (!group?.subnets) return group;
      return placeOnSubnets(group, await findSubnets(cluster, nodeGroup));
    },
  } satisfies ConfigActivities;
}
