import { z } from 'zod';
import { parseCidr } from './cidr.js';
import { parseDuration } from './duration.js';
import { maintenanceWindowSchema } from './windows.js';
import { countOrPercent } from './group-size.js';

// Workflows import these from group-size.ts: this module's schemas would be built again for every workflow the worker starts.
export { countOrPercent, describeIssues, maxSizeOf, minReadyOf, nodeCountOf } from './group-size.js';

const duration = () =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "90s", "15m", "24h" or "7d", got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

/** Kubernetes' own namespaces: never granted the worker's exec and volume rights. */
const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label (a-z, 0-9, "-")');

export const placementSchema = z.strictObject({
  availabilityDomain: z.string().min(1),
  faultDomain: z.string().regex(/^FAULT-DOMAIN-[1-3]$/, 'expected FAULT-DOMAIN-1, -2 or -3'),
  /** Omitted when the group has dedicated subnets (`subnets`): itinerant creates them and fills this in. */
  subnetId: z.string().startsWith('ocid1.subnet.', 'expected a subnet OCID').optional(),
});

/** A node group on subnets of its own, created by nodeGroupManager create and deleted by delete. */
export const groupSubnetsSchema = z.strictObject({
  /** One subnet per availability domain of the placement, or one regional subnet for all of them. */
  layout: z.enum(['per-availability-domain', 'regional']).default('per-availability-domain'),
  /** Size of each subnet, carved out of the cluster's network.subnetPool. */
  prefixLength: z.number().int().min(16).max(30).default(24),
});

const cidrBlock = z.string().refine((c) => parseCidr(c) !== undefined, { message: 'expected an IPv4 CIDR block such as 10.0.128.0/17 (no host bits set)' });

/** Where dedicated node-group subnets go: the cluster's VCN, CIDRs from the pool, the VCN's route table and security list unless named. */
export const clusterNetworkSchema = z.strictObject({
  vcnId: z.string().startsWith('ocid1.vcn.', 'expected a VCN OCID'),
  subnetPool: z.array(cidrBlock).min(1),
  routeTableId: z.string().startsWith('ocid1.routetable.', 'expected a route table OCID').optional(),
  securityListIds: z.array(z.string().startsWith('ocid1.securitylist.', 'expected a security list OCID')).min(1).optional(),
});

export const nodeGroupSchema = z
  .strictObject({
    name: dnsLabel,
    size: z.number().int().min(0).max(1000),
    /** The most nodes a scale may bring the group to; defaults to twice its size. */
    maxSize: z.number().int().min(1).max(1000).optional(),
    /** Fewest Ready nodes the group may have during any runbook; defaults to size - maxUnavailable. */
    minReady: z.number().int().min(0).optional(),
    shape: z.string().min(1),
    image: z.union([z.strictObject({ channel: z.string().min(1) }), z.strictObject({ id: z.string().startsWith('ocid1.image.', 'expected an image OCID') })]),
    placement: z.array(placementSchema).min(1),
    subnets: groupSubnetsSchema.optional(),
    labels: z.record(z.string(), z.string()).default({}),
    taints: z.array(z.strictObject({ key: z.string().min(1), value: z.string().optional(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) })).default([]),
    maxAge: duration().default(30 * 86_400_000),
    maxSurge: z.number().int().min(0).default(1),
    maxUnavailable: z.number().int().min(0).default(1),
    maxUnhealthy: countOrPercent.default('25%'),
    /** Allow draining a node before its replacement is Ready (in-place replacement). Off by default. */
    allowInPlace: z.boolean().default(false),
    /** How often the group's repaver lane sweeps it (and its Schedule fires); default 10m (see src/core/lane/names.ts). */
    sweepInterval: duration().optional(),
    /** NotReady, or a problem condition, for this long makes a node unhealthy; default 5m (see src/core/lane/names.ts). */
    unhealthyAfter: duration().optional(),
    /** Most repaves in flight at once for one reason (unhealthy, drifted, keyring, aged), within maxUnavailable: a count or a percentage of the size. */
    reasonBudgets: z
      .strictObject({ unhealthy: countOrPercent.optional(), drifted: countOrPercent.optional(), keyring: countOrPercent.optional(), aged: countOrPercent.optional() })
      .optional(),
    /** When the lane may start repaves of aged, drifted or keyring-behind nodes; none: at any time. */
    maintenanceWindows: z.array(maintenanceWindowSchema).min(1).optional(),
    /** Outside the windows an unhealthy node is still replaced (`replace`, the default) or waits too (`wait`). */
    unhealthyOutsideWindows: z.enum(['replace', 'wait']).optional(),
  })
  .refine((g) => g.minReady === undefined || g.minReady <= g.size, { message: 'minReady must not exceed size', path: ['minReady'] })
  .refine((g) => g.maxSize === undefined || g.maxSize >= g.size, { message: 'maxSize must not be below size', path: ['maxSize'] })
  .refine((g) => (g.subnets ? g.placement.every((p) => !p.subnetId) : g.placement.every((p) => p.subnetId)), {
    message: 'each placement names its subnetId, unless the group has dedicated subnets (subnets), which itinerant creates: then none does',
    path: ['placement'],
  });

