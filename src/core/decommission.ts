// decommissionMember: input schema, what the preflight observes, the pure decision whether a member
// may be decommissioned, and the shapes the workflow reports. The service itself (Cassandra, or
// another database with its own decommission command) sits behind StatefulServiceAdapter.
import { z } from 'zod';
import { describeIssues } from './group-size.js';
import { boundedDuration, type ParseResult } from './input.js';
import type { EndPhase, RunbookProgress } from './runbook.js';

const dnsLabel = (field: string) =>
  z
    .string({ error: `${field}: expected a string` })
    .min(1, `${field}: must not be empty`)
    .max(63, `${field}: at most 63 characters`)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${field}: expected a lower-case DNS label (a-z, 0-9, "-")`);

/** StatefulSet annotation naming the workflow decommissioning one of its members (one at a time). */
export const ANNOTATION_DECOMMISSION_OWNER = 'itinerant.dev/decommission-owner';

/** Services with an adapter (see src/services/index.ts). */
export const STATEFUL_SERVICES = ['cassandra'] as const;
export type StatefulServiceName = (typeof STATEFUL_SERVICES)[number];

export const decommissionMemberInputSchema = z
  .strictObject({
    /** Cluster name as declared in the fleet configuration. */
    cluster: dnsLabel('cluster'),
    namespace: dnsLabel('namespace'),
    statefulSet: dnsLabel('statefulSet'),
    /** The member's pod, e.g. cassandra-3: must be the StatefulSet's highest ordinal. */
    member: dnsLabel('member'),
    service: z.enum(STATEFUL_SERVICES, { error: `service: expected one of ${STATEFUL_SERVICES.join(', ')}` }).default('cassandra'),
    /** Delete the member's PersistentVolumeClaims once it has left and its pod is gone. Off by default: the data is kept. */
    releaseVolume: z.boolean({ error: 'releaseVolume: expected true or false' }).default(false),
    /** How long streaming may make no progress before an operator is asked (keepWaiting or abort). */
    stuckAfter: boundedDuration('30m', 10_000, 24 * 3_600_000),
    /**
     * How long the member may be LEAVING while saying it streams nothing (Cassandra: netstats "Not sending any
     * streams.") before the decommission is reported as failed and an operator is asked; never more than stuckAfter.
     * Leaves room for the quiet spells of a healthy decommission (Cassandra sleeps RING_DELAY before and after streaming).
     */
    notStreamingAfter: boundedDuration('5m', 5_000, 24 * 3_600_000),
    /** Overall limit for the whole runbook. */
    timeout: boundedDuration('24h', 60_000, 14 * 86_400_000),
  })
  .superRefine((v, ctx) => {
    if (!v.member.startsWith(`${v.statefulSet}-`) || !/^\d+$/.test(v.member.slice(v.statefulSet.length + 1))) {
      ctx.addIssue({
        code: 'custom',
        path: ['member'],
        message: `member: expected a pod of StatefulSet ${v.statefulSet} such as "${v.statefulSet}-3", got ${JSON.stringify(v.member)}`,
      });
    }
  });

export type DecommissionMemberInput = z.input<typeof decommissionMemberInputSchema>;
export type DecommissionMemberRequest = z.output<typeof decommissionMemberInputSchema>;

export function parseDecommissionMemberInput(input: unknown): ParseResult<DecommissionMemberRequest> {
  if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      message: 'input: expected a JSON object such as {"cluster": "sim-1", "namespace": "data", "statefulSet": "cassandra", "member": "cassandra-3"}',
    };
  }
  const r = decommissionMemberInputSchema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  // Messages that already name their field are kept as they are.
  const message = r.error.issues
    .map((i) => {
      const path = i.path.join('.');
      return path && i.message.startsWith(`${path}: `) ? i.message : describeIssues(new z.ZodError([i]));
    })
    .join('; ');
  return { ok: false, message };
}

export const ordinalOf = (statefulSet: string, pod: string): number | undefined => {
  const m = new RegExp(`^${statefulSet.replace(/[.]/g, '\\.')}-(\\d+)$`).exec(pod);
  return m ? Number(m[1]) : undefined;
};

// ---- what the service reports ----------------------------------------------------------------

/** The member's own view of what it is doing (Cassandra: StorageService mode, `nodetool netstats`). */
export type MemberMode =
  | 'STARTING'
  | 'NORMAL'
  | 'JOINING'
  | 'JOINING_FAILED'
  | 'LEAVING'
  | 'DECOMMISSIONED'
  | 'DECOMMISSION_FAILED'
  | 'MOVING'
  | 'DRAINING'
  | 'DRAINED'
  /** The member could not be asked (pod gone, not running, exec failed). */
  | 'UNREACHABLE';

/** One member as another member sees the ring (Cassandra: a row of `nodetool status`). */
export interface RingMember {
  /** Stable identity (Cassandra host ID). */
  id: string;
  address: string;
  up: boolean;
  state: 'normal' | 'leaving' | 'joining' | 'moving';
  /** Datacenter (or whatever the service replicates across). */
  group: string;
}

/** Data streamed away by the leaving member. */
export interface StreamProgress {
  bytesSent: number;
  bytesTotal: number;
  filesSent: number;
  filesTotal: number;
}

export interface MemberState {
  mode: MemberMode;
  stream?: StreamProgress;
  /** The member says it streams nothing at all (Cassandra: netstats prints "Not sending any streams."). */
  notStreaming?: boolean;
  /** Why the member could not be asked, when UNREACHABLE. */
  error?: string;
}

/** A replication constraint: `replicas` copies of `what` must fit in `group` (or in the whole ring). */
export interface ReplicationNeed {
  what: string;
  replicas: number;
  /** Datacenter the constraint applies to; undefined for the whole ring. */
  group?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 on success; undefined when the command's end was not observed. */
  exitCode?: number;
}

/** Runs commands in a pod's container through the Kubernetes exec API. */
export interface PodExecutor {
  run(pod: string, command: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Start a long-running command without waiting for it; `done` settles when it ends (or its stream drops). */
  start(pod: string, command: string[]): Promise<{ done: Promise<ExecResult> }>;
}

/** What a stateful service must provide for decommissionMember. */
export interface StatefulServiceAdapter {
  readonly service: string;
  /** Container to exec into (the pod's first container when undefined). */
  readonly container?: string;
  /** The ring as `observer` sees it. */
  ring(exec: PodExecutor, observer: string): Promise<RingMember[]>;
  /** The member's stable identity and group, as it reports them. */
  identify(exec: PodExecutor, member: string): Promise<{ id: string; group?: string }>;
  /** The member's mode and streaming progress. Never throws for an unreachable member: mode UNREACHABLE. */
  state(exec: PodExecutor, member: string): Promise<MemberState>;
  /** Every replication constraint of the service's data, asked of `observer`. */
  replication(exec: PodExecutor, observer: string): Promise<ReplicationNeed[]>;
  /** The command that makes the member leave (blocks until it has; the service carries on if the client goes away). */
  decommissionCommand(member: string): string[];
}

// ---- preflight --------------------------------------------------------------------------------

export interface DecommissionFacts {
  statefulSetExists: boolean;
  replicas: number;
  /** volumeClaimTemplates[].metadata.name */
  claimTemplates: string[];
  /** Pods of the StatefulSet by name (ordinal order). */
  pods: { name: string; ordinal: number; phase?: string; ready: boolean; ip?: string }[];
  /** The pod the ring was seen from (never the member itself). */
  observer?: string;
  ring?: RingMember[];
  /** Why no member could report the ring. */
  ringError?: string;
  /** The member's identity as it reports it. */
  memberId?: string;
  memberGroup?: string;
  memberState?: MemberState;
  replication?: ReplicationNeed[];
  replicationError?: string;
  /** The workflow holding the StatefulSet for a decommission, when another live one does. */
  heldBy?: string;
  /**
   * Set when the fleet configuration does not declare the namespace a stateful-service namespace of the
   * cluster (statefulNamespaces): the worker has no rights there, and nothing else was read.
   */
  namespaceNotDeclared?: { declared: string[] };
}

export type DecommissionDecision =
  | { ok: true; ordinal: number; memberId: string; claims: string[]; observers: string[] }
  | { ok: false; field: string; message: string };

/** Decide whether the member may be decommissioned at all, before any side effect. */
export function checkDecommission(
  f: DecommissionFacts,
  req: Pick<DecommissionMemberRequest, 'cluster' | 'namespace' | 'statefulSet' | 'member' | 'service'>,
): DecommissionDecision {
  const refuse = (field: string, message: string): DecommissionDecision => ({ ok: false, field, message });
  const sts = `${req.namespace}/${req.statefulSet}`;
  if (f.namespaceNotDeclared) {
    const declared = f.namespaceNotDeclared.declared.join(', ') || 'none';
    return refuse(
      'namespace',
      `${req.namespace} is not a stateful-service namespace of cluster ${req.cluster} in the fleet configuration (statefulNamespaces: ${declared}), ` +
        `so the worker may not exec, scale StatefulSets or release volumes there: declare it in the cluster's statefulNamespaces, ` +
        `re-render and apply the worker's RBAC (itinerant rbac render --cluster ${req.cluster} | kubectl apply -f -) and restart the worker`,
    );
  }
  if (!f.statefulSetExists) return refuse('statefulSet', `StatefulSet ${sts} does not exist in cluster ${req.cluster}`);
  if (f.heldBy) return refuse('statefulSet', `another decommission of StatefulSet ${sts} is running (workflow ${f.heldBy}); one member at a time`);
  const ordinal = ordinalOf(req.statefulSet, req.member);
  if (ordinal === undefined) return refuse('member', `${req.member} is not a pod name of StatefulSet ${req.statefulSet}`);
  const pod = f.pods.find((p) => p.name === req.member);
  if (!pod || ordinal >= f.replicas) {
    return refuse('member', `${req.member} is not a current member of StatefulSet ${sts} (it has ${f.replicas} replicas: ${req.statefulSet}-0..${f.replicas - 1})`);
  }
  if (ordinal !== f.replicas - 1) {
    const highest = `${req.statefulSet}-${f.replicas - 1}`;
    return refuse(
      'member',
      `${req.member} is not the highest ordinal of StatefulSet ${sts}: scaling the StatefulSet down removes ${highest}, never a lower ordinal, ` +
        `so ${req.member} would be restarted empty by its controller after leaving. Decommission ${highest} instead`,
    );
  }
  if (f.replicas < 2) return refuse('member', `${req.member} is the only member of StatefulSet ${sts}`);
  if (!f.ring || !f.observer) {
    return refuse('member', `no member other than ${req.member} could report the ${req.service} ring: ${f.ringError ?? 'no other member is running'}`);
  }
  if (!f.memberId || !f.memberState) return refuse('member', `${req.member} did not report its ${req.service} identity and mode`);
  if (f.memberState.mode !== 'NORMAL') {
    return refuse('member', `${req.member} is ${f.memberState.mode}, not NORMAL: it is not a serving member that can be decommissioned`);
  }
  const self = f.ring.find((m) => m.id === f.memberId);
  if (!self) return refuse('member', `${req.member} (host ${f.memberId}) is not in the ${req.service} ring as ${f.observer} sees it`);
  const unhealthy = f.ring.filter((m) => !m.up || m.state !== 'normal');
  if (unhealthy.length > 0) {
    const show = (m: RingMember) => `${m.address} (${m.id.slice(0, 8)}) ${m.up ? 'up' : 'down'}/${m.state}`;
    return refuse('member', `the ${req.service} ring is not healthy as ${f.observer} sees it: ${unhealthy.map(show).join(', ')}; every member must be up and normal`);
  }
  // The ring may not know members whose pods are not ready, or count members outside the StatefulSet.
  if (f.replication === undefined) return refuse('member', `could not read the replication settings: ${f.replicationError ?? 'unknown error'}`);
  for (const need of [...f.replication].sort((a, b) => b.replicas - a.replicas)) {
    const inScope = f.ring.filter((m) => need.group === undefined || m.group === need.group);
    const left = inScope.length - (inScope.some((m) => m.id === self.id) ? 1 : 0);
    if (left < need.replicas) {
      return refuse(
        'member',
        `${need.what} keeps ${need.replicas} replicas${need.group ? ` in ${need.group}` : ''}; decommissioning ${req.member} would leave ${left} member${left === 1 ? '' : 's'}` +
          `${need.group ? ` there` : ''}, fewer than its replication factor`,
      );
    }
  }
  const observers = f.pods.filter((p) => p.name !== req.member && p.ready).map((p) => p.name);
  if (f.observer && !observers.includes(f.observer)) observers.unshift(f.observer);
  return {
    ok: true,
    ordinal,
    memberId: self.id,
    claims: f.claimTemplates.map((t) => `${t}-${req.member}`),
    observers: [f.observer, ...observers.filter((o) => o !== f.observer)],
  };
}

