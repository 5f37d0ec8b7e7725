import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { ITINERANT_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { ensureTestServer } from '../../src/lib/temporal-cli.js';
import { WORKFLOWS_PATH } from '../../src/workers/worker.js';

/** The Java time-skipping test server (installed by the project's scripts when missing), with our search attributes. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = await ensureTestServer();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(ITINERANT_SEARCH_ATTRIBUTES.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: do it once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  return bundle;
}
