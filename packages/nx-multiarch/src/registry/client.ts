import { createHash } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { MultiarchError } from '../errors';
import { DigestMismatchError, isDigest, sha256Digest, verifyDigest } from '../oci/digest';
import { Digest, ImageIndex, MANIFEST_MEDIA_TYPES } from '../oci/types';
import { Authenticator } from './auth';
import { ExplicitAuth, resolveCredentials } from './credentials';
import { ENV_CA_FILE, Endpoint, resolveEndpoint } from './endpoint';
import {
  BlobDigestMismatchError,
  RegistryError,
  TransientRegistryError,
  describeDistributionErrors,
  parseDistributionErrors,
  redact,
} from './errors';
import { DEFAULT_RETRY_POLICY, RetryPolicy, isRetryableError, isRetryableStatus, nextDelay, sleep } from './retry';
import { RetryListener, headerValue, sendWithRetry } from './send';
import { DownloadResponse, DownloadTarget, HttpRequest, HttpResponse, RequestBody, Transport, TransportStats } from './transport';

/**
 * A client for the OCI Distribution API (v2), enough to pull and push
 * multi-arch images: manifests, blobs (HEAD first, cross-repository mount,
 * monolithic upload with a chunked fallback), tags. Written here rather than
 * taken from npm: the maintained client there (@snyk/docker-registry-v2-client)
 * only reads, and the one that can write (docker-registry-client) predates OCI
 * indexes and pulls in restify and bunyan.
 */
export interface RegistryClientOptions {
  /** `host[:port]`, optionally with `http://` or `https://` to force the scheme. */
  registry: string;
  /** Plain http (or unverified https) for this registry. */
  insecure?: boolean;
  /** Hosts to reach over plain http; loopback hosts need not be listed. */
  insecureRegistries?: readonly string[];
  /** PEM CA file to trust (also NX_MULTIARCH_REGISTRY_CA_FILE). */
  caFile?: string;
  /** Folders laid out like Docker's certs.d (default: $DOCKER_CONFIG/certs.d, /etc/docker/certs.d). */
  certsDirs?: readonly string[];
  /** Credentials; by default from the environment and Docker's config.json. */
  auth?: ExplicitAuth;
  /** What tokens are asked for: `pull`, or `push` (pull and push). Default pull. */
  access?: 'pull' | 'push';
  retry?: Partial<RetryPolicy>;
  /** Idle socket timeout per request. */
  timeoutMs?: number;
  /** Parallel connections to the registry. */
  maxSockets?: number;
  /** Blobs larger than this go up in chunks (PATCH) instead of one PUT. */
  monolithicMaxBytes?: number;
  /** Chunk size of chunked uploads. */
  chunkBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** Receives one line per retry and fallback; never credentials. */
  log?: (line: string) => void;
}

export interface ManifestResponse {
  mediaType: string;
  digest: Digest;
  body: Buffer;
}

/** Blob bytes in memory, or a file holding them (streamed, never read whole). */
export type BlobSource = Buffer | { path: string };

export interface PushBlobOptions {
  /**
   * Repositories of the same registry that may already hold the blob: it is
   * mounted from there instead of uploaded. With several, each is asked (HEAD)
   * in order until one has it.
   */
  mountFrom?: string | readonly string[];
  /** Known size (saves a stat). */
  size?: number;
}

export interface DownloadBlobOptions {
  /**
   * The size the blob's descriptor gives: the download stops as soon as more
   * bytes come, and any other count is refused like a digest mismatch.
   */
  size?: number;
}

export type BlobPushOutcome = 'skipped' | 'mounted' | 'uploaded';

export interface BlobPushResult {
  outcome: BlobPushOutcome;
  /** Blob bytes that went up in the successful attempt (0 unless uploaded). */
  bytes: number;
}

