// Payload encryption end to end: a worker and a client with the AES-GCM codec run a real repave; the history the
// server holds has only ciphertext in it, and the codec server gives an authorised caller the input back.
import { temporal } from '@temporalio/proto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, ENCODING_ENCRYPTED } from '../../src/codec/aes-gcm-codec.js';
import { createCodecServer } from '../../src/codec/codec-server.js';
import { codecKeysFromEnv } from '../../src/codec/keys.js';
import { repaveNodeWorkflowId, TASK_QUEUE } from '../../src/core/ids.js';
import { repaveNode } from '../../src/workflows/repave-node.js';
import { historyBytes, payloadsOf, rawHistory } from '../helpers/raw-history.js';
import { inProcessWorker, isReady, nodesOfGroup, startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ codec: true });
});
afterAll(async () => {
  await stack?.stop();
});

describe('payload encryption (AES-256-GCM codec on worker and client)', () => {
  it("a repave's raw history holds only ciphertext, and the codec server decrypts it for a bearer of its token", async () => {
    const node = (await nodesOfGroup(stack.core, 'general')).find(isReady)!.metadata!.name!;
    const marker = `codec-marker-${Date.now()}`;
    const workflowId = repaveNodeWorkflowId('sim-1', node);
    const { worker, close } = await inProcessWorker(stack);
    const result = await worker.runUntil(stack.client.workflow.execute(repaveNode, { taskQueue: TASK_QUEUE, workflowId, args: [{ cluster: 'sim-1', node, reason: marker }] }));
    await close();
    expect(result.node).toBe(node); // the client decrypted the result

    const events = await rawHistory(stack.client, workflowId);
    const payloads = payloadsOf(events);
    expect(payloads.length).toBeGreaterThan(10); // input, every activity's input and result, the run's result
    // Markers' own fields are the SDK's (Core writes a patch's ID, ours: 'runbook-frame-v1', and a local activity's
    // type, attempt and times), never the runbook's data; a local activity's result is ours, and encrypted.
    const plain = payloads.filter((p) => Buffer.from(p.payload.metadata?.encoding ?? []).toString() !== ENCODING_ENCRYPTED && !/markerRecordedEventAttributes\.details\.(patch-data|data)\./.test(p.path));
    expect(payloads.filter((p) => /markerRecordedEventAttributes\.details\.result\./.test(p.path))).toHaveLength(3); // the preflight, the image, the claim
    expect(plain.map((p) => p.path)).toEqual([]);
    const bytes = historyBytes(events);
    expect(bytes.includes(marker)).toBe(false);
    expect(bytes.includes(result.replacement!.instanceId)).toBe(false);

    const server = createCodecServer({ codec: new AesGcmPayloadCodec(codecKeysFromEnv(stack.temporal.env)!), corsOrigins: [], tokens: ['t0ken'] });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const input = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer t0ken', 'x-namespace': stack.temporal.namespace },
        body: JSON.stringify({ payloads: [temporal.api.common.v1.Payload.toObject(temporal.api.common.v1.Payload.create(input), { bytes: String })] }),
      });
      expect(res.status).toBe(200);
      const decoded = ((await res.json()) as { payloads: { data: string }[] }).payloads[0]!;
      expect(JSON.parse(Buffer.from(decoded.data, 'base64').toString())).toMatchObject({ node, reason: marker });
    } finally {
      server.close();
    }
  });
});
