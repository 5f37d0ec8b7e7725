import { activityInfo } from '@temporalio/activity';
import type { RepaveActivities } from '../core/activity-contracts.js';
import type { FleetConfig } from '../core/config.js';
import { decommissionActivities } from './decommission.js';
import { ClientRegistry } from './clients.js';
import { configActivities } from './fleet-config.js';
import { nodeGroupActivities } from './node-groups.js';
import { kubernetesActivities } from './kubernetes.js';
import { timedDrain } from './metrics.js';
import { ociActivities } from './oci.js';

export interface ActivityDeps {
  fleet: FleetConfig;
  isWorkflowRunning: (workflowId: string) => Promise<boolean>;
}

export function createActivities({ fleet, isWorkflowRunning }: ActivityDeps) {
  const clients = new ClientRegistry(fleet);
  const kubernetes = kubernetesActivities({ clients, isWorkflowRunning });
  return {
    ...kubernetes,
    drainNode: timedDrain(kubernetes.drainNode, () => activityInfo().scheduledTimestampMs),
    ...ociActivities({ clients }),
    ...configActivities({ clients }),
    ...decommissionActivities({ clients, isWorkflowRunning }),
    ...nodeGroupActivities({ clients, isWorkflowRunning }),
  } satisfies RepaveActivities;
}
