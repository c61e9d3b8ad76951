import { join } from 'node:path';
import { run } from '../util/exec';

/**
 * Every task process loads its executor before it does anything, so what an
 * executor's modules load at start is paid by every image and every push.
 * execa (an ES module tree) and the CycloneDX library (with its JSON
 * validators) took tens of ms each; they are loaded where they are used: the
 * first command run, a CycloneDX SBOM asked for.
 */
jest.setTimeout(60_000);

const PACKAGE = join(__dirname, '..', '..');

/** The files a fresh Node process has loaded after requiring the executor (the tests' TypeScript loader, as Nx runs this repository's plugin). */
async function loadedBy(executor: string): Promise<string[]> {
  const script = `require(${JSON.stringify(join(PACKAGE, 'src', 'executors', executor, 'executor.ts'))}); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
  const result = await run(process.execPath, ['-r', '@swc-node/register', '-e', script], { cwd: PACKAGE });
  if (result.exitCode !== 0) throw new Error(`loading ${executor} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

const HEAVY = [/[/\\]node_modules[/\\]execa[/\\]/, /[/\\]node_modules[/\\]@cyclonedx[/\\]/, /[/\\]node_modules[/\\]ajv[/\\]/];

it.each(['manifest-push', 'docker-arch-build'])('the %s executor loads neither execa nor the CycloneDX library until it needs them', async (executor) => {
  const loaded = await loadedBy(executor);
  // It did load its own modules: the check below looks at a real module list.
  expect(loaded.some((file) => file.includes(join('src', 'executors', executor)))).toBe(true);
  expect(loaded.filter((file) => HEAVY.some((pattern) => pattern.test(file)))).toEqual([]);
});
