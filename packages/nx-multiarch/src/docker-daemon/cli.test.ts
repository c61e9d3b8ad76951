import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { dockerClisOnPath, parseClientVersion, probeDockerCli, selectDockerCli, DOCKER_CLI_ENV } from './cli';

/**
 * Client selection, with stand-in clients that answer `--version` and
 * `buildx …` as the real ones do (docker 28 without the buildx plugin,
 * Debian's 20.10, a client with buildx). The real PATH is probed at the end.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nx-multiarch-docker-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fakeDocker(folder: string, version: string, buildx: boolean): Promise<string> {
  await mkdir(join(dir, folder), { recursive: true });
  const path = join(dir, folder, 'docker');
  const buildxCase = buildx
    ? `if [ "$1" = buildx ] && [ "$2" = version ]; then echo "github.com/docker/buildx v0.12.1"; exit 0; fi
if [ "$1" = buildx ] && [ "$2" = build ]; then echo "      --provenance string   Shorthand for --attest=type=provenance"; exit 0; fi`
    : `if [ "$1" = buildx ]; then echo "docker: unknown command: docker buildx" >&2; exit 1; fi`;
  await writeFile(
    path,
    // Reads stdin to its end first: util/exec's run() writes to stdin, and a
    // child that exits before that write makes it fail with EPIPE. (A shell
    // builtin: PATH holds only the fake clients here.)
    `#!/bin/sh
while read -r _; do :; done
if [ "$1" = --version ]; then echo "Docker version ${version}, build abc"; exit 0; fi
${buildxCase}
exit 2
`,
  );
  await chmod(path, 0o755);
  return path;
}

it('reads the client version', () => {
  expect(parseClientVersion('Docker version 20.10.24+dfsg1, build 5d6db84')).toBe('20.10.24+dfsg1');
  expect(parseClientVersion('Docker version 28.2.2, build e6534b4')).toBe('28.2.2');
});

it('skips a docker 23+ client without buildx and picks an older client further down PATH', async () => {
  const modern = await fakeDocker('modern', '28.2.2', false);
  const debian = await fakeDocker('debian', '20.10.24+dfsg1', false);
  const env = { PATH: [join(dir, 'modern'), join(dir, 'debian')].join(delimiter) };
  expect(dockerClisOnPath(env)).toEqual([modern, debian]);
  expect(await probeDockerCli(modern, env)).toMatchObject({ buildKit: undefined, version: '28.2.2' });
  expect(await selectDockerCli(env)).toMatchObject({ path: debian, buildKit: 'builtin' });
});

it('prefers buildx where the plugin answers, and knows it takes --provenance', async () => {
  const withBuildx = await fakeDocker('buildx', '28.2.2', true);
  const env = { PATH: [join(dir, 'buildx'), join(dir, 'debian')].join(delimiter) };
  expect(await selectDockerCli(env)).toEqual({ path: withBuildx, version: '28.2.2', buildKit: 'buildx', buildxAttestationFlags: true });
});

it('explains what to install when no client can reach BuildKit, or there is none', async () => {
  await fakeDocker('modern', '28.2.2', false);
  await expect(selectDockerCli({ PATH: join(dir, 'modern') })).rejects.toMatchObject({
    message: expect.stringContaining('No docker client here can build with BuildKit'),
    hint: expect.stringContaining('docker-buildx'),
  });
  await expect(selectDockerCli({ PATH: join(dir, 'nothing-here') })).rejects.toMatchObject({
    message: 'The docker CLI is not on PATH.',
    hint: expect.stringContaining('apt-get install docker.io'),
  });
});

it(`uses the client ${DOCKER_CLI_ENV} names`, async () => {
  const debian = await fakeDocker('debian', '20.10.24+dfsg1', false);
  await fakeDocker('modern', '28.2.2', false);
  expect(await selectDockerCli({ PATH: join(dir, 'modern'), [DOCKER_CLI_ENV]: debian })).toMatchObject({ path: debian, buildKit: 'builtin' });
});

it('finds a BuildKit-capable client on this machine', async () => {
  const cli = await selectDockerCli(process.env);
  expect(['buildx', 'builtin']).toContain(cli.buildKit);
});
