// The worker's own Prometheus metrics (prom-client's default registry, beside the activities' in src/activities/metrics.ts),
// fed by the workflows' sinks (src/workflows/sinks.ts).
import type { InjectedSinks } from '@temporalio/worker';
import { Counter, Gauge } from 'prom-client';
import type { ItinerantSinks } from '../workflows/sinks.js';

const runbooksStarted = new Counter({ name: 'itinerant_runbooks_started_total', help: 'Runbooks started, by runbook (workflow type) and cluster', labelNames: ['runbook', 'cluster'] as const });
const runbooksCompleted = new Counter({ name: 'itinerant_runbooks_completed_total', help: 'Runbooks that ended done, by runbook and cluster', labelNames: ['runbook', 'cluster'] as const });
const runbooksFailed = new Counter({
  name: 'itinerant_runbooks_failed_total',
  help: 'Runbooks that ended otherwise, by runbook, cluster and phase (refused, failed, aborted)',
  labelNames: ['runbook', 'cluster', 'phase'] as const,
});
const nodesRepaved = new Counter({ name: 'itinerant_nodes_repaved_total', help: 'repaveNode runs that ended done (a node replaced, or retired with retireOnly), by cluster', labelNames: ['cluster'] as const });
const laneBreakerOpen = new Gauge({ name: 'itinerant_lane_breaker_open', help: "1 while a node group's repaver lane has its circuit breaker open, else 0", labelNames: ['cluster', 'group'] as const });

/** The sinks the workflows call; never during replay (a run counted once, not again when a worker picks it up). */
export function metricsSinks(): InjectedSinks<Pick<ItinerantSinks, 'metrics'>> {
  return {
    metrics: {
      runbookStarted: {
        // A continue-as-new carries a runbook on (the lane): not a new one.
        fn: (info, { cluster }) => void (info.continuedFromExecutionRunId ? undefined : runbooksStarted.inc({ runbook: info.workflowType, cluster })),
      },
      runbookEnded: {
        fn(info, { cluster, phase }) {
          if (phase !== 'done') return runbooksFailed.inc({ runbook: info.workflowType, cluster, phase });
          runbooksCompleted.inc({ runbook: info.workflowType, cluster });
          if (info.workflowType === 'repaveNode') nodesRepaved.inc({ cluster });
        },
      },
      laneBreaker: { fn: (_info, { cluster, group, open }) => laneBreakerOpen.set({ cluster, group }, open ? 1 : 0) },
    },
  };
}
