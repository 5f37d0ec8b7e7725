// A Node's spec.providerID, and the OCI instance it names: the one link between a Node and its machine.
// Names are not: OKE names nodes by private IP (and IPs are reused), others by hostname or display name.

const PREFIX = 'oci://';
const INSTANCE_OCID = /^ocid1\.instance\.[a-z0-9._-]+$/;

/**
 * The instance OCID a providerID names, or undefined when it names none. Both forms are in use: the OCI
 * cloud controller's `oci://<instance OCID>` (and what Cluster API for OCI requires), and the bare OCID
 * that OKE's node bootstrap sets by default (oracle/cluster-api-provider-oci, scripts/oke-custom-cloud-init.sh);
 * the cloud controller accepts both (MapProviderIDToResourceID).
 */
export function instanceIdOfProviderID(providerID: string | undefined): string | undefined {
  if (!providerID) return undefined;
  const id = providerID.startsWith(PREFIX) ? providerID.slice(PREFIX.length) : providerID;
  return INSTANCE_OCID.test(id) ? id : undefined;
}

/** The providerID the OCI cloud controller gives the Node of this instance. */
export const providerIDOf = (instanceId: string) => `${PREFIX}${instanceId}`;
