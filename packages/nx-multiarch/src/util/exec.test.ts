import { MultiarchError } from '../errors';
import { run, runChecked, which } from './exec';

describe('exec (a thin layer over execa)', () => {
  it('captures output and the exit code, feeds stdin, and passes exactly the env given', async () => {
    const result = await run('sh', ['-c', 'cat; echo "$ONLY" >&2; exit 3'], { input: 'from stdin', env: { ONLY: 'this', PATH: process.env.PATH } });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'from stdin', stderr: 'this\n', failure: 'failed with exit code 3' });
  });

  it('names a missing command and the fix', async () => {
    await expect(run('nxm-no-such-command', [])).rejects.toThrow(new MultiarchError('Command not found: nxm-no-such-command.'));
  });

  it('stops a command at its timeout and says so, without the command line', async () => {
    const started = Date.now();
    const result = await run('sh', ['-c', 'exec sleep 30', 'secret-argument'], { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.exitCode).toBe(128);
    expect(result.failure).toBe('timed out after 300 milliseconds');
    await expect(runChecked('sleep', ['30'], { timeoutMs: 300, what: 'a nap' })).rejects.toThrow(/^a nap timed out after 300 milliseconds\.$/);
  });

  it('cancels a command when its AbortSignal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await run('sleep', ['30'], { signal: controller.signal });
    expect(result.exitCode).toBe(128);
    expect(result.failure).toMatch(/canceled/);
  });

  it('puts the last lines of stderr in the error of a failed checked run', async () => {
    await expect(runChecked('sh', ['-c', 'echo boom >&2; exit 2'], { what: 'the step', hint: 'fix it' })).rejects.toThrow(/^the step failed with exit code 2:\nboom$/);
  });

  it('finds programs on PATH', () => {
    expect(which('sh')).toMatch(/\/sh$/);
    expect(which('nxm-no-such-command')).toBeUndefined();
  });
});
