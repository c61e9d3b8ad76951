import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCargoCross } from '../../src/cross/cargo-cross';
import { buildGoCross } from '../../src/cross/go-cross';
import { dockerfileProducers } from '../../src/graph/dockerfile-edges';
import { buildImage } from '../../src/image/build-image';
import type { WorkspaceProjectInfo } from '../../src/image/stage-producers';
import { MultiarchError } from '../../src/errors';
import { cleanUpTemp as cleanUpCross, crossContextFor, FIXTURES, tempDir as crossTempDir } from '../cross/helpers';
import { EPOCH, imageFiles, writeFiles } from './helpers';

/**
 * A multi-stage Dockerfile in the real style, end to end: a Go and a Rust
 * build stage on $BUILDPLATFORM (go build with GOARCH from $TARGETARCH;
 * cargo build with the triple from `case "$TARGETARCH"`), a final stage
 * that only copies. The compiles are the projects' real go-cross and
 * cargo-cross builds for arm64; the image holds exactly their bytes, built
 * daemonless, the same digest in another checkout path.
 */
jest.setTimeout(600_000);

const DOCKERFILE = `ARG GO_IMAGE=golang:1.26
FROM --platform=$BUILDPLATFORM $GO_IMAGE AS go
WORKDIR /src
COPY go-hello/go.mod ./
RUN go mod download
COPY go-hello .
ARG TARGETOS TARGETARCH TARGETVARIANT
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=\${TARGETVARIANT#v} go build -trimpath -o /out/go-hello .

FROM --platform=$BUILDPLATFORM rust:1.85 AS rust
WORKDIR /src
COPY rust-hello .
RUN cargo fetch
ARG TARGETARCH
RUN case "$TARGETARCH" in \\
      amd64) triple=x86_64-unknown-linux-gnu ;; \\
      arm64) triple=aarch64-unknown-linux-gnu ;; \\
      arm) triple=armv7-unknown-linux-gnueabihf ;; \\
      *) echo "unsupported arch $TARGETARCH" >&2; exit 1 ;; \\
    esac && \\
    cargo build --release --target "$triple" --bin rust-hello && \\
    mkdir -p /out && cp "target/$triple/release/rust-hello" /out/

FROM scratch
COPY --from=go /out/go-hello /usr/bin/go-hello
COPY --from=rust /out/rust-hello /usr/bin/rust-hello
ENTRYPOINT ["/usr/bin/rust-hello"]
`;

const PROJECTS: WorkspaceProjectInfo[] = [
  { name: 'go-hello', root: 'packages/go-hello', targets: { 'go-cross': { executor: 'nx-multiarch:go-cross', options: {} } } },
  { name: 'rust-hello', root: 'packages/rust-hello', targets: { 'cargo-cross': { executor: 'nx-multiarch:cargo-cross', options: {} } } },
  { name: 'app', root: 'packages/app', targets: { 'docker-arch-build': { executor: 'nx-multiarch:docker-arch-build', options: { context: 'packages' } } } },
];

async function workspace(): Promise<string> {
  const root = join(crossTempDir('multi-stage'), 'ws');
  cpSync(join(FIXTURES, 'go-hello'), join(root, 'packages/go-hello'), { recursive: true });
  cpSync(join(FIXTURES, 'rust-hello'), join(root, 'packages/rust-hello'), { recursive: true, filter: (src) => !/[/\\]target$/.test(src) });
  await writeFiles(root, { 'packages/app/Dockerfile': DOCKERFILE });
  return root;
}

const image = (root: string, log: string[] = []) =>
  buildImage({ workspaceRoot: root, project: 'app', projectRoot: 'packages/app', arch: 'arm64', context: 'packages', projects: PROJECTS, sourceDateEpoch: EPOCH, attestations: false, log: (l) => log.push(l) });

let a: string;

beforeAll(async () => {
  a = await workspace();
  await buildGoCross(crossContextFor(a, 'go-hello', 'packages/go-hello'), { arch: 'arm64' });
  await buildCargoCross(crossContextFor(a, 'rust-hello', 'packages/rust-hello'), { arch: 'arm64' });
});
afterAll(() => cleanUpCross());

it('builds the final stage from the go-cross and cargo-cross outputs, byte for byte, without running a stage', async () => {
  const log: string[] = [];
  const { summary, outputDir } = await image(a, log);
  expect(summary.engine).toBe('native');
  expect(log).toContain('app: stage go /out/go-hello <- dist/cross/go-hello/arm64/go-hello (go-hello:go-cross)');
  expect(log).toContain('app: stage rust /out/rust-hello <- dist/cross/rust-hello/arm64/rust-hello (rust-hello:cargo-cross)');
  const files = await imageFiles(outputDir);
  expect([...files.keys()].sort()).toEqual(['usr', 'usr/bin', 'usr/bin/go-hello', 'usr/bin/rust-hello']);
  expect(files.get('usr/bin/go-hello')?.content?.equals(readFileSync(join(a, 'dist/cross/go-hello/arm64/go-hello')))).toBe(true);
  expect(files.get('usr/bin/rust-hello')?.content?.equals(readFileSync(join(a, 'dist/cross/rust-hello/arm64/rust-hello')))).toBe(true);
});

it('gives the same digest in a checkout at another path', async () => {
  const first = (await image(a)).summary.manifestDigest;
  const b = await workspace();
  cpSync(join(a, 'dist/cross'), join(b, 'dist/cross'), { recursive: true });
  expect((await image(b)).summary.manifestDigest).toBe(first);
});

it('names the missing artifact and the target that builds it, and leaves dist/images empty', async () => {
  const c = await workspace();
  const error = await image(c).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MultiarchError);
  expect((error as MultiarchError).message).toBe(
    "packages/app/Dockerfile line 8: go-hello's go-cross output dist/cross/go-hello/arm64/go-hello does not exist (needed for /out/go-hello of stage go, --arch=arm64).",
  );
  expect((error as MultiarchError).hint).toContain('nx run go-hello:go-cross --arch=arm64');
  expect(existsSync(join(c, 'dist/images/app/arm64'))).toBe(false);
});

it('gives the graph the edges from the image to the projects its stages compile, for every arch', () => {
  const edges = dockerfileProducers(a, PROJECTS[2], { context: 'packages' }, PROJECTS, ['amd64', 'arm64', 'arm']);
  expect(edges).toEqual([
    { project: 'go-hello', dockerfile: 'packages/app/Dockerfile' },
    { project: 'rust-hello', dockerfile: 'packages/app/Dockerfile' },
  ]);
});
