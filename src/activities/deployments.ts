// The Deployment rollout's steps: observe a Deployment and its new pods, set images, pause or resume, undo to
// a revision (kubectl rollout undo: the revision's ReplicaSet template copied back), and follow a rollout.
import type * as k8s from '@kubernetes/client-node';
import { ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { DeploymentActivities } from '../core/activity-contracts.js';
import { judgeRollout, type DeploymentFacts, type DeploymentRef, type RolloutDeploymentRequest } from '../core/deployment-rollout.js';
import type { ClientRegistry } from './clients.js';
import { isNotFound, isPodReady, MERGE_PATCH, rethrow } from './kube-api.js';

const POLL_MS = 1000;
const REVISION = 'deployment.kubernetes.io/revision';
/** The strategy, minReadySeconds and progressDeadlineSeconds a canary hold replaced (JSON), put back when it is released. */
const CANARY_HOLD = 'rollout.itinerant.dev/canary-hold';
/**
 * While held, new pods stay unavailable this long, so with maxSurge = the canary and maxUnavailable 0 the
 * Deployment controller stops at the canary's surge pods (old ones all kept) until the runbook pauses it.
 */
const HOLD_MIN_READY_SECONDS = 24 * 3600;
/** The API server requires progressDeadlineSeconds > minReadySeconds; our own deadline governs while held. */
const HOLD_PROGRESS_DEADLINE_SECONDS = HOLD_MIN_READY_SECONDS + 600;
const revisionOf = (o: { metadata?: k8s.V1ObjectMeta }) => Number(o.metadata?.annotations?.[REVISION] ?? 0) || undefined;
const selectorOf = (d: k8s.V1Deployment) => Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');

export function deploymentActivities({ clients }: { clients: ClientRegistry }) {
  async function read({ cluster, namespace, deployment }: DeploymentRef): Promise<k8s.V1Deployment | undefined> {
    try {
      return await clients.for(cluster).apps.readNamespacedDeployment({ name: deployment, namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      rethrow(e, `read Deployment ${namespace}/${deployment}`);
    }
  }

  /** The Deployment's ReplicaSets (owned by it), newest revision first. */
  async function replicaSets(ref: DeploymentRef, d: k8s.V1Deployment): Promise<k8s.V1ReplicaSet[]> {
    const { items } = await clients.for(ref.cluster).apps.listNamespacedReplicaSet({ namespace: ref.namespace, labelSelector: selectorOf(d) });
    return items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.uid === d.metadata?.uid)).sort((a, b) => (revisionOf(b) ?? 0) - (revisionOf(a) ?? 0));
  }

  async function facts(ref: DeploymentRef): Promise<DeploymentFacts> {
    const d = await read(ref);
    if (!d) return { exists: false, generation: 0, observedGeneration: 0, replicas: 0, current: 0, updated: 0, ready: 0, available: 0, paused: false, containers: [], newPods: [] };
    const [newest] = await replicaSets(ref, d);
    const hash = newest?.metadata?.labels?.['pod-template-hash'];
    const pods = hash ? (await clients.for(ref.cluster).core.listNamespacedPod({ namespace: ref.namespace, labelSelector: `${selectorOf(d)},pod-template-hash=${hash}` })).items : [];
    const st = d.status ?? {};
    // The API server's Deployment carries its revision; the sim's only its ReplicaSets do.
    const revision = revisionOf(d) ?? (newest ? revisionOf(newest) : undefined);
    return {
      exists: true,
      generation: d.metadata?.generation ?? 0,
      observedGeneration: st.observedGeneration ?? 0,
      replicas: d.spec?.replicas ?? 1,
      current: st.replicas ?? 0,
      updated: st.updatedReplicas ?? 0,
      ready: st.readyReplicas ?? 0,
      available: st.availableReplicas ?? 0,
      paused: d.spec?.paused ?? false,
      ...(revision !== undefined ? { revision } : {}),
      ...(hash ? { templateHash: hash } : {}),
      containers: (d.spec?.template.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '' })),
      ...(st.conditions?.find((c) => c.type === 'Progressing')?.reason ? { progressingReason: st.conditions.find((c) => c.type === 'Progressing')!.reason! } : {}),
      newPods: pods
        .filter((p) => !p.metadata?.deletionTimestamp)
        .map((p) => {
          const cs = p.status?.containerStatuses ?? [];
          const waiting = cs.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined);
          return { name: p.metadata?.name ?? '', ready: isPodReady(p), restarts: cs.reduce((n, c) => n + (c.restartCount ?? 0), 0), ...(waiting ? { waiting } : {}) };
        }),
    };
  }

  async function patch(ref: DeploymentRef, body: object, what: string) {
    try {
      await clients.for(ref.cluster).apps.patchNamespacedDeployment({ name: ref.deployment, namespace: ref.namespace, body }, MERGE_PATCH);
    } catch (e) {
      rethrow(e, `${what} Deployment ${ref.namespace}/${ref.deployment}`);
    }
  }

  return {
    inspectDeployment: facts,

    /**
     * Set the images (a merge patch of the whole container list, other fields kept) and resume; already so: no
     * change. With `canary`, in the same patch, hold the rollout at that many surge pods (see CANARY_HOLD).
     */
    async setDeploymentImages(a: DeploymentRef & { images: Record<string, string>; canary?: number }) {
      const d = await read(a);
      if (!d) throw ApplicationFailure.nonRetryable(`Deployment ${a.namespace}/${a.deployment} does not exist`, 'DeploymentNotFound');
      const containers = d.spec?.template.spec?.containers ?? [];
      if (containers.every((c) => a.images[c.name] === undefined || a.images[c.name] === c.image) && !d.spec?.paused) return { changed: false };
      const next = containers.map((c) => (a.images[c.name] !== undefined ? { ...c, image: a.images[c.name] } : c));
      const hold = a.canary !== undefined && !heldBefore(d) ? canaryHold(d, a.canary) : {};
      await patch(a, merge(hold, { spec: { paused: false, template: { spec: { containers: next } } } }), 'set images of');
      return { changed: true };
    },

    /** Pause, or resume (releasing a canary hold: the strategy and minReadySeconds from before). */
    async pauseDeployment(a: DeploymentRef & { paused: boolean }) {
      const d = await read(a);
      const release = !a.paused && d ? releaseHold(d) : {};
      if (!d || ((d.spec?.paused ?? false) === a.paused && !Object.keys(release).length)) return { changed: false };
      await patch(a, merge(release, { spec: { paused: a.paused } }), a.paused ? 'pause' : 'resume');
      return { changed: true };
    },

    /**
     * kubectl rollout undo: the template of an earlier revision (its ReplicaSet, found by pod-template-hash, which
     * survives the renumbering an undo causes), less that label, becomes the Deployment's again.
     */
    async undoDeploymentRollout(a: DeploymentRef & { toTemplate: string }) {
      const d = await read(a);
      if (!d) throw ApplicationFailure.nonRetryable(`Deployment ${a.namespace}/${a.deployment} does not exist`, 'DeploymentNotFound');
      const sets = await replicaSets(a, d);
      if (sets[0]?.metadata?.labels?.['pod-template-hash'] === a.toTemplate && !d.spec?.paused && !heldBefore(d)) return { changed: false };
      const rs = sets.find((r) => r.metadata?.labels?.['pod-template-hash'] === a.toTemplate);
      if (!rs?.spec?.template) throw ApplicationFailure.nonRetryable(`Deployment ${a.namespace}/${a.deployment} has no ReplicaSet of template ${a.toTemplate} any more`, 'RevisionNotFound');
      const template = structuredClone(rs.spec.template);
      delete template.metadata?.labels?.['pod-template-hash'];
      await patch(a, merge(releaseHold(d), { spec: { paused: false, template } }), 'undo');
      return { changed: true };
    },

    /** Follow the rollout until it completes, reaches the canary, fails its gates, or the deadline passes (heartbeating). */
    async followDeploymentRollout(a: DeploymentRef & { deadline: number; gates: RolloutDeploymentRequest['gates']; canary?: number }) {
      for (;;) {
        const f = await facts(a);
        const judged = judgeRollout(f, a.gates, a.canary);
        const where = `${f.updated}/${f.replicas} updated, ${f.ready} ready, ${f.available} available (generation ${f.observedGeneration}/${f.generation})`;
        if (judged.state === 'failed') return { outcome: 'failed' as const, why: judged.why, revision: f.revision ?? 0 };
        if (judged.state !== 'progressing') return { outcome: judged.state, why: where, revision: f.revision ?? 0 };
        heartbeat({ where });
        if (Date.now() > a.deadline) return { outcome: 'timed-out' as const, why: `not complete at the deadline: ${where}`, revision: f.revision ?? 0 };
        await sleep(POLL_MS);
      }
    },
  } satisfies DeploymentActivities;
}

