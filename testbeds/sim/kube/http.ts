// HTTP front: bearer-token auth, fault injection, routing to discovery and
// resources, content negotiation (JSON, Table; protobuf requests get JSON).

import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import type { SimContext } from './context.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.js';
import { evict } from './eviction.js';
import { groupVersion, resourceByPlural, type KObject, type ResourceType } from './resources.js';
import { patchTypeOf, type KubeApi } from './rest.js';
import { ApiError, errors, failure, success } from './status.js';
import { toTable, wantsTable } from './table.js';
import { objectFromProtobuf } from './protobuf.js';
import { podLog } from './logs.js';
import { isReview, review } from './reviews.js';
import { toCoreEvent, toEventsV1 } from './events-v1.js';
import { openApiDocument, openApiRoot, unknownFields } from './openapi.js';
import { injectLatency } from '../latency.js';
import type { WatchHub } from './watch.js';
import { wireJson } from './store.js';
import { authorized, forbidden, verbOf, type RequestAttributes, type RestrictedIdentity } from './rbac.js';

export interface Route {
  rt: ResourceType;
  ns?: string;
  name?: string;
  sub?: string;
}

/** Resource path after /api/v1 or /apis/{g}/{v}. */
export function parseResourcePath(group: string, version: string, segs: string[]): Route | undefined {
  if (segs[0] === 'namespaces' && segs.length >= 3) {
    const rt = resourceByPlural(group, version, segs[2]!);
    if (rt?.namespaced) return { rt, ns: segs[1], name: segs[3], sub: segs[4] };
  }
  const rt = resourceByPlural(group, version, segs[0] ?? '');
  if (!rt) return undefined;
  return { rt, name: segs[1], sub: segs[2] };
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, code, JSON.stringify(body), headers);
}

function sendText(res: ServerResponse, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

const LIST_SLICE = 500;

/**
 * A list's JSON, each stored object serialized once (wireJson). A long list goes out in slices of LIST_SLICE
 * items, each written once the client has taken the last (or after a turn of the event loop): a 50,000-pod list is
 * ≈ 90 MB, and written at once it held the sim's loop for 1.5–2.5 s (serializing, encoding, TLS). The items are
 * the stored objects, never mutated, so the list is the snapshot it was when asked for.
 */
async function sendList(res: ServerResponse, head: string, items: readonly KObject[]): Promise<void> {
  if (items.length <= LIST_SLICE) return sendText(res, 200, `${head}${items.map(wireJson).join(',')}]}`);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  let text = head;
  for (let i = 0; i < items.length && !res.destroyed; i += LIST_SLICE) {
    text += items.slice(i, i + LIST_SLICE).map(wireJson).join(',');
    const more = res.write(text);
    await (more ? new Promise<void>((resolve) => setImmediate(resolve)) : drainedOrClosed(res));
    text = ',';
  }
  res.end(']}');
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 10 * 1024 * 1024) throw errors.badRequest('request body too large');
    chunks.push(c as Buffer);
  }
  const raw = Buffer.concat(chunks);
  const text = raw.toString('utf8');
  if (!text.trim()) return undefined;
  const ct = req.headers['content-type'] ?? '';
  if (ct.includes('protobuf')) return objectFromProtobuf(raw); // kubectl's DeleteOptions and reviews; other kinds: 415
  try {
    return ct.includes('yaml') ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`unable to parse request body: ${(e as Error).message}`);
  }
}

const isDiscovery = (path: string): boolean =>
  path === '/version' || path === '/api' || path === '/apis' || path === '/api/v1' || /^\/apis\/[^/]+(\/[^/]+)?$/.test(path) ||
  path.startsWith('/openapi') || ['/healthz', '/livez', '/readyz'].includes(path);