// ---- following --------------------------------------------------------------------------------

/** Heartbeat details of followDecommission, and what one follow hands the next. */
export interface FollowCheckpoint {
  mode: MemberMode;
  /** Whether the member was ever seen LEAVING or DECOMMISSIONED during this issue. */
  sawLeaving: boolean;
  /** Whether the ring (seen from another member) still lists the member. */
  inRing: boolean;
  stream?: StreamProgress;
  /** Epoch ms of the last change (mode, ring, bytes or files streamed). */
  lastProgressAt: number;
  /** Epoch ms since when the member has been LEAVING and streaming nothing, on every poll since. */
  idleSince?: number;
  /** Consecutive polls that found the member LEAVING and streaming nothing. */
  idlePolls?: number;
  observer?: string;
}

export type FollowOutcome =
  /** The member reports DECOMMISSIONED and the ring no longer lists it. */
  | { outcome: 'left'; checkpoint: FollowCheckpoint }
  /** Still leaving: a periodic report so the workflow's progress stays current. */
  | { outcome: 'progress'; checkpoint: FollowCheckpoint }
  /** No change for stuckAfter. */
  | { outcome: 'stuck'; checkpoint: FollowCheckpoint; stuckForMs: number }
  /** LEAVING but streaming nothing for notStreamingAfter: the decommission failed (Cassandra 4.1 stays LEAVING). */
  | { outcome: 'streamFailed'; checkpoint: FollowCheckpoint; idleForMs: number }
  /** Back to NORMAL without having left (restarted, or the decommission failed). */
  | { outcome: 'reverted'; checkpoint: FollowCheckpoint }
  /** The overall deadline passed. */
  | { outcome: 'timeout'; checkpoint: FollowCheckpoint };

