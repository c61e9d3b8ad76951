import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import manifestPush from '../../src/executors/manifest-push/executor';
import type { ManifestPushOptions } from '../../src/publish/options';
import { publishProject } from '../../src/publish/publish-project';
import { RegistryClient } from '../../src/registry/client';
import { RegistryError } from '../../src/registry/errors';
import { captureOutput, fakeExecutorContext } from '../support/executor-context';
import { makeHtpasswd, makeServerPki, makeSigningPair, TestPki } from '../support/pki';
import { RegistryServer, startRegistry } from '../support/registry-server';
import { startTokenServer, TokenServer } from '../support/token-server';
import { writeTestImages } from '../support/test-images';

const PASSWORD = 'S3cret-pa55word!';
const WRONG = 'wrong-Pa55word-xyz';

/** Every file under a folder whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry);
    if ((await stat(path)).isFile() && (await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

function base64(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

/** The executor with the given environment in place for the call. */
async function runWithEnv(env: Record<string, string | undefined>, workspace: string, options: ManifestPushOptions) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    return await captureOutput(() => manifestPush(options, fakeExecutorContext(workspace, 'app', 'packages/app', 'manifest-push')));
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('htpasswd Basic auth over TLS with a CA the test makes', () => {
  let dir: string;
  let pki: TestPki;
  let registry: RegistryServer;
  let workspace: string;
  let dockerConfig: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-tls-'));
    pki = await makeServerPki(dir);
    await makeHtpasswd(join(dir, 'htpasswd'), { alice: PASSWORD });
    registry = await startRegistry(
      { tls: { certFile: pki.serverCert, keyFile: pki.serverKey }, htpasswdFile: join(dir, 'htpasswd') },
      await readFile(pki.caCert, 'utf8'),
    );
    workspace = join(dir, 'ws');
    await writeTestImages(workspace, 'app', ['amd64', 'arm64', 'arm']);
    dockerConfig = join(dir, 'docker');
    await mkdir(dockerConfig);
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: base64('alice', PASSWORD) } } }));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes over https with credentials from DOCKER_CONFIG and the CA from NX_MULTIARCH_REGISTRY_CA_FILE, printing no secret', async () => {
    const { result, output } = await runWithEnv(
      { DOCKER_CONFIG: dockerConfig, NX_MULTIARCH_REGISTRY_CA_FILE: pki.caCert, NX_MULTIARCH_REGISTRY: registry.host },
      workspace,
      { tags: 'tls1' },
    );
    expect(output).toMatch(/read back and verified/);
    expect(result).toEqual({ success: true });
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(base64('alice', PASSWORD));
    expect(await filesContaining(join(workspace, 'dist'), PASSWORD)).toEqual([]);
    const reader = new RegistryClient({ registry: registry.host, caFile: pki.caCert, auth: { username: 'alice', password: PASSWORD } });
    try {
      expect(reader.endpoint.origin).toBe(`https://${registry.host}`);
      expect(await reader.listTags('app')).toEqual(['tls1']);
    } finally {
      reader.close();
    }
  });

  it('refuses wrong credentials with a clear message that holds no secret', async () => {
    const { result, output } = await runWithEnv(
      { NX_MULTIARCH_REGISTRY_USERNAME: 'alice', NX_MULTIARCH_REGISTRY_PASSWORD: WRONG, NX_MULTIARCH_REGISTRY_CA_FILE: pki.caCert },
      workspace,
      { registry: registry.host, tags: 'bad' },
    );
    expect(result).toEqual({ success: false });
    expect(output).toMatch(new RegExp(`${registry.host.replace(/\./g, '\\.')} refused access to repository:app:pull,push as user "alice" \\(credentials from NX_MULTIARCH_REGISTRY_USERNAME/NX_MULTIARCH_REGISTRY_PASSWORD\\)`));
    expect(output).toMatch(/hint: Check the user name and password/);
    expect(output).not.toContain(WRONG);
    expect(output).not.toContain(base64('alice', WRONG));
  });

  it('asks for credentials when none are found', async () => {
    const c = new RegistryClient({ registry: registry.host, caFile: pki.caCert, env: { DOCKER_CONFIG: join(dir, 'nowhere') } });
    try {
      const error = await c.listTags('app').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).message).toMatch(/requires a user name and password, and none were found/);
      expect((error as RegistryError).hint).toMatch(/docker login/);
    } finally {
      c.close();
    }
  });

  it('says how to trust the registry when its CA is unknown', async () => {
    const c = new RegistryClient({ registry: `https://${registry.host}`, auth: 'anonymous', env: {}, certsDirs: [] });
    try {
      const error = (await c.ping().catch((e: unknown) => e)) as RegistryError;
      expect(error.message).toMatch(/TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
      expect(error.hint).toMatch(/NX_MULTIARCH_REGISTRY_CA_FILE/);
    } finally {
      c.close();
    }
  });

  it('says the registry speaks TLS when reached over plain http', async () => {
    const c = new RegistryClient({ registry: registry.host, auth: 'anonymous', env: {}, certsDirs: [] });
    try {
      expect(c.endpoint.origin).toBe(`http://${registry.host}`);
      const error = (await c.ping().catch((e: unknown) => e)) as RegistryError;
      expect(error.status).toBe(400);
      expect(error.hint).toMatch(/speaks TLS/);
    } finally {
      c.close();
    }
  });
});

