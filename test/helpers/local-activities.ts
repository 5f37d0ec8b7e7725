import type { temporal } from '@temporalio/proto';

/**
 * What a history says of one local activity: Core's `core_local_activity` marker, whose `data` holds its type and
 * attempt (its times are not a duration: `complete_time` is the workflow task's time, so a local activity's time is
 * read from the workflow task that ran it).
 */
export interface LocalActivityRecord {
  type: string;
  attempt: number;
}

export function localActivityOf(e: temporal.api.history.v1.IHistoryEvent): LocalActivityRecord | undefined {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const raw = marker.details?.data?.payloads?.[0]?.data;
  if (!raw) return undefined;
  const data = JSON.parse(Buffer.from(raw).toString('utf8')) as { activity_type: string; attempt: number };
  return { type: data.activity_type, attempt: data.attempt };
}
