import { ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInspection, RepaveActivities, RepaveStepActivities } from '../../src/core/activity-contracts.js';
import { nodeGroupSchema } from '../../src/core/config.js';
import type { RepaveNodeInput } from '../../src/core/repave.js';
import type { RepaveProgress } from '../../src/core/repave.js';
import { repaveStepActivities } from '../../src/activities/repave-steps.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { abortSignal, pauseSignal, progressQueryOf, resumeSignal } from '../../src/workflows/runbook.js';

const progressQuery = progressQueryOf<RepaveProgress>();
import { failureOf, recording, timeSkippingEnv, withWorker } from '../helpers/workflow-env.js';
import { localActivityOf } from '../helpers/local-activities.js';

const group = nodeGroupSchema.parse({
  name: 'general',
  size: 4,
  shape: 'VM.Standard.E4.Flex',
  image: { channel: 'prod' },
  placement: [{ availabilityDomain: 'AD-1', faultDomain: 'FAULT-DOMAIN-1', subnetId: 'ocid1.subnet.oc1..a' }],
});

const healthy: NodeInspection = {
  exists: true,
  nodeCluster: 'sim-1',
  controlPlane: false,
  nodeGroup: 'general',
  ready: true,
  unschedulable: false,
  instanceId: 'ocid1.instance.oc1..old',
  unmanagedPods: [],
  groupReady: 4,
};

type Overrides = Partial<{ [K in keyof RepaveActivities]: RepaveActivities[K] }>;

/** Stub activities that record the order of calls. */
function stubs(calls: string[], overrides: Overrides = {}, facts: NodeInspection = healthy): RepaveActivities {
  const base: Omit<RepaveActivities, keyof RepaveStepActivities> = {
    inspectNode: async () => facts,
    claimNode: async () => {},
    releaseNode: async () => {},
    // The cluster names its nodes by private IP: the replacement's node is not named like its instance.
    waitForNodeOperational: async ({ instanceId }) => ({ node: instanceId === 'ocid1.instance.oc1..new' ? '10.0.10.7' : 'unknown', daemonSetPods: 1 }),
    cordonNode: async () => ({ changed: true }),
    uncordonNode: async () => ({ changed: true }),
    drainNode: async () => ({ evicted: ['shop/web-1', 'shop/api-1'], deletedAfterTimeout: [], skipped: { daemonSet: 1, mirror: 1, finished: 0 } }),
    deleteNode: async () => ({ deleted: true }),
    describeInstance: async ({ instanceId }) => ({
      id: instanceId,
      displayName: 'old',
      lifecycleState: 'RUNNING',
      compartmentId: 'ocid1.compartment.oc1..c',
      availabilityDomain: 'AD-1',
      faultDomain: 'FAULT-DOMAIN-1',
      shape: 'VM.Standard.E4.Flex',
      freeformTags: {},
    }),
    resolveImage: async () => ({ imageId: 'ocid1.image.oc1..new', displayName: 'new' }),
    launchReplacement: async () => ({ instanceId: 'ocid1.instance.oc1..new', created: true }),
    waitForInstanceRunning: async ({ instanceId }) => ({ instanceId }),
    terminateInstance: async () => ({ lifecycleState: 'TERMINATING' }),
    terminateLaunched: async () => ({ terminated: [] }),
    describeNodeGroup: async () => group,
  };
  const recorded = recording(calls, { ...base, ...overrides });
  // The folded steps as the worker has them: the calls they make are recorded one by one.
  return { ...recorded, ...repaveStepActivities(recorded) };
}

const input: RepaveNodeInput = { cluster: 'sim-1', node: 'general-a1', reason: 'test' };
let env: TestWorkflowEnvironment;
let n = 0;

beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

function run<T>(activities: RepaveActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
  n++;
  return withWorker(env, activities, body);
}


