// The test beds' one entry point for a fleet to run against: the simulated fleet (testbeds/sim), or the
// simulated OCI beside a real Kubernetes control plane (testbeds/control-plane). Dependencies run one
// way: control-plane builds on the sim's pieces, the sim knows nothing of the control plane, and only
// this module picks between them (loading the control-plane backend only when it is asked for).
import { DEFAULT_KUBE_FAULTS, startSim, type SimHandle, type StartSimOptions } from './sim/index.js';

/** `sim`: the in-memory Kubernetes API; `control-plane`: a real kube-apiserver + controllers + KWOK beside the simulated OCI (testbeds/control-plane/real-cluster.ts). */
export type Testbed = 'sim' | 'control-plane';

/** The test bed named by `ITINERANT_TESTBED` (default `sim`). */
export function testbedFromEnv(env: NodeJS.ProcessEnv = process.env): Testbed {
  const v = (env.ITINERANT_TESTBED ?? '').trim() || 'sim';
  if (v !== 'sim' && v !== 'control-plane') throw new Error(`ITINERANT_TESTBED must be sim or control-plane, not ${JSON.stringify(v)}`);
  return v;
}

export interface StartTestbedOptions extends StartSimOptions {
  /** Which Kubernetes side (default `sim`); the OCI side is always the sim. */
  backend?: Testbed;
}

export interface TestbedHandle extends SimHandle {
  /** Which Kubernetes side this is (undefined = sim). */
  backend?: Testbed;
}

/** The simulated fleet, with its Kubernetes side on `opts.backend` (default the sim's own API server). */
export async function startTestbed({ backend, ...opts }: StartTestbedOptions): Promise<TestbedHandle> {
  if (backend === 'control-plane') return (await import('./control-plane/real-cluster.js')).startSimOnControlPlane(opts, DEFAULT_KUBE_FAULTS);
  return startSim(opts);
}
