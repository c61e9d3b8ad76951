import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CrossBuildContext } from '../../src/cross/cross-context';
import type { PlatformSpec } from '../../src/platform/platforms';
import { run } from '../../src/util/exec';

/** Shared set-up of the cross-build integration tests: throw-away workspaces, qemu runs, hashes. */

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export const FIXTURES = join(__dirname, 'fixtures');

const made: string[] = [];

/** A fresh temporary folder, removed by `cleanUpTemp`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `nx-multiarch-${prefix}-`));
  made.push(dir);
  return dir;
}

export function cleanUpTemp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A throw-away workspace at `<tmp>/<subPath>` holding `source` (a fixture or
 * a real project folder) at `packages/<project>`: clones at different paths
 * for reproducibility tests, and no writes into the real dist/.
 */
export function workspaceWith(source: string, project: string, subPath = 'ws'): { root: string; projectRoot: string } {
  const root = join(tempDir(project), subPath);
  const projectRoot = join('packages', project);
  cpSync(source, join(root, projectRoot), {
    recursive: true,
    // A developer's build folders are not part of a clone.
    filter: (src) => !/[/\\](target|dist)$/.test(src),
  });
  return { root, projectRoot };
}

export interface TestContext extends CrossBuildContext {
  lines: string[];
}

export function crossContextFor(root: string, project: string, projectRoot: string, env: NodeJS.ProcessEnv = process.env): TestContext {
  const lines: string[] = [];
  return { workspaceRoot: root, project, projectRoot, env, echo: false, log: (line) => lines.push(line), lines };
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Files of an output folder, sorted (hidden temp folders of a failed write would show up here). */
export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Runs a foreign binary under qemu-user, as a user without that CPU would.
 * Static binaries (crt-static Rust, CGO-off Go) need no sysroot.
 */
export async function runUnderQemu(platform: PlatformSpec, binary: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (platform.qemuCpu) env.QEMU_CPU = platform.qemuCpu;
  const result = await run(`${platform.qemu}-static`, [binary, ...args], { env, timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new Error(`${platform.qemu}-static ${binary} ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout.trim();
}

/** The OCI spelling `--version` lines use: arm carries its v7. */
export function versionPlatform(platform: PlatformSpec): string {
  return ['linux', platform.oci.architecture, platform.oci.variant].filter(Boolean).join('/');
}

/** An env whose PATH holds only links to the named programs (to simulate a missing tool). */
export function pathWithOnly(programs: Record<string, string>): NodeJS.ProcessEnv {
  const dir = tempDir('path');
  for (const [name, target] of Object.entries(programs)) symlinkSync(target, join(dir, name));
  return { ...process.env, PATH: dir };
}
