import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec.js';
import { codecKeysFromEnv, type CodecKeys } from './keys.js';

/** The data converter worker and clients share: the AES-GCM codec when keys are given, else the SDK's default. */
export function dataConverterOf(keys: CodecKeys | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new AesGcmPayloadCodec(keys)] } : undefined;
}

export const dataConverterFromEnv = (env: NodeJS.ProcessEnv = process.env): DataConverter | undefined => dataConverterOf(codecKeysFromEnv(env));
