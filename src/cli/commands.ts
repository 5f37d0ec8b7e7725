// The commands that talk to Temporal (loaded only after the input has been accepted).
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { userInfo, hostname } from 'node:os';
import { RUNBOOK_SIGNAL_ABORT, RUNBOOK_SIGNAL_PAUSE, RUNBOOK_SIGNAL_RESUME, RUNBOOK_UPDATE_ANSWER, type AnswerOutcome, type OperatorAnswer } from '../core/runbook.js';
import { TASK_QUEUE } from '../core/ids.js';
import { SA_CLUSTER, SA_PHASE, SA_RUNBOOK, SA_TARGET } from '../core/search-attributes.js';
import { CliError, EXIT } from './errors.js';
import { follow, queryProgress } from './follow.js';
import { clock, failureChain, formatDetails, formatTable, questionLines, visibilityQuery, webUiLink, type ProgressLike } from './progress.js';
import { findRunbook, runbookForWorkflowType, type PreparedStart } from './runbooks.js';
import { connect, isNotFound, pendingActivities, type Target } from './temporal.js';

export const uiBase = (env = process.env) => env.TEMPORAL_UI_URL || 'http://127.0.0.1:8233';

async function describe(client: Client, target: Target, workflowId: string): Promise<WorkflowExecutionDescription> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (e) {
    if (isNotFound(e)) throw new CliError(`no workflow ${workflowId} in namespace ${target.namespace}`, EXIT.failed);
    throw e;
  }
}

