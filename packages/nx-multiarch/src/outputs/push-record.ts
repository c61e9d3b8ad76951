import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile } from './json-file';

/**
 * `dist/push/<project>.json`: what manifest-push did, kept as a file so the
 * build report (and scripts) can read a project's last push. One type for
 * what a push reports and what the record holds; no credentials are in it.
 */
export interface PushSummary {
  registry: string;
  repository: string;
  indexDigest: string;
  tags: string[];
  blobs: { uploaded: number; mounted: number; skipped: number; bytesUploaded: number };
  manifestsPushed: number;
  /** Every request the client made (HEADs, token requests, retries and verification included). */
  requests: number;
  /** Every request body byte written, retries included. */
  bytesSent: number;
  verified: boolean;
  durationMs: number;
}

export interface PushRecord extends PushSummary {
  project: string;
  arches: string[];
}

export function pushRecordDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'dist', 'push');
}

/** dist/push/<project>.json: where the report finds a project's last push. */
export function pushRecordPath(workspaceRoot: string, project: string): string {
  return join(pushRecordDir(workspaceRoot), `${project}.json`);
}

/** Written beside and renamed: a killed push leaves the previous record or none, never half of one. */
export async function writePushRecord(workspaceRoot: string, record: PushRecord): Promise<void> {
  const path = pushRecordPath(workspaceRoot, record.project);
  await mkdir(pushRecordDir(workspaceRoot), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temp, path);
}

/** Every record under dist/push, by file name. A damaged record is an error: the report must not hide a push. */
export async function readPushRecords(workspaceRoot: string): Promise<PushRecord[]> {
  const names = await readdir(pushRecordDir(workspaceRoot)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const records: PushRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const record = await readJsonFile<PushRecord>(join(pushRecordDir(workspaceRoot), name));
    if (record) records.push(record);
  }
  return records;
}
