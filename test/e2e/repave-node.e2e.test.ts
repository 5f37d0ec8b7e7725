import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { TAG_REPLACES } from '../../src/core/labels.js';
import type { RepaveProgress } from '../../src/core/repave.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { abortSignal, progressQueryOf } from '../../src/workflows/runbook.js';

const progressQuery = progressQueryOf<RepaveProgress>();
import { eventually, inProcessWorker, isReady, nodesOfGroup, spawnWorkerProcess, startStack, type Stack } from '../helpers/stack.js';
import { giveUpIfExited, whileRunning } from '../helpers/wait.js';
import { testbedFromEnv } from '../../testbeds/index.js';

let stack: Stack;
beforeAll(async () => {
  // batch's kubelets name their nodes by private IP, as OKE's do; general's by the instance's display name.
  stack = await startStack({ nodeNaming: { batch: 'private-ip' } });
});
afterAll(async () => {
  await stack?.stop();
});

const shopPods = async () => (await stack.core.listNamespacedPod({ namespace: 'shop' })).items;
/**
 * The Ready node of the group running the most shop pods (first by name on a tie): the drain must have work
 * to do. Placement is the sim's on one backend and the real kube-scheduler's on the other.
 */
async function busiestReadyNode(group: string, accept: (name: string) => boolean = () => true) {
  const pods = await shopPods();
  const count = (name: string) => pods.filter((p) => p.spec?.nodeName === name).length;
  const candidates = (await nodesOfGroup(stack.core, group)).filter((n) => isReady(n) && accept(n.metadata!.name!));
  return candidates.sort((a, b) => count(b.metadata!.name!) - count(a.metadata!.name!) || a.metadata!.name!.localeCompare(b.metadata!.name!))[0];
}
const runningReady = (p: { status?: { phase?: string; conditions?: { type: string; status: string }[] } }) =>
  p.status?.phase === 'Running' && (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

/** Lowest Ready-and-schedulable count the group had since `since` (ISO), from the sim's readiness timeline. */
function minSchedulableSince(group: string, since: string, before: number): number {
  const points = stack.sim.kube.readinessTimeline(group).filter((p) => p.at >= since);
  return Math.min(before, ...points.map((p) => p.readySchedulable));
}

describe(`repave-node end to end (dev server + worker + ${testbedFromEnv()} test bed)`, () => {
  it('replaces a node: old instance gone, new Ready node serves, pods moved, capacity never dipped', async () => {
    const target = await busiestReadyNode('general');
    const node = target!.metadata!.name!;
    const oldInstance = target!.spec!.providerID!.replace('oci://', '');
    expect((await shopPods()).filter((p) => p.spec?.nodeName === node).length).toBeGreaterThan(0);
    // Everything drain must move off the node, in any namespace (shop, and Cassandra's data when seeded): not DaemonSet, not mirror pods.
    const podsBefore = (await stack.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items
      .filter((p) => !p.metadata?.annotations?.['kubernetes.io/config.mirror'] && !p.metadata?.ownerReferences?.some((o) => o.controller && o.kind === 'DaemonSet'))
      .map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`);
    const schedulableBefore = (await nodesOfGroup(stack.core, 'general')).filter((n) => isReady(n) && !n.spec?.unschedulable).length;
    const since = new Date().toISOString();

    const { worker, close } = await inProcessWorker(stack);
    const result = await worker.runUntil(
      stack.client.workflow.execute(repaveNode, {
        taskQueue: TASK_QUEUE,
        workflowId: repaveNodeWorkflowId('sim-1', node),
        args: [{ cluster: 'sim-1', node, reason: 'e2e' }],
      }),
    );
    await close();

    expect(result.oldInstanceId).toBe(oldInstance);
    expect(stack.sim.oci.fleet.getInstance(oldInstance).lifecycleState).toMatch(/TERMINAT/);
    const after = await nodesOfGroup(stack.core, 'general');
    expect(after.map((n) => n.metadata!.name)).not.toContain(node);
    const replacement = after.find((n) => n.metadata!.name === result.replacement!.nodeName);
    expect(replacement && isReady(replacement)).toBe(true);
    expect(replacement!.spec!.providerID).toBe(`oci://${result.replacement!.instanceId}`);
    expect(stack.sim.oci.fleet.getInstance(result.replacement!.instanceId).freeformTags?.[TAG_REPLACES]).toBe(node);
    // Evicted pods were recreated and run elsewhere.
    await eventually('shop pods running again', async () => {
      const pods = await shopPods();
      return pods.length >= 9 && pods.every((p) => runningReady(p) && p.spec?.nodeName !== node) && pods;
    });
    expect(result.evictedPods).toBe(podsBefore.length);
    expect(minSchedulableSince('general', since, schedulableBefore)).toBeGreaterThanOrEqual(schedulableBefore);
  });

  it('a worker SIGKILLed in the middle of the drain is replaced and the run finishes with exactly one replacement', async () => {
    const target = await busiestReadyNode('general', (name) => !name.match(/-[0-9a-f]{8}$/));
    const node = target!.metadata!.name!;
    const launchesBefore = stack.sim.oci.counters().launches;
    // Evicted pods linger while terminating, so the drain takes long enough to be interrupted.
    stack.sim.kube.faults.evictionDelayMs = 6000;
    const handle = await stack.client.workflow.start(repaveNode, {
      taskQueue: TASK_QUEUE,
      workflowId: repaveNodeWorkflowId('sim-1', node),
      args: [{ cluster: 'sim-1', node, reason: 'e2e-crash' }],
    });
    let first: ChildProcess | undefined = spawnWorkerProcess(stack);
    let second: ChildProcess | undefined;
    try {
      await eventually(
        'drain under way',
        async () => {
          giveUpIfExited(first);
          return (await handle.query(progressQuery)).phase === 'draining';
        },
        90_000,
        200,
      );
      await new Promise((r) => setTimeout(r, 1500));
      first.kill('SIGKILL');
      await new Promise((r) => first!.once('exit', r));
      first = undefined;
      stack.sim.kube.faults.evictionDelayMs = 500;
      second = spawnWorkerProcess(stack);
      const result = await whileRunning(handle.result(), second, 'second worker');
      expect(result.node).toBe(node);
      expect(stack.sim.oci.counters().launches - launchesBefore).toBe(1);
      const replacements = stack.sim.oci.fleet.listInstances({ compartmentId: stack.sim.compartmentId }).filter((i) => i.freeformTags?.[TAG_REPLACES] === node);
      expect(replacements).toHaveLength(1);
      // The history shows the drain was attempted more than once: the second worker picked it up.
      const history = await handle.fetchHistory();
      const drainScheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'cordonAndDrain');
      const started = history.events?.find(
        (e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.scheduledEventId?.toString() === drainScheduled?.eventId?.toString(),
      );
      expect(started?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThan(1);
      expect((await nodesOfGroup(stack.core, 'general')).map((n) => n.metadata!.name)).not.toContain(node);
    } finally {
      first?.kill('SIGKILL');
      second?.kill('SIGTERM');
      if (second) await new Promise((r) => second!.once('exit', r));
    }
  });

  it('in a group whose nodes are named by private IP, the replacement is found by its providerID and the old node goes', async () => {
    const target = await busiestReadyNode('batch');
    const node = target!.metadata!.name!;
    expect(node).toMatch(/^10\.0\.\d+\.\d+$/);
    const oldInstance = target!.spec!.providerID!.replace('oci://', '');
    const { worker, close } = await inProcessWorker(stack);
    const result = await worker.runUntil(
      stack.client.workflow.execute(repaveNode, {
        taskQueue: TASK_QUEUE,
        workflowId: repaveNodeWorkflowId('sim-1', node),
        // Found by name, the replacement would never be: a short readyTimeout makes that a failure, not a hang.
        args: [{ cluster: 'sim-1', node, reason: 'e2e: IP-named group', readyTimeout: '60s' }],
      }),
    );
    await close();

    expect(result.oldInstanceId).toBe(oldInstance);
    const replaced = result.replacement!;
    const launched = stack.sim.oci.fleet.getInstance(replaced.instanceId);
    expect(replaced.nodeName).toMatch(/^10\.0\.\d+\.\d+$/);
    expect(replaced.nodeName).not.toBe(launched.displayName.toLowerCase());
    const replacement = await stack.core.readNode({ name: replaced.nodeName });
    expect(isReady(replacement)).toBe(true);
    expect(replacement.spec!.providerID).toBe(`oci://${replaced.instanceId}`);
    expect(launched.freeformTags[TAG_REPLACES]).toBe(node);
    await eventually('the old instance terminated and its node gone', async () => {
      const names = (await nodesOfGroup(stack.core, 'batch')).map((n) => n.metadata!.name);
      return /TERMINAT/.test(stack.sim.oci.fleet.getInstance(oldInstance).lifecycleState) && !names.includes(node);
    }, 30_000);
  });

  it('an abort while OCI is still answering the launch: the instance it created anyway is found by name and tag and terminated', async () => {
    const target = (await nodesOfGroup(stack.core, 'batch')).find(isReady)!;
    const node = target.metadata!.name!;
    const live = () =>
      stack.sim.oci.fleet
        .listInstances({ compartmentId: stack.sim.compartmentId })
        .filter((i) => i.freeformTags?.[TAG_REPLACES] === node && !['TERMINATING', 'TERMINATED'].includes(i.lifecycleState));
    const launchesBefore = stack.sim.oci.counters().launches;
    stack.sim.oci.faults.launchResponseDelayMs = 4000;
    const { worker, close } = await inProcessWorker(stack);
    try {
      await worker.runUntil(async () => {
        const handle = await stack.client.workflow.start(repaveNode, {
          taskQueue: TASK_QUEUE,
          workflowId: repaveNodeWorkflowId('sim-1', node),
          args: [{ cluster: 'sim-1', node, reason: 'e2e: abort mid-launch' }],
        });
        // OCI has created the instance; its answer is still on the way when the operator aborts.
        await eventually('the replacement instance created', async () => stack.sim.oci.counters().launches > launchesBefore, 30_000, 50);
        expect(live()).toHaveLength(1);
        await handle.signal(abortSignal, 'wrong node');
        const failure = await handle.result().then(
          () => undefined,
          (e: { cause?: { type?: string; message?: string } }) => e.cause,
        );
        expect(failure?.type).toBe('Aborted');
        expect(failure?.message).toMatch(/^aborted by operator: wrong node; the replacement was terminated and .* is left serving$/);
      });
    } finally {
      stack.sim.oci.faults.launchResponseDelayMs = 0;
      await close();
    }
    expect(stack.sim.oci.counters().launches - launchesBefore).toBe(1);
    expect(live()).toEqual([]);
    const still = await stack.core.readNode({ name: node });
    expect(still.spec?.unschedulable ?? false).toBe(false);
  });

  it('a group without surge that allows it is repaved in place: drained first, never above its size, never below size − maxUnavailable', async () => {
    const fleet = structuredClone(stack.fleet);
    const batch = fleet.clusters[0]!.nodeGroups.find((g) => g.name === 'batch')!;
    Object.assign(batch, { maxSurge: 0, allowInPlace: true });
    const target = await busiestReadyNode('batch');
    const node = target!.metadata!.name!;
    const oldInstance = target!.spec!.providerID!.replace('oci://', '');
    const live = () => stack.sim.oci.fleet.summary().filter((i) => i.freeformTags['itinerant.dev/node-group'] === 'batch' && !/TERMINAT/.test(i.lifecycleState));
    const sizeBefore = live().length;
    const since = new Date().toISOString();
    let most = 0;
    let oldGoneBeforeLaunch: boolean | undefined;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const instances = live();
        most = Math.max(most, instances.length);
        const launched = instances.some((i) => i.freeformTags[TAG_REPLACES] === node);
        if (launched && oldGoneBeforeLaunch === undefined) oldGoneBeforeLaunch = !instances.some((i) => i.id === oldInstance);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const { worker, close } = await inProcessWorker(stack, fleet);
    try {
      const handle = await stack.client.workflow.start(repaveNode, { taskQueue: TASK_QUEUE, workflowId: repaveNodeWorkflowId('sim-1', node), args: [{ cluster: 'sim-1', node, reason: 'e2e in place' }] });
      const { result, progress } = await worker.runUntil(async () => ({ result: await handle.result(), progress: await handle.query(progressQuery) }));
      expect(result.oldInstanceId).toBe(oldInstance);
      expect(progress.inPlace).toBe(true);
      const replacement = (await nodesOfGroup(stack.core, 'batch')).find((n) => n.metadata!.name === result.replacement!.nodeName);
      expect(replacement && isReady(replacement)).toBe(true);
    } finally {
      watching = false;
      await watch;
      await close();
    }
    expect(oldGoneBeforeLaunch).toBe(true);
    expect(most).toBe(sizeBefore);
    expect(live()).toHaveLength(sizeBefore);
    expect(minSchedulableSince('batch', since, sizeBefore)).toBeGreaterThanOrEqual(sizeBefore - batch.maxUnavailable);
  });
});
