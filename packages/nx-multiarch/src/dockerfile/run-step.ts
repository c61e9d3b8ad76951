import type { PlatformSpec } from '../platform/platforms';
import { readRun, type BuildEffect } from './compile-step';
import type { RunInstruction } from './parse';
import type { ShellLookup } from './shell-words';

/**
 * The one place that decides what a RUN line means to the plugin. Every RUN
 * the native path meets comes through `refuseOrInterpretRun`:
 *
 * - in a stage that runs on the build machine (`FROM --platform=$BUILDPLATFORM`),
 *   a compile or dependency step the workspace's cross targets do instead
 *   (compile-step.ts);
 * - in a stage that runs on the target platform (the final stage, or any stage
 *   without a build-platform FROM), nothing yet: such a RUN would execute
 *   target code, so it is refused. Idioms that need no target code (package
 *   installs, setcap, chmod...) are to be recognised here, returning their
 *   own outcome kind.
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
}

export type RunOutcome =
  /** Compile/dependency steps (build-machine stages only), in order. */
  | { kind: 'build-steps'; effects: BuildEffect[] }
  | { kind: 'refuse'; reason: string; fatal?: boolean };

const TARGET_RUN_REASON = 'RUN in a stage of the target platform runs target code (a container of the target arch, i.e. emulation for a foreign arch), and this command is not an idiom the plugin applies without running it';

export function refuseOrInterpretRun(run: RunInstruction, context: RunContext): RunOutcome {
  if (run.otherFlags.length > 0 && context.runsOn === 'build') {
    return { kind: 'refuse', reason: `RUN ${run.otherFlags.join(' ')}: the plugin does not model that flag` };
  }
  if (context.runsOn === 'target') return { kind: 'refuse', reason: TARGET_RUN_REASON };
  if (run.form.form === 'exec') {
    return { kind: 'refuse', reason: 'RUN in exec form in a build stage: write the compile step in shell form (RUN go build ...)' };
  }
  if (!context.target || !context.lookup || context.workdir === undefined) {
    return { kind: 'refuse', reason: 'RUN in a build stage is read only for a given target arch' };
  }
  const reading = readRun({ command: run.form.command, lookup: context.lookup, workdir: context.workdir, target: context.target });
  return reading.ok ? { kind: 'build-steps', effects: reading.effects } : { kind: 'refuse', reason: reading.reason, fatal: reading.fatal };
}
