// The OCI activities, run in a MockActivityEnvironment with the real OCI SDK (request signatures and
// all) against the simulated tenancy over HTTP.
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { TAG_CLUSTER, TAG_IMAGE_CHANNEL, TAG_NODE_GROUP, TAG_REPLACES } from '../../src/core/labels.js';
import { loadFleetConfig } from '../../src/config/fleet-config.js';
import { generateOciCredentials, writeOciConfig, type OciCredentials } from '../../testbeds/sim/oci/index.js';
import { expectNonRetryable, failActivity, launchRequestFor, runActivity, startFixture, waitFor, type Fixture } from './helpers.js';

let fx: Fixture;

beforeAll(async () => {
  // The OCI SDK console.warns every failed request (404s included): keep the output readable.
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  fx = await startFixture();
});

afterAll(async () => {
  await fx?.stop();
  vi.restoreAllMocks();
});

const DAY = 86_400_000;
const instancesNamed = (name: string) => fx.sim.oci.fleet.summary().filter((i) => i.displayName === name);
const instanceOf = (name: string) => fx.sim.oci.fleet.summary().find((i) => i.displayName === name)!;

const launchRequest = (displayName: string, retryToken: string, replaces?: string) =>
  launchRequestFor(fx, displayName, retryToken, { placement: 1, ...(replaces ? { replaces } : {}) });

/** Activities built from a copy of fleet.yaml whose OCI config uses other credentials. */
async function activitiesWithCredentials(dirName: string, creds: OciCredentials) {
  const { configPath } = await writeOciConfig(path.join(fx.home, dirName), creds, fx.sim.oci.region);
  const raw = YAML.parse(await readFile(fx.sim.fleetConfigPath, 'utf8')) as {
    clusters: { kubeconfig: string; oci: { configFile: string } }[];
  };
  raw.clusters[0]!.kubeconfig = fx.sim.kubeconfigPath;
  raw.clusters[0]!.oci.configFile = configPath;
  const fleetPath = path.join(fx.home, `${dirName}.fleet.yaml`);
  await writeFile(fleetPath, YAML.stringify(raw));
  return createActivities({ fleet: loadFleetConfig(fleetPath), isWorkflowRunning: async () => false });
}

