import * as k8s from '@kubernetes/client-node';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repaverLaneWorkflowId, repaverScheduleId } from '../../src/core/ids.js';
import type { LaneState } from '../../src/core/lane/index.js';
import { applySchedules } from '../../src/client/schedules.js';
import { laneStateQuery } from '../../src/workflows/repaver-lane.js';
import { eventually, isReady, nodesOfGroup, removeCassandraRing, runWorker, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let worker: { stop(): Promise<void> } | undefined;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stack = await startStack({ bootDelayMs: 800, nodeReadyDelayMs: 400 });
  await removeCassandraRing(stack);
  worker = await runWorker(stack);
});
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

const GROUPS = ['general', 'batch'] as const;
const SIZE = 4;
const MAX_UNAVAILABLE = 1;

/** Report an unhealthy node the way another service would: a separate process, signal-with-start on the lane. */
function reportFromAnotherProcess(node: string): Promise<string> {
  const lib = fileURLToPath(new URL('../../src/client/schedules.ts', import.meta.url));
  const script = `
    import { Client, Connection } from '@temporalio/client';
    import { reportUnhealthyNode } from ${JSON.stringify(lib)};
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE });
    const r = await reportUnhealthyNode(client, { cluster: 'sim-1', group: 'general', node: process.env.NODE_NAME, reason: 'node-problem-detector: KernelDeadlock' });
    console.log(r.workflowId);
    await connection.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: stack.server.namespace, NODE_NAME: node },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`reporter exited with ${code}`))));
  });
}

describe('repaver lanes end to end (dev server + worker + simulated fleet with faults)', () => {
  it(
    'Schedules start both lanes; every aged node is replaced within budget despite API errors and a replacement that never gets Ready; a reported node is replaced',
    async () => {
      const since = new Date().toISOString();
      const seeded = Object.fromEntries(await Promise.all(GROUPS.map(async (g) => [g, (await nodesOfGroup(stack.core, g)).map((n) => n.metadata!.name!)] as const)));
      expect(seeded.general).toHaveLength(SIZE);

      // Schedules: idempotent; the lane input (small maxAge so every seeded node is aged, short timeouts) rides along.
      const lane = { pace: { maxAge: '1h' }, sweepInterval: '2s', readyTimeout: '15s', failureBackoff: '2s' };
      const first = await applySchedules(stack.client, stack.fleet, { lane });
      expect(first.map((s) => `${s.scheduleId}:${s.action}`).sort()).toEqual(['repaver-sweep.sim-1.batch:created', 'repaver-sweep.sim-1.general:created']);
      const again = await applySchedules(stack.client, stack.fleet, { lane });
      expect(again.every((s) => s.action === 'unchanged')).toBe(true);
      const desc = await stack.client.schedule.getHandle(repaverScheduleId('sim-1', 'general')).describe();
      expect(desc.policies.overlap).toBe('SKIP');
      expect(desc.spec.intervals?.[0]?.every).toBe(10 * 60_000);

      // Faults: one OCI call in five fails, and the next launched instance never becomes Ready.
      stack.sim.oci.faults.errorRate = 0.2;
      stack.sim.oci.faults.neverReady = 1;

      // Fire both schedules now: each runs sweepNodeGroup, which signal-with-starts its group's lane.
      await Promise.all(GROUPS.map((g) => stack.client.schedule.getHandle(repaverScheduleId('sim-1', g)).trigger()));
      const lanes = GROUPS.map((g) => stack.client.workflow.getHandle(repaverLaneWorkflowId('sim-1', g)));
      try {
        await eventually('both lanes running', async () => (await Promise.all(lanes.map((h) => h.describe()))).every((d) => d.status.name === 'RUNNING'), 30_000);
        const state = (i: number) => lanes[i]!.query(laneStateQuery) as Promise<LaneState>;

        // Both lanes repave at the same time.
        await eventually('both lanes repaving', async () => (await Promise.all([state(0), state(1)])).every((s) => s.inFlight.length > 0), 30_000, 100);

        // Once general has replaced a node, another service reports one of its fresh nodes unhealthy.
        const fresh = await eventually(
          'a replacement in general',
          async () => (await state(0)).history.find((e) => e.outcome === 'replaced')?.replacement,
          60_000,
        );
        expect(await reportFromAnotherProcess(fresh)).toBe(repaverLaneWorkflowId('sim-1', 'general'));

        const dump = async () => {
          const pods = (await stack.core.listPodForAllNamespaces()).items.filter((p) => p.metadata?.namespace === 'shop');
          console.error('pods', pods.map((p) => `${p.metadata!.name}@${p.spec?.nodeName}:${p.status?.phase}${p.metadata?.deletionTimestamp ? '(terminating)' : ''}${p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? '' : '(notready)'}`).join(' '));
          for (const [i, g] of GROUPS.entries()) {
            const s = await state(i);
            const nodes = (await nodesOfGroup(stack.core, g)).map((n) => `${n.metadata!.name}${isReady(n) ? '' : '(NotReady)'}${n.spec?.unschedulable ? '(cordoned)' : ''}`);
            for (const f of s.inFlight) {
              const d = await stack.client.workflow.getHandle(f.workflowId).describe();
              const pend = d.raw.pendingActivities?.map((a) => `${a.activityType?.name} attempt ${a.attempt} ${a.lastFailure?.message ?? ''} hb=${JSON.stringify(a.heartbeatDetails?.payloads?.map((p) => Buffer.from(p.data ?? []).toString()))}`);
              const prog = await stack.client.workflow.getHandle(f.workflowId).query('progress');
              console.error('child', f.workflowId, d.status.name, pend, JSON.stringify(prog));
            }
            console.error(g, JSON.stringify({ nodes, phase: s.phase, inFlight: s.inFlight, queue: s.queue, skipped: s.skipped, lastSweep: s.lastSweep, history: s.history.slice(-8) }, null, 1));
          }
        };
        await eventually(
          'every aged node and the reported node replaced',
          async () => {
            for (const g of GROUPS) {
              const nodes = await nodesOfGroup(stack.core, g);
              const names = nodes.map((n) => n.metadata!.name!);
              if (seeded[g]!.some((s) => names.includes(s))) return false;
              if (nodes.length !== SIZE || !nodes.every(isReady)) return false;
            }
            return !(await nodesOfGroup(stack.core, 'general')).some((n) => n.metadata!.name === fresh);
          },
          110_000,
          500,
        ).catch(async (e: unknown) => {
          await dump();
          throw e;
        });

        const [general, batch] = await Promise.all([state(0), state(1)]);
        // The replacement that never became Ready failed its repave, and the node was retried later.
        const failed = [...general.history, ...batch.history].filter((e) => e.outcome === 'failed');
        expect(failed.length).toBeGreaterThanOrEqual(1);
        expect(failed[0]!.detail).toMatch(/did not become operational/);
        expect(stack.sim.oci.counters().injectedErrors).toBeGreaterThan(0);
        expect(general.history.find((e) => e.node === fresh)).toMatchObject({ outcome: 'replaced', reason: expect.stringMatching(/KernelDeadlock/) });
        expect(general.reports).toEqual([]);
        expect(general.breaker.open).toBe(false);
      } finally {
        stack.sim.oci.faults.errorRate = 0;
        await Promise.all(lanes.map((h) => h.terminate('test over').catch(() => undefined)));
      }

      // Capacity: at no moment had a group fewer Ready (and schedulable) nodes than size - maxUnavailable.
      for (const g of GROUPS) {
        const points = stack.sim.kube.readinessTimeline(g).filter((p) => p.at >= since);
        expect(points.length).toBeGreaterThan(0);
        expect(Math.min(...points.map((p) => p.ready))).toBeGreaterThanOrEqual(SIZE - MAX_UNAVAILABLE);
        expect(Math.min(...points.map((p) => p.readySchedulable))).toBeGreaterThanOrEqual(SIZE - MAX_UNAVAILABLE);
      }
    },
    170_000,
  );
});
