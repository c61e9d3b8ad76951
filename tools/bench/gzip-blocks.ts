/**
 * Big-layer gzip, one stream against blocks on every core (issue 20): the
 * same input file streamed from disk, hashed as the layer writer hashes it
 * (sha256 of the input and of the output), through the plugin's compiled
 * createBlockGzip with Node's zlib:
 *   - one stream: the leading stream made longer than the input;
 *   - blocks, 1 to 3 at once: the layer layout (1 MiB blocks) from byte 32 KiB.
 * Prints the best wall time of RUNS per variant, MB/s of input and the
 * output size. Build the plugin first (npm run build:plugin).
 *
 *   node -r @swc-node/register tools/bench/gzip-blocks.ts RUNS FILE...
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fail, loadPlugin } from './plugin';

const plugin = loadPlugin();
const [runsText, ...files] = process.argv.slice(2);
const runs = Number(runsText);
if (!Number.isInteger(runs) || runs < 1 || files.length === 0) {
  process.stderr.write('usage: node -r @swc-node/register tools/bench/gzip-blocks.ts RUNS FILE...\n');
  process.exit(2);
}

async function once(file: string, layout: { first: number; block: number }, inFlight: number): Promise<{ seconds: number; bytes: number }> {
  const started = process.hrtime.bigint();
  const input = createHash('sha256');
  const output = createHash('sha256');
  let bytes = 0;
  await pipeline(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        input.update(chunk);
        yield chunk;
      }
    },
    plugin.createBlockGzip('zlib', layout, inFlight),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        output.update(chunk);
        bytes += chunk.length;
      }
    },
  );
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
}

(async () => {
  const variants = [
    { name: 'one stream', layout: { first: Number.MAX_SAFE_INTEGER, block: plugin.LAYER_BLOCKS.block }, inFlight: 1 },
    ...[1, 2, 3].map((inFlight) => ({ name: `blocks, ${inFlight} at once`, layout: { first: 32 * 1024, block: plugin.LAYER_BLOCKS.block }, inFlight })),
  ];
  process.stdout.write('| input | variant | best s | MB/s | output MB |\n| --- | --- | ---: | ---: | ---: |\n');
  for (const file of files) {
    const size = statSync(file).size;
    for (const variant of variants) {
      let best = { seconds: Infinity, bytes: 0 };
      for (let i = 0; i < runs; i++) {
        const result = await once(file, variant.layout, variant.inFlight);
        if (result.seconds < best.seconds) best = result;
      }
      process.stdout.write(`| ${basename(file)} (${(size / 1e6).toFixed(0)} MB) | ${variant.name} | ${best.seconds.toFixed(2)} | ${(size / 1e6 / best.seconds).toFixed(0)} | ${(best.bytes / 1e6).toFixed(1)} |\n`);
    }
  }
})().catch(fail);
