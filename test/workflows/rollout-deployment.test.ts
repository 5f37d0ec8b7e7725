import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentActivities } from '../../src/core/activity-contracts.js';
import type { DeploymentFacts, DeploymentRolloutProgress, RolloutDeploymentInput } from '../../src/core/deployment-rollout.js';
import { abortSignal, progressQueryOf } from '../../src/workflows/runbook.js';
import { failureOf, recording, timeSkippingEnv, withWorker } from '../helpers/workflow-env.js';

const M = 60_000;
let env: TestWorkflowEnvironment;
let runs = 0;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const steady: DeploymentFacts = {
  exists: true,
  generation: 3,
  observedGeneration: 3,
  replicas: 4,
  current: 4,
  updated: 4,
  ready: 4,
  available: 4,
  paused: false,
  revision: 2,
  templateHash: 'old',
  containers: [{ name: 'web', image: 'web:1' }],
  newPods: [],
};

/** Stub Deployment activities: `follow` answers the followDeploymentRollout calls in order. */
function fakeDeployment(follow: Awaited<ReturnType<DeploymentActivities['followDeploymentRollout']>>['outcome'][], facts: Partial<DeploymentFacts> = {}) {
  const calls: string[] = [];
  const acts: DeploymentActivities = {
    inspectDeployment: async () => ({ ...steady, ...facts }),
    setDeploymentImages: async () => ({ changed: true }),
    pauseDeployment: async ({ paused }) => (calls.push(paused ? 'paused' : 'resumed'), { changed: true }),
    undoDeploymentRollout: async ({ toTemplate }) => (calls.push(`undo to ${toTemplate}`), { changed: true }),
    followDeploymentRollout: async ({ canary }) => {
      const outcome = follow.shift() ?? 'complete';
      return { outcome, why: outcome === 'failed' ? 'pod web-x is CrashLoopBackOff' : `${outcome}${canary !== undefined ? ` (canary ${canary})` : ''}`, revision: 3 };
    },
  };
  return { calls, acts: recording(calls, acts) };
}

const input = (over: Partial<RolloutDeploymentInput> = {}): RolloutDeploymentInput => ({ cluster: 'sim-1', namespace: 'shop', deployment: 'web', images: { web: 'web:2' }, ...over });
const start = (taskQueue: string, i: RolloutDeploymentInput) => env.client.workflow.start('rolloutDeployment', { taskQueue, workflowId: `rollout-deployment.sim-1.shop.web-${++runs}`, args: [i] });

describe('rolloutDeployment (time-skipping, stub activities)', () => {
  it('rolls out without a canary: set, follow, done', async () => {
    const fake = fakeDeployment(['complete']);
    const r = await withWorker(env, fake.acts, async (tq) => (await start(tq, input())).result());
    expect(r).toEqual({ outcome: 'rolled-out', revision: 3, images: { web: 'web:2' } });
    expect(fake.calls).toEqual(['inspectDeployment', 'setDeploymentImages', 'followDeploymentRollout']);
  });

  it('a failing rollout is undone to the previous template and followed back', async () => {
    const fake = fakeDeployment(['failed', 'complete']);
    const failure = await withWorker(env, fake.acts, async (tq) => failureOf((await start(tq, input())).result()));
    expect(failure.type).toBe('RolledBack');
    expect(failure.message).toMatch(/rolled back to revision 2's template \(now revision 3\): pod web-x is CrashLoopBackOff/);
    expect(fake.calls).toEqual(['inspectDeployment', 'setDeploymentImages', 'followDeploymentRollout', 'undoDeploymentRollout', 'undo to old', 'followDeploymentRollout', 'undoDeploymentRollout', 'undo to old']);
  });

  it.each([
    { onApprovalTimeout: 'continue', outcome: 'rolled-out' },
    { onApprovalTimeout: 'rollback', outcome: 'RolledBack' },
  ] as const)('an unanswered canary approval does $onApprovalTimeout at its deadline, after the soak', async ({ onApprovalTimeout, outcome }) => {
    const fake = fakeDeployment(['canary', 'canary', 'complete', 'complete']);
    const i = input({ canary: { replicas: '25%', soak: '10m', approval: true }, approvalTimeout: '2h', onApprovalTimeout });
    const { r, took } = await withWorker(env, fake.acts, async (tq) => {
      const t0 = await env.currentTimeMs();
      const h = await start(tq, i);
      const r = await h.result().then(
        (v) => v.outcome,
        (e: { cause?: { type?: string } }) => e.cause?.type,
      );
      return { r, took: (await env.currentTimeMs()) - t0 };
    });
    expect(r).toBe(outcome);
    expect(took).toBeGreaterThanOrEqual(10 * M + 2 * 60 * M);
    expect(fake.calls.slice(0, 5)).toEqual(['inspectDeployment', 'setDeploymentImages', 'followDeploymentRollout', 'pauseDeployment', 'paused']);
    expect(fake.calls.includes('undo to old')).toBe(outcome === 'RolledBack');
  });

  it('refuses a Deployment it may not roll out, before any change', async () => {
    const fake = fakeDeployment([], { paused: true });
    const failure = await withWorker(env, fake.acts, async (tq) => failureOf((await start(tq, input())).result()));
    expect(failure.type).toBe('Refused');
    expect(failure.message).toMatch(/Deployment shop\/web is paused/);
    expect(fake.calls).toEqual(['inspectDeployment']);
  });

  it('an abort during the canary soak undoes the rollout', async () => {
    const fake = fakeDeployment(['canary']);
    const failure = await withWorker(env, fake.acts, async (tq) => {
      const h = await start(tq, input({ canary: { replicas: 1, soak: '1h' } }));
      for (let i = 0; i < 30 && (await h.query(progressQueryOf<DeploymentRolloutProgress>())).phase !== 'canary-soak'; i++) await env.sleep(1000);
      expect((await h.query(progressQueryOf<DeploymentRolloutProgress>())).phase).toBe('canary-soak');
      await h.signal(abortSignal, 'bad metrics');
      return failureOf(h.result());
    });
    expect(failure.type).toBe('Aborted');
    expect(fake.calls.slice(-2)).toEqual(['undoDeploymentRollout', 'undo to old']);
  });
});
