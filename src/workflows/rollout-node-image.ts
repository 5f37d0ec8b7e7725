import { ActivityFailure, ApplicationFailure, executeChild, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { ConfigActivities, ImageRolloutActivities, NodeGroupActivities, OciActivities } from '../core/activity-contracts.js';
import type { NodeGroupConfig } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import {
  checkRolloutPlan,
  judgeHealth,
  parseRolloutNodeImageInput,
  waveNodesOf,
  type RolloutCheckInput,
  type RolloutNodeImageInput,
  type RolloutNodeImageResult,
  type RolloutProgress,
  type Wave,
} from '../core/rollout.js';
import { FailureType, rootMessage } from '../core/runbook.js';
import { SA_CLUSTER, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { API_CALL, heartbeating } from './activity-options.js';
import { invalidInput, startRunbook, type Runbook } from './runbook.js';

type Activities = ImageRolloutActivities & NodeGroupActivities & ConfigActivities & Pick<OciActivities, 'resolveImage'>;
const api = proxyActivities<Activities>(API_CALL);
const longActivities = (timeoutMs: number) => proxyActivities<Activities>(heartbeating(timeoutMs));

/**
 * Roll a node image out, wave by wave: tag it for the channel, pin it as the desired image of each wave's node
 * groups (their lanes repave the drifted nodes within their budgets), soak, judge the health gates, ask for an
 * approval where the plan says so; on a failed gate or a refused approval, pin the previous images back wave by
 * wave in reverse and untag the image. Ends promoted (the result), rolled back or aborted (failures).
 * One per channel: ID rollout-node-image.<cluster>.<channel>.
 */
export async function rolloutNodeImage(input: RolloutNodeImageInput): Promise<RolloutNodeImageResult> {
  const parsed = parseRolloutNodeImageInput(input);
  if (!parsed.ok) throw invalidInput('rolloutNodeImage', parsed.message);
  const req = parsed.value;
  const { cluster, channel, imageId } = req;
  const rollout = workflowInfo().workflowId;
  const groupNames = [...new Set(req.waves.flatMap((w) => w.groups))];
  const groupsByName = new Map<string, NodeGroupConfig>();
  /** Each group's desired image before the rollout: what a rollback restores. */
  const previousOf = new Map<string, string>();

  const rb: Runbook<RolloutProgress> = startRunbook<RolloutProgress>({
    progress: { runbook: 'rolloutNodeImage', cluster, target: channel, channel, imageId, phase: 'validating', wave: 0, waves: req.waves.length, touched: [] },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: 'rolloutNodeImage' },
      { key: SA_TARGET, value: channel },
    ],
    details: (p) => `**${p.phase}** — roll out ${imageId} to channel ${channel} (${cluster}): wave ${p.wave + 1} of ${p.waves}${p.outcome ? `, ${p.outcome}` : ''}`,
    refusing: `roll out ${imageId} to channel ${channel}`,
    aftermath: (): string => {
      const pinned: string[] = rb.progress.outcome === 'rolled-back' ? [] : [...new Set(rb.progress.touched.map((t) => t.group))];
      return pinned.length ? `node group(s) ${pinned.join(', ')} keep ${imageId} as their desired image; roll them back with another rollout of their previous image` : '';
    },
    logFields: { cluster, channel, imageId },
  });
  const { progress } = rb;

  return rb.run(async () => {
    // Preflight: the plan against the fleet configuration, and the image itself.
    for (const name of groupNames) {
      const g = await api.describeNodeGroup({ cluster, nodeGroup: name });
      if (g) groupsByName.set(name, g);
    }
    const problem = checkRolloutPlan(req, groupsByName);
    if (problem) return rb.refuse(problem);
    const { compartmentId } = await api.describeClusterCompartment({ cluster });
    const image = await api.resolveImage({ cluster, compartmentId, image: { id: imageId } });
    const onChannel = await api.resolveImage({ cluster, compartmentId, image: { channel } }).catch(() => undefined);
    for (const name of groupNames) {
      const desired = (await api.laneDesiredImage({ cluster, nodeGroup: name })).imageId;
      previousOf.set(name, desired ?? (await api.resolveImage({ cluster, compartmentId, image: groups(name).image })).imageId);
    }
    rb.note(`rolling ${image.displayName} out to channel ${channel} (now ${onChannel?.displayName ?? 'empty'}) in ${req.waves.length} wave(s)`);

    // Every group keeps its image until its wave (a lane that resolved the channel after the tag would boot
    // replacements from the new image); held, not pinned: no node moves for it.
    await rb.gate('tagging');
    for (const name of groupNames) await api.pinLaneImage({ cluster, nodeGroup: name, by: rollout, imageId: previousOf.get(name)!, drift: 'none' });
    rb.onFailure(async () => {
      if (rb.abortReason !== undefined) progress.outcome ??= 'aborted';
      progress.summary = await summary();
      const { changed } = await api.tagImageChannel({ cluster, imageId, channel, rollout, on: false });
      if (changed) rb.note(`untagged ${image.displayName} from channel ${channel}: it resolves to ${onChannel?.displayName ?? 'no image'} again`);
    });
    await api.tagImageChannel({ cluster, imageId, channel, rollout, on: true });

    for (const [i, wave] of req.waves.entries()) {
      progress.wave = i;
      await rb.gate('repaving');
      await pinWave(wave, i);
      const failed = await onImage(wave, i);
      if (failed) return rollBack(failed);
      await rb.gate('soaking');
      await rb.interruptible(() => sleep(wave.soak));
      await rb.gate('checking-health');
      const unhealthy = await checkGates(wave, i);
      if (unhealthy) return rollBack(`wave ${i + 1} failed its health gates: ${unhealthy}`);
      rb.note(`wave ${i + 1} (${wave.groups.join(', ')}) is healthy on ${image.displayName} after a soak of ${formatDuration(wave.soak)}`);
      if (wave.approval) {
        await rb.gate('awaiting-approval');
        const last = i + 1 === req.waves.length;
        const decided = await rb.awaitOperator<'continue' | 'rollback'>({
          id: `approve-wave-${i + 1}`,
          text: `wave ${i + 1} (${wave.groups.join(', ')}) runs ${image.displayName} and is healthy: ${last ? 'promote it' : `go on to wave ${i + 2}`}?`,
          options: { continue: last ? 'promote' : `go on to wave ${i + 2} (${req.waves[i + 1]!.groups.join(', ')})`, rollback: 'roll back every group moved so far' },
          deadline: Date.now() + req.approvalTimeout,
          onDeadline: req.onApprovalTimeout,
        });
        if (decided.option === 'rollback') {
          return rollBack(`wave ${i + 1} was not approved (${decided.by === 'deadline' ? 'nobody answered in time' : `${decided.answer?.by ?? 'an operator'}: ${decided.answer?.note ?? 'rollback'}`})`);
        }
      }
    }

    progress.outcome = 'promoted';
    progress.summary = await summary();
    rb.done(`promoted ${image.displayName} to channel ${channel}: ${groupNames.join(', ')} run it`);
    return { outcome: 'promoted', imageId, channel, summary: progress.summary };
  });

  /** Pin the image on each group of the wave, remembering the image it had (what a rollback restores). */
  async function pinWave(wave: Wave, i: number) {
    for (const name of wave.groups) {
      const g = groups(name);
      const previous = previousOf.get(name)!;
      if (previous !== imageId) progress.touched.push({ group: name, previousImageId: previous, wave: i });
      const nodes = waveNodesOf(wave, g);
      await api.pinLaneImage({ cluster, nodeGroup: name, by: rollout, imageId, ...(nodes < g.size ? { nodes } : {}) });
      rb.note(`wave ${i + 1}: ${name} pinned to ${imageId} (${nodes} of ${g.size} node(s); was ${previous})`);
    }
  }

  /** Wait until the lanes have moved the wave's nodes; why not, when they did not in time. */
  async function onImage(wave: Wave, i: number): Promise<string | undefined> {
    const deadline = Date.now() + req.waveTimeout;
    for (const name of wave.groups) {
      const failed = await waitForGroup(name, imageId, waveNodesOf(wave, groups(name)), deadline);
      if (failed) return `wave ${i + 1} did not complete: ${failed}`;
    }
    return undefined;
  }

  async function waitForGroup(nodeGroup: string, image: string, nodes: number | 'all', deadline: number, leaving?: string): Promise<string | undefined> {
    try {
      await rb.interruptible(() =>
        longActivities(req.waveTimeout).waitForGroupOnImage({ cluster, nodeGroup, imageId: image, nodes, deadline, ...(leaving ? { leaving } : {}) }),
      );
      return undefined;
    } catch (e) {
      if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === 'WaveTimedOut') return rootMessage(e);
      throw e;
    }
  }

  /** The health gates over the nodes of the wave's groups that run the image. */
  async function checkGates(wave: Wave, i: number): Promise<string | undefined> {
    const nodes: string[] = [];
    for (const name of wave.groups) {
      const obs = await api.listNodeGroupNodes({ cluster, nodeGroup: name });
      nodes.push(...obs.nodes.filter((n) => n.imageId === imageId).map((n) => n.name));
    }
    if (nodes.length === 0) return `no node of ${wave.groups.join(', ')} runs ${imageId}`;
    const facts = await api.inspectNodeHealth({ cluster, nodes });
    const problems = judgeHealth(facts, req.gates, Date.now());
    const check = req.gates.check;
    if (problems.length === 0 && check) {
      const args: RolloutCheckInput = { cluster, channel, imageId, wave: i + 1, groups: wave.groups, nodes };
      try {
        await rb.interruptible(() =>
          executeChild(check.workflowType, { taskQueue: check.taskQueue, workflowId: `${rollout}.check-wave-${i + 1}`, args: [args], workflowExecutionTimeout: check.timeout }),
        );
        rb.note(`wave ${i + 1}: check ${check.workflowType} passed`);
      } catch (e) {
        rb.checkAbort();
        problems.push(`check ${check.workflowType} did not pass: ${rootMessage(e)}`);
      }
    }
    return problems.length ? problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : '') : undefined;
  }

  /** Pin the previous images back, wave by wave in reverse, wait until the lanes have repaved back, and end rolled back. */
  async function rollBack(why: string): Promise<never> {
    rb.note(`rolling back: ${why}`);
    rb.enter('rolling-back');
    const back = new Set<string>();
    for (let w = progress.wave; w >= 0; w--) {
      // A group in several waves (a canary, then the rest) goes back once, at the last wave that moved it.
      const touched = progress.touched.filter((t) => t.wave === w && !back.has(t.group));
      for (const t of touched) back.add(t.group);
      // Only the nodes on the image taken back move: the group is left as it was before the rollout.
      for (const t of touched) await api.pinLaneImage({ cluster, nodeGroup: t.group, by: rollout, imageId: t.previousImageId, drift: { from: imageId } });
      const deadline = Date.now() + req.waveTimeout;
      for (const t of touched) {
        const failed = await waitForGroup(t.group, t.previousImageId, 'all', deadline, imageId);
        if (failed) rb.end('failed', `rollback of wave ${w + 1} did not complete: ${failed} (rolling back because ${why})`, FailureType.Failed);
        rb.note(`wave ${w + 1}: ${t.group} is back on ${t.previousImageId}`);
      }
    }
    progress.outcome = 'rolled-back';
    return rb.end('failed', `rolled back: ${why}`, FailureType.RolledBack);
  }

  /** Node → image, per group of the plan. */
  async function summary(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const name of groupNames) {
      const obs = await api.listNodeGroupNodes({ cluster, nodeGroup: name });
      out[name] = Object.fromEntries(obs.nodes.map((n) => [n.name, n.imageId ?? 'unknown']));
    }
    return out;
  }

  function groups(name: string): NodeGroupConfig {
    return groupsByName.get(name)!;
  }
}
