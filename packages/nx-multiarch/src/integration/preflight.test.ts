import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';
import { PLATFORMS } from '../platform/platforms';
import { checkBinfmt, checkQemu, preflight } from './preflight';

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

describe('binfmt check (docker runner)', () => {
  const entry = (flags: string, enabled = 'enabled') => `${enabled}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\nmagic 7f454c46\n`;

  it('accepts an enabled entry with the F flag', async () => {
    const dir = join(scratch, 'ok');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'qemu-aarch64'), entry('POF'));
    await expect(checkBinfmt(PLATFORMS.arm64, dir)).resolves.toBeUndefined();
  });

  it('names a missing entry and how to register it', async () => {
    const dir = join(scratch, 'empty');
    await mkdir(dir, { recursive: true });
    const error = await failure(checkBinfmt(PLATFORMS.arm, dir));
    expect(error.message).toBe(`binfmt_misc has no qemu-arm entry (${dir}/qemu-arm), so docker cannot run linux/arm/v7 containers.`);
    expect(error.hint).toContain(`cat /usr/lib/binfmt.d/qemu-arm.conf > ${dir}/register`);
    expect(error.hint).toContain('--runner=qemu');
  });

  it('names a disabled entry, and one without the F flag', async () => {
    const dir = join(scratch, 'bad');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'qemu-aarch64'), entry('PO', 'disabled'));
    expect((await failure(checkBinfmt(PLATFORMS.arm64, dir))).message).toBe(`The binfmt_misc entry ${dir}/qemu-aarch64 is disabled.`);
    await writeFile(join(dir, 'qemu-aarch64'), entry('PO'));
    expect((await failure(checkBinfmt(PLATFORMS.arm64, dir))).message).toContain('lacks the F (fix binary) flag');
  });
});

describe('docker and remote runner preflight', () => {
  it('names a missing docker CLI', async () => {
    const error = await failure(preflight({ runner: 'docker', platform: PLATFORMS.arm64, env: { PATH: scratch } }));
    expect(error.message).toBe('The docker CLI is not on PATH.');
    expect(error.hint).toContain('apt-get install docker.io');
  });

  it('names an unreachable engine, with the real docker CLI', async () => {
    const socket = join(scratch, 'no-such.sock');
    const error = await failure(preflight({ runner: 'docker', platform: PLATFORMS.arm64, dockerHost: `unix://${socket}` }));
    expect(error.message).toContain(`The docker engine at unix://${socket} is not reachable:`);
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
