import { defaultPayloadConverter } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, ENCODING_ENCRYPTED, METADATA_KEY_ID } from '../../src/codec/aes-gcm-codec.js';
import { codecKeysFromEnv, parseCodecKeys } from '../../src/codec/keys.js';

const b64 = () => randomBytes(32).toString('base64');
const k1 = b64();
const k2 = b64();
const keys = (encryptWith: string, all: Record<string, string>) => parseCodecKeys(JSON.stringify({ encryptWith, keys: all }), 'test');
const payload = defaultPayloadConverter.toPayload({ cluster: 'sim-1', node: 'secret-node-7' });
const str = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString();

describe('AES-256-GCM payload codec', () => {
  it('encrypts (random IV, key ID in metadata, no plaintext) and decrypts back to the same payload', async () => {
    const codec = new AesGcmPayloadCodec(keys('k1', { k1 }));
    const [a] = await codec.encode([payload]);
    const [b] = await codec.encode([payload]);
    expect(str(a!.metadata!.encoding)).toBe(ENCODING_ENCRYPTED);
    expect(str(a!.metadata![METADATA_KEY_ID])).toBe('k1');
    expect(str(a!.data)).not.toContain('secret-node-7');
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    const [back] = await codec.decode([a!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual({ cluster: 'sim-1', node: 'secret-node-7' });
  });

  it('rotates: payloads under the old key still decrypt once a new key encrypts; a dropped key is named, not guessed', async () => {
    const old = await new AesGcmPayloadCodec(keys('k1', { k1 })).encode([payload]);
    const rotated = new AesGcmPayloadCodec(keys('k2', { k1, k2 }));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode(old))[0]!)).toMatchObject({ node: 'secret-node-7' });
    expect(str((await rotated.encode([payload]))[0]!.metadata![METADATA_KEY_ID])).toBe('k2');
    const dropped = new AesGcmPayloadCodec(keys('k2', { k2 }));
    await expect(dropped.decode(old)).rejects.toThrow(/key "k1", which is not among/);
  });

  it('refuses tampered ciphertext and a different key under the same ID', async () => {
    const [enc] = await new AesGcmPayloadCodec(keys('k1', { k1 })).encode([payload]);
    const data = Buffer.from(enc!.data!);
    data[20]! ^= 1;
    const codec = new AesGcmPayloadCodec(keys('k1', { k1 }));
    await expect(codec.decode([{ ...enc!, data }])).rejects.toThrow(/failed authentication/);
    await expect(new AesGcmPayloadCodec(keys('k1', { k1: k2 })).decode([enc!])).rejects.toThrow(/failed authentication/);
  });

  it('passes plain payloads (histories recorded before encryption) through decode untouched', async () => {
    const codec = new AesGcmPayloadCodec(keys('k1', { k1 }));
    expect(await codec.decode([payload])).toEqual([payload]);
  });
});

describe('codec keys', () => {
  it('are off when unset, and their errors name the variable and key ID, never the key', () => {
    expect(codecKeysFromEnv({})).toBeUndefined();
    const short = Buffer.from('too short').toString('base64');
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('did not throw');
    };
    const bad = msg(() => codecKeysFromEnv({ ITINERANT_CODEC_KEYS_DATA: JSON.stringify({ encryptWith: 'a', keys: { a: short } }) }));
    expect(bad).toMatch(/ITINERANT_CODEC_KEYS_DATA: key a must be 32 bytes/);
    expect(bad).not.toContain(short);
    expect(msg(() => codecKeysFromEnv({ ITINERANT_CODEC_KEYS_DATA: JSON.stringify({ encryptWith: 'b', keys: { a: k1 } }) }))).toMatch(/"encryptWith" must name one of the keys \(a\)/);
    expect(msg(() => codecKeysFromEnv({ ITINERANT_CODEC_KEYS_DATA: `{"keys": "${k1}"` }))).toBe('ITINERANT_CODEC_KEYS_DATA is not JSON');
    expect(msg(() => codecKeysFromEnv({ ITINERANT_CODEC_KEYS_PATH: '/nonexistent/keys.json' }))).toMatch(/ITINERANT_CODEC_KEYS_PATH: \/nonexistent\/keys.json: cannot be read \(ENOENT\)/);
  });
});
