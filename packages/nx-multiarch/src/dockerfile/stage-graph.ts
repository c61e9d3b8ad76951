import { posix } from 'node:path';
import type { PlatformSpec } from '../platform/platforms';
import type { BuildEffect } from './compile-step';
import { globalArgValues, predefinedArgs } from './evaluate-stage';
import type { NativeBlocker, ParsedDockerfile, StageInstruction, StageOutline } from './parse';
import { refuseOrInterpretRun } from './run-step';
import type { DownloadMap } from './download-map';
import { fetchOutputs, type FetchStep } from './fetch-steps';
import { chainLookup, processWord } from './substitute';

/**
 * The stages of a multi-stage Dockerfile, for one target arch, as the
 * native engine can use them without running any of them: which file each
 * stage holds at which path, and where that file really comes from — a path
 * of the build context (COPY), a Go package's binary (go build), or a
 * binary of a Cargo crate (cargo build). The final stage's `COPY --from`
 * lines are rewritten to copy those files from a folder the caller fills
 * (`STAGED_ROOT/<stage>/<path>`), so the rest of the native engine sees an
 * ordinary single-stage Dockerfile. Pure: the build context is only probed
 * through a callback.
 */

/** Folder of the scratch context that holds what the final stage copies out of earlier stages. */
export const STAGED_ROOT = '.nx-multiarch-stages';

export type FileOrigin =
  /** A file or folder of the build context (context-relative, '' for its root). */
  | { kind: 'context'; path: string }
  /** The binary of the Go main package at `packageDir` (context-relative). */
  | { kind: 'go'; packageDir: string; line: number }
  /** Binary `bin` of the crate (`-p`, else the package at `cwd`, context-relative). */
  | { kind: 'cargo'; crate?: string; cwd: string; bin?: string; line: number }
  /** What the download steps of RUN line `line` leave at a path (served from workspace packages, downloads option). */
  | { kind: 'download'; steps: FetchStep[]; line: number };

interface StageEntry {
  path: string;
  origin: FileOrigin;
}

/** One file or folder a COPY --from takes, and where the caller must put it. */
export interface ResolvedItem {
  stage: string;
  /** Absolute path in that stage. */
  stagePath: string;
  origin: FileOrigin;
}

export interface StagePlan {
  /** The final stage's instructions, each resolved COPY --from now a COPY from STAGED_ROOT. */
  instructions: StageInstruction[];
  /** What to put under STAGED_ROOT, deduplicated. */
  items: ResolvedItem[];
  /** What cannot be built without running a stage (empty: the native engine can build it). */
  blockers: NativeBlocker[];
  /** Names (lower case) of the earlier stages the final one uses. */
  usedStages: string[];
}

export type ContextProbe = (contextPath: string) => 'file' | 'dir' | undefined;

export interface PlanStagesOptions {
  parsed: ParsedDockerfile;
  buildArgs: Readonly<Record<string, string>>;
  target: PlatformSpec;
  probe: ContextProbe;
  /** The downloads option: a build stage's download steps whose URLs it maps are read as files of the stage. */
  downloads?: DownloadMap;
}

const BUILD_PLATFORM = /^\$\{?BUILDPLATFORM\}?$/;

function stageLabel(stage: StageOutline, index: number): string {
  return (stage.stageName ?? String(index)).toLowerCase();
}

function isUnder(path: string, dir: string): boolean {
  return dir === '/' ? path.startsWith('/') : path.startsWith(`${dir}/`);
}

function describeOrigin(origin: FileOrigin): string {
  switch (origin.kind) {
    case 'context':
      return `context ${origin.path || '.'}`;
    case 'go':
      return `go build of ${origin.packageDir || '.'} (line ${origin.line})`;
    case 'cargo':
      return `cargo build of ${origin.crate ?? origin.cwd} (line ${origin.line})`;
    case 'download':
      return `download on line ${origin.line}`;
  }
}

class StageFiles {
  readonly entries: StageEntry[] = [];
  /** The stage's state at its end, which a `FROM <this stage>` starts from. */
  workdir = '/';
  env = new Map<string, string>();
  runsOnBuild = false;

