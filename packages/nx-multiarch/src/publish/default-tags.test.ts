import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTags, versionToTag } from './default-tags';
import { resolvePushOptions } from './options';

describe('default tags and options', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-tags-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('uses package.json, then Cargo.toml, then latest', async () => {
    expect(await defaultTags(dir)).toEqual(['latest']);
    await writeFile(join(dir, 'Cargo.toml'), '[package]\nversion = "1.2.3"\n');
    expect(await defaultTags(dir)).toEqual(['1.2.3']);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ version: '4.5.6+meta' }));
    expect(await defaultTags(dir)).toEqual(['4.5.6_meta']);
    expect(versionToTag(' 1.0.0+a+b ')).toBe('1.0.0_a_b');
  });

  it('resolves the registry from the environment, the repository under its prefix, and arches in table names', async () => {
    const resolved = await resolvePushOptions({ arches: 'x86_64, aarch64,linux/arm/v7' }, { workspaceRoot: dir, name: 'proxy', root: '.' }, { NX_MULTIARCH_REGISTRY: '127.0.0.1:5000/linkerd' });
    expect(resolved).toMatchObject({
      target: { registry: '127.0.0.1:5000', prefix: 'linkerd' },
      repository: 'linkerd/proxy',
      tags: ['latest'],
      arches: ['amd64', 'arm64', 'arm'],
      format: 'oci',
      verify: true,
      dryRun: false,
    });
    const explicit = await resolvePushOptions({ registry: 'r.io', tags: ['a', 'b', 'a'], mountFrom: 'x' }, { workspaceRoot: dir, name: 'proxy', root: '.' }, { NX_MULTIARCH_REGISTRY: 'ignored.io' });
    expect(explicit).toMatchObject({ target: { registry: 'r.io' }, tags: ['a', 'b'], mountFrom: ['x'], arches: ['amd64', 'arm64', 'arm'] });
  });

  it('explains an invalid default repository name', async () => {
    await expect(resolvePushOptions({ registry: 'r.io' }, { workspaceRoot: dir, name: '@scope/Proxy', root: '.' }, {})).rejects.toThrow(
      /the default repository is the project name/,
    );
  });
});
