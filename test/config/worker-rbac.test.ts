// The worker's RBAC as `itinerant rbac render` renders it (src/config/worker-rbac.ts): cluster-wide only what
// repaving needs, exec / StatefulSet patch / PVC delete only in the declared stateful-service namespaces, as a
// real RBAC authorizer reads the manifest (the sim's, testbeds/sim/kube/rbac.ts); and the shipped example is its render.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { fleetConfigSchema, describeIssues } from '../../src/core/config.js';
import { loadFleetConfig } from '../../src/config/fleet-config.js';
import { projectRoot } from '../../src/config/home.js';
import { renderWorkerRbac, workerRbacObjects, WORKER_USER } from '../../src/config/worker-rbac.js';
import { authorized, grantsOf } from '../../testbeds/sim/kube/rbac.js';

const kindsOf = (statefulNamespaces: string[]) =>
  workerRbacObjects({ statefulNamespaces }).map((o) => {
    const { kind, metadata } = o as { kind: string; metadata: { name: string; namespace?: string } };
    return `${kind} ${metadata.namespace ? metadata.namespace + '/' : ''}${metadata.name}`;
  });

describe('worker RBAC render', () => {
  it.each([
    [[], []],
    [['data'], ['Role data/itinerant-worker-decommission', 'RoleBinding data/itinerant-worker-decommission']],
    [
      ['data', 'cache'],
      ['Role data/itinerant-worker-decommission', 'RoleBinding data/itinerant-worker-decommission', 'Role cache/itinerant-worker-decommission', 'RoleBinding cache/itinerant-worker-decommission'],
    ],
  ])('statefulNamespaces %j: the identity, the ClusterRole and its binding, then a Role and RoleBinding per namespace', (namespaces, namespaced) => {
    expect(kindsOf(namespaces)).toEqual([
      'Namespace itinerant',
      'ServiceAccount itinerant/itinerant-worker',
      'ClusterRole itinerant-worker',
      'ClusterRoleBinding itinerant-worker',
      ...namespaced,
    ]);
  });

  const grants = grantsOf(renderWorkerRbac({ name: 'prod-1', statefulNamespaces: ['data', 'cache'] }), WORKER_USER);
  it.each([
    // [verb, group, resource, namespace, allowed]
    ['get', '', 'pods/exec', 'data', true],
    ['create', '', 'pods/exec', 'cache', true],
    ['delete', '', 'persistentvolumeclaims', 'data', true],
    ['patch', 'apps', 'statefulsets', 'cache', true],
    ['get', '', 'pods', 'data', true],
    ['get', '', 'pods/exec', 'kube-system', false],
    ['create', '', 'pods/exec', 'kube-system', false],
    ['create', '', 'pods/exec', 'shop', false],
    ['delete', '', 'persistentvolumeclaims', 'shop', false],
    ['delete', '', 'persistentvolumeclaims', undefined, false],
    ['patch', 'apps', 'statefulsets', 'kube-system', false],
    ['get', '', 'pods', 'kube-system', false],
    ['list', '', 'pods', undefined, true],
    ['delete', '', 'pods', 'shop', true],
    ['create', '', 'pods/eviction', 'kube-system', true],
    ['patch', '', 'nodes', undefined, true],
    ['list', 'apps', 'daemonsets', undefined, true],
    ['get', '', 'secrets', 'data', false],
    ['update', 'apps', 'statefulsets', 'data', false],
    ['delete', 'apps', 'statefulsets', 'data', false],
  ] as const)('%s %s/%s in %s: allowed %s', (verb, group, resource, namespace, allowed) => {
    expect(authorized(grants, { verb, group, resource, ...(namespace ? { namespace } : {}) })).toBe(allowed);
  });

  it('renders YAML documents that parse back to the objects, each rule with why it is needed', () => {
    const text = renderWorkerRbac({ name: 'prod-1', statefulNamespaces: ['data'] });
    expect(YAML.parseAllDocuments(text).map((d) => d.toJSON())).toEqual(workerRbacObjects({ statefulNamespaces: ['data'] }));
    expect(text).toMatch(/^# .*cluster prod-1/);
    expect(text).toMatch(/# nodetool \/ cqlsh in a member's pod/);
  });

  it('deploy/rbac/worker.yaml is the render of deploy/fleet.example.yaml (npx itinerant rbac render --config deploy/fleet.example.yaml)', () => {
    const example = loadFleetConfig(join(projectRoot(), 'deploy', 'fleet.example.yaml'));
    expect(example.clusters[0]!.statefulNamespaces).toEqual(['data']);
    expect(readFileSync(join(projectRoot(), 'deploy', 'rbac', 'worker.yaml'), 'utf8')).toBe(renderWorkerRbac(example.clusters[0]!));
  });
});

describe('statefulNamespaces in the fleet configuration', () => {
  const cluster = { name: 'c', kubeconfig: 'k', oci: { configFile: 'o' }, compartmentId: 'ocid1.compartment.oc1..x' };
  const issues = (statefulNamespaces: unknown) => {
    const r = fleetConfigSchema.safeParse({ clusters: [{ ...cluster, statefulNamespaces }] });
    return r.success ? r.data.clusters[0]!.statefulNamespaces : describeIssues(r.error);
  };
  it.each([
    [undefined, []],
    [['data', 'cache'], ['data', 'cache']],
    [['kube-system'], /clusters\.0\.statefulNamespaces\.0: kube-system, kube-public, kube-node-lease cannot hold stateful services/],
    [['data', 'data'], /statefulNamespaces: duplicate namespace/],
    [['Data'], /statefulNamespaces\.0: expected a lower-case DNS label/],
  ])('%j → %s', (given, expected) => {
    const got = issues(given);
    if (expected instanceof RegExp) expect(got).toMatch(expected);
    else expect(got).toEqual(expected);
  });
});
