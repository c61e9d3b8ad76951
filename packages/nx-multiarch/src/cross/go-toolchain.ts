import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MultiarchError } from '../errors';
import { run } from '../util/exec';
import { withFileLock } from '../util/file-lock';
import { classifyGoFailure, GoFailureContext, redactProxy } from './go-errors';
import { canSwitchToolchains, compareGoVersions, GoModPins, readGoModPins, toolchainFor, wantedVersion } from './go-version';

/**
 * Gets a Go module ready to cross-compile offline: picks the Go toolchain its
 * go.mod asks for, then fetches that toolchain and the module's dependencies
 * once, under a workspace lock, so the arch variants running side by side do
 * not each fetch them. The builds that follow run with GOPROXY=off.
 */

/** The settings of the go command that decide where it fetches from. */
export interface GoEnvFacts {
  /** The installed go's own version (GOTOOLCHAIN=local), e.g. go1.26.8. */
  installed: string;
  goproxy: string;
}

export interface PreparedGo {
  /** Environment for go list / go build: the chosen GOTOOLCHAIN, GOPROXY=off. */
  env: NodeJS.ProcessEnv;
  /** The Go that builds, e.g. go1.26.8. */
  version: string;
  installed: string;
  /** The GOPROXY the fetch used (the builds run with GOPROXY=off), asked of go when first needed. */
  goproxy: () => Promise<string>;
  /** The GOTOOLCHAIN value used, or undefined for a Go older than 1.21. */
  toolchain?: string;
  /** Milliseconds this task spent fetching over the network (0 when everything was cached). */
  fetchMs: number;
  /** True when the module vendors its dependencies (vendor/modules.txt): nothing is fetched. */
  vendored: boolean;
}

/** Bound on one fetch (a toolchain is ~70 MB; the lock waits as long). */
const FETCH_TIMEOUT_MS = 10 * 60_000;

/**
 * The installed go's own version. Read from the VERSION file of its GOROOT
 * (the folder above its bin/), which every Go distribution ships, to spare a
 * process on every task; asked of `go env` (outside any module, with
 * GOTOOLCHAIN=local) when there is no such file.
 */
export async function installedGoVersion(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const first = readFileSync(join(dirname(dirname(realpathSync(go))), 'VERSION'), 'utf8').split('\n')[0].trim();
    if (/^go\d/.test(first)) return first;
  } catch {
    // not a standard layout: ask go
  }
  return (await goEnv(go, env, 'GOVERSION')) || 'an unknown Go';
}

/** One `go env` value, as the installed go resolves it (environment, go env -w file, GOROOT/go.env). */
export async function goEnv(go: string, env: NodeJS.ProcessEnv, name: string): Promise<string> {
  const result = await run(go, ['env', name], { cwd: tmpdir(), env: { ...env, GOTOOLCHAIN: 'local' }, timeoutMs: 60_000 });
  if (result.exitCode !== 0) {
    throw new MultiarchError(`${go} env ${name} failed: ${result.stderr.trim()}`, `Check the Go installation (run "${go} version").`);
  }
  return result.stdout.trim();
}

export async function goEnvFacts(go: string, env: NodeJS.ProcessEnv): Promise<GoEnvFacts> {
  return { installed: await installedGoVersion(go, env), goproxy: await goEnv(go, env, 'GOPROXY') };
}

/**
 * The GOTOOLCHAIN value for a module: what the user's environment says, else
 * the installed Go when it meets both lines of go.mod (no network), else the
 * release the lines ask for, which Go fetches through the module proxy.
 * Throws, naming the pin, the installed Go and the fix, when no choice can work.
 */
export function chooseToolchain(pins: GoModPins, installed: string, userSetting: string | undefined, goModPath: string): string | undefined {
  const required = pins.go;
  const tooOld = required !== undefined && compareGoVersions(installed, required) < 0;
  if (!canSwitchToolchains(installed)) {
    if (tooOld) {
      throw new MultiarchError(
        `${goModPath} pins go ${required}, but the installed Go is ${installed}, which cannot fetch another toolchain (GOTOOLCHAIN needs Go 1.21 or newer).`,
        `Put Go 1.21 or newer first on PATH (it fetches ${toolchainFor(required)} through GOPROXY by itself), install Go ${required} or newer, or lower the go line of go.mod.`,
      );
    }
    return undefined;
  }
  if (userSetting !== undefined && userSetting !== '') {
    if (userSetting === 'local' && tooOld) {
      throw new MultiarchError(
        `${goModPath} pins go ${required}, but the installed Go is ${installed} and GOTOOLCHAIN=local forbids fetching another.`,
        `Unset GOTOOLCHAIN (or set GOTOOLCHAIN=auto, or ${toolchainFor(required as string)}) so Go fetches it through GOPROXY; or install Go ${required} or newer; or lower the go line of go.mod.`,
      );
    }
    return userSetting;
  }
  const wanted = wantedVersion(pins);
  if (wanted === undefined || compareGoVersions(installed, wanted) >= 0) return 'local';
  return toolchainFor(wanted);
}

