import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pushOrderViolations } from '../support/push-order';
import { startRecordingProxy, type RecordedRequest } from '../support/recording-proxy';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { checkAllLayouts, findTempLitter, seededRandom } from './layout-check';
import { buildPlugin, nx, nxEnv, removeScratchClone, scratchClone, WORKSPACE_ROOT, type ScratchClone } from './scratch-clone';
import { CACHE_SERVER_IMAGE } from '../support/workspace-projects';

/**
 * kill -9, then a rerun. A build (`nx run-many -t docker-arch-build
 * --arch=arm64`, the five images over binaries already built, so every
 * moment is image writing) is killed — Nx and every task process, as a CI
 * cancel does — 5 times after seeded random delays (FAULT_SEED replays a
 * run). After every kill no image folder in dist/images is corrupt, and the
 * rerun succeeds and gives the same digests as an uninterrupted build.
 * Temporary folders the kills leave (in the workspace, and in the runs' own
 * TMPDIR) are counted, and the rerun leaves none (orphans 0): every task
 * sweeps those whose process is gone.
 *
 * A push (`nx run-many -t manifest-push` of arm64 and arm: indexes of two
 * children, one of them with a variant) of the four Go images (the proxy
 * image would add a cold arm build of the proxy's crates, and nothing to
 * the push) goes through a recording proxy,
 * which kills it 5 times mid-push: when it sees the 1st, 4th, 7th, 10th and
 * 13th blob upload start. Each kill must have interrupted a push (uploads
 * started, the run did not finish, some index tag is missing), the requests
 * made up to the kill must keep the push order (no manifest before its
 * blobs, no index before its children, index tags last), the index tag never
 * names a missing child, and the rerun completes, in order too.
 */
const TRIALS = 5;
const SEED = Number(process.env.FAULT_SEED ?? 20261127);
const IMAGES = ['linkerd2-proxy-init', 'linkerd2-controller', 'linkerd2-web', 'linkerd2-debug', 'linkerd2-proxy-image'];
const NX = join(WORKSPACE_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js');
const random = seededRandom(SEED);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let clone: ScratchClone | undefined;
let registry: RegistryServer | undefined;
let reference: Record<string, string> = {};
/** Wall time of an uninterrupted image-only build (binaries already there): kills are spread over it. */
let imagesMs = 0;

/** Starts an Nx command in its own process group; `kill` sends SIGKILL to the whole group. */
function startNx(args: string[]): { done: Promise<number | null>; kill: () => void } {
  const child = spawn(process.execPath, [NX, ...args, '--outputStyle=static'], { cwd: clone!.dir, env: nxEnv(clone!), detached: true, stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    done,
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already finished.
      }
    },
  };
}

async function digests(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const project of IMAGES) {
    const summary = JSON.parse(await readFile(join(clone!.dir, 'dist', 'images', project, 'arm64', 'image.json'), 'utf8')) as { manifestDigest: string };
    out[project] = summary.manifestDigest;
  }
  return out;
}

const buildArm64 = ['run-many', '-t', 'docker-arch-build', '--arch=arm64', `--exclude=${CACHE_SERVER_IMAGE}`];
/** The image tasks alone, over the binaries already in dist/cross: where the layouts are written. */
const imagesOnlyArm64 = [...buildArm64, '--excludeTaskDependencies'];

async function cleanImages(): Promise<void> {
  await rm(join(clone!.dir, 'dist', 'images'), { recursive: true, force: true });
  await rm(clone!.cacheDir, { recursive: true, force: true });
}

beforeAll(async () => {
  await buildPlugin();
  clone = await scratchClone('kill');
  // The reference: an uninterrupted build, then a clean slate (no dist, no Nx cache) for the trials.
  const first = await nx(clone, buildArm64, {}, 480_000);
  if (first.code !== 0) throw new Error(`reference build failed:\n${first.output}`);
  reference = await digests();
  await cleanImages();
  const started = Date.now();
  const images = await nx(clone, imagesOnlyArm64, {}, 480_000);
  imagesMs = Date.now() - started;
  if (images.code !== 0) throw new Error(`image-only build failed:\n${images.output}`);
  await cleanImages();
  registry = await startRegistry();
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await removeScratchClone(clone);
});

