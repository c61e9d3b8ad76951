import { RegistryCredentials, credentialsFromDockerConfig } from './docker-config';

/** Environment variables that give credentials for the registry being pushed to. */
export const ENV_USERNAME = 'NX_MULTIARCH_REGISTRY_USERNAME';
export const ENV_PASSWORD = 'NX_MULTIARCH_REGISTRY_PASSWORD';

/** Credentials a caller hands the client directly. */
export type ExplicitAuth =
  | { username: string; password: string }
  | { identityToken: string }
  | { registryToken: string }
  /** Never send credentials, even if Docker's config has some. */
  | 'anonymous';

/**
 * Where credentials come from, first match wins: the caller, then
 * NX_MULTIARCH_REGISTRY_USERNAME/PASSWORD, then Docker's config.json
 * (credHelpers, auths, credsStore).
 */
export async function resolveCredentials(
  host: string,
  explicit: ExplicitAuth | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredentials | undefined> {
  if (explicit === 'anonymous') return undefined;
  if (explicit) return { ...explicit, source: 'the client options' };
  const username = env[ENV_USERNAME];
  const password = env[ENV_PASSWORD];
  if (username && password !== undefined) return { username, password, source: `${ENV_USERNAME}/${ENV_PASSWORD}` };
  return credentialsFromDockerConfig(host, env);
}
