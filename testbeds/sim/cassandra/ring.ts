// The Cassandra model: one ring per StatefulSet labelled app=cassandra. A member is tied to its
// ordinal *and* its data volume (PVC uid): a pod deleted and recreated on the same claim comes back
// with the same host id, tokens and mode; a fresh claim makes a fresh member. Members join
// (JOINING → NORMAL after faults.joinMs), and leave by decommission: LEAVING, streaming their data
// to the other members over faults.decommissionStreamMs (stallable), then DECOMMISSIONED, out of the
// ring. The decommission runs in the background, whatever happens to the exec that asked for it.
//
// A decommission can be made to fail part-way (faults.failNextDecommission), as Cassandra 4.1 does when
// a stream session fails (StorageService.decommission, 4.1): unbootstrap's stream future fails, the
// ExecutionException becomes `RuntimeException("Error while decommissioning node: " + cause)`, which
// the blocking JMX call — and so `nodetool decommission` — reports (NodeTool.err: `error: ...` and a
// stack trace on stderr, exit 2). isDecommissioning is reset in the `finally`, but nothing resets the
// operation mode: the node stays LEAVING (gossip still says LEAVING, `nodetool status` shows UL,
// netstats "Mode: LEAVING" with no stream). 4.1 has no DECOMMISSION_FAILED mode: that came with
// CASSANDRA-18555 in 5.0. From there either `nodetool decommission` is run again, which 4.1 accepts
// while LEAVING and resumes (CASSANDRA-12008: the RF checks are skipped), or the node is restarted: it
// boots with bootstrap state COMPLETED and its tokens, and joins as NORMAL again — still a member,
// it never left. The sim models both.

import { randomBytes, randomUUID } from 'node:crypto';
import type { KObject } from '../kube/resources.js';
import type { ObjectStore } from '../kube/store.js';

/** StorageService.Mode as 4.1 reports it (no DECOMMISSION_FAILED: that is 5.0). */
export type Mode = 'NORMAL' | 'JOINING' | 'LEAVING' | 'DECOMMISSIONED';

export interface CassandraFaults {
  /** How long a decommission streams its data to the other members (ms). Changing it mid-stream changes the rate. */
  decommissionStreamMs: number;
  /** Streaming makes no progress while true (a stuck decommission). */
  stallDecommission: boolean;
  /** JOINING → NORMAL after this long (ms). */
  joinMs: number;
  /**
   * The next this-many decommissions to start (on any member) fail part-way: their stream fails once
   * decommissionFailAt of it is sent; the blocking `nodetool decommission` exits 2 with
   * `error: Error while decommissioning node: Stream failed`, and the member stays LEAVING without a
   * stream until it is decommissioned again (resumes) or its pod restarts (back to NORMAL). Counts down
   * as decommissions start.
   */
  failNextDecommission: number;
  /** Fraction (0..0.99) of the stream sent when a decommission armed by failNextDecommission fails. */
  decommissionFailAt: number;
  /** Fraction (0..1) of `nodetool status` / `netstats` outputs cut short or missing rows (./garble.ts). */
  garbledReadRate: number;
}

export const DEFAULT_CASSANDRA_FAULTS: CassandraFaults = {
  decommissionStreamMs: 30_000,
  stallDecommission: false,
  joinMs: 3_000,
  failNextDecommission: 0,
  decommissionFailAt: 0.5,
  garbledReadRate: 0,
};

/** StatefulSet label selecting the rings. */
export const RING_LABEL = { key: 'app', value: 'cassandra' } as const;
/** StatefulSet annotation: JSON map keyspace → replication, e.g. {"shop": {"class": "NetworkTopologyStrategy", "dc1": 3}}. */
export const ANNOTATION_KEYSPACES = 'sim.itinerant.dev/cassandra-keyspaces';
/** StatefulSet annotation: ordinals below this join as NORMAL the first time they come up (a ring that already existed). */
export const ANNOTATION_PREEXISTING = 'sim.itinerant.dev/cassandra-preexisting-members';
/** StatefulSet annotation: the data each pre-existing member holds, in GiB (default 100). */
export const ANNOTATION_LOAD_GIB = 'sim.itinerant.dev/cassandra-load-gib';

