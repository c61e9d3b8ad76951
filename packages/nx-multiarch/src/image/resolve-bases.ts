import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { formatError, MultiarchError } from '../errors';
import { sha256Digest } from '../oci/digest';
import { parseArch } from '../platform/parse-arch';
import { PLATFORMS, type Arch } from '../platform/platforms';
import { loadDockerfile } from '../dockerfile/parse';
import { evaluateFrom } from '../dockerfile/evaluate-stage';
import { RegistryClient } from '../registry';
import { cliOptions } from '../util/cli-options';
import { parseBaseReference } from './native/base-image';
import { baseCandidates, validateBaseSourceOptions, type BaseSourceOptions } from './native/base-resolve';

/**
 * `nx-multiarch resolve-bases`: one line per FROM base of the final stage,
 * `<image> <digest>`, for Nx to hash as a `runtime` input of
 * docker-arch-build. When a tag moves, the line changes, so the next run
 * is a cache miss and the image is rebuilt on the new base (a cache hit can
 * never ship a base older than what the tag names now).
 *
 * It must be fast, since Nx runs it whenever it hashes the task: one
 * manifest HEAD per distinct base (candidates in the build's order: a
 * substitute, the mirrors, the registry), 3 s each, no retries; a base
 * pinned by digest and `scratch` need no request, an `oci-layout://` base
 * is the sha256 of its index.json. A base that cannot be reached prints
 * `<image> unresolved` (and the command still exits 0): the hash then
 * differs from every online run, so the build runs and says what is wrong.
 *
 * Options come from where the executor gets them: the nx-multiarch plugin
 * options in nx.json, then the target's options in the project's
 * project.json (dockerfile, context, buildArgs, registryMirrors, baseImages,
 * insecureRegistries).
 */
export const RESOLVE_BASES_HELP = `Usage: nx-multiarch resolve-bases --project-root <path> [options]

Prints "<image> <digest>" for the base image of a project's Dockerfile (one
line per distinct base over the arches), the value the docker-arch-build
target hashes as a runtime input. One HEAD request per base, 3 s at most;
an unreachable base prints "<image> unresolved".

Options:
  --project-root <path>  the project folder, relative to the workspace root
  --target <name>        the docker-arch-build target in project.json (default docker-arch-build)
  --arch <a,b,...>       the arches whose FROM lines to evaluate (default amd64)
  -h, --help             show this text
`;

const HEAD_TIMEOUT_MS = 3000;

interface TargetOptions extends BaseSourceOptions {
  dockerfile?: string;
  context?: string;
  buildArgs?: Record<string, string>;
  insecureRegistries?: string[];
}

