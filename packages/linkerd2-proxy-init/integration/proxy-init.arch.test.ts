/**
 * The proxy-init image of one arch, run by the arch-integration runner:
 * `--simulate` prints the iptables-restore input for the flags given, the same
 * rules on every arch.
 *
 *   nx run linkerd2-proxy-init:arch-integration --arch=arm
 */
import { runImage, testContext } from 'nx-multiarch/integration';

const ctx = testContext();

/** The rules Linkerd's proxy-init writes for these flags: inbound to 4143 except 4190-4191 and 9090, outbound to 4140 except the proxy's own uid, loopback, 25, 443 and 3306-3307. */
const EXPECTED_RULES = [
  '*nat',
  ':PROXY_INIT_REDIRECT - [0:0]',
  ':PROXY_INIT_OUTPUT - [0:0]',
  '-A PROXY_INIT_REDIRECT -p tcp -m multiport --dports 4190:4191,9090 -j RETURN -m comment --comment "proxy-init/ignore-inbound-ports"',
  '-A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143 -m comment --comment "proxy-init/redirect-all-incoming-to-proxy-port"',
  '-A PREROUTING -j PROXY_INIT_REDIRECT -m comment --comment "proxy-init/install-proxy-init-prerouting"',
  '-A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -j RETURN -m comment --comment "proxy-init/ignore-proxy-user-id"',
  '-A PROXY_INIT_OUTPUT -o lo -j RETURN -m comment --comment "proxy-init/ignore-loopback"',
  '-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 25,443,3306:3307 -j RETURN -m comment --comment "proxy-init/ignore-outbound-ports"',
  '-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 4140 -m comment --comment "proxy-init/redirect-all-outgoing-to-proxy-port"',
  '-A OUTPUT -j PROXY_INIT_OUTPUT -m comment --comment "proxy-init/install-proxy-init-output"',
  'COMMIT',
  '',
].join('\n');

describe(`linkerd2-proxy-init image on ${ctx.platform} (${ctx.runner})`, () => {
  it('prints its version for the platform under test', async () => {
    const result = await runImage({ args: ['--version'] });
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split(' ')).toEqual(['linkerd2-proxy-init', expect.any(String), ctx.platform]);
  });

  it('--simulate prints the expected rules for a set of flags', async () => {
    const result = await runImage({
      args: [
        '--simulate',
        '--incoming-proxy-port=4143',
        '--outgoing-proxy-port=4140',
        '--proxy-uid=2102',
        '--inbound-ports-to-ignore=4190-4191,9090',
        '--outbound-ports-to-ignore=25,443,3306-3307',
      ],
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(EXPECTED_RULES);
  });

  it('splits ignored ports over several multiport rules of at most 15 ports each', async () => {
    const ports = Array.from({ length: 20 }, (_, i) => 8000 + i);
    const result = await runImage({ args: ['--simulate', `--outbound-ports-to-ignore=${ports.join(',')}`] });
    expect(result.code).toBe(0);
    const groups = result.stdout
      .split('\n')
      .filter((line) => line.includes('proxy-init/ignore-outbound-ports'))
      .map((line) => (/--dports (\S+)/.exec(line)?.[1] ?? '').split(','));
    expect(groups.length).toBe(2);
    expect(groups.every((g) => g.length <= 15)).toBe(true);
    expect(groups.flat().map(Number)).toEqual(ports);
  });

  it('refuses a port out of range with a usage error naming the flag', async () => {
    const result = await runImage({ args: ['--simulate', '--inbound-ports-to-ignore=70000'] });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--inbound-ports-to-ignore: bad port range "70000": port 70000 is out of range (want 1-65535)');
  });
});
