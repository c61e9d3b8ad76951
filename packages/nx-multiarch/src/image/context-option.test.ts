import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryRoot, resolveContextDir } from './context-option';

let ws: string;

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'nx-multiarch-context-'));
  mkdirSync(join(ws, '.git'));
  // An imported repository: a project at its root, the image a project inside it, no .git of its own.
  for (const dir of ['packages/linkerd2/controller', 'packages/loose/img']) mkdirSync(join(ws, dir), { recursive: true });
  writeFileSync(join(ws, 'packages/linkerd2/project.json'), '{}');
  writeFileSync(join(ws, 'packages/linkerd2/controller/project.json'), '{}');
  writeFileSync(join(ws, 'packages/linkerd2/controller/Dockerfile'), 'FROM scratch\n');
  mkdirSync(join(ws, 'packages/cloned/.git'), { recursive: true });
  writeFileSync(join(ws, 'packages/cloned/project.json'), '{}');
  mkdirSync(join(ws, 'packages/cloned/cmd/x'), { recursive: true });
  writeFileSync(join(ws, 'packages/cloned/cmd/x/project.json'), '{}');
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('the context option', () => {
  it('"repository" is the outermost project folder of an imported repository (it has no .git of its own)', () => {
    expect(repositoryRoot(ws, join(ws, 'packages/linkerd2/controller'))).toBe(join(ws, 'packages/linkerd2'));
  });

  it('"repository" is the nearest folder with a .git when there is one below the workspace root', () => {
    expect(repositoryRoot(ws, join(ws, 'packages/cloned/cmd/x'))).toBe(join(ws, 'packages/cloned'));
  });

  it('"repository" falls back to the workspace root', () => {
    expect(repositoryRoot(ws, join(ws, 'packages/loose/img'))).toBe(ws);
  });

  it('"dockerfile" (the default) is the Dockerfile\'s folder; anything else a workspace path', () => {
    const dockerfile = join(ws, 'packages/linkerd2/controller/Dockerfile');
    expect(resolveContextDir(ws, dockerfile, undefined)).toBe(join(ws, 'packages/linkerd2/controller'));
    expect(resolveContextDir(ws, dockerfile, 'dockerfile')).toBe(join(ws, 'packages/linkerd2/controller'));
    expect(resolveContextDir(ws, dockerfile, 'repository')).toBe(join(ws, 'packages/linkerd2'));
    expect(resolveContextDir(ws, dockerfile, 'packages')).toBe(join(ws, 'packages'));
  });
});
