import { ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchContext } from '../../src/image/context/scratch-context';
import { runExecutor } from '../../src/executors/executor-support';
import { captureOutput, fakeExecutorContext } from '../support/executor-context';
import { writeDirAtomically } from '../../src/util/atomic';
import { ownerTag, UNOWNED_MAX_AGE_MS } from '../../src/util/stale-temp';
import { makeSystemTempDir, sweepSystemTemps } from '../../src/util/system-temp';

/**
 * Litter of killed runs is swept by the next run; folders of live processes,
 * of other hosts, and young folders of older versions are kept. Owners are
 * real processes: one still running, one killed with SIGKILL.
 */
describe('stale temporary folders', () => {
  let root: string;
  let live: ChildProcess;
  let killed: ChildProcess;

  const sleeper = () => spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60000)'], { stdio: 'ignore' });
  const litter = async (dir: string, name: string, ageMs = 0) => {
    await mkdir(join(dir, name, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, name, 'blobs', 'sha256', 'partial'), 'half a layer');
    if (ageMs > 0) {
      const then = (Date.now() - ageMs) / 1000;
      await utimes(join(dir, name), then, then);
    }
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxm-sweep-'));
    live = sleeper();
    killed = sleeper();
    const exited = new Promise((r) => killed.once('exit', r));
    killed.kill('SIGKILL');
    await exited;
  });
  afterAll(async () => {
    live.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('the next write of any arch removes folders of killed writers beside it, and keeps the others', async () => {
    const dir = join(root, 'dist', 'images', 'web');
    await mkdir(dir, { recursive: true });
    const dead = `.arm64.tmp-${ownerTag(killed.pid!)}-Ab12Cd`;
    const deadAside = `.amd64.tmp-${ownerTag(killed.pid!)}-Zz99Yy.old`;
    const running = `.arm.tmp-${ownerTag(live.pid!)}-Qw34Er`;
    const otherHost = `.arm64.tmp-0badc0de-${killed.pid}-Ty56Ui`;
    const oldVersionStale = '.arm.tmp-Op78As';
    const oldVersionYoung = '.arm.tmp-Df90Gh';
    for (const name of [dead, deadAside, running, otherHost, oldVersionYoung]) await litter(dir, name);
    await litter(dir, oldVersionStale, UNOWNED_MAX_AGE_MS + 60_000);

    await writeDirAtomically(join(dir, 'amd64'), async (tmp) => writeFile(join(tmp, 'index.json'), '{}'));

    expect((await readdir(dir)).sort()).toEqual([running, otherHost, oldVersionYoung, 'amd64'].sort());
  });

  it('a new scratch context removes contexts of killed builds and keeps a running build\'s', async () => {
    const project = join(root, 'project');
    await mkdir(project, { recursive: true });
    await writeFile(join(project, 'Dockerfile'), 'FROM scratch\n');
    const tmp = join(root, '.nx-multiarch', 'tmp');
    await mkdir(tmp, { recursive: true });
    const dead = `context-web-arm64-${ownerTag(killed.pid!)}-Ab12Cd`;
    const running = `context-web-arm-${ownerTag(live.pid!)}-Qw34Er`;
    await litter(tmp, dead);
    await litter(tmp, running);

    const scratch = await createScratchContext(project, tmp, 'web-amd64');

    const names = await readdir(tmp);
    expect(names).not.toContain(dead);
    expect(names).toContain(running);
    expect(names).toContain(scratch.slice(tmp.length + 1));
    // The new one says whose it is.
    expect(scratch).toMatch(new RegExp(`context-web-amd64-${ownerTag()}-[A-Za-z0-9]{6}$`));
  });

  it('every task sweeps the whole workspace and the plugin\'s folders in TMPDIR first, so litter of projects restored from the Nx cache goes too', async () => {
    const ws = join(root, 'ws');
    // The system's temporary directory of this test alone. Jest's process.env is a copy that
    // os.tmpdir() does not read, so the directory is given through os.tmpdir itself.
    const systemTmp = join(root, 'system-tmp');
    const deadExtract = `nx-multiarch-extract-${ownerTag(killed.pid!)}-Op12Qr`;
    const liveSbom = `nx-multiarch-sbom-${ownerTag(live.pid!)}-St34Uv`;
    const otherTool = `other-tool-extract-${ownerTag(killed.pid!)}-Wx56Yz`;
    for (const name of [deadExtract, liveSbom, otherTool]) await litter(systemTmp, name);
    const deadCross = `.arm64.tmp-${ownerTag(killed.pid!)}-Ab12Cd`;
    const deadImage = `.arm.tmp-${ownerTag(killed.pid!)}-Cd34Ef`;
    const deadContext = `context-api-arm-${ownerTag(killed.pid!)}-Gh56Ij`;
    const liveImage = `.amd64.tmp-${ownerTag(live.pid!)}-Kl78Mn`;
    await litter(join(ws, 'dist', 'cross', 'api'), deadCross);
    await litter(join(ws, 'dist', 'images', 'web'), deadImage);
    await litter(join(ws, 'dist', 'images', 'web'), liveImage);
    await litter(join(ws, '.nx-multiarch', 'tmp'), deadContext);

    let ran = false;
    const tmpdirOfTest = jest.spyOn(jest.requireActual<typeof import('node:os')>('node:os'), 'tmpdir').mockReturnValue(systemTmp);
    const { result, output } = await captureOutput(() =>
      runExecutor(async () => {
        ran = true;
      }, fakeExecutorContext(ws, 'other', 'packages/other', 'docker-arch-build')),
    ).finally(() => tmpdirOfTest.mockRestore());

    expect(result).toEqual({ success: true });
    expect(ran).toBe(true);
    expect(output).toContain('Removed 4 temporary folders left by killed runs');
    expect(output).toContain(join(systemTmp, deadExtract));
    expect((await readdir(systemTmp)).sort()).toEqual([liveSbom, otherTool].sort());
    expect(await readdir(join(ws, 'dist', 'cross', 'api'))).toEqual([]);
    expect(await readdir(join(ws, 'dist', 'images', 'web'))).toEqual([liveImage]);
    expect(await readdir(join(ws, '.nx-multiarch', 'tmp'))).toEqual([]);
  });

  it('the plugin\'s folders in the system\'s temporary directory say whose they are', async () => {
    const made = await makeSystemTempDir('it', 'web/api');
    try {
      expect(made.startsWith(tmpdir())).toBe(true);
      expect(made).toMatch(new RegExp(`/nx-multiarch-it-web_api-${ownerTag()}-[A-Za-z0-9]{6}$`));
      // Its owner is alive, so no task's sweep removes it while it works.
      expect(await sweepSystemTemps()).not.toContain(made);
      expect((await lstat(made)).isDirectory()).toBe(true);
    } finally {
      await rm(made, { recursive: true, force: true });
    }
  });
});
