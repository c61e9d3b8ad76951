import { connect, createServer } from 'node:net';
import { fail, loadPlugin } from './plugin';

/**
 * One row of the integration bench: start-to-ready of the controller image
 * (median of 5 starts after a first, unpacking one) and the proxy image's
 * throughput to an echo server on this machine (median of 5 transfers of
 * 32 MiB after a warming one), through the plugin's test API as a test uses it (the images of the clone at CLONE).
 * Prints one JSON line.
 *
 *   integration-measure.ts CLONE ROW ARCH EMULATE(0|1) RUNNER WORK_DIR
 */
const TOTAL = 32 * 1024 * 1024;
const TRANSFER_LIMIT_MS = 120_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const secondsSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** Sends TOTAL bytes through the proxy to the echo server and waits for them all to come back. */
function echoTransfer(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 7);
    let got = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`proxy transfer took over ${TRANSFER_LIMIT_MS / 1000} s`));
    }, TRANSFER_LIMIT_MS);
    sock.on('connect', () => {
      let sent = 0;
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!sock.write(chunk)) {
            sock.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= TOTAL) {
        clearTimeout(timer);
        sock.destroy();
        resolve();
      }
    });
    sock.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function main(): Promise<void> {
  const [root, row, arch, emulate, runner, workDir] = process.argv.slice(2);
  const { useTestContext, startImage, freePort, stopAll, PLATFORMS, platformString, parseArchList } = loadPlugin();
  const [parsed] = parseArchList([arch]);
  if (runner !== 'qemu' && runner !== 'docker') throw new Error(`runner must be qemu or docker, not ${runner}`);
  await useTestContext({
    arch: parsed,
    platform: platformString(PLATFORMS[parsed].oci),
    runner,
    images: {},
    binaries: {},
    workDir,
    workspaceRoot: root,
    archGiven: arch,
    emulateHost: emulate === '1',
    testHostAddress: '127.0.0.1',
    readyTimeoutMs: 120_000,
  });
  const starts: number[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const t0 = process.hrtime.bigint();
    const controller = await startImage({ project: 'linkerd2-controller', env: { LINKERD2_CONTROLLER_ADDR: `127.0.0.1:${port}` } });
    await controller.waitForPort(port);
    const ms = secondsSince(t0) * 1000;
    await controller.stop();
    if (i > 0) starts.push(ms); // the first start also unpacks (qemu) or loads (docker) the image
  }
  // Upstream echo server on this machine; the proxy image in front of it.
  const upstreamPort = await freePort();
  const upstream = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve));
  const inbound = await freePort();
  const admin = await freePort();
  const proxy = await startImage({
    project: 'linkerd2-proxy-image',
    env: {
      LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `127.0.0.1:${inbound}`,
      LINKERD2_PROXY_INBOUND_FORWARD_ADDR: `127.0.0.1:${upstreamPort}`,
      LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `127.0.0.1:${admin}`,
    },
  });
  await proxy.waitForHttp(admin, '/ready');
  const rates: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = process.hrtime.bigint();
    await echoTransfer(inbound);
    // The first transfer warms the path (page cache, qemu's translated code) and is not counted.
    if (i > 0) rates.push(TOTAL / (1024 * 1024) / secondsSince(t0));
  }
  await proxy.stop();
  upstream.close();
  await stopAll();
  console.log(JSON.stringify({ row, startMs: median(starts), proxyMiBps: median(rates) }));
}

main().catch(fail);
