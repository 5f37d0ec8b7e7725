// The faults the sim injects during every chaos run: on both APIs, and into Cassandra's ring reads.
import type { SimHandle } from '../../testbeds/sim/index.js';

export interface FaultSettings {
  /** Fraction of OCI and Kubernetes requests answered with 500. */
  errorRate: number;
  /** Fraction of `nodetool status` / `netstats` outputs cut short or mangled. */
  garbledReadRate: number;
  latencyMs: number;
  latencyJitterMs: number;
}

export function injectFaults(sim: SimHandle, f: FaultSettings): void {
  Object.assign(sim.oci.faults, { errorRate: f.errorRate, errorStatus: 500, latencyMs: f.latencyMs, latencyJitterMs: f.latencyJitterMs });
  Object.assign(sim.kube.faults, { errorRate: f.errorRate, errorStatus: 500, latencyMs: f.latencyMs, latencyJitterMs: f.latencyJitterMs });
  sim.cassandra.faults.garbledReadRate = f.garbledReadRate;
}

/** Faults the sim injected so far. */
export function faultsInjected(sim: SimHandle): number {
  return sim.oci.counters().injectedErrors + sim.kube.counters().injectedErrors + sim.cassandra.counters().garbledReads;
}
