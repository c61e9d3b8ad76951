import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../../src/errors';
import { freePort, httpGet, runImage, startImage, stopAll, useTestContext } from '../../src/integration';
import { preflight } from '../../src/integration/preflight';
import { PLATFORMS, platformString, type Arch } from '../../src/platform/platforms';
import { run } from '../../src/util/exec';
import { startTestDockerd, type TestDockerDaemon } from '../support/dockerd';
import { testServerImage } from './lib/test-images';

/**
 * The docker and remote runners against a real engine (DOCKER_HOST, or a
 * private dockerd this file starts and stops by pid). Foreign arches run
 * through the kernel's binfmt_misc entries (`bash tools/services.sh start binfmt`).
 * There is no native arm machine here: the remote runner is exercised with
 * this machine's own engine as a native amd64 host, and refused for arm64.
 */
interface Info {
  arch: string;
  args: string[];
  env: string[];
  cwd: string;
}

let daemon: TestDockerDaemon;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'docker-runner-test-'));
  daemon = await startTestDockerd();
}, 120_000);

afterAll(async () => {
  await stopAll();
  await daemon?.stop();
  await rm(work, { recursive: true, force: true });
}, 120_000);

async function use(arch: Arch, runner: 'docker' | 'remote', imageLayout: string): Promise<void> {
  await useTestContext({
    arch,
    platform: platformString(PLATFORMS[arch].oci),
    runner,
    imageLayout,
    images: {},
    binaries: {},
    workDir: join(work, `run-${arch}-${runner}`),
    dockerHost: daemon.host,
    emulateHost: false,
    testHostAddress: '127.0.0.1',
    readyTimeoutMs: 60_000,
  });
}

describe.each(['amd64', 'arm64', 'arm'] as Arch[])('docker runner, %s', (arch) => {
  let imageDir: string;

  beforeAll(async () => {
    await preflight({ runner: 'docker', platform: PLATFORMS[arch], dockerHost: daemon.host });
    imageDir = join(work, `image-${arch}`);
    await testServerImage(imageDir, arch);
    await use(arch, 'docker', imageDir);
  }, 120_000);

  afterAll(() => stopAll(), 60_000);

  it('loads the layout and runs the entrypoint with --platform on the host network', async () => {
    const port = await freePort();
    const server = await startImage({ args: ['--listen', `127.0.0.1:${port}`], env: { MODE: 'test' } });
    expect((await server.waitForHttp(port, '/')).body).toBe(`hello from ${arch}\n`);
    const info = JSON.parse((await httpGet(server.url(port, '/info'))).body) as Info;
    expect(info.arch).toBe(arch);
    expect(info.args).toEqual(['/bin/testserver', '--listen', `127.0.0.1:${port}`]);
    expect(info.env).toEqual(expect.arrayContaining(['GREETING=from-image', 'MODE=test']));
    expect(info.cwd).toBe('/work');
    // Inside a real container the whiteouts of the upper layer hide the lower layer's files.
    expect((await httpGet(server.url(port, '/file?path=/etc/message'))).body).toBe('from the upper layer\n');
    expect((await httpGet(server.url(port, '/file?path=/etc/removed'))).status).toBe(404);
    expect((await httpGet(server.url(port, '/file?path=/data/old'))).status).toBe(404);
    const status = await server.stop();
    expect(status.code).toBe(0);
    expect(server.stderr()).toContain('stopping on terminated');
  });

  it('returns the exit code and output of a command run to completion', async () => {
    const result = await runImage({ args: ['--exit', '4', 'z'] });
    expect(result.code).toBe(4);
    expect(result.stdout).toBe(`arch=${arch} args=[z]\n`);
  });
});

describe('docker runner with a broken image', () => {
  it('refuses an amd64 binary in an arm64 image before the engine runs it natively', async () => {
    const dir = join(work, 'broken');
    await testServerImage(dir, 'arm64', 'amd64');
    await use('arm64', 'docker', dir);
    const error = await startImage().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MultiarchError);
    expect((error as MultiarchError).message).toContain('/bin/testserver is an ELF binary for amd64, but the image is arm64.');
    expect((error as MultiarchError).hint).toContain('Build it for arm64');
  });
});

describe('remote runner', () => {
  it('runs on an engine of the same arch (this machine standing in for a native amd64 host)', async () => {
    await preflight({ runner: 'remote', platform: PLATFORMS.amd64, dockerHost: daemon.host });
    const dir = join(work, 'remote-amd64');
    await testServerImage(dir, 'amd64');
    await use('amd64', 'remote', dir);
    const result = await runImage({ args: ['--exit', '0', 'remote'] });
    expect(result).toMatchObject({ code: 0, stdout: 'arch=amd64 args=[remote]\n' });
  });

  it('refuses an engine of another arch: remote means native hardware', async () => {
    await expect(preflight({ runner: 'remote', platform: PLATFORMS.arm64, dockerHost: daemon.host })).rejects.toThrow(
      `The remote engine at ${daemon.host} runs on amd64, not arm64; the remote runner tests on native hardware only.`,
    );
  });

  it('leaves no test images behind in the engine', async () => {
    await stopAll();
    const images = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { env: daemon.env });
    // Only the runner's own images (nx-multiarch-test/<arch>:<digest>): other suites share this engine.
    expect(images.stdout).not.toMatch(/nx-multiarch-test\/(amd64|arm64|arm|ppc64le|s390x|riscv64):/);
  });
});
