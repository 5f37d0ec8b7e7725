// The audit stream: every side effect (an attempt of an activity in SIDE_EFFECT_ACTIVITIES), and every operator's pause,
// resume, abort and answer with who sent it (from the runbook frame, through a sink), as one JSON line, to
// ITINERANT_AUDIT_LOG (a file, appended synchronously; or `stdout`, the default). Who: the runbook, its workflow and run;
// what: the action, its cluster and target, the request's and the result's plain fields; when; and how it ended.
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { appendFileSync } from 'node:fs';
import { SIDE_EFFECT_ACTIVITIES } from '../activities/side-effects.js';
import type { ItinerantSinks } from '../workflows/sinks.js';
import { targetOf } from './activity-log.js';

export type AuditSink = (line: string) => void;

export function auditSinkFromEnv(env: NodeJS.ProcessEnv = process.env): AuditSink {
  const where = env.ITINERANT_AUDIT_LOG?.trim() || 'stdout';
  if (where === 'stdout') return (line) => void process.stdout.write(line);
  return (line) => appendFileSync(where, line, { mode: 0o600 });
}

/** A value's plain fields: strings, numbers and booleans, and arrays as their length (pod lists, say). */
function plain(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object') return value === undefined ? undefined : { value };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[`${k}Count`] = v.length;
  }
  return out;
}

export function auditTrail(sink: AuditSink): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const { activityType, workflowExecution, workflowType, attempt } = ctx.info;
        if (!SIDE_EFFECT_ACTIVITIES.has(activityType)) return next(input);
        const req = input.args[0] as { cluster?: unknown } | undefined;
        const line = (outcome: 'done' | 'failed', detail: Record<string, unknown>) =>
          sink(
            JSON.stringify({
              audit: 'itinerant',
              at: new Date().toISOString(),
              who: { runbook: workflowType, workflowId: workflowExecution?.workflowId, runId: workflowExecution?.runId },
              what: { action: activityType, cluster: req?.cluster, target: targetOf(input.args), request: plain(req), ...detail },
              attempt,
              outcome,
            }) + '\n',
          );
        try {
          const result = await next(input);
          line('done', { result: plain(result) });
          return result;
        } catch (e) {
          line('failed', { error: (e as Error).message });
          throw e;
        }
      },
    },
  });
}

/** The workflows' `audit` sink: an operator's action as an audit line (none without a sink; never during replay). */
export function auditSinks(sink: AuditSink | undefined): InjectedSinks<Pick<ItinerantSinks, 'audit'>> {
  return {
    audit: {
      operator: {
        fn(info, { action, by, detail }) {
          sink?.(
            JSON.stringify({
              audit: 'itinerant',
              at: new Date().toISOString(),
              who: { runbook: info.workflowType, workflowId: info.workflowId, runId: info.runId, operator: by ?? 'unknown (a client that does not say)' },
              what: { action, ...(detail ? { detail } : {}) },
              outcome: 'received',
            }) + '\n',
          );
        },
      },
    },
  };
}
