// The worker's identity on a real API server: the ServiceAccount itinerant/itinerant-worker bound by the RBAC
// `itinerant rbac render` renders for the test beds' fleet (statefulNamespaces: data) can do exactly what the
// activities do, exec and volume release only in the declared namespace, and nothing else.
// Runs with ITINERANT_TESTBED=control-plane (npm run test:control-plane); needs the built control plane.
import * as k8s from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../../src/config/home.js';
import { TEMPORAL_CONNECTION_VARIABLES } from '../../src/config/temporal-connection.js';
import { startControlPlane, type ControlPlane } from '../../testbeds/control-plane/control-plane.js';
import { testbedFromEnv } from '../../testbeds/index.js';

const enabled = testbedFromEnv() === 'control-plane';

describe.skipIf(!enabled)('worker RBAC on a real API server (rendered for statefulNamespaces: data)', () => {
  let cp: ControlPlane;
  let dir: string;
  let worker: k8s.KubeConfig;
  let admin: k8s.KubeConfig;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'itinerant-rbac-'));
    cp = await startControlPlane({ dir: join(dir, 'cp') });
    worker = new k8s.KubeConfig();
    worker.loadFromFile(cp.workerKubeconfigPath);
    admin = new k8s.KubeConfig();
    admin.loadFromFile(cp.adminKubeconfigPath);
    const core = admin.makeApiClient(k8s.CoreV1Api);
    await core.createNode({ body: { metadata: { name: 'rbac-node-1' } } });
    await core.createNamespacedSecret({ namespace: 'kube-system', body: { metadata: { name: 'top-secret' }, stringData: { k: 'v' } } });
    await core.createNamespacedSecret({ namespace: 'itinerant', body: { metadata: { name: 'own-secret' }, stringData: { k: 'v' } } });
    // a pod to aim exec at in each namespace (unscheduled: exec is authorized before the pod is looked at)
    for (const namespace of ['kube-system', 'data']) {
      await core.createNamespacedPod({ namespace, body: { metadata: { name: 'exec-target' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } });
    }
  });
  afterAll(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function can(verb: string, resource: string, opts: { group?: string; subresource?: string; namespace?: string } = {}): Promise<boolean> {
    const authz = worker.makeApiClient(k8s.AuthorizationV1Api);
    const r = await authz.createSelfSubjectAccessReview({
      body: {
        spec: {
          resourceAttributes: {
            verb,
            resource,
            group: opts.group ?? '',
            ...(opts.subresource ? { subresource: opts.subresource } : {}),
            ...(opts.namespace ? { namespace: opts.namespace } : {}),
          },
        },
      },
    });
    return r.status?.allowed === true;
  }

  const status = (e: unknown) => (e instanceof k8s.ApiException ? e.code : undefined);

  it('authenticates as the ServiceAccount itinerant/itinerant-worker with a bound token', async () => {
    const authn = worker.makeApiClient(k8s.AuthenticationV1Api);
    const review = await authn.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('system:serviceaccount:itinerant:itinerant-worker');
    expect(review.status?.userInfo?.groups).not.toContain('system:masters');
  });

  it('may do what the activities do', async () => {
    const allowed: [string, string, { group?: string; subresource?: string; namespace?: string }?][] = [
      ['get', 'nodes'],
      ['list', 'nodes'],
      ['patch', 'nodes'],
      ['delete', 'nodes'],
      ['list', 'pods'], // all namespaces, fieldSelector spec.nodeName
      ['get', 'pods', { namespace: 'data' }],
      ['delete', 'pods', { namespace: 'shop' }],
      ['create', 'pods', { subresource: 'eviction', namespace: 'shop' }],
      ['get', 'pods', { subresource: 'exec', namespace: 'data' }], // WebSocket exec (client-node) is a GET upgrade
      ['create', 'pods', { subresource: 'exec', namespace: 'data' }],
      ['delete', 'persistentvolumeclaims', { namespace: 'data' }],
      ['list', 'daemonsets', { group: 'apps' }],
      ['get', 'statefulsets', { group: 'apps', namespace: 'data' }],
      ['patch', 'statefulsets', { group: 'apps', namespace: 'data' }],
    ];
    const denied = [];
    for (const [verb, resource, opts] of allowed) if (!(await can(verb, resource, opts))) denied.push(`${verb} ${resource}${opts?.subresource ? '/' + opts.subresource : ''}`);
    expect(denied).toEqual([]);
    // and for real: list, read and cordon a node
    const core = worker.makeApiClient(k8s.CoreV1Api);
    expect((await core.listNode()).items.map((n) => n.metadata?.name)).toContain('rbac-node-1');
    await core.patchNode({ name: 'rbac-node-1', body: { spec: { unschedulable: true } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect((await core.readNode({ name: 'rbac-node-1' })).spec?.unschedulable).toBe(true);
    await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=rbac-node-1' });
  });

  it('may not get, create, delete or watch Secrets (only list and update them, for re-encryption), delete Namespaces, or do anything else', async () => {
    const core = worker.makeApiClient(k8s.CoreV1Api);
    expect(await core.readNamespacedSecret({ name: 'top-secret', namespace: 'kube-system' }).then(() => 200, status)).toBe(403);
    // the test beds' cluster has a keyStore: rotateKeys may rewrite every Secret (list, then update each as it is)
    expect(await core.listSecretForAllNamespaces().then(() => 200, status)).toBe(200);
    expect(await core.deleteNamespacedSecret({ name: 'top-secret', namespace: 'kube-system' }).then(() => 200, status)).toBe(403);
    expect(await core.readNamespacedSecret({ name: 'own-secret', namespace: 'itinerant' }).then(() => 200, status)).toBe(403);
    expect(await core.deleteNamespace({ name: 'kube-system' }).then(() => 200, status)).toBe(403);
    expect(await core.createNode({ body: { metadata: { name: 'rogue' } } }).then(() => 200, status)).toBe(403);
    const notAllowed: [string, string, { group?: string; subresource?: string; namespace?: string }?][] = [
      ['get', 'secrets', { namespace: 'kube-system' }],
      ['delete', 'secrets', { namespace: 'kube-system' }],
      ['create', 'secrets', { namespace: 'kube-system' }],
      ['delete', 'namespaces'],
      ['create', 'nodes'],
      ['update', 'nodes'],
      ['patch', 'nodes', { subresource: 'status' }],
      ['create', 'pods', { namespace: 'shop' }],
      ['update', 'pods', { namespace: 'shop' }],
      ['watch', 'secrets'],
      ['create', 'pods', { subresource: 'attach', namespace: 'data' }],
      ['get', 'configmaps', { namespace: 'kube-system' }],
      ['get', 'persistentvolumeclaims', { namespace: 'data' }],
      ['delete', 'persistentvolumes'],
      ['delete', 'daemonsets', { group: 'apps', namespace: 'kube-system' }],
      ['delete', 'deployments', { group: 'apps', namespace: 'shop' }],
      ['delete', 'statefulsets', { group: 'apps', namespace: 'data' }],
      ['update', 'statefulsets', { group: 'apps', subresource: 'scale', namespace: 'data' }],
      ['delete', 'poddisruptionbudgets', { group: 'policy', namespace: 'shop' }],
      ['create', 'clusterrolebindings', { group: 'rbac.authorization.k8s.io' }],
      ['escalate', 'clusterroles', { group: 'rbac.authorization.k8s.io' }],
      ['impersonate', 'users'],
      ['create', 'serviceaccounts', { subresource: 'token', namespace: 'itinerant' }],
      ['*', '*'],
    ];
    const granted = [];
    for (const [verb, resource, opts] of notAllowed) if (await can(verb, resource, opts)) granted.push(`${verb} ${resource}${opts?.subresource ? '/' + opts.subresource : ''}`);
    expect(granted).toEqual([]);
  });

  it('may exec, scale StatefulSets and release volumes only in the declared stateful-service namespace: never in kube-system', async () => {
    const stateful: [string, string, { group?: string; subresource?: string }][] = [
      ['get', 'pods', { subresource: 'exec' }],
      ['create', 'pods', { subresource: 'exec' }],
      ['get', 'pods', {}],
      ['delete', 'persistentvolumeclaims', {}],
      ['get', 'statefulsets', { group: 'apps' }],
      ['patch', 'statefulsets', { group: 'apps' }],
    ];
    const answers: Record<string, boolean[]> = {};
    for (const namespace of ['data', 'kube-system', 'shop', undefined]) {
      answers[namespace ?? '(all namespaces)'] = await Promise.all(stateful.map(([verb, resource, o]) => can(verb, resource, { ...o, ...(namespace ? { namespace } : {}) })));
    }
    expect(answers).toEqual({
      data: [true, true, true, true, true, true],
      'kube-system': [false, false, false, false, false, false],
      shop: [false, false, false, false, false, false],
      '(all namespaces)': [false, false, false, false, false, false],
    });

    // and for real, as client-node's WebSocket exec (the activities' transport) asks: 403 in kube-system; in data the
    // request is authorized and gets as far as the pod, which has no node to run on
    const execAttempt = (namespace: string) =>
      new k8s.Exec(worker).exec(namespace, 'exec-target', 'main', ['true'], null, null, null, false).then(
        (ws) => (ws.close(), 'opened'),
        (e: { message?: string }) => e.message ?? String(e),
      );
    expect(await execAttempt('kube-system')).toMatch(/Unexpected server response: 403/);
    expect(await execAttempt('data')).toMatch(/Unexpected server response: 400/);
  });

  it('refuses anonymous requests and unknown certificates (TLS, no anonymous auth)', async () => {
    const res = await fetch(`${cp.url}/api/v1/nodes`).catch((e: Error) => e);
    // Node's fetch does not trust the test bed's CA: the connection itself is refused, which is the point of TLS.
    expect(res).toBeInstanceOf(Error);
    const anon = new k8s.KubeConfig();
    anon.loadFromOptions({
      clusters: [{ name: 'c', server: cp.url, caData: Buffer.from(cp.adminTls.ca).toString('base64') }],
      users: [{ name: 'anon' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'anon' }],
      currentContext: 'c',
    });
    expect(await anon.makeApiClient(k8s.CoreV1Api).listNode().then(() => 200, status)).toBe(401);
  });

  it("the worker's Deployment manifests (deploy/kubernetes/worker.yaml) pass the API server's own validation, as the shipped ServiceAccount", async () => {
    const manifests = join(projectRoot(), 'deploy', 'kubernetes', 'worker.yaml');
    const apply = (file: string) =>
      spawnSync('kubectl', ['--kubeconfig', cp.adminKubeconfigPath, 'apply', '--dry-run=server', '--validate=strict', '-o', 'name', '-f', file], { encoding: 'utf8' });
    const ok = apply(manifests);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split('\n').sort()).toEqual(['configmap/itinerant-worker-config', 'deployment.apps/itinerant-worker', 'service/itinerant-worker-metrics']);
    // The server really validates: a misspelt field is refused.
    const typo = join(dir, 'worker-typo.yaml');
    writeFileSync(typo, readFileSync(manifests, 'utf8').replace('readinessProbe:', 'readinesProbe:'));
    const refused = apply(typo);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/readinesProbe/);
    // It runs as the ServiceAccount the rendered RBAC binds, and sets only variables the worker reads.
    const docs = parseAllDocuments(readFileSync(manifests, 'utf8')).map((d) => d.toJSON() as Record<string, any>);
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const rbacSa = parseAllDocuments(readFileSync(join(projectRoot(), 'deploy', 'rbac', 'worker.yaml'), 'utf8')).map((d) => d.toJSON() as Record<string, any>).find((d) => d?.kind === 'ServiceAccount')!;
    expect(deployment.spec.template.spec.serviceAccountName).toBe(rbacSa.metadata.name);
    expect(deployment.metadata.namespace).toBe(rbacSa.metadata.namespace);
    const config = docs.find((d) => d.kind === 'ConfigMap')!;
    const variables = [...Object.keys(config.data).filter((k) => /^[A-Z_]+$/.test(k)), ...deployment.spec.template.spec.containers[0].env.map((e: { name: string }) => e.name)];
    const known = new Set([...TEMPORAL_CONNECTION_VARIABLES, 'ITINERANT_CONFIG', 'ITINERANT_METRICS_ADDRESS', 'ITINERANT_LOG_LEVEL', 'ITINERANT_CODEC_KEYS_PATH', 'OCI_CONFIG_FILE']);
    expect(variables.filter((v) => !known.has(v))).toEqual([]);
  });
});
