import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';
import { createTar } from '../../src/archive/tar';
import type { BuildRequest } from '../../src/build/engine';
import { selectDockerCli } from '../../src/build/docker-cli';
import { OciLayoutReader } from '../../src/oci/layout';
import type { ImageIndex, ImageManifest } from '../../src/oci/types';
import { platformString, PlatformSpec } from '../../src/platform/platforms';
import { run, runChecked } from '../../src/util/exec';

/** Shared set-up of the docker engine integration tests. */

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export const SOURCE_DATE_EPOCH = 1700000000;

const made: string[] = [];

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `nx-multiarch-${prefix}-`));
  made.push(dir);
  return dir;
}

export async function cleanUpTemp(): Promise<void> {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
}

const HELLO_GO = `package main

import (
	"fmt"
	"runtime"
)

func main() { fmt.Printf("hello from %s\\n", runtime.GOARCH) }
`;

/** Cross-compiles a tiny static Go program for the platform into `dir/name`. */
export async function goHello(platform: PlatformSpec, dir: string, name = 'hello'): Promise<string> {
  const src = await tempDir('go-src');
  await writeFile(join(src, 'main.go'), HELLO_GO);
  await writeFile(join(src, 'go.mod'), 'module example.com/hello\n\ngo 1.19\n');
  const out = join(dir, name);
  await runChecked('go', ['build', '-trimpath', '-ldflags=-s -w -buildid=', '-o', out, '.'], {
    cwd: src,
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', ...platform.goEnv, GOFLAGS: '-mod=mod' },
  });
  return out;
}

/** A build request with an empty layout folder and no tags beyond the given ones. */
export async function requestFor(platform: PlatformSpec, contextDir: string, overrides: Partial<BuildRequest> = {}): Promise<BuildRequest> {
  return {
    platform,
    dockerfile: join(contextDir, 'Dockerfile'),
    contextDir,
    buildArgs: {},
    labels: {},
    sourceDateEpoch: SOURCE_DATE_EPOCH,
    tags: [],
    layoutDir: await tempDir('layout'),
    blobCacheDir: await tempDir('blobs'),
    ...overrides,
  };
}

// ---------------------------------------------------------------- schemas --

const SCHEMA_DIR = join(WORKSPACE_ROOT, '..', 'shared', 'oci-schemas');

/** The schemas' `id`s give them different bases; they refer to each other by file name, so key them by it. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key, child]) => !(key === 'id' && typeof child === 'string'))
        .map(([key, child]) => [key, withoutIds(child)]),
    );
  }
  return value;
}

let validators: Record<string, ValidateFunction> | undefined;

export function ociValidators(): Record<'layout' | 'index' | 'manifest' | 'config', ValidateFunction> {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    // The two formats the schemas use (ajv-formats is not a dependency).
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    ajv.addFormat('uri', (value: string) => URL.canParse(value));
    for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
      ajv.addSchema(withoutIds(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8'))) as object, file);
    }
    const get = (file: string) => {
      const validate = ajv.getSchema(file);
      if (!validate) throw new Error(`schema ${file} did not load`);
      return validate as ValidateFunction;
    };
    validators = {
      layout: get('image-layout-schema.json'),
      index: get('image-index-schema.json'),
      manifest: get('image-manifest-schema.json'),
      config: get('config-schema.json'),
    };
  }
  return validators as Record<'layout' | 'index' | 'manifest' | 'config', ValidateFunction>;
}

function expectValid(validate: ValidateFunction, document: unknown, what: string): void {
  if (!validate(document)) throw new Error(`${what} does not validate: ${JSON.stringify(validate.errors)}`);
}

/** Validates a layout's oci-layout, index.json, every manifest and config; returns the (first) manifest. */
export async function validateLayout(layoutDir: string): Promise<{ index: ImageIndex; manifest: ImageManifest; config: Record<string, unknown> }> {
  const v = ociValidators();
  expectValid(v.layout, JSON.parse(await readFile(join(layoutDir, 'oci-layout'), 'utf8')), 'oci-layout');
  const reader = new OciLayoutReader(layoutDir);
  const index = await reader.readIndex();
  expectValid(v.index, index, 'index.json');
  let first: { manifest: ImageManifest; config: Record<string, unknown> } | undefined;
  for (const descriptor of index.manifests) {
    const manifest = await reader.readJson<ImageManifest>(descriptor.digest);
    expectValid(v.manifest, manifest, `manifest ${descriptor.digest}`);
    const config = await reader.readJson<Record<string, unknown>>(manifest.config.digest);
    expectValid(v.config, config, `config ${manifest.config.digest}`);
    for (const layer of manifest.layers) await reader.readBlob(layer.digest);
    first ??= { manifest, config };
  }
  if (!first) throw new Error('index.json lists no manifest');
  return { index, ...first };
}

