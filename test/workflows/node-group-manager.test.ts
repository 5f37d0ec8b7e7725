import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeGroupActivities, RepaveActivities, SubnetActivities } from '../../src/core/activity-contracts.js';
import { nodeGroupSchema, type NodeGroupConfig } from '../../src/core/config.js';
import type { GroupSubnet } from '../../src/core/subnets.js';
import type { ObservedNode } from '../../src/core/lane/index.js';
import type { NodeGroupManagerProgress } from '../../src/core/node-groups.js';
import { nodeGroupManager } from '../../src/workflows/node-group-manager.js';
import { abortSignal, pauseSignal, progressQueryOf, resumeSignal } from '../../src/workflows/runbook.js';
import { timeSkippingEnv, workflowBundle } from '../helpers/workflow-env.js';

const group = nodeGroupSchema.parse({
  name: 'general',
  size: 4,
  shape: 'VM.Standard.E4.Flex',
  image: { channel: 'prod' },
  placement: [1, 2, 3].map((i) => ({ availabilityDomain: `SIM:AD-${i}`, faultDomain: `FAULT-DOMAIN-${i}`, subnetId: `ocid1.subnet.oc1..s${i}` })),
  maxUnavailable: 2,
});

let env: TestWorkflowEnvironment;
let n = 0;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** The same group on dedicated subnets, one per availability domain. */
const dedicated = nodeGroupSchema.parse({ ...group, placement: group.placement.map(({ subnetId: _, ...p }) => p), subnets: {} });

/** A group in memory; calls are recorded in order, with the lane's hold around them. */
function fakeFleet(initial: number, g: NodeGroupConfig = group) {
  const calls: string[] = [];
  const subnets: GroupSubnet[] = [];
  const subnetCalls: { name: string; args: object }[] = [];
  const nodes = new Map<string, ObservedNode>();
  let draining = 0;
  let maxDraining = 0;
  for (let i = 0; i < initial; i++) {
    nodes.set(`general-${i}`, {
      name: `general-${i}`,
      createdAt: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
      ready: true,
      conditions: [],
      unschedulable: false,
      faultDomain: `FAULT-DOMAIN-${(i % 3) + 1}`,
      zone: `AD-${(i % 3) + 1}`,
      instanceId: `ocid1.instance.oc1..${i}`,
    });
  }
  const launched = new Map<string, { name: string; fd?: string; ad: string; subnetId?: string }>();
  const acts: Partial<RepaveActivities & NodeGroupActivities & SubnetActivities> = {
    describeNodeGroup: async () => g,
    findNodeGroupSubnets: async () => [...subnets],
    ensureNodeGroupSubnets: async (a) => {
      subnetCalls.push({ name: 'ensure', args: a });
      const made = g.placement.filter((p) => !subnets.some((s) => s.availabilityDomain === p.availabilityDomain)).map((p) => p.availabilityDomain);
      const created = [...new Set(made)].map((ad, i) => ({ subnetId: `ocid1.subnet.oc1..${ad.slice(-1)}`, cidrBlock: `10.0.${128 + i}.0/24`, availabilityDomain: ad, lifecycleState: 'AVAILABLE' }));
      subnets.push(...created);
      return { subnets: [...subnets], created: created.map((s) => s.subnetId) };
    },
    deleteNodeGroupSubnets: async (a) => {
      subnetCalls.push({ name: 'delete', args: a });
      const gone = subnets.filter((s) => !(a.except ?? []).includes(s.subnetId));
      for (const s of gone) subnets.splice(subnets.indexOf(s), 1);
      return { deleted: gone.map((s) => s.subnetId), kept: [] };
    },
    listNodeGroupNodes: async ({ cluster, nodeGroup }) => ({ cluster, nodeGroup, observedAt: new Date().toISOString(), nodes: [...nodes.values()] }),
    holdRepaverLane: async () => ({ workflowId: 'repaver.sim-1.general' }),
    waitForRepaverLaneIdle: async () => ({ phase: 'held', inFlight: [] }),
    releaseRepaverLane: async () => ({ released: true }),
    describeInstance: async ({ instanceId }) => ({ id: instanceId, displayName: 'x', lifecycleState: 'RUNNING', compartmentId: 'ocid1.compartment.oc1..c', availabilityDomain: 'SIM:AD-1', shape: group.shape, freeformTags: {} }),
    describeClusterCompartment: async () => ({ compartmentId: 'ocid1.compartment.oc1..c' }),
    resolveImage: async () => ({ imageId: 'ocid1.image.oc1..new', displayName: 'new' }),
    launchReplacement: async (r) => {
      launched.set(r.displayName, { name: r.displayName, ad: r.availabilityDomain, ...(r.faultDomain ? { fd: r.faultDomain } : {}), ...(r.subnetId ? { subnetId: r.subnetId } : {}) });
      return { instanceId: `ocid1.instance.oc1..${r.displayName}`, created: true };
    },
    waitForInstanceRunning: async ({ instanceId }) => ({ instanceId }),
    waitForNodeOperational: async ({ node: displayName }) => {
      const node = displayName!;
      const l = launched.get(node)!;
      nodes.set(node, { name: node, createdAt: new Date().toISOString(), ready: true, conditions: [], unschedulable: false, zone: l.ad.split(':')[1]!, ...(l.fd ? { faultDomain: l.fd } : {}) });
      return { node, daemonSetPods: 1 };
    },
    claimNode: async () => {},
    releaseNode: async () => {},
    cordonNode: async () => ({ changed: true }),
    uncordonNode: async () => ({ changed: true }),
    drainNode: async ({ node }) => {
      draining++;
      maxDraining = Math.max(maxDraining, draining);
      await new Promise((r) => setTimeout(r, 50));
      draining--;
      if (node === 'general-blocked') throw ApplicationFailure.nonRetryable('drain timed out', 'DrainTimeout');
      return { evicted: [], deletedAfterTimeout: [], skipped: { daemonSet: 1, mirror: 1, finished: 0 } };
    },
    deleteNode: async ({ node }) => ({ deleted: nodes.delete(node!) }),
    terminateInstance: async () => ({ lifecycleState: 'TERMINATING' }),
    terminateLaunched: async () => ({ terminated: [] }),
  };
  const recorded = Object.fromEntries(
    Object.entries(acts).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  );
  return { calls, nodes, launched, subnets, subnetCalls, activities: recorded, maxDraining: () => maxDraining };
}

