// The simulated Virtual Network API driven by the real OCI SDK's VirtualNetworkClient (signed requests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from 'oci-core';
import type { OciSim } from '../../testbeds/sim/oci/index.js';
import { contains, parseCidr } from '../../src/core/cidr.js';
import { NO_RETRY, startTestOciSim, type TestOciSim } from '../helpers/oci-sim.js';
import { waitFor } from '../helpers/wait.js';

const COMPARTMENT = 'ocid1.compartment.oc1..sim';

describe('simulated Virtual Network API with the real OCI SDK', () => {
  let bed: TestOciSim;
  let sim: OciSim;
  let url: string;
  let vn: core.VirtualNetworkClient;
  let compute: core.ComputeClient;
  let ad1: string;
  let ad2: string;
  let image: string;

  beforeAll(async () => {
    bed = await startTestOciSim({ compartmentId: COMPARTMENT, faults: { bootDelayMs: 20 }, nodeReadyDelayMs: 20, terminateDelayMs: 200 });
    ({ sim, url } = bed);
    vn = new core.VirtualNetworkClient({ authenticationDetailsProvider: bed.provider }, { retryConfiguration: NO_RETRY });
    vn.endpoint = url;
    compute = new core.ComputeClient({ authenticationDetailsProvider: bed.provider }, { retryConfiguration: NO_RETRY });
    compute.endpoint = url;
    [ad1, ad2] = sim.fleet.availabilityDomains.map((a) => a.name) as [string, string];
    image = sim.fleet.addImage({ displayName: 'node' }).id;
  });

  afterAll(async () => {
    await bed?.close();
  });

  const details = (cidrBlock: string, extra: Partial<core.models.CreateSubnetDetails> = {}): core.models.CreateSubnetDetails => ({
    compartmentId: COMPARTMENT,
    vcnId: sim.vcn.id,
    cidrBlock,
    availabilityDomain: ad1,
    displayName: `test-${cidrBlock}`,
    freeformTags: { 'itinerant.dev/cluster': 'sim-1', 'itinerant.dev/node-group': 'test' },
    ...extra,
  });

  const available = (subnetId: string) =>
    waitFor(`subnet ${subnetId} AVAILABLE`, async () => (await vn.getSubnet({ subnetId })).subnet.lifecycleState === core.models.Subnet.LifecycleState.Available);

  it('serves the VCN with its default route table and security list', async () => {
    const { vcn } = await vn.getVcn({ vcnId: sim.vcn.id });
    expect(vcn).toMatchObject({ cidrBlock: '10.0.0.0/16', compartmentId: COMPARTMENT, lifecycleState: 'AVAILABLE' });
    expect(vcn.defaultRouteTableId).toMatch(/^ocid1\.routetable\./);
    expect(vcn.defaultSecurityListId).toMatch(/^ocid1\.securitylist\./);
    expect((await vn.listVcns({ compartmentId: COMPARTMENT })).items.map((v) => v.id)).toEqual([sim.vcn.id]);
  });

  it('creates a subnet PROVISIONING → AVAILABLE with the VCN defaults, once per opc-retry-token', async () => {
    const first = await vn.createSubnet({ createSubnetDetails: details('10.0.128.0/24'), opcRetryToken: 'subnet-token-1' });
    expect(first.subnet).toMatchObject({ lifecycleState: 'PROVISIONING', availabilityDomain: ad1, routeTableId: sim.vcn.defaultRouteTableId, securityListIds: [sim.vcn.defaultSecurityListId] });
    const again = await vn.createSubnet({ createSubnetDetails: details('10.0.128.0/24'), opcRetryToken: 'subnet-token-1' });
    expect(again.subnet.id).toBe(first.subnet.id);
    await expect(vn.createSubnet({ createSubnetDetails: details('10.0.129.0/24'), opcRetryToken: 'subnet-token-1' })).rejects.toMatchObject({ statusCode: 409, serviceCode: 'InvalidatedRetryToken' });
    await available(first.subnet.id);
    const listed = await vn.listSubnets({ compartmentId: COMPARTMENT, vcnId: sim.vcn.id });
    expect(listed.items.filter((s) => s.id === first.subnet.id)).toHaveLength(1);
    expect(listed.items.find((s) => s.id === first.subnet.id)?.freeformTags).toEqual({ 'itinerant.dev/cluster': 'sim-1', 'itinerant.dev/node-group': 'test' });
  });

  it.each([
    ['overlapping another subnet', '10.0.128.0/25', 400, 'InvalidParameter', /overlaps with the CIDR 10\.0\.128\.0\/24/],
    ['outside the VCN', '10.1.0.0/24', 400, 'InvalidParameter', /not within the CIDR blocks of the VCN/],
    ['with host bits set', '10.0.140.7/24', 400, 'InvalidParameter', /Invalid CIDR block/],
  ])('refuses a subnet %s', async (_, cidr, statusCode, serviceCode, message) => {
    await expect(vn.createSubnet({ createSubnetDetails: details(cidr) })).rejects.toMatchObject({ statusCode, serviceCode, message: expect.stringMatching(message) });
  });

  it('answers 404 NotAuthorizedOrNotFound for a compartment that does not exist', async () => {
    await expect(vn.listSubnets({ compartmentId: 'ocid1.compartment.oc1..nosuch' })).rejects.toMatchObject({ statusCode: 404, serviceCode: 'NotAuthorizedOrNotFound' });
  });

  it("refuses to delete a subnet that still has a VNIC (409 Conflict, OCI's message) and deletes it once the instance is TERMINATED", async () => {
    const { subnet } = await vn.createSubnet({ createSubnetDetails: details('10.0.130.0/24', { availabilityDomain: ad2 }) });
    await available(subnet.id);
    const launch = (ad: string) =>
      compute.launchInstance({
        launchInstanceDetails: {
          compartmentId: COMPARTMENT,
          availabilityDomain: ad,
          shape: 'VM.Standard.E4.Flex',
          displayName: `in-subnet-${ad.slice(-1)}`,
          sourceDetails: { sourceType: 'image', imageId: image } as core.models.InstanceSourceViaImageDetails,
          createVnicDetails: { subnetId: subnet.id },
        },
      });
    await expect(launch(ad1)).rejects.toMatchObject({ statusCode: 400, serviceCode: 'InvalidParameter', message: expect.stringContaining(`is in ${ad2}`) });
    const { instance } = await launch(ad2);
    const ip = sim.fleet.summary().find((i) => i.id === instance.id)?.privateIp;
    expect(contains(parseCidr('10.0.130.0/24')!, parseCidr(`${ip}/32`)!)).toBe(true);

    const refused = vn.deleteSubnet({ subnetId: subnet.id });
    await expect(refused).rejects.toMatchObject({
      statusCode: 409,
      serviceCode: 'Conflict',
      message: `The Subnet ${subnet.id} references the VNIC ${instance.id.replace('ocid1.instance.', 'ocid1.vnic.')}. You must remove the reference to proceed with this operation.`,
    });
    await compute.terminateInstance({ instanceId: instance.id });
    await expect(vn.deleteSubnet({ subnetId: subnet.id })).rejects.toMatchObject({ statusCode: 409, serviceCode: 'Conflict' }); // TERMINATING still holds its VNIC
    await waitFor('instance TERMINATED', async () => (await compute.getInstance({ instanceId: instance.id })).instance.lifecycleState === 'TERMINATED');
    await vn.deleteSubnet({ subnetId: subnet.id });
    expect((await vn.getSubnet({ subnetId: subnet.id })).subnet.lifecycleState).toBe('TERMINATING');
    await waitFor('subnet TERMINATED', async () => (await vn.getSubnet({ subnetId: subnet.id })).subnet.lifecycleState === 'TERMINATED');
    await vn.deleteSubnet({ subnetId: subnet.id }); // deleting a deleted subnet is a no-op
  });

  it('refuses unsigned requests (401 NotAuthenticated)', async () => {
    const res = await fetch(`${url}/20160918/subnets?compartmentId=${COMPARTMENT}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'NotAuthenticated' });
  });
});
