import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MultiarchError } from '../errors';

/** The parts of Docker's `config.json` that hold registry credentials. */
export interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export interface DockerAuthEntry {
  /** base64 of `username:password`. */
  auth?: string;
  username?: string;
  password?: string;
  /** An OAuth2 refresh token, traded at the Bearer realm for access tokens. */
  identitytoken?: string;
  /** A ready Bearer access token. */
  registrytoken?: string;
}

/** What `docker-credential-<helper> get` prints. */
interface HelperOutput {
  ServerURL?: string;
  Username?: string;
  Secret?: string;
}

export interface RegistryCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
  /** Where they came from, for messages (never the values). */
  source: string;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, as Docker reads it. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG.trim() !== '' ? env.DOCKER_CONFIG : join(homedir(), '.docker');
  return join(dir, 'config.json');
}

export async function readDockerConfig(path: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch {
    throw new MultiarchError(`Docker config ${path} is not valid JSON.`, 'Fix the file or point DOCKER_CONFIG at another folder.');
  }
}

/**
 * The key Docker uses for a registry host in `auths`: entries may be written
 * as `host`, `https://host`, `http://host/v1/`; Docker Hub is keyed by its
 * historical index URL.
 */
export function normalizeAuthKey(key: string): string {
  const withoutScheme = key.replace(/^[a-z]+:\/\//i, '');
  const host = withoutScheme.split('/')[0].toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The `server` string a credential helper is asked for (what `docker login` stored). */
function helperServerName(host: string): string {
  return normalizeAuthKey(host) === 'docker.io' ? 'https://index.docker.io/v1/' : host;
}

function fromAuthEntry(entry: DockerAuthEntry, source: string): RegistryCredentials | undefined {
  let username = entry.username;
  let password = entry.password;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new MultiarchError(`The auth entry for a registry in ${source} is malformed (no ':' after decoding).`, 'Run docker login again.');
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  if (!username && !password && !entry.identitytoken && !entry.registrytoken) return undefined;
  return {
    username: username || undefined,
    password: password || undefined,
    identityToken: entry.identitytoken || undefined,
    registryToken: entry.registrytoken || undefined,
    source,
  };
}

/** Runs `docker-credential-<helper> get` with the server name on stdin. */
export async function credentialsFromHelper(helper: string, host: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  // Loaded only when a helper is configured: util/exec runs on execa (ESM), which the cache-server
  // image leaves out, since its Node.js for arm/v7 (20.11) cannot require an ES module.
  const { run } = await import('../util/exec');
  const result = await run(program, ['get'], { input: helperServerName(host), timeoutMs: 30_000, env }).catch((error: unknown) => {
    throw new MultiarchError(
      `Docker's config names the credential helper "${helper}", but ${program} could not be run (${(error as Error).message}).`,
      `Install ${program} or remove it from credHelpers/credsStore in ${dockerConfigPath(env)}.`,
    );
  });
  if (result.exitCode !== 0) {
    // Helpers say "credentials not found" with a non-zero exit: that means anonymous.
    if (/not found/i.test(result.stdout + result.stderr)) return undefined;
    throw new MultiarchError(
      `Credential helper ${program} failed for ${host} (exit ${result.exitCode}).`,
      `Run "echo ${host} | ${program} get" to see why, or log in again with docker login ${host}.`,
    );
  }
  let output: HelperOutput;
  try {
    output = JSON.parse(result.stdout) as HelperOutput;
  } catch {
    throw new MultiarchError(`Credential helper ${program} printed something that is not JSON.`, `Check the helper with "echo ${host} | ${program} get".`);
  }
  if (!output.Secret) return undefined;
  // Helpers mark an identity (refresh) token with the user name "<token>".
  if (output.Username === '<token>') return { identityToken: output.Secret, source: program };
  return { username: output.Username, password: output.Secret, source: program };
}

/**
 * Credentials for a registry host from Docker's config, in Docker's order:
 * a per-registry helper, then an inline `auths` entry, then the default store.
 */
export async function credentialsFromDockerConfig(host: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials | undefined> {
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  if (!config) return undefined;
  const key = normalizeAuthKey(host);
  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => normalizeAuthKey(k) === key)?.[1];
  if (helper) return credentialsFromHelper(helper, host, env);
  const entry = Object.entries(config.auths ?? {}).find(([k]) => normalizeAuthKey(k) === key)?.[1];
  const inline = entry ? fromAuthEntry(entry, path) : undefined;
  if (inline) return inline;
  if (config.credsStore) return credentialsFromHelper(config.credsStore, host, env);
  return undefined;
}
