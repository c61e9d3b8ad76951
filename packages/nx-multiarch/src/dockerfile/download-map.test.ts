import { dockerfileUrls, downloadProducers, matchDownload, proposeDownloadMapping, validateDownloadMap } from './download-map';

const map = { 'linkerd2-proxy-*.tar.gz': 'linkerd2-proxy:cargo-cross', 'https://h.invalid/tools/*': 'tools:go-cross' };

describe('matchDownload', () => {
  it('matches a file-name pattern against the URL file name, and the package checksum with it', () => {
    const base = 'https://github.invalid/linkerd/releases/download/v2.1.0/linkerd2-proxy-v2.1.0-arm64';
    expect(matchDownload(`${base}.tar.gz`, map)).toEqual({ pattern: 'linkerd2-proxy-*.tar.gz', project: 'linkerd2-proxy', target: 'cargo-cross', role: 'package' });
    expect(matchDownload(`${base}.txt`, map)?.role).toBe('checksum');
    expect(matchDownload(`${base}.tar.gz.sha256`, map)?.role).toBe('checksum');
    expect(matchDownload('https://h.invalid/other-v1.tar.gz', map)).toBeUndefined();
  });

  it('matches a pattern with / against the whole URL', () => {
    expect(matchDownload('https://h.invalid/tools/x', map)?.project).toBe('tools');
    expect(matchDownload('https://h.invalid/other/x', map)).toBeUndefined();
  });

  it('lists the producers of the URLs written in a Dockerfile, each once', () => {
    const urls = dockerfileUrls('RUN curl -fsSLo p.tar.gz "$U/linkerd2-proxy-${V}-${TARGETARCH}.tar.gz" && curl -o p.txt https://h.invalid/linkerd2-proxy-${V}-${TARGETARCH}.txt');
    expect(urls).toEqual(['$U/linkerd2-proxy-${V}-${TARGETARCH}.tar.gz', 'https://h.invalid/linkerd2-proxy-${V}-${TARGETARCH}.txt']);
    expect(downloadProducers(['x/linkerd2-proxy-${V}.tar.gz', ...urls], map)).toEqual([{ project: 'linkerd2-proxy', target: 'cargo-cross' }]);
  });
});

describe('validateDownloadMap', () => {
  it('accepts pattern → project:target and refuses anything else with the shape to write', () => {
    expect(validateDownloadMap(map)).toEqual(map);
    expect(() => validateDownloadMap(['x'])).toThrow(/must be an object/);
    expect(() => validateDownloadMap({ 'x-*.tar.gz': 'x' })).toThrow(/downloads\["x-\*.tar.gz"\] must name "<project>:<target>"/);
  });
});

describe('proposeDownloadMapping (for import-repo)', () => {
  const projects = [
    { name: 'linkerd2', crossTarget: 'go-cross' },
    { name: 'linkerd2-proxy', crossTarget: 'cargo-cross' },
  ];
  it('proposes the longest project name the file is named after', () => {
    expect(proposeDownloadMapping('https://h.invalid/linkerd2-proxy-v2.1.0-amd64.tar.gz', projects)).toEqual({ pattern: 'linkerd2-proxy-*.tar.gz', target: 'linkerd2-proxy:cargo-cross' });
  });
  it('proposes nothing for a file no project is named after, or that is no package', () => {
    expect(proposeDownloadMapping('https://h.invalid/helm-v3-amd64.tar.gz', projects)).toBeUndefined();
    expect(proposeDownloadMapping('https://h.invalid/linkerd2-proxy-v2.1.0-amd64.txt', projects)).toBeUndefined();
  });
});
