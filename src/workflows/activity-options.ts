import type { ActivityOptions } from '@temporalio/workflow';

/** A call to an outside API: retried with backoff for half an hour, since OCI and Kubernetes throttle and blip. */
export const API_CALL: ActivityOptions = {
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};

/**
 * A long wait that heartbeats: its own deadline (from the input) ends it; Temporal's timeouts only catch
 * a dead worker, whose attempt is then retried on another one from the last heartbeat.
 */
export function heartbeating(timeoutMs: number, heartbeatTimeout: ActivityOptions['heartbeatTimeout'] = '10s'): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs + 120_000,
    heartbeatTimeout,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s' },
  };
}
