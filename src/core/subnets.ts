// Pure planning for node groups on dedicated subnets: which subnets a group needs, and its placements on them.
import type { NodeGroupConfig } from './config.js';
import { zoneOf } from './node-groups.js';

/** A group's dedicated subnet as found in OCI (by its cluster and node-group tags). */
export interface GroupSubnet {
  subnetId: string;
  cidrBlock: string;
  /** Absent for a regional subnet. */
  availabilityDomain?: string;
  lifecycleState: string;
}

/**
 * The subnets a group needs, by availability domain (undefined: one regional subnet), in the order of its
 * placement: one per availability domain it is placed in, or one regional subnet for all of them.
 */
export function subnetSlots(group: Pick<NodeGroupConfig, 'placement' | 'subnets'>): (string | undefined)[] {
  if (group.subnets?.layout === 'regional') return [undefined];
  return [...new Set(group.placement.map((p) => p.availabilityDomain))];
}

/** The slots that no subnet in `existing` fills yet. */
export function missingSlots(group: Pick<NodeGroupConfig, 'placement' | 'subnets'>, existing: Pick<GroupSubnet, 'availabilityDomain'>[]): (string | undefined)[] {
  return subnetSlots(group).filter((ad) => !existing.some((s) => s.availabilityDomain === ad));
}

/** The display name of a group's subnet: cluster, group, and the AD's short name or "regional". */
export function subnetDisplayName(cluster: string, group: string, availabilityDomain: string | undefined): string {
  return `${cluster}-${group}-${availabilityDomain ? zoneOf(availabilityDomain).toLowerCase() : 'regional'}`;
}

/** The group with each placement on its dedicated subnet (the one of its AD, or the regional one); left without one when there is none. */
export function placeOnSubnets(group: NodeGroupConfig, subnets: Pick<GroupSubnet, 'subnetId' | 'availabilityDomain'>[]): NodeGroupConfig {
  const regional = group.subnets?.layout === 'regional';
  return {
    ...group,
    placement: group.placement.map((p) => {
      const s = subnets.find((x) => (regional ? x.availabilityDomain === undefined : x.availabilityDomain === p.availabilityDomain));
      return s ? { ...p, subnetId: s.subnetId } : p;
    }),
  };
}
