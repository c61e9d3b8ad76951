import { posix } from 'node:path';
import { MultiarchError } from '../errors';
import type { VariableLookup } from './substitute';
import { expandShellWord, tokenizeShell } from './shell-words';

/**
 * The RUN lines a target-platform stage may hold without running target code
 * (the way apko builds images): package installs, `setcap`, and the small
 * file commands `touch`, `chmod`, `mkdir`, `ln`, chained with `&&` or `;`.
 * This module only reads the shell text into steps (pure); the native engine
 * carries them out on the stage's files (image/native/run-steps.ts).
 *
 * The shell is read by shell-words.ts (words, quotes, escapes, `$VAR` and
 * `${VAR...}` from the stage's ARG and ENV). Pipes, redirections, `||`,
 * command substitution and globs are refused: they mean a program would have
 * to run.
 */

/** One Linux capability set as two 32-bit words (capabilities 0-31, 32-63), as vfs_cap_data stores it. */
export interface CapabilitySet {
  low: number;
  high: number;
}

/** What `setcap <caps> <file>` asks for, per file. */
export interface FileCapabilities {
  permitted: CapabilitySet;
  inheritable: CapabilitySet;
  /** The one effective bit of file capabilities: raise the permitted set at exec. */
  effective: boolean;
}

export type RunStep =
  | { kind: 'noop'; command: string }
  | { kind: 'apt-install'; packages: string[]; installRecommends: boolean }
  | { kind: 'touch'; paths: string[] }
  | { kind: 'chmod'; mode: string; paths: string[] }
  | { kind: 'mkdir'; paths: string[]; parents: boolean; mode?: number }
  | { kind: 'ln'; symbolic: boolean; force: boolean; target: string; link: string }
  | { kind: 'setcap'; files: Array<{ path: string; capabilities: FileCapabilities; text: string }> };

/** Why apt-get install over a base image is left to a container (the native engine installs only into FROM scratch). */
export const APT_NEEDS_SCRATCH =
  "apt-get install is carried out without emulation only in a stage FROM scratch (the native engine does not read a base image's installed packages or its folder layout)";

/** The RUN forms this module understands, for hints. */
export const SUPPORTED_RUN_IDIOMS = [
  'apt-get update',
  'apt-get install [-y] [--no-install-recommends] <debian packages>',
  'setcap <caps> <file> [<caps> <file>...]',
  'touch <file>...',
  'chmod <mode> <path>...',
  'mkdir [-p] [-m <mode>] <dir>...',
  'ln [-s] [-f] <target> <link>',
  'rm -rf /var/lib/apt/lists/* (and apt-get clean): no-ops, nothing is left behind',
];

/** Why a RUN line is not an idiom, and the ways out. */
export function runRefusal(line: number, command: string, reason: string): MultiarchError {
  return new MultiarchError(
    `Line ${line}: RUN ${command.length > 120 ? `${command.slice(0, 117)}...` : command}: ${reason}. The native engine runs no target code, and this is not one of the RUN idioms it carries out without running it.`,
    [
      `Ways out: (1) write it with the supported idioms (${SUPPORTED_RUN_IDIOMS.join('; ')}), chained with &&;`,
      '(2) move that work into a cross target (go-cross/cargo-cross) and COPY its output;',
      '(3) use engine "docker" for this image, which runs RUN under emulation for foreign arches.',
    ].join(' '),
  );
}

class NotAnIdiom extends Error {}

interface Word {
  text: string;
  /** An unquoted `*`, `?` or `[`: the shell would expand it against files. */
  glob: boolean;
}

/** Operators that chain commands the way the idioms need: each one runs, in order. */
const SEPARATORS = new Set(['&&', ';', '\n']);

const OPERATOR_MEANING: Record<string, string> = {
  '||': 'a pipe or ||',
  '|': 'a pipe or ||',
  '&': 'a background job',
  '(': 'a subshell',
  ')': 'a subshell',
  ';;': 'a case block',
};

/** The characters of a raw word outside quotes (escaped ones dropped): where redirections and globs would show. */
function unquoted(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === '\\') i++;
    else if (ch === "'") i = raw.indexOf("'", i + 1) < 0 ? raw.length : raw.indexOf("'", i + 1);
    else if (ch === '"') {
      let j = i + 1;
      while (j < raw.length && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      i = j;
    } else out += ch;
  }
  return out;
}

