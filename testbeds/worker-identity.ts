// The worker's Kubernetes identity in the test beds: the ServiceAccount itinerant/itinerant-worker with the RBAC
// `itinerant rbac render` renders for the test beds' cluster (src/config/worker-rbac.ts). Both test beds hold the worker to it.
import { renderWorkerRbac } from '../src/config/worker-rbac.js';

export { WORKER_CLUSTER_ROLE, WORKER_NAMESPACE, WORKER_SERVICE_ACCOUNT, WORKER_USER } from '../src/config/worker-rbac.js';

/** The stateful-service namespaces the test beds' fleet.yaml declares: the seeded Cassandra ring's. */
export const TESTBED_STATEFUL_NAMESPACES = ['data'];

/** The worker's RBAC manifest for the test beds' cluster, as the fleet.yaml they write renders it. */
export const testbedWorkerRbac = (clusterName: string): string =>
  // the test beds' cluster has a key store (the sim's vault): the key-rotation grants are rendered; only its presence matters here
  renderWorkerRbac({ name: clusterName, statefulNamespaces: TESTBED_STATEFUL_NAMESPACES, keyStore: { vaultId: 'ocid1.vault.sim', masterKeyId: 'ocid1.key.sim' } });
