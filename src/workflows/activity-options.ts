import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

/** A call to an outside API: retried with backoff for half an hour, since OCI and Kubernetes throttle and blip. */
export const API_CALL: ActivityOptions = {
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * The same call run by the worker within the workflow task (a local activity), for the short reads and the claim
 * that open a repave: no activity task to match and no workflow task after each, and one marker in the history
 * instead of six events. Retried as API_CALL is; a backoff of more than 10 s waits on a timer, not in the task.
 */
export const LOCAL_API_CALL: LocalActivityOptions = {
  startToCloseTimeout: API_CALL.startToCloseTimeout,
  scheduleToCloseTimeout: API_CALL.scheduleToCloseTimeout,
  retry: API_CALL.retry,
  localRetryThreshold: '10s',
};

/**
 * A launch: an API call whose cancellation (an abort) waits until the attempt in flight has ended, so that
 * what it created is there to be found and undone (terminateLaunched) instead of appearing after the undo.
 */
export const LAUNCH: ActivityOptions = { ...API_CALL, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };

/**
 * Runs recorded before LAUNCH (their aborts did not wait for the launch in flight) keep the plain API call;
 * compensation terminates an instance whose launch never answered only in runs that have the patch.
 */
export const PATCH_TERMINATE_UNCONFIRMED_LAUNCH = 'terminate-unconfirmed-launch';

/** Runs recorded before drain-first replacement existed launched first even for groups without surge. */
export const PATCH_IN_PLACE_REPAVE = 'in-place-repave';

/**
 * Runs recorded before it ran a repave's back-to-back steps as one activity each (preflightNode, waitForReplacement,
 * cordonAndDrain, retireNode: src/activities/repave-steps.ts) keep the twelve activities they scheduled.
 */
export const PATCH_REPAVE_FOLDED_STEPS = 'repave-folded-steps';

/** Runs recorded before a repave's preflight, image resolution and claim ran as local activities scheduled them as activities. */
export const PATCH_REPAVE_LOCAL_PREFLIGHT = 'repave-local-preflight';

/** Runs recorded before node groups could have dedicated subnets: create and delete did not touch subnets. */
export const PATCH_NODE_GROUP_SUBNETS = 'node-group-subnets';

/** How long past its own deadline a long step may be retried (a worker that died near the end) before it fails for good. */
export const RETRY_PAST_DEADLINE_MS = 5 * 60_000;

/**
 * A long wait that heartbeats: its own deadline (from the input) ends it; Temporal's timeouts only catch
 * a dead worker, whose attempt is then retried on another one from the last heartbeat. It always ends:
 * retries stop RETRY_PAST_DEADLINE_MS after the step's own timeout, and the runbook compensates.
 */
export function heartbeating(timeoutMs: number, heartbeatTimeout: ActivityOptions['heartbeatTimeout'] = '10s'): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs + 120_000,
    scheduleToCloseTimeout: timeoutMs + RETRY_PAST_DEADLINE_MS,
    heartbeatTimeout,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s' },
  };
}
