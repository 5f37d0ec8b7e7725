// A TLS front for a plaintext Temporal dev server, as a production frontend or a cloud gateway would be: it
// terminates TLS (ALPN h2) with a certificate of the test's CA, optionally requires a client certificate signed
// by that CA (mTLS) and optionally an API key (`authorization: Bearer <key>`), and forwards each gRPC call.
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { CertFiles } from '../../testbeds/control-plane/pki.js';

export interface GrpcTlsProxy {
  address: string;
  /** The `authorization` header of every call, in order (what the clients sent; a test asserts on it). */
  authorizations: (string | undefined)[];
  /** TLS handshakes refused (e.g. no client certificate, or one of another CA). */
  refusedHandshakes: string[];
  close(): Promise<void>;
}

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_PATH, HTTP2_HEADER_METHOD, HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_SCHEME } = http2.constants;
const GRPC_UNAUTHENTICATED = 16;

export async function startGrpcTlsProxy(opts: { upstream: string; ca: string; server: CertFiles; requireClientCert: boolean; apiKey?: string }): Promise<GrpcTlsProxy> {
  const upstream = http2.connect(`http://${opts.upstream}`);
  upstream.on('error', () => undefined); // a call in flight reports it
  const authorizations: (string | undefined)[] = [];
  const refusedHandshakes: string[] = [];
  const server = http2.createSecureServer({
    key: readFileSync(opts.server.key),
    cert: readFileSync(opts.server.cert),
    ca: readFileSync(opts.ca),
    requestCert: opts.requireClientCert,
    rejectUnauthorized: opts.requireClientCert,
    ALPNProtocols: ['h2'],
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  // (a plain TCP connect that closes at once, as the CLI's reachability probe does, is not a refusal)
  server.on('tlsClientError', (e: NodeJS.ErrnoException) => e.code !== 'ECONNRESET' && refusedHandshakes.push(e.message));
  server.on('stream', (stream, headers) => {
    const authorization = headers.authorization as string | undefined;
    authorizations.push(authorization);
    if (opts.apiKey !== undefined && authorization !== `Bearer ${opts.apiKey}`) {
      stream.respond({ [HTTP2_HEADER_STATUS]: 200, 'content-type': 'application/grpc', 'grpc-status': String(GRPC_UNAUTHENTICATED), 'grpc-message': 'API key missing or wrong' }, { endStream: true });
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = { [HTTP2_HEADER_METHOD]: headers[HTTP2_HEADER_METHOD], [HTTP2_HEADER_PATH]: headers[HTTP2_HEADER_PATH] };
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith(':') && name !== 'authorization') forwarded[name] = value;
    }
    delete forwarded[HTTP2_HEADER_AUTHORITY];
    delete forwarded[HTTP2_HEADER_SCHEME];
    const call = upstream.request(forwarded);
    stream.pipe(call);
    stream.on('close', () => call.close());
    // Temporal's API is unary: answer once the upstream answer is complete (headers, message, trailers).
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const body: Buffer[] = [];
    call.on('response', (h) => (responseHeaders = h));
    call.on('data', (chunk: Buffer) => body.push(chunk));
    call.on('trailers', (t) => (trailers = t));
    call.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    call.on('end', () => {
      if (stream.closed) return;
      const { [HTTP2_HEADER_STATUS]: status, ...rest } = responseHeaders;
      const head = { [HTTP2_HEADER_STATUS]: status ?? 200, ...rest };
      const final = trailers;
      if (!final && body.length === 0) return stream.respond(head, { endStream: true }); // trailers-only (an error status)
      stream.respond(head, final ? { waitForTrailers: true } : {});
      if (final) stream.once('wantTrailers', () => stream.sendTrailers(final));
      stream.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    refusedHandshakes,
    close: () =>
      new Promise<void>((resolve) => {
        upstream.close();
        server.close(() => resolve());
        // the clients' sessions: close them so that server.close returns
        for (const s of sessions) s.destroy();
      }),
  };
}
