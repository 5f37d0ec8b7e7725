import { defaultPayloadConverter } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec } from '../../src/codec/aes-gcm-codec.js';
import { createCodecServer } from '../../src/codec/codec-server.js';
import { parseCodecKeys } from '../../src/codec/keys.js';

const codec = new AesGcmPayloadCodec(parseCodecKeys(JSON.stringify({ encryptWith: 'k1', keys: { k1: randomBytes(32).toString('base64') } }), 'test'));
const UI = 'http://127.0.0.1:8080';
const server = createCodecServer({ codec, corsOrigins: [UI], tokens: ['operator-token'] });
let url: string;
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer operator-token', origin: UI, 'x-namespace': 'default', ...headers }, body: JSON.stringify(body) });

describe('codec server', () => {
  it('decodes what the codec encrypted (proto3 JSON payloads, as the Web UI posts them) for a bearer of a token', async () => {
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload({ node: 'n-1' })]);
    const wire = { metadata: Object.fromEntries(Object.entries(enc!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(enc!.data!).toString('base64') };
    const res = await post('/decode', { payloads: [wire] });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({ node: 'n-1' });
    // and /encode gives something /decode takes back
    const encoded = (await (await post('/encode', { payloads })).json()) as { payloads: unknown[] };
    const again = (await (await post('/decode', encoded)).json()) as typeof encoded;
    expect(again).toEqual({ payloads });
  });

  it('refuses a missing or wrong token (401), answers the UI origin preflight, and gives no CORS headers to other origins', async () => {
    expect((await post('/decode', { payloads: [] }, { authorization: '' })).status).toBe(401);
    expect((await post('/decode', { payloads: [] }, { authorization: 'Bearer guess' })).status).toBe(401);
    const pre = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await post('/decode', { payloads: [] }, { origin: 'http://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post('/decode', { payloads: [] }, { 'content-type': 'text/plain' })).status).toBe(415);
  });
});
