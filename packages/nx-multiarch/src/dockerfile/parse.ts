import { readFile } from 'node:fs/promises';
import { DockerfileParser, Instruction, ModifiableInstruction, PropertyInstruction } from 'dockerfile-ast';
import { MultiarchError } from '../errors';
import { matchDownload, type DownloadMap } from './download-map';
import { isUrl } from './fetch-steps';
import { refuseOrInterpretRun } from './run-step';

/**
 * The Dockerfile as the native engine sees it: the global ARGs, the names of
 * the stages, and the final stage's instructions in typed form. Parsing is
 * dockerfile-ast's (continuations, escape directive, flags, properties);
 * this module only turns its nodes into plain data with 1-based line numbers.
 * Values stay raw (quotes, `$VAR`): substitution needs the build's variables
 * and happens when the stage is evaluated.
 */

export interface ArgDeclaration {
  name: string;
  /** The default as written (quotes kept), or undefined for `ARG NAME`. */
  rawDefault?: string;
}

export interface KeyValue {
  rawName: string;
  rawValue: string;
}

export interface CopyFlags {
  chmod?: string;
  chown?: string;
  /** `--from=<stage or image>`, as written: the native engine needs it resolved (image/stage-outputs.ts) before it can copy. */
  from?: string;
}

/** CMD, ENTRYPOINT: exec form is a JSON array; shell form is the text as written. */
export type CommandForm = { form: 'exec'; argv: string[] } | { form: 'shell'; command: string };

export type StageInstruction =
  | { kind: 'ARG'; line: number; args: ArgDeclaration[] }
  | { kind: 'ENV' | 'LABEL'; line: number; pairs: KeyValue[] }
  | { kind: 'COPY' | 'ADD'; line: number; flags: CopyFlags; rawSources: string[]; rawDest: string }
  | ({ kind: 'CMD' | 'ENTRYPOINT'; line: number } & CommandForm)
  | { kind: 'SHELL'; line: number; argv: string[] }
  | RunInstruction
  | { kind: 'USER' | 'WORKDIR' | 'STOPSIGNAL' | 'MAINTAINER'; line: number; raw: string }
  | { kind: 'EXPOSE' | 'VOLUME'; line: number; rawWords: string[] }
  | { kind: 'UNSUPPORTED'; line: number; keyword: string; reason: string };

/**
 * A RUN line. What it means (a compile step, a dependency download, an idiom
 * the native engine can apply, or a refusal) is decided in one place,
 * `refuseOrInterpretRun` (run-step.ts).
 */
export interface RunInstruction {
  kind: 'RUN';
  line: number;
  /** Shell form: the command text with continuations joined; exec form: the argv. */
  form: CommandForm;
  /** `--mount=...` values as written (caches and secrets change no output the plugin models). */
  mounts: string[];
  /** Any other flag (`--network`, `--security`), which the plugin does not model. */
  otherFlags: string[];
}

export interface FromInstruction {
  line: number;
  /** The image as written, before substitution (`scratch`, `${BASE}`, `oci-layout://...`). */
  rawImage: string;
  rawPlatform?: string;
  stageName?: string;
}

/** Every stage in outline: what the docker engine checks before a build (bases it cannot read, RUN lines that need emulation). */
export interface StageOutline {
  /** 1-based line of the stage's FROM. */
  fromLine: number;
  /** The image as written, before substitution. */
  rawImage: string;
  /** The FROM's --platform value, as written. */
  rawPlatform?: string;
  stageName?: string;
  /** 1-based lines of the stage's RUN instructions. */
  runLines: number[];
  /** The stage's instructions after its FROM, typed as for the final stage. */
  instructions: StageInstruction[];
}

/**
 * A Dockerfile parsed once (by docker-arch-build, before it picks an engine)
 * and carried on the build request: every stage in outline, the final
 * stage's instructions in full.
 */
export interface ParsedDockerfile {
  /** How messages name the file (workspace-relative path). */
  name: string;
  escape: string;
  /** ARGs before the first FROM: usable in FROM lines, and in a stage after `ARG NAME`. */
  globalArgs: ArgDeclaration[];
  /** Lower-case names of the stages before the final one (`FROM ... AS name`). */
  earlierStageNames: string[];
  /** Number of stages; the final one is the image. */
  stageCount: number;
  from: FromInstruction;
  instructions: StageInstruction[];
  /** Every stage, the final one last. */
  stages: StageOutline[];
}

