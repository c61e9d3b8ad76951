import { packageFromMetadata } from './cargo-metadata';

describe('packageFromMetadata', () => {
  const metadata = {
    workspace_root: '/ws/rust',
    packages: [
      { name: 'lib-only', version: '0.1.0', manifest_path: '/ws/rust/lib-only/Cargo.toml', license_file: null, targets: [{ name: 'lib_only', kind: ['lib'] }] },
      {
        name: 'proxy',
        version: '2.3.4',
        manifest_path: '/ws/rust/proxy/Cargo.toml',
        license_file: '../LICENSE-APACHE',
        targets: [
          { name: 'proxy', kind: ['lib'] },
          { name: 'proxy', kind: ['bin'] },
          { name: 'proxy-admin', kind: ['bin'] },
        ],
      },
    ],
  };

  it('picks the package of the manifest from a cargo workspace and lists its bins', () => {
    expect(packageFromMetadata(metadata, '/ws/rust/proxy/Cargo.toml')).toEqual({
      name: 'proxy',
      version: '2.3.4',
      manifestDir: '/ws/rust/proxy',
      bins: ['proxy', 'proxy-admin'],
      licenseFile: '/ws/rust/LICENSE-APACHE',
      cargoWorkspaceRoot: '/ws/rust',
    });
  });

  it('refuses a manifest that is not a package', () => {
    expect(() => packageFromMetadata(metadata, '/ws/rust/Cargo.toml')).toThrow(/not a package manifest/);
  });
});
