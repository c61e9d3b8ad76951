import { MultiarchError } from '../errors';
import { parseCapabilityText, parseRunIdioms, readRunIdioms } from './run-idioms';

const vars: Record<string, string> = { TARGETARCH: 'arm64', BIN: '/usr/lib/linkerd/linkerd2-proxy-init' };
const steps = (command: string | string[], workdir = '/') => parseRunIdioms({ line: 7, command, lookup: (n) => vars[n], escape: '\\', workdir });

describe('parseRunIdioms', () => {
  it("reads proxy-init's runtime RUN: chained steps, quotes, variables, setcap pairs", () => {
    const result = steps(
      'apt-get update && apt-get install -y --no-install-recommends iptables \\\n  && touch /run/xtables.lock && chmod 0666 /run/xtables.lock \\\n  && setcap cap_net_raw,cap_net_admin+eip /usr/sbin/xtables-legacy-multi "cap_net_raw,cap_net_admin+eip" $BIN',
    );
    expect(result.map((s) => s.kind)).toEqual(['noop', 'apt-install', 'touch', 'chmod', 'setcap']);
    expect(result[1]).toEqual({ kind: 'apt-install', packages: ['iptables'], installRecommends: false });
    expect(result[3]).toEqual({ kind: 'chmod', mode: '0666', paths: ['/run/xtables.lock'] });
    const setcap = result[4];
    expect(setcap.kind === 'setcap' && setcap.files.map((f) => f.path)).toEqual(['/usr/sbin/xtables-legacy-multi', '/usr/lib/linkerd/linkerd2-proxy-init']);
  });

  it('resolves relative paths against WORKDIR and keeps a symlink target as written', () => {
    expect(steps('mkdir -p a/b && ln -sf ../lib/x y', '/srv')).toEqual([
      { kind: 'mkdir', paths: ['/srv/a/b'], parents: true },
      { kind: 'ln', symbolic: true, force: true, target: '../lib/x', link: '/srv/y' },
    ]);
  });

  it('takes apt-get install without --no-install-recommends as installing recommends, and cache cleanup as a no-op', () => {
    expect(steps('apt-get install -qq curl=7.88.1-10 && apt-get clean && rm -rf /var/lib/apt/lists/*')).toEqual([
      { kind: 'apt-install', packages: ['curl=7.88.1-10'], installRecommends: true },
      { kind: 'noop', command: 'apt-get clean' },
      { kind: 'noop', command: 'rm -rf /var/lib/apt/lists/*' },
    ]);
  });

  it('refuses apk with the Debian way out, naming the line', () => {
    let error: unknown;
    try {
      steps('apk add iptables libcap');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MultiarchError);
    expect((error as MultiarchError).message).toMatch(/^Line 7: RUN apk add iptables libcap: apk installs Alpine packages/);
    expect((error as MultiarchError).message).toContain('apt-get install -y --no-install-recommends');
  });

  it.each([
    ['make install', 'make is a program that would have to run on the target platform'],
    ['curl -fsSL x | sh', 'a pipe or ||'],
    ['echo hi > /etc/motd', 'a redirection'],
    ['touch $(date)', 'command substitution'],
    ['chmod +x /bin/*', 'is a glob'],
    ['rm -rf /usr', 'rm is only supported'],
    ['setcap cap_net_raw+ep', 'pairs of <caps> <file>'],
    ['setcap cap_bogus+ep /x', '"cap_bogus" is not a Linux capability'],
  ])('refuses %s with the reason and the ways out', (command, reason) => {
    expect(() => steps(command)).toThrow(reason);
    try {
      steps(command);
    } catch (e) {
      expect((e as MultiarchError).hint).toMatch(/supported idioms.*cross target.*engine "docker"/);
    }
  });

  it('leaves a package install over a base image to a container (the native engine installs only FROM scratch)', () => {
    const input = { line: 2, command: 'apt-get install -y curl', lookup: () => undefined, escape: '\\', workdir: '/' };
    expect(readRunIdioms({ ...input, fromScratch: false })).toEqual({ reason: expect.stringContaining('only in a stage FROM scratch') });
    expect(readRunIdioms({ ...input, command: 'touch /x', fromScratch: false })).toEqual({ steps: [{ kind: 'touch', paths: ['/x'] }] });
  });
});

describe('parseCapabilityText', () => {
  it('reads libcap text: +eip on two capabilities', () => {
    // cap_net_admin is 12, cap_net_raw 13.
    expect(parseCapabilityText('cap_net_raw,cap_net_admin+eip')).toEqual({
      permitted: { low: 0x3000, high: 0 },
      inheritable: { low: 0x3000, high: 0 },
      effective: true,
    });
  });

  it('reads =ep, and capabilities above 31 go into the high word', () => {
    expect(parseCapabilityText('cap_bpf,cap_perfmon=ep')).toEqual({ permitted: { low: 0, high: 0b11 << 6 }, inheritable: { low: 0, high: 0 }, effective: true });
    expect(parseCapabilityText('cap_net_bind_service+p')).toEqual({ permitted: { low: 1 << 10, high: 0 }, inheritable: { low: 0, high: 0 }, effective: false });
  });
});
