// The subnet manager's activities, with the real OCI SDK (VirtualNetworkClient, signed requests) against the
// simulated Virtual Network over HTTP.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { nodeGroupSchema, type FleetConfig } from '../../src/core/config.js';
import { TAG_CLUSTER, TAG_NODE_GROUP } from '../../src/core/labels.js';
import { expectNonRetryable, failActivity, launchRequestFor, runActivity, startFixture, waitFor, type Fixture } from './helpers.js';

let fx: Fixture;
let acts: ReturnType<typeof createActivities>;

const AD = (i: number) => `SIM:US-ASHBURN-AD-${i}`;
const dedicatedGroup = (name: string, ads: number[], subnets: Record<string, unknown> = {}) =>
  nodeGroupSchema.parse({
    name,
    size: 2,
    shape: 'VM.Standard.E4.Flex',
    image: { channel: 'prod' },
    placement: ads.map((i) => ({ availabilityDomain: AD(i), faultDomain: 'FAULT-DOMAIN-1' })),
    subnets,
  });

/** The sim's fleet with groups on dedicated subnets added (and the cluster's pool as given). */
function fleetWith(groups: ReturnType<typeof dedicatedGroup>[], subnetPool?: string[]): FleetConfig {
  const [cluster] = fx.fleet.clusters;
  return { clusters: [{ ...cluster!, network: { ...cluster!.network!, ...(subnetPool ? { subnetPool } : {}) }, nodeGroups: [...cluster!.nodeGroups, ...groups] }] };
}

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined); // the SDK warns on every refused request
  fx = await startFixture();
  acts = createActivities({ fleet: fleetWith([dedicatedGroup('dedicated', [1, 2]), dedicatedGroup('regional', [1, 2, 3], { layout: 'regional', prefixLength: 20 })]), isWorkflowRunning: async () => false });
});

afterAll(async () => {
  await fx?.stop();
  vi.restoreAllMocks();
});

const ref = (nodeGroup: string) => ({ cluster: fx.cluster, nodeGroup });
const deadline = () => Date.now() + 10_000;

