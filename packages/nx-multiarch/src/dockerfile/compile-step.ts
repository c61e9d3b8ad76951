import { posix } from 'node:path';
import type { PlatformSpec } from '../platform/platforms';
import { casePatternMatches, expandShellWord, readCase, tokenizeShell, type ShellLookup, type ShellToken } from './shell-words';

/**
 * Reads the RUN line of a `FROM --platform=$BUILDPLATFORM` stage for one
 * target arch and says what it does in terms the workspace already has:
 * a `go build` or `cargo build` for that arch (which the project's
 * go-cross/cargo-cross target does instead), a dependency download (which
 * that target's own fetch step does), or a copy of an output inside the
 * stage. Anything else is a refusal with the reason. Pure: the caller gives
 * the variables the stage has at that line and the folder it runs in.
 */

export interface GoBuildEffect {
  kind: 'go-build';
  /** Absolute folders (in the stage) of the packages built. */
  packages: string[];
  /** Absolute output path in the stage; with several packages (or `-o dir/`) a folder holding one binary per package. */
  output: string;
  outputIsDir: boolean;
}

export interface CargoBuildEffect {
  kind: 'cargo-build';
  /** The folder cargo runs in (its manifest is there or above). */
  cwd: string;
  /** `-p`/`--package`, when given. */
  crate?: string;
  /** `--bin` names, when given; otherwise every binary of the crate. */
  bins: string[];
  triple: string;
  /** Absolute folder the binaries land in: `<target-dir>/<triple>/release`. */
  outputDir: string;
}

export interface CopyEffect {
  kind: 'copy';
  from: string;
  to: string;
  move: boolean;
}

export interface DependenciesEffect {
  kind: 'dependencies';
  tool: 'go' | 'cargo';
}

export type BuildEffect = GoBuildEffect | CargoBuildEffect | CopyEffect | DependenciesEffect;

/** `fatal`: a go build/cargo build the plugin recognises but that is wrong for the target arch or cannot be mapped (see NativeBlocker.fatal). */
export type RunReading = { ok: true; effects: BuildEffect[]; cwd: string } | { ok: false; reason: string; fatal: boolean };

export interface ReadRunOptions {
  command: string;
  /** The stage's ARG and ENV values at this line. */
  lookup: ShellLookup;
  /** The stage's WORKDIR (absolute). */
  workdir: string;
  target: PlatformSpec;
}

/** Commands that change nothing the image gets (they may change the stage, but no output this plugin models). */
const HARMLESS = new Set(['true', ':', 'echo', 'printf', 'set', 'mkdir', 'ls', 'go version', 'go env', 'cargo --version', 'rustc --version', 'rustup show', 'test', '[']);

/** Package managers: in a build stage they install tools for the build machine, which the plugin's cross targets replace. */
const BUILD_TOOL_SETUP = new Set(['apt-get', 'apt', 'apk', 'dnf', 'yum', 'microdnf', 'dpkg']);

/** Go flags that take a value as the next word. */
const GO_VALUE_FLAGS = new Set(['-o', '-ldflags', '-gcflags', '-asmflags', '-tags', '-mod', '-modfile', '-p', '-pkgdir', '-buildmode', '-compiler', '-gccgoflags', '-installsuffix', '-overlay', '-pgo', '-toolexec', '-C', '-buildvcs', '-coverpkg', '-covermode']);

/** Cargo flags that take a value as the next word. */
const CARGO_VALUE_FLAGS = new Set(['--target', '-p', '--package', '--bin', '--target-dir', '--features', '-F', '--profile', '--manifest-path', '-j', '--jobs', '--config', '-Z', '--color', '--exclude', '--example']);

interface Words {
  values: string[];
  dynamic: boolean[];
}

function splitCommands(tokens: readonly ShellToken[]): { reason?: string; commands: ShellToken[][] } {
  const commands: ShellToken[][] = [];
  let current: ShellToken[] = [];
  for (const t of tokens) {
    if (t.kind === 'op' && ['&&', ';', '\n'].includes(t.op)) {
      if (current.length > 0) commands.push(current);
      current = [];
    } else if (t.kind === 'op' && ['||', '|', '&'].includes(t.op)) {
      return { reason: `the shell operator "${t.op}" makes what runs depend on the result of a command`, commands };
    } else {
      current.push(t);
    }
  }
  if (current.length > 0) commands.push(current);
  return { commands };
}

