import { isDigest } from '../oci/digest';
import type { Digest } from '../oci/types';

/**
 * The small record the file backend keeps per entry: which blob holds the
 * bytes, and how many there are. The blob is checked against it before it
 * is served.
 */
export interface EntryRecord {
  schemaVersion: 1;
  digest: Digest;
  size: number;
}

export function encodeEntryRecord(record: Pick<EntryRecord, 'digest' | 'size'>): string {
  return `${JSON.stringify({ schemaVersion: 1, digest: record.digest, size: record.size })}\n`;
}

/** The record, or a sentence saying what is wrong with the text. */
export function decodeEntryRecord(text: string): EntryRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'its record is not JSON';
  }
  if (value === null || typeof value !== 'object') return 'its record is not an object';
  const { schemaVersion, digest, size } = value as Record<string, unknown>;
  if (schemaVersion !== 1) return `its record has an unknown schemaVersion ${String(schemaVersion)}`;
  if (typeof digest !== 'string' || !isDigest(digest)) return 'its record names no sha256 digest';
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return 'its record has no valid size';
  return { schemaVersion: 1, digest, size };
}
