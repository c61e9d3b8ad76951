import { posix } from 'node:path';
import { MultiarchError } from '../errors';
import type { HistoryEntry, ImageConfig, ImageConfigBody } from '../oci/types';
import { hostArch, PLATFORMS, platformString, type OciPlatform, type PlatformSpec } from '../platform/platforms';
import type { ArgDeclaration, CommandForm, ParsedDockerfile, StageInstruction } from './parse';
import { SUPPORTED_RUN_IDIOMS, type RunStep } from './run-idioms';
import { chainLookup, processWord, processWords, type VariableLookup } from './substitute';
import { epochToRfc3339 } from '../util/source-date-epoch';
import { addUrlStep, isUrl, type FetchStep } from './fetch-steps';
import { refuseOrInterpretRun } from './run-step';
import type { DownloadMap } from './download-map';

/**
 * Evaluates the final stage of a parsed Dockerfile the way Docker does,
 * without touching the file system: variable scopes (global ARG, stage ARG,
 * ENV, the predefined TARGET and BUILD args), the image config each
 * instruction changes, and the list of files to add. Pure, so it is tested
 * on its own; the native engine then reads the context and writes the layer.
 */

/** Docker's PATH for Linux images when the base sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Owner {
  uid: number;
  gid: number;
}

/** One COPY or ADD, with every variable substituted and the destination made absolute. */
export interface CopyOperation {
  op: 'copy';
  line: number;
  keyword: 'COPY' | 'ADD';
  /** Sources as written, relative to the build context (globs allowed). */
  sources: string[];
  /** Absolute destination in the image. */
  dest: string;
  /** The destination is a folder: it ends with `/` (or `/.`). */
  destIsDir: boolean;
  chmod?: number;
  owner?: Owner;
}

/** A folder WORKDIR creates, as BuildKit does. */
export interface MkdirOperation {
  op: 'mkdir';
  line: number;
  path: string;
  owner?: Owner;
}

/** A RUN made of idioms the native engine carries out on the stage's files (dockerfile/run-idioms.ts). */
export interface RunOperation {
  op: 'run';
  line: number;
  steps: RunStep[];
}


/** A RUN line read as a download step, or ADD <url>: served from workspace packages (image/native/fetch-files.ts). */
export interface FetchOperation {
  op: 'fetch';
  line: number;
  keyword: 'RUN' | 'ADD';
  steps: FetchStep[];
}

export type FileOperation = CopyOperation | MkdirOperation | RunOperation | FetchOperation;

export interface EvaluatedStage {
  config: ImageConfigBody;
  author?: string;
  fileOperations: FileOperation[];
  /** One entry per instruction that changes the image; all marked empty_layer (the layer's own entry is added by the engine). */
  history: HistoryEntry[];
}

/** The TARGET* and BUILD* args BuildKit defines, for the target and the machine running the build. */
export function predefinedArgs(target: PlatformSpec): Map<string, string> {
  const build = PLATFORMS[hostArch()].oci;
  const describe = (prefix: string, p: OciPlatform): Array<[string, string]> => [
    [`${prefix}PLATFORM`, platformString(p)],
    [`${prefix}OS`, p.os],
    [`${prefix}ARCH`, p.architecture],
    [`${prefix}VARIANT`, p.variant ?? ''],
  ];
  return new Map([...describe('TARGET', target.oci), ...describe('BUILD', build)]);
}

/** Values of the global ARGs (before the first FROM): build args override defaults. */
export function globalArgValues(parsed: ParsedDockerfile, buildArgs: Readonly<Record<string, string>>, predefined: ReadonlyMap<string, string>): Map<string, string> {
  const values = new Map<string, string>();
  for (const arg of parsed.globalArgs) {
    const value = argValue(arg, buildArgs, chainLookup(values, predefined), parsed.escape);
    if (value !== undefined) values.set(arg.name, value);
  }
  return values;
}

