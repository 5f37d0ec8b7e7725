// Added latency, a fault both simulated APIs (OCI and Kubernetes) inject per request.

export interface LatencyFault {
  /** Every request is answered this much later (ms). */
  latencyMs?: number;
  /** Plus a uniformly random extra delay in [0, latencyJitterMs) (ms). */
  latencyJitterMs?: number;
}

/** The delay to add to one request (0 when the fault is off). */
export function addedLatencyMs(f: LatencyFault, random: () => number = Math.random): number {
  const fixed = f.latencyMs ?? 0;
  const jitter = f.latencyJitterMs ?? 0;
  return fixed + (jitter > 0 ? Math.floor(random() * jitter) : 0);
}

/** Resolves after the fault's delay for one request (at once when it is off). */
export function injectLatency(f: LatencyFault): Promise<void> {
  const ms = addedLatencyMs(f);
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
