// The decommission activities against the simulated fleet's Cassandra ring (nodetool and cqlsh over
// the pods/exec WebSocket API, StatefulSet and claims over the Kubernetes API). The tests run in order
// on one ring: cassandra-3 is decommissioned for real along the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decommissionActivities } from '../../src/activities/decommission.js';
import { ClientRegistry } from '../../src/activities/clients.js';
import { checkDecommission, type FollowCheckpoint, type FollowOutcome, type MemberState, type StatefulMemberRef, type StatefulServiceAdapter } from '../../src/core/decommission.js';
import { counterValue, expectNonRetryable, failActivity, runActivity, startFixture, waitFor, type Fixture } from './helpers.js';

let f: Fixture;
let acts: ReturnType<typeof decommissionActivities>;
let ref: StatefulMemberRef;
const issued = () => f.sim.cassandra.counters().decommissionIssued['data/cassandra-3'] ?? 0;

beforeAll(async () => {
  f = await startFixture();
  acts = decommissionActivities({ clients: new ClientRegistry(f.fleet), isWorkflowRunning: async (id) => f.running.has(id), pollMs: 100 });
  ref = { cluster: f.cluster, namespace: 'data', statefulSet: 'cassandra', member: 'cassandra-3', service: 'cassandra' };
  await waitFor(
    'a healthy ring of 4',
    () => {
      const r = f.sim.cassandra.ring('data', 'cassandra');
      return r?.members.length === 4 && r.members.every((m) => m.state === 'Up' && m.mode === 'NORMAL');
    },
    30_000,
  );
});
afterAll(async () => {
  await f?.stop();
});

