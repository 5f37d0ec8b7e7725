// The codec server Temporal's Web UI and CLI call (POST <endpoint>/decode and /encode, payloads as proto3 JSON) so that
// authorised people see decrypted inputs and results. The browser calls it cross-origin: only the configured UI
// origins get CORS headers; every POST needs `authorization: Bearer <token>` (a token given to the server; the UI
// forwards its user's access token when "include cross-origin credentials" is on). Nothing it decodes is logged.
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto'; // CommonJS: its namespace is the default export under Node's ESM loader
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const { temporal } = proto;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call it from a browser (the Web UI's, e.g. http://127.0.0.1:8080). */
  corsOrigins: readonly string[];
  /** Bearer tokens it accepts. */
  tokens: readonly string[];
  maxBodyBytes?: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the header carries one of the tokens (compared in constant time, by digest). */
export function bearerAccepted(header: string | undefined, tokens: readonly string[]): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = digest(m[1]!);
  return tokens.reduce((ok, t) => timingSafeEqual(given, digest(t)) || ok, false);
}

const toJson = (p: Payload) => temporal.api.common.v1.Payload.toObject(temporal.api.common.v1.Payload.create(p), { bytes: String });
const fromJson = (o: unknown) => temporal.api.common.v1.Payload.fromObject(o as object) as Payload;

export function createCodecServer(opts: CodecServerOptions): Server {
  if (opts.tokens.length === 0) throw new Error('the codec server needs at least one bearer token');
  const limit = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  return createServer((req, res) => {
    handle(req, res).catch((e: unknown) => reply(res, 400, { error: (e as Error).message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const origin = req.headers.origin;
    if (origin && opts.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader('access-control-allow-headers', 'authorization, content-type, x-namespace');
      res.setHeader('vary', 'origin');
    }
    if (req.method === 'OPTIONS') return reply(res, 204);
    const op = /\/(encode|decode)$/.exec(new URL(req.url ?? '/', 'http://codec').pathname)?.[1];
    if (req.method !== 'POST' || !op) return reply(res, 404, { error: 'POST /encode or /decode' });
    if (!bearerAccepted(req.headers.authorization, opts.tokens)) return reply(res, 401, { error: 'a valid bearer token is required' });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return reply(res, 415, { error: 'content-type must be application/json' });
    const body = JSON.parse(await readBody(req, limit)) as { payloads?: unknown[] };
    if (!Array.isArray(body.payloads)) return reply(res, 400, { error: 'body must be {"payloads": [...]}' });
    const payloads = body.payloads.map(fromJson);
    const out = op === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
    reply(res, 200, { payloads: out.map(toJson) });
  }
}

function reply(res: ServerResponse, status: number, body?: object) {
  if (body) res.setHeader('content-type', 'application/json');
  res.writeHead(status).end(body ? JSON.stringify(body) : undefined);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`body over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