interface PluginEntry {
  plugin?: string;
  options?: Record<string, unknown>;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The plugin options, then the target's own options over them, as Nx merges inferred and declared options. */
async function targetOptions(workspaceRoot: string, projectRoot: string, target: string, arch: string): Promise<TargetOptions> {
  const nxJson = await readJson(join(workspaceRoot, 'nx.json'));
  const plugins = Array.isArray(nxJson?.plugins) ? (nxJson.plugins as Array<string | PluginEntry>) : [];
  const entry = plugins.find((p): p is PluginEntry => typeof p === 'object' && p !== null && p.plugin === 'nx-multiarch');
  const plugin = entry?.options ?? {};
  const projectJson = await readJson(join(workspaceRoot, projectRoot, 'project.json'));
  const targets = (projectJson?.targets ?? {}) as Record<string, { options?: Record<string, unknown> }>;
  const declared = { ...(targets[target]?.options ?? {}), ...(targets[`${target}--${arch}`]?.options ?? {}) };
  const merged: Record<string, unknown> = {
    ...(plugin.registryMirrors !== undefined ? { registryMirrors: plugin.registryMirrors } : {}),
    ...(plugin.baseImages !== undefined ? { baseImages: plugin.baseImages } : {}),
    ...declared,
  };
  return {
    ...validateBaseSourceOptions(merged.registryMirrors, merged.baseImages),
    ...(typeof merged.dockerfile === 'string' ? { dockerfile: merged.dockerfile } : {}),
    ...(typeof merged.context === 'string' ? { context: merged.context } : {}),
    ...(merged.buildArgs && typeof merged.buildArgs === 'object' ? { buildArgs: merged.buildArgs as Record<string, string> } : {}),
    ...(Array.isArray(merged.insecureRegistries) ? { insecureRegistries: merged.insecureRegistries as string[] } : {}),
  };
}

function expand(value: string, projectRoot: string): string {
  return value.split('{projectRoot}').join(projectRoot).split('{workspaceRoot}').join('.');
}

async function layoutDigest(path: string, searchDirs: readonly string[]): Promise<string | undefined> {
  for (const dir of isAbsolute(path) ? [path] : searchDirs.map((d) => resolve(d, path))) {
    const index = join(dir, 'index.json');
    if (await stat(index).then((s) => s.isFile(), () => false)) return sha256Digest(await readFile(index));
  }
  return undefined;
}

/** The digest one candidate names now, or undefined when it cannot say (no answer, no such tag). */
async function candidateDigest(image: string, searchDirs: readonly string[], insecureRegistries: readonly string[] | undefined): Promise<string | undefined> {
  const ref = parseBaseReference(image);
  if (ref.kind === 'scratch') return 'scratch';
  if (ref.kind === 'oci-layout') {
    const index = await layoutDigest(ref.path, searchDirs);
    return index === undefined ? undefined : `${ref.refName ? `${ref.refName} ` : ''}${ref.digest ?? index}`;
  }
  if (ref.reference.digest) return ref.reference.digest;
  const client = new RegistryClient({ registry: ref.reference.registry, insecureRegistries, timeoutMs: HEAD_TIMEOUT_MS, retry: { maxAttempts: 1 } });
  try {
    const deadline = new Promise<undefined>((done) => setTimeout(() => done(undefined), HEAD_TIMEOUT_MS).unref());
    return await Promise.race([client.hasManifest(ref.reference.repository, ref.reference.tag ?? 'latest'), deadline]);
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/** `<image> <digest>` (or `<image> unresolved`) for one FROM image, trying candidates as the build does. */
export async function resolveBaseLine(image: string, options: BaseSourceOptions & { searchDirs: readonly string[]; insecureRegistries?: readonly string[] }): Promise<string> {
  let candidates: string[];
  try {
    candidates = baseCandidates(image, options).candidates.map((c) => c.image);
  } catch {
    return `${image} unresolved`;
  }
  for (const candidate of candidates) {
    let digest: string | undefined;
    try {
      digest = await candidateDigest(candidate, options.searchDirs, options.insecureRegistries);
    } catch {
      digest = undefined;
    }
    if (digest !== undefined) return `${image} ${digest}`;
  }
  return `${image} unresolved`;
}

export interface ResolveBasesArgs {
  workspaceRoot: string;
  projectRoot: string;
  target: string;
  arches: Arch[];
}

/** The lines resolve-bases prints, sorted and without repeats. */
export async function resolveBases(args: ResolveBasesArgs): Promise<string[]> {
  const ws = args.workspaceRoot;
  const lines = new Set<string>();
  for (const arch of args.arches) {
    let image: string;
    let options: TargetOptions;
    let dockerfile: string;
    try {
      options = await targetOptions(ws, args.projectRoot, args.target, arch);
      const dockerfileRel = expand(options.dockerfile ?? join(args.projectRoot, 'Dockerfile'), args.projectRoot);
      dockerfile = isAbsolute(dockerfileRel) ? dockerfileRel : join(ws, dockerfileRel);
      image = evaluateFrom(await loadDockerfile(dockerfile, dockerfileRel), options.buildArgs ?? {}, PLATFORMS[arch]).image;
    } catch (error) {
      // A wrong option or Dockerfile is for the build to report, with its fix; the hash only has to differ.
      lines.add(`${arch} invalid: ${error instanceof MultiarchError ? error.message.split('\n')[0] : 'unreadable'}`);
      continue;
    }
    const context = options.context ? resolve(ws, expand(options.context, args.projectRoot)) : dirname(dockerfile);
    lines.add(await resolveBaseLine(image, { ...options, searchDirs: [context, ws] }));
  }
  return [...lines].sort();
}

export function parseResolveBasesArgs(argv: readonly string[], workspaceRoot: string): ResolveBasesArgs | 'help' {
  let projectRoot: string | undefined;
  let target = 'docker-arch-build';
  let arches: Arch[] = ['amd64'];
  const missingValue = (name: string) => new MultiarchError(`${name} needs a value.`, 'Run nx-multiarch resolve-bases --help for the options.');
  for (const { name, arg, value } of cliOptions(argv, missingValue)) {
    if (name === '-h' || name === '--help') return 'help';
    else if (name === '--project-root') projectRoot = value();
    else if (name === '--target') target = value();
    else if (name === '--arch') arches = value().split(',').map(parseArch);
    else throw new MultiarchError(`Unknown option "${arg}" for nx-multiarch resolve-bases.`, 'Run nx-multiarch resolve-bases --help for the options.');
  }
  if (projectRoot === undefined) throw new MultiarchError('resolve-bases needs --project-root.', 'Pass the project folder, e.g. --project-root packages/proxy.');
  return { workspaceRoot, projectRoot, target, arches };
}

/** The CLI entry (bin/nx-multiarch.js): exit code 0 unless its own arguments are wrong (a bad Dockerfile is the build's to report). */
export async function runResolveBasesCommand(argv: readonly string[], cwd = process.cwd()): Promise<number> {
  try {
    const args = parseResolveBasesArgs(argv, cwd);
    if (args === 'help') {
      process.stdout.write(RESOLVE_BASES_HELP);
      return 0;
    }
    for (const line of await resolveBases(args)) process.stdout.write(`${line}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`nx-multiarch resolve-bases: ${formatError(error)}\n`);
    return 1;
  }
}

