import type { ChildProcess } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repaverLaneWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { KEY_PURPOSES, keyringAnnotation, keySecretName, parseHeldKeyring, trustSet, type KeyPurpose } from '../../src/core/keyring.js';
import { keyringCheckScheduleId, keyringCheckWorkflowId, rotateKeysWorkflowId, type CheckKeyringsResult, type RotateKeysProgress, type RotateKeysResult } from '../../src/core/rotation.js';
import { applyKeyringSchedules } from '../../src/client/keyring-schedules.js';
import { abortSignal, progressQueryOf } from '../../src/workflows/runbook.js';
import { laneStateQuery } from '../../src/workflows/repaver-lane.js';
import { secretsStoredUnder } from '../../src/activities/etcd.js';
import { rotateKeys } from '../../src/workflows/rotate-keys.js';
import { eventually, removeCassandraRing, spawnWorkerProcess, startStack, stopWorkerProcess, type Stack } from '../helpers/stack.js';
import { historyBytes } from '../helpers/raw-history.js';
import { whileRunning } from '../helpers/wait.js';

// Every purpose rotated at once on the sim, the worker killed mid-run: the groups' repaver lanes repave the nodes
// onto each new trust set within their budgets, every node trusts the active client CA at every moment, Secrets end
// under the new encryption key, and no key material reaches history or the worker's log.
const DAY = 86_400_000;
let stack: Stack;
let worker: ChildProcess | undefined;
let output = '';
const violations: string[] = [];
let watching = true;
let watcher: Promise<void>;

const startWorker = () => {
  const w = spawnWorkerProcess(stack, stack.server, { captureOutput: true });
  w.stdout?.on('data', (d) => (output += d));
  w.stderr?.on('data', (d) => (output += d));
  return w;
};

