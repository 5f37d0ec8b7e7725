import { nodeGroupSchema, type NodeGroupConfig } from '../../src/core/config.js';

/** Node group `general` as the fleet file declares it: size 4, maxUnavailable 1 (so minReady 3), maxSurge 1, one placement, unless told. */
export const nodeGroup = (over: Record<string, unknown> = {}): NodeGroupConfig =>
  nodeGroupSchema.parse({
    name: 'general',
    size: 4,
    shape: 'VM.Standard.E4.Flex',
    image: { channel: 'prod' },
    placement: [{ availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-1', subnetId: 'ocid1.subnet.oc1..a' }],
    ...over,
  });

/** Three placements, a fault domain each: for spreading across fault domains. */
export const THREE_PLACEMENTS = [1, 2, 3].map((i) => ({ availabilityDomain: `AD-${i}`, faultDomain: `FAULT-DOMAIN-${i}`, subnetId: `ocid1.subnet.oc1..s${i}` }));