export const NUM_TOKENS = 16;
export const CASSANDRA_VERSION = '4.1.5';
const NTS = 'org.apache.cassandra.locator.NetworkTopologyStrategy';
const SIMPLE = 'org.apache.cassandra.locator.SimpleStrategy';
const LOCAL = 'org.apache.cassandra.locator.LocalStrategy';
const GiB = 1024 ** 3;
/** Roughly the size of one streamed SSTable (files = bytes / this). */
const FILE_BYTES = 160 * 1024 ** 2;

export interface Keyspace {
  name: string;
  durableWrites: boolean;
  /** As stored in system_schema.keyspaces: class fully qualified, factors as strings. */
  replication: Record<string, string>;
}

export interface StreamPeer {
  hostId: string;
  address: string;
  files: number;
  bytes: number;
  sentFiles: number;
  sentBytes: number;
}

export interface Stream {
  planId: string;
  operation: 'Unbootstrap';
  peers: StreamPeer[];
  /** 0..1 */
  progress: number;
  startedAt: string;
  finishedAt?: string;
  /** Set when the stream failed (the decommission failed with it). */
  error?: string;
  /** Fails once progress reaches this (armed by faults.failNextDecommission when it started). */
  failAt?: number;
}

export interface Member {
  hostId: string;
  namespace: string;
  statefulSet: string;
  ordinal: number;
  pod: string;
  /** Last known pod IP. */
  address: string;
  /** uid of the pod last seen running this member: a new uid is a restart. */
  podUid: string | undefined;
  datacenter: string;
  rack: string;
  tokens: bigint[];
  loadBytes: number;
  mode: Mode;
  /** The claim this member's data lives on (undefined without volumeClaimTemplates). */
  pvcUid: string | undefined;
  /** Its ordinal now belongs to a newer member (fresh volume); a replaced member that never left stays in the ring, Down. */
  replaced: boolean;
  /** A decommission is running (isDecommissioning). */
  decommissioning: boolean;
  stream: Stream | undefined;
  lastStream: Stream | undefined;
  startedAt: number;
  generation: number;
  decommission: { issued: number; started: number; refused: number; failed: number; startedAt?: string; finishedAt?: string; failedAt?: string; error?: string };
}

export interface Ring {
  key: string;
  namespace: string;
  statefulSet: string;
  clusterName: string;
  datacenter: string;
  keyspaces: Keyspace[];
  members: Member[];
  schemaVersion: string;
  preexisting: number;
  loadGiB: number;
  /** Ordinals that have been members at least once (pre-existing members join NORMAL only the first time). */
  seen: Set<number>;
}

/** How a started decommission ended: left the ring, or failed (the member stays LEAVING). */
export type DecommissionEnd = { ok: true } | { ok: false; message: string };
export type DecommissionOutcome = { ok: true; done: Promise<DecommissionEnd> } | { ok: false; kind: 'unsupported' | 'illegal-state'; message: string };

const randomToken = (): bigint => randomBytes(8).readBigInt64BE();
const ring64 = 1n << 64n;
const ordinalOf = (sts: string, pod: string): number | undefined => {
  const m = new RegExp(`^${sts.replace(/[.]/g, '\\.')}-(\\d+)$`).exec(pod);
  return m ? Number(m[1]) : undefined;
};

export function defaultKeyspaces(): Keyspace[] {
  return [
    { name: 'system_auth', durableWrites: true, replication: { class: SIMPLE, replication_factor: '1' } },
    { name: 'system_schema', durableWrites: true, replication: { class: LOCAL } },
    { name: 'system_distributed', durableWrites: true, replication: { class: SIMPLE, replication_factor: '3' } },
    { name: 'system', durableWrites: true, replication: { class: LOCAL } },
    { name: 'system_traces', durableWrites: true, replication: { class: SIMPLE, replication_factor: '2' } },
  ];
}

