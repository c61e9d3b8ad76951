import { readNxJson, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { linkerd2Shape, proxyImageDockerfile, proxyInitShape, proxyShape, type RepoFiles } from '../../../test/support/repo-shapes';
import importRepoGenerator from './generator';

/**
 * import-repo on repositories shaped like Linkerd's (test/support/repo-shapes.ts),
 * imported in place under vendor/ as a user would after cloning them there.
 */
function write(tree: Tree, root: string, files: RepoFiles): void {
  for (const [path, content] of Object.entries(files)) tree.write(`${root}/${path}`, content);
}

function projectJson(tree: Tree, root: string) {
  return JSON.parse(tree.read(`${root}/project.json`, 'utf-8') ?? 'null');
}

/** Runs the import, collecting what it logs. */
async function importLogged(tree: Tree, options: Parameters<typeof importRepoGenerator>[1]): Promise<{ warnings: string; info: string }> {
  const warnings: string[] = [];
  const info: string[] = [];
  const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.join(' ')));
  const log = jest.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void info.push(args.join(' ')));
  try {
    await importRepoGenerator(tree, options);
  } finally {
    warn.mockRestore();
    log.mockRestore();
  }
  return { warnings: warnings.join('\n'), info: info.join('\n') };
}

function projectRoots(tree: Tree, under: string): string[] {
  return tree
    .listChanges()
    .map((c) => c.path)
    .filter((p) => p.startsWith(`${under}/`) && p.endsWith('/project.json'))
    .map((p) => p.slice(0, -'/project.json'.length))
    .sort();
}

