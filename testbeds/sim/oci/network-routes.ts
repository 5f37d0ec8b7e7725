// HTTP routes of the simulated Virtual Network API (same host and version as Compute, as in OCI): VCNs and subnets.
import type http from 'node:http';
import type { OciNetwork } from './network.js';
import { OciApiError } from './types.js';
import { jsonObject, page, type Send } from './wire.js';

/** Answers the request when it is a Virtual Network one; false otherwise (the caller routes on). */
export function routeNetwork(network: OciNetwork, req: http.IncomingMessage, collection: string | undefined, id: string | undefined, q: URLSearchParams, body: Buffer, send: Send): boolean {
  const method = req.method ?? 'GET';
  const opt = (name: string) => q.get(name) ?? undefined;
  const required = (name: string) => {
    const v = q.get(name);
    if (!v) throw new OciApiError(400, 'MissingParameter', `Missing required parameter ${name}.`);
    return v;
  };
  const etag = (r: { id: string; lifecycleState: string }) => ({ etag: Buffer.from(`${r.id}:${r.lifecycleState}`).toString('base64url').slice(-32) });
  switch (collection) {
    case 'vcns':
      if (id === undefined && method === 'GET') {
        page(network.listVcns({ compartmentId: required('compartmentId'), displayName: opt('displayName') }), q, send);
        return true;
      }
      if (id !== undefined && method === 'GET') {
        const vcn = network.getVcn(id);
        send(200, vcn, etag(vcn));
        return true;
      }
      break;
    case 'subnets':
      if (id === undefined && method === 'POST') {
        const token = req.headers['opc-retry-token'];
        const subnet = network.createSubnet(jsonObject(body), typeof token === 'string' && token !== '' ? token : undefined);
        send(200, subnet, etag(subnet));
        return true;
      }
      if (id === undefined && method === 'GET') {
        const items = network.listSubnets({ compartmentId: required('compartmentId'), vcnId: opt('vcnId'), displayName: opt('displayName'), lifecycleState: opt('lifecycleState') });
        page(items, q, send);
        return true;
      }
      if (id !== undefined && method === 'GET') {
        const subnet = network.getSubnet(id);
        send(200, subnet, etag(subnet));
        return true;
      }
      if (id !== undefined && method === 'DELETE') {
        network.deleteSubnet(id);
        send(204);
        return true;
      }
      break;
    default:
      return false;
  }
  throw new OciApiError(405, 'MethodNotAllowed', `${method} is not allowed on /${collection}${id ? `/${id}` : ''}`);
}