describe('Bearer tokens from a token server the test runs', () => {
  let dir: string;
  let registry: RegistryServer;
  let tokens: TokenServer;
  let workspace: string;
  const service = 'nx-multiarch-test-registry';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-token-'));
    const signing = await makeSigningPair(dir);
    tokens = await startTokenServer({
      users: { bob: PASSWORD },
      refreshTokens: { 'refresh-abc-123': 'bob' },
      service,
      issuer: 'nx-multiarch-test-issuer',
      signingCert: signing.cert,
      signingKey: signing.key,
      firstGrantPullOnly: true,
    });
    registry = await startRegistry({ token: { realm: tokens.realm, service, issuer: 'nx-multiarch-test-issuer', rootCertBundle: signing.cert } });
    workspace = join(dir, 'ws');
    await writeTestImages(workspace, 'app', ['amd64', 'arm64', 'arm']);
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const push = (auth: ConstructorParameters<typeof RegistryClient>[0]['auth'], tag: string, repository = 'team/app') =>
    publishProject({
      options: { registry: registry.host, repository, tags: tag },
      project: { workspaceRoot: workspace, name: 'app', root: 'packages/app' },
      env: {},
      log: () => undefined,
      client: { auth },
    });

  it('pushes with a token scoped repository:<name>:pull,push, re-authenticating after a 401 for too narrow a token', async () => {
    const issuedBefore = tokens.issued;
    const { report } = await push({ username: 'bob', password: PASSWORD }, 'b1');
    expect(report?.verified).toBe(true);
    expect(report?.blobs.uploaded).toBe(7);
    // The first token granted pull only; the registry's 401 on the upload made the client fetch another.
    expect(tokens.issued - issuedBefore).toBe(2);
    const scopes = tokens.seen.filter((s) => s.includes('scope='));
    expect(scopes.join('\n')).not.toContain(PASSWORD);
  });

  it('trades an identity token (OAuth2 refresh token) for access tokens', async () => {
    const { report } = await push({ identityToken: 'refresh-abc-123' }, 'b2', 'team/app-idt');
    expect(report?.verified).toBe(true);
    expect(tokens.seen.some((s) => s.includes('grant_type=refresh_token') && s.includes('scope=repository%3Ateam%2Fapp-idt%3Apull%2Cpush'))).toBe(true);
  });

  it('refuses wrong credentials at the token service with a clear message and no secret', async () => {
    const error = (await push({ username: 'bob', password: WRONG }, 'b3').catch((e: unknown) => e)) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toMatch(/refused access to repository:team\/app:pull,push as user "bob".*token service .* answered 401/);
    expect(`${error.message} ${error.hint} ${error.stack}`).not.toContain(WRONG);
  });

  it('explains an anonymous push the registry refuses', async () => {
    const error = (await push('anonymous', 'b4').catch((e: unknown) => e)) as RegistryError;
    expect(error.message).toMatch(/refused access .* anonymously/);
    expect(error.hint).toMatch(/docker login/);
  });
});
