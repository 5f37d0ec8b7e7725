// The simulated OCI API driven by the REAL OCI TypeScript SDK (oci-common / oci-core / oci-identity).
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as common from 'oci-common';
import * as core from 'oci-core';
import * as identity from 'oci-identity';
import { NO_RETRY as noRetry, startTestOciSim, type FakeCluster, type TestOciSim } from '../helpers/oci-sim.js';
import { generateOciCredentials, signRequest, type OciSim } from '../../testbeds/sim/oci/index.js';
import { TAG_IMAGE_CHANNEL, METADATA_NODE_LABELS, METADATA_NODE_TAINTS, LABEL_ZONE, LABEL_FAULT_DOMAIN, LABEL_INSTANCE_TYPE } from '../../src/core/labels.js';
import { waitFor as until } from '../helpers/wait.js';

const COMPARTMENT = 'ocid1.compartment.oc1..sim';

describe('simulated OCI API with the real OCI SDK', () => {
  let bed: TestOciSim;
  let dir: string;
  let sim: OciSim;
  let url: string;
  let configPath: string;
  let cluster: FakeCluster;
  let compute: core.ComputeClient;
  let ident: identity.IdentityClient;
  let imageProdOld: string;
  let imageProdNew: string;
  let imageDev: string;
  let ad1: string;

  beforeAll(async () => {
    bed = await startTestOciSim({ compartmentId: COMPARTMENT, faults: { bootDelayMs: 50 }, nodeReadyDelayMs: 50, terminateDelayMs: 50 });
    ({ dir, sim, url, configPath, cluster } = bed);
    const day = 86_400_000;
    imageProdOld = sim.fleet.addImage({ displayName: 'node-old', freeformTags: { [TAG_IMAGE_CHANNEL]: 'prod' }, timeCreated: new Date(Date.now() - 30 * day) }).id;
    imageProdNew = sim.fleet.addImage({ displayName: 'node-new', freeformTags: { [TAG_IMAGE_CHANNEL]: 'prod' }, timeCreated: new Date(Date.now() - 10 * day) }).id;
    imageDev = sim.fleet.addImage({ displayName: 'node-dev', freeformTags: { [TAG_IMAGE_CHANNEL]: 'dev' }, timeCreated: new Date(Date.now() - 1 * day) }).id;
    ad1 = sim.fleet.availabilityDomains[0]!.name;

    const { provider } = bed;
    compute = new core.ComputeClient({ authenticationDetailsProvider: provider }, { retryConfiguration: noRetry });
    compute.endpoint = url; // the SDK appends "/20160918"
    ident = new identity.IdentityClient({ authenticationDetailsProvider: provider }, { retryConfiguration: noRetry });
    ident.endpoint = url;
  });

  afterAll(async () => {
    await bed?.close();
  });

  function launchDetails(name: string, extra: Partial<core.models.LaunchInstanceDetails> = {}): core.models.LaunchInstanceDetails {
    return {
      compartmentId: COMPARTMENT,
      availabilityDomain: ad1,
      faultDomain: 'FAULT-DOMAIN-2',
      displayName: name,
      shape: 'VM.Standard.E4.Flex',
      shapeConfig: { ocpus: 2, memoryInGBs: 32 },
      sourceDetails: { sourceType: 'image', imageId: imageProdNew } as core.models.InstanceSourceViaImageDetails,
      createVnicDetails: { subnetId: 'ocid1.subnet.oc1.iad.simgeneral' },
      freeformTags: { 'itinerant.dev/cluster': 'sim-1', 'itinerant.dev/node-group': 'general' },
      metadata: {
        [METADATA_NODE_LABELS]: JSON.stringify({ 'itinerant.dev/node-group': 'general' }),
        [METADATA_NODE_TAINTS]: JSON.stringify([{ key: 'dedicated', value: 'general', effect: 'NoSchedule' }]),
      },
      ...extra,
    };
  }

  it('writes an OCI config file and key (mode 0600) that the SDK reads', async () => {
    const text = await readFile(configPath, 'utf8');
    expect(text).toContain('[DEFAULT]');
    expect(text).toContain(`fingerprint=${sim.credentials.fingerprint}`);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'oci', 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('serves availability and fault domains (Identity)', async () => {
    const ads = await ident.listAvailabilityDomains({ compartmentId: COMPARTMENT });
    expect(ads.items.map((a) => a.name)).toEqual(['SIM:US-ASHBURN-AD-1', 'SIM:US-ASHBURN-AD-2', 'SIM:US-ASHBURN-AD-3']);
    expect(ads.opcRequestId).toBeTruthy();
    const fds = await ident.listFaultDomains({ compartmentId: COMPARTMENT, availabilityDomain: ad1 });
    expect(fds.items.map((f) => f.name)).toEqual(['FAULT-DOMAIN-1', 'FAULT-DOMAIN-2', 'FAULT-DOMAIN-3']);
  });

  it('lists images newest first and by tag', async () => {
    const res = await compute.listImages({ compartmentId: COMPARTMENT, sortBy: core.requests.ListImagesRequest.SortBy.Timecreated, sortOrder: core.requests.ListImagesRequest.SortOrder.Desc });
    expect(res.items.map((i) => i.id)).toEqual([imageDev, imageProdNew, imageProdOld]);
    const prod = res.items.filter((i) => i.freeformTags?.[TAG_IMAGE_CHANNEL] === 'prod');
    expect(prod[0]?.id).toBe(imageProdNew);
    const byName = await compute.listImages({ compartmentId: COMPARTMENT, displayName: 'node-dev' });
    expect(byName.items).toHaveLength(1);
    const img = await compute.getImage({ imageId: imageProdOld });
    expect(img.image.displayName).toBe('node-old');
    expect(img.image.lifecycleState).toBe(core.models.Image.LifecycleState.Available);
  });

  it('UpdateImage re-tags an image (promotion dev → prod)', async () => {
    const extra = sim.fleet.addImage({ displayName: 'node-promote', freeformTags: { [TAG_IMAGE_CHANNEL]: 'dev', keep: 'me' }, timeCreated: new Date(Date.now() - 86_400_000 * 5) }).id;
    const res = await compute.updateImage({ imageId: extra, updateImageDetails: { freeformTags: { [TAG_IMAGE_CHANNEL]: 'prod', keep: 'me' } } });
    expect(res.image.freeformTags).toEqual({ [TAG_IMAGE_CHANNEL]: 'prod', keep: 'me' });
    expect((await compute.getImage({ imageId: extra })).image.freeformTags?.[TAG_IMAGE_CHANNEL]).toBe('prod');
    sim.fleet.images.delete(extra);
  });

  it('pages with limit / opc-next-page', async () => {
    const first = await compute.listImages({ compartmentId: COMPARTMENT, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.opcNextPage).toBeTruthy();
    const second = await compute.listImages({ compartmentId: COMPARTMENT, limit: 2, page: first.opcNextPage! });
    expect(second.items).toHaveLength(1);
    expect(second.opcNextPage).toBeUndefined();
  });

  it('launch is idempotent under the same opc-retry-token, boots to RUNNING, registers a Ready node; terminate removes it', async () => {
    const before = sim.counters().launches;
    const token = 'repave-sim-1-general-0-attempt';
    const a = await compute.launchInstance({ launchInstanceDetails: launchDetails('Sim-1-General-X1'), opcRetryToken: token });
    const b = await compute.launchInstance({ launchInstanceDetails: launchDetails('Sim-1-General-X1'), opcRetryToken: token });
    expect(b.instance.id).toBe(a.instance.id);
    expect(a.instance.lifecycleState).toBe(core.models.Instance.LifecycleState.Provisioning);
    expect(a.instance.sourceDetails).toMatchObject({ sourceType: 'image', imageId: imageProdNew });
    expect(a.instance.shapeConfig?.ocpus).toBe(2);
    expect(a.opcRequestId).toBeTruthy();
    expect(a.opcWorkRequestId).toMatch(/^ocid1\.coreservicesworkrequest\./); // the launch's work request (oci ... --wait-for-state follows it)
    expect(b.opcWorkRequestId).toBe(a.opcWorkRequestId); // the replay's is the same
    const counters = sim.counters();
    expect(counters.launches - before).toBe(1);
    expect(counters.launchRequestsByRetryToken[token]).toMatchObject({ requests: 2, instanceId: a.instance.id });

    // The same token for a different request is refused.
    await expect(compute.launchInstance({ launchInstanceDetails: launchDetails('other-name'), opcRetryToken: token })).rejects.toMatchObject({
      statusCode: 409,
      serviceCode: 'InvalidatedRetryToken',
    });

    const id = a.instance.id;
    await until('RUNNING', async () => (await compute.getInstance({ instanceId: id })).instance.lifecycleState === 'RUNNING' || undefined);
    const node = await until('node', () => cluster.nodes.get('sim-1-general-x1'));
    expect(node.providerID).toBe(`oci://${id}`);
    expect(node.labels).toMatchObject({
      'itinerant.dev/node-group': 'general',
      [LABEL_ZONE]: 'US-ASHBURN-AD-1',
      [LABEL_FAULT_DOMAIN]: 'FAULT-DOMAIN-2',
      [LABEL_INSTANCE_TYPE]: 'VM.Standard.E4.Flex',
    });
    expect(node.taints).toEqual([{ key: 'dedicated', value: 'general', effect: 'NoSchedule' }]);
    expect(node.ready).toBe(false);
    await until('node Ready', () => cluster.nodes.get('sim-1-general-x1')?.readyNow || undefined);

    const listed = await compute.listInstances({ compartmentId: COMPARTMENT, displayName: 'Sim-1-General-X1', lifecycleState: core.models.Instance.LifecycleState.Running });
    expect(listed.items.map((i) => i.id)).toEqual([id]);
    expect(typeof listed.items[0]!.timeCreated).toBe('string'); // typed Date by the SDK, but not revived

    await compute.terminateInstance({ instanceId: id });
    expect((await compute.getInstance({ instanceId: id })).instance.lifecycleState).toMatch(/^TERMINAT(ING|ED)$/); // the sim terminates in 50 ms: under load it may already be done
    await compute.terminateInstance({ instanceId: id }); // again: fine
    await until('TERMINATED', async () => (await compute.getInstance({ instanceId: id })).instance.lifecycleState === 'TERMINATED' || undefined);
    expect(cluster.hasNode('sim-1-general-x1')).toBe(false);
    await compute.terminateInstance({ instanceId: id }); // terminated: still fine
    expect(sim.counters().terminations).toBe(1);

    // A replay of the token after termination returns the (terminated) instance, never a new launch.
    const c = await compute.launchInstance({ launchInstanceDetails: launchDetails('Sim-1-General-X1'), opcRetryToken: token });
    expect(c.instance).toMatchObject({ id, lifecycleState: 'TERMINATED' });
    expect(sim.counters().launches - before).toBe(1);
  });

  it('answers 404 NotAuthorizedOrNotFound for unknown instances and 400 for bad launches', async () => {
    await expect(compute.getInstance({ instanceId: 'ocid1.instance.oc1.iad.nope' })).rejects.toMatchObject({ statusCode: 404, serviceCode: 'NotAuthorizedOrNotFound' });
    await expect(compute.terminateInstance({ instanceId: 'ocid1.instance.oc1.iad.nope' })).rejects.toMatchObject({ statusCode: 404, serviceCode: 'NotAuthorizedOrNotFound' });
    await expect(compute.launchInstance({ launchInstanceDetails: launchDetails('bad', { availabilityDomain: 'nowhere' }) })).rejects.toMatchObject({
      statusCode: 400,
      serviceCode: 'InvalidParameter',
    });
  });

  it('a node whose instance is never-ready registers but stays NotReady', async () => {
    sim.faults.neverReady = 1;
    const r = await compute.launchInstance({ launchInstanceDetails: launchDetails('never-ready-1') });
    await until('node', () => cluster.nodes.get('never-ready-1'));
    await new Promise((res) => setTimeout(res, 200));
    expect(cluster.nodes.get('never-ready-1')?.readyNow).toBe(false);
    expect(sim.faults.neverReady).toBe(0);
    await compute.terminateInstance({ instanceId: r.instance.id });
  });

  it('a node booted from a bad image gets Ready, then NotReady (badImages); other images are not affected', async () => {
    sim.faults.badImages = { [imageProdNew]: { notReadyAfterMs: 300 } };
    try {
      const r = await compute.launchInstance({ launchInstanceDetails: launchDetails('bad-image-1') });
      const good = await compute.launchInstance({
        launchInstanceDetails: launchDetails('good-image-1', { sourceDetails: { sourceType: 'image', imageId: imageProdOld } as core.models.InstanceSourceViaImageDetails }),
      });
      await until('Ready first', () => cluster.nodes.get('bad-image-1')?.readyNow || undefined);
      await until('NotReady after boot', () => (cluster.nodes.get('bad-image-1')?.readyNow === false ? true : undefined));
      expect(cluster.nodes.get('good-image-1')?.readyNow).toBe(true); // booted alongside, from another image
      for (const i of [r, good]) await compute.terminateInstance({ instanceId: i.instance.id });
    } finally {
      sim.faults.badImages = {};
    }
  });

  it('a second instance with the same node name never registers, and terminating it leaves the first node alone', async () => {
    const a = await compute.launchInstance({ launchInstanceDetails: launchDetails('dup-1') });
    await until('node', () => cluster.nodes.get('dup-1')?.readyNow || undefined);
    const b = await compute.launchInstance({ launchInstanceDetails: launchDetails('dup-1') });
    await until('b RUNNING', async () => (await compute.getInstance({ instanceId: b.instance.id })).instance.lifecycleState === 'RUNNING' || undefined);
    const sb = sim.fleet.summary().find((s) => s.id === b.instance.id)!;
    expect(sb.node).toMatchObject({ status: 'failed', error: expect.stringContaining(a.instance.id) });
    await compute.terminateInstance({ instanceId: b.instance.id });
    await until('b TERMINATED', async () => (await compute.getInstance({ instanceId: b.instance.id })).instance.lifecycleState === 'TERMINATED' || undefined);
    expect(cluster.nodes.get('dup-1')).toMatchObject({ providerID: `oci://${a.instance.id}`, readyNow: true });
    await compute.terminateInstance({ instanceId: a.instance.id });
    await until('node removed', () => !cluster.hasNode('dup-1') || undefined);
  });

  it('a group named by private IP: the node is named by the instance private IP, which the next instance in the subnet gets once it is TERMINATED', async () => {
    sim.fleet.nodeNaming.general = 'private-ip';
    try {
      const details = launchDetails('ip-1', { createVnicDetails: { subnetId: 'ocid1.subnet.oc1.iad.simipnamed' } });
      const a = await compute.launchInstance({ launchInstanceDetails: details });
      const ip = sim.fleet.nodeNameOf(a.instance.id);
      expect(ip).toMatch(/^10\.0\.\d+\.2$/);
      const node = await until('node', () => cluster.nodes.get(ip)?.readyNow && cluster.nodes.get(ip));
      expect(node).toMatchObject({ providerID: `oci://${a.instance.id}`, internalIP: ip });
      expect(cluster.hasNode('ip-1')).toBe(false);
      const b = await compute.launchInstance({ launchInstanceDetails: { ...details, displayName: 'ip-2' } });
      expect(sim.fleet.nodeNameOf(b.instance.id)).not.toBe(ip); // in use: the next free one

      await compute.terminateInstance({ instanceId: a.instance.id });
      await until('a TERMINATED', async () => (await compute.getInstance({ instanceId: a.instance.id })).instance.lifecycleState === 'TERMINATED' || undefined);
      await until('its node removed', () => !cluster.hasNode(ip) || undefined);
      const c = await compute.launchInstance({ launchInstanceDetails: { ...details, displayName: 'ip-3' } });
      expect(sim.fleet.nodeNameOf(c.instance.id)).toBe(ip); // the released IP, and so the name, is reused
      await until('the new node under the old name', () => cluster.nodes.get(ip)?.providerID === `oci://${c.instance.id}` || undefined);
      for (const i of [b, c]) await compute.terminateInstance({ instanceId: i.instance.id });
    } finally {
      delete sim.fleet.nodeNaming.general;
    }
  });

  it('refuses unsigned requests and requests signed with another key (401 NotAuthenticated)', async () => {
    const target = `${url}/20160918/instances?compartmentId=${encodeURIComponent(COMPARTMENT)}`;
    const unsigned = await fetch(target);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ code: 'NotAuthenticated' });
    expect(unsigned.headers.get('opc-request-id')).toBeTruthy();

    // Right keyId, wrong key.
    const other = generateOciCredentials();
    const forged = await fetch(target, { headers: signRequest({ method: 'GET', url: target, keyId: sim.credentials.keyId, privateKeyPem: other.privateKeyPem }) });
    expect(forged.status).toBe(401);

    // Correctly signed by hand: accepted.
    const good = await fetch(target, { headers: signRequest({ method: 'GET', url: target, keyId: sim.credentials.keyId, privateKeyPem: sim.credentials.privateKeyPem }) });
    expect(good.status).toBe(200);

    // Clock skew > 5 minutes.
    const old = await fetch(target, {
      headers: signRequest({ method: 'GET', url: target, keyId: sim.credentials.keyId, privateKeyPem: sim.credentials.privateKeyPem, date: new Date(Date.now() - 6 * 60_000) }),
    });
    expect(old.status).toBe(401);

    // Body tampered after signing.
    const launchUrl = `${url}/20160918/instances`;
    const body = JSON.stringify(launchDetails('tampered'));
    const headers = signRequest({ method: 'POST', url: launchUrl, body, keyId: sim.credentials.keyId, privateKeyPem: sim.credentials.privateKeyPem });
    delete headers.host;
    const tampered = await fetch(launchUrl, { method: 'POST', headers, body: body.replace('tampered', 'tampere2') });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { message: string }).message).toMatch(/x-content-sha256/);

    // Through the SDK with a provider holding another key.
    const provider = new common.SimpleAuthenticationDetailsProvider(other.tenancy, other.user, other.fingerprint, other.privateKeyPem, null, common.Region.US_ASHBURN_1);
    const intruder = new core.ComputeClient({ authenticationDetailsProvider: provider }, { retryConfiguration: noRetry });
    intruder.endpoint = url;
    await expect(intruder.listInstances({ compartmentId: COMPARTMENT })).rejects.toMatchObject({ statusCode: 401, serviceCode: 'NotAuthenticated' });
  });

  it('injects 429 / 500 errors and out-of-capacity', async () => {
    try {
      sim.faults.errorRate = 1;
      sim.faults.errorStatus = 429;
      await expect(compute.listInstances({ compartmentId: COMPARTMENT })).rejects.toMatchObject({ statusCode: 429, serviceCode: 'TooManyRequests' });
      sim.faults.errorStatus = 500;
      await expect(compute.getImage({ imageId: imageDev })).rejects.toMatchObject({ statusCode: 500, serviceCode: 'InternalServerError' });
    } finally {
      sim.faults.errorRate = 0;
    }
    sim.faults.outOfCapacity = 1;
    const before = sim.counters().launches;
    await expect(compute.launchInstance({ launchInstanceDetails: launchDetails('capacity-1'), opcRetryToken: 'cap-1' })).rejects.toMatchObject({
      statusCode: 500,
      serviceCode: 'InternalError',
      message: expect.stringContaining('Out of host capacity'),
    });
    // The refusal did not consume the token: the retry launches.
    const ok = await compute.launchInstance({ launchInstanceDetails: launchDetails('capacity-1'), opcRetryToken: 'cap-1' });
    expect(ok.instance.lifecycleState).toBe('PROVISIONING');
    expect(sim.counters()).toMatchObject({ launches: before + 1, outOfCapacityRefusals: 1 });
    expect(sim.counters().launchRequestsByRetryToken['cap-1']).toMatchObject({ requests: 2, instanceId: ok.instance.id });
    await compute.terminateInstance({ instanceId: ok.instance.id });
  });

  it('a lost launch response is recovered by retrying with the same token', async () => {
    sim.faults.lostLaunchResponses = 1;
    const before = sim.counters().launches;
    await expect(compute.launchInstance({ launchInstanceDetails: launchDetails('lost-1'), opcRetryToken: 'lost-1' })).rejects.toMatchObject({ statusCode: 500 });
    const again = await compute.launchInstance({ launchInstanceDetails: launchDetails('lost-1'), opcRetryToken: 'lost-1' });
    expect(again.instance.displayName).toBe('lost-1');
    expect(sim.counters().launches).toBe(before + 1);
    await compute.terminateInstance({ instanceId: again.instance.id });
  });

  it("the SDK's default retry (no retryConfiguration) retries 429 on GetImage by itself", async () => {
    const provider = new common.ConfigFileAuthenticationDetailsProvider(configPath, 'DEFAULT');
    const defaults = new core.ComputeClient({ authenticationDetailsProvider: provider });
    defaults.endpoint = url;
    sim.faults.errorRate = 1;
    sim.faults.errorStatus = 429;
    const injectedBefore = sim.counters().injectedErrors;
    setTimeout(() => (sim.faults.errorRate = 0), 300);
    const res = await defaults.getImage({ imageId: imageDev });
    expect(res.image.id).toBe(imageDev);
    expect(sim.counters().injectedErrors).toBeGreaterThan(injectedBefore);
  });
});