function argValue(arg: ArgDeclaration, buildArgs: Readonly<Record<string, string>>, lookup: VariableLookup, escape: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(buildArgs, arg.name)) return buildArgs[arg.name];
  return arg.rawDefault === undefined ? undefined : processWord(arg.rawDefault, lookup, escape);
}

export interface EvaluatedFrom {
  image: string;
  platform?: string;
}

/** The final stage's FROM, substituted with the global scope (global ARGs and the predefined args). */
export function evaluateFrom(parsed: ParsedDockerfile, buildArgs: Readonly<Record<string, string>>, target: PlatformSpec): EvaluatedFrom {
  const predefined = predefinedArgs(target);
  const lookup = chainLookup(globalArgValues(parsed, buildArgs, predefined), predefined);
  const image = processWord(parsed.from.rawImage, lookup, parsed.escape);
  if (image === '') {
    throw new MultiarchError(
      `FROM on line ${parsed.from.line} (${parsed.from.rawImage}) names no image after substitution.`,
      'Give the ARG it uses a default or pass it in buildArgs.',
    );
  }
  if (parsed.earlierStageNames.includes(image.toLowerCase())) {
    throw new MultiarchError(
      `FROM ${image} on line ${parsed.from.line} starts from an earlier stage, which the native engine does not build.`,
      'Use engine "docker" for this image, or make the earlier stage a cross target and COPY its output.',
    );
  }
  if (parsed.from.rawPlatform === undefined) return { image };
  return { image, platform: processWord(parsed.from.rawPlatform, lookup, parsed.escape) };
}

function parseOwner(value: string, line: number): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) {
    throw new MultiarchError(
      `Line ${line}: --chown=${value} names a user or group by name; the native engine takes numeric ids only.`,
      'Write --chown=<uid>:<gid> with numbers (e.g. --chown=65532:65532), or use engine "docker", which reads /etc/passwd of the base.',
    );
  }
  const uid = Number(match[1]);
  // Docker: a uid without a gid uses the same number as the gid.
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

function parseChmod(value: string, line: number): number {
  if (!/^[0-7]{3,4}$/.test(value)) {
    throw new MultiarchError(`Line ${line}: --chmod=${value} is not an octal mode.`, 'Write --chmod with octal digits, e.g. --chmod=755.');
  }
  return parseInt(value, 8);
}

/** A numeric USER (`65532` or `65532:65532`) as an owner, for the folders WORKDIR creates. */
function ownerOfUser(user: string | undefined): Owner | undefined {
  if (!user) return undefined;
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match) return undefined;
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? 0 : Number(match[2]) };
}

/** EXPOSE words: `80`, `80/udp`, `8000-8002/tcp` to `80/tcp` style keys. */
function exposedPorts(word: string, line: number): string[] {
  const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
  if (!match) throw new MultiarchError(`Line ${line}: EXPOSE ${word} is not a port.`, 'Write EXPOSE <port>[/<protocol>], e.g. EXPOSE 4143/tcp.');
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  const protocol = (match[3] ?? 'tcp').toLowerCase();
  if (first < 1 || last > 65535 || last < first || last - first > 1024) {
    throw new MultiarchError(`Line ${line}: EXPOSE ${word} is not a valid port or range.`, 'Use ports 1 to 65535, ranges of at most 1024 ports.');
  }
  const ports: string[] = [];
  for (let port = first; port <= last; port++) ports.push(`${port}/${protocol}`);
  return ports;
}

function command(form: CommandForm, shell: readonly string[]): string[] {
  return form.form === 'exec' ? form.argv : [...shell, form.command];
}

export interface EvaluateOptions {
  parsed: ParsedDockerfile;
  buildArgs: Readonly<Record<string, string>>;
  target: PlatformSpec;
  /** The base image's config; undefined for FROM scratch. */
  baseConfig?: ImageConfig;
  sourceDateEpoch: number;
  /** The downloads option: download steps whose URLs it maps are served from workspace packages. */
  downloads?: DownloadMap;
}

