// AES-256-GCM payload codec, used alike by the worker, the CLI and the codec server, so that Temporal's history holds
// only ciphertext. Each encrypted payload names its key in its metadata (any configured key decrypts; see keys.ts).
// Payloads that are not ours (histories recorded before encryption, the SDK's own) pass through decode untouched.
import type { Payload, PayloadCodec } from '@temporalio/common';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import proto from '@temporalio/proto'; // CommonJS: its namespace is the default export under Node's ESM loader
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CodecKeys } from './keys.js';

const { temporal } = proto;

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const text = (s: string) => Buffer.from(s);

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keys: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.keys.encryptWith;
    const key = this.keys.keys.get(id)!;
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(text(id));
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { [METADATA_ENCODING_KEY]: text(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: text(id) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.[METADATA_ENCODING_KEY] ?? []).toString() !== ENCODING_ENCRYPTED) return p;
      const id = Buffer.from(p.metadata?.[METADATA_KEY_ID] ?? []).toString();
      const key = this.keys.keys.get(id);
      if (!key) throw new Error(`payload encrypted with key ${JSON.stringify(id.slice(0, 64))}, which is not among this process's codec keys`);
      const data = Buffer.from(p.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`encrypted payload (key ${id}) is too short`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(text(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new Error(`encrypted payload (key ${id}) failed authentication: tampered with, or a different key under that ID`);
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}