/** Something in the final stage the native engine cannot do without a container. */
export interface NativeBlocker {
  line: number;
  instruction: string;
  reason: string;
  /**
   * True when building this line as written needs code of the target
   * platform to run (a RUN in a target-platform stage): the docker engine
   * could do it only under emulation, which `auto` never picks unasked.
   */
  needsTargetPlatform?: boolean;
  /**
   * True when the line is wrong as the plugin reads it, whichever engine
   * builds it: a COPY --from of a path no stage produces, a go build or
   * cargo build that does not build for the target arch or whose output
   * cannot be named. `auto` refuses these instead of handing them to docker.
   */
  fatal?: boolean;
}

/** Why each instruction the native engine does not run is refused. */
const UNSUPPORTED_REASONS: Record<string, string> = {
  ONBUILD: 'ONBUILD triggers run in a later build, which the native engine does not model',
  HEALTHCHECK: 'HEALTHCHECK is not written by the native engine',
};

const SUPPORTED_COPY_FLAGS = new Set(['chmod', 'chown', 'link']);

function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

/** Exec form when the arguments are a JSON array of strings, as Docker decides. */
function parseJsonArray(content: string | null): string[] | undefined {
  const text = (content ?? '').trim();
  if (!text.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
  } catch {
    // Not JSON: Docker then takes the text as shell form.
  }
  return undefined;
}

function properties(instruction: PropertyInstruction): KeyValue[] {
  return instruction.getProperties().map((p) => ({ rawName: p.getName(), rawValue: p.getUnescapedValue() ?? '' }));
}

function argDeclarations(instruction: PropertyInstruction): ArgDeclaration[] {
  const words = instruction.getArguments().map((a) => a.getValue());
  // `ARG A B=2 C` declares three (BuildKit reads it so); dockerfile-ast sees one property there.
  if (words.length > 1 && instruction.getProperties().length === 1) {
    return words.map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? { name: w } : { name: w.slice(0, eq), rawDefault: w.slice(eq + 1) };
    });
  }
  return instruction.getProperties().map((p) => {
    const raw = p.getUnescapedValue();
    return raw === null ? { name: p.getName() } : { name: p.getName(), rawDefault: raw };
  });
}

