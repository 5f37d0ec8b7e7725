// What activities measure, as Prometheus metrics on prom-client's default registry (the worker serves it: src/workers/metrics-server.ts).
import { Counter, Histogram } from 'prom-client';

export const drainDuration = new Histogram({
  name: 'itinerant_drain_duration_seconds',
  help: 'How long draining a node took, from the drain first being scheduled to its end (all attempts), by cluster and outcome',
  labelNames: ['cluster', 'outcome'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
});

export const evictionsRefusedByPdb = new Counter({
  name: 'itinerant_evictions_refused_by_pdb_total',
  help: 'Evictions a PodDisruptionBudget refused (429), each refusal counted, by cluster',
  labelNames: ['cluster'] as const,
});

export const decommissionBytesStreamed = new Counter({
  name: 'itinerant_decommission_bytes_streamed_total',
  help: 'Bytes a decommissioning member was seen to stream to the rest of its ring, by cluster',
  labelNames: ['cluster'] as const,
});

/** drainNode, its duration observed: from its first scheduling (so across retries and worker restarts) to a final outcome. */
export function timedDrain<R extends { cluster: string }, T>(drain: (req: R) => Promise<T>, scheduledAt: () => number): (req: R) => Promise<T> {
  return async (req) => {
    const seconds = () => (Date.now() - scheduledAt()) / 1000;
    try {
      const result = await drain(req);
      drainDuration.observe({ cluster: req.cluster, outcome: 'drained' }, seconds());
      return result;
    } catch (e) {
      if ((e as { nonRetryable?: boolean }).nonRetryable) drainDuration.observe({ cluster: req.cluster, outcome: 'failed' }, seconds());
      throw e;
    }
  };
}
