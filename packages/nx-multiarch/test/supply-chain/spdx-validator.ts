import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tool } from '../images/helpers';

/**
 * The SPDX project's own reader and validator (spdx-tools, `pyspdxtools`),
 * which tools/setup.sh installs into .cache/spdx-venv: it parses an SPDX
 * 2.3 JSON document and checks it against the specification. (The SPDX
 * JSON schema itself is not shipped by any registry package reachable here.)
 */
export const PYSPDXTOOLS = join(resolve(__dirname, '../../../..'), '.cache', 'spdx-venv', 'bin', 'pyspdxtools');

export function requirePyspdxtools(): string {
  if (!existsSync(PYSPDXTOOLS)) throw new Error(`${PYSPDXTOOLS} is missing: run bash tools/setup.sh (it installs spdx-tools into .cache/spdx-venv).`);
  return PYSPDXTOOLS;
}

/** Resolves when pyspdxtools accepts the document; rejects with its messages otherwise. */
export async function validateSpdx(file: string): Promise<string> {
  return tool(requirePyspdxtools(), ['--infile', file], 120_000);
}