export interface StatefulMemberRef {
  cluster: string;
  namespace: string;
  statefulSet: string;
  member: string;
  service: StatefulServiceName;
}

export interface FollowRequest extends StatefulMemberRef {
  memberId: string;
  /** Pods to ask for the ring, in order of preference (never the member). */
  observers: string[];
  stuckAfterMs: number;
  /** LEAVING and streaming nothing for this long (and at least a few polls): outcome streamFailed. */
  notStreamingAfterMs: number;
  /** Report back at least this often while progress is being made. */
  reportEveryMs: number;
  /** Epoch ms: give up (outcome timeout) after this. */
  deadline: number;
  /** Members of the ring at the preflight: a ring read with fewer than this minus one (the member leaving) is not believed. */
  ringSize?: number;
  /** The previous follow's checkpoint; a retried attempt prefers its own heartbeat. */
  from?: FollowCheckpoint;
}

/**
 * Why a ring read cannot be believed (a truncated or garbled `nodetool status`: a header and no rows, rows
 * missing), or undefined when it can: it must list the observer itself, and at least `minMembers` members.
 * An unbelievable read is "unknown", never "the member has left".
 */
export function ringReadProblem(ring: Pick<RingMember, 'id'>[], observerId: string | undefined, minMembers = 1): string | undefined {
  if (observerId !== undefined && !ring.some((m) => m.id === observerId)) return `the ring read lists ${ring.length} member(s) but not the observer itself`;
  if (ring.length < minMembers) return `the ring read lists ${ring.length} member(s), fewer than the ${minMembers} expected`;
  return undefined;
}

