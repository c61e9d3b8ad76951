import { cacheLabel, escapeHtml, formatMs } from './format';
import type { RunRecord, TaskRun } from './types';

/**
 * "Where the time went" as inline SVG (no scripts, no external assets, so the
 * report opens from a file anywhere): task time per kind of target, split into
 * work done and time spent restoring from a cache, and a timeline of a run.
 */
export interface KindTime {
  kind: string;
  builtMs: number;
  cachedMs: number;
  tasks: number;
}

const isCacheHit = (task: TaskRun) => task.cacheStatus !== 'cache-miss';

export function timeByKind(runs: readonly RunRecord[]): KindTime[] {
  const byKind = new Map<string, KindTime>();
  for (const task of runs.flatMap((r) => r.tasks)) {
    const row = byKind.get(task.kind) ?? { kind: task.kind, builtMs: 0, cachedMs: 0, tasks: 0 };
    if (isCacheHit(task)) row.cachedMs += task.durationMs;
    else row.builtMs += task.durationMs;
    row.tasks++;
    byKind.set(task.kind, row);
  }
  return [...byKind.values()].sort((a, b) => b.builtMs + b.cachedMs - (a.builtMs + a.cachedMs) || a.kind.localeCompare(b.kind));
}

const BUILT = '#3b6fb6';
const CACHED = '#8cc084';
const FAILED = '#c0392b';
const LABEL_WIDTH = 190;
const BAR_WIDTH = 460;
const ROW = 24;

export function renderKindChart(rows: readonly KindTime[]): string {
  const max = Math.max(1, ...rows.map((r) => r.builtMs + r.cachedMs));
  const height = rows.length * ROW + 34;
  const width = LABEL_WIDTH + BAR_WIDTH + 120;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="time-by-kind" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Task time by target">`,
  ];
  rows.forEach((row, i) => {
    const y = i * ROW + 4;
    const built = (row.builtMs / max) * BAR_WIDTH;
    const cached = (row.cachedMs / max) * BAR_WIDTH;
    const total = formatMs(row.builtMs + row.cachedMs);
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" text-anchor="end" font-size="12">${escapeHtml(row.kind)} (${row.tasks})</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${built.toFixed(1)}" height="${ROW - 6}" fill="${BUILT}"><title>${escapeHtml(row.kind)}: built ${formatMs(row.builtMs)}</title></rect>`,
      `<rect x="${(LABEL_WIDTH + built).toFixed(1)}" y="${y}" width="${cached.toFixed(1)}" height="${ROW - 6}" fill="${CACHED}"><title>${escapeHtml(row.kind)}: from cache ${formatMs(row.cachedMs)}</title></rect>`,
      `<text x="${(LABEL_WIDTH + built + cached + 6).toFixed(1)}" y="${y + 15}" font-size="12">${total}</text>`,
    );
  });
  const legendY = rows.length * ROW + 18;
  parts.push(
    `<rect x="${LABEL_WIDTH}" y="${legendY - 10}" width="12" height="12" fill="${BUILT}"/><text x="${LABEL_WIDTH + 16}" y="${legendY}" font-size="12">built (cache miss)</text>`,
    `<rect x="${LABEL_WIDTH + 150}" y="${legendY - 10}" width="12" height="12" fill="${CACHED}"/><text x="${LABEL_WIDTH + 166}" y="${legendY}" font-size="12">restored from cache</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** One bar per task at its start offset: what ran in parallel and what waited. */
export function renderTimeline(run: RunRecord): string {
  const tasks = [...run.tasks].sort((a, b) => a.startMs - b.startMs || a.project.localeCompare(b.project));
  const span = Math.max(1, run.durationMs, ...tasks.map((t) => t.startMs + t.durationMs));
  const row = 16;
  const height = tasks.length * row + 28;
  const width = LABEL_WIDTH + 120 + BAR_WIDTH + 20;
  const left = LABEL_WIDTH + 120;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Timeline of the run">`,
  ];
  tasks.forEach((task, i) => {
    const y = i * row + 2;
    const x = left + (task.startMs / span) * BAR_WIDTH;
    const w = Math.max(1, (task.durationMs / span) * BAR_WIDTH);
    const fill = task.exitCode !== 0 ? FAILED : isCacheHit(task) ? CACHED : BUILT;
    const name = `${task.project}:${task.kind}${task.arch ? ` ${task.arch}` : ''}`;
    parts.push(
      `<text x="${left - 6}" y="${y + 11}" text-anchor="end" font-size="10">${escapeHtml(name)}</text>`,
      `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${row - 4}" fill="${fill}"><title>${escapeHtml(name)}: ${formatMs(task.durationMs)}, ${cacheLabel(task.cacheStatus)}</title></rect>`,
    );
  });
  const axisY = tasks.length * row + 18;
  parts.push(
    `<text x="${left}" y="${axisY}" font-size="10">0</text>`,
    `<text x="${left + BAR_WIDTH}" y="${axisY}" font-size="10" text-anchor="end">${formatMs(span)}</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