describe('subnet manager activities against the simulated Virtual Network', () => {
  it('creates one tagged subnet per availability domain from the pool, AVAILABLE, once: a second run finds them by tag', async () => {
    const { result } = await runActivity(acts.ensureNodeGroupSubnets, [{ ...ref('dedicated'), retryToken: 'run-1', deadline: deadline() }]);
    expect(result.subnets.map((s) => [s.availabilityDomain, s.cidrBlock, s.lifecycleState])).toEqual([
      [AD(1), '10.0.128.0/24', 'AVAILABLE'],
      [AD(2), '10.0.129.0/24', 'AVAILABLE'],
    ]);
    expect(result.created).toEqual(result.subnets.map((s) => s.subnetId));
    const wire = fx.sim.oci.network.getSubnet(result.subnets[0]!.subnetId);
    expect(wire).toMatchObject({
      vcnId: fx.sim.oci.vcn.id,
      displayName: 'sim-1-dedicated-us-ashburn-ad-1',
      routeTableId: fx.sim.oci.vcn.defaultRouteTableId,
      securityListIds: [fx.sim.oci.vcn.defaultSecurityListId],
      prohibitPublicIpOnVnic: true,
      freeformTags: { [TAG_CLUSTER]: 'sim-1', [TAG_NODE_GROUP]: 'dedicated' },
    });

    const created = fx.sim.oci.network.counters.subnetsCreated;
    const again = await runActivity(acts.ensureNodeGroupSubnets, [{ ...ref('dedicated'), retryToken: 'run-2', deadline: deadline() }]);
    expect(again.result).toEqual({ subnets: result.subnets, created: [] });
    expect(fx.sim.oci.network.counters.subnetsCreated).toBe(created);

    // describeNodeGroup places the group on them, so repaves and scales launch there
    const described = await runActivity(acts.describeNodeGroup, [ref('dedicated')]);
    expect(described.result?.placement.map((p) => p.subnetId)).toEqual(result.subnets.map((s) => s.subnetId));
  });

  it('a regional layout makes one subnet without an availability domain, beside the others in the pool', async () => {
    const { result } = await runActivity(acts.ensureNodeGroupSubnets, [{ ...ref('regional'), retryToken: 'run-r', deadline: deadline() }]);
    expect(result.subnets.map((s) => [s.availabilityDomain, s.cidrBlock])).toEqual([[undefined, '10.0.144.0/20']]);
    expect((await runActivity(acts.findNodeGroupSubnets, [ref('regional')])).result).toHaveLength(1);
  });

  it('an exhausted pool is refused before any subnet is created', async () => {
    const tight = createActivities({ fleet: fleetWith([dedicatedGroup('tight', [1, 2, 3], { prefixLength: 26 })], ['10.0.200.0/25']), isWorkflowRunning: async () => false });
    const created = fx.sim.oci.network.counters.subnetsCreated;
    const { error } = await failActivity(tight.ensureNodeGroupSubnets, [{ ...ref('tight'), retryToken: 'run-t', deadline: deadline() }]);
    expect(expectNonRetryable(error, 'SubnetPoolExhausted').message).toBe(
      'node group sim-1/tight: subnetPool 10.0.200.0/25 has room for 2 more /26 subnets, 3 needed (3 subnets of the VCN in use): widen the pool or use a longer prefixLength',
    );
    expect(fx.sim.oci.network.counters.subnetsCreated).toBe(created);
  });

  it('delete keeps a subnet a live instance is in when asked to, otherwise waits out the VNIC until the instance is TERMINATED', async () => {
    const [subnet] = (await runActivity(acts.findNodeGroupSubnets, [ref('dedicated')])).result;
    const launch = { ...launchRequestFor(fx, 'dedicated-x1', 'launch-x1'), nodeGroup: 'dedicated', availabilityDomain: AD(1), subnetId: subnet!.subnetId };
    const { result: launched } = await runActivity(acts.launchReplacement, [launch]);

    const kept = await runActivity(acts.deleteNodeGroupSubnets, [{ ...ref('dedicated'), keepInUse: true, deadline: deadline() }]);
    expect(kept.result.kept).toEqual([subnet!.subnetId]);
    expect(kept.result.deleted).toHaveLength(1); // the other AD's subnet, empty
    expect(fx.sim.oci.network.getSubnet(subnet!.subnetId).lifecycleState).toBe('AVAILABLE');

    await waitFor('instance RUNNING', () => fx.sim.oci.fleet.summary().find((i) => i.id === launched.instanceId)?.lifecycleState === 'RUNNING');
    await runActivity(acts.terminateInstance, [{ cluster: fx.cluster, instanceId: launched.instanceId }]);
    const refusedBefore = fx.sim.oci.network.counters.deletesRefusedForVnics;
    const { result } = await runActivity(acts.deleteNodeGroupSubnets, [{ ...ref('dedicated'), deadline: deadline() }]);
    expect(result).toEqual({ deleted: [subnet!.subnetId], kept: [] });
    expect(fx.sim.oci.network.counters.deletesRefusedForVnics).toBeGreaterThan(refusedBefore); // OCI refused while the instance was terminating
    expect(fx.sim.oci.network.getSubnet(subnet!.subnetId).lifecycleState).toBe('TERMINATED');
    expect((await runActivity(acts.findNodeGroupSubnets, [ref('dedicated')])).result).toEqual([]);
  });

  it('refuses a group without dedicated subnets', async () => {
    const { error } = await failActivity(acts.ensureNodeGroupSubnets, [{ ...ref('general'), retryToken: 'x', deadline: deadline() }]);
    expect(expectNonRetryable(error, 'NoDedicatedSubnets').message).toBe('node group sim-1/general has no dedicated subnets (subnets) in the fleet configuration');
  });
});
