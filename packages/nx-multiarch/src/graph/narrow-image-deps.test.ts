import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesResult, TargetDependencyConfig } from '@nx/devkit';

/**
 * What each inferred image target depends on, through createNodes on a
 * workspace of small projects: the cross targets of the projects its image
 * reads, and every dependency's where that cannot be told for sure.
 */

type CreateNodesV2 = typeof import('./create-nodes').createNodesV2;
type DependsOn = Array<string | TargetDependencyConfig>;

const goMain = 'package main\n\nfunc main() {}\n';
const projectJson = (config: Record<string, unknown>) => JSON.stringify(config);

describe('docker-arch-build depends on the projects its image reads', () => {
  let ws: string;
  let createNodesV2: CreateNodesV2;
  const write = (files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(ws, path)), { recursive: true });
      writeFileSync(join(ws, path), content);
    }
  };

  /** root → target → dependsOn */
  const dependsOn = async (files: string[]): Promise<Record<string, Record<string, DependsOn | undefined>>> => {
    const results = await createNodesV2[1](files, { arches: ['amd64', 'arm64'] }, { workspaceRoot: ws, nxJsonConfiguration: {} });
    const out: Record<string, Record<string, DependsOn | undefined>> = {};
    for (const [, result] of results as Array<readonly [string, CreateNodesResult]>) {
      for (const [root, p] of Object.entries(result.projects ?? {})) {
        out[root] = Object.fromEntries(Object.entries(p.targets ?? {}).map(([t, c]) => [t, c.dependsOn]));
      }
    }
    return out;
  };

  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'nxm-narrow-'));
    process.env.NX_WORKSPACE_DATA_DIRECTORY = join(ws, '.nx-data');
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      createNodesV2 = (require('./create-nodes') as typeof import('./create-nodes')).createNodesV2;
    });
    write({
      // A repository in Linkerd's shape: one Go module, images built with the repository as context.
      'repo/project.json': projectJson({ name: 'repo' }),
      'repo/go.mod': 'module example.com/repo\n',
      'repo/app/main.go': goMain,
      'repo/app/Dockerfile': [
        'FROM --platform=$BUILDPLATFORM golang:1.26 AS build',
        'WORKDIR /src',
        'COPY . .',
        'ARG TARGETARCH',
        'RUN GOARCH=$TARGETARCH go build -o /out/app ./app',
        'FROM scratch',
        'COPY --from=build /out/app /app',
        '',
      ].join('\n'),
      'repo/app/project.json': projectJson({ name: 'app', targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { context: 'repository' } } } }),
      // Its image holds its own binary only; the dependency on app is its integration test's.
      'repo/web/main.go': goMain,
      'repo/web/Dockerfile': [
        'FROM --platform=$BUILDPLATFORM golang:1.26 AS build',
        'WORKDIR /src',
        'COPY . .',
        'ARG TARGETARCH',
        'RUN GOARCH=$TARGETARCH go build -o /out/web ./web',
        'FROM scratch',
        'COPY --from=build /out/web /web',
        '',
      ].join('\n'),
      'repo/web/project.json': projectJson({
        name: 'web',
        implicitDependencies: ['app'],
        targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { context: 'repository' } } },
      }),
      // An image that compiles app's package in its build stage.
      'repo/bundle/Dockerfile': [
        'FROM --platform=$BUILDPLATFORM golang:1.26 AS build',
        'WORKDIR /src',
        'COPY . .',
        'ARG TARGETARCH',
        'RUN GOARCH=$TARGETARCH go build -o /out/app ./app',
        'FROM scratch',
        'COPY --from=build /out/app /usr/bin/app',
        '',
      ].join('\n'),
      'repo/bundle/project.json': projectJson({ name: 'bundle', targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { context: 'repository' } } } }),
    });
  });
  afterEach(() => {
    delete process.env.NX_WORKSPACE_DATA_DIRECTORY;
    rmSync(ws, { recursive: true, force: true });
  });

  const REPO = ['repo/project.json', 'repo/app/main.go', 'repo/app/Dockerfile', 'repo/app/project.json', 'repo/web/main.go', 'repo/web/Dockerfile', 'repo/web/project.json', 'repo/bundle/Dockerfile', 'repo/bundle/project.json'];

  it('an image that holds only its own binary depends on its own go-cross, not on a dependency named for its tests', async () => {
    const deps = await dependsOn(REPO);
    expect(deps['repo/web']['docker-arch-build--arm64']).toEqual([{ target: 'go-cross--arm64' }]);
    expect(deps['repo/web']['docker-arch-build']).toEqual([{ target: 'go-cross', params: 'forward' }]);
  });

  it("an image whose build stage compiles another project's package depends on that project's go-cross", async () => {
    const deps = await dependsOn(REPO);
    expect(deps['repo/bundle']['docker-arch-build--amd64']).toEqual([{ target: 'go-cross--amd64', projects: ['app'] }]);
    expect(deps['repo/bundle']['docker-arch-build']).toEqual([{ target: 'go-cross', params: 'forward', projects: ['app'] }]);
  });

  it("artifacts under dist/cross/<project>/ name their producer; an artifact from anywhere else keeps every dependency's", async () => {
    write({
      'repo/pack/Dockerfile': 'FROM scratch\nCOPY bin /usr/bin\n',
      'repo/pack/project.json': projectJson({
        name: 'pack',
        implicitDependencies: ['web'],
        targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { artifacts: [{ from: 'dist/cross/app/{arch}/app', to: 'bin' }] } } },
      }),
      'repo/odd/Dockerfile': 'FROM scratch\nCOPY bin /usr/bin\n',
      'repo/odd/project.json': projectJson({
        name: 'odd',
        implicitDependencies: ['app'],
        targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { artifacts: [{ from: 'build/app/{arch}', to: 'bin' }] } } },
      }),
    });
    const deps = await dependsOn([...REPO, 'repo/pack/Dockerfile', 'repo/pack/project.json', 'repo/odd/Dockerfile', 'repo/odd/project.json']);
    expect(deps['repo/pack']['docker-arch-build--arm64']).toEqual([{ target: 'go-cross--arm64', projects: ['app'] }]);
    expect(deps['repo/odd']['docker-arch-build--arm64']).toEqual([
      { dependencies: true, target: 'go-cross--arm64' },
      { dependencies: true, target: 'cargo-cross--arm64' },
    ]);
  });

  it("a build context that holds the cross outputs (the workspace root) keeps every dependency's", async () => {
    write({
      'repo/wide/Dockerfile': 'FROM scratch\nCOPY dist/cross /opt\n',
      'repo/wide/project.json': projectJson({ name: 'wide', targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { context: '.' } } } }),
    });
    const deps = await dependsOn([...REPO, 'repo/wide/Dockerfile', 'repo/wide/project.json']);
    expect(deps['repo/wide']['docker-arch-build--arm64']).toEqual([
      { dependencies: true, target: 'go-cross--arm64' },
      { dependencies: true, target: 'cargo-cross--arm64' },
    ]);
  });

  it("a build stage no project builds keeps every dependency's (the build itself refuses it)", async () => {
    write({
      // A package main no go-cross builds (an ignored file makes no project).
      'repo/nowhere/main.go': '//go:build ignore\n\npackage main\n\nfunc main() {}\n',
      'repo/lost/Dockerfile': [
        'FROM --platform=$BUILDPLATFORM golang:1.26 AS build',
        'WORKDIR /src',
        'COPY . .',
        'ARG TARGETARCH',
        'RUN GOARCH=$TARGETARCH go build -o /out/x ./nowhere',
        'FROM scratch',
        'COPY --from=build /out/x /x',
        '',
      ].join('\n'),
      'repo/lost/project.json': projectJson({ name: 'lost', targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { context: 'repository' } } } }),
    });
    const deps = await dependsOn([...REPO, 'repo/lost/Dockerfile', 'repo/lost/project.json']);
    expect(deps['repo/lost']['docker-arch-build--arm64']).toEqual([
      { dependencies: true, target: 'go-cross--arm64' },
      { dependencies: true, target: 'cargo-cross--arm64' },
    ]);
  });
});