/**
 * Splits shell text into commands (lists of expanded words) at `&&`, `;` and
 * newlines, with the shell reading of shell-words.ts (quotes, `$VAR`,
 * `${VAR:-default}` and the other parameter forms it knows).
 */
function tokenize(text: string, lookup: VariableLookup, escape: string): Word[][] {
  // A Dockerfile line continuation (escape + newline) joins lines.
  const source = text.split(`${escape}\n`).join('').split(`${escape}\r\n`).join('');
  const commands: Word[][] = [];
  let words: Word[] = [];
  for (const token of tokenizeShell(source)) {
    if (token.kind === 'op') {
      if (!SEPARATORS.has(token.op)) throw new NotAnIdiom(OPERATOR_MEANING[token.op] ?? `the shell operator ${token.op}`);
      if (words.length > 0) commands.push(words);
      words = [];
      continue;
    }
    const bare = unquoted(token.raw);
    if (/[<>]/.test(bare)) throw new NotAnIdiom('a redirection');
    const expanded = expandShellWord(token.raw, lookup);
    if (expanded.dynamic) throw new NotAnIdiom(`"${token.raw}" needs command substitution or a shell expansion the plugin does not evaluate`);
    words.push({ text: expanded.value, glob: /[*?[]/.test(bare.replace(/\$\{[^}]*\}/g, '')) });
  }
  if (words.length > 0) commands.push(words);
  return commands;
}

/** Capability numbers, from linux/capability.h. */
const CAPABILITIES: readonly string[] = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace',
  'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write',
  'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
];

function withCap(set: CapabilitySet, cap: number, on: boolean): CapabilitySet {
  const bit = 2 ** (cap % 32);
  const word = cap < 32 ? set.low : set.high;
  const next = on ? (word | bit) >>> 0 : (word & ~bit) >>> 0;
  return cap < 32 ? { ...set, low: next } : { ...set, high: next };
}

/**
 * libcap's text form (cap_from_text): clauses like `cap_net_raw,cap_net_admin+eip`,
 * `cap_net_bind_service=ep`, `all=ep`; operators `=`, `+`, `-`; flags e, i, p.
 */
export function parseCapabilityText(text: string): FileCapabilities {
  let permitted: CapabilitySet = { low: 0, high: 0 };
  let inheritable: CapabilitySet = { low: 0, high: 0 };
  let effective: CapabilitySet = { low: 0, high: 0 };
  const clauses = text.trim().split(/\s+/).filter(Boolean);
  if (clauses.length === 0) throw new NotAnIdiom(`setcap: "${text}" names no capabilities`);
  for (const clause of clauses) {
    const match = /^([a-z_0-9,]*)((?:[=+-][eip]*)+)$/i.exec(clause);
    if (!match) throw new NotAnIdiom(`setcap: "${clause}" is not a capability clause like cap_net_raw,cap_net_admin+eip`);
    const names = match[1] === '' ? ['all'] : match[1].toLowerCase().split(',');
    const caps: number[] = [];
    for (const name of names) {
      if (name === 'all') caps.push(...CAPABILITIES.map((_, n) => n));
      else {
        const n = CAPABILITIES.indexOf(name.replace(/^cap_/, ''));
        if (n < 0 || !name.startsWith('cap_')) throw new NotAnIdiom(`setcap: "${name}" is not a Linux capability`);
        caps.push(n);
      }
    }
    for (const action of match[2].match(/[=+-][eip]*/gi) ?? []) {
      const op = action[0];
      const flags = action.slice(1).toLowerCase();
      const apply = (set: CapabilitySet, flag: string): CapabilitySet => {
        let out = set;
        for (const cap of caps) {
          if (op === '=') out = withCap(out, cap, flags.includes(flag));
          else if (flags.includes(flag)) out = withCap(out, cap, op === '+');
        }
        return out;
      };
      permitted = apply(permitted, 'p');
      inheritable = apply(inheritable, 'i');
      effective = apply(effective, 'e');
    }
  }
  return { permitted, inheritable, effective: effective.low !== 0 || effective.high !== 0 };
}

