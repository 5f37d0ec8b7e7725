// Contract between the simulated OCI side (instances booting) and the simulated
// Kubernetes side (nodes, pods, controllers). Both live in testbeds/sim only.

export interface NodeRegistration {
  /** Node name: the instance's display name (lower-cased) or its private IP, as its node group's kubelets name nodes. */
  name: string;
  /** `oci://<instance ocid>`: how activities find the node of an instance, whatever its name. */
  providerID: string;
  /** The instance's private IP (the Node's InternalIP where the backend allows: KWOK's nodes all answer on 127.0.0.1). */
  internalIP?: string;
  labels: Record<string, string>;
  /** Annotations the node boots with (e.g. the keyrings it holds). */
  annotations?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  /** Whether the node's Ready condition starts True. */
  ready: boolean;
  /** Defaults to now; seeded nodes are back-dated so that they can be "aged". */
  creationTimestamp?: Date;
}

export interface SimCluster {
  readonly name: string;
  registerNode(reg: NodeRegistration): void;
  /** Flip the Ready condition (NotReady faults, boot completion). */
  setNodeReady(name: string, ready: boolean, reason?: string): void;
  /** The kubelet is gone: the Node object and every pod bound to it disappear (controllers recreate them elsewhere). */
  removeNode(name: string): void;
  hasNode(name: string): boolean;
  /** Create any supported object (Namespace, Deployment, DaemonSet, PodDisruptionBudget, Pod, StatefulSet...) as the API would. */
  apply(obj: Record<string, unknown>): void;
}
