// tlsProblem on its own: what it says when TLS is not what fails, and for a TLS server that is not gRPC.
// (Refused and untrusted certificates: test/e2e/temporal-tls.e2e.test.ts, through an mTLS front before a real server.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { expect, it, onTestFinished } from 'vitest';
import { temporalConnectionFromEnv } from '../../src/config/temporal-connection.js';
import { tlsProblem } from '../../src/config/temporal-tls-check.js';
import { getFreePort } from '../../testbeds/temporal/temporal-cli.js';
import { issue, makeCa, SERVER_EXT } from '../../testbeds/control-plane/pki.js';

it('nothing listening is not a TLS problem (the caller reports it), and plaintext settings are not checked', async () => {
  const address = `127.0.0.1:${await getFreePort()}`;
  expect(await tlsProblem(temporalConnectionFromEnv({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true' }))).toBeUndefined();
  expect(await tlsProblem(temporalConnectionFromEnv({ TEMPORAL_ADDRESS: address }))).toBeUndefined();
});

it('a TLS server that does not speak HTTP/2 is named as such', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'itinerant-tls-check-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const ca = makeCa(dir, '/CN=tls-check-ca');
  const cert = issue(dir, 'server', '/CN=localhost', SERVER_EXT('DNS:localhost'));
  const server = createServer({ key: readFileSync(cert.key), cert: readFileSync(cert.cert), ALPNProtocols: ['http/1.1'] }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const settings = temporalConnectionFromEnv({
      TEMPORAL_ADDRESS: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    expect(await tlsProblem(settings)).toBe('the server does not offer HTTP/2 (ALPN h2) over TLS: is this a gRPC endpoint?');
  } finally {
    server.close();
  }
});