/** Keyspaces of a ring: the system ones, overridden/extended by the StatefulSet annotation. */
export function keyspacesFrom(annotation: string | undefined): Keyspace[] {
  const list = defaultKeyspaces();
  if (!annotation) return list;
  let spec: Record<string, Record<string, string | number>>;
  try {
    spec = JSON.parse(annotation) as typeof spec;
  } catch {
    return list;
  }
  for (const [name, repl] of Object.entries(spec ?? {})) {
    const cls = String(repl['class'] ?? 'NetworkTopologyStrategy');
    const replication: Record<string, string> = { class: cls.includes('.') ? cls : `org.apache.cassandra.locator.${cls}` };
    for (const [k, v] of Object.entries(repl)) if (k !== 'class') replication[k] = String(v);
    const ks = { name, durableWrites: true, replication };
    const i = list.findIndex((k) => k.name === name);
    if (i >= 0) list[i] = ks;
    else list.push(ks);
  }
  return list;
}

export const isLocal = (ks: Keyspace): boolean => ks.replication['class'] === LOCAL;
export const shortClass = (ks: Keyspace): string => (ks.replication['class'] ?? '').replace(/^org\.apache\.cassandra\.locator\./, '');
const SYSTEM = new Set(['system', 'system_schema', 'system_auth', 'system_distributed', 'system_traces', 'system_views', 'system_virtual_schema']);
export const isSystem = (ks: Keyspace): boolean => SYSTEM.has(ks.name);

/** Replication factor of a keyspace in a datacenter. */
export function replicationFactor(ks: Keyspace, dc: string): number {
  if (ks.replication['class'] === NTS) return Number(ks.replication[dc] ?? 0);
  if (isLocal(ks)) return 1;
  return Number(ks.replication['replication_factor'] ?? 1);
}

export function sameReplication(a: Keyspace, b: Keyspace): boolean {
  const ka = Object.keys(a.replication).sort();
  const kb = Object.keys(b.replication).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a.replication[k] === b.replication[k]);
}