async function run(fleet: ReturnType<typeof fakeFleet>, input: Parameters<typeof nodeGroupManager>[0]) {
  const taskQueue = `ngm-${++n}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: fleet.activities });
  return worker.runUntil(env.client.workflow.execute(nodeGroupManager, { taskQueue, workflowId: `node-group-manager.sim-1.general-${n}`, args: [input] }));
}

describe('nodeGroupManager', () => {
  it('create brings the group to its size, spreading new nodes over the placements, with the lane held', async () => {
    const fleet = fakeFleet(1);
    const r = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'create' });
    expect(r).toMatchObject({ from: 1, to: 4, removed: [] });
    expect(r.launched).toHaveLength(3);
    expect(fleet.nodes.size).toBe(4);
    expect([...fleet.launched.values()].map((l) => l.fd).sort()).toEqual(['FAULT-DOMAIN-1', 'FAULT-DOMAIN-2', 'FAULT-DOMAIN-3']);
    expect(fleet.calls[0]).toBe('describeNodeGroup');
    expect(fleet.calls.indexOf('holdRepaverLane')).toBeLessThan(fleet.calls.indexOf('launchReplacement'));
    expect(fleet.calls.at(-1)).toBe('releaseRepaverLane');
  });

  it('scale down drains and removes the youngest nodes, at most maxUnavailable at a time', async () => {
    const fleet = fakeFleet(6);
    const r = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'scale', size: 2 });
    expect(r.removed.sort()).toEqual(['general-2', 'general-3', 'general-4', 'general-5']);
    expect([...fleet.nodes.keys()].sort()).toEqual(['general-0', 'general-1']);
    expect(fleet.maxDraining()).toBeLessThanOrEqual(2);
    expect(fleet.calls.filter((c) => c === 'terminateInstance')).toHaveLength(4);
  });

  it('refuses chosen nodes outside the group before any side effect, and always releases the lane', async () => {
    const fleet = fakeFleet(3);
    const err = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'scale', size: 2, nodes: ['other-9'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as Error).message).toMatch(/nodes: other-9 not in the group/);
    expect(fleet.calls).not.toContain('holdRepaverLane');

    const bad = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'scale' } as never).catch((e: unknown) => e);
    expect(((bad as WorkflowFailedError).cause as Error).message).toMatch(/invalid nodeGroupManager input: size: scale needs a target size/);
  });

  it('delete drains every node; a drain that fails leaves that node serving and fails the run, lane released', async () => {
    const fleet = fakeFleet(2);
    fleet.nodes.set('general-blocked', { ...fleet.nodes.get('general-0')!, name: 'general-blocked' });
    const err = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'delete' }).catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause as Error).message).toMatch(/delete of node group general incomplete: general-blocked: drain timed out/);
    expect([...fleet.nodes.keys()]).toEqual(['general-blocked']);
    expect(fleet.calls).toContain('uncordonNode');
    expect(fleet.calls.at(-1)).toBe('releaseRepaverLane');
  });

  it('pause holds before the next step, resume goes on', async () => {
    const fleet = fakeFleet(2);
    const taskQueue = `ngm-${++n}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: fleet.activities });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart(nodeGroupManager, {
        taskQueue,
        workflowId: `node-group-manager.sim-1.general-${n}`,
        args: [{ cluster: 'sim-1', group: 'general', action: 'scale', size: 3 }],
        signal: pauseSignal,
        signalArgs: ['change freeze'],
      });
      await until(() => fleet.calls.includes('listNodeGroupNodes'));
      await new Promise((r) => setTimeout(r, 1000)); // held at the gate before the lane is held
      const held = await handle.query(progress);
      expect(held).toMatchObject({ phase: 'validating', paused: true, runbook: 'nodeGroupManager', target: 'general', size: 3 });
      expect(fleet.calls).not.toContain('holdRepaverLane');
      await handle.signal(resumeSignal);
      expect(await handle.result()).toMatchObject({ from: 2, to: 3 });
    });
  });

  it('abort during a drain cancels it, uncordons the node, releases the lane and ends Aborted', async () => {
    const fleet = fakeFleet(3);
    let drainStarted = false;
    fleet.activities.drainNode = async () => {
      drainStarted = true;
      fleet.calls.push('drainNode');
      for (;;) {
        heartbeat();
        await sleep(100); // rejects when the workflow cancels the activity
      }
    };
    const taskQueue = `ngm-${++n}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: fleet.activities });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(nodeGroupManager, { taskQueue, workflowId: `node-group-manager.sim-1.general-${n}`, args: [{ cluster: 'sim-1', group: 'general', action: 'scale', size: 2 }] });
      await until(() => drainStarted);
      await handle.signal(abortSignal, 'wrong group');
      const err = await handle.result().catch((e: unknown) => e);
      const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('Aborted');
      expect(cause.message).toBe('aborted by operator: wrong group');
      const p = await handle.query(progress);
      expect(p).toMatchObject({ phase: 'aborted', abortRequested: 'wrong group', removed: [] });
      expect(p.failed).toEqual([{ node: 'general-2', error: 'aborted by operator: wrong group' }]);
    });
    expect(fleet.calls).toContain('uncordonNode');
    expect(fleet.calls).not.toContain('deleteNode');
    expect(fleet.calls.at(-1)).toBe('releaseRepaverLane');
    expect(fleet.nodes.size).toBe(3);
  });
});

describe('nodeGroupManager on dedicated subnets', () => {
  it('create makes the subnets (lane held) before the first launch, and launches each node on its AD subnet', async () => {
    const fleet = fakeFleet(0, dedicated);
    const r = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'create' });
    expect(r).toMatchObject({ from: 0, to: 4 });
    expect(fleet.calls.indexOf('holdRepaverLane')).toBeLessThan(fleet.calls.indexOf('ensureNodeGroupSubnets'));
    expect(fleet.calls.indexOf('ensureNodeGroupSubnets')).toBeLessThan(fleet.calls.indexOf('launchReplacement'));
    expect([...fleet.launched.values()].map((l) => [l.ad, l.subnetId]).sort()).toEqual([
      ['SIM:AD-1', 'ocid1.subnet.oc1..1'],
      ['SIM:AD-1', 'ocid1.subnet.oc1..1'],
      ['SIM:AD-2', 'ocid1.subnet.oc1..2'],
      ['SIM:AD-3', 'ocid1.subnet.oc1..3'],
    ]);
    expect(fleet.subnets).toHaveLength(3);
    expect(fleet.calls).not.toContain('deleteNodeGroupSubnets');
  });

  it('a create that fails removes what it made: the nodes that became Ready (drained), then the subnets it made, not the ones that were there', async () => {
    const fleet = fakeFleet(0, dedicated);
    fleet.subnets.push({ subnetId: 'ocid1.subnet.oc1..earlier', cidrBlock: '10.0.200.0/24', availabilityDomain: 'SIM:AD-1', lifecycleState: 'AVAILABLE' });
    const launch = fleet.activities.launchReplacement!;
    fleet.activities.launchReplacement = async (...args: unknown[]) => {
      if ((args[0] as { availabilityDomain: string }).availabilityDomain === 'SIM:AD-3') {
        fleet.calls.push('launchReplacement');
        throw ApplicationFailure.nonRetryable('launch refused', 'OciApiRefused');
      }
      return launch(...args);
    };
    const err = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'create' }).catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause as Error).message).toMatch(/create of node group general incomplete: general-\w+: launch refused/);
    expect(fleet.nodes.size).toBe(0); // the three that became Ready were drained and removed
    expect(fleet.calls.filter((c) => c === 'drainNode')).toHaveLength(3);
    expect(fleet.calls.lastIndexOf('terminateInstance')).toBeLessThan(fleet.calls.indexOf('deleteNodeGroupSubnets'));
    expect(fleet.subnetCalls.map((c) => c.name)).toEqual(['ensure', 'delete']);
    expect(fleet.subnetCalls[1]!.args).toMatchObject({ except: ['ocid1.subnet.oc1..earlier'], keepInUse: true });
    expect(fleet.subnets.map((s) => s.subnetId)).toEqual(['ocid1.subnet.oc1..earlier']);
    expect(fleet.calls.at(-1)).toBe('releaseRepaverLane');
  });

  it('an exhausted subnet pool fails the create before any launch, and releases the lane', async () => {
    const fleet = fakeFleet(0, dedicated);
    fleet.activities.ensureNodeGroupSubnets = async () => {
      fleet.calls.push('ensureNodeGroupSubnets');
      throw ApplicationFailure.nonRetryable('node group sim-1/general: subnetPool 10.0.128.0/23 has room for 2 more /24 subnets, 3 needed', 'SubnetPoolExhausted');
    };
    const err = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'create' }).catch((e: unknown) => e);
    expect(((err as WorkflowFailedError).cause as Error).message).toMatch(/has room for 2 more \/24 subnets, 3 needed/);
    expect(fleet.calls).not.toContain('launchReplacement');
    expect(fleet.calls).toContain('deleteNodeGroupSubnets');
    expect(fleet.calls.at(-1)).toBe('releaseRepaverLane');
  });

  it('delete removes every node first, then the subnets', async () => {
    const fleet = fakeFleet(3, dedicated);
    fleet.subnets.push({ subnetId: 'ocid1.subnet.oc1..1', cidrBlock: '10.0.128.0/24', availabilityDomain: 'SIM:AD-1', lifecycleState: 'AVAILABLE' });
    const r = await run(fleet, { cluster: 'sim-1', group: 'general', action: 'delete' });
    expect(r).toMatchObject({ from: 3, to: 0 });
    expect(fleet.calls.lastIndexOf('terminateInstance')).toBeLessThan(fleet.calls.indexOf('deleteNodeGroupSubnets'));
    expect(fleet.subnetCalls).toEqual([{ name: 'delete', args: expect.not.objectContaining({ except: expect.anything() }) }]);
    expect(fleet.subnets).toEqual([]);
  });

  it('a delete whose drain fails leaves the subnets alone', async () => {
    const fleet = fakeFleet(1, dedicated);
    fleet.nodes.set('general-blocked', { ...fleet.nodes.get('general-0')!, name: 'general-blocked' });
    await expect(run(fleet, { cluster: 'sim-1', group: 'general', action: 'delete' })).rejects.toThrow(WorkflowFailedError);
    expect(fleet.calls).not.toContain('deleteNodeGroupSubnets');
  });
});

const progress = progressQueryOf<NodeGroupManagerProgress>();
async function until(check: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached in 10 s');
}