export function readRun(options: ReadRunOptions): RunReading {
  const shellVars = new Map<string, string>();
  const lookup: ShellLookup = (name) => (shellVars.has(name) ? shellVars.get(name) : options.lookup(name));
  let cwd = options.workdir;
  let fatal = false;
  const effects: BuildEffect[] = [];
  const target = options.target;

  const run = (tokens: readonly ShellToken[]): string | undefined => {
    let i = 0;
    // `case` blocks first: they are not split on `;` like plain commands.
    const flat: ShellToken[] = [];
    while (i < tokens.length) {
      const t = tokens[i];
      if (t.kind === 'word' && t.raw === 'case' && (i === 0 || tokens[i - 1].kind === 'op')) {
        const block = readCase(tokens, i);
        if (!block) return 'a case statement the plugin cannot read';
        const subject = expandShellWord(block.subject, lookup);
        if (subject.dynamic) return `case ${block.subject} depends on a command's output`;
        const arm = block.arms.find((a) => a.patterns.some((p) => casePatternMatches(expandShellWord(p, lookup).value, subject.value)));
        if (flat.length > 0) {
          const failure = runFlat(flat);
          if (failure) return failure;
          flat.length = 0;
        }
        if (arm) {
          const failure = run(arm.body);
          if (failure) return failure;
        }
        i = block.end;
        continue;
      }
      flat.push(t);
      i++;
    }
    return flat.length > 0 ? runFlat(flat) : undefined;
  };

  const runFlat = (tokens: readonly ShellToken[]): string | undefined => {
    const split = splitCommands(tokens);
    if (split.reason) return split.reason;
    for (const command of split.commands) {
      const failure = runCommand(command);
      if (failure) return failure;
    }
    return undefined;
  };

  const runCommand = (tokens: readonly ShellToken[]): string | undefined => {
    if (tokens.some((t) => t.kind === 'op')) return `"${tokens.map((t) => (t.kind === 'word' ? t.raw : t.op)).join(' ')}" is not a simple command`;
    const raws = tokens.map((t) => (t as { raw: string }).raw);
    // Leading NAME=value words set the environment of this command only; alone they set shell variables.
    const env = new Map<string, string>();
    let start = 0;
    if (raws[0] === 'export') {
      for (const raw of raws.slice(1)) {
        const eq = raw.indexOf('=');
        if (eq > 0) {
          const value = expandShellWord(raw.slice(eq + 1), lookup);
          if (value.dynamic) return `export ${raw} depends on a command's output`;
          shellVars.set(raw.slice(0, eq), value.value);
        }
      }
      return undefined;
    }
    if (raws[0] === 'env') start = 1;
    while (start < raws.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(raws[start])) {
      const eq = raws[start].indexOf('=');
      const value = expandShellWord(raws[start].slice(eq + 1), lookup);
      if (value.dynamic) return `${raws[start]} depends on a command's output`;
      env.set(raws[start].slice(0, eq), value.value);
      start++;
    }
    if (start === raws.length) {
      for (const [name, value] of env) shellVars.set(name, value);
      return undefined;
    }
    const envLookup: ShellLookup = (name) => (env.has(name) ? env.get(name) : lookup(name));
    const expanded = raws.slice(start).map((raw) => expandShellWord(raw, lookup));
    const words: Words = { values: expanded.map((w) => w.value), dynamic: expanded.map((w) => w.dynamic) };
    const head = words.values[0];
    const pair = `${head} ${words.values[1] ?? ''}`.trim();
    if (head === 'cd') {
      if (words.dynamic[1]) return 'cd to a folder named by a command';
      cwd = posix.resolve(cwd, words.values[1] ?? '/');
      return undefined;
    }
    if (pair === 'go build') {
      const failure = goBuild(words, envLookup);
      if (failure) fatal = true;
      return failure;
    }
    if (pair === 'go mod' && ['download', 'verify', 'tidy'].includes(words.values[2] ?? '')) {
      effects.push({ kind: 'dependencies', tool: 'go' });
      return undefined;
    }
    if (pair === 'cargo fetch') {
      effects.push({ kind: 'dependencies', tool: 'cargo' });
      return undefined;
    }
    if (pair === 'cargo build') {
      const failure = cargoBuild(words, envLookup);
      if (failure) fatal = true;
      return failure;
    }
    if (head === 'cp' || head === 'mv') return copy(words, head);
    if (HARMLESS.has(head) || HARMLESS.has(pair)) return undefined;
    // Build tools for the build machine (a cross gcc, a rustup target): the cross targets bring and check their own toolchain.
    if (BUILD_TOOL_SETUP.has(head) || (head === 'rustup' && ['target', 'component', 'toolchain'].includes(words.values[1] ?? ''))) return undefined;
    if (head === 'rm' && words.values.slice(1).every((w, i) => !words.dynamic[i + 1] && (w.startsWith('-') || /^\/(var|tmp|root)\//.test(w)))) return undefined;
    return `"${raws.join(' ')}" is not a step the plugin maps to a workspace target (it knows go build, cargo build, go mod download, cargo fetch, and cp/mv/mkdir/cd around them)`;
  };

  const goBuild = (words: Words, envLookup: ShellLookup): string | undefined => {
    const goarch = envLookup('GOARCH');
    const goos = envLookup('GOOS');
    const goarm = envLookup('GOARM');
    const expectedArch = target.goEnv.GOARCH;
    if (goarch === undefined || goarch === '') {
      return `go build has no GOARCH, so it builds for the build machine, not ${target.arch}; write GOARCH=$TARGETARCH (and declare ARG TARGETARCH in the stage)`;
    }
    if (goarch !== expectedArch) {
      return `go build sets GOARCH=${goarch}, but the target arch is ${target.arch} (GOARCH=${expectedArch}); take it from $TARGETARCH (and declare ARG TARGETARCH in the stage)`;
    }
    if (goos !== undefined && goos !== '' && goos !== 'linux') return `go build sets GOOS=${goos}; the images are linux`;
    const expectedArm = target.goEnv.GOARM;
    if (goarm && expectedArm && goarm !== expectedArm) return `go build sets GOARM=${goarm}, but ${target.arch} means GOARM=${expectedArm}`;
    let output: string | undefined;
    const packages: string[] = [];
    for (let i = 2; i < words.values.length; i++) {
      const word = words.values[i];
      const [flag, inline] = word.startsWith('-') ? splitFlag(word) : [word, undefined];
      if (flag === '-o' || flag === '--o') {
        const value = inline ?? words.values[++i];
        if (value === undefined || words.dynamic[inline === undefined ? i : i]) return 'go build -o names its output with a command or variable the plugin cannot read; write -o <path>';
        output = value;
        continue;
      }
      if (word.startsWith('-')) {
        if (inline === undefined && GO_VALUE_FLAGS.has(flag)) i++;
        continue;
      }
      if (words.dynamic[i]) return `go build builds a package named by a command (${word})`;
      packages.push(word);
    }
    if (packages.length === 0) packages.push('.');
    if (packages.some((p) => !p.startsWith('.') && !p.startsWith('/'))) {
      return `go build names ${packages.join(' ')} by import path; write it relative to the module (./cmd/x), so the plugin can find the workspace project`;
    }
    if (packages.some((p) => p.includes('...'))) return 'go build with a ... pattern builds no single binary the plugin can name';
    // `go build ./cmd/x/main.go` (files, as some Dockerfiles write it) builds the package of that folder.
    const goFiles = packages.filter((p) => p.endsWith('.go'));
    if (goFiles.length > 0 && (goFiles.length !== packages.length || new Set(goFiles.map((f) => posix.dirname(f))).size !== 1)) {
      return 'go build of .go files from several folders, or mixed with packages; build one package (./cmd/x)';
    }
    const dirs = goFiles.length > 0 ? [posix.resolve(cwd, posix.dirname(goFiles[0]))] : packages.map((p) => posix.resolve(cwd, p));
    if (goFiles.length > 0 && output === undefined) {
      // Go names the binary after the first file.
      effects.push({ kind: 'go-build', packages: dirs, output: posix.join(cwd, posix.basename(goFiles[0], '.go')), outputIsDir: false });
      return undefined;
    }
    if (output === undefined) {
      // Go names the binary after the package's folder only when that is not `.`; for `.` it is the module path's last element, unknown here.
      if (dirs.length !== 1 || packages[0] === '.' || packages[0] === './') {
        return 'the output name of go build cannot be determined (no -o, and the binary would be named after the module path); write -o <path>';
      }
      effects.push({ kind: 'go-build', packages: dirs, output: posix.join(cwd, posix.basename(dirs[0])), outputIsDir: false });
      return undefined;
    }
    const outputIsDir = output.endsWith('/') || dirs.length > 1;
    if (outputIsDir && packages.some((p) => p === '.' || p === './')) {
      return 'the output name of go build cannot be determined (-o names a folder, and the binary of . is named after the module path); write -o <folder>/<name> for it';
    }
    effects.push({ kind: 'go-build', packages: dirs, output: posix.resolve(cwd, output), outputIsDir });
    return undefined;
  };

  const cargoBuild = (words: Words, envLookup: ShellLookup): string | undefined => {
    let triple: string | undefined;
    let crate: string | undefined;
    let release = false;
    let targetDir = envLookup('CARGO_TARGET_DIR');
    const bins: string[] = [];
    for (let i = 2; i < words.values.length; i++) {
      const [flag, inline] = splitFlag(words.values[i]);
      const value = (): string | undefined => {
        if (inline !== undefined) return inline;
        i++;
        return words.dynamic[i] ? undefined : words.values[i];
      };
      if (flag === '--release' || flag === '-r') release = true;
      else if (flag === '--target') triple = value();
      else if (flag === '-p' || flag === '--package') crate = value();
      else if (flag === '--bin') {
        const v = value();
        if (v) bins.push(v);
      } else if (flag === '--target-dir') targetDir = value();
      else if (flag === '--profile') {
        if (value() !== 'release') return 'cargo build --profile other than release; cargo-cross builds the release profile';
        release = true;
      } else if (flag === '--manifest-path') return 'cargo build --manifest-path: run it in the package folder (cd or WORKDIR) instead';
      else if (CARGO_VALUE_FLAGS.has(flag) && inline === undefined) i++;
    }
    if (!release) return 'cargo build without --release builds the debug profile; cargo-cross builds --release';
    if (!triple) return `cargo build has no --target, so it builds for the build machine, not ${target.arch}; map $TARGETARCH to a triple (case "$TARGETARCH" in arm64) ...) and pass --target`;
    const allowed = [target.rustTriple, target.rustMuslTriple].filter((t): t is string => !!t);
    if (!allowed.includes(triple)) return `cargo build --target ${triple}, but the target arch ${target.arch} is ${allowed.join(' or ')}`;
    const dir = posix.resolve(cwd, targetDir ?? 'target');
    effects.push({ kind: 'cargo-build', cwd, ...(crate ? { crate } : {}), bins, triple, outputDir: posix.join(dir, triple, 'release') });
    return undefined;
  };

  const copy = (words: Words, head: string): string | undefined => {
    const operands = words.values.slice(1).filter((w, i) => !(w.startsWith('-') && !words.dynamic[i + 1]));
    if (words.dynamic.some((d) => d)) return `${head} of a path named by a command`;
    if (operands.length !== 2) return `${head} with ${operands.length} paths (the plugin follows one source and one destination)`;
    effects.push({ kind: 'copy', from: posix.resolve(cwd, operands[0]), to: posix.resolve(cwd, operands[1]) + (operands[1].endsWith('/') ? '/' : ''), move: head === 'mv' });
    return undefined;
  };

  const failure = run(tokenizeShell(options.command, { dropRedirections: true }));
  return failure ? { ok: false, reason: failure, fatal } : { ok: true, effects, cwd };
}

function splitFlag(word: string): [string, string | undefined] {
  const eq = word.indexOf('=');
  return eq > 0 && word.startsWith('-') ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
}
