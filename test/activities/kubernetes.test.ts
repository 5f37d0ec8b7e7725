// The Kubernetes activities, run in a MockActivityEnvironment with the real @kubernetes/client-node
// against the simulated fleet over HTTP (one sim for this file; every test works on its own nodes).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import type { DrainCheckpoint, DrainRequest, LaunchReplacementRequest } from '../../src/core/activity-contracts.js';
import { ANNOTATION_OWNER } from '../../src/core/labels.js';
import {
  addPoolNode,
  appPods,
  applyBarePod,
  applyDeployment,
  applyPdb,
  controllerKind,
  counterValue,
  expectNonRetryable,
  failActivity,
  isMirror,
  isPodReady,
  podKey,
  podsOn,
  runActivity,
  startFixture,
  waitFor,
  waitForReadyPods,
  type Fixture,
} from './helpers.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture({ bootDelayMs: 300, nodeReadyDelayMs: 500, kubeFaults: { podStartDelayMs: 100 } });
});

afterAll(async () => {
  await fx?.stop();
});

const ref = (node: string) => ({ cluster: fx.cluster, node });
const drainReq = (node: string, deadlineInMs: number, opts: Partial<DrainRequest> = {}): DrainRequest => ({
  ...ref(node),
  deadline: Date.now() + deadlineInMs,
  evictUnmanagedPods: false,
  deletePodsBlockedByPdbAfterTimeout: false,
  ...opts,
});
const nodeObj = (name: string) => fx.sim.kube.store.get('nodes', undefined, name);
const counters = () => fx.sim.kube.counters();
const sorted = (xs: string[]) => [...xs].sort();

/** Cordons through the activity (as the workflow does before a drain). */
async function cordon(node: string) {
  await runActivity(fx.acts.cordonNode, [ref(node)]);
  expect(nodeObj(node)?.spec?.unschedulable).toBe(true);
}

