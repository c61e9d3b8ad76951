import { existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import { readFileHead } from '../oci/file-source';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { sha256FileDigest } from '../oci/digest';
import { platformString, type PlatformSpec } from '../platform/platforms';
import { classifyGoFailure, redactProxy } from './go-errors';
import { prepareGo, PreparedGo } from './go-toolchain';
import { requireCCompiler, requireGo } from './toolchain-preflight';
import { writeDirAtomically } from '../util/atomic';
import { run, RunOptions } from '../util/exec';
import { withFileLock } from '../util/file-lock';
import { checkBinaryArch } from './binary-check';
import { checkForeignBinary } from './binary-format';
import { executableName, outputFolderName, parseGoOs, releaseAssetName, type GoOs } from './go-os';
import { listOption } from './cargo-plan';
import { CrossBuildContext, prepareCrossTarget, workspacePath } from './cross-context';
import { binaryNames, CgoSetting, cgoCompiler, goEnv, GoCrossOptions, goLdflags, planGoBuild, resolveVersion } from './go-plan';

/**
 * go-cross: the Go toolchain go.mod asks for, its modules fetched once for all
 * arches, then offline: CGO off (or on with the arch's cross C compiler),
 * GOOS/GOARCH(/GOARM) from the platform table, reproducible flags, one
 * `go build` for all the mains, ELF check, all into
 * dist/cross/<project>/<arch>/ at once.
 */
export interface GoCrossResult {
  outDir: string;
  binaries: string[];
  version: string;
  os: GoOs;
  /** Release assets written beside the binary (the "releaseName" option): the asset and its .sha256. */
  assets: string[];
}

/**
 * The binary under its download name, and `<asset>.sha256` holding the hex
 * digest alone (what Linkerd's install script compares against).
 */
async function writeReleaseAsset(dir: string, binary: string, asset: string): Promise<string[]> {
  await copyFile(join(dir, binary), join(dir, asset));
  const digest = createHash('sha256').update(await readFile(join(dir, asset))).digest('hex');
  await writeFile(join(dir, `${asset}.sha256`), `${digest}\n`);
  return [asset, `${asset}.sha256`];
}

export async function buildGoCross(ctx: CrossBuildContext, options: GoCrossOptions): Promise<GoCrossResult> {
  // The os is checked against the arch before the stale output is removed (an unknown pair touches nothing).
  let os: GoOs = 'linux';
  const { platform, outDir } = await prepareCrossTarget(ctx, options.arch, 'go-cross', (arch, p) => {
    os = parseGoOs(options.os, p);
    return outputFolderName(os, arch);
  });
  if (os !== 'linux' && options.cgo === true) {
    throw new MultiarchError(`go-cross builds ${os} binaries without cgo (there is no ${os} C cross compiler in the platform table).`, 'Drop "cgo" for this target, or build it on that system.');
  }
  const go = requireGo(ctx.env);
  const cwd = workspacePath(ctx, options.cwd);
  if (!existsSync(join(cwd, 'go.mod'))) {
    throw new MultiarchError(`No go.mod in ${cwd}.`, 'Set the go-cross option "cwd" to the Go module root, relative to the workspace root.');
  }
  const mains = listOption(options.main ?? '.').map((main) => asPackagePath(cwd, main));
  const tags = listOption(options.tags);
  const version = resolveVersion(options, ctx.env);
  const cgo = cgoSetting(options, platform, ctx.env);

  const prepared = await prepareGo({ go, cwd, workspaceRoot: ctx.workspaceRoot, baseEnv: ctx.env, log: ctx.log });
  ctx.log(
    `go-cross: ${prepared.version}${prepared.toolchain ? ` (GOTOOLCHAIN=${prepared.toolchain}, installed ${prepared.installed})` : ''}; ` +
      (prepared.vendored ? 'modules from vendor/' : prepared.fetchMs > 0 ? `fetched in ${(prepared.fetchMs / 1000).toFixed(1)} s` : 'modules from the module cache'),
  );
  const env = goEnv(platform, prepared.env, cgo, os);
  const runGo = goRunner(go, cwd, prepared);

  const importPaths = await listMainPackages(runGo, mains, tags, env);
  const names = binaryNames(importPaths, options.outputName).map((n) => executableName(n, os));
  const ldflags = goLdflags(version, options.versionVariable ?? 'main.version', listOption(options.ldflags, /\n/).join(' '));

  ctx.log(`go-cross: ${names.join(', ')} ${version} for ${platformString(platform.oci)} (${Object.entries(platform.goEnv).map(([k, v]) => `${k}=${v}`).join(' ')})`);
  return writeDirAtomically(outDir, async (tmp) => {
    await chmod(tmp, 0o755); // mkdtemp makes it 0700; the output folder is an ordinary shared folder
    // One go build for every main: Go compiles them in parallel and shares the work.
    const output = names.length === 1 ? join(tmp, names[0]) : `${tmp}/`;
    const plan = planGoBuild({ platform, mains, output, ldflags, tags, baseEnv: prepared.env, cgo, os });
    const cgoLine = cgo.enabled ? `CGO_ENABLED=1 CC=${cgo.cc}` : 'CGO_ENABLED=0';
    ctx.log(`  ${cgoLine} GOOS=${os} ${Object.entries(platform.goEnv).map(([k, v]) => `${k}=${v}`).join(' ')} GOPROXY=off ${go} ${plan.args.join(' ')}`);
    const target = `${platformString(platform.oci)}${os === 'linux' ? '' : ` (${os})`}`;
    await withFileLock(
      buildLockPath(ctx.workspaceRoot, cwd, plan.env),
      { timeoutMs: BUILD_LOCK_TIMEOUT_MS, onWait: (pid) => ctx.log(`  waiting for pid ${pid}, which builds this module for ${target}: Go then compiles the packages they share once`) },
      () =>
        runGo(plan.args, {
          env: plan.env,
          echo: ctx.echo,
          what: `go build for ${platformString(platform.oci)}`,
          hint: cgo.enabled
            ? `Read the compiler output above (cgo is on with ${cgo.cc}: the C code must build for ${platform.gccPrefix}).`
            : 'Read the compiler output above (cgo is off: code that needs cgo builds with the go-cross option "cgo": true).',
        }),
    );
    for (const name of names) {
      const path = join(tmp, name);
      if (!existsSync(path)) throw new MultiarchError(`go build finished but wrote no ${name}.`, 'Check the "main" and "outputName" options.');
      if (os === 'linux') await checkBinaryArch(path, platform, name);
      else checkForeignBinary(await readFileHead(path, 4096), os, platform.arch, name);
      ctx.log(`  ${name} ${await sha256FileDigest(path)}`);
    }
    const assets: string[] = [];
    if (options.releaseName !== undefined) {
      if (names.length !== 1) {
        throw new MultiarchError(`"releaseName" names one release asset, but this target builds ${names.length} binaries.`, 'Give each main its own go-cross target with "releaseName".');
      }
      assets.push(...(await writeReleaseAsset(tmp, names[0], releaseAssetName(options.releaseName, version, os, platform.arch))));
      for (const asset of assets) ctx.log(`  ${asset}`);
    }
    return { outDir, binaries: names, version, os, assets };
  });
}

/** As long as the longest build waits for the lock. */
const BUILD_LOCK_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * One go build at a time per module and target (GOOS, GOARCH, GOARM, cgo,
 * tags in GOFLAGS): Nx runs the go-cross tasks of a module's mains side by
 * side (controller, web, cli for arm64), and two go processes do not share
 * work in progress, so each compiled every package they share, the standard
 * library included, at once (4 mains for one arch from an empty GOCACHE:
 * 88.5 CPU s side by side, 39.6 CPU s one after the other). Under the lock
 * the second build finds the first's packages in GOCACHE. Builds for other
 * arches share nothing and still run side by side.
 */
function buildLockPath(workspaceRoot: string, moduleDir: string, env: NodeJS.ProcessEnv): string {
  const target = ['GOOS', 'GOARCH', 'GOARM', 'CGO_ENABLED', 'CC', 'GOFLAGS', 'GOCACHE'].map((k) => `${k}=${env[k] ?? ''}`).join('\n');
  const key = createHash('sha256').update(moduleDir).update('\n').update(target).digest('hex').slice(0, 16);
  return join(workspaceRoot, '.nx-multiarch', 'locks', `go-build-${key}.lock`);
}

/**
 * A main given as a folder of the module (`cmd/controller`) becomes
 * `./cmd/controller`, which go reads as a path; anything else is passed as an
 * import path.
 */
export function asPackagePath(cwd: string, main: string): string {
  if (main === '.' || main.startsWith('./') || main.startsWith('../')) return main;
  try {
    if (statSync(join(cwd, main)).isDirectory()) return `./${main}`;
  } catch {
    // not a folder of the module: an import path
  }
  return main;
}

/** cgo off, or on with the arch's C compiler, which must be installed. */
function cgoSetting(options: GoCrossOptions, platform: PlatformSpec, env: NodeJS.ProcessEnv): CgoSetting {
  if (options.cgo !== true) return { enabled: false };
  const { cc, overridden } = cgoCompiler(platform, options.cc, env);
  requireCCompiler(cc, platform, env, overridden);
  return { enabled: true, cc };
}

type GoRun = (args: string[], options: RunOptions & { what: string; hint: string }) => Promise<{ stdout: string }>;

/**
 * Runs go in the module. A failure go's own output explains (a module that
 * is missing, a go line it cannot meet) gets that cause and its fix; any
 * other failure gets the caller's hint.
 */
function goRunner(go: string, cwd: string, prepared: PreparedGo): GoRun {
  return async (args, options) => {
    const result = await run(go, args, { ...options, cwd });
    if (result.exitCode === 0) return result;
    const classified = classifyGoFailure(result.stderr, {
      cwd,
      what: options.what,
      goproxy: `off during the build; the fetch before it used ${await prepared.goproxy()}`,
      installed: prepared.installed,
    });
    if (classified) throw classified;
    const tail = redactProxy(result.stderr.trim().split('\n').slice(-20).join('\n'));
    throw new MultiarchError(`${options.what} failed with exit code ${result.exitCode}${tail ? `:\n${tail}` : '.'}`, options.hint);
  };
}

/** Import paths of the mains, in order; each must be a main package for the target. */
async function listMainPackages(runGo: GoRun, mains: readonly string[], tags: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const result = await runGo(['list', ...(tags.length > 0 ? ['-tags', tags.join(',')] : []), '-f', '{{.ImportPath}}\t{{.Name}}', ...mains], {
    env,
    what: `go list ${mains.join(' ')}`,
    hint: 'Set the go-cross option "main" to main packages of the module, relative to "cwd" (e.g. ./cmd/controller).',
  });
  const lines = result.stdout.trim().split('\n').filter(Boolean);
  const importPaths: string[] = [];
  for (const line of lines) {
    const [importPath, name] = line.split('\t');
    if (name !== 'main') {
      throw new MultiarchError(
        `${importPath} is package ${name}, not a main package.`,
        'Point the go-cross option "main" at packages that declare "package main".',
      );
    }
    importPaths.push(importPath);
  }
  return importPaths;
}
