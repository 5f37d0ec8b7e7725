// Wire helpers shared by the simulated OCI services' routes: JSON bodies, paging, the answer function.
import { OciApiError } from './types.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export type Send = (status: number, body?: unknown, headers?: Record<string, string>) => void;

export function jsonObject(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new OciApiError(400, 'InvalidParameter', 'The request body is not valid JSON.');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OciApiError(400, 'InvalidParameter', 'The request body must be a JSON object.');
  return v as Record<string, unknown>;
}

export function page<T>(items: T[], q: URLSearchParams, send: Send): void {
  const limitRaw = q.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new OciApiError(400, 'InvalidParameter', `Invalid limit ${limitRaw}; expected 1..${MAX_LIMIT}.`);
  }
  let offset = 0;
  const pageRaw = q.get('page');
  if (pageRaw !== null) {
    const m = /^sim-page-(\d+)$/.exec(pageRaw);
    if (!m) throw new OciApiError(400, 'InvalidParameter', `Invalid page token ${pageRaw}.`);
    offset = Number(m[1]);
  }
  const slice = items.slice(offset, offset + limit);
  const next: Record<string, string> = offset + limit < items.length ? { 'opc-next-page': `sim-page-${offset + limit}` } : {};
  send(200, slice, next);
}
