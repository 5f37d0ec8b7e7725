// The simulated Virtual Network: VCNs and their subnets, with OCI's lifecycle (PROVISIONING → AVAILABLE,
// TERMINATING → TERMINATED), retry tokens, CIDR checks, and the refusal to delete a subnet that still has
// VNICs. No HTTP here (see network-routes.ts).
import { randomBytes } from 'node:crypto';
import { contains, overlaps, parseCidr } from '../../../src/core/cidr.js';
import { OciApiError } from './types.js';

export type SubnetLifecycleState = 'PROVISIONING' | 'AVAILABLE' | 'TERMINATING' | 'TERMINATED' | 'UPDATING';

export interface OciVcn {
  id: string;
  compartmentId: string;
  displayName: string;
  cidrBlock: string;
  cidrBlocks: string[];
  defaultRouteTableId: string;
  defaultSecurityListId: string;
  defaultDhcpOptionsId: string;
  dnsLabel: string;
  vcnDomainName: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  lifecycleState: 'AVAILABLE';
  timeCreated: string;
}

export interface OciSubnet {
  id: string;
  compartmentId: string;
  vcnId: string;
  availabilityDomain?: string;
  cidrBlock: string;
  displayName: string;
  dnsLabel?: string;
  subnetDomainName?: string;
  routeTableId: string;
  securityListIds: string[];
  dhcpOptionsId: string;
  prohibitPublicIpOnVnic: boolean;
  prohibitInternetIngress: boolean;
  virtualRouterIp: string;
  virtualRouterMac: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  lifecycleState: SubnetLifecycleState;
  timeCreated: string;
}

export interface NetworkOptions {
  regionKey: string;
  tenancyId: string;
  compartmentIds: string[];
  availabilityDomains: string[];
  /** The VNICs (ids) of instances in a subnet that are not TERMINATED yet: they keep it from being deleted. */
  vnicsIn: (subnetId: string) => string[];
  /** PROVISIONING → AVAILABLE and TERMINATING → TERMINATED; default 300 ms. */
  transitionDelayMs?: number;
  /** TERMINATED subnets stay visible this long; default 1 h. */
  terminatedRetentionMs?: number;
}

