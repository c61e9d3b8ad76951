import { withoutMirror } from './apt';
import { chosenAlternatives, classifyScript } from './maintainer-scripts';
import { statusStanza } from './install';

/** The shape of Debian bookworm's iptables postinst (trimmed to two alternatives). */
const IPTABLES_POSTINST = `#!/bin/sh

set -e

if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then
\tupdate-alternatives \\
\t  --install /usr/sbin/iptables iptables /usr/sbin/iptables-legacy 10 \\
\t  --slave /usr/sbin/iptables-restore iptables-restore /usr/sbin/iptables-legacy-restore
        update-alternatives \\
          --install /usr/sbin/iptables iptables /usr/sbin/iptables-nft 20 \\
          --slave /usr/sbin/iptables-restore iptables-restore /usr/sbin/iptables-nft-restore
fi
`;

describe('maintainer scripts', () => {
  it('accepts a postinst of update-alternatives only, and the highest priority wins', () => {
    const verdict = classifyScript(IPTABLES_POSTINST);
    expect(verdict.ok).toBe(true);
    const chosen = chosenAlternatives(verdict.ok ? verdict.alternatives : []);
    expect(chosen).toEqual([
      {
        name: 'iptables',
        link: '/usr/sbin/iptables',
        path: '/usr/sbin/iptables-nft',
        priority: 20,
        slaves: [{ name: 'iptables-restore', link: '/usr/sbin/iptables-restore', path: '/usr/sbin/iptables-nft-restore' }],
      },
    ]);
  });

  it('accepts ldconfig and the usual case structure', () => {
    expect(classifyScript('#!/bin/sh\nset -e\ncase "$1" in\n  configure)\n    ldconfig\n  ;;\nesac\nexit 0\n')).toEqual({ ok: true, alternatives: [] });
  });

  it('refuses a script that does other work, quoting it', () => {
    expect(classifyScript('#!/bin/sh\nset -e\nadduser --system proxy\n')).toEqual({ ok: false, reason: 'it runs "adduser --system proxy"' });
  });
});

describe('statusStanza', () => {
  it("puts dpkg's installed status after Package, keeping the control fields", () => {
    expect(statusStanza('Package: libmnl0\nSource: libmnl\nVersion: 1.0.4-3\nArchitecture: arm64')).toBe(
      'Package: libmnl0\nStatus: install ok installed\nSource: libmnl\nVersion: 1.0.4-3\nArchitecture: arm64\n',
    );
  });
});

describe('withoutMirror', () => {
  it("takes the mirror's address and IP out of apt's messages", () => {
    expect(withoutMirror('E: Failed to fetch http://mirror.example/debian/dists/x/Packages.xz  File has unexpected size (1 != 2). Mirror sync in progress? [IP: 192.0.2.1 80]')).toBe(
      'E: Failed to fetch <mirror>/debian/dists/x/Packages.xz  File has unexpected size (1 != 2). Mirror sync in progress?',
    );
  });
});
