import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { PLATFORMS } from '../platform/platforms';
import { checkQemu, preflight } from './preflight';

/** Each preflight failure must name the problem and the fix. */
async function failure(promise: Promise<unknown>): Promise<MultiarchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MultiarchError);
  return error as MultiarchError;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'preflight-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('qemu runner preflight', () => {
  it('passes where qemu-user-static is installed', () => {
    expect(() => checkQemu(PLATFORMS.arm64, process.env)).not.toThrow();
    expect(() => checkQemu(PLATFORMS.arm, process.env)).not.toThrow();
  });

  it('names the missing qemu binary and how to install it', async () => {
    const error = await failure(preflight({ runner: 'qemu', platform: PLATFORMS.arm, env: { PATH: scratch } }));
    expect(error.message).toBe('qemu-arm-static is not on PATH; the qemu runner needs it to run linux/arm/v7 programs.');
    expect(error.hint).toBe('Install it with `apt-get install qemu-user-static` (or run `bash tools/setup.sh`).');
  });

  it('needs no qemu for the host arch, unless asked to emulate it', async () => {
    await expect(preflight({ runner: 'qemu', platform: PLATFORMS.amd64, env: { PATH: scratch } })).resolves.toBeUndefined();
    const error = await failure(preflight({ runner: 'qemu', platform: PLATFORMS.amd64, env: { PATH: scratch }, emulateHost: true }));
    expect(error.message).toContain('qemu-x86_64-static is not on PATH');
  });
});

// The binfmt check itself (messages, hints with --runner=qemu) is tested once, in docker-daemon/binfmt.test.ts.

describe('docker and remote runner preflight', () => {
  it('names a missing docker CLI', async () => {
    const error = await failure(preflight({ runner: 'docker', platform: PLATFORMS.arm64, env: { PATH: scratch } }));
    expect(error.message).toBe('The docker CLI is not on PATH.');
    expect(error.hint).toContain('apt-get install docker.io');
  });

  it('names an unreachable engine, with the real docker CLI', async () => {
    const socket = join(scratch, 'no-such.sock');
    const error = await failure(preflight({ runner: 'docker', platform: PLATFORMS.arm64, dockerHost: `unix://${socket}` }));
    expect(error.message).toContain(`The docker daemon at DOCKER_HOST=unix://${socket} does not answer:`);
    expect(error.hint).toContain('tools/');
  });

  it('asks for a docker host for the remote runner', async () => {
    const error = await failure(preflight({ runner: 'remote', platform: PLATFORMS.arm64, env: { PATH: process.env.PATH } }));
    expect(error.message).toBe('The remote runner needs the docker engine of a native arm64 machine, and none was given.');
    expect(error.hint).toContain('--dockerHost=ssh://user@arm64-host');
  });

  it('says the remote engine is unreachable in remote terms', async () => {
    const error = await failure(preflight({ runner: 'remote', platform: PLATFORMS.arm64, dockerHost: `unix://${join(scratch, 'gone.sock')}` }));
    expect(error.hint).toContain('Check that the remote machine runs dockerd');
  });
});
