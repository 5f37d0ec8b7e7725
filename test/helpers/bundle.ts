import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/workers/workflow-bundle.js';

// Kept apart from workflow-env.ts (vitest, the time-skipping server) so that scripts run with plain tsx
// (scripts/record-histories.ts) can use the stack helpers too.

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code as the worker runs it (src/workflows/index.ts). Bundling takes seconds: do it once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  return bundle;
}
