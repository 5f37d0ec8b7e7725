import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repaverLaneWorkflowId } from '../../src/core/ids.js';
import type { LaneState, RepaverLaneInput } from '../../src/core/lane/index.js';
import { SA_PHASE } from '../../src/core/search-attributes.js';
import {
  PATCH_LANE_KEYRINGS,
  sweepNowSignal,
  laneStateQuery,
  reportUnhealthySignal,
  requireKeyringSignal,
  resetCircuitBreakerSignal,
  setDesiredImageSignal,
  setPaceUpdate,
} from '../../src/workflows/repaver-lane.js';
import { pauseSignal, resumeSignal } from '../../src/workflows/runbook.js';
import { timeSkippingEnv } from '../helpers/workflow-env.js';
import { FAKE_CHANNEL_IMAGE, FakeGroup, makeGroup } from './repaver-fakes.js';

const H = 3_600_000;
const M = 60_000;
const D = 24 * H;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let n = 0;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [env, bundle] = await Promise.all([
    timeSkippingEnv(),
    bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./repaver-stub-workflows.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
    }),
  ]);
});
afterAll(async () => {
  await env?.teardown();
});

async function withLane<T>(fake: FakeGroup, input: Partial<RepaverLaneInput>, body: (h: Awaited<ReturnType<typeof start>>) => Promise<T>): Promise<T> {
  const taskQueue = `repaver-lane-${++n}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities() });
  async function start() {
    return env.client.workflow.start('repaverLane', {
      taskQueue,
      workflowId: `${repaverLaneWorkflowId('sim-1', fake.group.name)}-${n}`,
      args: [{ cluster: 'sim-1', group: fake.group.name, ...input } satisfies RepaverLaneInput],
    });
  }
  return worker.runUntil(async () => {
    const handle = await start();
    try {
      return await body(handle);
    } finally {
      // Repaves still in flight outlive the lane (abandoned): end them too, or their timers keep the next test's
      // time-skipping server waiting for a worker that is gone.
      const inFlight = await state(handle).then((s) => s.inFlight, () => []);
      await handle.terminate('test over').catch(() => undefined);
      for (const f of inFlight) await env.client.workflow.getHandle(f.workflowId).terminate('test over').catch(() => undefined);
    }
  });
}

const state = (h: { query: (q: typeof laneStateQuery) => Promise<LaneState> }) => h.query(laneStateQuery);

describe('repaverLane (time-skipping, stub repaveNode)', () => {
  it('over two simulated weeks repaves every node once per maxAge and never exceeds the budget; continues as new on the way', async () => {
    const group = makeGroup({ size: 6, maxAge: '24h', maxSurge: 2, maxUnavailable: 2, maxUnhealthy: '50%', sweepInterval: '1h' });
    const fake = new FakeGroup(group);
    const t0 = await env.currentTimeMs();
    // Pairs of the same age in different fault domains: the lane repaves two at once.
    for (let i = 0; i < 6; i++) fake.add(`general-${i}`, t0 - Math.floor(i / 2) * 8 * H, `FAULT-DOMAIN-${(i % 3) + 1}`);
    await withLane(fake, { pace: { concurrency: 2 }, sweepsPerRun: 40 }, async (h) => {
      await env.sleep(14 * D);
      const s = await state(h);
      const end = await env.currentTimeMs();
      expect(fake.maxInFlight).toBeLessThanOrEqual(2);
      expect(fake.maxInFlight).toBe(2); // the budget is used, not just respected
      // Every repave started when the node had just passed maxAge (within a sweep interval and a repave of slack).
      for (const r of fake.repaves) {
        expect(r.ageMs).toBeGreaterThanOrEqual(24 * H);
        expect(r.ageMs).toBeLessThan(26 * H);
      }
      // Each of the 6 lineages is repaved about once a day: 14 days → 13 or 14 times each.
      expect(fake.repaves.length).toBeGreaterThanOrEqual(6 * 13);
      expect(fake.repaves.length).toBeLessThanOrEqual(6 * 14);
      for (const x of fake.nodes.values()) expect(end - x.createdAt).toBeLessThan(26 * H);
      expect(fake.nodes.size).toBe(6);
      // Continue-as-new happened and the totals survived it.
      expect(s.runs).toBeGreaterThan(2);
      expect(s.totals.started).toBe(fake.repaves.length);
      expect(s.totals.replaced).toBeGreaterThanOrEqual(fake.repaves.length - 2);
      expect(s.history.length).toBeGreaterThan(0);
      expect(s.history.length).toBeLessThanOrEqual(100);
    });
  });

  it('the circuit breaker trips when too much is unhealthy, recovers by itself, and an operator can reset it', async () => {
    const fake = new FakeGroup(makeGroup({ size: 4, maxUnhealthy: 1 }));
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 4; i++) fake.add(`general-${i}`, t0 - i * D, `FAULT-DOMAIN-${(i % 3) + 1}`);
    await withLane(fake, {}, async (h) => {
      await env.sleep(30 * M);
      expect(fake.repaves).toEqual([]);

      // Two of four NotReady: more than maxUnhealthy 1.
      let t = await env.currentTimeMs();
      fake.setReady('general-0', false, t);
      fake.setReady('general-1', false, t);
      await env.sleep(20 * M);
      let s = await state(h);
      expect(s.breaker.open).toBe(true);
      expect(s.breaker.reason).toMatch(/2 of 4 nodes of group general are unhealthy \(general-0, general-1\); maxUnhealthy is 1/);
      expect(s.phase).toBe('circuit-open');
      expect((await h.describe()).typedSearchAttributes.get(SA_PHASE)).toBe('circuit-open');
      expect(fake.repaves).toEqual([]);

      // One comes back by itself: the breaker closes and the other is repaved.
      t = await env.currentTimeMs();
      fake.setReady('general-1', true, t);
      await h.signal(sweepNowSignal);
      await env.sleep(50 * M);
      s = await state(h);
      expect(s.breaker.open).toBe(false);
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-0']);
      expect(s.history.map((e) => e.outcome)).toEqual(expect.arrayContaining(['circuit-open', 'circuit-closed', 'replaced']));

      // Trip again, then an operator accepts the situation: repaving resumes (unhealthiest first, one at a time).
      t = await env.currentTimeMs();
      fake.setReady('general-2', false, t);
      fake.setReady('general-3', false, t);
      await env.sleep(20 * M);
      expect((await state(h)).breaker.open).toBe(true);
      await h.signal(resetCircuitBreakerSignal, 'known AD outage, replace them');
      await env.sleep(2 * H);
      s = await state(h);
      expect(s.breaker).toMatchObject({ open: false });
      expect(fake.repaves.map((r) => r.node).sort()).toEqual(['general-0', 'general-2', 'general-3']);
      expect(fake.maxInFlight).toBe(1);
    });
  });

  it('setPace applies a new pace live: maxAge override, concurrency, pause between nodes honoured', async () => {
    const fake = new FakeGroup(makeGroup({ size: 4, maxUnavailable: 2, maxSurge: 2, maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 4; i++) fake.add(`general-${i}`, t0 - (3 * D + i * H), `FAULT-DOMAIN-${(i % 3) + 1}`);
    await withLane(fake, {}, async (h) => {
      await env.sleep(M);
      expect((await state(h)).pace).toEqual({ concurrency: 1, pauseBetweenNodes: 0 });
      expect(fake.repaves).toEqual([]); // nothing aged at 30d

      const pace = await h.executeUpdate(setPaceUpdate, { args: [{ concurrency: 2, pauseBetweenNodes: '3h', maxAge: '2d' }] });
      expect(pace).toEqual({ concurrency: 2, pauseBetweenNodes: 3 * H, maxAge: 2 * D });
      await env.sleep(20 * H);
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-3', 'general-2', 'general-1', 'general-0']);
      const starts = fake.repaves.map((r) => r.at);
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(3 * H);
      expect(fake.maxInFlight).toBe(1); // the pause spaces them out more than the repaves last
    });
  });

  it('continue-as-new carries pace, pause, reports (deduplicated) and the breaker', async () => {
    const fake = new FakeGroup(makeGroup({ size: 4, maxUnhealthy: 0 }));
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 4; i++) fake.add(`general-${i}`, t0 - i * D, `FAULT-DOMAIN-${(i % 3) + 1}`);
    await withLane(fake, { sweepsPerRun: 2 }, async (h) => {
      await env.sleep(M);
      await h.executeUpdate(setPaceUpdate, { args: [{ pauseBetweenNodes: '5m', maxAge: '10d' }] });
      await h.signal(pauseSignal, 'change freeze');
      await h.signal(reportUnhealthySignal, { node: 'general-2', reason: 'kernel deadlock (NPD)' });
      await h.signal(reportUnhealthySignal, { node: 'general-2', reason: 'kernel deadlock again' });
      const firstRun = (await h.describe()).runId;
      await env.sleep(2 * H);
      const s = await state(h);
      expect((await h.describe()).runId).not.toBe(firstRun);
      expect(s.runs).toBeGreaterThanOrEqual(3);
      expect(s.pace).toEqual({ concurrency: 1, pauseBetweenNodes: 5 * M, maxAge: 10 * D });
      expect(s.paused).toBe(true);
      expect(s.reports).toEqual([expect.objectContaining({ node: 'general-2', reason: 'kernel deadlock (NPD)' })]);
      expect(s.breaker.open).toBe(true); // 1 unhealthy > maxUnhealthy 0
      expect(s.breaker.reason).toMatch(/general-2/);
      expect(s.history.map((e) => e.outcome)).toEqual(expect.arrayContaining(['pace', 'paused', 'circuit-open']));
      expect(fake.repaves).toEqual([]);
    });
  });

  it('continue-as-new that falls due while repaves are in flight waits for a sweep that leaves none, starting repaves meanwhile', async () => {
    const fake = new FakeGroup(makeGroup({ size: 6, maxSurge: 2, maxUnavailable: 2, maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 6; i++) fake.add(`general-${i}`, t0 - 40 * D, `FAULT-DOMAIN-${(i % 3) + 1}`);
    await withLane(fake, { pace: { concurrency: 2 }, sweepsPerRun: 1 }, async (h) => {
      const firstRun = (await h.describe()).runId;
      await env.sleep(45 * M); // the first pair replaced at 30 min, the second pair in flight
      expect(fake.repaves).toHaveLength(4);
      expect((await h.describe()).runId).toBe(firstRun); // due at its second sweep (30 min), yet it went on
      expect((await state(h)).inFlight).toHaveLength(2);
      await env.sleep(60 * M);
      const s = await state(h);
      expect(fake.repaves).toHaveLength(6);
      expect(fake.maxInFlight).toBe(2);
      expect((await h.describe()).runId).not.toBe(firstRun); // continued once nothing was in flight
      expect(s.totals.replaced).toBe(6);
    });
  });

  it("a sweep reads the group's configuration and its nodes in one activity, and its brief phase is not indexed", async () => {
    const fake = new FakeGroup(makeGroup({ size: 2 }));
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 2; i++) fake.add(`general-${i}`, t0, `FAULT-DOMAIN-${i + 1}`);
    await withLane(fake, {}, async (h) => {
      await h.signal(sweepNowSignal);
      await env.sleep(M);
      const events = (await h.fetchHistory()).events ?? [];
      const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      expect(scheduled.filter((a) => a === 'observeNodeGroup').length).toBeGreaterThanOrEqual(2);
      expect(scheduled).not.toContain('describeNodeGroup');
      expect(scheduled).not.toContain('listNodeGroupNodes');
      // The brief sweeping phase is not indexed: the phases upserted are the lane's lasting ones.
      const phases = events.flatMap((e) => {
        const p = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[SA_PHASE.name]?.data;
        return p ? [JSON.parse(Buffer.from(p).toString()) as string] : [];
      });
      expect(phases).toEqual(['starting', 'idle']);
      expect((await state(h)).sweeps).toBeGreaterThanOrEqual(2);
    });
  });

  it('a failed repave is recorded and retried after a backoff', async () => {
    const fake = new FakeGroup(makeGroup({ size: 3, maxAge: '2d', maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    fake.add('general-0', t0 - 3 * D, 'FAULT-DOMAIN-1');
    fake.add('general-1', t0 - 1 * D, 'FAULT-DOMAIN-2');
    fake.add('general-2', t0 - 1 * D, 'FAULT-DOMAIN-3');
    fake.failing.add('general-0');
    await withLane(fake, { failureBackoff: '1h' }, async (h) => {
      await env.sleep(50 * M);
      let s = await state(h);
      expect(s.history.find((e) => e.node === 'general-0')).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/never became Ready/) });
      expect(s.skipped).toEqual([expect.objectContaining({ node: 'general-0', why: expect.stringMatching(/last repave failed/) })]);
      fake.failing.clear();
      await env.sleep(2 * H);
      s = await state(h);
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-0', 'general-0']);
      expect(s.history.filter((e) => e.node === 'general-0').map((e) => e.outcome)).toEqual(['failed', 'replaced']);
    });
  });

  it('while the sweep lists the group: a repave that ends is not run again for the node it replaced, and a report on its replacement is kept', async () => {
    // The sweep reads the old node while its repave holds it; the repave deletes it and ends; the owner check that
    // follows the read finds the repave ended: the list shows the old node, free, and lacks the replacement.
    // Sweeps every 10 min, repaves take 15.
    const fake = new FakeGroup(makeGroup({ size: 3, maxAge: '2d', maxUnhealthy: '50%' }));
    fake.durationMs = 15 * M;
    fake.listsAcrossAnEnd.enabled = true;
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 3; i++) fake.add(`general-${i}`, t0 - (3 + i) * D, `FAULT-DOMAIN-${i + 1}`);
    await withLane(fake, { sweepInterval: '10m' }, async (h) => {
      // Once, meanwhile, another service reports the replacement that joined after the read.
      let reported: string | undefined;
      fake.listsAcrossAnEnd.then = async (replacement) => {
        fake.listsAcrossAnEnd.then = undefined;
        reported = replacement;
        await h.signal(reportUnhealthySignal, { node: replacement, reason: 'node-problem-detector: KernelDeadlock' });
      };
      await env.sleep(2 * H);
      const s = await state(h);
      expect(fake.listsAcrossAnEnd.done).toBeGreaterThanOrEqual(1);
      expect(s.history.filter((e) => e.node !== '-' && e.outcome !== 'replaced')).toEqual([]);
      expect(fake.repaves.map((r) => r.node).sort()).toEqual(['general-0', 'general-1', 'general-2', reported].sort());
      expect(s.history.find((e) => e.node === reported)).toMatchObject({ outcome: 'replaced', reason: expect.stringMatching(/KernelDeadlock/) });
      expect(s.reports).toEqual([]);
      expect(s.totals).toMatchObject({ replaced: 4, failed: 0 });
    });
  });

  it('a name that comes back on another machine starts afresh: reported unhealthy, it is repaved at once, not held behind the backoff of the machine that had the name', async () => {
    const fake = new FakeGroup(makeGroup({ size: 3, maxAge: '2d', maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    fake.add('10.0.10.2', t0 - 3 * D, 'FAULT-DOMAIN-1');
    fake.add('10.0.10.3', t0 - 1 * D, 'FAULT-DOMAIN-2');
    fake.add('10.0.10.4', t0 - 1 * D, 'FAULT-DOMAIN-3');
    fake.failing.add('10.0.10.2');
    await withLane(fake, { failureBackoff: '2h' }, async (h) => {
      await env.sleep(50 * M);
      expect((await state(h)).skipped).toEqual([expect.objectContaining({ node: '10.0.10.2', why: expect.stringMatching(/last repave failed/) })]);

      // Its instance is gone; a new one got the IP, registers as 10.0.10.2, and is reported unhealthy.
      fake.failing.clear();
      fake.reuseName('10.0.10.2', await env.currentTimeMs());
      await h.signal(reportUnhealthySignal, { node: '10.0.10.2', reason: 'disk errors' });
      await env.sleep(5 * M);
      const s = await state(h);
      expect(fake.repaves.map((r) => r.node)).toEqual(['10.0.10.2', '10.0.10.2']);
      expect(fake.repaves[1]!.at - fake.repaves[0]!.at).toBeLessThan(60 * M); // not after the 2h backoff
      expect(s.inFlight).toEqual([expect.objectContaining({ node: '10.0.10.2', machine: 'ocid1.instance.oc1..fake4', reason: expect.stringMatching(/disk errors/) })]);
      expect(s.reports).toEqual([expect.objectContaining({ node: '10.0.10.2', machine: 'ocid1.instance.oc1..fake4' })]);
      expect(s.history.find((e) => e.outcome === 'failed')).toMatchObject({ node: '10.0.10.2', machine: 'ocid1.instance.oc1..fake1' });
    });
  });

  it('state carried by a lane run keyed by name is migrated: a carried backoff still holds its machine, not a new machine under the name', async () => {
    const fake = new FakeGroup(makeGroup({ size: 3, maxAge: '2d', maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    fake.add('10.0.10.2', t0 - 3 * D, 'FAULT-DOMAIN-1');
    fake.add('10.0.10.3', t0 - 3 * D, 'FAULT-DOMAIN-2');
    fake.add('10.0.10.4', t0 - 1 * D, 'FAULT-DOMAIN-3');
    // Both failed 30 minutes ago; 10.0.10.3's machine has gone since, and a new one under its name was reported.
    fake.reuseName('10.0.10.3', t0 - 10 * M);
    const carry = {
      pace: { concurrency: 1, pauseBetweenNodes: 0 },
      paused: false,
      reports: [{ node: '10.0.10.3', reason: 'disk errors', at: new Date(t0 - 5 * M).toISOString() }],
      breaker: { open: false },
      history: [],
      failures: { '10.0.10.2': { count: 1, notBefore: t0 + 30 * M }, '10.0.10.3': { count: 1, notBefore: t0 + 30 * M } },
      runs: 1,
      totals: { started: 2, replaced: 0, failed: 2 },
    };
    await withLane(fake, { failureBackoff: '1h', carry }, async (h) => {
      await env.sleep(5 * M);
      const s = await state(h);
      expect(fake.repaves.map((r) => r.node)).toEqual(['10.0.10.3']);
      expect(s.skipped).toEqual([expect.objectContaining({ node: '10.0.10.2', why: expect.stringMatching(/last repave failed/) })]);
      expect(s.reports).toEqual([expect.objectContaining({ node: '10.0.10.3', machine: 'ocid1.instance.oc1..fake4' })]);
    });
  });

  it('keeps a desired image: resolved once from the channel, pinned by a rollout; drifted nodes are repaved onto it, a partial wave moves only what it asks for', async () => {
    const fake = new FakeGroup(makeGroup({ size: 3, maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    for (let i = 0; i < 3; i++) fake.add(`general-${i}`, t0 - (i + 1) * D, `FAULT-DOMAIN-${i + 1}`);
    const NEW = 'ocid1.image.oc1..new-2';
    await withLane(fake, {}, async (h) => {
      await env.sleep(M);
      let s = await state(h);
      expect(s.desiredImage).toMatchObject({ imageId: FAKE_CHANNEL_IMAGE, source: 'channel' });
      fake.channelImage = 'ocid1.image.oc1..published-later';
      await h.signal(sweepNowSignal);
      await env.sleep(M);
      expect((await state(h)).desiredImage?.imageId).toBe(FAKE_CHANNEL_IMAGE); // resolved once, not at every sweep
      expect(fake.repaves).toEqual([]);

      await h.signal(setDesiredImageSignal, { by: 'rollout-1', imageId: NEW, nodes: 1 });
      await env.sleep(2 * H);
      s = await state(h);
      expect(s.desiredImage).toMatchObject({ imageId: NEW, source: 'pinned', by: 'rollout-1', nodes: 1 });
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-2']); // the oldest drifted node, and only one
      expect(fake.bootedFrom.get('general-2')).toBe(NEW);

      await h.signal(setDesiredImageSignal, { by: 'rollout-1', imageId: NEW });
      await env.sleep(3 * H);
      s = await state(h);
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-2', 'general-1', 'general-0']);
      expect(Object.values(s.images ?? {})).toEqual([NEW, NEW, NEW]);
      expect(s.history.filter((e) => e.outcome === 'image').map((e) => e.reason)).toEqual([
        expect.stringMatching(/resolved from/),
        expect.stringMatching(/pinned by rollout-1: .*new-2 \(every node moves, at most 1\)/),
        expect.stringMatching(/pinned by rollout-1/),
      ]);
    });
  });

  it('outside its maintenance window starts no repave of an aged node, but still replaces an unhealthy one; sweeps when the window opens', async () => {
    const t0 = await env.currentTimeMs();
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    const opens = Math.ceil((t0 + 3 * H) / M) * M;
    const window = { start: hhmm(opens), end: hhmm(opens + H), timeZone: 'UTC' };
    const fake = new FakeGroup(makeGroup({ size: 3, maxUnhealthy: '50%', sweepInterval: '24h', maintenanceWindows: [window] }));
    fake.add('general-old', t0 - 40 * D, 'FAULT-DOMAIN-1');
    fake.add('general-sick', t0 - D, 'FAULT-DOMAIN-2');
    fake.add('general-ok', t0 - D, 'FAULT-DOMAIN-3');
    fake.setReady('general-sick', false, t0 - H);
    await withLane(fake, {}, async (h) => {
      await env.sleep(M);
      const s = await state(h);
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-sick']);
      expect(s.window).toEqual({ open: false, opensAt: new Date(opens).toISOString() });
      expect(s.skipped).toEqual([{ node: 'general-old', why: expect.stringMatching(/outside the maintenance windows of general; the next opens at/) }]);
      await env.sleep(4 * H); // no sweep is due for a day: only the window's opening wakes the lane
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-sick', 'general-old']);
      expect(fake.repaves[1]!.at).toBeGreaterThanOrEqual(opens);
      expect(fake.repaves[1]!.at).toBeLessThan(opens + 5 * M);
    });
  });

  it('repaves the nodes behind the keyring version a rotation requires, within the budget; keeps the requirement across continue-as-new until released', async () => {
    const fake = new FakeGroup(makeGroup({ size: 3, maxUnhealthy: '50%' }));
    const t0 = await env.currentTimeMs();
    fake.bootKeyrings = { 'client-ca': 3, 'service-account': 1 };
    for (let i = 0; i < 3; i++) fake.add(`general-${i}`, t0 - (i + 1) * D, `FAULT-DOMAIN-${i + 1}`);
    await withLane(fake, { sweepsPerRun: 3 }, async (h) => {
      await env.sleep(M);
      await h.signal(pauseSignal, 'hold still while the requirement comes in');
      fake.bootKeyrings = { 'client-ca': 4, 'service-account': 1 };
      await h.signal(requireKeyringSignal, { by: 'rotate-keys.sim-1.client-ca', purpose: 'client-ca', version: 4 });
      await h.signal(requireKeyringSignal, { by: 'rotate-keys.sim-1.client-ca', purpose: 'client-ca', version: 4 }); // repeated: no change
      await h.signal(requireKeyringSignal, { by: 'someone', purpose: 'client-ca', version: 2 }); // older: no change
      await h.signal(requireKeyringSignal, { by: 'someone', purpose: 'etcd-peer', version: 9 } as never); // malformed: ignored
      const firstRun = (await h.describe()).runId;
      await env.sleep(2 * H);
      let s = await state(h);
      expect((await h.describe()).runId).not.toBe(firstRun);
      expect(s.keyrings).toEqual({ 'client-ca': { version: 4, by: 'rotate-keys.sim-1.client-ca', at: expect.any(String) } });
      expect(s.queue.map((c) => [c.node, c.kind])).toEqual([['general-2', 'keyring'], ['general-1', 'keyring'], ['general-0', 'keyring']]);
      expect(fake.repaves).toEqual([]); // paused

      await h.signal(resumeSignal);
      await env.sleep(3 * H);
      s = await state(h);
      expect(fake.repaves.map((r) => r.node)).toEqual(['general-2', 'general-1', 'general-0']); // oldest first
      expect(fake.maxInFlight).toBe(1); // maxSurge 1
      expect([...fake.nodes.values()].map((x) => x.keyrings?.['client-ca'])).toEqual([4, 4, 4]);
      expect(s.queue).toEqual([]);

      await h.signal(requireKeyringSignal, { by: 'rotate-keys.sim-1.client-ca', purpose: 'client-ca', version: 4, release: true });
      const releasedIn = env.client.workflow.getHandle(h.workflowId, (await h.describe()).runId);
      await env.sleep(M);
      s = await state(h);
      expect(s.keyrings).toBeUndefined();
      expect(s.history.filter((e) => e.outcome === 'keyring').map((e) => e.reason)).toEqual([
        'rotate-keys.sim-1.client-ca requires every node to hold client-ca keyring v4 or later',
        'rotate-keys.sim-1.client-ca released the client-ca keyring v4 requirement',
      ]);
      // The run that took the release asked for the patch inside the signal handler, and replays.
      const history = await releasedIn.fetchHistory();
      const patches = history.events!.flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map((p) => Buffer.from(p.data!).toString());
      expect(patches.filter((p) => p.includes(PATCH_LANE_KEYRINGS))).toHaveLength(1);
      await Worker.runReplayHistory({ workflowBundle: bundle }, history);
    });
  });
});
