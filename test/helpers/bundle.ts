import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/workers/workflow-bundle.js';

// Kept apart from workflow-env.ts (vitest, the time-skipping server) so that scripts run with plain tsx
// (scripts/record-histories.ts) can use the stack helpers too.

/**
 * The bundle npm test's global setup wrote once for the whole run (test/global-setup.ts): every test file runs in a
 * process of its own and every worker process a test spawns would bundle again, seconds of CPU each.
 */
export const PREBUILT_BUNDLE_ENV = 'ITINERANT_TEST_WORKFLOW_BUNDLE';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code as the worker runs it (src/workflows/index.ts). Bundling takes seconds: do it once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const prebuilt = process.env[PREBUILT_BUNDLE_ENV];
  bundle ??= prebuilt
    ? Promise.resolve({ code: readFileSync(prebuilt, 'utf8'), sourceMap: readFileSync(`${prebuilt}.map`, 'utf8') })
    : bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  return bundle;
}

/** Bundles the workflow code into `path` (its source map beside it, `<path>.map`), as ITINERANT_WORKFLOW_BUNDLE reads it. */
export async function writeWorkflowBundle(path: string): Promise<string> {
  const { code, sourceMap } = await workflowBundle();
  writeFileSync(path, code);
  writeFileSync(`${path}.map`, sourceMap);
  return path;
}
