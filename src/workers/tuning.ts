// How much the worker does at once. Defaults are the SDK's; the bench (scenario concurrency) measures them.
import type { WorkerOptions } from '@temporalio/worker';

export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Sticky cache: workflows kept in memory between their tasks. */
  maxCachedWorkflows?: number;
  /** Pollers per task queue kind (workflow tasks and activity tasks), a fixed maximum. */
  pollers?: number;
}

const ENV: Record<keyof WorkerTuning, string> = {
  maxConcurrentActivityTaskExecutions: 'ITINERANT_WORKER_MAX_ACTIVITIES',
  maxConcurrentWorkflowTaskExecutions: 'ITINERANT_WORKER_MAX_WORKFLOW_TASKS',
  maxCachedWorkflows: 'ITINERANT_WORKER_MAX_CACHED_WORKFLOWS',
  pollers: 'ITINERANT_WORKER_POLLERS',
};

/** Tuning from ITINERANT_WORKER_* variables (positive integers); unset ones keep the SDK's defaults. */
export function workerTuningFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const tuning: WorkerTuning = {};
  for (const [key, name] of Object.entries(ENV) as [keyof WorkerTuning, string][]) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    tuning[key] = n;
  }
  return tuning;
}

export function workerOptionsOf({ pollers, ...rest }: WorkerTuning): Partial<WorkerOptions> {
  return {
    ...rest,
    ...(pollers !== undefined
      ? { workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: pollers }, activityTaskPollerBehavior: { type: 'simple-maximum', maximum: pollers } }
      : {}),
  };
}
