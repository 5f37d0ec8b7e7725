// decommissionMember end to end: a real Temporal dev server, the worker (in process, or as child
// processes that get SIGKILLed), and the simulated fleet's Cassandra ring driven over pods/exec.
// Runs on both test beds (ITINERANT_TESTBED=sim | control-plane): on the real control plane, nodetool
// goes WebSocket → kube-apiserver → KWOK (the kubelet) → the ring model; the test reads Kubernetes only
// through the API.
import * as k8s from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decommissionWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { startDevServer, type DevServer } from '../../testbeds/temporal/temporal-cli.js';
import type { DecommissionProgress } from '../../src/core/decommission.js';
import { decommissionMember } from '../../src/workflows/decommission-member.js';
import { itinerant } from '../helpers/cli.js';
import { failureOf } from '../helpers/workflow-env.js';
import { progressQueryOf } from '../../src/workflows/runbook.js';

const decommissionProgressQuery = progressQueryOf<DecommissionProgress>();
import { eventually, inProcessWorker, spawnWorkerProcess, startStack, stopWorkerProcess, temporalFromEnv, type Stack } from '../helpers/stack.js';
import { giveUpIfExited, whileRunning } from '../helpers/wait.js';

const NS = 'data';
const STS = 'cassandra';
const MEMBER = 'cassandra-3';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  await healthyRingOf(4);
});
afterAll(async () => {
  await stack?.stop();
});

const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const apps = () => stack.admin.makeApiClient(k8s.AppsV1Api);
const core = () => stack.admin.makeApiClient(k8s.CoreV1Api);
const orGone = <T>(p: Promise<T>): Promise<T | undefined> => p.catch((e: unknown) => (e instanceof k8s.ApiException && e.code === 404 ? undefined : Promise.reject(e)));
const replicas = async () => (await apps().readNamespacedStatefulSet({ name: STS, namespace: NS })).spec?.replicas ?? 0;
const claim = () => orGone(core().readNamespacedPersistentVolumeClaim({ name: `data-${MEMBER}`, namespace: NS }));
const pod = () => orGone(core().readNamespacedPod({ name: MEMBER, namespace: NS }));
const counters = () => {
  const c = stack.sim.cassandra.counters();
  return {
    issued: c.decommissionIssued[`${NS}/${MEMBER}`] ?? 0,
    started: c.decommissionStarted[`${NS}/${MEMBER}`] ?? 0,
    failed: c.decommissionFailed[`${NS}/${MEMBER}`] ?? 0,
  };
};
/** The member cassandra-3's pod runs now (not an earlier, replaced one). */
const current = () => stack.sim.cassandra.ring(NS, STS)?.members.find((m) => m.pod === MEMBER && !m.replaced);

async function healthyRingOf(n: number) {
  if ((await replicas()) < n) await apps().patchNamespacedStatefulSet({ name: STS, namespace: NS, body: { spec: { replicas: n } } }, MERGE);
  await eventually(
    `a healthy ring of ${n}`,
    async () => {
      const r = stack.sim.cassandra.ring(NS, STS);
      const live = r?.members.filter((m) => m.inRing) ?? [];
      return live.length === n && live.every((m) => m.state === 'Up' && m.mode === 'NORMAL');
    },
    60_000,
  );
}

