// Shared handling of Kubernetes API answers for the activity modules that talk to the API server.
import * as k8s from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/activity';

export const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const JSON_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

export const statusOf = (e: unknown): number | undefined => (e instanceof k8s.ApiException ? e.code : undefined);
export const isNotFound = (e: unknown) => statusOf(e) === 404;
/** 409, or a failed JSON-patch `test` (422): the object changed under us; reading it again and retrying is right. */
export const isConflict = (e: unknown) => statusOf(e) === 409 || statusOf(e) === 422;
export const isPodReady = (pod: k8s.V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** 4xx other than 404/409/429 will not get better by retrying: make them non-retryable with the API's message. */
export function rethrow(e: unknown, what: string): never {
  const code = statusOf(e);
  if (code !== undefined && code >= 400 && code < 500 && code !== 409 && code !== 429) {
    throw ApplicationFailure.nonRetryable(`${what}: Kubernetes API answered ${code}: ${messageOf(e)}`, 'KubernetesApiRefused');
  }
  throw e;
}

export function messageOf(e: unknown): string {
  if (e instanceof k8s.ApiException) {
    const body = e.body as unknown;
    if (typeof body === 'string') {
      try {
        return (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        return body;
      }
    }
    return (body as { message?: string } | undefined)?.message ?? e.message;
  }
  return (e as Error).message;
}

/**
 * JSON patch that sets an owner annotation only if the object is still at the version we read, so that of
 * two runs claiming at once exactly one wins (the other gets 422 and re-reads).
 */
export function claimPatch(meta: k8s.V1ObjectMeta | undefined, annotation: string, owner: string) {
  return [
    { op: 'test', path: '/metadata/resourceVersion', value: meta?.resourceVersion },
    meta?.annotations
      ? { op: 'add', path: `/metadata/annotations/${annotation.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: owner }
      : { op: 'add', path: '/metadata/annotations', value: { [annotation]: owner } },
  ];
}
