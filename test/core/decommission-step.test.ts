import { describe, expect, it } from 'vitest';
import { nextDecommissionStep, type DecommissionStep, type MemberMode } from '../../src/core/decommission.js';

describe('nextDecommissionStep', () => {
  it.each<[MemberMode, number, number, DecommissionStep]>([
    // mode, times issued, re-issues so far → next step
    ['NORMAL', 0, 0, { step: 'issue' }],
    ['DECOMMISSION_FAILED', 0, 0, { step: 'issue' }],
    ['NORMAL', 1, 0, { step: 'reissue', reissue: 1 }],
    ['DECOMMISSION_FAILED', 2, 1, { step: 'reissue', reissue: 2 }],
    ['NORMAL', 3, 2, { step: 'reissue', reissue: 3 }],
    ['NORMAL', 4, 3, { step: 'ask-before-reissue', fellBack: 3 }],
    ['LEAVING', 0, 0, { step: 'follow' }],
    ['LEAVING', 1, 0, { step: 'follow' }],
    ['DECOMMISSIONED', 1, 0, { step: 'follow' }],
    ['JOINING', 0, 0, { step: 'recheck' }],
    ['STARTING', 1, 0, { step: 'recheck' }],
    ['UNREACHABLE', 1, 3, { step: 'recheck' }],
    ['DRAINED', 0, 0, { step: 'recheck' }],
  ])('%s, issued %i times, %i re-issues → %o', (mode, timesIssued, reissues, step) => {
    expect(nextDecommissionStep({ mode, timesIssued, reissues, maxReissues: 3 })).toEqual(step);
  });
});
