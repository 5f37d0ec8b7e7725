// Cassandra rings inside StatefulSets labelled app=cassandra, answering `nodetool` and `cqlsh -e`
// through the kube sim's pods/exec (WebSocket), with faults and counters for tests and the control API.

import { z } from 'zod';
import type { ExecResult, KubeSim } from '../kube/index.js';
import type { KObject } from '../kube/resources.js';
import { cqlsh, nodetool } from './commands.js';
import { builtinExec } from '../kube/exec.js';
import { garble } from './garble.js';
import { DEFAULT_CASSANDRA_FAULTS, RingModel, type CassandraFaults, type Member, type Mode, type Ring, type Stream } from './ring.js';

export {
  ANNOTATION_KEYSPACES,
  ANNOTATION_LOAD_GIB,
  ANNOTATION_PREEXISTING,
  DEFAULT_CASSANDRA_FAULTS,
  NUM_TOKENS,
  RING_LABEL,
  type CassandraFaults,
  type Mode,
} from './ring.js';
export { cassandraObjects, type CassandraSeedOptions } from './seed.js';

export interface MemberView {
  pod: string;
  ordinal: number;
  hostId: string;
  address: string;
  datacenter: string;
  rack: string;
  /** As gossip sees it: Up when its pod is Running and Ready (a DECOMMISSIONED member has stopped gossip: Down). */
  state: 'Up' | 'Down';
  /** Whether the pod of this ordinal runs this member (Running, not replaced). */
  podRunning: boolean;
  mode: Mode;
  /** Superseded by a member on a fresh volume (its ordinal's pod now runs another host id). */
  replaced: boolean;
  /** In `nodetool status` (not DECOMMISSIONED). */
  inRing: boolean;
  loadBytes: number;
  tokens: string[];
  /** failed: decommissions whose stream failed part-way (the member stayed LEAVING); error: the last failure. */
  decommission: { issued: number; started: number; refused: number; failed: number; startedAt?: string; finishedAt?: string; failedAt?: string; error?: string };
  /** The running decommission stream (progress 0..1, bytes and files per receiving peer). */
  stream?: StreamView;
  lastStream?: StreamView;
}

export interface StreamView {
  planId: string;
  operation: string;
  progress: number;
  totalBytes: number;
  sentBytes: number;
  totalFiles: number;
  sentFiles: number;
  startedAt: string;
  finishedAt?: string;
  /** Why the stream failed (faults.failNextDecommission). */
  error?: string;
  peers: { hostId: string; address: string; bytes: number; sentBytes: number; files: number; sentFiles: number }[];
}

export interface RingView {
  namespace: string;
  statefulSet: string;
  clusterName: string;
  datacenter: string;
  keyspaces: { name: string; replication: Record<string, string> }[];
  members: MemberView[];
}

export interface CassandraCounters {
  /** `nodetool decommission` invocations (accepted or refused), per `<namespace>/<pod>`. */
  decommissionIssued: Record<string, number>;
  /** Invocations that actually started a decommission. */
  decommissionStarted: Record<string, number>;
  /** Invocations refused (already leaving, decommissioned, not enough replicas...). */
  decommissionRefused: Record<string, number>;
  /** Started decommissions whose streaming failed part-way (faults.failNextDecommission). */
  decommissionFailed: Record<string, number>;
  /** nodetool / cqlsh commands run in Cassandra pods. */
  commands: number;
  /** `nodetool status` / `netstats` outputs garbled by faults.garbledReadRate. */
  garbledReads: number;
}

export interface CassandraSim {
  /** Mutable at run time (also PUT /sim/cassandra/faults). */
  faults: CassandraFaults;
  rings(): RingView[];
  ring(namespace: string, statefulSet: string): RingView | undefined;
  /** The member the pod currently runs. */
  member(namespace: string, pod: string): MemberView | undefined;
  counters(): CassandraCounters;
  /** Run a command in a pod as pods/exec would (no HTTP). */
  exec(namespace: string, pod: string, argv: string[]): Promise<ExecResult>;
  /** Resolves when the pod's member is DECOMMISSIONED. */
  whenDecommissioned(namespace: string, pod: string): Promise<void>;
  /** Control API routes: GET /sim/cassandra, GET|PUT /sim/cassandra/faults. Undefined when the path is not ours. */
  control(method: string, path: string, body: unknown): { status: number; body: unknown } | undefined;
  close(): void;
}

export const cassandraFaultsPatchSchema = z
  .strictObject({
    decommissionStreamMs: z.number().int().min(0).max(86_400_000),
    stallDecommission: z.boolean(),
    joinMs: z.number().int().min(0).max(3_600_000),
    failNextDecommission: z.number().int().min(0).max(1000),
    decommissionFailAt: z.number().min(0).max(0.99),
    garbledReadRate: z.number().min(0).max(1),
  })
  .partial();

function streamView(s: Stream): StreamView {
  const sum = (f: (p: Stream['peers'][number]) => number) => s.peers.reduce((a, p) => a + f(p), 0);
  return {
    planId: s.planId,
    operation: s.operation,
    progress: s.progress,
    totalBytes: sum((p) => p.bytes),
    sentBytes: sum((p) => p.sentBytes),
    totalFiles: sum((p) => p.files),
    sentFiles: sum((p) => p.sentFiles),
    startedAt: s.startedAt,
    ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
    ...(s.error ? { error: s.error } : {}),
    peers: s.peers.map((p) => ({ ...p })),
  };
}

/**
 * Where the rings live: the objects (StatefulSets, pods, claims) in an ObjectStore, and the pods/exec
 * command handlers. The in-memory kube sim is one; on the control-plane test bed it is RealWorkloads
 * (a mirror of the real API server, exec through KWOK).
 */
