import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { MultiarchError } from '../errors';
import type { TlsSettings } from './transport';

/**
 * Where and how to reach a registry: scheme, origin and TLS trust. https is
 * the default; plain http only for loopback registries (a registry on this
 * machine, as tests and local development run one) and for registries the user
 * listed as insecure. A CA configured for a host means that host speaks TLS,
 * even on loopback.
 */
export interface EndpointOptions {
  /** `host[:port]`, optionally with an explicit `http://` or `https://`. */
  registry: string;
  /** Force plain http (or skip verification with an explicit https://). */
  insecure?: boolean;
  /** Hosts (`host[:port]`) to reach over plain http. */
  insecureRegistries?: readonly string[];
  /** A PEM file of CA certificates to trust for this registry. */
  caFile?: string;
  /** Folders laid out like Docker's `certs.d/<host[:port]>/{ca.crt,client.cert,client.key}`. */
  certsDirs?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

export interface Endpoint {
  /** `host[:port]`, as references and credentials name the registry. */
  host: string;
  /** `https://host[:port]` or `http://host[:port]`. */
  origin: string;
  tls: TlsSettings;
}

/** Environment variables the client reads (documented in the README). */
export const ENV_CA_FILE = 'NX_MULTIARCH_REGISTRY_CA_FILE';
export const ENV_CERTS_DIR = 'NX_MULTIARCH_REGISTRY_CERTS_DIR';
export const ENV_INSECURE_REGISTRIES = 'NX_MULTIARCH_INSECURE_REGISTRIES';

export function isLoopbackHost(host: string): boolean {
  const name = hostname(host).toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The name part of `host[:port]`, `[v6]:port` or `[v6]`. */
export function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** Docker's certs.d folders, most specific first; the env variable comes before them. */
export function defaultCertsDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  if (env[ENV_CERTS_DIR]) dirs.push(env[ENV_CERTS_DIR] as string);
  const dockerConfigDir = env.DOCKER_CONFIG && env.DOCKER_CONFIG.trim() !== '' ? env.DOCKER_CONFIG : join(homedir(), '.docker');
  dirs.push(join(dockerConfigDir, 'certs.d'), '/etc/docker/certs.d');
  return dirs;
}

export function resolveEndpoint(options: EndpointOptions): Endpoint {
  const env = options.env ?? process.env;
  const match = /^(https?):\/\/(.*)$/i.exec(options.registry.trim());
  const explicitScheme = match ? (match[1].toLowerCase() as 'http' | 'https') : undefined;
  const host = (match ? match[2] : options.registry.trim()).replace(/\/+$/, '');
  if (!host || host.includes('/')) {
    throw new MultiarchError(`Not a registry host: "${options.registry}".`, 'Give host[:port], e.g. 127.0.0.1:5000 or registry.example.com.');
  }
  const insecureList = [
    ...(options.insecureRegistries ?? []),
    ...(env[ENV_INSECURE_REGISTRIES] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  ];
  const listedInsecure = options.insecure === true || insecureList.some((h) => h.toLowerCase() === host.toLowerCase());

  const tls = trustFor(host, options, env);
  let scheme: 'http' | 'https';
  if (explicitScheme) scheme = explicitScheme;
  else if (tls.ca && tls.ca.length > 0) scheme = 'https';
  else scheme = listedInsecure || isLoopbackHost(host) ? 'http' : 'https';
  if (scheme === 'https' && listedInsecure) tls.rejectUnauthorized = false;
  return { host, origin: `${scheme}://${host}`, tls };
}

function trustFor(host: string, options: EndpointOptions, env: NodeJS.ProcessEnv): TlsSettings {
  const ca: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  const caFile = options.caFile ?? env[ENV_CA_FILE];
  if (caFile) ca.push(readPem(caFile, 'CA file'));
  const certsDir = (options.certsDirs ?? defaultCertsDirs(env)).map((d) => join(d, host)).find((d) => existsSync(d));
  if (certsDir) {
    for (const name of readdirSync(certsDir).sort()) {
      const path = join(certsDir, name);
      // Docker's convention: *.crt are CAs, <name>.cert with <name>.key a client pair.
      if (name.endsWith('.crt')) ca.push(readPem(path, 'CA file'));
      else if (name.endsWith('.cert')) cert = readPem(path, 'client certificate');
      else if (name.endsWith('.key')) key = readPem(path, 'client key');
    }
  }
  // Custom CAs add to the system roots rather than replacing them.
  return ca.length > 0 ? { ca: [...rootCertificates, ...ca], cert, key } : { cert, key };
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new MultiarchError(`Cannot read the ${what} ${path}.`, `Check the path given in ${ENV_CA_FILE}, caFile or the certs.d folder.`);
  }
}
