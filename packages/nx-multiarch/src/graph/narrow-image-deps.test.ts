import type { TargetDependencyConfig } from '@nx/devkit';
import { nodesTestWorkspace, type NodesTestWorkspace } from '../../test/support/nodes-workspace';

/**
 * What each inferred image target depends on, through createNodes on a
 * workspace of small projects: the cross targets of the projects its image
 * reads, and every dependency's where that cannot be told for sure.
 */

type DependsOn = Array<string | TargetDependencyConfig>;

const goMain = 'package main\n\nfunc main() {}\n';

/** A Linkerd-shaped Dockerfile: `go build` of `pkg` in a $BUILDPLATFORM stage, its binary copied into scratch. */
function goStageDockerfile(pkg: string): string {
  return [
    'FROM --platform=$BUILDPLATFORM golang:1.26 AS build',
    'WORKDIR /src',
    'COPY . .',
    'ARG TARGETARCH',
    `RUN GOARCH=$TARGETARCH go build -o /out/bin ./${pkg}`,
    'FROM scratch',
    'COPY --from=build /out/bin /bin',
    '',
  ].join('\n');
}

/** A project.json with a docker-arch-build of these options. */
function imageProject(name: string, options: Record<string, unknown>, implicitDependencies?: string[]): string {
  return JSON.stringify({ name, ...(implicitDependencies ? { implicitDependencies } : {}), targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options } } });
}

/** What an image depends on when its producers cannot be told: every dependency's cross targets, as before. */
const EVERY_DEPENDENCY: DependsOn = [
  { dependencies: true, target: 'go-cross--arm64' },
  { dependencies: true, target: 'cargo-cross--arm64' },
];

describe('docker-arch-build depends on the projects its image reads', () => {
  let ws: NodesTestWorkspace;

  /** root → target → dependsOn */
  const dependsOn = async (files: string[]): Promise<Record<string, Record<string, DependsOn | undefined>>> => {
    const projects = await ws.projects(files, { arches: ['amd64', 'arm64'] });
    return Object.fromEntries(Object.entries(projects).map(([root, p]) => [root, Object.fromEntries(Object.entries(p.targets ?? {}).map(([t, c]) => [t, c.dependsOn]))]));
  };

  beforeEach(() => {
    ws = nodesTestWorkspace('nxm-narrow-');
    ws.write({
      // A repository in Linkerd's shape: one Go module, images built with the repository as context.
      'repo/project.json': JSON.stringify({ name: 'repo' }),
      'repo/go.mod': 'module example.com/repo\n',
      'repo/app/main.go': goMain,
      'repo/app/Dockerfile': goStageDockerfile('app'),
      'repo/app/project.json': imageProject('app', { context: 'repository' }),
      // Its image holds its own binary only; the dependency on app is its integration test's.
      'repo/web/main.go': goMain,
      'repo/web/Dockerfile': goStageDockerfile('web'),
      'repo/web/project.json': imageProject('web', { context: 'repository' }, ['app']),
      // An image that compiles app's package in its build stage.
      'repo/bundle/Dockerfile': goStageDockerfile('app'),
      'repo/bundle/project.json': imageProject('bundle', { context: 'repository' }),
    });
  });
  afterEach(() => ws.remove());

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
    ws.write({
      'repo/pack/Dockerfile': 'FROM scratch\nCOPY bin /usr/bin\n',
      'repo/pack/project.json': imageProject('pack', { artifacts: [{ from: 'dist/cross/app/{arch}/app', to: 'bin' }] }, ['web']),
      'repo/odd/Dockerfile': 'FROM scratch\nCOPY bin /usr/bin\n',
      'repo/odd/project.json': imageProject('odd', { artifacts: [{ from: 'build/app/{arch}', to: 'bin' }] }, ['app']),
    });
    const deps = await dependsOn([...REPO, 'repo/pack/Dockerfile', 'repo/pack/project.json', 'repo/odd/Dockerfile', 'repo/odd/project.json']);
    expect(deps['repo/pack']['docker-arch-build--arm64']).toEqual([{ target: 'go-cross--arm64', projects: ['app'] }]);
    expect(deps['repo/odd']['docker-arch-build--arm64']).toEqual(EVERY_DEPENDENCY);
  });

  it("a build context that holds the cross outputs (the workspace root) keeps every dependency's", async () => {
    ws.write({
      'repo/wide/Dockerfile': 'FROM scratch\nCOPY dist/cross /opt\n',
      'repo/wide/project.json': imageProject('wide', { context: '.' }),
    });
    const deps = await dependsOn([...REPO, 'repo/wide/Dockerfile', 'repo/wide/project.json']);
    expect(deps['repo/wide']['docker-arch-build--arm64']).toEqual(EVERY_DEPENDENCY);
  });

  it("a build stage no project builds keeps every dependency's (the build itself refuses it)", async () => {
    ws.write({
      // A package main no go-cross builds (an ignored file makes no project).
      'repo/nowhere/main.go': '//go:build ignore\n\npackage main\n\nfunc main() {}\n',
      'repo/lost/Dockerfile': goStageDockerfile('nowhere'),
      'repo/lost/project.json': imageProject('lost', { context: 'repository' }),
    });
    const deps = await dependsOn([...REPO, 'repo/lost/Dockerfile', 'repo/lost/project.json']);
    expect(deps['repo/lost']['docker-arch-build--arm64']).toEqual(EVERY_DEPENDENCY);
  });
});
