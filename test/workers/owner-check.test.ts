import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ownerRunningCheck } from '../../src/workers/owner-check.js';

const answering = (a: { status?: string; error?: Error }) => ownerRunningCheck(async () => {
  if (a.error) throw a.error;
  return { status: { name: a.status! } };
});

describe('ownerRunningCheck: only "not found" frees a claim', () => {
  it.each<[string, { status?: string; error?: Error }, boolean]>([
    ['the owner runs', { status: 'RUNNING' }, true],
    ['the owner completed', { status: 'COMPLETED' }, false],
    ['the owner failed', { status: 'FAILED' }, false],
    ['the owner was terminated', { status: 'TERMINATED' }, false],
    ['the owner continued as new (its next run holds it through its own ID)', { status: 'CONTINUED_AS_NEW' }, false],
    ['no such workflow', { error: new WorkflowNotFoundError('not found', 'repave-node.sim-1.n1', undefined) }, false],
  ])('%s → %s', async (_name, answer, running) => {
    expect(await answering(answer)('repave-node.sim-1.n1')).toBe(running);
  });

  it.each<[string, Error]>([
    ['Temporal unavailable', Object.assign(new Error('14 UNAVAILABLE: tcp connect error'), { code: 14 })],
    ['a deadline exceeded', new Error('4 DEADLINE_EXCEEDED: context deadline exceeded')],
    ['permission denied', new Error('7 PERMISSION_DENIED: namespace')],
  ])('%s is an error the activity retries, never "the owner is gone"', async (_name, error) => {
    await expect(answering({ error })('repave-node.sim-1.n1')).rejects.toThrow(/could not tell whether repave-node\.sim-1\.n1, which holds the claim, still runs: /);
  });
});
