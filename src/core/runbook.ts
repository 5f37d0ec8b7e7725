// The operator surface every runbook shares: the shape of its progress, the names of its signals,
// query and update, the questions it may put to an operator, and the failure types it ends with.
// Pure: imported by workflows, the CLI, other services' clients and tests alike.

/** Signals, query and update names every runbook answers to (the repaver lane: pause and resume only). */
export const RUNBOOK_SIGNAL_PAUSE = 'pause';
export const RUNBOOK_SIGNAL_RESUME = 'resume';
export const RUNBOOK_SIGNAL_ABORT = 'abort';
export const RUNBOOK_QUERY_PROGRESS = 'progress';
/** Workflow Update that answers the question a runbook is waiting on (validated: an invalid answer is an error back). */
export const RUNBOOK_UPDATE_ANSWER = 'answer';

/** How a runbook ends when it does not succeed (ApplicationFailure types). */
export const FailureType = {
  /** The input does not parse: refused before anything was read or changed. */
  InvalidInput: 'InvalidInput',
  /** The input parses, but the target may not be worked on now (unsafe, busy, unknown): nothing was changed. */
  Refused: 'Refused',
  /** An operator stopped it; what could be undone was undone. */
  Aborted: 'Aborted',
  /** An operator answered a question with "no" (or nobody answered and the question's deadline says no). */
  OperatorRejected: 'OperatorRejected',
  /** A step did not finish within the runbook's bound; what could be undone was undone. */
  TimedOut: 'TimedOut',
  /** A step failed for good; what could be undone was undone. */
  Failed: 'Failed',
  /** A rollout failed its health gates (or was refused approval) and was rolled back. */
  RolledBack: 'RolledBack',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Refusal type of runs recorded before the runbook frame; still read by the lane for children in flight. */
export const LEGACY_REFUSED = 'InvalidTarget';

/** Phases every runbook may end in (or pass through, compensating), besides its own. */
export type EndPhase = 'compensating' | 'done' | 'refused' | 'failed' | 'aborted';

export interface LogEntry {
  at: string;
  message: string;
}

/** A question a runbook waits on: answered by the `answer` update (UI, CLI, another service) or by its deadline. */
export interface PendingQuestion {
  /** Unique within the run, so that an answer meant for an earlier question is refused. */
  id: string;
  text: string;
  /** Option name → what choosing it does. */
  options: Record<string, string>;
  askedAt: string;
  /** When nobody has answered by then, `onDeadline` is what happens. */
  deadline?: string;
  onDeadline: string;
}

export interface OperatorAnswer {
  option: string;
  /** The question meant; when given and not the pending one, the answer is refused. */
  questionId?: string;
  /** Who answered (a person, a pipeline): recorded in the log. */
  by?: string;
  note?: string;
}

export interface AnswerOutcome {
  questionId: string;
  option: string;
}

/** What every runbook's progress query answers; each runbook adds its own fields. */
export interface RunbookProgress<Phase extends string = string> {
  runbook: string;
  cluster: string;
  target: string;
  phase: Phase;
  paused: boolean;
  abortRequested?: string;
  question?: PendingQuestion;
  log: LogEntry[];
  error?: string;
  startedAt: string;
  updatedAt: string;
}

/** Check an answer against the pending question: undefined when acceptable, else why not (shown to whoever answered). */
export function answerProblem(question: PendingQuestion | undefined, answer: unknown): string | undefined {
  if (!question) return 'no question is pending';
  if (!answer || typeof answer !== 'object') return `expected {"option": one of ${Object.keys(question.options).join(', ')}}`;
  const { option, questionId } = answer as Partial<OperatorAnswer>;
  if (questionId !== undefined && questionId !== question.id) return `question ${questionId} is no longer pending (pending: ${question.id})`;
  if (typeof option !== 'string' || !Object.hasOwn(question.options, option)) {
    return `"${String(option)}" is not an answer to ${question.id}; choose one of ${Object.keys(question.options).join(', ')}`;
  }
  return undefined;
}

/** The innermost message of an error chain (ActivityFailure → ApplicationFailure → ...): what the operator needs to read. */
export function rootMessage(e: unknown): string {
  let cur = e as { message?: string; cause?: unknown } | undefined;
  while (cur?.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}

/** Keep a log bounded: the newest `limit` entries. */
export function appendLog(log: LogEntry[], entry: LogEntry, limit: number): void {
  log.push(entry);
  while (log.length > limit) log.shift();
}