test(`kill -9 of a build at ${TRIALS} random moments: never a corrupt image, and the rerun gives the reference digests`, async () => {
  const log: string[] = [];
  let littered = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    // Each trial builds the five images from a clean slate (no dist/images, no Nx cache) and is
    // killed somewhere in that build, while layouts are being written and renamed into place.
    await cleanImages();
    // 30% to 130% of the uninterrupted time: Nx starts up first, and a loaded machine runs slower.
    const delay = Math.round((0.3 + random()) * imagesMs);
    const run = startNx(imagesOnlyArm64);
    const finished = await Promise.race([run.done.then(() => true), sleep(delay).then(() => false)]);
    run.kill();
    await run.done;
    const { layouts, problems } = await checkAllLayouts(clone!.dir);
    const litter = await findTempLitter(clone!.dir, clone!.tmpDir);
    littered += litter.length;
    log.push(`trial ${trial}: killed after ${delay} ms${finished ? ' (had already finished)' : ''}, ${layouts.length} layouts visible, ${litter.length} temporary folders left (${litter.filter((path) => path.startsWith('$TMPDIR/')).length} in TMPDIR)`);
    expect(problems).toEqual([]);
  }
  // The rerun is the user's command after a cancelled CI job: the whole build, dependencies included.
  const rerun = await nx(clone!, buildArm64, {}, 480_000);
  if (rerun.code !== 0) throw new Error(`the build after the kills failed:\n${rerun.output}`);
  const { layouts, problems } = await checkAllLayouts(clone!.dir);
  expect(problems).toEqual([]);
  expect(layouts).toHaveLength(IMAGES.length);
  expect(await digests()).toEqual(reference);
  // Orphans: whatever the kills left, the rerun swept.
  expect(await findTempLitter(clone!.dir, clone!.tmpDir)).toEqual([]);
  console.log(`seed ${SEED}, uninterrupted image-only build ${imagesMs} ms, ${littered} temporary folders left by kills, 0 after the rerun\n${log.join('\n')}`);
}, 900_000);

interface IndexView {
  manifests: { digest: string }[];
}

const PUSH_ARCHES = ['arm64', 'arm'];
const PUSHED = IMAGES.filter((project) => project !== 'linkerd2-proxy-image');
/** Nx's --exclude for the images the push half leaves out. */
const EXCLUDE_UNPUSHED = `--exclude=${[CACHE_SERVER_IMAGE, ...IMAGES.filter((project) => !PUSHED.includes(project))].join(',')}`;
const INDEX_TYPES = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json';
const MANIFEST_TYPES = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** Children an index tag names that the registry does not serve (empty when the tag is absent or whole). */
async function missingChildren(repository: string, tag: string): Promise<string[]> {
  const index = await fetch(`${registry!.url}/v2/${repository}/manifests/${tag}`, { headers: { Accept: INDEX_TYPES } });
  if (index.status === 404) return [];
  if (index.status !== 200) return [`index GET answered ${index.status}`];
  const body = (await index.json()) as IndexView;
  const missing: string[] = [];
  for (const child of body.manifests) {
    const head = await fetch(`${registry!.url}/v2/${repository}/manifests/${child.digest}`, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES } });
    if (head.status !== 200) missing.push(`${repository}:${tag} names ${child.digest} (${head.status})`);
  }
  return missing;
}

/** A request that starts a blob upload (POST …/blobs/uploads/, not a mount). */
function startsBlobUpload(request: RecordedRequest): boolean {
  return request.method === 'POST' && /\/blobs\/uploads\/(\?|$)/.test(request.path) && !/[?&]mount=/.test(request.path);
}