export async function runCommand(target: Target, start: PreparedStart, input: unknown, opts: { wait?: boolean; workflowId?: string }): Promise<number> {
  const client = await connect(target);
  const { runbook } = start;
  const workflowId = opts.workflowId ?? start.workflowId;
  let handle;
  try {
    handle = await client.workflow.start(runbook.workflowType, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE', // a new run once the previous one has closed, whatever its outcome
      typedSearchAttributes: [
        { key: SA_CLUSTER, value: start.cluster },
        { key: SA_RUNBOOK, value: runbook.workflowType },
        { key: SA_TARGET, value: start.target },
      ],
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const runId = await client.workflow
      .getHandle(workflowId)
      .describe()
      .then((d) => d.runId)
      .catch(() => '?');
    throw new CliError(`${runbook.busy(start.target)}: workflow ${workflowId} (run ${runId}) — itinerant status ${workflowId}`, EXIT.busy);
  }
  console.log(`started ${runbook.workflowType} on ${start.cluster}/${start.target}`);
  console.log(`  workflow  ${workflowId}`);
  console.log(`  run       ${handle.firstExecutionRunId}`);
  console.log(`  web ui    ${webUiLink(uiBase(), target.namespace, workflowId)}`);
  return opts.wait ? follow(client, handle) : EXIT.ok;
}

export async function watchCommand(target: Target, workflowId: string): Promise<number> {
  const client = await connect(target);
  const desc = await describe(client, target, workflowId);
  console.log(`watching ${desc.type} ${workflowId} (run ${desc.runId}, ${desc.status.name}) — ${webUiLink(uiBase(), target.namespace, workflowId)}`);
  return follow(client, client.workflow.getHandle(workflowId, desc.runId));
}

export async function signalCommand(target: Target, workflowId: string, signal: string, reason: string | undefined): Promise<number> {
  const client = await connect(target);
  const desc = await describe(client, target, workflowId);
  const runbook = runbookForWorkflowType(desc.type);
  if (runbook && !Object.hasOwn(runbook.signals, signal)) {
    throw new CliError(`${desc.type} does not accept signal "${signal}"; it accepts ${Object.keys(runbook.signals).join(', ')}`, EXIT.usage);
  }
  if (desc.status.name !== 'RUNNING') throw new CliError(`workflow ${workflowId} is ${desc.status.name}; signals reach running workflows only`, EXIT.failed);
  await client.workflow.getHandle(workflowId, desc.runId).signal(signal, ...signalArgs(signal, reason));
  console.log(`sent ${signal}${reason !== undefined ? ` (${reason})` : ''} to ${workflowId} (run ${desc.runId})`);
  return EXIT.ok;
}

/** Who acts, for the runbook's audit stream (the frame's signals take it after the reason). */
const operator = () => `${userInfo().username}@${hostname()} (itinerant CLI)`;

function signalArgs(signal: string, reason: string | undefined): unknown[] {
  if (signal === RUNBOOK_SIGNAL_RESUME) return [operator()];
  if (signal === RUNBOOK_SIGNAL_PAUSE || signal === RUNBOOK_SIGNAL_ABORT) return [reason ?? '', operator()];
  return reason !== undefined ? [reason] : [];
}

/** Answer the question a runbook is waiting on (the frame's `answer` update; the runbook validates it). */
export async function answerCommand(target: Target, workflowId: string, option: string, opts: { question?: string; note?: string }): Promise<number> {
  const client = await connect(target);
  const desc = await describe(client, target, workflowId);
  if (desc.status.name !== 'RUNNING') throw new CliError(`workflow ${workflowId} is ${desc.status.name}; only a running workflow waits for an answer`, EXIT.failed);
  const answer: OperatorAnswer = {
    option,
    by: operator(),
    ...(opts.question !== undefined ? { questionId: opts.question } : {}),
    ...(opts.note !== undefined ? { note: opts.note } : {}),
  };
  try {
    const out = await client.workflow.getHandle(workflowId, desc.runId).executeUpdate<AnswerOutcome, [OperatorAnswer]>(RUNBOOK_UPDATE_ANSWER, { args: [answer] });
    console.log(`answered ${out.questionId} of ${workflowId}: ${out.option}`);
    return EXIT.ok;
  } catch (e) {
    // The runbook's validator refused it (no question pending, an option it does not offer): the answer was wrong.
    if (e instanceof WorkflowUpdateFailedError) throw new CliError(`${workflowId} refused the answer: ${failureChain(e).join(': ')}`, EXIT.usage);
    throw e;
  }
}

export async function listCommand(target: Target, opts: { cluster?: string; runbook?: string; running?: boolean; limit: number }): Promise<number> {
  const client = await connect(target);
  const runbook = opts.runbook === undefined ? undefined : (findRunbook(opts.runbook)?.workflowType ?? opts.runbook);
  const query = visibilityQuery({ ...opts, runbook });
  const rows: string[][] = [];
  for await (const wf of client.workflow.list({ query, pageSize: Math.min(opts.limit, 1000) })) {
    rows.push([wf.workflowId, wf.type, wf.status.name, String(wf.typedSearchAttributes.get(SA_PHASE) ?? '-'), wf.startTime.toISOString().replace(/\.\d+Z$/, 'Z')]);
    if (rows.length >= opts.limit) break;
  }
  if (rows.length === 0) console.log(`no workflows match${query ? ` ${query}` : ''}`);
  else console.log(formatTable(['WORKFLOW ID', 'TYPE', 'STATUS', 'PHASE', 'STARTED'], rows));
  return EXIT.ok;
}

export async function statusCommand(target: Target, workflowId: string, opts: { json?: boolean }): Promise<number> {
  const client = await connect(target);
  const desc = await describe(client, target, workflowId);
  const handle = client.workflow.getHandle(workflowId, desc.runId);
  let progress: ProgressLike | undefined;
  let progressError: string | undefined;
  try {
    progress = await queryProgress(client, handle);
  } catch (e) {
    progressError = (e as Error).message;
  }
  // A closed run's describe() can still list the activities it had in flight: only show them while running.
  const pending = desc.status.name === 'RUNNING' ? pendingActivities(client, desc) : [];
  let result: unknown;
  let failure: string[] | undefined;
  if (desc.status.name !== 'RUNNING') {
    try {
      result = await handle.result();
    } catch (e) {
      failure = failureChain(e);
    }
  }
  const status = {
    workflowId,
    runId: desc.runId,
    type: desc.type,
    status: desc.status.name,
    startTime: desc.startTime.toISOString(),
    closeTime: desc.closeTime?.toISOString(),
    phase: desc.typedSearchAttributes.get(SA_PHASE) ?? progress?.phase,
    progress,
    progressError,
    pendingActivities: pending,
    result,
    failure,
    webUi: webUiLink(uiBase(), target.namespace, workflowId),
  };
  if (opts.json) {
    console.log(JSON.stringify(status, null, 2));
    return EXIT.ok;
  }
  const p = progress as (ProgressLike & Record<string, unknown>) | undefined;
  const lines = [
    `workflow  ${workflowId}`,
    `run       ${desc.runId}`,
    `type      ${desc.type}`,
    `status    ${desc.status.name}${p?.paused ? ' (paused)' : ''}${p?.abortRequested ? ` (abort requested: ${p.abortRequested})` : ''}`,
    `phase     ${status.phase ?? '-'}`,
    `started   ${status.startTime}${status.closeTime ? `, closed ${status.closeTime}` : ''}`,
    `web ui    ${status.webUi}`,
  ];
  if (p) {
    const hidden = new Set(['runbook', 'cluster', 'target', 'phase', 'paused', 'abortRequested', 'question', 'log', 'error', 'startedAt', 'updatedAt']);
    const shown = Object.fromEntries(Object.entries(p).filter(([k, v]) => !hidden.has(k) && v !== undefined));
    if (Object.keys(shown).length) lines.push(`progress  ${formatDetails(shown)}`);
    if (p.error) lines.push(`error     ${p.error}`);
    if (p.question) lines.push(...questionLines(p.question, workflowId));
  } else if (progressError) lines.push(`progress  unavailable: ${progressError}`);
  if (pending.length) {
    lines.push('pending activities:');
    for (const a of pending) {
      lines.push(`  ${a.activityType}  ${a.state}  attempt ${a.attempt}${a.lastHeartbeatTime ? `  last heartbeat ${clock(a.lastHeartbeatTime)}` : ''}`);
      if (a.heartbeatDetails !== undefined) lines.push(`    details: ${formatDetails(a.heartbeatDetails)}`);
      if (a.lastFailure) lines.push(`    last failure: ${a.lastFailure}`);
    }
  }
  const log = p?.log ?? [];
  if (log.length) {
    lines.push(`log (last ${Math.min(log.length, 10)} of ${log.length}):`);
    for (const e of log.slice(-10)) lines.push(`  ${clock(e.at)}  ${e.message}`);
  }
  if (desc.status.name === 'COMPLETED') lines.push(`result    ${JSON.stringify(result)}`);
  if (failure) lines.push(`failure   ${failure.join('\n  caused by: ')}`);
  console.log(lines.join('\n'));
  return EXIT.ok;
}
