import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MultiarchError } from '../../src/errors';
import { resolveBases } from '../../src/image/resolve-bases';
import { pushBase, writeBusyboxBase, type BusyboxBase } from '../support/busybox-base';
import { freePort, startRegistry, type RegistryServer } from '../support/registry-server';
import { build, cleanUpTemp, imageFiles, tempDir, writeFiles } from './helpers';

/**
 * Where the native engine finds a base: registry mirrors tried in order
 * (then the registry itself, never Docker Hub), substitutions to another
 * registry or an OCI layout, the base recorded in image.json, and the
 * resolve-bases command (the runtime cache input) against a real loopback
 * registry. A "dead" mirror is a loopback port nothing listens on.
 */
const ARCH = 'arm64';
const DOCKERFILE = 'ARG BASE\nFROM ${BASE}\nCOPY app.txt /srv/app.txt\n';

let workspace: string;
let base: BusyboxBase;
let registry: RegistryServer;
let dead: string;
let indexDigest: string;
const out = () => join(workspace, 'dist', 'images', 'demo', ARCH);

beforeAll(async () => {
  workspace = join(await tempDir('base-sources'), 'ws');
  await writeFiles(workspace, { 'packages/demo/Dockerfile': DOCKERFILE, 'packages/demo/app.txt': 'app\n' });
  base = await writeBusyboxBase(join(workspace, 'bases', 'busybox'), [ARCH]);
  registry = await startRegistry();
  // What a Docker Hub mirror holds (library/…) and an image of the registry itself.
  await pushBase(registry.host, 'library/busybox', 'stable', base);
  indexDigest = await pushBase(registry.host, 'base/busybox', 'stable', base);
  dead = `127.0.0.1:${await freePort()}`;
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  await cleanUpTemp();
});

async function failure(extra: Parameters<typeof build>[2]): Promise<MultiarchError> {
  const error = await build(workspace, ARCH, extra).then(
    () => undefined,
    (e: MultiarchError) => e,
  );
  expect(error).toBeDefined();
  expect(existsSync(out())).toBe(false);
  return error as MultiarchError;
}

