import { DEFAULT_LIMITS } from './admission';
import { DEFAULT_HOST, DEFAULT_MAX_ENTRY, DEFAULT_PORT } from './options';
import { MIN_TOKEN_LENGTH } from './tokens';

export const CACHE_SERVER_HELP = `Usage: nx-multiarch cache-server --storage <url> [options]

A self-hosted remote cache for Nx (20.8 and later). It keeps no state of its
own: entries live in a folder or in an OCI registry -- the one that already
holds your images -- so you can run several servers on one store and restart
them at will.

Storage (required):
  --storage file://<folder>          entries in a folder on this machine
                                     (file:///srv/nx-cache, or file://./cache
                                     relative to the working folder)
  --storage oci://<host[:port]>/<repository>
                                     entries as OCI artifacts in a registry
                                     repository, tagged by the Nx hash.
                                     Credentials come from Docker's config.json
                                     (auths, credHelpers, credsStore) or
                                     NX_MULTIARCH_REGISTRY_USERNAME/_PASSWORD.

Listening:
  --host <address>                   address to listen on (default ${DEFAULT_HOST});
                                     0.0.0.0 or :: to serve other machines
  --port <port>                      port (default ${DEFAULT_PORT}; 0 picks a free one)
  --tls-cert <pem> --tls-key <pem>   serve https instead of http

Tokens (at least one; clients send "Authorization: Bearer <token>"):
  --read-write-token-env <NAME>      environment variable holding a token that
                                     may read and write
  --read-write-token-file <path>     file of read-write tokens, one per line
  --read-only-token-env <NAME>       environment variable holding a token that
                                     may only read
  --read-only-token-file <path>      file of read-only tokens, one per line
  Tokens must be at least ${MIN_TOKEN_LENGTH} printable characters (e.g. openssl rand -hex 32).
  A file may hold several tokens, so you can rotate them. Tokens are never
  printed or logged.

Limits and folders:
  --max-entry-size <size>            largest entry accepted (default ${DEFAULT_MAX_ENTRY});
                                     larger uploads get 413. Units: 500MB, 2GiB
  --max-concurrent-requests <n>      requests served at once (default ${DEFAULT_LIMITS.maxActive})
  --max-queued-requests <n>          requests waiting for a slot (default ${DEFAULT_LIMITS.maxQueued});
                                     beyond both: 503 with Retry-After
  --max-memory <size>                resident memory over which new requests get
                                     503 with Retry-After (default: no cap)
  --max-age <duration>               remove entries unused this long (7d, 12h),
                                     at start and every 10 minutes
  --max-size <size>                  then the least recently used until the rest
                                     fit. Never an entry being read. oci://: last
                                     use is the store time or this server's last
                                     read; the registry must allow deletes.
                                     Once, e.g. from cron: cache-server prune --help
  --temp-dir <folder>                oci:// only: where entries are staged on
                                     their way in and out (default: OS temp)
  --insecure-registry                oci:// only: plain http to a registry that
                                     is not on loopback (loopback always is)

Protocol (what Nx's client sends):
  GET  /v1/cache/<hash>   200 with the entry, 404 when there is none,
                          500 when the stored entry fails its digest check:
                          it is refused, never served, logged, and set aside
                          (file: moved to quarantine/; oci: a "refused" marker
                          is tagged over it), so the next run rebuilds the
                          task and a trusted build stores it again
  PUT  /v1/cache/<hash>   200 stored, 409 the hash exists (first write wins),
                          403 read-only token, 413 too large
  401 for a missing or unknown token (text/plain, as Nx expects)
  GET  /health            200 {"status":"ok"} when the store is usable, else
                          503; needs no token
  Entries are streamed to disk and hashed on the way; a cut-short upload is
  dropped, never stored.

Nx clients:
  NX_SELF_HOSTED_REMOTE_CACHE_SERVER=http://<host>:<port>
  NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN=<token>
  When the server cannot be reached, or answers anything but 200/404 to a
  read or 200/409/403 to a write, Nx fails the command;
  NX_SKIP_REMOTE_CACHE=true (or --skip-remote-cache) runs without it.

Safety rules (cache poisoning, CREEP, CVE-2025-36852):
  - Whoever can write an entry decides what every later build restores as
    task output. Give the read-write token only to builds of trusted branches
    (main, release) on runners you control.
  - Pull requests, forks and any job that runs code you have not reviewed get
    the read-only token: they read hits, and their writes are refused (403,
    which Nx ignores), so their run still succeeds.
  - Keep tokens in your CI's secret store; prefer --*-token-file or
    --*-token-env over anything that shows up in a process list.
  - Outside loopback, put TLS in front (--tls-cert/--tls-key or a proxy):
    plain http shows the token to the network.
  - A stored entry is checked against its digest before it is served, which
    catches damage in storage; it cannot catch a poisoned entry written with
    a valid read-write token -- only the rules above do.

Examples:
  NX_CACHE_RW=$(cat rw.token) NX_CACHE_RO=$(cat ro.token) \\
    npx nx-multiarch cache-server --storage oci://127.0.0.1:5000/nx-cache \\
      --read-write-token-env NX_CACHE_RW --read-only-token-env NX_CACHE_RO
  npx nx-multiarch cache-server --storage file:///srv/nx-cache --port 8080 \\
      --read-write-token-file /etc/nx-cache/rw.tokens
`;
