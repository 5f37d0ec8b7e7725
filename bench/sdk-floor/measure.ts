// The SDK's floor beside our figures: as many runs of repaveShape (./workflow.ts: repaveNode's history, no work) on a
// worker tuned as ours, in this process, on the same dev server. What our figures add to it is our code's.
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WORKER_TUNING, workerOptionsOf, type WorkerTuning } from '../../src/workers/tuning.js';
import type { DevServer } from '../../testbeds/temporal/temporal-cli.js';
import { awaitWithin, cpuMeter, round, runsFigures, runStats, type RunStats } from '../measure.js';
import { floorActivities } from './activities.js';
import { repaveShape } from './workflow.js';

const TASK_QUEUE = 'itinerant-bench-sdk-floor';
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

let bundle: ReturnType<typeof bundleWorkflowCode> | undefined;
/** Bundling takes seconds: once per process. */
const floorBundle = () => (bundle ??= bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflow.ts', import.meta.url)), logger: quiet as never }));

export async function measureSdkFloor(server: DevServer, runs: number, tuning: WorkerTuning, opts: { withinMs?: number; log?: (line: string) => void } = {}) {
  const workflowBundle = await floorBundle();
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: server.namespace,
      taskQueue: TASK_QUEUE,
      workflowBundle,
      activities: floorActivities,
      ...workerOptionsOf({ ...DEFAULT_WORKER_TUNING, ...tuning }),
    });
    const batch = `${Date.now()}`;
    const ids = Array.from({ length: runs }, (_, i) => `bench-sdk-floor-${batch}-${i}`);
    const cpu = cpuMeter({ temporalServer: server.process.pid! });
    const started = Date.now();
    const completed = await worker.runUntil(async () => {
      const handles = await Promise.all(ids.map((workflowId, i) => client.workflow.start(repaveShape, { taskQueue: TASK_QUEUE, workflowId, args: [{ node: `node-${i}` }] })));
      return awaitWithin(handles, opts);
    });
    const wallSeconds = (Date.now() - started) / 1000;
    const cpuSeconds = cpu.read();
    const stats: RunStats[] = [];
    for (const id of ids.filter((id) => completed.has(id))) stats.push(await runStats(client, id));
    const perRun = (s: number) => round((s * 1000) / stats.length, 1);
    return {
      ...runsFigures(stats, runs, wallSeconds, opts.withinMs),
      cpuMsPerRun: { worker: perRun(cpuSeconds.worker), temporalServer: perRun(cpuSeconds.temporalServer) },
    };
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}
