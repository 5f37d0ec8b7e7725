// RBAC for the sim's restricted identity, as kube-apiserver decides it: a request becomes (verb,
// API group, resource[/subresource], namespace, name) and is allowed when a rule bound to the identity
// matches all of them: a ClusterRoleBinding's rules anywhere, a RoleBinding's only in its namespace.
// Discovery and health endpoints are open to every authenticated user (system:discovery,
// system:public-info-viewer). The sim reads the worker's bindings from the RBAC the project renders for
// the test bed's fleet (src/config/worker-rbac.ts), so a call the activities make that it does not grant fails here too.
import YAML from 'yaml';
import { ApiError, failure } from './status.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** What is bound to an identity: rules everywhere (ClusterRoleBindings), and rules per namespace (RoleBindings). */
export interface RbacGrants {
  cluster: PolicyRule[];
  namespaces: Record<string, PolicyRule[]>;
}

export interface RestrictedIdentity {
  token: string;
  /** e.g. system:serviceaccount:itinerant:itinerant-worker */
  user: string;
  grants: RbacGrants;
}

export interface RequestAttributes {
  verb: string;
  group: string;
  /** plural, with `/subresource` when there is one */
  resource: string;
  namespace?: string;
  name?: string;
}

const matches = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);

function resourceMatches(list: string[] | undefined, resource: string): boolean {
  const [plural] = resource.split('/');
  return (list ?? []).some((r) => r === '*' || r === resource || (r.endsWith('/*') && resource.startsWith(`${r.slice(0, -2)}/`)) || (r.startsWith('*/') && resource === `${plural}/${r.slice(2)}`));
}

export function allowed(rules: PolicyRule[], a: RequestAttributes): boolean {
  return rules.some(
    (r) =>
      matches(r.verbs, a.verb) &&
      matches(r.apiGroups, a.group) &&
      resourceMatches(r.resources, a.resource) &&
      (!r.resourceNames?.length || (a.name !== undefined && r.resourceNames.includes(a.name))),
  );
}

/** Is the request allowed by what is bound to the identity? */
export function authorized(grants: RbacGrants, a: RequestAttributes): boolean {
  return allowed(grants.cluster, a) || (a.namespace !== undefined && allowed(grants.namespaces[a.namespace] ?? [], a));
}

/** The 403 kube-apiserver answers, word for word. */
export function forbidden(user: string, a: RequestAttributes): ApiError {
  const [plural] = a.resource.split('/');
  const qualified = a.group ? `${plural}.${a.group}` : plural!;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new ApiError(
    failure(403, `${subject} is forbidden: User "${user}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" ${scope}`, 'Forbidden', {
      ...(a.name ? { name: a.name } : {}),
      ...(a.group ? { group: a.group } : {}),
      kind: plural,
    }),
  );
}

/** The verb kube-apiserver's request info gives a resource request. */
export function verbOf(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

type RbacObject = {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  rules?: PolicyRule[];
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
};

/** What a manifest (YAML, several documents) binds to `user`: a ServiceAccount (system:serviceaccount:<ns>:<name>) or a User. */
export function grantsOf(manifest: string, user: string): RbacGrants {
  const objects = YAML.parseAllDocuments(manifest).map((d) => d.toJSON() as RbacObject | null).filter((o): o is RbacObject => !!o);
  const find = (kind: string, name: string | undefined, namespace?: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  const boundToUser = (b: RbacObject) =>
    (b.subjects ?? []).some((s) => (s.kind === 'ServiceAccount' ? `system:serviceaccount:${s.namespace ?? b.metadata?.namespace}:${s.name}` : s.name) === user);
  const grants: RbacGrants = { cluster: [], namespaces: {} };
  for (const b of objects.filter(boundToUser)) {
    if (b.kind === 'ClusterRoleBinding') {
      grants.cluster.push(...(find('ClusterRole', b.roleRef?.name)?.rules ?? []));
    } else if (b.kind === 'RoleBinding' && b.metadata?.namespace) {
      const ns = b.metadata.namespace;
      const role = b.roleRef?.kind === 'ClusterRole' ? find('ClusterRole', b.roleRef.name) : find('Role', b.roleRef?.name, ns);
      (grants.namespaces[ns] ??= []).push(...(role?.rules ?? []));
    }
  }
  return grants;
}
