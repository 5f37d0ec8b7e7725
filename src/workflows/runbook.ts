// The runbook frame: the operator surface every runbook shares, written once. A runbook calls
// startRunbook() first, then reads as its steps: gate() between steps (pause/abort), interruptible()
// around steps an abort may cut short, onFailure() for what to undo, awaitOperator() for a decision,
// and run() around the whole so that a failure or an abort unwinds the compensations and ends the run
// with the phase, the error and the failure type set.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { QueryDefinition, SearchAttributeUpdatePair } from '@temporalio/common';
import {
  answerProblem,
  appendLog,
  FailureType,
  rootMessage,
  RUNBOOK_QUERY_PROGRESS,
  RUNBOOK_SIGNAL_ABORT,
  RUNBOOK_SIGNAL_PAUSE,
  RUNBOOK_SIGNAL_RESUME,
  RUNBOOK_UPDATE_ANSWER,
  type AnswerOutcome,
  type EndPhase,
  type OperatorAnswer,
  type PendingQuestion,
  type RunbookProgress,
} from '../core/runbook.js';
import { SA_PHASE } from '../core/search-attributes.js';
import { audit, metrics } from './sinks.js';

/** `by`: who sent it (the CLI says user@host), for the audit stream; older clients send none. */
export const pauseSignal = defineSignal<[reason?: string, by?: string]>(RUNBOOK_SIGNAL_PAUSE);
export const resumeSignal = defineSignal<[by?: string]>(RUNBOOK_SIGNAL_RESUME);
export const abortSignal = defineSignal<[reason?: string, by?: string]>(RUNBOOK_SIGNAL_ABORT);
export const progressQuery = defineQuery<RunbookProgress>(RUNBOOK_QUERY_PROGRESS);
export const answerUpdate = defineUpdate<AnswerOutcome, [OperatorAnswer]>(RUNBOOK_UPDATE_ANSWER);
/** The progress query typed for one runbook's progress (it is the same query for every runbook). */
export const progressQueryOf = <P extends RunbookProgress>() => progressQuery as unknown as QueryDefinition<P, []>;

/**
 * Runs recorded before the frame upserted ItinerantPhase on every enter(), even when the phase did not
 * change; new runs upsert only changes. Also orders the end of a run: see `run`.
 */
const PATCH_RUNBOOK_FRAME = 'runbook-frame-v1';

export interface RunbookOptions<P extends RunbookProgress> {
  /** The progress the query answers; the frame owns its base fields (phase, paused, log, question, error, times). */
  progress: Omit<P, 'paused' | 'log' | 'startedAt' | 'updatedAt'>;
  /** Upserted once, at the start (cluster, runbook, target, ...). */
  searchAttributes: SearchAttributeUpdatePair[];
  /** The UI's current details for the progress as it is (markdown, one line or two). */
  details(progress: P): string;
  /** What a refusal says it refused: "repave node-1" → "refused to repave node-1: ...". */
  refusing: string;
  /** What the operator is left with after a failure, appended to its error (may change as the run goes on). */
  aftermath?: () => string;
  /** Structured fields for every log line. */
  logFields: Record<string, unknown>;
  logLimit?: number;
  /** Operator controls: pause/resume between steps, and abort (a function says why an abort is refused right now). */
  controls?: { pause?: boolean; abort?: boolean; abortRefusedBecause?: (progress: P) => string | undefined; onPauseChange?: (paused: boolean, reason: string) => void };
  /**
   * Workflows written before the frame upserted their phase on every enter and ended a failed run
   * before undoing; `legacy` keeps that for runs recorded so (patched), new runs get the frame's order.
   */
  legacy?: { phaseAlwaysUpserted?: boolean; endBeforeUndo?: boolean };
  /** The progress query's answer (default: the progress as it is). */
  answerQuery?: (progress: P) => P;
}

