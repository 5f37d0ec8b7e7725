import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { expect } from 'vitest';
import { temporal } from '@temporalio/proto';
import { ITINERANT_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { ensureTestServer } from '../../testbeds/temporal/temporal-cli.js';
import { itinerantSinks } from '../../src/workers/worker.js';
import { workflowBundle } from './bundle.js';

/** The Java time-skipping test server (installed by the project's scripts when missing), with our search attributes. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = await ensureTestServer();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(ITINERANT_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]])),
  });
  return env;
}

export { workflowBundle } from './bundle.js';

/** Wrap each stub activity so that every call appends its name to `calls`, in order. */
export function recording<A extends object>(calls: string[], stubs: A): A {
  return Object.fromEntries(
    Object.entries(stubs as Record<string, (...a: unknown[]) => Promise<unknown>>).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        calls.push(name);
        return fn(...args);
      },
    ]),
  ) as A;
}

let taskQueues = 0;
/** Run `body` with a worker on a fresh task queue of `env`, serving `activities`. */
export async function withWorker<T>(env: TestWorkflowEnvironment, activities: object, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `workflow-test-${++taskQueues}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities, sinks: itinerantSinks() });
  return worker.runUntil(body(taskQueue));
}

/** The workflow's failure (the cause inside WorkflowFailedError), asserting that it did fail. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}