const heldBefore = (d: k8s.V1Deployment) => d.metadata?.annotations?.[CANARY_HOLD] !== undefined;

/** The patch that holds a rollout at `canary` surge pods, remembering what it replaces. */
function canaryHold(d: k8s.V1Deployment, canary: number): object {
  const before: Held = {
    strategy: d.spec?.strategy ?? null,
    minReadySeconds: d.spec?.minReadySeconds ?? null,
    progressDeadlineSeconds: d.spec?.progressDeadlineSeconds ?? null,
  };
  return {
    metadata: { annotations: { [CANARY_HOLD]: JSON.stringify(before) } },
    spec: {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: canary, maxUnavailable: 0 } },
      minReadySeconds: HOLD_MIN_READY_SECONDS,
      progressDeadlineSeconds: HOLD_PROGRESS_DEADLINE_SECONDS,
    },
  };
}

/** The patch that puts back what a canary hold replaced (none held: empty). */
function releaseHold(d: k8s.V1Deployment): object {
  const held = d.metadata?.annotations?.[CANARY_HOLD];
  if (held === undefined) return {};
  const before = JSON.parse(held) as Held;
  // A merge patch merges objects: a Recreate strategy must also drop the hold's rollingUpdate.
  const strategy = before.strategy ? { rollingUpdate: null, ...before.strategy } : null;
  return {
    metadata: { annotations: { [CANARY_HOLD]: null } },
    spec: { strategy, minReadySeconds: before.minReadySeconds, progressDeadlineSeconds: before.progressDeadlineSeconds },
  };
}

interface Held {
  strategy: k8s.V1DeploymentStrategy | null;
  minReadySeconds: number | null;
  progressDeadlineSeconds: number | null;
}

/** Two merge-patch bodies as one (objects merged key by key; `b` wins). */
function merge(a: object, b: object): object {
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && v && typeof prev === 'object' && typeof v === 'object' && !Array.isArray(v) ? merge(prev, v) : v;
  }
  return out;
}
