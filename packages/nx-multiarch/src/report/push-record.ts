import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushReport } from '../publish/execute';
import type { PushRecordFile } from './types';

/** dist/push/<project>.json: where the report finds a project's last push. */
export function pushRecordPath(workspaceRoot: string, project: string): string {
  return join(workspaceRoot, 'dist', 'push', `${project}.json`);
}

/**
 * Keeps the summary manifest-push prints as a file, so the build report (and
 * scripts) can read it. Written beside and renamed: a killed push leaves the
 * previous record or none, never half of one. No credentials are in a report.
 */
export async function writePushRecord(workspaceRoot: string, project: string, arches: readonly string[], report: PushReport): Promise<void> {
  const record: PushRecordFile = {
    project,
    registry: report.registry,
    repository: report.repository,
    indexDigest: report.indexDigest,
    tags: report.tags,
    arches: [...arches],
    blobs: report.blobs,
    manifestsPushed: report.manifestsPushed,
    manifestsUnchanged: report.manifestsUnchanged,
    requests: report.requests,
    bytesSent: report.bytesSent,
    verified: report.verified,
    durationMs: report.durationMs,
  };
  const path = pushRecordPath(workspaceRoot, project);
  await mkdir(join(workspaceRoot, 'dist', 'push'), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temp, path);
}