export class RingModel {
  readonly rings = new Map<string, Ring>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Map<string, (() => void)[]>();
  /** The blocked `decommission` call of each running stream, by plan id. */
  private readonly finishers = new Map<string, (end: DecommissionEnd) => void>();
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    readonly faults: CassandraFaults,
  ) {}

  // ---- reading the cluster ----

  /** Bring the rings in line with the StatefulSets, pods and claims in the store (idempotent). */
  sync(): void {
    if (this.closed) return;
    for (const sts of this.store.peek('statefulsets')) {
      if (sts.metadata.labels?.[RING_LABEL.key] !== RING_LABEL.value) continue;
      const ring = this.ringFor(sts);
      for (const pod of this.store.peek('pods')) {
        if (pod.metadata.namespace !== ring.namespace) continue;
        if (!pod.metadata.ownerReferences?.some((r) => r.controller && r.uid === sts.metadata.uid)) continue;
        const ordinal = ordinalOf(ring.statefulSet, pod.metadata.name);
        if (ordinal === undefined || pod.status?.phase !== 'Running' || !pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
        this.admit(ring, sts, pod, ordinal);
      }
    }
  }

  private ringFor(sts: KObject): Ring {
    const key = `${sts.metadata.namespace}/${sts.metadata.name}`;
    let ring = this.rings.get(key);
    const ann = sts.metadata.annotations ?? {};
    if (!ring) {
      ring = {
        key,
        namespace: sts.metadata.namespace ?? 'default',
        statefulSet: sts.metadata.name,
        clusterName: `${sts.metadata.name}-${sts.metadata.namespace}`,
        datacenter: 'dc1',
        keyspaces: keyspacesFrom(ann[ANNOTATION_KEYSPACES]),
        members: [],
        schemaVersion: randomUUID(),
        preexisting: Number(ann[ANNOTATION_PREEXISTING] ?? 0) || 0,
        loadGiB: Number(ann[ANNOTATION_LOAD_GIB] ?? 100) || 100,
        seen: new Set(),
      };
      this.rings.set(key, ring);
    }
    return ring;
  }

  private claimUid(ring: Ring, sts: KObject, ordinal: number): string | undefined {
    const tpl = (sts.spec?.volumeClaimTemplates ?? [])[0] as KObject | undefined;
    if (!tpl) return undefined;
    const claim = this.store.get('persistentvolumeclaims', ring.namespace, `${tpl.metadata.name}-${ring.statefulSet}-${ordinal}`);
    return claim?.metadata.uid;
  }

  private admit(ring: Ring, sts: KObject, pod: KObject, ordinal: number): void {
    const pvcUid = this.claimUid(ring, sts, ordinal);
    let m = this.current(ring, ordinal);
    if (m && m.pvcUid !== pvcUid) {
      m.replaced = true; // new volume, new node: the old identity stays behind (Down, unless it had left)
      m = undefined;
    }
    if (m) {
      if (m.address !== pod.status.podIP || m.podUid !== pod.metadata.uid) {
        m.address = pod.status.podIP;
        m.podUid = pod.metadata.uid;
        m.startedAt = Date.now();
        m.generation = Math.floor(Date.now() / 1000);
        // Restarted after a failed decommission (LEAVING, no decommission running): the node boots with
        // bootstrap state COMPLETED and its tokens, and joins as NORMAL again. It never left the ring.
        // (A restart while still streaming keeps streaming here: the sim does not model that abort.)
        if (m.mode === 'LEAVING' && !m.decommissioning) m.mode = 'NORMAL';
      }
      return;
    }
    const now = Date.now();
    const normalNow = this.inRing(ring).length === 0 || (ordinal < ring.preexisting && !ring.seen.has(ordinal));
    const peers = this.inRing(ring);
    const meanLoad = peers.length ? peers.reduce((s, p) => s + p.loadBytes, 0) / peers.length : ring.loadGiB * GiB;
    const jitter = 0.85 + Math.random() * 0.3;
    const member: Member = {
      hostId: randomUUID(),
      namespace: ring.namespace,
      statefulSet: ring.statefulSet,
      ordinal,
      pod: pod.metadata.name,
      address: pod.status.podIP,
      podUid: pod.metadata.uid,
      datacenter: ring.datacenter,
      rack: 'rack1',
      tokens: Array.from({ length: NUM_TOKENS }, randomToken),
      loadBytes: Math.round((normalNow && ordinal < ring.preexisting ? ring.loadGiB * GiB : normalNow ? 100 * 1024 : meanLoad * 0.02) * jitter),
      mode: normalNow ? 'NORMAL' : 'JOINING',
      pvcUid,
      replaced: false,
      decommissioning: false,
      stream: undefined,
      lastStream: undefined,
      startedAt: now,
      generation: Math.floor(now / 1000),
      decommission: { issued: 0, started: 0, refused: 0, failed: 0 },
    };
    ring.seen.add(ordinal);
    ring.members.push(member);
    if (member.mode === 'JOINING') {
      this.after(this.faults.joinMs, () => {
        if (member.mode !== 'JOINING') return;
        const others = this.inRing(ring);
        const mean = others.length ? others.reduce((s, p) => s + p.loadBytes, 0) / others.length : member.loadBytes;
        member.loadBytes = Math.round(mean * (0.9 + Math.random() * 0.1));
        member.mode = 'NORMAL';
      });
    }
  }

  // ---- queries ----

  /** The member currently holding `ordinal` (not replaced). */
  current(ring: Ring, ordinal: number): Member | undefined {
    return ring.members.find((m) => m.ordinal === ordinal && !m.replaced);
  }

  /** The member a pod runs (after a sync). */
  memberOfPod(namespace: string, podName: string): { ring: Ring; member: Member } | undefined {
    this.sync();
    for (const ring of this.rings.values()) {
      if (ring.namespace !== namespace) continue;
      const ordinal = ordinalOf(ring.statefulSet, podName);
      if (ordinal === undefined) continue;
      const member = this.current(ring, ordinal);
      if (member) return { ring, member };
    }
    return undefined;
  }

  ringOfPod(pod: KObject): Ring | undefined {
    const owner = pod.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'StatefulSet');
    if (!owner) return undefined;
    const sts = this.store.get('statefulsets', pod.metadata.namespace, owner.name);
    if (!sts || sts.metadata.labels?.[RING_LABEL.key] !== RING_LABEL.value) return undefined;
    return this.ringFor(sts);
  }

  /** Members in the token ring (NORMAL, LEAVING — and members replaced before leaving, which linger Down). */
  inRing(ring: Ring): Member[] {
    return ring.members.filter((m) => m.mode === 'NORMAL' || m.mode === 'LEAVING');
  }

  /** Members nodetool status lists: the token ring plus joining nodes. */
  visible(ring: Ring): Member[] {
    return ring.members.filter((m) => m.mode !== 'DECOMMISSIONED' && !(m.mode === 'JOINING' && m.replaced));
  }

  /** Up when its pod is Running, Ready and not terminating, on the same data (and the node still gossips). */
  isUp(m: Member): boolean {
    if (m.replaced || m.mode === 'DECOMMISSIONED') return false;
    const pod = this.store.get('pods', m.namespace, m.pod);
    if (!pod || pod.metadata.deletionTimestamp || pod.status?.phase !== 'Running') return false;
    return !!(pod.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True');
  }

  /** Effective ownership (0..1) of each token-ring member for a keyspace (replicas: next distinct members clockwise). */
  effectiveOwnership(ring: Ring, ks: Keyspace): Map<string, number> {
    const members = this.inRing(ring);
    const rf = Math.min(replicationFactor(ks, ring.datacenter), members.length);
    const entries = members.flatMap((m) => m.tokens.map((t) => ({ t, id: m.hostId }))).sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    const owned = new Map<string, bigint>(members.map((m) => [m.hostId, 0n]));
    for (let i = 0; i < entries.length; i++) {
      const prev = entries[(i - 1 + entries.length) % entries.length]!.t;
      const size = entries.length === 1 ? ring64 : (((entries[i]!.t - prev) % ring64) + ring64) % ring64;
      const replicas = new Set<string>();
      for (let j = 0; replicas.size < rf && j < entries.length; j++) replicas.add(entries[(i + j) % entries.length]!.id);
      for (const id of replicas) owned.set(id, owned.get(id)! + size);
    }
    return new Map([...owned].map(([id, v]) => [id, Number((v * 1_000_000n) / ring64) / 1_000_000]));
  }

  // ---- decommission ----

  /** StorageService.decommission(force), as 4.1 checks it; on success the returned promise settles when the member has left. */
  decommission(ring: Ring, m: Member, force: boolean): DecommissionOutcome {
    m.decommission.issued++;
    const refuse = (kind: 'unsupported' | 'illegal-state', message: string): DecommissionOutcome => {
      m.decommission.refused++;
      return { ok: false, kind, message };
    };
    const afterAllLeft = this.inRing(ring).filter((x) => x.mode === 'NORMAL');
    if (m.mode !== 'LEAVING') {
      if (m.mode !== 'NORMAL') return refuse('unsupported', 'local node is not a member of the token ring yet');
      if (afterAllLeft.length < 2) return refuse('unsupported', 'no other normal nodes in the ring; decommission would be pointless');
    }
    if (m.decommissioning) return refuse('illegal-state', 'Node is still decommissioning. Check nodetool netstats.');
    if (m.mode !== 'LEAVING' && !force) {
      for (const ks of ring.keyspaces) {
        if (isLocal(ks)) continue;
        const rf = replicationFactor(ks, ring.datacenter);
        const n = ks.replication['class'] === NTS ? afterAllLeft.filter((x) => x.datacenter === ring.datacenter).length : afterAllLeft.length;
        if (n <= rf) {
          return refuse('unsupported', `Not enough live nodes to maintain replication factor in keyspace ${ks.name} (RF = ${rf}, N = ${n}). Perform a forceful decommission to ignore.`);
        }
      }
    }
    // Run again while LEAVING (after a failed stream): 4.1 resumes, skipping the ranges already transferred.
    const resumed = m.mode === 'LEAVING' && m.lastStream?.error !== undefined ? m.lastStream : undefined;
    m.decommission.started++;
    m.decommission.startedAt = new Date().toISOString();
    m.decommissioning = true;
    m.mode = 'LEAVING';
    const receivers = this.inRing(ring).filter((x) => x !== m && x.mode === 'NORMAL');
    const totalFiles = Math.max(receivers.length, Math.round(m.loadBytes / FILE_BYTES));
    const weights = receivers.map(() => 0.8 + Math.random() * 0.4);
    const wsum = weights.reduce((a, b) => a + b, 0);
    const peers: StreamPeer[] = resumed
      ? resumed.peers
          .filter((p) => receivers.some((r) => r.hostId === p.hostId))
          .map((p) => ({ ...p, bytes: p.bytes - p.sentBytes, files: Math.max(1, p.files - p.sentFiles), sentBytes: 0, sentFiles: 0 }))
      : receivers.map((r, i) => ({
          hostId: r.hostId,
          address: r.address,
          bytes: Math.round((m.loadBytes * weights[i]!) / wsum),
          files: Math.max(1, Math.round((totalFiles * weights[i]!) / wsum)),
          sentBytes: 0,
          sentFiles: 0,
        }));
    const planId = randomUUID();
    m.stream = { planId, operation: 'Unbootstrap', peers, progress: 0, startedAt: new Date().toISOString() };
    if (this.faults.failNextDecommission > 0) {
      this.faults.failNextDecommission--;
      m.stream.failAt = Math.min(0.99, Math.max(0, this.faults.decommissionFailAt));
    }
    const done = new Promise<DecommissionEnd>((resolve) => this.finishers.set(planId, resolve));
    this.stream(ring, m);
    return { ok: true, done };
  }

  /** Resolves when the member is DECOMMISSIONED (at once if it already is). */
  whenLeft(m: Member): Promise<void> {
    if (m.mode === 'DECOMMISSIONED') return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(m.hostId) ?? [];
      list.push(resolve);
      this.waiters.set(m.hostId, list);
    });
  }

  private stream(ring: Ring, m: Member): void {
    let last = Date.now();
    const tick = () => {
      const s = m.stream;
      if (this.closed || !s) return;
      const now = Date.now();
      const dt = now - last;
      last = now;
      if (!this.faults.stallDecommission) {
        s.progress = Math.min(s.failAt ?? 1, s.progress + dt / Math.max(1, this.faults.decommissionStreamMs));
        for (const p of s.peers) {
          const sent = Math.floor(p.bytes * s.progress);
          const receiver = ring.members.find((x) => x.hostId === p.hostId);
          if (receiver) receiver.loadBytes += sent - p.sentBytes;
          p.sentBytes = sent;
          p.sentFiles = Math.min(p.files, Math.floor(p.files * s.progress));
        }
      }
      if (s.failAt !== undefined && s.progress >= s.failAt) {
        // StreamResultFuture fails ("Stream failed"); decommission() rethrows it and resets
        // isDecommissioning, but the node stays LEAVING (4.1).
        s.finishedAt = new Date().toISOString();
        s.error = 'Stream failed';
        m.lastStream = s;
        m.stream = undefined;
        m.decommissioning = false;
        m.decommission.failed++;
        m.decommission.failedAt = s.finishedAt;
        m.decommission.error = `Error while decommissioning node: ${s.error}`;
        this.finish(s.planId, { ok: false, message: s.error });
        return;
      }
      if (s.progress >= 1) {
        s.finishedAt = new Date().toISOString();
        m.lastStream = s;
        m.stream = undefined;
        m.mode = 'DECOMMISSIONED';
        m.decommissioning = false;
        m.decommission.finishedAt = s.finishedAt;
        this.finish(s.planId, { ok: true });
        const list = this.waiters.get(m.hostId) ?? [];
        this.waiters.delete(m.hostId);
        for (const w of list) w();
        return;
      }
      this.after(Math.min(250, Math.max(10, this.faults.decommissionStreamMs / 50)), tick);
    };
    this.after(Math.min(250, Math.max(10, this.faults.decommissionStreamMs / 50)), tick);
  }

  private finish(planId: string, end: DecommissionEnd): void {
    const f = this.finishers.get(planId);
    this.finishers.delete(planId);
    f?.(end);
  }

  private after(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
