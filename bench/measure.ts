// What every scenario measures with: figures from Temporal histories, percentiles, process accounting, the machine.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { TEMPORAL_CLI_VERSION } from '../testbeds/temporal/temporal-cli.js';
import { localActivityOf } from '../test/helpers/local-activities.js';

/** One workflow run as its history tells it. */
export interface RunStats {
  events: number;
  workflowTasks: number;
  activities: number;
  /** Run by the worker within a workflow task: a marker each, no activity task (README, patch repave-local-preflight). */
  localActivities: number;
  searchAttributeUpserts: number;
  /** Started → closed. */
  wallMs: number;
  /** Per task: Scheduled → Started. */
  workflowTaskScheduleToStartMs: number[];
  activityScheduleToStartMs: number[];
  taskTimeouts: number;
  /** Started → completed, the run's first workflow task: it runs the local activities that open a repave. */
  firstWorkflowTaskMs: number;
  /** Scheduled → closed, per activity (in order; a retried one once); local ones are in firstWorkflowTaskMs. */
  activityMs: { type: string; ms: number }[];
}

export async function runStats(client: Client, workflowId: string): Promise<RunStats> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = new Map<string, number>();
  const stats: RunStats = { events: events.length, workflowTasks: 0, activities: 0, localActivities: 0, firstWorkflowTaskMs: NaN, searchAttributeUpserts: 0, wallMs: 0, workflowTaskScheduleToStartMs: [], activityScheduleToStartMs: [], taskTimeouts: 0, activityMs: [] };
  const activityType = new Map<string, string>();
  let first: number | undefined;
  let last = 0;
  for (const e of events) {
    const t = tsToMs(e.eventTime);
    first ??= t;
    last = t;
    at.set(String(e.eventId), t);
    if (e.workflowTaskStartedEventAttributes) {
      stats.workflowTasks++;
      stats.workflowTaskScheduleToStartMs.push(t - at.get(String(e.workflowTaskStartedEventAttributes.scheduledEventId))!);
    }
    if (e.activityTaskStartedEventAttributes) {
      stats.activities++;
      stats.activityScheduleToStartMs.push(t - at.get(String(e.activityTaskStartedEventAttributes.scheduledEventId))!);
    }
    if (e.activityTaskScheduledEventAttributes) activityType.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    const closed = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed) stats.activityMs.push({ type: activityType.get(String(closed.scheduledEventId))!, ms: t - at.get(String(closed.scheduledEventId))! });
    if (localActivityOf(e)) stats.localActivities++;
    if (e.workflowTaskCompletedEventAttributes && stats.workflowTasks === 1) stats.firstWorkflowTaskMs = t - at.get(String(e.workflowTaskCompletedEventAttributes.startedEventId))!;
    if (e.upsertWorkflowSearchAttributesEventAttributes) stats.searchAttributeUpserts++;
    if (e.workflowTaskTimedOutEventAttributes || e.activityTaskTimedOutEventAttributes) stats.taskTimeouts++;
  }
  stats.wallMs = last - (first ?? last);
  return stats;
}

/** Figures of `runs` (those that completed, of `started` in all), from their histories. */
export function runsFigures(runs: RunStats[], started: number, wallSeconds: number, withinMs?: number) {
  const wft = runs.flatMap((r) => r.workflowTaskScheduleToStartMs);
  const act = runs.flatMap((r) => r.activityScheduleToStartMs);
  const spread = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), max: percentile(values, 100) });
  return {
    runs: started,
    ...(withinMs !== undefined ? { boundSeconds: withinMs / 1000, unfinished: started - runs.length } : {}),
    wallSeconds: round(wallSeconds, 2),
    completedPerSecond: round(runs.length / wallSeconds, 2),
    eventsPerRun: round(mean(runs.map((r) => r.events)), 1),
    activitiesPerRun: round(mean(runs.map((r) => r.activities)), 1),
    localActivitiesPerRun: round(mean(runs.map((r) => r.localActivities)), 1),
    workflowTasksPerRun: round(mean(runs.map((r) => r.workflowTasks)), 1),
    runWallMs: spread(runs.map((r) => r.wallMs)),
    workflowTaskScheduleToStartMs: spread(wft),
    activityScheduleToStartMs: spread(act),
    taskTimeouts: sum(runs.map((r) => r.taskTimeouts)),
  };
}