/** Evaluates every instruction of the final stage after its FROM. */
export function evaluateStage(options: EvaluateOptions): EvaluatedStage {
  const { parsed, buildArgs, target } = options;
  const escape = parsed.escape;
  const predefined = predefinedArgs(target);
  const globals = globalArgValues(parsed, buildArgs, predefined);
  const base = options.baseConfig?.config ?? {};
  const config: ImageConfigBody = JSON.parse(JSON.stringify(base)) as ImageConfigBody;
  const env = new Map<string, string>();
  for (const entry of config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  const args = new Map<string, string>();
  // ENV shadows ARG, as Docker documents.
  const lookup = chainLookup(env, args);
  const word = (raw: string) => processWord(raw, lookup, escape);
  let shell: string[] = ['/bin/sh', '-c'];
  let cmdSetInStage = false;
  let author = options.baseConfig?.author;
  const fileOperations: FileOperation[] = [];
  const history: HistoryEntry[] = [];
  const created = epochToRfc3339(options.sourceDateEpoch);
  const record = (createdBy: string) => history.push({ created, created_by: createdBy, comment: 'nx-multiarch native', empty_layer: true });

  for (const instruction of options.parsed.instructions) {
    applyInstruction(instruction);
  }

  function applyInstruction(instruction: StageInstruction): void {
    switch (instruction.kind) {
      case 'ARG':
        for (const arg of instruction.args) {
          let value = argValue(arg, buildArgs, lookup, escape);
          if (value === undefined) value = globals.get(arg.name) ?? predefined.get(arg.name);
          if (value !== undefined) args.set(arg.name, value);
        }
        return;
      case 'ENV': {
        // Every value of one ENV sees the variables as they were before it.
        const values = instruction.pairs.map((p) => [p.rawName, word(p.rawValue)] as const);
        for (const [name, value] of values) env.set(name, value);
        config.Env = [...env].map(([name, value]) => `${name}=${value}`);
        record(`ENV ${values.map(([n, v]) => `${n}=${v}`).join(' ')}`);
        return;
      }
      case 'LABEL': {
        const values = instruction.pairs.map((p) => [word(p.rawName), word(p.rawValue)] as const);
        config.Labels = { ...(config.Labels ?? {}) };
        for (const [name, value] of values) config.Labels[name] = value;
        record(`LABEL ${values.map(([n, v]) => `${n}=${v}`).join(' ')}`);
        return;
      }
      case 'COPY':
      case 'ADD': {
        if (instruction.flags.from !== undefined) {
          throw new MultiarchError(
            `Line ${instruction.line}: COPY --from=${instruction.flags.from} copies out of another stage or image, which was not resolved to a workspace output.`,
            'Build the stage it names with a go build/cargo build the plugin maps (FROM --platform=$BUILDPLATFORM ... AS <name>), or set allowEmulation: true / engine "docker".',
          );
        }
        const allSources = instruction.rawSources.map(word);
        const rawDest = word(instruction.rawDest);
        const destIsDir = rawDest.endsWith('/') || rawDest.endsWith('/.') || rawDest === '.';
        const dest = posix.resolve(config.WorkingDir || '/', rawDest);
        const urls = instruction.kind === 'ADD' ? allSources.filter(isUrl) : [];
        if (urls.length > 0) fileOperations.push({ op: 'fetch', line: instruction.line, keyword: 'ADD', steps: urls.map((url) => addUrlStep(url, dest, destIsDir || urls.length > 1)) });
        const sources = allSources.filter((s) => !urls.includes(s));
        if (sources.length === 0) {
          record(`${instruction.kind} ${allSources.join(' ')} ${rawDest}`);
          return;
        }
        const copy: CopyOperation = { op: 'copy', line: instruction.line, keyword: instruction.kind, sources, dest, destIsDir };
        if (instruction.flags.chmod !== undefined) copy.chmod = parseChmod(word(instruction.flags.chmod), instruction.line);
        if (instruction.flags.chown !== undefined) copy.owner = parseOwner(word(instruction.flags.chown), instruction.line);
        fileOperations.push(copy);
        record(`${instruction.kind} ${sources.join(' ')} ${rawDest}`);
        return;
      }
      case 'CMD':
        config.Cmd = command(instruction, shell);
        cmdSetInStage = true;
        record(`CMD ${JSON.stringify(config.Cmd)}`);
        return;
      case 'ENTRYPOINT':
        config.Entrypoint = command(instruction, shell);
        // Docker: an ENTRYPOINT resets a CMD inherited from the base image.
        if (!cmdSetInStage) delete config.Cmd;
        record(`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`);
        return;
      case 'SHELL':
        shell = instruction.argv;
        record(`SHELL ${JSON.stringify(shell)}`);
        return;
      case 'USER':
        config.User = word(instruction.raw);
        record(`USER ${config.User}`);
        return;
      case 'WORKDIR': {
        const path = posix.resolve(config.WorkingDir || '/', word(instruction.raw));
        config.WorkingDir = path;
        if (path !== '/') {
          const owner = ownerOfUser(config.User);
          fileOperations.push({ op: 'mkdir', line: instruction.line, path, ...(owner ? { owner } : {}) });
        }
        record(`WORKDIR ${path}`);
        return;
      }
      case 'STOPSIGNAL':
        config.StopSignal = word(instruction.raw);
        record(`STOPSIGNAL ${config.StopSignal}`);
        return;
      case 'MAINTAINER':
        author = word(instruction.raw);
        record(`MAINTAINER ${author}`);
        return;
      case 'EXPOSE': {
        const words = processWords(instruction.rawWords.join(' '), lookup, escape);
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
        for (const w of words) for (const port of exposedPorts(w, instruction.line)) config.ExposedPorts[port] = {};
        record(`EXPOSE ${words.join(' ')}`);
        return;
      }
      case 'VOLUME': {
        const words = instruction.rawWords.flatMap((w) => processWords(w, lookup, escape));
        config.Volumes = { ...(config.Volumes ?? {}) };
        for (const volume of words) config.Volumes[volume] = {};
        record(`VOLUME ${JSON.stringify(words)}`);
        return;
      }
      case 'RUN': {
        const outcome = refuseOrInterpretRun(instruction, {
          runsOn: 'target',
          escape,
          lookup,
          workdir: config.WorkingDir || '/',
          fromScratch: options.baseConfig === undefined,
          downloads: options.downloads,
        });
        if (outcome.kind === 'fetch') {
          fileOperations.push({ op: 'fetch', line: instruction.line, keyword: 'RUN', steps: outcome.steps });
          record(`RUN ${instruction.form.form === 'shell' ? instruction.form.command : JSON.stringify(instruction.form.argv)}`);
          return;
        }
        if (outcome.kind !== 'idioms') {
          throw new MultiarchError(
            `Line ${instruction.line}: RUN: ${outcome.kind === 'refuse' ? outcome.reason : 'a compile step in a stage of the target platform'}.`,
            `Write it with the idioms the native engine carries out without running target code (${SUPPORTED_RUN_IDIOMS.join('; ')}), chained with &&; or set allowEmulation: true (or engine "docker") to run it in a container of the target arch; or move that work into a build stage (FROM --platform=$BUILDPLATFORM) whose go build/cargo build the plugin maps to go-cross/cargo-cross; a download the workspace builds is mapped with the downloads option.`,
          );
        }
        fileOperations.push({ op: 'run', line: instruction.line, steps: outcome.steps });
        const text = instruction.form.form === 'exec' ? JSON.stringify(instruction.form.argv) : instruction.form.command.replace(/\s+/g, ' ').trim();
        record(`RUN ${text}`);
        return;
      }
      case 'UNSUPPORTED':
        throw new MultiarchError(
          `Line ${instruction.line}: ${instruction.keyword}: ${instruction.reason}.`,
          'Use engine "docker" for this image, or move that work into a cross target and COPY its output.',
        );
    }
  }

  if (!config.Env || !config.Env.some((e) => e.startsWith('PATH='))) {
    config.Env = [...env].map(([name, value]) => `${name}=${value}`);
  }
  return { config, ...(author ? { author } : {}), fileOperations, history };
}

