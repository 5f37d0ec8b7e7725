// The composed simulated fleet: files written, fleet.yaml valid, seed, control API.
import { mkdtemp, readFile, rm, stat, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import * as common from 'oci-common';
import * as core from 'oci-core';
import * as k8s from '@kubernetes/client-node';
import { fleetConfigSchema } from '../../src/core/config.js';
import { LABEL_NODE_GROUP, METADATA_NODE_LABELS, TAG_CLUSTER, TAG_NODE_GROUP } from '../../src/core/labels.js';
import { startSim, type SimHandle } from '../../testbeds/sim/index.js';
import { controlApi } from '../helpers/sim-control.js';
import { waitFor as until } from '../helpers/wait.js';

describe('startSim', () => {
  let home: string;
  let sim: SimHandle;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'itinerant-sim-'));
    sim = await startSim({ home, bootDelayMs: 50, nodeReadyDelayMs: 50, terminateDelayMs: 50, kubeFaults: { podStartDelayMs: 0 } });
  });

  afterAll(async () => {
    await sim?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('writes kubeconfig, OCI config + key (0600), fleet.yaml and endpoints.json under <home>/sim', async () => {
    const dir = path.join(home, 'sim');
    expect(sim.kubeconfigPath).toBe(path.join(dir, 'kubeconfig'));
    expect(sim.ociConfigPath).toBe(path.join(dir, 'oci', 'config'));
    expect(sim.fleetConfigPath).toBe(path.join(dir, 'fleet.yaml'));

    const kc = YAML.parse(await readFile(sim.kubeconfigPath, 'utf8'));
    expect(kc['current-context']).toBe('sim-1');
    expect(kc.clusters[0]).toMatchObject({ name: 'sim-1', cluster: { server: sim.kubeUrl } });
    expect(kc.users[0].user.token).toMatch(/^[0-9a-f]{48}$/);
    for (const f of [sim.kubeconfigPath, sim.ociConfigPath, path.join(dir, 'oci', 'key.pem')]) {
      expect((await stat(f)).mode & 0o777).toBe(0o600);
    }
    expect(await readFile(sim.ociConfigPath, 'utf8')).toMatch(/^region=us-ashburn-1$/m);

    const endpoints = JSON.parse(await readFile(path.join(dir, 'endpoints.json'), 'utf8'));
    expect(endpoints).toMatchObject({ kubeUrl: sim.kubeUrl, kubeHttpUrl: sim.kubeHttpUrl, ociUrl: sim.ociUrl, controlUrl: sim.controlUrl, controlToken: sim.controlToken, pid: process.pid });
    expect(sim.controlToken).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect((await stat(path.join(dir, 'endpoints.json'))).mode & 0o777).toBe(0o600);
  });

  it('fleet.yaml is valid against fleetConfigSchema, with relative paths, the OCI endpoint overrides and the vault', async () => {
    const raw = YAML.parse(await readFile(sim.fleetConfigPath, 'utf8'));
    const parsed = fleetConfigSchema.safeParse(raw);
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    const cluster = parsed.data!.clusters[0]!;
    expect(cluster.name).toBe('sim-1');
    expect(cluster.compartmentId).toBe('ocid1.compartment.oc1..sim');
    expect(path.resolve(path.dirname(sim.fleetConfigPath), cluster.kubeconfig)).toBe(sim.kubeconfigPath);
    expect(path.resolve(path.dirname(sim.fleetConfigPath), cluster.oci.configFile)).toBe(sim.ociConfigPath);
    expect(cluster.oci.endpoints).toEqual({ compute: sim.ociUrl, identity: sim.ociUrl, vaults: sim.ociUrl, secrets: sim.ociUrl });
    expect(cluster.keyStore).toEqual({ vaultId: sim.oci.vault.vaultId, masterKeyId: sim.oci.vault.masterKeyId });
    expect(cluster.nodeGroups.map((g) => [g.name, g.size, g.maxUnavailable, g.shape])).toEqual([
      ['general', 4, 1, 'VM.Standard.E4.Flex'],
      ['batch', 4, 1, 'VM.Standard.E4.Flex'],
    ]);
    const ads = new Set(cluster.nodeGroups[0]!.placement.map((p) => p.availabilityDomain));
    expect(ads.size).toBe(3);
  });

  it('seeds RUNNING, back-dated instances with Ready nodes, visible through the OCI SDK and the kube API', async () => {
    const provider = new common.ConfigFileAuthenticationDetailsProvider(sim.ociConfigPath, 'DEFAULT');
    const compute = new core.ComputeClient({ authenticationDetailsProvider: provider }, { retryConfiguration: { terminationStrategy: new common.MaxAttemptsTerminationStrategy(1) } });
    compute.endpoint = sim.ociUrl;
    const res = await compute.listInstances({ compartmentId: sim.compartmentId, lifecycleState: core.models.Instance.LifecycleState.Running });
    expect(res.items).toHaveLength(9);
    const general = res.items.filter((i) => i.freeformTags?.[TAG_NODE_GROUP] === 'general');
    expect(general).toHaveLength(4);
    expect(general.every((i) => i.freeformTags?.[TAG_CLUSTER] === 'sim-1')).toBe(true);
    const ages = new Set(general.map((i) => String(i.timeCreated)));
    expect(ages.size).toBe(4);
    const oldest = Math.min(...res.items.map((i) => Date.parse(String(i.timeCreated))));
    expect(Date.now() - oldest).toBeGreaterThan(30 * 86_400_000);
    for (const n of [...sim.seeded!.nodes.general!, ...sim.seeded!.nodes.batch!, sim.seeded!.controlPlaneNode]) expect(sim.kube.cluster.hasNode(n)).toBe(true);

    // The real Kubernetes client, from the written kubeconfig (HTTPS + bearer token).
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const coreApi = kc.makeApiClient(k8s.CoreV1Api);
    const nodes = await coreApi.listNode();
    expect(nodes.items).toHaveLength(9);
    expect(nodes.items.filter((n) => n.metadata?.labels?.[LABEL_NODE_GROUP] === 'batch')).toHaveLength(4);
    expect(nodes.items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
    const cp = nodes.items.find((n) => n.metadata?.name === sim.seeded!.controlPlaneNode)!;
    expect(cp.spec?.taints).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
    expect(cp.metadata?.labels?.['topology.kubernetes.io/zone']).toBe('US-ASHBURN-AD-1');
    const oldestNode = Math.min(...nodes.items.map((n) => new Date(n.metadata!.creationTimestamp!).getTime()));
    expect(Date.now() - oldestNode).toBeGreaterThan(30 * 86_400_000);
    const mirrors = await coreApi.listNamespacedPod({ namespace: 'kube-system' });
    expect(mirrors.items.filter((p) => p.metadata?.annotations?.['kubernetes.io/config.mirror']).map((p) => p.spec?.nodeName).sort()).toEqual(
      nodes.items.map((n) => n.metadata!.name).sort(),
    );
    // The kubeconfig is the worker's: RBAC holds it to what is rendered for fleet.yaml, word for word as kube-apiserver says it.
    const refused = await kc.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: 'shop' }).then(() => undefined, (e: k8s.ApiException<string>) => e);
    expect(refused?.code).toBe(403);
    expect(JSON.parse(refused!.body).message).toBe(
      'deployments.apps is forbidden: User "system:serviceaccount:itinerant:itinerant-worker" cannot list resource "deployments" in API group "apps" in the namespace "shop"',
    );
    const admin = new k8s.KubeConfig();
    admin.loadFromFile(sim.adminKubeconfigPath);
    const deployments = await admin.makeApiClient(k8s.AppsV1Api).listNamespacedDeployment({ namespace: 'shop' });
    expect(deployments.items.map((d) => [d.metadata?.name, d.spec?.replicas]).sort()).toEqual([['api', 3], ['web', 4], ['worker', 2]]);
    const pdbs = await admin.makeApiClient(k8s.PolicyV1Api).listNamespacedPodDisruptionBudget({ namespace: 'shop' });
    expect(pdbs.items.map((p) => p.metadata?.name).sort()).toEqual(['api', 'web']);
    expect((await fetch(`${sim.kubeHttpUrl}/api/v1/nodes`)).status).toBe(401);
  });

  it('a launched instance becomes a node with its kube-proxy mirror pod; termination removes it', async () => {
    const provider = new common.ConfigFileAuthenticationDetailsProvider(sim.ociConfigPath, 'DEFAULT');
    const compute = new core.ComputeClient({ authenticationDetailsProvider: provider }, { retryConfiguration: { terminationStrategy: new common.MaxAttemptsTerminationStrategy(1) } });
    compute.endpoint = sim.ociUrl;
    const group = sim.seeded!.nodeGroups[0]!;
    const p = group.placement[0]!;
    const { instance } = await compute.launchInstance({
      opcRetryToken: 'sim-test-launch-1',
      launchInstanceDetails: {
        compartmentId: sim.compartmentId,
        availabilityDomain: p.availabilityDomain,
        faultDomain: p.faultDomain,
        displayName: 'sim-1-general-new1',
        shape: group.shape,
        sourceDetails: { sourceType: 'image', imageId: sim.seeded!.images.prodNew } as core.models.InstanceSourceViaImageDetails,
        createVnicDetails: { subnetId: p.subnetId },
        freeformTags: { [TAG_CLUSTER]: 'sim-1', [TAG_NODE_GROUP]: group.name },
        metadata: { [METADATA_NODE_LABELS]: JSON.stringify(group.labels) },
      },
    });
    await until('node', () => sim.kube.cluster.hasNode('sim-1-general-new1'));
    const auth = { authorization: `Bearer ${YAML.parse(await readFile(sim.kubeconfigPath, 'utf8')).users[0].user.token}` };
    // as the worker's drain sees it: the pods on the node, listed across namespaces (it may not get a kube-system pod by name)
    const onNode = await fetch(`${sim.kubeHttpUrl}/api/v1/pods?fieldSelector=spec.nodeName%3Dsim-1-general-new1`, { headers: auth });
    expect(onNode.status).toBe(200);
    const pods = ((await onNode.json()) as { items: { metadata: { namespace: string; name: string } }[] }).items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(pods).toContain('kube-system/kube-proxy-sim-1-general-new1');
    await compute.terminateInstance({ instanceId: instance.id });
    await until('node removed', () => !sim.kube.cluster.hasNode('sim-1-general-new1'));
    const counters = (await (await controlApi(sim)('/sim/counters')).json()) as { oci: { launches: number; terminations: number } };
    expect(counters.oci).toMatchObject({ launches: 1, terminations: 1 });
  });

  it('control API: state, counters, timeline, and validated fault patches', async () => {
    const control = controlApi(sim);
    const state = (await (await control('/sim/state')).json()) as { instances: unknown[]; nodes: { name: string }[] };
    expect(state.instances.length).toBeGreaterThanOrEqual(9);
    expect(state.nodes.map((n) => n.name)).toContain('sim-1-control-plane-1');

    const put = (body: unknown) => control('/sim/faults', { method: 'PUT', body });
    const ok = await put({ oci: { errorRate: 0.25, outOfCapacity: 2 }, kube: { blockEvictions: true } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ oci: { errorRate: 0.25, outOfCapacity: 2, errorStatus: 500 }, kube: { blockEvictions: true } });
    expect(sim.oci.faults.outOfCapacity).toBe(2);
    expect(sim.kube.faults.blockEvictions).toBe(true);

    const bad = await put({ oci: { errorRate: 2, errorStatus: 404 } });
    expect(bad.status).toBe(400);
    const msg = ((await bad.json()) as { error: string }).error;
    expect(msg).toContain('oci.errorRate');
    expect(msg).toContain('errorStatus must be 429 or 500');
    expect((await put({ oci: { nope: 1 } })).status).toBe(400);
    expect((await put('{not json')).status).toBe(400);
    expect(sim.oci.faults.errorRate).toBe(0.25); // a refused patch changes nothing

    expect((await put({ oci: { errorRate: 0, outOfCapacity: 0 }, kube: { blockEvictions: false } })).status).toBe(200);
    const faults = (await (await control('/sim/faults')).json()) as { oci: { errorRate: number } };
    expect(faults.oci.errorRate).toBe(0);

    const timeline = await control('/sim/timeline?group=general');
    expect(timeline.status).toBe(200);
    expect(Array.isArray(await timeline.json())).toBe(true);
    expect((await control('/sim/nope')).status).toBe(404);
  });

  it('control API: a token on every request (401 without, or with a wrong one), JSON bodies only (415), and a refused request changes nothing', async () => {
    const url = (p: string) => `${sim.controlUrl}${p}`;
    const patch = JSON.stringify({ oci: { outOfCapacity: 7 } });
    const json = { 'content-type': 'application/json' };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    const noToken = await fetch(url('/sim/state'));
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await noToken.json()) as { error: string }).error).toMatch(/authorization: Bearer <token>.*endpoints\.json/);
    expect((await fetch(url('/sim/nope'))).status).toBe(401); // nothing, not even which paths exist, without the token
    expect((await fetch(url('/sim/state'), { headers: bearer(`${sim.controlToken.slice(0, -1)}x`) })).status).toBe(401);
    expect((await fetch(url('/sim/state'), { headers: { authorization: sim.controlToken } })).status).toBe(401); // not "Bearer <token>"
    expect((await fetch(url('/sim/faults'), { method: 'PUT', headers: { ...json, ...bearer('wrong') }, body: patch })).status).toBe(401);

    // With the token, a body must be JSON: none of these may be taken as a fault patch.
    const noType = await fetch(url('/sim/faults'), { method: 'PUT', headers: bearer(sim.controlToken), body: new Blob([patch]) });
    expect(noType.status).toBe(415);
    expect(((await noType.json()) as { error: string }).error).toMatch(/content-type: application\/json/);
    const textPlain = await fetch(url('/sim/faults'), { method: 'PUT', headers: bearer(sim.controlToken), body: patch }); // fetch says text/plain
    expect(textPlain.status).toBe(415);
    const emptyPost = await fetch(url('/sim/images'), { method: 'POST', headers: bearer(sim.controlToken) });
    expect(emptyPost.status).toBe(415);

    // What a web page can send to a loopback port without a preflight: a form POST, no authorization header.
    const form = await fetch(url('/sim/images'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: 'displayName=evil&channel=prod',
    });
    expect(form.status).toBe(401);
    expect(form.headers.get('access-control-allow-origin')).toBeNull();
    // Even holding the token, a form body is not JSON.
    const formWithToken = await fetch(url('/sim/images'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer(sim.controlToken) },
      body: 'displayName=evil&channel=prod',
    });
    expect(formWithToken.status).toBe(415);

    expect(sim.oci.faults.outOfCapacity).toBe(0);
    expect([...sim.oci.fleet.images.values()].map((i) => i.displayName)).not.toContain('evil');
    // A charset parameter is still JSON.
    const ok = await fetch(url('/sim/faults'), { method: 'PUT', headers: { 'content-type': 'application/json; charset=utf-8', ...bearer(sim.controlToken) }, body: JSON.stringify({ oci: { outOfCapacity: 0 } }) });
    expect(ok.status).toBe(200);
  });

  it('control API: the token is random per start', async () => {
    const other = await startSim({ home: path.join(home, 'token'), seed: false });
    try {
      expect(other.controlToken).not.toBe(sim.controlToken);
      expect((await fetch(`${other.controlUrl}/sim/state`, { headers: { authorization: `Bearer ${sim.controlToken}` } })).status).toBe(401);
      expect((await controlApi(other)('/sim/state')).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it('latency and error faults on both APIs: set through the control API, felt by the real clients, errors counted', async () => {
    const provider = new common.ConfigFileAuthenticationDetailsProvider(sim.ociConfigPath, 'DEFAULT');
    const compute = new core.ComputeClient({ authenticationDetailsProvider: provider }, { retryConfiguration: { terminationStrategy: new common.MaxAttemptsTerminationStrategy(1) } });
    compute.endpoint = sim.ociUrl;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const kube = kc.makeApiClient(k8s.CoreV1Api);
    const timed = async (f: () => Promise<unknown>) => {
      const t = Date.now();
      await f();
      return Date.now() - t;
    };
    const listInstances = () => compute.listInstances({ compartmentId: sim.compartmentId });
    const listNodes = () => kube.listNode();
    const control = controlApi(sim);
    const put = (body: unknown) => control('/sim/faults', { method: 'PUT', body });

    expect((await put({ oci: { latencyMs: -1 } })).status).toBe(400);
    const set = await put({ oci: { latencyMs: 300, latencyJitterMs: 100 }, kube: { latencyMs: 300, latencyJitterMs: 100 } });
    expect(await set.json()).toMatchObject({ oci: { latencyMs: 300, latencyJitterMs: 100 }, kube: { latencyMs: 300, latencyJitterMs: 100 } });
    try {
      for (const call of [listInstances, listNodes]) {
        const ms = await timed(call);
        expect(ms).toBeGreaterThanOrEqual(295);
        expect(ms).toBeLessThan(2000);
      }
    } finally {
      await put({ oci: { latencyMs: 0, latencyJitterMs: 0 }, kube: { latencyMs: 0, latencyJitterMs: 0 } });
    }
    expect(await timed(listNodes)).toBeLessThan(250);

    const before = { oci: sim.oci.counters().injectedErrors, kube: sim.kube.counters().injectedErrors };
    sim.oci.faults.errorRate = 1;
    sim.kube.faults.errorRate = 1;
    try {
      await expect(listInstances()).rejects.toMatchObject({ statusCode: 500 });
      await expect(listNodes()).rejects.toMatchObject({ code: 500 });
    } finally {
      sim.oci.faults.errorRate = 0;
      sim.kube.faults.errorRate = 0;
    }
    expect(sim.oci.counters().injectedErrors - before.oci).toBe(1);
    expect(sim.kube.counters().injectedErrors - before.kube).toBe(1);
  });

  it('stop() removes endpoints.json and closes the listeners', async () => {
    const endpoints = path.join(home, 'sim', 'endpoints.json');
    const other = await startSim({ home: path.join(home, 'second'), seed: false });
    const ep = path.join(home, 'second', 'sim', 'endpoints.json');
    await access(ep);
    const raw = YAML.parse(await readFile(other.fleetConfigPath, 'utf8'));
    expect(fleetConfigSchema.safeParse(raw).success).toBe(true);
    await other.stop();
    await expect(access(ep)).rejects.toThrow();
    await expect(fetch(`${other.controlUrl}/sim/state`)).rejects.toThrow();
    await access(endpoints); // the first sim is untouched
  });
});