beforeAll(async () => {
  // two groups of two nodes: every rotation repaves each node
  stack = await startStack({ fleetShape: { groups: 2, nodesPerGroup: 2 } });
  await removeCassandraRing(stack);
  const core = stack.admin.makeApiClient(k8s.CoreV1Api);
  for (let i = 0; i < 6; i++) await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: `app-${i}` }, stringData: { password: `p${i}` } } });
  worker = startWorker();
  // The continuous-trust watcher: every Ready node trusts the client CA the control plane signs with, always.
  watcher = (async () => {
    while (watching) {
      const signer = stack.sim.keyrings.running('client-ca')?.active.keyId;
      for (const n of (await core.listNode({ labelSelector: 'itinerant.dev/node-group' })).items) {
        const held = parseHeldKeyring(n.metadata?.annotations?.[keyringAnnotation('client-ca')]);
        if (signer && !held?.trusts.includes(signer)) violations.push(`${n.metadata?.name} does not trust ${signer}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
});
afterAll(async () => {
  watching = false;
  await watcher;
  await stopWorkerProcess(worker, 'SIGTERM');
  await stack?.stop();
});

const start = (purpose: KeyPurpose) =>
  stack.client.workflow.start(rotateKeys, { taskQueue: TASK_QUEUE, workflowId: rotateKeysWorkflowId(stack.sim.clusterName, purpose), args: [{ cluster: stack.sim.clusterName, purpose }] });

it('rotates all three keyrings at once across a worker kill; nodes always trust the signer; etcd holds every Secret under the new key', async () => {
  const before = Object.fromEntries(KEY_PURPOSES.map((p) => [p, stack.sim.keyrings.latest(p)!]));
  const handles = await Promise.all(KEY_PURPOSES.map(start));

  // a second start of a rotation that runs is refused (one per keyring)
  await expect(start('client-ca')).rejects.toThrow(/already started/i);

  // kill the worker while nodes are being repaved onto the new trust set
  await eventually('a rotation spreading', async () => (await handles[0]!.query(progressQueryOf<RotateKeysProgress>())).phase === 'spreading', 60_000);
  await stopWorkerProcess(worker, 'SIGKILL');
  worker = startWorker();

  const results = (await Promise.all(handles.map((h) => whileRunning(h.result(), worker!)))) as RotateKeysResult[];
  for (const [i, purpose] of KEY_PURPOSES.entries()) {
    const r = results[i]!;
    expect(r.keyring.active.keyId).toBe(r.introduced!.keyId);
    expect(r.keyring.retiring?.keyId).toBe(before[purpose]!.active.keyId);
    expect(stack.sim.keyrings.running(purpose)?.version).toBe(r.keyring.version);
  }
  const nodes = (await stack.core.listNode({ labelSelector: 'itinerant.dev/node-group' })).items;
  expect(nodes.length).toBe(4);
  for (const n of nodes) {
    for (const purpose of KEY_PURPOSES) {
      expect(parseHeldKeyring(n.metadata?.annotations?.[keyringAnnotation(purpose)])?.trusts).toContain(results[KEY_PURPOSES.indexOf(purpose)]!.keyring.active.keyId);
    }
  }
  // The lanes repaved them, for the keyring reason, and were released; the rotations started no repave of their own.
  for (const group of ['general', 'batch']) {
    const lane = await stack.client.workflow.getHandle(repaverLaneWorkflowId(stack.sim.clusterName, group)).query(laneStateQuery);
    expect(lane.keyrings).toBeUndefined();
    // A rotation requires a version only of the lanes with a node behind it; another rotation's repaves may have
    // brought a group up to date first. Every requirement a lane took was released.
    const keyringEvents = lane.history.filter((e) => e.outcome === 'keyring').map((e) => e.reason);
    const required = keyringEvents.flatMap((r) => /^(\S+) requires every node to hold (\S+) keyring (v\d+) or later$/.exec(r)?.slice(1) ?? []);
    expect(required.length, keyringEvents.join('\n')).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < required.length; i += 3) {
      const [by, purpose, version] = required.slice(i, i + 3);
      expect(keyringEvents).toContain(`${by} released the ${purpose} keyring ${version} requirement`);
    }
    expect(lane.history.filter((e) => e.outcome === 'replaced' && e.reason.includes('keyring: holds')).length).toBeGreaterThanOrEqual(2);
  }
  expect(results.flatMap((r) => r.nodesRepaved).length).toBeGreaterThanOrEqual(4);
  const encryption = results[2]!;
  expect(encryption.secretsRewritten).toBeGreaterThanOrEqual(6);
  expect(await secretsStoredUnder({ endpoints: [stack.sim.keyringEffects!.etcdUrl] }, encryption.keyring.active.keyId)).toMatchObject({ notUnder: 0 });
  expect(stack.sim.keyringEffects!.counters.untrustedNodes).toBe(0);
  expect(violations).toEqual([]);

  // No key material in any history, nor in the worker's log.
  const material = KEY_PURPOSES.flatMap((purpose, i) =>
    [before[purpose]!.active.keyId, results[i]!.introduced!.keyId].map((keyId) => stack.sim.oci.vault.readCurrent(keySecretName(stack.sim.clusterName, purpose, keyId))!.toString('utf8')),
  );
  const secrets = material.flatMap((doc) => {
    const m = JSON.parse(doc) as { privateKeyPem?: string; secret?: string };
    return [m.privateKeyPem?.split('\n')[1], m.secret].filter((s): s is string => !!s);
  });
  expect(secrets.length).toBe(6);
  // Searched in the events as stored: JSON.stringify writes a payload's data base64-encoded, which hides a key inside. The lanes' current runs' too.
  const lanes = ['general', 'batch'].map((g) => stack.client.workflow.getHandle(repaverLaneWorkflowId(stack.sim.clusterName, g)));
  const histories = await Promise.all([...handles, ...lanes].map(async (h) => ({ workflowId: h.workflowId, events: (await h.fetchHistory()).events ?? [] })));
  const leaks = histories.flatMap(({ workflowId, events }) => {
    const stored = historyBytes(events);
    return ['PRIVATE KEY', ...secrets].filter((s) => stored.includes(s)).map((s) => `${workflowId}: ${s.slice(0, 12)}...`);
  });
  expect(leaks).toEqual([]);
  for (const s of secrets) expect(output).not.toContain(s);
  for (const { events } of histories.slice(0, handles.length)) expect(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
}, 300_000);

it('a second client-ca rotation withdraws the first key: nobody trusts it, every node is on the new trust set', async () => {
  const first = stack.sim.keyrings.latest('client-ca')!;
  const h = await start('client-ca');
  const r = (await whileRunning(h.result(), worker!)) as RotateKeysResult;
  expect(r.withdrawn).toEqual([first.retiring!.keyId]);
  expect(trustSet(r.keyring)).toEqual([r.introduced!.keyId, first.active.keyId]);
  expect(stack.sim.keyrings.running('client-ca')?.version).toBe(r.keyring.version);
  expect(stack.sim.keyringEffects!.counters.untrustedNodes).toBe(0);
  expect(violations).toEqual([]);
}, 300_000);

it('the keyring-check Schedule starts a rotation when a trusted key expires within expiringWithin (held for an operator here)', async () => {
  const fleet = structuredClone(stack.fleet);
  fleet.clusters[0]!.keyRotation = { rotateEvery: 30 * DAY, expiringWithin: 400 * DAY, checkEvery: 3_600_000, purposes: ['service-account'], holdBetweenPhases: true };
  const applied = await applyKeyringSchedules(stack.client, fleet);
  expect(applied.map((a) => `${a.scheduleId}:${a.action}`)).toEqual([`${keyringCheckScheduleId('sim-1')}:created`]);
  expect((await applyKeyringSchedules(stack.client, fleet)).map((a) => a.action)).toEqual(['updated']);
  await stack.client.schedule.getHandle(keyringCheckScheduleId('sim-1')).trigger();
  // a Schedule's run has the action's workflow ID with the time it fired appended
  const fired = await eventually('the check started', async () => (await stack.client.schedule.getHandle(keyringCheckScheduleId('sim-1')).describe()).info.recentActions[0]?.action.workflow.workflowId);
  expect(fired.startsWith(keyringCheckWorkflowId('sim-1'))).toBe(true);
  const check = (await whileRunning(stack.client.workflow.getHandle(fired).result(), worker!)) as CheckKeyringsResult;
  expect(check.started).toEqual([{ purpose: 'service-account', workflowId: rotateKeysWorkflowId('sim-1', 'service-account'), why: expect.stringMatching(/^key \S+ expires .*, within 400d$/) }]);
  const rotation = stack.client.workflow.getHandle(rotateKeysWorkflowId('sim-1', 'service-account'));
  const held = await eventually('the rotation holds for an operator', async () => (await rotation.query(progressQueryOf<RotateKeysProgress>())).question);
  expect(held.text).toMatch(/is in the introducing slot\. Next: publishing/);
  await rotation.signal(abortSignal, 'end of the test');
  await expect(whileRunning(rotation.result(), worker!)).rejects.toThrow();
  // without keyRotation the Schedule goes
  expect((await applyKeyringSchedules(stack.client, stack.fleet)).map((a) => a.action)).toEqual(['deleted']);
}, 120_000);
