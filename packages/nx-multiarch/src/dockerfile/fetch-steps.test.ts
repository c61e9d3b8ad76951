import { addUrlStep, recogniseFetchRun, unmappedDownloadError } from './fetch-steps';

const vars: Record<string, string> = { VERSION: 'v2.1.0', TARGETARCH: 'arm64', URL: 'https://example.invalid/releases' };
const lookup = (name: string) => vars[name];

describe('recogniseFetchRun', () => {
  it("reads Linkerd's proxy fetch: two curls, sha256sum -c, tar with --strip-components", () => {
    const run = `curl -fsSLo proxy.tar.gz "$URL/linkerd2-proxy-\${VERSION}-\${TARGETARCH}.tar.gz" \\
 && curl -fsSLo proxy.txt $URL/linkerd2-proxy-\${VERSION}-\${TARGETARCH}.txt \\
 && sha256sum -c proxy.txt && mkdir -p /opt/proxy && tar -C /opt/proxy -xzf proxy.tar.gz --strip-components=1 && rm -f proxy.tar.gz proxy.txt`;
    const result = recogniseFetchRun(run, '/build', lookup);
    expect(result).toEqual({
      kind: 'fetch',
      urls: ['https://example.invalid/releases/linkerd2-proxy-v2.1.0-arm64.tar.gz', 'https://example.invalid/releases/linkerd2-proxy-v2.1.0-arm64.txt'],
      steps: [
        { op: 'download', url: 'https://example.invalid/releases/linkerd2-proxy-v2.1.0-arm64.tar.gz', to: '/build/proxy.tar.gz' },
        { op: 'download', url: 'https://example.invalid/releases/linkerd2-proxy-v2.1.0-arm64.txt', to: '/build/proxy.txt' },
        { op: 'sha256-check', listFile: '/build/proxy.txt', cwd: '/build' },
        { op: 'mkdir', path: '/opt/proxy' },
        { op: 'extract', archive: '/build/proxy.tar.gz', dir: '/opt/proxy', strip: 1, members: [] },
        { op: 'remove', path: '/build/proxy.tar.gz' },
        { op: 'remove', path: '/build/proxy.txt' },
      ],
    });
  });

  it('reads wget -O, curl -O, an inline checksum piped into sha256sum -c, and old-style tar flags', () => {
    const hex = 'a'.repeat(64);
    const result = recogniseFetchRun(`cd /tmp; wget -q -O x.tgz https://h.invalid/x-1.tgz; curl -fsSLO https://h.invalid/y.tar.gz; echo "${hex}  x.tgz" | sha256sum -c -; tar xzf x.tgz`, '/', lookup);
    expect(result.kind).toBe('fetch');
    expect(result.kind === 'fetch' && result.steps).toEqual([
      { op: 'download', url: 'https://h.invalid/x-1.tgz', to: '/tmp/x.tgz' },
      { op: 'download', url: 'https://h.invalid/y.tar.gz', to: '/tmp/y.tar.gz' },
      { op: 'sha256-inline', sha256: hex, file: '/tmp/x.tgz' },
      { op: 'extract', archive: '/tmp/x.tgz', dir: '/tmp', strip: 0, members: [] },
    ]);
  });

  it('leaves a RUN without a download to other readers', () => {
    expect(recogniseFetchRun('apk add --no-cache iptables', '/', lookup)).toEqual({ kind: 'none' });
  });

  it.each([
    ['curl -fsSL https://h.invalid/install.sh | sh', /the download is piped into "sh"/],
    ['curl -fsSL https://h.invalid/x.tar.gz | tar -xz', /the download is piped into "tar -xz"/],
    ['curl -fsSLo x.tar.gz https://h.invalid/x.tar.gz && cat x.tar.gz | tar -xz', /cat is not part of the download idiom/],
    ['curl -fsSLo x $(cat url.txt)', /\$\(…\)/],
    ['curl -fsSLo x.tar.gz https://h.invalid/x.tar.gz && make install', /make is not part of the download idiom/],
    ['curl -fsSL https://h.invalid/x.tar.gz', /standard output/],
    ['curl -fsSLo x https://h.invalid/x || true', /\|\|/],
  ])('refuses %s, saying why', (run, reason) => {
    const result = recogniseFetchRun(run, '/', lookup);
    expect(result.kind).toBe('refused');
    expect(result.kind === 'refused' && result.reason).toMatch(reason);
  });
});

describe('ADD <url> and the refusal of what nothing maps', () => {
  it('downloads into a folder under the URL file name, or to the file named', () => {
    expect(addUrlStep('https://h.invalid/a/b-1.tar.gz', '/opt/', true)).toEqual({ op: 'download', url: 'https://h.invalid/a/b-1.tar.gz', to: '/opt/b-1.tar.gz' });
    expect(addUrlStep('https://h.invalid/a/b-1.tar.gz', '/opt/b.tgz', false)).toMatchObject({ to: '/opt/b.tgz' });
  });

  it('names the line, the URL and the downloads entry to add', () => {
    const error = unmappedDownloadError(7, 'https://h.invalid/linkerd2-proxy-v2.1.0-arm64.tar.gz', 'packages/p/Dockerfile');
    expect(error.message).toBe(
      'packages/p/Dockerfile line 7 downloads https://h.invalid/linkerd2-proxy-v2.1.0-arm64.tar.gz, which no downloads entry maps to a workspace target; the native engine does not download at build time.',
    );
    expect(error.hint).toContain('"downloads": { "linkerd2-proxy-*.tar.gz": "<project>:<cargo-cross|go-cross>" }');
    expect(error.hint).toContain('engine "docker"');
  });
});
