import { ActivityFailure, ApplicationFailure, defineSignal, log, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { heartbeating, RETRY_PAST_DEADLINE_MS } from './activity-options.js';
import type { DecommissionActivities, IssueDecommissionResult } from '../core/activity-contracts.js';
import {
  checkDecommission,
  isLeaving,
  nextDecommissionStep,
  parseDecommissionMemberInput,
  streamPercent,
  type DecommissionMemberInput,
  type DecommissionMemberResult,
  type DecommissionPhase,
  type DecommissionProgress,
  type FollowCheckpoint,
  type MemberState,
  type StatefulMemberRef,
} from '../core/decommission.js';
import { formatDuration } from '../core/duration.js';
import { FailureType, rootMessage } from '../core/runbook.js';
import { SA_CLUSTER, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { invalidInput, startRunbook } from './runbook.js';

/** Kept for other services and older clients: answers a pending stuck question with keepWaiting (the `answer` update does the same). */
export const keepWaitingSignal = defineSignal('keepWaiting');

/** How long the issue activity waits for the member to report LEAVING after starting the command. */
const ISSUE_WAIT_MS = 5 * 60_000;
/** While streaming progresses, the follow activity reports back this often (keeps the progress query current). */
const REPORT_EVERY_MS = 60_000;
/** How long to wait before asking the member again when it is neither serving nor leaving. */
const RECHECK = '30s';
/** Back-to-NORMAL events re-issued without asking; beyond this an operator decides. */
const MAX_REISSUES = 3;
const POD_GONE_MS = 30 * 60_000;

/** Past these phases the member has left the ring: finishing is the only safe direction. */
const PAST_ABORT = new Set<DecommissionPhase>(['scaling-down', 'waiting-for-pod', 'releasing-volume', 'done']);

const api = proxyActivities<DecommissionActivities>({
  startToCloseTimeout: '2m',
  scheduleToCloseTimeout: '30m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Issuing is never retried by Temporal: after a lost attempt the workflow reads the member's mode and decides. */
const issuing = proxyActivities<DecommissionActivities>({
  startToCloseTimeout: ISSUE_WAIT_MS + 120_000,
  heartbeatTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

function following(timeoutMs: number) {
  return proxyActivities<DecommissionActivities>({
    startToCloseTimeout: timeoutMs + 600_000,
    scheduleToCloseTimeout: timeoutMs + 600_000 + RETRY_PAST_DEADLINE_MS,
    heartbeatTimeout: '30s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
}

/**
 * Decommission one member of a stateful service running in a StatefulSet (Cassandra: `nodetool decommission`):
 * check the ring, issue the decommission exactly once, follow it to the end across crashes, then scale the
 * StatefulSet down and only then, if asked, release the member's volume.
 */
export async function decommissionMember(input: DecommissionMemberInput): Promise<DecommissionMemberResult> {
  const parsed = parseDecommissionMemberInput(input);
  if (!parsed.ok) throw invalidInput('decommissionMember', parsed.message);
  const req = parsed.value;
  const { cluster, namespace, statefulSet, member, service } = req;
  const ref: StatefulMemberRef = { cluster, namespace, statefulSet, member, service };
  const owner = workflowInfo().workflowId;
  const startedAt = Date.now();
  const deadline = startedAt + req.timeout;
  let leftRing = false;

  const rb = startRunbook<DecommissionProgress>({
    progress: { runbook: 'decommissionMember', cluster, target: `${namespace}/${member}`, namespace, statefulSet, member, service, phase: 'validating', elapsedMs: 0, issuedAt: [] },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: 'decommissionMember' },
      { key: SA_TARGET, value: `${namespace}/${member}` },
    ],
    details: (p) => {
      const pct = p.stream?.percent;
      const stream = p.stream ? `, streamed ${p.stream.bytesSent}/${p.stream.bytesTotal} bytes${pct !== undefined ? ` (${pct}%)` : ''}` : '';
      return (
        `**${p.phase}** — decommission ${service} member ${namespace}/${member} (${cluster})` +
        `${p.mode ? `, mode ${p.mode}` : ''}${stream}${p.issuedAt.length ? `, issued ${p.issuedAt.length}×` : ''}` +
        (p.question ? `\n\nwaiting for an operator: ${p.question.text}` : '')
      );
    },
    refusing: `decommission ${member}`,
    aftermath,
    logFields: { cluster, namespace, member },
    logLimit: 100,
    controls: { pause: true, abort: true, abortRefusedBecause: (p) => (PAST_ABORT.has(p.phase) ? `${member} has left the ring; finishing the scale-down is the safe way out` : undefined) },
    legacy: { phaseAlwaysUpserted: true, endBeforeUndo: true },
    answerQuery: (p) => ({ ...p, elapsedMs: Date.now() - startedAt }),
  });
  const { progress } = rb;
  setHandler(keepWaitingSignal, () => {
    const problem = rb.answer({ option: 'keepWaiting', by: 'keepWaiting signal' });
    if (problem) rb.note(`keepWaiting received while not stuck: nothing to do`);
  });

  function observe(state: Pick<MemberState, 'mode' | 'stream'>) {
    if (state.mode !== 'UNREACHABLE') progress.mode = state.mode;
    if (state.stream) progress.stream = { ...state.stream, ...(streamPercent(state.stream) !== undefined ? { percent: streamPercent(state.stream) } : {}) };
    rb.details();
  }

  function observeCheckpoint(cp: FollowCheckpoint) {
    observe(cp);
    progress.lastProgressAt = new Date(cp.lastProgressAt).toISOString();
  }

  /** What the operator is left with, for abort and failure messages. */
  function aftermath(): string {
    if (leftRing) return '';
    const claims = progress.claims?.join(', ') || 'none';
    return progress.issuedAt.length === 0
      ? `decommission was never issued; ${member} keeps serving`
      : `decommission was issued at ${progress.issuedAt.join(', ')} and the service carries on with it on its own (it cannot be called back); ` +
          `the StatefulSet was not scaled down and volume ${claims} is kept: check ${member} (nodetool netstats) and finish by hand`;
  }

  function timedOut(): never {
    return rb.end('failed', `${member} did not leave within ${formatDuration(req.timeout)} (mode ${progress.mode ?? 'unknown'})`, FailureType.TimedOut);
  }

  /** No progress: say so and wait for an operator (keepWaiting or abort), never retry silently. */
  let questions = 0;
  async function askOperator(why: string, advice = 'answer keepWaiting to go on waiting, or abort with a reason to stop') {
    const previous = progress.phase;
    rb.enter('stuck');
    progress.stuckSince = new Date().toISOString();
    rb.note(`stuck: ${why}. Waiting for an operator: ${advice} (the StatefulSet is not scaled down)`);
    log.warn(`decommission of ${member} is stuck: ${why}`, { cluster, namespace, member });
    const id = `stuck-${++questions}`;
    const decided = await rb.awaitOperator<'keepWaiting' | 'abort'>({
      id,
      text: `${why}. ${advice}`,
      options: { keepWaiting: 'go on (re-issuing the decommission if the member serves again)', abort: 'stop: the StatefulSet is not scaled down' },
      deadline,
      onDeadline: 'abort',
    });
    if (decided.by === 'deadline') timedOut();
    if (decided.option === 'abort') {
      rb.abort(decided.answer?.note ?? `${decided.answer?.by ?? 'an operator'} answered abort to ${id}`);
      rb.checkAbort();
    }
    delete progress.stuckSince;
    rb.note('operator: keep waiting');
    rb.enter(previous === 'stuck' ? 'leaving' : previous);
  }

  return rb.run(async () => {
    // Preflight: everything is read, nothing is changed, until the member is known to be safe to remove.
    const facts = await api.inspectDecommission({ ...ref, owner });
    const decision = checkDecommission(facts, req);
    if (!decision.ok) return rb.refuse(`${decision.field}: ${decision.message}`);
    progress.memberId = decision.memberId;
    progress.claims = decision.claims;
    observe(facts.memberState ?? { mode: 'UNREACHABLE' });
    try {
      await api.claimStatefulSet({ ...ref, owner });
    } catch (e) {
      return rb.refuse(`statefulSet: ${rootMessage(e)}`);
    }
    const forgetClaim = rb.onFailure(() => api.releaseStatefulSet({ ...ref, owner }));
    const needs = [...(facts.replication ?? [])].sort((a, b) => b.replicas - a.replicas);
    rb.note(
      `${member} (host ${decision.memberId}) may leave: ring of ${facts.ring?.length} members healthy as ${facts.observer} sees it` +
        `${needs[0] ? `, highest replication ${needs[0].replicas} (${needs[0].what})` : ''}`,
    );

    const follow = following(req.timeout);
    let checkpoint: FollowCheckpoint | undefined;
    let reissues = 0;
    /** Workflow time of the last change seen outside the follow activity (issuing, odd modes). */
    let lastChangeAt = Date.now();

    /** Follow the member until it has left the ring ('left') or fell back to serving ('reverted'). */
    async function followUntilDone(): Promise<'left' | 'reverted'> {
      rb.enter('leaving');
      for (;;) {
        rb.checkAbort();
        const out = await rb.interruptible(() =>
          follow.followDecommission({
            ...ref,
            memberId: decision.ok ? decision.memberId : '',
            observers: decision.ok ? decision.observers : [],
            stuckAfterMs: req.stuckAfter,
            notStreamingAfterMs: req.notStreamingAfter,
            reportEveryMs: REPORT_EVERY_MS,
            deadline,
            ...(facts.ring ? { ringSize: facts.ring.length } : {}),
            ...(checkpoint ? { from: checkpoint } : {}),
          }),
        );
        checkpoint = out.checkpoint;
        observeCheckpoint(out.checkpoint);
        switch (out.outcome) {
          case 'progress':
            continue;
          case 'left':
            rb.note(`${member} has left the ring: it reports DECOMMISSIONED and ${out.checkpoint.observer ?? 'the other members'} no longer list${out.checkpoint.observer ? 's' : ''} it`);
            return 'left';
          case 'reverted':
            rb.note(`${member} is ${out.checkpoint.mode} again without having left the ring (it restarted, or the decommission failed)`);
            return 'reverted';
          case 'stuck':
            await askOperator(`no progress from ${member} for ${formatDuration(out.stuckForMs)} (mode ${out.checkpoint.mode}, stuckAfter ${formatDuration(req.stuckAfter)})`);
            checkpoint = { ...out.checkpoint, lastProgressAt: Date.now() };
            continue;
          case 'streamFailed': {
            // Cassandra 4.1 has no DECOMMISSION_FAILED: after a failed stream the member stays LEAVING, streaming nothing.
            // Issuing again is refused while it is LEAVING, and never done here: only a restart brings it back to NORMAL.
            await askOperator(
              `Cassandra reports ${member} LEAVING but no longer streaming (netstats: "Not sending any streams.") for ${formatDuration(out.idleForMs)}: ` +
                `the decommission most likely failed and ${member} will not leave on its own`,
              `restart ${member} to bring it back to NORMAL (it is still in the ring), then answer keepWaiting and the decommission is issued again; ` +
                `or abort with a reason to stop`,
            );
            const { idleSince: _since, idlePolls: _polls, ...rest } = out.checkpoint;
            checkpoint = { ...rest, lastProgressAt: Date.now() };
            continue;
          }
          case 'timeout':
            return timedOut();
        }
      }
    }

    /** Issue the decommission once per time the member is found serving, and follow it until it has left. */
    async function leave(): Promise<void> {
      for (;;) {
        rb.checkAbort();
        if (Date.now() > deadline) timedOut();
        const state = await api.readMemberState(ref);
        if (state.mode !== progress.mode) lastChangeAt = Date.now();
        observe(state);
        rb.checkAbort();

        const next = nextDecommissionStep({ mode: state.mode, timesIssued: progress.issuedAt.length, reissues, maxReissues: MAX_REISSUES });
        if (next.step === 'issue' || next.step === 'reissue' || next.step === 'ask-before-reissue') {
          if (next.step === 'ask-before-reissue') {
            await askOperator(`${member} fell back to ${state.mode} ${reissues} times after the decommission was issued; answer keepWaiting to re-issue it once more`);
            reissues = MAX_REISSUES - 1;
          }
          if (next.step !== 'issue') {
            reissues++;
            rb.note(
              `${member} is ${state.mode} although decommission was issued at ${progress.issuedAt[progress.issuedAt.length - 1]}: ` +
                `it has not left (restarted, or the decommission failed or never reached it). Re-issuing (re-issue ${reissues})`,
            );
          }
          await rb.gate('issuing');
          let issued: IssueDecommissionResult | undefined;
          try {
            // Not interruptible: once the command may be in flight we want to know how it went.
            issued = await issuing.issueDecommission({ ...ref, waitForLeavingMs: ISSUE_WAIT_MS });
          } catch (e) {
            const type = failureType(e);
            if (type === 'NotIssued') {
              rb.note(`decommission not issued: ${rootMessage(e)}; trying again in ${RECHECK}`);
              await sleep(RECHECK);
              if (Date.now() - lastChangeAt >= req.stuckAfter) {
                await askOperator(`could not issue the decommission for ${formatDuration(Date.now() - lastChangeAt)}`);
                lastChangeAt = Date.now();
              }
              continue;
            }
            if (type === 'DecommissionFailed') {
              progress.issuedAt.push(new Date().toISOString());
              rb.end('failed', `the service did not decommission ${member}: ${rootMessage(e)}`, FailureType.Failed);
            }
            // Lost attempt (worker gone, timed out): the command may have been sent. Never guess: ask the member.
            progress.issuedAt.push(new Date().toISOString());
            rb.note(`issuing ended without confirmation (${rootMessage(e)}); the command may have reached ${member}: reading its mode again`);
            continue;
          }
          observe(issued);
          lastChangeAt = Date.now();
          if (issued.issued) {
            progress.issuedAt.push(new Date().toISOString());
            rb.note(`issued decommission of ${member}; it reports ${issued.mode}`);
          } else rb.note(`did not issue: ${member} already reports ${issued.mode}`);
          if (isLeaving(issued.mode)) {
            if ((await followUntilDone()) === 'left') return;
            lastChangeAt = Date.now();
          } else if (!issued.issued) await sleep(RECHECK); // neither serving nor leaving: give it time
          continue;
        }

        if (next.step === 'follow') {
          if (progress.issuedAt.length === 0) rb.note(`${member} is already ${state.mode}: following it without issuing anything`);
          const how = await followUntilDone();
          if (how === 'left') return;
          lastChangeAt = Date.now();
          continue;
        }

        // STARTING, JOINING, MOVING, DRAINING, DRAINED, UNREACHABLE...: neither serving nor leaving.
        rb.note(`${member} is ${state.mode}${state.error ? ` (${state.error})` : ''}; asking again in ${RECHECK}`);
        await sleep(RECHECK);
        if (Date.now() - lastChangeAt >= req.stuckAfter) {
          await askOperator(`${member} has been ${state.mode} for ${formatDuration(Date.now() - lastChangeAt)}`);
          lastChangeAt = Date.now();
        }
      }
    }

    await leave();

    // The service confirmed the member left: only now does the StatefulSet shrink, and only then the volume go.
    leftRing = true;
    let scaled: { replicasBefore: number; replicasAfter: number; changed: boolean };
    try {
      rb.enter('scaling-down');
      scaled = await api.scaleDownStatefulSet({ ...ref, ordinal: decision.ordinal });
      rb.note(
        scaled.changed
          ? `scaled StatefulSet ${namespace}/${statefulSet} from ${scaled.replicasBefore} to ${scaled.replicasAfter} replicas`
          : `StatefulSet ${namespace}/${statefulSet} already has ${scaled.replicasAfter} replicas`,
      );
      rb.enter('waiting-for-pod');
      await proxyActivities<DecommissionActivities>(heartbeating(POD_GONE_MS, '30s')).waitForMemberPodGone({ ...ref, deadline: Date.now() + POD_GONE_MS });
      rb.note(`pod ${member} is gone`);
      if (req.releaseVolume && decision.claims.length > 0) {
        rb.enter('releasing-volume');
        const r = await api.deleteMemberClaims({ ...ref, claims: decision.claims });
        progress.volume = 'released';
        rb.note(`released volume: deleted ${r.deleted.join(', ') || 'nothing'}${r.absent.length ? `; already gone: ${r.absent.join(', ')}` : ''}`);
      } else {
        progress.volume = 'kept';
        rb.note(`kept volume ${decision.claims.join(', ') || '(none)'} (releaseVolume is false)`);
      }
    } catch (e) {
      return rb.end('failed', `${member} has left the ring, but finishing failed: ${rootMessage(e)}`, FailureType.Failed);
    }
    forgetClaim();
    await api.releaseStatefulSet({ ...ref, owner });
    const claims = decision.claims.join(', ');
    const volumeNote =
      progress.volume === 'released'
        ? `volume ${claims} released`
        : `volume ${claims} kept: delete it once the data is no longer needed; a later scale-up would give it to a new ${member}, ` +
          `and a decommissioned node's data will not rejoin the ring, so clear it first`;
    rb.done(`${member} decommissioned; ${volumeNote}`);
    return {
      member,
      memberId: decision.memberId,
      issued: progress.issuedAt.length,
      replicasBefore: scaled.replicasBefore,
      replicasAfter: scaled.replicasAfter,
      claims: decision.claims,
      volume: progress.volume ?? 'kept',
      note: volumeNote,
      ...(checkpoint?.stream ? { stream: checkpoint.stream } : {}),
    };
  });
}

function failureType(e: unknown): string | undefined {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}