/** Record (polling the API) when the claim started going away and whether the member had left the ring and its pod was gone by then. */
function watchVolume() {
  let releasedAt: number | undefined;
  let memberLeftBeforeRelease: boolean | undefined;
  let stopped = false;
  const memberId = current()?.hostId;
  const poll = async () => {
    while (!stopped && releasedAt === undefined) {
      // the ring's and the pod's state read before the claim's: if the claim is then found going away, both held before it went
      const m = stack.sim.cassandra.ring(NS, STS)?.members.find((x) => x.hostId === memberId);
      const left = m?.mode === 'DECOMMISSIONED' && !m.inRing && !(await pod());
      const c = await claim();
      if (!c || c.metadata?.deletionTimestamp) {
        releasedAt = Date.now();
        memberLeftBeforeRelease = left;
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const polling = poll();
  return {
    /** Stops polling, once the release was seen or after 15 s. */
    stop: async () => {
      await Promise.race([polling, new Promise((r) => setTimeout(r, 15_000))]);
      stopped = true;
      await polling;
    },
    /** Once the release was seen (or after 15 s, when it never came): when, and whether the member had left by then. */
    result: async () => {
      await Promise.race([polling, new Promise((r) => setTimeout(r, 15_000))]);
      return { releasedAt, memberLeftBeforeRelease };
    },
  };
}

const input = { cluster: 'sim-1', namespace: NS, statefulSet: STS, member: MEMBER, releaseVolume: true };

describe('decommission-member end to end (dev server + worker + simulated Cassandra ring)', () => {
  it('refuses a namespace the fleet configuration does not declare (statefulNamespaces), before any side effect', async () => {
    const target = { cluster: 'sim-1', namespace: 'shop', statefulSet: STS, member: MEMBER };
    const workflowId = decommissionWorkflowId('sim-1', 'shop', STS);
    const { worker, close } = await inProcessWorker(stack);
    try {
      const failure = await failureOf(worker.runUntil(stack.client.workflow.execute(decommissionMember, { taskQueue: TASK_QUEUE, workflowId, args: [target] })));
      expect(failure).toMatchObject({ type: 'Refused', nonRetryable: true });
      expect(failure.message).toMatch(
        /^refused to decommission cassandra-3: namespace: shop is not a stateful-service namespace of cluster sim-1 in the fleet configuration \(statefulNamespaces: data\).*itinerant rbac render --cluster sim-1/,
      );
    } finally {
      await close();
    }
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    expect((history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['inspectDecommission']);
  });

  it('decommissions the highest member: issued once, left the ring, StatefulSet scaled down, volume released after', async () => {
    stack.sim.cassandra.faults.decommissionStreamMs = 4000;
    const before = counters();
    const volume = watchVolume();
    const { worker, close } = await inProcessWorker(stack);
    try {
      const result = await worker.runUntil(
        stack.client.workflow.execute(decommissionMember, { taskQueue: TASK_QUEUE, workflowId: decommissionWorkflowId('sim-1', NS, STS), args: [input] }),
      );
      expect(result).toMatchObject({ member: MEMBER, issued: 1, replicasBefore: 4, replicasAfter: 3, claims: [`data-${MEMBER}`], volume: 'released' });
      expect(result.stream?.bytesTotal).toBeGreaterThan(0);
    } finally {
      await close();
      await volume.stop();
    }
    expect(counters().issued - before.issued).toBe(1);
    expect(await replicas()).toBe(3);
    expect(await pod()).toBeUndefined();
    expect((await volume.result()).memberLeftBeforeRelease).toBe(true);
    expect(stack.sim.cassandra.ring(NS, STS)!.members.filter((m) => m.inRing)).toHaveLength(3);
    const events = (await core().listNamespacedEvent({ namespace: NS })).items.filter((e) => e.source?.component === 'itinerant' && e.involvedObject?.kind === 'StatefulSet' && e.involvedObject.name === STS)
      .sort((a, b) => new Date(a.firstTimestamp!).getTime() - new Date(b.firstTimestamp!).getTime());
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      `Decommissioning: ${MEMBER} is leaving the ring (decommissionMember ${decommissionWorkflowId('sim-1', NS, STS)})`,
      `MemberLeft: ${MEMBER} has left the ring (decommissionMember ${decommissionWorkflowId('sim-1', NS, STS)})`,
    ]);
  }, 180_000);

  it('garbled nodetool reads (30% of status/netstats cut short or missing rows): issued once, volume released only after the member left', async () => {
    await healthyRingOf(4);
    stack.sim.cassandra.faults.decommissionStreamMs = 12_000; // twice the reads of a 6 s stream: a 6 s one once saw none of its reads garbled at 30% (clean-clone run)
    const before = counters();
    const garbledBefore = stack.sim.cassandra.counters().garbledReads;
    const volume = watchVolume();
    const { worker, close } = await inProcessWorker(stack);
    stack.sim.cassandra.faults.garbledReadRate = 0.3;
    try {
      const result = await worker.runUntil(
        stack.client.workflow.execute(decommissionMember, { taskQueue: TASK_QUEUE, workflowId: decommissionWorkflowId('sim-1', NS, STS), args: [input] }),
      );
      expect(result).toMatchObject({ member: MEMBER, issued: 1, replicasAfter: 3, volume: 'released' });
    } finally {
      stack.sim.cassandra.faults.garbledReadRate = 0;
      await close();
      await volume.stop();
    }
    expect(stack.sim.cassandra.counters().garbledReads - garbledBefore).toBeGreaterThan(0);
    const after = counters();
    expect(after.issued - before.issued).toBe(1);
    expect(after.started - before.started).toBe(1);
    expect((await volume.result()).memberLeftBeforeRelease).toBe(true);
  }, 180_000);

  it('a worker SIGKILLed while streaming is replaced: decommission issued exactly once, volume released only after the member left', async () => {
    await healthyRingOf(4);
    stack.sim.cassandra.faults.decommissionStreamMs = 25_000;
    const before = counters();
    const volume = watchVolume();
    const handle = await stack.client.workflow.start(decommissionMember, {
      taskQueue: TASK_QUEUE,
      workflowId: decommissionWorkflowId('sim-1', NS, STS),
      args: [input],
    });
    let first: ChildProcess | undefined = spawnWorkerProcess(stack);
    let second: ChildProcess | undefined;
    try {
      await eventually(
        'streaming under way',
        async () => {
          giveUpIfExited(first);
          const p = await handle.query(decommissionProgressQuery);
          return p.phase === 'leaving' && current()?.mode === 'LEAVING' && (current()?.stream?.sentBytes ?? 0) > 0;
        },
        90_000,
        200,
      );
      await new Promise((r) => setTimeout(r, 1000));
      await stopWorkerProcess(first, 'SIGKILL');
      first = undefined;
      expect(current()?.mode).toBe('LEAVING');
      second = spawnWorkerProcess(stack);
      const result = await whileRunning(handle.result(), second, 'second worker');
      expect(result).toMatchObject({ member: MEMBER, issued: 1, replicasAfter: 3, volume: 'released' });
      const after = counters();
      expect(after.issued - before.issued).toBe(1);
      expect(after.started - before.started).toBe(1);
      expect((await volume.result()).memberLeftBeforeRelease).toBe(true);
      // The history shows the follow was picked up again by the second worker, and a single issue.
      const history = await handle.fetchHistory();
      const scheduled = (name: string) => history.events?.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name) ?? [];
      expect(scheduled('issueDecommission')).toHaveLength(1);
      const followIds = new Set(scheduled('followDecommission').map((e) => e.eventId?.toString()));
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes && followIds.has(e.activityTaskStartedEventAttributes.scheduledEventId?.toString()))
        .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
      expect(Math.max(...(attempts ?? [1]))).toBeGreaterThan(1);
    } finally {
      await volume.stop();
      await stopWorkerProcess(first, 'SIGKILL');
      await stopWorkerProcess(second, 'SIGTERM');
    }
  }, 240_000);

  it('streaming fails part-way (Cassandra 4.1: stays LEAVING): stuck, the operator restarts the pod and answers keepWaiting; NORMAL again → re-issued exactly once, reported, then it leaves', async () => {
    await healthyRingOf(4);
    stack.sim.cassandra.faults.decommissionStreamMs = 3000;
    stack.sim.cassandra.faults.failNextDecommission = 1; // armed for one attempt
    stack.sim.cassandra.faults.decommissionFailAt = 0.5;
    const before = counters();
    const memberId = current()!.hostId;
    const volume = watchVolume();
    const { worker, close } = await inProcessWorker(stack);
    try {
      await worker.runUntil(async () => {
        const handle = await stack.client.workflow.start(decommissionMember, {
          taskQueue: TASK_QUEUE,
          workflowId: decommissionWorkflowId('sim-1', NS, STS),
          args: [{ ...input, notStreamingAfter: '5s' }], // stuckAfter stays 30m: the failed stream is told apart, not waited out
        });
        // The stream fails half-way: nodetool exits non-zero, the member stays LEAVING with no stream (4.1 has no
        // DECOMMISSION_FAILED). The workflow never re-issues while LEAVING: it says the decommission failed and waits for an operator.
        const stuck = await eventually(
          'the workflow stuck on the failed stream',
          async () => {
            const p = await handle.query(decommissionProgressQuery);
            return p.phase === 'stuck' ? p : undefined;
          },
          60_000,
          200,
        );
        expect(stuck.mode).toBe('LEAVING');
        expect(stuck.issuedAt).toHaveLength(1);
        expect(Date.parse(stuck.stuckSince!) - Date.parse(stuck.issuedAt[0]!)).toBeLessThan(60_000); // not stuckAfter (30m)
        expect(stuck.log.map((l) => l.message)).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^stuck: Cassandra reports ${MEMBER} LEAVING but no longer streaming \\(netstats: "Not sending any streams\\."\\) for \\S+: ` +
                `the decommission most likely failed and ${MEMBER} will not leave on its own\\. Waiting for an operator: restart ${MEMBER} to bring it back to NORMAL .*answer keepWaiting.*or abort`,
            ),
          ),
        );
        expect(stuck.log.map((l) => l.message)).not.toContainEqual(expect.stringMatching(/no progress from/));
        expect(stack.sim.cassandra.faults.failNextDecommission).toBe(0);
        expect(current()).toMatchObject({ hostId: memberId, mode: 'LEAVING', inRing: true, decommission: { failed: 1, error: 'Error while decommissioning node: Stream failed' } });
        expect(current()?.stream).toBeUndefined();
        expect(counters().issued - before.issued).toBe(1);

        // The operator restarts the member: it comes back NORMAL, still in the ring (it never left), then says go on.
        await core().deleteNamespacedPod({ name: MEMBER, namespace: NS });
        await eventually('the member back NORMAL and Up after its restart', async () => {
          const m = current();
          return m?.hostId === memberId && m.mode === 'NORMAL' && m.state === 'Up' && m.inRing;
        }, 60_000, 200);
        expect(counters().issued - before.issued).toBe(1); // nothing issued while it was stuck or restarting
        // The operator answers with the CLI: an answer the runbook does not offer is refused, then keepWaiting.
        const wrong = await itinerant(stack.temporal.address, ['answer', handle.workflowId, 'retry'], stack.temporal.env).done;
        expect(wrong.code, wrong.stderr).toBe(2);
        expect(wrong.stderr).toMatch(/refused the answer: .*"retry" is not an answer to stuck-1; choose one of keepWaiting, abort/);
        const answered = await itinerant(stack.temporal.address, ['answer', handle.workflowId, 'keepWaiting', '--note', 'restarted it'], stack.temporal.env).done;
        expect(answered.code, answered.stderr).toBe(0);
        expect(answered.stdout).toMatch(/answered stuck-1 of .*: keepWaiting/);

        const result = await handle.result();
        expect(result).toMatchObject({ member: MEMBER, memberId, issued: 2, replicasBefore: 4, replicasAfter: 3, volume: 'released' });
        const after = counters();
        expect(after.issued - before.issued).toBe(2);
        expect(after.started - before.started).toBe(2);
        expect(after.failed - before.failed).toBe(1);

        // The explicit report: back to NORMAL without having left, and the one re-issue.
        const progress = await handle.query(decommissionProgressQuery);
        const log = progress.log.map((l) => l.message);
        expect(progress.phase).toBe('done');
        expect(progress.issuedAt).toHaveLength(2);
        const at = (re: RegExp) => log.findIndex((m) => re.test(m));
        const reported = at(new RegExp(`^${MEMBER} is NORMAL again without having left the ring`));
        const reissued = at(new RegExp(`^${MEMBER} is NORMAL although decommission was issued at .*: it has not left .*Re-issuing \\(re-issue 1\\)$`));
        expect(at(/^operator: keep waiting$/)).toBeGreaterThan(at(/^stuck: /));
        expect(reported).toBeGreaterThan(at(/^operator: keep waiting$/));
        expect(reissued).toBeGreaterThan(reported);
        expect(log.filter((m) => /Re-issuing/.test(m))).toHaveLength(1);
        expect(log.filter((m) => /^issued decommission of /.test(m))).toHaveLength(2);
        expect(at(new RegExp(`^${MEMBER} has left the ring`))).toBeGreaterThan(reissued);

        // History: two issue activities, the operator's answer between them (the refused answer is not in it: rejected by the validator).
        const history = await handle.fetchHistory();
        const events = history.events ?? [];
        const issues = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'issueDecommission').map((e) => Number(e.eventId));
        const answers = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'answer').map((e) => Number(e.eventId));
        expect(issues).toHaveLength(2);
        expect(answers).toHaveLength(1);
        expect(answers[0]).toBeGreaterThan(issues[0]!);
        expect(answers[0]).toBeLessThan(issues[1]!);
      });
    } finally {
      await close();
      await volume.stop();
    }
    expect(await replicas()).toBe(3);
    expect(await pod()).toBeUndefined();
    expect((await volume.result()).memberLeftBeforeRelease).toBe(true);
    const ring = stack.sim.cassandra.ring(NS, STS)!;
    expect(ring.members.filter((m) => m.inRing)).toHaveLength(3);
    expect(ring.members.find((m) => m.hostId === memberId)).toMatchObject({ mode: 'DECOMMISSIONED', inRing: false });
  }, 180_000);

  // The temporal-cluster test bed restarts its own services instead (test/temporal-cluster/restart.test.ts).
  it.skipIf(temporalFromEnv() === 'cluster')('the Temporal dev server restarted mid-stream (persistent sqlite, same port): the run finishes, issued exactly once', async () => {
    await healthyRingOf(4);
    stack.sim.cassandra.faults.decommissionStreamMs = 20_000;
    const dbFile = join(stack.home, 'temporal-restart.db');
    let server: DevServer = await startDevServer({ dbFile, port: 0, ui: false, logFile: join(stack.home, 'dev-server-restart.log') });
    const before = counters();
    const volume = watchVolume();
    let connection = await Connection.connect({ address: server.address });
    let client = new Client({ connection, namespace: server.namespace });
    const workflowId = decommissionWorkflowId('sim-1', NS, STS);
    await client.workflow.start(decommissionMember, { taskQueue: TASK_QUEUE, workflowId, args: [input] });
    let worker: ChildProcess | undefined = spawnWorkerProcess(stack, server);
    try {
      await eventually(
        'streaming under way',
        async () => {
          giveUpIfExited(worker);
          const p = await client.workflow.getHandle(workflowId).query(decommissionProgressQuery);
          return p.phase === 'leaving' && current()?.mode === 'LEAVING';
        },
        90_000,
        200,
      );
      await connection.close();
      await server.stop();
      await new Promise((r) => setTimeout(r, 2000));
      server = await startDevServer({ dbFile, port: server.port, ui: false, logFile: join(stack.home, 'dev-server-restart.log') });
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection, namespace: server.namespace });
      const result = await whileRunning(client.workflow.getHandle<typeof decommissionMember>(workflowId).result(), worker!);
      expect(result).toMatchObject({ member: MEMBER, issued: 1, replicasAfter: 3, volume: 'released' });
      expect(counters().issued - before.issued).toBe(1);
      expect((await volume.result()).memberLeftBeforeRelease).toBe(true);
    } finally {
      await volume.stop();
      await stopWorkerProcess(worker, 'SIGKILL');
      worker = undefined;
      await connection.close().catch(() => undefined);
      await server.stop();
    }
  }, 300_000);
});
