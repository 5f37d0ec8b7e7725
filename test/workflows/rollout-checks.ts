// Test-only workflows standing in for an operator's own rollout checks (gates.check of rolloutNodeImage).
import { ApplicationFailure } from '@temporalio/workflow';
import type { RolloutCheckInput } from '../../src/core/rollout.js';

/** Passes when it was told which nodes to look at. */
export async function dashboardsGreen(input: RolloutCheckInput): Promise<string> {
  if (input.nodes.length === 0) throw ApplicationFailure.nonRetryable('no nodes to check');
  return `checked ${input.nodes.join(',')} on ${input.imageId} (wave ${input.wave})`;
}

export async function errorBudgetBurnt(input: RolloutCheckInput): Promise<never> {
  throw ApplicationFailure.nonRetryable(`error budget burnt on ${input.groups.join(',')}`, 'CheckFailed');
}
