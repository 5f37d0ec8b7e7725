import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { API_CALL, heartbeating } from './activity-options.js';
import { spreadDirectly, spreadThroughLanes, type Spread } from './rotate-keys-spread.js';
import { invalidInput, startRunbook, type Runbook } from './runbook.js';
import type { ConfigActivities } from '../core/activity-contracts.js';
import { formatDuration } from '../core/duration.js';
import { resumePhase, trustProblem, trustSet, type Keyring } from '../core/keyring.js';
import {
  newKeyId,
  parseRotateKeysInput,
  type KeyringActivities,
  type RotateKeysInput,
  type RotateKeysPhase,
  type RotateKeysProgress,
  type RotateKeysResult,
} from '../core/rotation.js';
import { FailureType } from '../core/runbook.js';
import { SA_CLUSTER, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';

const api = proxyActivities<KeyringActivities & ConfigActivities>(API_CALL);

/** The spread goes through the groups' repaver lanes unless the input says `spreadBy: direct`; runs from before repave directly. */
export const PATCH_SPREAD_BY_LANE = 'rotate-keys-spread-by-lane';

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
    const spread: Spread = { rb, cluster, purpose, owner, timeoutMs: req.spreadTimeout, repaved: (node) => result.nodesRepaved.push(node) };
    const byLane = req.spreadBy === 'lane' && patched(PATCH_SPREAD_BY_LANE);
    await rb.interruptible(() => (byLane ? spreadThroughLanes(spread, ring.version) : spreadDirectly(spread, ring.version)));
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
