import { PLATFORMS } from '../platform/platforms';
import { parseDockerfile } from './parse';
import { planStages, STAGED_ROOT, type ContextProbe } from './stage-graph';

const dirs = new Set(['', 'controller', 'web', 'pkg', 'proxy']);
const probe: ContextProbe = (path) => (dirs.has(path) ? 'dir' : path.includes('.') ? 'file' : undefined);

function plan(text: string, arch: keyof typeof PLATFORMS = 'arm64') {
  return planStages({ parsed: parseDockerfile(text, 'Dockerfile'), buildArgs: {}, target: PLATFORMS[arch], probe });
}

const GO = `ARG GO_IMAGE=golang:1.26
FROM --platform=$BUILDPLATFORM $GO_IMAGE AS build
WORKDIR /linkerd-build
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH TARGETVARIANT
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=\${TARGETVARIANT#v} go build -trimpath -ldflags "-s -w" -o /out/controller ./controller
FROM scratch
COPY --from=build /out/controller /controller
ENTRYPOINT ["/controller"]
`;

describe('planStages', () => {
  it('maps a go build of a $BUILDPLATFORM stage to the package it builds, for every arch', () => {
    for (const arch of ['amd64', 'arm64', 'arm'] as const) {
      const result = plan(GO, arch);
      expect(result.blockers).toEqual([]);
      expect(result.items).toEqual([{ stage: 'build', stagePath: '/out/controller', origin: { kind: 'go', packageDir: 'controller', line: 8 } }]);
      const copy = result.instructions.find((i) => i.kind === 'COPY');
      expect(copy).toMatchObject({ rawSources: [`${STAGED_ROOT}/build/out/controller`], rawDest: '/controller', flags: {} });
    }
  });

  it('reads the case "$TARGETARCH" idiom into the Rust triple and follows cp of the binary', () => {
    const text = `FROM --platform=$BUILDPLATFORM rust:1.85 AS build
WORKDIR /src
COPY proxy proxy
ARG TARGETARCH
RUN cd proxy && cargo fetch
RUN case "$TARGETARCH" in \\
      amd64) target=x86_64-unknown-linux-gnu ;; \\
      arm64) target=aarch64-unknown-linux-gnu ;; \\
      arm) target=armv7-unknown-linux-gnueabihf ;; \\
    esac && cd proxy && cargo build --release --target "$target" -p linkerd2-proxy && \\
    mkdir -p /out && cp "target/$target/release/linkerd2-proxy" /out/
FROM scratch
COPY --from=build /out/linkerd2-proxy /usr/lib/linkerd/linkerd2-proxy
`;
    for (const arch of ['amd64', 'arm64', 'arm'] as const) {
      const result = plan(text, arch);
      expect(result.blockers).toEqual([]);
      expect(result.items).toEqual([
        { stage: 'build', stagePath: '/out/linkerd2-proxy', origin: { kind: 'cargo', crate: 'linkerd2-proxy', cwd: 'proxy', bin: 'linkerd2-proxy', line: 6 } },
      ]);
    }
  });

  it('refuses a cargo build for another arch than the target, and one without --target', () => {
    const fixed = plan('FROM --platform=$BUILDPLATFORM rust AS b\nWORKDIR /s\nCOPY . .\nRUN cargo build --release --target aarch64-unknown-linux-gnu --bin x\nFROM scratch\nCOPY --from=b /s/target/aarch64-unknown-linux-gnu/release/x /x\n', 'amd64');
    expect(fixed.blockers[0]).toMatchObject({ line: 4, instruction: 'RUN' });
    expect(fixed.blockers[0].reason).toContain('but the target arch amd64 is x86_64-unknown-linux-gnu');
    const host = plan('FROM --platform=$BUILDPLATFORM rust AS b\nWORKDIR /s\nCOPY . .\nRUN cargo build --release\nFROM scratch\nCOPY --from=b /s/target/release/x /x\n');
    expect(host.blockers[0].reason).toContain('has no --target');
  });

  it('refuses a RUN of a target-platform stage with its line, as needing the target platform', () => {
    const result = plan('FROM alpine AS tools\nRUN apk add curl\nFROM scratch\nCOPY --from=tools /usr/bin/curl /curl\n');
    expect(result.blockers).toEqual([expect.objectContaining({ line: 2, instruction: 'RUN', needsTargetPlatform: true })]);
  });

  it('refuses a RUN of a build stage that is no compile idiom, with its line', () => {
    const result = plan('FROM --platform=$BUILDPLATFORM golang AS b\nWORKDIR /s\nCOPY . .\nRUN make all\nFROM scratch\nCOPY --from=b /s/x /x\n');
    expect(result.blockers[0]).toMatchObject({ line: 4, instruction: 'RUN', needsTargetPlatform: false });
    expect(result.blockers[0].reason).toContain('"make all" is not a step the plugin maps');
  });

  it('refuses COPY --from of a path no stage produces, naming what the stage does produce', () => {
    const result = plan(GO.replace('COPY --from=build /out/controller /controller', 'COPY --from=build /out/web /web'));
    expect(result.blockers).toHaveLength(1);
    expect(result.blockers[0].line).toBe(10);
    expect(result.blockers[0].reason).toBe('COPY --from=build /out/web: no step of stage build produces /out/web; it produces /out/controller (go build of controller (line 8))');
  });

  it('refuses a go build whose output name cannot be determined', () => {
    const result = plan('FROM --platform=$BUILDPLATFORM golang AS b\nWORKDIR /s\nCOPY . .\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build .\nFROM scratch\nCOPY --from=b /s/app /app\n');
    expect(result.blockers[0]).toMatchObject({ line: 5, instruction: 'RUN' });
    expect(result.blockers[0].reason).toContain('the output name of go build cannot be determined');
    const dynamic = plan('FROM --platform=$BUILDPLATFORM golang AS b\nWORKDIR /s\nCOPY . .\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH go build -o "$(cat name)" ./controller\nFROM scratch\nCOPY --from=b /s/app /app\n');
    expect(dynamic.blockers[0].reason).toContain('go build -o names its output with a command');
  });

  it('refuses a go build that does not take GOARCH from TARGETARCH (an undeclared ARG is empty in the stage)', () => {
    const result = plan(GO.replace('ARG TARGETOS TARGETARCH TARGETVARIANT\n', ''));
    expect(result.blockers[0].reason).toContain('go build has no GOARCH');
  });

  it('copies a folder of outputs, and files a build stage took from the context', () => {
    const text = `FROM --platform=$BUILDPLATFORM golang AS build
WORKDIR /src
COPY . .
ARG TARGETARCH
RUN GOARCH=$TARGETARCH go build -o /out/ ./controller ./web
FROM --platform=$BUILDPLATFORM scratch AS files
COPY LICENSE /files/LICENSE
FROM scratch
COPY --from=build /out/ /bin/
COPY --from=files /files/LICENSE /LICENSE
`;
    const result = plan(text);
    expect(result.blockers).toEqual([]);
    expect(result.items.map((i) => [i.stagePath, i.origin])).toEqual([
      ['/out/controller', { kind: 'go', packageDir: 'controller', line: 5 }],
      ['/out/web', { kind: 'go', packageDir: 'web', line: 5 }],
      ['/files/LICENSE', { kind: 'context', path: 'LICENSE' }],
    ]);
    expect(result.instructions.filter((i) => i.kind === 'COPY').map((i) => (i as { rawSources: string[] }).rawSources)).toEqual([
      [`${STAGED_ROOT}/build/out/`],
      [`${STAGED_ROOT}/files/files/LICENSE`],
    ]);
  });

  it('follows a build stage that starts FROM an earlier one (go-deps, then the compile), as Linkerd writes them', () => {
    const text = `ARG GO_IMAGE=golang:1.26
FROM --platform=$BUILDPLATFORM $GO_IMAGE AS go-deps
WORKDIR /linkerd-build
COPY go.mod go.sum ./
RUN go mod download

FROM go-deps AS golang
COPY pkg pkg
COPY controller controller
ARG TARGETARCH TARGETOS TARGETVARIANT
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=\${TARGETVARIANT#v} go build -o /out/controller ./controller

FROM scratch
COPY --from=golang /out/controller /controller
`;
    const result = plan(text, 'arm');
    expect(result.blockers).toEqual([]);
    expect(result.items).toEqual([{ stage: 'golang', stagePath: '/out/controller', origin: { kind: 'go', packageDir: 'controller', line: 11 } }]);
  });
});
