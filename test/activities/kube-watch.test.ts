import * as k8s from '@kubernetes/client-node';
import type https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepAliveKubeConfig } from '../../src/activities/kube-config.js';
import { nextChange, untilAllGone } from '../../src/activities/kube-watch.js';
import { startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
let kc: KeepAliveKubeConfig;
let core: k8s.CoreV1Api;
/** New connections the watches' agent made. */
let connections = 0;

beforeAll(async () => {
  fx = await startFixture();
  kc = new KeepAliveKubeConfig();
  kc.loadFromFile(fx.sim.kubeconfigPath);
  const agent = (await kc.applyToFetchOptions({})).agent as https.Agent;
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (...a: Parameters<typeof create>) => {
    connections++;
    return create(...a);
  };
  const other = new k8s.KubeConfig(); // the changes go on connections of their own
  other.loadFromFile(fx.sim.kubeconfigPath);
  core = other.makeApiClient(k8s.CoreV1Api);
}, 60_000);

afterAll(() => fx?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('nextChange', () => {
  it('wakes at the change, not at its bound, and leaves the watch to end so that its connection is used again', async () => {
    const name = (await core.listNode()).items[0]!.metadata!.name!;
    for (let round = 0; round < 3; round++) {
      const rv = (await core.readNode({ name })).metadata?.resourceVersion;
      const started = Date.now();
      const woke = nextChange(kc, [{ path: '/api/v1/nodes', fieldSelector: `metadata.name=${name}`, resourceVersion: rv }], 1_000);
      await sleep(100);
      await core.patchNode({ name, body: { metadata: { labels: { round: String(round) } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await woke;
      expect(Date.now() - started).toBeLessThan(900);
      await sleep(1_200); // the server ends the watch at its timeoutSeconds (1 s)
    }
    // Aborted at each wake, every round's watch would have needed a connection of its own.
    expect(connections).toBe(1);
  });

  it('with untilAllGone, sleeps through changes and the first deletion, and wakes when the last pod is gone', async () => {
    const admin = new k8s.KubeConfig(); // the worker's identity may not create pods
    admin.loadFromFile(fx.sim.adminKubeconfigPath);
    const pods = admin.makeApiClient(k8s.CoreV1Api);
    const namespace = 'default';
    const nodeName = (await core.listNode()).items[0]!.metadata!.name!;
    const made = await Promise.all(
      ['gone-a', 'gone-b'].map((name) => pods.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'i' }] } } })),
    );
    const rv = (await core.listNamespacedPod({ namespace })).metadata?.resourceVersion;
    const started = Date.now();
    let woke = false;
    const waiting = nextChange(kc, [{ path: `/api/v1/namespaces/${namespace}/pods`, resourceVersion: rv, wakesOn: untilAllGone(made.map((p) => p.metadata?.uid)) }], 5_000).then(() => (woke = true));
    await pods.patchNamespacedPod({ name: 'gone-a', namespace, body: { metadata: { labels: { v: '2' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await pods.deleteNamespacedPod({ name: 'gone-a', namespace, gracePeriodSeconds: 0 });
    await sleep(300);
    expect(woke).toBe(false);
    await pods.deleteNamespacedPod({ name: 'gone-b', namespace, gracePeriodSeconds: 0 });
    await waiting;
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('untilAllGone wakes for an added object or an error at once, never for an object it does not wait for', () => {
    const wakes = untilAllGone(['a', 'b']);
    const of = (uid: string) => ({ metadata: { uid } });
    expect([wakes('MODIFIED', of('a')), wakes('DELETED', of('x')), wakes('DELETED', of('a')), wakes('DELETED', of('a')), wakes('DELETED', of('b'))]).toEqual([false, false, false, false, true]);
    expect(untilAllGone(['a'])('ADDED', of('new'))).toBe(true);
    expect(untilAllGone(['a'])('ERROR', of(''))).toBe(true);
  });

  it('resolves at its bound when nothing changes', async () => {
    const name = (await core.listNode()).items[0]!.metadata!.name!;
    const rv = (await core.readNode({ name })).metadata?.resourceVersion;
    const started = Date.now();
    await nextChange(kc, [{ path: '/api/v1/nodes', fieldSelector: `metadata.name=${name}`, resourceVersion: rv }], 500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });
});
