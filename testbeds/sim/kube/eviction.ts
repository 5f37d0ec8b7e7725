// POST .../pods/{name}/eviction, with the API server's PodDisruptionBudget rules.

import { ts, type SimContext } from './context.js';
import { pdbsForPod, refreshPdb } from './pdb.js';
import { rt } from './resources.js';
import { isTerminating, podReady, setCondition, type KubeApi } from './rest.js';
import { errors, failure, ApiError, success, type Status } from './status.js';

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

export function evict(ctx: SimContext, api: KubeApi, ns: string, name: string, body: unknown): Status {
  const ev = (body ?? {}) as { kind?: string; metadata?: { name?: string }; deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string } } };
  if (ev.kind && ev.kind !== 'Eviction') throw errors.badRequest(`expected an Eviction, got ${ev.kind}`);
  if (ev.metadata?.name && ev.metadata.name !== name) throw errors.badRequest('name in URL does not match name in Eviction object');
  if (ctx.faults.blockEvictions) {
    ctx.counters.evictionsRefused++;
    throw errors.tooManyRequests(VIOLATION, [{ reason: 'DisruptionBudget', message: 'evictions are blocked (simulated fault)' }]);
  }
  const pod = api.get(rt('pods'), ns, name);
  if (ev.deleteOptions?.preconditions?.uid && ev.deleteOptions.preconditions.uid !== pod.metadata.uid) throw errors.conflict('pods', '', name);
  const grace = ev.deleteOptions?.gracePeriodSeconds;
  const doEvict = (): Status => {
    api.terminatePod(pod, grace);
    ctx.counters.evictions++;
    return success(201);
  };
  if (isTerminating(pod)) return success(201);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending') return doEvict();

  const pdbs = pdbsForPod(ctx.store, pod);
  if (pdbs.length > 1) {
    throw new ApiError(failure(500, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', 'InternalError'));
  }
  if (pdbs.length === 0) return doEvict();

  if ((ctx.faults.evictionConflicts ?? 0) > 0) {
    ctx.faults.evictionConflicts!--;
    throw errors.conflict('poddisruptionbudgets', 'policy', pdbs[0]!.metadata.name);
  }
  const now = ctx.now();
  const pdb = refreshPdb(ctx.store, pdbs[0]!, now);
  const st = pdb.status as { disruptionsAllowed: number; currentHealthy: number; desiredHealthy: number; disruptedPods?: Record<string, string>; conditions?: Record<string, unknown>[] };
  if (!podReady(pod)) {
    if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return doEvict();
    if (st.currentHealthy >= st.desiredHealthy && st.desiredHealthy > 0) return doEvict();
  }
  if (st.disruptionsAllowed <= 0) {
    ctx.counters.evictionsRefused++;
    throw errors.tooManyRequests(VIOLATION, [{
      reason: 'DisruptionBudget',
      message: `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently`,
    }]);
  }
  st.disruptionsAllowed--;
  st.disruptedPods = { ...(st.disruptedPods ?? {}), [name]: ts(now) };
  if (st.disruptionsAllowed === 0) setCondition(st, { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' }, now);
  ctx.store.update('poddisruptionbudgets', pdb);
  return doEvict();
}
