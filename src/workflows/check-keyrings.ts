import { log, ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { API_CALL } from './activity-options.js';
import { rotateKeysWorkflowId, rotationDue, type CheckKeyringsInput, type CheckKeyringsResult, type KeyringActivities, type RotateKeysInput } from '../core/rotation.js';
import type { RotateKeysResult } from '../core/rotation.js';

const api = proxyActivities<Pick<KeyringActivities, 'describeKeyring'>>(API_CALL);

/**
 * Started by the cluster's keyring-check Schedule: for each purpose, start a rotation when the active key is
 * rotateEvery old, a trusted key expires within expiringWithin, or a rotation was left unfinished.
 */
export async function checkKeyrings(input: CheckKeyringsInput): Promise<CheckKeyringsResult> {
  const out: CheckKeyringsResult = { started: [], notDue: [], skipped: [] };
  for (const purpose of input.purposes) {
    const ring = await api.describeKeyring({ cluster: input.cluster, purpose });
    if (!ring) {
      out.skipped.push({ purpose, why: 'no keyring in the key store' });
      continue;
    }
    const why = rotationDue(ring, Date.now(), input);
    if (!why) {
      out.notDue.push(purpose);
      continue;
    }
    const workflowId = rotateKeysWorkflowId(input.cluster, purpose);
    try {
      await startChild<(i: RotateKeysInput) => Promise<RotateKeysResult>>('rotateKeys', {
        workflowId,
        args: [{ cluster: input.cluster, purpose, ...(input.holdBetweenPhases ? { holdBetweenPhases: true } : {}) }],
        // the rotation runs on its own: this check ends at once
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      out.started.push({ purpose, workflowId, why });
      log.info('rotation started', { cluster: input.cluster, purpose, why });
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      out.skipped.push({ purpose, why: `${workflowId} is already running` });
    }
  }
  return out;
}
