import type { Client } from '@temporalio/client';
import proto, { type temporal } from '@temporalio/proto'; // CommonJS: its namespace is the default export under Node's ESM loader (tsx runs this too)

type Event = temporal.api.history.v1.IHistoryEvent;

/** The run's history as the server stores it: fetched page by page with the raw gRPC service, nothing decoded. */
export async function rawHistory(client: Client, workflowId: string, runId?: string): Promise<Event[]> {
  const events: Event[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId, ...(runId ? { runId } : {}) }, ...(nextPageToken ? { nextPageToken } : {}) });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

export interface FoundPayload {
  /** Where in the event it sits, e.g. `workflowExecutionStartedEventAttributes.input.payloads.0`. */
  path: string;
  payload: temporal.api.common.v1.IPayload;
}

/** Every payload anywhere in the events (objects with `metadata` and `data`), except search attributes, which the server must read. */
export function payloadsOf(events: Event[]): FoundPayload[] {
  const found: FoundPayload[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
    if (/searchAttributes/i.test(path)) return;
    if ('metadata' in v && 'data' in v) {
      found.push({ path, payload: v as temporal.api.common.v1.IPayload });
      return;
    }
    for (const [k, child] of Object.entries(v)) walk(child, path ? `${path}.${k}` : k);
  };
  events.forEach((e, i) => walk(e, `#${i + 1}`));
  return found;
}

/** The events serialized as the server sends them, to search for plaintext anywhere (payloads, failures, headers). */
export const historyBytes = (events: Event[]): Buffer => Buffer.from(proto.temporal.api.history.v1.History.encode({ events }).finish());
