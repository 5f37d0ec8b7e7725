import { z } from 'zod';
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
