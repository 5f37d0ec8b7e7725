import type { DeploymentActivities, ImageRolloutActivities, RepaveActivities } from '../core/activity-contracts.js';
import type { FleetConfig } from '../core/config.js';
import { decommissionActivities } from './decommission.js';
import { deploymentActivities } from './deployments.js';
import { ClientRegistry } from './clients.js';
import { configActivities } from './fleet-config.js';
import { healthGateActivities } from './health-gates.js';
import { nodeGroupActivities } from './node-groups.js';
import { kubernetesActivities } from './kubernetes.js';
import { ociActivities } from './oci.js';
import { keyringActivities } from './keyring.js';
import { keyStoreFor } from './key-store.js';

export interface ActivityDeps {
  fleet: FleetConfig;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
}

export function createActivities({ fleet, isWorkflowRunning }: ActivityDeps) {
  const clients = new ClientRegistry(fleet);
  return {
    ...kubernetesActivities({ clients, isWorkflowRunning }),
    ...ociActivities({ clients }),
    ...configActivities({ clients }),
    ...decommissionActivities({ clients, isWorkflowRunning }),
    ...nodeGroupActivities({ clients, isWorkflowRunning }),
    ...keyringActivities({ clients, isWorkflowRunning, keyStore: (cluster) => keyStoreFor(clients, cluster) }),
    ...healthGateActivities({ clients }),
    ...deploymentActivities({ clients }),
  } satisfies RepaveActivities & ImageRolloutActivities & DeploymentActivities;
}
