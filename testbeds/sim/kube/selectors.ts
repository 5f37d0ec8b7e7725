// Label selectors (query string and LabelSelector objects), field selectors, tolerations.

import type { KObject } from './resources.js';
import { errors } from './status.js';

type Req =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Matcher = (labels: Record<string, string> | undefined) => boolean;

/** Split on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

export function parseLabelSelector(sel: string | null | undefined): Matcher {
  if (!sel || !sel.trim()) return () => true;
  const reqs: Req[] = splitTop(sel).map((term): Req => {
    let m = /^([^!=\s]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) return { op: m[2] === 'in' ? 'in' : 'notin', key: m[1]!, values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) };
    m = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term);
    if (m) return { op: 'neq', key: m[1]!, value: m[2]! };
    m = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term);
    if (m) return { op: 'eq', key: m[1]!, value: m[2]! };
    m = /^!\s*(\S+)$/.exec(term);
    if (m) return { op: 'notexists', key: m[1]! };
    m = /^(\S+)$/.exec(term);
    if (m) return { op: 'exists', key: m[1]! };
    throw errors.badRequest(`unable to parse requirement: ${term}`);
  });
  return (labels) => reqs.every((r) => matchReq(r, labels ?? {}));
}

function matchReq(r: Req, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case 'eq': return has && v === r.value;
    case 'neq': return !has || v !== r.value;
    case 'in': return has && r.values.includes(v!);
    case 'notin': return !has || !r.values.includes(v!);
    case 'exists': return has;
    case 'notexists': return !has;
  }
}

export interface LabelSelectorObj {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** metav1.LabelSelector: nil/undefined matches nothing, {} matches everything (as for PDBs). */
export function matchesSelector(sel: LabelSelectorObj | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !vals.includes(l[e.key]!)) return false; break;
      case 'NotIn': if (has && vals.includes(l[e.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** LabelSelector object → query-string form (for Scale status.selector and the like). */
export function selectorToString(sel: LabelSelectorObj | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    if (e.operator === 'Exists') parts.push(e.key);
    if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export type ObjMatcher = (o: KObject) => boolean;

/** The value of a dotted field (its path split once, by the selector that names it), '' when unset. */
export function fieldValue(o: KObject, segments: readonly string[]): string {
  let cur: unknown = o;
  for (const p of segments) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}

/**
 * The field labels a real API server accepts per resource (plural); every resource also takes
 * metadata.name and metadata.namespace. Anything else is a 400 "field label not supported" there.
 */
const FIELD_LABELS: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  nodes: ['spec.unschedulable'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  secrets: ['type'],
  namespaces: ['status.phase'],
  replicasets: ['status.replicas'],
  persistentvolumeclaims: [],
};

const BOOL_FIELDS = new Set(['spec.unschedulable', 'spec.hostNetwork']);

/**
 * Field selectors: `a.b=c`, `a.b==c`, `a.b!=c`, comma-separated. With `resource` (a plural), only the field
 * labels the real API server supports for it are accepted (others: 400, as kube-apiserver answers);
 * without it, any dotted path into the object.
 */
export function parseFieldSelector(sel: string | null | undefined, resource?: string): FieldMatcher {
  if (!sel || !sel.trim()) return Object.assign(() => true, { equalities: new Map<string, string>() });
  const reqs = sel.split(',').map((t) => t.trim()).filter(Boolean).map((term) => {
    const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid field selector: ${term}`);
    const path = m[1]!;
    if (resource !== undefined && path !== 'metadata.name' && path !== 'metadata.namespace' && !(FIELD_LABELS[resource] ?? []).includes(path)) {
      throw errors.badRequest(`field label not supported: ${path}`);
    }
    return { path, segments: path.split('.'), neq: m[2] === '!=', value: m[3]! };
  });
  // The real API computes field values from typed objects: an unset boolean is "false".
  const value = (o: KObject, r: (typeof reqs)[number]) => fieldValue(o, r.segments) || (resource !== undefined && BOOL_FIELDS.has(r.path) ? 'false' : '');
  const matcher = (o: KObject) => reqs.every((r) => (value(o, r) === r.value) !== r.neq);
  return Object.assign(matcher, { equalities: new Map(reqs.filter((r) => !r.neq && !BOOL_FIELDS.has(r.path)).map((r) => [r.path, r.value])) });
}

/** A field selector's matcher, and the fields it requires to equal a value (unset booleans aside: they read "false"). */
export type FieldMatcher = ObjMatcher & { equalities: ReadonlyMap<string, string> };

export interface Taint { key: string; value?: string; effect: string }
export interface Toleration { key?: string; operator?: string; value?: string; effect?: string }

export function tolerates(tols: Toleration[] | undefined, taint: Taint): boolean {
  return (tols ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** Taints with NoSchedule/NoExecute that the tolerations do not cover. */
export function untoleratedTaints(taints: Taint[] | undefined, tols: Toleration[] | undefined): Taint[] {
  return (taints ?? []).filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tols, t));
}

interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

/** nodeSelector + requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function nodeMatchesPod(node: KObject, podSpec: { nodeSelector?: Record<string, string>; affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } } }): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(podSpec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some((term) => {
    const exprOk = matchesSelector({ matchExpressions: (term.matchExpressions ?? []).filter((e) => ['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) }, labels);
    const fieldsOk = (term.matchFields ?? []).every((f) => f.key !== 'metadata.name' || (f.operator === 'In' ? (f.values ?? []).includes(node.metadata.name) : !(f.values ?? []).includes(node.metadata.name)));
    return exprOk && fieldsOk;
  });
}