const DEFAULT_MONOLITHIC_MAX = 512 * 1024 * 1024;
const DEFAULT_CHUNK = 64 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export class RegistryClient {
  readonly endpoint: Endpoint;
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly retry: RetryPolicy;
  private readonly access: 'pull' | 'push';
  private readonly monolithicMaxBytes: number;
  private readonly chunkBytes: number;
  private readonly log: (line: string) => void;
  private readonly onRetry: RetryListener;

  constructor(options: RegistryClientOptions) {
    const env = options.env ?? process.env;
    this.endpoint = resolveEndpoint({
      registry: options.registry,
      insecure: options.insecure,
      insecureRegistries: options.insecureRegistries,
      caFile: options.caFile,
      certsDirs: options.certsDirs,
      env,
    });
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.transport = new Transport({ tls: this.endpoint.tls, timeoutMs: options.timeoutMs, maxSockets: options.maxSockets });
    this.auth = new Authenticator(this.endpoint.host, () => resolveCredentials(this.endpoint.host, options.auth, env), this.transport, this.retry);
    this.access = options.access ?? 'pull';
    this.monolithicMaxBytes = options.monolithicMaxBytes ?? DEFAULT_MONOLITHIC_MAX;
    this.chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK);
    this.log = options.log ?? (() => undefined);
    this.onRetry = ({ attempt, delayMs, reason, request }) =>
      this.log(
        `retrying ${request.method} ${request.url.pathname} after ${reason} (attempt ${attempt + 1} of ${this.retry.maxAttempts}, in ${(delayMs / 1000).toFixed(1)} s)`,
      );
  }

  /** Requests and bytes sent and received so far. */
  get stats(): TransportStats {
    return { ...this.transport.stats };
  }

  /** Closes idle connections. */
  close(): void {
    this.transport.close();
  }

  /** GET /v2/: checks that the registry answers and that credentials, if needed, work. */
  async ping(): Promise<void> {
    return this.guard(async () => {
      const res = await this.request({ method: 'GET', url: this.url('/v2/') }, []);
      if (res.status !== 200) throw this.failure(res, `checking ${this.endpoint.host}`);
    });
  }

  async getManifest(repository: string, reference: string, accept: readonly string[] = MANIFEST_MEDIA_TYPES): Promise<ManifestResponse> {
    return this.guard(async () => {
      const res = await this.get(this.url(`/v2/${repository}/manifests/${reference}`), this.scopes(repository), {
        // Distribution 2.8 answers 404 to a manifest GET without Accept: always list every type.
        Accept: accept.join(', '),
      });
      if (res.status !== 200) throw this.failure(res, `fetching manifest ${repository}:${reference}`);
      const digest = this.checkedDigest(res, `Manifest ${repository}:${reference}`);
      if (isDigest(reference)) verifyDigest(res.body, reference, `Manifest ${repository}@${reference}`);
      return { mediaType: contentType(res) ?? mediaTypeOf(res.body) ?? 'application/octet-stream', digest, body: res.body };
    });
  }

  /** The digest a tag or digest resolves to, or undefined when the registry has no such manifest. */
  async hasManifest(repository: string, reference: string): Promise<Digest | undefined> {
    return this.guard(async () => {
      const res = await this.request(
        { method: 'HEAD', url: this.url(`/v2/${repository}/manifests/${reference}`), headers: { Accept: MANIFEST_MEDIA_TYPES.join(', ') } },
        this.scopes(repository),
      );
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw this.failure(res, `checking manifest ${repository}:${reference}`);
      const header = headerValue(res.headers['docker-content-digest']);
      if (header && isDigest(header)) return header;
      return isDigest(reference) ? reference : undefined;
    });
  }

  /**
   * Stores a manifest under a tag or its digest. The Content-Type must equal
   * the document's own mediaType (registries reject or mislabel it
   * otherwise), so the two are checked here before anything is sent.
   */
  async putManifest(repository: string, reference: string, body: Buffer, mediaType: string): Promise<Digest> {
    return this.guard(async () => {
      const declared = mediaTypeOf(body);
      if (declared && declared !== mediaType) {
        throw new MultiarchError(
          `Manifest for ${repository}:${reference} says mediaType ${declared} but is being pushed as ${mediaType}.`,
          'Push it with the Content-Type of its own mediaType.',
        );
      }
      const digest = sha256Digest(body);
      if (isDigest(reference) && reference !== digest) {
        throw new MultiarchError(`Manifest pushed by digest ${reference} hashes to ${digest}.`, 'Push the exact bytes the digest was computed from.');
      }
      const res = await this.request(
        { method: 'PUT', url: this.url(`/v2/${repository}/manifests/${reference}`), headers: { 'Content-Type': mediaType }, body },
        this.scopes(repository),
      );
      if (res.status !== 201 && res.status !== 200) throw this.failure(res, `pushing manifest ${repository}:${reference}`);
      const stored = headerValue(res.headers['docker-content-digest']);
      if (stored && stored.startsWith('sha256:') && stored !== digest) {
        throw new RegistryError(
          `${this.endpoint.host} stored manifest ${repository}:${reference} as ${stored}, but its bytes hash to ${digest}.`,
          res.status,
          [],
          'The registry rewrote the manifest; it does not keep manifests byte for byte, which OCI indexes need.',
        );
      }
      return digest;
    });
  }

  async hasBlob(repository: string, digest: Digest): Promise<boolean> {
    return this.guard(async () => {
      const res = await this.request({ method: 'HEAD', url: this.url(`/v2/${repository}/blobs/${digest}`) }, this.scopes(repository));
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw this.failure(res, `checking blob ${digest} in ${repository}`);
    });
  }

  /** The blob's bytes, checked against its digest. */
  async getBlob(repository: string, digest: Digest): Promise<Buffer> {
    return this.guard(async () => {
      const res = await this.get(this.url(`/v2/${repository}/blobs/${digest}`), this.scopes(repository));
      if (res.status !== 200) throw this.failure(res, `fetching blob ${digest} from ${repository}`);
      const actual = sha256Digest(res.body);
      if (actual !== digest) throw new BlobDigestMismatchError(`Blob ${digest} from ${this.endpoint.host}/${repository}`, digest, actual, res.body.length);
      return res.body;
    });
  }

  /**
   * Streams a blob into a new file at `destinationPath`, hashing it on the
   * way, so a blob of any size never sits in memory. Follows redirects
   * (registries send blob reads to object storage; credentials go only to
   * the registry itself), answers auth challenges, and retries 408/429/5xx
   * and dropped connections from the start within the retry policy. Throws
   * BlobDigestMismatchError (code DIGEST_INVALID) when the bytes do not hash
   * to `digest`. On any error no file is left at the path; a path that
   * already exists is refused and left alone.
   */
  async downloadBlob(repository: string, digest: Digest, destinationPath: string, options: DownloadBlobOptions = {}): Promise<{ size: number }> {
    return this.guard(async () => {
      if (!isDigest(digest)) {
        throw new MultiarchError(`Cannot download blob "${digest}": not a sha256 digest.`, 'Give a digest of the form sha256:<64 hex digits>.');
      }
      try {
        // Created here, empty, so the path is ours before a byte is fetched: an existing file is never overwritten.
        await writeFile(destinationPath, '', { flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new MultiarchError(
            `Cannot download blob ${digest} to ${destinationPath}: the file already exists.`,
            'downloadBlob writes a new file: remove the old one first or choose another path.',
          );
        }
        throw error;
      }
      try {
        return await this.downloadWithRetries(repository, digest, destinationPath, options);
      } catch (error) {
        await rm(destinationPath, { force: true });
        throw error;
      }
    });
  }

  /**
   * Uploads a blob unless the repository has it. Order: HEAD; then POST an
   * upload (with `mount`/`from` when a source repository is named: 201 means
   * mounted, 202 means the registry opened an ordinary upload instead); then
   * one PUT with the bytes, or PATCH chunks and a closing PUT for large blobs
   * or when the registry refuses a large body. (A single POST carrying
   * `?digest=` and the bytes is avoided: distribution 2.8 answers 202 to it
   * and stores nothing.) A failed attempt starts over from the HEAD, since an
   * upload session cannot be trusted after a dropped connection.
   */
  async pushBlob(repository: string, source: BlobSource, digest: Digest, options: PushBlobOptions = {}): Promise<BlobPushResult> {
    return this.guard(async () => {
      const size = options.size ?? (Buffer.isBuffer(source) ? source.length : (await stat(source.path)).size);
      const candidates = [options.mountFrom ?? []].flat().filter((r) => r !== repository);
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        try {
          if (await this.hasBlob(repository, digest)) return { outcome: 'skipped', bytes: 0 };
          const mountFrom = await this.mountSource(candidates, digest);
          return await this.uploadOnce(repository, source, digest, size, mountFrom);
        } catch (error) {
          if (!(error instanceof TransientRegistryError) && !isRetryableError(error)) throw error;
          const delay = nextDelay(this.retry, attempt, Date.now() - started, undefined);
          if (delay === undefined) throw this.transientGiveUp(error, `uploading blob ${digest} to ${repository}`, attempt);
          this.log(`retrying upload of ${digest.slice(0, 19)} to ${repository} after ${describeError(error)} (attempt ${attempt + 1})`);
          await sleep(delay);
        }
      }
    });
  }

  /**
   * The OCI 1.1 referrers of a manifest (an image index), or undefined when
   * the registry has no referrers API (404 or 405 on the endpoint, as
   * distribution 2.8 and 3.x answer): the caller then uses the tag fallback.
   */
  async getReferrers(repository: string, digest: Digest): Promise<ImageIndex | undefined> {
    return this.guard(async () => {
      const res = await this.get(this.url(`/v2/${repository}/referrers/${digest}`), this.scopes(repository), { Accept: 'application/vnd.oci.image.index.v1+json' });
      if (res.status === 404 || res.status === 405 || res.status === 400) return undefined;
      if (res.status !== 200) throw this.failure(res, `listing referrers of ${repository}@${digest}`);
      const type = contentType(res);
      if (type && !type.startsWith('application/vnd.oci.image.index.v1+json')) return undefined;
      return JSON.parse(res.body.toString('utf8')) as ImageIndex;
    });
  }

  /**
   * Deletes a manifest by its digest (`DELETE /v2/<name>/manifests/<digest>`;
   * every tag on it goes with it). False when the registry has no such
   * manifest. The blobs stay until the registry's own garbage collection.
   * A registry that does not allow deletes (405, or UNSUPPORTED) gets an
   * error naming the setting to turn on.
   */
  async deleteManifest(repository: string, digest: Digest): Promise<boolean> {
    return this.guard(async () => {
      if (!isDigest(digest)) {
        throw new MultiarchError(`Cannot delete manifest "${digest}" of ${repository}: not a sha256 digest.`, 'Registries delete manifests by digest, never by tag.');
      }
      // Token servers grant deletes as their own action.
      const scopes = [`repository:${repository}:pull,push,delete`];
      const res = await this.request({ method: 'DELETE', url: this.url(`/v2/${repository}/manifests/${digest}`) }, scopes);
      if (res.status === 202 || res.status === 200 || res.status === 204) return true;
      if (res.status === 404) return false;
      const failure = this.failure(res, `deleting manifest ${repository}@${digest}`);
      if (res.status === 405 || failure.codes.includes('UNSUPPORTED')) {
        throw new RegistryError(
          failure.message,
          res.status,
          failure.codes,
          `${this.endpoint.host} does not allow deletes: turn them on in its config (distribution/docker-registry: \`storage: delete: enabled: true\`, or REGISTRY_STORAGE_DELETE_ENABLED=true), or grant this account delete rights.`,
        );
      }
      throw failure;
    });
  }

  /** Every tag of a repository (following `Link` pagination); none for an unknown repository. */
  async listTags(repository: string): Promise<string[]> {
    return this.guard(async () => {
      const tags: string[] = [];
      let url: URL | undefined = this.url(`/v2/${repository}/tags/list?n=1000`);
      for (let page = 0; url && page < 1000; page++) {
        const res = await this.get(url, this.scopes(repository));
        if (res.status === 404) return [];
        if (res.status !== 200) throw this.failure(res, `listing tags of ${repository}`);
        const parsed = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
        tags.push(...(parsed.tags ?? []));
        const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(headerValue(res.headers.link) ?? '')?.[1];
        url = next ? new URL(next, this.endpoint.origin) : undefined;
      }
      return tags;
    });
  }

  // --- downloads -----------------------------------------------------------

  /** Whole attempts: a download cut short starts over (into the same file, truncated). */
  private async downloadWithRetries(repository: string, digest: Digest, path: string, options: DownloadBlobOptions): Promise<{ size: number }> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.downloadOnce(repository, digest, path, options);
      } catch (error) {
        if (!(error instanceof TransientRegistryError) && !isRetryableError(error)) throw error;
        const delay = nextDelay(this.retry, attempt, Date.now() - started, undefined);
        if (delay === undefined) throw this.transientGiveUp(error, `downloading blob ${digest} from ${repository}`, attempt);
        this.log(`retrying download of ${digest.slice(0, 19)} from ${repository} after ${describeError(error)} (attempt ${attempt + 1})`);
        await sleep(delay);
      }
    }
  }

  private async downloadOnce(repository: string, digest: Digest, path: string, options: DownloadBlobOptions): Promise<{ size: number }> {
    const what = `Blob ${digest} from ${this.endpoint.host}/${repository}`;
    const hash = createHash('sha256');
    let received = 0;
    const target: DownloadTarget = {
      path,
      streamStatus: (status) => status === 200,
      onChunk: (chunk) => {
        received += chunk.length;
        // Stop a registry that sends more than the descriptor says, before it fills the disk.
        if (options.size !== undefined && received > options.size) throw new BlobDigestMismatchError(what, digest, undefined, received, options.size);
        hash.update(chunk);
      },
    };
    const scopes = this.scopes(repository);
    const exchange = (request: HttpRequest) => this.exchangeDownload(request, target);
    let current = this.url(`/v2/${repository}/blobs/${digest}`);
    let res = await this.authorized({ method: 'GET', url: current }, scopes, exchange);
    for (let hop = 0; hop < MAX_REDIRECTS && isRedirect(res.status); hop++) {
      const location = headerValue(res.headers.location);
      if (!location) break;
      current = new URL(location, current);
      // Credentials stay with the registry: a redirect elsewhere is followed without them.
      res = current.origin === this.endpoint.origin ? await this.authorized({ method: 'GET', url: current }, scopes, exchange) : await exchange({ method: 'GET', url: current });
    }
    if (res.status !== 200 || !res.streamed) throw this.failure(res, `fetching blob ${digest} from ${repository}`);
    const actual: Digest = `sha256:${hash.digest('hex')}`;
    if (actual !== digest || (options.size !== undefined && received !== options.size)) {
      throw new BlobDigestMismatchError(what, digest, actual, received, options.size);
    }
    return { size: received };
  }

  private async exchangeDownload(request: HttpRequest, target: DownloadTarget): Promise<DownloadResponse> {
    try {
      return await this.transport.download(request, target);
    } catch (error) {
      if (error instanceof MultiarchError || isRetryableError(error)) throw error;
      throw this.connectionFailure(error as NodeJS.ErrnoException);
    }
  }

  // --- uploads -------------------------------------------------------------

  /**
   * One candidate is tried blind (a failed mount costs nothing: the registry
   * opens an ordinary upload); among several, the first that has the blob.
   */
  private async mountSource(candidates: readonly string[], digest: Digest): Promise<string | undefined> {
    if (candidates.length <= 1) return candidates[0];
    for (const candidate of candidates) {
      const res = await this.request({ method: 'HEAD', url: this.url(`/v2/${candidate}/blobs/${digest}`) }, [`repository:${candidate}:pull`]);
      if (res.status === 200) return candidate;
    }
    return undefined;
  }

  private async uploadOnce(repository: string, source: BlobSource, digest: Digest, size: number, mountFrom: string | undefined): Promise<BlobPushResult> {
    const scopes = this.scopes(repository, mountFrom);
    const start = this.url(`/v2/${repository}/blobs/uploads/`);
    if (mountFrom) {
      start.searchParams.set('mount', digest);
      start.searchParams.set('from', mountFrom);
    }
    const opened = await this.request({ method: 'POST', url: start }, scopes);
    if (opened.status === 201 && mountFrom) return { outcome: 'mounted', bytes: 0 };
    if (opened.status !== 202) throw this.failure(opened, `starting an upload of ${digest} to ${repository}`);
    const location = this.uploadLocation(opened);
    // A file is sent in PATCHes and hashed on the way; the committing PUT follows only when the hash matches.
    if (!Buffer.isBuffer(source) || size > this.monolithicMaxBytes) return this.uploadChunked(repository, location, source, digest, size, scopes);

    // Bytes in memory are hashed before they go: the one PUT both sends and commits them.
    verifyDigest(source, digest, `Blob ${digest} for ${repository}`);
    const res = await this.request(
      { method: 'PUT', url: withDigest(location, digest), headers: { 'Content-Type': 'application/octet-stream' }, body: bodyOf(source, 0, size) },
      scopes,
      false,
    );
    if (res.status === 201) {
      this.checkStoredBlob(res, digest, repository);
      return { outcome: 'uploaded', bytes: size };
    }
    if (res.status === 413) {
      // The registry (or a proxy before it) caps request bodies: send the blob in chunks instead.
      this.log(`${this.endpoint.host} refused ${size} bytes in one request (413); uploading ${digest.slice(0, 19)} in chunks`);
      const again = await this.request({ method: 'POST', url: this.url(`/v2/${repository}/blobs/uploads/`) }, scopes);
      if (again.status !== 202) throw this.failure(again, `starting an upload of ${digest} to ${repository}`);
      return this.uploadChunked(repository, this.uploadLocation(again), source, digest, size, scopes);
    }
    throw this.failure(res, `uploading blob ${digest} to ${repository}`);
  }

  /**
   * PATCHes of at most chunkBytes (one for most blobs), each streamed from
   * the file, every byte sent hashed; then the closing PUT with ?digest=,
   * which is what makes the registry commit the blob, only when the bytes
   * sent hash to `digest`. On a mismatch (a blob changed or corrupted on
   * disk) the upload session is cancelled and nothing is stored.
   */
  private async uploadChunked(
    repository: string,
    location: URL,
    source: BlobSource,
    digest: Digest,
    size: number,
    scopes: string[],
  ): Promise<BlobPushResult> {
    const hash = createHash('sha256');
    let sent = 0;
    const onChunk = (chunk: Buffer) => {
      hash.update(chunk);
      sent += chunk.length;
    };
    let next = location;
    for (let offset = 0; offset < size; ) {
      const length = Math.min(this.chunkBytes, size - offset);
      const body = Buffer.isBuffer(source) ? source.subarray(offset, offset + length) : { path: source.path, start: offset, length, onChunk };
      if (Buffer.isBuffer(body)) onChunk(body);
      const res = await this.request(
        {
          method: 'PATCH',
          url: next,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + length - 1}` },
          body,
        },
        scopes,
        false,
      );
      if (res.status !== 202) throw this.failure(res, `uploading bytes ${offset}-${offset + length - 1} of blob ${digest} to ${repository}`);
      next = this.uploadLocation(res);
      offset += length;
    }
    const actual: Digest = `sha256:${hash.digest('hex')}`;
    if (actual !== digest || sent !== size) {
      await this.cancelUpload(next, scopes);
      const where = Buffer.isBuffer(source) ? 'in memory' : source.path;
      throw new DigestMismatchError(
        `Blob ${digest} (${where})`,
        digest,
        actual,
        'The local blob changed or is corrupted: rebuild the image, then push again. Nothing was committed to the registry.',
        sent !== size ? `Blob ${digest} (${where}) sent ${sent} bytes instead of ${size}; the upload was cancelled before the registry stored it.` : undefined,
      );
    }
    const done = await this.request({ method: 'PUT', url: withDigest(next, digest) }, scopes, false);
    if (done.status !== 201) throw this.failure(done, `completing the upload of blob ${digest} to ${repository}`);
    this.checkStoredBlob(done, digest, repository);
    return { outcome: 'uploaded', bytes: size };
  }

  /** Best effort: the registry drops an abandoned session by itself in time anyway. */
  private async cancelUpload(location: URL, scopes: string[]): Promise<void> {
    await this.request({ method: 'DELETE', url: location }, scopes, false).catch(() => undefined);
  }

  private uploadLocation(res: HttpResponse): URL {
    const location = headerValue(res.headers.location);
    if (!location) {
      throw new RegistryError(`${this.endpoint.host} opened an upload without a Location header.`, res.status, [], 'The registry does not follow the Distribution API.');
    }
    return new URL(location, this.endpoint.origin);
  }

  private checkStoredBlob(res: HttpResponse, digest: Digest, repository: string): void {
    const stored = headerValue(res.headers['docker-content-digest']);
    if (stored && stored !== digest) {
      throw new RegistryError(`${this.endpoint.host} stored a blob for ${repository} as ${stored} instead of ${digest}.`, res.status, ['DIGEST_INVALID']);
    }
  }

  // --- requests ------------------------------------------------------------

  private url(path: string): URL {
    return new URL(path, this.endpoint.origin);
  }

  private scopes(repository: string, mountFrom?: string): string[] {
    const scopes = [`repository:${repository}:${this.access === 'push' ? 'pull,push' : 'pull'}`];
    if (mountFrom) scopes.push(`repository:${mountFrom}:pull`);
    return scopes;
  }

  /** GET that follows redirects (registries may send blob reads to object storage). */
  private async get(url: URL, scopes: string[], headers: Record<string, string> = {}): Promise<HttpResponse> {
    let res = await this.request({ method: 'GET', url, headers }, scopes);
    let current = url;
    for (let hop = 0; hop < MAX_REDIRECTS && isRedirect(res.status); hop++) {
      const location = headerValue(res.headers.location);
      if (!location) break;
      current = new URL(location, current);
      // Credentials stay with the registry: a redirect elsewhere is followed without them.
      res =
        current.origin === this.endpoint.origin
          ? await this.request({ method: 'GET', url: current, headers }, scopes)
          : await this.send({ method: 'GET', url: current, headers }, true);
    }
    return res;
  }

  /**
   * One request with authentication: sent with what the registry is known to
   * want; on a 401 the challenge is answered (Basic, or a fresh Bearer token)
   * and the request sent once more. `retry` is false for requests that must
   * not be repeated blindly (the bytes of an upload).
   */
  private request(request: HttpRequest, scopes: string[], retry = true): Promise<HttpResponse> {
    return this.authorized(request, scopes, (authorizedRequest) => this.send(authorizedRequest, retry));
  }

  /** Sends through `exchange` with the Authorization the registry wants, answering one 401 challenge. */
  private async authorized<R extends HttpResponse>(request: HttpRequest, scopes: string[], exchange: (request: HttpRequest) => Promise<R>): Promise<R> {
    let reauthenticated = false;
    for (;;) {
      const headers: Record<string, string> = { ...(request.headers ?? {}) };
      const authorization = await this.auth.authorization(scopes);
      if (authorization) headers.Authorization = authorization;
      const res = await exchange({ ...request, headers });
      if (res.status !== 401) return res;
      if (reauthenticated) throw this.auth.rejected(scopes, describeDistributionErrors(parseDistributionErrors(res.body)));
      reauthenticated = true;
      await this.auth.challenge(res.headers['www-authenticate'], scopes, authorization);
    }
  }

  private async send(request: HttpRequest, retry: boolean): Promise<HttpResponse> {
    try {
      return retry ? await sendWithRetry(this.transport, request, this.retry, this.onRetry) : await this.transport.send(request);
    } catch (error) {
      if (error instanceof MultiarchError || isRetryableError(error)) throw error;
      throw this.connectionFailure(error as NodeJS.ErrnoException);
    }
  }

  private connectionFailure(error: NodeJS.ErrnoException): MultiarchError {
    const { host, origin } = this.endpoint;
    const code = error.code ?? '';
    if (code === 'ECONNREFUSED') {
      return new MultiarchError(`Cannot connect to the registry ${origin}: connection refused.`, `Check that a registry listens on ${host}, and the --registry address and port.`);
    }
    if (code === 'ENOTFOUND') return new MultiarchError(`Cannot resolve the registry host ${host}.`, 'Check the --registry address.');
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
      return new MultiarchError(
        `The TLS certificate of ${host} is not trusted (${code}).`,
        `Trust its CA with ${ENV_CA_FILE}=<ca.pem>, the caFile option or certs.d/${host}/ca.crt; or, for a test registry only, list it in insecureRegistries.`,
      );
    }
    if (code === 'EPROTO' || /wrong version number|SSL/i.test(error.message)) {
      return new MultiarchError(
        `TLS handshake with ${host} failed (${error.message}).`,
        `If the registry speaks plain http, list ${host} in insecureRegistries (or NX_MULTIARCH_INSECURE_REGISTRIES).`,
      );
    }
    return new MultiarchError(`Request to the registry ${origin} failed: ${error.message}${code ? ` (${code})` : ''}.`);
  }

  /** An error for an unexpected answer, with the registry's own error codes. */
  private failure(res: HttpResponse, what: string): RegistryError {
    const errors = parseDistributionErrors(res.body);
    const codes = errors.map((e) => e.code);
    const detail = errors.length ? `: ${describeDistributionErrors(errors)}` : plainDetail(res.body);
    const message = `${what}: ${this.endpoint.host} answered ${res.status}${detail}`;
    if (isRetryableStatus(res.status)) {
      return new TransientRegistryError(message, res.status, codes, 'The registry is failing or overloaded; run again later (what was pushed stays pushed).');
    }
    if (res.status === 403 || codes.includes('DENIED')) {
      return new RegistryError(message, res.status, codes, `The account may not do this in ${this.endpoint.host}; check its permissions for the repository.`);
    }
    if (res.status === 400 && /HTTP request to an HTTPS server/i.test(res.body.toString('utf8'))) {
      return new RegistryError(message, res.status, codes, `${this.endpoint.host} speaks TLS: remove it from insecureRegistries or give its CA with ${ENV_CA_FILE}.`);
    }
    if (res.status === 404) return new RegistryError(message, res.status, codes.length ? codes : ['NOT_FOUND']);
    return new RegistryError(message, res.status, codes);
  }

  private transientGiveUp(error: unknown, what: string, attempts: number): MultiarchError {
    if (error instanceof RegistryError) return new TransientRegistryError(`${error.message} (gave up after ${attempts} attempts)`, error.status, error.codes, error.hint);
    return new TransientRegistryError(
      `${what} failed after ${attempts} attempts: ${describeError(error)}`,
      0,
      [],
      'The connection to the registry keeps dropping; run again (what was pushed stays pushed).',
    );
  }

  private checkedDigest(res: HttpResponse, what: string): Digest {
    const digest = sha256Digest(res.body);
    const header = headerValue(res.headers['docker-content-digest']);
    if (header && header.startsWith('sha256:') && header !== digest) {
      throw new RegistryError(`${what}: the registry says ${header} but the bytes hash to ${digest}.`, res.status, ['DIGEST_INVALID']);
    }
    return digest;
  }

  /** Runs a public operation with every known secret scrubbed from its error. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // Duck-typed: errors of Node's own modules may come from another realm.
      if (typeof error === 'object' && error !== null) {
        const secrets = this.auth.secrets();
        const e = error as { message?: unknown; hint?: unknown; stack?: unknown };
        if (typeof e.message === 'string') e.message = redact(e.message, secrets);
        if (typeof e.hint === 'string') e.hint = redact(e.hint, secrets);
        if (typeof e.stack === 'string') e.stack = redact(e.stack, secrets);
      }
      throw error;
    }
  }
}

function isRedirect(status: number): boolean {
  return [301, 302, 303, 307, 308].includes(status);
}

function bodyOf(source: BlobSource, offset: number, length: number): RequestBody {
  return Buffer.isBuffer(source) ? source.subarray(offset, offset + length) : { path: source.path, start: offset, length };
}

/** The upload Location already carries a query (`_state=…`): append the digest to it. */
function withDigest(location: URL, digest: Digest): URL {
  const separator = location.search ? '&' : '?';
  return new URL(`${location.href}${separator}digest=${encodeURIComponent(digest)}`);
}

function contentType(res: HttpResponse): string | undefined {
  return headerValue(res.headers['content-type'])?.split(';')[0].trim() || undefined;
}

function mediaTypeOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : undefined;
  } catch {
    return undefined;
  }
}

function plainDetail(body: Buffer): string {
  const text = body.toString('utf8').trim();
  return text && text.length < 300 && !text.startsWith('<') ? `: ${text}` : '';
}

function describeError(error: unknown): string {
  if (error instanceof RegistryError && error.status) return `HTTP ${error.status}`;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
