// Labels, tags and annotations itinerant reads and writes on nodes and instances.
export const LABEL_CLUSTER = 'itinerant.dev/cluster';
export const LABEL_NODE_GROUP = 'itinerant.dev/node-group';
export const LABEL_CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_FAULT_DOMAIN = 'oci.oraclecloud.com/fault-domain';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';

/** Freeform tags on OCI instances and images. */
export const TAG_CLUSTER = 'itinerant.dev/cluster';
export const TAG_NODE_GROUP = 'itinerant.dev/node-group';
/** On a replacement instance: the node it replaces (lets a retried launch find its own earlier attempt). */
export const TAG_REPLACES = 'itinerant.dev/replaces';
/** On images: the release channel (dev, prod) the image is published to. */
export const TAG_IMAGE_CHANNEL = 'itinerant.dev/channel';
/** On images: the rollout that tagged the image for its channel, and the channel it was on before (restored on rollback). */
export const TAG_IMAGE_ROLLOUT = 'itinerant.dev/rollout';
export const TAG_IMAGE_PREVIOUS_CHANNEL = 'itinerant.dev/previous-channel';

/** Instance metadata the node bootstrap turns into kubelet --node-labels / --register-with-taints. */
export const METADATA_NODE_LABELS = 'itinerant-node-labels';
export const METADATA_NODE_TAINTS = 'itinerant-node-taints';

/** Node annotation holding the workflow that currently owns the node (one runbook per target). */
export const ANNOTATION_OWNER = 'itinerant.dev/owner';
