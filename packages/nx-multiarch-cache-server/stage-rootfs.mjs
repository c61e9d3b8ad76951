#!/usr/bin/env node
// Stages the root filesystem of the cache-server image for each arch into
// dist/cache-server-rootfs/<arch>/, from which its Dockerfile copies:
//
//   system/usr/local/bin/node  Node.js for the arch, from the npm package
//                              node-linux-<arch> (pinned, integrity checked),
//                              the same binary nodejs.org ships
//   system/lib/, system/lib64/ the C and C++ runtime that binary links
//                              against, from Debian's cross packages
//                              (libc6-<arch>-cross, libstdc++6-<arch>-cross),
//                              or the system's own on a machine of the arch
//   system/app/                the plugin's command and the compiled modules
//                              the cache server loads (node: built-ins only)
//   data/                      the storage folder, /var/cache/nx in the image
//                              (copied owned by the server's user)
//
// Every file is a regular file (symlinks resolved), so the image's layer
// does not depend on how Debian links its libraries.
//
//   node packages/nx-multiarch-cache-server/stage-rootfs.mjs [arch...]
//
// With no arch given: the arches of the nx-multiarch plugin entry in nx.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const PLUGIN = join(ROOT, 'packages', 'nx-multiarch');
const OUT = join(ROOT, 'dist', 'cache-server-rootfs');
const DOWNLOADS = join(ROOT, '.cache', 'node-runtime');

/** One Node.js version for every arch: the newest the npm packages have for all five. */
const NODE_VERSION = '20.11.0';

/**
 * Per arch: the npm package's arch name and its integrity (from the
 * registry's metadata, pinned here so a changed tarball is refused), and
 * Debian's multiarch triplet, which names where its libraries live.
 */
const ARCHES = {
  amd64: { npm: 'x64', node: 'x64', integrity: 'sha512-bdmK6QGk2XzTtgeyalLbRZCs5y+2q1fisipZF/qN5LnkJIhBYJBa8EoxRBs17gzwSQtMRO0mxGOy9rDpsB4qDw==', triplet: 'x86_64-linux-gnu', debian: 'amd64' },
  arm64: { npm: 'arm64', node: 'arm64', integrity: 'sha512-Nf11PJjCVZLHPuBI4hfXREpFgFHUV1nxrx6ZwCFwWGBYEwfvk6aYYFG++5UAN3VXIdmLN6dbUTeFlWGVw6+vxg==', triplet: 'aarch64-linux-gnu', debian: 'arm64' },
  arm: { npm: 'armv7l', node: 'arm', integrity: 'sha512-pCMLAP35VPJjuaFFkZ8kN8xQmpjH/eBUiIznFyJROtzLpuXqV75xAB12Zloy6b45T0mgujHUAT4Jad9L2G9mYg==', triplet: 'arm-linux-gnueabihf', debian: 'armhf' },
  ppc64le: { npm: 'ppc64le', node: 'ppc64', integrity: 'sha512-yDYsy0btzM5Sl1qXqIncCAtUykZUvk+CloC7uwvWRwrQ5K8J4mEsgo36Hkec8Qa9QdEVLs2rHsUqn81At+dltA==', triplet: 'powerpc64le-linux-gnu', debian: 'ppc64el' },
  s390x: { npm: 's390x', node: 's390x', integrity: 'sha512-00F88i+9jVexpzxYBDrY+xXqeyU3XW1JhyoxGqSbnUbmcOzvYzSSjVxaQLdGHNtavZywN24058sjCq0rVMHzZw==', triplet: 's390x-linux-gnu', debian: 's390x' },
};

/**
 * Where the arch's libraries are on this machine: the system's own for its
 * arch (a native arm64 runner has no cross packages), else Debian's cross
 * packages (libc6-<arch>-cross, libstdc++6-<arch>-cross).
 */
function libDirs(arch) {
  const { triplet, node } = ARCHES[arch];
  const cross = [`/usr/${triplet}/lib`];
  return process.arch === node ? [`/lib/${triplet}`, `/usr/lib/${triplet}`, ...cross] : cross;
}

function fail(message, hint) {
  process.stderr.write(`stage-rootfs: ${message}\n  hint: ${hint}\n`);
  process.exit(1);
}

