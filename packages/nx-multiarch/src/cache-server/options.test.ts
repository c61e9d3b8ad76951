import { MultiarchError } from '../errors';
import { DEFAULT_HOST, DEFAULT_PORT, parseCacheServerArgs } from './options';
import { parseSize } from './size';
import { parseStorageLocation } from './storage-url';

describe('parseStorageLocation', () => {
  it('reads file:// paths, absolute or relative to the working folder', () => {
    expect(parseStorageLocation('file:///srv/nx-cache', '/srv/workspace')).toEqual({ kind: 'file', dir: '/srv/nx-cache' });
    expect(parseStorageLocation('file://./cache', '/srv/workspace')).toEqual({ kind: 'file', dir: '/srv/workspace/cache' });
  });

  it('reads oci://host:port/repository', () => {
    expect(parseStorageLocation('oci://127.0.0.1:5000/nx-cache')).toEqual({ kind: 'oci', registry: '127.0.0.1:5000', repository: 'nx-cache' });
    expect(parseStorageLocation('oci://registry.example.com/team/nx-cache/')).toEqual({
      kind: 'oci',
      registry: 'registry.example.com',
      repository: 'team/nx-cache',
    });
  });

  it('names the problem and the fix for anything else', () => {
    for (const bad of ['s3://bucket', '/srv/cache', 'file://', 'oci://127.0.0.1:5000', 'oci://127.0.0.1:5000/Upper', 'oci://host:99999/x']) {
      expect(() => parseStorageLocation(bad)).toThrow(MultiarchError);
    }
  });
});

describe('parseSize', () => {
  it('takes bytes and units of 1000 and 1024', () => {
    expect(parseSize('1048576', '--max-entry-size')).toBe(1048576);
    expect(parseSize('500MB', '--max-entry-size')).toBe(500_000_000);
    expect(parseSize('2GiB', '--max-entry-size')).toBe(2 * 1024 ** 3);
    expect(parseSize('1.5k', '--max-entry-size')).toBe(1500);
  });

  it('refuses what is not a size', () => {
    for (const bad of ['', 'lots', '-1', '0', '2TB', '1e9']) expect(() => parseSize(bad, '--max-entry-size')).toThrow(MultiarchError);
  });
});

describe('parseCacheServerArgs', () => {
  it('fills defaults: loopback, the default port, 2 GiB entries', () => {
    const parsed = parseCacheServerArgs(['--storage', 'file:///srv/c', '--read-write-token-env', 'RW'], '/');
    expect(parsed).toEqual({
      help: false,
      options: {
        storage: { kind: 'file', dir: '/srv/c' },
        host: DEFAULT_HOST,
        port: DEFAULT_PORT,
        tokens: { readWriteEnv: 'RW', readWriteFile: undefined, readOnlyEnv: undefined, readOnlyFile: undefined },
        maxEntryBytes: 2 * 1024 ** 3,
        tempDir: undefined,
        insecureRegistry: false,
        limits: { maxActive: 64, maxQueued: 1024, maxMemoryBytes: undefined, retryAfterSeconds: 1 },
      },
    });
  });

  it('reads the request and memory caps', () => {
    const parsed = parseCacheServerArgs(['--storage', 'file:///c', '--max-concurrent-requests', '8', '--max-queued-requests', '0', '--max-memory', '512MiB']);
    expect(parsed.help === false && parsed.options.limits).toEqual({ maxActive: 8, maxQueued: 0, maxMemoryBytes: 512 * 1024 ** 2, retryAfterSeconds: 1 });
  });

  it('answers --help without needing anything else', () => {
    expect(parseCacheServerArgs(['--help'])).toEqual({ help: true });
  });

  it('refuses unknown options, a missing --storage, a bad port and half a TLS pair', () => {
    const cases = [
      ['--storage', 'file:///x', '--token', 'abc'],
      ['--port', '80'],
      ['--storage', 'file:///x', '--port', 'http'],
      ['--storage', 'file:///x', '--port', '70000'],
      ['--storage', 'file:///x', '--tls-cert', 'c.pem'],
      ['--storage', 'file:///x', '--max-concurrent-requests', '0'],
      ['--storage', 'file:///x', '--max-queued-requests', 'many'],
      ['--storage', 'file:///x', '--max-memory', 'lots'],
    ];
    for (const argv of cases) {
      let caught: unknown;
      try {
        parseCacheServerArgs(argv);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MultiarchError);
      expect((caught as MultiarchError).hint).toBeTruthy();
    }
  });
});