function parseCopy(instruction: ModifiableInstruction, keyword: 'COPY' | 'ADD'): StageInstruction {
  const line = lineOf(instruction);
  const flags: CopyFlags = {};
  for (const flag of instruction.getFlags()) {
    const name = flag.getName();
    if (name === 'from' && keyword === 'COPY') {
      flags.from = flag.getValue() ?? '';
      continue;
    }
    if (name === 'from') return { kind: 'UNSUPPORTED', line, keyword, reason: 'ADD has no --from' };
    if (!SUPPORTED_COPY_FLAGS.has(name)) {
      return { kind: 'UNSUPPORTED', line, keyword, reason: `${keyword} --${name} is not supported by the native engine` };
    }
    if (name === 'chmod') flags.chmod = flag.getValue() ?? '';
    if (name === 'chown') flags.chown = flag.getValue() ?? '';
    // --link changes only how BuildKit caches the layer, not its content.
  }
  const content = instruction.getArgumentsContent();
  if (/(^|\s)<<-?["']?[A-Za-z_]/.test(content ?? '')) {
    return { kind: 'UNSUPPORTED', line, keyword, reason: `${keyword} with a here-document is not supported by the native engine` };
  }
  const words = parseJsonArray(content) ?? instruction.getArguments().map((a) => a.getValue());
  if (words.length < 2) {
    throw new MultiarchError(`Line ${line}: ${keyword} needs at least one source and a destination.`, `Write ${keyword} <src>... <dest>.`);
  }
  return { kind: keyword, line, flags, rawSources: words.slice(0, -1), rawDest: words[words.length - 1] };
}

function parseCommand(instruction: Instruction, keyword: 'CMD' | 'ENTRYPOINT'): StageInstruction {
  const line = lineOf(instruction);
  const content = instruction.getArgumentsContent();
  const argv = parseJsonArray(content);
  if (argv) return { kind: keyword, line, form: 'exec', argv };
  return { kind: keyword, line, form: 'shell', command: (content ?? '').trim() };
}

function parseRun(instruction: ModifiableInstruction): RunInstruction {
  const line = lineOf(instruction);
  const content = instruction.getArgumentsContent() ?? '';
  const argv = parseJsonArray(content);
  const mounts: string[] = [];
  const otherFlags: string[] = [];
  for (const flag of instruction.getFlags()) {
    if (flag.getName() === 'mount') mounts.push(flag.getValue() ?? '');
    else otherFlags.push(`--${flag.getName()}${flag.getValue() === null ? '' : `=${flag.getValue()}`}`);
  }
  return { kind: 'RUN', line, form: argv ? { form: 'exec', argv } : { form: 'shell', command: content.trim() }, mounts, otherFlags };
}

function parseInstruction(instruction: Instruction): StageInstruction {
  const keyword = instruction.getKeyword().toUpperCase();
  const line = lineOf(instruction);
  const raw = (instruction.getArgumentsContent() ?? '').trim();
  switch (keyword) {
    case 'ARG':
      return { kind: 'ARG', line, args: argDeclarations(instruction as PropertyInstruction) };
    case 'ENV':
    case 'LABEL':
      return { kind: keyword, line, pairs: properties(instruction as PropertyInstruction) };
    case 'COPY':
    case 'ADD':
      return parseCopy(instruction as ModifiableInstruction, keyword);
    case 'CMD':
    case 'ENTRYPOINT':
      return parseCommand(instruction, keyword);
    case 'RUN':
      return parseRun(instruction as ModifiableInstruction);
    case 'SHELL': {
      const argv = parseJsonArray(raw);
      if (!argv || argv.length === 0) {
        throw new MultiarchError(`Line ${line}: SHELL must be a JSON array, e.g. SHELL ["/bin/sh", "-c"].`, 'Write the shell in exec form.');
      }
      return { kind: 'SHELL', line, argv };
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      return { kind: keyword, line, raw };
    case 'EXPOSE':
      return { kind: 'EXPOSE', line, rawWords: instruction.getArguments().map((a) => a.getValue()) };
    case 'VOLUME':
      return { kind: 'VOLUME', line, rawWords: parseJsonArray(raw) ?? instruction.getArguments().map((a) => a.getValue()) };
    default:
      return {
        kind: 'UNSUPPORTED',
        line,
        keyword,
        reason: UNSUPPORTED_REASONS[keyword] ?? `${keyword} is not an instruction the native engine knows`,
      };
  }
}

/** Parses a Dockerfile's text; `name` is used in error messages. */
export function parseDockerfile(text: string, name = 'Dockerfile'): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  const all = dockerfile.getInstructions();
  const fromIndexes = all.map((instruction, i) => (instruction.getKeyword().toUpperCase() === 'FROM' ? i : -1)).filter((i) => i >= 0);
  if (fromIndexes.length === 0) {
    throw new MultiarchError(`${name} has no FROM instruction.`, 'Start the final stage with FROM scratch, FROM <registry>/<repo>:<tag> or FROM oci-layout://<path>.');
  }
  const firstFrom = fromIndexes[0];
  const lastFrom = fromIndexes[fromIndexes.length - 1];
  const globalArgs: ArgDeclaration[] = [];
  for (const instruction of all.slice(0, firstFrom)) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword !== 'ARG') {
      throw new MultiarchError(
        `${name} line ${lineOf(instruction)}: ${keyword} comes before the first FROM; only ARG may.`,
        'Move it after FROM.',
      );
    }
    globalArgs.push(...argDeclarations(instruction as PropertyInstruction));
  }
  const froms = dockerfile.getFROMs();
  const finalFrom = froms[froms.length - 1];
  const fromArgs = finalFrom.getArguments().map((a) => a.getValue());
  if (fromArgs.length === 0) throw new MultiarchError(`${name} line ${lineOf(finalFrom)}: FROM names no image.`, 'Write FROM <image>.');
  const platformFlag = finalFrom.getPlatformFlag();
  const stageName = finalFrom.getBuildStage();
  const stages: StageOutline[] = froms.map((from, i) => {
    const start = fromIndexes[i];
    const end = i + 1 < fromIndexes.length ? fromIndexes[i + 1] : all.length;
    const flag = from.getPlatformFlag()?.getValue();
    const name = from.getBuildStage();
    return {
      fromLine: lineOf(from),
      rawImage: from.getArguments()[0]?.getValue() ?? '',
      ...(flag ? { rawPlatform: flag } : {}),
      ...(name ? { stageName: name } : {}),
      runLines: all
        .slice(start + 1, end)
        .filter((instruction) => instruction.getKeyword().toUpperCase() === 'RUN')
        .map(lineOf),
      instructions: all.slice(start + 1, end).map(parseInstruction),
    };
  });
  return {
    name,
    escape: dockerfile.getEscapeCharacter(),
    globalArgs,
    earlierStageNames: froms
      .slice(0, -1)
      .map((f) => f.getBuildStage())
      .filter((s): s is string => !!s)
      .map((s) => s.toLowerCase()),
    stageCount: froms.length,
    from: {
      line: lineOf(finalFrom),
      rawImage: fromArgs[0],
      ...(platformFlag ? { rawPlatform: platformFlag.getValue() ?? '' } : {}),
      ...(stageName ? { stageName } : {}),
    },
    instructions: stages[stages.length - 1].instructions,
    stages,
  };
}

