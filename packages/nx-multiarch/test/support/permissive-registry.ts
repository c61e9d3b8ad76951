import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small in-memory registry for tests that ACCEPTS OUT-OF-ORDER WRITES: it
 * stores a manifest without checking that the blobs it names exist, and an
 * index without checking its children. Distribution 2.8 (Debian's
 * docker-registry) refuses both, so against it a push that wrote the index
 * first would fail rather than expose a broken tag; here such a push goes
 * through, and only the push's own ordering keeps readers safe. Enough of the
 * Distribution API for the plugin's client: blob HEAD/GET, uploads (POST,
 * PATCH, PUT; no cross-repository mount), manifest HEAD/GET/PUT, tag lists.
 */
export interface PermissiveRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  /** repository -> tag -> digest */
  tags: Map<string, Map<string, string>>;
  stop(): Promise<void>;
}

const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

export async function startPermissiveRegistry(): Promise<PermissiveRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { body: Buffer; mediaType: string }>();
  const tags = new Map<string, Map<string, string>>();
  const uploads = new Map<string, Buffer[]>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://registry');
      const method = req.method ?? '';
      const send = (status: number, headers: Record<string, string | number> = {}, payload?: Buffer | string) => {
        const data = payload === undefined ? Buffer.alloc(0) : Buffer.from(payload);
        res.writeHead(status, { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Length': data.length, ...headers });
        res.end(method === 'HEAD' ? undefined : data);
      };
      const unknown = (code: string) => send(404, { 'Content-Type': 'application/json' }, JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));

      if (url.pathname === '/v2/' || url.pathname === '/v2') return send(200, { 'Content-Type': 'application/json' }, '{}');
      let m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(url.pathname);
      if (m) {
        const [, repo, id] = m;
        const digest = url.searchParams.get('digest');
        if (method === 'POST' && digest) {
          if (sha256(body) !== digest) return send(400, {}, JSON.stringify({ errors: [{ code: 'DIGEST_INVALID' }] }));
          blobs.set(digest, body);
          return send(201, { Location: `/v2/${repo}/blobs/${digest}`, 'Docker-Content-Digest': digest });
        }
        if (method === 'POST') {
          // A mount request is answered as an ordinary upload, which a registry may do.
          const uuid = randomUUID();
          uploads.set(uuid, []);
          return send(202, { Location: `/v2/${repo}/blobs/uploads/${uuid}`, Range: '0-0', 'Docker-Upload-UUID': uuid });
        }
        const parts = uploads.get(id);
        if (!parts) return unknown('BLOB_UPLOAD_UNKNOWN');
        parts.push(body);
        const size = parts.reduce((n, p) => n + p.length, 0);
        if (method === 'PATCH') return send(202, { Location: `/v2/${repo}/blobs/uploads/${id}`, Range: `0-${Math.max(0, size - 1)}`, 'Docker-Upload-UUID': id });
        if (method === 'PUT' && digest) {
          const whole = Buffer.concat(parts);
          uploads.delete(id);
          if (sha256(whole) !== digest) return send(400, {}, JSON.stringify({ errors: [{ code: 'DIGEST_INVALID' }] }));
          blobs.set(digest, whole);
          return send(201, { Location: `/v2/${repo}/blobs/${digest}`, 'Docker-Content-Digest': digest });
        }
        return send(405);
      }
      m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(url.pathname);
      if (m) {
        const blob = blobs.get(m[2]);
        if (!blob) return unknown('BLOB_UNKNOWN');
        return send(200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': m[2] }, blob);
      }
      m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      if (m) {
        const [, repo, ref] = m;
        if (method === 'PUT') {
          // No check of what the manifest names: that is the point of this registry.
          const digest = sha256(body);
          manifests.set(digest, { body, mediaType: req.headers['content-type'] ?? 'application/octet-stream' });
          if (!ref.startsWith('sha256:')) {
            if (!tags.has(repo)) tags.set(repo, new Map());
            tags.get(repo)!.set(ref, digest);
          }
          return send(201, { Location: `/v2/${repo}/manifests/${digest}`, 'Docker-Content-Digest': digest });
        }
        const digest = ref.startsWith('sha256:') ? ref : tags.get(repo)?.get(ref);
        const doc = digest ? manifests.get(digest) : undefined;
        if (!digest || !doc) return unknown('MANIFEST_UNKNOWN');
        return send(200, { 'Content-Type': doc.mediaType, 'Docker-Content-Digest': digest }, doc.body);
      }
      m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
      if (m) {
        const list = tags.get(m[1]);
        if (!list) return unknown('NAME_UNKNOWN');
        return send(200, { 'Content-Type': 'application/json' }, JSON.stringify({ name: m[1], tags: [...list.keys()].sort() }));
      }
      return send(404);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    port,
    tags,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
