// How much the worker does at once. Defaults are the SDK's; the bench (scenario concurrency) measures them.
import type { WorkerOptions } from '@temporalio/worker';

export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Sticky cache: workflows kept in memory between their tasks. */
  maxCachedWorkflows?: number;
  /** Pollers per task queue kind (workflow tasks and activity tasks), a fixed maximum. */
  pollers?: number;
  /** Threads running workflow code (the SDK's default with a reusable V8 context: 1). */
  workflowThreadPoolSize?: number;
}

/**
 * Our defaults where the SDK's do not fit. Every repave in flight holds an activity slot for its long waits
 * (instance running, node operational, drain: seconds to minutes of I/O, no CPU); with the SDK's 100 slots, 100
 * runs in flight left their short steps queued behind those waits for up to 105 s (npm run bench, scenario
 * orchestration-cost). 1,000 slots cover the 1,000 runs in flight the bench proves.
 */
export const DEFAULT_WORKER_TUNING: WorkerTuning = { maxConcurrentActivityTaskExecutions: 1000 };

const ENV: Record<keyof WorkerTuning, string> = {
  maxConcurrentActivityTaskExecutions: 'ITINERANT_WORKER_MAX_ACTIVITIES',
  maxConcurrentWorkflowTaskExecutions: 'ITINERANT_WORKER_MAX_WORKFLOW_TASKS',
  maxCachedWorkflows: 'ITINERANT_WORKER_MAX_CACHED_WORKFLOWS',
  pollers: 'ITINERANT_WORKER_POLLERS',
  workflowThreadPoolSize: 'ITINERANT_WORKER_WORKFLOW_THREADS',
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
