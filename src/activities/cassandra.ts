// Decommissioning a member of a stateful service running in a StatefulSet: the Kubernetes side
// (StatefulSet, pods, claims, exec into pods) and, behind StatefulServiceAdapter, the service side.
// The Cassandra adapter runs nodetool and cqlsh in the member's pods and parses their output
// (src/core/nodetool.ts). Another database plugs in with its own adapter.
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { activityInfo, ApplicationFailure, heartbeat, log, sleep } from '@temporalio/activity';
import type { DecommissionActivities, IssueDecommissionResult } from '../core/activity-contracts.js';
import {
  ANNOTATION_DECOMMISSION_OWNER,
  ordinalOf,
  type DecommissionFacts,
  type ExecResult,
  type FollowCheckpoint,
  type FollowOutcome,
  type FollowRequest,
  type MemberMode,
  type MemberState,
  type PodExecutor,
  type ReplicationNeed,
  type RingMember,
  type StatefulMemberRef,
  type StatefulServiceAdapter,
  type StatefulServiceName,
} from '../core/decommission.js';
import { parseKeyspaceReplication, parseNetstats, parseNodetoolInfo, parseNodetoolStatus } from '../core/nodetool.js';
import type { ClientRegistry } from './clients.js';
import { claimPatch, isConflict, isNotFound, isPodReady, JSON_PATCH, MERGE_PATCH, rethrow } from './kube-api.js';

const EXEC_TIMEOUT_MS = 20_000;

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ---- exec into pods --------------------------------------------------------------------------

/** The command's exit code from the exec API's final status (channel 3). */
function exitCodeOf(status: k8s.V1Status | undefined): number | undefined {
  if (!status) return undefined;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined && /^\d+$/.test(cause.message) ? Number(cause.message) : 1;
}

