import { cacheLabel, formatBytes, formatMs, shortDigest } from './format';
import { timeByKind } from './time-chart';
import type { BuildReport, MatrixCell } from './types';

/** SBOM package count, provenance revision and signature state of a cell, when known. */
export function supplyChainText(c: MatrixCell): string {
  const parts: string[] = [];
  if (c.sbomPackages !== undefined) parts.push(`SBOM ${c.sbomPackages} packages`);
  if (c.provenanceRevision) parts.push(`provenance ${c.provenanceRevision.slice(0, 12)}`);
  if (c.signature) parts.push(c.signature);
  return parts.length > 0 ? `, ${parts.join(', ')}` : '';
}

export function cellOf(report: BuildReport, project: string, arch: string): MatrixCell | undefined {
  return report.cells.find((c) => c.project === project && c.arch === arch);
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** report.md: the same content as the HTML page, for terminals and CI summaries. */
export function renderMarkdown(report: BuildReport): string {
  const lines = ['# Build report', ''];
  lines.push('## Images (project x arch)', '');
  if (report.cells.length === 0) {
    lines.push('No images in dist/images: run `nx run-many -t docker-arch-build --arch=<arch>` first.', '');
  } else {
    const rows = report.projects.map((project) => [
      project,
      ...report.arches.map((arch) => {
        const c = cellOf(report, project, arch);
        if (!c) return '–';
        return `\`${shortDigest(c.manifestDigest)}\` ${formatBytes(c.size)}, ${c.layers} layer${c.layers === 1 ? '' : 's'}, ${formatMs(c.buildMs)}, ${cacheLabel(c.cacheStatus)}${supplyChainText(c)}`;
      }),
    ]);
    lines.push(...table(['project', ...report.arches], rows), '');
  }
  lines.push('## Push', '');
  if (report.pushes.length === 0) lines.push('No push recorded in dist/push.', '');
  else {
    lines.push(
      ...table(
        ['project', 'reference', 'index', 'arches', 'blobs uploaded / mounted / skipped', 'bytes sent', 'requests', 'time'],
        report.pushes.map((p) => [
          p.project,
          `${p.registry}/${p.repository}:${p.tags.join(',')}`,
          `\`${shortDigest(p.indexDigest)}\``,
          p.arches.join(', '),
          `${p.blobs.uploaded} / ${p.blobs.mounted} / ${p.blobs.skipped}`,
          formatBytes(p.bytesSent),
          String(p.requests),
          formatMs(p.durationMs),
        ]),
      ),
      '',
    );
  }
  lines.push('## Integration tests', '');
  if (report.integration.length === 0) lines.push('No JUnit results in dist/test-results.', '');
  else {
    lines.push(
      ...table(
        ['project', 'arch', 'tests', 'failures', 'errors', 'skipped', 'time'],
        report.integration.map((r) => [r.project, r.arch, String(r.tests), String(r.failures), String(r.errors), String(r.skipped), `${r.seconds.toFixed(2)} s`]),
      ),
      '',
    );
  }
  lines.push('## Where the time went', '');
  if (report.runs.length === 0) lines.push('No Nx run record given.', '');
  else {
    for (const run of report.runs) lines.push(`- \`${run.command}\`: ${formatMs(run.durationMs)}, ${run.tasks.length} tasks`);
    lines.push(
      '',
      ...table(
        ['target', 'tasks', 'built', 'from cache'],
        timeByKind(report.runs).map((k) => [k.kind, String(k.tasks), formatMs(k.builtMs), formatMs(k.cachedMs)]),
      ),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
