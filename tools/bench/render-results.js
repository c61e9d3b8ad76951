'use strict';
// Turns the suite's timings (name<TAB>wall<TAB>cpu per line) into results.json
// and results.md: one row per scenario, plugin against baseline as a ratio.
//   node tools/bench/render-results.js TIMES_TSV OUT_DIR "machine description"

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [timesFile, outDir, machine] = process.argv.slice(2);
const times = new Map();
for (const line of readFileSync(timesFile, 'utf8').split('\n')) {
  const [name, wall, cpu] = line.split('\t');
  if (name) times.set(name, { wall: Number(wall), cpu: Number(cpu) });
}
const sum = (...names) => {
  const parts = names.map((n) => times.get(n));
  if (parts.some((p) => p === undefined)) return undefined;
  return { wall: parts.reduce((s, p) => s + p.wall, 0), cpu: parts.reduce((s, p) => s + p.cpu, 0) };
};
const baselineCold = sum('baseline-cold-compile', 'baseline-cold-images', 'baseline-cold-push');

// id, description, plugin step, strategy 1's time, buildx's step (run.sh --buildx; none for a push alone).
const SCENARIOS = [
  ['cold', 'Cold full matrix: 5 images x 3 arches, build and push, empty caches', 'plugin-cold', baselineCold, 'buildx-cold'],
  ['noop', 'No-op rerun: nothing changed', 'plugin-noop', times.get('baseline-noop'), 'buildx-noop'],
  ['proxy', 'One-line change in linkerd2-proxy, build and push', 'plugin-proxy', times.get('baseline-proxy'), 'buildx-proxy-change'],
  ['controller', 'One-line change in the controller, build and push', 'plugin-controller', times.get('baseline-controller'), 'buildx-controller-change'],
  ['repush', 'Re-push of unchanged images', 'plugin-repush', times.get('baseline-repush'), undefined],
  ['fresh', 'Fresh clone, empty local cache, warm remote cache (strategy 1: its cold run, it has no shared cache; buildx: a new builder with its registry cache)', 'plugin-fresh', baselineCold, 'buildx-warm-cache'],
];
const withBuildx = [...times.keys()].some((name) => name.startsWith('buildx-'));

const round = (n) => (n === undefined ? null : Math.round(n * 100) / 100);
const ratio = (a, b) => (a === undefined || b === undefined || !Number.isFinite(a / b) || b === 0 ? null : Math.round((a / b) * 1000) / 1000);
const scenarios = SCENARIOS.filter(([, , plugin]) => times.has(plugin)).map(([id, description, plugin, baseline, buildxStep]) => {
  const p = times.get(plugin);
  const buildx = buildxStep && times.get(buildxStep);
  return {
    id,
    description,
    plugin: { wallSeconds: round(p.wall), cpuSeconds: round(p.cpu) },
    baseline: baseline ? { wallSeconds: round(baseline.wall), cpuSeconds: round(baseline.cpu) } : null,
    wallRatio: ratio(p.wall, baseline && baseline.wall),
    ...(withBuildx
      ? { buildx: buildx ? { wallSeconds: round(buildx.wall), cpuSeconds: round(buildx.cpu) } : null, buildxWallRatio: ratio(p.wall, buildx && buildx.wall) }
      : {}),
  };
});
const floor = times.get('baseline-cold-compile');
const pluginCold = times.get('plugin-cold');
const result = {
  machine,
  date: new Date().toISOString(),
  command: withBuildx ? 'bash tools/bench/run.sh --buildx' : 'bash tools/bench/run.sh',
  scenarios,
  compilerFloor: floor
    ? {
        description: 'CPU seconds (user+sys) of the raw go build / cargo build of every binary for every arch, cold',
        cpuSeconds: round(floor.cpu),
        wallSeconds: round(floor.wall),
        pluginColdCpuSeconds: round(pluginCold.cpu),
        pluginColdCpuOverFloor: ratio(pluginCold.cpu, floor.cpu),
      }
    : null,
  raw: Object.fromEntries([...times].map(([k, v]) => [k, { wallSeconds: v.wall, cpuSeconds: v.cpu }])),
};
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);

// NaN: the step failed (see logs/); null/undefined: not measured.
const f = (n) => (n === null || n === undefined ? '–' : Number.isNaN(n) ? 'failed' : n.toFixed(1));
const r = (n) => (n === null || n === undefined ? '–' : n.toFixed(2));
// The table's columns: header and cell of a scenario; buildx's only when the run had it.
const columns = [
  ['scenario', (s) => s.description],
  ['plugin (s)', (s) => f(s.plugin.wallSeconds)],
  [withBuildx ? 'strategy 1 (s)' : 'baseline: RFC strategy 1 (s)', (s) => f(s.baseline && s.baseline.wallSeconds)],
  [withBuildx ? 'plugin / strategy 1' : 'plugin / baseline', (s) => r(s.wallRatio)],
  ...(withBuildx ? [['buildx (s)', (s) => f(s.buildx && s.buildx.wallSeconds)], ['plugin / buildx', (s) => r(s.buildxWallRatio)]] : []),
  ['plugin CPU (s)', (s) => f(s.plugin.cpuSeconds)],
  [withBuildx ? 'strategy 1 CPU (s)' : 'baseline CPU (s)', (s) => f(s.baseline && s.baseline.cpuSeconds)],
  ...(withBuildx ? [['buildx CPU (s)', (s) => f(s.buildx && s.buildx.cpuSeconds)]] : []),
];
const row = (cells) => `| ${cells.join(' | ')} |`;
const lines = [
  `Measured ${result.date.slice(0, 10)} on ${machine} with \`${result.command}\`. Seconds of wall time; CPU = user+sys of the command's processes (dockerd's own work is not included${withBuildx ? "; buildx's is the client's plus buildkitd's and all it ran" : ''}).`,
  '',
  row(columns.map(([header]) => header)),
  row(columns.map((_, i) => (i === 0 ? '---' : '---:'))),
  ...scenarios.map((s) => row(columns.map(([, cell]) => cell(s)))),
];
if (result.compilerFloor) {
  const c = result.compilerFloor;
  lines.push(
    '',
    `Compiler floor: the raw compiles alone (every binary, every arch, cold) take ${f(c.cpuSeconds)} CPU seconds (${f(c.wallSeconds)} s wall); the plugin's cold run takes ${f(c.pluginColdCpuSeconds)} CPU seconds, ${c.pluginColdCpuOverFloor === null ? '–' : c.pluginColdCpuOverFloor.toFixed(2)}x the floor.`,
  );
}
writeFileSync(join(outDir, 'results.md'), `${lines.join('\n')}\n`);
