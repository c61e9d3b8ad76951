/**
 * The controller image of one arch (NX_MULTIARCH_ARCH), started from its OCI
 * layout by the arch-integration runner: its entrypoint runs for that arch and
 * answers the control-plane API on a loopback port.
 *
 *   nx run linkerd2-controller:arch-integration --arch=arm64
 */
import { freePort, httpGet, runImage, startImage, testContext } from 'nx-multiarch/integration';

interface VersionInfo {
  version: string;
  platform: string;
}

interface WorkloadList {
  workloads: Array<{ namespace: string; kind: string; name: string; meshedPods: number; totalPods: number }>;
}

const ctx = testContext();

describe(`linkerd2-controller image on ${ctx.platform} (${ctx.runner})`, () => {
  it('prints its version for the platform under test', async () => {
    const result = await runImage({ args: ['--version'] });
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split(' ')).toEqual(['linkerd2-controller', expect.any(String), ctx.platform]);
  });

  it('answers /ready, /api/version, /api/v1/workloads and /metrics', async () => {
    const port = await freePort();
    // The image listens on 0.0.0.0:8085 for pods; the test gives it a free loopback port instead.
    const controller = await startImage({ env: { LINKERD2_CONTROLLER_ADDR: `127.0.0.1:${port}` } });
    await controller.waitForHttp(port, '/ready');

    const version = await httpGet(controller.url(port, '/api/version'));
    expect(version.status).toBe(200);
    expect(version.headers['content-type']).toMatch(/^application\/json/);
    expect((JSON.parse(version.body) as VersionInfo).platform).toBe(ctx.platform);

    const workloads = JSON.parse((await httpGet(controller.url(port, '/api/v1/workloads'))).body) as WorkloadList;
    expect(workloads.workloads).toContainEqual({ namespace: 'emojivoto', kind: 'deployment', name: 'web', meshedPods: 2, totalPods: 2 });
    expect(workloads.workloads.every((w) => w.meshedPods <= w.totalPods)).toBe(true);

    expect((await httpGet(controller.url(port, '/api/v1/nope'))).status).toBe(404);

    // Prometheus metrics from client_golang, cross-compiled with the rest: the build info names this arch,
    // and the requests above were counted.
    const metrics = await httpGet(controller.url(port, '/metrics'));
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(`linkerd_controller_build_info{platform="${ctx.platform}",`);
    expect(metrics.body).toMatch(/http_requests_total\{code="200",handler="\/api\/version",method="get"\} 1\n/);
    expect(metrics.body).toMatch(/http_requests_total\{code="404",handler="\/",method="get"\} 1\n/);

    // SIGTERM is a clean shutdown for the controller.
    expect(await controller.stop()).toEqual({ code: 0, signal: null });
  });

  it('refuses an unknown argument with a usage error, not a crash', async () => {
    const result = await runImage({ args: ['--no-such-flag'] });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('flag provided but not defined: -no-such-flag');
  });
});
