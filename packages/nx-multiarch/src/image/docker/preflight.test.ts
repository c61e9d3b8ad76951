import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBinfmt, daemonIsLocal, firstForeignRun, firstLayoutFrom, parseBinfmtEntry, queryDockerServer } from './preflight';
import { selectDockerCli } from '../../docker-daemon/cli';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-docker-preflight-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('which RUN lines need emulation', () => {
  const crossPattern = `FROM --platform=$BUILDPLATFORM golang:1.19 AS build
ARG TARGETARCH
RUN GOARCH=$TARGETARCH go build -o /out/app .
FROM scratch
COPY --from=build /out/app /app
`;

  it('treats FROM --platform=$BUILDPLATFORM stages as native', () => {
    expect(firstForeignRun(crossPattern, 'arm64', 'amd64')).toBeUndefined();
  });

  it('finds a RUN in a stage of the target platform, with its line', () => {
    expect(firstForeignRun('FROM busybox\nCOPY a /a\nRUN echo hi\n', 'arm64', 'amd64')).toEqual({ arch: 'arm64', line: 3 });
    expect(firstForeignRun('FROM --platform=linux/arm/v7 busybox AS x\nRUN true\nFROM scratch\n', 'amd64', 'amd64')).toEqual({ arch: 'arm', line: 2 });
    expect(firstForeignRun('FROM --platform=${TARGETPLATFORM} busybox\nRUN true\n', 'arm64', 'amd64')).toEqual({ arch: 'arm64', line: 2 });
  });

  it('needs nothing when the daemon runs the target arch itself, or there is no RUN', () => {
    expect(firstForeignRun('FROM busybox\nRUN echo hi\n', 'arm64', 'arm64')).toBeUndefined();
    expect(firstForeignRun('FROM scratch\nCOPY a /a\n', 'arm64', 'amd64')).toBeUndefined();
  });
});

describe('binfmt registration check', () => {
  const registered = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POF
offset 0
magic 7f454c460201010000000000000000000200b700
`;

  it('reads the kernel entry', () => {
    expect(parseBinfmtEntry(registered)).toEqual({ enabled: true, interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', flags: 'POF' });
  });

  it('accepts an enabled entry with the F flag', async () => {
    await writeFile(join(dir, 'qemu-aarch64'), registered);
    await expect(checkBinfmt('arm64', dir, 3)).resolves.toBeUndefined();
  });

  it('names the missing registration, the RUN line and the fix', async () => {
    await expect(checkBinfmt('arm', dir, 7)).rejects.toMatchObject({
      message: expect.stringMatching(/runs arm binaries \(RUN on line 7\) but binfmt_misc has no qemu-arm registration/),
      hint: expect.stringContaining('bash tools/services.sh start binfmt'),
    });
  });

  it('refuses a disabled entry and one without the F flag', async () => {
    await writeFile(join(dir, 'qemu-s390x'), registered.replace('enabled', 'disabled'));
    await expect(checkBinfmt('s390x', dir, 2)).rejects.toThrow(/is disabled/);
    await writeFile(join(dir, 'qemu-ppc64le'), registered.replace('flags: POF', 'flags: P'));
    await expect(checkBinfmt('ppc64le', dir, 2)).rejects.toThrow(/lacks the F flag/);
  });
});

it('knows which DOCKER_HOST shares this kernel', () => {
  expect(daemonIsLocal({})).toBe(true);
  expect(daemonIsLocal({ DOCKER_HOST: 'unix:///tmp/x/sock' })).toBe(true);
  expect(daemonIsLocal({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toBe(false);
  expect(daemonIsLocal({ DOCKER_HOST: 'ssh://builder@arm-box' })).toBe(false);
});

it('says which daemon does not answer and how to start one', async () => {
  const env = { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-daemon.sock')}` };
  const cli = await selectDockerCli(env);
  await expect(queryDockerServer(cli, env)).rejects.toMatchObject({
    message: expect.stringContaining(`The docker daemon at DOCKER_HOST=unix://${join(dir, 'no-daemon.sock')} does not answer`),
    hint: expect.stringContaining('bash tools/services.sh start dockerd'),
  });
});

it('finds a FROM oci-layout:// base, which only the native engine can read', () => {
  expect(firstLayoutFrom('FROM scratch AS a\nFROM --platform=$TARGETPLATFORM oci-layout://dist/images/base/arm64:latest\nCOPY x /x\n')).toEqual({
    line: 2,
    image: 'oci-layout://dist/images/base/arm64:latest',
  });
  expect(firstLayoutFrom('FROM 127.0.0.1:5000/base:1\n')).toBeUndefined();
});
