import { artifactProjects } from './create-dependencies';

describe('artifactProjects', () => {
  it('names the projects whose cross outputs an image stages', () => {
    expect(
      artifactProjects([
        { package: 'dist/cross/linkerd2-proxy/{arch}', to: 'bin' },
        { from: '{workspaceRoot}/dist/cross/linkerd2-proxy-init/{arch}/linkerd2-proxy-init', to: 'bin' },
        { from: 'dist/images/other/{arch}' },
      ]),
    ).toEqual(['linkerd2-proxy', 'linkerd2-proxy-init']);
  });
  it('ignores anything that is not a list', () => {
    expect(artifactProjects(undefined)).toEqual([]);
  });
});
