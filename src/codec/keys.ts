// The payload codec's keys: ITINERANT_CODEC_KEYS_PATH (a file, as a mounted Secret gives it) or ITINERANT_CODEC_KEYS_DATA,
// holding JSON {"encryptWith": "<id>", "keys": {"<id>": "<32 bytes, base64>", ...}}. Every key decrypts; only
// `encryptWith` encrypts, so a key rotates by adding the new one, switching `encryptWith`, and dropping the old
// one once no history that needs it is kept. Messages name the variable and key IDs, never key material.
import { readFileSync } from 'node:fs';

export interface CodecKeys {
  /** The key ID new payloads are encrypted with. */
  encryptWith: string;
  /** Key ID → 32-byte AES-256 key. */
  keys: ReadonlyMap<string, Buffer>;
}

export class CodecKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecKeysError';
  }
}

export const CODEC_KEYS_PATH = 'ITINERANT_CODEC_KEYS_PATH';
export const CODEC_KEYS_DATA = 'ITINERANT_CODEC_KEYS_DATA';
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The keys from the environment; undefined when neither variable is set (payloads stay plain). */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  const path = (env[CODEC_KEYS_PATH] ?? '').trim();
  const data = (env[CODEC_KEYS_DATA] ?? '').trim();
  if (path && data) throw new CodecKeysError(`set either ${CODEC_KEYS_PATH} or ${CODEC_KEYS_DATA}, not both`);
  if (data) return parseCodecKeys(data, CODEC_KEYS_DATA);
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CodecKeysError(`${CODEC_KEYS_PATH}: ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseCodecKeys(text, `${CODEC_KEYS_PATH} (${path})`);
}

export function parseCodecKeys(text: string, where: string): CodecKeys {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CodecKeysError(`${where} is not JSON`); // the parser's message could quote the file
  }
  const { encryptWith, keys } = (doc ?? {}) as { encryptWith?: unknown; keys?: unknown };
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw new CodecKeysError(`${where}: "keys" must map key IDs to base64 keys`);
  const out = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(keys)) {
    if (!KEY_ID.test(id)) throw new CodecKeysError(`${where}: key ID ${JSON.stringify(id.slice(0, 64))} must be 1-64 of A-Z a-z 0-9 . _ -`);
    const key = typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
    if (!key || key.length !== 32) throw new CodecKeysError(`${where}: key ${id} must be 32 bytes, base64-encoded (openssl rand -base64 32)`);
    out.set(id, key);
  }
  if (typeof encryptWith !== 'string' || !out.has(encryptWith)) throw new CodecKeysError(`${where}: "encryptWith" must name one of the keys (${[...out.keys()].join(', ') || 'none given'})`);
  return { encryptWith, keys: out };
}