describe('decommission activities against the simulated Cassandra ring', () => {
  let memberId = '';
  let observers: string[] = [];

  it('inspects the StatefulSet, the ring from another member, replication and the member', async () => {
    const { result: facts } = await runActivity(acts.inspectDecommission, [{ ...ref, owner: 'wf-a' }]);
    expect(facts).toMatchObject({ statefulSetExists: true, replicas: 4, claimTemplates: ['data'], observer: 'cassandra-0', memberState: { mode: 'NORMAL' } });
    expect(facts.ring).toHaveLength(4);
    expect(facts.ring!.map((m) => m.id)).toContain(facts.memberId);
    expect(facts.ring!.find((m) => m.id === facts.memberId)!.address).toBe(facts.pods.find((p) => p.name === 'cassandra-3')!.ip);
    expect(Math.max(...facts.replication!.map((r) => r.replicas))).toBe(3);
    const decision = checkDecommission(facts, ref);
    expect(decision).toMatchObject({ ok: true, ordinal: 3, claims: ['data-cassandra-3'] });
    if (decision.ok) ({ memberId, observers } = decision);
    expect(observers[0]).toBe('cassandra-0');
    expect(observers).not.toContain('cassandra-3');

    const lower = checkDecommission((await runActivity(acts.inspectDecommission, [{ ...ref, member: 'cassandra-1', owner: 'wf-a' }])).result, { ...ref, member: 'cassandra-1' });
    expect(lower).toMatchObject({ ok: false, message: expect.stringMatching(/not the highest ordinal.*removes cassandra-3/) });
  });

  it('refuses a namespace the fleet configuration does not declare without reading anything there', async () => {
    const undeclared = { ...ref, namespace: 'kube-system', statefulSet: 'etcd', member: 'etcd-0' };
    const { result: facts } = await runActivity(acts.inspectDecommission, [{ ...undeclared, owner: 'wf-a' }]);
    expect(facts).toEqual({ statefulSetExists: false, replicas: 0, claimTemplates: [], pods: [], namespaceNotDeclared: { declared: ['data'] } });
    expect(checkDecommission(facts, undeclared)).toMatchObject({ ok: false, field: 'namespace', message: expect.stringMatching(/^kube-system is not a stateful-service namespace/) });
  });

  it('claims the StatefulSet for one run at a time', async () => {
    await runActivity(acts.claimStatefulSet, [{ ...ref, owner: 'wf-a' }]);
    await runActivity(acts.claimStatefulSet, [{ ...ref, owner: 'wf-a' }]);
    f.running.add('wf-a');
    const { error } = await failActivity(acts.claimStatefulSet, [{ ...ref, owner: 'wf-b' }]);
    expect(expectNonRetryable(error, 'StatefulSetBusy').message).toMatch(/workflow wf-a/);
    expect((await runActivity(acts.inspectDecommission, [{ ...ref, owner: 'wf-b' }])).result.heldBy).toBe('wf-a');
    // a claim left by a run that is no longer running is taken over
    f.running.delete('wf-a');
    await runActivity(acts.claimStatefulSet, [{ ...ref, owner: 'wf-b' }]);
    await runActivity(acts.releaseStatefulSet, [{ ...ref, owner: 'wf-b' }]);
    expect(f.sim.kube.store.get('statefulsets', 'data', 'cassandra')?.metadata.annotations?.['itinerant.dev/decommission-owner']).toBeUndefined();
  });

  it('issues nodetool decommission once and returns as soon as the member is LEAVING', async () => {
    f.sim.cassandra.faults.decommissionStreamMs = 4000;
    expect((await runActivity(acts.readMemberState, [ref])).result.mode).toBe('NORMAL');
    const t0 = Date.now();
    const { result } = await runActivity(acts.issueDecommission, [{ ...ref, waitForLeavingMs: 20_000 }]);
    expect(result).toEqual({ issued: true, mode: 'LEAVING' });
    expect(Date.now() - t0).toBeLessThan(4000); // did not wait for the blocking command
    expect(issued()).toBe(1);
    // asked again (a retry, a second worker): the member is not NORMAL, nothing is issued
    expect((await runActivity(acts.issueDecommission, [{ ...ref, waitForLeavingMs: 20_000 }])).result).toEqual({ issued: false, mode: 'LEAVING' });
    expect(issued()).toBe(1);
  });

  it('follows the stream to the end, heartbeating progress, and confirms the member left the ring', async () => {
    const streamedBefore = await counterValue('itinerant_decommission_bytes_streamed_total', { cluster: ref.cluster });
    const { result, heartbeats } = await runActivity(acts.followDecommission, [
      { ...ref, memberId, observers, stuckAfterMs: 60_000, notStreamingAfterMs: 60_000, reportEveryMs: 600_000, deadline: Date.now() + 120_000 },
    ]);
    expect(result.outcome).toBe('left');
    expect(result.checkpoint).toMatchObject({ mode: 'DECOMMISSIONED', sawLeaving: true, inRing: false, observer: 'cassandra-0' });
    const sent = (heartbeats as (FollowCheckpoint | undefined)[]).map((h) => h?.stream?.bytesSent).filter((b): b is number => b !== undefined);
    expect(sent.length).toBeGreaterThan(2);
    expect(new Set(sent).size).toBeGreaterThan(1); // bytes went up while streaming
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(result.checkpoint.stream!.bytesTotal).toBeGreaterThan(0);
    // The metric counts what the member was seen to send, once.
    expect((await counterValue('itinerant_decommission_bytes_streamed_total', { cluster: ref.cluster })) - streamedBefore).toBe(result.checkpoint.stream!.bytesSent);
    expect(issued()).toBe(1);
    expect((await runActivity(acts.readMemberState, [ref])).result.mode).toBe('DECOMMISSIONED');
    // a retried follow resumes from its heartbeat and returns at once
    const again = await runActivity(acts.followDecommission, [{ ...ref, memberId, observers, stuckAfterMs: 60_000, notStreamingAfterMs: 60_000, reportEveryMs: 600_000, deadline: Date.now() + 60_000 }], {
      heartbeatDetails: result.checkpoint,
    });
    expect(again.result.outcome).toBe('left');
    expect(issued()).toBe(1);
  });

  it('keeps the volume until the pod is gone, scales down idempotently, then releases the claim', async () => {
    expect(f.sim.kube.store.get('persistentvolumeclaims', 'data', 'data-cassandra-3')).toBeDefined();
    const { error } = await failActivity(acts.deleteMemberClaims, [{ ...ref, claims: ['data-cassandra-3'] }]);
    expect(expectNonRetryable(error, 'PodStillExists').message).toMatch(/still exists/);
    expect((await runActivity(acts.scaleDownStatefulSet, [{ ...ref, ordinal: 3 }])).result).toEqual({ replicasBefore: 4, replicasAfter: 3, changed: true });
    expect((await runActivity(acts.scaleDownStatefulSet, [{ ...ref, ordinal: 3 }])).result.changed).toBe(false);
    const wrong = await failActivity(acts.scaleDownStatefulSet, [{ ...ref, member: 'cassandra-1', ordinal: 1 }]);
    expect(expectNonRetryable(wrong.error, 'UnexpectedReplicas').message).toMatch(/has 3 replicas, not 2/);
    await runActivity(acts.waitForMemberPodGone, [{ ...ref, deadline: Date.now() + 30_000 }]);
    expect((await runActivity(acts.deleteMemberClaims, [{ ...ref, claims: ['data-cassandra-3'] }])).result).toEqual({ deleted: ['data-cassandra-3'], absent: [] });
    await waitFor('claim gone', () => !f.sim.kube.store.get('persistentvolumeclaims', 'data', 'data-cassandra-3'));
    expect((await runActivity(acts.deleteMemberClaims, [{ ...ref, claims: ['data-cassandra-3'] }])).result).toEqual({ deleted: [], absent: ['data-cassandra-3'] });
  });

  it('refuses the next member: three left would fall below a replication factor of 3', async () => {
    const next = { ...ref, member: 'cassandra-2' };
    const { result: facts } = await runActivity(acts.inspectDecommission, [{ ...next, owner: 'wf-c' }]);
    expect(facts.ring).toHaveLength(3);
    expect(checkDecommission(facts, next)).toMatchObject({ ok: false, message: expect.stringMatching(/keeps 3 replicas in dc1; decommissioning cassandra-2 would leave 2 members/) });
  });

  it('reports a stalled stream as stuck instead of waiting forever', async () => {
    // grow the ring back to 4 with a new member (it joins on a fresh volume), then stall its decommission
    const sts = f.sim.kube.store.get('statefulsets', 'data', 'cassandra')!;
    f.sim.kube.store.update('statefulsets', { ...sts, spec: { ...sts.spec, replicas: 4 } });
    await waitFor(
      'cassandra-3 NORMAL again',
      () => {
        const m = f.sim.cassandra.member('data', 'cassandra-3');
        return m?.mode === 'NORMAL' && m.state === 'Up';
      },
      30_000,
    );
    const { result: facts } = await runActivity(acts.inspectDecommission, [{ ...ref, owner: 'wf-d' }]);
    const decision = checkDecommission(facts, ref);
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    f.sim.cassandra.faults.stallDecommission = true;
    expect((await runActivity(acts.issueDecommission, [{ ...ref, waitForLeavingMs: 20_000 }])).result.issued).toBe(true);
    const t0 = Date.now();
    const { result } = await runActivity(acts.followDecommission, [
      { ...ref, memberId: decision.memberId, observers: decision.observers, stuckAfterMs: 1500, notStreamingAfterMs: 60_000, reportEveryMs: 600_000, deadline: Date.now() + 60_000 },
    ]);
    expect(result.outcome).toBe('stuck');
    expect((result as Extract<FollowOutcome, { outcome: 'stuck' }>).stuckForMs).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(result.checkpoint.mode).toBe('LEAVING');
    expect(result.checkpoint.inRing).toBe(true);
    f.sim.cassandra.faults.stallDecommission = false;
  });

  it('tells a failed stream (LEAVING, "Not sending any streams.") from a slow start, and reports it without waiting for stuckAfter', async () => {
    // A member that streams for a moment, then sits LEAVING with nothing to send, as Cassandra 4.1 does after "Stream failed".
    const states: MemberState[] = [
      { mode: 'LEAVING', notStreaming: true }, // streams not started yet
      { mode: 'LEAVING', stream: { bytesSent: 10, bytesTotal: 100, filesSent: 0, filesTotal: 2 } },
      { mode: 'LEAVING', stream: { bytesSent: 50, bytesTotal: 100, filesSent: 1, filesTotal: 2 } },
    ];
    let polls = 0;
    const fake: StatefulServiceAdapter = {
      service: 'fake',
      ring: async () => [{ id: 'm-3', address: '10.0.0.3', up: true, state: 'leaving', group: 'dc1' }],
      identify: async () => ({ id: 'm-3' }),
      state: async () => states[polls++] ?? { mode: 'LEAVING', notStreaming: true },
      replication: async () => [],
      decommissionCommand: () => ['true'],
    };
    const fakeActs = decommissionActivities({ clients: new ClientRegistry(f.fleet), isWorkflowRunning: async () => false, pollMs: 50, adapters: { fake } });
    const req = { ...ref, service: 'fake' as never, memberId: 'm-3', observers: ['cassandra-0'], stuckAfterMs: 3_600_000, notStreamingAfterMs: 300, reportEveryMs: 600_000, deadline: Date.now() + 60_000 };
    const t0 = Date.now();
    const { result } = await runActivity(fakeActs.followDecommission, [req]);
    expect(result.outcome).toBe('streamFailed');
    expect((result as Extract<FollowOutcome, { outcome: 'streamFailed' }>).idleForMs).toBeGreaterThanOrEqual(300);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(polls).toBeGreaterThanOrEqual(3 + 3); // the idle poll before streaming did not count: three idle polls after it
    expect(result.checkpoint).toMatchObject({ mode: 'LEAVING', inRing: true, stream: { bytesSent: 50 }, idlePolls: expect.any(Number) });

    // One idle poll is not enough, however long notStreamingAfter has passed: a stream still under way is no failure.
    polls = 0;
    states.splice(0, states.length, { mode: 'LEAVING', notStreaming: true }, ...Array.from({ length: 100 }, (_, i) => ({ mode: 'LEAVING' as const, stream: { bytesSent: i, bytesTotal: 100, filesSent: 0, filesTotal: 1 } })));
    const streaming = await runActivity(fakeActs.followDecommission, [{ ...req, notStreamingAfterMs: 1, reportEveryMs: 1_000 }]);
    expect(streaming.result.outcome).toBe('progress');
    expect(streaming.result.checkpoint.idleSince).toBeUndefined();
  });

  it('a truncated ring read never counts as "the member has left": DECOMMISSIONED but the read lacks rows → no "left" until a believable read', async () => {
    let reads = 0;
    const full = ['m-0', 'm-1', 'm-2'].map((id) => ({ id, address: `10.0.0.${id.slice(2)}`, up: true, state: 'normal' as const, group: 'dc1' }));
    const fake: StatefulServiceAdapter = {
      service: 'fake',
      // First a header with no rows, then a read missing the observer's own row, then the real ring without the member.
      ring: async () => [[], full.slice(1), full][Math.min(reads++, 2)]!,
      identify: async () => ({ id: 'm-0' }),
      state: async () => ({ mode: 'DECOMMISSIONED' }),
      replication: async () => [],
      decommissionCommand: () => ['true'],
    };
    const fakeActs = decommissionActivities({ clients: new ClientRegistry(f.fleet), isWorkflowRunning: async () => false, pollMs: 50, adapters: { fake } });
    const req = { ...ref, service: 'fake' as never, memberId: 'm-3', observers: ['cassandra-0'], stuckAfterMs: 3_600_000, notStreamingAfterMs: 3_600_000, reportEveryMs: 600_000, deadline: Date.now() + 60_000, ringSize: 4 };
    const { result } = await runActivity(fakeActs.followDecommission, [req]);
    expect(result.outcome).toBe('left');
    expect(reads).toBe(3); // the two unbelievable reads were not taken for "left"
  });
});
