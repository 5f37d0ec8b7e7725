import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { parse } from 'node:url';
import { DefaultRequestSigner, FetchHttpClient, type AuthenticationDetailsProvider, type ClientConfiguration, type HttpRequest, type RequestSigner } from 'oci-common';

const SIGNED = ['x-date', '(request-target)', 'host'];
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * OCI's request signature, as the SDK's DefaultRequestSigner makes it (the same headers, string and RSA signature:
 * test/activities/oci-signer.test.ts compares them byte for byte), with the private key parsed once. The SDK hands
 * http-signature the key's PEM, which parses it again (in JavaScript, then in OpenSSL) for every request: of a
 * signature's 0.9 ms here 0.65 ms is that parse, and signing was 16 % of the worker's main thread in a profile of 100
 * repaves at once (npm run bench, orchestration-cost; with this signer the worker's CPU per node went 137-145 → 127-128
 * ms). Providers that delegate (a profile's auth_type, instance principals), keys Node cannot read as they are
 * (OpenSSH format) and bodies that are not a string keep the SDK's own signer.
 */
export class ParsedKeyRequestSigner implements RequestSigner {
  private readonly sdk: DefaultRequestSigner;
  private key?: { pem: string; object?: KeyObject };

  constructor(private readonly provider: AuthenticationDetailsProvider) {
    this.sdk = new DefaultRequestSigner(provider);
  }

  private keyObject(): KeyObject | undefined {
    const pem = this.provider.getPrivateKey();
    if (this.key?.pem !== pem) {
      let object: KeyObject | undefined;
      try {
        object = createPrivateKey({ key: pem, passphrase: this.provider.getPassphrase() ?? undefined });
      } catch {
        object = undefined; // the SDK's parser reads more formats, and says what is wrong with a key it cannot
      }
      this.key = { pem, object: object?.asymmetricKeyType === 'rsa' ? object : undefined };
    }
    return this.key.object;
  }

  async signHttpRequest(request: HttpRequest, forceExcludeBody = false): Promise<void> {
    const delegating = this.provider as { getProvider?: () => unknown; getAuthType?: () => unknown };
    const withBody = !forceExcludeBody && WITH_BODY.has(request.method.toUpperCase());
    const key = delegating.getProvider?.() || delegating.getAuthType?.() ? undefined : this.keyObject();
    if (!key || (withBody && request.body !== undefined && typeof request.body !== 'string')) return this.sdk.signHttpRequest(request, forceExcludeBody);

    const { headers } = request;
    const url = parse(request.uri); // the legacy parser, as the SDK's: the signed path must be the one it sends
    if (!headers.has('host')) {
      if (!url.host) throw new Error('Cannot parse host from url');
      headers.set('host', url.host);
    }
    if (!headers.has('x-date')) headers.set('x-date', new Date().toUTCString());
    if (!headers.has('date')) headers.set('date', new Date().toUTCString()); // unsigned, but the SDK's signer sends it
    const names = [...SIGNED];
    if (withBody) {
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      const body = (request.body as string | undefined) ?? '';
      headers.set('x-content-sha256', createHash('sha256').update(body, 'utf8').digest('base64'));
      if (!headers.has('content-length')) headers.set('content-length', String(Buffer.byteLength(body, 'utf8')));
      names.push('Content-Type', 'Content-Length', 'x-content-sha256'); // named as the SDK names them in the header list
    }
    const signing = names.map((h) => (h === '(request-target)' ? `${h}: ${request.method.toLowerCase()} ${url.path ?? ''}` : `${h.toLowerCase()}: ${headers.get(h) ?? ''}`)).join('\n');
    const signature = sign('sha256', Buffer.from(signing, 'utf8'), key).toString('base64');
    const keyId = await this.provider.getKeyId();
    headers.set('authorization', `Signature version="1",keyId="${keyId}",algorithm="rsa-sha256",headers="${names.join(' ')}",signature="${signature}"`);
  }
}

/** The HTTP client an OCI SDK client builds for itself, with {@link ParsedKeyRequestSigner}: pass as `httpClient`. */
export function parsedKeyHttpClient(provider: AuthenticationDetailsProvider, configuration: ClientConfiguration): FetchHttpClient {
  // No circuit breaker: src/activities/clients.ts turns the SDK's global one off, and configurations here set none.
  return new FetchHttpClient(new ParsedKeyRequestSigner(provider), null, configuration.httpOptions, configuration.bodyDuplexMode);
}