/** The package tarball, fetched once with the npm client (its configured registry) and checked. */
function nodeTarball(arch) {
  const { npm, integrity } = ARCHES[arch];
  const name = `node-linux-${npm}-${NODE_VERSION}.tgz`;
  const path = join(DOWNLOADS, name);
  if (!existsSync(path)) {
    mkdirSync(DOWNLOADS, { recursive: true });
    const work = join(DOWNLOADS, `.partial-${process.pid}`);
    mkdirSync(work, { recursive: true });
    try {
      execFileSync('npm', ['pack', `node-linux-${npm}@${NODE_VERSION}`, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
      renameSync(join(work, name), path);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const [algorithm, expected] = integrity.split('-');
  const actual = createHash(algorithm).update(readFileSync(path)).digest('base64');
  if (actual !== expected) {
    rmSync(path);
    fail(`${name} does not match its pinned integrity (${integrity}).`, 'Run again to download it afresh; if it still differs, the registry serves another file under that version.');
  }
  return path;
}

/** `readelf` facts of the node binary: its interpreter and the libraries it names. */
function dynamicNeeds(binary) {
  const headers = execFileSync('readelf', ['-lW', binary], { encoding: 'utf8' });
  const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(headers)?.[1];
  const dynamic = execFileSync('readelf', ['-dW', binary], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  if (!interp) fail(`${binary} names no ELF interpreter.`, 'The node binary is expected to be dynamically linked against glibc.');
  return { interp, needed };
}

function findLib(arch, name) {
  for (const dir of libDirs(arch)) {
    const path = join(dir, name);
    if (existsSync(path)) return realpathSync(path);
  }
  const { debian } = ARCHES[arch];
  return fail(`${name} for ${arch} is not in ${libDirs(arch).join(' or ')}.`, `Install Debian's cross runtime: apt-get install libc6-${debian}-cross libstdc++6-${debian}-cross (on a machine of that arch: libc6 and libstdc++6).`);
}

function copyFile(from, to, mode) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}

/** The compiled modules `nx-multiarch cache-server` loads, found by following its require() calls. */
function cacheServerModules() {
  const start = join(PLUGIN, 'dist', 'cache-server', 'cli.js');
  if (!existsSync(start)) fail('the compiled plugin is missing (packages/nx-multiarch/dist).', 'Build it first: npm run build:plugin (nx run nx-multiarch:build).');
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // `await import()` compiles to this; such a module loads only when used (docker-config's
    // credential helpers, which the image has none of), so it is not shipped.
    const lazy = new Set([...text.matchAll(/Promise\.resolve\(\)\.then\(\(\) => __importStar\(require\(["']([^"']+)["']\)\)\)/g)].map((m) => m[1]));
    for (const match of text.matchAll(/require\(["']([^"']+)["']\)/g)) {
      const request = match[1];
      if (lazy.has(request)) continue;
      if (request.startsWith('.')) visit(`${resolve(dirname(file), request)}.js`);
      else if (!request.startsWith('node:')) fail(`${relative(ROOT, file)} requires "${request}", which the image does not ship.`, 'The cache server may load Node.js built-ins only (node:...); keep it free of npm dependencies.');
    }
  };
  visit(start);
  return [...seen].sort();
}

function stage(arch, modules) {
  const out = join(OUT, arch);
  const work = `${out}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const unpack = join(tmpdir(), `nxm-node-${arch}-${process.pid}`);
  mkdirSync(unpack, { recursive: true });
  try {
    execFileSync('tar', ['-xzf', nodeTarball(arch), '-C', unpack, 'package/bin/node']);
    const node = join(unpack, 'package', 'bin', 'node');
    const system = join(work, 'system');
    copyFile(node, join(system, 'usr', 'local', 'bin', 'node'), 0o755);
    const { interp, needed } = dynamicNeeds(node);
    copyFile(findLib(arch, interp.split('/').pop()), join(system, interp.replace(/^\//, '')), 0o755);
    for (const name of needed) copyFile(findLib(arch, name), join(system, 'lib', ARCHES[arch].triplet, name), 0o644);
    copyFile(join(PLUGIN, 'bin', 'nx-multiarch.js'), join(system, 'app', 'bin', 'nx-multiarch.js'), 0o755);
    for (const file of modules) copyFile(file, join(system, 'app', relative(PLUGIN, file)), 0o644);
    // The storage folder, so a volume mounted there starts owned by the image's user (the Dockerfile chowns it).
    mkdirSync(join(work, 'data'), { recursive: true });
    writeFileSync(join(work, 'data', '.keep'), '');
    rmSync(out, { recursive: true, force: true });
    renameSync(work, out);
    process.stdout.write(`stage-rootfs: ${relative(ROOT, out)}: node ${NODE_VERSION}, ${needed.length + 1} libraries, ${modules.length} modules\n`);
  } finally {
    rmSync(unpack, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

function pluginArches() {
  const nxJson = JSON.parse(readFileSync(join(ROOT, 'nx.json'), 'utf8'));
  const entry = (nxJson.plugins ?? []).find((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-multiarch');
  return (typeof entry === 'object' && entry.options?.arches) || [];
}

const wanted = process.argv.length > 2 ? process.argv.slice(2) : pluginArches();
if (wanted.length === 0) fail('no arch given.', `Pass one or more of: ${Object.keys(ARCHES).join(' ')}.`);
for (const arch of wanted) if (!ARCHES[arch]) fail(`unsupported arch "${arch}".`, `Use one of: ${Object.keys(ARCHES).join(' ')} (riscv64: no Node.js package).`);
const modules = cacheServerModules();
for (const arch of wanted) stage(arch, modules);
