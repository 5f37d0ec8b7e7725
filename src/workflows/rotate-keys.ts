import { condition, ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { API_CALL, heartbeating } from './activity-options.js';
import { invalidInput, startRunbook, type Runbook } from './runbook.js';
import type { ConfigActivities } from '../core/activity-contracts.js';
import { formatDuration } from '../core/duration.js';
import { repaveNodeWorkflowId } from '../core/ids.js';
import { holdersBehind, resumePhase, trustProblem, trustSet, type Keyring } from '../core/keyring.js';
import type { RepaveNodeInput, RepaveNodeResult } from '../core/repave.js';
import {
  newKeyId,
  parseRotateKeysInput,
  type KeyringActivities,
  type RotateKeysInput,
  type RotateKeysPhase,
  type RotateKeysProgress,
  type RotateKeysResult,
} from '../core/rotation.js';
import { FailureType, rootMessage } from '../core/runbook.js';
import { SA_CLUSTER, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';

const api = proxyActivities<KeyringActivities & ConfigActivities>(API_CALL);
/** How often a spread looks at the nodes again while repaves run elsewhere. */
const SPREAD_RECHECK = '30s';

/**
 * Rotate one keyring of a cluster (client CA, service-account signing key or secret-encryption key):
 * introduce a new key, have the control plane trust it, repave every node onto the new trust set, promote
 * it to signer, (re-encrypt every Secret under it,) and withdraw the key promoted out last time.
 */
export async function rotateKeys(input: RotateKeysInput): Promise<RotateKeysResult> {
  const parsed = parseRotateKeysInput(input);
  if (!parsed.ok) throw invalidInput('rotateKeys', parsed.message);
  const req = parsed.value;
  const { cluster, purpose } = req;
  const { workflowId: owner, runId, startTime } = workflowInfo();
  const ref = { cluster, purpose, owner };
  const result: RotateKeysResult = { keyring: undefined as unknown as Keyring, withdrawn: [], nodesRepaved: [] };

  const rb: Runbook<RotateKeysProgress> = startRunbook<RotateKeysProgress>({
    progress: { runbook: 'rotateKeys', cluster, target: purpose, purpose, phase: 'validating' },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: 'rotateKeys' },
      { key: SA_TARGET, value: purpose },
    ],
    details: (p) => {
      const ring = p.keyring ? ` — keyring v${p.keyring.version}: trusts ${trustSet(p.keyring).join(', ')}; ${p.keyring.active.keyId} signs` : '';
      const nodes = p.nodesBehind?.length ? `\n\n${p.nodesBehind.length} node(s) not yet on the new trust set${p.repaving?.length ? `, repaving ${p.repaving.join(', ')}` : ''}` : '';
      return `**${p.phase}** — rotate the ${purpose} keys of ${cluster}${ring}${nodes}${p.question ? `\n\nwaiting for an operator: ${p.question.text}` : ''}`;
    },
    refusing: `rotate the ${purpose} keys of ${cluster}`,
    aftermath: (): string => (rb.progress.keyring ? `the keyring stays at v${rb.progress.keyring.version} (a consistent trust set); a new rotateKeys run resumes from there` : ''),
    logFields: { cluster, purpose },
    logLimit: 100,
    controls: { pause: true, abort: true },
  });
  const { progress } = rb;

  const keyringIs = (ring: Keyring) => {
    progress.keyring = ring;
    result.keyring = ring;
    rb.details();
  };

  let holds = 0;
  /** Between phases: with holdBetweenPhases, an operator says go on (or abort); otherwise the gate's pause/abort only. */
  async function phase(next: RotateKeysPhase, done: string) {
    if (req.holdBetweenPhases) {
      const id = `hold-${++holds}`;
      const decided = await rb.awaitOperator<'continue' | 'abort'>({
        id,
        text: `${done}. Next: ${next}`,
        options: { continue: `go on to ${next}`, abort: 'stop here: the keyring stays as it is, a consistent trust set' },
        deadline: Date.now() + req.approvalTimeout,
        onDeadline: 'abort',
      });
      if (decided.option === 'abort') rb.abort(decided.by === 'deadline' ? `nobody answered ${id} within ${formatDuration(req.approvalTimeout)}` : (decided.answer?.note ?? `${decided.answer?.by ?? 'an operator'} answered abort`));
    }
    await rb.gate(next);
  }

  async function controlPlaneRuns(ring: Keyring) {
    const { members } = await rb.interruptible(() =>
      proxyActivities<KeyringActivities>(heartbeating(req.controlPlaneTimeout, '30s')).waitForControlPlane({ cluster, purpose, version: ring.version, timeoutMs: req.controlPlaneTimeout }),
    );
    rb.note(`control plane (${members.join(', ')}) runs keyring v${ring.version}: trusts ${trustSet(ring).join(', ')}, ${ring.active.keyId} signs`);
  }

  /** Repave every node still behind `version`, a group's surge budget at a time, until none is. */
  async function spread(version: number) {
    const deadline = Date.now() + req.spreadTimeout;
    const inFlight = new Set<string>();
    let finished = 0;
    const budgets = new Map<string, number>();
    for (;;) {
      rb.checkAbort();
      const holders = await api.keyringHolders({ cluster, purpose });
      const behind = holdersBehind(version, holders);
      progress.nodesBehind = behind;
      progress.repaving = [...inFlight.keys()];
      rb.details();
      if (behind.length === 0 && inFlight.size === 0) return;
      if (Date.now() > deadline) {
        rb.end('failed', `${behind.length} node(s) still not on keyring v${version} after ${formatDuration(req.spreadTimeout)}: ${behind.slice(0, 5).join(', ')}`, FailureType.TimedOut);
      }
      const elsewhere = new Set<string>();
      for (const h of holders) {
        if (!behind.includes(h.name) || inFlight.has(h.name) || !h.nodeGroup) continue;
        const group = h.nodeGroup;
        if (!budgets.has(group)) budgets.set(group, Math.max(1, (await api.describeNodeGroup({ cluster, nodeGroup: group }))?.maxSurge ?? 1));
        // every repave in the group counts against its budget: ours, another rotation's, the lane's
        const busy = holders.filter((x) => x.nodeGroup === group && (inFlight.has(x.name) || x.claimedBy || elsewhere.has(x.name))).length;
        if (busy >= budgets.get(group)!) continue;
        const started = await startRepave(h.name, version);
        if (!started) {
          // being repaved by another run that has not claimed it yet: it counts against the budget too
          elsewhere.add(h.name);
          continue;
        }
        inFlight.add(h.name);
        void started.done.finally(() => {
          inFlight.delete(h.name);
          finished++;
        });
      }
      const seen = finished;
      await condition(() => finished !== seen, SPREAD_RECHECK);
    }
  }

  async function startRepave(node: string, version: number): Promise<{ done: Promise<void> } | undefined> {
    const args: RepaveNodeInput = { cluster, node, reason: `rotate the ${purpose} keys: onto keyring v${version}` };
    try {
      const child = await startChild<(i: RepaveNodeInput) => Promise<RepaveNodeResult>>('repaveNode', {
        workflowId: repaveNodeWorkflowId(cluster, node),
        args: [args],
        // A repave finishes on its own terms (it compensates itself) even if the rotation stops.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      rb.note(`repaving ${node} onto keyring v${version}`);
      // Wrapped: awaiting startRepave must not wait for the repave itself.
      const done = child.result().then(
        (r) => {
          result.nodesRepaved.push(node);
          rb.note(`${node} repaved${r.replacement ? `: ${r.replacement.nodeName} replaces it` : ''}`);
        },
        (e: unknown) => rb.note(`repave of ${node} did not finish: ${rootMessage(e)} (tried again on the next look)`),
      );
      return { done };
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      rb.note(`${node} is being repaved by another run; looking again in ${SPREAD_RECHECK}`);
      return undefined;
    }
  }

  async function withdrawStep(keyId: string) {
    const ring = await api.withdrawKey({ ...ref, keyId });
    keyringIs(ring);
    result.withdrawn.push(keyId);
    await controlPlaneRuns(ring);
    rb.note(`withdrew ${keyId}: it is trusted nowhere now`);
  }

  return rb.run(async () => {
    // Preflight: read and claim the ring; nothing changes until the claim is ours.
    let ring = await api.claimKeyring(ref);
    rb.onFailure(() => api.releaseKeyring(ref));
    keyringIs(ring);
    rb.note(`keyring v${ring.version}: ${ring.active.keyId} signs, trusted ${trustSet(ring).join(', ')}`);

    if (resumePhase(ring) === 'withdraw') {
      await phase('withdrawing-previous', `a previous rotation promoted ${ring.active.keyId} and has ${ring.withdrawing!.keyId} still to withdraw`);
      await withdrawStep(ring.withdrawing!.keyId);
      ring = progress.keyring!;
    }
    if (resumePhase(ring) === 'introduce') {
      await rb.gate('introducing');
      ring = await api.introduceKey({ ...ref, keyId: newKeyId(startTime, runId), validityMs: req.keyValidity });
      keyringIs(ring);
      rb.note(`introduced ${ring.introducing!.keyId} (${ring.introducing!.fingerprint}, valid until ${ring.introducing!.notAfter})`);
    }
    const introduced = ring.introducing!;
    result.introduced = introduced;

    await phase('publishing', `${introduced.keyId} is in the introducing slot`);
    await controlPlaneRuns(ring);

    await phase('spreading', `the control plane trusts ${introduced.keyId}`);
    await rb.interruptible(() => spread(ring.version));
    rb.note(`every node is on keyring v${ring.version}`);

    await phase('promoting', `every node trusts ${introduced.keyId}`);
    ring = await api.promoteKey({ ...ref, keyId: introduced.keyId });
    keyringIs(ring);
    await controlPlaneRuns(ring);
    rb.note(`${introduced.keyId} signs now; ${ring.retiring?.keyId ?? 'nothing'} retires`);

    if (purpose === 'secret-encryption') {
      await phase('reencrypting', `${introduced.keyId} encrypts new writes`);
      const { rewritten } = await rb.interruptible(() =>
        proxyActivities<KeyringActivities>(heartbeating(req.reencryptTimeout, '30s')).reencryptSecrets({ cluster, timeoutMs: req.reencryptTimeout }),
      );
      result.secretsRewritten = rewritten;
      progress.secrets = { rewritten };
      const check = await api.secretsNotUnderKey({ cluster, keyId: introduced.keyId });
      if (check.notUnder > 0) {
        rb.end('failed', `${check.notUnder} of ${check.total} Secrets are still not stored under ${introduced.keyId} after rewriting ${rewritten}: ${check.examples.join(', ')}`, FailureType.Failed);
      }
      rb.note(`rewrote ${rewritten} Secrets; etcd holds all ${check.total} under ${introduced.keyId}`);
    }

    if (ring.withdrawing) {
      await phase('withdrawing', `${introduced.keyId} signs; ${ring.withdrawing.keyId} is promoted out`);
      await withdrawStep(ring.withdrawing.keyId);
      ring = progress.keyring!;
    }

    await rb.gate('verifying');
    const problem = trustProblem(ring, await api.keyringHolders({ cluster, purpose }));
    if (problem) rb.end('failed', `after the rotation: ${problem}`, FailureType.Failed);
    await api.releaseKeyring(ref);
    rb.done(`rotated: ${ring.active.keyId} signs, keyring v${ring.version} trusts ${trustSet(ring).join(', ')}`);
    return result;
  });
}
