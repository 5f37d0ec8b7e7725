// Why a TLS connection to Temporal fails, in words: gRPC clients only say "failed to connect before the deadline".
// One TLS connection with the same settings, ALPN h2, up to the server's first HTTP/2 frame: under TLS 1.3 a server
// checks the client certificate after the client thinks the handshake is done, so only an answer proves it accepted.
import { connect as tlsConnect } from 'node:tls';
import { isIP } from 'node:net';
import { splitAddress, type TemporalConnectionSettings } from './temporal-connection.js';

/** The HTTP/2 connection preface and an empty SETTINGS frame: what makes a server answer. */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * What TLS refused, naming the variables to look at; undefined when the server answers over TLS, or when nothing
 * answers at all (a socket error such as ECONNREFUSED is not TLS's doing: the caller's own error says it better).
 */
export function tlsProblem(settings: TemporalConnectionSettings, timeoutMs = 5000): Promise<string | undefined> {
  const tls = settings.tls;
  const hostPort = splitAddress(settings.address);
  if (!tls || !hostPort) return Promise.resolve(undefined);
  const { host, port } = hostPort;
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ...(servername ? { servername } : {}),
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
      ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
      ALPNProtocols: ['h2'],
    });
    const timer = setTimeout(() => done(`no answer over TLS within ${timeoutMs / 1000}s`), timeoutMs);
    function done(problem: string | undefined) {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    }
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') return done(NOT_H2);
      socket.write(HTTP2_PREFACE);
    });
    socket.once('data', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.syscall === 'connect' || e.syscall === 'getaddrinfo' ? undefined : explain(e)));
    socket.once('close', () =>
      done(
        tls.clientCertPair
          ? 'the server closed the connection after the TLS handshake: it does not accept this client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)?'
          : 'the server closed the connection after the TLS handshake: does it require a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)?',
      ),
    );
  });
}

const NOT_H2 = 'the server does not offer HTTP/2 (ALPN h2) over TLS: is this a gRPC endpoint?';

function explain(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  if (/NO_APPLICATION_PROTOCOL/.test(code)) return NOT_H2;
  // OpenSSL's messages are "<id>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:": keep the reason
  const reason = e.message.split(':').find((part) => /alert|certificate|verify/i.test(part))?.trim() ?? e.message;
  if (/CERTIFICATE_REQUIRED/.test(code)) return 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|HANDSHAKE_FAILURE)/.test(code)) {
    return `the server refused the client certificate (${reason}): check TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the server certificate is not for this name (${e.message}): set TEMPORAL_TLS_SERVER_NAME to a name in it`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) return `the server certificate is not trusted (${e.message}): set TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA`;
  return reason;
}
