import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCargoCross } from '../../src/cross/cargo-cross';
import type { CargoCrossOptions } from '../../src/cross/cargo-plan';
import { buildGoCross } from '../../src/cross/go-cross';
import { resolveOptions } from '../../src/graph/infer-targets';
import type { NxMultiarchPluginOptions } from '../../src/graph/plugin-options';
import type { GoCrossOptions } from '../../src/cross/go-plan';
import { Arch, PLATFORMS } from '../../src/platform/platforms';
import { outputDir } from '../../src/outputs/paths';
import { cleanUpTemp, crossContextFor, runUnderQemu, sha256File, tempDir, versionPlatform, WORKSPACE_ROOT } from './helpers';

/**
 * Every Linkerd-shaped binary, built with the options of its real Nx target
 * (read from its project.json), for every arch the machine has the pieces
 * for, and run under qemu-user: `--version` must name the target platform.
 * Builds run in a copy of the projects so the workspace's dist/ and Nx's
 * record of it are left alone.
 *
 * No arch is skipped: a missing Rust std or cross gcc fails here with the
 * preflight's message (tools/setup.sh installs them). The one binary left
 * out for some arches is the proxy for the arches the workspace builds
 * through Nx (nx.json's plugin options): the suite's run of
 * `arch-integration--<arch>` builds it there with Nx and its qemu test
 * (packages/linkerd2/proxy/integration) checks the same `--version` line, and
 * test/images/nx-run-many.test.ts checks its package, and that the same
 * sources give the same bytes in another checkout, compiled there from empty
 * caches (every binary and image of a second clone at a longer path). A cold
 * build of the proxy's crates is the costliest step of the suite, and these
 * would add three of them that prove nothing new.
 */
jest.setTimeout(900_000);
afterAll(cleanUpTemp);

const ARCHES: Arch[] = ['amd64', 'arm64', 'arm', 'ppc64le', 's390x'];

interface NxJson {
  plugins: Array<string | { plugin: string; options?: NxMultiarchPluginOptions }>;
}

/** The arches the workspace's images are built for: nx.json's nx-multiarch options, resolved as the plugin resolves them. */
const pluginEntry = (JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'nx.json'), 'utf8')) as NxJson).plugins.find((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-multiarch');
const NX_ARCHES: Arch[] = resolveOptions(typeof pluginEntry === 'object' ? pluginEntry.options : undefined).arches;
/** The arches this file builds the proxy for: the rest of the platform table. */
const PROXY_ARCHES = ARCHES.filter((arch) => !NX_ARCHES.includes(arch));

interface ProjectJson {
  name: string;
  root: string;
  targets: Record<string, { options?: Record<string, unknown> }>;
}

/** The cross binaries of the workspace: project, target, binary, and how its --version line starts. */
const BINARIES = [
  { project: 'linkerd2-proxy', dir: 'packages/linkerd2-proxy', target: 'cargo-cross', binary: 'linkerd2-proxy', prefix: 'linkerd2-proxy 0.1.0' },
  { project: 'linkerd2-proxy-init', dir: 'packages/linkerd2-proxy-init', target: 'go-cross', binary: 'linkerd2-proxy-init', prefix: 'linkerd2-proxy-init dev' },
  { project: 'linkerd2-controller', dir: 'packages/linkerd2/controller', target: 'go-cross', binary: 'controller', prefix: 'linkerd2-controller dev' },
  { project: 'linkerd2-web', dir: 'packages/linkerd2/web', target: 'go-cross', binary: 'web', prefix: 'linkerd2-web dev' },
  { project: 'linkerd2-debug', dir: 'packages/linkerd2/debug', target: 'go-cross', binary: 'linkerd-debug', prefix: 'linkerd-debug dev' },
  { project: 'linkerd2-cli', dir: 'packages/linkerd2/cli', target: 'go-cross', binary: 'linkerd', prefix: 'Client version: dev' },
] as const;

/** The target's options as project.json declares them (the defaults in nx.json add only arch). */
function targetOptions(dir: string, target: string): Record<string, unknown> {
  const project = JSON.parse(readFileSync(join(WORKSPACE_ROOT, dir, 'project.json'), 'utf8')) as ProjectJson;
  const options = project.targets[target]?.options;
  if (!options) throw new Error(`${dir}/project.json has no ${target} target`);
  return options;
}

/** A workspace copy holding the three Linkerd-shaped projects. */
function cloneProjects(): string {
  const root = tempDir('linkerd');
  for (const dir of ['packages/linkerd2-proxy', 'packages/linkerd2-proxy-init', 'packages/linkerd2']) {
    cpSync(join(WORKSPACE_ROOT, dir), join(root, dir), { recursive: true, filter: (src) => !/[/\\](target|dist)$/.test(src) });
  }
  return root;
}

async function build(root: string, entry: (typeof BINARIES)[number], arch: string): Promise<string> {
  const ctx = crossContextFor(root, entry.project, entry.dir);
  const options = { ...targetOptions(entry.dir, entry.target), arch };
  if (entry.target === 'cargo-cross') await buildCargoCross(ctx, options as unknown as CargoCrossOptions);
  else await buildGoCross(ctx, options as unknown as GoCrossOptions);
  return join(outputDir(root, 'cross', entry.project, arch), entry.binary);
}

const root = cloneProjects();

describe('every Linkerd-shaped binary for every arch', () => {
  describe.each(ARCHES)('%s', (arch) => {
    const binaries = BINARIES.filter((b) => b.target !== 'cargo-cross' || PROXY_ARCHES.includes(arch));
    it.each(binaries.map((b) => [b.binary, b] as const))('%s builds and reports its platform under qemu', async (_name, entry) => {
      const platform = PLATFORMS[arch];
      const binary = await build(root, entry, arch);
      const lines = (await runUnderQemu(platform, binary, ['--version'])).split('\n');
      // The CLI prints its version and platform on two lines, like `linkerd version`.
      const platformLine = entry.binary === 'linkerd' ? `Client platform: ${versionPlatform(platform)}` : undefined;
      expect(lines).toEqual(platformLine ? [entry.prefix, platformLine] : [`${entry.prefix} ${versionPlatform(platform)}`]);
    });
  });

  it("leaves the proxy only of arches whose arch-integration the suite's test command runs", () => {
    const testCommand = readFileSync(join(WORKSPACE_ROOT, 'tools', 'test.sh'), 'utf8');
    expect(NX_ARCHES.filter((arch) => !new RegExp(`arch-integration--${arch}\\b`).test(testCommand))).toEqual([]);
    expect(PROXY_ARCHES.length).toBeGreaterThan(0);
  });

  it('packages the proxy like Linkerd for each arch, with a checksum that matches', () => {
    for (const arch of PROXY_ARCHES) {
      const dir = outputDir(root, 'cross', 'linkerd2-proxy', arch);
      const [hex, file] = readFileSync(join(dir, `linkerd2-proxy-v0.1.0-linux-${arch}.txt`), 'utf8').trim().split(/\s+/);
      expect(file).toBe(`linkerd2-proxy-v0.1.0-linux-${arch}.tar.gz`);
      expect(sha256File(join(dir, file))).toBe(hex);
    }
  });
});