export interface Runbook<P extends RunbookProgress> {
  readonly progress: P;
  note(message: string): void;
  /**
   * Enter a phase: the progress query and the UI's details, and the ItinerantPhase search attribute unless
   * `transient` (a phase too brief to search for, which would cost a history event and a visibility write each time).
   */
  enter(phase: P['phase'] | EndPhase, opts?: { transient?: boolean }): void;
  /** Upsert these search attributes with the next phase change (one history event instead of two). */
  upsertWithNextPhase(attributes: SearchAttributeUpdatePair[]): void;
  /** Refresh the UI's current details after progress changed without a phase change. */
  details(): void;
  /** Step boundary: hold while paused, end the run if aborted, then enter the phase. */
  gate(phase: P['phase']): Promise<void>;
  /** Run a step that an abort cuts short (its activities are cancelled). */
  interruptible<T>(step: () => Promise<T>): Promise<T>;
  /** End the run now if an abort was requested. */
  checkAbort(): void;
  /** Request an abort from inside the run (an operator's answer, say), as the abort signal does. */
  abort(reason: string): void;
  readonly abortReason: string | undefined;
  /** Remember how to undo a step; unwound in reverse when the run fails or is aborted. Returns a function that forgets it. */
  onFailure(undo: () => Promise<void>): () => void;
  /** Ask an operator and wait for the answer (the `answer` update), the deadline, or an abort. */
  awaitOperator<O extends string>(question: Question<O>): Promise<Answered<O>>;
  /** Answer the pending question (what the `answer` update does; also for signals kept for older clients). Returns why not, if refused. */
  answer(a: OperatorAnswer): string | undefined;
  /** Refuse the target before any change: phase refused, nonRetryable Refused. */
  refuse(message: string): never;
  /** End the run now with this phase and failure type; `run` undoes what is registered on the way out. */
  end(phase: 'failed' | 'aborted', message: string, type: FailureType): never;
  /** Wrap the runbook's body: unwind compensations and end with phase and error on any failure. */
  run<T>(body: () => Promise<T>): Promise<T>;
  /** Mark the run done. */
  done(message: string): void;
}

export interface Question<O extends string> {
  /** Unique within the run (e.g. `stuck-2`). */
  id: string;
  text: string;
  options: Record<O, string>;
  /** Epoch ms; none: wait as long as it takes. */
  deadline?: number;
  /** The option taken when the deadline passes unanswered. */
  onDeadline: O;
}

export interface Answered<O extends string> {
  option: O;
  /** `operator` when someone answered, `deadline` when nobody did in time. */
  by: 'operator' | 'deadline';
  answer?: OperatorAnswer;
}

/** How the run ends: the phase it ends in and the failure it ends with. */
interface Ending {
  phase: 'refused' | 'failed' | 'aborted';
  failure: ApplicationFailure;
}

/** An activity's failure that no retry will change (its cause is a non-retryable ApplicationFailure). */
function isNonRetryable(e: unknown): boolean {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}

/** Input that does not parse: refused before anything is read or changed. */
export function invalidInput(workflowType: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`invalid ${workflowType} input: ${message}`, FailureType.InvalidInput);
}

