// RBAC for the sim's restricted identity, as kube-apiserver decides it: a request becomes (verb,
// API group, resource[/subresource], namespace, name) and is allowed when a rule of the identity's
// ClusterRole matches all of them. Discovery and health endpoints are open to every authenticated user
// (system:discovery, system:public-info-viewer). The sim loads the worker's rules from the shipped
// deploy/rbac/worker.yaml, so a call the activities make that the role does not grant fails here too.
import YAML from 'yaml';
import { ApiError, failure } from './status.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface RestrictedIdentity {
  token: string;
  /** e.g. system:serviceaccount:itinerant:itinerant-worker */
  user: string;
  rules: PolicyRule[];
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

/** The rules of the ClusterRole `name` in a manifest (YAML, several documents). */
export function clusterRoleRules(manifest: string, name: string): PolicyRule[] {
  for (const doc of YAML.parseAllDocuments(manifest)) {
    const o = doc.toJSON() as { kind?: string; metadata?: { name?: string }; rules?: PolicyRule[] } | null;
    if (o?.kind === 'ClusterRole' && o.metadata?.name === name) return o.rules ?? [];
  }
  throw new Error(`no ClusterRole ${name} in the manifest`);
}
