// The replay safety net: every history recorded from a real run (test/replay/histories, written by
// scripts/record-histories.ts) must replay against the current workflow code. A change that makes a run in
// flight issue different commands (activities, timers, child workflows, search-attribute upserts, in another
// order or one more or less) fails here with Temporal's nondeterminism error. See README, "Changing a workflow safely".
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowBundle } from '../helpers/bundle.js';
import { historyFromJSON } from './history-json.js';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
/** Every workflow type the worker registers has at least this many histories between them; a missing directory must not pass. */
const AT_LEAST = 5;

const files = (() => {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
})();

function load(file: string) {
  const history = historyFromJSON(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`${file}: the first event is not WorkflowExecutionStarted`);
  return { file, workflowType: started.workflowType?.name ?? '?', history };
}

beforeAll(() => {
  Runtime.install({ logger: new DefaultLogger('WARN') }); // not the replay worker's state changes
});

describe('recorded histories replay against the current workflow code', () => {
  it(`finds at least ${AT_LEAST} recorded histories, of every long-lived workflow type, one across continue-as-new`, () => {
    expect(files.length, `histories in ${DIR}`).toBeGreaterThanOrEqual(AT_LEAST);
    const loaded = files.map(load);
    expect(new Set(loaded.map((h) => h.workflowType))).toEqual(
      new Set(['repaveNode', 'repaverLane', 'sweepNodeGroup', 'decommissionMember', 'nodeGroupManager', 'rolloutNodeImage', 'rolloutDeployment', 'rotateKeys', 'checkKeyrings']),
    );
    expect(loaded.some((h) => h.history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes)).toBe(true);
    // A run that started from continue-as-new (the carried state) is there too.
    expect(loaded.some((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId)).toBe(true);
  });

  it('every history replays without a nondeterminism error', async () => {
    const loaded = files.map(load);
    expect(loaded.length, `histories in ${DIR}`).toBeGreaterThanOrEqual(AT_LEAST); // also when this test runs alone
    const bundle = await workflowBundle();
    // One replay worker, one bundle, every history; the workflow ID names the file it came from.
    const results = Worker.runReplayHistories(
      { workflowBundle: bundle, replayName: 'replay-test' },
      loaded.map((h) => ({ workflowId: `${h.file} (${h.workflowType})`, history: h.history })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of results) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message}`);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    expect(replayed).toBe(loaded.length);
  }, 180_000);
});
