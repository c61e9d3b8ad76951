import { MultiarchError } from '../../errors';
import { baseCandidates, normalizeImageName, validateBaseSourceOptions } from './base-resolve';

describe('normalizeImageName (Docker familiar names)', () => {
  it('puts a name without a registry host on Docker Hub, a one-part name under library/', () => {
    expect(normalizeImageName('alpine:3.20')).toEqual({ registry: 'docker.io', repository: 'library/alpine', tag: '3.20' });
    expect(normalizeImageName('linkerd/proxy')).toEqual({ registry: 'docker.io', repository: 'linkerd/proxy' });
    expect(normalizeImageName('index.docker.io/library/alpine:3.20')).toEqual({ registry: 'docker.io', repository: 'library/alpine', tag: '3.20' });
  });

  it('keeps a host with a dot, a port or localhost as the registry', () => {
    expect(normalizeImageName('127.0.0.1:5000/base/busybox:stable')).toEqual({ registry: '127.0.0.1:5000', repository: 'base/busybox', tag: 'stable' });
    expect(normalizeImageName('ghcr.io/linkerd/proxy@sha256:' + 'a'.repeat(64))).toEqual({ registry: 'ghcr.io', repository: 'linkerd/proxy', digest: 'sha256:' + 'a'.repeat(64) });
  });

  it('leaves scratch and layouts alone', () => {
    expect(normalizeImageName('scratch')).toBeUndefined();
    expect(normalizeImageName('oci-layout://bases/busybox')).toBeUndefined();
  });
});

describe('baseCandidates', () => {
  const mirrors = { 'docker.io': ['127.0.0.1:5001', '127.0.0.1:5002/hub'], 'ghcr.io': ['127.0.0.1:5003'] };

  it('tries Docker Hub images on the mirrors only, in order, keeping the repository path under a prefix', () => {
    const { candidates, originSkipped } = baseCandidates('alpine:3.20', { registryMirrors: mirrors });
    expect(candidates.map((c) => c.image)).toEqual(['127.0.0.1:5001/library/alpine:3.20', '127.0.0.1:5002/hub/library/alpine:3.20']);
    expect(originSkipped).toMatch(/Docker Hub/);
  });

  it('tries another registry on its mirrors, then itself', () => {
    const { candidates } = baseCandidates('ghcr.io/linkerd/proxy:v1', { registryMirrors: mirrors });
    expect(candidates.map((c) => [c.via, c.image])).toEqual([
      ['mirror', '127.0.0.1:5003/linkerd/proxy:v1'],
      ['origin', 'ghcr.io/linkerd/proxy:v1'],
    ]);
  });

  it('has no candidate for a Docker Hub image without a mirror', () => {
    expect(baseCandidates('alpine:3.20').candidates).toEqual([]);
  });

  it('uses a substitute alone, matching the key as Docker normalises names', () => {
    const baseImages = { 'docker.io/library/alpine': 'oci-layout://vendor/alpine:3.20', 'ghcr.io/x/y:1': '127.0.0.1:5000/y:1' };
    expect(baseCandidates('alpine', { baseImages, registryMirrors: mirrors }).candidates).toEqual([{ image: 'oci-layout://vendor/alpine:3.20', via: 'substitution' }]);
    expect(baseCandidates('alpine:latest', { baseImages }).candidates.map((c) => c.image)).toEqual(['oci-layout://vendor/alpine:3.20']);
    expect(baseCandidates('alpine:3.19', { baseImages }).candidates).toEqual([]);
    expect(baseCandidates('ghcr.io/x/y:1', { baseImages }).candidates.map((c) => c.image)).toEqual(['127.0.0.1:5000/y:1']);
  });

  it('passes scratch and layouts through', () => {
    expect(baseCandidates('scratch', { registryMirrors: mirrors }).candidates).toEqual([{ image: 'scratch', via: 'as-written' }]);
    expect(baseCandidates('oci-layout://bases/b:1').candidates).toEqual([{ image: 'oci-layout://bases/b:1', via: 'as-written' }]);
  });
});

describe('validateBaseSourceOptions', () => {
  it('accepts the documented shapes, normalising Hub aliases and schemes', () => {
    expect(validateBaseSourceOptions({ 'registry-1.docker.io': ['http://127.0.0.1:5000/'] }, { alpine: 'oci-layout://v' })).toEqual({
      registryMirrors: { 'docker.io': ['127.0.0.1:5000'] },
      baseImages: { alpine: 'oci-layout://v' },
    });
  });

  it.each([
    [['127.0.0.1:5000'], undefined, /registryMirrors option must be an object/],
    [{ 'docker.io': [5000] }, undefined, /registryMirrors\["docker.io"\] must be a list/],
    [{ 'docker.io': ['not a host'] }, undefined, /"not a host" is not a mirror address/],
    [undefined, { alpine: 3 }, /baseImages\["alpine"\] must be an image reference/],
  ])('refuses a wrong shape with the fix (%j, %j)', (mirrors, images, message) => {
    let error: unknown;
    try {
      validateBaseSourceOptions(mirrors, images);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultiarchError);
    expect((error as MultiarchError).message).toMatch(message);
    expect((error as MultiarchError).hint).toMatch(/registryMirrors as \{ "docker.io"/);
  });
});
