/**
 * npm run build (second step): the workflow bundle the deployed worker loads (ITINERANT_WORKFLOW_BUNDLE), made once at
 * image build time with bundleWorkflowCode, so the worker starts without webpack or the TypeScript sources.
 * Usage: tsx scripts/build/workflow-bundle.ts [out] (default dist/workflow-bundle.js).
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/workers/workflow-bundle.js';

const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const started = Date.now();
const { code } = await bundleWorkflowCode(WORKFLOW_BUNDLE_OPTIONS);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.error(`workflow bundle: ${out} (${(code.length / 1e6).toFixed(2)} MB) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
