// Decommissioning a member of a stateful service running in a StatefulSet. The service's side (its ring,
// its own decommission protocol) is behind StatefulServiceAdapter (src/services/: Cassandra runs nodetool
// and cqlsh in the member's pods, through the exec transport of ./pod-exec.ts); the Kubernetes side of
// removing a member (claim, scale down, claims) is in ./stateful-set.ts. Another database plugs in with
// its own adapter.
import * as k8s from '@kubernetes/client-node';
import { activityInfo, ApplicationFailure, heartbeat, log, sleep } from '@temporalio/activity';
import type { DecommissionActivities, IssueDecommissionResult } from '../core/activity-contracts.js';
import {
  ordinalOf,
  type DecommissionFacts,
  type ExecResult,
  type FollowCheckpoint,
  type FollowOutcome,
  type FollowRequest,
  type MemberMode,
  type MemberState,
  type PodExecutor,
  type RingMember,
  type StatefulMemberRef,
  type StatefulServiceAdapter,
  type StatefulServiceName,
  ringReadProblem,
} from '../core/decommission.js';
import { STATEFUL_ADAPTERS } from '../services/index.js';
import type { ClientRegistry } from './clients.js';
import { isPodReady } from './kube-api.js';
import { recordEvent } from './kube-events.js';
import { decommissionBytesStreamed } from './metrics.js';
import { kubeExecutor } from './pod-exec.js';
import { statefulSetActivities, statefulSetReads } from './stateful-set.js';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));


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
  const { readStatefulSet, holderOf } = statefulSetReads(clients);

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

  /**
   * The ring as the first observer that answers believably sees it (see ringReadProblem). `ids` keeps the
   * observers' host IDs (asked once: a ring read must list its own observer) across the polls of one attempt.
   */
  async function ringFrom(
    adapter: StatefulServiceAdapter,
    exec: PodExecutor,
    observers: string[],
    { minMembers, ids = new Map<string, string>() }: { minMembers?: number; ids?: Map<string, string> } = {},
  ): Promise<{ observer: string; ring: RingMember[] } | { error: string }> {
    const errors: string[] = [];
    for (const observer of observers) {
      try {
        const ring = await adapter.ring(exec, observer);
        if (!ids.has(observer)) ids.set(observer, (await adapter.identify(exec, observer)).id);
        const problem = ringReadProblem(ring, ids.get(observer), minMembers);
        if (problem) {
          errors.push(`${observer}: ${problem}`);
          continue;
        }
        return { observer, ring };
      } catch (e) {
        errors.push(`${observer}: ${errorText(e)}`);
      }
    }
    return { error: errors.join('; ') || 'no member to ask' };
  }


  return {
    ...statefulSetActivities({ clients, isWorkflowRunning, pollMs }),

    async inspectDecommission(ref: StatefulMemberRef & { owner: string }): Promise<DecommissionFacts> {
      const { cluster, namespace, statefulSet, member, owner } = ref;
      const declared = clients.clusterConfig(cluster).statefulNamespaces;
      if (!declared.includes(namespace)) return { statefulSetExists: false, replicas: 0, claimTemplates: [], pods: [], namespaceNotDeclared: { declared } };
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
      const running = facts.pods.filter((p) => p.phase === 'Running');
      const observers = running.filter((p) => p.name !== member).map((p) => p.name);
      // Every running member belongs in the ring: a read listing fewer is cut short, not a smaller ring.
      const seen = await ringFrom(adapter, exec, observers, { minMembers: running.length });
      if ('ring' in seen) {
        facts.observer = seen.observer;
        facts.ring = seen.ring;
        try {
          facts.replication = await adapter.replication(exec, seen.observer);
        } catch (e) {
          facts.replicationError = errorText(e);
        }
      } else facts.ringError = seen.error;
      // One unreadable answer is not the member's mode: ask up to three times before reporting it unreachable.
      for (let attempt = 1; ; attempt++) {
        facts.memberState = await adapter.state(exec, member);
        if (facts.memberState.mode !== 'UNREACHABLE' || attempt === 3) break;
        await sleep(Math.min(pollMs, 500));
      }
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
      await recordEvent(core(ref.cluster), { kind: 'StatefulSet', apiVersion: 'apps/v1', name: ref.statefulSet, namespace: ref.namespace }, 'Decommissioning', `${member} is leaving the ring`);
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
      const observerIds = new Map<string, string>();
      let reportedAt = now();
      let changedSinceReport = false;
      for (;;) {
        const s = await adapter.state(exec, req.member);
        heartbeat({ ...cp });
        const observers = cp.observer ? [cp.observer, ...req.observers.filter((o) => o !== cp.observer)] : req.observers;
        const seen = await ringFrom(adapter, exec, observers, { ids: observerIds, ...(req.ringSize !== undefined ? { minMembers: req.ringSize - 1 } : {}) });
        let changed = false;
        if (s.mode !== 'UNREACHABLE' && s.mode !== cp.mode) {
          log.info('member mode changed', { member: req.member, from: cp.mode, to: s.mode });
          cp.mode = s.mode;
          changed = true;
        }
        if (LEFT_MODES.has(cp.mode)) cp.sawLeaving = true;
        if (s.stream) {
          const before = cp.stream;
          if (s.stream.bytesSent > (before?.bytesSent ?? 0)) decommissionBytesStreamed.inc({ cluster: req.cluster }, s.stream.bytesSent - (before?.bytesSent ?? 0));
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
        if (cp.mode === 'DECOMMISSIONED' && 'ring' in seen && !cp.inRing) {
          await recordEvent(core(req.cluster), { kind: 'StatefulSet', apiVersion: 'apps/v1', name: req.statefulSet, namespace: req.namespace }, 'MemberLeft', `${req.member} has left the ring`);
          return { outcome: 'left', checkpoint: cp };
        }
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
  } satisfies DecommissionActivities;
}