export function startRunbook<P extends RunbookProgress>(opts: RunbookOptions<P>): Runbook<P> {
  const now = () => new Date().toISOString();
  const cluster = String(opts.logFields.cluster ?? '');
  const startedAt = now();
  const progress = { ...opts.progress, paused: false, log: [], startedAt, updatedAt: startedAt } as unknown as P;
  const logLimit = opts.logLimit ?? 50;
  const controls = opts.controls ?? { pause: true, abort: true };
  const undo: { fn: () => Promise<void>; live: boolean }[] = [];
  let abortReason: string | undefined;
  let answered: OperatorAnswer | undefined;
  let cancellable: CancellationScope | undefined;
  let upsertedPhase: string | undefined;
  let withNextPhase: SearchAttributeUpdatePair[] = [];
  /** What refuse() or end() threw: recognised by run() on the way out. */
  let thrown: Ending | undefined;
  let ended: Ending | undefined;

  const rb: Runbook<P> = {
    progress,
    get abortReason() {
      return abortReason;
    },
    note(message) {
      progress.updatedAt = now();
      appendLog(progress.log, { at: progress.updatedAt, message }, logLimit);
      log.info(message, opts.logFields);
    },
    enter(phase, { transient = false } = {}) {
      progress.phase = phase;
      progress.updatedAt = now();
      if (!transient && (phase !== upsertedPhase || (opts.legacy?.phaseAlwaysUpserted && !patched(PATCH_RUNBOOK_FRAME)))) {
        upsertedPhase = phase;
        upsertSearchAttributes([...withNextPhase, { key: SA_PHASE, value: phase }]);
        withNextPhase = [];
      }
      rb.details();
    },
    upsertWithNextPhase(attributes) {
      withNextPhase.push(...attributes);
    },
    details() {
      setCurrentDetails(opts.details(progress));
    },
    async gate(phase) {
      // Always awaited, paused or not: skipping it would run what follows earlier within the activation than runs in
      // flight did, and could order their commands differently on replay.
      await condition(() => !progress.paused || abortReason !== undefined);
      rb.checkAbort();
      rb.enter(phase);
    },
    async interruptible(step) {
      cancellable = new CancellationScope();
      try {
        return await cancellable.run(step);
      } catch (e) {
        if (abortReason !== undefined && isCancellation(e)) rb.checkAbort();
        throw e;
      } finally {
        cancellable = undefined;
      }
    },
    checkAbort() {
      if (abortReason !== undefined) rb.end('aborted', `aborted by operator: ${abortReason}`, FailureType.Aborted);
    },
    abort(reason) {
      const why = reason.slice(0, 200) || 'no reason given';
      const refused = controls.abortRefusedBecause?.(progress);
      if (refused) {
        rb.note(`abort (${why}) ignored: ${refused}`);
        return;
      }
      if (abortReason !== undefined) return;
      abortReason = why;
      progress.abortRequested = why;
      rb.note(`abort requested: ${why}`);
      cancellable?.cancel();
    },
    onFailure(fn) {
      const entry = { fn, live: true };
      undo.push(entry);
      return () => {
        entry.live = false;
      };
    },
    async awaitOperator<O extends string>(q: Question<O>): Promise<Answered<O>> {
      const question: PendingQuestion = {
        id: q.id,
        text: q.text,
        options: q.options,
        askedAt: now(),
        ...(q.deadline !== undefined ? { deadline: new Date(q.deadline).toISOString() } : {}),
        onDeadline: q.onDeadline,
      };
      progress.question = question;
      answered = undefined;
      rb.details();
      try {
        const wait = () => answered !== undefined || abortReason !== undefined;
        const inTime = q.deadline === undefined ? (await condition(wait), true) : await condition(wait, Math.max(q.deadline - Date.now(), 1));
        rb.checkAbort();
        if (!inTime || !answered) {
          rb.note(`nobody answered ${q.id} by its deadline: ${q.onDeadline}`);
          return { option: q.onDeadline, by: 'deadline' };
        }
        const a: OperatorAnswer = answered;
        rb.note(`${a.by ?? 'operator'} answered ${q.id}: ${a.option}${a.note ? ` (${a.note.slice(0, 200)})` : ''}`);
        return { option: a.option as O, by: 'operator', answer: a };
      } finally {
        delete progress.question;
        answered = undefined;
      }
    },
    refuse(message) {
      thrown = { phase: 'refused', failure: ApplicationFailure.nonRetryable(`refused to ${opts.refusing}: ${message}`, FailureType.Refused) };
      finish('refused', message);
      throw thrown.failure;
    },
    end(phase, message, type) {
      thrown = { phase, failure: ApplicationFailure.nonRetryable(withAftermath(message), type) };
      throw thrown.failure;
    },
    answer(a) {
      const problem = answerProblem(progress.question, a);
      if (problem === undefined) answered = a;
      return problem;
    },
    async run(body) {
      try {
        return await body();
      } catch (e) {
        throw (await ending(e)).failure;
      }
    },
    done(message) {
      metrics.runbookEnded({ cluster, phase: 'done' });
      rb.enter('done');
      rb.note(message);
    },
  };

  /** Unwind, then end (or, for runs recorded before the frame that ended first, end then unwind). */
  async function ending(e: unknown): Promise<Ending> {
    if (ended) return ended;
    const own = thrown !== undefined && e === thrown.failure;
    const aborted = abortReason !== undefined;
    // A step that fails for good while the run still validates has changed nothing: that is a refusal (an unknown
    // cluster, say), and its reason is the message, not "Activity task failed".
    const preflight = !own && !aborted && progress.phase === 'validating' && isNonRetryable(e);
    const end: Ending = own
      ? thrown!
      : preflight
        ? { phase: 'refused', failure: ApplicationFailure.nonRetryable(`refused to ${opts.refusing}: ${rootMessage(e)}`, FailureType.Refused) }
        : {
            phase: aborted ? 'aborted' : 'failed',
            failure: ApplicationFailure.nonRetryable(
              withAftermath(aborted ? `aborted by operator: ${abortReason}` : rootMessage(e)),
              aborted ? FailureType.Aborted : FailureType.Failed,
            ),
          };
    ended = end;
    if (end.phase === 'refused') {
      if (preflight) finish('refused', rootMessage(e));
      await unwind();
      return end;
    }
    const endFirst = opts.legacy?.endBeforeUndo && own && !patched(PATCH_RUNBOOK_FRAME);
    if (endFirst) finish(end.phase, end.failure.message);
    await unwind();
    if (!endFirst) finish(end.phase, end.failure.message);
    return end;
  }

  function withAftermath(message: string): string {
    const left = opts.aftermath?.();
    return left ? `${message}; ${left}` : message;
  }

  function finish(phase: 'refused' | 'failed' | 'aborted', error: string) {
    metrics.runbookEnded({ cluster, phase });
    progress.error = error;
    rb.enter(phase);
  }

  async function unwind() {
    const live = undo.filter((u) => u.live).reverse();
    undo.length = 0;
    if (live.length === 0) return;
    progress.phase = 'compensating';
    rb.details();
    await CancellationScope.nonCancellable(async () => {
      for (const u of live) await u.fn();
    });
  }

  setHandler(progressQuery, () => (opts.answerQuery ? opts.answerQuery(progress) : progress));
  if (controls.pause) {
    const pause = (paused: boolean, reason: string) => {
      if (progress.paused === paused) return;
      progress.paused = paused;
      rb.note(reason);
      controls.onPauseChange?.(paused, reason);
    };
    setHandler(pauseSignal, (reason, by) => {
      audit.operator({ action: 'pause', ...(by ? { by } : {}), ...(reason ? { detail: reason } : {}) });
      pause(true, reason?.slice(0, 200) || 'paused by operator');
    });
    setHandler(resumeSignal, (by) => {
      audit.operator({ action: 'resume', ...(by ? { by } : {}) });
      pause(false, 'resumed by operator');
    });
  }
  if (controls.abort) {
    setHandler(abortSignal, (reason, by) => {
      audit.operator({ action: 'abort', ...(by ? { by } : {}), ...(reason ? { detail: reason } : {}) });
      rb.abort(reason ?? '');
    });
  }
  setHandler(
    answerUpdate,
    (a) => {
      const questionId = progress.question!.id;
      audit.operator({ action: 'answer', ...(a.by ? { by: a.by } : {}), detail: `${questionId}: ${a.option}` });
      rb.answer(a);
      return { questionId, option: a.option };
    },
    {
      validator: (a) => {
        const problem = answerProblem(progress.question, a);
        if (problem) throw new Error(problem);
      },
    },
  );

  upsertSearchAttributes(opts.searchAttributes);
  metrics.runbookStarted({ cluster });
  rb.enter(progress.phase);
  return rb;
}
