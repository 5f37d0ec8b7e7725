// meta/v1 Status objects and the errors that carry them.

export interface StatusCause { reason?: string; message?: string; field?: string }
export interface StatusDetails { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number }

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export function failure(code: number, message: string, reason?: string, details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: reason ?? REASONS[code] ?? 'Unknown', code };
  if (details) s.details = details;
  return s;
}

export function success(code = 200, details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details) s.details = details;
  return s;
}

export class ApiError extends Error {
  constructor(readonly status: Status, readonly headers: Record<string, string> = {}) {
    super(status.message);
  }
  get code(): number { return this.status.code; }
}

function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const errors = {
  notFound: (plural: string, group: string, name: string) =>
    new ApiError(failure(404, `${qualified(plural, group)} "${name}" not found`, 'NotFound', { name, group: group || undefined, kind: plural })),
  alreadyExists: (plural: string, group: string, name: string) =>
    new ApiError(failure(409, `${qualified(plural, group)} "${name}" already exists`, 'AlreadyExists', { name, group: group || undefined, kind: plural })),
  conflict: (plural: string, group: string, name: string) =>
    new ApiError(failure(409, `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, 'Conflict', { name, group: group || undefined, kind: plural })),
  badRequest: (message: string) => new ApiError(failure(400, message, 'BadRequest')),
  invalid: (kind: string, name: string, message: string) =>
    new ApiError(failure(422, `${kind} "${name}" is invalid: ${message}`, 'Invalid', { name, kind })),
  patchFailed: (message: string) => new ApiError(failure(422, message, 'Invalid')),
  methodNotAllowed: (message = 'the server does not allow this method on the requested resource') =>
    new ApiError(failure(405, message, 'MethodNotAllowed')),
  unsupportedMediaType: (ct: string) => new ApiError(failure(415, `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${ct})`, 'UnsupportedMediaType')),
  tooManyRequests: (message: string, causes?: StatusCause[], retryAfterSeconds?: number) =>
    new ApiError(
      failure(429, message, 'TooManyRequests', causes || retryAfterSeconds ? { causes, retryAfterSeconds } : undefined),
      retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : {},
    ),
  internal: (message: string) => new ApiError(failure(500, message, 'InternalError')),
};
