// How the workflow code is bundled: the same for the worker (workflowsPath), the prebuilt bundle (scripts/build) and the tests.
import type { BundleOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Nothing is preloaded (`preloadModules`: evaluated once, shared by every workflow of the reusable V8 context). The SDK
 * deep-freezes the exports of shared modules, and zod 4 adds properties to its objects as it is used: preloaded, every
 * replayed repave failed ("Cannot define property safeParse" for src/core's schemas, "Cannot add property localeError"
 * for zod itself). Naming 'zod' or 'luxon' alone preloads nothing: both declare `"sideEffects": false`, and webpack
 * drops the preload's unused require. Per-workflow cost is cut in src/workflows/index.ts instead.
 */
export const WORKFLOW_BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH } satisfies BundleOptions;
