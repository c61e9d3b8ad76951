import { MultiarchError } from '../errors';
import type { ImageConfig } from '../oci/types';
import type { ProcessOverrides, ProcessSpec } from './types';

/** Docker's PATH for an image that sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const SIGNAL_NUMBERS: Readonly<Record<string, NodeJS.Signals>> = {
  '1': 'SIGHUP',
  '2': 'SIGINT',
  '3': 'SIGQUIT',
  '9': 'SIGKILL',
  '10': 'SIGUSR1',
  '12': 'SIGUSR2',
  '15': 'SIGTERM',
};

/** `SIGTERM`, `TERM` or `15` to a signal name Node's kill() takes. */
export function parseStopSignal(value: string | undefined): NodeJS.Signals {
  if (!value) return 'SIGTERM';
  const upper = value.trim().toUpperCase();
  if (SIGNAL_NUMBERS[upper]) return SIGNAL_NUMBERS[upper];
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (/^SIG[A-Z0-9]+$/.test(name)) return name as NodeJS.Signals;
  throw new MultiarchError(`The image's StopSignal "${value}" is not a signal.`, 'Set STOPSIGNAL to a name such as SIGTERM in the Dockerfile.');
}

function envKey(pair: string): string {
  const at = pair.indexOf('=');
  return at < 0 ? pair : pair.slice(0, at);
}

/**
 * The command line, environment and working folder of a container started
 * from `config`, by Docker's rules: an entrypoint override drops the image's
 * Cmd; `args` replaces Cmd; env overrides win over the image's Env; PATH and
 * HOME get Docker's defaults when the image sets none.
 */
export function processSpec(config: ImageConfig, overrides: ProcessOverrides = {}): ProcessSpec {
  const body = config.config ?? {};
  const entrypoint = overrides.entrypoint ?? body.Entrypoint ?? [];
  const cmd = overrides.args ?? (overrides.entrypoint ? [] : (body.Cmd ?? []));
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) {
    throw new MultiarchError('The image has no Entrypoint or Cmd, and no command was given.', 'Pass entrypoint or args to startImage, or set ENTRYPOINT in the Dockerfile.');
  }
  const env = new Map<string, string>();
  for (const pair of body.Env ?? []) env.set(envKey(pair), pair);
  if (!env.has('PATH')) env.set('PATH', `PATH=${DEFAULT_PATH}`);
  if (!env.has('HOME')) env.set('HOME', 'HOME=/');
  for (const [key, value] of Object.entries(overrides.env ?? {})) env.set(key, `${key}=${value}`);
  const workdir = overrides.workdir ?? (body.WorkingDir || '/');
  if (!workdir.startsWith('/')) {
    throw new MultiarchError(`Working directory "${workdir}" is not absolute.`, 'Give an absolute path inside the image, such as /app.');
  }
  return { argv, env: [...env.values()], workdir, stopSignal: parseStopSignal(body.StopSignal) };
}

/** The environment pairs as an object, for spawn(). */
export function envObject(pairs: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at > 0) result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}
