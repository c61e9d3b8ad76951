import { MultiarchError } from '../errors';
import { RegistryError } from './errors';
import type { RegistryCredentials } from './docker-config';
import { sendWithRetry } from './send';
import type { RetryPolicy } from './retry';
import type { Transport } from './transport';
import { Challenge, parseWwwAuthenticate } from './www-authenticate';

/**
 * Answers registry challenges: Basic with the user's credentials, or Bearer
 * with a token fetched from the realm the registry names (Docker's token
 * protocol), one token per set of scopes. Credentials are looked up only when a
 * registry first asks, so anonymous registries never run a credential helper.
 */

export type CredentialSource = () => Promise<RegistryCredentials | undefined>;

interface BearerChallenge {
  realm: string;
  service?: string;
}

interface CachedToken {
  token: string;
  /** Epoch ms after which a new token is fetched. */
  expiresAt: number;
}

/** What the token endpoint answers (Docker token spec and OAuth2 spellings). */
interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
}

const CLIENT_ID = 'nx-multiarch';

export class Authenticator {
  private scheme: 'none' | 'basic' | 'bearer' = 'none';
  private bearer?: BearerChallenge;
  private credentials?: RegistryCredentials | null;
  private readonly tokens = new Map<string, CachedToken>();
  /** Token requests in flight, so parallel requests for the same scopes share one. */
  private readonly pending = new Map<string, Promise<string>>();
  private readonly knownSecrets = new Set<string>();

  constructor(
    private readonly registry: string,
    private readonly source: CredentialSource,
    private readonly transport: Transport,
    private readonly retry: RetryPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every secret value seen so far, so errors can be scrubbed of them. */
  secrets(): string[] {
    return [...this.knownSecrets];
  }

  /** The Authorization header for a request needing `scopes`, if the registry is known to want one. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    if (this.scheme === 'basic') return this.basicHeader();
    if (this.scheme === 'bearer') {
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
      let pending = this.pending.get(key);
      if (!pending) {
        pending = this.fetchToken(scopes).finally(() => this.pending.delete(key));
        this.pending.set(key, pending);
      }
      return `Bearer ${await pending}`;
    }
    return undefined;
  }

  /**
   * Handles a 401: learns the scheme from the challenge and drops the cached
   * token for these scopes, so the caller's one retry carries fresh
   * credentials (an expired token, or one granted fewer actions than asked).
   * A token is dropped only if it is the one the refused request carried:
   * parallel requests refused together then share one new token.
   */
  async challenge(header: string | string[] | undefined, scopes: readonly string[], usedAuthorization?: string): Promise<void> {
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      this.useBearer(bearer);
      const key = scopeKey(scopes);
      const cached = this.tokens.get(key);
      if (cached && `Bearer ${cached.token}` === usedAuthorization) this.tokens.delete(key);
      return;
    }
    if (basic) {
      const credentials = await this.loadCredentials();
      if (!credentials?.username || credentials.password === undefined) {
        throw this.missingCredentials();
      }
      this.scheme = 'basic';
      return;
    }
    throw new RegistryError(
      `${this.registry} asked for authentication without a usable WWW-Authenticate challenge (got "${[header ?? ''].flat().join(', ')}").`,
      401,
      [],
      'Check that the address points at an OCI Distribution registry.',
    );
  }

  /** The error for a 401 that survived re-authentication. */
  rejected(scopes: readonly string[], detail: string): RegistryError {
    const who = this.credentials?.username ? ` as user "${this.credentials.username}"` : this.credentials ? '' : ' anonymously';
    const from = this.credentials ? ` (credentials from ${this.credentials.source})` : '';
    return new RegistryError(
      `${this.registry} refused access to ${scopes.join(' ') || 'the registry'}${who}${from}${detail ? `: ${detail}` : ''}.`,
      401,
      ['UNAUTHORIZED'],
      this.credentials
        ? `Check the user name and password for ${this.registry} (docker login ${this.registry}, or NX_MULTIARCH_REGISTRY_USERNAME / NX_MULTIARCH_REGISTRY_PASSWORD) and that the account may push to this repository.`
        : `Log in with docker login ${this.registry}, or set NX_MULTIARCH_REGISTRY_USERNAME and NX_MULTIARCH_REGISTRY_PASSWORD.`,
    );
  }

