/**
 * The web (dashboard) image of one arch against the controller image of the
 * same arch, both started by the arch-integration runner: the dashboard shows
 * the controller's version, platform and workloads, and says so when the
 * controller goes away.
 *
 *   nx run linkerd2-web:arch-integration --arch=arm
 *
 * The controller image comes from dist/images/linkerd2-controller/<arch>/:
 * build it first (nx run linkerd2-controller:docker-arch-build --arch=<arch>).
 */
import { freePort, httpGet, runImage, startImage, testContext } from 'nx-multiarch/integration';

const ctx = testContext();

describe(`linkerd2-web image on ${ctx.platform} (${ctx.runner})`, () => {
  it('prints its version for the platform under test', async () => {
    const result = await runImage({ args: ['--version'] });
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split(' ')).toEqual(['linkerd2-web', expect.any(String), ctx.platform]);
  });

  it("serves the dashboard with the controller's data", async () => {
    const controllerPort = await freePort();
    const webPort = await freePort();
    const controller = await startImage({ project: 'linkerd2-controller', env: { LINKERD2_CONTROLLER_ADDR: `127.0.0.1:${controllerPort}` } });
    await controller.waitForHttp(controllerPort, '/ready');
    const web = await startImage({
      env: { LINKERD2_WEB_ADDR: `127.0.0.1:${webPort}`, LINKERD2_CONTROLLER_URL: controller.url(controllerPort, '/').replace(/\/$/, '') },
    });
    await web.waitForHttp(webPort, '/ready');

    const page = await httpGet(web.url(webPort, '/'));
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<h1>Linkerd dashboard</h1>');
    // The controller of the same arch reports its own platform, and the dashboard shows it.
    expect(page.body).toMatch(new RegExp(`Controller version <code>[^<]+</code> on <code>${ctx.platform.replace(/\//g, '\\/')}</code>`));
    expect(page.body).toContain('<tr><td>emojivoto</td><td>deployment</td><td>web</td><td>2/2</td></tr>');
    expect(page.body).toContain('<tr><td>linkerd</td><td>deployment</td><td>linkerd-controller</td><td>1/1</td></tr>');

    await controller.stop();
    const down = await httpGet(web.url(webPort, '/'));
    expect(down.body).toContain('Controller unavailable');
    expect(down.body).toContain(`127.0.0.1:${controllerPort}`);
    expect(await web.stop()).toEqual({ code: 0, signal: null });
  });
});
