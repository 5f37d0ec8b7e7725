// How the workflow code is bundled: the same for the worker (workflowsPath), the prebuilt bundle (scripts/build) and the tests.
import type { BundleOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Libraries the reusable V8 context evaluates once, shared by every workflow, instead of once per workflow created
 * (README, "Bench"). Only stateless ones: what they keep at module level (zod's locale, luxon's zone caches) is the same
 * for every workflow. Their exports are frozen once loaded, which our modules' zod schemas cannot bear (zod defines
 * their methods on first use), so src/core is not preloaded.
 */
export const PRELOADED_MODULES = ['zod', 'luxon'];

export const WORKFLOW_BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, preloadModules: PRELOADED_MODULES } satisfies BundleOptions;
