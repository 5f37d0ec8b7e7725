// Routes of the simulated OCI API beyond instances and images, as the OCI CLI and SDKs call them: VNIC
// attachments and VNICs, instance actions, work requests, shapes (Compute); compartments and regions (Identity).
import type http from 'node:http';
import type { OciFleet } from './fleet.js';
import { shapeConfigFor } from './fleet.js';
import { OciApiError } from './types.js';
import { jsonObject, page, type Send } from './wire.js';
import type { WorkRequests } from './work-requests.js';

const SHAPES = ['VM.Standard.E4.Flex', 'VM.Standard.E5.Flex', 'VM.Standard3.Flex'];
/** The regions the sim names (ListRegions answers every public region in OCI; these are the ones it knows keys of). */
const REGIONS = [
  ['IAD', 'us-ashburn-1'],
  ['PHX', 'us-phoenix-1'],
  ['FRA', 'eu-frankfurt-1'],
  ['LHR', 'uk-london-1'],
];

export interface MoreRoutes {
  fleet: OciFleet;
  workRequests: WorkRequests;
  tenancyId: string;
  compartmentIds: string[];
}

/** Answers the request when it is one of these routes; false otherwise. */
export function routeMore(o: MoreRoutes, req: http.IncomingMessage, collection: string | undefined, id: string | undefined, q: URLSearchParams, body: Buffer, send: Send): boolean {
  const method = req.method ?? 'GET';
  const required = (name: string) => {
    const v = q.get(name);
    if (!v) throw new OciApiError(400, 'MissingParameter', `Missing required parameter ${name}.`);
    return v;
  };
  const get = method === 'GET';
  if (collection === 'instances' && id !== undefined && method === 'POST') {
    jsonObject(body); // an optional InstancePowerActionDetails
    send(200, o.fleet.instanceAction(id, required('action')));
    return true;
  }
  if (collection === 'vnicAttachments' && get && id === undefined) {
    const instanceId = q.get('instanceId');
    const items = o.fleet
      .allInstances(required('compartmentId'))
      .filter((i) => !instanceId || i.id === instanceId)
      .filter((i) => !q.get('availabilityDomain') || i.availabilityDomain === q.get('availabilityDomain'))
      .map((i) => {
        const v = o.fleet.vnicOf(i.id);
        const state = i.lifecycleState === 'TERMINATED' ? 'DETACHED' : i.lifecycleState === 'TERMINATING' ? 'DETACHING' : i.lifecycleState === 'PROVISIONING' ? 'ATTACHING' : 'ATTACHED';
        return { id: v.vnicId.replace('ocid1.vnic.', 'ocid1.vnicattachment.'), availabilityDomain: i.availabilityDomain, compartmentId: i.compartmentId, displayName: `${i.displayName}-vnic`, instanceId: i.id, lifecycleState: state, nicIndex: 0, subnetId: v.subnetId, vnicId: v.vnicId, timeCreated: i.timeCreated };
      });
    page(items, q, send);
    return true;
  }
  if (collection === 'vnics' && get && id !== undefined) {
    const instance = o.fleet.allInstances(o.compartmentIds[0]!).find((i) => i.id.replace('ocid1.instance.', 'ocid1.vnic.') === id);
    if (!instance || instance.lifecycleState === 'TERMINATED') throw new OciApiError(404, 'NotAuthorizedOrNotFound', `Authorization failed or requested resource not found: vnic ${id}.`);
    const v = o.fleet.vnicOf(instance.id);
    const mac = [...Buffer.from(id.slice(-10))].slice(0, 5).map((b) => b.toString(16).padStart(2, '0'));
    send(200, {
      id,
      availabilityDomain: instance.availabilityDomain,
      compartmentId: instance.compartmentId,
      displayName: `${instance.displayName}-vnic`,
      hostnameLabel: v.hostname.replace(/[^a-z0-9-]/g, '-').slice(0, 63),
      isPrimary: true,
      lifecycleState: 'AVAILABLE',
      macAddress: ['02', ...mac].join(':').toUpperCase(),
      privateIp: v.privateIp,
      skipSourceDestCheck: false,
      subnetId: v.subnetId,
      freeformTags: {},
      definedTags: {},
      timeCreated: instance.timeCreated,
    });
    return true;
  }
  if (collection === 'workRequests' && get && id !== undefined) {
    send(200, o.workRequests.get(id, o.fleet));
    return true;
  }
  if (collection === 'shapes' && get && id === undefined) {
    o.fleet.allInstances(required('compartmentId')); // 404 for an unknown compartment
    const items = SHAPES.map((shape) => {
      const c = shapeConfigFor(shape, 1, 16);
      return {
        shape,
        processorDescription: c.processorDescription,
        isFlexible: true,
        ocpus: 1,
        memoryInGBs: 16,
        networkingBandwidthInGbps: c.networkingBandwidthInGbps,
        maxVnicAttachments: c.maxVnicAttachments,
        gpus: 0,
        localDisks: 0,
        ocpuOptions: { min: 1, max: 64 },
        memoryOptions: { minInGBs: 1, maxInGBs: 1024, defaultPerOcpuInGBs: 16, minPerOcpuInGBs: 1, maxPerOcpuInGBs: 64 },
        billingType: 'PAID',
      };
    });
    page(items, q, send);
    return true;
  }
  if (collection === 'compartments' && get && id !== undefined) {
    if (!o.compartmentIds.includes(id)) throw new OciApiError(404, 'NotAuthorizedOrNotFound', `Authorization failed or requested resource not found: compartment ${id}.`);
    send(200, { id, compartmentId: o.tenancyId, name: id.split('.').pop(), description: 'the simulated fleet', lifecycleState: 'ACTIVE', isAccessible: true, timeCreated: '2026-01-01T00:00:00.000Z', freeformTags: {}, definedTags: {} });
    return true;
  }
  if (collection === 'regions' && get && id === undefined) {
    send(200, REGIONS.map(([key, name]) => ({ key, name })));
    return true;
  }
  return false;
}
