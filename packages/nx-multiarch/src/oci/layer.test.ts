import * as tarStream from 'tar-stream';
import { gunzip } from './gzip';
import { sha256Digest } from './digest';
import { buildLayer, createLayerTar, layerPath, type LayerEntry } from './layer';

interface Header {
  name: string;
  uid: number;
  gid: number;
  mode: number;
  mtime: number;
}

async function headers(tar: Buffer): Promise<Header[]> {
  const extract = tarStream.extract();
  const out: Header[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    out.push({ name: header.name, uid: header.uid ?? -1, gid: header.gid ?? -1, mode: header.mode ?? -1, mtime: (header.mtime?.getTime() ?? 0) / 1000 });
    stream.on('end', next);
    stream.resume();
  });
  extract.end(tar);
  await done;
  return out;
}

const entries: LayerEntry[] = [
  { path: 'usr/lib/linkerd/linkerd2-proxy', type: 'file', mode: 0o755, content: Buffer.from('bin'), uid: 65532, gid: 65532 },
  { path: 'etc/motd', type: 'file', content: Buffer.from('hi\n') },
];

describe('image layers', () => {
  it('writes numeric owners, the fixed mtime and parents over scratch', async () => {
    const tar = await createLayerTar(entries, { mtime: 1700000000, includeParents: true });
    expect(await headers(tar)).toEqual([
      { name: 'etc/', uid: 0, gid: 0, mode: 0o755, mtime: 1700000000 },
      { name: 'etc/motd', uid: 0, gid: 0, mode: 0o644, mtime: 1700000000 },
      { name: 'usr/', uid: 0, gid: 0, mode: 0o755, mtime: 1700000000 },
      { name: 'usr/lib/', uid: 0, gid: 0, mode: 0o755, mtime: 1700000000 },
      { name: 'usr/lib/linkerd/', uid: 0, gid: 0, mode: 0o755, mtime: 1700000000 },
      { name: 'usr/lib/linkerd/linkerd2-proxy', uid: 65532, gid: 65532, mode: 0o755, mtime: 1700000000 },
    ]);
  });

  it('leaves parents out over a base image, so the base keeps its folder modes', async () => {
    const tar = await createLayerTar(entries, { mtime: 0, includeParents: false });
    expect((await headers(tar)).map((h) => h.name)).toEqual(['etc/motd', 'usr/lib/linkerd/linkerd2-proxy']);
  });

  it('gives the same digests for the same entries in any order; diff id is the tar digest', async () => {
    const a = await buildLayer(entries, { mtime: 5, includeParents: true });
    const b = await buildLayer([...entries].reverse(), { mtime: 5, includeParents: true });
    expect(b.digest).toBe(a.digest);
    expect(a.diffId).toBe(sha256Digest(gunzip(a.blob)));
    const other = await buildLayer(entries, { mtime: 6, includeParents: true });
    expect(other.digest).not.toBe(a.digest);
  });

  it('maps image paths to entry paths', () => {
    expect(layerPath('/usr/lib/../bin/x')).toBe('usr/bin/x');
  });
});
