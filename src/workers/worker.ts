import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { FleetConfig } from '../core/config.js';
import { connectionOptions, type TemporalConnectionSettings } from '../config/temporal-connection.js';
import { TASK_QUEUE } from '../core/ids.js';
import { activityLogAttributes } from './activity-log.js';
import { auditSinks, auditTrail, type AuditSink } from './audit.js';
import { metricsSinks } from './metrics.js';
import { ownerRunningCheck } from './owner-check.js';
import { DEFAULT_WORKER_TUNING, workerOptionsOf, type WorkerTuning } from './tuning.js';
import { WORKFLOW_BUNDLE_OPTIONS } from './workflow-bundle.js';

/** Where Temporal is and how to reach it (temporalConnectionFromEnv), and what the worker serves. */
export interface ItinerantWorkerOptions extends TemporalConnectionSettings {
  fleet: FleetConfig;
  taskQueue?: string;
  /** A prebuilt bundle (tests build it once per file); otherwise the worker bundles src/workflows. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Over DEFAULT_WORKER_TUNING. */
  tuning?: WorkerTuning;
  /** The payload codec (src/codec), shared with every client of the namespace. */
  dataConverter?: DataConverter | undefined;
  /** Where the audit stream goes (src/workers/audit.ts); none: no audit lines. */
  audit?: AuditSink;
}

/** Every sink the workflows call (metrics; the audit stream's operator actions, dropped without `audit`). */
export const itinerantSinks = (audit?: AuditSink) => ({ ...metricsSinks(), ...auditSinks(audit) });

export async function createItinerantWorker(opts: ItinerantWorkerOptions) {
  const connection = await NativeConnection.connect(connectionOptions(opts));
  const client = new Client({ connection: await Connection.connect(connectionOptions(opts)), namespace: opts.namespace, ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}) });
  const isWorkflowRunning = ownerRunningCheck((workflowId) => client.workflow.getHandle(workflowId).describe());
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOW_BUNDLE_OPTIONS.workflowsPath }),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    activities: createActivities({ fleet: opts.fleet, isWorkflowRunning }),
    interceptors: { activity: [activityLogAttributes, ...(opts.audit ? [auditTrail(opts.audit)] : [])] },
    sinks: itinerantSinks(opts.audit),
    ...workerOptionsOf({ ...DEFAULT_WORKER_TUNING, ...opts.tuning }),
  });
  return {
    worker,
    async close() {
      await connection.close();
      await client.connection.close();
    },
  };
}
