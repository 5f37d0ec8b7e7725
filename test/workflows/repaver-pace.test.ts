// setPace validation against a real dev server (updates rejected by a validator are not reliable on the
// Java time-skipping test server). No time needs to pass: the lane's first sweep is all it takes.
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../testbeds/temporal/temporal-cli.js';
import type { RepaverLaneInput } from '../../src/core/lane/index.js';
import { laneStateQuery, setPaceUpdate } from '../../src/workflows/repaver-lane.js';
import { FakeGroup, makeGroup } from './repaver-fakes.js';

let server: DevServer;
let client: Client;
let native: NativeConnection;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  server = await startDevServer({ port: 0, ui: false });
  client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: server.namespace });
  native = await NativeConnection.connect({ address: server.address });
});
afterAll(async () => {
  await native?.close();
  await client?.connection.close();
  await server?.stop();
});

describe('repaverLane setPace (dev server)', () => {
  it('refuses nonsense with a clear message before it reaches the lane, and applies a sensible pace', async () => {
    const fake = new FakeGroup(makeGroup({ size: 4, maxUnavailable: 2, maxSurge: 2, maxUnhealthy: '50%' }));
    const now = Date.now();
    for (let i = 0; i < 4; i++) fake.add(`general-${i}`, now - i * 3_600_000, `FAULT-DOMAIN-${(i % 3) + 1}`);
    const workflowsPath = fileURLToPath(new URL('./repaver-stub-workflows.ts', import.meta.url));
    const worker = await Worker.create({
      connection: native,
      namespace: server.namespace,
      taskQueue: 'repaver-pace',
      workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never }),
      activities: fake.activities(),
    });
    await worker.runUntil(async () => {
      const h = await client.workflow.start('repaverLane', {
        taskQueue: 'repaver-pace',
        workflowId: 'repaver.sim-1.general-pace',
        args: [{ cluster: 'sim-1', group: 'general' } satisfies RepaverLaneInput],
      });
      try {
        // The validator needs the group's configuration, which the lane reads in its first sweep: wait for it
        // (generously: on a loaded 2-core machine the first workflow task can take a while).
        for (let i = 0; i < 600 && (await h.query(laneStateQuery)).lastSweep === undefined; i++) await new Promise((r) => setTimeout(r, 100));
        expect((await h.query(laneStateQuery)).lastSweep?.nodes).toBe(4);
        const refused = async (patch: unknown) => {
          const err = await h.executeUpdate(setPaceUpdate, { args: [patch as never] }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
          return ((err as WorkflowUpdateFailedError).cause as Error).message;
        };
        expect(await refused({ concurrency: 3 })).toMatch(/concurrency: expected an integer from 1 to 2 \(node group general's maxUnavailable\), got 3/);
        expect(await refused({ concurrency: 0 })).toMatch(/concurrency: expected an integer from 1 to 2/);
        expect(await refused({ pauseBetweenNodes: '48h' })).toMatch(/pauseBetweenNodes: expected a duration from 0s to 24h/);
        expect(await refused({ pauseBetweenNodes: 'a while' })).toMatch(/pauseBetweenNodes/);
        expect(await refused({ maxAge: '10m' })).toMatch(/maxAge: expected a duration from 1h/);
        expect(await refused({ faster: true })).toMatch(/unknown field\(s\) faster/);
        expect(await refused('fast')).toMatch(/expected an object/);
        // Rejected updates leave no trace in the lane's history or state.
        expect((await h.query(laneStateQuery)).pace).toEqual({ concurrency: 1, pauseBetweenNodes: 0 });
        const history = await h.fetchHistory();
        expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);

        expect(await h.executeUpdate(setPaceUpdate, { args: [{ concurrency: 2, pauseBetweenNodes: '10m', maxAge: '30d' }] })).toEqual({
          concurrency: 2,
          pauseBetweenNodes: 600_000,
          maxAge: 30 * 86_400_000,
        });
        const s = await h.query(laneStateQuery);
        expect(s.pace).toEqual({ concurrency: 2, pauseBetweenNodes: 600_000, maxAge: 30 * 86_400_000 });
        expect(s.history.at(-1)).toMatchObject({ outcome: 'pace', reason: 'pace set to concurrency 2, pause 10m, maxAge 30d' });
      } finally {
        await h.terminate('test over');
      }
    });
  });
});
