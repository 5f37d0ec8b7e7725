import type { NodeGroupConfig, Placement } from './config.js';

/** Where a replacement goes: the old node's own AD and fault domain, so the group's spread is kept. */
export function placementFor(group: NodeGroupConfig, old: { availabilityDomain: string; faultDomain?: string }): Placement {
  const sameAd = group.placement.filter((p) => p.availabilityDomain === old.availabilityDomain);
  const exact = sameAd.find((p) => p.faultDomain === old.faultDomain);
  if (exact) return exact;
  const fallback = sameAd[0] ?? group.placement[0];
  if (!fallback) throw new Error(`node group ${group.name} has no placement`);
  // Keep the old fault domain even when the config lists another one for this AD.
  return { ...fallback, faultDomain: old.faultDomain ?? fallback.faultDomain };
}

/** Labels and taints every node of the group registers with. */
export function nodeLabelsFor(cluster: string, group: NodeGroupConfig): Record<string, string> {
  return { ...group.labels, 'itinerant.dev/cluster': cluster, 'itinerant.dev/node-group': group.name };
}
