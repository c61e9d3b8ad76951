import { MultiarchError } from '../errors';

/**
 * Turns the go command's failures that are not compile errors into one clear
 * error naming the cause and the fix: a go.mod the Go at hand cannot read, a
 * module that cannot be fetched, a toolchain that cannot be had.
 */

/** What the classifier needs to name the fix. */
export interface GoFailureContext {
  /** The module root, where the fix commands run. */
  cwd: string;
  /** What ran, e.g. "go list ./controller" or "go mod download". */
  what: string;
  /** The effective GOPROXY (credentials are removed before it is shown). */
  goproxy: string;
  /** The Go that ran (`go env GOVERSION`). */
  installed: string;
  /** The go line of go.mod, when there is one. */
  goLine?: string;
}

/** A GOPROXY list as it can be shown: user:password in any of its URLs removed. */
export function redactProxy(goproxy: string): string {
  return goproxy.replace(/\/\/[^/@\s,|]*@/g, '//');
}

/** The last lines of go's stderr that say something, with any proxy credentials removed. */
function tail(stderr: string): string {
  return redactProxy(stderr.trim().split('\n').filter((line) => !line.startsWith('go: downloading ')).slice(-8).join('\n'));
}

const UNREACHABLE = /dial tcp|connection refused|no such host|i\/o timeout|TLS handshake|connection reset|network is unreachable|proxyconnect/;

/**
 * A MultiarchError for a failure this module recognises, or undefined for an
 * ordinary compile error (the caller reports those with the compiler output).
 */
export function classifyGoFailure(stderr: string, ctx: GoFailureContext): MultiarchError | undefined {
  const proxy = redactProxy(ctx.goproxy);
  const detail = tail(stderr);

  const invalidVersion = /invalid go version '([^']+)'/.exec(stderr);
  if (invalidVersion) {
    return new MultiarchError(
      `${ctx.what}: go.mod's go line (${invalidVersion[1]}) is newer than the installed ${ctx.installed} can read:\n${detail}`,
      `Put Go 1.21 or newer first on PATH (it reads this line and fetches go${invalidVersion[1]} through GOPROXY when needed), ` +
        `or lower the go line of ${ctx.cwd}/go.mod to what ${ctx.installed} supports.`,
    );
  }

  const requires = /requires go >= (\S+) \(running go (\S+); GOTOOLCHAIN=([^)]+)\)/.exec(stderr);
  if (requires) {
    const [, pin, running, setting] = requires;
    return new MultiarchError(
      `${ctx.what}: go.mod pins go ${pin}, but the Go that ran is go${running} and GOTOOLCHAIN=${setting} does not allow another.`,
      `Unset GOTOOLCHAIN (or set GOTOOLCHAIN=auto, or go${pin}) so Go fetches go${pin} through GOPROXY (${proxy}); or install Go ${pin} or newer; or lower the go line of ${ctx.cwd}/go.mod.`,
    );
  }

  const toolchain = /download (go\S+?)(?: for [^:]+)?: (.*)$/m.exec(stderr);
  if (toolchain && /golang\.org\/toolchain|toolchain not available|not available/.test(stderr)) {
    const [, name] = toolchain;
    if (UNREACHABLE.test(stderr)) {
      return new MultiarchError(
        `${ctx.what}: Go toolchain ${name}, which go.mod asks for, could not be fetched: GOPROXY (${proxy}) is unreachable:\n${detail}`,
        `Make GOPROXY reachable (go env -w GOPROXY=<your proxy>), or install ${name} (the installed Go is ${ctx.installed}), or lower go.mod's go/toolchain lines to ${ctx.installed}.`,
      );
    }
    return new MultiarchError(
      `${ctx.what}: go.mod asks for ${name}, a Go toolchain that cannot be had: GOPROXY (${proxy}) does not have it, and the installed Go is ${ctx.installed}:\n${detail}`,
      `Lower the go (and toolchain) line of ${ctx.cwd}/go.mod to a released Go, e.g. "go ${ctx.installed.replace(/^go/, '')}" for the installed one, or install ${name} if it exists.`,
    );
  }

  const modules =
    /module lookup disabled by GOPROXY=off|missing go\.sum entry|no required module provides package|cannot find module providing package|reading .*\/@v\/|unknown revision|verifying .*: checksum mismatch|SECURITY ERROR|server response/.test(stderr) ||
    (UNREACHABLE.test(stderr) && /@v|go: [^\s]+@/.test(stderr));
  if (!modules) return undefined;

  if (/missing go\.sum entry|no required module provides package/.test(stderr)) {
    return new MultiarchError(
      `${ctx.what}: go.mod or go.sum does not list every module the build imports:\n${detail}`,
      `Run "go mod tidy" in ${ctx.cwd} and commit go.mod and go.sum; builds then fetch exactly what go.sum lists.`,
    );
  }
  if (/checksum mismatch|SECURITY ERROR/.test(stderr)) {
    return new MultiarchError(
      `${ctx.what}: a downloaded module does not match its go.sum hash:\n${detail}`,
      `Do not edit go.sum by hand: check GOPROXY (${proxy}) serves the real modules, then run "go clean -modcache" and "go mod download" in ${ctx.cwd}.`,
    );
  }
  const reason = UNREACHABLE.test(stderr) ? `GOPROXY (${proxy}) is unreachable` : `GOPROXY (${proxy}) does not serve them`;
  return new MultiarchError(
    `${ctx.what}: the Go modules of ${ctx.cwd} could not be downloaded: ${reason}:\n${detail}`,
    `Point GOPROXY at a reachable module proxy (go env GOPROXY; GOPROXY=off only works with a filled module cache), then run "go mod download" in ${ctx.cwd}; ` +
      `or vendor the modules ("go mod vendor", and commit vendor/) to build without a proxy.`,
  );
}
