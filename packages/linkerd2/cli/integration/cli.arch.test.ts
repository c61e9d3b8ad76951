/**
 * The linkerd CLI binary of one arch (dist/cross/linkerd2-cli/<arch>/linkerd,
 * it ships as a binary, not an image) against the controller image of the same
 * arch: `linkerd check` passes against a running controller and fails clearly
 * against a stopped one.
 *
 *   nx run linkerd2-cli:arch-integration --arch=arm64
 */
import { freePort, runBinary, startImage, testContext } from 'nx-multiarch/integration';

const ctx = testContext();

describe(`linkerd CLI for ${ctx.platform} (${ctx.runner})`, () => {
  it('reports the client platform it was built for', async () => {
    const result = await runBinary('linkerd', ['version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Client platform: ${ctx.platform}`);
  });

  it('passes `linkerd check` against the controller of the same arch, then fails once it is stopped', async () => {
    const port = await freePort();
    const controller = await startImage({ project: 'linkerd2-controller', env: { LINKERD2_CONTROLLER_ADDR: `127.0.0.1:${port}` } });
    await controller.waitForHttp(port, '/ready');
    const url = controller.url(port, '/').replace(/\/$/, '');

    const passed = await runBinary('linkerd', ['check', '--controller', url]);
    expect(passed.stderr).toBe('');
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain('√ controller is ready');
    expect(passed.stdout).toContain(`√ controller API reports its version: `);
    expect(passed.stdout).toContain(` on ${ctx.platform}\n`);
    expect(passed.stdout).toMatch(/√ controller API lists meshed workloads: \d+ workloads/);
    expect(passed.stdout).toContain('Status check results are √');

    await controller.stop();
    const failed = await runBinary('linkerd', ['check', '--controller', url, '--timeout', '2s']);
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toContain('× controller is ready');
    expect(failed.stdout).toContain('Status check results are ×');
    expect(failed.stderr).toContain(`127.0.0.1:${port}`);
  });
});
