import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyringLaneActivities } from '../../src/core/activity-contracts.js';
import { nodeGroupSchema } from '../../src/core/config.js';
import { heldAtBoot, introduce, promote, withdraw, withdrawalProblem, type KeyMeta, type Keyring, type KeyPurpose } from '../../src/core/keyring.js';
import { rotateKeysWorkflowId, type KeyringActivities, type KeyringHolder, type RotateKeysInput, type RotateKeysProgress } from '../../src/core/rotation.js';
import { answerUpdate, progressQueryOf } from '../../src/workflows/runbook.js';
import type { FakeRepaveNodeActivities } from './rotate-keys-stub-workflows.js';
import { failureOf, recording, timeSkippingEnv } from '../helpers/workflow-env.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [env, bundle] = await Promise.all([
    timeSkippingEnv(),
    bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./rotate-keys-stub-workflows.ts', import.meta.url)), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never }),
  ]);
});
afterAll(async () => {
  await env?.teardown();
});

const key = (keyId: string): KeyMeta => ({ keyId, createdAt: '2026-10-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z', fingerprint: `sha256:${keyId}` });
const group = nodeGroupSchema.parse({
  name: 'general',
  size: 3,
  maxSurge: 2,
  shape: 'VM.Standard.E4.Flex',
  image: { channel: 'prod' },
  placement: [{ availabilityDomain: 'SIM:AD-1', faultDomain: 'FAULT-DOMAIN-1', subnetId: 'ocid1.subnet.oc1..s1' }],
});

/**
 * A cluster in memory: the ring, nodes that boot with the ring as it is, a control plane that runs its latest version,
 * and the group's lane: once a rotation requires a version, each look at the nodes finds the nodes it claimed at the
 * last look replaced and the next ones (up to maxSurge) claimed, unless the lane is stalled.
 */
function fakeCluster(purpose: KeyPurpose, ring: Omit<Keyring, 'cluster' | 'purpose'>, opts: { owner?: string; secretsLeftBehind?: number; nodes?: number; laneStalled?: boolean } = {}) {
  const calls: string[] = [];
  let current: Keyring = { cluster: 'c1', purpose, ...ring };
  let owner = opts.owner;
  let seq = 0;
  const nodes = new Map<string, KeyringHolder>();
  for (let i = 0; i < (opts.nodes ?? 3); i++) nodes.set(`general-${i}`, { name: `general-${i}`, nodeGroup: 'general', held: heldAtBoot(current) });
  let required: number | undefined;
  const laneRequests: Parameters<KeyringLaneActivities['requireLaneKeyring']>[0][] = [];
  const laneReleases: Parameters<KeyringLaneActivities['releaseLaneKeyring']>[0][] = [];
  const laneStep = () => {
    if (required === undefined || opts.laneStalled) return;
    for (const n of [...nodes.values()].filter((x) => x.claimedBy)) {
      nodes.delete(n.name);
      const replacement = `general-r${seq++}`;
      nodes.set(replacement, { name: replacement, nodeGroup: 'general', held: heldAtBoot(current) });
      repaved.push(n.name);
    }
    const behind = [...nodes.values()].filter((x) => x.held!.version < required!);
    for (const n of behind.slice(0, group.maxSurge)) n.claimedBy = `repave-node.c1.${n.name}`;
  };
  const lane: KeyringLaneActivities = {
    async requireLaneKeyring(a) {
      laneRequests.push(a);
      required = Math.max(required ?? 0, a.version);
      return { workflowId: `repaver.c1.${a.nodeGroup}` };
    },
    async releaseLaneKeyring(a) {
      laneReleases.push(a);
      if (required !== undefined && required <= a.version) required = undefined;
      return { released: true };
    },
  };
  let concurrentRepaves = 0;
  let maxConcurrentRepaves = 0;
  const repaved: string[] = [];
  const claimed = (o: string) => {
    if (owner !== o) throw ApplicationFailure.nonRetryable(`not claimed by ${o}`);
  };
  const keyring: KeyringActivities = {
    describeKeyring: async () => current,
    async claimKeyring({ owner: o }) {
      if (owner && owner !== o) throw ApplicationFailure.nonRetryable(`a rotation of the ${purpose} keyring of c1 is already running: ${owner}`, 'KeyringBusy');
      owner = o;
      return current;
    },
    async releaseKeyring({ owner: o }) {
      if (owner === o) owner = undefined;
    },
    async introduceKey({ owner: o, keyId }) {
      claimed(o);
      current = introduce(current, key(keyId));
      return current;
    },
    async promoteKey({ owner: o, keyId }) {
      claimed(o);
      current = promote(current, keyId);
      return current;
    },
    async withdrawKey({ owner: o, keyId }) {
      claimed(o);
      const problem = withdrawalProblem(current, keyId, [...nodes.values()]);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'KeyringRefusal');
      current = withdraw(current, keyId);
      return current;
    },
    async waitForControlPlane() {
      return { members: ['cp-0'] };
    },
    async keyringHolders() {
      laneStep();
      return [...nodes.values()].map((n) => ({ ...n }));
    },
    async reencryptSecrets() {
      return { rewritten: 12 };
    },
    async secretsNotUnderKey() {
      return { total: 12, notUnder: opts.secretsLeftBehind ?? 0, examples: opts.secretsLeftBehind ? ['default/left-behind'] : [] };
    },
  };
  const fake: FakeRepaveNodeActivities = {
    async fakeReplaceNode({ node }) {
      concurrentRepaves++;
      maxConcurrentRepaves = Math.max(maxConcurrentRepaves, concurrentRepaves);
      await new Promise((r) => setTimeout(r, 20));
      nodes.delete(node);
      const replacement = `general-r${seq++}`;
      nodes.set(replacement, { name: replacement, nodeGroup: 'general', held: heldAtBoot(current) });
      repaved.push(node);
      concurrentRepaves--;
      return { replacement };
    },
  };
  return {
    calls,
    activities: { ...recording(calls, { ...keyring, ...lane }), describeNodeGroup: async () => group, ...fake },
    ring: () => current,
    owner: () => owner,
    repaved,
    nodes,
    laneRequests,
    laneReleases,
    laneRequired: () => required,
    maxConcurrentRepaves: () => maxConcurrentRepaves,
  };
}

