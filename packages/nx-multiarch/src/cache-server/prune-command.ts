import { parseArgs } from 'node:util';
import { formatError, MultiarchError } from '../errors';
import { parseDuration } from './duration';
import { FileStorage } from './file-storage';
import { OciStorage } from './oci-storage';
import { parseSize } from './size';
import type { PruneResult, RetentionPolicy } from './storage';
import { parseStorageLocation } from './storage-url';

/**
 * `nx-multiarch cache-server prune --storage file://<folder>|oci://<host>/<repo>
 * [--max-age 7d] [--max-size 50GiB] [--dry-run]`: applies a retention policy
 * once, e.g. from cron, beside a running server (or several) over the same
 * store. Entries a server in this process is reading are never removed; one
 * read by another process keeps its open file or its staged download
 * (removal cannot cut a read short) and a read starting as it goes is a
 * miss, never an error. For oci:// an entry's age from outside a server is
 * the time it was stored (a registry records no reads).
 */
export const PRUNE_HELP = `Usage: nx-multiarch cache-server prune --storage file://<folder> | oci://<host[:port]>/<repository> [options]

Removes cache entries by a retention policy (give at least one):
  --max-age <duration>   entries not used for this long (90s, 30m, 12h, 7d, 2w)
  --max-size <size>      then the least recently used until the rest fit (500MB, 50GiB)
  --dry-run              say what would go, remove nothing
  --insecure-registry    reach a non-loopback registry over plain http (oci://)

The server applies the same policy itself with the same options (checked at
start and every 10 minutes). For oci:// stores an entry's last use is the time
it was stored, or when that server last served it; entries are deleted by
manifest digest, which the registry must allow (distribution: storage: delete:
enabled: true), and their blobs are freed by the registry's own garbage
collection (docker-registry garbage-collect <config>).
`;

export function parseRetention(values: { 'max-age'?: string; 'max-size'?: string }): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {
    ...(values['max-age'] !== undefined ? { maxAgeMs: parseDuration(values['max-age'], '--max-age') } : {}),
    ...(values['max-size'] !== undefined ? { maxTotalBytes: parseSize(values['max-size'], '--max-size') } : {}),
  };
  return Object.keys(policy).length > 0 ? policy : undefined;
}

export function describePrune(result: PruneResult, dryRun = false): string {
  const verb = dryRun ? 'would remove' : 'removed';
  const inUse = result.skippedInUse.length ? `, ${result.skippedInUse.length} kept while being read` : '';
  return `prune: ${verb} ${result.removed.length} of ${result.examined} entries (${result.freedBytes} bytes), ${result.keptBytes} bytes kept${inUse}`;
}

export async function runPruneCommand(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; cwd: string }): Promise<number> {
  try {
    const { values } = (() => {
      try {
        return parseArgs({
          args: [...argv],
          strict: true,
          allowPositionals: false,
          options: { help: { type: 'boolean', short: 'h' }, storage: { type: 'string' }, 'max-age': { type: 'string' }, 'max-size': { type: 'string' }, 'dry-run': { type: 'boolean' }, 'insecure-registry': { type: 'boolean' } },
        });
      } catch (error) {
        throw new MultiarchError(`cache-server prune: ${(error as Error).message}`, 'Run `nx-multiarch cache-server prune --help`.');
      }
    })();
    if (values.help) {
      io.stdout.write(PRUNE_HELP);
      return 0;
    }
    if (!values.storage) throw new MultiarchError('cache-server prune needs --storage.', 'Give --storage file://<folder> or oci://<host[:port]>/<repository>, the store the server uses.');
    const location = parseStorageLocation(values.storage, io.cwd);
    const policy = parseRetention(values);
    if (!policy) throw new MultiarchError('cache-server prune needs a policy.', 'Give --max-age <duration> and/or --max-size <size>.');
    const storage =
      location.kind === 'file'
        ? await FileStorage.create(location.dir)
        : await OciStorage.create({ registry: location.registry, repository: location.repository, insecure: values['insecure-registry'] ?? false });
    const dryRun = values['dry-run'] ?? false;
    let result;
    try {
      result = await storage.prune(policy, { dryRun });
    } finally {
      await storage.close();
    }
    io.stdout.write(`${describePrune(result, dryRun)}\n`);
    for (const key of result.removed) io.stdout.write(`  ${key}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`nx-multiarch cache-server prune: ${formatError(error)}\n`);
    return 1;
  }
}
