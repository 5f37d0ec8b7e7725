// Control API of the simulated fleet: inspect state, counters and readiness timelines, and
// change faults at runtime. Its own listener on 127.0.0.1, JSON only, a bearer token random per start
// on every request: any local process (a browser page too) can reach a loopback port.
import http from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { describeIssues } from '../../src/core/config.js';
import { TAG_IMAGE_CHANNEL } from '../../src/core/labels.js';
import type { SimCluster } from './kube/cluster-api.js';
import type { OciSim } from './oci/index.js';

/** What the control API needs from the Kubernetes side (a subset of KubeSim). */
export interface ControlKube {
  cluster: SimCluster;
  faults: { errorRate: number; errorStatus: number; evictionDelayMs: number; blockEvictions: boolean; podStartDelayMs: number; latencyMs?: number; latencyJitterMs?: number };
  counters(): Record<string, number>;
  readinessTimeline(group?: string): { at: string; group: string; ready: number; readySchedulable: number }[];
}

const ms = z.number().int().min(0).max(3_600_000);

export const ociFaultsPatchSchema = z
  .strictObject({
    errorRate: z.number().min(0).max(1),
    errorStatus: z.union([z.literal(429), z.literal(500)], { error: 'errorStatus must be 429 or 500' }),
    outOfCapacity: z.number().int().min(0),
    neverReady: z.number().int().min(0),
    lostLaunchResponses: z.number().int().min(0),
    lostSecretWriteResponses: z.number().int().min(0),
    launchResponseDelayMs: ms,
    bootDelayMs: ms,
    latencyMs: ms,
    latencyJitterMs: ms,
  })
  .partial();

export const kubeFaultsPatchSchema = z
  .strictObject({
    errorRate: z.number().min(0).max(1),
    errorStatus: z.number().int().min(400).max(599),
    evictionDelayMs: ms,
    blockEvictions: z.boolean(),
    podStartDelayMs: ms,
    latencyMs: ms,
    latencyJitterMs: ms,
  })
  .partial();

export const faultsPatchSchema = z.strictObject({ oci: ociFaultsPatchSchema.optional(), kube: kubeFaultsPatchSchema.optional() });
export type FaultsPatch = z.infer<typeof faultsPatchSchema>;

const nodeReadySchema = z.strictObject({ ready: z.boolean(), reason: z.string().min(1).optional() });
const imageSchema = z.strictObject({
  displayName: z.string().min(1),
  channel: z.string().min(1),
  operatingSystem: z.string().min(1).optional(),
  operatingSystemVersion: z.string().min(1).optional(),
});

