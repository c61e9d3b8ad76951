import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fail, loadPlugin, type Plugin } from './plugin';

/**
 * The push half of tools/bench/supply-chain.sh: manifest-push
 * (publishProject) of every project of the clone that has all the arches,
 * unsigned and then signed + attested, each to a fresh loopback
 * docker-registry 2.8 (tools/services.sh), each followed by a re-push.
 * Prints tab-separated rows for the shell script to lay out.
 */
const plugin: Plugin = loadPlugin();
const { publishProject, parseArchList, runChecked, freePort } = plugin;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new plugin.MultiarchError(`${name} is not set.`, 'Run this through bash tools/bench/supply-chain.sh.');
  return value;
}

const repo = required('BENCH_REPO');
const clone = required('BENCH_CLONE');
const arches = parseArchList(required('BENCH_ARCHES').split(','));
const key = required('BENCH_KEY');
const services = join(repo, 'tools', 'services.sh');

/** Projects of the clone with an image for every arch measured. */
function projects(): string[] {
  const root = join(clone, 'dist', 'images');
  return readdirSync(root)
    .filter((p) => arches.every((arch) => existsSync(join(root, p, arch, 'image.json'))))
    .sort();
}

interface Round {
  seconds: number;
  bytes: number;
}

async function pushAll(host: string, names: string[], signed: boolean): Promise<Round> {
  const started = process.hrtime.bigint();
  let bytes = 0;
  for (const name of names) {
    const result = await publishProject({
      options: { registry: host, tags: ['bench'], arches: [...arches], ...(signed ? { signingKey: key } : {}) },
      project: { workspaceRoot: clone, name, root: `packages/${name}` },
      env: process.env,
      log: () => undefined,
    });
    bytes += (result.report?.bytesSent ?? 0) + (result.signing?.bytesUploaded ?? 0);
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
}

async function main(): Promise<void> {
  const names = projects();
  if (names.length === 0) throw new plugin.MultiarchError(`No project in ${clone}/dist/images has all of ${arches.join(', ')}.`, 'The build part of supply-chain.sh should have made them; see its log.');
  process.stdout.write(`projects\t${names.length}\nimages\t${names.length * arches.length}\n`);
  for (const signed of [false, true]) {
    const port = await freePort();
    await runChecked('bash', [services, 'start', 'registry', String(port)]);
    try {
      const host = `127.0.0.1:${port}`;
      const first = await pushAll(host, names, signed);
      const again = await pushAll(host, names, signed);
      const label = signed ? 'signed + attested' : 'unsigned';
      process.stdout.write(`row\t${label}\t${first.seconds.toFixed(2)}\t${first.bytes}\n`);
      process.stdout.write(`row\t${label}, re-push\t${again.seconds.toFixed(2)}\t${again.bytes}\n`);
    } finally {
      await runChecked('bash', [services, 'stop', 'registry', String(port)]);
    }
  }
}

main().catch(fail);
