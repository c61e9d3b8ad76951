import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small Docker token service (the registry's `auth.token` realm) for tests:
 * checks Basic credentials or an OAuth2 refresh token, and issues RS256 JWTs
 * whose `x5c` header carries the signing certificate the registry trusts.
 * With `firstGrantPullOnly`, the first token for each user and scope set
 * grants only pull, so a push must re-authenticate after a 401.
 */
export interface TokenServerOptions {
  users: Record<string, string>;
  /** refresh token -> user, for the identitytoken flow. */
  refreshTokens?: Record<string, string>;
  service: string;
  issuer: string;
  signingCert: string;
  signingKey: string;
  firstGrantPullOnly?: boolean;
  expiresInSeconds?: number;
}

export interface TokenServer {
  realm: string;
  /** Tokens issued, and requests refused. */
  issued: number;
  refused: number;
  /** Every Authorization header and form body seen (to check what clients sent). */
  seen: string[];
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function parseScopes(scopes: string[]): Access[] {
  return scopes
    .flatMap((s) => s.split(' '))
    .filter(Boolean)
    .map((scope) => {
      const [type, ...rest] = scope.split(':');
      const actions = rest.pop() ?? '';
      return { type, name: rest.join(':'), actions: actions.split(',').filter(Boolean) };
    });
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const certPem = await readFile(options.signingCert, 'utf8');
  const keyPem = await readFile(options.signingKey, 'utf8');
  const x5c = new X509Certificate(certPem).raw.toString('base64');
  const grantsSoFar = new Set<string>();

  const sign = (subject: string, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [x5c] };
    const claims = {
      iss: options.issuer,
      sub: subject,
      aud: options.service,
      exp: now + (options.expiresInSeconds ?? 300),
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(keyPem);
    return `${input}.${base64url(signature)}`;
  };

  const state: Omit<TokenServer, 'realm' | 'stop'> = { issued: 0, refused: 0, seen: [] };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://token.local');
      let user: string | undefined;
      let scopes = url.searchParams.getAll('scope');
      const authorization = req.headers.authorization ?? '';
      state.seen.push(authorization);
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        state.seen.push(form.toString());
        user = options.refreshTokens?.[form.get('refresh_token') ?? ''];
        scopes = form.getAll('scope');
        if (!user) {
          state.refused += 1;
          res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
      } else if (authorization.startsWith('Basic ')) {
        const [name, ...pw] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
        if (options.users[name] === undefined || options.users[name] !== pw.join(':')) {
          state.refused += 1;
          res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
          return;
        }
        user = name;
      }
      let access = user ? parseScopes(scopes) : [];
      const key = `${user}|${[...scopes].sort().join(' ')}`;
      if (options.firstGrantPullOnly && user && !grantsSoFar.has(key)) {
        grantsSoFar.add(key);
        access = access.map((a) => ({ ...a, actions: a.actions.filter((x) => x === 'pull') }));
      }
      const token = sign(user ?? '', access);
      state.issued += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({ token, access_token: token, expires_in: options.expiresInSeconds ?? 300, issued_at: new Date().toISOString() }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const result: TokenServer = Object.assign(state, {
    realm: `http://127.0.0.1:${port}/token`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return result;
}
