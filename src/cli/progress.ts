// Progress printing for `run --wait` and `watch`, and the other pure formatting the CLI does.
// Nothing here talks to Temporal: the caller feeds in query answers and describe() output.
import type { PendingQuestion, RunbookProgress } from '../core/runbook.js';

/** What the progress query answers, as far as printing goes: the frame's shape, read defensively. */
export type ProgressLike = Partial<RunbookProgress>;

/** How a pending question reads, with the command that answers it. */
export function questionLines(q: PendingQuestion, workflowId: string): string[] {
  return [
    `question  ${q.id}: ${q.text}`,
    ...Object.entries(q.options).map(([option, meaning]) => `  ${option.padEnd(12)} ${meaning}`),
    `  answer with: itinerant answer ${workflowId} <${Object.keys(q.options).join('|')}> [--note <text>]` +
      (q.deadline ? `; unanswered by ${q.deadline}: ${q.onDeadline}` : ''),
  ];
}

/** A pending activity from describe(), heartbeat details already decoded. */
export interface PendingActivityView {
  activityId: string;
  activityType: string;
  attempt: number;
  state?: string;
  heartbeatDetails?: unknown;
  lastHeartbeatTime?: Date;
  lastFailure?: string;
}

/** `12:34:56Z` — UTC wall clock, so lines from the workflow and from this process line up. */
export function clock(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  return Number.isNaN(d.getTime()) ? String(at) : `${d.toISOString().slice(11, 19)}Z`;
}

/** Compact one-line rendering of JSON-ish details: `evicted=[a, b, … +7] remaining=3`. */
export function formatDetails(v: unknown, depth = 0): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return depth === 0 ? v : /[\s=,[\]{}]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) {
    const shown = v.slice(0, 3).map((x) => formatDetails(x, depth + 1));
    return `[${shown.join(', ')}${v.length > 3 ? `, … +${v.length - 3}` : ''}]`;
  }
  if (depth > 1) return JSON.stringify(v);
  const body = Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}=${formatDetails(x, depth + 1)}`)
    .join(depth === 0 ? ' ' : ', ');
  return depth === 0 ? body : `{${body}}`;
}

export function formatHeartbeat(activityType: string, details: unknown): string {
  return `${activityType}: ${formatDetails(details)}`;
}

/** Remembers what was printed; each update returns only the new lines. */
export class ProgressTracker {
  private phase: string | undefined;
  private question: string | undefined;
  private paused: boolean | undefined;
  private readonly seenLog = new Set<string>();
  private readonly heartbeats = new Map<string, string>();

  progress(p: ProgressLike, now: Date, workflowId = '<workflowId>'): string[] {
    const lines: string[] = [];
    // Log entries carry their own time; the workflow keeps only the last 50, so dedupe by content.
    for (const entry of p.log ?? []) {
      const key = `${entry.at}\u0000${entry.message}`;
      if (this.seenLog.has(key)) continue;
      this.seenLog.add(key);
      lines.push(`${clock(entry.at)}   ${entry.message}`);
    }
    if (p.phase !== undefined && p.phase !== this.phase) {
      this.phase = p.phase;
      lines.push(`${clock(now)} ▸ phase ${p.phase}${p.paused ? ' (paused)' : ''}`);
    } else if (p.paused !== undefined && this.paused !== undefined && p.paused !== this.paused) {
      lines.push(`${clock(now)} ▸ ${p.paused ? 'paused' : 'resumed'} in phase ${p.phase ?? '?'}`);
    }
    this.paused = p.paused;
    if (p.question && p.question.id !== this.question) lines.push(...questionLines(p.question, workflowId).map((l) => `${clock(now)} ? ${l}`));
    this.question = p.question?.id;
    return lines;
  }

  /** A line per activity whose heartbeat details changed since the last call. */
  activities(pending: PendingActivityView[], now: Date): string[] {
    const lines: string[] = [];
    for (const a of pending) {
      if (a.heartbeatDetails === undefined) continue;
      const text = formatHeartbeat(a.activityType, a.heartbeatDetails);
      const key = `${a.activityId}/${a.activityType}`;
      if (this.heartbeats.get(key) === text) continue;
      this.heartbeats.set(key, text);
      lines.push(`${clock(now)}   ♥ ${text}${a.attempt > 1 ? ` (attempt ${a.attempt})` : ''}`);
    }
    return lines;
  }
}

interface FailureLike {
  name?: string;
  message?: string;
  type?: string | null;
  applicationFailureInfo?: { type?: string | null } | null;
  cause?: unknown;
}

/**
 * The messages of an error and its causes, outermost first: `[message (Type), cause, ...]`.
 * Works on SDK errors (WorkflowFailedError → ApplicationFailure → ...) and on proto Failures from describe().
 * The SDK's generic "Workflow execution failed" wrapper is dropped when it has a cause.
 */
export function failureChain(err: unknown): string[] {
  const out: string[] = [];
  let cur = err as FailureLike | undefined;
  for (let i = 0; cur && i < 10; i++, cur = cur.cause as FailureLike | undefined) {
    if (typeof cur !== 'object') {
      out.push(String(cur));
      break;
    }
    const type = cur.type ?? cur.applicationFailureInfo?.type;
    const msg = cur.message || cur.name || 'unknown error';
    if (i === 0 && cur.name === 'WorkflowFailedError' && cur.cause) continue;
    out.push(type ? `${msg} (${type})` : msg);
  }
  return out;
}

export function formatFailure(err: unknown): string {
  const [first, ...causes] = failureChain(err);
  return [first ?? 'unknown error', ...causes.map((c) => `  caused by: ${c}`)].join('\n');
}

/** Left-aligned columns, two spaces apart. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function webUiLink(base: string, namespace: string, workflowId: string): string {
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A visibility query: `ItinerantCluster = "a" AND ExecutionStatus = "Running"` ('' lists everything). */
export function visibilityQuery(filters: { cluster?: string; runbook?: string; running?: boolean }): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const parts: string[] = [];
  if (filters.cluster !== undefined) parts.push(`ItinerantCluster = ${q(filters.cluster)}`);
  if (filters.runbook !== undefined) parts.push(`ItinerantRunbook = ${q(filters.runbook)}`);
  if (filters.running) parts.push('ExecutionStatus = "Running"');
  return parts.join(' AND ');
}
