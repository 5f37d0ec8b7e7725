// HTTP front of the simulated OCI tenancy: Compute and Identity (API version 20160918), Vault secrets
// management (20180608) and Secrets retrieval (20190301, see vault-routes.ts), wire
// format as the OCI SDK expects, every request authenticated with an OCI request signature.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { AuthError, verifyRequest, type KnownKey } from './auth.js';
import type { OciFleet } from './fleet.js';
import type { OciNetwork } from './network.js';
import { routeNetwork } from './network-routes.js';
import { routeMore, type MoreRoutes } from './more-routes.js';
import { OciApiError } from './types.js';
import { addedLatencyMs } from '../latency.js';
import { jsonObject, page, queryReader, type Send } from './wire.js';
import { routeVault, SECRETS_API, VAULTS_API } from './vault-routes.js';
import type { SimVault } from './vault.js';

const API = '/20160918';
const MAX_BODY = 1 << 20;

export interface OciServerOptions {
  fleet: OciFleet;
  network: OciNetwork;
  more: MoreRoutes;
  vault: SimVault;
  keys: () => KnownKey[];
  log?: (line: string) => void;
}

export function createOciHttpServer(opts: OciServerOptions): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      // OCI's own id, after the client's when it sent one ("<client id>/<OCI's>/<OCI's>"), as OCI answers.
      const ours = () => randomBytes(16).toString('hex').toUpperCase();
      const client = req.headers['opc-request-id'];
      const requestId = typeof client === 'string' && client ? `${client}/${ours()}/${ours()}` : ours();
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        const payload = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, {
          'opc-request-id': requestId,
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
          ...headers,
        });
        res.end(payload);
        opts.log?.(`${req.method} ${req.url} -> ${status}`);
      };
      const fail = (e: unknown) => {
        if (e instanceof OciApiError) return send(e.status, { code: e.code, message: e.message });
        if (e instanceof AuthError) {
          opts.fleet.counters.authFailures++;
          return send(401, {
            code: 'NotAuthenticated',
            message: `The required information to complete authentication was not provided or was incorrect. (simulated fleet: ${e.message})`,
          });
        }
        console.error('[sim/oci] internal error', e);
        return send(500, { code: 'InternalServerError', message: 'Internal Server Error' });
      };
      const body = Buffer.concat(chunks);
      const answer = () => {
        try {
          const faults = opts.fleet.faults;
          if (faults.errorRate > 0 && Math.random() < faults.errorRate) {
            opts.fleet.counters.injectedErrors++;
            throw faults.errorStatus === 429
              ? new OciApiError(429, 'TooManyRequests', 'Too many requests for the user.')
              : new OciApiError(500, 'InternalServerError', 'Internal Server Error (injected fault).');
          }
          route(opts, req, body, send);
        } catch (e) {
          fail(e);
        }
      };
      try {
        if (size > MAX_BODY) throw new OciApiError(413, 'RequestEntityTooLarge', 'The request body is too large.');
        opts.fleet.counters.requests++;
        verifyRequest(req, body, opts.keys());
      } catch (e) {
        return fail(e);
      }
      const delayMs = addedLatencyMs(opts.fleet.faults);
      if (delayMs === 0) answer();
      else setTimeout(answer, delayMs);
    });
  });
}

function route({ fleet, network, more, vault }: OciServerOptions, req: http.IncomingMessage, body: Buffer, send: Send): void {
  const url = new URL(req.url ?? '/', 'http://sim');
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  if (`/${parts[0]}` === VAULTS_API || `/${parts[0]}` === SECRETS_API) return routeVault(vault, fleet.faults, req, url, parts, body, send);
  if (`/${parts[0]}` !== API) throw new OciApiError(404, 'NotFound', `No such API version or path: ${url.pathname}`);
  const [collection, id, ...rest] = parts.slice(1);
  if (rest.length) throw new OciApiError(404, 'NotFound', `No such path: ${url.pathname}`);
  const { opt, required } = queryReader(q);
  if (routeNetwork(network, req, collection, id, q, body, send) || routeMore(more, req, collection, id, q, body, send)) return;

  switch (collection) {
    case 'instances': {
      if (id === undefined && method === 'POST') {
        const details = jsonObject(body);
        const token = req.headers['opc-retry-token'];
        const { instance, replay } = fleet.launch(details, typeof token === 'string' && token !== '' ? token : undefined);
        if (!replay && fleet.faults.lostLaunchResponses > 0) {
          fleet.faults.lostLaunchResponses--;
          fleet.counters.lostLaunchResponses++;
          throw new OciApiError(500, 'InternalServerError', 'Internal Server Error (injected fault: the launch happened, its response was lost).');
        }
        const headers = { etag: etagOf(instance), 'opc-work-request-id': more.workRequests.record('LaunchInstance', instance) };
        if (!replay && fleet.faults.launchResponseDelayMs > 0) {
          setTimeout(() => send(200, instance, headers), fleet.faults.launchResponseDelayMs);
          return;
        }
        return send(200, instance, headers);
      }
      if (id === undefined && method === 'GET') {
        const items = fleet.listInstances({
          compartmentId: required('compartmentId'),
          availabilityDomain: opt('availabilityDomain'),
          displayName: opt('displayName'),
          lifecycleState: opt('lifecycleState'),
          sortBy: opt('sortBy'),
          sortOrder: opt('sortOrder'),
        });
        return page(items, q, send);
      }
      if (id !== undefined && method === 'GET') {
        const instance = fleet.getInstance(id);
        return send(200, instance, { etag: etagOf(instance) });
      }
      if (id !== undefined && method === 'DELETE') {
        fleet.terminate(id);
        return send(204, undefined, { 'opc-work-request-id': more.workRequests.record('TerminateInstance', fleet.getInstance(id)) });
      }
      break;
    }
    case 'images': {
      if (id === undefined && method === 'GET') {
        const items = fleet.listImages({
          compartmentId: required('compartmentId'),
          displayName: opt('displayName'),
          operatingSystem: opt('operatingSystem'),
          operatingSystemVersion: opt('operatingSystemVersion'),
          lifecycleState: opt('lifecycleState'),
          sortBy: opt('sortBy'),
          sortOrder: opt('sortOrder'),
        });
        return page(items, q, send);
      }
      if (id !== undefined && method === 'GET') return send(200, fleet.getImage(id));
      if (id !== undefined && method === 'PUT') return send(200, fleet.updateImage(id, jsonObject(body)));
      break;
    }
    case 'availabilityDomains': {
      if (id === undefined && method === 'GET') {
        required('compartmentId');
        return send(200, fleet.availabilityDomains);
      }
      break;
    }
    case 'faultDomains': {
      if (id === undefined && method === 'GET') {
        required('compartmentId');
        const ad = required('availabilityDomain');
        if (!fleet.availabilityDomains.some((a) => a.name === ad)) throw new OciApiError(400, 'InvalidParameter', `Invalid availabilityDomain ${ad}.`);
        return send(
          200,
          fleet.faultDomains.filter((f) => f.availabilityDomain === ad),
        );
      }
      break;
    }
    default:
      throw new OciApiError(404, 'NotFound', `No such path: ${url.pathname}`);
  }
  throw new OciApiError(405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
}

function etagOf(instance: { id: string; lifecycleState: string }): string {
  return Buffer.from(`${instance.id}:${instance.lifecycleState}`).toString('base64url').slice(-32);
}
