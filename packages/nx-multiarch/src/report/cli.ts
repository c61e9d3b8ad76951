import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { formatError, MultiarchError } from '../errors';
import { writeDirAtomically } from '../util/atomic';
import { collectReport } from './collect';
import { renderHtml } from './render-html';
import { renderMarkdown } from './render-markdown';

export const REPORT_HELP = `Usage: nx-multiarch report [options]

Writes dist/report/index.html and dist/report/report.md: the project x arch
image matrix (digest, size, layers, build time, cache status), the last push
of each project (dist/push/<project>.json), the integration results
(dist/test-results/<project>/<arch>/junit.xml), and where the time went.

Build times and cache status come from Nx's record of a run, run.json in the
Nx cache folder (NX_CACHE_DIRECTORY, else nx.json's cacheDirectory, else
.nx/cache). Nx keeps only the last run there; pass --run several times
(oldest first) to report on several runs.

Options:
  --workspace <dir>  workspace root (default: the nearest folder above the
                     current one that has nx.json)
  --run <file>       an Nx run.json to read (repeatable); --no-run reads none
  --out <dir>        output folder (default: <workspace>/dist/report)
  -h, --help         show this text
`;

export interface ReportCliOptions {
  workspace?: string;
  runs: string[];
  noRun: boolean;
  out?: string;
  help: boolean;
}

export function parseReportArgs(argv: readonly string[]): ReportCliOptions {
  const options: ReportCliOptions = { runs: [], noRun: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new MultiarchError(`${name} needs a value.`, `run \`nx-multiarch report --help\` for the options.`);
      return v;
    };
    if (name === '-h' || name === '--help') options.help = true;
    else if (name === '--workspace') options.workspace = value();
    else if (name === '--run') options.runs.push(value());
    else if (name === '--no-run') options.noRun = true;
    else if (name === '--out') options.out = value();
    else throw new MultiarchError(`Unknown option "${arg}" for nx-multiarch report.`, 'run `nx-multiarch report --help` for the options.');
  }
  return options;
}

export function findWorkspaceRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) {
      throw new MultiarchError(`No nx.json in ${start} or any folder above it.`, 'run the command inside an Nx workspace, or pass --workspace <dir>.');
    }
  }
}

/** The run.json Nx writes for this workspace, found the way Nx finds its cache folder. */
export function defaultRunFile(workspaceRoot: string, env: NodeJS.ProcessEnv): string {
  let cacheDir = env.NX_CACHE_DIRECTORY;
  if (!cacheDir) {
    try {
      const nxJson = JSON.parse(readFileSync(join(workspaceRoot, 'nx.json'), 'utf8')) as { cacheDirectory?: string };
      cacheDir = nxJson.cacheDirectory;
    } catch {
      cacheDir = undefined;
    }
  }
  cacheDir ??= join('.nx', 'cache');
  return join(isAbsolute(cacheDir) ? cacheDir : join(workspaceRoot, cacheDir), 'run.json');
}

export interface ReportOutcome {
  outDir: string;
  html: string;
  markdown: string;
}

export async function writeReport(options: ReportCliOptions, cwd: string, env: NodeJS.ProcessEnv): Promise<ReportOutcome> {
  const workspaceRoot = options.workspace ? resolve(cwd, options.workspace) : findWorkspaceRoot(cwd);
  let runFiles = options.runs.map((r) => resolve(cwd, r));
  if (runFiles.length === 0 && !options.noRun) {
    const fallback = defaultRunFile(workspaceRoot, env);
    runFiles = existsSync(fallback) ? [fallback] : [];
  }
  const report = await collectReport(workspaceRoot, { runFiles });
  const html = renderHtml(report);
  const markdown = renderMarkdown(report);
  const outDir = options.out ? resolve(cwd, options.out) : join(workspaceRoot, 'dist', 'report');
  // Both files appear together or not at all.
  await writeDirAtomically(outDir, async (dir) => {
    await writeFile(join(dir, 'index.html'), html);
    await writeFile(join(dir, 'report.md'), markdown);
  });
  return { outDir, html, markdown };
}

/** `nx-multiarch report`: the exit code for bin/nx-multiarch.js. */
export async function runReportCommand(argv: readonly string[], cwd = process.cwd(), env = process.env): Promise<number> {
  try {
    const options = parseReportArgs(argv);
    if (options.help) {
      process.stdout.write(REPORT_HELP);
      return 0;
    }
    const outcome = await writeReport(options, cwd, env);
    process.stdout.write(`Wrote ${join(outcome.outDir, 'index.html')} and ${join(outcome.outDir, 'report.md')}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`nx-multiarch report: ${formatError(error)}\n`);
    return 1;
  }
}
