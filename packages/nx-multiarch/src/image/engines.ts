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
}

export function chooseEngine(choice: EngineChoice, blockers: readonly NativeBlocker[], engines: EngineRegistry = DEFAULT_ENGINES): ChosenEngine {
  if (choice !== 'auto') return { engine: engines[choice], reason: `engine ${choice} was asked for` };
  if (blockers.length === 0) return { engine: engines.native, reason: 'auto: the final stage needs no container' };
  const first = blockers[0];
  return { engine: engines.docker, reason: `auto: line ${first.line} (${first.instruction}) needs the docker engine` };
}
