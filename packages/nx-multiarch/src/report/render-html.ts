import { cacheLabel, escapeHtml, formatBytes, formatMs, shortDigest } from './format';
import { cellOf, supplyChainText } from './render-markdown';
import { renderKindChart, renderTimeline, timeByKind } from './time-chart';
import type { BuildReport } from './types';

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 24px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 13px; }
th { background: #f0f0f0; }
td.cell code { font-size: 12px; }
td.missing { color: #999; }
.status-built { color: #3b6fb6; }
.status-local-cache, .status-remote-cache { color: #2e7d32; }
.failed { color: #c0392b; font-weight: bold; }
`;

function matrixHtml(report: BuildReport): string {
  if (report.cells.length === 0) {
    return '<p id="no-images">No images in dist/images: run <code>nx run-many -t docker-arch-build --arch=&lt;arch&gt;</code> first.</p>';
  }
  const head = `<tr><th>project</th>${report.arches.map((a) => `<th>${escapeHtml(a)}</th>`).join('')}</tr>`;
  const rows = report.projects.map((project) => {
    const cells = report.arches.map((arch) => {
      const c = cellOf(report, project, arch);
      if (!c) return `<td class="missing" data-project="${escapeHtml(project)}" data-arch="${escapeHtml(arch)}">–</td>`;
      const label = cacheLabel(c.cacheStatus);
      return [
        `<td class="cell" data-project="${escapeHtml(project)}" data-arch="${escapeHtml(arch)}" data-digest="${escapeHtml(c.manifestDigest)}">`,
        `<code title="${escapeHtml(c.manifestDigest)}">${escapeHtml(shortDigest(c.manifestDigest))}</code><br>`,
        `${escapeHtml(c.platform)}, ${formatBytes(c.size)}, ${c.layers} layer${c.layers === 1 ? '' : 's'}<br>`,
        `${formatMs(c.buildMs)} <span class="status-${label.replace(/\s+/g, '-')}">${escapeHtml(label)}</span>`,
        supplyChainText(c) ? `<br><span class="supply-chain">${escapeHtml(supplyChainText(c).slice(2))}</span>` : '',
        '</td>',
      ].join('');
    });
    return `<tr><th>${escapeHtml(project)}</th>${cells.join('')}</tr>`;
  });
  return `<table id="matrix">\n${head}\n${rows.join('\n')}\n</table>`;
}

function pushHtml(report: BuildReport): string {
  if (report.pushes.length === 0) return '<p>No push recorded in dist/push.</p>';
  const rows = report.pushes.map(
    (p) =>
      `<tr><td>${escapeHtml(p.project)}</td><td><code>${escapeHtml(`${p.registry}/${p.repository}:${p.tags.join(',')}`)}</code></td>` +
      `<td><code title="${escapeHtml(p.indexDigest)}">${escapeHtml(shortDigest(p.indexDigest))}</code></td><td>${escapeHtml(p.arches.join(', '))}</td>` +
      `<td>${p.blobs.uploaded} / ${p.blobs.mounted} / ${p.blobs.skipped}</td><td>${formatBytes(p.bytesSent)}</td><td>${p.requests}</td>` +
      `<td>${formatMs(p.durationMs)}${p.verified ? ', verified' : ''}</td></tr>`,
  );
  return `<table id="push"><tr><th>project</th><th>reference</th><th>index</th><th>arches</th><th>blobs uploaded / mounted / skipped</th><th>bytes sent</th><th>requests</th><th>time</th></tr>\n${rows.join('\n')}\n</table>`;
}

function integrationHtml(report: BuildReport): string {
  if (report.integration.length === 0) return '<p>No JUnit results in dist/test-results.</p>';
  const rows = report.integration.map((r) => {
    const bad = r.failures + r.errors > 0;
    return `<tr${bad ? ' class="failed"' : ''}><td>${escapeHtml(r.project)}</td><td>${escapeHtml(r.arch)}</td><td>${r.tests}</td><td>${r.failures}</td><td>${r.errors}</td><td>${r.skipped}</td><td>${r.seconds.toFixed(2)} s</td></tr>`;
  });
  return `<table id="integration"><tr><th>project</th><th>arch</th><th>tests</th><th>failures</th><th>errors</th><th>skipped</th><th>time</th></tr>\n${rows.join('\n')}\n</table>`;
}

function timeHtml(report: BuildReport): string {
  if (report.runs.length === 0) return '<p>No Nx run record given.</p>';
  const runs = report.runs.map((r) => `<li><code>${escapeHtml(r.command)}</code>: ${formatMs(r.durationMs)}, ${r.tasks.length} tasks</li>`).join('\n');
  const timelines = report.runs
    .filter((r) => r.tasks.length > 0)
    .map((r) => `<h3>Timeline: <code>${escapeHtml(r.command)}</code></h3>\n${renderTimeline(r)}`)
    .join('\n');
  return `<ul>\n${runs}\n</ul>\n${renderKindChart(timeByKind(report.runs))}\n${timelines}`;
}

/** index.html: one self-contained page (inline CSS and SVG, no scripts). */
export function renderHtml(report: BuildReport): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nx-multiarch build report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>nx-multiarch build report</h1>
<h2>Images (project x arch)</h2>
${matrixHtml(report)}
<h2>Push</h2>
${pushHtml(report)}
<h2>Integration tests</h2>
${integrationHtml(report)}
<h2>Where the time went</h2>
${timeHtml(report)}
</body>
</html>
`;
}
