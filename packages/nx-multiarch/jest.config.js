const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/**
 * ESM-only packages the plugin loads (execa and what it imports). Node 20.19+
 * require()s them natively, but Jest's own CommonJS module system cannot, so
 * Jest transforms them to CommonJS. The list is read from the installed
 * dependency tree, so an execa upgrade needs no edit here.
 */
function esmPackages(root, from) {
  const names = new Map();
  const seen = new Set();
  const find = (name, dir) => {
    for (let d = dir; ; d = dirname(d)) {
      const candidate = join(d, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (d === dirname(d)) return undefined;
    }
  };
  const walk = (name, dir) => {
    const location = find(name, dir);
    if (!location || seen.has(location)) return;
    seen.add(location);
    const manifest = JSON.parse(readFileSync(join(location, 'package.json'), 'utf8'));
    if (manifest.type === 'module') names.set(name, join(location, esmEntry(manifest.exports) ?? manifest.main ?? 'index.js'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) walk(dependency, location);
  };
  walk(root, from);
  return names;
}

/** The file `import 'name'` loads under Node: some of these packages export nothing for require(), which is all Jest asks for. */
function esmEntry(exports) {
  if (exports === undefined || exports === null) return undefined;
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) return esmEntry(exports[0]);
  if ('.' in exports) return esmEntry(exports['.']);
  for (const condition of ['node', 'import', 'default']) {
    if (condition in exports) return esmEntry(exports[condition]);
  }
  return undefined;
}

const esm = esmPackages('execa', __dirname);
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Jest runs the TypeScript sources directly through ts-jest; no build step needed. */
module.exports = {
  displayName: 'nx-multiarch',
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/jest-env.js'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // Only the ESM packages below reach this (transformIgnorePatterns): import/export become require/exports.
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${[...esm.keys()].map(escape).join('|')})/)`],
  moduleNameMapper: Object.fromEntries([...esm].map(([name, file]) => [`^${escape(name)}$`, file])),
  // Integration tests start real registries and cross toolchains: give them room.
  testTimeout: 120000,
};