describe('import-repo on Linkerd-shaped repositories under vendor/', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  describe('a Go module with cmd folders in several places, root-context images and a CLI bundle', () => {
    let logged: { warnings: string; info: string };
    beforeEach(async () => {
      write(tree, 'vendor/linkerd2', linkerd2Shape());
      logged = await importLogged(tree, { source: 'vendor/linkerd2', skipFormat: true });
    });

    it('gives every project a unique name under the repository prefix (three cmd folders)', () => {
      expect(readProjectConfiguration(tree, 'linkerd2-controller').root).toBe('vendor/linkerd2/controller/cmd');
      expect(readProjectConfiguration(tree, 'linkerd2-metrics-api').root).toBe('vendor/linkerd2/viz/metrics-api/cmd');
      expect(readProjectConfiguration(tree, 'linkerd2-tap').root).toBe('vendor/linkerd2/viz/tap/cmd');
      expect(projectJson(tree, 'vendor/linkerd2/viz/tap/cmd').targets['go-cross'].options).toEqual({ cwd: 'vendor/linkerd2', main: ['./viz/tap/cmd'], outputName: 'tap' });
    });

    it('infers the repository root as the context where the COPY sources are, and warns about no file that exists', () => {
      const controller = projectJson(tree, 'vendor/linkerd2/controller').targets['docker-arch-build'];
      expect(controller.options).toEqual({ dockerfile: 'vendor/linkerd2/controller/Dockerfile', context: 'vendor/linkerd2' });
      expect(logged.warnings).toBe('');
      expect(projectJson(tree, 'vendor/linkerd2/web').targets['docker-arch-build'].options.context).toBe('vendor/linkerd2');
      expect(logged.warnings).not.toMatch(/go\.mod|go\.sum|LICENSE|templates/);
      // web/templates is a folder of the repository, not a binary: the web binary keeps its name.
      expect(projectJson(tree, 'vendor/linkerd2/web').targets['go-cross'].options.outputName).toBe('web');
    });

    it('maps the go build of a $BUILDPLATFORM stage to the project that builds that main: the edge and the task order', () => {
      const image = projectJson(tree, 'vendor/linkerd2/controller');
      expect(image.name).toBe('linkerd2-controller-image');
      expect(image.implicitDependencies).toEqual(['linkerd2-controller']);
      expect(image.targets['docker-arch-build'].dependsOn).toEqual([{ dependencies: true, target: 'go-cross', params: 'forward' }]);
      // The web image compiles its own main: its own go-cross first, no edge to itself.
      const web = projectJson(tree, 'vendor/linkerd2/web');
      expect(web.implicitDependencies).toBeUndefined();
      expect(web.targets['docker-arch-build'].dependsOn).toEqual([{ target: 'go-cross', params: 'forward' }]);
    });

    it('stages bin/tap from the tap command for the image beside it', () => {
      const tapImage = projectJson(tree, 'vendor/linkerd2/viz/tap');
      expect(tapImage.name).toBe('linkerd2-tap-image');
      expect(tapImage.targets['docker-arch-build'].options.artifacts).toEqual([{ from: 'dist/cross/linkerd2-tap/{arch}', to: 'bin' }]);
      expect(tapImage.implicitDependencies).toEqual(['linkerd2-tap']);
    });

    it('makes nothing of the devcontainer, the development Dockerfile, the test image and the example, and says so', () => {
      const roots = projectRoots(tree, 'vendor/linkerd2');
      expect(roots).toEqual([
        'vendor/linkerd2/cli',
        'vendor/linkerd2/controller',
        'vendor/linkerd2/controller/cmd',
        'vendor/linkerd2/viz/metrics-api',
        'vendor/linkerd2/viz/metrics-api/cmd',
        'vendor/linkerd2/viz/tap',
        'vendor/linkerd2/viz/tap/cmd',
        'vendor/linkerd2/web',
      ]);
      expect(logged.info).toMatch(/Not imported, devcontainers[^:]*: \.devcontainer\/Dockerfile\. Import them with --include=devcontainer/);
      expect(logged.info).toMatch(/Not imported, Dockerfiles named or marked for development[^:]*: controller\/dev\.Dockerfile/);
      expect(logged.info).toMatch(/Not imported, test code[^:]*: test\/integration\/images\/echo, test\/integration\/images\/echo\/Dockerfile/);
      expect(logged.info).toMatch(/Not imported, examples[^:]*: examples\/hello/);
    });

    it('treats the CLI Dockerfile, whose last stage bundles darwin/windows binaries, as no image but as release assets', () => {
      const cli = projectJson(tree, 'vendor/linkerd2/cli');
      expect(Object.keys(cli.targets)).toEqual(['go-cross', 'cli-darwin-amd64', 'cli-darwin-arm64', 'cli-windows-amd64', 'cli-windows-arm64', 'cli-assets']);
      expect(cli.targets['go-cross'].options).toEqual({ cwd: 'vendor/linkerd2', main: ['./cli'], outputName: 'cli', releaseName: 'linkerd2-cli' });
      expect(cli.targets['cli-darwin-arm64']).toMatchObject({
        executor: 'nx-multiarch:go-cross',
        cache: true,
        outputs: ['{workspaceRoot}/dist/cross/{projectName}/darwin-arm64'],
        options: { cwd: 'vendor/linkerd2', main: ['./cli'], os: 'darwin', arch: 'arm64', releaseName: 'linkerd2-cli' },
      });
      expect(cli.targets['cli-darwin-arm64'].inputs).toEqual(cli.targets['go-cross'].inputs);
      expect(cli.targets['cli-assets'].dependsOn).toEqual(['cli-darwin-amd64', 'cli-darwin-arm64', 'cli-windows-amd64', 'cli-windows-arm64', 'go-cross--amd64', 'go-cross--arm64', 'go-cross--arm']);
      expect(cli.tags).toEqual(['cli', 'lang:go', 'repo:linkerd2']);
      expect(logged.info).toMatch(/cli\/Dockerfile: its last stage bundles binaries for other systems, not an image/);
    });

    it('records the repository so inference adds nothing the import left out', () => {
      const entry = readNxJson(tree)?.plugins?.find((p) => typeof p !== 'string' && p.plugin === 'nx-multiarch');
      expect(typeof entry === 'object' && (entry.options as { importedRepositories?: string[] }).importedRepositories).toEqual(['vendor/linkerd2']);
    });

    it('imports what a rule left out when --include names the rule or a glob', async () => {
      await importLogged(tree, { source: 'vendor/linkerd2', include: ['devcontainer', 'examples/**'], overwrite: true, skipFormat: true });
      expect(projectJson(tree, 'vendor/linkerd2/.devcontainer').targets['docker-arch-build']).toBeDefined();
      expect(projectJson(tree, 'vendor/linkerd2/examples/hello').name).toBe('linkerd2-hello');
      expect(tree.exists('vendor/linkerd2/controller/nx-images/dev/project.json')).toBe(false);
    });
  });

  it('does not take a source folder copied into an image for a binary of the same name (COPY cni-plugin cni-plugin)', async () => {
    write(tree, 'vendor/linkerd2-proxy-init', proxyInitShape());
    const { warnings } = await importLogged(tree, { source: 'vendor/linkerd2-proxy-init', skipFormat: true });
    const cni = projectJson(tree, 'vendor/linkerd2-proxy-init/cni-plugin');
    expect(cni.targets['docker-arch-build'].options).toEqual({ dockerfile: 'vendor/linkerd2-proxy-init/cni-plugin/Dockerfile', context: 'vendor/linkerd2-proxy-init' });
    expect(cni.implicitDependencies).toBeUndefined();
    expect(projectJson(tree, 'vendor/linkerd2-proxy-init').targets['docker-arch-build'].options.context).toBe('vendor/linkerd2-proxy-init');
    expect(warnings).not.toMatch(/not in the repository/);
  });

  it('imports an 85-crate workspace with """ strings: the binary crate and its image, no fuzz crate, no devcontainer', async () => {
    write(tree, 'vendor/linkerd2-proxy', proxyShape());
    const { warnings, info } = await importLogged(tree, { source: 'vendor/linkerd2-proxy', skipFormat: true });
    expect(projectRoots(tree, 'vendor/linkerd2-proxy')).toEqual(['vendor/linkerd2-proxy', 'vendor/linkerd2-proxy/linkerd2-proxy']);
    const image = projectJson(tree, 'vendor/linkerd2-proxy');
    expect(image.targets['docker-arch-build'].options).toEqual({
      dockerfile: 'vendor/linkerd2-proxy/Dockerfile',
      context: 'vendor/linkerd2-proxy',
      artifacts: [{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }],
    });
    expect(info).toMatch(/Not imported, fuzz crates[^:]*: linkerd\/c0\/fuzz, linkerd\/c10\/fuzz,/);
    expect(warnings).toBe('');
  });

  it('maps the proxy release a Dockerfile downloads to the imported crate that builds it (downloads option, edge, cargo-cross first)', async () => {
    write(tree, 'vendor/linkerd2-proxy', proxyShape({ crates: 4, filesPerCrate: 2, fuzzEvery: 0 }));
    await importLogged(tree, { source: 'vendor/linkerd2-proxy', skipFormat: true });
    write(tree, 'vendor/linkerd2', { ...linkerd2Shape(), 'proxy/Dockerfile': proxyImageDockerfile() });
    const { warnings } = await importLogged(tree, { source: 'vendor/linkerd2', prefix: 'l5d', skipFormat: true });
    const image = projectJson(tree, 'vendor/linkerd2/proxy');
    expect(image.name).toBe('l5d-proxy');
    expect(image.targets['docker-arch-build'].options).toEqual({
      dockerfile: 'vendor/linkerd2/proxy/Dockerfile',
      context: 'vendor/linkerd2/proxy',
      downloads: { 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross' },
    });
    expect(image.implicitDependencies).toEqual(['linkerd2-proxy']);
    expect(image.targets['docker-arch-build'].dependsOn).toEqual([{ dependencies: true, target: 'cargo-cross', params: 'forward' }]);
    // Every stage understood: no refusal of the download, no file reported missing.
    expect(warnings).toBe('');
  });

  describe('refused with a clear message, nothing written', () => {
    const unchanged = async (options: Parameters<typeof importRepoGenerator>[1], message: RegExp) => {
      const before = tree.listChanges().map((c) => `${c.type} ${c.path} ${c.content?.length}`);
      await expect(importRepoGenerator(tree, options)).rejects.toThrow(message);
      expect(tree.listChanges().map((c) => `${c.type} ${c.path} ${c.content?.length}`)).toEqual(before);
    };

    it('names that would clash: a prefix another imported repository uses', async () => {
      write(tree, 'vendor/linkerd2', linkerd2Shape());
      await importRepoGenerator(tree, { source: 'vendor/linkerd2', skipFormat: true });
      write(tree, 'vendor/fork/linkerd2', linkerd2Shape());
      await unchanged(
        { source: 'vendor/fork/linkerd2', skipFormat: true },
        /prefix "linkerd2" is already the prefix of the repository imported at vendor\/linkerd2 \(project linkerd2-[^)]*\): the project names would clash[\s\S]*hint: Pass --prefix=/,
      );
      // With its own prefix it imports.
      await importRepoGenerator(tree, { source: 'vendor/fork/linkerd2', prefix: 'fork', skipFormat: true });
      expect(readProjectConfiguration(tree, 'fork-controller').root).toBe('vendor/fork/linkerd2/controller/cmd');
    });

    it('an import into a folder that already holds a project', async () => {
      write(tree, 'apps/tool', { 'go.mod': 'module example.com/tool\n', 'main.go': 'package main\n\nfunc main() {}\n' });
      tree.write('apps/tool/project.json', JSON.stringify({ name: 'tool', targets: { build: { command: 'go build' } } }));
      await unchanged({ source: 'apps/tool', skipFormat: true }, /project.json files exist already: apps\/tool\/project.json[\s\S]*hint: Pass --overwrite/);
    });

    it('a repository with nothing to build (only what the rules leave out)', async () => {
      write(tree, 'vendor/tools', { '.devcontainer/Dockerfile': 'FROM debian\n', 'fuzz/Cargo.toml': '[package]\nname = "fuzz"\n', 'fuzz/src/main.rs': 'fn main() {}\n' });
      await unchanged({ source: 'vendor/tools', skipFormat: true }, /Nothing in vendor\/tools ships: \.devcontainer\/Dockerfile \(devcontainer\), fuzz \(fuzz\)[\s\S]*hint: Pass --include=/);
    });

    it('manifests no TOML parser accepts: every one reported at once, with its line', async () => {
      const files = proxyShape({ crates: 6, filesPerCrate: 2, fuzzEvery: 0 });
      files['linkerd/c2/Cargo.toml'] = '[package]\nname = "linkerd-c2"\nversion = 1.0.0\n';
      files['linkerd/c4/Cargo.toml'] = '[package]\nname = "linkerd-c4"\n[package]\nname = "twice"\n';
      write(tree, 'vendor/linkerd2-proxy', files);
      await unchanged(
        { source: 'vendor/linkerd2-proxy', skipFormat: true },
        /Cannot read 2 Cargo.toml file\(s\)[^\n]*\n {2}vendor\/linkerd2-proxy\/linkerd\/c2\/Cargo.toml: line 3, column \d+: [^\n]*\n {2}vendor\/linkerd2-proxy\/linkerd\/c4\/Cargo.toml: line 3, column \d+: [\s\S]*--exclude=linkerd\/c2,linkerd\/c4/,
      );
    });
  });
});

describe('import-repo --versionEnv', () => {
  it('writes the variable as each cross target option and cache input', async () => {
    const tree = createTreeWithEmptyWorkspace();
    write(tree, 'vendor/linkerd2-proxy', proxyShape({ crates: 3, filesPerCrate: 2, fuzzEvery: 0 }));
    await importRepoGenerator(tree, { source: 'vendor/linkerd2-proxy', versionEnv: 'LINKERD2_PROXY_VERSION', skipFormat: true });
    const cargo = projectJson(tree, 'vendor/linkerd2-proxy/linkerd2-proxy').targets['cargo-cross'];
    expect(cargo.options).toEqual({ versionEnv: 'LINKERD2_PROXY_VERSION' });
    expect(cargo.inputs).toEqual(expect.arrayContaining([{ env: 'LINKERD2_PROXY_VERSION' }, { env: 'NX_MULTIARCH_VERSION' }]));
    await expect(importRepoGenerator(tree, { source: 'vendor/linkerd2-proxy', versionEnv: 'not a name', overwrite: true })).rejects.toThrow(/not an environment variable name[\s\S]*hint:/);
  });
});