// ------------------------------------------------------- busybox base image --

/**
 * Debian's busybox-static .deb for the arch: from .cache/debs (tools/setup.sh
 * puts it there) or fetched with apt-get download through a separate lists
 * folder, so the machine's own apt state is not touched.
 */
export async function busyboxDeb(platform: PlatformSpec): Promise<string> {
  const cacheDir = join(WORKSPACE_ROOT, '.cache', 'debs');
  const cached = existsSync(cacheDir) ? readdirSync(cacheDir).find((f) => f.startsWith('busybox-static_') && f.endsWith(`_${platform.debianArch}.deb`)) : undefined;
  if (cached) return join(cacheDir, cached);
  const apt = await tempDir('apt');
  for (const sub of ['lists/partial', 'cache/archives/partial', 'out']) mkdirSync(join(apt, sub), { recursive: true });
  const options = [
    '-q',
    '-o',
    `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o',
    `Dir::Cache=${join(apt, 'cache')}`,
    '-o',
    'APT::Sandbox::User=root',
    '-o',
    `APT::Architectures::=${platform.debianArch}`,
  ];
  // A mirror mid-sync can fail one list; the download says whether what it needs is there.
  await run('apt-get', [...options, 'update'], { timeoutMs: 180_000 });
  await runChecked('apt-get', [...options, 'download', `busybox-static:${platform.debianArch}`], { cwd: join(apt, 'out'), timeoutMs: 180_000 });
  const deb = readdirSync(join(apt, 'out')).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download gave no busybox-static .deb');
  return join(apt, 'out', deb);
}

/** A root file system tar with /bin/busybox and /bin/sh for the arch. */
export async function busyboxRootfsTar(platform: PlatformSpec, destination: string): Promise<void> {
  const deb = await busyboxDeb(platform);
  const extracted = await tempDir('busybox');
  await runChecked('dpkg-deb', ['-x', deb, extracted]);
  const busybox = await readFile(join(extracted, 'bin', 'busybox'));
  const tar = await createTar(
    [
      { path: 'bin/busybox', type: 'file', mode: 0o755, content: busybox },
      { path: 'bin/sh', type: 'symlink', linkTarget: 'busybox' },
      { path: 'tmp', type: 'directory', mode: 0o1777 },
    ],
    { mtime: 0 },
  );
  writeFileSync(destination, tar);
}

/**
 * Makes `tag` in the daemon: busybox for the arch, built with BuildKit from
 * `FROM scratch` + `ADD rootfs.tar /`. (`docker import --platform` of engine
 * 20.10 records amd64 whatever it is told, and BuildKit then goes looking for
 * the base on Docker Hub.)
 */
export async function makeBusyboxBase(platform: PlatformSpec, tag: string, env: NodeJS.ProcessEnv): Promise<void> {
  const context = await tempDir('base');
  await busyboxRootfsTar(platform, join(context, 'rootfs.tar'));
  await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\n');
  const cli = await selectDockerCli(env);
  const args =
    cli.buildKit === 'buildx'
      ? ['buildx', 'build', '--load', '--platform', platformString(platform.oci), '-t', tag, context]
      : ['build', '--platform', platformString(platform.oci), '-t', tag, context];
  await runChecked(cli.path, args, { env: { ...env, DOCKER_BUILDKIT: '1' } });
}

// ------------------------------------------------------------------ binfmt --

/**
 * binfmt for the arch's qemu: `tools/services.sh start binfmt` where it
 * exists, else the same steps here (mount binfmt_misc, register Debian's
 * qemu-user-static entry, which carries the F flag).
 */
export async function ensureBinfmt(platform: PlatformSpec): Promise<void> {
  const entry = `/proc/sys/fs/binfmt_misc/${platform.qemu}`;
  if (existsSync(entry)) return;
  const services = join(WORKSPACE_ROOT, 'tools', 'services.sh');
  if (existsSync(services)) {
    await runChecked('bash', [services, 'start', 'binfmt'], { cwd: WORKSPACE_ROOT, timeoutMs: 120_000 });
    if (existsSync(entry)) return;
  }
  if (!existsSync('/proc/sys/fs/binfmt_misc/register')) {
    await runChecked('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
  }
  const conf = `/usr/lib/binfmt.d/${platform.qemu}.conf`;
  writeFileSync('/proc/sys/fs/binfmt_misc/register', readFileSync(conf));
}

/** Files of a folder, sorted; used to check that a refused build wrote nothing. */
export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}