export const etcdSchema = z
  .strictObject({
    /** Client URLs; the first answers. https needs the three files (etcd's client certificate authentication). */
    endpoints: z.array(z.url()).min(1),
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  })
  .refine((e) => !e.endpoints.some((u) => u.startsWith('https:')) || (e.caFile && e.certFile && e.keyFile), {
    message: 'an https endpoint needs caFile, certFile and keyFile',
  });

export const keyRotationSchema = z.strictObject({
  /** Rotate a keyring when its active key is this old. */
  rotateEvery: duration().default(30 * 86_400_000),
  /** ...or earlier, when any key it trusts expires within this. */
  expiringWithin: duration().default(14 * 86_400_000),
  /** How often the Schedule looks (itinerant schedules apply). */
  checkEvery: duration().default(3_600_000),
  purposes: z.array(z.enum(['client-ca', 'service-account', 'secret-encryption'])).min(1).default(['client-ca', 'service-account', 'secret-encryption']),
  /** Scheduled rotations wait for an operator between phases. */
  holdBetweenPhases: z.boolean().default(false),
});

export const keyStoreSchema = z.strictObject({
  vaultId: z.string().startsWith('ocid1.vault.', 'expected a vault OCID'),
  /** The secrets' compartment; defaults to the cluster's compartmentId. */
  compartmentId: z.string().startsWith('ocid1.compartment.', 'expected a compartment OCID').optional(),
  /** The vault's master encryption key that encrypts the secrets. */
  masterKeyId: z.string().startsWith('ocid1.key.', 'expected a key OCID'),
});

export const clusterSchema = z.strictObject({
  name: dnsLabel,
  kubeconfig: z.string().min(1),
  /** kubeconfig context; defaults to the current context. */
  context: z.string().optional(),
  oci: z.strictObject({
    configFile: z.string().min(1),
    profile: z.string().default('DEFAULT'),
    /** Endpoint overrides (the simulated fleet, or a private endpoint). */
    /** network defaults to compute's (one iaas endpoint serves both in OCI). */
    endpoints: z
      .strictObject({ compute: z.url().optional(), identity: z.url().optional(), network: z.url().optional(), vaults: z.url().optional(), secrets: z.url().optional() })
      .default({}),
  }),
  compartmentId: z.string().startsWith('ocid1.compartment.', 'expected a compartment OCID'),
  /** Needed by node groups with dedicated subnets. */
  network: clusterNetworkSchema.optional(),
  /** Where the cluster's private key material lives: OCI Vault secrets (src/activities/key-store.ts). */
  keyStore: keyStoreSchema.optional(),
  nodeGroups: z.array(nodeGroupSchema).default([]),
  /**
   * Namespaces whose stateful services itinerant may decommission members of: the worker is granted exec,
   * StatefulSet scaling and PVC deletion there only (itinerant rbac render), and decommissionMember refuses any other.
   */
  statefulNamespaces: z
    .array(dnsLabel.refine((ns) => !SYSTEM_NAMESPACES.includes(ns), { message: `${SYSTEM_NAMESPACES.join(', ')} cannot hold stateful services itinerant works on` }))
    .default([])
    .refine((l) => new Set(l).size === l.length, { message: 'duplicate namespace' }),
  /** Continuous key rotation from a Schedule (needs keyStore). */
  keyRotation: keyRotationSchema.optional(),
  /** etcd, read directly by the secret-encryption rotation to check how Secrets are stored (read-only use). */
  etcd: etcdSchema.optional(),
});

export const fleetConfigSchema = z
  .strictObject({ clusters: z.array(clusterSchema).min(1) })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.clusters.forEach((cl, i) => {
      if (seen.has(cl.name)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'name'], message: `duplicate cluster ${cl.name}` });
      seen.add(cl.name);
      const groups = new Set<string>();
      cl.nodeGroups.forEach((g, j) => {
        if (groups.has(g.name)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'nodeGroups', j, 'name'], message: `duplicate node group ${g.name}` });
        groups.add(g.name);
        if (g.subnets && !cl.network) {
          ctx.addIssue({ code: 'custom', path: ['clusters', i, 'nodeGroups', j, 'subnets'], message: `node group ${g.name} has dedicated subnets: cluster ${cl.name} needs a network (vcnId, subnetPool)` });
        }
      });
    });
  });

export type FleetConfig = z.output<typeof fleetConfigSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type NodeGroupConfig = z.output<typeof nodeGroupSchema>;
export type Placement = z.output<typeof placementSchema>;
export type GroupSubnets = z.output<typeof groupSubnetsSchema>;
export type ClusterNetwork = z.output<typeof clusterNetworkSchema>;
export type EtcdConfig = z.output<typeof etcdSchema>;
export type KeyRotationConfig = z.output<typeof keyRotationSchema>;
export type KeyStoreConfig = z.output<typeof keyStoreSchema>;
