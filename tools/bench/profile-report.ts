import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads what tools/bench/profile.sh collected (per run: Nx's run.json and one
 * CPU profile per Node process, from cpu-prof-preload.js) and prints, per run,
 * where the time went.
 *
 *   profile-report.ts DIR          (DIR holds cold/ and noop/)
 *
 * In a task process, every sample before the first one that runs plugin code
 * is process start. Each later sample (and every sample of Nx's own
 * processes) is put in the first bucket whose test matches its stack (leaf to
 * root):
 *   compress       pako or node:zlib frames
 *   plugin load    module loading (require, compile, and the TypeScript
 *                  transpiling Nx does when the plugin is a project of the
 *                  workspace itself: it then runs src/*.ts through swc)
 *   hashing        hash/digest/sha256 frames, node:crypto, Nx's task hasher
 *   upload         the plugin's registry client, http/net (Nx's remote cache
 *                  client runs in Rust, unseen here: the cache server's log,
 *                  kept per run, times its uploads)
 *   cache          Nx's local cache (read on hits, written after a run)
 *   graph          Nx's project graph and plugin workers (createNodes)
 *   idle           V8 idle: the process waits (a go/cargo child compiling,
 *                  the network, the disk)
 *   other          the rest of the JavaScript, GC and native code
 * A task's "process start" is the wall time from Nx starting the task to the
 * first sample that runs plugin code (fork, Node's bootstrap, Nx's runner).
 */
interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface ProfileFile {
  pid: number;
  argv: string[];
  timeOriginMs: number;
  clock: { wallMs: number; monoUs: number };
  profile: CpuProfile;
}
interface NxRunTask {
  taskId: string;
  target: string;
  projectName: string;
  startTime: string;
  endTime: string;
  cacheStatus: string;
}

const BUCKETS = ['start', 'compress', 'plugin load', 'hashing', 'upload', 'cache', 'graph', 'idle', 'other'] as const;
type Bucket = (typeof BUCKETS)[number];
type Totals = Record<Bucket, number>;

const isPlugin = (url: string) => /nx-multiarch\/(dist|src)\//.test(url);
const isModuleLoad = (f: CallFrame) =>
  /^(Module\._load|Module\._compile|Module\.require|require|compileFunction|wrapSafe|loadESM|compileSourceTextModule)$/.test(f.functionName) || /@swc|@swc-node|\/typescript\/lib\/|ts-node/.test(f.url);

function bucketOf(stack: CallFrame[]): Bucket {
  const leaf = stack[0];
  if (leaf.functionName === '(idle)') return 'idle';
  if (stack.some((f) => /\/pako\//.test(f.url) || f.url === 'node:zlib')) return 'compress';
  if (stack.some(isModuleLoad)) return 'plugin load';
  if (stack.some((f) => /hash|digest|sha256/i.test(f.functionName) || f.url === 'node:internal/crypto/hash' || /task-hasher|hasher\//.test(f.url))) return 'hashing';
  if (stack.some((f) => /\/registry\//.test(f.url) && isPlugin(f.url))) return 'upload';
  if (stack.some((f) => /remote-cache|self-hosted|http-remote/i.test(f.url) || /remote/i.test(f.functionName) || /^node:(_http|https|net|internal\/http|internal\/deps\/undici)/.test(f.url))) return 'upload';
  if (stack.some((f) => /tasks-runner\/cache/.test(f.url))) return 'cache';
  if (stack.some((f) => /project-graph|plugins\/isolation|\/graph\//.test(f.url))) return 'graph';
  return 'other';
}

const emptyTotals = (): Totals => Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Totals;

interface ProcessFigures {
  file: ProfileFile;
  totals: Totals;
  /** Wall ms (epoch) of the first sample running plugin code, if any. */
  firstPluginMs?: number;
  executor?: string;
  startMs: number;
  endMs: number;
}

function analyse(file: ProfileFile): ProcessFigures {
  const { profile, clock } = file;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const bucketCache = new Map<number, Bucket>();
  const pluginCache = new Map<number, boolean>();
  const stackOf = (id: number): CallFrame[] => {
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push((byId.get(at) as ProfileNode).callFrame);
    return stack;
  };
  const totals = emptyTotals();
  const toWall = (monoUs: number) => clock.wallMs + (monoUs - clock.monoUs) / 1000;
  const isTask = file.argv.some((a) => /run-executor\.js$/.test(a));
  let t = profile.startTime;
  let firstPluginMs: number | undefined;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    t += profile.timeDeltas[i];
    let bucket = bucketCache.get(id);
    if (bucket === undefined) {
      const stack = stackOf(id);
      bucket = bucketOf(stack);
      bucketCache.set(id, bucket);
      pluginCache.set(id, stack.some((f) => isPlugin(f.url)));
    }
    if (firstPluginMs === undefined && pluginCache.get(id)) firstPluginMs = toWall(t);
    // In a task process, everything before the plugin's first code is process start.
    totals[isTask && firstPluginMs === undefined ? 'start' : bucket] += dt / 1000;
  }
  const executor = profile.nodes.map((n) => /nx-multiarch\/(?:dist|src)\/executors\/([^/]+)\/executor\.[jt]s$/.exec(n.callFrame.url)?.[1]).find((x) => x !== undefined);
  return { file, totals, firstPluginMs, executor, startMs: file.timeOriginMs, endMs: toWall(profile.endTime) };
}

const kindOf = (target: string) => target.replace(/--[a-z0-9]+$/, '');
const s = (ms: number) => (ms / 1000).toFixed(1);

function report(dir: string, name: string): string {
  const runFile = join(dir, name, 'run.json');
  if (!existsSync(runFile)) return '';
  const run = JSON.parse(readFileSync(runFile, 'utf8')) as { tasks: NxRunTask[] };
  const profDir = join(dir, name, 'cpuprofiles');
  const processes = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile.json'))
    .map((f) => analyse(JSON.parse(readFileSync(join(profDir, f), 'utf8')) as ProfileFile));
  const wall = Number(readFileSync(join(dir, name, 'wall-seconds'), 'utf8'));
  const lines: string[] = [`### ${name} run: ${wall} s wall, ${run.tasks.length} tasks (${summariseStatus(run.tasks)})`, ''];

  // Task processes, matched to Nx's tasks by executor and start time.
  const taskProcs = processes.filter((p) => p.executor !== undefined).sort((a, b) => a.startMs - b.startMs);
  const used = new Set<ProcessFigures>();
  interface Row {
    tasks: number;
    wall: number;
    start: number;
    totals: Totals;
  }
  const rows = new Map<string, Row>();
  for (const task of [...run.tasks].sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime))) {
    const kind = kindOf(task.target);
    const start = Date.parse(task.startTime);
    const end = Date.parse(task.endTime);
    const key = `${kind}${task.cacheStatus === 'cache-miss' ? '' : ` (${task.cacheStatus})`}`;
    const row = rows.get(key) ?? { tasks: 0, wall: 0, start: 0, totals: emptyTotals() };
    rows.set(key, row);
    row.tasks += 1;
    row.wall += end - start;
    const proc = taskProcs.find((p) => !used.has(p) && p.executor === kind && p.startMs >= start - 100 && p.startMs <= end);
    if (!proc) continue;
    used.add(proc);
    row.start += (proc.firstPluginMs ?? proc.endMs) - start;
    for (const b of BUCKETS) row.totals[b] += proc.totals[b];
  }
  lines.push(
    'Per task kind, seconds summed over its tasks (mean per task in brackets). Process start: Nx starting the task to the first plugin code (fork, Node bootstrap, Nx runner). Idle is the task process waiting: on go/cargo in the cross tasks (the compile), on the network in manifest-push.',
    '',
    '| task kind | tasks | wall | process start | plugin load | hashing | compress | upload | idle (compile / network / disk) | other JS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [kind, row] of [...rows].sort()) {
    const cell = (ms: number) => `${s(ms)} (${(ms / row.tasks / 1000).toFixed(2)})`;
    const t = row.totals;
    lines.push(
      `| ${kind} | ${row.tasks} | ${cell(row.wall)} | ${cell(row.start)} | ${cell(t['plugin load'])} | ${cell(t.hashing)} | ${cell(t.compress)} | ${cell(t.upload)} | ${cell(t.idle)} | ${cell(t.other + t.cache + t.graph)} |`,
    );
  }

  // The Nx process itself (and its plugin workers): graph, hashing, cache, remote cache.
  const main = processes.filter((p) => p.executor === undefined);
  const graphWorkers = main.filter((p) => p.file.argv.some((a) => /plugin-worker/.test(a)));
  const nxMain = main.filter((p) => !graphWorkers.includes(p) && p.file.argv.some((a) => /nx\.js$/.test(a)));
  const sum = (ps: ProcessFigures[]) => {
    const t = emptyTotals();
    for (const p of ps) for (const b of BUCKETS) t[b] += p.totals[b];
    return t;
  };
  const m = sum(nxMain);
  const g = sum(graphWorkers);
  const cpu = (t: Totals) => BUCKETS.filter((b) => b !== 'idle').reduce((acc, b) => acc + t[b], 0);
  lines.push(
    '',
    `Nx's own process (${nxMain.length}): ${s(cpu(m))} s CPU — module load ${s(m['plugin load'])}, project graph ${s(m.graph)}, hashing ${s(m.hashing)}, local cache ${s(m.cache)}, remote cache upload/download ${s(m.upload)}, other ${s(m.other + m.compress)}; idle ${s(m.idle)}.`,
    `Nx's plugin workers (${graphWorkers.length} processes, createNodes/createDependencies): ${s(cpu(g))} s CPU (module load ${s(g['plugin load'])}).`,
    remoteCacheLine(join(dir, name, 'cache-server.log')),
    `Task processes: ${taskProcs.length} profiled, ${used.size} matched to tasks; ${run.tasks.filter((t) => t.cacheStatus !== 'cache-miss').length} tasks were cache hits (no process).`,
    '',
  );
  return lines.join('\n');
}

/** The remote cache's side (Nx uploads from Rust, which the profiles do not see): the cache server's log lines of the run. */
function remoteCacheLine(logFile: string): string {
  if (!existsSync(logFile)) return 'Remote cache: no cache server log.';
  let puts = 0;
  let bytes = 0;
  let ms = 0;
  let max = 0;
  let hits = 0;
  for (const m of readFileSync(logFile, 'utf8').matchAll(/ (GET|PUT) \/v1\/cache\/\S+ (\d{3}) (\d+)B (\d+)ms/g)) {
    if (m[1] === 'GET' && m[2] === '200') hits += 1;
    if (m[1] !== 'PUT') continue;
    puts += 1;
    bytes += Number(m[3]);
    ms += Number(m[4]);
    max = Math.max(max, Number(m[4]));
  }
  return `Remote cache (cache server's log): ${puts} uploads, ${(bytes / 1048576).toFixed(1)} MiB, ${s(ms)} s of server time in all (longest ${max} ms); ${hits} downloads.`;
}

function summariseStatus(tasks: NxRunTask[]): string {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.cacheStatus, (counts.get(t.cacheStatus) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: profile-report.ts DIR\n');
  process.exit(2);
}
process.stdout.write(['cold', 'noop'].map((name) => report(dir, name)).join('\n'));