  private useBearer(challenge: Challenge): void {
    const realm = challenge.params.realm;
    if (!realm) {
      throw new RegistryError(`${this.registry} sent a Bearer challenge without a realm.`, 401, [], 'The registry is misconfigured: its token realm is missing.');
    }
    this.scheme = 'bearer';
    this.bearer = { realm, service: challenge.params.service };
  }

  private async loadCredentials(): Promise<RegistryCredentials | undefined> {
    if (this.credentials === undefined) {
      this.credentials = (await this.source()) ?? null;
      const c = this.credentials;
      if (c) {
        for (const s of [c.password, c.identityToken, c.registryToken]) if (s) this.knownSecrets.add(s);
        if (c.username && c.password) this.knownSecrets.add(Buffer.from(`${c.username}:${c.password}`).toString('base64'));
      }
    }
    return this.credentials ?? undefined;
  }

  private async basicHeader(): Promise<string> {
    const c = await this.loadCredentials();
    if (!c?.username || c.password === undefined) throw this.missingCredentials();
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private missingCredentials(): MultiarchError {
    return new RegistryError(
      `${this.registry} requires a user name and password, and none were found.`,
      401,
      ['UNAUTHORIZED'],
      `Run docker login ${this.registry}, or set NX_MULTIARCH_REGISTRY_USERNAME and NX_MULTIARCH_REGISTRY_PASSWORD.`,
    );
  }

  private async fetchToken(scopes: readonly string[]): Promise<string> {
    const bearer = this.bearer;
    if (!bearer) throw new Error('fetchToken called before a Bearer challenge');
    const credentials = await this.loadCredentials();
    if (credentials?.registryToken) return credentials.registryToken;

    const url = new URL(bearer.realm);
    let response;
    if (credentials?.identityToken) {
      // An identity token is an OAuth2 refresh token: trade it with a POST (Docker's token spec, "oauth").
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: CLIENT_ID });
      if (bearer.service) form.set('service', bearer.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      response = await sendWithRetry(
        this.transport,
        { method: 'POST', url, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) },
        this.retry,
      );
    } else {
      if (bearer.service) url.searchParams.set('service', bearer.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      url.searchParams.set('client_id', CLIENT_ID);
      const headers: Record<string, string> = {};
      if (credentials?.username && credentials.password !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      }
      response = await sendWithRetry(this.transport, { method: 'GET', url, headers }, this.retry);
    }
    if (response.status === 401 || response.status === 403) {
      throw this.rejected(scopes, `the token service at ${url.origin}${url.pathname} answered ${response.status}`);
    }
    if (response.status !== 200) {
      throw new RegistryError(
        `The token service of ${this.registry} at ${url.origin}${url.pathname} answered ${response.status}.`,
        response.status,
        [],
        'Check that the token service is up; this may be a temporary outage.',
      );
    }
    let parsed: TokenResponse;
    try {
      parsed = JSON.parse(response.body.toString('utf8')) as TokenResponse;
    } catch {
      throw new RegistryError(`The token service of ${this.registry} answered with something that is not JSON.`, response.status);
    }
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new RegistryError(`The token service of ${this.registry} answered without a token.`, response.status);
    this.knownSecrets.add(token);
    // Default lifetime is 60 s (Docker token spec); renew 10 s early (or at half life for short
    // tokens) so a token never expires mid-request.
    const lifetime = (parsed.expires_in && parsed.expires_in > 0 ? parsed.expires_in : 60) * 1000;
    this.tokens.set(scopeKey(scopes), { token, expiresAt: this.now() + Math.max(lifetime / 2, lifetime - 10_000) });
    return token;
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}
