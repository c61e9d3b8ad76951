import { isAbsolute, resolve } from 'node:path';
import { MultiarchError } from '../errors';
import { validateRegistryHost, validateRepository } from '../registry/reference';

/** What `--storage` names: a folder, or a repository of an OCI registry. */
export type StorageLocation = { kind: 'file'; dir: string } | { kind: 'oci'; registry: string; repository: string };

const HINT = 'Give --storage file://<folder> (e.g. file:///var/cache/nx) or oci://<host[:port]>/<repository> (e.g. oci://127.0.0.1:5000/nx-cache).';

/**
 * Parses `--storage`. A `file://` path may be absolute (`file:///srv/cache`)
 * or relative to the working folder (`file://./cache`).
 */
export function parseStorageLocation(value: string, cwd: string = process.cwd()): StorageLocation {
  const text = value.trim();
  if (text.startsWith('file://')) {
    const path = decodeURIComponent(text.slice('file://'.length));
    if (path === '') throw new MultiarchError(`--storage ${value} names no folder.`, HINT);
    return { kind: 'file', dir: isAbsolute(path) ? resolve(path) : resolve(cwd, path) };
  }
  if (text.startsWith('oci://')) {
    const rest = text.slice('oci://'.length).replace(/\/+$/, '');
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) throw new MultiarchError(`--storage ${value} names no repository.`, HINT);
    try {
      return { kind: 'oci', registry: validateRegistryHost(rest.slice(0, slash)), repository: validateRepository(rest.slice(slash + 1)) };
    } catch (error) {
      throw new MultiarchError(`--storage ${value}: ${(error as Error).message}`, (error as MultiarchError).hint ?? HINT);
    }
  }
  throw new MultiarchError(`--storage ${value} is neither a file:// nor an oci:// address.`, HINT);
}