  add(path: string, origin: FileOrigin): void {
    this.entries.push({ path, origin });
  }

  /** What `path` names in the stage: one entry (or a file inside one), or every entry below a folder. */
  resolve(path: string): Array<{ stagePath: string; origin: FileOrigin }> {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (entry.path === path) return [{ stagePath: path, origin: entry.origin }];
      if (isUnder(path, entry.path)) {
        const rest = path.slice(entry.path.length + (entry.path === '/' ? 0 : 1));
        if (entry.origin.kind === 'context') return [{ stagePath: path, origin: { kind: 'context', path: posix.join(entry.origin.path, rest) } }];
        // What a download step leaves below a folder is known only when it runs: the build checks the path then.
        if (entry.origin.kind === 'download') return [{ stagePath: path, origin: entry.origin }];
        if (entry.origin.kind === 'cargo' && entry.origin.bin === undefined && !rest.includes('/')) return [{ stagePath: path, origin: { ...entry.origin, bin: rest } }];
      }
    }
    const below = this.entries.filter((e) => isUnder(e.path, path));
    // Later entries at the same path win.
    const latest = new Map<string, StageEntry>();
    for (const e of below) latest.set(e.path, e);
    return [...latest.values()].map((e) => ({ stagePath: e.path, origin: e.origin }));
  }

  /** Where a context folder of the stage holds `path`: the context-relative path, if a COPY put it there. */
  contextPathOf(path: string): string | undefined {
    const found = this.resolve(path);
    return found.length === 1 && found[0].origin.kind === 'context' ? found[0].origin.path : undefined;
  }
}