test(`kill -9 of a push at ${TRIALS} moments mid-push: each kill interrupts a push, the order holds, and the rerun completes`, async () => {
  // Images of both arches for the push (arm64 restored from the Nx cache where the build test made them).
  // Two arches give the push order all it has to keep: blobs, then each child, then the index.
  for (const arch of PUSH_ARCHES) {
    const built = await nx(clone!, ['run-many', '-t', 'docker-arch-build', `--arch=${arch}`, EXCLUDE_UNPUSHED], {}, 480_000);
    if (built.code !== 0) throw new Error(`the ${arch} build failed:\n${built.output}`);
  }
  const tag = 'killtest';
  const log: string[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    // A new repository prefix per trial: each push starts from an empty registry namespace.
    const prefix = `kill${trial}`;
    const killAtUpload = 1 + 3 * trial;
    let run: ReturnType<typeof startNx> | undefined;
    let uploads = 0;
    let killedAt: string | undefined;
    const proxy = await startRecordingProxy(registry!.port, (request) => {
      if (!startsBlobUpload(request)) return;
      uploads += 1;
      if (uploads === killAtUpload && run) {
        killedAt = `${request.method} ${request.path.split('?')[0]} (request ${request.started})`;
        run.kill();
      }
    });
    const push = (host: string) => ['run-many', '-t', 'manifest-push', `--registry=${host}/${prefix}`, `--tags=${tag}`, `--arches=${PUSH_ARCHES.join(',')}`, '--excludeTaskDependencies', EXCLUDE_UNPUSHED];
    const violations: string[] = [];
    let polls = 0;
    let stop = false;
    try {
      run = startNx(push(proxy.host));
      const poller = (async () => {
        while (!stop) {
          for (const project of PUSHED) violations.push(...(await missingChildren(`${prefix}/${project}`, tag)));
          polls++;
          await sleep(20);
        }
      })();
      const code = await run.done;
      stop = true;
      await poller;
      // The kill landed mid-push: uploads had started, Nx did not finish on its own, and some index tag is not there.
      if (!killedAt) throw new Error(`trial ${trial}: the push finished (exit ${code}) after ${uploads} blob uploads, before upload ${killAtUpload} could trigger the kill`);
      expect(code).toBeNull();
      const tagged: string[] = [];
      for (const project of PUSHED) {
        const head = await fetch(`${registry!.url}/v2/${prefix}/${project}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: INDEX_TYPES } });
        if (head.status === 200) tagged.push(project);
      }
      expect(tagged.length).toBeLessThan(PUSHED.length);
      // What was sent up to the kill kept the order.
      expect(pushOrderViolations(proxy.requests)).toEqual([]);
    } finally {
      stop = true;
      await proxy.stop();
    }
    expect(violations).toEqual([]);
    // The rerun completes the push (through a fresh proxy, in order too); then every index is whole.
    const rerunProxy = await startRecordingProxy(registry!.port);
    try {
      const rerun = await nx(clone!, push(rerunProxy.host), {}, 300_000);
      if (rerun.code !== 0) throw new Error(`trial ${trial}: the push after the kill at ${killedAt} failed:\n${rerun.output}`);
      expect(pushOrderViolations(rerunProxy.requests)).toEqual([]);
    } finally {
      await rerunProxy.stop();
    }
    for (const project of PUSHED) {
      const index = await fetch(`${registry!.url}/v2/${prefix}/${project}/manifests/${tag}`, { headers: { Accept: INDEX_TYPES } });
      expect(index.status).toBe(200);
      expect(((await index.json()) as IndexView).manifests).toHaveLength(PUSH_ARCHES.length);
      expect(await missingChildren(`${prefix}/${project}`, tag)).toEqual([]);
    }
    log.push(`trial ${trial}: killed at blob upload ${killAtUpload}: ${killedAt}; ${polls} polls of ${PUSHED.length} index tags during the push`);
  }
  console.log(`seed ${SEED}\n${log.join('\n')}`);
}, 900_000);
