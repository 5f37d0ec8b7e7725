// The sim's RBAC decision (testbeds/sim/kube/rbac.ts) on its own: rule matching as kube-apiserver's RBAC
// authorizer does it, and the worker's shipped ClusterRole read from deploy/rbac/worker.yaml.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_CLUSTER_ROLE, WORKER_RBAC_MANIFEST } from '../../testbeds/worker-identity.js';
import { allowed, clusterRoleRules, verbOf } from '../../testbeds/sim/kube/rbac.js';

describe('sim RBAC', () => {
  it('matches verbs, groups, resources (subresources, wildcards) and resource names', () => {
    const rules = [
      { apiGroups: [''], resources: ['pods/*'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['*'], verbs: ['list'] },
      { apiGroups: ['*'], resources: ['configmaps'], verbs: ['*'], resourceNames: ['settings'] },
    ];
    expect(allowed(rules, { verb: 'get', group: '', resource: 'pods/log', namespace: 'a', name: 'p' })).toBe(true);
    expect(allowed(rules, { verb: 'get', group: '', resource: 'pods', namespace: 'a', name: 'p' })).toBe(false);
    expect(allowed(rules, { verb: 'list', group: 'apps', resource: 'deployments' })).toBe(true);
    expect(allowed(rules, { verb: 'list', group: 'batch', resource: 'jobs' })).toBe(false);
    expect(allowed(rules, { verb: 'delete', group: '', resource: 'configmaps', namespace: 'a', name: 'settings' })).toBe(true);
    expect(allowed(rules, { verb: 'delete', group: '', resource: 'configmaps', namespace: 'a', name: 'other' })).toBe(false);
    expect(allowed(rules, { verb: 'list', group: '', resource: 'configmaps', namespace: 'a' })).toBe(false); // names restrict: no list
  });

  it('derives the verb as kube-apiserver does', () => {
    expect([verbOf('GET', true, false), verbOf('GET', false, false), verbOf('GET', false, true), verbOf('DELETE', false, false), verbOf('PUT', true, false)]).toEqual([
      'get',
      'list',
      'watch',
      'deletecollection',
      'update',
    ]);
  });

  it("grants the worker exactly what its activities call (deploy/rbac/worker.yaml), including WebSocket exec's get and create", () => {
    const rules = clusterRoleRules(readFileSync(WORKER_RBAC_MANIFEST(), 'utf8'), WORKER_CLUSTER_ROLE);
    const can = (verb: string, resource: string, group = '') => allowed(rules, { verb, group, resource, namespace: 'data' });
    expect(can('get', 'pods/exec') && can('create', 'pods/exec')).toBe(true);
    expect(can('create', 'pods/eviction') && can('patch', 'statefulsets', 'apps') && can('delete', 'persistentvolumeclaims')).toBe(true);
    expect(can('get', 'secrets') || can('delete', 'namespaces') || can('create', 'pods') || can('update', 'statefulsets', 'apps')).toBe(false);
  });
});
