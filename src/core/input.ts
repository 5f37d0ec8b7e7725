import { z } from 'zod';
import { describeIssues } from './group-size.js';
import { parseDuration } from './duration.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** A duration field ("15m", "24h" or milliseconds) with bounds; the issue's path names the field. */
export const boundedDuration = (dflt: string, minMs: number, maxMs: number) =>
  z
    .union([z.string(), z.number()])
    .default(dflt)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms < minMs || ms > maxMs) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration between ${minMs / 1000}s and ${maxMs / 3_600_000}h such as "${dflt}", got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return ms;
    });

/** Parse a runbook's JSON object input with its schema; `example` is shown when the input is not an object at all. */
export function parseObjectInput<S extends z.ZodType>(schema: S, input: unknown, example: string): ParseResult<z.output<S>> {
  if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, message: `input: expected a JSON object such as ${example}` };
  }
  const r = schema.safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: describeIssues(r.error) };
}
