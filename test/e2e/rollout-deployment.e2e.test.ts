import * as k8s from '@kubernetes/client-node';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentRolloutProgress, RolloutDeploymentInput } from '../../src/core/deployment-rollout.js';
import { rolloutDeploymentWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { answerUpdate, progressQueryOf } from '../../src/workflows/runbook.js';
// Pods of this image crash-loop: on the real control plane by a KWOK Stage, on the sim by its fault (set below).
import { CRASH_LOOPING_IMAGE } from '../../testbeds/control-plane/kwok-config.js';
import { eventually, removeCassandraRing, runWorker, startStack, type Stack } from '../helpers/stack.js';


let stack: Stack;
let worker: { stop(): Promise<void> } | undefined;
let apps: k8s.AppsV1Api;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stack = await startStack();
  await removeCassandraRing(stack);
  worker = await runWorker(stack);
  apps = stack.admin.makeApiClient(k8s.AppsV1Api);
  if (stack.backend === 'sim') stack.sim.kube.faults.crashLoopImages = [CRASH_LOOPING_IMAGE];
}, 180_000);
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const start = (input: RolloutDeploymentInput) =>
  stack.client.workflow.start('rolloutDeployment', { taskQueue: TASK_QUEUE, workflowId: rolloutDeploymentWorkflowId(input.cluster, input.namespace, input.deployment), args: [input] });
const deploymentOf = (name: string) => apps.readNamespacedDeployment({ namespace: 'shop', name });

describe(`rolloutDeployment end to end (${process.env.ITINERANT_TESTBED ?? 'sim'})`, () => {
  it('rolls a good image out through an approved canary pause', async () => {
    const before = await deploymentOf('web');
    const h = await start({ cluster: 'sim-1', namespace: 'shop', deployment: 'web', images: { web: 'registry.example.com/shop/web:1.9.0' }, canary: { replicas: 1, soak: '2s', approval: true } });
    await eventually('the canary question', async () => (await h.query(progressQueryOf<DeploymentRolloutProgress>())).question, 90_000, 500);
    const paused = await deploymentOf('web');
    expect(paused.spec?.paused).toBe(true);
    // Held at exactly the canary, as a surge: every old replica still runs.
    expect(paused.status).toMatchObject({ updatedReplicas: 1, replicas: 5 });
    expect(paused.status?.readyReplicas).toBeGreaterThanOrEqual(4);
    await h.executeUpdate(answerUpdate, { args: [{ option: 'continue', by: 'e2e' }] });
    const result = await h.result();
    expect(result).toMatchObject({ outcome: 'rolled-out', images: { web: 'registry.example.com/shop/web:1.9.0' } });
    const d = await deploymentOf('web');
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('registry.example.com/shop/web:1.9.0');
    expect(d.spec?.paused).toBeFalsy();
    expect(d.status).toMatchObject({ updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4 });
    // The hold is released: the Deployment's own strategy and minReadySeconds are back.
    expect(d.spec?.strategy).toEqual(before.spec?.strategy);
    expect(d.spec?.minReadySeconds).toEqual(before.spec?.minReadySeconds);
    expect(d.spec?.progressDeadlineSeconds).toEqual(before.spec?.progressDeadlineSeconds);
    expect(d.metadata?.annotations?.['rollout.itinerant.dev/canary-hold']).toBeUndefined();
  }, 180_000);

  it('rolls a crash-looping image back to the previous revision, against the Deployment controller', async () => {
    const before = await deploymentOf('api');
    const h = await start({ cluster: 'sim-1', namespace: 'shop', deployment: 'api', images: { api: CRASH_LOOPING_IMAGE }, progressDeadline: '2m' });
    const failure = await h.result().then(
      () => undefined,
      (e: { cause?: { type?: string; message?: string } }) => e.cause,
    );
    expect(failure?.type).toBe('RolledBack');
    const [, was, now] = /rolled back to revision (\d+)'s template \(now revision (\d+)\): pod api-\S+ is CrashLoopBackOff/.exec(failure?.message ?? '') ?? [];
    expect(Number(now), failure?.message).toBeGreaterThan(Number(was)); // the controller made the old template the newest revision
    const d = await deploymentOf('api');
    expect(d.spec?.template.spec?.containers[0]?.image).toBe(before.spec?.template.spec?.containers[0]?.image);
    expect(d.status).toMatchObject({ updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    const progress = await h.query(progressQueryOf<DeploymentRolloutProgress>());
    expect(progress.outcome).toBe('rolled-back');
  }, 180_000);
});
