// The repaver's sweep activity (listNodeGroupNodes) with the real clients against the simulated fleet.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
});
