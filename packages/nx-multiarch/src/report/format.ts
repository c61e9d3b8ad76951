/** Small text helpers shared by the Markdown and HTML renderers. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** `sha256:0123456789ab` — enough to tell digests apart in a table. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest;
}

/** What a cache status means to a reader. */
export function cacheLabel(status: string | undefined): string {
  switch (status) {
    case undefined:
      return 'not in run';
    case 'cache-miss':
      return 'built';
    case 'local-cache-hit':
    case 'local-cache-kept-existing':
      return 'local cache';
    case 'remote-cache-hit':
      return 'remote cache';
    default:
      return status;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
