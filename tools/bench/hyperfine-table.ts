import { readFileSync } from 'node:fs';

/**
 * Prints hyperfine --export-json results as one Markdown table (mean, min,
 * max in seconds), the first result of each file a row.
 *
 *   hyperfine-table.ts RESULT.json...
 */
interface HyperfineExport {
  results: Array<{ command: string; mean: number; min: number; max: number }>;
}

const rows = process.argv.slice(2).map((file) => (JSON.parse(readFileSync(file, 'utf8')) as HyperfineExport).results[0]);
console.log('\n| measure (seconds) | mean | min | max |\n| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.command} | ${r.mean.toFixed(2)} | ${r.min.toFixed(2)} | ${r.max.toFixed(2)} |`);