export type DecommissionPhase = 'validating' | 'issuing' | 'leaving' | 'stuck' | 'scaling-down' | 'waiting-for-pod' | 'releasing-volume' | EndPhase;

export interface DecommissionProgress extends RunbookProgress<DecommissionPhase> {
  namespace: string;
  statefulSet: string;
  member: string;
  service: string;
  mode?: MemberMode;
  memberId?: string;
  stream?: StreamProgress & { percent?: number };
  elapsedMs: number;
  /** When `nodetool decommission` (or the service's equivalent) was issued, each time. */
  issuedAt: string[];
  lastProgressAt?: string;
  stuckSince?: string;
  claims?: string[];
  volume?: 'kept' | 'released';
}

/** What the decommission does next, from the member's mode as the service reports it. */
export type DecommissionStep =
  /** Serving and never issued: issue the decommission. */
  | { step: 'issue' }
  /** Serving again after it was issued (restarted, or the decommission failed): issue it again. */
  | { step: 'reissue'; reissue: number }
  /** Fell back to serving too often: an operator decides before it is issued again. */
  | { step: 'ask-before-reissue'; fellBack: number }
  /** Leaving (or left): follow it, issuing nothing. */
  | { step: 'follow' }
  /** Neither serving nor leaving (starting, joining, unreachable...): ask again later. */
  | { step: 'recheck' };

const ISSUABLE_MODES: readonly MemberMode[] = ['NORMAL', 'DECOMMISSION_FAILED'];
const LEAVING_MODES: readonly MemberMode[] = ['LEAVING', 'DECOMMISSIONED'];
export const isLeaving = (mode: MemberMode) => LEAVING_MODES.includes(mode);

export function nextDecommissionStep(s: { mode: MemberMode; timesIssued: number; reissues: number; maxReissues: number }): DecommissionStep {
  if (ISSUABLE_MODES.includes(s.mode)) {
    if (s.timesIssued === 0) return { step: 'issue' };
    if (s.reissues >= s.maxReissues) return { step: 'ask-before-reissue', fellBack: s.reissues };
    return { step: 'reissue', reissue: s.reissues + 1 };
  }
  if (isLeaving(s.mode)) return { step: 'follow' };
  return { step: 'recheck' };
}

export interface DecommissionMemberResult {
  member: string;
  memberId: string;
  /** How many times the decommission command was issued (1 unless the member fell back to NORMAL). */
  issued: number;
  replicasBefore: number;
  replicasAfter: number;
  claims: string[];
  volume: 'kept' | 'released';
  note: string;
  stream?: StreamProgress;
}

export const streamPercent = (s: StreamProgress | undefined): number | undefined =>
  s && s.bytesTotal > 0 ? Math.min(100, Math.floor((s.bytesSent * 100) / s.bytesTotal)) : undefined;
