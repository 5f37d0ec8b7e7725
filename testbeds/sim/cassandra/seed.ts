// The Cassandra ring of the default fleet: namespace data, StatefulSet cassandra (4 replicas, a data
// volume per member), a PodDisruptionBudget (maxUnavailable 1) and the keyspaces
// system_auth (dc1: 3), shop (dc1: 3), analytics (dc1: 2).

import { ANNOTATION_KEYSPACES, ANNOTATION_LOAD_GIB, ANNOTATION_PREEXISTING } from './ring.js';

export interface CassandraSeedOptions {
  namespace?: string;
  name?: string;
  replicas?: number;
  /** Keyspace → replication (class short or qualified; dc → factor). */
  keyspaces?: Record<string, Record<string, string | number>>;
  /** Members below this ordinal are NORMAL as soon as they run (default: replicas). */
  preexisting?: number;
  /** Data per pre-existing member in GiB (default 100). */
  loadGiB?: number;
  storage?: string;
  image?: string;
}

export const SEED_KEYSPACES: Record<string, Record<string, string | number>> = {
  system_auth: { class: 'NetworkTopologyStrategy', dc1: 3 },
  shop: { class: 'NetworkTopologyStrategy', dc1: 3 },
  analytics: { class: 'NetworkTopologyStrategy', dc1: 2 },
};

/** The objects to apply (Namespace, StatefulSet, PodDisruptionBudget). */
export function cassandraObjects(o: CassandraSeedOptions = {}): Record<string, unknown>[] {
  const ns = o.namespace ?? 'data';
  const name = o.name ?? 'cassandra';
  const replicas = o.replicas ?? 4;
  const labels = { app: 'cassandra' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: {
        name,
        namespace: ns,
        labels,
        annotations: {
          [ANNOTATION_KEYSPACES]: JSON.stringify(o.keyspaces ?? SEED_KEYSPACES),
          [ANNOTATION_PREEXISTING]: String(o.preexisting ?? replicas),
          [ANNOTATION_LOAD_GIB]: String(o.loadGiB ?? 100),
        },
      },
      spec: {
        replicas,
        serviceName: name,
        podManagementPolicy: 'OrderedReady',
        selector: { matchLabels: labels },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        template: {
          metadata: { labels, annotations: { 'kubectl.kubernetes.io/default-container': 'cassandra' } },
          spec: {
            terminationGracePeriodSeconds: 1800,
            containers: [
              {
                name: 'cassandra',
                image: o.image ?? 'docker.io/library/cassandra:4.1.5',
                ports: [
                  { name: 'intra-node', containerPort: 7000 },
                  { name: 'jmx', containerPort: 7199 },
                  { name: 'cql', containerPort: 9042 },
                ],
                env: [
                  { name: 'CASSANDRA_CLUSTER_NAME', value: `${name}-${ns}` },
                  { name: 'CASSANDRA_DC', value: 'dc1' },
                  { name: 'CASSANDRA_RACK', value: 'rack1' },
                  { name: 'CASSANDRA_ENDPOINT_SNITCH', value: 'GossipingPropertyFileSnitch' },
                  { name: 'CASSANDRA_NUM_TOKENS', value: '16' },
                  { name: 'CASSANDRA_SEEDS', value: `${name}-0.${name}.${ns}.svc.cluster.local` },
                ],
                resources: { requests: { cpu: '500m', memory: '4Gi' } },
                volumeMounts: [{ name: 'data', mountPath: '/var/lib/cassandra' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels },
            spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'oci-bv', resources: { requests: { storage: o.storage ?? '200Gi' } } },
          },
        ],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace: ns },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
  ];
}
