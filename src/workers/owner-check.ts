import { WorkflowNotFoundError } from '@temporalio/client';

/**
 * Whether the run that holds a claim (a node, a StatefulSet, a lane) is still running. Only Temporal's
 * "not found" means its owner is gone; any other error (a frontend restarting, a timeout) is thrown, so
 * that the activity asking is retried instead of taking a claim from a live run.
 */
export function ownerRunningCheck(describe: (workflowId: string) => Promise<{ status: { name: string } }>) {
  return async (workflowId: string): Promise<boolean> => {
    try {
      return (await describe(workflowId)).status.name === 'RUNNING';
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw new Error(`could not tell whether ${workflowId}, which holds the claim, still runs: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
}