const str = (v: unknown, name: string, required: boolean): string | undefined => {
  if (v === undefined || v === null) {
    if (required) throw new OciApiError(400, 'MissingParameter', `Missing required parameter ${name}.`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new OciApiError(400, 'InvalidParameter', `Invalid ${name}.`);
  return v;
};

const tags = (v: unknown, name: string): Record<string, string> => {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new OciApiError(400, 'InvalidParameter', `Invalid ${name}.`);
  return { ...(v as Record<string, string>) };
};

const notFound = (what: string, id: string) => new OciApiError(404, 'NotAuthorizedOrNotFound', `Authorization failed or requested resource not found: ${what} ${id}.`);

export class OciNetwork {
  private readonly vcns = new Map<string, OciVcn>();
  private readonly subnets = new Map<string, OciSubnet>();
  private readonly retryTokens = new Map<string, { subnetId: string; signature: string }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Mutable: PROVISIONING → AVAILABLE and TERMINATING → TERMINATED from the next change on. */
  transitionDelayMs: number;
  /** Subnets actually created (replays of a retry token do not count). */
  readonly counters = { subnetsCreated: 0, subnetCreateRequests: 0, subnetsDeleted: 0, deletesRefusedForVnics: 0 };

  constructor(private readonly opts: NetworkOptions) {
    this.transitionDelayMs = opts.transitionDelayMs ?? 300;
  }

  private ocid(kind: string): string {
    return `ocid1.${kind}.oc1.${this.opts.regionKey}.sim${randomBytes(12).toString('hex')}`;
  }

  checkCompartment(id: string): void {
    if (!this.opts.compartmentIds.includes(id) && id !== this.opts.tenancyId) throw notFound('compartment', id);
  }

  /** A VCN with its default route table, security list and DHCP options (made by the test bed, as by Terraform). */
  addVcn(spec: { compartmentId: string; cidrBlock: string; displayName: string; dnsLabel: string }): OciVcn {
    const vcn: OciVcn = {
      id: this.ocid('vcn'),
      compartmentId: spec.compartmentId,
      displayName: spec.displayName,
      cidrBlock: spec.cidrBlock,
      cidrBlocks: [spec.cidrBlock],
      defaultRouteTableId: this.ocid('routetable'),
      defaultSecurityListId: this.ocid('securitylist'),
      defaultDhcpOptionsId: this.ocid('dhcpoptions'),
      dnsLabel: spec.dnsLabel,
      vcnDomainName: `${spec.dnsLabel}.oraclevcn.com`,
      freeformTags: {},
      definedTags: {},
      lifecycleState: 'AVAILABLE',
      timeCreated: new Date().toISOString(),
    };
    this.vcns.set(vcn.id, vcn);
    return vcn;
  }

  getVcn(id: string): OciVcn {
    const v = this.vcns.get(id);
    if (!v) throw notFound('VCN', id);
    return structuredClone(v);
  }

  listVcns(f: { compartmentId: string; displayName?: string | undefined }): OciVcn[] {
    this.checkCompartment(f.compartmentId);
    return [...this.vcns.values()].filter((v) => v.compartmentId === f.compartmentId && (!f.displayName || v.displayName === f.displayName)).map((v) => structuredClone(v));
  }

  /** CreateSubnet. The same retry token with the same request returns the subnet the first call created. */
  createSubnet(d: Record<string, unknown>, retryToken: string | undefined): OciSubnet {
    this.counters.subnetCreateRequests++;
    const compartmentId = str(d.compartmentId, 'compartmentId', true)!;
    const vcnId = str(d.vcnId, 'vcnId', true)!;
    const cidrBlock = str(d.cidrBlock, 'cidrBlock', true)!;
    const signature = JSON.stringify([compartmentId, vcnId, cidrBlock, d.availabilityDomain ?? null, d.displayName ?? null]);
    if (retryToken !== undefined) {
      const seen = this.retryTokens.get(retryToken);
      if (seen) {
        if (seen.signature !== signature) throw new OciApiError(409, 'InvalidatedRetryToken', `The retry token ${retryToken} was already used for a different CreateSubnet request.`);
        const s = this.subnets.get(seen.subnetId);
        if (s) return structuredClone(s);
      }
    }
    this.checkCompartment(compartmentId);
    const vcn = this.vcns.get(vcnId);
    if (!vcn) throw notFound('VCN', vcnId);
    const block = parseCidr(cidrBlock);
    if (!block) throw new OciApiError(400, 'InvalidParameter', `Invalid CIDR block ${cidrBlock}.`);
    if (block.prefix > 30) throw new OciApiError(400, 'InvalidParameter', `The CIDR block ${cidrBlock} is too small: a subnet is at most a /30.`);
    if (!vcn.cidrBlocks.some((c) => contains(parseCidr(c)!, block))) {
      throw new OciApiError(400, 'InvalidParameter', `The requested CIDR ${cidrBlock} is not within the CIDR blocks of the VCN ${vcnId} (${vcn.cidrBlocks.join(', ')}).`);
    }
    const clash = [...this.subnets.values()].find((s) => s.vcnId === vcnId && s.lifecycleState !== 'TERMINATED' && overlaps(parseCidr(s.cidrBlock)!, block));
    if (clash) throw new OciApiError(400, 'InvalidParameter', `The requested CIDR ${cidrBlock} overlaps with the CIDR ${clash.cidrBlock} of the subnet ${clash.id}.`);
    const availabilityDomain = str(d.availabilityDomain, 'availabilityDomain', false);
    if (availabilityDomain !== undefined && !this.opts.availabilityDomains.includes(availabilityDomain)) {
      throw new OciApiError(400, 'InvalidParameter', `Invalid availabilityDomain ${availabilityDomain}.`);
    }
    const routeTableId = str(d.routeTableId, 'routeTableId', false) ?? vcn.defaultRouteTableId;
    if (routeTableId !== vcn.defaultRouteTableId) throw notFound('route table', routeTableId);
    const securityListIds = d.securityListIds === undefined ? [vcn.defaultSecurityListId] : d.securityListIds;
    if (!Array.isArray(securityListIds) || securityListIds.some((s) => s !== vcn.defaultSecurityListId)) {
      throw notFound('security list', JSON.stringify(securityListIds));
    }
    const dnsLabel = str(d.dnsLabel, 'dnsLabel', false);
    if (dnsLabel !== undefined && !/^[a-z][a-z0-9]{0,14}$/i.test(dnsLabel)) throw new OciApiError(400, 'InvalidParameter', `Invalid dnsLabel ${dnsLabel}.`);
    const host1 = block.base + 1;
    const subnet: OciSubnet = {
      id: this.ocid('subnet'),
      compartmentId,
      vcnId,
      ...(availabilityDomain ? { availabilityDomain } : {}),
      cidrBlock,
      displayName: str(d.displayName, 'displayName', false) ?? `subnet${Date.now()}`,
      ...(dnsLabel ? { dnsLabel, subnetDomainName: `${dnsLabel}.${vcn.vcnDomainName}` } : {}),
      routeTableId,
      securityListIds: securityListIds as string[],
      dhcpOptionsId: vcn.defaultDhcpOptionsId,
      prohibitPublicIpOnVnic: d.prohibitPublicIpOnVnic === true,
      prohibitInternetIngress: d.prohibitInternetIngress === true,
      virtualRouterIp: [24, 16, 8, 0].map((s) => Math.floor(host1 / 2 ** s) % 256).join('.'),
      virtualRouterMac: '00:00:17:00:00:01',
      freeformTags: tags(d.freeformTags, 'freeformTags'),
      definedTags: {},
      lifecycleState: 'PROVISIONING',
      timeCreated: new Date().toISOString(),
    };
    this.subnets.set(subnet.id, subnet);
    this.counters.subnetsCreated++;
    if (retryToken !== undefined) this.retryTokens.set(retryToken, { subnetId: subnet.id, signature });
    this.after(() => {
      if (subnet.lifecycleState === 'PROVISIONING') subnet.lifecycleState = 'AVAILABLE';
    });
    return structuredClone(subnet);
  }

  getSubnet(id: string): OciSubnet {
    const s = this.subnets.get(id);
    if (!s) throw notFound('subnet', id);
    return structuredClone(s);
  }

  /** The subnet as launches see it (undefined for subnet OCIDs this network does not know: the sim's older fixed subnets). */
  findSubnet(id: string): Readonly<OciSubnet> | undefined {
    return this.subnets.get(id);
  }

  listSubnets(f: { compartmentId: string; vcnId?: string | undefined; displayName?: string | undefined; lifecycleState?: string | undefined }): OciSubnet[] {
    this.checkCompartment(f.compartmentId);
    return [...this.subnets.values()]
      .filter(
        (s) =>
          s.compartmentId === f.compartmentId &&
          (!f.vcnId || s.vcnId === f.vcnId) &&
          (!f.displayName || s.displayName === f.displayName) &&
          (!f.lifecycleState || s.lifecycleState === f.lifecycleState),
      )
      .sort((a, b) => (a.timeCreated < b.timeCreated ? -1 : a.timeCreated > b.timeCreated ? 1 : a.id < b.id ? -1 : 1))
      .map((s) => structuredClone(s));
  }

  /** DeleteSubnet: refused with OCI's 409 Conflict while a VNIC is in it; deleting a deleted one is a no-op. */
  deleteSubnet(id: string): void {
    const s = this.subnets.get(id);
    if (!s) throw notFound('subnet', id);
    if (s.lifecycleState === 'TERMINATING' || s.lifecycleState === 'TERMINATED') return;
    const [vnic] = this.opts.vnicsIn(id);
    if (vnic) {
      this.counters.deletesRefusedForVnics++;
      throw new OciApiError(409, 'Conflict', `The Subnet ${id} references the VNIC ${vnic}. You must remove the reference to proceed with this operation.`);
    }
    s.lifecycleState = 'TERMINATING';
    this.counters.subnetsDeleted++;
    this.after(() => {
      s.lifecycleState = 'TERMINATED';
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.subnets.delete(id);
      }, this.opts.terminatedRetentionMs ?? 3_600_000);
      this.timers.add(t);
    });
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private after(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, this.transitionDelayMs);
    this.timers.add(t);
  }
}
