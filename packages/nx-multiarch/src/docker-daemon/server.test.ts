import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectDockerCli } from './cli';
import { daemonIsLocal, queryDockerServer, requireDockerCli } from './server';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-docker-server-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('knows which DOCKER_HOST shares this kernel', () => {
  expect(daemonIsLocal({})).toBe(true);
  expect(daemonIsLocal({ DOCKER_HOST: 'unix:///tmp/x/sock' })).toBe(true);
  expect(daemonIsLocal({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toBe(false);
  expect(daemonIsLocal({ DOCKER_HOST: 'ssh://builder@arm-box' })).toBe(false);
});

it('says which daemon does not answer and how to start one, with the real docker CLI', async () => {
  const env = { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-daemon.sock')}` };
  const cli = await selectDockerCli(env);
  await expect(queryDockerServer(cli.path, env, { alternative: 'or build with --engine=native' })).rejects.toMatchObject({
    message: expect.stringContaining(`The docker daemon at DOCKER_HOST=unix://${join(dir, 'no-daemon.sock')} does not answer`),
    hint: expect.stringMatching(/bash tools\/services\.sh start dockerd.*or build with --engine=native\.$/),
  });
  await expect(queryDockerServer(cli.path, env, { alternative: 'unused', remote: true })).rejects.toMatchObject({
    hint: expect.stringContaining('Check that the remote machine runs dockerd'),
  });
});

it('names a missing docker CLI and the way out', () => {
  expect(() => requireDockerCli({ PATH: dir }, { alternative: 'or use --runner=qemu' })).toThrow('The docker CLI is not on PATH.');
  expect(requireDockerCli({ PATH: process.env.PATH }, { alternative: 'x' })).toMatch(/\/docker$/);
});
