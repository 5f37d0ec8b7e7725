import { ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecommissionActivities } from '../../src/core/activity-contracts.js';
import type { DecommissionFacts, DecommissionMemberInput, FollowCheckpoint, FollowOutcome, MemberState } from '../../src/core/decommission.js';
import { abortSignal as abortDecommissionSignal, answerUpdate, pauseSignal, progressQueryOf, resumeSignal } from '../../src/workflows/runbook.js';
import type { DecommissionProgress } from '../../src/core/decommission.js';
import {
  decommissionMember,
  keepWaitingSignal,
} from '../../src/workflows/decommission-member.js';

const decommissionProgressQuery = progressQueryOf<DecommissionProgress>();
import { failureOf, recording, timeSkippingEnv, withWorker } from '../helpers/workflow-env.js';

const ring = (n: number, opts: { down?: number; leaving?: number } = {}) =>
  Array.from({ length: n }, (_, i) => ({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    address: `10.244.${i}.10`,
    up: opts.down !== i,
    state: opts.leaving === i ? ('leaving' as const) : ('normal' as const),
    group: 'datacenter1',
  }));

const healthy: DecommissionFacts = {
  statefulSetExists: true,
  replicas: 4,
  claimTemplates: ['data'],
  pods: [0, 1, 2, 3].map((i) => ({ name: `cassandra-${i}`, ordinal: i, phase: 'Running', ready: true, ip: `10.244.${i}.10` })),
  observer: 'cassandra-0',
  ring: ring(4),
  memberId: '00000000-0000-4000-8000-000000000003',
  memberGroup: 'datacenter1',
  memberState: { mode: 'NORMAL' },
  replication: [
    { what: 'keyspace shop', replicas: 3, group: 'datacenter1' },
    { what: 'keyspace system_auth', replicas: 1 },
  ],
};

const cp = (over: Partial<FollowCheckpoint> = {}): FollowCheckpoint => ({
  mode: 'DECOMMISSIONED',
  sawLeaving: true,
  inRing: false,
  lastProgressAt: Date.now(),
  stream: { bytesSent: 100, bytesTotal: 100, filesSent: 2, filesTotal: 2 },
  observer: 'cassandra-0',
  ...over,
});

type Overrides = Partial<DecommissionActivities>;
const MUTATING = ['claimStatefulSet', 'issueDecommission', 'scaleDownStatefulSet', 'deleteMemberClaims'];
const READ_ONLY = ['inspectDecommission', 'readMemberState'];

/** Stubs that record calls in order. readMemberState answers from `modes` in turn (the last one repeats). */
function stubs(calls: string[], over: Overrides = {}, facts: DecommissionFacts = healthy, modes: MemberState[] = [{ mode: 'NORMAL' }]): DecommissionActivities {
  let m = 0;
  const base: DecommissionActivities = {
    inspectDecommission: async () => facts,
    claimStatefulSet: async () => {},
    releaseStatefulSet: async () => {},
    readMemberState: async () => modes[Math.min(m++, modes.length - 1)]!,
    issueDecommission: async () => ({ issued: true, mode: 'LEAVING' }),
    followDecommission: async () => ({ outcome: 'left', checkpoint: cp() }),
    scaleDownStatefulSet: async ({ ordinal }) => ({ replicasBefore: ordinal + 1, replicasAfter: ordinal, changed: true }),
    waitForMemberPodGone: async () => ({ gone: true }),
    deleteMemberClaims: async ({ claims }) => ({ deleted: claims, absent: [] }),
  };
  return recording(calls, { ...base, ...over });
}

const input: DecommissionMemberInput = { cluster: 'sim-1', namespace: 'data', statefulSet: 'cassandra', member: 'cassandra-3' };
let env: TestWorkflowEnvironment;
let n = 0;

beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

function run<T>(activities: DecommissionActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
  n++;
  return withWorker(env, activities, body);
}

