import { describe, expect, it } from 'vitest';
import { fleetConfigSchema, nodeGroupSchema, type NodeGroupConfig } from '../../src/core/config.js';
import { missingSlots, placeOnSubnets, subnetDisplayName, subnetSlots } from '../../src/core/subnets.js';

const AD = (i: number) => `SIM:US-ASHBURN-AD-${i}`;
/** AD-1 twice (two fault domains), then AD-2. */
const group = (layout: 'per-availability-domain' | 'regional'): NodeGroupConfig =>
  nodeGroupSchema.parse({
    name: 'dedicated',
    size: 3,
    shape: 'VM.Standard.E4.Flex',
    image: { channel: 'prod' },
    placement: [
      { availabilityDomain: AD(1), faultDomain: 'FAULT-DOMAIN-1' },
      { availabilityDomain: AD(1), faultDomain: 'FAULT-DOMAIN-2' },
      { availabilityDomain: AD(2), faultDomain: 'FAULT-DOMAIN-1' },
    ],
    subnets: { layout },
  });
const subnet = (id: string, ad?: number) => ({ subnetId: `ocid1.subnet.oc1..${id}`, ...(ad ? { availabilityDomain: AD(ad) } : {}) });

describe('subnetSlots and missingSlots', () => {
  it.each([
    ['per AD: one per AD of the placement, in its order', 'per-availability-domain', [], [AD(1), AD(2)]],
    ['per AD: the ones without a subnet', 'per-availability-domain', [subnet('a', 1)], [AD(2)]],
    ['per AD: a subnet of another AD fills nothing', 'per-availability-domain', [subnet('c', 3)], [AD(1), AD(2)]],
    ['per AD: a regional subnet fills nothing', 'per-availability-domain', [subnet('r')], [AD(1), AD(2)]],
    ['per AD: all there', 'per-availability-domain', [subnet('b', 2), subnet('a', 1)], []],
    ['regional: one', 'regional', [], [undefined]],
    ['regional: an AD subnet does not fill it', 'regional', [subnet('a', 1)], [undefined]],
    ['regional: there', 'regional', [subnet('r')], []],
  ] as const)('%s', (_, layout, existing, missing) => {
    expect(missingSlots(group(layout), [...existing])).toEqual(missing);
    if (existing.length === 0) expect(subnetSlots(group(layout))).toEqual(missing);
  });
});

describe('placeOnSubnets', () => {
  it.each([
    ['per AD: each placement on its AD subnet', 'per-availability-domain', [subnet('b', 2), subnet('a', 1)], ['a', 'a', 'b']],
    ['per AD: a placement whose AD has none is left without', 'per-availability-domain', [subnet('a', 1)], ['a', 'a', undefined]],
    ['regional: every placement on it', 'regional', [subnet('r')], ['r', 'r', 'r']],
    ['regional: AD subnets are not used', 'regional', [subnet('a', 1)], [undefined, undefined, undefined]],
  ] as const)('%s', (_, layout, subnets, expected) => {
    const placed = placeOnSubnets(group(layout), [...subnets]);
    expect(placed.placement.map((p) => p.subnetId?.replace('ocid1.subnet.oc1..', ''))).toEqual(expected);
    expect(placed.placement.map((p) => p.faultDomain)).toEqual(['FAULT-DOMAIN-1', 'FAULT-DOMAIN-2', 'FAULT-DOMAIN-1']);
  });
});

describe('subnetDisplayName', () => {
  it.each([
    [AD(2), 'sim-1-dedicated-us-ashburn-ad-2'],
    ['Uocm:PHX-AD-1', 'sim-1-dedicated-phx-ad-1'],
    [undefined, 'sim-1-dedicated-regional'],
  ])('%s → %s', (ad, name) => expect(subnetDisplayName('sim-1', 'dedicated', ad)).toBe(name));
});

describe('fleet configuration of dedicated subnets', () => {
  const base = { name: 'g', size: 1, shape: 'S', image: { channel: 'prod' } };
  it.each([
    ['a group with subnets names no subnetId', { ...base, subnets: {}, placement: [{ availabilityDomain: AD(1), faultDomain: 'FAULT-DOMAIN-1', subnetId: 'ocid1.subnet.oc1..x' }] }],
    ['a group without subnets names each subnetId', { ...base, placement: [{ availabilityDomain: AD(1), faultDomain: 'FAULT-DOMAIN-1' }] }],
  ])('refuses %s', (_, g) => {
    const r = nodeGroupSchema.safeParse(g);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/each placement names its subnetId, unless the group has dedicated subnets/);
  });
  it.each([
    ['a dedicated group in a cluster without a network', undefined, /node group g has dedicated subnets: cluster c needs a network \(vcnId, subnetPool\)/],
    ['a pool block with host bits', { vcnId: 'ocid1.vcn.oc1..v', subnetPool: ['10.0.128.1/17'] }, /subnetPool\.0: expected an IPv4 CIDR block/],
  ])('refuses %s', (_, network, message) => {
    const cluster = { name: 'c', kubeconfig: 'k', oci: { configFile: 'o' }, compartmentId: 'ocid1.compartment.oc1..c', ...(network ? { network } : {}) };
    const r = fleetConfigSchema.safeParse({ clusters: [{ ...cluster, nodeGroups: [{ ...base, subnets: {}, placement: [{ availabilityDomain: AD(1), faultDomain: 'FAULT-DOMAIN-1' }] }] }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')).toMatch(message);
  });

  it('defaults to a /24 per availability domain', () => {
    expect(nodeGroupSchema.parse({ ...base, subnets: {}, placement: [{ availabilityDomain: AD(1), faultDomain: 'FAULT-DOMAIN-1' }] }).subnets).toEqual({ layout: 'per-availability-domain', prefixLength: 24 });
  });
});