export type CassandraHost = Pick<KubeSim, 'store' | 'registerExecHandler'> & { exec: Pick<KubeSim['exec'], 'run'> };

export function createCassandraSim(kube: CassandraHost, opts: { faults?: Partial<CassandraFaults> } = {}): CassandraSim {
  const faults: CassandraFaults = { ...DEFAULT_CASSANDRA_FAULTS, ...opts.faults };
  const model = new RingModel(kube.store, faults);
  let commands = 0;
  let garbledReads = 0;
  let pending = false;
  const unsubscribe = kube.store.subscribe(() => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      model.sync();
    });
  });

  const memberView = (m: Member): MemberView => ({
    pod: m.pod,
    ordinal: m.ordinal,
    hostId: m.hostId,
    address: m.address,
    datacenter: m.datacenter,
    rack: m.rack,
    state: model.isUp(m) ? 'Up' : 'Down',
    podRunning: !m.replaced && kube.store.get('pods', m.namespace, m.pod)?.status?.phase === 'Running',
    mode: m.mode,
    replaced: m.replaced,
    inRing: m.mode !== 'DECOMMISSIONED',
    loadBytes: m.loadBytes,
    tokens: m.tokens.map(String),
    decommission: { ...m.decommission },
    ...(m.stream ? { stream: streamView(m.stream) } : {}),
    ...(m.lastStream ? { lastStream: streamView(m.lastStream) } : {}),
  });
  const ringView = (r: Ring): RingView => ({
    namespace: r.namespace,
    statefulSet: r.statefulSet,
    clusterName: r.clusterName,
    datacenter: r.datacenter,
    keyspaces: r.keyspaces.map((k) => ({ name: k.name, replication: { ...k.replication } })),
    members: [...r.members].sort((a, b) => a.ordinal - b.ordinal || Number(a.replaced) - Number(b.replaced)).map(memberView),
  });

  const isCassandraPod = (pod: KObject): boolean => model.ringOfPod(pod) !== undefined;
  const unregister = kube.registerExecHandler(isCassandraPod, async (argv, pod) => {
    const found = model.memberOfPod(pod.metadata.namespace ?? 'default', pod.metadata.name);
    const ring = found?.ring ?? model.ringOfPod(pod);
    const bin = (argv[0] ?? '').split('/').pop();
    if (bin === 'nodetool') {
      commands++;
      const out = await nodetool(model, ring, found?.member, argv.slice(1));
      const read = argv.slice(1).find((a): a is 'status' | 'netstats' => a === 'status' || a === 'netstats');
      if (read && out.exitCode === 0 && Math.random() < faults.garbledReadRate) {
        garbledReads++;
        return { ...out, stdout: garble(read, out.stdout).stdout };
      }
      return out;
    }
    if (bin === 'cqlsh') {
      commands++;
      return cqlsh(model, ring, found?.member, argv.slice(1));
    }
    return builtinExec(argv, pod);
  });

  const counters = (): CassandraCounters => {
    const c: CassandraCounters = { decommissionIssued: {}, decommissionStarted: {}, decommissionRefused: {}, decommissionFailed: {}, commands, garbledReads };
    for (const r of model.rings.values()) {
      for (const m of r.members) {
        const k = `${m.namespace}/${m.pod}`;
        c.decommissionIssued[k] = (c.decommissionIssued[k] ?? 0) + m.decommission.issued;
        c.decommissionStarted[k] = (c.decommissionStarted[k] ?? 0) + m.decommission.started;
        c.decommissionRefused[k] = (c.decommissionRefused[k] ?? 0) + m.decommission.refused;
        c.decommissionFailed[k] = (c.decommissionFailed[k] ?? 0) + m.decommission.failed;
      }
    }
    return c;
  };

  const sim: CassandraSim = {
    faults,
    rings: () => {
      model.sync();
      return [...model.rings.values()].map(ringView);
    },
    ring: (ns, sts) => {
      model.sync();
      const r = model.rings.get(`${ns}/${sts}`);
      return r ? ringView(r) : undefined;
    },
    member: (ns, pod) => {
      const found = model.memberOfPod(ns, pod);
      return found ? memberView(found.member) : undefined;
    },
    counters,
    exec: (ns, pod, argv) => kube.exec.run(ns, pod, argv),
    whenDecommissioned: (ns, pod) => {
      const found = model.memberOfPod(ns, pod);
      if (!found) return Promise.reject(new Error(`no Cassandra member runs in pod ${ns}/${pod}`));
      return model.whenLeft(found.member);
    },
    control(method, path, body) {
      const p = path.replace(/\/+$/, '');
      if (p === '/sim/cassandra' && method === 'GET') return { status: 200, body: { rings: sim.rings(), faults: { ...faults }, counters: counters() } };
      if (p === '/sim/cassandra/faults' && method === 'GET') return { status: 200, body: { ...faults } };
      if (p === '/sim/cassandra/faults' && (method === 'PUT' || method === 'PATCH')) {
        const r = cassandraFaultsPatchSchema.safeParse(body ?? {});
        if (!r.success) return { status: 400, body: { error: `invalid cassandra fault patch: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` } };
        Object.assign(faults, r.data);
        return { status: 200, body: { ...faults } };
      }
      if (p === '/sim/cassandra' || p === '/sim/cassandra/faults') return { status: 405, body: { error: `${method} is not allowed on ${p}` } };
      return undefined;
    },
    close() {
      unsubscribe();
      unregister();
      model.close();
    },
  };
  return sim;
}
