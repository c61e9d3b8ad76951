import type { TargetConfiguration } from '@nx/devkit';
import { posix } from 'node:path';

/**
 * The one source of what a cross target hashes and writes, for inferred
 * targets (graph/infer-targets.ts) and for the project.json files import-repo
 * writes: both must name every file outside the project root that changes the
 * binary, or Nx replays a stale binary from its cache.
 */

/** One entry of a target's `inputs` (Nx's devkit does not export the type). */
export type Input = NonNullable<TargetConfiguration['inputs']>[number];

/** Where cargo-cross and go-cross write, per project and arch. */
export const CROSS_OUTPUTS: readonly string[] = ['{workspaceRoot}/dist/cross/{projectName}/{options.arch}'];

/** A workspace-relative path as an Nx input glob ('' is the workspace root). */
export function workspaceGlob(path: string): string {
  return path === '' ? '{workspaceRoot}' : `{workspaceRoot}/${path}`;
}

/** The files of an image build that sit beside a Go main and that `go build` never reads. */
const IMAGE_FILES = ['Dockerfile', 'Dockerfile.dockerignore', '.dockerignore'];

/**
 * Exclusions of the image's own files from go-cross's `production` input:
 * go-cross builds with its own flags, never the Dockerfile's (a multi-stage
 * Dockerfile's go build stage is mapped to go-cross, not read for flags), so
 * a Dockerfile edit rebuilds the images and leaves the binaries' cache
 * entries valid. None when a //go:embed pattern (workspace-relative) could
 * take one of those files into the binary: a wildcard or one of the names,
 * directly in the project's folder.
 */
export function goCrossImageFileExclusions(projectRoot: string, embeds: readonly string[]): string[] {
  // posix.dirname names the workspace root '.', where project roots say ''.
  const folderOf = (pattern: string) => posix.dirname(pattern).replace(/^\.$/, '');
  const mayEmbed = embeds.some(
    (pattern) => pattern === projectRoot || (folderOf(pattern) === projectRoot && /[*?[]|Dockerfile|dockerignore/.test(posix.basename(pattern))),
  );
  return mayEmbed ? [] : IMAGE_FILES.map((name) => `!{projectRoot}/${name}`);
}

/**
 * go-cross inputs: only .go files, go.mod/go.sum, vendor/modules.txt,
 * `//go:embed` files (workspace-relative patterns) and, with cgo on, C
 * sources (and assembly) reach the binary. Of the module's packages, those
 * in `packageDirs` when given (the main's own and those it imports:
 * go-module-files.ts mainPackageClosure), so a change in one main of a
 * module leaves the other mains' cache entries valid; else every package of
 * the module, since a main may import any of them.
 */
export function goCrossInputs(moduleRoot: string, embeds: readonly string[], packageDirs?: readonly string[]): Input[] {
  const module = workspaceGlob(moduleRoot);
  // The files a package compiles, under a folder prefix: one package's (`<dir>/`) or every package's (`<module>/**/`).
  const compiled = (prefix: string) => [`${prefix}*.go`, `!${prefix}*_test.go`, `${prefix}*.c`, `${prefix}*.h`, `${prefix}*.s`];
  const sources = packageDirs ? packageDirs.flatMap((dir) => compiled(`${workspaceGlob(dir)}/`)) : compiled(`${module}/**/`);
  return [
    `${module}/go.mod`,
    `${module}/go.sum`,
    `${module}/vendor/modules.txt`,
    ...sources,
    // A pattern names a file or a folder (embedded whole): hash both readings.
    ...embeds.flatMap((e) => [workspaceGlob(e), `${workspaceGlob(e)}/**/*`]),
    // The version alone: `go version` also names the host's arch, and Go's cross builds do
    // not depend on it, so a native arm64 runner and an amd64 publish job share cache entries.
    { runtime: 'go env GOVERSION' },
    { env: 'GOFLAGS' },
    { env: 'GOEXPERIMENT' },
    // Which Go builds (go-cross follows GOTOOLCHAIN when set) and which C compiler cgo uses.
    { env: 'GOTOOLCHAIN' },
    { env: 'CC' },
    { env: 'NX_MULTIARCH_VERSION' },
  ];
}

/**
 * go-cross options for a main package at `mainDir` in the module at
 * `moduleRoot`: the module is the working folder, the package a relative path.
 */
export function goCrossOptions(moduleRoot: string, mainDir: string): { cwd: string; main: string[] } {
  const inside = mainDir === moduleRoot ? '.' : `./${mainDir.slice(moduleRoot.length).replace(/^\//, '')}`;
  return { cwd: moduleRoot, main: [inside] };
}

/**
 * cargo-cross inputs: the whole Cargo workspace (path dependencies, build
 * scripts and include_bytes! may read any of it) minus files no Rust build
 * reads, plus the rustc and the flags.
 */
export function cargoCrossInputs(cargoRoot: string): Input[] {
  const root = workspaceGlob(cargoRoot);
  return [
    `${root}/**/*`,
    `!${root}/**/*.md`,
    `!${root}/**/Dockerfile*`,
    `!${root}/**/*.Dockerfile`,
    `!${root}/**/.dockerignore`,
    `!${root}/**/*.go`,
    `!${root}/**/go.mod`,
    `!${root}/**/go.sum`,
    `!${root}/.github/**/*`,
    `!${root}/**/project.json`,
    '{workspaceRoot}/LICENSE',
    // The lockfile and the toolchain pin choose what compiles: named on their own, so they stay
    // inputs even where a workspace narrows the globs above. Files that do not exist hash as nothing.
    `${root}/Cargo.lock`,
    `${root}/rust-toolchain.toml`,
    `${root}/rust-toolchain`,
    { runtime: '/usr/bin/rustc -vV' },
    { env: 'RUSTFLAGS' },
    { env: 'SOURCE_DATE_EPOCH' },
    // The package version a release pipeline sets (cargo-cross's default "versionEnv").
    { env: 'NX_MULTIARCH_VERSION' },
  ];
}
