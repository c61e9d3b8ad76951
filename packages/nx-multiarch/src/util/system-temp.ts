import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerTag, sweepStaleTemps } from './stale-temp';

/**
 * Scratch folders in the system's temporary directory (archives being
 * extracted, an SBOM's work, a docker build's files, an integration run).
 * They carry their owner like the workspace's temporary folders, so a task
 * killed with -9 leaves nothing that the next task does not sweep.
 */
export type SystemTempKind = 'extract' | 'sbom' | 'attest' | 'docker' | 'it';

const SYSTEM_TEMP = /^nx-multiarch-(?:extract|sbom|attest|docker|it)-/;

/** Makes `<tmpdir>/nx-multiarch-<kind>-[<label>-]<owner>-XXXXXX`. */
export function makeSystemTempDir(kind: SystemTempKind, label?: string): Promise<string> {
  const named = label ? `${kind}-${label.replace(/[^A-Za-z0-9._-]/g, '_')}` : kind;
  return mkdtemp(join(tmpdir(), `nx-multiarch-${named}-${ownerTag()}-`));
}

/** Removes the plugin's folders in the system's temporary directory whose owner is gone; returns their paths. */
export async function sweepSystemTemps(): Promise<string[]> {
  const dir = tmpdir();
  return (await sweepStaleTemps(dir, (name) => SYSTEM_TEMP.test(name))).map((name) => join(dir, name));
}
