import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The proof at size of issue 20, opt-in (NX_MULTIARCH_BIG_IMAGE=1): it writes
 * about 12 GB and takes 5 to 20 minutes on a 2-core machine, so the normal
 * test run skips it. tools/bench/big-image.sh does the work, one process per
 * step, each under `ulimit -v` with Node's heap capped and its peak RSS
 * measured; it exits non-zero when a step fails, the unpacked 3 GiB file
 * differs from the input, or any capped process peaks at 300 MB or more.
 */
const enabled = process.env.NX_MULTIARCH_BIG_IMAGE === '1';
const repoRoot = join(__dirname, '..', '..', '..', '..');

(enabled ? it : it.skip)(
  'builds, pushes, restores from the Nx cache and unpacks a 3 GiB layer over a 1 GiB base, every process under 300 MB',
  () => {
    const run = spawnSync('bash', [join(repoRoot, 'tools', 'bench', 'big-image.sh')], { encoding: 'utf8', timeout: 60 * 60 * 1000 });
    if (run.status !== 0) console.error(run.stdout, run.stderr);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('every capped process stayed under 300 MB');
    expect(run.stdout).toMatch(/\| unpack the restored image \|/);
  },
  60 * 60 * 1000,
);
