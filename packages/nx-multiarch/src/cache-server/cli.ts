import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { formatError, MultiarchError } from '../errors';
import { isLoopbackHost } from '../registry/endpoint';
import { FileStorage } from './file-storage';
import { CACHE_SERVER_HELP } from './help';
import { streamLogger, type Logger } from './logger';
import { OciStorage } from './oci-storage';
import { parseCacheServerArgs, type CacheServerCliOptions } from './options';
import { closeServer, createCacheServer, listen } from './server';
import type { CacheStorage } from './storage';
import { TokenSet } from './tokens';
import { describePrune, runPruneCommand } from './prune-command';

export interface RunningCacheServer {
  /** `http://127.0.0.1:<port>`: what NX_SELF_HOSTED_REMOTE_CACHE_SERVER takes. */
  url: string;
  address: AddressInfo;
  storage: CacheStorage;
  close(): Promise<void>;
}

export interface StartDeps {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/** Opens the store, loads the tokens, and listens. Everything is checked before the port opens. */
export async function startCacheServer(options: CacheServerCliOptions, deps: StartDeps = {}): Promise<RunningCacheServer> {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? streamLogger();
  const tokens = TokenSet.load(options.tokens, env);
  const tls = options.tls ? { cert: readPem(options.tls.certFile, '--tls-cert'), key: readPem(options.tls.keyFile, '--tls-key') } : undefined;
  const storage = await openStorage(options, logger);
  const server = createCacheServer({ storage, tokens, maxEntryBytes: options.maxEntryBytes, logger, tls, limits: options.limits });
  let address: AddressInfo;
  try {
    address = await listen(server, options.host, options.port);
  } catch (error) {
    await storage.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new MultiarchError(
      `Cannot listen on ${options.host}:${options.port} (${code ?? (error as Error).message}).`,
      code === 'EADDRINUSE' ? 'Another process uses that port: pick another with --port, or 0 for any free one.' : 'Check --host and --port.',
    );
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
  const counts = tokens.counts;
  logger.info(
    `cache server on ${url}, storage ${storage.description}, ${counts.readWrite} read-write and ${counts.readOnly} read-only token(s), entries up to ${options.maxEntryBytes} bytes`,
  );
  if (!tls && !isLoopbackHost(options.host)) {
    logger.error(`listening on ${options.host} over plain http: tokens cross the network in clear text; put TLS in front (--tls-cert/--tls-key or a proxy)`);
  }
  const pruner = startRetention(options, storage, logger);
  return {
    url,
    address,
    storage,
    close: async () => {
      if (pruner) clearInterval(pruner);
      await closeServer(server);
      await storage.close();
    },
  };
}

const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** The retention policy, applied at start and every 10 minutes; one failed prune is logged, not fatal. */
function startRetention(options: CacheServerCliOptions, storage: CacheStorage, logger: Logger): NodeJS.Timeout | undefined {
  const policy = options.retention;
  if (!policy || !storage.prune) return undefined;
  const prune = storage.prune.bind(storage);
  const once = () => {
    prune(policy)
      .then((result) => logger.info(describePrune(result)))
      .catch((error: unknown) => logger.error(`prune failed: ${formatError(error)}`));
  };
  once();
  const timer = setInterval(once, PRUNE_EVERY_MS);
  timer.unref();
  return timer;
}

async function openStorage(options: CacheServerCliOptions, logger: Logger): Promise<CacheStorage> {
  const location = options.storage;
  if (location.kind === 'file') return FileStorage.create(location.dir);
  const storage = await OciStorage.create({
    registry: location.registry,
    repository: location.repository,
    tempDir: options.tempDir,
    insecure: options.insecureRegistry,
    log: (line) => logger.info(`registry: ${line}`),
  });
  try {
    await storage.checkHealth();
  } catch (error) {
    await storage.close();
    throw new MultiarchError(`The registry of ${storage.description} does not answer: ${(error as Error).message}`, (error as MultiarchError).hint ?? 'Start the registry or fix --storage.');
  }
  return storage;
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new MultiarchError(`${option}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Give a PEM file the server may read.');
  }
}

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * `nx-multiarch cache-server …`: runs until SIGINT or SIGTERM, then lets
 * running requests finish. Resolves with the exit code. The listening URL is
 * the only line on stdout (scripts read it); everything else goes to stderr.
 */
export async function runCacheServerCommand(argv: readonly string[], io: CommandIo = defaultIo()): Promise<number> {
  if (argv[0] === 'prune') return runPruneCommand(argv.slice(1), io);
  let running: RunningCacheServer;
  try {
    const parsed = parseCacheServerArgs(argv, io.cwd);
    if (parsed.help) {
      io.stdout.write(CACHE_SERVER_HELP);
      return 0;
    }
    running = await startCacheServer(parsed.options, { env: io.env, logger: streamLogger(io.stderr) });
  } catch (error) {
    io.stderr.write(`nx-multiarch cache-server: ${formatError(error)}\n`);
    return 1;
  }
  io.stdout.write(`${running.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  io.stderr.write(`nx-multiarch cache-server: ${signal}, stopping\n`);
  await running.close();
  return 0;
}

function defaultIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
