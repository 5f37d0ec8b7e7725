// What every authenticated user may ask about itself, as kube-apiserver answers it: SelfSubjectAccessReview
// and SelfSubjectRulesReview (authorization.k8s.io/v1, `kubectl auth can-i [--list]`) and SelfSubjectReview
// (authentication.k8s.io/v1, `kubectl auth whoami`), from the same RBAC rules the sim holds requests to.
import { authorized, type PolicyRule, type RbacGrants, type RestrictedIdentity } from './rbac.js';
import { errors } from './status.js';

/** The ClusterRole system:basic-user (bound to system:authenticated) and what system:discovery grants. */
export const BASIC_USER_RULES: PolicyRule[] = [
  { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
];
const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'];

/** The resources of the reviews, by API group (in discovery as resources.ts lists them): answered here, never stored. */
const REVIEW_RESOURCES: Record<string, string[]> = {
  'authorization.k8s.io': ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  'authentication.k8s.io': ['selfsubjectreviews'],
};

type Caller = 'admin' | RestrictedIdentity;
const ADMIN_RULES: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

function userInfo(caller: Caller, adminUser: string) {
  if (caller === 'admin') return { username: adminUser, groups: ['system:masters', 'system:authenticated'] };
  const sa = /^system:serviceaccount:([^:]+):/.exec(caller.user);
  return { username: caller.user, groups: sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`, 'system:authenticated'] : ['system:authenticated'] };
}

/** The answer to a review `plural` of `group` posted with `body`. */
export function review(group: string, plural: string, body: unknown, caller: Caller, adminUser: string): Record<string, unknown> {
  const o = (body ?? {}) as { apiVersion?: string; kind?: string; metadata?: object; spec?: Record<string, unknown> };
  const spec = o.spec ?? {};
  const echo = { apiVersion: `${group}/v1`, kind: o.kind, metadata: { creationTimestamp: null, ...o.metadata } };
  if (plural === 'selfsubjectreviews') return { ...echo, kind: 'SelfSubjectReview', status: { userInfo: userInfo(caller, adminUser) } };
  const grants: RbacGrants = caller === 'admin' ? { cluster: ADMIN_RULES, namespaces: {} } : { ...caller.grants, cluster: [...caller.grants.cluster, ...BASIC_USER_RULES] };
  if (plural === 'selfsubjectrulesreviews') {
    const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
    const rules = [...grants.cluster, ...(namespace ? (grants.namespaces[namespace] ?? []) : [])];
    return {
      ...echo,
      kind: 'SelfSubjectRulesReview',
      spec,
      status: {
        resourceRules: rules.map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
        nonResourceRules: [{ verbs: caller === 'admin' ? ['*'] : ['get'], nonResourceURLs: caller === 'admin' ? ['*'] : DISCOVERY_URLS }],
        incomplete: false,
      },
    };
  }
  const ra = spec.resourceAttributes as { namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string } | undefined;
  const nra = spec.nonResourceAttributes as { path?: string; verb?: string } | undefined;
  if (!ra && !nra) throw errors.badRequest('SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
  let ok: boolean;
  if (ra) {
    const a = { verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.subresource ? `${ra.resource}/${ra.subresource}` : (ra.resource ?? ''), ...(ra.namespace ? { namespace: ra.namespace } : {}), ...(ra.name ? { name: ra.name } : {}) };
    ok = authorized(grants, a);
  } else {
    const path = nra!.path ?? '';
    ok = caller === 'admin' || (nra!.verb === 'get' && DISCOVERY_URLS.some((u) => u === path || (u.endsWith('/*') && path.startsWith(u.slice(0, -1)))));
  }
  return { ...echo, kind: 'SelfSubjectAccessReview', spec, status: { allowed: ok, ...(ok ? { reason: caller === 'admin' ? '' : 'RBAC: allowed by the rules bound to the user' } : {}) } };
}

/** Is this request one of the reviews (allowed to every authenticated user)? */
export const isReview = (group: string, rest: string[]) => rest.length === 1 && (REVIEW_RESOURCES[group] ?? []).includes(rest[0]!);
