import { MultiarchError } from '../errors';
import { dockerEngine } from './docker/engine';
import type { NativeBlocker } from '../dockerfile/parse';
import type { BuildEngine } from './common/engine';
import { nativeEngine } from './native/engine';

/**
 * The engines docker-arch-build can use, by name, and the choice `auto`
 * makes: native whenever the Dockerfile's final stage has nothing native
 * cannot do (it is daemonless and several times faster), docker otherwise.
 */
export type EngineName = 'native' | 'docker';
export type EngineChoice = EngineName | 'auto';

export const ENGINE_CHOICES: readonly EngineChoice[] = ['native', 'docker', 'auto'];

export type EngineRegistry = Readonly<Record<EngineName, BuildEngine>>;

export const DEFAULT_ENGINES: EngineRegistry = { native: nativeEngine, docker: dockerEngine };

export function parseEngineChoice(value: string | undefined): EngineChoice {
  const choice = (value ?? 'auto').trim().toLowerCase();
  if (!(ENGINE_CHOICES as readonly string[]).includes(choice)) {
    throw new MultiarchError(`Unknown engine "${value}".`, `Use one of: ${ENGINE_CHOICES.join(', ')}.`);
  }
  return choice as EngineChoice;
}

export interface ChosenEngine {
  engine: BuildEngine;
  /** Why this engine, for the log. */
  reason: string;
  /** The build runs code of a foreign arch under emulation (said in the log). */
  emulation: boolean;
}

export interface EngineChoiceContext {
  /** The user opted in to emulation (`allowEmulation: true`). */
  allowEmulation?: boolean;
  /** The target arch is the build machine's: a target-platform RUN then needs no emulation. */
  targetIsHost?: boolean;
  /** The target arch, for messages. */
  arch?: string;
  dockerfileName?: string;
}

/** The ways out of a refusal, in one place. */
export const EMULATION_WAYS_OUT =
  'Either restructure: do that work in a FROM --platform=$BUILDPLATFORM stage with go build/cargo build (the plugin maps them to go-cross/cargo-cross) and COPY --from its output; ' +
  'or opt in to emulation: allowEmulation: true on the docker-arch-build target (engine "auto" then uses docker for it), or engine "docker".';

/**
 * `auto` takes native whenever it can. It takes docker only where docker needs
 * no emulation (the blocking lines run on the build machine, or the target is
 * the build machine's arch), or where the user opted in with allowEmulation;
 * otherwise the blocking lines are refused, each with its line.
 */
export function chooseEngine(
  choice: EngineChoice,
  blockers: readonly NativeBlocker[],
  engines: EngineRegistry = DEFAULT_ENGINES,
  context: EngineChoiceContext = {},
): ChosenEngine {
  const foreign = context.targetIsHost ? [] : blockers.filter((b) => b.needsTargetPlatform);
  const arch = context.arch ?? 'the target arch';
  if (choice === 'docker') {
    const emulation = foreign.length > 0;
    return {
      engine: engines.docker,
      reason: `engine docker was asked for${emulation ? `; line ${foreign[0].line} (${foreign[0].instruction}) runs ${arch} code under emulation` : ''}`,
      emulation,
    };
  }
  if (choice === 'native') return { engine: engines.native, reason: 'engine native was asked for', emulation: false };
  const fatal = blockers.filter((b) => b.fatal);
  if (fatal.length > 0) {
    throw new MultiarchError(
      `${context.dockerfileName ?? 'The Dockerfile'} cannot be built for ${arch}:\n${fatal.map((b) => `  line ${b.line}: ${b.instruction}: ${b.reason}`).join('\n')}`,
      'Fix those lines: a build stage\'s go build needs GOARCH=$TARGETARCH and -o <path>, a cargo build --release --target <triple for $TARGETARCH>, and COPY --from names what a stage produces.',
    );
  }
  if (blockers.length === 0) return { engine: engines.native, reason: 'auto: every stage is understood without running it', emulation: false };
  if (foreign.length === 0) {
    const first = blockers[0];
    return { engine: engines.docker, reason: `auto: line ${first.line} (${first.instruction}) needs the docker engine; no emulation (it runs on the build machine's arch)`, emulation: false };
  }
  if (context.allowEmulation) {
    return { engine: engines.docker, reason: `auto: line ${foreign[0].line} (${foreign[0].instruction}) runs ${arch} code: the docker engine under EMULATION, because allowEmulation is set`, emulation: true };
  }
  const lines = blockers.map((b) => `  line ${b.line}: ${b.instruction}: ${b.reason}`).join('\n');
  throw new MultiarchError(
    `${context.dockerfileName ?? 'The Dockerfile'} cannot be built for ${arch} without emulation, and engine "auto" never emulates unasked:\n${lines}`,
    EMULATION_WAYS_OUT,
  );
}
