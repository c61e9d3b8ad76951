// Layer compressors side by side (issue 17), one process, same inputs:
//   pako 3 (the plugin's gzipDeterministic, level 6), Node's zlib (level 6),
//   fflate (pure JS, level 6), wasm-gzip (WebAssembly,
//   its one fixed level), zstd in WebAssembly (@bokuweb/zstd-wasm, level 3)
//   and the zstd command (level 3, one process per input).
//
//   node tools/bench/gzip-candidates.mjs CANDIDATES_DIR RUNS FILE...
//
// CANDIDATES_DIR holds node_modules with the candidates (gzip-candidates.sh
// installs the pinned versions into a temp folder; none is a dependency of the
// plugin). Per candidate: median wall ms over RUNS, MB/s, output size, whether
// two runs give the same bytes, and whether the bytes equal pako's (the digest
// the plugin writes today). Every gzip output is checked to decompress to the input.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const [candidatesDir, runsText, ...files] = process.argv.slice(2);
if (!candidatesDir || !runsText || files.length === 0) {
  process.stderr.write('usage: node tools/bench/gzip-candidates.mjs CANDIDATES_DIR RUNS FILE...\n');
  process.exit(2);
}
const runs = Number(runsText);
const here = fileURLToPath(new URL('.', import.meta.url));
const repoRequire = createRequire(join(here, '..', '..', 'package.json'));
const { gzipDeterministic } = repoRequire(join(here, '..', '..', 'packages', 'nx-multiarch', 'dist', 'bench-api.js'));
const candRequire = createRequire(join(candidatesDir, 'package.json'));
const pkgVersion = (name) => JSON.parse(readFileSync(join(candidatesDir, 'node_modules', name, 'package.json'), 'utf8')).version;

const fflate = candRequire('fflate');
const wasmGzip = await import(pathToFileURL(join(candidatesDir, 'node_modules', 'wasm-gzip', 'wasm_gzip.js')).href);
wasmGzip.initSync(readFileSync(join(candidatesDir, 'node_modules', 'wasm-gzip', 'wasm_gzip.wasm')));
const zstdWasm = candRequire('@bokuweb/zstd-wasm');
await zstdWasm.init();

const candidates = [
  { name: `pako ${repoRequire('pako/package.json').version} (today)`, gzip: true, run: (b) => gzipDeterministic(b) },
  { name: `node:zlib (Node ${process.versions.node}, zlib ${process.versions.zlib})`, gzip: true, run: (b) => zlib.gzipSync(b, { level: 6 }) },
  { name: `fflate ${pkgVersion('fflate')} (pure JS)`, gzip: true, run: (b) => Buffer.from(fflate.gzipSync(b, { level: 6, mtime: 0 })) },
  { name: `wasm-gzip ${pkgVersion('wasm-gzip')} (WebAssembly)`, gzip: true, run: (b) => Buffer.from(wasmGzip.compress(b)) },
  { name: `zstd-wasm ${pkgVersion('@bokuweb/zstd-wasm')} (WebAssembly, level 3)`, gzip: false, run: (b) => Buffer.from(zstdWasm.compress(b, 3)) },
  { name: 'zstd command, level 3 (own process)', gzip: false, run: (b) => execFileSync('zstd', ['-3', '-q', '-c', '--no-check'], { input: b, maxBuffer: 1 << 30 }) },
];

const sha = (b) => createHash('sha256').update(b).digest('hex');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const file of files) {
  const input = readFileSync(file);
  const pakoDigest = sha(gzipDeterministic(input));
  console.log(`\n${basename(file)}: ${(input.length / 1048576).toFixed(1)} MiB, median of ${runs}\n`);
  console.log('| compressor | ms | MB/s | output (KiB) | ratio | same bytes twice | same bytes as pako |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- | --- |');
  for (const c of candidates) {
    const times = [];
    const digests = new Set();
    let out;
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      out = c.run(input);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      digests.add(sha(out));
    }
    if (c.gzip && !zlib.gunzipSync(out).equals(input)) throw new Error(`${c.name}: output does not decompress to the input`);
    const ms = median(times);
    console.log(
      `| ${c.name} | ${ms.toFixed(0)} | ${(input.length / 1e6 / (ms / 1000)).toFixed(0)} | ${(out.length / 1024).toFixed(0)} | ${(out.length / input.length).toFixed(3)} | ${digests.size === 1 ? 'yes' : 'NO'} | ${c.gzip ? ([...digests][0] === pakoDigest ? 'yes' : 'no') : 'n/a (zstd)'} |`,
    );
  }
}
