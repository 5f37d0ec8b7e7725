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

/** Faults the sim injected so far, in all and by kind. */
export function faultsInjected(sim: SimHandle): { total: number; detail: string } {
  const [oci, kube, cassandra] = [sim.oci.counters(), sim.kube.counters(), sim.cassandra.counters()];
  return {
    total: oci.injectedErrors + kube.injectedErrors + cassandra.garbledReads,
    detail: `OCI ${oci.injectedErrors} of ${oci.requests} requests, Kubernetes ${kube.injectedErrors}, garbled ring reads ${cassandra.garbledReads} of ${cassandra.commands} Cassandra commands`,
  };
}
