import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runChecked } from '../../src/util/exec';
import { WORKSPACE_ROOT } from './oci-schemas';

/**
 * actionlint, built from source through the Go module proxy (`go env
 * GOPROXY`) into the workspace's gitignored .cache on first use. It needs a go
 * that can build Go 1.25 code: Go 1.21 or later fetches that toolchain itself
 * (GOTOOLCHAIN=auto); Debian 12's Go 1.19 cannot.
 */
export const ACTIONLINT_VERSION = 'v1.7.12';
const BIN_DIR = join(WORKSPACE_ROOT, '.cache', 'tools', `actionlint-${ACTIONLINT_VERSION}`);

export async function actionlintPath(): Promise<string> {
  const bin = join(BIN_DIR, 'actionlint');
  if (existsSync(bin)) return bin;
  await mkdir(join(WORKSPACE_ROOT, '.cache', 'tools'), { recursive: true });
  // Built into a fresh folder and moved in whole, so a killed build never leaves half a binary.
  const work = await mkdtemp(`${BIN_DIR}.partial-`);
  try {
    await runChecked('go', ['install', `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`], {
      env: { ...process.env, GOBIN: work, GOFLAGS: '-mod=mod' },
      timeoutMs: 600_000,
      what: `go install actionlint@${ACTIONLINT_VERSION}`,
      hint: 'Put Go 1.21 or later first on PATH (it fetches the Go 1.25 toolchain actionlint needs through the module proxy); Debian 12 Go 1.19 cannot build it.',
    });
    await rename(work, BIN_DIR).catch(async (error: NodeJS.ErrnoException) => {
      if (!existsSync(bin)) throw error; // another test process won the race: use its binary
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return bin;
}

/**
 * actionlint's findings for one workflow text ('' when it finds nothing).
 * `selfHostedLabels` are runner labels the repository declares, as a team
 * would in .github/actionlint.yaml; any other unknown label is a finding.
 */
export async function actionlint(text: string, selfHostedLabels: readonly string[] = [], fileName = 'workflow.yml'): Promise<string> {
  const bin = await actionlintPath();
  const dir = await mkdtemp(join(WORKSPACE_ROOT, '.cache', 'tools', 'lint-'));
  try {
    // actionlint checks a workflow by its path: it must sit in .github/workflows.
    await mkdir(join(dir, '.github', 'workflows'), { recursive: true });
    const path = join(dir, '.github', 'workflows', fileName);
    await writeFile(path, text);
    const config = join(dir, '.github', 'actionlint.yaml');
    await writeFile(config, `self-hosted-runner:\n  labels:${selfHostedLabels.length ? '' : ' []'}\n${selfHostedLabels.map((l) => `    - ${l}\n`).join('')}`);
    // Given explicitly: actionlint looks for its config only in a git repository's root.
    const result = await run(bin, ['-no-color', '-oneline', '-config-file', config, path], { cwd: dir, timeoutMs: 60_000 });
    if (result.exitCode !== 0 && result.stdout.trim() === '') throw new Error(`actionlint failed: ${result.stderr}`);
    return result.stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
