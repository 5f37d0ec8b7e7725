import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/workers/worker.js';

// Kept apart from workflow-env.ts (vitest, the time-skipping server) so that scripts run with plain tsx
// (scripts/record-histories.ts) can use the stack helpers too.

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code as the worker runs it (src/workflows/index.ts). Bundling takes seconds: do it once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  return bundle;
}