/** One lock per workspace and module cache: a fetch fills the cache every later build reads. */
function lockPath(workspaceRoot: string, cwd: string): string {
  const key = createHash('sha256').update(cwd).digest('hex').slice(0, 16);
  return join(workspaceRoot, '.nx-multiarch', 'locks', `go-fetch-${key}.lock`);
}

interface Step {
  args: string[];
  what: string;
  env: NodeJS.ProcessEnv;
}

export interface PrepareGoInput {
  go: string;
  /** The module root (holds go.mod). */
  cwd: string;
  workspaceRoot: string;
  baseEnv: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export async function prepareGo(input: PrepareGoInput): Promise<PreparedGo> {
  const { go, cwd, baseEnv, log } = input;
  const installed = await installedGoVersion(go, baseEnv);
  // GOPROXY is only shown (when fetching or failing): asked of go then, not on every warm build.
  let proxy: string | undefined;
  const goproxy = async (): Promise<string> => (proxy ??= await goEnv(go, baseEnv, 'GOPROXY'));
  const goModPath = join(cwd, 'go.mod');
  const pins = readGoModPins(readFileSync(goModPath, 'utf8'));
  const toolchain = chooseToolchain(pins, installed, baseEnv.GOTOOLCHAIN, goModPath);
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...(toolchain ? { GOTOOLCHAIN: toolchain } : {}) };
  const failure = async (what: string): Promise<GoFailureContext> => ({ cwd, what, goproxy: await goproxy(), installed, goLine: pins.go });
  const vendored = existsSync(join(cwd, 'vendor', 'modules.txt'));

  const steps: Step[] = [];
  // Another toolchain: `go env GOVERSION` in the module switches to it, fetching it if need be.
  const switching = toolchain !== undefined && toolchain !== 'local';
  if (switching) steps.push({ args: ['env', 'GOVERSION'], what: `Go toolchain for ${goModPath} (GOTOOLCHAIN=${toolchain})`, env });
  if (!vendored) steps.push({ args: ['mod', 'download'], what: 'go mod download', env });

  let fetchMs = 0;
  let version = installed;
  if (steps.length > 0) await withFileLock(
    lockPath(input.workspaceRoot, cwd),
    { timeoutMs: FETCH_TIMEOUT_MS, onWait: (pid) => log(`  waiting for pid ${pid}, which fetches the same Go dependencies`) },
    async () => {
      for (const step of steps) {
        // First from the local caches only: a filled cache costs no network and no proxy.
        const offline = await run(go, step.args, { cwd, env: { ...step.env, GOPROXY: 'off' }, timeoutMs: FETCH_TIMEOUT_MS });
        let result = offline;
        if (offline.exitCode !== 0) {
          const started = Date.now();
          log(`  ${step.what} through GOPROXY (${redactProxy(await goproxy())})`);
          result = await run(go, step.args, { cwd, env: step.env, timeoutMs: FETCH_TIMEOUT_MS });
          fetchMs += Date.now() - started;
        }
        if (result.exitCode !== 0) {
          throw (
            classifyGoFailure(result.stderr, await failure(step.what)) ??
            new MultiarchError(`${step.what} in ${cwd} failed with exit code ${result.exitCode}:\n${redactProxy(result.stderr.trim())}`, `Run "go ${step.args.join(' ')}" in ${cwd} to see why.`)
          );
        }
        if (step.args[0] === 'env') version = result.stdout.trim() || version;
      }
    },
  );
  return {
    // Everything is local now: the builds must not reach the network (and cannot hang on it).
    env: { ...env, GOPROXY: 'off' },
    version,
    installed,
    goproxy,
    ...(toolchain ? { toolchain } : {}),
    fetchMs,
    vendored,
  };
}
