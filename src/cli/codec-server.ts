// itinerant codec-server: serve the payload codec (ITINERANT_CODEC_KEYS_*) to Temporal's Web UI and CLI until SIGTERM.
// Bearer tokens it accepts: ITINERANT_CODEC_SERVER_TOKENS_PATH, one a line (a mounted Secret).
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.js';
import { createCodecServer } from '../codec/codec-server.js';
import { codecKeysFromEnv, CodecKeysError } from '../codec/keys.js';
import { CliError, EXIT } from './errors.js';

const TOKENS_PATH = 'ITINERANT_CODEC_SERVER_TOKENS_PATH';

export async function codecServerCommand(opts: { listen: string; corsOrigin: string[] }, env = process.env): Promise<number> {
  const keys = (() => {
    try {
      return codecKeysFromEnv(env);
    } catch (e) {
      throw e instanceof CodecKeysError ? new CliError(e.message, EXIT.usage) : e;
    }
  })();
  if (!keys) throw new CliError('the codec server needs the codec keys: set ITINERANT_CODEC_KEYS_PATH', EXIT.usage);
  const path = env[TOKENS_PATH]?.trim();
  if (!path) throw new CliError(`the codec server needs its bearer tokens: set ${TOKENS_PATH} (a file, one token a line)`, EXIT.usage);
  let tokens: string[];
  try {
    tokens = readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  } catch (e) {
    throw new CliError(`${TOKENS_PATH}: ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.usage);
  }
  if (tokens.length === 0) throw new CliError(`${TOKENS_PATH}: ${path} holds no token`, EXIT.usage);
  const [host, port] = opts.listen.includes(':') ? [opts.listen.slice(0, opts.listen.lastIndexOf(':')), opts.listen.slice(opts.listen.lastIndexOf(':') + 1)] : ['127.0.0.1', opts.listen];
  const server = createCodecServer({ codec: new AesGcmPayloadCodec(keys), corsOrigins: opts.corsOrigin, tokens });
  server.listen(Number(port), host);
  await once(server, 'listening');
  const a = server.address();
  console.log(`itinerant codec server on http://${typeof a === 'object' && a ? `${a.address}:${a.port}` : opts.listen} (encrypting with key ${keys.encryptWith}; ${keys.keys.size} key(s) decrypt; CORS for ${opts.corsOrigin.join(', ') || 'no origin'})`);
  await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  server.close();
  return EXIT.ok;
}
