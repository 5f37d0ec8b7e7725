import { patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { DeploymentActivities } from '../core/activity-contracts.js';
import {
  canaryReplicasOf,
  checkDeploymentTarget,
  parseRolloutDeploymentInput,
  type DeploymentRolloutProgress,
  type RolloutDeploymentInput,
  type RolloutDeploymentResult,
} from '../core/deployment-rollout.js';
import { formatDuration } from '../core/duration.js';
import { FailureType } from '../core/runbook.js';
import { SA_CLUSTER, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { API_CALL, heartbeating } from './activity-options.js';
import { invalidInput, startRunbook, type Runbook } from './runbook.js';

const api = proxyActivities<DeploymentActivities>(API_CALL);
const following = (timeoutMs: number) => proxyActivities<DeploymentActivities>(heartbeating(timeoutMs));

/**
 * Set a Deployment's container images and follow its rollout (observedGeneration, updated, ready and available
 * replicas, new pods crash-looping or restarting); optionally pause after a canary fraction for a soak, the
 * gates and an approval. On a failed gate, a rollout past its deadline or a refused approval, undo to the
 * previous revision's template and follow that back. One per Deployment: ID rollout-deployment.<cluster>.<ns>.<name>.
 */
export async function rolloutDeployment(input: RolloutDeploymentInput): Promise<RolloutDeploymentResult> {
  const parsed = parseRolloutDeploymentInput(input);
  if (!parsed.ok) throw invalidInput('rolloutDeployment', parsed.message);
  const req = parsed.value;
  const { cluster, namespace, deployment, images } = req;
  const ref = { cluster, namespace, deployment };
  const name = `${namespace}/${deployment}`;

  const rb: Runbook<DeploymentRolloutProgress> = startRunbook<DeploymentRolloutProgress>({
    progress: { runbook: 'rolloutDeployment', cluster, target: name, namespace, deployment, images, phase: 'validating' },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: 'rolloutDeployment' },
      { key: SA_TARGET, value: name },
    ],
    details: (p) => `**${p.phase}** — roll out ${Object.values(images).join(', ')} to Deployment ${name} (${cluster})${p.outcome ? `: ${p.outcome}` : ''}`,
    refusing: `roll out Deployment ${name}`,
    logFields: { cluster, namespace, deployment },
  });
  const { progress } = rb;

  return rb.run(async () => {
    const facts = await api.inspectDeployment(ref);
    const problem = checkDeploymentTarget(facts, req);
    if (problem) return rb.refuse(problem);
    if (!facts.templateHash) return rb.refuse(`Deployment ${name} has no ReplicaSet yet to roll back to`);
    const previous = facts.templateHash;
    progress.previousRevision = facts.revision;
    progress.previousTemplate = previous;

    await rb.gate('rolling-out');
    // An abort (or a failure of our own) from here on puts the previous template back.
    rb.onFailure(async () => {
      const { changed } = await api.undoDeploymentRollout({ ...ref, toTemplate: previous });
      if (changed) rb.note(`undid the rollout: ${name} is back on revision ${facts.revision}'s template`);
      progress.outcome ??= 'aborted';
    });
    const canary = req.canary ? canaryReplicasOf(req.canary, facts.replicas) : undefined;
    // Held at the canary by the Deployment's own strategy (runs before this stopped it by pausing in time, or not).
    const hold = canary !== undefined && patched('deployment-canary-held-by-strategy') ? { canary } : {};
    await api.setDeploymentImages({ ...ref, images, ...hold });
    rb.note(`set ${Object.entries(images).map(([c, i]) => `${c}=${i}`).join(', ')} on ${name} (was revision ${facts.revision})${hold.canary ? `, held at ${canary} surge replica(s)` : ''}`);
    const deadline = Date.now() + req.progressDeadline;

    if (req.canary && canary !== undefined) {
      const reached = await follow(deadline, canary);
      if (reached.outcome !== 'canary' && reached.outcome !== 'complete') return rollBack(reached.why);
      if (reached.outcome === 'canary') {
        await api.pauseDeployment({ ...ref, paused: true });
        rb.note(`canary: ${canary} of ${facts.replicas} replica(s) run the new template; paused for a soak of ${formatDuration(req.canary.soak)}`);
        await rb.gate('canary-soak');
        await rb.interruptible(() => sleep(req.canary!.soak));
        const soaked = await follow(Date.now() + 60_000, canary);
        if (soaked.outcome !== 'canary' && soaked.outcome !== 'complete') return rollBack(`canary: ${soaked.why}`);
        if (req.canary.approval) {
          await rb.gate('awaiting-approval');
          const decided = await rb.awaitOperator<'continue' | 'rollback'>({
            id: 'approve-canary',
            text: `${canary} replica(s) of ${name} run ${Object.values(images).join(', ')} and are healthy: roll out the rest?`,
            options: { continue: 'roll out every replica', rollback: 'undo to the previous revision' },
            deadline: Date.now() + req.approvalTimeout,
            onDeadline: req.onApprovalTimeout,
          });
          if (decided.option === 'rollback') return rollBack(`the canary was not approved (${decided.by === 'deadline' ? 'nobody answered in time' : (decided.answer?.by ?? 'an operator')})`);
        }
        await rb.gate('rolling-out');
        await api.pauseDeployment({ ...ref, paused: false });
      }
    }

    const done = await follow(deadline);
    if (done.outcome !== 'complete') return rollBack(done.why);
    progress.outcome = 'rolled-out';
    rb.done(`${name} rolled out: revision ${done.revision} runs ${Object.values(images).join(', ')}`);
    return { outcome: 'rolled-out', revision: done.revision, images };
  });

  async function follow(deadline: number, canary?: number) {
    const left = Math.max(1000, deadline - Date.now());
    return rb.interruptible(() => following(left).followDeploymentRollout({ ...ref, deadline, gates: req.gates, ...(canary !== undefined ? { canary } : {}) }));
  }

  /** Undo to the previous template, follow it back, and end rolled back. */
  async function rollBack(why: string): Promise<never> {
    rb.note(`rolling back: ${why}`);
    rb.enter('rolling-back');
    await api.undoDeploymentRollout({ ...ref, toTemplate: progress.previousTemplate! });
    const back = await follow(Date.now() + req.progressDeadline);
    if (back.outcome !== 'complete') return rb.end('failed', `the rollback did not complete either: ${back.why} (rolling back because ${why})`, FailureType.Failed);
    progress.outcome = 'rolled-back';
    return rb.end('failed', `rolled back to revision ${progress.previousRevision}'s template (now revision ${back.revision}): ${why}`, FailureType.RolledBack);
  }
}
