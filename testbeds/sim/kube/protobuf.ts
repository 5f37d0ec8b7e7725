// Protobuf bodies the sim reads: DeleteOptions and the self-subject reviews, as kubectl sends them (client-go
// encodes built-in types as protobuf). Kubernetes' envelope: the magic "k8s\0", then a runtime.Unknown whose
// `raw` (field 2) holds the message, whose type its typeMeta (field 1) names.
import { errors } from './status.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { no: number; varint?: number; bytes?: Buffer };

/** The top-level fields of a protobuf message (varint and length-delimited wire types only, as these messages have). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 1; ; shift *= 128) {
      if (i >= buf.length) throw errors.badRequest('unable to parse request body: truncated protobuf');
      const b = buf[i++]!;
      v += (b & 0x7f) * shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const [no, type] = [Math.floor(key / 8), key % 8];
    if (type === 0) out.push({ no, varint: varint() });
    else if (type === 2) {
      const len = varint();
      if (i + len > buf.length) throw errors.badRequest('unable to parse request body: truncated protobuf');
      out.push({ no, bytes: buf.subarray(i, i + len) });
      i += len;
    } else throw errors.badRequest(`unable to parse request body: protobuf wire type ${type} not expected`);
  }
  return out;
}

/** A message's fields by number: name and type (a nested message by its own schema). */
type Schema = Record<number, [string, 'string' | 'int' | 'bool' | 'strings' | Schema]>;

function decode(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const entry = schema[f.no];
    if (!entry) continue; // fields the sim does not read
    const [name, type] = entry;
    if (type === 'int') out[name] = f.varint;
    else if (type === 'bool') out[name] = f.varint === 1;
    else if (type === 'string') out[name] = f.bytes?.toString('utf8');
    else if (type === 'strings') out[name] = [...((out[name] as string[] | undefined) ?? []), f.bytes?.toString('utf8')];
    else out[name] = decode(f.bytes ?? Buffer.alloc(0), type);
  }
  return out;
}

const OBJECT_META: Schema = { 1: ['name', 'string'], 3: ['namespace', 'string'] };
/** The messages kubectl sends as protobuf that the sim reads (k8s.io/api generated.proto field numbers). */
const SCHEMAS: Record<string, Schema> = {
  DeleteOptions: { 1: ['gracePeriodSeconds', 'int'], 2: ['preconditions', { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] }], 3: ['orphanDependents', 'bool'], 4: ['propagationPolicy', 'string'], 5: ['dryRun', 'strings'] },
  SelfSubjectAccessReview: {
    1: ['metadata', OBJECT_META],
    2: [
      'spec',
      {
        1: ['resourceAttributes', { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] }],
        2: ['nonResourceAttributes', { 1: ['path', 'string'], 2: ['verb', 'string'] }],
      },
    ],
  },
  SelfSubjectRulesReview: { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['namespace', 'string'] }] },
  SelfSubjectReview: { 1: ['metadata', OBJECT_META] },
};

/** A body sent as application/vnd.kubernetes.protobuf, as its JSON would read; refused (415) for kinds the sim does not read so. */
export function objectFromProtobuf(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw errors.badRequest('unable to parse request body: protobuf without the k8s envelope');
  const unknown = decode(body.subarray(4), { 1: ['typeMeta', { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] }] });
  const envelope = fields(body.subarray(4));
  const typeMeta = unknown.typeMeta as { apiVersion?: string; kind?: string } | undefined;
  const schema = typeMeta?.kind ? SCHEMAS[typeMeta.kind] : undefined;
  if (!schema) throw errors.unsupportedMediaType(`application/vnd.kubernetes.protobuf (${typeMeta?.kind ?? 'no kind'})`);
  return { apiVersion: typeMeta!.apiVersion, kind: typeMeta!.kind, ...decode(envelope.find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0), schema) };
}