describe('Kubernetes activities over HTTP against the simulated fleet', () => {
  it('inspectNode flags the control-plane node, reports an unknown node as missing and counts the Ready nodes of a group', async () => {
    const seeded = fx.sim.seeded!;
    const { result: cp } = await runActivity(fx.acts.inspectNode, [ref(seeded.controlPlaneNode)]);
    expect(cp).toMatchObject({ exists: true, controlPlane: true, ready: true, nodeCluster: fx.cluster });
    expect(cp.nodeGroup).toBeUndefined();

    const worker = seeded.nodes.general![0]!;
    const instance = fx.sim.oci.fleet.summary().find((i) => i.displayName === worker)!;
    const { result: w } = await runActivity(fx.acts.inspectNode, [ref(worker)]);
    expect(w).toEqual({
      exists: true,
      nodeCluster: fx.cluster,
      controlPlane: false,
      nodeGroup: 'general',
      ready: true,
      unschedulable: false,
      instanceId: instance.id,
      owner: undefined,
      unmanagedPods: [],
      groupReady: 4,
    });

    const [b1, b2] = seeded.nodes.batch!;
    fx.sim.kube.cluster.setNodeReady(b2!, false, 'SimulatedFault');
    try {
      const { result: down } = await runActivity(fx.acts.inspectNode, [ref(b2!)]);
      expect(down).toMatchObject({ exists: true, ready: false, nodeGroup: 'batch', groupReady: 3 });
      const { result: peer } = await runActivity(fx.acts.inspectNode, [ref(b1!)]);
      expect(peer).toMatchObject({ ready: true, groupReady: 3 });
    } finally {
      fx.sim.kube.cluster.setNodeReady(b2!, true);
    }
    const { result: healed } = await runActivity(fx.acts.inspectNode, [ref(b1!)]);
    expect(healed.groupReady).toBe(4);

    const { result: missing } = await runActivity(fx.acts.inspectNode, [ref('sim-1-no-such-node')]);
    expect(missing).toEqual({ exists: false, controlPlane: false, ready: false, unschedulable: false, unmanagedPods: [], groupReady: 0 });
  });

  it('cordonNode and uncordonNode are idempotent (changed true, then false)', async () => {
    const node = fx.sim.seeded!.nodes.general![3]!;
    expect((await runActivity(fx.acts.cordonNode, [ref(node)])).result).toEqual({ changed: true });
    expect(nodeObj(node)?.spec?.unschedulable).toBe(true);
    expect((await runActivity(fx.acts.cordonNode, [ref(node)])).result).toEqual({ changed: false });
    expect(nodeObj(node)?.spec?.unschedulable).toBe(true);

    expect((await runActivity(fx.acts.uncordonNode, [ref(node)])).result).toEqual({ changed: true });
    expect(nodeObj(node)?.spec?.unschedulable ?? false).toBe(false);
    expect((await runActivity(fx.acts.uncordonNode, [ref(node)])).result).toEqual({ changed: false });

    const { error } = await failActivity(fx.acts.cordonNode, [ref('sim-1-no-such-node')]);
    expectNonRetryable(error, 'NodeNotFound');
  });

  it('claimNode refuses a node a live run owns (NodeBusy), takes over from a dead run; releaseNode only releases its own claim', async () => {
    const node = fx.sim.seeded!.nodes.general![2]!;
    const owner = () => nodeObj(node)?.metadata.annotations?.[ANNOTATION_OWNER];
    fx.running.add('repave-a');
    fx.running.add('repave-b');

    await runActivity(fx.acts.claimNode, [{ ...ref(node), owner: 'repave-a' }]);
    expect(owner()).toBe('repave-a');
    await runActivity(fx.acts.claimNode, [{ ...ref(node), owner: 'repave-a' }]); // a retry of the same run
    expect(owner()).toBe('repave-a');

    const { error } = await failActivity(fx.acts.claimNode, [{ ...ref(node), owner: 'repave-b' }]);
    const busy = expectNonRetryable(error, 'NodeBusy');
    expect(busy.message).toContain('repave-a');
    expect(owner()).toBe('repave-a');

    fx.running.delete('repave-a'); // that run has ended: its claim is stale
    await runActivity(fx.acts.claimNode, [{ ...ref(node), owner: 'repave-b' }]);
    expect(owner()).toBe('repave-b');
    expect((await runActivity(fx.acts.inspectNode, [ref(node)])).result.owner).toBe('repave-b');

    await runActivity(fx.acts.releaseNode, [{ ...ref(node), owner: 'repave-a' }]); // not its claim any more
    expect(owner()).toBe('repave-b');
    await runActivity(fx.acts.releaseNode, [{ ...ref(node), owner: 'repave-b' }]);
    expect(owner()).toBeUndefined();
    await runActivity(fx.acts.releaseNode, [{ ...ref(node), owner: 'repave-b' }]); // already released
    expect(owner()).toBeUndefined();
    // The other annotations survive claim and release.
    expect(nodeObj(node)?.metadata.annotations?.['node.alpha.kubernetes.io/ttl']).toBe('0');

    const { error: gone } = await failActivity(fx.acts.claimNode, [{ ...ref('sim-1-no-such-node'), owner: 'repave-b' }]);
    expectNonRetryable(gone, 'NodeNotFound');
    fx.running.delete('repave-b');
  });

  it('claimNode is atomic: of two runs claiming the same node at once, exactly one wins', async () => {
    const node = fx.sim.seeded!.nodes.batch![3]!;
    fx.running.add('race-a');
    fx.running.add('race-b');
    try {
      const outcomes = await Promise.allSettled(
        ['race-a', 'race-b'].map((owner) => runActivity(fx.acts.claimNode, [{ ...ref(node), owner }]).then(() => owner)),
      );
      const winners = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(winners).toHaveLength(1);
      expect(nodeObj(node)?.metadata.annotations?.[ANNOTATION_OWNER]).toBe(winners[0]);
      // The loser either lost the resourceVersion race (retryable: its retry will see the owner) or saw the owner.
      const loser = outcomes.find((o) => o.status === 'rejected')!.reason as unknown;
      if (loser instanceof ApplicationFailure) expect(loser.type).toBe('NodeBusy');
      else expect(String(loser)).toContain('changed while claiming');
      await runActivity(fx.acts.releaseNode, [{ ...ref(node), owner: winners[0]! }]);
    } finally {
      fx.running.delete('race-a');
      fx.running.delete('race-b');
    }
  });

  it('Kubernetes API errors: a bad token is refused non-retryably (KubernetesApiRefused), a 500 stays retryable', async () => {
    const kubeconfig = (await readFile(fx.sim.kubeconfigPath, 'utf8')).replace(/token: .*/, 'token: "not-the-token"');
    const kubeconfigPath = path.join(fx.home, 'bad-token.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig);
    const fleet = { clusters: fx.fleet.clusters.map((c) => ({ ...c, kubeconfig: kubeconfigPath })) };
    const outsider = createActivities({ fleet, isWorkflowRunning: async () => false });
    const node = fx.sim.seeded!.nodes.general![1]!;
    const { error } = await failActivity(outsider.cordonNode, [ref(node)]);
    expect(expectNonRetryable(error, 'KubernetesApiRefused').message).toContain('401');
    expect(nodeObj(node)?.spec?.unschedulable ?? false).toBe(false);

    Object.assign(fx.sim.kube.faults, { errorRate: 1, errorStatus: 500 });
    try {
      const { error: flaky } = await failActivity(fx.acts.cordonNode, [ref(node)]);
      expect(flaky instanceof ApplicationFailure && flaky.nonRetryable).toBe(false);
      expect((flaky as { code?: number }).code).toBe(500);
    } finally {
      Object.assign(fx.sim.kube.faults, { errorRate: 0 });
    }
    expect(nodeObj(node)?.spec?.unschedulable ?? false).toBe(false);
  });

  it('drainNode leaves DaemonSet and mirror pods on the node and counts them as skipped', async () => {
    addPoolNode(fx.sim, 'quiet-1', 'quiet');
    const before = await waitFor('the node-agent pod Ready on quiet-1', () => {
      const pods = podsOn(fx.sim, 'quiet-1');
      return pods.some((p) => controllerKind(p) === 'DaemonSet' && isPodReady(p)) && pods.some(isMirror) && pods;
    });
    expect(before).toHaveLength(2);
    await cordon('quiet-1');
    const evictions = counters().evictions;

    const { result } = await runActivity(fx.acts.drainNode, [drainReq('quiet-1', 5_000)]);
    expect(result).toEqual({ evicted: [], deletedAfterTimeout: [], skipped: { daemonSet: 1, mirror: 1, finished: 0 } });
    expect(counters().evictions).toBe(evictions);
    expect(podsOn(fx.sim, 'quiet-1').map((p) => p.metadata.uid).sort()).toEqual(before.map((p) => p.metadata.uid).sort());
  });

  it('drainNode refuses to evict a bare pod (UnmanagedPods) unless evictUnmanagedPods', async () => {
    addPoolNode(fx.sim, 'bare-1', 'bare');
    applyBarePod(fx.sim, 'bare', 'lonely', 'bare-1', 'bare');
    await waitForReadyPods(fx.sim, 'bare', 'lonely', 1, 'bare-1');
    await cordon('bare-1');
    expect((await runActivity(fx.acts.inspectNode, [ref('bare-1')])).result.unmanagedPods).toEqual(['bare/lonely']);
    const evictions = counters().evictions;

    const { error } = await failActivity(fx.acts.drainNode, [drainReq('bare-1', 5_000)]);
    expect(expectNonRetryable(error, 'UnmanagedPods').message).toContain('bare/lonely');
    expect(counters().evictions).toBe(evictions);
    expect(appPods(fx.sim, 'bare', 'lonely')).toHaveLength(1);

    const { result } = await runActivity(fx.acts.drainNode, [drainReq('bare-1', 5_000, { evictUnmanagedPods: true })]);
    expect(result.evicted).toEqual(['bare/lonely']);
    expect(result.skipped).toEqual({ daemonSet: 1, mirror: 1, finished: 0 });
    expect(counters().evictions).toBe(evictions + 1);
    await new Promise((r) => setTimeout(r, 400)); // longer than the controllers' reaction time
    expect(appPods(fx.sim, 'bare', 'lonely')).toHaveLength(0); // nothing recreates it
  });

  it('drainNode retries evictions a PodDisruptionBudget refuses (429) and fails with a non-retryable DrainTimeout naming them', async () => {
    addPoolNode(fx.sim, 'held-1', 'held');
    applyDeployment(fx.sim, 'held', 'db', 2, 'held');
    applyPdb(fx.sim, 'held', 'db', { minAvailable: 2 });
    const pods = await waitForReadyPods(fx.sim, 'held', 'db', 2, 'held-1');
    const keys = sorted(pods.map(podKey));
    await cordon('held-1');
    const before = counters();
    const refusedMetric = () => counterValue('itinerant_evictions_refused_by_pdb_total', { cluster: drainReq('held-1', 800).cluster });
    const refusedBefore = await refusedMetric();

    const { error, heartbeats } = await failActivity(fx.acts.drainNode, [drainReq('held-1', 800)]);
    const failure = expectNonRetryable(error, 'DrainTimeout');
    for (const k of keys) expect(failure.message).toContain(k);
    expect(failure.message).toContain('PodDisruptionBudget');
    const details = failure.details?.[0] as { blockedByPdb: string[]; remaining: number };
    expect(sorted(details.blockedByPdb)).toEqual(keys);
    expect(details.remaining).toBe(2);

    // Refused, backed off, asked again: both pods at least twice.
    const after = counters();
    expect(after.evictionsRefused - before.evictionsRefused).toBeGreaterThanOrEqual(4);
    expect((await refusedMetric()) - refusedBefore).toBe(after.evictionsRefused - before.evictionsRefused);
    expect(after.evictions).toBe(before.evictions);
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    for (const hb of heartbeats) expect(sorted((hb as DrainCheckpoint).blockedByPdb)).toEqual(keys);

    // The PDB was honoured: nothing was deleted.
    expect(after.deletedPods).toBe(before.deletedPods);
    const still = appPods(fx.sim, 'held', 'db');
    expect(sorted(still.map(podKey))).toEqual(keys);
    expect(still.every((p) => isPodReady(p) && p.spec?.nodeName === 'held-1')).toBe(true);
    // The node says so: Draining, then one DrainBlocked warning naming the pods (not one per retry).
    // the worker's own Events on the node (the sim's kubelet and controllers report on it too)
    const events = fx.sim.kube.store
      .list('events', 'default')
      .filter((e) => (e.involvedObject as { name?: string }).name === 'held-1' && (e.source as { component?: string } | undefined)?.component === 'itinerant')
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal Draining', 'Warning DrainBlocked']);
    for (const k of keys) expect(events[1]!.message).toContain(k);
  });

  it('drainNode: a pod under two PodDisruptionBudgets (500 from the eviction API) is retried only until the deadline, then named with the API\'s answer', async () => {
    addPoolNode(fx.sim, 'twice-1', 'twice');
    applyDeployment(fx.sim, 'twice', 'web', 1, 'twice');
    applyPdb(fx.sim, 'twice', 'web', { maxUnavailable: 1 });
    fx.sim.kube.cluster.apply({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-second', namespace: 'twice' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    const [pod] = await waitForReadyPods(fx.sim, 'twice', 'web', 1, 'twice-1');
    await cordon('twice-1');

    const started = Date.now();
    const { error, heartbeats } = await failActivity(fx.acts.drainNode, [drainReq('twice-1', 1500)]);
    const failure = expectNonRetryable(error, 'DrainTimeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(failure.message).toBe(
      `drain of twice-1 timed out with 1 pods left; evictions refused by the API server for ${podKey(pod!)} ` +
        '(500: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.)',
    );
    expect((heartbeats.at(-1) as DrainCheckpoint).refused).toEqual({ [podKey(pod!)]: '500: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
    expect(appPods(fx.sim, 'twice', 'web').map(podKey)).toEqual([podKey(pod!)]); // nothing deleted to get around it
  });

  it('drainNode completes once the budget allows it: refused evictions are retried and the pods end up Ready on another node', async () => {
    addPoolNode(fx.sim, 'move-1', 'move');
    applyDeployment(fx.sim, 'move', 'web', 2, 'move');
    applyPdb(fx.sim, 'move', 'web', { minAvailable: 1 });
    const pods = await waitForReadyPods(fx.sim, 'move', 'web', 2, 'move-1');
    const keys = sorted(pods.map(podKey));
    addPoolNode(fx.sim, 'move-2', 'move'); // where the replacements can go
    await cordon('move-1');
    const before = counters();

    const { result } = await runActivity(fx.acts.drainNode, [drainReq('move-1', 20_000)]);
    expect(sorted(result.evicted)).toEqual(keys);
    expect(result.deletedAfterTimeout).toEqual([]);
    expect(result.skipped).toEqual({ daemonSet: 1, mirror: 1, finished: 0 });

    const after = counters();
    expect(after.evictions - before.evictions).toBe(2);
    // Only one disruption at a time was allowed: the second eviction was refused at first and retried.
    expect(after.evictionsRefused - before.evictionsRefused).toBeGreaterThanOrEqual(1);
    expect(after.deletedPods).toBe(before.deletedPods);

    const moved = await waitForReadyPods(fx.sim, 'move', 'web', 2, 'move-2');
    expect(moved.map(podKey).filter((k) => keys.includes(k))).toEqual([]);
    const left = podsOn(fx.sim, 'move-1');
    expect(left.map((p) => (isMirror(p) ? 'mirror' : controllerKind(p))).sort()).toEqual(['DaemonSet', 'mirror']);
  });

  it('drainNode evicts again when evictions raced on a budget (409 from the API server) instead of failing the attempt', async () => {
    addPoolNode(fx.sim, 'race-1', 'race');
    applyDeployment(fx.sim, 'race', 'web', 3, 'race');
    applyPdb(fx.sim, 'race', 'web', { maxUnavailable: 3 });
    const keys = sorted((await waitForReadyPods(fx.sim, 'race', 'web', 3, 'race-1')).map(podKey));
    addPoolNode(fx.sim, 'race-2', 'race');
    await cordon('race-1');
    const before = counters();
    fx.sim.kube.faults.evictionConflicts = 2;
    try {
      const { result } = await runActivity(fx.acts.drainNode, [drainReq('race-1', 20_000)]);
      expect(sorted(result.evicted)).toEqual(keys);
      expect(fx.sim.kube.faults.evictionConflicts).toBe(0); // both conflicts answered, then the evictions went again
      expect(counters().evictions - before.evictions).toBe(3);
      expect(counters().deletedPods).toBe(before.deletedPods);
    } finally {
      fx.sim.kube.faults.evictionConflicts = 0;
    }
  });

  it('drainNode with deletePodsBlockedByPdbAfterTimeout deletes the pods the budget still protects at the deadline', async () => {
    addPoolNode(fx.sim, 'stuck-1', 'stuck');
    applyDeployment(fx.sim, 'stuck', 'cache', 2, 'stuck');
    applyPdb(fx.sim, 'stuck', 'cache', { minAvailable: 2 });
    const pods = await waitForReadyPods(fx.sim, 'stuck', 'cache', 2, 'stuck-1');
    const keys = sorted(pods.map(podKey));
    addPoolNode(fx.sim, 'stuck-2', 'stuck');
    await cordon('stuck-1');
    const before = counters();

    const { result } = await runActivity(fx.acts.drainNode, [drainReq('stuck-1', 800, { deletePodsBlockedByPdbAfterTimeout: true })]);
    expect(result.evicted).toEqual([]);
    expect(sorted(result.deletedAfterTimeout)).toEqual(keys);
    expect(result.skipped).toEqual({ daemonSet: 1, mirror: 1, finished: 0 });

    const after = counters();
    expect(after.deletedPods - before.deletedPods).toBe(2);
    expect(after.evictions).toBe(before.evictions);
    expect(after.evictionsRefused - before.evictionsRefused).toBeGreaterThanOrEqual(4); // the budget was asked first, until the deadline
    const replacements = await waitForReadyPods(fx.sim, 'stuck', 'cache', 2, 'stuck-2');
    expect(replacements.map(podKey).filter((k) => keys.includes(k))).toEqual([]);
  });

  it('drainNode resumes from its heartbeat checkpoint without evicting or counting a pod twice', async () => {
    addPoolNode(fx.sim, 'resume-1', 'resume');
    applyDeployment(fx.sim, 'resume', 'free', 1, 'resume');
    applyDeployment(fx.sim, 'resume', 'held', 1, 'resume');
    applyPdb(fx.sim, 'resume', 'held', { minAvailable: 1 });
    const [free] = await waitForReadyPods(fx.sim, 'resume', 'free', 1, 'resume-1');
    const [held] = await waitForReadyPods(fx.sim, 'resume', 'held', 1, 'resume-1');
    addPoolNode(fx.sim, 'resume-2', 'resume');
    await cordon('resume-1');

    // Attempt 1 evicts the free pod and times out on the held one.
    const first = await failActivity(fx.acts.drainNode, [drainReq('resume-1', 800)], { attempt: 1 });
    expectNonRetryable(first.error, 'DrainTimeout');
    const checkpoint = first.heartbeats.at(-1) as DrainCheckpoint;
    expect(checkpoint).toEqual({ evicted: [podKey(free!)], remaining: 1, blockedByPdb: [podKey(held!)] });

    // The budget is relaxed; the retried attempt starts from the checkpoint.
    applyPdb(fx.sim, 'resume', 'held', { minAvailable: 0 });
    const before = counters();
    const second = await runActivity(fx.acts.drainNode, [drainReq('resume-1', 10_000)], { attempt: 2, heartbeatDetails: checkpoint });
    expect(sorted(second.result.evicted)).toEqual(sorted([podKey(free!), podKey(held!)]));
    expect(counters().evictions - before.evictions).toBe(1); // only the held pod
    expect((second.heartbeats[0] as DrainCheckpoint).evicted).toContain(podKey(free!));
    for (const hb of second.heartbeats) {
      const evicted = (hb as DrainCheckpoint).evicted;
      expect(new Set(evicted).size).toBe(evicted.length);
    }
    expect(podsOn(fx.sim, 'resume-1').filter((p) => !isMirror(p) && controllerKind(p) !== 'DaemonSet')).toEqual([]);
  });

  describe('a freshly launched replacement', () => {
    const launch = async (name: string, token: string) => {
      const group = fx.fleet.clusters[0]!.nodeGroups.find((g) => g.name === 'general')!;
      const p = group.placement[0]!;
      const req: LaunchReplacementRequest = {
        cluster: fx.cluster,
        nodeGroup: 'general',
        replaces: fx.sim.seeded!.nodes.general![0]!,
        displayName: name,
        retryToken: token,
        compartmentId: fx.sim.compartmentId,
        availabilityDomain: p.availabilityDomain,
        faultDomain: p.faultDomain,
        subnetId: p.subnetId,
        shape: group.shape,
        imageId: fx.sim.seeded!.images.prodNew,
        nodeLabels: group.labels,
        nodeTaints: group.taints,
      };
      return (await runActivity(fx.acts.launchReplacement, [req])).result;
    };

    it('waitForNodeOperational returns only once the node is Ready and its node-agent DaemonSet pod is Ready', async () => {
      const name = 'sim-1-general-op-1';
      // Pods start well after the node turns Ready: there is a window where the node is Ready and the agent is not.
      fx.sim.kube.faults.podStartDelayMs = 1_300;
      try {
        expect((await launch(name, 'op-1')).created).toBe(true);
        const { result, heartbeats } = await runActivity(fx.acts.waitForNodeOperational, [{ ...ref(name), deadline: Date.now() + 15_000 }]);
        expect(result).toEqual({ node: name, daemonSetPods: 1 });

        const node = nodeObj(name)!;
        expect((node.status.conditions as { type: string; status: string }[]).find((c) => c.type === 'Ready')?.status).toBe('True');
        const agent = podsOn(fx.sim, name).filter((p) => controllerKind(p) === 'DaemonSet');
        expect(agent).toHaveLength(1);
        expect(isPodReady(agent[0]!)).toBe(true);

        const waits = heartbeats.map((h) => (h as { waitingFor: string[] }).waitingFor);
        expect(waits[0]).toEqual([expect.stringMatching(/^node not (registered|Ready)$/)]);
        expect(waits).toContainEqual(['DaemonSet kube-system/node-agent pod not Ready']);
      } finally {
        fx.sim.kube.faults.podStartDelayMs = 100;
      }
    });

    it('waitForNodeOperational gives up at the deadline with a non-retryable ReplacementNotReady when the node never turns Ready', async () => {
      const name = 'sim-1-general-op-2';
      fx.sim.oci.faults.neverReady = 1;
      expect((await launch(name, 'op-2')).created).toBe(true);
      await waitFor('the node to register', () => nodeObj(name));
      const started = Date.now();
      const { error, heartbeats } = await failActivity(fx.acts.waitForNodeOperational, [{ ...ref(name), deadline: Date.now() + 1_500 }]);
      const failure = expectNonRetryable(error, 'ReplacementNotReady');
      expect(failure.message).toContain('node not Ready');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
      expect(heartbeats.length).toBeGreaterThanOrEqual(2);
      expect(fx.sim.oci.faults.neverReady).toBe(0);
    });

    it('waitForNodeOperational finds the node by its providerID when the group names nodes by private IP, and deleteNode leaves a node another instance runs alone', async () => {
      const name = 'sim-1-general-op-ip';
      fx.sim.oci.fleet.nodeNaming.general = 'private-ip';
      let instanceId: string;
      try {
        instanceId = (await launch(name, 'op-ip')).instanceId;
      } finally {
        delete fx.sim.oci.fleet.nodeNaming.general;
      }
      const ipName = fx.sim.oci.fleet.nodeNameOf(instanceId);
      expect(ipName).toMatch(/^10\.0\.\d+\.\d+$/);
      const { result } = await runActivity(fx.acts.waitForNodeOperational, [{ ...ref(name), instanceId, deadline: Date.now() + 15_000 }]);
      expect(result).toEqual({ node: ipName, daemonSetPods: 1 });
      expect(nodeObj(name)).toBeUndefined();
      expect(nodeObj(ipName)?.spec?.providerID).toBe(`oci://${instanceId}`);
      expect((nodeObj(ipName)?.status?.addresses as { type: string; address: string }[]).find((a) => a.type === 'InternalIP')?.address).toBe(ipName);

      // The name is the IP: a call about another instance that had it must not delete this machine's node.
      const other = 'ocid1.instance.oc1.iad.simformerowner';
      expect((await runActivity(fx.acts.deleteNode, [{ ...ref(ipName), instanceId: other }])).result).toEqual({ deleted: false });
      expect(nodeObj(ipName)).toBeDefined();
      expect((await runActivity(fx.acts.deleteNode, [{ cluster: fx.cluster, instanceId }])).result).toEqual({ deleted: true });
      expect(nodeObj(ipName)).toBeUndefined();
    });

    it('deleteNode deletes once and then reports deleted: false', async () => {
      const name = 'sim-1-general-op-2';
      expect(nodeObj(name)).toBeDefined();
      expect((await runActivity(fx.acts.deleteNode, [ref(name)])).result).toEqual({ deleted: true });
      expect(nodeObj(name)).toBeUndefined();
      expect((await runActivity(fx.acts.deleteNode, [ref(name)])).result).toEqual({ deleted: false });
      expect((await runActivity(fx.acts.inspectNode, [ref(name)])).result.exists).toBe(false);
      await waitFor('the pods bound to the deleted node to go', () => podsOn(fx.sim, name).length === 0);
    });
  });
});
