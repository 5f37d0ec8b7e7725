// Work requests (Work Requests API, GET /workRequests/{id}): what LaunchInstance and TerminateInstance
// answer with in `opc-work-request-id`, their status followed from the instance's lifecycle.
import { randomBytes } from 'node:crypto';
import type { OciFleet } from './fleet.js';
import { OciApiError } from './types.js';

type Operation = 'LaunchInstance' | 'TerminateInstance';
interface Recorded {
  id: string;
  operationType: Operation;
  compartmentId: string;
  instanceId: string;
  timeAccepted: string;
}

export class WorkRequests {
  private readonly byId = new Map<string, Recorded>();

  constructor(private readonly regionKey: string) {}

  /** The work request of this operation on the instance: the one already recorded (a retry token's replay, a repeated terminate), else a new one. */
  record(operationType: Operation, instance: { id: string; compartmentId: string }): string {
    const earlier = [...this.byId.values()].find((w) => w.operationType === operationType && w.instanceId === instance.id);
    if (earlier) return earlier.id;
    const id = `ocid1.coreservicesworkrequest.oc1.${this.regionKey}.sim${randomBytes(12).toString('hex')}`;
    this.byId.set(id, { id, operationType, compartmentId: instance.compartmentId, instanceId: instance.id, timeAccepted: new Date().toISOString() });
    return id;
  }

  get(id: string, fleet: OciFleet): Record<string, unknown> {
    const w = this.byId.get(id);
    if (!w) throw new OciApiError(404, 'NotAuthorizedOrNotFound', `Authorization failed or requested resource not found: work request ${id}.`);
    let state: string;
    try {
      state = fleet.getInstance(w.instanceId).lifecycleState;
    } catch {
      state = 'TERMINATED'; // purged after its retention
    }
    const launch = w.operationType === 'LaunchInstance';
    const done = launch ? state !== 'PROVISIONING' : state === 'TERMINATED';
    const failed = launch && (state === 'TERMINATING' || state === 'TERMINATED');
    return {
      id: w.id,
      operationType: w.operationType,
      status: failed ? 'FAILED' : done ? 'SUCCEEDED' : 'IN_PROGRESS',
      compartmentId: w.compartmentId,
      resources: [{ entityType: 'instance', actionType: done ? (launch ? 'CREATED' : 'DELETED') : 'IN_PROGRESS', identifier: w.instanceId, entityUri: `/20160918/instances/${w.instanceId}` }],
      percentComplete: done ? 100 : 50,
      timeAccepted: w.timeAccepted,
      timeStarted: w.timeAccepted,
      ...(done ? { timeFinished: new Date().toISOString() } : {}),
    };
  }
}
