import { parseDockerfile } from '../../dockerfile/parse';
import { firstForeignRun as firstForeignRunOf, firstLayoutFrom as firstLayoutFromOf } from './preflight';
import type { Arch } from '../../platform/platforms';

/** The checks read the Dockerfile as docker-arch-build parsed it once. */
const firstForeignRun = (text: string, target: Arch, daemon: Arch | undefined) => firstForeignRunOf(parseDockerfile(text), target, daemon);
const firstLayoutFrom = (text: string) => firstLayoutFromOf(parseDockerfile(text));

describe('which RUN lines need emulation', () => {
  const crossPattern = `FROM --platform=$BUILDPLATFORM golang:1.19 AS build
ARG TARGETARCH
RUN GOARCH=$TARGETARCH go build -o /out/app .
FROM scratch
COPY --from=build /out/app /app
`;

  it('treats FROM --platform=$BUILDPLATFORM stages as native', () => {
    expect(firstForeignRun(crossPattern, 'arm64', 'amd64')).toBeUndefined();
  });

  it('finds a RUN in a stage of the target platform, with its line', () => {
    expect(firstForeignRun('FROM busybox\nCOPY a /a\nRUN echo hi\n', 'arm64', 'amd64')).toEqual({ arch: 'arm64', line: 3 });
    expect(firstForeignRun('FROM --platform=linux/arm/v7 busybox AS x\nRUN true\nFROM scratch\n', 'amd64', 'amd64')).toEqual({ arch: 'arm', line: 2 });
    expect(firstForeignRun('FROM --platform=${TARGETPLATFORM} busybox\nRUN true\n', 'arm64', 'amd64')).toEqual({ arch: 'arm64', line: 2 });
  });

  it('needs nothing when the daemon runs the target arch itself, or there is no RUN', () => {
    expect(firstForeignRun('FROM busybox\nRUN echo hi\n', 'arm64', 'arm64')).toBeUndefined();
    expect(firstForeignRun('FROM scratch\nCOPY a /a\n', 'arm64', 'amd64')).toBeUndefined();
  });
});

it('finds a FROM oci-layout:// base, which only the native engine can read', () => {
  expect(firstLayoutFrom('FROM scratch AS a\nFROM --platform=$TARGETPLATFORM oci-layout://dist/images/base/arm64:latest\nCOPY x /x\n')).toEqual({
    line: 2,
    image: 'oci-layout://dist/images/base/arm64:latest',
  });
  expect(firstLayoutFrom('FROM 127.0.0.1:5000/base:1\n')).toBeUndefined();
});
