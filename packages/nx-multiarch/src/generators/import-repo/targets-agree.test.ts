// Inference (graph/) and import-repo write the same cross targets; checked here, above both layers.
import { inferTargets, resolveOptions } from '../../graph/infer-targets';
import { cargoCrossTarget, goCrossTarget } from './targets';
import type { ProjectFacts } from '../../graph/project-facts';

function facts(overrides: Partial<ProjectFacts>): ProjectFacts {
  return {
    root: 'packages/app',
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

describe('import-repo and inference agree', () => {
  it('hashes what import-repo hashes: go.sum, vendor/modules.txt, //go:embed files and GOEXPERIMENT', () => {
    const inferred = inferTargets(
      facts({ root: 'packages/linkerd2/web', goMain: true, goModuleRoot: 'packages/linkerd2', goEmbeds: ['packages/linkerd2/web/srv/dashboard.html.tmpl'] }),
      options,
    )['go-cross'];
    const written = goCrossTarget(
      { dir: 'packages/linkerd2/web', moduleRoot: 'packages/linkerd2', modulePath: 'example.com/linkerd2', binaryName: 'web', embeds: ['packages/linkerd2/web/srv/dashboard.html.tmpl'] },
      'web',
    );
    expect(inferred.inputs).toEqual(['production', '^production', ...(written.inputs ?? [])]);
    expect(inferred.inputs).toEqual(
      expect.arrayContaining([
        '{workspaceRoot}/packages/linkerd2/go.sum',
        '{workspaceRoot}/packages/linkerd2/vendor/modules.txt',
        '{workspaceRoot}/packages/linkerd2/web/srv/dashboard.html.tmpl',
        { env: 'GOEXPERIMENT' },
      ]),
    );
    expect(inferred.outputs).toEqual(written.outputs);
  });

  it('hashes the whole Cargo workspace of a member crate, as import-repo does', () => {
    const inferred = inferTargets(facts({ root: 'rust/crates/app', cargoPackage: true, cargoRoot: 'rust' }), options)['cargo-cross'];
    const written = cargoCrossTarget({ dir: 'rust/crates/app', name: 'app', bins: ['app'], cargoRoot: 'rust' });
    expect(inferred.inputs).toEqual(['production', '^production', ...(written.inputs ?? [])]);
  });

});
