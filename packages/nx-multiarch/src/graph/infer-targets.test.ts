import { inferTargets, resolveOptions } from './infer-targets';
import { readProjectFacts, type ProjectFacts } from './project-facts';
import { resolve } from 'node:path';
import { cargoCrossInputs, CROSS_OUTPUTS, goCrossInputs } from '../project/target-templates';

function facts(overrides: Partial<ProjectFacts>): ProjectFacts {
  return {
    root: 'packages/app',
    hasProjectJson: false,
    fallbackName: 'app',
    declaredTargets: {},
    cargoPackage: false,
    goMain: false,
    goEmbeds: [],
    dockerfile: false,
    integrationTests: false,
    ...overrides,
  };
}

const options = resolveOptions({ arches: ['amd64', 'arm64', 'arm'] });

describe('the build context an inferred image uses', () => {
  const workspace = resolve(__dirname, '../../../..');

  it('is the repository when the Dockerfile COPYs from the repository root (Linkerd\'s shape)', () => {
    expect(readProjectFacts(workspace, 'packages/linkerd2/controller').dockerContext).toBe('repository');
    const targets = inferTargets(facts({ dockerfile: true, dockerContext: 'repository' }), options);
    expect(targets['docker-arch-build'].options).toEqual({ arch: expect.any(String), context: 'repository' });
    expect(targets['docker-arch-build--arm'].options).toEqual({ arch: 'arm', context: 'repository' });
  });

  it('stays the Dockerfile\'s folder when its COPY sources are there', () => {
    expect(readProjectFacts(workspace, 'packages/linkerd2-proxy-init').dockerContext).toBeUndefined();
    expect(readProjectFacts(workspace, 'packages/nx-multiarch-cache-server').dockerContext).toBeUndefined();
    expect(inferTargets(facts({ dockerfile: true }), options)['docker-arch-build'].options).toEqual({ arch: expect.any(String) });
  });
});