let runs = 0;
async function rotate(fake: ReturnType<typeof fakeCluster>, input: Partial<RotateKeysInput>, during?: (handle: Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>>) => Promise<void>) {
  const taskQueue = `rotate-keys-${++runs}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fake.activities });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('rotateKeys', {
      taskQueue,
      workflowId: `${rotateKeysWorkflowId('c1', fake.ring().purpose)}-${runs}`,
      args: [{ cluster: 'c1', purpose: fake.ring().purpose, ...input }],
    });
    if (during) await during(handle);
    const outcome = await handle.result().then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const progress = await handle.query(progressQueryOf<RotateKeysProgress>());
    return { outcome, progress, handle };
  });
}

describe('rotateKeys', () => {
  it('introduces, publishes, has the lane repave every node onto the new trust set, promotes, withdraws the key promoted out last time', async () => {
    const fake = fakeCluster('client-ca', { version: 5, active: key('a'), retiring: key('r') });
    const { outcome, progress } = await rotate(fake, {});
    expect(outcome.ok).toBe(true);
    expect(fake.calls.filter((c) => c !== 'keyringHolders')).toEqual([
      'claimKeyring',
      'introduceKey',
      'waitForControlPlane',
      'requireLaneKeyring',
      'releaseLaneKeyring',
      'promoteKey',
      'waitForControlPlane',
      'withdrawKey',
      'waitForControlPlane',
      'releaseKeyring',
    ]);
    // asked once, for the version introduced (v6), by this rotation; released once every node held it
    const workflowId = `${rotateKeysWorkflowId('c1', 'client-ca')}-${runs}`;
    expect(fake.laneRequests).toEqual([{ cluster: 'c1', nodeGroup: 'general', by: workflowId, purpose: 'client-ca', version: 6 }]);
    expect(fake.laneReleases).toEqual(fake.laneRequests);
    expect(fake.laneRequired()).toBeUndefined();
    // the lane repaved them (three looks at least: two claimed, then one), the rotation started no repave of its own
    expect(fake.repaved.sort()).toEqual(['general-0', 'general-1', 'general-2']);
    expect(fake.maxConcurrentRepaves()).toBe(0);
    expect(fake.calls.filter((c) => c === 'keyringHolders').length).toBeGreaterThanOrEqual(4);
    if (outcome.ok) expect(outcome.r.nodesRepaved.sort()).toEqual(['general-0', 'general-1', 'general-2']);
    const ring = fake.ring();
    expect([ring.version, ring.active.keyId === ring.introducing?.keyId, ring.retiring?.keyId, ring.withdrawing]).toEqual([8, false, 'a', undefined]);
    expect([...fake.nodes.values()].every((n) => n.held!.trusts.includes(ring.active.keyId))).toBe(true);
    expect(progress).toMatchObject({ phase: 'done', nodesBehind: [], lanes: ['general'] });
    expect(fake.owner()).toBeUndefined();
  });

  it('a lane that does not bring the nodes in time fails the spread with why, before promoting; the requirement is released', async () => {
    const fake = fakeCluster('client-ca', { version: 5, active: key('a'), retiring: key('r') }, { laneStalled: true });
    const { outcome, progress } = await rotate(fake, { spreadTimeout: '10m' });
    expect(outcome.ok).toBe(false);
    expect(progress.phase).toBe('failed');
    expect(progress.error).toMatch(/^3 node\(s\) still not on keyring v6 after 10m: general-0, general-1, general-2; the lanes of general did not repave them in time/);
    expect(fake.calls).not.toContain('promoteKey');
    expect(fake.laneReleases).toEqual(fake.laneRequests);
    expect(fake.laneRequests.length).toBe(1);
    expect(fake.ring().introducing).toBeDefined();
    expect(fake.owner()).toBeUndefined();
  });

  it('spreadBy direct: repaves every node itself, within the surge budget, and leaves the lanes alone', async () => {
    const fake = fakeCluster('client-ca', { version: 5, active: key('a'), retiring: key('r') });
    const { outcome, progress } = await rotate(fake, { spreadBy: 'direct' });
    expect(outcome.ok).toBe(true);
    expect(fake.calls.filter((c) => c !== 'keyringHolders')).toEqual([
      'claimKeyring',
      'introduceKey',
      'waitForControlPlane',
      'promoteKey',
      'waitForControlPlane',
      'withdrawKey',
      'waitForControlPlane',
      'releaseKeyring',
    ]);
    const ring = fake.ring();
    expect([ring.version, ring.active.keyId === ring.introducing?.keyId, ring.retiring?.keyId, ring.withdrawing]).toEqual([8, false, 'a', undefined]);
    expect(fake.repaved.sort()).toEqual(['general-0', 'general-1', 'general-2']);
    expect(fake.maxConcurrentRepaves()).toBeLessThanOrEqual(2);
    expect([...fake.nodes.values()].every((n) => n.held!.trusts.includes(ring.active.keyId))).toBe(true);
    expect(progress.phase).toBe('done');
    expect(fake.owner()).toBeUndefined();
    if (outcome.ok) expect(outcome.r.withdrawn).toEqual(['r']);
  });

  it('a first rotation has nothing to withdraw', async () => {
    const fake = fakeCluster('service-account', { version: 1, active: key('a') });
    const { outcome } = await rotate(fake, {});
    expect(outcome.ok).toBe(true);
    expect(fake.calls).not.toContain('withdrawKey');
    expect(fake.ring().retiring?.keyId).toBe('a');
  });

  it('secret-encryption: rewrites every Secret and checks etcd before withdrawing; a Secret left under an old key fails the run before the withdrawal', async () => {
    const ok = fakeCluster('secret-encryption', { version: 3, active: key('a'), retiring: key('r') });
    expect((await rotate(ok, {})).outcome.ok).toBe(true);
    expect(ok.calls.indexOf('reencryptSecrets')).toBeGreaterThan(ok.calls.indexOf('promoteKey'));
    expect(ok.calls.indexOf('secretsNotUnderKey')).toBeLessThan(ok.calls.indexOf('withdrawKey'));

    const left = fakeCluster('secret-encryption', { version: 3, active: key('a'), retiring: key('r') }, { secretsLeftBehind: 1 });
    const { outcome, progress } = await rotate(left, {});
    expect(outcome.ok).toBe(false);
    expect(progress.error).toMatch(/1 of 12 Secrets are still not stored under .*default\/left-behind/);
    expect(left.calls).not.toContain('withdrawKey');
    expect(left.ring().withdrawing?.keyId).toBe('r');
    expect(left.owner()).toBeUndefined();
  });

  it('resumes a ring left introducing (no second key) and finishes a withdrawal left over before introducing', async () => {
    const introducing = fakeCluster('client-ca', { version: 6, active: key('a'), introducing: key('n') });
    expect((await rotate(introducing, {})).outcome.ok).toBe(true);
    expect(introducing.calls).not.toContain('introduceKey');
    expect(introducing.ring().active.keyId).toBe('n');

    const leftover = fakeCluster('client-ca', { version: 7, active: key('n'), retiring: key('a'), withdrawing: key('r') });
    for (const n of leftover.nodes.values()) n.held = heldAtBoot(leftover.ring());
    expect((await rotate(leftover, {})).outcome.ok).toBe(true);
    expect(leftover.calls.filter((c) => c !== 'keyringHolders').slice(0, 4)).toEqual(['claimKeyring', 'withdrawKey', 'waitForControlPlane', 'introduceKey']);
  });

  it('refuses a keyring another rotation holds, and malformed input, before any change', async () => {
    const busy = fakeCluster('client-ca', { version: 2, active: key('a') }, { owner: 'rotate-keys.c1.client-ca' });
    const { outcome, progress } = await rotate(busy, {});
    expect(outcome.ok).toBe(false);
    expect(progress.phase).toBe('refused');
    expect(progress.error).toMatch(/^a rotation of the client-ca keyring of c1 is already running: rotate-keys.c1.client-ca/);
    if (!outcome.ok) expect(String((outcome.e as { cause?: Error }).cause?.message)).toMatch(/^refused to rotate the client-ca keys of c1: a rotation/);
    expect(busy.calls).toEqual(['claimKeyring']);
    expect(busy.ring().version).toBe(2);

    const taskQueue = 'rotate-keys-invalid';
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: busy.activities });
    const failure = await worker.runUntil(
      failureOf(env.client.workflow.execute('rotateKeys', { taskQueue, workflowId: 'rotate-keys-invalid', args: [{ cluster: 'c1', purpose: 'etcd-peer', keyValidity: '1h' }] })),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toMatch(/purpose: .*client-ca.*keyValidity: expected a duration between/);
  });

  it('holds between phases for an operator: continue goes on, abort stops with the keyring consistent and released', async () => {
    // no nodes: the holds wait in real time here, and a spread's repaves would wait for time that does not skip
    const fake = fakeCluster('service-account', { version: 1, active: key('a') }, { nodes: 0 });
    const answered: string[] = [];
    const { outcome, progress } = await rotate(fake, { holdBetweenPhases: true }, async (h) => {
      for (const option of ['continue', 'continue', 'abort'] as const) {
        for (;;) {
          const p = await h.query(progressQueryOf<RotateKeysProgress>());
          if (p.question && !answered.includes(p.question.id)) {
            answered.push(p.question.id);
            await h.executeUpdate(answerUpdate, { args: [{ option, questionId: p.question.id, by: 'test', note: option === 'abort' ? 'not today' : undefined }] });
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    expect(outcome.ok).toBe(false);
    expect(answered).toEqual(['hold-1', 'hold-2', 'hold-3']);
    expect(progress.phase).toBe('aborted');
    expect(progress.error).toMatch(/aborted by operator: not today.*keyring stays at v2/);
    // holds before publishing, spreading, promoting: aborted at the third, the new key introduced, trusted, not signing
    expect([fake.ring().active.keyId, fake.calls.includes('promoteKey')]).toEqual(['a', false]);
    expect(fake.owner()).toBeUndefined();
  });

  it('a hold nobody answers ends the run at its deadline, the keyring as it was', async () => {
    const fake = fakeCluster('client-ca', { version: 1, active: key('a') });
    const { outcome, progress } = await rotate(fake, { holdBetweenPhases: true, approvalTimeout: '1h' });
    expect(outcome.ok).toBe(false);
    expect(progress.error).toMatch(/nobody answered hold-1 within 1h/);
    expect(fake.ring().introducing).toBeDefined();
    expect(fake.calls).not.toContain('promoteKey');
  });
});