describe('registryMirrors', () => {
  it('pulls a Docker Hub image from the first mirror that answers, logs the one that did not, and records the base in image.json', async () => {
    const lines: string[] = [];
    const { summary, outputDir } = await build(workspace, ARCH, {
      buildArgs: { BASE: 'busybox:stable' },
      registryMirrors: { 'docker.io': [dead, registry.host] },
      log: (line) => lines.push(line),
    });
    expect(summary.base).toEqual({ image: 'busybox:stable', source: `${registry.host}/library/busybox:stable`, digest: base.manifests[ARCH]?.digest });
    expect(lines.join('\n')).toContain(`pulled from ${registry.host}/library/busybox:stable after mirror ${dead}`);
    expect((await imageFiles(outputDir)).get('bin/busybox')?.content?.equals(base.binaries[ARCH] as Buffer)).toBe(true);
  });

  it('falls back to the registry itself when its mirror does not answer', async () => {
    const image = `${registry.host}/base/busybox:stable`;
    const { summary } = await build(workspace, ARCH, { buildArgs: { BASE: image }, registryMirrors: { [registry.host]: [dead] } });
    expect(summary.base).toEqual({ image, source: image, digest: base.manifests[ARCH]?.digest });
  });

  it('fails clearly when the only mirror of a Docker Hub image does not answer: the mirror, the reason, the fix', async () => {
    const error = await failure({ buildArgs: { BASE: 'busybox:stable' }, registryMirrors: { 'docker.io': [dead] } });
    expect(error.message).toContain('FROM busybox:stable could not be pulled from any source:');
    expect(error.message).toContain(`mirror ${dead} (${dead}/library/busybox:stable): Cannot connect to the registry http://${dead}: connection refused.`);
    expect(error.message).toContain('docker.io: not tried (Docker Hub itself is not pulled from)');
    expect(error.hint).toMatch(/Start the mirror or fix its address in registryMirrors\["docker.io"\].*baseImages/);
  });

  it('refuses a Docker Hub image without a mirror, naming both options', async () => {
    const error = await failure({ buildArgs: { BASE: 'busybox:stable' } });
    expect(error.message).toMatch(/FROM busybox:stable is a Docker Hub image \(docker.io\/library\/busybox:stable\).*only through a registry mirror or a substitution/);
    expect(error.hint).toMatch(/registryMirrors \{ "docker.io".*baseImages/);
  });

  it('refuses a malformed option before anything is built', async () => {
    const error = await failure({ buildArgs: { BASE: 'busybox:stable' }, registryMirrors: { 'docker.io': 'x y' } });
    expect(error.message).toMatch(/"x y" is not a mirror address/);
  });
});

describe('baseImages', () => {
  it('substitutes an OCI layout for a Docker Hub image, giving the same image as FROM the layout', async () => {
    const direct = await build(workspace, ARCH, { buildArgs: { BASE: 'oci-layout://bases/busybox' } });
    const { summary } = await build(workspace, ARCH, { buildArgs: { BASE: 'alpine:3.20' }, baseImages: { 'alpine:3.20': 'oci-layout://bases/busybox' } });
    expect(summary.base).toEqual({ image: 'alpine:3.20', source: 'oci-layout://bases/busybox', digest: base.manifests[ARCH]?.digest });
    expect(summary.manifestDigest).toBe(direct.summary.manifestDigest);
  });

  it('substitutes a registry image, matching the key as Docker normalises the name', async () => {
    const to = `${registry.host}/base/busybox:stable`;
    const { summary } = await build(workspace, ARCH, { buildArgs: { BASE: 'alpine:3.20' }, baseImages: { 'docker.io/library/alpine:3.20': to } });
    expect(summary.base?.source).toBe(to);
  });
});

describe('resolve-bases (the runtime cache input)', () => {
  const resolveDemo = () => resolveBases({ workspaceRoot: workspace, projectRoot: 'packages/demo', target: 'docker-arch-build', arches: ['amd64', ARCH] });
  const writeConfig = async (pluginOptions: Record<string, unknown>, buildArgs: Record<string, string>) => {
    await writeFile(join(workspace, 'nx.json'), JSON.stringify({ plugins: [{ plugin: 'nx-multiarch', options: pluginOptions }] }));
    await writeFile(join(workspace, 'packages/demo/project.json'), JSON.stringify({ name: 'demo', targets: { 'docker-arch-build': { options: { buildArgs } } } }));
  };

  it('prints the digest the tag names now, once for every arch, through the mirrors of nx.json', async () => {
    await writeConfig({ registryMirrors: { 'docker.io': [dead, registry.host] } }, { BASE: 'busybox:stable' });
    expect(await resolveDemo()).toEqual([`busybox:stable ${indexDigest}`]);
  });

  it('prints a new digest after the tag moved', async () => {
    const other = await writeBusyboxBase(join(workspace, 'bases', 'other'), [ARCH], { label: 'busybox-v2' });
    await writeConfig({}, { BASE: `${registry.host}/base/moving:stable` });
    const first = await pushBase(registry.host, 'base/moving', 'stable', base);
    expect(await resolveDemo()).toEqual([`${registry.host}/base/moving:stable ${first}`]);
    const moved = await pushBase(registry.host, 'base/moving', 'stable', other);
    expect(moved).not.toBe(first);
    expect(await resolveDemo()).toEqual([`${registry.host}/base/moving:stable ${moved}`]);
  });

  it('prints "unresolved" quickly when no source answers, and the layout digest for a substitute layout', async () => {
    await writeConfig({ registryMirrors: { 'docker.io': [dead] } }, { BASE: 'busybox:stable' });
    const started = Date.now();
    expect(await resolveDemo()).toEqual(['busybox:stable unresolved']);
    expect(Date.now() - started).toBeLessThan(5000);
    await writeConfig({ baseImages: { busybox: 'oci-layout://bases/busybox' } }, { BASE: 'busybox' });
    expect(await resolveDemo()).toEqual([expect.stringMatching(/^busybox sha256:[0-9a-f]{64}$/)]);
  });
});
