import { existsSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushRecord } from '../../src/outputs/push-record';
import { startRegistry, type RegistryServer } from '../support/registry-server';
import { BIN, buildPlugin, exec, nx, removeScratchClone, scratchClone, type ScratchClone } from '../faults/scratch-clone';
import { dumpDom, screenshot } from './chromium';

/**
 * `nx-multiarch report` over real outputs: in a scratch clone, the arm64
 * integration tests of linkerd2-proxy-init (which build its arm64 image), then
 * manifest-push of all three arches to a loopback registry. The report must
 * show every image with the digest the build wrote, the cache status each run
 * recorded, the push the registry really holds, and the JUnit totals; and the
 * page must render in headless chromium.
 */
const PROJECT = 'linkerd2-proxy-init';
const ARCHES = ['amd64', 'arm64', 'arm'];

let clone: ScratchClone | undefined;
let registry: RegistryServer | undefined;
let markdown = '';
let html = '';
let htmlFile = '';
let hasIntegration = false;

interface Summary {
  manifestDigest: string;
  size: number;
}

const summaryOf = async (arch: string) => JSON.parse(await readFile(join(clone!.dir, 'dist', 'images', PROJECT, arch, 'image.json'), 'utf8')) as Summary;

beforeAll(async () => {
  await buildPlugin();
  registry = await startRegistry();
  clone = await scratchClone('report');
  // The integration tests of the Linkerd-shaped projects arrive in their own commit; without them, build the image alone.
  hasIntegration = existsSync(join(clone.dir, 'packages', PROJECT, 'integration'));
  const first = await nx(clone, ['run', `${PROJECT}:${hasIntegration ? 'arch-integration' : 'docker-arch-build'}--arm64`]);
  if (first.code !== 0) throw new Error(`the arm64 run failed:\n${first.output}`);
  await copyFile(join(clone.cacheDir, 'run.json'), join(clone.root, 'run-1.json'));
  const push = await nx(clone, ['run', `${PROJECT}:manifest-push`, `--registry=${registry.host}`]);
  if (push.code !== 0) throw new Error(`manifest-push failed:\n${push.output}`);
  await copyFile(join(clone.cacheDir, 'run.json'), join(clone.root, 'run-2.json'));
  const report = await exec(process.execPath, [BIN, 'report', '--run', join(clone.root, 'run-1.json'), '--run', join(clone.root, 'run-2.json')], clone.dir);
  if (report.code !== 0) throw new Error(`report failed:\n${report.output}`);
  markdown = await readFile(join(clone.dir, 'dist', 'report', 'report.md'), 'utf8');
  htmlFile = join(clone.dir, 'dist', 'report', 'index.html');
  html = await readFile(htmlFile, 'utf8');
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await removeScratchClone(clone);
});

test('the matrix names every image with the digest its build wrote, and the cache status of the newest run', async () => {
  const row = markdown.split('\n').find((line) => line.startsWith(`| ${PROJECT} |`));
  expect(row).toBeDefined();
  const cells = row!.split('|').slice(2, -1).map((c) => c.trim());
  expect(markdown).toContain(`| project | ${ARCHES.join(' | ')} |`);
  for (const [i, arch] of ARCHES.entries()) {
    const summary = await summaryOf(arch);
    expect(cells[i]).toContain(summary.manifestDigest.slice(0, 'sha256:'.length + 12));
    expect(html).toContain(`data-arch="${arch}" data-digest="${summary.manifestDigest}"`);
  }
  // arm64 was built by the first run and restored by the second (which wins); the others were built by the push run.
  expect(cells[1]).toContain('local cache');
  expect(cells[0]).toContain('built');
  expect(cells[2]).toContain('built');
});

test('the push section matches what the registry holds under the tag', async () => {
  const record = JSON.parse(await readFile(join(clone!.dir, 'dist', 'push', `${PROJECT}.json`), 'utf8')) as PushRecord;
  expect([...record.arches].sort()).toEqual([...ARCHES].sort());
  const tag = record.tags[0];
  const response = await fetch(`${registry!.url}/v2/${record.repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('docker-content-digest')).toBe(record.indexDigest);
  expect(markdown).toContain(record.indexDigest.slice(0, 'sha256:'.length + 12));
  expect(markdown).toContain(`${record.blobs.uploaded} / ${record.blobs.mounted} / ${record.blobs.skipped}`);
});

test('the integration section shows the arm64 JUnit totals', async () => {
  if (!hasIntegration) {
    expect(markdown).toContain('No JUnit results in dist/test-results.');
    return;
  }
  const xml = await readFile(join(clone!.dir, 'dist', 'test-results', PROJECT, 'arm64', 'junit.xml'), 'utf8');
  const tests = Number(/<testsuites[^>]*\btests="(\d+)"/.exec(xml)![1]);
  expect(tests).toBeGreaterThan(0);
  expect(markdown).toContain(`| ${PROJECT} | arm64 | ${tests} | 0 | 0 |`);
});

test('the time chart covers the tasks of both runs', () => {
  expect(html).toContain('<svg');
  expect(html).toMatch(/go-cross \(\d+\)/);
  expect(html).toMatch(/docker-arch-build \(\d+\)/);
  expect(html).toMatch(/manifest-push \(1\)/);
  // Self-contained: no scripts, nothing fetched.
  expect(html).not.toMatch(/<script|src="http|href="http/);
});

test('headless chromium renders the matrix', async () => {
  const dom = await dumpDom(htmlFile);
  const cells = [...dom.matchAll(/<td class="cell" data-project="([^"]+)" data-arch="([^"]+)" data-digest="([^"]+)"/g)];
  expect(cells.map((m) => m[2]).sort()).toEqual([...ARCHES].sort());
  for (const cell of cells) expect(cell[3]).toBe((await summaryOf(cell[2])).manifestDigest);
  expect(dom).toMatch(/<svg[^>]*id="time-by-kind"/);
  const png = join(clone!.root, 'report.png');
  await screenshot(htmlFile, png);
  const bytes = await readFile(png);
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  // A blank page compresses to a few KiB; a rendered table and chart do not.
  expect(bytes.length).toBeGreaterThan(20_000);
}, 120_000);
