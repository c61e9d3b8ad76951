import { MultiarchError } from '../errors';
import type { ImageConfig } from '../oci/types';
import { PLATFORMS } from '../platform/platforms';
import { parseDockerfile } from './parse';
import { DEFAULT_PATH, evaluateFrom, evaluateStage, predefinedArgs } from './evaluate-stage';

function evaluate(lines: string[], buildArgs: Record<string, string> = {}, baseConfig?: ImageConfig) {
  return evaluateStage({ parsed: parseDockerfile(lines.join('\n')), buildArgs, target: PLATFORMS.arm, baseConfig, sourceDateEpoch: 1700000000 });
}

describe('predefinedArgs', () => {
  it('gives the target platform in Docker spelling, arm with its variant', () => {
    const args = predefinedArgs(PLATFORMS.arm);
    expect(args.get('TARGETPLATFORM')).toBe('linux/arm/v7');
    expect(args.get('TARGETOS')).toBe('linux');
    expect(args.get('TARGETARCH')).toBe('arm');
    expect(args.get('TARGETVARIANT')).toBe('v7');
    expect(predefinedArgs(PLATFORMS.arm64).get('TARGETVARIANT')).toBe('');
    expect(args.get('BUILDPLATFORM')).toMatch(/^linux\//);
  });
});

describe('evaluateFrom', () => {
  it('substitutes global ARGs, build args and predefined args', () => {
    const parsed = parseDockerfile('ARG REG=127.0.0.1:5000\nFROM ${REG}/base:${TARGETARCH}\n');
    expect(evaluateFrom(parsed, {}, PLATFORMS.arm64).image).toBe('127.0.0.1:5000/base:arm64');
    expect(evaluateFrom(parsed, { REG: 'localhost:1' }, PLATFORMS.arm64).image).toBe('localhost:1/base:arm64');
  });
  it('refuses a FROM that names an earlier stage after substitution', () => {
    const parsed = parseDockerfile('ARG B=build\nFROM scratch AS build\nFROM $B\n');
    expect(() => evaluateFrom(parsed, {}, PLATFORMS.amd64)).toThrow(/starts from an earlier stage/);
  });
  it('refuses a FROM that is empty after substitution', () => {
    expect(() => evaluateFrom(parseDockerfile('ARG B\nFROM ${B}\n'), {}, PLATFORMS.amd64)).toThrow(/names no image/);
  });
});

describe('evaluateStage', () => {
  it('builds the config: env, labels, user, workdir, ports, entrypoint and cmd', () => {
    const stage = evaluate([
      'FROM scratch',
      'ARG TARGETARCH',
      'ARG VERSION=dev',
      'ENV LINKERD2_PROXY_ADMIN_LISTEN_ADDR=0.0.0.0:4191 ARCH=$TARGETARCH',
      'LABEL org.opencontainers.image.version="${VERSION}" arch=${ARCH}',
      'USER 65532:65532',
      'WORKDIR /var/lib',
      'WORKDIR linkerd',
      'EXPOSE 4143 4191/tcp 9000-9001/udp',
      'ENTRYPOINT ["/usr/lib/linkerd/linkerd2-proxy"]',
      'CMD --help',
    ]);
    expect(stage.config).toEqual({
      Env: [`PATH=${DEFAULT_PATH}`, 'LINKERD2_PROXY_ADMIN_LISTEN_ADDR=0.0.0.0:4191', 'ARCH=arm'],
      Labels: { 'org.opencontainers.image.version': 'dev', arch: 'arm' },
      User: '65532:65532',
      WorkingDir: '/var/lib/linkerd',
      ExposedPorts: { '4143/tcp': {}, '4191/tcp': {}, '9000/udp': {}, '9001/udp': {} },
      Entrypoint: ['/usr/lib/linkerd/linkerd2-proxy'],
      Cmd: ['/bin/sh', '-c', '--help'],
    });
    expect(stage.fileOperations).toEqual([
      { op: 'mkdir', line: 7, path: '/var/lib', owner: { uid: 65532, gid: 65532 } },
      { op: 'mkdir', line: 8, path: '/var/lib/linkerd', owner: { uid: 65532, gid: 65532 } },
    ]);
    expect(stage.history.every((h) => h.empty_layer && h.created === '2023-11-14T22:13:20Z')).toBe(true);
  });

  it('takes build args over ARG defaults, and ENV over ARG', () => {
    const stage = evaluate(['FROM scratch', 'ARG A=default', 'ARG B=b', 'ENV B=env', 'LABEL a=$A b=$B'], { A: 'given' });
    expect(stage.config.Labels).toEqual({ a: 'given', b: 'env' });
  });

  it('lets one ENV see only the variables set before it, as Docker does', () => {
    const stage = evaluate(['FROM scratch', 'ENV abc=hello', 'ENV abc=bye def=$abc']);
    expect(stage.config.Env).toContain('def=hello');
    expect(stage.config.Env).toContain('abc=bye');
  });

  it('resolves COPY destinations against WORKDIR and parses --chmod and numeric --chown', () => {
    const stage = evaluate(['FROM scratch', 'ARG TARGETARCH', 'WORKDIR /app', 'COPY --chmod=750 --chown=10 bin/$TARGETARCH/* ./bin/', 'ADD a.tar.gz /']);
    expect(stage.fileOperations.slice(1)).toEqual([
      { op: 'copy', line: 4, keyword: 'COPY', sources: ['bin/arm/*'], dest: '/app/bin', destIsDir: true, chmod: 0o750, owner: { uid: 10, gid: 10 } },
      { op: 'copy', line: 5, keyword: 'ADD', sources: ['a.tar.gz'], dest: '/', destIsDir: true },
    ]);
  });

  it('refuses user names in --chown and bad modes', () => {
    expect(() => evaluate(['FROM scratch', 'COPY --chown=nobody a /a'])).toThrow(/numeric ids only/);
    expect(() => evaluate(['FROM scratch', 'COPY --chmod=u+x a /a'])).toThrow(/not an octal mode/);
    expect(() => evaluate(['FROM scratch', 'EXPOSE http'])).toThrow(/EXPOSE http is not a port/);
  });

  it('inherits the base config; ENTRYPOINT resets an inherited CMD, and SHELL changes shell form', () => {
    const base: ImageConfig = {
      architecture: 'arm',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Env: ['PATH=/bin', 'HOME=/root'], Cmd: ['sh'], Labels: { base: 'yes' } },
    };
    const stage = evaluate(['FROM base', 'SHELL ["/bin/busybox", "sh", "-c"]', 'ENTRYPOINT exec busybox httpd -f'], {}, base);
    expect(stage.config.Env).toEqual(['PATH=/bin', 'HOME=/root']);
    expect(stage.config.Cmd).toBeUndefined();
    expect(stage.config.Entrypoint).toEqual(['/bin/busybox', 'sh', '-c', 'exec busybox httpd -f']);
    expect(stage.config.Labels).toEqual({ base: 'yes' });
    expect(base.config?.Cmd).toEqual(['sh']);
  });

  it('names the line of an unsupported instruction', () => {
    expect(() => evaluate(['FROM scratch', 'COPY a /a', 'RUN make'])).toThrow('Line 3: RUN: RUN in a stage of the target platform runs target code');
  });

  it('turns a RUN of idioms into one run operation, variables and WORKDIR applied', () => {
    const stage = evaluate(['FROM scratch', 'ARG PKG=iptables', 'WORKDIR /run', 'RUN apt-get update && apt-get install -y --no-install-recommends $PKG && touch xtables.lock']);
    const run = stage.fileOperations.find((op) => op.op === 'run');
    expect(run).toEqual({
      op: 'run',
      line: 4,
      steps: [
        { kind: 'noop', command: 'apt-get update' },
        { kind: 'apt-install', packages: ['iptables'], installRecommends: false },
        { kind: 'touch', paths: ['/run/xtables.lock'] },
      ],
    });
  });

  it('refuses a RUN that is no idiom with the line, why, and the ways out', () => {
    expect(() => evaluate(['FROM scratch', 'RUN make'])).toThrow(/^Line 2: RUN: .*make is a program that would have to run on the target platform\.$/);
    try {
      evaluate(['FROM scratch', 'RUN make']);
    } catch (e) {
      expect((e as MultiarchError).hint).toMatch(/idioms .*apt-get install.*allowEmulation: true.*FROM --platform=\$BUILDPLATFORM/);
    }
  });
});
