import { type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import ciWorkflowGenerator from '../../src/generators/ci-workflow/generator';
import { actionlint } from '../support/actionlint';

/**
 * Every kind of workflow the generator writes, linted by actionlint (built
 * from the Go module proxy on first use, see test/support/actionlint.ts):
 * expressions, contexts, matrix keys, runner labels, action inputs.
 */
const PATH = '.github/workflows/nx-multiarch.yml';

/** A workspace with Go modules and a Cargo package, so the Go and crates steps are written. */
function writeGoAndRust(tree: Tree): void {
  tree.write('apps/ctl/go.mod', 'module example.com/ctl\n\ngo 1.21\n');
  tree.write('apps/ctl/go.sum', '');
  tree.write('apps/init/go.mod', 'module example.com/init\n\ngo 1.22.4\n');
  tree.write('apps/init/go.sum', '');
  tree.write('apps/proxy/Cargo.toml', '[package]\nname = "proxy"\nversion = "0.1.0"\n');
  tree.write('apps/proxy/Cargo.lock', 'version = 3\n');
}

describe('actionlint on every generated workflow', () => {
  const variants: Array<[string, (tree: Tree) => Promise<void>, string[]?]> = [
    ['default arches, bare workspace', (tree) => ciWorkflowGenerator(tree, { skipFormat: true })],
    [
      'ppc64le and s390x with Go and Rust',
      async (tree) => {
        writeGoAndRust(tree);
        await ciWorkflowGenerator(tree, { arches: 'ppc64le,s390x', skipFormat: true });
      },
    ],
    [
      'arm64 only with Go and Rust',
      async (tree) => {
        writeGoAndRust(tree);
        await ciWorkflowGenerator(tree, { arches: 'arm64', rustToolchain: '1.82.0', skipFormat: true });
      },
    ],
    [
      'custom runner map, branch, set-up command',
      async (tree) => {
        writeGoAndRust(tree);
        await ciWorkflowGenerator(tree, { arches: 'amd64,arm64,arm,riscv64', runners: 'arm=arm-v7-box,riscv64=rv-box', mainBranch: 'release/2.14', setupCommand: 'sudo bash tools/setup.sh', skipFormat: true });
      },
      // The team's own runners, declared as actionlint expects them to be.
      ['arm-v7-box', 'rv-box'],
    ],
  ];

  it.each(variants)('%s: no findings', async (_name, generate, labels = []) => {
    const tree = createTreeWithEmptyWorkspace();
    await generate(tree);
    expect(await actionlint(tree.read(PATH, 'utf-8') ?? '', labels)).toBe('');
  }, 600_000);

  it('reports real mistakes (so a clean result means something): a wrong matrix key, an undeclared runner label', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await ciWorkflowGenerator(tree, { skipFormat: true });
    const broken = (tree.read(PATH, 'utf-8') ?? '').replace('${{ matrix.runner }}', '${{ matrix.runnr }}');
    expect(await actionlint(broken)).toMatch(/runnr/);
    await ciWorkflowGenerator(tree, { runners: 'arm=arm-v7-box', overwrite: true, skipFormat: true });
    expect(await actionlint(tree.read(PATH, 'utf-8') ?? '')).toMatch(/label "arm-v7-box" is unknown/);
  }, 600_000);
});