const APT_QUIET_FLAGS = new Set(['-y', '--yes', '--assume-yes', '-q', '-qq', '--quiet', '--no-install-suggests', '--no-install-recommends', '--install-recommends', '-o']);

function aptGet(args: string[], command: string): RunStep {
  const [sub, ...rest] = args;
  if (sub === 'update' || sub === 'clean' || sub === 'autoclean') return { kind: 'noop', command };
  if (sub !== 'install') throw new NotAnIdiom(`apt-get ${sub ?? ''} is not supported (only update, install and clean are)`);
  let installRecommends = true;
  const packages: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i];
    if (word === '--no-install-recommends') installRecommends = false;
    else if (word === '--install-recommends') installRecommends = true;
    else if (word === '-o') throw new NotAnIdiom('apt-get -o options are not supported');
    else if (/^-[yq]+$/.test(word) || APT_QUIET_FLAGS.has(word)) continue;
    else if (word.startsWith('-')) throw new NotAnIdiom(`apt-get install ${word} is not supported`);
    else if (!/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/.test(word)) throw new NotAnIdiom(`"${word}" is not a Debian package name (name or name=version)`);
    else packages.push(word);
  }
  if (packages.length === 0) throw new NotAnIdiom('apt-get install names no packages');
  return { kind: 'apt-install', packages, installRecommends };
}

/** `rm` of apt's caches: nothing the native engine leaves behind, so a no-op; any other rm is refused. */
const NOOP_RM_PATHS = /^\/(var\/lib\/apt\/lists|var\/cache\/apt|var\/cache\/apt\/archives|tmp|var\/tmp)(\/\*|\/\*\.deb|\/)?$/;

function stepOf(words: Word[], workdir: string): RunStep {
  const command = words.map((w) => w.text).join(' ');
  const [program, ...rest] = words;
  const args = rest.map((w) => w.text);
  const abs = (path: string) => posix.resolve(workdir, path);
  const noGlobs = () => {
    const glob = rest.find((w) => w.glob);
    if (glob) throw new NotAnIdiom(`"${glob.text}" is a glob, which the native engine does not expand`);
  };
  const paths = (list: string[], what: string) => {
    if (list.length === 0) throw new NotAnIdiom(`${what} names no path`);
    return list.map(abs);
  };
  switch (program.text) {
    case 'set':
    case 'true':
    case ':':
      return { kind: 'noop', command };
    case 'apt-get':
    case 'apt':
      noGlobs();
      return aptGet(args, command);
    case 'apk':
      throw new NotAnIdiom(
        "apk installs Alpine packages, which the native engine does not install (Alpine's repositories are not its source); write apt-get install -y --no-install-recommends with the Debian names instead (Alpine's iptables is Debian's iptables, libcap is libcap2-bin, and setcap needs no package here)",
      );
    case 'rm': {
      const targets = args.filter((a) => !/^-[rfRv]+$/.test(a));
      if (targets.length > 0 && targets.every((t) => NOOP_RM_PATHS.test(t))) return { kind: 'noop', command };
      throw new NotAnIdiom('rm is only supported for apt\'s caches (rm -rf /var/lib/apt/lists/*), which the native engine never writes');
    }
    case 'touch':
      noGlobs();
      if (args.some((a) => a.startsWith('-'))) throw new NotAnIdiom('touch options are not supported');
      return { kind: 'touch', paths: paths(args, 'touch') };
    case 'chmod': {
      noGlobs();
      const operands = args.filter((a) => a !== '--');
      if (operands.some((a) => /^-[A-Za-z]/.test(a))) throw new NotAnIdiom('chmod options (-R and others) are not supported');
      const [mode, ...targets] = operands;
      if (!mode || !/^([0-7]{1,4}|([ugoa]*[-+=][rwxXst]*)(,[ugoa]*[-+=][rwxXst]*)*)$/.test(mode)) throw new NotAnIdiom(`chmod: "${mode ?? ''}" is not a mode`);
      return { kind: 'chmod', mode, paths: paths(targets, 'chmod') };
    }
    case 'mkdir': {
      noGlobs();
      let parents = false;
      let mode: number | undefined;
      const targets: string[] = [];
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === '-p' || a === '--parents') parents = true;
        else if (a === '-m' || a.startsWith('-m') || a.startsWith('--mode=')) {
          const value = a === '-m' ? args[++i] : a.startsWith('--mode=') ? a.slice(7) : a.slice(2);
          if (!/^[0-7]{3,4}$/.test(value ?? '')) throw new NotAnIdiom(`mkdir -m ${value ?? ''}: only octal modes are supported`);
          mode = parseInt(value, 8);
        } else if (a.startsWith('-')) throw new NotAnIdiom(`mkdir ${a} is not supported`);
        else targets.push(a);
      }
      return { kind: 'mkdir', paths: paths(targets, 'mkdir'), parents, ...(mode !== undefined ? { mode } : {}) };
    }
    case 'ln': {
      noGlobs();
      let symbolic = false;
      let force = false;
      const operands: string[] = [];
      for (const a of args) {
        if (/^-[sfnT]+$/.test(a)) {
          if (a.includes('s')) symbolic = true;
          if (a.includes('f')) force = true;
        } else if (a === '--symbolic') symbolic = true;
        else if (a === '--force') force = true;
        else if (a.startsWith('-')) throw new NotAnIdiom(`ln ${a} is not supported`);
        else operands.push(a);
      }
      if (operands.length !== 2) throw new NotAnIdiom('ln is supported with exactly a target and a link name');
      // A symlink's target is stored as written; a hard link's names a path in the image.
      return { kind: 'ln', symbolic, force, target: symbolic ? operands[0] : abs(operands[0]), link: abs(operands[1]) };
    }
    case 'setcap': {
      noGlobs();
      const operands = args.filter((a) => a !== '-q');
      if (operands.some((a) => a.startsWith('-') && a !== '-')) throw new NotAnIdiom('setcap options other than -q are not supported');
      if (operands.length === 0 || operands.length % 2 !== 0) {
        throw new NotAnIdiom('setcap takes pairs of <caps> <file> (setcap cap_net_raw+ep /a cap_net_raw+ep /b)');
      }
      const files: Array<{ path: string; capabilities: FileCapabilities; text: string }> = [];
      for (let i = 0; i < operands.length; i += 2) {
        files.push({ path: abs(operands[i + 1]), capabilities: parseCapabilityText(operands[i]), text: operands[i] });
      }
      return { kind: 'setcap', files };
    }
    default:
      throw new NotAnIdiom(`${program.text} is a program that would have to run on the target platform`);
  }
}

