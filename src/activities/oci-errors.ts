import { OciError } from 'oci-common';

/** The HTTP status OCI answered with; undefined when it did not answer (or the error is not the SDK's). */
export const statusOf = (e: unknown) => (e instanceof OciError ? e.statusCode : undefined);

/**
 * When no HTTP answer came at all (timeout, refused or reset connection) the SDK throws a plain object,
 * not an Error: `{ code, message, requestEndpoint, troubleshootingPage }`.
 */
export const isNoAnswer = (e: unknown): e is { message?: unknown; requestEndpoint?: unknown } =>
  typeof e === 'object' && e !== null && !(e instanceof Error) && 'requestEndpoint' in e;