export interface ControlServer {
  /** Every request carries `authorization: Bearer <token>`; random per server. */
  readonly token: string;
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Extra routes (e.g. /sim/cassandra): answer `{status, body}` for a path you own, undefined otherwise. */
export type ControlRoutes = (method: string, path: string, body: unknown) => { status: number; body: unknown } | undefined;

export function createControlServer(deps: { oci: OciSim; kube: ControlKube; clusterName: string; routes?: ControlRoutes[] }): ControlServer {
  const { oci, kube } = deps;
  const token = randomBytes(32).toString('base64url');
  const faults = () => ({ oci: { ...oci.faults }, kube: { ...kube.faults } });

  const handle = (method: string, url: URL, body: unknown): unknown => {
    const p = url.pathname.replace(/\/+$/, '');
    if (p === '/sim/state' && method === 'GET') {
      const instances = oci.fleet.summary();
      return {
        clusterName: deps.clusterName,
        region: oci.region,
        compartmentId: oci.compartmentId,
        availabilityDomains: oci.fleet.availabilityDomains.map((a) => a.name),
        images: [...oci.fleet.images.values()].map((i) => ({ id: i.id, displayName: i.displayName, channel: i.freeformTags[TAG_IMAGE_CHANNEL], timeCreated: i.timeCreated })),
        instances,
        nodes: instances
          .filter((i) => i.node.present)
          .map((i) => ({ name: i.node.name, instanceId: i.id, group: i.freeformTags['itinerant.dev/node-group'], status: i.node.status, neverReady: i.node.neverReady })),
        faults: faults(),
      };
    }
    if (p === '/sim/faults' && method === 'GET') return faults();
    if (p === '/sim/faults' && (method === 'PUT' || method === 'PATCH')) {
      const patch = parse(faultsPatchSchema, body, 'fault patch');
      Object.assign(oci.faults, patch.oci ?? {});
      Object.assign(kube.faults, patch.kube ?? {});
      return faults();
    }
    if (p === '/sim/timeline' && method === 'GET') {
      const group = url.searchParams.get('group') ?? undefined;
      return kube.readinessTimeline(group);
    }
    if (p === '/sim/counters' && method === 'GET') return { oci: oci.counters(), kube: kube.counters() };
    if (p === '/sim/images' && method === 'POST') {
      const spec = parse(imageSchema, body, 'image');
      return oci.fleet.addImage({ ...spec, freeformTags: { [TAG_IMAGE_CHANNEL]: spec.channel } });
    }
    const nodeReady = /^\/sim\/nodes\/([^/]+)\/ready$/.exec(p);
    if (nodeReady && method === 'PUT') {
      const name = decodeURIComponent(nodeReady[1]!);
      const spec = parse(nodeReadySchema, body, 'node readiness');
      if (!kube.cluster.hasNode(name)) throw new HttpError(404, `no node ${name}`);
      kube.cluster.setNodeReady(name, spec.ready, spec.reason ?? (spec.ready ? 'KubeletReady' : 'SimulatedFault'));
      return { name, ready: spec.ready };
    }
    if (['/sim/state', '/sim/faults', '/sim/timeline', '/sim/counters', '/sim/images'].includes(p) || nodeReady) {
      throw new HttpError(405, `${method} is not allowed on ${p}`);
    }
    throw new HttpError(404, `no such endpoint ${p}; try GET /sim/state, GET|PUT /sim/faults, GET /sim/timeline?group=, GET /sim/counters, POST /sim/images, PUT /sim/nodes/{name}/ready`);
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(value, null, 2) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
      res.end(text);
    };
    const refused = refusal(req, token);
    if (refused) {
      // Refused before the body is read (it is discarded), and the connection closed with the answer.
      req.resume();
      const headers: Record<string, string> = { connection: 'close' };
      if (refused.status === 401) headers['www-authenticate'] = 'Bearer realm="itinerant-sim"';
      return send(refused.status, { error: refused.error }, headers);
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        if (raw.trim() !== '') {
          try {
            body = JSON.parse(raw);
          } catch {
            throw new HttpError(400, 'request body is not valid JSON');
          }
        }
        const url = new URL(req.url ?? '/', 'http://control');
        for (const route of deps.routes ?? []) {
          const r = route(req.method ?? 'GET', url.pathname, body);
          if (r) return send(r.status, r.body);
        }
        send(200, handle(req.method ?? 'GET', url, body));
      } catch (e) {
        if (e instanceof HttpError) send(e.status, { error: e.message });
        else send(500, { error: (e as Error).message });
      }
    });
  });

  return {
    token,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(`http://${host}:${(server.address() as AddressInfo).port}`);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Shell lines that call the control API with its token (read from endpoints.json, so the token is not printed). */
export function controlCurlExamples(controlUrl: string, endpointsPath: string): string[] {
  return [
    `TOKEN=$(node -p 'require(${JSON.stringify(endpointsPath)}).controlToken')`,
    `curl -s -H "authorization: Bearer $TOKEN" ${controlUrl}/sim/state`,
    `curl -s -X PUT -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"oci":{"errorRate":0.2}}' ${controlUrl}/sim/faults`,
  ];
}

/** Why a request is refused before anything is read or changed: a missing or wrong token (401), a body that is not JSON (415). */
function refusal(req: http.IncomingMessage, token: string): { status: number; error: string } | undefined {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!m || !sameSecret(m[1]!, token)) {
    return { status: 401, error: 'the control API needs authorization: Bearer <token>; the token is controlToken in the sim\'s endpoints.json' };
  }
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(req.method ?? '') || req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (hasBody && mediaType !== 'application/json') {
    return { status: 415, error: `a request with a body must have content-type: application/json${mediaType ? `, not ${mediaType}` : ''}` };
  }
  return undefined;
}

/** Constant-time comparison (of digests, so that the length of the token does not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function parse<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  if (body === undefined) throw new HttpError(400, `invalid ${what}: a JSON body is required`);
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, `invalid ${what}: ${describeIssues(r.error)}`);
  return r.data;
}
