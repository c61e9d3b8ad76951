import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTar } from '../../src/oci/tar';
import type { BuildRequest } from '../../src/image/common/engine';
import { selectDockerCli } from '../../src/docker-daemon/cli';
import type { ImageConfig, ImageIndex, ImageManifest } from '../../src/oci/types';
import { platformString, PlatformSpec } from '../../src/platform/platforms';
import { runChecked } from '../../src/util/exec';
import { busyboxBinary } from '../support/busybox';
import { validateLayout as validateWholeLayout } from '../support/oci-schemas';

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

/** Validates the whole layout (test/support/oci-schemas) and returns its one image. */
export async function validateLayout(layoutDir: string): Promise<{ index: ImageIndex; manifest: ImageManifest; config: ImageConfig }> {
  const { index, images } = await validateWholeLayout(layoutDir);
  if (images.length !== 1) throw new Error(`expected one image in ${layoutDir}, found ${images.length}`);
  return { index, manifest: images[0].manifest, config: images[0].config };
}

// ------------------------------------------------------- busybox base image --

/** A root file system tar with /bin/busybox (Debian's busybox-static for the arch), /bin/sh and /tmp. */
export async function busyboxRootfsTar(platform: PlatformSpec, destination: string): Promise<void> {
  const tar = await createTar(
    [
      { path: 'bin/busybox', type: 'file', mode: 0o755, content: await busyboxBinary(platform.debianArch) },
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
