import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { resolveCredentials } from './credentials';
import { credentialsFromDockerConfig, normalizeAuthKey } from './docker-config';

describe("credentials from Docker's config.json and the environment", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const writeConfig = (config: object) => writeFile(join(dir, 'config.json'), JSON.stringify(config));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxm-dockercfg-'));
    // A fake credential helper: answers for one server, "not found" for the rest, and records what it was asked.
    const helper = join(dir, 'docker-credential-fake');
    await writeFile(
      helper,
      [
        '#!/bin/sh',
        'read server',
        `echo "$1 $server" >> "${join(dir, 'helper.log')}"`,
        'if [ "$server" = "127.0.0.1:5000" ]; then',
        '  echo \'{"ServerURL":"127.0.0.1:5000","Username":"helper-user","Secret":"helper-secret"}\'',
        'elif [ "$server" = "token.example" ]; then',
        '  echo \'{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-me"}\'',
        'else',
        '  echo "credentials not found in native keychain"; exit 1',
        'fi',
      ].join('\n'),
    );
    await chmod(helper, 0o755);
    env = { DOCKER_CONFIG: dir, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('decodes auths entries in any key spelling: base64 auth, username/password, identitytoken', async () => {
    await writeConfig({
      auths: {
        'https://reg.example.com/v1/': { auth: Buffer.from('alice:pa:ss').toString('base64') },
        'http://other.example': { username: 'bob', password: 'pw' },
        'idt.example': { identitytoken: 'refresh' },
      },
    });
    expect(await credentialsFromDockerConfig('reg.example.com', env)).toMatchObject({ username: 'alice', password: 'pa:ss' });
    expect(await credentialsFromDockerConfig('other.example', env)).toMatchObject({ username: 'bob', password: 'pw' });
    expect(await credentialsFromDockerConfig('idt.example', env)).toMatchObject({ identityToken: 'refresh' });
    expect(await credentialsFromDockerConfig('unknown.example', env)).toBeUndefined();
  });

  it('asks the per-registry helper (server on stdin) before inline auths, and reads <token> as an identity token', async () => {
    await writeConfig({
      credHelpers: { '127.0.0.1:5000': 'fake', 'token.example': 'fake' },
      auths: { '127.0.0.1:5000': { auth: Buffer.from('inline:nope').toString('base64') } },
    });
    expect(await credentialsFromDockerConfig('127.0.0.1:5000', env)).toMatchObject({ username: 'helper-user', password: 'helper-secret', source: 'docker-credential-fake' });
    expect(await credentialsFromDockerConfig('token.example', env)).toMatchObject({ identityToken: 'refresh-me' });
  });

  it('falls back to credsStore, and treats "not found" as anonymous', async () => {
    await writeConfig({ credsStore: 'fake', auths: { '127.0.0.1:5000': {} } });
    expect(await credentialsFromDockerConfig('127.0.0.1:5000', env)).toMatchObject({ username: 'helper-user' });
    expect(await credentialsFromDockerConfig('elsewhere.example', env)).toBeUndefined();
  });

  it('names a missing helper and how to fix it', async () => {
    await writeConfig({ credHelpers: { 'r.example': 'absent' } });
    await expect(credentialsFromDockerConfig('r.example', env)).rejects.toThrow(/docker-credential-absent could not be run/);
  });

  it('prefers the environment variables to Docker config, and explicit options to both', async () => {
    await writeConfig({ auths: { 'r.example': { username: 'cfg', password: 'cfg' } } });
    const withEnv = { ...env, NX_MULTIARCH_REGISTRY_USERNAME: 'envuser', NX_MULTIARCH_REGISTRY_PASSWORD: 'envpw' };
    expect(await resolveCredentials('r.example', undefined, withEnv)).toMatchObject({ username: 'envuser', password: 'envpw' });
    expect(await resolveCredentials('r.example', { username: 'opt', password: 'o' }, withEnv)).toMatchObject({ username: 'opt' });
    expect(await resolveCredentials('r.example', 'anonymous', withEnv)).toBeUndefined();
    expect(await resolveCredentials('r.example', undefined, env)).toMatchObject({ username: 'cfg' });
  });

  it('normalises keys the way Docker writes them', () => {
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeAuthKey('HTTP://Reg.Example:5000/v2/')).toBe('reg.example:5000');
  });
});