describe('OCI activities over HTTP against the simulated tenancy', () => {
  it('resolveImage picks the newest available image of the channel, finds an image by id, and refuses unknown ones (ImageNotFound)', async () => {
    const { images } = fx.sim.seeded!;
    const base = { cluster: fx.cluster, compartmentId: fx.sim.compartmentId };
    const prod = await runActivity(fx.acts.resolveImage, [{ ...base, image: { channel: 'prod' } }]);
    expect(prod.result.imageId).toBe(images.prodNew);
    expect(prod.result.displayName).toBe(fx.sim.oci.fleet.getImage(images.prodNew).displayName);
    expect((await runActivity(fx.acts.resolveImage, [{ ...base, image: { channel: 'dev' } }])).result.imageId).toBe(images.dev);

    // A newer image on another channel does not count; a newer one on the channel does.
    const now = Date.now();
    const canaryOld = fx.sim.oci.fleet.addImage({ displayName: 'canary-old', freeformTags: { [TAG_IMAGE_CHANNEL]: 'canary' }, timeCreated: new Date(now - 3 * DAY) });
    const canaryNew = fx.sim.oci.fleet.addImage({ displayName: 'canary-new', freeformTags: { [TAG_IMAGE_CHANNEL]: 'canary' }, timeCreated: new Date(now - 1 * DAY) });
    fx.sim.oci.fleet.addImage({ displayName: 'other-newest', freeformTags: { [TAG_IMAGE_CHANNEL]: 'other' }, timeCreated: new Date(now) });
    const canaryMid = fx.sim.oci.fleet.addImage({ displayName: 'canary-disabled', freeformTags: { [TAG_IMAGE_CHANNEL]: 'canary' }, timeCreated: new Date(now - 0.5 * DAY) });
    canaryMid.lifecycleState = 'DISABLED';
    const canary = await runActivity(fx.acts.resolveImage, [{ ...base, image: { channel: 'canary' } }]);
    expect(canary.result).toEqual({ imageId: canaryNew.id, displayName: 'canary-new' });
    expect(canary.result.imageId).not.toBe(canaryOld.id);

    const byId = await runActivity(fx.acts.resolveImage, [{ ...base, image: { id: images.prodOld } }]);
    expect(byId.result).toEqual({ imageId: images.prodOld, displayName: fx.sim.oci.fleet.getImage(images.prodOld).displayName });

    const unknownId = await failActivity(fx.acts.resolveImage, [{ ...base, image: { id: 'ocid1.image.oc1.iad.simdoesnotexist' } }]);
    expect(expectNonRetryable(unknownId.error, 'ImageNotFound').message).toContain('ocid1.image.oc1.iad.simdoesnotexist');
    const unknownChannel = await failActivity(fx.acts.resolveImage, [{ ...base, image: { channel: 'nightly' } }]);
    expectNonRetryable(unknownChannel.error, 'ImageNotFound');
  });

  it('resolveImage finds the channel\'s newest image beyond the first page of ListImages', async () => {
    // More than a page (100) of newer images on another channel push the prod images to page 2.
    const now = Date.now();
    for (let i = 0; i < 120; i++) {
      fx.sim.oci.fleet.addImage({ displayName: `flood-${i}`, freeformTags: { [TAG_IMAGE_CHANNEL]: 'flood' }, timeCreated: new Date(now + 1_000 + i) });
    }
    const prod = await runActivity(fx.acts.resolveImage, [{ cluster: fx.cluster, compartmentId: fx.sim.compartmentId, image: { channel: 'prod' } }]);
    expect(prod.result.imageId).toBe(fx.sim.seeded!.images.prodNew);
    const flood = await runActivity(fx.acts.resolveImage, [{ cluster: fx.cluster, compartmentId: fx.sim.compartmentId, image: { channel: 'flood' } }]);
    expect(flood.result.displayName).toBe('flood-119');
  });

  it('describeInstance returns the facts of an instance, undefined for an unknown one', async () => {
    const name = fx.sim.seeded!.nodes.batch![0]!;
    const seeded = instanceOf(name);
    const { result } = await runActivity(fx.acts.describeInstance, [{ cluster: fx.cluster, instanceId: seeded.id }]);
    expect(result).toMatchObject({
      id: seeded.id,
      displayName: name,
      lifecycleState: 'RUNNING',
      compartmentId: fx.sim.compartmentId,
      availabilityDomain: seeded.availabilityDomain,
      faultDomain: seeded.faultDomain,
      shape: seeded.shape,
      imageId: fx.sim.seeded!.images.prodOld,
      freeformTags: { [TAG_CLUSTER]: fx.cluster, [TAG_NODE_GROUP]: 'batch' },
    });
    const missing = await runActivity(fx.acts.describeInstance, [{ cluster: fx.cluster, instanceId: 'ocid1.instance.oc1.iad.simdoesnotexist' }]);
    expect(missing.result).toBeUndefined();
  });

  it('launchReplacement is idempotent: the same retry token and a second call give one instance, the second found by name and tag', async () => {
    const name = 'sim-1-general-idem-1';
    const req = launchRequest(name, 'token-idem-1');
    const before = fx.sim.oci.counters();

    const first = await runActivity(fx.acts.launchReplacement, [req]);
    expect(first.result.created).toBe(true);
    const second = await runActivity(fx.acts.launchReplacement, [req]);
    expect(second.result).toEqual({ instanceId: first.result.instanceId, created: false });

    const after = fx.sim.oci.counters();
    expect(after.launches - before.launches).toBe(1);
    expect(after.launchRequests - before.launchRequests).toBe(1); // the second call never had to launch
    expect(instancesNamed(name)).toHaveLength(1);
    const inst = instanceOf(name);
    expect(inst.id).toBe(first.result.instanceId);
    expect(inst.freeformTags).toEqual({ [TAG_CLUSTER]: fx.cluster, [TAG_NODE_GROUP]: 'general', [TAG_REPLACES]: req.replaces });
    expect(inst.imageId).toBe(req.imageId);
    expect(inst.faultDomain).toBe(req.faultDomain);

    // The node the instance boots into carries the group's labels.
    await waitFor('the replacement node to register', () => fx.sim.kube.cluster.hasNode(name));
    const node = fx.sim.kube.store.get('nodes', undefined, name)!;
    expect(node.metadata.labels).toMatchObject(req.nodeLabels);
    expect(node.spec.providerID).toBe(`oci://${first.result.instanceId}`);
  });

  it('launchReplacement calls racing with one retry token create one instance (OCI dedupes the token)', async () => {
    const name = 'sim-1-general-idem-2';
    const req = launchRequest(name, 'token-idem-2');
    const before = fx.sim.oci.counters();
    const [a, b] = await Promise.all([runActivity(fx.acts.launchReplacement, [req]), runActivity(fx.acts.launchReplacement, [req])]);
    expect(a.result.instanceId).toBe(b.result.instanceId);
    const after = fx.sim.oci.counters();
    expect(after.launches - before.launches).toBe(1);
    expect(instancesNamed(name)).toHaveLength(1);
    expect(after.launchRequestsByRetryToken['token-idem-2']?.instanceId).toBe(a.result.instanceId);
  });

  it('launchReplacement after a lost launch response finds the instance the lost call created', async () => {
    const name = 'sim-1-general-lost-1';
    const req = launchRequest(name, 'token-lost-1');
    fx.sim.oci.faults.lostLaunchResponses = 1;
    const before = fx.sim.oci.counters();
    let instanceId: string;
    try {
      // The SDK retries the 500 itself with the same opc-retry-token; if it did not, the activity's
      // failure must be retryable and the retry must find the instance.
      const attempt = await runActivity(fx.acts.launchReplacement, [req]).catch((e: unknown) => e);
      if (attempt instanceof Error) {
        expect(attempt instanceof ApplicationFailure && attempt.nonRetryable).toBe(false);
        const retry = await runActivity(fx.acts.launchReplacement, [req], { attempt: 2 });
        expect(retry.result.created).toBe(false);
        instanceId = retry.result.instanceId;
      } else {
        // The SDK's own retry replayed the retry token: OCI answered with the instance the lost call created.
        instanceId = (attempt as { result: { instanceId: string } }).result.instanceId;
        expect(fx.sim.oci.counters().launchReplays - before.launchReplays).toBe(1);
        expect(fx.sim.oci.counters().launchRequestsByRetryToken['token-lost-1']).toMatchObject({ requests: 2, instanceId });
      }
      const again = await runActivity(fx.acts.launchReplacement, [req], { attempt: 3 });
      expect(again.result).toEqual({ instanceId, created: false });
    } finally {
      fx.sim.oci.faults.lostLaunchResponses = 0;
    }
    const after = fx.sim.oci.counters();
    expect(after.lostLaunchResponses - before.lostLaunchResponses).toBe(1);
    expect(after.launches - before.launches).toBe(1);
    expect(instancesNamed(name).map((i) => i.id)).toEqual([instanceId]);
  });

  it('launchReplacement does not reuse a terminated instance of the same name: a new attempt launches anew', async () => {
    const name = 'sim-1-general-idem-1'; // launched and registered above
    const old = instanceOf(name);
    await runActivity(fx.acts.terminateInstance, [{ cluster: fx.cluster, instanceId: old.id }]);
    await waitFor('the old instance to be TERMINATED', () => instanceOf(name).lifecycleState === 'TERMINATED' || instancesNamed(name).every((i) => i.lifecycleState === 'TERMINATED'));
    const fresh = await runActivity(fx.acts.launchReplacement, [launchRequest(name, 'token-idem-1b')]);
    expect(fresh.result.created).toBe(true);
    expect(fresh.result.instanceId).not.toBe(old.id);
  });

  it('waitForInstanceRunning waits for RUNNING; terminateInstance is idempotent and answers NOT_FOUND for an unknown id', async () => {
    const name = 'sim-1-general-term-1';
    const { result: launched } = await runActivity(fx.acts.launchReplacement, [launchRequest(name, 'token-term-1')]);
    expect(instanceOf(name).lifecycleState).toBe('PROVISIONING');
    const { result: running, heartbeats } = await runActivity(fx.acts.waitForInstanceRunning, [
      { cluster: fx.cluster, instanceId: launched.instanceId, deadline: Date.now() + 10_000 },
    ]);
    expect(running).toEqual({ instanceId: launched.instanceId });
    expect(instanceOf(name).lifecycleState).toBe('RUNNING');
    expect(heartbeats[0]).toMatchObject({ state: 'PROVISIONING' });

    const before = fx.sim.oci.counters();
    const first = await runActivity(fx.acts.terminateInstance, [{ cluster: fx.cluster, instanceId: launched.instanceId }]);
    expect(first.result).toEqual({ lifecycleState: 'TERMINATING' });
    const second = await runActivity(fx.acts.terminateInstance, [{ cluster: fx.cluster, instanceId: launched.instanceId }]);
    expect(['TERMINATING', 'TERMINATED']).toContain(second.result.lifecycleState);
    await waitFor('TERMINATED', () => instanceOf(name).lifecycleState === 'TERMINATED');
    const third = await runActivity(fx.acts.terminateInstance, [{ cluster: fx.cluster, instanceId: launched.instanceId }]);
    expect(third.result).toEqual({ lifecycleState: 'TERMINATED' });
    expect(fx.sim.oci.counters().terminations - before.terminations).toBe(1);

    const unknown = await runActivity(fx.acts.terminateInstance, [{ cluster: fx.cluster, instanceId: 'ocid1.instance.oc1.iad.simdoesnotexist' }]);
    expect(unknown.result).toEqual({ lifecycleState: 'NOT_FOUND' });

    // Waiting for an instance that is going away fails at once, non-retryably.
    const gone = await failActivity(fx.acts.waitForInstanceRunning, [{ cluster: fx.cluster, instanceId: launched.instanceId, deadline: Date.now() + 10_000 }]);
    expect(expectNonRetryable(gone.error, 'ReplacementNotReady').message).toContain('TERMINATED');
  });

  it('refuses requests signed with a key the tenancy does not know: non-retryable OciApiRefused (401); unsigned requests get 401', async () => {
    const before = fx.sim.oci.counters();
    const seededId = instanceOf(fx.sim.seeded!.nodes.batch![1]!).id;

    // A freshly generated key (unknown tenancy/user/fingerprint).
    const stranger = await activitiesWithCredentials('oci-stranger', generateOciCredentials());
    const a = await failActivity(stranger.describeInstance, [{ cluster: fx.cluster, instanceId: seededId }]);
    const refusedA = expectNonRetryable(a.error, 'OciApiRefused');
    expect(refusedA.message).toContain('401');
    const images = await failActivity(stranger.resolveImage, [{ cluster: fx.cluster, compartmentId: fx.sim.compartmentId, image: { channel: 'prod' } }]);
    expect(expectNonRetryable(images.error, 'OciApiRefused').message).toContain('401');

    // The sim's own keyId, but signed with another private key: the signature does not verify.
    const forged = generateOciCredentials({ tenancy: fx.sim.oci.credentials.tenancy, user: fx.sim.oci.credentials.user });
    const impostor = await activitiesWithCredentials('oci-impostor', { ...forged, fingerprint: fx.sim.oci.credentials.fingerprint, keyId: fx.sim.oci.credentials.keyId });
    const b = await failActivity(impostor.launchReplacement, [launchRequest('sim-1-general-forged-1', 'token-forged-1')]);
    expect(expectNonRetryable(b.error, 'OciApiRefused').message).toContain('401');
    expect(instancesNamed('sim-1-general-forged-1')).toHaveLength(0);

    expect(fx.sim.oci.counters().authFailures - before.authFailures).toBe(3); // refused once each, never retried
    expect(fx.sim.oci.counters().launches).toBe(before.launches);

    const plain = await fetch(`${fx.sim.ociUrl}/20160918/instances/${seededId}`);
    expect(plain.status).toBe(401);
    expect(((await plain.json()) as { code: string }).code).toBe('NotAuthenticated');
    const plainList = await fetch(`${fx.sim.ociUrl}/20160918/instances?compartmentId=${encodeURIComponent(fx.sim.compartmentId)}`);
    expect(plainList.status).toBe(401);
  });

  // The SDK itself tries 3 times (1-2 s, then 2-3 s apart): each case takes ~4 s.
  it.each([500, 429] as const)('a transient OCI fault (%i) surfaces as a retryable error, not a non-retryable failure', async (status) => {
    const seededId = instanceOf(fx.sim.seeded!.nodes.batch![2]!).id;
    Object.assign(fx.sim.oci.faults, { errorRate: 1, errorStatus: status });
    const before = fx.sim.oci.counters();
    try {
      const { error } = await failActivity(fx.acts.describeInstance, [{ cluster: fx.cluster, instanceId: seededId }]);
      expect(error).toBeInstanceOf(Error);
      expect(error instanceof ApplicationFailure && error.nonRetryable).toBe(false);
      expect((error as { statusCode?: number }).statusCode).toBe(status);
      expect(fx.sim.oci.counters().injectedErrors - before.injectedErrors).toBe(3); // the SDK's own attempts
    } finally {
      Object.assign(fx.sim.oci.faults, { errorRate: 0, errorStatus: 500 });
    }
    // Once the fault clears, the same call works.
    expect((await runActivity(fx.acts.describeInstance, [{ cluster: fx.cluster, instanceId: seededId }])).result?.id).toBe(seededId);
  });
});
