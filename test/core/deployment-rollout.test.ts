import { describe, expect, it } from 'vitest';
import { canaryReplicasOf, checkDeploymentTarget, judgeRollout, parseRolloutDeploymentInput, type DeploymentFacts } from '../../src/core/deployment-rollout.js';

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
  templateHash: 'abc',
  containers: [{ name: 'web', image: 'web:1' }],
  newPods: [1, 2, 3, 4].map((i) => ({ name: `web-${i}`, ready: true, restarts: 0 })),
};
const gates = { maxRestarts: 3 };
const req = { namespace: 'shop', deployment: 'web', images: { web: 'web:2' } };

describe('rolloutDeployment: preflight', () => {
  it.each([
    { name: 'a steady Deployment', facts: {}, problem: undefined },
    { name: 'a missing one', facts: { exists: false }, problem: /does not exist/ },
    { name: 'an unknown container', facts: { containers: [{ name: 'api', image: 'api:1' }] }, problem: /has no container web \(it has api\)/ },
    { name: 'a paused one', facts: { paused: true }, problem: /is paused/ },
    { name: 'one still rolling', facts: { updated: 2 }, problem: /still rolling out/ },
    { name: 'one that runs the image already', facts: { containers: [{ name: 'web', image: 'web:2' }] }, problem: /already runs web:2/ },
  ])('$name', ({ facts, problem }) => {
    const p = checkDeploymentTarget({ ...steady, ...facts }, req);
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });

  it('refuses bad input with the field', () => {
    const r = parseRolloutDeploymentInput({ cluster: 'sim-1', namespace: 'shop', deployment: 'web', images: {} });
    expect(r).toEqual({ ok: false, message: 'images: expected at least one container' });
  });
});

describe('rolloutDeployment: judging a rollout', () => {
  const rolling: DeploymentFacts = { ...steady, generation: 4, observedGeneration: 4, current: 5, updated: 1, ready: 4, newPods: [{ name: 'web-new', ready: false, restarts: 0 }] };
  it.each([
    { name: 'complete when every replica is updated, ready and available and the old ones are gone', facts: steady, canary: undefined, state: 'complete' },
    { name: 'progressing while old replicas remain', facts: rolling, canary: undefined, state: 'progressing' },
    { name: 'progressing until the controller has seen the change (its pods may be the old template)', facts: { ...rolling, generation: 5, newPods: [{ name: 'x', ready: false, restarts: 9, waiting: 'CrashLoopBackOff' }] }, canary: undefined, state: 'progressing' },
    { name: 'the canary when enough new pods are ready', facts: { ...rolling, newPods: [{ name: 'web-new', ready: true, restarts: 0 }] }, canary: 1, state: 'canary' },
    { name: 'failed when a new pod crash-loops', facts: { ...rolling, newPods: [{ name: 'web-new', ready: false, restarts: 1, waiting: 'CrashLoopBackOff' }] }, canary: undefined, state: 'failed' },
    { name: 'failed when a new pod restarted too often', facts: { ...rolling, newPods: [{ name: 'web-new', ready: true, restarts: 3 }] }, canary: undefined, state: 'failed' },
    { name: "failed when the controller's progress deadline passed", facts: { ...rolling, progressingReason: 'ProgressDeadlineExceeded' }, canary: undefined, state: 'failed' },
  ])('$name', ({ facts, canary, state }) => {
    expect(judgeRollout(facts, gates, canary).state).toBe(state);
  });

  it('a canary is at least one replica and at most all', () => {
    expect(canaryReplicasOf({ replicas: '25%', soak: 0, approval: false }, 4)).toBe(1);
    expect(canaryReplicasOf({ replicas: '1%', soak: 0, approval: false }, 4)).toBe(1);
    expect(canaryReplicasOf({ replicas: 9, soak: 0, approval: false }, 4)).toBe(4);
  });
});