/**
 * Waits for every run of `handles` to complete, or `withinMs` (when given) to pass: then the runs still open are
 * terminated and said so on the log. Returns the workflow ids of the runs that completed.
 */
export async function awaitWithin(handles: WorkflowHandle[], opts: { withinMs?: number; log?: (line: string) => void }): Promise<Set<string>> {
  const completed = new Set<string>();
  const all = Promise.all(handles.map(async (h) => (await h.result(), completed.add(h.workflowId))));
  if (opts.withinMs === undefined) return await all, completed;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'bound'>((r) => (timer = setTimeout(() => r('bound'), opts.withinMs)));
  const ended = await Promise.race([all.then(() => 'all' as const), bound]).finally(() => clearTimeout(timer));
  if (ended === 'bound') {
    all.catch(() => undefined); // the terminations below fail the rest
    const open = handles.filter((h) => !completed.has(h.workflowId));
    opts.log?.(`BOUND: ${completed.size} of ${handles.length} runs completed within ${opts.withinMs / 1000} s; terminating the ${open.length} still open`);
    await Promise.all(open.map((h) => h.terminate('bench bound reached').catch(() => undefined)));
  }
  return completed;
}

/** Samples this process's resident set every 250 ms until stopped: its peak, in MiB. */
export function rssSampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 250);
  return { stop: () => clearInterval(timer), peakMiB: () => round(peak / 2 ** 20, 1) };
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
export const mean = (values: number[]) => (values.length ? sum(values) / values.length : NaN);
export const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** CPU seconds (user + system) this process used since `since` (from process.cpuUsage()): the worker's when it runs here. */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

/** Resident set of a process (Linux /proc), in MiB. */
export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? round(Number(kb) / 1024, 1) : NaN;
}

/** CPU seconds a process (Linux /proc) has used so far: utime + stime. */
export function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

export interface CpuSeconds {
  /** This process: the worker, and the bench's client beside it. */
  worker: number;
  sim: number;
  temporalServer: number;
}

/** Starts counting the CPU of the three processes a scenario loads; `read()` gives each one's seconds since. */
export function cpuMeter(pids: { sim?: number; temporalServer: number }): { read(): CpuSeconds } {
  const worker = process.cpuUsage();
  const simSeconds = () => (pids.sim === undefined ? 0 : processCpuSeconds(pids.sim));
  const sim = simSeconds();
  const temporalServer = processCpuSeconds(pids.temporalServer);
  return {
    read: () => ({ worker: cpuSecondsSince(worker), sim: simSeconds() - sim, temporalServer: processCpuSeconds(pids.temporalServer) - temporalServer }),
  };
}

/**
 * CPU figures for `nodes` repaved in `wallMs`. `cpuBusySeconds`: how long the three processes' CPU would take with
 * every core busy throughout, the shortest wall time this machine allows them; near the wall time, the machine's
 * cores are what limit.
 */
export function cpuFigures(c: CpuSeconds, nodes: number, wallMs: number) {
  const all = c.worker + c.sim + c.temporalServer;
  const perNode = (s: number) => round((s * 1000) / nodes, 1);
  return {
    workerCpuSeconds: round(c.worker, 2),
    workerCpuMsPerNode: perNode(c.worker),
    simCpuSeconds: round(c.sim, 2),
    simCpuShareOfWall: round((c.sim * 1000) / wallMs, 2),
    temporalServerCpuSeconds: round(c.temporalServer, 2),
    cpuMsPerNode: { worker: perNode(c.worker), temporalServer: perNode(c.temporalServer), sim: perNode(c.sim), all: perNode(all) },
    cpuBusySeconds: round(all / os.cpus().length, 1),
  };
}

const require = createRequire(import.meta.url);
const versionOf = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
const kubectlVersion = () => {
  try {
    return (JSON.parse(execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' })) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
  } catch {
    return undefined;
  }
};
const gitCommit = () => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};

/** The machine and the versions a result was measured with. */
export function machine() {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadAverage1m: round(os.loadavg()[0]!, 2),
    node: process.version,
    temporalSdk: versionOf('@temporalio/worker'),
    temporalCli: TEMPORAL_CLI_VERSION,
    kubernetesClient: versionOf('@kubernetes/client-node'),
    kubectl: kubectlVersion(),
    commit: gitCommit(),
  };
}
