import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBinfmt, parseBinfmtEntry } from './binfmt';

/** One check for the docker engine (RUN lines) and the docker runner (containers): the same messages and fixes. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-binfmt-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const registered = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POF
offset 0
magic 7f454c460201010000000000000000000200b700
`;
const engineUse = { alternative: 'or build with --engine=native', purpose: 'Dockerfile runs arm binaries (RUN on line 7)' };
const runnerUse = { alternative: 'or use --runner=qemu, which needs no binfmt', purpose: 'The docker runner (linux/arm/v7 containers)' };

it('reads the kernel entry', () => {
  expect(parseBinfmtEntry(registered)).toEqual({ enabled: true, interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', flags: 'POF' });
});

it('accepts an enabled entry with the F flag', async () => {
  await writeFile(join(dir, 'qemu-aarch64'), registered);
  await expect(checkBinfmt('arm64', { ...engineUse, binfmtDir: dir })).resolves.toBeUndefined();
});

it('names the missing registration, what needs it, and the fix with the caller’s way out', async () => {
  const empty = join(dir, 'empty');
  await mkdir(empty);
  await expect(checkBinfmt('arm', { ...engineUse, binfmtDir: empty })).rejects.toMatchObject({
    message: `Dockerfile runs arm binaries (RUN on line 7): binfmt_misc has no qemu-arm registration (${empty}/qemu-arm is missing), so the docker daemon cannot execute arm binaries.`,
    hint: expect.stringContaining('bash tools/services.sh start binfmt'),
  });
  const error = await checkBinfmt('arm', { ...runnerUse, binfmtDir: empty }).catch((e: unknown) => e as { message: string; hint: string });
  expect(error?.message).toMatch(/^The docker runner \(linux\/arm\/v7 containers\): binfmt_misc has no qemu-arm registration/);
  expect(error?.hint).toContain(`cat /usr/lib/binfmt.d/qemu-arm.conf > ${empty}/register`);
  expect(error?.hint).toContain('--runner=qemu');
});

it('refuses a disabled entry and one without the F flag', async () => {
  await writeFile(join(dir, 'qemu-s390x'), registered.replace('enabled', 'disabled'));
  await expect(checkBinfmt('s390x', { ...engineUse, binfmtDir: dir })).rejects.toMatchObject({
    message: `Dockerfile runs arm binaries (RUN on line 7): the binfmt_misc registration ${dir}/qemu-s390x is disabled.`,
    hint: `Enable it with \`echo 1 > ${dir}/qemu-s390x\` (as root); or build with --engine=native.`,
  });
  await writeFile(join(dir, 'qemu-ppc64le'), registered.replace('flags: POF', 'flags: P'));
  await expect(checkBinfmt('ppc64le', { ...runnerUse, binfmtDir: dir })).rejects.toThrow(/lacks the F flag, so containers cannot find its interpreter/);
});
