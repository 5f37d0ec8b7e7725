import { describe, expect, it } from 'vitest';
import { nodeGroupSchema, type NodeGroupConfig, type Placement } from '../../src/core/config.js';
import { nodeLabelsFor, placementFor } from '../../src/core/placement.js';

const p = (ad: number, fd: number, subnet: string): Placement => ({ availabilityDomain: `AD-${ad}`, faultDomain: `FAULT-DOMAIN-${fd}`, subnetId: `ocid1.subnet.oc1..${subnet}` });

/** AD-1 has two fault domains (listed FD-2 first), AD-2 one; AD-3 is not configured. */
const placement = [p(1, 2, 'a'), p(1, 1, 'b'), p(2, 3, 'c')];
const group = (over: Record<string, unknown> = {}): NodeGroupConfig =>
  nodeGroupSchema.parse({ name: 'general', size: 3, shape: 'VM.Standard.E4.Flex', image: { channel: 'prod' }, placement, ...over });

describe('placementFor', () => {
  it.each([
    // the old node's own AD and fault domain, when configured: that entry, whatever its position
    ['exact match, first entry', { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-2' }, p(1, 2, 'a')],
    ['exact match, not the first entry of its AD', { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-1' }, p(1, 1, 'b')],
    ['exact match in another AD', { availabilityDomain: 'AD-2', faultDomain: 'FAULT-DOMAIN-3' }, p(2, 3, 'c')],
    // same AD, a fault domain the config does not list for it: the AD's first entry, the old fault domain kept
    ['same AD, unlisted fault domain', { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-3' }, { ...p(1, 2, 'a'), faultDomain: 'FAULT-DOMAIN-3' }],
    ['same AD, fault domain listed only for another AD', { availabilityDomain: 'AD-2', faultDomain: 'FAULT-DOMAIN-1' }, { ...p(2, 3, 'c'), faultDomain: 'FAULT-DOMAIN-1' }],
    // same AD, no fault domain known: the AD's first entry as configured
    ['same AD, no fault domain', { availabilityDomain: 'AD-1' }, p(1, 2, 'a')],
    ['same AD, no fault domain (other AD)', { availabilityDomain: 'AD-2' }, p(2, 3, 'c')],
    // an AD the group does not list: the first entry, with the old fault domain when known
    ['unlisted AD', { availabilityDomain: 'AD-3', faultDomain: 'FAULT-DOMAIN-3' }, { ...p(1, 2, 'a'), faultDomain: 'FAULT-DOMAIN-3' }],
    ['unlisted AD, no fault domain', { availabilityDomain: 'AD-3' }, p(1, 2, 'a')],
    ['empty AD name', { availabilityDomain: '', faultDomain: 'FAULT-DOMAIN-1' }, { ...p(1, 2, 'a'), faultDomain: 'FAULT-DOMAIN-1' }],
  ])('%s', (_, old, expected) => {
    expect(placementFor(group(), old)).toEqual(expected);
  });

  it('returns a copy when it changes the fault domain: the configuration is left alone', () => {
    const g = group();
    const before = structuredClone(g.placement);
    placementFor(g, { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-3' });
    expect(g.placement).toEqual(before);
  });

  it('with a single placement, every node goes to it (keeping its fault domain when the AD matches or not)', () => {
    const g = group({ placement: [p(1, 1, 'only')] });
    expect(placementFor(g, { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-1' })).toEqual(p(1, 1, 'only'));
    expect(placementFor(g, { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-2' })).toEqual(p(1, 2, 'only'));
    expect(placementFor(g, { availabilityDomain: 'AD-9', faultDomain: 'FAULT-DOMAIN-2' })).toEqual(p(1, 2, 'only'));
  });

  it('refuses a group without placement (the schema requires one; a hand-built config may not have it)', () => {
    const g = { ...group(), placement: [] } as NodeGroupConfig;
    expect(() => placementFor(g, { availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-1' })).toThrow('node group general has no placement');
  });
});

describe('nodeLabelsFor', () => {
  it.each([
    ['no labels of its own', {}, { 'itinerant.dev/cluster': 'sim-1', 'itinerant.dev/node-group': 'general' }],
    ['its own labels kept', { tier: 'web', 'topology.kubernetes.io/zone': 'z' }, { tier: 'web', 'topology.kubernetes.io/zone': 'z', 'itinerant.dev/cluster': 'sim-1', 'itinerant.dev/node-group': 'general' }],
    ['the cluster and group labels win over configured ones', { 'itinerant.dev/cluster': 'other', 'itinerant.dev/node-group': 'batch' }, { 'itinerant.dev/cluster': 'sim-1', 'itinerant.dev/node-group': 'general' }],
  ])('%s', (_, labels, expected) => {
    expect(nodeLabelsFor('sim-1', group({ labels }))).toEqual(expected);
  });
});
