import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetStarted, killLeftovers, recordStarted } from './pid-registry';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the record of started process groups', () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pid-registry-'));
  });
  afterEach(() => rm(workDir, { recursive: true, force: true }));

  it('ends a group left running, and never a pid whose command is not the recorded one', async () => {
    const left = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
    const other = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
    const leftExit = new Promise((resolve) => left.on('exit', (_code, signal) => resolve(signal)));
    try {
      recordStarted(workDir, left.pid, '/bin/sleep');
      recordStarted(workDir, other.pid, '/usr/bin/qemu-arm-static'); // as if the pid had been reused
      expect(killLeftovers(workDir)).toBe(1);
      expect(await leftExit).toBe('SIGKILL');
      expect(alive(other.pid as number)).toBe(true);
    } finally {
      other.kill('SIGKILL');
      left.kill('SIGKILL');
    }
  });

  it('forgets a process once it has ended', async () => {
    recordStarted(workDir, 4242, '/bin/true');
    forgetStarted(workDir, 4242);
    expect(await readdir(join(workDir, 'started-processes'))).toEqual([]);
    expect(killLeftovers(join(workDir, 'absent'))).toBe(0);
  });
});
