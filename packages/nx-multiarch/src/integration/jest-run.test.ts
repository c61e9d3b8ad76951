import { jestConfig, pluginModules, resolveFrom } from './jest-run';
import { chooseRunner } from './run-integration';

describe('the Jest config for a project’s arch tests', () => {
  const modules = pluginModules();
  const config = jestConfig(
    { projectRoot: '/ws/packages/linkerd2/web', roots: ['/ws/packages/linkerd2/web/integration'], testMatch: ['integration/**/*.arch.test.ts'], testTimeoutMs: 90_000 },
    modules,
    '/ws/node_modules/ts-jest/dist/index.js',
  );

  it('maps nx-multiarch/integration to this plugin’s test API and stops processes after each file', () => {
    expect(config.moduleNameMapper).toMatchObject({ '^nx-multiarch\\/integration$': modules.api });
    expect(modules.api).toMatch(/integration[/\\]index\.(ts|js)$/);
    expect(config.setupFilesAfterEnv).toEqual([modules.setup]);
  });

  it('crawls only the test folders and matches only the arch tests of the project', () => {
    expect(config.rootDir).toBe('/ws/packages/linkerd2/web');
    expect(config.roots).toEqual(['/ws/packages/linkerd2/web/integration']);
    expect(config.testMatch).toEqual(['/ws/packages/linkerd2/web/integration/**/*.arch.test.ts']);
    expect(config.testTimeout).toBe(90_000);
  });

  it('compiles TypeScript with ts-jest, transpile only', () => {
    expect(config.transform).toMatchObject({
      '^.+\\.tsx?$': ['/ws/node_modules/ts-jest/dist/index.js', { tsconfig: expect.objectContaining({ isolatedModules: true, module: 'commonjs' }) }],
    });
  });

  it('transforms execa (ESM only, loaded by the test API) and no other package in node_modules', () => {
    const ignore = (config.transformIgnorePatterns as string[]).map((p) => new RegExp(p));
    const execaFile = require.resolve('execa');
    expect(ignore.some((r) => r.test(execaFile))).toBe(false);
    expect(ignore.some((r) => r.test(require.resolve('jest/bin/jest')))).toBe(true);
    expect(Object.keys(config.transform as object)).toContain('^.+\\.m?js$');
  });

  it('finds jest and ts-jest from the workspace', () => {
    expect(resolveFrom(process.cwd(), 'jest/bin/jest')).toMatch(/jest[/\\]bin[/\\]jest\.js$/);
    expect(resolveFrom(process.cwd(), 'no-such-package-here')).toBeUndefined();
  });
});

describe('chooseRunner', () => {
  it('auto is qemu unless a docker host is given, then remote', () => {
    expect(chooseRunner('auto', undefined)).toBe('qemu');
    expect(chooseRunner('auto', 'ssh://ci@arm64-box')).toBe('remote');
    expect(chooseRunner('docker', undefined)).toBe('docker');
  });
});
