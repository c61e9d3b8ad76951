import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerTag, safeNamePart, sweepStaleTemps } from './stale-temp';

/**
 * Scratch folders in the system's temporary directory (archives being
 * extracted, an SBOM's work, a docker build's files, an integration run).
 * They carry their owner like the workspace's temporary folders, so a task
 * killed with -9 leaves nothing that the next task does not sweep.
 */
const SYSTEM_TEMP_KINDS = ['extract', 'sbom', 'attest', 'docker', 'it'] as const;
export type SystemTempKind = (typeof SYSTEM_TEMP_KINDS)[number];

const SYSTEM_TEMP = new RegExp(`^nx-multiarch-(?:${SYSTEM_TEMP_KINDS.join('|')})-`);

/** Makes `<tmpdir>/nx-multiarch-<kind>-[<label>-]<owner>-XXXXXX`. */
export function makeSystemTempDir(kind: SystemTempKind, label?: string): Promise<string> {
  const named = label ? `${kind}-${safeNamePart(label)}` : kind;
  return mkdtemp(join(tmpdir(), `nx-multiarch-${named}-${ownerTag()}-`));
}

/** Removes the plugin's folders in the system's temporary directory whose owner is gone; returns their paths. */
export async function sweepSystemTemps(): Promise<string[]> {
  const dir = tmpdir();
  return (await sweepStaleTemps(dir, (name) => SYSTEM_TEMP.test(name))).map((name) => join(dir, name));
}