/**
 * Reads and parses the Dockerfile at `path`; `label` names it in messages
 * (workspace-relative), `project` says whose target to fix. The one place a
 * missing Dockerfile is reported.
 */
export async function loadDockerfile(path: string, label: string, project?: string): Promise<ParsedDockerfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new MultiarchError(
      `Dockerfile not found: ${label}${project ? ` (project ${project})` : ''}.`,
      `Create ${label}, or set the dockerfile option of ${project ? `${project}'s` : 'the'} docker-arch-build target.`,
    );
  }
  return parseDockerfile(text, label);
}

/**
 * Everything in the final stage the native engine cannot build. Empty means
 * engine `auto` picks native. The base is checked again after substitution
 * (a `${BASE}` that names a stage is found then).
 */
export function nativeBlockers(parsed: ParsedDockerfile, downloads: DownloadMap = {}): NativeBlocker[] {
  const blockers: NativeBlocker[] = [];
  if (parsed.earlierStageNames.includes(parsed.from.rawImage.toLowerCase())) {
    blockers.push({ line: parsed.from.line, instruction: 'FROM', reason: `FROM ${parsed.from.rawImage} starts from an earlier stage, which needs that stage built` });
  }
  for (const instruction of parsed.instructions) {
    if (instruction.kind === 'UNSUPPORTED') {
      blockers.push({ line: instruction.line, instruction: instruction.keyword, reason: instruction.reason });
    } else if (instruction.kind === 'RUN') {
      const fromScratch = parsed.from.rawImage.toLowerCase() === 'scratch';
      const outcome = refuseOrInterpretRun(instruction, { runsOn: 'target', stageName: parsed.from.stageName, escape: parsed.escape, fromScratch, downloads });
      if (outcome.kind === 'refuse') blockers.push({ line: instruction.line, instruction: 'RUN', reason: outcome.reason, needsTargetPlatform: true });
    } else if (instruction.kind === 'COPY' && instruction.flags.from !== undefined) {
      blockers.push({
        line: instruction.line,
        instruction: 'COPY',
        reason: `COPY --from=${instruction.flags.from} copies out of another stage or image, and no compile step of a build stage was resolved for it`,
      });
    } else if (instruction.kind === 'ADD' && instruction.rawSources.some((s) => /^git@/.test(s) || (isUrl(s) && !matchDownload(s, downloads)))) {
      blockers.push({ line: instruction.line, instruction: 'ADD', reason: 'ADD from a URL or git repository downloads at build time (a URL the downloads option maps to a workspace target is served from its package)' });
    }
  }
  return blockers;
}

/** The error the native engine gives for blockers: the lines, and the two ways out. */
export function nativeBlockersError(blockers: readonly NativeBlocker[], dockerfileName: string): MultiarchError {
  const lines = blockers.map((b) => `  line ${b.line}: ${b.instruction}: ${b.reason}`).join('\n');
  const downloads = blockers.some((b) => b.reason.includes('no downloads entry maps'))
    ? ' For a download the workspace builds, map it once: "downloads": { "<file pattern, * for any text>": "<project>:<cargo-cross|go-cross>" } in the target or plugin options.'
    : '';
  return new MultiarchError(
    `The native engine cannot build ${dockerfileName}:\n${lines}`,
    `Restructure: do that work in a FROM --platform=$BUILDPLATFORM stage with go build/cargo build (mapped to go-cross/cargo-cross) and COPY --from its output; or opt in to emulation: allowEmulation: true (engine "auto" then uses docker), or engine "docker".${downloads}`,
  );
}
