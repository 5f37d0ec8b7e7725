import {
  allHandlersFinished,
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ConfigActivities, LaneSweepActivities, NodeGroupActivities, OciActivities } from '../core/activity-contracts.js';
import type { NodeGroupConfig } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import { repaveNodeWorkflowId } from '../core/ids.js';
import type { RepaveNodeInput, RepaveNodeResult } from '../core/repave.js';
import {
  applyKeyringRequest,
  applyPacePatch,
  backoffAfter,
  carriedBackoffs,
  closedBreaker,
  forgetReplaced,
  machineOf,
  defaultPace,
  describePace,
  evaluateBreaker,
  HISTORY_CARRIED,
  lanePhase,
  LANE_QUERY_STATE,
  LANE_SIGNAL_SWEEP_NOW,
  LEGACY_LANE_SIGNAL_SWEEP_NOW,
  LANE_SIGNAL_HOLD,
  LANE_SIGNAL_RELEASE,
  LANE_SIGNAL_REPORT_UNHEALTHY,
  LANE_SIGNAL_RESET_BREAKER,
  LANE_SIGNAL_SET_DESIRED_IMAGE,
  LANE_SIGNAL_REQUIRE_KEYRING,
  LANE_UPDATE_SET_PACE,
  parseKeyringRequest,
  parseRepaverLaneInput,
  planRepaves,
  pushHistory,
  receiveReport,
  reconcileMachineState,
  recordFailure,
  resetBreaker,
  sweepIntervalOf,
  type DesiredImage,
  type DesiredImageRequest,
  type HistoryEntry,
  type InFlightRepave,
  type KeyringRequest,
  type KeyringRequirements,
  type LaneCarry,
  type LaneHold,
  type LanePhase,
  type LaneProgress,
  type LaneState,
  type Pace,
  type PacePatch,
  type RepavePlan,
  type RepaverLaneInput,
  waitingForWindow,
} from '../core/lane/index.js';
import { windowState, type WindowState } from '../core/windows.js';
import { LEGACY_REFUSED, FailureType, rootMessage } from '../core/runbook.js';
import { SA_CLUSTER, SA_NODE_GROUP, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { invalidInput, startRunbook } from './runbook.js';
import { metrics } from './sinks.js';

/** Sweep now (the Schedule sends this every sweepInterval). */
export const sweepNowSignal = defineSignal(LANE_SIGNAL_SWEEP_NOW);
/** The name sweepNow had before; lanes still answer it for senders not yet upgraded. */
const legacySweepNowSignal = defineSignal(LEGACY_LANE_SIGNAL_SWEEP_NOW);
export const reportUnhealthySignal = defineSignal<[report: { node: string; reason?: string }]>(LANE_SIGNAL_REPORT_UNHEALTHY);
export const resetCircuitBreakerSignal = defineSignal<[note?: string]>(LANE_SIGNAL_RESET_BREAKER);
export const setPaceUpdate = defineUpdate<Pace, [PacePatch]>(LANE_UPDATE_SET_PACE);
export const laneStateQuery = defineQuery<LaneState>(LANE_QUERY_STATE);
export const holdSignal = defineSignal<[hold: { holder: string; reason?: string; until: number }]>(LANE_SIGNAL_HOLD);
export const releaseSignal = defineSignal<[release: { holder: string }]>(LANE_SIGNAL_RELEASE);
export const setDesiredImageSignal = defineSignal<[request: DesiredImageRequest]>(LANE_SIGNAL_SET_DESIRED_IMAGE);
export const requireKeyringSignal = defineSignal<[request: KeyringRequest]>(LANE_SIGNAL_REQUIRE_KEYRING);

const api = proxyActivities<NodeGroupActivities & ConfigActivities & LaneSweepActivities & Pick<OciActivities, 'resolveImage'>>({
  startToCloseTimeout: '1m',
  // A sweep retries API trouble for a while; a sweep that still fails is recorded and the next one tries again.
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * The lane keys reports and failure backoff by the machine behind a node (its instance), not by its name, which
 * IP-named clusters reuse. A run started before keeps keying by name until it continues as new.
 */
export const PATCH_LANE_STATE_BY_MACHINE = 'lane-state-by-machine';

/**
 * The lane keeps a desired image per group (resolved once from the group's configured image, or pinned by a
 * rollout): nodes on another image are drifted, and every replacement boots from it. Runs started before
 * neither resolve it nor pass it on.
 */
export const PATCH_LANE_DESIRED_IMAGE = 'lane-desired-image';

/** Outside its group's maintenance windows the lane starts no repave of aged or drifted nodes (runs from before: any time). */
export const PATCH_LANE_MAINTENANCE_WINDOWS = 'lane-maintenance-windows';

/**
 * The lane repaves nodes behind a keyring version a rotation requires (the `keyring` reason). Asked for lazily, at
 * the first requirement: a lane that was running before still takes one at once, and a run recorded before, which
 * had no handler for it, replays ignoring it.
 */
export const PATCH_LANE_KEYRINGS = 'lane-keyring-requirements';

/**
 * A sweep's list is read before it returns, and the lane moves on meanwhile. A node whose repave ended while the
 * sweep listed is not planned that sweep (the list may show the old node after its repave deleted it, no longer
 * held; runs from before started a second repave, refused: the node does not exist). A report that came in while
 * it listed, on a node the list lacks, waits for the next sweep (runs from before dropped it as about a node gone,
 * when the node had joined after the read). Asked for lazily, the first time either happens.
 */
export const PATCH_LANE_CHANGES_WHILE_LISTING = 'lane-changes-while-listing';

/**
 * Continue-as-new, when due (Temporal suggests it, or sweepsPerRun is reached), waits for a sweep that leaves no
 * repave in flight, and the lane goes on starting repaves meanwhile. Runs from before stopped starting them until
 * those in flight had finished: a group repaving at its budget had its slots empty until the slowest one ended.
 * Only a history past its limits (events, bytes) is still drained that way. A run sweeps twice at least.
 */
export const PATCH_LANE_CONTINUE_WHEN_IDLE = 'lane-continue-when-idle';

/**
 * A sweep reads the group's configuration and its nodes in one activity, observeNodeGroup (runs from before:
 * describeNodeGroup, then listNodeGroupNodes; a workflow task, 3 history events and an activity's latency more
 * between a repave ending and the next one starting).
 */
export const PATCH_LANE_SWEEP_ONE_READ = 'lane-sweep-one-read';

/**
 * The lane's brief `sweeping` phase is shown by its progress query and the UI's details, not upserted to ItinerantPhase:
 * two history events and two visibility writes a sweep. Runs from before upsert it.
 */
export const PATCH_LANE_SWEEPING_NOT_INDEXED = 'lane-sweeping-not-indexed';

/** History beyond which the lane continues as new even with repaves in flight (events; bytes in runs with PATCH_LANE_CONTINUE_WHEN_IDLE). */
const HISTORY_EVENTS_LIMIT = 20_000;
const HISTORY_BYTES_LIMIT = 8 * 2 ** 20;

/**
 * The repaver lane of one node group: sweeps the group, repaves unhealthy, drifted, keyring-behind and aged nodes (child repaveNode
 * runs) within the group's budget at an operator-set pace, stops when too much of the group is unhealthy,
 * and continues as new before its history grows large. One per group: ID repaver.<cluster>.<group>.
 */
export async function repaverLane(input: RepaverLaneInput): Promise<LaneState> {
  const parsed = parseRepaverLaneInput(input);
  if (!parsed.ok) throw invalidInput('repaverLane', parsed.message);
  const req = parsed.value;
  const { cluster } = req;
  const groupName = req.group;
  const carry: LaneCarry | undefined = req.carry;
  const byName = !patched(PATCH_LANE_STATE_BY_MACHINE);
  const withDesiredImage = patched(PATCH_LANE_DESIRED_IMAGE);
  const withWindows = patched(PATCH_LANE_MAINTENANCE_WINDOWS);
  const continueWhenIdle = patched(PATCH_LANE_CONTINUE_WHEN_IDLE);
  const oneRead = patched(PATCH_LANE_SWEEP_ONE_READ);
  const sweepingNotIndexed = patched(PATCH_LANE_SWEEPING_NOT_INDEXED);
  let window: WindowState | undefined;

  let pace: Pace = carry?.pace ?? { ...defaultPace(), ...stripUndefined(req.pace ?? {}) };
  let reports = carry?.reports ?? [];
  let breaker = carry?.breaker ?? closedBreaker();
  let history: HistoryEntry[] = carry?.history ?? [];
  let holds: LaneHold[] = carry?.holds ?? [];
  let desiredImage: DesiredImage | undefined = carry?.desiredImage;
  /** The configured image (JSON) the desired image was resolved from; unset while pinned or not resolved yet. */
  let desiredImageOf: string | undefined = carry?.desiredImageOf;
  /** A pin (or a return to the configured image) that came in, applied at the next sweep. */
  let imageRequest: DesiredImageRequest | undefined;
  let images: Record<string, string> = {};
  let keyrings: KeyringRequirements = carry?.keyrings ?? {};
  let withKeyrings: boolean | undefined;
  let withChangesWhileListing: boolean | undefined;
  const backoffMs = (count: number) => backoffAfter(count, req.failureBackoff);
  let backoffs = carriedBackoffs(carry, backoffMs); // carried by name before machines: migrated, bound at the first sweep
  /** Node name → machine, as of the last sweep. */
  let lastSeen = new Map<string, string>();
  const totals = { ...(carry?.totals ?? { started: 0, replaced: 0, failed: 0 }) };
  const runs = (carry?.runs ?? 0) + 1;

  const inFlight = new Map<string, InFlightRepave>();
  let group: NodeGroupConfig | undefined;
  let plan: RepavePlan | undefined;
  let wake = false;
  let sweeps = 0;
  let lastActivityAt = carry?.lastActivityAt ?? Number.NEGATIVE_INFINITY; // last repave start or finish (pace)
  let lastUnhealthy = 0;
  let continuing = false;
  let phase: LanePhase | undefined;
  let lastSweep: LaneState['lastSweep'];
  let nextSweepAt: number | undefined;
  let nextStartAt: number | undefined;

  const nowIso = () => new Date().toISOString();
  const record = (e: Omit<HistoryEntry, 'at'>) => {
    history = pushHistory(history, { at: nowIso(), ...e });
  };

  const rb = startRunbook<LaneProgress>({
    progress: { runbook: 'repaverLane', cluster, target: groupName, group: groupName, phase: 'starting', inFlight: 0, queued: 0, sweeps: 0 },
    searchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_NODE_GROUP, value: groupName },
      { key: SA_RUNBOOK, value: 'repaverLane' },
      { key: SA_TARGET, value: groupName },
    ],
    details: (p) =>
      `**${p.phase}** — repaver lane ${cluster}/${groupName}: ${inFlight.size} in flight, ${plan?.queue.length ?? 0} queued; pace ${describePace(pace)}` +
      (breaker.open ? `\n\ncircuit open: ${breaker.reason}` : ''),
    refusing: `run the repaver lane of ${groupName}`,
    logFields: { cluster, group: groupName },
    controls: {
      pause: true,
      onPauseChange: (now, reason) => {
        record({ node: '-', outcome: now ? 'paused' : 'resumed', reason });
        wake = true;
      },
    },
    answerQuery: (p) => ({ ...p, inFlight: inFlight.size, queued: plan?.queue.length ?? 0, sweeps }),
  });
  rb.progress.paused = carry?.paused ?? false;

  setHandler(laneStateQuery, (): LaneState => ({
    cluster,
    group: groupName,
    phase: phase ?? 'starting',
    paused: rb.progress.paused,
    pace,
    breaker,
    queue: (plan?.queue ?? []).map((c) => ({ node: c.node, kind: c.kind, reasons: c.reasons, ...(c.faultDomain ? { faultDomain: c.faultDomain } : {}), ...(c.retire ? { retire: true } : {}) })),
    inFlight: [...inFlight.values()],
    skipped: plan?.skipped ?? [],
    ...(plan?.aboveSize ? { aboveSize: plan.aboveSize } : {}),
    reports,
    holds: activeHolds(),
    history,
    ...(lastSweep ? { lastSweep } : {}),
    ...(desiredImage ? { desiredImage, images } : {}),
    ...(Object.keys(keyrings).length ? { keyrings } : {}),
    ...(window ? { window: describeWindow(window) } : {}),
    ...(nextSweepAt !== undefined ? { nextSweepAt: new Date(nextSweepAt).toISOString() } : {}),
    ...(nextStartAt !== undefined ? { nextStartAt: new Date(nextStartAt).toISOString() } : {}),
    sweeps,
    runs,
    totals,
  }));
  setHandler(holdSignal, (h) => {
    if (typeof h?.holder !== 'string' || !h.holder || typeof h.until !== 'number') return;
    const hold: LaneHold = { holder: h.holder, reason: (h.reason ?? 'held').slice(0, 200), until: new Date(h.until).toISOString() };
    const known = holds.some((x) => x.holder === h.holder);
    holds = [...holds.filter((x) => x.holder !== h.holder), hold];
    if (!known) record({ node: '-', outcome: 'held', reason: `held by ${h.holder}: ${hold.reason} (until ${hold.until})` });
    wake = true;
  });
  setHandler(releaseSignal, (r) => {
    if (!holds.some((x) => x.holder === r?.holder)) return;
    holds = holds.filter((x) => x.holder !== r.holder);
    record({ node: '-', outcome: 'released', reason: `released by ${r.holder}` });
    wake = true;
  });
  setHandler(setDesiredImageSignal, (r) => {
    if (!withDesiredImage || typeof r?.by !== 'string' || !r.by) return;
    const badDrift = r.drift !== undefined && r.drift !== 'all' && r.drift !== 'none' && typeof r.drift?.from !== 'string';
    const badNodes = r.nodes !== undefined && !(Number.isInteger(r.nodes) && r.nodes >= 0);
    if ((r.imageId !== undefined && (typeof r.imageId !== 'string' || !r.imageId.startsWith('ocid1.image.'))) || badDrift || badNodes) {
      log.warn('ignored a desired image request that does not parse', { cluster, group: groupName, by: r.by, imageId: r.imageId, nodes: r.nodes, drift: r.drift });
      return;
    }
    imageRequest = r;
    wake = true;
  });
  setHandler(requireKeyringSignal, (r) => {
    const request = parseKeyringRequest(r);
    if (!request) {
      log.warn('ignored a keyring requirement that does not parse', { cluster, group: groupName, request: r });
      return;
    }
    if (!(withKeyrings ??= patched(PATCH_LANE_KEYRINGS))) return;
    const applied = applyKeyringRequest(keyrings, request, nowIso());
    if (!applied.change) return; // a repeated or older requirement
    keyrings = applied.requirements;
    record({ node: '-', outcome: 'keyring', reason: applied.change });
    log.info('keyring requirement changed', { cluster, group: groupName, change: applied.change });
    wake = true;
  });
  setHandler(sweepNowSignal, () => {
    wake = true;
  });
  setHandler(legacySweepNowSignal, () => {
    wake = true;
  });
  setHandler(reportUnhealthySignal, (report) => {
    const node = typeof report?.node === 'string' ? report.node.trim() : '';
    if (!node || node.length > 253) {
      log.warn('ignored an unhealthy report without a valid node name', { cluster, group: groupName });
      return;
    }
    const r = receiveReport(reports, { node, reason: typeof report.reason === 'string' ? report.reason : 'reported unhealthy' }, nowIso(), lastSeen, byName);
    if (!r.added) return; // duplicate: the first report stands
    reports = r.reports;
    log.info('node reported unhealthy', { cluster, group: groupName, node, reason: report.reason });
    if (r.wake) wake = true;
  });
  setHandler(resetCircuitBreakerSignal, (note) => {
    const was = breaker;
    breaker = resetBreaker(lastUnhealthy);
    metrics.laneBreaker({ cluster, group: groupName, open: breaker.open });
    record({
      node: '-',
      outcome: 'circuit-closed',
      reason: `reset by operator${note ? `: ${note.slice(0, 150)}` : ''}${was.open ? '' : ' (was closed)'}; tolerating up to ${lastUnhealthy} unhealthy node(s)`,
    });
    log.warn('circuit breaker reset by operator', { cluster, group: groupName, acknowledgedUnhealthy: lastUnhealthy });
    wake = true;
  });
  setHandler(
    setPaceUpdate,
    (patch) => {
      const r = applyPacePatch(pace, patch, group!);
      if (!r.ok) throw ApplicationFailure.nonRetryable(r.message, 'InvalidPace'); // validated already
      pace = r.value;
      record({ node: '-', outcome: 'pace', reason: `pace set to ${describePace(pace)}` });
      log.info('pace changed', { cluster, group: groupName, pace });
      wake = true;
      return pace;
    },
    {
      validator: (patch) => {
        if (!group) throw new Error(`setPace: the lane has not read node group ${groupName}'s configuration yet; try again in a moment`);
        const r = applyPacePatch(pace, patch, group);
        if (!r.ok) throw new Error(r.message);
      },
    },
  );

  function enter(p: LanePhase) {
    phase = p;
    rb.enter(p, { transient: p === 'sweeping' && sweepingNotIndexed });
  }

  function activeHolds(): LaneHold[] {
    const now = Date.now();
    return holds.filter((h) => Date.parse(h.until) > now);
  }

  function currentPhase(): LanePhase {
    return lanePhase({
      continuing,
      inFlight: inFlight.size,
      breakerOpen: breaker.open,
      paused: rb.progress.paused,
      held: activeHolds().length > 0,
      queued: plan?.queue.length ?? 0,
      startable: plan?.start.length ?? 0,
    });
  }

  async function sweep(): Promise<'ok' | 'failed' | 'unknown-group'> {
    enter('sweeping');
    sweeps++;
    wake = false; // anything that happens from here on asks for another sweep
    try {
      // A repave that ends while the nodes are listed still has its two nodes in the list: count it in flight.
      let inFlightWhileListing = new Map(inFlight);
      let listedSince = Date.now();
      const seen = oneRead ? await api.observeNodeGroup({ cluster, nodeGroup: groupName }) : undefined;
      const g = seen ? seen.group : await api.describeNodeGroup({ cluster, nodeGroup: groupName });
      if (!g) {
        lastSweep = { at: nowIso(), nodes: 0, aged: 0, unhealthy: 0, budget: { cap: 0, inFlight: inFlight.size, unavailableElsewhere: 0, slots: 0 }, error: `node group ${groupName} is not in the fleet configuration of cluster ${cluster}` };
        return 'unknown-group';
      }
      group = g;
      if (withDesiredImage) await settleDesiredImage(g);
      if (!seen) {
        inFlightWhileListing = new Map(inFlight);
        listedSince = Date.now();
      }
      const obs = seen?.observation ?? (await api.listNodeGroupNodes({ cluster, nodeGroup: groupName }));
      for (const [node, f] of inFlight) inFlightWhileListing.set(node, f);
      const endedWhileListing = [...inFlightWhileListing.keys()].filter((node) => !inFlight.has(node));
      const reportedWhileListing = reports.some((r) => r.machine === undefined && Date.parse(r.at) >= listedSince);
      const changedWhileListing = (endedWhileListing.length > 0 || reportedWhileListing) && (withChangesWhileListing ??= patched(PATCH_LANE_CHANGES_WHILE_LISTING));
      const now = Date.now();
      // Bind reports and backoffs to the machines that have the names now; forget those of machines gone.
      const state = reconcileMachineState({ reports, backoffs }, obs.nodes, [...inFlight.values()], byName, changedWhileListing ? listedSince : undefined);
      ({ reports, backoffs } = state);
      if (!byName) lastSeen = new Map(obs.nodes.map((n) => [n.name, machineOf(n)]));
      if (state.dropped.length) log.info('forgot state of nodes no longer in the group', { cluster, group: groupName, dropped: state.dropped });
      images = Object.fromEntries(obs.nodes.flatMap((n) => (n.imageId ? [[n.name, n.imageId]] : [])));
      window = withWindows && group.maintenanceWindows ? windowState(group.maintenanceWindows, now) : undefined;
      plan = planRepaves({
        group,
        nodes: obs.nodes,
        reports: state.planReports,
        inFlight: [...inFlight.values()],
        inFlightWhileListing: inFlightWhileListing.size,
        ...(changedWhileListing ? { endedWhileListing } : {}),
        pace,
        now,
        notBefore: state.notBefore,
        ...(desiredImage ? { desiredImage } : {}),
        ...(Object.keys(keyrings).length ? { keyrings } : {}),
        ...(window && !window.open ? { notNow: waitingForWindow(group, window) } : {}),
      });
      lastUnhealthy = plan.unhealthy.length;
      const decision = evaluateBreaker(breaker, plan.unhealthy, group, nowIso());
      breaker = decision.state;
      metrics.laneBreaker({ cluster, group: groupName, open: breaker.open });
      if (decision.event === 'tripped') {
        record({ node: '-', outcome: 'circuit-open', reason: breaker.reason ?? '' });
        log.error('circuit breaker open: repaving stopped', { cluster, group: groupName, reason: breaker.reason });
      } else if (decision.event === 'recovered') {
        record({ node: '-', outcome: 'circuit-closed', reason: `group recovered: ${plan.unhealthy.length} unhealthy node(s)` });
        log.info('circuit breaker closed: the group recovered', { cluster, group: groupName });
      }
      lastSweep = { at: nowIso(), nodes: obs.nodes.length, aged: plan.aged.length, unhealthy: plan.unhealthy.length, ...(withDesiredImage ? { drifted: plan.drifted.length } : {}), ...(plan.keyring.length ? { keyring: plan.keyring.length } : {}), budget: plan.budget };
      return 'ok';
    } catch (e) {
      const message = rootMessage(e);
      lastSweep = { at: nowIso(), nodes: 0, aged: 0, unhealthy: 0, budget: { cap: 0, inFlight: inFlight.size, unavailableElsewhere: 0, slots: 0 }, error: message };
      log.warn('sweep failed; the next sweep tries again', { cluster, group: groupName, error: message });
      if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === 'UnknownCluster') return 'unknown-group';
      return 'failed';
    }
  }

  /**
   * The desired image: a pin that came in, else the group's configured image resolved once (again only when the
   * configuration names another image). A pinned image stays until a request without an image unpins it.
   */
  async function settleDesiredImage(g: NodeGroupConfig) {
    const request = imageRequest;
    imageRequest = undefined;
    if (request?.imageId) {
      desiredImage = {
        imageId: request.imageId,
        ...(request.displayName ? { displayName: request.displayName } : {}),
        source: 'pinned',
        by: request.by,
        ...(request.nodes !== undefined ? { nodes: request.nodes } : {}),
        drift: request.drift ?? 'all',
        at: nowIso(),
      };
      desiredImageOf = undefined;
      const moves = request.drift === 'none' ? 'no node moves' : typeof request.drift === 'object' ? `nodes on ${request.drift.from} move` : 'every node moves';
      record({ node: '-', outcome: 'image', reason: `desired image pinned by ${request.by}: ${request.displayName ?? request.imageId} (${moves}${request.nodes !== undefined ? `, at most ${request.nodes}` : ''})` });
      return;
    }
    const configured = JSON.stringify(g.image);
    if (!request && desiredImage && (desiredImage.source === 'pinned' || desiredImageOf === configured)) return;
    const { compartmentId } = await api.describeClusterCompartment({ cluster });
    const image = await api.resolveImage({ cluster, compartmentId, image: g.image });
    // A channel is where replacements boot from; a new image on it reaches the nodes through a rollout. An image id moves them.
    desiredImage = { imageId: image.imageId, displayName: image.displayName, source: 'channel', drift: 'id' in g.image ? 'all' : 'none', at: nowIso() };
    desiredImageOf = configured;
    record({ node: '-', outcome: 'image', reason: `desired image ${image.displayName} (${image.imageId}), resolved from ${configured}${request ? ` at the request of ${request.by}` : ''}` });
  }

  /** Start what the plan allows now, honouring pause, breaker, pace and continue-as-new. */
  async function startRepaves() {
    nextStartAt = undefined;
    holds = activeHolds();
    if (!plan || !group || rb.progress.paused || breaker.open || continuing || holds.length > 0) return;
    for (const c of plan.start) {
      const now = Date.now();
      if (pace.pauseBetweenNodes > 0 && Number.isFinite(lastActivityAt)) {
        const at = lastActivityAt + pace.pauseBetweenNodes;
        if (at > now) {
          nextStartAt = at;
          return;
        }
      }
      await startOne(c.node, c.reasons.join('; '), c.faultDomain, c.retire === true, c.kind);
      // With a pause, one node at a time: the next one is planned on a fresh sweep.
      if (pace.pauseBetweenNodes > 0) return;
    }
  }

  async function startOne(node: string, why: string, faultDomain: string | undefined, retireOnly: boolean, kind: RepavePlan['queue'][number]['kind']) {
    const workflowId = repaveNodeWorkflowId(cluster, node);
    const reason = why.slice(0, 200);
    const childInput: RepaveNodeInput = {
      cluster,
      node,
      reason,
      ...(req.readyTimeout !== undefined ? { readyTimeout: req.readyTimeout } : {}),
      ...(req.drainTimeout !== undefined ? { drainTimeout: req.drainTimeout } : {}),
      ...(retireOnly ? { retireOnly } : {}),
      ...(withDesiredImage && desiredImage && !retireOnly ? { imageId: desiredImage.imageId } : {}),
    };
    try {
      const child = await startChild<(i: RepaveNodeInput) => Promise<RepaveNodeResult>>('repaveNode', {
        workflowId,
        args: [childInput],
        // A repave in progress finishes on its own terms (it compensates itself) even if the lane ends:
        // cancelling it half-way would be worse than letting it complete. A restarted lane sees the node
        // still claimed by the running repave and counts it against the budget.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      const machine = lastSeen.get(node);
      const entry: InFlightRepave = {
        node,
        workflowId,
        startedAt: nowIso(),
        reason,
        ...(faultDomain ? { faultDomain } : {}),
        ...(machine ? { machine } : {}),
        ...(withDesiredImage || kind === 'keyring' ? { kind } : {}),
      };
      inFlight.set(node, entry);
      totals.started++;
      lastActivityAt = Date.now();
      log.info('repave started', { cluster, group: groupName, node, reason });
      child.result().then(
        (r) => finished(node, r.replacement ? { outcome: 'replaced', reason, replacement: r.replacement.nodeName } : { outcome: 'retired', reason }),
        (e: unknown) => finished(node, failureOf(e, reason)),
      );
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        record({ node, outcome: 'skipped', reason, detail: `${workflowId} is already running` });
        return;
      }
      throw e;
    }
  }

  function finished(node: string, e: Omit<HistoryEntry, 'at' | 'node'>) {
    const machine = inFlight.get(node)?.machine;
    const about = { node, ...(machine ? { machine } : {}) };
    inFlight.delete(node);
    lastActivityAt = Date.now();
    record({ ...about, ...e });
    if (e.outcome === 'replaced' || e.outcome === 'retired') {
      totals.replaced++;
      ({ reports, backoffs } = forgetReplaced({ reports, backoffs }, about));
      log.info(e.outcome === 'retired' ? 'node retired: the group was above its size' : 'repave finished', { cluster, group: groupName, node, replacement: e.replacement });
    } else {
      totals.failed++;
      backoffs = recordFailure(backoffs, about, Date.now(), backoffMs);
      const retryIn = formatDuration(backoffs[backoffs.length - 1]!.notBefore - Date.now());
      log.warn('repave did not complete', { cluster, group: groupName, node, outcome: e.outcome, detail: e.detail, retryIn });
    }
    wake = true;
  }

  /**
   * Wait until `at` or until something wakes the lane. The timer is never cancelled: a wake leaves it
   * running, and a later wait reuses it when it is due no later than needed (fewer timer events, and no
   * timer cancelled while it fires, which the time-skipping test server cannot handle: sdk-java#3088).
   */
  let timer: { at: number; done: boolean } | undefined;
  async function sleepUntil(at: number) {
    if (!timer || timer.done || timer.at > at) {
      const t = { at, done: false };
      void sleep(Math.max(1, at - Date.now())).then(() => {
        t.done = true;
      });
      timer = t;
    }
    const t = timer;
    await condition(() => wake || t.done);
  }

  const interval = () => req.sweepInterval ?? (group ? sweepIntervalOf(group) : 60_000);
  // A run sweeps twice at least: at one sweep per run, an idle lane continued as new without ever waiting.
  const continueAsNewDue = () => sweeps >= (continueWhenIdle ? Math.max(2, req.sweepsPerRun) : req.sweepsPerRun) || workflowInfo().continueAsNewSuggested;
  const historyOverLimit = () => workflowInfo().historyLength > HISTORY_EVENTS_LIMIT || (continueWhenIdle && workflowInfo().historySize > HISTORY_BYTES_LIMIT);

  for (;;) {
    const swept = await sweep();
    if (swept === 'unknown-group' && inFlight.size === 0) {
      // Refused at the start; a group removed from the configuration later ends its lane quietly.
      if (sweeps === 1 && !carry) throw ApplicationFailure.nonRetryable(`invalid repaverLane input: ${lastSweep?.error}`, 'UnknownNodeGroup');
      enter('idle');
      log.warn('node group is no longer configured: the lane ends', { cluster, group: groupName });
      return stateNow();
    }
    if (swept === 'ok') await startRepaves();
    if (!continuing && (historyOverLimit() || (continueAsNewDue() && (!continueWhenIdle || inFlight.size === 0)))) {
      continuing = true;
      log.info('continue-as-new due: waiting for repaves in flight', { cluster, group: groupName, sweeps, inFlight: inFlight.size });
    }
    enter(currentPhase());
    if (continuing && inFlight.size === 0) break;
    nextSweepAt = Date.now() + interval();
    let wakeAt = nextStartAt !== undefined ? Math.min(nextStartAt, nextSweepAt) : nextSweepAt;
    for (const h of holds) wakeAt = Math.min(wakeAt, Date.parse(h.until));
    if (window?.opensAt !== undefined) wakeAt = Math.min(wakeAt, window.opensAt);
    await sleepUntil(wakeAt);
  }

  await condition(allHandlersFinished);
  const next: LaneCarry = {
    pace,
    paused: rb.progress.paused,
    reports,
    breaker,
    history: history.slice(-HISTORY_CARRIED),
    backoffs,
    runs,
    totals,
    ...(Number.isFinite(lastActivityAt) ? { lastActivityAt } : {}),
    holds: activeHolds(),
    ...(desiredImage ? { desiredImage } : {}),
    ...(desiredImageOf ? { desiredImageOf } : {}),
    ...(Object.keys(keyrings).length ? { keyrings } : {}),
  };
  const { carry: _old, ...rest } = input;
  return continueAsNew<typeof repaverLane>({ ...rest, carry: next });

  function stateNow(): LaneState {
    return {
      cluster,
      group: groupName,
      phase: phase ?? 'idle',
      paused: rb.progress.paused,
      pace,
      breaker,
      queue: [],
      inFlight: [],
      skipped: [],
      reports,
      holds,
      history,
      sweeps,
      runs,
      totals,
    };
  }
}

function describeWindow(w: WindowState): NonNullable<LaneState['window']> {
  return { open: w.open, ...(w.closesAt !== undefined ? { closesAt: new Date(w.closesAt).toISOString() } : {}), ...(w.opensAt !== undefined ? { opensAt: new Date(w.opensAt).toISOString() } : {}) };
}

function failureOf(e: unknown, reason: string): Omit<HistoryEntry, 'at' | 'node'> {
  const cause = e instanceof ChildWorkflowFailure ? e.cause : e;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  return { outcome: type === FailureType.Refused || type === LEGACY_REFUSED ? 'refused' : 'failed', reason, detail: rootMessage(cause).slice(0, 500) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
