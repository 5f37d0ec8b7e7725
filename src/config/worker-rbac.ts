// The worker's Kubernetes identity and its permissions, rendered for one cluster of the fleet configuration
// (itinerant rbac render): cluster-wide only what node repaving needs; exec into pods, StatefulSet scaling and
// PersistentVolumeClaim deletion only in the stateful-service namespaces the cluster declares.
import YAML from 'yaml';
import type { ClusterConfig } from '../core/config.js';

export const WORKER_NAMESPACE = 'itinerant';
export const WORKER_SERVICE_ACCOUNT = 'itinerant-worker';
export const WORKER_CLUSTER_ROLE = 'itinerant-worker';
/** The Role (and RoleBinding) in each declared stateful-service namespace. */
export const WORKER_DECOMMISSION_ROLE = 'itinerant-worker-decommission';
/** Key rotation (a cluster with a keyStore): the ClusterRole for rewriting Secrets, the Role for the control plane's keyring report. */
export const WORKER_KEYS_ROLE = 'itinerant-worker-keys';
const CONTROL_PLANE_REPORT_NAME = 'itinerant-control-plane-keyring';
export const WORKER_USER = `system:serviceaccount:${WORKER_NAMESPACE}:${WORKER_SERVICE_ACCOUNT}`;

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** A rule and why the worker needs it (rendered as a comment above it). */
type Grant = [why: string, rule: PolicyRule];

const CLUSTER_GRANTS: Grant[] = [
  [
    'preflight, claim/release (annotation), cordon/uncordon, wait for Ready (woken by a watch of the node), delete the old node; node-group membership (list by label)',
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'patch', 'delete'] },
  ],
  [
    'drain: pods on a node (all namespaces, fieldSelector spec.nodeName; the drain and the wait for DaemonSet pods wake on a watch of them); delete after the drain deadline only when the input says so',
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch', 'delete'] },
  ],
  ['drain: the Eviction API, which honours PodDisruptionBudgets', { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] }],
  [
    'drain: an eviction a PodDisruptionBudget refused is retried when a budget of its namespace changes (a watch), not after a blind sleep',
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['watch'] },
  ],
  ['operational = every DaemonSet that targets the node runs a Ready pod on it', { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['list'] }],
  [
    'rolloutDeployment: read a Deployment, set its container images, pause and resume it, undo to the previous revision (whose template its ReplicaSet holds)',
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
  ],
  ['rolloutDeployment: the ReplicaSets of a Deployment (revisions, the new pods)', { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] }],
  ['Events on the Nodes and StatefulSets runbooks act on (Repaving, Draining, DrainBlocked, Replaced, Decommissioning, MemberLeft)', { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }],
];

const DECOMMISSION_GRANTS: Grant[] = [
  ['the members of a StatefulSet and their state', { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
  [
    'nodetool / cqlsh in a member\'s pod. A WebSocket exec (client-node) is a GET upgrade: the API server checks "get" on pods/exec, ' +
      'and "create" as well since the WebSocket upgrade permission check',
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
  ],
  ['read the StatefulSet, claim it (annotation) and scale it down (JSON patch of spec.replicas)', { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'patch'] }],
  ['release the volume of a member that has left the ring', { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['delete'] }],
];

const KEY_ROTATION_CLUSTER_GRANTS: Grant[] = [
  [
    'rotateKeys (secret-encryption): rewrite every Secret so the API server stores it under the new key (list, then update each unchanged)',
    { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'update'] },
  ],
];
const KEY_ROTATION_REPORT_GRANTS: Grant[] = [
  ['rotateKeys: which keyring version each control-plane member runs (its report, this one ConfigMap only)', { apiGroups: [''], resources: ['configmaps'], resourceNames: [CONTROL_PLANE_REPORT_NAME], verbs: ['get'] }],
];

const LABELS = { 'app.kubernetes.io/name': 'itinerant', 'app.kubernetes.io/component': 'worker' };
const WORKER_SUBJECT = { kind: 'ServiceAccount', name: WORKER_SERVICE_ACCOUNT, namespace: WORKER_NAMESPACE };

type RbacCluster = Pick<ClusterConfig, 'statefulNamespaces'> & Partial<Pick<ClusterConfig, 'keyStore'>>;

/** One manifest document and the comment above it. */
interface Manifest {
  comment?: string;
  object: Record<string, unknown>;
  grants?: Grant[];
}

