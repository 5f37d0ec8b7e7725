// rotateKeys' spread: bring every node of the cluster to a keyring version by repaving it, through the groups'
// repaver lanes (the default) or by repaveNode runs of the rotation's own (`spreadBy: direct`).
import { condition, ParentClosePolicy, proxyActivities, sleep, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { API_CALL } from './activity-options.js';
import type { Runbook } from './runbook.js';
import type { ConfigActivities, KeyringLaneActivities } from '../core/activity-contracts.js';
import { formatDuration } from '../core/duration.js';
import { repaveNodeWorkflowId } from '../core/ids.js';
import { holdersBehind, type KeyPurpose } from '../core/keyring.js';
import type { RepaveNodeInput, RepaveNodeResult } from '../core/repave.js';
import type { KeyringActivities, RotateKeysProgress } from '../core/rotation.js';
import { FailureType, rootMessage } from '../core/runbook.js';

const api = proxyActivities<KeyringActivities & ConfigActivities & KeyringLaneActivities>(API_CALL);
/** How often a spread looks at the nodes again while repaves run. */
const SPREAD_RECHECK = '30s';

export interface Spread {
  rb: Runbook<RotateKeysProgress>;
  cluster: string;
  purpose: KeyPurpose;
  /** The rotation's workflow ID. */
  owner: string;
  timeoutMs: number;
  /** A node was repaved onto the new trust set. */
  repaved(node: string): void;
}

/**
 * Ask the lane of every group with a node behind `version` to repave it (its `keyring` reason, its budget, its
 * windows), and wait until no node is behind; the requirement is released at the end, also on failure or abort.
 */
export async function spreadThroughLanes(s: Spread, version: number): Promise<void> {
  const { rb, cluster, purpose } = s;
  const { progress } = rb;
  const deadline = Date.now() + s.timeoutMs;
  const requirement = { cluster, by: s.owner, purpose, version };
  const lanes: string[] = [];
  const release = async () => {
    for (const nodeGroup of lanes) await api.releaseLaneKeyring({ ...requirement, nodeGroup });
  };
  const forget = rb.onFailure(release);
  let wasBehind: string[] = [];
  for (;;) {
    rb.checkAbort();
    const holders = await api.keyringHolders({ cluster, purpose });
    const behind = holdersBehind(version, holders);
    const present = new Set(holders.map((h) => h.name));
    for (const node of wasBehind) if (!present.has(node)) s.repaved(node); // replaced by its lane
    wasBehind = behind;
    for (const h of holders) {
      if (!h.nodeGroup || !behind.includes(h.name) || lanes.includes(h.nodeGroup)) continue;
      await api.requireLaneKeyring({ ...requirement, nodeGroup: h.nodeGroup });
      lanes.push(h.nodeGroup);
      rb.note(`the repaver lane of ${h.nodeGroup} repaves its nodes not yet on keyring v${version}, within the group's budget`);
    }
    progress.nodesBehind = behind;
    progress.repaving = holders.filter((h) => h.claimedBy && behind.includes(h.name)).map((h) => h.name);
    progress.lanes = [...lanes];
    rb.details();
    if (behind.length === 0) break;
    if (Date.now() > deadline) {
      const outside = holders.filter((h) => !h.nodeGroup && behind.includes(h.name)).map((h) => h.name);
      const why = [
        ...(lanes.length ? [`the lanes of ${lanes.join(', ')} did not repave them in time (paused, held, circuit open, outside a maintenance window? see itinerant lane state)`] : []),
        ...(outside.length ? [`${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} in no node group: no lane repaves ${outside.length === 1 ? 'it' : 'them'}`] : []),
      ];
      rb.end('failed', `${behind.length} node(s) still not on keyring v${version} after ${formatDuration(s.timeoutMs)}: ${behind.slice(0, 5).join(', ')}; ${why.join('; ')}`, FailureType.TimedOut);
    }
    await sleep(SPREAD_RECHECK);
  }
  forget();
  await release();
}

/** Repave every node still behind `version` with runs of its own, a group's surge budget at a time, until none is. */
export async function spreadDirectly(s: Spread, version: number): Promise<void> {
  const { rb, cluster, purpose } = s;
  const { progress } = rb;
  const deadline = Date.now() + s.timeoutMs;
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
      rb.end('failed', `${behind.length} node(s) still not on keyring v${version} after ${formatDuration(s.timeoutMs)}: ${behind.slice(0, 5).join(', ')}`, FailureType.TimedOut);
    }
    const elsewhere = new Set<string>();
    for (const h of holders) {
      if (!behind.includes(h.name) || inFlight.has(h.name) || !h.nodeGroup) continue;
      const group = h.nodeGroup;
      if (!budgets.has(group)) budgets.set(group, Math.max(1, (await api.describeNodeGroup({ cluster, nodeGroup: group }))?.maxSurge ?? 1));
      // every repave in the group counts against its budget: ours, another rotation's, the lane's
      const busy = holders.filter((x) => x.nodeGroup === group && (inFlight.has(x.name) || x.claimedBy || elsewhere.has(x.name))).length;
      if (busy >= budgets.get(group)!) continue;
      const started = await startRepave(s, h.name, version);
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

async function startRepave(s: Spread, node: string, version: number): Promise<{ done: Promise<void> } | undefined> {
  const { rb, cluster, purpose } = s;
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
        s.repaved(node);
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