function collector(): { stream: PassThrough; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Live exec streams started by issueDecommission: kept so they are not collected while the command runs. */
const running = new Set<Promise<ExecResult>>();

export function kubeExecutor(kc: k8s.KubeConfig, core: k8s.CoreV1Api, namespace: string, preferredContainer?: string): PodExecutor {
  const exec = new k8s.Exec(kc);
  const containers = new Map<string, string>();

  async function containerOf(pod: string): Promise<string> {
    const known = containers.get(pod);
    if (known) return known;
    const p = await core.readNamespacedPod({ name: pod, namespace });
    const names = (p.spec?.containers ?? []).map((c) => c.name);
    const name = preferredContainer && names.includes(preferredContainer) ? preferredContainer : names[0];
    if (!name) throw new Error(`pod ${namespace}/${pod} has no containers`);
    containers.set(pod, name);
    return name;
  }

  /** Connect and return the socket plus a promise for the command's end. */
  async function open(pod: string, command: string[]) {
    const out = collector();
    const err = collector();
    let status: k8s.V1Status | undefined;
    const container = await containerOf(pod);
    const ws = await exec
      .exec(namespace, pod, container, command, out.stream, err.stream, null, false, (s) => {
        status = s;
      })
      .catch((e: unknown) => {
        // the WebSocket library rejects with an ErrorEvent, not an Error: keep its message (e.g. "Unexpected server response: 403")
        const message = e instanceof Error ? e.message : ((e as { message?: string })?.message ?? String(e));
        throw new Error(`exec ${command.join(' ')} in pod ${namespace}/${pod}: ${message}`);
      });
    const done = new Promise<ExecResult>((resolve, reject) => {
      ws.on('close', () => resolve({ stdout: out.text(), stderr: err.text(), exitCode: exitCodeOf(status) }));
      ws.on('error', (e: Error) => reject(e));
    });
    return { ws, done };
  }

  return {
    async run(pod, command, opts) {
      const { ws, done } = await open(pod, command);
      const timeoutMs = opts?.timeoutMs ?? EXEC_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ws.close();
          reject(new Error(`${command.join(' ')} in pod ${namespace}/${pod} did not finish within ${timeoutMs / 1000}s`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async start(pod, command) {
      const { done } = await open(pod, command);
      const tracked = done.finally(() => running.delete(tracked));
      running.add(tracked);
      tracked.catch(() => undefined);
      return { done };
    },
  };
}

/** Run a command and return its stdout; a failed command throws with what it printed. */
async function output(exec: PodExecutor, pod: string, command: string[]): Promise<string> {
  const r = await exec.run(pod, command);
  if (r.exitCode !== 0) {
    const printed = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${command.join(' ')} in ${pod} failed (exit ${r.exitCode ?? 'unknown'}): ${printed || 'no output'}`);
  }
  return r.stdout;
}

// ---- Cassandra -------------------------------------------------------------------------------

const RING_STATE = { Normal: 'normal', Leaving: 'leaving', Joining: 'joining', Moving: 'moving' } as const;
export const KEYSPACES_QUERY = 'SELECT keyspace_name, replication FROM system_schema.keyspaces';

export const cassandraAdapter: StatefulServiceAdapter = {
  service: 'cassandra',
  container: 'cassandra',

  async ring(exec, observer): Promise<RingMember[]> {
    const status = parseNodetoolStatus(await output(exec, observer, ['nodetool', 'status']));
    return status.members.map((m) => ({ id: m.hostId, address: m.address, up: m.status === 'Up', state: RING_STATE[m.state], group: m.datacenter }));
  },

  async identify(exec, member) {
    const info = parseNodetoolInfo(await output(exec, member, ['nodetool', 'info']));
    return { id: info.hostId, ...(info.datacenter ? { group: info.datacenter } : {}) };
  },

  async state(exec, member): Promise<MemberState> {
    let text: string;
    try {
      text = await output(exec, member, ['nodetool', 'netstats']);
    } catch (e) {
      return { mode: 'UNREACHABLE', error: errorText(e) };
    }
    const n = parseNetstats(text);
    const s = n.sending;
    return {
      mode: n.mode,
      ...(s.files > 0 || s.bytes > 0 ? { stream: { bytesSent: s.bytesDone, bytesTotal: s.bytes, filesSent: s.filesDone, filesTotal: s.files } } : {}),
      ...(n.notSending ? { notStreaming: true } : {}),
    };
  },

  async replication(exec, observer): Promise<ReplicationNeed[]> {
    const keyspaces = parseKeyspaceReplication(await output(exec, observer, ['cqlsh', '-e', KEYSPACES_QUERY]));
    const needs: ReplicationNeed[] = [];
    for (const ks of keyspaces) {
      if (ks.replicationFactor !== undefined) needs.push({ what: `keyspace ${ks.keyspace}`, replicas: ks.replicationFactor });
      for (const [dc, rf] of Object.entries(ks.perDatacenter ?? {})) needs.push({ what: `keyspace ${ks.keyspace}`, replicas: rf, group: dc });
    }
    return needs;
  },

  decommissionCommand: () => ['nodetool', 'decommission'],
};

export const STATEFUL_ADAPTERS: Record<StatefulServiceName, StatefulServiceAdapter> = { cassandra: cassandraAdapter };

// ---- activities ------------------------------------------------------------------------------

export interface DecommissionDeps {
  clients: ClientRegistry;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
  /** How often the member is polled while issuing and following (default 2s). */
  pollMs?: number;
  adapters?: Partial<Record<string, StatefulServiceAdapter>>;
}

const LEFT_MODES = new Set<MemberMode>(['LEAVING', 'DECOMMISSIONED']);
/** Polls in a row that must find the member LEAVING and streaming nothing before it counts as a failed stream. */
const MIN_IDLE_POLLS = 3;
/** Modes from which a decommission may be (re-)issued. */
export const ISSUABLE_MODES = new Set<MemberMode>(['NORMAL', 'DECOMMISSION_FAILED']);

export function decommissionActivities({ clients, isWorkflowRunning, pollMs = 2000, adapters = {} }: DecommissionDeps) {
  const kubeConfigs = new Map<string, k8s.KubeConfig>();
  const core = (cluster: string) => clients.for(cluster).core;
  const apps = (cluster: string) => clients.for(cluster).apps;

  function kubeConfig(cluster: string): k8s.KubeConfig {
    let kc = kubeConfigs.get(cluster);
    if (!kc) {
      const config = clients.clusterConfig(cluster);
      kc = new k8s.KubeConfig();
      kc.loadFromFile(config.kubeconfig);
      if (config.context) kc.setCurrentContext(config.context);
      kubeConfigs.set(cluster, kc);
    }
    return kc;
  }

  function adapterFor(service: string): StatefulServiceAdapter {
    const a = adapters[service] ?? STATEFUL_ADAPTERS[service as StatefulServiceName];
    if (!a) throw ApplicationFailure.nonRetryable(`service: no adapter for ${service}`, 'UnknownService');
    return a;
  }

  function executor(ref: StatefulMemberRef): { adapter: StatefulServiceAdapter; exec: PodExecutor } {
    const adapter = adapterFor(ref.service);
    return { adapter, exec: kubeExecutor(kubeConfig(ref.cluster), core(ref.cluster), ref.namespace, adapter.container) };
  }

  async function readStatefulSet({ cluster, namespace, statefulSet }: StatefulMemberRef): Promise<k8s.V1StatefulSet | undefined> {
    try {
      return await apps(cluster).readNamespacedStatefulSet({ name: statefulSet, namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      rethrow(e, `read StatefulSet ${namespace}/${statefulSet}`);
    }
  }

  async function readPod(cluster: string, namespace: string, name: string): Promise<k8s.V1Pod | undefined> {
    try {
      return await core(cluster).readNamespacedPod({ name, namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      rethrow(e, `read pod ${namespace}/${name}`);
    }
  }

  /** The ring as the first observer that answers sees it. */
  async function ringFrom(
    adapter: StatefulServiceAdapter,
    exec: PodExecutor,
    observers: string[],
  ): Promise<{ observer: string; ring: RingMember[] } | { error: string }> {
    const errors: string[] = [];
    for (const observer of observers) {
      try {
        return { observer, ring: await adapter.ring(exec, observer) };
      } catch (e) {
        errors.push(`${observer}: ${errorText(e)}`);
      }
    }
    return { error: errors.join('; ') || 'no member to ask' };
  }

  const holderOf = (sts: k8s.V1StatefulSet | undefined) => sts?.metadata?.annotations?.[ANNOTATION_DECOMMISSION_OWNER];

  return {
    async inspectDecommission(ref: StatefulMemberRef & { owner: string }): Promise<DecommissionFacts> {
      const { cluster, namespace, statefulSet, member, owner } = ref;
      const sts = await readStatefulSet(ref);
      const facts: DecommissionFacts = { statefulSetExists: !!sts, replicas: sts?.spec?.replicas ?? 0, claimTemplates: [], pods: [] };
      if (!sts) return facts;
      facts.claimTemplates = (sts.spec?.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? '').filter((n) => n !== '');
      const holder = holderOf(sts);
      if (holder && holder !== owner && (await isWorkflowRunning(holder))) facts.heldBy = holder;
      const selector = Object.entries(sts.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const pods = (await core(cluster).listNamespacedPod({ namespace, ...(selector ? { labelSelector: selector } : {}) })).items;
      for (const p of pods) {
        const name = p.metadata?.name ?? '';
        const ordinal = ordinalOf(statefulSet, name);
        if (ordinal === undefined || p.metadata?.deletionTimestamp) continue;
        facts.pods.push({
          name,
          ordinal,
          ready: isPodReady(p),
          ...(p.status?.phase ? { phase: p.status.phase } : {}),
          ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
        });
      }
      facts.pods.sort((a, b) => a.ordinal - b.ordinal);
      if (!facts.pods.some((p) => p.name === member)) return facts;

      const { adapter, exec } = executor(ref);
      const observers = facts.pods.filter((p) => p.name !== member && p.phase === 'Running').map((p) => p.name);
      const seen = await ringFrom(adapter, exec, observers);
      if ('ring' in seen) {
        facts.observer = seen.observer;
        facts.ring = seen.ring;
        try {
          facts.replication = await adapter.replication(exec, seen.observer);
        } catch (e) {
          facts.replicationError = errorText(e);
        }
      } else facts.ringError = seen.error;
      facts.memberState = await adapter.state(exec, member);
      if (facts.memberState.mode !== 'UNREACHABLE') {
        try {
          const id = await adapter.identify(exec, member);
          facts.memberId = id.id;
          if (id.group) facts.memberGroup = id.group;
        } catch (e) {
          log.warn('member did not report its identity', { member, error: errorText(e) });
        }
      }
      return facts;
    },

    async claimStatefulSet(ref: StatefulMemberRef & { owner: string }): Promise<void> {
      const { cluster, namespace, statefulSet, owner } = ref;
      const sts = await readStatefulSet(ref);
      if (!sts) throw ApplicationFailure.nonRetryable(`StatefulSet ${namespace}/${statefulSet} does not exist`, 'StatefulSetNotFound');
      const holder = holderOf(sts);
      if (holder === owner) return;
      if (holder && (await isWorkflowRunning(holder))) {
        throw ApplicationFailure.nonRetryable(`another decommission of StatefulSet ${namespace}/${statefulSet} is running (workflow ${holder})`, 'StatefulSetBusy');
      }
      const ops = claimPatch(sts.metadata, ANNOTATION_DECOMMISSION_OWNER, owner);
      try {
        await apps(cluster).patchNamespacedStatefulSet({ name: statefulSet, namespace, body: ops }, JSON_PATCH);
      } catch (e) {
        if (isConflict(e)) throw new Error(`StatefulSet ${namespace}/${statefulSet} changed while claiming it; retrying`);
        rethrow(e, `claim StatefulSet ${namespace}/${statefulSet}`);
      }
    },

    async releaseStatefulSet(ref: StatefulMemberRef & { owner: string }): Promise<void> {
      const sts = await readStatefulSet(ref);
      if (!sts || holderOf(sts) !== ref.owner) return;
      await apps(ref.cluster).patchNamespacedStatefulSet(
        { name: ref.statefulSet, namespace: ref.namespace, body: { metadata: { annotations: { [ANNOTATION_DECOMMISSION_OWNER]: null } } } },
        MERGE_PATCH,
      );
    },

    async readMemberState(ref: StatefulMemberRef): Promise<MemberState> {
      const { adapter, exec } = executor(ref);
      return adapter.state(exec, ref.member);
    },

    async issueDecommission(ref: StatefulMemberRef & { waitForLeavingMs: number }): Promise<IssueDecommissionResult> {
      const { adapter, exec } = executor(ref);
      const { member } = ref;
      // Check before acting: never a second decommission once the member is leaving or has left.
      let before: MemberState;
      try {
        before = await adapter.state(exec, member);
      } catch (e) {
        throw ApplicationFailure.nonRetryable(`could not read the mode of ${member} before issuing: ${errorText(e)}`, 'NotIssued');
      }
      if (!ISSUABLE_MODES.has(before.mode)) {
        log.info('member is not NORMAL: decommission not issued', { member, mode: before.mode });
        return { issued: false, mode: before.mode };
      }
      const command = adapter.decommissionCommand(member);
      let started: { done: Promise<ExecResult> };
      try {
        started = await exec.start(member, command);
      } catch (e) {
        // The exec stream never opened: the command did not run.
        throw ApplicationFailure.nonRetryable(`could not start ${command.join(' ')} in ${member}: ${errorText(e)}`, 'NotIssued');
      }
      log.info('decommission issued', { member, command: command.join(' ') });
      let ended: ExecResult | undefined;
      started.done.then(
        (r) => {
          ended = r;
          log.info('decommission command ended', { member, exitCode: r.exitCode });
        },
        (e: unknown) => {
          ended = { stdout: '', stderr: errorText(e) };
        },
      );
      const until = Date.now() + ref.waitForLeavingMs;
      for (;;) {
        heartbeat({ issued: true });
        const s: MemberState = await adapter.state(exec, member).catch((e: unknown) => ({ mode: 'UNREACHABLE' as const, error: errorText(e) }));
        if (LEFT_MODES.has(s.mode)) return { issued: true, mode: s.mode };
        if (ended) {
          const after: MemberState = await adapter.state(exec, member).catch((e: unknown) => ({ mode: 'UNREACHABLE' as const, error: errorText(e) }));
          if (LEFT_MODES.has(after.mode)) return { issued: true, mode: after.mode };
          const printed = `${ended.stderr}\n${ended.stdout}`.trim().split('\n').slice(-3).join(' / ');
          throw ApplicationFailure.nonRetryable(
            `${command.join(' ')} in ${member} ended (exit ${ended.exitCode ?? 'unknown'}) without the member leaving; it is ${after.mode}: ${printed || 'no output'}`,
            'DecommissionFailed',
            { mode: after.mode },
          );
        }
        if (Date.now() > until) {
          throw ApplicationFailure.nonRetryable(
            `${command.join(' ')} was issued in ${member}, which is still ${s.mode} after ${Math.round(ref.waitForLeavingMs / 1000)}s`,
            'DecommissionNotStarted',
            { mode: s.mode },
          );
        }
        await sleep(Math.min(pollMs, 1000));
      }
    },

    async followDecommission(req: FollowRequest): Promise<FollowOutcome> {
      const { adapter, exec } = executor(req);
      const now = () => Date.now();
      const fromHeartbeat = activityInfo().heartbeatDetails as FollowCheckpoint | undefined;
      const cp: FollowCheckpoint = fromHeartbeat ??
        req.from ?? { mode: 'LEAVING', sawLeaving: false, inRing: true, lastProgressAt: now() };
      if (fromHeartbeat) log.info('following resumes from its checkpoint', { member: req.member, mode: cp.mode, lastProgressAt: new Date(cp.lastProgressAt).toISOString() });
      let reportedAt = now();
      let changedSinceReport = false;
      for (;;) {
        const s = await adapter.state(exec, req.member);
        heartbeat({ ...cp });
        const observers = cp.observer ? [cp.observer, ...req.observers.filter((o) => o !== cp.observer)] : req.observers;
        const seen = await ringFrom(adapter, exec, observers);
        let changed = false;
        if (s.mode !== 'UNREACHABLE' && s.mode !== cp.mode) {
          log.info('member mode changed', { member: req.member, from: cp.mode, to: s.mode });
          cp.mode = s.mode;
          changed = true;
        }
        if (LEFT_MODES.has(cp.mode)) cp.sawLeaving = true;
        if (s.stream) {
          const before = cp.stream;
          if (!before || s.stream.bytesSent !== before.bytesSent || s.stream.filesSent !== before.filesSent || s.stream.bytesTotal !== before.bytesTotal) changed = true;
          cp.stream = s.stream;
        }
        if ('ring' in seen) {
          cp.observer = seen.observer;
          const inRing = seen.ring.some((m) => m.id === req.memberId);
          if (inRing !== cp.inRing) changed = true;
          cp.inRing = inRing;
        }
        if (changed) {
          cp.lastProgressAt = now();
          changedSinceReport = true;
        }
        // LEAVING yet streaming nothing: normal for a moment (before streams start, after they end); for long, a failed stream.
        if (s.mode === 'LEAVING' && s.notStreaming === true && !s.stream) {
          cp.idleSince ??= now();
          cp.idlePolls = (cp.idlePolls ?? 0) + 1;
        } else {
          delete cp.idleSince;
          delete cp.idlePolls;
        }
        heartbeat({ ...cp });
        if (cp.mode === 'DECOMMISSIONED' && 'ring' in seen && !cp.inRing) return { outcome: 'left', checkpoint: cp };
        if (ISSUABLE_MODES.has(cp.mode)) return { outcome: 'reverted', checkpoint: cp };
        if (now() > req.deadline) return { outcome: 'timeout', checkpoint: cp };
        const idle = cp.idleSince !== undefined && (cp.idlePolls ?? 0) >= MIN_IDLE_POLLS;
        const idleFor = cp.idleSince === undefined ? 0 : now() - cp.idleSince;
        const still = now() - cp.lastProgressAt;
        // Whichever limit comes first, a member that streams nothing is reported as such.
        if (idle && (idleFor >= req.notStreamingAfterMs || still >= req.stuckAfterMs)) {
          log.warn('member is LEAVING but streams nothing', { member: req.member, idleForMs: idleFor });
          return { outcome: 'streamFailed', checkpoint: cp, idleForMs: idleFor };
        }
        if (still >= req.stuckAfterMs) return { outcome: 'stuck', checkpoint: cp, stuckForMs: still };
        if (changedSinceReport && now() - reportedAt >= req.reportEveryMs) {
          reportedAt = now();
          return { outcome: 'progress', checkpoint: cp };
        }
        await sleep(pollMs);
      }
    },

    async scaleDownStatefulSet(ref: StatefulMemberRef & { ordinal: number }) {
      const { cluster, namespace, statefulSet, ordinal } = ref;
      const sts = await readStatefulSet(ref);
      if (!sts) throw ApplicationFailure.nonRetryable(`StatefulSet ${namespace}/${statefulSet} does not exist`, 'StatefulSetNotFound');
      const replicas = sts.spec?.replicas ?? 1;
      if (replicas === ordinal) return { replicasBefore: ordinal + 1, replicasAfter: ordinal, changed: false };
      if (replicas !== ordinal + 1) {
        throw ApplicationFailure.nonRetryable(
          `StatefulSet ${namespace}/${statefulSet} has ${replicas} replicas, not ${ordinal + 1}: scaling it down would not remove ${ref.member}; someone changed it, scale it by hand`,
          'UnexpectedReplicas',
        );
      }
      try {
        // The test op makes it conditional: a concurrent change makes the API refuse the patch.
        await apps(cluster).patchNamespacedStatefulSet(
          {
            name: statefulSet,
            namespace,
            body: [
              { op: 'test', path: '/spec/replicas', value: ordinal + 1 },
              { op: 'replace', path: '/spec/replicas', value: ordinal },
            ],
          },
          JSON_PATCH,
        );
      } catch (e) {
        if (isConflict(e)) throw new Error(`StatefulSet ${namespace}/${statefulSet} changed while scaling it down; retrying`);
        rethrow(e, `scale StatefulSet ${namespace}/${statefulSet}`);
      }
      return { replicasBefore: ordinal + 1, replicasAfter: ordinal, changed: true };
    },

    async waitForMemberPodGone(ref: StatefulMemberRef & { deadline: number }): Promise<{ gone: true }> {
      for (;;) {
        const pod = await readPod(ref.cluster, ref.namespace, ref.member);
        if (!pod) return { gone: true };
        heartbeat({ phase: pod.status?.phase, terminating: !!pod.metadata?.deletionTimestamp });
        if (Date.now() > ref.deadline) {
          throw ApplicationFailure.nonRetryable(`pod ${ref.namespace}/${ref.member} is still there after the StatefulSet was scaled down`, 'PodNotGone');
        }
        await sleep(Math.min(pollMs, 1000));
      }
    },

    async deleteMemberClaims(ref: StatefulMemberRef & { claims: string[] }) {
      const { cluster, namespace, member } = ref;
      if (await readPod(cluster, namespace, member)) {
        throw ApplicationFailure.nonRetryable(`pod ${namespace}/${member} still exists: its volume is not released`, 'PodStillExists');
      }
      const deleted: string[] = [];
      const absent: string[] = [];
      for (const claim of ref.claims) {
        try {
          await core(cluster).deleteNamespacedPersistentVolumeClaim({ name: claim, namespace });
          deleted.push(claim);
        } catch (e) {
          if (isNotFound(e)) absent.push(claim);
          else rethrow(e, `delete PersistentVolumeClaim ${namespace}/${claim}`);
        }
      }
      return { deleted, absent };
    },
  } satisfies DecommissionActivities;
}