function manifests(cluster: RbacCluster): Manifest[] {
  const rules = (grants: Grant[]) => grants.map(([, rule]) => rule);
  const binding = (kind: 'ClusterRoleBinding' | 'RoleBinding', roleKind: 'ClusterRole' | 'Role', name: string, namespace?: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), labels: LABELS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name },
    subjects: [WORKER_SUBJECT],
  });
  return [
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WORKER_NAMESPACE } } },
    { object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: WORKER_SERVICE_ACCOUNT, namespace: WORKER_NAMESPACE } } },
    {
      comment: ' Cluster-wide: what repaving nodes needs (preflight, cordon, drain, delete), and nothing of the stateful services',
      object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: WORKER_CLUSTER_ROLE, labels: LABELS }, rules: rules(CLUSTER_GRANTS) },
      grants: CLUSTER_GRANTS,
    },
    { object: binding('ClusterRoleBinding', 'ClusterRole', WORKER_CLUSTER_ROLE) },
    ...(cluster.keyStore
      ? [
          {
            comment: ' Key rotation (the cluster has a keyStore): rewriting Secrets under a new encryption key',
            object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: WORKER_KEYS_ROLE, labels: LABELS }, rules: rules(KEY_ROTATION_CLUSTER_GRANTS) },
            grants: KEY_ROTATION_CLUSTER_GRANTS,
          },
          { object: binding('ClusterRoleBinding', 'ClusterRole', WORKER_KEYS_ROLE) },
          {
            comment: ' Key rotation: the control plane reports the keyrings it runs in kube-system',
            object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: WORKER_KEYS_ROLE, namespace: 'kube-system', labels: LABELS }, rules: rules(KEY_ROTATION_REPORT_GRANTS) },
            grants: KEY_ROTATION_REPORT_GRANTS,
          },
          { object: binding('RoleBinding', 'Role', WORKER_KEYS_ROLE, 'kube-system') },
        ]
      : []),
    ...cluster.statefulNamespaces.flatMap((namespace): Manifest[] => [
      {
        comment: ` Stateful-service namespace ${namespace} (statefulNamespaces): what decommissionMember needs there`,
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: WORKER_DECOMMISSION_ROLE, namespace, labels: LABELS },
          rules: rules(DECOMMISSION_GRANTS),
        },
        grants: DECOMMISSION_GRANTS,
      },
      { object: binding('RoleBinding', 'Role', WORKER_DECOMMISSION_ROLE, namespace) },
    ]),
  ];
}

/** The worker's RBAC objects for a cluster: Namespace, ServiceAccount, ClusterRole and its binding, a Role and RoleBinding per stateful namespace. */
export const workerRbacObjects = (cluster: RbacCluster): Record<string, unknown>[] => manifests(cluster).map((m) => m.object);

/** The worker's RBAC for a cluster as a multi-document YAML manifest for `kubectl apply -f`, each rule with why it is needed. */
export function renderWorkerRbac(cluster: RbacCluster & Pick<ClusterConfig, 'name'>): string {
  const declared = cluster.statefulNamespaces.length ? cluster.statefulNamespaces.join(', ') : 'none declared';
  const header = [
    ` The itinerant worker's identity and permissions for cluster ${cluster.name}: rendered by`,
    ` \`itinerant rbac render --cluster ${cluster.name}\` from the fleet configuration; do not edit, render again.`,
    ` Stateful-service namespaces (statefulNamespaces): ${declared}. Declaring another one means rendering and applying this again.`,
    ` Apply with: kubectl apply -f <this file>. The worker authenticates as the ServiceAccount ${WORKER_NAMESPACE}/${WORKER_SERVICE_ACCOUNT}`,
    ` (in-cluster, or a kubeconfig with a token from \`kubectl -n ${WORKER_NAMESPACE} create token ${WORKER_SERVICE_ACCOUNT}\`).`,
  ].join('\n');
  return manifests(cluster)
    .map((m, i) => {
      const doc = new YAML.Document(m.object);
      // lists of names on one line, as people write RBAC
      YAML.visit(doc, { Seq: (_, seq) => void (seq.flow = seq.items.every(YAML.isScalar)) });
      m.grants?.forEach(([why], j) => {
        (doc.getIn(['rules', j], true) as YAML.Node).commentBefore = ` ${why}`;
      });
      if (i === 0) doc.commentBefore = header;
      if (m.comment) (doc.contents as YAML.Node).commentBefore = m.comment;
      return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
    })
    .join('---\n');
}
