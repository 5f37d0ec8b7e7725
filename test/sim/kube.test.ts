// The simulated Kubernetes API server, driven through the real @kubernetes/client-node.
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  Watch,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeSim, type KubeFaults, type KubeSim } from '../../testbeds/sim/kube/index.js';
import { ObjectStore } from '../../testbeds/sim/kube/store.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'sim-token';
const sims: KubeSim[] = [];

afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function start(faults: Partial<KubeFaults> = {}) {
  const sim = createKubeSim({
    clusterName: 'test',
    token: TOKEN,
    controllerDelayMs: 10,
    faults: { errorRate: 0, errorStatus: 500, evictionDelayMs: 100, blockEvictions: false, podStartDelayMs: 100, ...faults },
  });
  sims.push(sim);
  const url = await sim.listen(0);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'admin', token: TOKEN }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'admin' }],
    currentContext: 'sim',
  });
  return { sim, url, kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), policy: kc.makeApiClient(PolicyV1Api) };
}

function registerNodes(sim: KubeSim, names: string[], group = 'workers'): void {
  for (const name of names) sim.cluster.registerNode({ name, providerID: `oci://ocid1.instance.oc1..${name}`, labels: { 'itinerant.dev/node-group': group }, ready: true });
}

function deployment(name: string, replicas: number, image = 'registry.example.com/app:1') {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  };
}

const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function errorOf(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; body: string; headers: Record<string, string> };
    return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body, headers: err.headers };
  }
  throw new Error('expected the call to fail');
}

