import { parseArgs } from 'node:util';
import { MultiarchError } from '../errors';
import { parseSize } from './size';
import { parseStorageLocation, type StorageLocation } from './storage-url';
import type { TokenSources } from './tokens';
import { DEFAULT_LIMITS, type AdmissionLimits } from './admission';
import { parseRetention } from './prune-command';
import type { RetentionPolicy } from './storage';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 3030;
export const DEFAULT_MAX_ENTRY = '2GiB';

export interface CacheServerCliOptions {
  storage: StorageLocation;
  host: string;
  port: number;
  tokens: TokenSources;
  maxEntryBytes: number;
  /** Where the oci:// backend keeps uploads and downloads in flight (default: the OS temp folder). */
  tempDir?: string;
  /** Reach a non-loopback registry over plain http. */
  insecureRegistry: boolean;
  tls?: { certFile: string; keyFile: string };
  /** Requests served at once and waiting, and the memory cap: over them, 503 with Retry-After. */
  limits: AdmissionLimits;
  /** Entries kept: used within an age, up to a total size. */
  retention?: RetentionPolicy;
}

export type ParsedCommand = { help: true } | { help: false; options: CacheServerCliOptions };

const HELP_HINT = 'Run `nx-multiarch cache-server --help` for every option.';

export function parseCacheServerArgs(argv: readonly string[], cwd: string = process.cwd()): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        storage: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'read-write-token-env': { type: 'string' },
        'read-write-token-file': { type: 'string' },
        'read-only-token-env': { type: 'string' },
        'read-only-token-file': { type: 'string' },
        'max-entry-size': { type: 'string' },
        'temp-dir': { type: 'string' },
        'insecure-registry': { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'max-concurrent-requests': { type: 'string' },
        'max-queued-requests': { type: 'string' },
        'max-memory': { type: 'string' },
        'max-age': { type: 'string' },
        'max-size': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new MultiarchError(`cache-server: ${(error as Error).message}`, HELP_HINT);
  }
  if (values.help) return { help: true };
  if (!values.storage) throw new MultiarchError('cache-server needs --storage.', 'Give --storage file://<folder> or --storage oci://<host[:port]>/<repository>.');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new MultiarchError('--tls-cert and --tls-key go together.', 'Give both (PEM files), or neither to serve plain http.');
  }
  return {
    help: false,
    options: {
      storage: parseStorageLocation(values.storage, cwd),
      host: values.host ?? DEFAULT_HOST,
      port: parsePort(values.port),
      tokens: {
        readWriteEnv: values['read-write-token-env'],
        readWriteFile: values['read-write-token-file'],
        readOnlyEnv: values['read-only-token-env'],
        readOnlyFile: values['read-only-token-file'],
      },
      maxEntryBytes: parseSize(values['max-entry-size'] ?? DEFAULT_MAX_ENTRY, '--max-entry-size'),
      tempDir: values['temp-dir'],
      insecureRegistry: values['insecure-registry'] ?? false,
      ...(values['tls-cert'] && values['tls-key'] ? { tls: { certFile: values['tls-cert'], keyFile: values['tls-key'] } } : {}),
      limits: {
        maxActive: parseCount(values['max-concurrent-requests'], '--max-concurrent-requests', DEFAULT_LIMITS.maxActive, 1),
        maxQueued: parseCount(values['max-queued-requests'], '--max-queued-requests', DEFAULT_LIMITS.maxQueued, 0),
        maxMemoryBytes: values['max-memory'] === undefined ? undefined : parseSize(values['max-memory'], '--max-memory'),
        retryAfterSeconds: DEFAULT_LIMITS.retryAfterSeconds,
      },
      ...(parseRetention(values) ? { retention: parseRetention(values) } : {}),
    },
  };
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new MultiarchError(`--port ${value} is not a port.`, 'Give 1 to 65535, or 0 for any free port.');
  return port;
}

function parseCount(value: string | undefined, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < min || count > 1_000_000) throw new MultiarchError(`${option} ${value} is not a count.`, `Give a whole number from ${min} to 1000000.`);
  return count;
}
