// Behaviour differences between the sim's Kubernetes API and a real kube-apiserver found by running the
// same requests on both test beds; each is fixed in the sim and pinned here. The same file runs against the real
// API server with ITINERANT_TESTBED=control-plane (npm run test:control-plane), which keeps the expectations honest.
import * as k8s from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExecutor } from '../../src/activities/pod-exec.js';
import { startTestbed, testbedFromEnv, type TestbedHandle as SimHandle } from '../../testbeds/index.js';

let sim: SimHandle;
let home: string;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'itinerant-parity-'));
  sim = await startTestbed({ home, backend: testbedFromEnv() });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.adminKubeconfigPath ?? sim.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});
afterAll(async () => {
  await sim?.stop();
  rmSync(home, { recursive: true, force: true });
});

const failure = (e: unknown) => {
  const err = e as k8s.ApiException<string>;
  const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { reason?: string; message?: string }) : undefined;
  return { code: err.code, reason: body?.reason, message: body?.message };
};

describe(`Kubernetes API parity (${testbedFromEnv()} test bed; reference kube-apiserver v1.36)`, () => {
  it('refuses a field selector on a field the resource does not index (400 "field label not supported"), like the real API', async () => {
    expect(await core.listPodForAllNamespaces({ fieldSelector: 'spec.nope=x' }).then(() => 'ok', failure)).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: 'field label not supported: spec.nope',
    });
    expect(await core.listNode({ fieldSelector: 'status.phase=Running' }).then(() => 'ok', failure)).toMatchObject({ code: 400 });
  });

  it('matches an unset boolean field as "false" (spec.unschedulable), like the real API, and still accepts the supported field labels', async () => {
    const nodes = (await core.listNode({ fieldSelector: 'spec.unschedulable=false' })).items;
    expect(nodes.length).toBeGreaterThan(0);
    const node = nodes[0]!.metadata!.name!;
    await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node},status.phase!=Succeeded,metadata.namespace!=kube-system` });
    expect((await core.listNode({ fieldSelector: `metadata.name=${node}` })).items).toHaveLength(1);
  });

  it("serves pods/exec over WebSocket to the worker's identity (client-node's Exec, as the activities call it): output, exit codes, a missing pod", async () => {
    const worker = new k8s.KubeConfig();
    worker.loadFromFile(sim.kubeconfigPath);
    const exec = kubeExecutor(worker, worker.makeApiClient(k8s.CoreV1Api), 'data', 'cassandra');
    const members = async () => {
      const r = await exec.run('cassandra-0', ['nodetool', 'status']).catch(() => undefined);
      return r?.exitCode === 0 ? r.stdout.split('\n').filter((l) => /^UN\s/.test(l)).length : 0;
    };
    const until = Date.now() + 60_000;
    while ((await members()) < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    expect(await members()).toBe(4);
    const bad = await exec.run('cassandra-0', ['nodetool', 'no-such-command']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr + bad.stdout).toMatch(/no-such-command/);
    await expect(exec.run('cassandra-9', ['nodetool', 'status'])).rejects.toThrow(/404/);
  });

  it('holds a rolling update at its surge while new pods are ready but not yet available (minReadySeconds), and refuses minReadySeconds >= progressDeadlineSeconds', async () => {
    const labels = { app: 'parity-hold' };
    const template = (image: string) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image }] } });
    const name = 'parity-hold';
    const statusOf = async () => (await apps.readNamespacedDeployment({ name, namespace: 'shop' })).status ?? {};
    const until = async (what: string, ok: (s: k8s.V1DeploymentStatus) => boolean) => {
      const end = Date.now() + 60_000;
      let s = await statusOf();
      while (!ok(s)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 200));
        s = await statusOf();
      }
      return s;
    };
    await apps.createNamespacedDeployment({
      namespace: 'shop',
      body: { metadata: { name }, spec: { replicas: 2, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: template('registry.example.com/parity:1') } },
    });
    try {
      await until('2 available', (s) => s.availableReplicas === 2 && s.updatedReplicas === 2);
      const refused = await apps.patchNamespacedDeployment({ name, namespace: 'shop', body: { spec: { minReadySeconds: 600 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)).then(() => 'ok', failure);
      expect(refused).toMatchObject({ code: 422, reason: 'Invalid' });
      expect((refused as { message: string }).message).toContain('spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds');
      await apps.patchNamespacedDeployment({ name, namespace: 'shop', body: { spec: { minReadySeconds: 5, template: template('registry.example.com/parity:2') } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      const held = await until('the surge pod ready', (s) => s.updatedReplicas === 1 && s.readyReplicas === 3);
      expect(held).toMatchObject({ replicas: 3, availableReplicas: 2 });
      await new Promise((r) => setTimeout(r, 2000));
      expect(await statusOf()).toMatchObject({ replicas: 3, updatedReplicas: 1, availableReplicas: 2 });
      await until('the rollout to finish after minReadySeconds', (s) => s.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2);
    } finally {
      await apps.deleteNamespacedDeployment({ name, namespace: 'shop' });
    }
  }, 90_000);

  it("holds the worker's identity to the RBAC rendered for the test bed's fleet and refuses the rest in kube-apiserver's words", async () => {
    const worker = new k8s.KubeConfig();
    worker.loadFromFile(sim.kubeconfigPath);
    const apps = worker.makeApiClient(k8s.AppsV1Api);
    expect((await apps.readNamespacedStatefulSet({ name: 'cassandra', namespace: 'data' })).metadata?.name).toBe('cassandra');
    const user = 'system:serviceaccount:itinerant:itinerant-worker';
    expect(await apps.listNamespacedDeployment({ namespace: 'shop' }).then(() => 'ok', failure)).toEqual({
      code: 403,
      reason: 'Forbidden',
      message: `deployments.apps is forbidden: User "${user}" cannot list resource "deployments" in API group "apps" in the namespace "shop"`,
    });
    expect(await worker.makeApiClient(k8s.CoreV1Api).readNamespacedSecret({ name: 'nope', namespace: 'kube-system' }).then(() => 'ok', failure)).toEqual({
      code: 403,
      reason: 'Forbidden',
      message: `secrets "nope" is forbidden: User "${user}" cannot get resource "secrets" in API group "" in the namespace "kube-system"`,
    });
    expect(await worker.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: 'shop' }).then(() => 'ok', failure)).toEqual({
      code: 403,
      reason: 'Forbidden',
      message: `namespaces "shop" is forbidden: User "${user}" cannot delete resource "namespaces" in API group "" in the namespace "shop"`, // a namespace is its own namespace (RequestInfo)
    });
  });

  it('lets the worker exec and delete claims only in the declared stateful-service namespace (data): 403 in kube-system and shop', async () => {
    const worker = new k8s.KubeConfig();
    worker.loadFromFile(sim.kubeconfigPath);
    const user = 'system:serviceaccount:itinerant:itinerant-worker';
    /** An exec attempt as client-node makes it (WebSocket): resolves 'opened', or the error the upgrade got. */
    const execAttempt = (namespace: string, pod: string, container: string) =>
      new k8s.Exec(worker).exec(namespace, pod, container, ['true'], null, null, null, false).then(
        (ws) => (ws.close(), 'opened'),
        (e: { message?: string }) => e.message ?? String(e),
      );
    const systemPod = (await core.listNamespacedPod({ namespace: 'kube-system' })).items.find((p) => p.spec?.nodeName);
    expect(systemPod, 'a kube-system pod (kube-proxy) to aim at').toBeDefined();
    expect(await execAttempt('kube-system', systemPod!.metadata!.name!, systemPod!.spec!.containers[0]!.name)).toMatch(/Unexpected server response: 403/);
    expect(await execAttempt('data', 'cassandra-0', 'cassandra')).toBe('opened');

    const claim = (namespace: string, name: string) =>
      core.createNamespacedPersistentVolumeClaim({
        namespace,
        body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      });
    await claim('shop', 'rbac-scratch');
    await claim('data', 'rbac-scratch');
    const workerCore = worker.makeApiClient(k8s.CoreV1Api);
    expect(await workerCore.deleteNamespacedPersistentVolumeClaim({ name: 'rbac-scratch', namespace: 'shop' }).then(() => 'ok', failure)).toEqual({
      code: 403,
      reason: 'Forbidden',
      message: `persistentvolumeclaims "rbac-scratch" is forbidden: User "${user}" cannot delete resource "persistentvolumeclaims" in API group "" in the namespace "shop"`,
    });
    await workerCore.deleteNamespacedPersistentVolumeClaim({ name: 'rbac-scratch', namespace: 'data' });
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: 'shop' })).items.map((c) => c.metadata?.name)).toContain('rbac-scratch');
  });
});
