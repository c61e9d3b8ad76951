import type { PlatformSpec } from '../platform/platforms';
import { readRun, type BuildEffect } from './compile-step';
import type { RunInstruction } from './parse';
import type { ShellLookup } from './shell-words';
import { readRunIdioms, type RunStep } from './run-idioms';
import { matchDownload, type DownloadMap } from './download-map';
import { recogniseFetchRun, type FetchStep } from './fetch-steps';

/**
 * The one place that decides what a RUN line means to the plugin. Every RUN
 * the native path meets comes through `refuseOrInterpretRun`:
 *
 * - in a stage that runs on the build machine (`FROM --platform=$BUILDPLATFORM`),
 *   a compile or dependency step the workspace's cross targets do instead
 *   (compile-step.ts);
 * - in a stage that runs on the target platform (the final stage, or any stage
 *   without a build-platform FROM), nothing yet: such a RUN would execute
 *   target code, so it is refused unless it is made of idioms that need no
 *   target code (package installs, setcap, touch, chmod, mkdir, ln;
 *   run-idioms.ts), which the native engine carries out on the stage's files.
 *
 * In either kind of stage, a download step (curl/wget, sha256sum -c, tar -x:
 * fetch-steps.ts) whose every URL the `downloads` option maps to a workspace
 * target is a `fetch`: the native engine serves it from that target's
 * package, so no code runs at all. A download nothing maps is refused with
 * the entry to add.
 */

export interface RunContext {
  /** Where the stage's RUN lines execute: the build machine, or the target platform. */
  runsOn: 'build' | 'target';
  stageName?: string;
  escape: string;
  /** For build-machine stages: the target arch being built, the stage's variables at the line, and its WORKDIR. */
  target?: PlatformSpec;
  lookup?: ShellLookup;
  workdir?: string;
  /** Target-platform stages: the stage starts FROM scratch (package installs are carried out only there). */
  fromScratch?: boolean;
  /** The downloads option: URL pattern → workspace target (absent: every download is refused). */
  downloads?: DownloadMap;
}

export type RunOutcome =
  /** Compile/dependency steps (build-machine stages only), in order. */
  | { kind: 'build-steps'; effects: BuildEffect[] }
  /** Target-platform stages: idioms the native engine carries out without running target code, in order. */
  | { kind: 'idioms'; steps: RunStep[] }
  | { kind: 'refuse'; reason: string; fatal?: boolean; /** The refusal is about a download (its reason is the one to show, in any stage). */ download?: boolean }
  /** Download steps, every URL mapped to a workspace package (image/native/fetch-files.ts runs them). */
  | { kind: 'fetch'; steps: FetchStep[] };

/**
 * A download step, read with the stage's variables when known, else with
 * them left as written (`${VERSION}`, which a `*` pattern matches; the build
 * reads the line again with values). Undefined when the line downloads nothing.
 */
function readFetch(command: string, context: RunContext): RunOutcome | undefined {
  const lookup = context.lookup ?? ((name: string) => `\${${name}}`);
  const fetch = recogniseFetchRun(command, context.workdir ?? '/', lookup, context.lookup === undefined);
  if (fetch.kind === 'none') return undefined;
  if (fetch.kind === 'refused') return { kind: 'refuse', reason: `RUN downloads, but not as a step the plugin can serve from the workspace: ${fetch.reason}`, fatal: true, download: true };
  const missing = fetch.urls.find((url) => !matchDownload(url, context.downloads ?? {}));
  if (missing !== undefined) return { kind: 'refuse', reason: `RUN downloads ${missing} at build time, and no downloads entry maps it to a workspace target`, download: true };
  return { kind: 'fetch', steps: fetch.steps };
}

const TARGET_RUN_REASON = 'RUN in a stage of the target platform runs target code (a container of the target arch, i.e. emulation for a foreign arch), and this command is not an idiom the plugin applies without running it';

export function refuseOrInterpretRun(run: RunInstruction, context: RunContext): RunOutcome {
  if (run.otherFlags.length > 0 && context.runsOn === 'build') {
    return { kind: 'refuse', reason: `RUN ${run.otherFlags.join(' ')}: the plugin does not model that flag` };
  }
  const fetch = run.form.form === 'shell' ? readFetch(run.form.command, context) : undefined;
  if (fetch) return fetch;
  if (context.runsOn === 'target') {
    if (run.otherFlags.length > 0 || run.mounts.length > 0) {
      return { kind: 'refuse', reason: `${TARGET_RUN_REASON} (RUN ${[...run.otherFlags, ...run.mounts.map((m) => `--mount=${m}`)].join(' ')})` };
    }
    const idioms = readRunIdioms({
      line: run.line,
      command: run.form.form === 'exec' ? run.form.argv : run.form.command,
      escape: context.escape,
      workdir: context.workdir ?? '/',
      // Before the values are known (engine choice), each $NAME stands for a placeholder word.
      lookup: context.lookup ?? ((name) => `x${name.toLowerCase().replace(/_/g, '-')}`),
      fromScratch: context.fromScratch ?? true,
    });
    return 'steps' in idioms ? { kind: 'idioms', steps: idioms.steps } : { kind: 'refuse', reason: `${TARGET_RUN_REASON}: ${idioms.reason}` };
  }
  if (run.form.form === 'exec') {
    return { kind: 'refuse', reason: 'RUN in exec form in a build stage: write the compile step in shell form (RUN go build ...)' };
  }
  if (!context.target || !context.lookup || context.workdir === undefined) {
    return { kind: 'refuse', reason: 'RUN in a build stage is read only for a given target arch' };
  }
  const reading = readRun({ command: run.form.command, lookup: context.lookup, workdir: context.workdir, target: context.target });
  return reading.ok ? { kind: 'build-steps', effects: reading.effects } : { kind: 'refuse', reason: reading.reason, fatal: reading.fatal };
}
