import { parseBaseReference } from './base-image';

describe('parseBaseReference', () => {
  it('reads scratch, layouts with a ref name or digest, and registry references', () => {
    expect(parseBaseReference('scratch')).toEqual({ kind: 'scratch' });
    expect(parseBaseReference('oci-layout://dist/images/base/arm')).toEqual({ kind: 'oci-layout', path: 'dist/images/base/arm' });
    expect(parseBaseReference('oci-layout://bases/busybox:stable')).toEqual({ kind: 'oci-layout', path: 'bases/busybox', refName: 'stable' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseBaseReference(`oci-layout:///abs/layout@${digest}`)).toEqual({ kind: 'oci-layout', path: '/abs/layout', digest });
    expect(parseBaseReference('127.0.0.1:5000/base/busybox:1.35')).toEqual({
      kind: 'registry',
      reference: { registry: '127.0.0.1:5000', repository: 'base/busybox', tag: '1.35' },
    });
  });

  it('refuses an image with no registry host, which would mean Docker Hub', () => {
    expect(() => parseBaseReference('alpine:3.19')).toThrow(/names no registry host/);
    expect(() => parseBaseReference('library/alpine')).toThrow(/names no registry host/);
    expect(() => parseBaseReference('oci-layout://')).toThrow(/names no layout folder/);
  });
});
