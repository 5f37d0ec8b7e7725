// PersistentVolumeClaims: defaulting (bound at once to a dynamically provisioned volume), the
// claims a StatefulSet creates from its volumeClaimTemplates (`<template>-<sts>-<ordinal>`, kept on
// scale-down like the real controller's default Retain policy), and kubernetes.io/pvc-protection
// (a claim deleted while a pod still uses it stays Terminating until that pod is gone).

import type { Controllers } from './controllers.js';
import { rt, type KObject } from './resources.js';
import type { KubeApi } from './rest.js';
import type { ObjectStore } from './store.js';

export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const SIM_PROVISIONER = 'blockvolume.csi.oraclecloud.com';
export const SIM_STORAGE_CLASS = 'oci-bv';

/** Defaulting of a claim: a dynamically provisioned volume, Bound at once. */
export function defaultClaim(o: KObject): void {
  const s = (o.spec ??= {});
  s.accessModes ??= ['ReadWriteOnce'];
  s.volumeMode ??= 'Filesystem';
  s.storageClassName ??= SIM_STORAGE_CLASS;
  s.resources ??= { requests: { storage: '50Gi' } };
  s.volumeName ??= `pvc-${o.metadata.uid}`;
  const fin = (o.metadata.finalizers ??= []);
  if (!fin.includes(PVC_PROTECTION)) fin.push(PVC_PROTECTION);
  o.metadata.annotations = {
    'pv.kubernetes.io/bind-completed': 'yes',
    'pv.kubernetes.io/bound-by-controller': 'yes',
    'volume.beta.kubernetes.io/storage-provisioner': SIM_PROVISIONER,
    'volume.kubernetes.io/storage-provisioner': SIM_PROVISIONER,
    ...(o.metadata.annotations ?? {}),
  };
  if (o.status?.phase !== 'Bound') {
    o.status = { phase: 'Bound', accessModes: [...s.accessModes], capacity: { storage: s.resources?.requests?.storage ?? '50Gi' } };
  }
}

const active = (p: KObject) => !(p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');

/** Whether a (non-finished) pod in the claim's namespace mounts it. */
export function claimInUse(store: ObjectStore, claim: KObject): boolean {
  for (const p of store.peek('pods')) {
    if (p.metadata.namespace !== claim.metadata.namespace || !active(p)) continue;
    const vols = (p.spec?.volumes ?? []) as { persistentVolumeClaim?: { claimName?: string } }[];
    if (vols.some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name)) return true;
  }
  return false;
}

/** The claim name of template `tpl` for ordinal `i` of StatefulSet `sts`. */
export const claimName = (tpl: string, sts: string, i: number): string => `${tpl}-${sts}-${i}`;

/** The pod volumes that point at the claims of ordinal `i` (to merge into the pod spec). */
export function claimVolumes(sts: KObject, i: number): { name: string; persistentVolumeClaim: { claimName: string } }[] {
  const tpls = (sts.spec?.volumeClaimTemplates ?? []) as KObject[];
  return tpls.map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: claimName(t.metadata.name, sts.metadata.name, i) } }));
}

/** Create the missing claims of ordinal `i` (before its pod, as the StatefulSet controller does). */
export function ensureClaims(api: KubeApi, store: ObjectStore, sts: KObject, i: number): void {
  const tpls = (sts.spec?.volumeClaimTemplates ?? []) as KObject[];
  const selectorLabels = (sts.spec?.selector?.matchLabels ?? {}) as Record<string, string>;
  for (const t of tpls) {
    const name = claimName(t.metadata.name, sts.metadata.name, i);
    if (store.has('persistentvolumeclaims', sts.metadata.namespace, name)) continue;
    try {
      api.create(rt('persistentvolumeclaims'), sts.metadata.namespace, {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, namespace: sts.metadata.namespace, labels: { ...selectorLabels, ...(t.metadata.labels ?? {}) }, ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}) },
        spec: structuredClone(t.spec ?? {}),
      });
    } catch (err) {
      console.error(`kube sim: cannot create claim ${name} for StatefulSet ${sts.metadata.name}`, err);
    }
  }
}

/** Control loop: Terminating claims go once no pod uses them (pvc-protection finalizer). */
export function pvcProtectionController(c: Controllers): void {
  const store = c.ctx.store;
  for (const claim of store.list('persistentvolumeclaims')) {
    if (claim.metadata.deletionTimestamp && !claimInUse(store, claim)) store.remove('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name);
  }
}
