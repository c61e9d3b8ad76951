import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { readNxJson, readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { goCrossInputs, workspaceGlob } from '../../project/target-templates';
import importRepoGenerator from './generator';

type Files = Record<string, string>;

function write(tree: Tree, root: string, files: Files): void {
  for (const [path, content] of Object.entries(files)) tree.write(`${root}/${path}`, content);
}

/** The //go:embed patterns a go-cross input list names (each as a file glob and a folder glob). */
function embedsIn(inputs: unknown[]): string[] {
  const base = workspaceGlob('');
  return inputs.filter((i): i is string => typeof i === 'string' && inputs.includes(`${i}/**/*`)).map((i) => i.slice(base.length + 1));
}

function projectJson(tree: Tree, root: string) {
  return JSON.parse(tree.read(`${root}/project.json`, 'utf-8') ?? 'null');
}

function target(tree: Tree, root: string, name: string) {
  return projectJson(tree, root)?.targets?.[name];
}

const goMain = (pkg = 'main') => `// Command.\npackage ${pkg}\n\nfunc main() {}\n`;
const scratchImage = (...copies: string[]) => `FROM scratch\n${copies.map((c) => `COPY ${c} /usr/local/bin/\n`).join('')}ENTRYPOINT ["/usr/local/bin/x"]\n`;

/** A repository shaped like Linkerd's control plane: one Go module, several mains, root Dockerfile.<image> files and a sub-folder Dockerfile. */
const LINKERD2: Files = {
  'go.mod': 'module github.com/example/linkerd2\n\ngo 1.19\n',
  'go.sum': '',
  'controller/main.go': goMain(),
  'controller/main_test.go': goMain(),
  'controller/api/api.go': 'package api\n',
  'web/main.go': goMain(),
  'web/srv/srv.go': 'package srv\n\nimport _ "embed"\n\n//go:embed templates/*.tmpl\nvar templates string\n',
  'web/srv/templates/index.tmpl': '<html></html>',
  'cli/main.go': goMain(),
  'debug/main.go': goMain(),
  'debug/Dockerfile': 'FROM scratch\nCOPY bin/linkerd-debug /usr/local/bin/linkerd-debug\nENTRYPOINT ["/usr/local/bin/linkerd-debug"]\n',
  'tools/gen.go': '//go:build ignore\n\npackage main\n',
  'pkg/testdata/fixture/main.go': goMain(),
  'Dockerfile.controller': scratchImage('bin/controller'),
  'Dockerfile.web': scratchImage('bin/web', 'web/static'),
  'web/static/app.js': '',
  'Dockerfile.proxy': scratchImage('bin/LICENSE', 'bin/linkerd2-proxy', 'bin/linkerd2-proxy-init'),
  'README.md': '# linkerd2\n',
};

/** A Cargo workspace shaped like Linkerd's proxy: library members and one binary crate. */
const PROXY: Files = {
  'Cargo.toml': '[workspace]\nmembers = [\n  "linkerd/*",\n  "linkerd2-proxy",\n]\nexclude = ["linkerd/fuzz"]\n',
  'Cargo.lock': '',
  'LICENSE': 'Apache-2.0',
  'linkerd/app/Cargo.toml': '[package]\nname = "linkerd-app"\nversion = "0.1.0"\n',
  'linkerd/app/src/lib.rs': '',
  'linkerd/fuzz/Cargo.toml': '[package]\nname = "fuzz"\nversion = "0.1.0"\n',
  'linkerd/fuzz/src/main.rs': 'fn main() {}',
  'linkerd2-proxy/Cargo.toml': '[package]\nname = "linkerd2-proxy"\nversion = "2.14.0"\n\n[dependencies]\nlinkerd-app = { path = "../linkerd/app" }\n',
  'linkerd2-proxy/src/main.rs': 'fn main() {}',
  'linkerd2-proxy/src/bin/probe.rs': 'fn main() {}',
  'Dockerfile': 'FROM scratch\nCOPY bin/LICENSE /usr/lib/linkerd/LICENSE\nCOPY bin/linkerd2-proxy /usr/lib/linkerd/linkerd2-proxy\nENTRYPOINT ["/usr/lib/linkerd/linkerd2-proxy"]\n',
};

/** A Go module whose main packages sit under cmd/, with a Dockerfile per main. */
const PROXY_INIT: Files = {
  'go.mod': 'module github.com/example/linkerd2-proxy-init\n\ngo 1.19\n',
  'cmd/linkerd2-proxy-init/main.go': goMain(),
  'cmd/linkerd2-proxy-init/Dockerfile': scratchImage('linkerd2-proxy-init'),
  'cmd/cni-plugin/main.go': goMain(),
  'internal/iptables/rules.go': 'package iptables\n',
};

describe('import-repo generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  describe('a Go module with several main packages and Dockerfile.<image> files at its root', () => {
    beforeEach(async () => {
      write(tree, 'packages/linkerd2', LINKERD2);
      await importRepoGenerator(tree, { source: 'packages/linkerd2', skipFormat: true });
    });

    it('makes one project per main package, skipping tests, ignored files and testdata', () => {
      const roots = ['cli', 'controller', 'debug', 'web'].map((d) => `packages/linkerd2/${d}`);
      for (const root of roots) expect(target(tree, root, 'go-cross')).toBeDefined();
      expect(tree.exists('packages/linkerd2/tools/project.json')).toBe(false);
      expect(tree.exists('packages/linkerd2/pkg/testdata/fixture/project.json')).toBe(false);
      expect(readProjectConfiguration(tree, 'linkerd2-controller').root).toBe('packages/linkerd2/controller');
      expect(readProjectConfiguration(tree, 'linkerd2-cli').tags).toEqual(['lang:go', 'repo:linkerd2']);
    });

    it('configures go-cross on the module with the main package and the whole module as inputs', () => {
      const goCross = target(tree, 'packages/linkerd2/web', 'go-cross');
      expect(goCross.executor).toBe('nx-multiarch:go-cross');
      expect(goCross.cache).toBe(true);
      expect(goCross.options).toEqual({ cwd: 'packages/linkerd2', main: ['./web'], outputName: 'web' });
      expect(goCross.outputs).toEqual(['{workspaceRoot}/dist/cross/{projectName}/{options.arch}']);
      expect(goCross.inputs).toEqual(
        expect.arrayContaining([
          '{workspaceRoot}/packages/linkerd2/go.mod',
          '{workspaceRoot}/packages/linkerd2/**/*.go',
          '!{workspaceRoot}/packages/linkerd2/**/*_test.go',
          '{workspaceRoot}/packages/linkerd2/web/srv/templates/*.tmpl',
          { runtime: 'go env GOVERSION' },
        ]),
      );
      // The very inputs graph inference gives an inferred go-cross (after its production inputs): one template.
      expect(goCross.inputs).toEqual(goCrossInputs('packages/linkerd2', embedsIn(goCross.inputs)));
    });

    it('puts a root Dockerfile.<image> on the binary project of that name, with the repository as context', () => {
      const image = target(tree, 'packages/linkerd2/controller', 'docker-arch-build');
      expect(image.options).toEqual({
        dockerfile: 'packages/linkerd2/Dockerfile.controller',
        context: 'packages/linkerd2',
        artifacts: [{ from: 'dist/cross/linkerd2-controller/{arch}', to: 'bin' }],
      });
      expect(image.dependsOn).toEqual([{ target: 'go-cross', params: 'forward' }]);
      expect(image.inputs).toEqual([
        '{workspaceRoot}/packages/linkerd2/Dockerfile.controller',
        '{workspaceRoot}/packages/linkerd2/**/*',
        { dependentTasksOutputFiles: '**/*', transitive: false },
        { env: 'SOURCE_DATE_EPOCH' },
      ]);
      expect(image.outputs).toEqual(['{workspaceRoot}/dist/images/{projectName}/{options.arch}']);
      expect(readProjectConfiguration(tree, 'linkerd2-controller').tags).toEqual(['image', 'lang:go', 'repo:linkerd2']);
    });

    it('does not stage a COPY source that the repository has (web/static)', () => {
      expect(target(tree, 'packages/linkerd2/web', 'docker-arch-build').options.artifacts).toEqual([{ from: 'dist/cross/linkerd2-web/{arch}', to: 'bin' }]);
    });

    it('renames a main binary to the one file its own Dockerfile copies (bin/linkerd-debug)', () => {
      expect(target(tree, 'packages/linkerd2/debug', 'go-cross').options.outputName).toBe('linkerd-debug');
      expect(target(tree, 'packages/linkerd2/debug', 'docker-arch-build').options).toEqual({
        dockerfile: 'packages/linkerd2/debug/Dockerfile',
        context: 'packages/linkerd2/debug',
        artifacts: [{ from: 'dist/cross/linkerd2-debug/{arch}', to: 'bin' }],
      });
    });

    it('gives a Dockerfile.<image> that matches no binary its own project folder', () => {
      const proxy = projectJson(tree, 'packages/linkerd2/nx-images/proxy');
      expect(proxy.name).toBe('linkerd2-proxy');
      expect(proxy.$schema).toBe('../../../../node_modules/nx/schemas/project-schema.json');
      expect(proxy.targets['docker-arch-build'].options).toEqual({ dockerfile: 'packages/linkerd2/Dockerfile.proxy', context: 'packages/linkerd2' });
      expect(proxy.targets['go-cross']).toBeUndefined();
    });

    it('registers the plugin when the workspace does not have it yet', () => {
      expect(readNxJson(tree)?.plugins).toEqual([{ plugin: 'nx-multiarch', options: { arches: ['amd64', 'arm64', 'arm'], importedRepositories: ['packages/linkerd2'] } }]);
    });
  });

  describe('a Cargo workspace', () => {
    beforeEach(async () => {
      write(tree, 'packages/linkerd2-proxy', PROXY);
      await importRepoGenerator(tree, { source: 'packages/linkerd2-proxy', skipFormat: true });
    });

    it('makes one project per member crate with a binary; a fuzz crate is not a release artifact', () => {
      const crate = projectJson(tree, 'packages/linkerd2-proxy/linkerd2-proxy');
      expect(crate.name).toBe('linkerd2-proxy');
      expect(crate.tags).toEqual(['lang:rust', 'repo:linkerd2-proxy']);
      expect(tree.exists('packages/linkerd2-proxy/linkerd/app/project.json')).toBe(false);
      expect(tree.exists('packages/linkerd2-proxy/linkerd/fuzz/project.json')).toBe(false);
    });

    it('imports the fuzz crate when --include turns the rule off, as a crate of its own', async () => {
      await importRepoGenerator(tree, { source: 'packages/linkerd2-proxy', include: 'fuzz', overwrite: true, skipFormat: true });
      expect(projectJson(tree, 'packages/linkerd2-proxy/linkerd/fuzz').targets['cargo-cross'].inputs[0]).toBe('{workspaceRoot}/packages/linkerd2-proxy/linkerd/fuzz/**/*');
    });

    it('configures cargo-cross with the whole Cargo workspace as inputs', () => {
      const cargo = target(tree, 'packages/linkerd2-proxy/linkerd2-proxy', 'cargo-cross');
      expect(cargo.executor).toBe('nx-multiarch:cargo-cross');
      expect(cargo.cache).toBe(true);
      expect(cargo.options).toBeUndefined();
      expect(cargo.inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/packages/linkerd2-proxy/**/*', '!{workspaceRoot}/packages/linkerd2-proxy/**/*.md', { runtime: '/usr/bin/rustc -vV' }]));
    });

    it('makes the root Dockerfile an image project that stages the proxy package, LICENSE included', () => {
      const image = projectJson(tree, 'packages/linkerd2-proxy');
      expect(image.name).toBe('linkerd2-proxy-image');
      expect(image.implicitDependencies).toEqual(['linkerd2-proxy']);
      expect(image.targets['docker-arch-build'].options.artifacts).toEqual([{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }]);
      expect(image.targets['docker-arch-build'].dependsOn).toEqual([{ dependencies: true, target: 'cargo-cross', params: 'forward' }]);
    });
  });

  it('imports manifests with multi-line strings and other TOML the old hand-written reader refused', async () => {
    write(tree, 'packages/tricky', {
      'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n\n[workspace.package]\nversion = "1.0.0"\ndescription = """\nA workspace [with] = "brackets"\n"""\n',
      'crates/tool/Cargo.toml':
        '[package]\nname = "tool"\nversion.workspace = true\ndescription = """\nSpans\nlines.\n"""\nmetadata.docs.rs = { all-features = true }\n\n[[bin]]\nname = "tool-cli"\npath = "src/cli.rs"\n',
      'crates/tool/src/main.rs': 'fn main() {}\n',
      'crates/tool/src/cli.rs': 'fn main() {}\n',
    });
    await importRepoGenerator(tree, { source: 'packages/tricky', skipFormat: true });
    const crate = projectJson(tree, 'packages/tricky/crates/tool');
    expect(crate.name).toBe('tricky-tool');
    expect(crate.targets['cargo-cross'].inputs[0]).toBe('{workspaceRoot}/packages/tricky/**/*');
  });

  it('stages binaries that other projects of the workspace build (the proxy image of linkerd2)', async () => {
    write(tree, 'packages/linkerd2-proxy', PROXY);
    await importRepoGenerator(tree, { source: 'packages/linkerd2-proxy', skipFormat: true });
    write(tree, 'packages/linkerd2-proxy-init', PROXY_INIT);
    await importRepoGenerator(tree, { source: 'packages/linkerd2-proxy-init', skipFormat: true });
    write(tree, 'packages/linkerd2', LINKERD2);
    await importRepoGenerator(tree, { source: 'packages/linkerd2', skipFormat: true });

    const proxy = projectJson(tree, 'packages/linkerd2/nx-images/proxy');
    // linkerd2-proxy is taken by the crate, so the image gets -image.
    expect(proxy.name).toBe('linkerd2-proxy-image-2');
    expect(proxy.targets['docker-arch-build'].options.artifacts).toEqual([
      { package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' },
      { from: 'dist/cross/linkerd2-proxy-init/{arch}', to: 'bin' },
    ]);
    expect(proxy.implicitDependencies).toEqual(['linkerd2-proxy', 'linkerd2-proxy-init']);
    expect(proxy.targets['docker-arch-build'].dependsOn).toEqual([
      { dependencies: true, target: 'cargo-cross', params: 'forward' },
      { dependencies: true, target: 'go-cross', params: 'forward' },
    ]);
    // The cmd/ layout of proxy-init: one project per main, the image on its own main.
    expect(target(tree, 'packages/linkerd2-proxy-init/cmd/linkerd2-proxy-init', 'docker-arch-build').options.artifacts).toEqual([
      { from: 'dist/cross/linkerd2-proxy-init/{arch}', to: '.' },
    ]);
    expect(readProjectConfiguration(tree, 'linkerd2-proxy-init-cni-plugin').root).toBe('packages/linkerd2-proxy-init/cmd/cni-plugin');
  });

  it('warns about what it cannot resolve, and about Dockerfiles the native engine cannot build', async () => {
    write(tree, 'repos/app', {
      'go.mod': 'module app\n',
      'main.go': goMain(),
      Dockerfile: 'FROM golang:1.19 AS build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\nCOPY bin/app bin/helper /usr/bin/\n',
    });
    const warnings: string[] = [];
    const spy = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.join(' ')));
    try {
      await importRepoGenerator(tree, { source: 'repos/app', skipFormat: true });
    } finally {
      spy.mockRestore();
    }
    const text = warnings.join('\n');
    expect(text).toMatch(/repos\/app\/Dockerfile: the native engine cannot build it \(line 2: stage build: RUN in a stage without FROM --platform=\$BUILDPLATFORM/);
    expect(text).toMatch(/COPY bin\/helper: the file is not in the repository and no project builds "helper"/);
    // Still configured: the Go binary and the image on one project named after the repository.
    expect(Object.keys(projectJson(tree, 'repos/app').targets)).toEqual(['go-cross', 'docker-arch-build']);
    expect(projectJson(tree, 'repos/app').targets['docker-arch-build'].options.artifacts).toEqual([{ from: 'dist/cross/app/{arch}', to: 'bin' }]);
    expect(projectJson(tree, 'repos/app').name).toBe('app');
  });

  it('leaves out what --exclude names', async () => {
    write(tree, 'packages/linkerd2', LINKERD2);
    await importRepoGenerator(tree, { source: 'packages/linkerd2', exclude: 'cli,debug/**', skipFormat: true });
    expect(tree.exists('packages/linkerd2/cli/project.json')).toBe(false);
    expect(tree.exists('packages/linkerd2/debug/project.json')).toBe(false);
    expect(tree.exists('packages/linkerd2/web/project.json')).toBe(true);
  });

  describe('re-importing', () => {
    it('refuses to replace project.json files unless --overwrite, naming them', async () => {
      write(tree, 'packages/linkerd2', LINKERD2);
      await importRepoGenerator(tree, { source: 'packages/linkerd2', skipFormat: true });
      const before = tree.read('packages/linkerd2/web/project.json', 'utf-8');
      await expect(importRepoGenerator(tree, { source: 'packages/linkerd2', skipFormat: true })).rejects.toThrow(
        /project.json files exist already: .*packages\/linkerd2\/web\/project.json[\s\S]*hint: Pass --overwrite/,
      );
      expect(tree.read('packages/linkerd2/web/project.json', 'utf-8')).toBe(before);
    });

    it('with --overwrite replaces only its own targets and keeps the name and other targets', async () => {
      write(tree, 'packages/linkerd2', LINKERD2);
      tree.write('packages/linkerd2/web/project.json', JSON.stringify({ name: 'dashboard', root: 'packages/linkerd2/web', tags: ['team:web'], targets: { test: { command: 'go test ./...' }, 'go-cross': { executor: 'old' } } }));
      tree.write('packages/linkerd2/cli/project.json', JSON.stringify({ name: 'linkerd2-cli', targets: { 'go-cross': { executor: 'nx-multiarch:go-cross', options: { outputName: 'linkerd' } } } }));
      await importRepoGenerator(tree, { source: 'packages/linkerd2', overwrite: true, skipFormat: true });
      const web = projectJson(tree, 'packages/linkerd2/web');
      expect(web.name).toBe('dashboard');
      expect(web.tags).toEqual(['team:web', 'image', 'lang:go', 'repo:linkerd2']);
      expect(web.targets.test).toEqual({ command: 'go test ./...' });
      expect(web.targets['go-cross'].executor).toBe('nx-multiarch:go-cross');
      expect(web.targets['docker-arch-build'].options.artifacts).toEqual([{ from: 'dist/cross/dashboard/{arch}', to: 'bin' }]);
      // A binary name chosen earlier stays.
      expect(target(tree, 'packages/linkerd2/cli', 'go-cross').options.outputName).toBe('linkerd');
    });
  });

  describe('a repository outside the workspace', () => {
    let outside: string;
    beforeEach(() => {
      outside = mkdtempSync(join(tmpdir(), 'import-repo-'));
      for (const [path, content] of Object.entries(PROXY_INIT)) {
        mkdirSync(dirname(join(outside, 'linkerd2-proxy-init', path)), { recursive: true });
        writeFileSync(join(outside, 'linkerd2-proxy-init', path), content);
      }
      mkdirSync(join(outside, 'linkerd2-proxy-init', 'target', 'release'), { recursive: true });
      writeFileSync(join(outside, 'linkerd2-proxy-init', 'target', 'release', 'junk'), 'build output');
      writeFileSync(join(outside, 'linkerd2-proxy-init', 'build.sh'), '#!/bin/sh\n');
      chmodSync(join(outside, 'linkerd2-proxy-init', 'build.sh'), 0o755);
      symlinkSync('/etc/hostname', join(outside, 'linkerd2-proxy-init', 'link'));
    });
    afterEach(() => rmSync(outside, { recursive: true, force: true }));

    it('copies it in through the Tree (build output, links left out; modes kept) and configures it there', async () => {
      await importRepoGenerator(tree, { source: join(outside, 'linkerd2-proxy-init'), skipFormat: true });
      const changes = tree.listChanges().filter((c) => c.path.startsWith('packages/linkerd2-proxy-init/'));
      const copied = changes.map((c) => relative('packages/linkerd2-proxy-init', c.path)).filter((p) => !p.endsWith('project.json')).sort();
      expect(copied).toEqual(['build.sh', 'cmd/cni-plugin/main.go', 'cmd/linkerd2-proxy-init/Dockerfile', 'cmd/linkerd2-proxy-init/main.go', 'go.mod', 'internal/iptables/rules.go']);
      expect(changes.find((c) => c.path.endsWith('build.sh'))?.options?.mode).toBe(0o755);
      expect(tree.read('packages/linkerd2-proxy-init/go.mod', 'utf-8')).toBe(PROXY_INIT['go.mod']);
      expect(target(tree, 'packages/linkerd2-proxy-init/cmd/linkerd2-proxy-init', 'go-cross').options).toEqual({
        cwd: 'packages/linkerd2-proxy-init',
        main: ['./cmd/linkerd2-proxy-init'],
        outputName: 'linkerd2-proxy-init',
      });
      // The source folder is only read.
      expect(readdirSync(join(outside, 'linkerd2-proxy-init')).sort()).toEqual(['build.sh', 'cmd', 'go.mod', 'internal', 'link', 'target']);
    });

    it('copies to --directory, and refuses a destination that exists', async () => {
      await importRepoGenerator(tree, { source: join(outside, 'linkerd2-proxy-init'), directory: 'vendor-repos/proxy-init', name: 'pi', skipFormat: true });
      expect(readProjectConfiguration(tree, 'pi-linkerd2-proxy-init').root).toBe('vendor-repos/proxy-init/cmd/linkerd2-proxy-init');
      const changes = tree.listChanges().length;
      await expect(importRepoGenerator(tree, { source: join(outside, 'linkerd2-proxy-init'), directory: 'vendor-repos/proxy-init' })).rejects.toThrow(
        /vendor-repos\/proxy-init already exists in the workspace[\s\S]*hint: Pass --directory=<a new folder>/,
      );
      expect(tree.listChanges().length).toBe(changes);
    });

    it('reads the real linkerd2 of this workspace like the workspace configures it', async () => {
      const here = join(__dirname, '../../../..', 'linkerd2');
      const copy = join(outside, 'linkerd2');
      const copyTree = (from: string, to: string) => {
        for (const entry of readdirSync(from)) {
          const src = join(from, entry);
          if (statSync(src).isDirectory()) copyTree(src, join(to, entry));
          else if (entry !== 'project.json') {
            mkdirSync(to, { recursive: true });
            writeFileSync(join(to, entry), readFileSync(src));
          }
        }
      };
      copyTree(here, copy);
      for (const project of ['linkerd2-proxy', 'linkerd2-proxy-init']) {
        for (const file of ['project.json', 'Cargo.toml', 'src/main.rs']) {
          const path = join(__dirname, '../../../..', project, file);
          try {
            tree.write(`packages/${project}/${file}`, readFileSync(path));
          } catch {
            // proxy-init has no Cargo.toml
          }
        }
      }
      await importRepoGenerator(tree, { source: copy, skipFormat: true });
      const byName = (name: string) => readProjectConfiguration(tree, name);
      // The controller's Dockerfile compiles it in a build stage: its own go-cross builds it, nothing is staged by hand.
      expect(byName('linkerd2-controller').targets?.['docker-arch-build']?.options).toEqual({ dockerfile: 'packages/linkerd2/controller/Dockerfile', context: 'packages/linkerd2' });
      expect(byName('linkerd2-controller').targets?.['docker-arch-build']?.dependsOn).toEqual([{ target: 'go-cross', params: 'forward' }]);
      for (const image of ['linkerd2-web', 'linkerd2-debug']) {
        expect(byName(image).targets?.['docker-arch-build']?.options).toEqual({ dockerfile: `${byName(image).root}/Dockerfile`, context: 'packages/linkerd2' });
      }
      expect(byName('linkerd2-debug').targets?.['go-cross']?.options.outputName).toBe('linkerd-debug');
      expect(byName('linkerd2-proxy-image').root).toBe('packages/linkerd2/proxy');
      // Its fetch stage downloads the proxy release (served from the proxy crate's package) and copies proxy-init from the context.
      expect(byName('linkerd2-proxy-image').targets?.['docker-arch-build']?.options.downloads).toEqual({ 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross' });
      expect(byName('linkerd2-proxy-image').targets?.['docker-arch-build']?.options.artifacts).toEqual([{ from: 'dist/cross/linkerd2-proxy-init/{arch}', to: 'target/proxy-init' }]);
      expect(byName('linkerd2-proxy-image').implicitDependencies).toEqual(['linkerd2-proxy', 'linkerd2-proxy-init']);
    });
  });

  describe('bad input: a clear error with the fix, nothing written', () => {
    it.each([
      [{ source: '' }, /needs the repository folder[\s\S]*hint: Pass --source/],
      [{ source: 'packages/missing' }, /source folder packages\/missing does not exist in the workspace[\s\S]*hint:/],
      [{ source: '/definitely/not/here' }, /source folder \/definitely\/not\/here does not exist[\s\S]*hint:/],
      [{ source: '.' }, /the workspace root itself[\s\S]*hint:/],
      [{ source: 'packages/empty' }, /Found no Go main package, Cargo package with a binary, or Dockerfile in packages\/empty[\s\S]*hint:/],
      [{ source: 'packages/linkerd2', name: '-bad name' }, /"-bad name" cannot prefix project names[\s\S]*hint:/],
      [{ source: 'packages/linkerd2', directory: 'elsewhere' }, /imported where it is; --directory=elsewhere would move it[\s\S]*hint:/],
      [{ source: 'packages/broken' }, /Cannot read 1 Cargo.toml file\(s\)[\s\S]*packages\/broken\/Cargo.toml: line 2, column \d+: [\s\S]*not valid TOML[\s\S]*hint: Fix each at the line named/],
    ])('%j', async (options, message) => {
      write(tree, 'packages/linkerd2', LINKERD2);
      write(tree, 'packages/empty', { 'README.md': '# nothing to build\n' });
      write(tree, 'packages/broken', { 'Cargo.toml': '[package]\nname = \n' });
      const before = tree.listChanges().map((c) => `${c.type} ${c.path}`);
      await expect(importRepoGenerator(tree, options)).rejects.toThrow(message);
      expect(tree.listChanges().map((c) => `${c.type} ${c.path}`)).toEqual(before);
    });
  });
});