describe('inferTargets', () => {
  it('infers nothing for a folder with nothing to build', () => {
    expect(inferTargets(facts({}), options)).toEqual({});
  });

  it('gives a Cargo binary a cargo-cross target and one variant per arch, cached, output per arch', () => {
    const targets = inferTargets(facts({ cargoPackage: true }), options);
    expect(Object.keys(targets).sort()).toEqual(['cargo-cross', 'cargo-cross--amd64', 'cargo-cross--arm', 'cargo-cross--arm64']);
    expect(targets['cargo-cross'].cache).toBe(true);
    expect(targets['cargo-cross'].outputs).toEqual(['{workspaceRoot}/dist/cross/{projectName}/{options.arch}']);
    expect(targets['cargo-cross--arm'].options).toEqual({ arch: 'arm' });
    // The lockfile and the toolchain pin decide what compiles, so they are hashed by name.
    for (const name of ['cargo-cross', 'cargo-cross--arm']) {
      expect(targets[name].inputs).toEqual(
        expect.arrayContaining(['Cargo.lock', 'rust-toolchain.toml', 'rust-toolchain'].map((f) => `{workspaceRoot}/packages/app/${f}`)),
      );
    }
  });

  it('keeps the Dockerfile a go-cross input only when a //go:embed pattern could take it into the binary', () => {
    const goCross = (goEmbeds: string[]) => inferTargets(facts({ root: 'cmd/tool', goMain: true, goEmbeds }), options)['go-cross'].inputs;
    expect(goCross(['cmd/tool/templates/page.html'])).toContain('!{projectRoot}/Dockerfile');
    expect(goCross(['cmd/tool/help.txt'])).toContain('!{projectRoot}/Dockerfile');
    for (const embeds of [['cmd/tool/*'], ['cmd/tool/Dockerfile'], ['cmd/tool/all:.dockerignore'], ['cmd/tool/file?.txt']]) {
      expect(goCross(embeds)).not.toContain('!{projectRoot}/Dockerfile');
    }
    // A main at the workspace root: its patterns have no folder part.
    const atRoot = (goEmbeds: string[]) => inferTargets(facts({ root: '', goMain: true, goEmbeds }), options)['go-cross'].inputs;
    expect(atRoot(['static/index.html'])).toContain('!{projectRoot}/Dockerfile');
    expect(atRoot(['Dockerfile'])).not.toContain('!{projectRoot}/Dockerfile');
    expect(atRoot(['*.txt'])).not.toContain('!{projectRoot}/Dockerfile');
  });

  it('hashes what import-repo hashes: go.sum, vendor/modules.txt, //go:embed files and GOEXPERIMENT', () => {
    const inferred = inferTargets(
      facts({ root: 'packages/linkerd2/web', goMain: true, goModuleRoot: 'packages/linkerd2', goEmbeds: ['packages/linkerd2/web/srv/dashboard.html.tmpl'] }),
      options,
    )['go-cross'];
    // import-repo's go-cross target takes its inputs from the same template (generators/import-repo/targets.ts).
    expect(inferred.inputs).toEqual([
      'production',
      '!{projectRoot}/Dockerfile',
      '!{projectRoot}/Dockerfile.dockerignore',
      '!{projectRoot}/.dockerignore',
      '^production',
      ...goCrossInputs('packages/linkerd2', ['packages/linkerd2/web/srv/dashboard.html.tmpl']),
    ]);
    expect(inferred.inputs).toEqual(
      expect.arrayContaining([
        '{workspaceRoot}/packages/linkerd2/go.sum',
        '{workspaceRoot}/packages/linkerd2/vendor/modules.txt',
        '{workspaceRoot}/packages/linkerd2/web/srv/dashboard.html.tmpl',
        { env: 'GOEXPERIMENT' },
      ]),
    );
    expect(inferred.outputs).toEqual(CROSS_OUTPUTS);
  });

  it('hashes only the packages a main of a bigger module compiles, when its imports say which', () => {
    const inferred = inferTargets(
      facts({
        root: 'packages/linkerd2/web',
        goMain: true,
        goModuleRoot: 'packages/linkerd2',
        goEmbeds: ['packages/linkerd2/web/srv/dashboard.html.tmpl', 'packages/linkerd2/cli/templates/install.yaml'],
        goPackages: { packageDirs: ['packages/linkerd2/pkg/k8s', 'packages/linkerd2/web'], embeds: ['packages/linkerd2/web/srv/dashboard.html.tmpl'] },
      }),
      options,
    )['go-cross'];
    expect(inferred.inputs).toEqual(
      expect.arrayContaining([
        '{workspaceRoot}/packages/linkerd2/web/*.go',
        '!{workspaceRoot}/packages/linkerd2/web/*_test.go',
        '{workspaceRoot}/packages/linkerd2/pkg/k8s/*.go',
        '{workspaceRoot}/packages/linkerd2/pkg/k8s/*.s',
        '{workspaceRoot}/packages/linkerd2/go.sum',
        '{workspaceRoot}/packages/linkerd2/web/srv/dashboard.html.tmpl',
      ]),
    );
    // Neither the rest of the module nor the embeds of packages the main does not import.
    expect(inferred.inputs).not.toContain('{workspaceRoot}/packages/linkerd2/**/*.go');
    expect(inferred.inputs).not.toContain('{workspaceRoot}/packages/linkerd2/cli/templates/install.yaml');
  });

  it('hashes the whole Cargo workspace of a member crate, as import-repo does', () => {
    const inferred = inferTargets(facts({ root: 'rust/crates/app', cargoPackage: true, cargoRoot: 'rust' }), options)['cargo-cross'];
    expect(inferred.inputs).toEqual(['production', '^production', ...cargoCrossInputs('rust')]);
    expect(inferred.inputs).toContain('{workspaceRoot}/rust/**/*');
  });

  it('points a Go main inside a bigger module at the module root', () => {
    const targets = inferTargets(
      facts({ root: 'packages/linkerd2/controller', goMain: true, goModuleRoot: 'packages/linkerd2' }),
      options,
    );
    expect(targets['go-cross'].options).toEqual({ arch: 'amd64', cwd: 'packages/linkerd2', main: ['./controller'] });
    expect(targets['go-cross'].inputs).toContain('{workspaceRoot}/packages/linkerd2/**/*.go');
    // A dependency bump changes go.sum only; the Go that builds follows GOTOOLCHAIN.
    expect(targets['go-cross'].inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/packages/linkerd2/go.sum', { env: 'GOTOOLCHAIN' }, { env: 'CC' }]));
  });

  it('makes each image variant depend on the same arch of its own and its dependencies\' binaries', () => {
    const targets = inferTargets(facts({ goMain: true, goModuleRoot: 'packages/app', dockerfile: true }), options);
    expect(targets['docker-arch-build--arm64'].dependsOn).toEqual([
      { target: 'go-cross--arm64' },
      { dependencies: true, target: 'go-cross--arm64' },
      { dependencies: true, target: 'cargo-cross--arm64' },
    ]);
    expect(targets['docker-arch-build'].dependsOn).toContainEqual({ target: 'go-cross', params: 'forward' });
  });

  it('makes manifest-push depend on every configured arch and never cache', () => {
    const targets = inferTargets(facts({ dockerfile: true }), resolveOptions({ arches: ['arm64', 'armhf'], registry: 'r.example:5000' }));
    expect(targets['manifest-push'].dependsOn).toEqual(['docker-arch-build--arm64', 'docker-arch-build--arm']);
    expect(targets['manifest-push'].cache).toBe(false);
    expect(targets['manifest-push'].options).toEqual({ arches: ['arm64', 'arm'], registry: 'r.example:5000' });
  });

  it('carries project.json options of a declared target into its per-arch variants', () => {
    const artifacts = [{ package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' }];
    const targets = inferTargets(
      facts({ dockerfile: false, declaredTargets: { 'docker-arch-build': { options: { artifacts } } } }),
      options,
    );
    expect(targets['docker-arch-build--arm'].options).toEqual({ artifacts, arch: 'arm' });
  });

  it('refuses an unknown arch in the plugin options', () => {
    expect(() => resolveOptions({ arches: ['mips'] })).toThrow(/Unsupported arch "mips"/);
  });
});

describe('per-arch variants of a declared target', () => {
  it('take its inputs, outputs and cache, and map its dependsOn to the same arch', () => {
    const targets = inferTargets(
      facts({
        dockerfile: true,
        declaredTargets: {
          'docker-arch-build': {
            inputs: ['default', '{workspaceRoot}/Dockerfile.bundle'],
            dependsOn: [{ projects: ['proxy'], target: 'cargo-cross', params: 'forward' }, '^lint'],
            options: { dockerfile: 'Dockerfile.bundle' },
          },
        },
      }),
      options,
    );
    const variant = targets['docker-arch-build--arm'];
    expect(variant.inputs).toEqual(['default', '{workspaceRoot}/Dockerfile.bundle']);
    expect(variant.dependsOn).toContainEqual({ projects: ['proxy'], target: 'cargo-cross--arm' });
    expect(variant.dependsOn).toContain('^lint');
    expect(variant.options).toEqual({ dockerfile: 'Dockerfile.bundle', arch: 'arm' });
  });
});

describe('arch-integration', () => {
  it('is inferred for a binary-only project with integration tests, depending on its binaries and its dependencies\' images', () => {
    const targets = inferTargets(facts({ goMain: true, goModuleRoot: 'packages/app', integrationTests: true }), options);
    expect(targets['arch-integration--arm'].dependsOn).toEqual([
      { target: 'go-cross--arm' },
      { dependencies: true, target: 'docker-arch-build--arm' },
    ]);
    expect(targets['arch-integration'].outputs).toEqual(['{workspaceRoot}/dist/test-results/{projectName}/{options.arch}']);
    expect(targets['docker-arch-build']).toBeUndefined();
  });
  it('hashes the digests a Dockerfile\'s bases name now (a runtime input) only when it pulls a base, and passes the base options on', () => {
    const withBase = resolveOptions({ arches: ['amd64', 'arm'], registryMirrors: { 'docker.io': ['127.0.0.1:5000'] }, baseImages: { alpine: 'oci-layout://v' } });
    const targets = inferTargets(facts({ dockerfile: true, dockerfileHasBase: true }), withBase);
    const runtime = { runtime: 'node node_modules/nx-multiarch/bin/nx-multiarch.js resolve-bases --project-root packages/app --target docker-arch-build --arch amd64,arm' };
    for (const name of ['docker-arch-build', 'docker-arch-build--arm']) {
      expect(targets[name].inputs).toContainEqual(runtime);
      expect(targets[name].options).toMatchObject({ registryMirrors: { 'docker.io': ['127.0.0.1:5000'] }, baseImages: { alpine: 'oci-layout://v' } });
    }
    const scratch = inferTargets(facts({ dockerfile: true, dockerfileHasBase: false }), withBase);
    expect(JSON.stringify(scratch['docker-arch-build'].inputs)).not.toContain('resolve-bases');
  });
  it('makes an image whose Dockerfile downloads a mapped package depend on its producer, per arch', () => {
    const withDownloads = resolveOptions({ arches: ['amd64', 'arm'], downloads: { 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross' } });
    const urls = ['${RELEASES}/${V}/linkerd2-proxy-${V}-${TARGETARCH}.tar.gz'];
    const targets = inferTargets(facts({ dockerfile: true, dockerfileUrls: urls }), withDownloads);
    expect(targets['docker-arch-build--arm'].dependsOn).toContainEqual({ projects: ['linkerd2-proxy'], target: 'cargo-cross--arm' });
    expect(targets['docker-arch-build'].dependsOn).toContainEqual({ projects: ['linkerd2-proxy'], target: 'cargo-cross', params: 'forward' });
    expect(targets['docker-arch-build'].options).toMatchObject({ downloads: { 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross' } });
    const unrelated = inferTargets(facts({ dockerfile: true, dockerfileUrls: ['https://h.invalid/helm-v3.tar.gz'] }), withDownloads);
    expect(JSON.stringify(unrelated['docker-arch-build--arm'].dependsOn)).not.toContain('linkerd2-proxy');
  });
});
