import { activityInfo, ApplicationFailure } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigActivities, ImageRolloutActivities, NodeGroupActivities, OciActivities } from '../../src/core/activity-contracts.js';
import { nodeGroupSchema, type NodeGroupConfig } from '../../src/core/config.js';
import { rolloutNodeImageWorkflowId } from '../../src/core/ids.js';
import type { RolloutNodeImageInput, RolloutProgress } from '../../src/core/rollout.js';
import { abortSignal, answerUpdate, progressQueryOf } from '../../src/workflows/runbook.js';
import { failureOf, timeSkippingEnv, withWorker } from '../helpers/workflow-env.js';

const M = 60_000;
const DEV_OLD = 'ocid1.image.oc1..dev-old';
const PROD_OLD = 'ocid1.image.oc1..prod-old';
const NEW = 'ocid1.image.oc1..new';
const BAD = 'ocid1.image.oc1..bad';
const STUCK = 'ocid1.image.oc1..stuck';

let env: TestWorkflowEnvironment;
let runs = 0;
let checksBundle: ReturnType<typeof bundleWorkflowCode> | undefined;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const group = (name: string, size: number, image: NodeGroupConfig['image']) =>
  nodeGroupSchema.parse({
    name,
    size,
    shape: 'VM.Standard.E4.Flex',
    image,
    placement: [{ availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-1', subnetId: 'ocid1.subnet.oc1..s1' }],
  });

/**
 * Node groups in memory whose "lanes" move nodes to a pinned image when asked to wait for it. Every call that
 * changes something is recorded in order, with the (time-skipped) time it was made.
 */
function fakeFleet() {
  const groups = new Map([
    ['dev', group('dev', 2, { channel: 'dev' })],
    ['prod', group('prod', 3, { channel: 'prod' })],
    ['fixed', group('fixed', 1, { id: 'ocid1.image.oc1..fixed' })],
  ]);
  const images = new Map<string, Map<string, string>>(
    [...groups.values()].map((g) => [g.name, new Map(Array.from({ length: g.size }, (_, i) => [`${g.name}-${i}`, 'channel' in g.image ? (g.image.channel === 'dev' ? DEV_OLD : PROD_OLD) : g.image.id]))]),
  );
  const desired = new Map<string, string>();
  const calls: { at: number; call: string }[] = [];
  const everRan = new Map<string, Set<string>>([...images.keys()].map((g) => [g, new Set(images.get(g)!.values())]));
  const record = (call: string) => calls.push({ at: activityInfo().currentAttemptScheduledTimestampMs, call });
  const observed = (g: string) => [...images.get(g)!.entries()].map(([name, imageId]) => ({ name, createdAt: new Date(0).toISOString(), ready: imageId !== BAD, conditions: [], unschedulable: false, imageId }));
  const acts: ImageRolloutActivities & Pick<NodeGroupActivities, 'listNodeGroupNodes' | 'describeClusterCompartment'> & ConfigActivities & Pick<OciActivities, 'resolveImage'> = {
    describeNodeGroup: async ({ nodeGroup }) => groups.get(nodeGroup),
    describeClusterCompartment: async () => ({ compartmentId: 'ocid1.compartment.oc1..c' }),
    resolveImage: async ({ image }) => {
      const imageId = 'id' in image ? image.id : image.channel === 'dev' ? DEV_OLD : PROD_OLD;
      return { imageId, displayName: imageId.slice('ocid1.image.oc1..'.length) };
    },
    tagImageChannel: async ({ imageId, channel, on }) => (record(`${on ? 'tag' : 'untag'} ${imageId.slice(17)} ${channel}`), { changed: true }),
    laneDesiredImage: async ({ nodeGroup }) => (desired.has(nodeGroup) ? { imageId: desired.get(nodeGroup)! } : {}),
    pinLaneImage: async ({ nodeGroup, imageId, nodes, drift }) => {
      const moves = drift === 'none' ? ' (hold)' : typeof drift === 'object' ? ` (from ${drift.from.slice(17)})` : '';
      record(`pin ${nodeGroup} ${imageId!.slice(17)}${nodes !== undefined ? ` ${nodes}` : ''}${moves}`);
      desired.set(nodeGroup, imageId!);
      return { workflowId: `repaver.sim-1.${nodeGroup}` };
    },
    waitForGroupOnImage: async ({ nodeGroup, imageId, nodes, leaving }) => {
      record(`wait ${nodeGroup} ${imageId.slice(17)}`);
      if (imageId === STUCK && nodeGroup === 'prod') throw ApplicationFailure.nonRetryable(`0 of ${nodes} node(s) of ${nodeGroup} on ${imageId} at the deadline`, 'WaveTimedOut');
      const group = images.get(nodeGroup)!;
      const want = nodes === 'all' ? group.size : nodes;
      for (const name of [...group.keys()].filter((n) => !leaving || group.get(n) === leaving).slice(0, want)) {
        group.set(name, imageId);
        everRan.get(nodeGroup)!.add(imageId);
      }
      return { images: Object.fromEntries(group) };
    },
    listNodeGroupNodes: async ({ cluster, nodeGroup }) => ({ cluster, nodeGroup, observedAt: new Date().toISOString(), nodes: observed(nodeGroup) }),
    inspectNodeHealth: async ({ nodes }) => {
      record(`health ${nodes.join(',')}`);
      const all = [...groups.keys()].flatMap((g) => observed(g));
      return nodes.map((node) => ({ node, exists: true, ready: all.find((n) => n.name === node)!.ready, pods: [] }));
    },
  };
  return { acts, calls, images, everRan, list: () => calls.map((c) => c.call) };
}

const twoWaves = (imageId: string, over: Partial<RolloutNodeImageInput> = {}): RolloutNodeImageInput => ({
  cluster: 'sim-1',
  channel: 'prod',
  imageId,
  waves: [
    { groups: ['dev'], soak: '30m' },
    { groups: ['prod'], soak: '1h' },
  ],
  ...over,
});

async function start(taskQueue: string, input: RolloutNodeImageInput) {
  return env.client.workflow.start('rolloutNodeImage', { taskQueue, workflowId: `${rolloutNodeImageWorkflowId('sim-1', input.channel)}-${++runs}`, args: [input] });
}

const progressOf = (h: Awaited<ReturnType<typeof start>>) => h.query(progressQueryOf<RolloutProgress>());

/** Skip time a minute at a time until the run asks a question (a wait that times out fails). */
async function question(h: Awaited<ReturnType<typeof start>>, withinMs: number) {
  for (let waited = 0; waited <= withinMs; waited += M) {
    const p = await progressOf(h);
    if (p.question) return p.question;
    await env.sleep(M);
  }
  throw new Error(`no question within ${withinMs / M} minutes`);
}

describe('rolloutNodeImage (time-skipping, stub activities)', () => {
  it('promotes a good image wave by wave: dev first, soak before each health gate, prod last; every group holds its image until its wave', async () => {
    const fleet = fakeFleet();
    const result = await withWorker(env, fleet.acts, async (tq) => (await start(tq, twoWaves(NEW))).result());
    expect(result).toEqual({ outcome: 'promoted', imageId: NEW, channel: 'prod', summary: { dev: { 'dev-0': NEW, 'dev-1': NEW }, prod: { 'prod-0': NEW, 'prod-1': NEW, 'prod-2': NEW } } });
    expect(fleet.list()).toEqual([
      'pin dev dev-old (hold)',
      'pin prod prod-old (hold)',
      'tag new prod',
      'pin dev new',
      'wait dev new',
      'health dev-0,dev-1',
      'pin prod new',
      'wait prod new',
      'health prod-0,prod-1,prod-2',
    ]);
    const at = (call: string) => fleet.calls.find((c) => c.call === call)!.at;
    expect(at('health dev-0,dev-1') - at('wait dev new')).toBeGreaterThanOrEqual(30 * M);
    expect(at('health prod-0,prod-1,prod-2') - at('wait prod new')).toBeGreaterThanOrEqual(60 * M);
  });

  it('stops a bad image in the dev wave and rolls back: prod is never pinned to it, dev returns to its image, the tag is taken back', async () => {
    const fleet = fakeFleet();
    const failure = await withWorker(env, fleet.acts, async (tq) => failureOf((await start(tq, twoWaves(BAD))).result()));
    expect(failure.type).toBe('RolledBack');
    expect(failure.message).toMatch(/rolled back: wave 1 failed its health gates: node dev-0 is NotReady; node dev-1 is NotReady/);
    expect(fleet.list()).toEqual([
      'pin dev dev-old (hold)',
      'pin prod prod-old (hold)',
      'tag bad prod',
      'pin dev bad',
      'wait dev bad',
      'health dev-0,dev-1',
      'pin dev dev-old (from bad)',
      'wait dev dev-old',
      'untag bad prod',
    ]);
    expect([...fleet.everRan.get('prod')!]).toEqual([PROD_OLD]);
    expect([...fleet.images.get('dev')!.values()]).toEqual([DEV_OLD, DEV_OLD]);
  });

  it('rolls back every wave moved so far, in reverse, when a later wave does not complete in time; a canary wave moves only its share, the next the rest', async () => {
    const fleet = fakeFleet();
    const input = twoWaves(STUCK, { waves: [{ groups: ['dev'], nodes: '50%', soak: '0s' }, { groups: ['dev'], soak: '0s' }, { groups: ['prod'], soak: '0s' }] });
    // The dev wave completes, prod never does.
    const failure = await withWorker(env, fleet.acts, async (tq) => failureOf((await start(tq, input)).result()));
    expect(failure.type).toBe('RolledBack');
    expect(failure.message).toMatch(/wave 3 did not complete: .*0 of 3 node\(s\) of prod/);
    expect(fleet.list().slice(3)).toEqual([
      'pin dev stuck 1',
      'wait dev stuck',
      'health dev-0',
      'pin dev stuck',
      'wait dev stuck',
      'health dev-0,dev-1',
      'pin prod stuck',
      'wait prod stuck',
      'pin prod prod-old (from stuck)',
      'wait prod prod-old',
      'pin dev dev-old (from stuck)',
      'wait dev dev-old',
      'untag stuck prod',
    ]);
  });

  it.each([
    { name: 'an approval answered continue promotes', answer: 'continue', onApprovalTimeout: 'rollback', outcome: 'promoted' },
    { name: 'an approval answered rollback rolls back', answer: 'rollback', onApprovalTimeout: 'continue', outcome: 'RolledBack' },
    { name: 'an approval nobody answers rolls back at its deadline when so configured', answer: undefined, onApprovalTimeout: 'rollback', outcome: 'RolledBack' },
    { name: 'an approval nobody answers continues at its deadline when so configured', answer: undefined, onApprovalTimeout: 'continue', outcome: 'promoted' },
  ] as const)('$name', async ({ answer, onApprovalTimeout, outcome }) => {
    const fleet = fakeFleet();
    const input = twoWaves(NEW, { waves: [{ groups: ['dev'], soak: '10m', approval: true }, { groups: ['prod'], soak: '0s' }], approvalTimeout: '4h', onApprovalTimeout });
    const ended = await withWorker(env, fleet.acts, async (tq) => {
      const h = await start(tq, input);
      const q = await question(h, 30 * M);
      expect(q).toMatchObject({ id: 'approve-wave-1', onDeadline: onApprovalTimeout, options: { continue: expect.stringMatching(/wave 2 \(prod\)/) } });
      const askedAt = Date.parse(q.askedAt);
      if (answer) await h.executeUpdate(answerUpdate, { args: [{ option: answer, by: 'ci', note: 'checked dashboards' }] });
      const r = await h.result().then(
        (v) => v.outcome,
        (e: { cause?: { type?: string } }) => e.cause?.type,
      );
      return { r, waited: (await env.currentTimeMs()) - askedAt, log: (await progressOf(h)).log.map((l) => l.message).join('\n') };
    });
    expect(ended.r).toBe(outcome);
    if (answer) expect(ended.log).toMatch(/ci answered approve-wave-1/);
    else {
      expect(ended.waited).toBeGreaterThanOrEqual(4 * 60 * M);
      expect(ended.log).toMatch(new RegExp(`nobody answered approve-wave-1 by its deadline: ${onApprovalTimeout}`));
    }
    expect(fleet.list().includes('pin prod new')).toBe(outcome === 'promoted');
  });

  it('an abort during the soak ends aborted: the tag is taken back, the groups moved keep the image pinned, and the message says so', async () => {
    const fleet = fakeFleet();
    const { failure, progress } = await withWorker(env, fleet.acts, async (tq) => {
      const h = await start(tq, twoWaves(NEW));
      for (let i = 0; i < 30 && (await progressOf(h)).phase !== 'soaking'; i++) await env.sleep(1000);
      expect((await progressOf(h)).phase).toBe('soaking');
      await h.signal(abortSignal, 'pager storm');
      return { failure: await failureOf(h.result()), progress: await progressOf(h) };
    });
    expect(failure.type).toBe('Aborted');
    expect(failure.message).toMatch(/aborted by operator: pager storm; node group\(s\) dev keep .*new as their desired image/);
    expect(progress).toMatchObject({ outcome: 'aborted', summary: { dev: { 'dev-0': NEW, 'dev-1': NEW }, prod: { 'prod-0': PROD_OLD } } });
    expect(fleet.list().slice(-1)).toEqual(['untag new prod']);
    expect(fleet.list()).not.toContain('pin prod new');
  });

  it.each([
    { name: 'an unknown group', waves: [{ groups: ['nope'] }], message: /node group nope is not declared/ },
    { name: 'a group in a later wave that moves no more nodes', waves: [{ groups: ['dev'] }, { groups: ['dev'], nodes: 1 }], message: /waves.1: node group dev moves 1 node\(s\), no more than the 2 of wave 1/ },
    { name: 'a group twice in one wave', waves: [{ groups: ['dev', 'dev'] }], message: /waves.0: a node group is named twice/ },
    { name: 'a dev group after a prod group', waves: [{ groups: ['prod'] }, { groups: ['dev'] }], message: /dev \(channel dev\) comes after prod .*dev groups go first/ },
    { name: 'a group on a fixed image', waves: [{ groups: ['fixed'] }], message: /fixed runs a fixed image/ },
  ])('refuses $name before any change', async ({ waves, message }) => {
    const fleet = fakeFleet();
    const failure = await withWorker(env, fleet.acts, async (tq) => failureOf((await start(tq, twoWaves(NEW, { waves }))).result()));
    expect(failure.type).toBe('Refused');
    expect(failure.message).toMatch(message);
    expect(fleet.list()).toEqual([]);
  });

  it('refuses bad input, and a second rollout on the same channel while one runs', async () => {
    const fleet = fakeFleet();
    await withWorker(env, fleet.acts, async (tq) => {
      const bad = await failureOf(start(tq, twoWaves('ami-123', { waves: [] })).then((h) => h.result()));
      expect(bad.type).toBe('InvalidInput');
      expect(bad.message).toMatch(/imageId: expected an image OCID; waves: expected at least one wave/);
      const input = twoWaves(NEW, { waves: [{ groups: ['dev'], soak: '1h' }] });
      const workflowId = rolloutNodeImageWorkflowId('sim-1', 'prod');
      const first = await env.client.workflow.start('rolloutNodeImage', { taskQueue: tq, workflowId, args: [input] });
      await expect(env.client.workflow.start('rolloutNodeImage', { taskQueue: tq, workflowId, args: [input] })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await first.terminate('test over');
    });
  });

  it.each([
    { workflowType: 'dashboardsGreen', outcome: 'promoted', log: /check dashboardsGreen passed/ },
    { workflowType: 'errorBudgetBurnt', outcome: 'RolledBack', log: /failed its health gates: check errorBudgetBurnt did not pass: error budget burnt on dev/ },
  ])("runs the operator's check as a child workflow on their task queue: $workflowType", async ({ workflowType, outcome, log }) => {
    const fleet = fakeFleet();
    const checks = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'operator-checks',
      workflowBundle: await (checksBundle ??= bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('./rollout-checks.ts', import.meta.url)),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
      })),
    });
    const input = twoWaves(NEW, { waves: [{ groups: ['dev'], soak: '0s' }], gates: { check: { workflowType, taskQueue: 'operator-checks', timeout: '5m' } } });
    const ended = await checks.runUntil(
      withWorker(env, fleet.acts, async (tq) => {
        const h = await start(tq, input);
        const r = await h.result().then(
          (v) => v.outcome as string,
          (e: { cause?: { type?: string } }) => e.cause?.type,
        );
        return { r, log: (await progressOf(h)).log.map((l) => l.message).join('\n') };
      }),
    );
    expect(ended.r).toBe(outcome);
    expect(ended.log).toMatch(log);
  });
});