export function createHandler(ctx: SimContext, api: KubeApi, watches: WatchHub, authenticate: (req: IncomingMessage) => 'admin' | RestrictedIdentity | undefined, adminUser: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) send(res, err.code, err.status, err.headers);
      else {
        console.error('kube sim: request failed', err);
        send(res, 500, failure(500, `an error on the server ("${String((err as Error)?.message ?? err)}") has prevented the request from succeeding`, 'InternalError'));
      }
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const method = (req.method ?? 'GET').toUpperCase();

    const caller = authenticate(req);
    if (!caller) throw new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));
    if (!isDiscovery(path)) await injectLatency(ctx.faults);
    if (!isDiscovery(path) && ctx.faults.errorRate > 0 && Math.random() < ctx.faults.errorRate) {
      ctx.counters.injectedErrors++;
      const code = ctx.faults.errorStatus;
      if (code === 429) throw errors.tooManyRequests('the server has received too many requests and has asked us to try again later', undefined, 1);
      throw new ApiError(failure(code, `an error on the server ("simulated fault") has prevented the request from succeeding`, code === 500 ? 'InternalError' : undefined));
    }

    // discovery
    if (method === 'GET') {
      if (path === '/version') return send(res, 200, VERSION_INFO);
      if (path === '/api') return send(res, 200, apiVersions(req.headers.host ?? '127.0.0.1'));
      if (path === '/apis') return send(res, 200, apiGroupList());
      if (path === '/openapi/v3') return send(res, 200, openApiRoot());
      if (path.startsWith('/openapi/v3/')) {
        const doc = openApiDocument(path.slice('/openapi/v3/'.length));
        if (!doc) throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound', {}));
        // Under its hash a document never changes (clients cache it); without, it may.
        const cache = q.get('hash') === doc.hash ? 'public, immutable' : 'no-cache, private';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': doc.body.length, 'Cache-Control': cache, Etag: `"${doc.hash}"` });
        res.end(doc.body);
        return;
      }
      if (['/healthz', '/livez', '/readyz'].includes(path)) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
    }
    const segs = path.split('/').filter(Boolean);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs[1] === 'v1') [group, version, rest] = ['', 'v1', segs.slice(2)];
    else if (segs[0] === 'apis' && segs.length >= 2) {
      if (segs.length === 2) {
        const doc = apiGroupDoc(segs[1]!);
        if (doc && method === 'GET') return send(res, 200, doc);
        throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound'));
      }
      [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
    } else throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound', {}));

    if (isReview(group, rest)) {
      if (method !== 'POST') throw errors.methodNotAllowed();
      return send(res, 201, review(group, rest[0]!, await readBody(req), caller, adminUser));
    }
    if (rest.length > 0 && caller !== 'admin') {
      const a = requestAttributes(method, group, rest, q);
      if (!authorized(caller.grants, a)) throw forbidden(caller.user, a);
    }
    if (rest.length === 0) {
      const doc = method === 'GET' ? apiResourceList(group, version) : undefined;
      if (doc) return send(res, 200, doc);
      throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound', {}));
    }
    const route = parseResourcePath(group, version, rest);
    if (!route) throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound', {}));
    return resource(req, res, route, q, method);
  }

  async function resource(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams, method: string): Promise<void> {
    const { rt, ns, name, sub } = r;
    // events.k8s.io/v1 Events are stored as core/v1 ones: converted on the way in and out.
    const eventsV1 = rt.group === 'events.k8s.io';
    const stored = eventsV1 ? resourceByPlural('', 'v1', 'events')! : rt;
    const out = (o: KObject): KObject => (eventsV1 ? toEventsV1(o) : o);
    const into = (b: unknown): unknown => (eventsV1 ? toCoreEvent(b) : b);
    const accept = req.headers.accept;
    const table = wantsTable(accept);
    const listOpts = { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') };
    const render = (o: KObject): unknown =>
      table ? toTable(rt, [o], { includeObject: q.get('includeObject'), now: ctx.now() }) : out(o);
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    if (q.get('dryRun') && method !== 'GET') throw errors.badRequest('dryRun is not supported by the simulated API server');
    if (sub && !rt.subresources[sub]) throw new ApiError(failure(404, 'the server could not find the requested resource', 'NotFound', {}));

    if (method === 'GET' && (watch || !name) && !sub) {
      if (watch) {
        const timeout = q.get('timeoutSeconds');
        watches.serve(req, res, rt, {
          ns: rt.namespaced ? ns : undefined,
          name,
          ...listOpts,
          resourceVersion: q.get('resourceVersion'),
          timeoutSeconds: timeout ? Number(timeout) : undefined,
          allowBookmarks: q.get('allowWatchBookmarks') === 'true',
          sendInitialEvents: q.get('sendInitialEvents') === 'true',
          render,
          plain: !table && !eventsV1,
        });
        return;
      }
      const rv = ctx.store.resourceVersion;
      const { items, listMeta } = page(api.list(stored, ns, listOpts, { copy: false }), q, rv);
      if (table) return send(res, 200, { ...toTable(rt, items, { includeObject: q.get('includeObject'), now: ctx.now(), resourceVersion: rv }), metadata: listMeta });
      if (!eventsV1) {
        return sendList(res, `{"kind":${JSON.stringify(`${rt.kind}List`)},"apiVersion":${JSON.stringify(groupVersion(rt))},"metadata":${JSON.stringify(listMeta)},"items":[`, items);
      }
      return send(res, 200, { kind: `${rt.kind}List`, apiVersion: groupVersion(rt), metadata: listMeta, items: items.map(out) });
    }
    if (!name) {
      if (method === 'POST') {
        const body = await readBody(req);
        const warnings = fieldValidation(rt, body, q); // before anything is stored
        return send(res, 201, out(api.create(stored, ns, into(body))), warnings);
      }
      if (method === 'DELETE') {
        const items = api.list(stored, ns, listOpts);
        for (const o of items) {
          api.delete(stored, o.metadata.namespace, o.metadata.name, { gracePeriodSeconds: numParam(q, 'gracePeriodSeconds') });
          if (rt.plural === 'pods') ctx.counters.deletedPods++;
        }
        return send(res, 200, { kind: `${rt.kind}List`, apiVersion: groupVersion(rt), metadata: { resourceVersion: ctx.store.resourceVersion }, items: items.map(out) });
      }
      throw errors.methodNotAllowed();
    }
    if (sub === 'eviction') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      return send(res, 201, evict(ctx, api, ns ?? 'default', name, await readBody(req)));
    }
    if (sub === 'log') {
      if (method !== 'GET') throw errors.methodNotAllowed();
      const text = podLog(api.get(rt, ns, name), q.get('container'));
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
      res.end(text);
      return;
    }
    if (sub === 'exec') throw new ApiError(failure(400, 'exec requires a WebSocket upgrade (not available in this simulator unless an upgrade handler is installed)', 'BadRequest'));
    if (sub === 'scale') {
      if (method === 'GET') return send(res, 200, api.getScale(rt, ns, name));
      if (method === 'PUT') return send(res, 200, api.updateScale(rt, ns, name, await readBody(req)));
      if (method === 'PATCH') return send(res, 200, api.patchScale(rt, ns, name, patchTypeOf(req.headers['content-type']), await readBody(req)));
      throw errors.methodNotAllowed();
    }
    const statusSub = sub === 'status' ? 'status' : undefined;
    switch (method) {
      case 'GET': {
        const o = api.get(stored, ns, name);
        if (table) return send(res, 200, toTable(rt, [o], { includeObject: q.get('includeObject'), now: ctx.now(), resourceVersion: o.metadata.resourceVersion }));
        return send(res, 200, out(o));
      }
      case 'PUT': {
        const body = await readBody(req);
        const warnings = fieldValidation(rt, body, q);
        return send(res, 200, out(api.update(stored, ns, name, into(body), statusSub)), warnings);
      }
      case 'PATCH': {
        const type = patchTypeOf(req.headers['content-type']);
        if (eventsV1) throw errors.methodNotAllowed(); // a patch in the newer shape would need converting: not served here
        return send(res, 200, api.patch(rt, ns, name, type, await readBody(req), statusSub));
      }
      case 'DELETE': {
        if (sub) throw errors.methodNotAllowed();
        const body = (await readBody(req)) as { gracePeriodSeconds?: number; preconditions?: { uid?: string } } | undefined;
        const grace = numParam(q, 'gracePeriodSeconds') ?? body?.gracePeriodSeconds;
        const gone = api.delete(stored, ns, name, { gracePeriodSeconds: grace, preconditionUid: body?.preconditions?.uid });
        if (rt.plural === 'pods') {
          ctx.counters.deletedPods++;
          return send(res, 200, gone);
        }
        if (rt.plural === 'persistentvolumeclaims') ctx.counters.deletedClaims++;
        return send(res, 200, { ...success(200, { name, group: rt.group || undefined, kind: rt.plural, uid: gone.metadata.uid }) });
      }
      default: throw errors.methodNotAllowed();
    }
  }
}

