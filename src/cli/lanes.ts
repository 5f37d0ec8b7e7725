// Continuous repaving from the CLI: apply the Schedules of a fleet file, and look at or steer a node
// group's repaver lane (the same signals and update the Web UI offers).
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { repaverLaneWorkflowId } from '../core/ids.js';
import {
  LANE_QUERY_STATE,
  LANE_SIGNAL_SWEEP_NOW,
  LANE_SIGNAL_RESET_BREAKER,
  LANE_UPDATE_SET_PACE,
  type LaneState,
  type Pace,
  type PacePatch,
} from '../core/lane/index.js';
import { formatDuration } from '../core/duration.js';
import { RUNBOOK_SIGNAL_PAUSE, RUNBOOK_SIGNAL_RESUME } from '../core/runbook.js';
import { applyKeyringSchedules } from '../client/keyring-schedules.js';
import { applySchedules, reportUnhealthyNode, signalRepaverLane } from '../client/schedules.js';
import { CliError, EXIT } from './errors.js';
import { loadConfig } from './fleet.js';
import { failureChain, formatTable } from './progress.js';
import { connect, isNotFound, type Target } from './temporal.js';

export const LANE_ACTIONS = {
  pause: RUNBOOK_SIGNAL_PAUSE,
  resume: RUNBOOK_SIGNAL_RESUME,
  'sweep-now': LANE_SIGNAL_SWEEP_NOW,
  'reset-breaker': LANE_SIGNAL_RESET_BREAKER,
} as const;
export type LaneAction = keyof typeof LANE_ACTIONS;

export async function schedulesApplyCommand(target: Target, opts: { config: string }): Promise<number> {
  const fleet = loadConfig(opts.config);
  const client = await connect(target);
  const applied = await applySchedules(client, fleet);
  const keyrings = await applyKeyringSchedules(client, fleet);
  console.log(
    formatTable(
      ['schedule', 'cluster', 'group', 'every', 'action'],
      [...applied.map((a) => [a.scheduleId, a.cluster, a.group, a.interval, a.action]), ...keyrings.map((a) => [a.scheduleId, a.cluster, '(key rotation)', a.interval, a.action])],
    ),
  );
  return EXIT.ok;
}

export async function laneStateCommand(target: Target, cluster: string, group: string, opts: { json?: boolean }): Promise<number> {
  const client = await connect(target);
  const id = repaverLaneWorkflowId(cluster, group);
  try {
    const state = await client.workflow.getHandle(id).query<LaneState>(LANE_QUERY_STATE);
    console.log(opts.json ? JSON.stringify(state, null, 2) : describeLane(state));
    return EXIT.ok;
  } catch (e) {
    if (isNotFound(e)) throw new CliError(`no repaver lane ${id}: apply the schedules (itinerant schedules apply) or signal it`, EXIT.failed);
    throw e;
  }
}

export function describeLane(s: LaneState): string {
  const pace = (p: Pace) =>
    `concurrency ${p.concurrency}, pause between nodes ${formatDuration(p.pauseBetweenNodes)}${p.maxAge !== undefined ? `, max age ${formatDuration(p.maxAge)}` : ''}`;
  const lines = [
    `lane ${s.cluster}/${s.group}: ${s.phase}${s.paused ? ' (paused)' : ''}`,
    `  pace      ${pace(s.pace)}`,
    `  breaker   ${s.breaker.open ? `OPEN: ${s.breaker.reason ?? ''}` : 'closed'}`,
    `  in flight ${s.inFlight.map((f) => f.node).join(', ') || '-'}`,
    `  queue     ${s.queue.map((q) => `${q.node} (${q.kind}${q.retire ? ', retire' : ''})`).join(', ') || '-'}`,
  ];
  if (s.desiredImage) {
    const d = s.desiredImage;
    const on = Object.values(s.images ?? {}).filter((i) => i === d.imageId).length;
    lines.push(`  image     ${d.displayName ?? d.imageId} (${d.source === 'pinned' ? `pinned by ${d.by}${d.nodes !== undefined ? `, ${d.nodes} node(s)` : ''}` : 'from the channel'}): ${on} of ${Object.keys(s.images ?? {}).length} node(s) run it`);
  }
  for (const [purpose, r] of Object.entries(s.keyrings ?? {})) lines.push(`  keyring   ${purpose} v${r.version} or later, required by ${r.by}`);
  if (s.window) lines.push(`  window    ${s.window.open ? `open until ${s.window.closesAt}` : `closed: aged, drifted and keyring-behind nodes wait; the next opens at ${s.window.opensAt ?? '(none within 8 days)'}`}`);
  if (s.aboveSize) lines.push(`  size      ${s.aboveSize.note}`);
  for (const k of s.skipped) lines.push(`  skipped   ${k.node}: ${k.why}`);
  if (s.lastSweep) lines.push(`  sweep     ${s.lastSweep.at}: ${s.lastSweep.nodes} nodes, ${s.lastSweep.aged} aged, ${s.lastSweep.unhealthy} unhealthy${s.lastSweep.drifted !== undefined ? `, ${s.lastSweep.drifted} drifted` : ''}${s.lastSweep.keyring ? `, ${s.lastSweep.keyring} behind a keyring` : ''}`);
  for (const h of s.history.slice(-10)) lines.push(`  ${JSON.stringify(h)}`);
  return lines.join('\n');
}

export async function laneSignalCommand(target: Target, cluster: string, group: string, action: LaneAction): Promise<number> {
  const client = await connect(target);
  const { workflowId } = await signalRepaverLane(client, { cluster, group, signal: LANE_ACTIONS[action] as never });
  console.log(`sent ${LANE_ACTIONS[action]} to ${workflowId}`);
  return EXIT.ok;
}

export async function setPaceCommand(target: Target, cluster: string, group: string, patch: PacePatch): Promise<number> {
  if (Object.keys(patch).length === 0) throw new CliError('set-pace needs at least one of --concurrency, --pause-between, --max-age', EXIT.usage);
  const client = await connect(target);
  try {
    const pace = await client.workflow.getHandle(repaverLaneWorkflowId(cluster, group)).executeUpdate<Pace, [PacePatch]>(LANE_UPDATE_SET_PACE, { args: [patch] });
    console.log(`pace of ${cluster}/${group}: ${JSON.stringify(pace)}`);
    return EXIT.ok;
  } catch (e) {
    // The lane's validator refused it: the input was wrong, not the lane.
    if (e instanceof WorkflowUpdateFailedError) throw new CliError(failureChain(e).join(': '), EXIT.usage);
    throw e;
  }
}

export async function reportUnhealthyCommand(target: Target, a: { cluster: string; group: string; node: string; reason: string }): Promise<number> {
  const client = await connect(target);
  const { workflowId } = await reportUnhealthyNode(client, a);
  console.log(`reported ${a.node} unhealthy to ${workflowId}`);
  return EXIT.ok;
}
