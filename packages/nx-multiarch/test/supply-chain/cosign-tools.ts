import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The real cosign and crane that tools/setup.sh builds from the Go module proxy into .cache/go-tools. */
export const GO_TOOLS = join(resolve(__dirname, '../../../..'), '.cache', 'go-tools');

export function goTool(name: 'cosign' | 'crane' | 'referrers-registry'): string {
  const path = join(GO_TOOLS, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run bash tools/setup.sh (it builds ${name} into .cache/go-tools).`);
  return path;
}
