// A Cassandra ring on the in-memory kube sim (no OCI side), and exec into its pods through
// client-node's real WebSocket Exec: shared by the sim's Cassandra tests.
import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { cassandraObjects, createCassandraSim, type CassandraSim } from '../../testbeds/sim/cassandra/index.js';
import { createKubeSim, type KubeSim } from '../../testbeds/sim/kube/index.js';
import { waitFor } from './wait.js';

export const NS = 'data';

export const until = <T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 8000) => waitFor(what, fn, timeoutMs);

export function sink(): { w: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return { w: new Writable({ write(c: Buffer, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }), text: () => Buffer.concat(chunks).toString('utf8') };
}

export interface Ran {
  stdout: string;
  stderr: string;
  /** The Status sent on channel 3. */
  status: k8s.V1Status;
  exitCode: number;
  ws: { close(): void };
}

/** Exec through @kubernetes/client-node (WebSocket); resolves with the Status on channel 3 and the exit code it carries. */
export async function execIn(kc: k8s.KubeConfig, pod: string, argv: string[]): Promise<Ran> {
  const out = sink();
  const err = sink();
  let ws: { close(): void } | undefined;
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(kc)
      .exec(NS, pod, 'cassandra', argv, out.w, err.w, null, false, (s) => setImmediate(() => resolve(s)))
      .then((c) => (ws = c as unknown as { close(): void }))
      .catch(reject);
  });
  const exitCode = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
  return { stdout: out.text(), stderr: err.text(), status, exitCode, ws: ws! };
}

/** A kube sim listening on 127.0.0.1 with three worker nodes and the seeded ring (4 members), every member NORMAL and Up. */
export async function startCassandraRing(clusterName: string): Promise<{ kube: KubeSim; kc: k8s.KubeConfig; cass: CassandraSim; stop(): Promise<void> }> {
  const kube = createKubeSim({
    clusterName,
    token: 'cassandra-token',
    controllerDelayMs: 5,
    faults: { errorRate: 0, errorStatus: 500, evictionDelayMs: 0, blockEvictions: false, podStartDelayMs: 10 },
  });
  await kube.listen(0);
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kube.kubeconfig());
  for (const n of ['worker-1', 'worker-2', 'worker-3']) kube.cluster.registerNode({ name: n, providerID: `oci://${n}`, labels: {}, ready: true });
  const cass = createCassandraSim(kube, { faults: { decommissionStreamMs: 600, joinMs: 100 } });
  for (const o of cassandraObjects()) kube.cluster.apply(o);
  await until('4 NORMAL members Up', () => {
    const r = cass.ring(NS, 'cassandra');
    return r && r.members.length === 4 && r.members.every((m) => m.mode === 'NORMAL' && m.state === 'Up');
  });
  return {
    kube,
    kc,
    cass,
    async stop() {
      cass.close();
      await kube.close();
    },
  };
}
