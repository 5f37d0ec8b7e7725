// Discovery documents: /version, /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}.
// Aggregated discovery (apidiscovery.k8s.io/v2) is not served: we answer the legacy
// documents as plain application/json, and kubectl / client-go fall back to them.

import { groupVersion, RESOURCES, type ResourceType } from './resources.js';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.1',
  gitCommit: 'e9c9be4007d1664e68796af02b8978640d2c1b26',
  gitTreeState: 'clean',
  buildDate: '2025-01-15T14:31:55Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function groups(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (!r.group) continue;
    const vs = g.get(r.group) ?? [];
    if (!vs.includes(r.version)) vs.push(r.version);
    g.set(r.group, vs);
  }
  return g;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups()].map(([name, vs]) => apiGroup(name, vs)) };
}

export function apiGroupDoc(group: string): Record<string, unknown> | undefined {
  const vs = groups().get(group);
  return vs ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, vs) } : undefined;
}

function resourceEntries(r: ResourceType): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
  };
  if (r.shortNames.length) main['shortNames'] = r.shortNames;
  if (r.categories) main['categories'] = r.categories;
  const subs = Object.entries(r.subresources).map(([sub, s]) => {
    const e: Record<string, unknown> = { name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced };
    if (s.group !== undefined) e['group'] = s.group;
    if (s.version !== undefined) e['version'] = s.version;
    e['kind'] = s.kind;
    e['verbs'] = s.verbs;
    return e;
  });
  return [main, ...subs];
}

export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources: rs.flatMap(resourceEntries) };
}
