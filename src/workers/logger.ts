// The worker's logs as JSON lines (pino) on stdout: the SDK's, the workflows' and the activities' (those carry workflowId,
// workflowRunId, workflowType, runbook and target: src/workers/activity-log.ts).
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import { pino } from 'pino';

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

export function jsonLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination(1)): DefaultLogger {
  const out = pino({ level: LEVELS[level], base: { service: 'itinerant-worker' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return new DefaultLogger(level, ({ level: l, message, meta }) => out[LEVELS[l]](meta ?? {}, message));
}
