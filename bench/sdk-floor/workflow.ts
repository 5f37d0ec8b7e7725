// A workflow of repaveNode's shape whose steps do nothing: what the Temporal SDK and server cost for such a run,
// without our workflow code (its bundle holds this file alone) or any call to OCI or Kubernetes. Bench only.
import { patched, proxyActivities, proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SA_NODE_GROUP, SA_PHASE } from '../../src/core/search-attributes.js';
import type { FloorActivities } from './activities.js';

const options = { startToCloseTimeout: '1m', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } } as const;
const api = proxyActivities<FloorActivities>(options);
const local = proxyLocalActivities<FloorActivities>(options);

/**
 * As a completed repave's history (45 events): a first workflow task of 3 upserts, 3 patches (a marker and an upsert
 * each) and 3 local activities that schedules the first of 4 activities; then one upsert before each of the other
 * three and at the end.
 */
export async function repaveShape(input: { node: string }): Promise<{ node: string }> {
  const phase = (value: string) => upsertSearchAttributes([{ key: SA_PHASE, value }]);
  const step = (name: string) => ({ name, node: input.node });
  phase('preflight');
  upsertSearchAttributes([{ key: SA_NODE_GROUP, value: 'floor' }]);
  patched('floor-1'); // a patch's marker comes with an upsert of TemporalChangeVersion
  patched('floor-2');
  await local.step(step('preflight'));
  await local.step(step('image'));
  await local.step(step('claim'));
  phase('launching-replacement');
  patched('floor-3');
  await api.step(step('launch'));
  phase('waiting-for-replacement');
  await api.step(step('wait'));
  phase('draining-old-node');
  await api.step(step('drain'));
  phase('retiring-old-node');
  await api.step(step('retire'));
  phase('done');
  return { node: input.node };
}