/** What kube-apiserver's RequestInfo makes of a resource path (from the URL alone, before any lookup), for RBAC. */
function requestAttributes(method: string, group: string, rest: string[], q: URLSearchParams): RequestAttributes {
  let parts = rest;
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const [plural, name, sub] = parts as [string, string | undefined, string | undefined];
  return {
    verb: verbOf(method, name !== undefined, q.get('watch') === 'true' || q.get('watch') === '1'),
    group,
    resource: sub ? `${plural}/${sub}` : plural,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

/**
 * fieldValidation (kubectl sends Strict): fields the schema does not know refuse the body (Strict) or come back
 * as Warning headers (Warn), in kube-apiserver's words. Ignore (and no parameter, as client-node sends) accepts them.
 */
function fieldValidation(rt: ResourceType, body: unknown, q: URLSearchParams): Record<string, string> {
  const mode = q.get('fieldValidation');
  if (mode !== 'Strict' && mode !== 'Warn') return {};
  const unknown = unknownFields(groupVersion(rt), rt.kind, body);
  if (!unknown.length) return {};
  const list = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') throw errors.badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${list.join(', ')}`);
  return { Warning: list.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

function numParam(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  return v === null || v === '' ? undefined : Number(v);
}


/**
 * A list's page (`limit`, `continue`), as kube-apiserver pages it for client-go and kubectl: `continue` is the
 * resourceVersion and the key to start from, base64 JSON as the API server's. Unlike the API server, a later page
 * reads the store as it is now, not as it was at the first page's resourceVersion.
 */
function page(items: KObject[], q: URLSearchParams, rv: string): { items: KObject[]; listMeta: Record<string, unknown> } {
  const limit = Number(q.get('limit') ?? 0);
  const token = q.get('continue');
  let start = '';
  if (token) {
    try {
      start = String((JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { start: unknown }).start);
    } catch {
      throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
  }
  const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  let lo = 0; // items are in key order: the first at or after `start`
  for (let hi = items.length; lo < hi; ) {
    const mid = (lo + hi) >> 1;
    if (keyOf(items[mid]!) < start) lo = mid + 1;
    else hi = mid;
  }
  const from = start ? items.slice(lo) : items;
  if (!(limit > 0) || from.length <= limit) return { items: from, listMeta: { resourceVersion: rv } };
  const shown = from.slice(0, limit);
  const next = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: `${keyOf(shown[shown.length - 1]!)}\u0000` })).toString('base64');
  return { items: shown, listMeta: { resourceVersion: rv, continue: next, remainingItemCount: from.length - limit } };
}