describe('repaveNode workflow', () => {
  it('launches and waits for the replacement before it cordons and drains the old node', async () => {
    const calls: string[] = [];
    const workflowId = `wf-${n + 1}`;
    const result = await run(stubs(calls), (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId, args: [input] }));
    expect(result.replacement).toEqual({ nodeName: '10.0.10.7', instanceId: 'ocid1.instance.oc1..new' });
    // A new run schedules the back-to-back steps as one activity each (patch repave-folded-steps).
    // The reads and the claim before the launch run within the workflow task (patch repave-local-preflight).
    const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    expect(events.flatMap((e) => localActivityOf(e)?.type ?? [])).toEqual(['preflightNode', 'resolveImage', 'claimNode']);
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(['launchReplacement', 'waitForReplacement', 'cordonAndDrain', 'retireNode']);
    expect(result.evictedPods).toBe(2);
    const mutating = calls.filter((c) => !['inspectNode', 'describeNodeGroup', 'describeInstance', 'resolveImage'].includes(c));
    expect(mutating).toEqual([
      'claimNode',
      'launchReplacement',
      'waitForInstanceRunning',
      'waitForNodeOperational',
      'cordonNode',
      'drainNode',
      'deleteNode',
      'terminateInstance',
    ]);
  });

  it('repaves a group without surge that allows it in place: drains, retires the old node, then launches', async () => {
    const calls: string[] = [];
    const inPlace = { ...group, maxSurge: 0, allowInPlace: true };
    const result = await run(stubs(calls, { describeNodeGroup: async () => inPlace }), (taskQueue) =>
      env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] }),
    );
    expect(result.replacement!.instanceId).toBe('ocid1.instance.oc1..new');
    const mutating = calls.filter((c) => !['inspectNode', 'describeNodeGroup', 'describeInstance', 'resolveImage'].includes(c));
    expect(mutating).toEqual([
      'claimNode',
      'cordonNode',
      'drainNode',
      'deleteNode',
      'terminateInstance',
      'launchReplacement',
      'waitForInstanceRunning',
      'waitForNodeOperational',
    ]);
  });

  it('in place, a drain that fails uncordons the node and launches nothing', async () => {
    const calls: string[] = [];
    const inPlace = { ...group, maxSurge: 0, allowInPlace: true };
    const acts = stubs(calls, {
      describeNodeGroup: async () => inPlace,
      drainNode: async () => {
        throw ApplicationFailure.nonRetryable('pods blocked by PodDisruptionBudgets: shop/web-1', 'DrainTimedOut');
      },
    });
    const cause = await failureOf(run(acts, (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] })));
    expect(cause.type).toBe('Failed');
    expect(cause.message).toContain('nothing was launched');
    expect(calls).toContain('uncordonNode');
    expect(calls).not.toContain('launchReplacement');
    expect(calls).not.toContain('terminateInstance');
  });

  it('in place, refuses when the group would drop below its minimum Ready count without the node', async () => {
    const calls: string[] = [];
    const inPlace = { ...group, maxSurge: 0, allowInPlace: true, minReady: 4 };
    const cause = await failureOf(
      run(stubs(calls, { describeNodeGroup: async () => inPlace }), (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] })),
    );
    expect(cause.type).toBe('Refused');
    expect(cause.message).toMatch(/would leave 3 while draining, below its minimum of 4/);
    expect(calls).not.toContain('claimNode');
  });

  it('retireOnly: a group above its size loses the node without a replacement; at its size it is refused', async () => {
    const calls: string[] = [];
    const above = { ...healthy, groupReady: 5 };
    const result = await run(stubs(calls, {}, above), (taskQueue) =>
      env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [{ ...input, retireOnly: true }] }),
    );
    expect(result.replacement).toBeUndefined();
    const mutating = calls.filter((c) => !['inspectNode', 'describeNodeGroup', 'describeInstance', 'resolveImage'].includes(c));
    expect(mutating).toEqual(['claimNode', 'cordonNode', 'drainNode', 'deleteNode', 'terminateInstance']);

    const atSize: string[] = [];
    const cause = await failureOf(
      run(stubs(atSize, {}, healthy), (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [{ ...input, retireOnly: true }] })),
    );
    expect(cause.type).toBe('Refused');
    expect(cause.message).toMatch(/has 4 Ready nodes for a size of 4: retiring general-a1 without a replacement would shrink it/);
    expect(atSize).not.toContain('claimNode');
  });

  it('terminates a replacement that never becomes operational and leaves the old node alone', async () => {
    const calls: string[] = [];
    const terminated: string[] = [];
    const acts = stubs(calls, {
      waitForNodeOperational: async () => {
        throw ApplicationFailure.nonRetryable('node general-x did not become operational in time', 'ReplacementNotReady');
      },
      terminateInstance: async ({ instanceId }) => {
        terminated.push(instanceId);
        return { lifecycleState: 'TERMINATING' };
      },
    });
    const cause = await failureOf(
      run(acts, (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] })),
    );
    expect(cause.type).toBe('Failed');
    expect(cause.message).toMatch(/general-a1 is left serving/);
    expect(terminated).toEqual(['ocid1.instance.oc1..new']);
    expect(calls).not.toContain('cordonNode');
    expect(calls).not.toContain('drainNode');
    expect(calls).toContain('releaseNode');
  });

  it('uncordons the old node and keeps the replacement when the drain fails', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      drainNode: async () => {
        throw ApplicationFailure.nonRetryable('drain of general-a1 timed out; evictions refused by PodDisruptionBudgets for shop/web-1', 'DrainTimeout');
      },
    });
    const cause = await failureOf(run(acts, (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] })));
    expect(cause.message).toMatch(/uncordoned and serving beside its replacement/);
    expect(cause.message).toMatch(/PodDisruptionBudgets/);
    expect(calls.slice(calls.indexOf('drainNode'))).toEqual(['drainNode', 'uncordonNode', 'releaseNode']);
    expect(calls).not.toContain('terminateInstance');
  });

  it('refuses bad input before calling any activity', async () => {
    const bad: unknown[] = [
      {},
      { cluster: 'sim-1' },
      { cluster: 'sim-1', node: 'Not A Node' },
      { cluster: 'sim-1', node: 'x', drainTimeout: 'forever' },
      { cluster: 'sim-1', node: 'x', surprise: true },
      'general-a1',
    ];
    for (const args of bad) {
      const calls: string[] = [];
      const cause = await failureOf(
        run(stubs(calls), (taskQueue) => env.client.workflow.execute('repaveNode', { taskQueue, workflowId: `wf-${n}`, args: [args] })),
      );
      expect(cause.type).toBe('InvalidInput');
      expect(cause.message).toMatch(/invalid repaveNode input: /);
      expect(calls).toEqual([]);
    }
  });

  it.each([
    [{ ...healthy, exists: false }, /does not exist/],
    [{ ...healthy, nodeCluster: 'other' }, /belongs to cluster other/],
    [{ ...healthy, controlPlane: true }, /control-plane/],
    [{ ...healthy, nodeGroup: undefined }, /no itinerant.dev\/node-group/],
    [{ ...healthy, unmanagedPods: ['default/bare'] }, /evictUnmanagedPods/],
    [{ ...healthy, groupReady: 2 }, /below its minimum of 3/],
  ])('refuses an unsafe target before any side effect (%#)', async (facts, message) => {
    const calls: string[] = [];
    const cause = await failureOf(
      run(stubs(calls, {}, facts as NodeInspection), (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] })),
    );
    expect(cause.type).toBe('Refused');
    expect(cause.message).toMatch(message);
    expect(calls.every((c) => ['inspectNode', 'describeNodeGroup', 'describeInstance'].includes(c))).toBe(true);
  });

  it('refuses an unknown cluster with the reason as its message, not "Activity task failed"', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      inspectNode: async () => {
        throw ApplicationFailure.nonRetryable('cluster nope is not in the fleet configuration (/etc/itinerant/fleet.yaml); known clusters: sim-1', 'UnknownCluster');
      },
    });
    const cause = await failureOf(
      run(acts, (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [{ ...input, cluster: 'nope' }] })),
    );
    expect(cause.type).toBe('Refused');
    expect(cause.message).toBe('refused to repave general-a1: cluster nope is not in the fleet configuration (/etc/itinerant/fleet.yaml); known clusters: sim-1');
    expect(calls).toEqual(['inspectNode']);
  });

  it('refuses a node another live run is already repaving', async () => {
    const calls: string[] = [];
    const acts = stubs(calls, {
      claimNode: async () => {
        throw ApplicationFailure.nonRetryable('node general-a1 is already being worked on by workflow repave-node.sim-1.general-a1', 'NodeBusy');
      },
    });
    const cause = await failureOf(run(acts, (taskQueue) => env.client.workflow.execute(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] })));
    expect(cause.message).toMatch(/already being worked on/);
    expect(calls).not.toContain('launchReplacement');
  });

  it('holds at the next step while paused and continues on resume', async () => {
    const calls: string[] = [];
    await run(stubs(calls), async (taskQueue) => {
      const handle = await env.client.workflow.signalWithStart(repaveNode, {
        taskQueue,
        workflowId: `wf-${n}`,
        args: [input],
        signal: pauseSignal,
        signalArgs: [],
      });
      for (let i = 0; i < 1200 && !calls.includes('claimNode'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(calls).toContain('claimNode');
      await env.sleep('1h');
      const held = await handle.query(progressQuery);
      expect(held.paused).toBe(true);
      expect(held.phase).toBe('validating');
      expect(calls).not.toContain('launchReplacement');
      await handle.signal(resumeSignal);
      const result = await handle.result();
      expect(result.node).toBe('general-a1');
      expect((await handle.query(progressQuery)).phase).toBe('done');
    });
  });

  it('abort during the drain cancels it, uncordons the old node and reports the reason', async () => {
    const calls: string[] = [];
    let drainCancelled = false;
    const acts = stubs(calls, {
      drainNode: async () => {
        try {
          for (;;) {
            heartbeat();
            await sleep(100);
          }
        } catch (e) {
          drainCancelled = true;
          throw e;
        }
      },
    });
    await run(acts, async (taskQueue) => {
      const handle = await env.client.workflow.start(repaveNode, { taskQueue, workflowId: `wf-${n}`, args: [input] });
      for (let i = 0; i < 1200 && !calls.includes('drainNode'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(calls).toContain('drainNode');
      await handle.signal(abortSignal, 'wrong node');
      const cause = await failureOf(handle.result());
      expect(cause.type).toBe('Aborted');
      expect(cause.message).toMatch(/aborted by operator: wrong node/);
    });
    expect(drainCancelled).toBe(true);
    expect(calls.slice(calls.indexOf('drainNode') + 1)).toEqual(['uncordonNode', 'releaseNode']);
  });
});