const execute = (acts: DecommissionActivities, args: unknown = input) =>
  run(acts, (taskQueue) => env.client.workflow.execute('decommissionMember', { taskQueue, workflowId: `wf-${n}`, args: [args] }));


const until = async (what: string, fn: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 400; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('decommissionMember workflow', () => {
  it('issues once, follows, scales down, waits for the pod, keeps the volume by default', async () => {
    const calls: string[] = [];
    const result = await execute(stubs(calls));
    expect(calls).toEqual([
      'inspectDecommission',
      'claimStatefulSet',
      'readMemberState',
      'issueDecommission',
      'followDecommission',
      'scaleDownStatefulSet',
      'waitForMemberPodGone',
      'releaseStatefulSet',
    ]);
    expect(result).toMatchObject({ member: 'cassandra-3', issued: 1, replicasBefore: 4, replicasAfter: 3, claims: ['data-cassandra-3'], volume: 'kept' });
    expect(result.note).toMatch(/volume data-cassandra-3 kept/);
  });

  it('releases the volume only when asked, and only after the member left and its pod is gone', async () => {
    const calls: string[] = [];
    const result = await execute(stubs(calls, {}, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]), { ...input, releaseVolume: true });
    expect(result.volume).toBe('released');
    expect(calls.slice(calls.indexOf('followDecommission'))).toEqual([
      'followDecommission',
      'scaleDownStatefulSet',
      'waitForMemberPodGone',
      'deleteMemberClaims',
      'releaseStatefulSet',
    ]);
  });

  it('refuses bad input before calling any activity, naming the field', async () => {
    const bad: [unknown, RegExp][] = [
      [{}, /cluster/],
      [{ ...input, member: 'cassandra' }, /member: expected a pod of StatefulSet cassandra/],
      [{ ...input, member: 'other-3' }, /member: expected a pod of StatefulSet cassandra/],
      [{ ...input, stuckAfter: 'soon' }, /stuckAfter: expected a duration/],
      [{ ...input, timeout: '1s' }, /timeout: expected a duration/],
      [{ ...input, notStreamingAfter: '1s' }, /notStreamingAfter: expected a duration/],
      [{ ...input, service: 'mysql' }, /service: expected one of cassandra/],
      [{ ...input, releaseVolume: 'yes' }, /releaseVolume: expected true or false/],
      [{ ...input, surprise: 1 }, /surprise/],
      ['cassandra-3', /expected a JSON object/],
    ];
    for (const [args, message] of bad) {
      const calls: string[] = [];
      const cause = await failureOf(execute(stubs(calls), args));
      expect(cause.type).toBe('InvalidInput');
      expect(cause.message).toMatch(/invalid decommissionMember input: /);
      expect(cause.message).toMatch(message);
      expect(calls).toEqual([]);
    }
  });

  it.each<[string, DecommissionFacts, RegExp]>([
    ['missing StatefulSet', { ...healthy, statefulSetExists: false }, /StatefulSet data\/cassandra does not exist/],
    ['another run holds it', { ...healthy, heldBy: 'decommission.sim-1.data.cassandra' }, /another decommission of StatefulSet data\/cassandra is running/],
    ['not the highest ordinal', { ...healthy, replicas: 5, pods: [...healthy.pods, { name: 'cassandra-4', ordinal: 4, ready: true }] }, /not the highest ordinal.*removes cassandra-4, never a lower ordinal/],
    ['member not in the StatefulSet', { ...healthy, replicas: 3, pods: healthy.pods.slice(0, 3) }, /not a current member/],
    ['a member down', { ...healthy, ring: ring(4, { down: 1 }) }, /ring is not healthy.*10\.244\.1\.10.*down\/normal/],
    ['a member leaving', { ...healthy, ring: ring(4, { leaving: 2 }) }, /ring is not healthy.*up\/leaving/],
    ['no other member answers', { ...healthy, ring: undefined, observer: undefined, ringError: 'cassandra-0: exec failed' }, /no member other than cassandra-3 could report/],
    ['member not NORMAL', { ...healthy, memberState: { mode: 'JOINING' } }, /cassandra-3 is JOINING, not NORMAL/],
    ['member not in the ring', { ...healthy, memberId: '99999999-0000-4000-8000-000000000000' }, /not in the cassandra ring/],
    ['too few members left', { ...healthy, replication: [{ what: 'keyspace shop', replicas: 4, group: 'datacenter1' }] }, /keyspace shop keeps 4 replicas in datacenter1; decommissioning cassandra-3 would leave 3 members/],
    ['replication unreadable', { ...healthy, replication: undefined, replicationError: 'cqlsh failed' }, /could not read the replication settings: cqlsh failed/],
  ])('refuses an unsafe decommission before any side effect: %s', async (_, facts, message) => {
    const calls: string[] = [];
    const cause = await failureOf(execute(stubs(calls, {}, facts)));
    expect(cause.type).toBe('Refused');
    expect(cause.message).toMatch(message);
    expect(calls).toEqual(['inspectDecommission']);
  });

  it('refuses when another run claims the StatefulSet first', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      claimStatefulSet: async () => {
        throw ApplicationFailure.nonRetryable('another decommission of StatefulSet data/cassandra is running (workflow x)', 'StatefulSetBusy');
      },
    });
    const cause = await failureOf(execute(acts));
    expect(cause.type).toBe('Refused');
    expect(cause.message).toMatch(/another decommission/);
    expect(calls.filter((c) => MUTATING.includes(c) && c !== 'claimStatefulSet')).toEqual([]);
  });

  it('member found LEAVING: follows it without issuing', async () => {
    const calls: string[] = [];
    const result = await execute(stubs(calls, {}, healthy, [{ mode: 'LEAVING', stream: { bytesSent: 1, bytesTotal: 10, filesSent: 0, filesTotal: 1 } }]));
    expect(calls).not.toContain('issueDecommission');
    expect(calls).toContain('followDecommission');
    expect(result.issued).toBe(0);
  });

  it('member found DECOMMISSIONED: confirms it left and goes straight to the scale-down', async () => {
    const calls: string[] = [];
    await execute(stubs(calls, {}, healthy, [{ mode: 'DECOMMISSIONED' }]));
    expect(calls.filter((c) => !READ_ONLY.includes(c))).toEqual(['claimStatefulSet', 'followDecommission', 'scaleDownStatefulSet', 'waitForMemberPodGone', 'releaseStatefulSet']);
  });

  it('member back to NORMAL after the decommission was issued: says so and re-issues once', async () => {
    const calls: string[] = [];
    let follows = 0;
    const acts = stubs(
      calls,
      {
        followDecommission: async () => (++follows === 1 ? { outcome: 'reverted', checkpoint: cp({ mode: 'NORMAL', inRing: true }) } : { outcome: 'left', checkpoint: cp() }),
      },
      healthy,
      [{ mode: 'NORMAL' }, { mode: 'NORMAL' }],
    );
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      const result = await handle.result();
      expect(result.issued).toBe(2);
      const progress = await handle.query(decommissionProgressQuery);
      expect(progress.issuedAt).toHaveLength(2);
      expect(progress.log.map((l) => l.message).join('\n')).toMatch(/cassandra-3 is NORMAL again without having left the ring/);
      expect(progress.log.map((l) => l.message).join('\n')).toMatch(/is NORMAL although decommission was issued at .*Re-issuing \(re-issue 1\)/);
    });
    expect(calls.filter((c) => c === 'issueDecommission')).toHaveLength(2);
  });

  it('an issue attempt lost with the worker: reads the mode and follows instead of issuing again', async () => {
    const calls: string[] = [];
    const acts = stubs(
      calls,
      {
        issueDecommission: async () => {
          throw ApplicationFailure.retryable('worker went away', 'Error');
        },
      },
      healthy,
      [{ mode: 'NORMAL' }, { mode: 'LEAVING' }],
    );
    const result = await execute(acts);
    expect(calls.filter((c) => c === 'issueDecommission')).toHaveLength(1);
    expect(result.issued).toBe(1);
  });

  it('a decommission that could not be started is retried, then put to an operator after stuckAfter', async () => {
    const calls: string[] = [];
    let attempts = 0;
    const acts = stubs(calls, {
      issueDecommission: async () => {
        if (++attempts <= 3) throw ApplicationFailure.nonRetryable('could not start nodetool decommission in cassandra-3: pod not running', 'NotIssued');
        return { issued: true, mode: 'LEAVING' };
      },
    });
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [{ ...input, stuckAfter: '1m' }] });
      await until('first attempt', () => attempts >= 1);
      // The workflow waits 30s between attempts: move the test server's clock on.
      for (let i = 0; i < 6 && (await handle.query(decommissionProgressQuery)).phase !== 'stuck'; i++) await env.sleep('30s');
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      const p = await handle.query(decommissionProgressQuery);
      expect(p.issuedAt).toEqual([]);
      expect(p.log.map((l) => l.message).join('\n')).toMatch(/stuck: could not issue the decommission for/);
      await handle.signal(keepWaitingSignal);
      const result = await handle.result();
      expect(result.issued).toBe(1);
    });
    expect(attempts).toBe(4);
  });

  it('a service that refuses the decommission fails the run without touching the StatefulSet', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      issueDecommission: async () => {
        throw ApplicationFailure.nonRetryable('nodetool decommission in cassandra-3 ended (exit 2): Not enough live nodes to maintain replication factor', 'DecommissionFailed');
      },
    });
    const cause = await failureOf(execute(acts));
    expect(cause.type).toBe('Failed');
    expect(cause.message).toMatch(/Not enough live nodes/);
    expect(calls).not.toContain('scaleDownStatefulSet');
    expect(calls).toContain('releaseStatefulSet');
  });

  it('stuck: reports it and waits for an operator; keepWaiting continues', async () => {
    const calls: string[] = [];
    let follows = 0;
    const acts = stubs(calls, {
      followDecommission: async (): Promise<FollowOutcome> =>
        ++follows === 1
          ? { outcome: 'stuck', checkpoint: cp({ mode: 'LEAVING', inRing: true, stream: { bytesSent: 5, bytesTotal: 10, filesSent: 1, filesTotal: 2 } }), stuckForMs: 1_800_000 }
          : { outcome: 'left', checkpoint: cp() },
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      await env.sleep('3h');
      const held = await handle.query(decommissionProgressQuery);
      expect(held.phase).toBe('stuck');
      expect(held.stream).toMatchObject({ bytesSent: 5, bytesTotal: 10, percent: 50 });
      expect(held.log.map((l) => l.message).join('\n')).toMatch(/stuck: no progress from cassandra-3 for 30m.*answer keepWaiting/);
      const described = await handle.describe();
      expect(described.searchAttributes['ItinerantPhase']).toEqual(['stuck']);
      expect(follows).toBe(1);
      expect(calls).not.toContain('scaleDownStatefulSet');
      await handle.signal(keepWaitingSignal);
      const result = await handle.result();
      expect(result.member).toBe('cassandra-3');
    });
    expect(follows).toBe(2);
  });

  it('stuck: abort stops without scaling down and says the decommission was issued', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      followDecommission: async () => ({ outcome: 'stuck', checkpoint: cp({ mode: 'LEAVING', inRing: true }), stuckForMs: 1_800_000 }),
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      await handle.signal(abortDecommissionSignal, 'streaming to a dead disk');
      const cause = await failureOf(handle.result());
      expect(cause.type).toBe('Aborted');
      expect(cause.message).toMatch(/aborted by operator: streaming to a dead disk; decommission was issued at .* volume data-cassandra-3 is kept/);
      expect((await handle.query(decommissionProgressQuery)).phase).toBe('aborted');
    });
    expect(calls).not.toContain('scaleDownStatefulSet');
    expect(calls).not.toContain('deleteMemberClaims');
    expect(calls).toContain('releaseStatefulSet');
  });

  it('stream failed (LEAVING, streaming nothing): reported as stuck with the reason and what to do; never re-issued while LEAVING', async () => {
    const calls: string[] = [];
    const requests: Parameters<DecommissionActivities['followDecommission']>[0][] = [];
    const acts = stubs(calls, {
      followDecommission: async (req): Promise<FollowOutcome> => {
        requests.push(req);
        switch (requests.length) {
          case 1:
            return {
              outcome: 'streamFailed',
              checkpoint: cp({ mode: 'LEAVING', inRing: true, stream: { bytesSent: 5, bytesTotal: 10, filesSent: 1, filesTotal: 2 }, idleSince: Date.now() - 300_000, idlePolls: 150 }),
              idleForMs: 300_000,
            };
          case 2: // the operator restarted the member: NORMAL again, still in the ring
            return { outcome: 'reverted', checkpoint: cp({ mode: 'NORMAL', inRing: true }) };
          default:
            return { outcome: 'left', checkpoint: cp() };
        }
      },
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'NORMAL' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [{ ...input, notStreamingAfter: '5m' }] });
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      await env.sleep('3h');
      const held = await handle.query(decommissionProgressQuery);
      expect(held).toMatchObject({ phase: 'stuck', mode: 'LEAVING', stream: { bytesSent: 5, bytesTotal: 10, percent: 50 } });
      expect(held.issuedAt).toHaveLength(1);
      const said = held.log.map((l) => l.message).join('\n');
      expect(said).toMatch(
        /stuck: Cassandra reports cassandra-3 LEAVING but no longer streaming \(netstats: "Not sending any streams\."\) for 5m: the decommission most likely failed and cassandra-3 will not leave on its own\. Waiting for an operator: restart cassandra-3 to bring it back to NORMAL .*then answer keepWaiting.*or abort with a reason/,
      );
      expect(said).not.toMatch(/no progress from/);
      expect((await handle.describe()).searchAttributes['ItinerantPhase']).toEqual(['stuck']);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ notStreamingAfterMs: 300_000, stuckAfterMs: 1_800_000 });
      expect(calls.filter((c) => c === 'issueDecommission')).toHaveLength(1);
      await handle.signal(keepWaitingSignal);
      const result = await handle.result();
      expect(result.issued).toBe(2);
      const log = (await handle.query(decommissionProgressQuery)).log.map((l) => l.message);
      const at = (re: RegExp) => log.findIndex((m) => re.test(m));
      expect(at(/^operator: keep waiting$/)).toBeGreaterThan(at(/^stuck: Cassandra reports/));
      expect(at(/Re-issuing \(re-issue 1\)$/)).toBeGreaterThan(at(/is NORMAL again without having left the ring/));
    });
    // The follow after keepWaiting starts its idle clock afresh.
    expect(requests[1]!.from).toMatchObject({ mode: 'LEAVING' });
    expect(requests[1]!.from?.idleSince).toBeUndefined();
    expect(requests[1]!.from?.idlePolls).toBeUndefined();
    expect(calls.filter((c) => c === 'issueDecommission')).toHaveLength(2);
  });

  it('stream failed: abort stops without scaling down', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      followDecommission: async () => ({ outcome: 'streamFailed', checkpoint: cp({ mode: 'LEAVING', inRing: true }), idleForMs: 300_000 }),
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      await handle.signal(abortDecommissionSignal, 'will finish by hand');
      const cause = await failureOf(handle.result());
      expect(cause.type).toBe('Aborted');
      expect(cause.message).toMatch(/aborted by operator: will finish by hand; decommission was issued at /);
    });
    expect(calls.filter((c) => c === 'issueDecommission')).toHaveLength(1);
    expect(calls).not.toContain('scaleDownStatefulSet');
    expect(calls).toContain('releaseStatefulSet');
  });

  it('abort while following cancels the follow and never scales down', async () => {
    const calls: string[] = [];
    let cancelled = false;
    const acts = stubs(calls, {
      followDecommission: async () => {
        try {
          for (;;) {
            heartbeat();
            await sleep(100);
          }
        } catch (e) {
          cancelled = true;
          throw e;
        }
      },
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('following', () => calls.includes('followDecommission'));
      await handle.signal(abortDecommissionSignal, 'wrong member');
      const cause = await failureOf(handle.result());
      expect(cause.type).toBe('Aborted');
    });
    expect(cancelled).toBe(true);
    expect(calls).not.toContain('scaleDownStatefulSet');
  });

  it('progress reports mode and bytes streamed while following', async () => {
    const calls: string[] = [];
    let follows = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const acts = stubs(calls, {
      followDecommission: async (): Promise<FollowOutcome> => {
        if (++follows === 1) return { outcome: 'progress', checkpoint: cp({ mode: 'LEAVING', inRing: true, stream: { bytesSent: 300, bytesTotal: 1000, filesSent: 1, filesTotal: 4 } }) };
        await gate;
        return { outcome: 'left', checkpoint: cp() };
      },
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('second follow', () => follows === 2);
      const p = await handle.query(decommissionProgressQuery);
      expect(p).toMatchObject({ phase: 'leaving', mode: 'LEAVING', stream: { bytesSent: 300, bytesTotal: 1000, filesSent: 1, filesTotal: 4, percent: 30 } });
      expect(p.issuedAt).toHaveLength(1);
      // Elapsed is workflow time since the start: it covers everything recorded so far, and no more than the server's clock.
      // (The gate is opened whatever they find: a failed assertion must not leave the worker waiting on the follow.)
      const recorded = [...p.issuedAt, ...p.log.map((l) => l.at)].map((t) => Date.parse(t));
      const serverNow = await env.currentTimeMs();
      release();
      expect(Date.parse(p.startedAt) + p.elapsedMs).toBeGreaterThanOrEqual(Math.max(...recorded));
      expect(Date.parse(p.startedAt) + p.elapsedMs).toBeLessThanOrEqual(serverNow);
      await handle.result();
      expect((await handle.query(decommissionProgressQuery)).phase).toBe('done');
    });
  });

  it('stuck: the question is answered through the answer update; an answer it does not offer is refused by the validator', async () => {
    const calls: string[] = [];
    let follows = 0;
    const acts = stubs(calls, {
      followDecommission: async (): Promise<FollowOutcome> =>
        ++follows === 1 ? { outcome: 'stuck', checkpoint: cp({ mode: 'LEAVING', inRing: true }), stuckForMs: 1_800_000 } : { outcome: 'left', checkpoint: cp() },
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      const { question } = await handle.query(decommissionProgressQuery);
      expect(question).toMatchObject({ id: 'stuck-1', onDeadline: 'abort' });
      expect(Object.keys(question!.options)).toEqual(['keepWaiting', 'abort']);
      const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { cause?: Error }) => e.cause?.message);
      expect(await refusal(handle.executeUpdate(answerUpdate, { args: [{ option: 'carryOn' }] }))).toBe('"carryOn" is not an answer to stuck-1; choose one of keepWaiting, abort');
      expect(await refusal(handle.executeUpdate(answerUpdate, { args: [{ option: 'keepWaiting', questionId: 'stuck-7' }] }))).toBe('question stuck-7 is no longer pending (pending: stuck-1)');
      expect((await handle.query(decommissionProgressQuery)).phase).toBe('stuck');
      expect(follows).toBe(1);
      const answered = await handle.executeUpdate(answerUpdate, { args: [{ option: 'keepWaiting', by: 'test', note: 'it streams again' }] });
      expect(answered).toEqual({ questionId: 'stuck-1', option: 'keepWaiting' });
      const result = await handle.result();
      expect(result.member).toBe('cassandra-3');
      const after = await handle.query(decommissionProgressQuery);
      expect(after.question).toBeUndefined();
      expect(after.log.map((l) => l.message)).toContain('test answered stuck-1: keepWaiting (it streams again)');
    });
    expect(follows).toBe(2);
  });

  it('stuck: answering abort stops without scaling down', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      followDecommission: async (): Promise<FollowOutcome> => ({ outcome: 'stuck', checkpoint: cp({ mode: 'LEAVING', inRing: true }), stuckForMs: 1_800_000 }),
    }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      await until('stuck', async () => (await handle.query(decommissionProgressQuery)).phase === 'stuck');
      await handle.executeUpdate(answerUpdate, { args: [{ option: 'abort', note: 'disk is gone' }] });
      const cause = await failureOf(handle.result());
      expect(cause.type).toBe('Aborted');
      expect(cause.message).toMatch(/^aborted by operator: disk is gone; decommission was issued at /);
    });
    expect(calls).not.toContain('scaleDownStatefulSet');
    expect(calls.at(-1)).toBe('releaseStatefulSet');
  });

  it('progress.elapsedMs counts workflow time: a recheck timer skipped on the test server is in it', async () => {
    const calls: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const acts = stubs(calls, {
      followDecommission: async (): Promise<FollowOutcome> => {
        await gate;
        return { outcome: 'left', checkpoint: cp() };
      },
    }, healthy, [{ mode: 'JOINING' }, { mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(decommissionMember, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      // JOINING: neither serving nor leaving, so the workflow asks again after a timer. Skip the server's clock past it.
      let timerMs = 0;
      await until('the recheck timer', async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const timer = events.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes?.startToFireTimeout;
        timerMs = timer ? Number(timer.seconds ?? 0) * 1000 + Math.floor((timer.nanos ?? 0) / 1e6) : 0;
        return timerMs > 0;
      });
      await env.sleep(timerMs);
      await until('following', () => calls.includes('followDecommission'));
      const p = await handle.query(decommissionProgressQuery);
      const serverNow = await env.currentTimeMs();
      release(); // before the assertions: a failed one must not leave the worker waiting on the follow
      expect(calls.filter((c) => c === 'readMemberState')).toHaveLength(2);
      expect(p.issuedAt).toHaveLength(1);
      // Issued after the timer, and elapsed counts it: at least the timer, at most the server's clock since the start.
      expect(Date.parse(p.issuedAt[0]!) - Date.parse(p.startedAt)).toBeGreaterThanOrEqual(timerMs);
      expect(p.elapsedMs).toBeGreaterThanOrEqual(timerMs);
      expect(Date.parse(p.startedAt) + p.elapsedMs).toBeGreaterThanOrEqual(Date.parse(p.issuedAt[0]!));
      expect(Date.parse(p.startedAt) + p.elapsedMs).toBeLessThanOrEqual(serverNow);
      await handle.result();
    });
  });

  it('pause holds before the decommission is issued; resume issues it', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {}, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.signalWithStart(decommissionMember, {
        taskQueue,
        workflowId: `wf-${n}`,
        args: [input],
        signal: pauseSignal,
        signalArgs: ['backup running'],
      });
      // It has read the member (NORMAL: issue next) and holds at the gate before issuing. No env.sleep here: a run
      // left open by an earlier test whose worker is gone would hold the test server's clock.
      await until('the member read', () => calls.includes('readMemberState'));
      await new Promise((r) => setTimeout(r, 1000));
      expect(await handle.query(decommissionProgressQuery)).toMatchObject({ phase: 'validating', paused: true, issuedAt: [] });
      expect(calls).not.toContain('issueDecommission');
      await handle.signal(resumeSignal);
      expect((await handle.result()).issued).toBe(1);
    });
  });

  it('does not scale down when the follow times out', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, { followDecommission: async () => ({ outcome: 'timeout', checkpoint: cp({ mode: 'LEAVING', inRing: true }) }) }, healthy, [{ mode: 'NORMAL' }, { mode: 'LEAVING' }]);
    const cause = await failureOf(execute(acts));
    expect(cause.type).toBe('TimedOut');
    expect(calls).not.toContain('scaleDownStatefulSet');
  });
});
