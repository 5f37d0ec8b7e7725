// The repaver's sweep activity (listNodeGroupNodes) with the real clients against the simulated fleet.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { keyringAnnotation } from '../../src/core/keyring.js';
import { runActivity, startFixture, type Fixture } from './helpers.js';

let fx: Fixture;

beforeAll(async () => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  fx = await startFixture();
});

afterAll(async () => {
  await fx?.stop();
  vi.restoreAllMocks();
});

describe('listNodeGroupNodes', () => {
  it("ages a node by its instance's launch time, not by its Node object (a kubelet that re-registered is no younger), and carries its instance's image", async () => {
    const name = `${fx.cluster}-general-1`;
    const instance = fx.sim.oci.fleet.summary().find((i) => i.displayName === name)!;
    const launched = new Date(instance.timeCreated).toISOString();

    // The kubelet re-registers: its Node object is deleted and created anew, with a fresh creationTimestamp.
    const node = fx.sim.kube.store.remove('nodes', undefined, name)!;
    const reregistered = new Date().toISOString();
    fx.sim.kube.store.create('nodes', { ...node, metadata: { ...node.metadata, creationTimestamp: reregistered, uid: `${node.metadata.uid}-again` } });
    expect(Date.now() - Date.parse(launched)).toBeGreaterThan(30 * 86_400_000);

    const { result } = await runActivity(fx.acts.listNodeGroupNodes, [{ cluster: fx.cluster, nodeGroup: 'general' }]);
    const seen = result.nodes.find((n) => n.name === name)!;
    expect(seen).toMatchObject({ instanceId: instance.id, createdAt: launched });
    // Every node of the group is an instance of the tenancy, each aged by its own launch time.
    for (const n of result.nodes) {
      const i = fx.sim.oci.fleet.summary().find((s) => s.id === n.instanceId)!;
      expect(n.createdAt).toBe(new Date(i.timeCreated).toISOString());
      expect(n.imageId).toBe(i.imageId); // what drift is judged by
    }
  });

  it('falls back to the Node object for a node with no OCI instance behind it', async () => {
    const name = `${fx.cluster}-general-2`;
    const node = fx.sim.kube.store.get('nodes', undefined, name)!;
    fx.sim.kube.store.update('nodes', { ...node, spec: { ...node.spec, providerID: 'kind://docker/kind/worker' } });
    const { result } = await runActivity(fx.acts.listNodeGroupNodes, [{ cluster: fx.cluster, nodeGroup: 'general' }]);
    const seen = result.nodes.find((n) => n.name === name)!;
    expect(seen.instanceId).toBeUndefined();
    expect(seen.createdAt).toBe(new Date(node.metadata.creationTimestamp).toISOString());
    expect(seen.uid).toBe(node.metadata.uid); // the machine's name without an instance
    expect(result.nodes.find((n) => n.instanceId)!.uid).toBeUndefined();
  });

  it("observeNodeGroup reads a sweep's two things in one: the group as configured and its nodes; nothing for a group not configured", async () => {
    const { result } = await runActivity(fx.acts.observeNodeGroup, [{ cluster: fx.cluster, nodeGroup: 'general' }]);
    expect(result.group).toEqual(await fx.acts.describeNodeGroup({ cluster: fx.cluster, nodeGroup: 'general' }));
    const listed = (await runActivity(fx.acts.listNodeGroupNodes, [{ cluster: fx.cluster, nodeGroup: 'general' }])).result;
    expect(result.observation!.nodes.map((n) => n.name)).toEqual(listed.nodes.map((n) => n.name));
    expect(result.observation!.nodes.length).toBeGreaterThan(0);
    expect((await runActivity(fx.acts.observeNodeGroup, [{ cluster: fx.cluster, nodeGroup: 'no-such-group' }])).result).toEqual({});
  });

  it('keeps only the conditions health is judged by: Ready when it is not True, the others when True', async () => {
    const [pressured, down] = [`${fx.cluster}-general-1`, `${fx.cluster}-general-3`];
    const since = new Date(Date.now() - 600_000).toISOString();
    const withConditions = (name: string, ready: string, disk: string) => {
      const node = fx.sim.kube.store.get('nodes', undefined, name)!;
      const conditions = [
        { type: 'DiskPressure', status: disk, lastTransitionTime: since, reason: 'KubeletHasDiskPressure' },
        { type: 'Ready', status: ready, lastTransitionTime: since, reason: 'KubeletNotReady' },
      ];
      fx.sim.kube.store.update('nodes', { ...node, status: { ...node.status, conditions } });
    };
    withConditions(pressured, 'True', 'True');
    withConditions(down, 'False', 'False');
    const { result } = await runActivity(fx.acts.listNodeGroupNodes, [{ cluster: fx.cluster, nodeGroup: 'general' }]);
    const conditionsOf = (name: string) => result.nodes.find((n) => n.name === name)!.conditions;
    expect(conditionsOf(pressured)).toEqual([{ type: 'DiskPressure', status: 'True', since, reason: 'KubeletHasDiskPressure' }]);
    expect(conditionsOf(down)).toEqual([{ type: 'Ready', status: 'False', since, reason: 'KubeletNotReady' }]);
    expect(result.nodes.find((n) => n.name === down)!.ready).toBe(false);
    const healthy = result.nodes.filter((n) => n.name !== pressured && n.name !== down && n.ready);
    expect(healthy.length).toBeGreaterThan(0);
    for (const n of healthy) expect(n.conditions).toEqual([]);
  });

  it('reads the keyring version a node reports per purpose from its annotations (a malformed one counts as none)', async () => {
    const name = `${fx.cluster}-general-1`;
    const node = fx.sim.kube.store.get('nodes', undefined, name)!;
    expect(node).toBeDefined();
    const annotations = {
      ...node.metadata.annotations,
      [keyringAnnotation('client-ca')]: JSON.stringify({ version: 7, trusts: ['a', 'b'], signedBy: 'a' }),
      [keyringAnnotation('service-account')]: 'not json',
    };
    delete annotations[keyringAnnotation('secret-encryption')];
    fx.sim.kube.store.update('nodes', { ...node, metadata: { ...node.metadata, annotations } });
    const { result } = await runActivity(fx.acts.listNodeGroupNodes, [{ cluster: fx.cluster, nodeGroup: 'general' }]);
    expect(result.nodes.find((n) => n.name === name)!.keyrings).toEqual({ 'client-ca': 7 });
  });

  it('asks OCI only about instances it has not met: one by one for a few, by listing the compartment for many, nothing for the rest', async () => {
    const requests = () => fx.sim.oci.counters().requests;
    const sweep = (acts: ReturnType<typeof createActivities>, nodeGroup: string) => runActivity(acts.listNodeGroupNodes, [{ cluster: fx.cluster, nodeGroup }]);
    const worker = createActivities({ fleet: fx.fleet, isWorkflowRunning: async () => false }); // a worker that has met none
    let before = requests();
    const first = await sweep(worker, 'general');
    const instances = first.result.nodes.filter((n) => n.instanceId).length;
    expect(instances).toBeGreaterThan(0);
    expect(instances).toBeLessThanOrEqual(10);
    expect(requests() - before).toBe(instances); // one GetInstance each
    before = requests();
    const again = await sweep(worker, 'general');
    expect(requests() - before).toBe(0);
    const facts = (nodes: typeof first.result.nodes) => nodes.map((n) => ({ name: n.name, instanceId: n.instanceId, createdAt: n.createdAt, imageId: n.imageId }));
    expect(facts(again.result.nodes)).toEqual(facts(first.result.nodes));

    // Many unknown at once: one list of the compartment (a page or two), with the same facts as the lookups.
    const big = await startFixture({ fleetShape: { groups: 1, nodesPerGroup: 12 } });
    try {
      const fresh = createActivities({ fleet: big.fleet, isWorkflowRunning: async () => false });
      const bigRequests = () => big.sim.oci.counters().requests;
      before = bigRequests();
      const { result } = await runActivity(fresh.listNodeGroupNodes, [{ cluster: big.cluster, nodeGroup: 'general' }]);
      expect(result.nodes.filter((n) => n.instanceId)).toHaveLength(12);
      expect(bigRequests() - before).toBeLessThanOrEqual(2);
      for (const n of result.nodes) {
        const i = big.sim.oci.fleet.summary().find((s) => s.id === n.instanceId)!;
        expect(n).toMatchObject({ createdAt: new Date(i.timeCreated).toISOString(), imageId: i.imageId });
      }
    } finally {
      await big.stop();
    }
  });
});