export interface RunIdiomInput {
  line: number;
  /** Shell form: the text after RUN. Exec form: the argv. */
  command: string | string[];
  /** ARG and ENV values visible to the RUN (unset names expand to empty, as in sh). */
  lookup: VariableLookup;
  escape: string;
  /** The stage's WORKDIR at the RUN: relative paths are resolved against it. */
  workdir: string;
}

function shownCommand(command: string | string[]): string {
  return typeof command === 'string' ? command.replace(/\\\r?\n\s*/g, '').trim() : JSON.stringify(command);
}

/**
 * The steps of one RUN line, or why it is not an idiom (the caller words the
 * refusal: run-step.ts, the one seam for RUN lines). Over a base image a
 * package install is not an idiom: the native engine installs only into a
 * stage FROM scratch.
 */
export function readRunIdioms(input: RunIdiomInput & { fromScratch?: boolean }): { steps: RunStep[] } | { reason: string } {
  try {
    const commands =
      typeof input.command === 'string'
        ? tokenize(input.command, input.lookup, input.escape)
        : [input.command.map((text) => ({ text, glob: false }))];
    if (commands.length === 0) throw new NotAnIdiom('it runs nothing');
    const steps = commands.map((words) => stepOf(words, input.workdir));
    if (input.fromScratch === false && steps.some((step) => step.kind === 'apt-install')) return { reason: APT_NEEDS_SCRATCH };
    return { steps };
  } catch (e) {
    if (e instanceof NotAnIdiom) return { reason: e.message };
    throw e;
  }
}

/** The steps of one RUN line, or a MultiarchError naming the line and the ways out. */
export function parseRunIdioms(input: RunIdiomInput & { fromScratch?: boolean }): RunStep[] {
  const result = readRunIdioms(input);
  if ('reason' in result) throw runRefusal(input.line, shownCommand(input.command), result.reason);
  return result.steps;
}
