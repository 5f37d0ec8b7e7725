import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Set to keep test and bench scratch directories (logs, the sim's state) for inspection after a run. */
export const KEEP_SCRATCH_VAR = 'ITINERANT_KEEP_SCRATCH';

/** A fresh directory under the OS temp dir for one stack, bed or scenario (its logs, the sim's state). */
export function makeScratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Remove a scratch directory once whatever wrote into it has stopped: an e2e stack's holds ≈ 125 MB (mostly the
 * sim's), and one `npm test` starts dozens. Kept when ITINERANT_KEEP_SCRATCH is set, and its path logged.
 */
export async function removeScratch(dir: string): Promise<void> {
  if (process.env[KEEP_SCRATCH_VAR]) {
    console.error(`${KEEP_SCRATCH_VAR}: kept ${dir}`);
    return;
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
