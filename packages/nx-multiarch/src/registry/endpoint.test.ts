import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackHost, resolveEndpoint } from './endpoint';

describe('resolveEndpoint', () => {
  const env = {} as NodeJS.ProcessEnv;
  const none: string[] = [];

  it('uses https by default and plain http for loopback registries', () => {
    expect(resolveEndpoint({ registry: 'ghcr.io', env, certsDirs: none }).origin).toBe('https://ghcr.io');
    expect(resolveEndpoint({ registry: '127.0.0.1:5000', env, certsDirs: none }).origin).toBe('http://127.0.0.1:5000');
    expect(resolveEndpoint({ registry: '127.1.2.3:5000', env, certsDirs: none }).origin).toBe('http://127.1.2.3:5000');
    expect(resolveEndpoint({ registry: 'localhost:5000', env, certsDirs: none }).origin).toBe('http://localhost:5000');
    expect(resolveEndpoint({ registry: '[::1]:5000', env, certsDirs: none }).origin).toBe('http://[::1]:5000');
    expect(resolveEndpoint({ registry: '128.0.0.1:5000', env, certsDirs: none }).origin).toBe('https://128.0.0.1:5000');
  });

  it('uses http for listed insecure registries (option or environment) and honours an explicit scheme', () => {
    expect(resolveEndpoint({ registry: 'reg.test:5000', insecureRegistries: ['reg.test:5000'], env, certsDirs: none }).origin).toBe('http://reg.test:5000');
    expect(resolveEndpoint({ registry: 'reg.test', env: { NX_MULTIARCH_INSECURE_REGISTRIES: 'a, reg.test' }, certsDirs: none }).origin).toBe('http://reg.test');
    expect(resolveEndpoint({ registry: 'https://127.0.0.1:5000', env, certsDirs: none }).origin).toBe('https://127.0.0.1:5000');
    expect(resolveEndpoint({ registry: 'http://reg.test', env, certsDirs: none }).origin).toBe('http://reg.test');
  });

  it('uses https with the CA from certs.d/<host>/ca.crt, even on loopback', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nxm-certs-'));
    try {
      await mkdir(join(dir, '127.0.0.1:5443'));
      await writeFile(join(dir, '127.0.0.1:5443', 'ca.crt'), 'PEM-CA');
      const endpoint = resolveEndpoint({ registry: '127.0.0.1:5443', env, certsDirs: [dir] });
      expect(endpoint.origin).toBe('https://127.0.0.1:5443');
      expect(endpoint.tls.ca).toContain('PEM-CA');
      // The system roots stay trusted beside the custom CA.
      expect((endpoint.tls.ca ?? []).length).toBeGreaterThan(1);
      const viaEnv = resolveEndpoint({ registry: '127.0.0.1:9', env: { NX_MULTIARCH_REGISTRY_CA_FILE: join(dir, '127.0.0.1:5443', 'ca.crt') }, certsDirs: none });
      expect(viaEnv.origin).toBe('https://127.0.0.1:9');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing CA file and a host with a path', () => {
    expect(() => resolveEndpoint({ registry: 'r.io', caFile: '/nonexistent/ca.pem', env, certsDirs: none })).toThrow(/Cannot read the CA file/);
    expect(() => resolveEndpoint({ registry: 'r.io/prefix', env, certsDirs: none })).toThrow(/Not a registry host/);
  });

  it('knows loopback names', () => {
    expect(['localhost', '127.0.0.1:1', '[::1]:5000', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', 'example.com', '[::2]:5000'].some(isLoopbackHost)).toBe(false);
  });
});
