import { existsSync, statSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { sha256FileDigest } from '../oci/digest';
import { platformString } from '../platform/platforms';
import { requireGo } from './toolchain-preflight';
import { writeDirAtomically } from '../util/atomic';
import { runChecked } from '../util/exec';
import { checkBinaryArch } from './binary-check';
import { listOption } from './cargo-plan';
import { CrossBuildContext, prepareCrossTarget, workspacePath } from './cross-context';
import { binaryNames, goEnv, GoCrossOptions, goLdflags, planGoBuild, resolveVersion } from './go-plan';

/**
 * go-cross: CGO off, GOOS/GOARCH(/GOARM) from the platform table, reproducible
 * flags, one `go build` for all the mains, ELF check, all into
 * dist/cross/<project>/<arch>/ at once.
 */
export interface GoCrossResult {
  outDir: string;
  binaries: string[];
  version: string;
}

export async function buildGoCross(ctx: CrossBuildContext, options: GoCrossOptions): Promise<GoCrossResult> {
  const { platform, outDir } = await prepareCrossTarget(ctx, options.arch, 'go-cross');
  const go = requireGo(ctx.env);
  const cwd = workspacePath(ctx, options.cwd);
  if (!existsSync(join(cwd, 'go.mod'))) {
    throw new MultiarchError(`No go.mod in ${cwd}.`, 'Set the go-cross option "cwd" to the Go module root, relative to the workspace root.');
  }
  const mains = listOption(options.main ?? '.').map((main) => asPackagePath(cwd, main));
  const tags = listOption(options.tags);
  const version = resolveVersion(options, ctx.env);
  const env = goEnv(platform, ctx.env);

  const importPaths = await listMainPackages(go, cwd, mains, tags, env);
  const names = binaryNames(importPaths, options.outputName);
  const ldflags = goLdflags(version, options.versionVariable ?? 'main.version', listOption(options.ldflags, /\n/).join(' '));

  ctx.log(`go-cross: ${names.join(', ')} ${version} for ${platformString(platform.oci)} (${Object.entries(platform.goEnv).map(([k, v]) => `${k}=${v}`).join(' ')})`);
  return writeDirAtomically(outDir, async (tmp) => {
    await chmod(tmp, 0o755); // mkdtemp makes it 0700; the output folder is an ordinary shared folder
    // One go build for every main: Go compiles them in parallel and shares the work.
    const output = names.length === 1 ? join(tmp, names[0]) : `${tmp}/`;
    const plan = planGoBuild({ platform, mains, output, ldflags, tags, baseEnv: ctx.env });
    ctx.log(`  CGO_ENABLED=0 GOOS=linux ${Object.entries(platform.goEnv).map(([k, v]) => `${k}=${v}`).join(' ')} ${go} ${plan.args.join(' ')}`);
    await runChecked(go, plan.args, {
      cwd,
      env: plan.env,
      echo: ctx.echo,
      what: `go build for ${platformString(platform.oci)}`,
      hint: 'Read the compiler output above (CGO is off: code that needs cgo cannot cross-compile this way).',
    });
    for (const name of names) {
      const path = join(tmp, name);
      if (!existsSync(path)) throw new MultiarchError(`go build finished but wrote no ${name}.`, 'Check the "main" and "outputName" options.');
      await checkBinaryArch(path, platform, name);
      ctx.log(`  ${name} ${await sha256FileDigest(path)}`);
    }
    return { outDir, binaries: names, version };
  });
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

/** Import paths of the mains, in order; each must be a main package for the target. */
async function listMainPackages(
  go: string,
  cwd: string,
  mains: readonly string[],
  tags: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const result = await runChecked(go, ['list', ...(tags.length > 0 ? ['-tags', tags.join(',')] : []), '-f', '{{.ImportPath}}\t{{.Name}}', ...mains], {
    cwd,
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
