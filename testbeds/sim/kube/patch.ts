// JSON merge patch (RFC 7386), a small strategic merge patch, JSON patch (RFC 6902).

import { errors } from './status.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObj = { [k: string]: Json };

const isObj = (v: unknown): v is JsonObj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: JsonObj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/** patchMergeKey of the list fields that matter in practice (containers, env, conditions...). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  env: 'name',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  conditions: 'type',
  ownerReferences: 'uid',
  addresses: 'type',
};

/** Strategic merge patch, simplified: merge patch + keyed list merge for well-known lists, `$patch: delete` in list items; other `$` directives are ignored. */
export function strategicMergePatch(target: unknown, patch: unknown, field?: string): unknown {
  if (Array.isArray(patch)) {
    const mk = field ? MERGE_KEYS[field] : undefined;
    if (!mk || !Array.isArray(target)) return structuredClone(patch).filter((x) => !(isObj(x) && x['$patch'] === 'delete'));
    const out = [...target] as Json[];
    for (const item of patch) {
      if (!isObj(item)) continue;
      const idx = out.findIndex((t) => isObj(t) && t[mk] === item[mk]);
      if (item['$patch'] === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item) as Json;
      else out.push(strip(item));
    }
    return out;
  }
  if (!isObj(patch)) return structuredClone(patch);
  if (patch['$patch'] === 'replace') return strip(patch);
  const out: JsonObj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v, k) as Json;
  }
  return out;
}

function strip(o: JsonObj): JsonObj {
  const out: JsonObj = {};
  for (const [k, v] of Object.entries(o)) if (!k.startsWith('$')) out[k] = isObj(v) ? strip(v) : v;
  return out;
}

interface JsonPatchOp { op: string; path: string; value?: unknown; from?: string }

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw errors.badRequest(`invalid JSON pointer ${p}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, path: string[]): unknown {
  let cur: unknown = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObj(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, path: string[], op: string): { parent: Json[] | JsonObj; last: string } {
  if (path.length === 0) throw errors.badRequest(`${op} on the document root is not supported`);
  const parent = getAt(doc, path.slice(0, -1));
  if (!Array.isArray(parent) && !isObj(parent)) throw errors.patchFailed(`jsonpatch ${op} operation does not apply: doc is missing path: /${path.join('/')}`);
  return { parent: parent as Json[] | JsonObj, last: path[path.length - 1]! };
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw errors.badRequest('json patch must be an array of operations');
  let out = structuredClone(doc);
  for (const raw of ops as JsonPatchOp[]) {
    const path = parsePointer(raw.path);
    switch (raw.op) {
      case 'add': out = add(out, path, structuredClone(raw.value)); break;
      case 'remove': remove(out, path); break;
      case 'replace': {
        if (path.length === 0) { out = structuredClone(raw.value); break; }
        if (getAt(out, path) === undefined) throw errors.patchFailed(`jsonpatch replace operation does not apply: doc is missing key: ${raw.path}`);
        const { parent, last } = parentOf(out, path, 'replace');
        if (Array.isArray(parent)) parent[Number(last)] = structuredClone(raw.value) as Json;
        else parent[last] = structuredClone(raw.value) as Json;
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(out, path)) !== JSON.stringify(raw.value)) throw errors.patchFailed(`the server rejected our request due to an error in our request: testing value ${raw.path} failed`);
        break;
      case 'move': {
        const from = parsePointer(raw.from ?? '');
        const v = getAt(out, from);
        remove(out, from);
        out = add(out, path, v);
        break;
      }
      case 'copy': out = add(out, path, structuredClone(getAt(out, parsePointer(raw.from ?? '')))); break;
      default: throw errors.badRequest(`unknown json patch op ${String(raw.op)}`);
    }
  }
  return out;
}

function add(doc: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const { parent, last } = parentOf(doc, path, 'add');
  if (Array.isArray(parent)) {
    const idx = last === '-' ? parent.length : Number(last);
    if (!(idx >= 0 && idx <= parent.length)) throw errors.patchFailed(`jsonpatch add operation does not apply: index out of range`);
    parent.splice(idx, 0, value as Json);
  } else parent[last] = value as Json;
  return doc;
}

function remove(doc: unknown, path: string[]): void {
  const { parent, last } = parentOf(doc, path, 'remove');
  if (Array.isArray(parent)) {
    const idx = Number(last);
    if (!(idx >= 0 && idx < parent.length)) throw errors.patchFailed(`jsonpatch remove operation does not apply: doc is missing path: /${path.join('/')}`);
    parent.splice(idx, 1);
  } else {
    if (!(last in parent)) throw errors.patchFailed(`jsonpatch remove operation does not apply: doc is missing path: /${path.join('/')}`);
    delete parent[last];
  }
}
