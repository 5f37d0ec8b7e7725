// The worker's Kubernetes identity, as the project ships it: the ServiceAccount itinerant/itinerant-worker
// bound to the least-privilege ClusterRole in deploy/rbac/worker.yaml. Both test beds hold the worker to it.
import { join } from 'node:path';
import { projectRoot } from '../src/config/home.js';

export const WORKER_NAMESPACE = 'itinerant';
export const WORKER_SERVICE_ACCOUNT = 'itinerant-worker';
export const WORKER_CLUSTER_ROLE = 'itinerant-worker';
export const WORKER_USER = `system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`;
export const WORKER_RBAC_MANIFEST = (): string => join(projectRoot(), 'deploy', 'rbac', 'worker.yaml');
