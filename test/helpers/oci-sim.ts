// The simulated OCI tenancy alone (no Kubernetes side), with an OCI config in a temporary directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as common from 'oci-common';
import type { NodeRegistration, SimCluster } from '../../testbeds/sim/kube/cluster-api.js';
import { createOciSim, type OciSim, type OciSimOptions } from '../../testbeds/sim/oci/index.js';

/** A stand-in for the Kubernetes side of the OCI sim: just remembers nodes. */
export class FakeCluster implements SimCluster {
  readonly name = 'fake';
  readonly nodes = new Map<string, NodeRegistration & { readyNow: boolean }>();
  registerNode(reg: NodeRegistration): void {
    this.nodes.set(reg.name, { ...reg, readyNow: reg.ready });
  }
  setNodeReady(name: string, ready: boolean): void {
    const n = this.nodes.get(name);
    if (n) n.readyNow = ready;
  }
  removeNode(name: string): void {
    this.nodes.delete(name);
  }
  hasNode(name: string): boolean {
    return this.nodes.has(name);
  }
  apply(): void {}
}

/** One attempt per SDK call: the tests see each answer as the sim gives it. */
export const NO_RETRY: common.RetryConfiguration = { terminationStrategy: new common.MaxAttemptsTerminationStrategy(1) };

export interface TestOciSim {
  sim: OciSim;
  cluster: FakeCluster;
  url: string;
  /** The temporary directory; the OCI config is `<dir>/oci/config`. */
  dir: string;
  configPath: string;
  provider: common.ConfigFileAuthenticationDetailsProvider;
  close(): Promise<void>;
}

export async function startTestOciSim(opts: Omit<OciSimOptions, 'cluster'>): Promise<TestOciSim> {
  const dir = await mkdtemp(path.join(tmpdir(), 'itinerant-oci-'));
  const cluster = new FakeCluster();
  const sim = createOciSim({ cluster, ...opts });
  const url = await sim.listen(0);
  const { configPath } = await sim.writeConfig(path.join(dir, 'oci'));
  const provider = new common.ConfigFileAuthenticationDetailsProvider(configPath, 'DEFAULT');
  return {
    sim,
    cluster,
    url,
    dir,
    configPath,
    provider,
    async close() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
