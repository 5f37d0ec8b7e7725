// Request and response helpers every OCI API of the simulated tenancy shares (Compute, Identity, Vault, Secrets).
import { OciApiError } from './types.js';

export type Send = (status: number, body?: unknown, headers?: Record<string, string>) => void;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

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

/** Query parameters: optional ones, and required ones (400 MissingParameter when absent). */
export function queryReader(q: URLSearchParams) {
  return {
    opt: (name: string) => q.get(name) ?? undefined,
    required: (name: string) => {
      const v = q.get(name);
      if (!v) throw new OciApiError(400, 'MissingParameter', `Missing required parameter ${name}.`);
      return v;
    },
  };
}

/** One page of a list (limit, page) with opc-next-page when more follow, as OCI's list operations answer. */
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
