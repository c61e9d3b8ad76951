import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORMS, platformString, type Arch } from '../../src/platform/platforms';
import { freePort, httpGet, runBinary, runImage, startImage, stopAll, useTestContext } from '../../src/integration';
import { MultiarchError } from '../../src/errors';
import { buildTestServer, testServerImage, writeTestImage } from './lib/test-images';

/**
 * The qemu runner end to end, for each of the three release arches: real
 * cross-compiled binaries in real OCI layouts, started by qemu-user (amd64
 * natively), reached over loopback.
 */
interface Info {
  arch: string;
  args: string[];
  env: string[];
  cwd: string;
}

const ARCHES: Arch[] = ['amd64', 'arm64', 'arm'];
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'qemu-runner-test-'));
});

afterAll(async () => {
  await stopAll();
  await rm(work, { recursive: true, force: true });
});

describe.each(ARCHES)('qemu runner, %s', (arch) => {
  let imageDir: string;

  beforeAll(async () => {
    imageDir = join(work, `image-${arch}`);
    await testServerImage(imageDir, arch);
    await useTestContext({
      arch,
      platform: platformString(PLATFORMS[arch].oci),
      runner: 'qemu',
      imageLayout: imageDir,
      images: {},
      binaries: { testserver: await buildTestServer(arch) },
      workDir: join(work, `run-${arch}`),
      emulateHost: false,
      testHostAddress: '127.0.0.1',
    });
  });

  afterAll(() => stopAll());

  it('starts the entrypoint with the image env, overrides, workdir and args, reachable on loopback', async () => {
    const port = await freePort();
    const server = await startImage({ args: ['--listen', `127.0.0.1:${port}`], env: { MODE: 'test' } });
    const hello = await server.waitForHttp(port, '/');
    expect(hello.body).toBe(`hello from ${arch}\n`);

    const info = JSON.parse((await httpGet(server.url(port, '/info'))).body) as Info;
    expect(info.arch).toBe(arch);
    // argv[0] is the path inside the image (qemu -0), the rest is the overridden Cmd.
    expect(info.args).toEqual(['/bin/testserver', '--listen', `127.0.0.1:${port}`]);
    expect(info.env).toEqual(expect.arrayContaining(['GREETING=from-image', 'MODE=test', 'PATH=/usr/bin:/bin']));
    expect(info.env).not.toContain('MODE=image');
    expect(info.cwd.endsWith('/work')).toBe(true);
    if (PLATFORMS[arch].qemuCpu) expect(info.env).toContain(`QEMU_CPU=${PLATFORMS[arch].qemuCpu}`);
    expect(server.description).toContain(arch === 'amd64' ? 'native' : `${PLATFORMS[arch].qemu}-static`);

    const status = await server.stop();
    expect(status).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toContain('stopping on terminated');
  });

  it('applies the layers in order with their whiteouts', async () => {
    const port = await freePort();
    const server = await startImage({ args: ['--listen', `127.0.0.1:${port}`] });
    await server.waitForPort(port);
    // qemu -L serves absolute paths from the image first; natively (amd64) the test reads the unpacked root.
    const read = async (path: string) => httpGet(server.url(port, `/file?path=${encodeURIComponent(path)}`));
    if (arch !== 'amd64') {
      expect((await read('/etc/message')).body).toBe('from the upper layer\n');
      expect((await read('/data/new')).body).toBe('from the upper layer\n');
      expect((await read('/etc/removed')).status).toBe(404);
      expect((await read('/data/old')).status).toBe(404);
    }
    const info = JSON.parse((await httpGet(server.url(port, '/info'))).body) as Info;
    const root = info.cwd.slice(0, -'/work'.length);
    expect(await readFile(join(root, 'etc/message'), 'utf8')).toBe('from the upper layer\n');
    await expect(readFile(join(root, 'etc/removed'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(root, 'data/old'))).rejects.toThrow(/ENOENT/);
    await server.stop();
  });

  it('resolves a command on the image PATH through a symlink, and runs it to completion', async () => {
    const result = await runImage({ entrypoint: ['server'], args: ['--exit', '3', 'one', 'two'] });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(`arch=${arch} args=[one two]\n`);
    expect(result.stderr).toContain('exiting with 3');
  });

  it('runs a per-arch binary as a one-file image', async () => {
    const result = await runBinary('testserver', ['--exit', '0', 'x']);
    expect(result).toMatchObject({ code: 0, stdout: `arch=${arch} args=[x]\n` });
  });

  it('fails a readiness wait at once, with the output, when the process exits', async () => {
    const port = await freePort();
    const server = await startImage({ args: [] }); // no --listen: the server exits with code 2
    const started = Date.now();
    await expect(server.waitForPort(port)).rejects.toThrow(/exited with code 2 before port 127\.0\.0\.1:\d+ was open[\s\S]*no --listen address/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('a broken image: an amd64 binary in an arm64 layout', () => {
  let imageDir: string;

  beforeAll(async () => {
    imageDir = join(work, 'broken');
    await testServerImage(imageDir, 'arm64', 'amd64');
    await useTestContext({
      arch: 'arm64',
      platform: 'linux/arm64',
      runner: 'qemu',
      imageLayout: imageDir,
      images: {},
      binaries: {},
      workDir: join(work, 'run-broken'),
      emulateHost: false,
      testHostAddress: '127.0.0.1',
      readyTimeoutMs: 60_000,
    });
  });

  it('is reported as a failure with the process error and the diagnosis, not a hang', async () => {
    const port = await freePort();
    const server = await startImage({ args: ['--listen', `127.0.0.1:${port}`] });
    const started = Date.now();
    const error = await server.waitForHttp(port, '/').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(MultiarchError);
    const { message, hint } = error as MultiarchError;
    expect(message).toMatch(/exited with code \d+ before GET/);
    expect(message).toContain('Invalid ELF image for this architecture');
    expect(hint).toContain('/bin/testserver is an ELF binary for amd64, but the image is arm64');
  });
});

describe('image files the runner must refuse or follow', () => {
  it('runs a #! script through its interpreter, as the kernel would', async () => {
    const binary = await readFile(await buildTestServer('arm64'));
    const dir = join(work, 'script');
    await writeTestImage(dir, {
      arch: 'arm64',
      layers: [
        [
          { path: 'bin/testserver', type: 'file', mode: 0o755, content: binary },
          { path: 'usr/local/bin/start.sh', type: 'file', mode: 0o755, content: Buffer.from('#!/bin/testserver --exit=5\n') },
        ],
      ],
      config: { Entrypoint: ['/usr/local/bin/start.sh'], Cmd: ['extra'] },
    });
    await useTestContext({ arch: 'arm64', platform: 'linux/arm64', runner: 'qemu', imageLayout: dir, images: {}, binaries: {}, workDir: join(work, 'run-script'), emulateHost: false, testHostAddress: '127.0.0.1' });
    const result = await runImage();
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('arch=arm64 args=[/usr/local/bin/start.sh extra]\n');
  });

  it('names a missing entrypoint', async () => {
    const dir = join(work, 'no-entry');
    await writeTestImage(dir, { arch: 'arm', layers: [[{ path: 'etc/hostname', type: 'file', content: Buffer.from('x') }]], config: { Entrypoint: ['/bin/absent'] } });
    await useTestContext({ arch: 'arm', platform: 'linux/arm/v7', runner: 'qemu', imageLayout: dir, images: {}, binaries: {}, workDir: join(work, 'run-no-entry'), emulateHost: false, testHostAddress: '127.0.0.1' });
    await expect(startImage()).rejects.toThrow('The image has no executable /bin/absent.');
  });

  it('refuses an image whose layout lacks the arch, naming what it has', async () => {
    const dir = join(work, 'amd64-only');
    await testServerImage(dir, 'amd64');
    await useTestContext({ arch: 'arm', platform: 'linux/arm/v7', runner: 'qemu', imageLayout: dir, images: {}, binaries: {}, workDir: join(work, 'run-amd64-only'), emulateHost: false, testHostAddress: '127.0.0.1' });
    await expect(startImage()).rejects.toThrow(/has no manifest for linux\/arm\/v7 \(it has: linux\/amd64\)/);
  });

  it('cannot be used outside the executor without a context', async () => {
    await stopAll();
    const saved = process.env.NX_MULTIARCH_ARCH;
    delete process.env.NX_MULTIARCH_ARCH;
    try {
      await expect(startImage()).rejects.toThrow(/NX_MULTIARCH_ARCH is not set/);
    } finally {
      if (saved !== undefined) process.env.NX_MULTIARCH_ARCH = saved;
    }
  });
});

