import type { temporal } from '@temporalio/proto';

/** What a history says of one local activity: Core's `core_local_activity` marker, whose `data` holds its type, attempt and times. */
export interface LocalActivityRecord {
  type: string;
  attempt: number;
  /** Scheduled (its first attempt) → completed, by the worker's clock. */
  ms: number;
}

interface MarkerData {
  activity_type: string;
  attempt: number;
  complete_time?: { seconds: number | string; nanos: number };
  original_schedule_time?: { seconds: number | string; nanos: number };
}

const msOf = (t: MarkerData['complete_time']): number => (t ? Number(t.seconds) * 1000 + t.nanos / 1e6 : NaN);

export function localActivityOf(e: temporal.api.history.v1.IHistoryEvent): LocalActivityRecord | undefined {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const raw = marker.details?.data?.payloads?.[0]?.data;
  if (!raw) return undefined;
  const data = JSON.parse(Buffer.from(raw).toString('utf8')) as MarkerData;
  return { type: data.activity_type, attempt: data.attempt, ms: msOf(data.complete_time) - msOf(data.original_schedule_time) };
}