export function planStages(options: PlanStagesOptions): StagePlan {
  const { parsed, target } = options;
  const escape = parsed.escape;
  const predefined = predefinedArgs(target);
  const globals = globalArgValues(parsed, options.buildArgs, predefined);
  const blockers: NativeBlocker[] = [];
  const labels = parsed.stages.map(stageLabel);
  const files = new Map<string, StageFiles>();
  const used = new Set<string>();
  const items = new Map<string, ResolvedItem>();
  const finalIndex = parsed.stages.length - 1;

  const stageIndexOf = (name: string, before: number): number | undefined => {
    const lower = name.toLowerCase();
    const index = /^\d+$/.test(lower) ? Number(lower) : labels.lastIndexOf(lower, before - 1);
    return index >= 0 && index < before ? index : undefined;
  };

  /** Reads stage `index` (once): its files, or blockers that say why it cannot be read. */
  const readStage = (index: number): StageFiles | undefined => {
    const label = labels[index];
    if (files.has(label)) return files.get(label);
    const stage = parsed.stages[index];
    const model = new StageFiles();
    files.set(label, model);
    let runsOnBuild = stage.rawPlatform !== undefined && BUILD_PLATFORM.test(stage.rawPlatform.trim());
    const args = new Map<string, string>();
    let env = new Map<string, string>();
    let workdir = '/';
    const block = (line: number, instruction: string, reason: string, needsTargetPlatform = false, fatal = false) =>
      blockers.push({ line, instruction, reason: `stage ${stage.stageName ?? index}: ${reason}`, needsTargetPlatform, ...(fatal ? { fatal } : {}) });
    // `FROM <earlier stage>` starts from that stage's files, WORKDIR, ENV and platform, as BuildKit does (ARGs are not inherited).
    const parentIndex = stageIndexOf(processWord(stage.rawImage, chainLookup(globals, predefined), escape), index);
    if (parentIndex !== undefined) {
      const before = blockers.length;
      const parent = readStage(parentIndex);
      if (!parent || blockers.length > before) return undefined;
      model.entries.push(...parent.entries);
      workdir = parent.workdir;
      env = new Map(parent.env);
      if (stage.rawPlatform === undefined) runsOnBuild = parent.runsOnBuild;
    }
    const lookup = chainLookup(env, args);
    const word = (raw: string) => processWord(raw, lookup, escape);
    for (const instruction of stage.instructions) {
      switch (instruction.kind) {
        case 'ARG':
          for (const arg of instruction.args) {
            const value = Object.prototype.hasOwnProperty.call(options.buildArgs, arg.name)
              ? options.buildArgs[arg.name]
              : arg.rawDefault !== undefined
                ? word(arg.rawDefault)
                : (globals.get(arg.name) ?? predefined.get(arg.name));
            if (value !== undefined) args.set(arg.name, value);
          }
          break;
        case 'ENV':
          for (const [name, value] of instruction.pairs.map((p) => [p.rawName, word(p.rawValue)] as const)) env.set(name, value);
          break;
        case 'WORKDIR':
          workdir = posix.resolve(workdir, word(instruction.raw));
          break;
        case 'COPY':
        case 'ADD': {
          const rawDest = word(instruction.rawDest);
          const dest = posix.resolve(workdir, rawDest);
          const destIsDir = rawDest.endsWith('/') || instruction.rawSources.length > 1;
          for (const rawSource of instruction.rawSources) {
            const source = word(rawSource);
            if (instruction.flags.from !== undefined) {
              const fromIndex = stageIndexOf(word(instruction.flags.from), index);
              if (fromIndex === undefined) {
                block(instruction.line, 'COPY', `COPY --from=${instruction.flags.from} names an image, not an earlier stage; the plugin copies only from stages it can read`);
                continue;
              }
              const from = readStage(fromIndex);
              const found = from?.resolve(posix.resolve('/', source)) ?? [];
              for (const f of found) model.add(destIsDir || found.length > 1 ? posix.join(dest, posix.basename(f.stagePath)) : dest, f.origin);
              continue;
            }
            if (/[*?[]/.test(source) || /^(https?:\/\/|git@)/.test(source)) {
              // A glob or a URL: nothing the final stage could copy back is modelled for it.
              continue;
            }
            const contextPath = posix.normalize(source.replace(/^\/+/, '')).replace(/^\.$/, '').replace(/\/$/, '');
            // A source the plugin stages itself (artifacts) is not in the context yet; a trailing slash says it is a folder.
            const kind = options.probe(contextPath) ?? (source.endsWith('/') ? 'dir' : undefined);
            model.add(kind === 'dir' || !(destIsDir || rawDest.endsWith('/')) ? dest : posix.join(dest, posix.basename(contextPath)), { kind: 'context', path: contextPath });
          }
          break;
        }
        case 'RUN': {
          const outcome = refuseOrInterpretRun(instruction, { runsOn: runsOnBuild ? 'build' : 'target', stageName: stage.stageName, escape, target, lookup, workdir, downloads: options.downloads });
          if (outcome.kind === 'fetch') {
            // Downloads served from workspace packages run no code, on either platform.
            for (const path of fetchOutputs(outcome.steps)) model.add(path, { kind: 'download', steps: outcome.steps, line: instruction.line });
            break;
          }
          if (!runsOnBuild) {
            const reason = outcome.kind === 'refuse' && outcome.download ? outcome.reason : 'RUN in a stage without FROM --platform=$BUILDPLATFORM runs on the target platform (emulation for a foreign arch); build on $BUILDPLATFORM and cross-compile instead';
            block(instruction.line, 'RUN', reason, true);
            break;
          }
          if (outcome.kind === 'refuse') {
            block(instruction.line, 'RUN', outcome.reason, false, outcome.fatal === true);
            break;
          }
          if (outcome.kind !== 'build-steps') break; // idioms come only out of target-platform stages
          for (const effect of outcome.effects) applyEffect(effect, instruction.line, model, block);
          break;
        }
        default:
          // LABEL, CMD, USER, EXPOSE and the like change nothing another stage can copy.
          break;
      }
    }
    model.workdir = workdir;
    model.env = env;
    model.runsOnBuild = runsOnBuild;
    return model;
  };

  const applyEffect = (
    effect: BuildEffect,
    line: number,
    model: StageFiles,
    block: (line: number, instruction: string, reason: string, needsTargetPlatform?: boolean, fatal?: boolean) => void,
  ): void => {
    switch (effect.kind) {
      case 'dependencies':
        // The project's cross target fetches its dependencies itself (go mod download / cargo fetch, once, under a lock).
        return;
      case 'go-build':
        for (const dir of effect.packages) {
          const packageDir = model.contextPathOf(dir);
          if (packageDir === undefined) {
            block(line, 'RUN', `go build builds ${dir}, which no COPY from the build context put in the stage`, false, true);
            return;
          }
          model.add(effect.outputIsDir ? posix.join(effect.output, posix.basename(dir)) : effect.output, { kind: 'go', packageDir, line });
        }
        return;
      case 'cargo-build': {
        const cwd = model.contextPathOf(effect.cwd);
        if (cwd === undefined) {
          block(line, 'RUN', `cargo build runs in ${effect.cwd}, which no COPY from the build context put in the stage`, false, true);
          return;
        }
        if (effect.bins.length === 0) model.add(effect.outputDir, { kind: 'cargo', ...(effect.crate ? { crate: effect.crate } : {}), cwd, line });
        for (const bin of effect.bins) model.add(posix.join(effect.outputDir, bin), { kind: 'cargo', ...(effect.crate ? { crate: effect.crate } : {}), cwd, bin, line });
        return;
      }
      case 'copy': {
        const found = model.resolve(effect.from);
        if (found.length === 0) {
          block(line, 'RUN', `${effect.move ? 'mv' : 'cp'} ${effect.from}: nothing the plugin models is there`);
          return;
        }
        const intoDir = effect.to.endsWith('/') || model.entries.some((e) => isUnder(e.path, effect.to.replace(/\/$/, '')));
        const to = effect.to.replace(/\/$/, '') || '/';
        for (const f of found) model.add(intoDir || found.length > 1 ? posix.join(to, posix.basename(f.stagePath)) : to, f.origin);
        return;
      }
    }
  };

  const instructions: StageInstruction[] = [];
  for (const instruction of parsed.instructions) {
    if (instruction.kind !== 'COPY' || instruction.flags.from === undefined) {
      instructions.push(instruction);
      continue;
    }
    const fromName = processWord(instruction.flags.from, chainLookup(globals, predefined), escape);
    const fromIndex = stageIndexOf(fromName, finalIndex);
    if (fromIndex === undefined) {
      blockers.push({ line: instruction.line, instruction: 'COPY', reason: `COPY --from=${fromName} names an image, not an earlier stage; the plugin copies only from stages it can read` });
      instructions.push(instruction);
      continue;
    }
    const label = labels[fromIndex];
    used.add(label);
    const before = blockers.length;
    const model = readStage(fromIndex);
    if (!model || blockers.length > before) {
      instructions.push(instruction);
      continue;
    }
    const rawSources: string[] = [];
    for (const rawSource of instruction.rawSources) {
      // The final stage's own scope is not known here; build stages name outputs with literal paths in practice.
      const source = posix.resolve('/', processWord(rawSource, chainLookup(globals, predefined), escape));
      const found = model.resolve(source);
      if (found.length === 0) {
        const known = model.entries.filter((e) => e.origin.kind !== 'context').map((e) => `${e.path} (${describeOrigin(e.origin)})`);
        blockers.push({
          line: instruction.line,
          instruction: 'COPY',
          reason: `COPY --from=${fromName} ${rawSource}: no step of stage ${fromName} produces ${source}${known.length > 0 ? `; it produces ${known.join(', ')}` : ''}`,
          fatal: true,
        });
        continue;
      }
      for (const f of found) items.set(`${label}\0${f.stagePath}`, { stage: label, stagePath: f.stagePath, origin: f.origin });
      rawSources.push(`${STAGED_ROOT}/${label}${source === '/' ? '' : source}${rawSource.endsWith('/') ? '/' : ''}`);
    }
    if (rawSources.length === instruction.rawSources.length) {
      const { from: _from, ...flags } = instruction.flags;
      instructions.push({ ...instruction, flags, rawSources });
    } else {
      instructions.push(instruction);
    }
  }
  return { instructions, items: [...items.values()], blockers, usedStages: [...used] };
}

/** The compile steps (go/cargo origins) among the items, for the graph and the log. */
export function compiledItems(plan: StagePlan): ResolvedItem[] {
  return plan.items.filter((item) => item.origin.kind !== 'context');
}

export { describeOrigin };
