import { summariseJunit } from './junit-summary';
import { archOfCommand, splitTarget, toRunRecord } from './nx-run';
import { orderArches } from './collect';
import { renderHtml } from './render-html';
import { renderMarkdown } from './render-markdown';
import { timeByKind } from './time-chart';
import type { BuildReport, NxRunFile } from './types';

const task = (target: string, projectName: string, start: string, end: string, cacheStatus: string) => ({
  taskId: `${projectName}:${target}`,
  target,
  projectName,
  hash: '1',
  startTime: start,
  endTime: end,
  params: '',
  cacheStatus,
  status: 0,
});

describe('Nx run records', () => {
  it('takes the arch from a per-arch target name, else from --arch on the command line', () => {
    expect(splitTarget('docker-arch-build--arm64')).toEqual({ kind: 'docker-arch-build', arch: 'arm64' });
    expect(splitTarget('manifest-push')).toEqual({ kind: 'manifest-push' });
    expect(archOfCommand('nx run-many -t docker-arch-build --arch=arm')).toBe('arm');
    expect(archOfCommand('nx run-many -t docker-arch-build --arch arm64 --verbose')).toBe('arm64');
    expect(archOfCommand('nx run-many -t docker-arch-build --arch=amd64,arm')).toBeUndefined();
    const file: NxRunFile = {
      run: { command: 'nx run-many -t go-cross,manifest-push --arch=arm', startTime: '2026-01-01T00:00:00.000Z', endTime: '2026-01-01T00:00:10.000Z' },
      tasks: [
        task('go-cross', 'a', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:04.000Z', 'cache-miss'),
        task('docker-arch-build--arm64', 'a', '2026-01-01T00:00:04.000Z', '2026-01-01T00:00:04.500Z', 'remote-cache-hit'),
        task('manifest-push', 'a', '2026-01-01T00:00:05.000Z', '2026-01-01T00:00:09.000Z', 'cache-miss'),
      ],
    };
    const run = toRunRecord(file);
    expect(run.durationMs).toBe(10_000);
    expect(run.tasks.map((t) => [t.kind, t.arch, t.startMs, t.durationMs])).toEqual([
      ['go-cross', 'arm', 1000, 3000],
      ['docker-arch-build', 'arm64', 4000, 500],
      ['manifest-push', undefined, 5000, 4000],
    ]);
    expect(timeByKind([run])).toEqual([
      { kind: 'manifest-push', builtMs: 4000, cachedMs: 0, tasks: 1 },
      { kind: 'go-cross', builtMs: 3000, cachedMs: 0, tasks: 1 },
      { kind: 'docker-arch-build', builtMs: 0, cachedMs: 500, tasks: 1 },
    ]);
  });
});

describe('JUnit totals', () => {
  it('reads the root totals, or sums the suites when the root has none', () => {
    expect(summariseJunit('<testsuites name="x" tests="4" failures="1" errors="0" skipped="1" time="2.500"><testsuite/></testsuites>', 'p', 'arm')).toEqual({
      project: 'p', arch: 'arm', tests: 4, failures: 1, errors: 0, skipped: 1, seconds: 2.5,
    });
    const suites = '<testsuites><testsuite name="a" tests="2" failures="0" errors="1" skipped="0" time="1"></testsuite><testsuite name="b" tests="3" failures="1" errors="0" skipped="0" time="2"></testsuite></testsuites>';
    expect(summariseJunit(suites, 'p', 'arm64')).toMatchObject({ tests: 5, failures: 1, errors: 1, seconds: 3 });
  });
});

describe('rendering', () => {
  const report: BuildReport = {
    arches: orderArches(['arm', 'amd64', 'riscv64', 'arm64']),
    projects: ['web'],
    cells: [{ project: 'web', arch: 'arm', platform: 'linux/arm/v7', engine: 'native', manifestDigest: `sha256:${'ab'.repeat(32)}`, size: 2048, layers: 1, buildMs: 1500, cacheStatus: 'cache-miss' }],
    pushes: [],
    integration: [{ project: 'web<script>', arch: 'arm', tests: 2, failures: 1, errors: 0, skipped: 0, seconds: 1 }],
    runs: [],
  };

  it('orders arch columns as the platform table does', () => {
    expect(report.arches).toEqual(['amd64', 'arm64', 'arm', 'riscv64']);
  });

  it('puts each image in its project row and arch column, and an empty cell where there is none', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| project | amd64 | arm64 | arm | riscv64 |');
    expect(md).toContain(`| web | – | – | \`sha256:${'ab'.repeat(6)}\` 2.0 KiB, 1 layer, 1.50 s, built | – |`);
    const html = renderHtml(report);
    expect(html).toContain(`data-project="web" data-arch="arm" data-digest="sha256:${'ab'.repeat(32)}"`);
    expect(html).toContain('<td class="missing" data-project="web" data-arch="amd64">');
  });

  it('escapes names in the page and marks failed integration runs', () => {
    const html = renderHtml(report);
    expect(html).not.toContain('web<script>');
    expect(html).toContain('<tr class="failed"><td>web&lt;script&gt;</td>');
  });
});

describe('supply chain in the matrix', () => {
  const signed: BuildReport = {
    arches: ['arm64'],
    projects: ['web'],
    cells: [
      {
        project: 'web',
        arch: 'arm64',
        platform: 'linux/arm64',
        engine: 'native',
        manifestDigest: `sha256:${'cd'.repeat(32)}`,
        size: 1024,
        layers: 2,
        sbomPackages: 41,
        provenanceRevision: '0123456789abcdef0123',
        signature: 'signed by sha256:00112233aabbccdd',
      },
    ],
    pushes: [],
    integration: [],
    runs: [],
  };

  it('shows the SBOM package count, the provenance revision and the signature state of each image', () => {
    expect(renderMarkdown(signed)).toContain('SBOM 41 packages, provenance 0123456789ab, signed by sha256:00112233aabbccdd |');
    expect(renderHtml(signed)).toContain('<span class="supply-chain">SBOM 41 packages, provenance 0123456789ab, signed by sha256:00112233aabbccdd</span>');
  });
});
