// The time a task process spends loading an executor's modules, after Nx's
// devkit (which Nx's task runner has loaded by then): one fresh `node` per
// measurement, alternating between the plugin builds given, medians of RUNS.
//
//   node tools/bench/executor-load.js RUNS NAME=PACKAGE_DIR [NAME=PACKAGE_DIR ...]
//
// PACKAGE_DIR is a packages/nx-multiarch folder with a compiled dist/.
// A last row times what an image process does before its first layer: load
// the gzip module and decide which deflate makes pako's bytes (the probe).
'use strict';
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const EXECUTORS = ['docker-arch-build', 'manifest-push', 'go-cross', 'cargo-cross'];
const [runsText, ...sides] = process.argv.slice(2);
const runs = Number(runsText);
if (!Number.isInteger(runs) || runs < 1 || runs > 99 || sides.length === 0) {
  console.error('usage: node tools/bench/executor-load.js RUNS NAME=PACKAGE_DIR [NAME=PACKAGE_DIR ...]');
  process.exit(2);
}
const plugins = sides.map((side) => {
  const at = side.indexOf('=');
  return { name: side.slice(0, at), dir: side.slice(at + 1) };
});

/** One fresh Node process in `dir`: ms that the statements `body` take, after the statements `prelude`. */
function freshProcessMs(dir, body, prelude = '') {
  const script = `${prelude}
    const t = process.hrtime.bigint();
    ${body}
    process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  return Number(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' }));
}

/** Requiring the executor once @nx/devkit is loaded. */
const loadMs = (dir, executor) =>
  freshProcessMs(dir, `require(${JSON.stringify(join(dir, 'dist', 'executors', executor, 'executor.js'))});`, `require(require.resolve('@nx/devkit', { paths: [${JSON.stringify(dir)}] }));`);

/** Loading the gzip module and making its first choice of deflate. */
const gzipChoiceMs = (dir) => freshProcessMs(dir, `require(${JSON.stringify(join(dir, 'dist', 'oci', 'gzip.js'))}).gzipImplementation();`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** One row: the median of RUNS measurements per plugin, alternating between the plugins. */
function row(name, measure) {
  const times = plugins.map(() => []);
  for (let i = 0; i < runs; i++) plugins.forEach((p, k) => times[k].push(measure(p.dir)));
  return [name, ...times.map((t) => median(t))];
}
const rows = [...EXECUTORS.map((executor) => row(executor, (dir) => loadMs(dir, executor))), row('gzip choice (probe)', gzipChoiceMs)];
console.log(`executor module load after @nx/devkit, ms, medians of ${runs} fresh processes each (load average ${require('node:os').loadavg().map((l) => l.toFixed(2)).join(' ')})`);
console.log(['executor', ...plugins.map((p) => p.name)].map((c) => c.padEnd(20)).join(''));
for (const [executor, ...ms] of rows) console.log([executor, ...ms.map((m) => m.toFixed(1))].map((c) => String(c).padEnd(20)).join(''));