describe('kube sim API server', () => {
  it('requires the bearer token (401 Status) and serves discovery', async () => {
    const { url, core } = await start();
    const anon = await fetch(`${url}/api/v1/nodes`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const bad = await fetch(`${url}/api/v1/nodes`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);

    const auth = { authorization: `Bearer ${TOKEN}` };
    const v1 = (await (await fetch(`${url}/api/v1`, { headers: auth })).json()) as { resources: { name: string; shortNames?: string[] }[] };
    expect(v1.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['nodes', 'pods', 'pods/eviction', 'pods/exec', 'nodes/status', 'namespaces']));
    expect(v1.resources.find((r) => r.name === 'nodes')?.shortNames).toEqual(['no']);
    const apps = (await (await fetch(`${url}/apis/apps/v1`, { headers: auth })).json()) as { resources: { name: string }[] };
    expect(apps.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['deployments/scale', 'statefulsets/scale', 'daemonsets', 'replicasets']));
    const groups = (await (await fetch(`${url}/apis`, { headers: auth })).json()) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'policy']));
    // protobuf is politely answered with JSON
    const pb = await fetch(`${url}/api/v1/namespaces`, { headers: { ...auth, accept: 'application/vnd.kubernetes.protobuf,application/json' } });
    expect(pb.headers.get('content-type')).toBe('application/json');

    const nss = await core.listNamespace();
    expect(nss.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));
  });

  it('schedules Deployment pods, evicts within the PDB and reschedules the evicted pod on another node', async () => {
    const { sim, core, apps, policy } = await start();
    registerNodes(sim, ['n1', 'n2', 'n3']);
    sim.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('web', 3) });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: 'shop',
      body: { metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } },
    });
    const pods = await waitFor('3 ready pods', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' });
      return l.items.filter(isReady).length === 3 ? l.items : undefined;
    });
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(3); // spread: least pods first
    for (const p of pods) {
      expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
      expect(p.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    }
    const d = await waitFor('deployment status', async () => {
      const x = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
      return x.status?.readyReplicas === 3 && x.status.updatedReplicas === 3 ? x : undefined;
    });
    expect(d.status?.observedGeneration).toBe(1);
    const pdb = await waitFor('pdb status', async () => {
      const b = await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: 'shop' });
      return b.status?.currentHealthy === 3 ? b : undefined;
    });
    expect(pdb.status).toMatchObject({ desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3 });

    // cordon n1 and evict its pod: allowed (1 disruption), the replacement lands elsewhere
    await core.patchNode({ name: 'n1', body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const victim = pods.find((p) => p.spec?.nodeName === 'n1')!;
    const other = pods.find((p) => p.spec?.nodeName === 'n2')!;
    await core.createNamespacedPodEviction({
      name: victim.metadata!.name!,
      namespace: 'shop',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim.metadata!.name!, namespace: 'shop' } },
    });
    const terminating = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: 'shop' });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();

    // a second eviction right away would violate the budget
    const refused = await errorOf(core.createNamespacedPodEviction({ name: other.metadata!.name!, namespace: 'shop', body: { metadata: { name: other.metadata!.name! } } }));
    expect(refused.code).toBe(429);
    expect(refused.body).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget." });
    expect((refused.body.details as { causes: { reason: string }[] }).causes[0]!.reason).toBe('DisruptionBudget');

    // the replacement becomes ready on another node, the victim vanishes; now the eviction is allowed
    const replacement = await waitFor('replacement ready', async () => {
      const l = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' });
      const ready = l.items.filter(isReady);
      return ready.length === 3 && !l.items.some((p) => p.metadata?.name === victim.metadata?.name) ? ready.find((p) => !pods.some((o) => o.metadata?.name === p.metadata?.name)) : undefined;
    });
    expect(replacement.spec?.nodeName).not.toBe('n1');
    await core.createNamespacedPodEviction({ name: other.metadata!.name!, namespace: 'shop', body: { metadata: { name: other.metadata!.name! } } });
    expect(sim.counters()).toMatchObject({ evictions: 2, evictionsRefused: 1, deletedPods: 0 });

    // blockEvictions fault
    sim.faults.blockEvictions = true;
    const blocked = await errorOf(core.createNamespacedPodEviction({ name: replacement.metadata!.name!, namespace: 'shop', body: { metadata: { name: replacement.metadata!.name! } } }));
    expect(blocked.code).toBe(429);
  });

  it('answers 500 when a pod matches more than one PDB, and lets unready pods go when the budget is satisfied', async () => {
    const { sim, core, policy } = await start({ podStartDelayMs: 50 });
    registerNodes(sim, ['n1', 'n2']);
    for (const name of ['a', 'b']) sim.cluster.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    sim.cluster.apply({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p1', namespace: 'default' }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'x' } } } });
    await waitFor('pods ready', async () => (await core.listNamespacedPod({ namespace: 'default' })).items.filter(isReady).length === 2);
    const refused = await errorOf(core.createNamespacedPodEviction({ name: 'a', namespace: 'default', body: { metadata: { name: 'a' } } }));
    expect(refused.code).toBe(429);
    await policy.createNamespacedPodDisruptionBudget({ namespace: 'default', body: { metadata: { name: 'p2' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'x' } } } } });
    const twoPdbs = await errorOf(core.createNamespacedPodEviction({ name: 'a', namespace: 'default', body: { metadata: { name: 'a' } } }));
    expect(twoPdbs.code).toBe(500);
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'p1', namespace: 'default' });
    // node n2 goes NotReady: its pod turns unready; budget (minAvailable 1) is still met by the other → evictable
    const b = await core.readNamespacedPod({ name: 'b', namespace: 'default' });
    sim.cluster.setNodeReady(b.spec!.nodeName!, false);
    await waitFor('pod b unready', async () => !isReady(await core.readNamespacedPod({ name: 'b', namespace: 'default' })));
    await core.createNamespacedPodEviction({ name: 'b', namespace: 'default', body: { metadata: { name: 'b' } } });
    const node = await core.readNode({ name: b.spec!.nodeName! });
    expect(node.spec?.taints).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' })]));
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
  });

  it('runs a DaemonSet pod on every eligible node, including newly registered ones', async () => {
    const { sim, core, apps } = await start();
    registerNodes(sim, ['n1']);
    sim.cluster.registerNode({ name: 'cp', providerID: 'oci://cp', labels: { 'node-role.kubernetes.io/control-plane': '' }, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }], ready: true });
    await apps.createNamespacedDaemonSet({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'agent' },
        spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }] } } },
      },
    });
    await waitFor('agent on n1', async () => (await core.listNamespacedPod({ namespace: 'kube-system', fieldSelector: 'spec.nodeName=n1' })).items.some(isReady));
    // a new node registers NotReady: no DS pod until it is Ready (not-ready:NoSchedule taint)
    sim.cluster.registerNode({ name: 'n2', providerID: 'oci://n2', labels: { 'itinerant.dev/node-group': 'workers' }, ready: false });
    await new Promise((r) => setTimeout(r, 100));
    expect((await core.listNamespacedPod({ namespace: 'kube-system', fieldSelector: 'spec.nodeName=n2' })).items).toHaveLength(0);
    sim.cluster.setNodeReady('n2', true);
    const pod = await waitFor('agent on n2', async () => (await core.listNamespacedPod({ namespace: 'kube-system', fieldSelector: 'spec.nodeName=n2' })).items.find(isReady));
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', name: 'agent' });
    expect(pod.spec?.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/unschedulable' })]));
    const ds = await waitFor('ds status', async () => {
      const x = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: 'kube-system' });
      return x.status?.numberReady === 2 ? x : undefined;
    });
    expect(ds.status?.desiredNumberScheduled).toBe(2); // the control-plane node's taint is not tolerated
    // the node goes away: its pods with it
    sim.cluster.removeNode('n2');
    expect(sim.cluster.hasNode('n2')).toBe(false);
    expect((await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n2' })).items).toHaveLength(0);
  });

  it('sends a long list in slices, whole and as it was when asked for', async () => {
    const { sim, url, core } = await start();
    sim.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk' } });
    const names = Array.from({ length: 1_234 }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
    for (const name of names) sim.cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'bulk' }, data: { name } });
    const res = await fetch(`${url}/api/v1/namespaces/bulk/configmaps`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    const first = await reader.read();
    chunks.push(first.value!);
    // changed while the list is still being sent: the list does not see it
    await core.deleteNamespacedConfigMap({ namespace: 'bulk', name: 'cm-1200' });
    sim.cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-9999', namespace: 'bulk' } });
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    const list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string; items: { metadata: { name: string }; data: { name: string } }[] };
    expect(list.kind).toBe('ConfigMapList');
    expect(list.items.map((o) => o.metadata.name)).toEqual(names);
    expect(list.items.every((o) => o.data.name === o.metadata.name)).toBe(true);
    // and the real client reads a sliced list as any other
    expect((await core.listNamespacedConfigMap({ namespace: 'bulk' })).items).toHaveLength(1_234);
  });

  it('pages lists with limit and continue, and selects through its indexes as through a scan', async () => {
    const { sim, core, apps } = await start({ podStartDelayMs: 0 });
    registerNodes(sim, ['n1', 'n2']);
    sim.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('web', 5) });
    const all = await waitFor('5 web pods bound', async () => {
      const l = await core.listPodForAllNamespaces();
      return l.items.filter((p) => p.metadata?.labels?.app === 'web' && p.spec?.nodeName).length === 5 ? l.items : undefined;
    });
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ limit: 2, ...(token ? { _continue: token } : {}) });
      pages.push(page.items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`));
      token = page.metadata?._continue;
      if (token) expect(page.metadata?.remainingItemCount).toBe(all.length - pages.flat().length);
    } while (token);
    expect(pages.flat()).toEqual(all.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`));
    expect(pages).toHaveLength(Math.ceil(all.length / 2));
    expect(pages.slice(0, -1).every((p) => p.length === 2)).toBe(true);
    expect((await errorOf(core.listPodForAllNamespaces({ limit: 2, _continue: 'not-a-token' }))).code).toBe(400);
    // selectors narrowed by the label and node indexes: the same pods a filter over the full list finds
    const onN1 = all.filter((p) => p.spec?.nodeName === 'n1').map((p) => p.metadata!.name).sort();
    expect((await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' })).items.map((p) => p.metadata!.name).sort()).toEqual(onN1);
    expect((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web,app!=db' })).items).toHaveLength(5);
    // a label changed moves the pod between index entries
    const moved = all.find((p) => p.metadata?.labels?.app === 'web')!.metadata!.name!;
    await core.patchNamespacedPod({ namespace: 'shop', name: moved, body: { metadata: { labels: { tier: 'front' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'tier=front' })).items.map((p) => p.metadata!.name)).toEqual([moved]);
    await core.patchNamespacedPod({ namespace: 'shop', name: moved, body: { metadata: { labels: { tier: 'back' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'tier=front' })).items).toHaveLength(0);
    expect((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'tier==back' })).items.map((p) => p.metadata!.name)).toEqual([moved]);
  });

  it('creates StatefulSet pods in order and removes the highest ordinal first', async () => {
    const { sim, core, apps } = await start({ podStartDelayMs: 30, evictionDelayMs: 30 });
    registerNodes(sim, ['n1', 'n2', 'n3']);
    sim.cluster.apply({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'cassandra', namespace: 'db' },
      spec: { replicas: 3, serviceName: 'cassandra', selector: { matchLabels: { app: 'cassandra' } }, template: { metadata: { labels: { app: 'cassandra' } }, spec: { containers: [{ name: 'c', image: 'cassandra:4' }] } } },
    });
    const seen: string[] = [];
    await waitFor('3 ready', async () => {
      const l = await core.listNamespacedPod({ namespace: 'db' });
      for (const p of l.items) if (!seen.includes(p.metadata!.name!)) seen.push(p.metadata!.name!);
      return l.items.filter(isReady).length === 3;
    });
    expect(seen).toEqual(['cassandra-0', 'cassandra-1', 'cassandra-2']);
    await apps.patchNamespacedStatefulSetScale({ name: 'cassandra', namespace: 'db', body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await waitFor('scaled down', async () => {
      const l = await core.listNamespacedPod({ namespace: 'db' });
      return l.items.length === 2 && l.items.every((p) => p.metadata?.name !== 'cassandra-2');
    });
    const sts = await waitFor('sts status', async () => {
      const s = await apps.readNamespacedStatefulSet({ name: 'cassandra', namespace: 'db' });
      return s.status?.replicas === 2 ? s : undefined;
    });
    expect(sts.status?.readyReplicas).toBe(2);
  });

  it('streams watch events (ADDED, MODIFIED, DELETED) and resumes from a resourceVersion', async () => {
    const { sim, kc, core } = await start();
    registerNodes(sim, ['n1']);
    const list = await core.listNode();
    const events: string[] = [];
    const ctl = await new Watch(kc).watch('/api/v1/nodes', { resourceVersion: list.metadata?.resourceVersion }, (type, obj: { metadata: { name: string } }) => events.push(`${type} ${obj.metadata.name}`), () => {});
    registerNodes(sim, ['n2']);
    await core.patchNode({ name: 'n2', body: [{ op: 'add', path: '/metadata/labels/extra', value: 'yes' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await core.deleteNode({ name: 'n2' });
    await waitFor('events', () => events.includes('DELETED n2'));
    ctl.abort();
    expect(events[0]).toBe('ADDED n2');
    expect(events).toContain('MODIFIED n2');
    expect(events).not.toContain('ADDED n1');

    // label-selected watch: a pod leaving the selector is DELETED for the watcher
    const podEvents: string[] = [];
    const ctl2 = await new Watch(kc).watch('/api/v1/namespaces/default/pods', { labelSelector: 'tier=web' }, (type, obj: { metadata: { name: string } }) => podEvents.push(`${type} ${obj.metadata.name}`), () => {});
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p', labels: { tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    await core.patchNamespacedPod({ name: 'p', namespace: 'default', body: { metadata: { labels: { tier: 'db' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await waitFor('pod events', () => podEvents.includes('DELETED p'));
    ctl2.abort();
    expect(podEvents[0]).toBe('ADDED p');
  });

  it("streams a node's pods to a watch selected by spec.nodeName: bound there by the scheduler or at creation, never another node's", async () => {
    const { sim, kc, core } = await start();
    registerNodes(sim, ['n1']);
    const events: string[] = [];
    const ctl = await new Watch(kc).watch('/api/v1/pods', { fieldSelector: 'spec.nodeName=n1' }, (type, obj: { metadata: { name: string } }) => events.push(`${type} ${obj.metadata.name}`), () => {});
    const nodeEvents: string[] = [];
    const ctlNode = await new Watch(kc).watch('/api/v1/nodes', { fieldSelector: 'metadata.name=n1' }, (type, obj: { metadata: { name: string } }) => nodeEvents.push(`${type} ${obj.metadata.name}`), () => {});
    const pod = (name: string, nodeName?: string) => ({ metadata: { name }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'i' }] } });
    await core.createNamespacedPod({ namespace: 'default', body: pod('scheduled') }); // unbound: the scheduler binds it to n1
    await waitFor('the scheduled pod on n1', () => events.includes('ADDED scheduled'));
    registerNodes(sim, ['n2']);
    await core.createNamespacedPod({ namespace: 'default', body: pod('elsewhere', 'n2') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('bound', 'n1') });
    await core.patchNode({ name: 'n2', body: { metadata: { labels: { extra: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.patchNode({ name: 'n1', body: { metadata: { labels: { extra: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedPod({ name: 'bound', namespace: 'default', gracePeriodSeconds: 0 });
    await waitFor('the bound pod gone', () => events.includes('DELETED bound') && nodeEvents.includes('MODIFIED n1'));
    ctl.abort();
    ctlNode.abort();
    expect(events.filter((e) => e.startsWith('ADDED'))).toEqual(['ADDED scheduled', 'ADDED bound']);
    expect(events.some((e) => e.endsWith('elsewhere'))).toBe(false);
    expect(nodeEvents.every((e) => e.endsWith(' n1'))).toBe(true);

    // resumed from a resourceVersion: the changes since, of this resource only (not a ConfigMap of the same name)
    const replayed: string[] = [];
    const rv = (await core.listNode()).metadata?.resourceVersion;
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'n1' } } });
    await core.patchNode({ name: 'n1', body: { metadata: { labels: { extra: 'again' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const ctlResumed = await new Watch(kc).watch('/api/v1/nodes', { fieldSelector: 'metadata.name=n1', resourceVersion: rv }, (type, obj: { kind?: string; metadata: { name: string } }) => replayed.push(`${type} ${obj.kind} ${obj.metadata.name}`), () => {});
    await waitFor('the resumed watch', () => replayed.length > 0);
    ctlResumed.abort();
    expect(replayed.every((e) => e === 'MODIFIED Node n1')).toBe(true);
  });

  it('expires watches from a compacted resourceVersion (410)', () => {
    const store = new ObjectStore(2);
    const mk = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: name, resourceVersion: '', creationTimestamp: '' } });
    for (const n of ['a', 'b', 'c', 'd']) store.create('namespaces', mk(n));
    expect(store.since(1)).toBe('expired');
    expect(store.since(2)).toHaveLength(2);
  });

  it('patches (json, merge, strategic), updates with conflicts, and answers 404/409 Status', async () => {
    const { sim, core, apps } = await start();
    registerNodes(sim, ['n1']);
    const json = await core.patchNode({ name: 'n1', body: [{ op: 'test', path: '/spec/providerID', value: 'oci://ocid1.instance.oc1..n1' }, { op: 'add', path: '/metadata/annotations/itinerant.dev~1owner', value: 'wf-1' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    expect(json.metadata?.annotations?.['itinerant.dev/owner']).toBe('wf-1');
    const failedTest = await errorOf(core.patchNode({ name: 'n1', body: [{ op: 'test', path: '/spec/providerID', value: 'nope' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)));
    expect(failedTest.code).toBe(422);
    const merged = await core.patchNode({ name: 'n1', body: { metadata: { annotations: { 'itinerant.dev/owner': null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(merged.metadata?.annotations?.['itinerant.dev/owner']).toBeUndefined();
    expect(Number(merged.metadata?.resourceVersion)).toBeGreaterThan(Number(json.metadata?.resourceVersion));

    // PUT with a stale resourceVersion → 409 Conflict
    const stale = { ...json, metadata: { ...json.metadata, labels: { ...json.metadata?.labels, x: 'y' } } };
    const conflict = await errorOf(core.replaceNode({ name: 'n1', body: stale }));
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    const fresh = await core.readNode({ name: 'n1' });
    const replaced = await core.replaceNode({ name: 'n1', body: { ...fresh, metadata: { ...fresh.metadata, labels: { ...fresh.metadata?.labels, x: 'y' } } } });
    expect(replaced.metadata?.labels?.x).toBe('y');

    const missing = await errorOf(core.readNamespacedPod({ name: 'ghost', namespace: 'default' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', details: { name: 'ghost', kind: 'pods' } });
    sim.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('api', 1) });
    const dup = await errorOf(apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('api', 1) }));
    expect(dup.code).toBe(409);
    expect(dup.body.reason).toBe('AlreadyExists');

    // strategic merge on containers merges by name; generation bumps on spec change
    const d = await apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'api', image: 'registry.example.com/app:2' }] } } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    expect(d.spec?.template.spec?.containers).toHaveLength(1);
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/app:2');
    expect(d.metadata?.generation).toBe(2);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'api', namespace: 'shop' });
    expect(scale.spec?.replicas).toBe(1);
    expect(scale.status?.selector).toBe('app=api');
  });

  it('injects API errors (500, 429 with Retry-After) at the configured rate', async () => {
    const { sim, url, core } = await start({ errorRate: 1, errorStatus: 500 });
    const e500 = await errorOf(core.listNode());
    expect(e500.code).toBe(500);
    expect(e500.body).toMatchObject({ kind: 'Status', code: 500, reason: 'InternalError' });
    sim.faults.errorStatus = 429;
    const r = await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await r.json()).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    sim.faults.errorRate = 0;
    expect((await core.listNode()).items).toEqual([]);
  });

  it('records the readiness timeline per node group', async () => {
    const { sim, core } = await start();
    registerNodes(sim, ['a1', 'a2'], 'a');
    registerNodes(sim, ['b1'], 'b');
    await core.patchNode({ name: 'a1', body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    sim.cluster.setNodeReady('a2', false);
    sim.cluster.removeNode('a1');
    const a = sim.readinessTimeline('a').map(({ ready, readySchedulable }) => [ready, readySchedulable]);
    expect(a).toEqual([[1, 1], [2, 2], [2, 1], [1, 0], [0, 0]]);
    expect(sim.readinessTimeline().filter((p) => p.group === 'b')).toHaveLength(1);
    expect(sim.readinessTimeline('b')[0]).toMatchObject({ group: 'b', ready: 1, readySchedulable: 1 });
  });

  it('serves Tables for kubectl-style Accept headers', async () => {
    const { sim, url } = await start();
    registerNodes(sim, ['n1']);
    const r = await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const t = (await r.json()) as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: { kind: string } }[] };
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.map((c) => c.name).slice(0, 5)).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version']);
    expect(t.rows[0]!.cells.slice(0, 2)).toEqual(['n1', 'Ready']);
    expect(t.rows[0]!.object.kind).toBe('PartialObjectMetadata');
  });
});
