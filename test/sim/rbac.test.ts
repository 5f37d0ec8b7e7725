// The sim's RBAC decision (testbeds/sim/kube/rbac.ts) on its own: rule matching and bindings as kube-apiserver's
// RBAC authorizer does them, and the worker's RBAC as the test beds render it for their fleet.
import { describe, expect, it } from 'vitest';
import { testbedWorkerRbac, WORKER_USER } from '../../testbeds/worker-identity.js';
import { allowed, authorized, grantsOf, verbOf } from '../../testbeds/sim/kube/rbac.js';

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

  it('applies a ClusterRoleBinding everywhere and a RoleBinding only in its namespace (to a Role there, or to a ClusterRole), for its subjects only', () => {
    const manifest = `
kind: ClusterRole
metadata: { name: reader }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
kind: ClusterRoleBinding
metadata: { name: reader }
roleRef: { kind: ClusterRole, name: reader }
subjects: [{ kind: ServiceAccount, name: bot, namespace: ops }]
---
kind: Role
metadata: { name: writer, namespace: a }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [delete] }]
---
kind: Role
metadata: { name: writer, namespace: b }
rules: [{ apiGroups: [""], resources: [secrets], verbs: ["*"] }]
---
kind: RoleBinding
metadata: { name: writer, namespace: a }
roleRef: { kind: Role, name: writer }
subjects: [{ kind: ServiceAccount, name: bot, namespace: ops }]
---
kind: RoleBinding
metadata: { name: lister, namespace: c }
roleRef: { kind: ClusterRole, name: reader }
subjects: [{ kind: User, name: alice }]
`;
    const bot = grantsOf(manifest, 'system:serviceaccount:ops:bot');
    const can = (g: typeof bot, verb: string, resource: string, namespace?: string) => authorized(g, { verb, group: '', resource, ...(namespace ? { namespace } : {}) });
    expect([can(bot, 'get', 'configmaps', 'x'), can(bot, 'get', 'configmaps'), can(bot, 'delete', 'configmaps', 'a')]).toEqual([true, true, true]);
    expect([can(bot, 'delete', 'configmaps', 'b'), can(bot, 'delete', 'configmaps'), can(bot, 'get', 'secrets', 'b')]).toEqual([false, false, false]);
    const alice = grantsOf(manifest, 'alice');
    expect([can(alice, 'get', 'configmaps', 'c'), can(alice, 'get', 'configmaps', 'a'), can(alice, 'delete', 'configmaps', 'a')]).toEqual([true, false, false]);
    expect(grantsOf(manifest, 'system:serviceaccount:other:bot')).toEqual({ cluster: [], namespaces: {} });
  });

  it("grants the worker what its activities call, exec, StatefulSet patch and PVC delete only in the declared namespace (data), WebSocket exec's get and create", () => {
    const grants = grantsOf(testbedWorkerRbac('sim-1'), WORKER_USER);
    const can = (verb: string, resource: string, namespace: string | undefined, group = '') => authorized(grants, { verb, group, resource, ...(namespace ? { namespace } : {}) });
    expect(can('get', 'pods/exec', 'data') && can('create', 'pods/exec', 'data')).toBe(true);
    expect(can('patch', 'statefulsets', 'data', 'apps') && can('delete', 'persistentvolumeclaims', 'data') && can('get', 'pods', 'data')).toBe(true);
    expect(can('list', 'pods', undefined) && can('create', 'pods/eviction', 'shop') && can('patch', 'nodes', undefined) && can('list', 'daemonsets', undefined, 'apps')).toBe(true);
    for (const ns of ['kube-system', 'shop', undefined]) {
      expect([can('get', 'pods/exec', ns), can('create', 'pods/exec', ns), can('delete', 'persistentvolumeclaims', ns), can('patch', 'statefulsets', ns, 'apps')]).toEqual([false, false, false, false]);
    }
    expect(can('get', 'secrets', 'data') || can('delete', 'namespaces', 'data') || can('create', 'pods', 'data') || can('update', 'statefulsets', 'data', 'apps')).toBe(false);
  });
});
