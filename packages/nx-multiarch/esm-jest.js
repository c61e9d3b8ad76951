// Shared by this package's jest.config.js and by arch-integration's generated Jest config
// (src/integration/jest-run.ts): both load execa through Jest's CommonJS runtime. Plain
// CommonJS so that both a config file and compiled or ts-jest-run code can require it.
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/**
 * ESM-only packages the plugin loads (execa and what it imports). Node 20.19+
 * require()s them natively, but Jest's own CommonJS module system cannot, so
 * Jest transforms them to CommonJS. The list is read from the installed
 * dependency tree, so an execa upgrade needs no edit here.
 */
function esmPackages(root, from) {
  const found = [];
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
    if (manifest.type === 'module') {
      // Jest resolves with the require conditions; a package that exports only for import needs its file named.
      const forRequire = manifest.exports === undefined ? manifest.main ?? 'index.js' : exportsEntry(manifest.exports, ['require', 'node', 'default']);
      const forImport = exportsEntry(manifest.exports, ['import', 'node', 'default']) ?? manifest.main ?? 'index.js';
      found.push({ name, location, unresolvable: forRequire === undefined ? join(location, forImport) : undefined });
    }
    for (const dependency of Object.keys(manifest.dependencies ?? {})) walk(dependency, location);
  };
  walk(root, from);
  return found;
}

/**
 * The file a package's `exports` give for the first of `conditions` each
 * level has (Node's order: the package's own key order decides among them).
 */
function exportsEntry(exports, conditions) {
  if (exports === undefined || exports === null) return undefined;
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) return exportsEntry(exports[0], conditions);
  if ('.' in exports) return exportsEntry(exports['.'], conditions);
  const key = Object.keys(exports).find((k) => conditions.includes(k));
  return key === undefined ? undefined : exportsEntry(exports[key], conditions);
}


const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The Jest options that transform execa's ESM tree to CommonJS with the given
 * ts-jest, found from `fromDir` (where this plugin's execa is installed).
 */
function esmJestOptions(tsJest, fromDir = __dirname) {
  const esm = esmPackages('execa', fromDir);
  return {
    transform: {
      // Only the ESM packages below reach this (transformIgnorePatterns): import/export become require/exports.
      '^.+\\.m?js$': [tsJest, { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true } }],
    },
    // By folder, not by name: nx's own dependencies include CommonJS packages of the same names (older majors).
    transformIgnorePatterns: [`^(?!(?:${esm.map((p) => escape(p.location)).join('|')})/).*/node_modules/`],
    moduleNameMapper: Object.fromEntries(esm.filter((p) => p.unresolvable).map((p) => [`^${escape(p.name)}$`, p.unresolvable])),
  };
}

module.exports = { esmJestOptions };
