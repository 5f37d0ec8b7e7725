// events.k8s.io/v1 Events: the same objects as core/v1 Events (one storage, as in kube-apiserver), in the
// newer shape: regarding/note/reportingController for involvedObject/message/reportingComponent.
import type { KObject } from './resources.js';

/** A stored (core/v1) Event as events.k8s.io/v1 serves it. */
export function toEventsV1(e: KObject): KObject {
  const { involvedObject, message, source, firstTimestamp, lastTimestamp, count, reportingComponent, reportingInstance, apiVersion: _a, kind: _k, related, ...rest } = e as KObject & Record<string, unknown>;
  return {
    ...rest,
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    ...(involvedObject ? { regarding: involvedObject } : {}),
    ...(related ? { related } : {}),
    ...(message !== undefined ? { note: message } : {}),
    ...(reportingComponent ? { reportingController: reportingComponent } : {}),
    ...(reportingInstance ? { reportingInstance } : {}),
    ...(source ? { deprecatedSource: source } : {}),
    ...(firstTimestamp ? { deprecatedFirstTimestamp: firstTimestamp } : {}),
    ...(lastTimestamp ? { deprecatedLastTimestamp: lastTimestamp } : {}),
    ...(count !== undefined ? { deprecatedCount: count } : {}),
  } as KObject;
}

/** An events.k8s.io/v1 Event as it is stored (core/v1). */
export function toCoreEvent(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object') return body as Record<string, unknown>;
  const { regarding, note, reportingController, deprecatedSource, deprecatedFirstTimestamp, deprecatedLastTimestamp, deprecatedCount, apiVersion: _a, kind: _k, ...rest } = body as Record<string, unknown>;
  return {
    ...rest,
    apiVersion: 'v1',
    kind: 'Event',
    ...(regarding ? { involvedObject: regarding } : {}),
    ...(note !== undefined ? { message: note } : {}),
    ...(reportingController ? { reportingComponent: reportingController, source: deprecatedSource ?? { component: reportingController } } : deprecatedSource ? { source: deprecatedSource } : {}),
    ...(deprecatedFirstTimestamp ? { firstTimestamp: deprecatedFirstTimestamp } : {}),
    ...(deprecatedLastTimestamp ? { lastTimestamp: deprecatedLastTimestamp } : {}),
    ...(deprecatedCount !== undefined ? { count: deprecatedCount } : {}),
  };
}
