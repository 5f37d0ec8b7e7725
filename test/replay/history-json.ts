/**
 * Workflow histories to and from the JSON of `temporal workflow show --output json` (what
 * @temporalio/common/lib/proto-utils's historyToJSON / historyFromJSON do).
 *
 * Why not those two: with this package tree they throw "type must be a Type". npm cannot hoist protobufjs 8
 * (@grpc/proto-loader wants 7 at the root), so @temporalio/proto, @temporalio/common and @temporalio/worker each
 * get their own copy, and protojson from common's copy rejects the message types built by proto's copy (an
 * instanceof check). Here protojson is loaded from the copy @temporalio/proto itself resolves, whatever the layout.
 */
import type { temporal } from '@temporalio/proto';
import { createRequire } from 'node:module';

type History = temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const require = createRequire(import.meta.url);
const proto = require('@temporalio/proto') as typeof import('@temporalio/proto');
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot<T>(root: T): T & { lookupType(name: string): unknown } };
const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

/** A history (e.g. from `handle.fetchHistory()`) as JSON text, one line. */
export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)));
}

/** The history in a JSON file (parsed), as the object Worker.runReplayHistories takes. Unknown fields are ignored. */
export function historyFromJSON(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('invalid history: expected an object with an array of events');
  }
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}
