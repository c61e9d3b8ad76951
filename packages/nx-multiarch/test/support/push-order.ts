import { createHash } from 'node:crypto';
import type { RecordedRequest } from './recording-proxy';

/**
 * The order a push must keep so that no reader ever resolves a tag to
 * something incomplete, checked on the requests a recording proxy saw:
 *
 *   - every blob a manifest names was stored (upload completed, mounted, or
 *     found by HEAD) before that manifest's PUT started;
 *   - every child an index names was stored before the index's PUT started;
 *   - the index tag writes come last: every other write to the same
 *     repository had ended (answered, or dropped with its connection) before
 *     the first of them started.
 *
 * Returns the violations, each in words; an empty list is a correct push.
 */
interface Parsed {
  repository: string;
  kind: 'blob' | 'upload' | 'manifest' | 'other';
  /** Blob or manifest reference; for an upload the digest of its `digest` or `mount` parameter. */
  reference?: string;
}

function parse(request: RecordedRequest): Parsed {
  const url = new URL(request.path, 'http://proxy');
  const upload = /^\/v2\/(.+)\/blobs\/uploads\/[^/]*$/.exec(url.pathname);
  if (upload) return { repository: upload[1], kind: 'upload', reference: url.searchParams.get('digest') ?? url.searchParams.get('mount') ?? undefined };
  const blob = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(url.pathname);
  if (blob) return { repository: blob[1], kind: 'blob', reference: blob[2] };
  const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  if (manifest) return { repository: manifest[1], kind: 'manifest', reference: manifest[2] };
  return { repository: '', kind: 'other' };
}

interface ManifestDocument {
  mediaType?: string;
  config?: { digest: string };
  layers?: { digest: string }[];
  manifests?: { digest: string }[];
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ok = (r: RecordedRequest) => r.status !== undefined && r.status >= 200 && r.status < 300 && r.finished !== undefined;
const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const short = (digest: string) => (digest.startsWith('sha256:') ? digest.slice(7, 19) : digest);

export function pushOrderViolations(requests: readonly RecordedRequest[]): string[] {
  const violations: string[] = [];
  /** repository + digest -> the clock position by which the blob or manifest was known to be stored. */
  const blobStored = new Map<string, number>();
  const manifestStored = new Map<string, number>();
  const earliest = (map: Map<string, number>, key: string, at: number) => map.set(key, Math.min(at, map.get(key) ?? Infinity));

  for (const r of requests) {
    if (!ok(r)) continue;
    const p = parse(r);
    if (p.kind === 'upload' && p.reference && r.status === 201 && (r.method === 'PUT' || r.method === 'POST')) earliest(blobStored, `${p.repository}@${p.reference}`, r.finished!);
    if (p.kind === 'blob' && p.reference && r.method === 'HEAD') earliest(blobStored, `${p.repository}@${p.reference}`, r.finished!);
    if (p.kind === 'manifest' && r.method === 'PUT' && r.body) earliest(manifestStored, `${p.repository}@${sha256(r.body)}`, r.finished!);
    if (p.kind === 'manifest' && r.method === 'HEAD' && p.reference?.startsWith('sha256:')) earliest(manifestStored, `${p.repository}@${p.reference}`, r.finished!);
  }

  const indexTagWrites: RecordedRequest[] = [];
  for (const r of requests) {
    const p = parse(r);
    if (p.kind !== 'manifest' || r.method !== 'PUT' || !r.body) continue;
    const doc = JSON.parse(r.body.toString('utf8')) as ManifestDocument;
    const what = `${r.method} ${p.repository}:${short(p.reference ?? '')} (#${r.started})`;
    if (doc.manifests) {
      for (const child of doc.manifests) {
        const stored = manifestStored.get(`${p.repository}@${child.digest}`);
        if (stored === undefined || stored > r.started) violations.push(`index ${what} was written before its child ${short(child.digest)} was stored`);
      }
      if (!p.reference?.startsWith('sha256:')) indexTagWrites.push(r);
    } else {
      for (const blob of [doc.config, ...(doc.layers ?? [])]) {
        if (!blob) continue;
        const stored = blobStored.get(`${p.repository}@${blob.digest}`);
        if (stored === undefined || stored > r.started) violations.push(`manifest ${what} was written before its blob ${short(blob.digest)} was stored`);
      }
    }
  }

  // Per repository: pushes of several projects run side by side, each with its own index tags.
  const firstTagOf = new Map<string, number>();
  for (const r of indexTagWrites) {
    const repository = parse(r).repository;
    firstTagOf.set(repository, Math.min(r.started, firstTagOf.get(repository) ?? Infinity));
  }
  for (const r of requests) {
    if (!WRITES.has(r.method) || indexTagWrites.includes(r)) continue;
    const p = parse(r);
    const firstTag = firstTagOf.get(p.repository);
    if (firstTag === undefined) continue;
    // A request dropped on the way ended when its connection closed; one still open has not ended.
    const ended = r.finished ?? r.abandoned;
    if (ended === undefined || ended > firstTag) {
      violations.push(`${r.method} ${p.repository} ${p.kind} ${short(p.reference ?? '')} (#${r.started}) was not finished before the index tag write (#${firstTag})`);
    }
  }
  return violations;
}

/** The writes of a push in the order they started, in words: for messages and for the order tests. */
export function writeSequence(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((r) => WRITES.has(r.method))
    .sort((a, b) => a.started - b.started)
    .map((r) => {
      const p = parse(r);
      if (p.kind === 'manifest') {
        const doc = r.body ? (JSON.parse(r.body.toString('utf8')) as ManifestDocument) : {};
        const ref = p.reference ?? '';
        return `${doc.manifests ? 'index' : 'manifest'} ${ref.startsWith('sha256:') ? 'by digest' : `tag ${ref}`}`;
      }
      return `blob ${r.method}`;
    });
}
