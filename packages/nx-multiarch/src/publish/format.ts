import { formatBytes, PushReport } from './execute';
import { PushPlan, totalBlobBytes } from './plan';

/** The plan as a person reads it (what --dry-run prints). */
export function formatPlan(plan: PushPlan, registry: string): string {
  const kind = plan.format === 'oci' ? 'OCI image index' : 'Docker manifest list';
  const lines = [
    `Push plan for ${registry}/${plan.repository} (${kind}, ${plan.manifests.length} arches):`,
    `  blobs: ${plan.blobs.length}, ${formatBytes(totalBlobBytes(plan))} (those the registry already has are skipped)`,
  ];
  for (const blob of plan.blobs) {
    lines.push(`    ${blob.digest}  ${formatBytes(blob.size).padStart(10)}  ${blob.mediaType}  [${blob.arches.join(', ')}]`);
  }
  lines.push('  manifests (pushed by digest):');
  for (const m of plan.manifests) {
    const platform = [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/');
    lines.push(`    ${m.arch.padEnd(8)} ${platform.padEnd(14)} ${m.digest}  ${formatBytes(m.body.length)}${m.tags.length ? `  tags: ${m.tags.join(', ')}` : ''}`);
  }
  lines.push(`  index ${plan.index.digest} (${formatBytes(plan.index.body.length)}), last, as: ${plan.index.tags.join(', ')}`);
  for (const note of plan.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

export function formatReport(report: PushReport): string {
  const b = report.blobs;
  return [
    `Pushed ${report.registry}/${report.repository}@${report.indexDigest} as ${report.tags.join(', ')}`,
    `  blobs: ${b.uploaded} uploaded (${formatBytes(b.bytesUploaded)}), ${b.mounted} mounted, ${b.skipped} already there; manifests: ${report.manifestsPushed} written, ${report.manifestsUnchanged} already there`,
    `  requests: ${report.requests}, bytes sent: ${report.bytesSent}, ${(report.durationMs / 1000).toFixed(2)} s${report.verified ? ', read back and verified' : ''}`,
  ].join('\n');
}
