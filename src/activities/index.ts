import { activityInfo } from '@temporalio/activity';
import type { DeploymentActivities, ImageRolloutActivities, KeyringLaneActivities, LaneSweepActivities, RepaveActivities, SubnetActivities } from '../core/activity-contracts.js';
import type { FleetConfig } from '../core/config.js';
import { decommissionActivities } from './decommission.js';
import { deploymentActivities } from './deployments.js';
import { ClientRegistry } from './clients.js';
import { configActivities } from './fleet-config.js';
import { healthGateActivities } from './health-gates.js';
import { nodeGroupActivities } from './node-groups.js';
import { kubernetesActivities } from './kubernetes.js';
import { timedDrain } from './metrics.js';
import { ociActivities } from './oci.js';
import { laneSweepActivities, repaveStepActivities } from './repave-steps.js';
import { virtualNetworkActivities } from './virtual-network.js';
import { keyringActivities } from './keyring.js';
import { keyStoreFor } from './key-store.js';

export interface ActivityDeps {
  fleet: FleetConfig;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
}

export function createActivities({ fleet, isWorkflowRunning }: ActivityDeps) {
  const clients = new ClientRegistry(fleet);
  const subnets = virtualNetworkActivities({ clients });
  const kubernetes = kubernetesActivities({ clients, isWorkflowRunning });
  const repave = {
    ...kubernetes,
    drainNode: timedDrain(kubernetes.drainNode, () => activityInfo().scheduledTimestampMs),
    ...ociActivities({ clients }),
    ...configActivities({ clients, findSubnets: (cluster, nodeGroup) => subnets.findNodeGroupSubnets({ cluster, nodeGroup }) }),
  };
  const nodeGroups = nodeGroupActivities({ clients, isWorkflowRunning });
  return {
    ...repave,
    ...repaveStepActivities(repave),
    ...subnets,
    ...decommissionActivities({ clients, isWorkflowRunning }),
    ...nodeGroups,
    ...laneSweepActivities({ ...repave, ...nodeGroups }),
    ...keyringActivities({ clients, isWorkflowRunning, keyStore: (cluster) => keyStoreFor(clients, cluster) }),
    ...healthGateActivities({ clients }),
    ...deploymentActivities({ clients }),
  } satisfies RepaveActivities & ImageRolloutActivities & KeyringLaneActivities & LaneSweepActivities & DeploymentActivities & SubnetActivities;
}
