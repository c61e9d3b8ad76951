/**
 * Repositories shaped like Linkerd's three (written here, no file copied):
 * the layouts, Dockerfile styles and manifest syntax import-repo meets in the
 * real ones. Each returns path → content, relative to the repository root, so
 * a test writes it into a Tree and a benchmark onto disk. The Cargo
 * workspace is generated to any size.
 */
export type RepoFiles = Record<string, string>;

const goMain = (what: string) => `// Command ${what}.\npackage main\n\nimport "fmt"\n\nfunc main() { fmt.Println("${what}") }\n`;

/** A stage that builds Go inside the image from the repository root (the real images' style). */
const goBuildStage = (pkg: string, out: string) =>
  [
    'ARG GO_IMAGE=golang:1.22-alpine',
    'FROM --platform=$BUILDPLATFORM $GO_IMAGE AS go-deps',
    'WORKDIR /linkerd-build',
    'COPY go.mod go.sum ./',
    'RUN go mod download',
    'FROM go-deps AS golang',
    'COPY pkg pkg',
    `COPY ${pkg.split('/')[0]} ${pkg.split('/')[0]}`,
    'ARG TARGETOS TARGETARCH',
    `RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/${out} ./${pkg}`,
  ].join('\n');

/**
 * A Go module with several mains, `cmd` folders in several places, images
 * built with the repository root as context, a CLI whose Dockerfile ends in
 * a bundle of darwin/windows/linux binaries, and what ships nowhere: a
 * devcontainer, a development Dockerfile, a test image, an example.
 */
export function linkerd2Shape(): RepoFiles {
  return {
    'go.mod': 'module example.com/linkerd2\n\ngo 1.22\n',
    'go.sum': '',
    LICENSE: 'Apache License 2.0 (fixture)\n',
    'pkg/k8s/k8s.go': 'package k8s\n',
    'controller/cmd/main.go': goMain('controller'),
    'controller/api/api.go': 'package api\n',
    'controller/Dockerfile': `${goBuildStage('controller/cmd', 'controller')}\n\nFROM scratch\nCOPY LICENSE /linkerd/LICENSE\nCOPY --from=golang /out/controller /controller\nENTRYPOINT ["/controller"]\n`,
    'controller/dev.Dockerfile': 'FROM golang:1.22\nCOPY . .\nRUN go run ./controller/cmd\n',
    'viz/metrics-api/cmd/main.go': goMain('metrics-api'),
    'viz/metrics-api/Dockerfile': `${goBuildStage('viz/metrics-api/cmd', 'metrics-api')}\n\nFROM scratch\nCOPY LICENSE /linkerd/LICENSE\nCOPY --from=golang /out/metrics-api /metrics-api\nENTRYPOINT ["/metrics-api"]\n`,
    'viz/tap/cmd/main.go': goMain('tap'),
    'viz/tap/integration/README.md': 'Notes on tap, no arch tests here.\n',
    'viz/tap/Dockerfile': `FROM scratch\nCOPY LICENSE /linkerd/LICENSE\nCOPY bin/tap /tap\nENTRYPOINT ["/tap"]\n`,
    'web/main.go': goMain('web'),
    'web/templates/index.tmpl': '<html></html>\n',
    'web/Dockerfile': `${goBuildStage('web', 'web')}\n\nFROM scratch\nCOPY LICENSE /linkerd/LICENSE\nCOPY web/templates /app/templates\nCOPY --from=golang /out/web /web\nENTRYPOINT ["/web"]\n`,
    'cli/main.go': goMain('cli'),
    'cli/Dockerfile': [
      goBuildStage('cli', 'linkerd'),
      'FROM golang AS linux-amd64-full',
      'RUN GOOS=linux GOARCH=amd64 go build -o /out/linkerd-linux-amd64 ./cli',
      'FROM golang AS darwin-full',
      'RUN GOOS=darwin go build -o /out/linkerd-darwin ./cli',
      'FROM golang AS windows-full',
      'RUN GOOS=windows go build -o /out/linkerd-windows.exe ./cli',
      '',
      'FROM scratch',
      'COPY LICENSE /linkerd/LICENSE',
      'COPY --from=linux-amd64-full /out/linkerd-linux-amd64 /out/linkerd-linux-amd64',
      'COPY --from=darwin-full /out/linkerd-darwin /out/linkerd-darwin',
      'COPY --from=windows-full /out/linkerd-windows.exe /out/linkerd-windows.exe',
      '',
    ].join('\n'),
    '.devcontainer/Dockerfile': 'FROM golang:1.22\nRUN apt-get update\n',
    '.devcontainer/devcontainer.json': '{ "build": { "dockerfile": "Dockerfile" } }\n',
    'test/integration/images/echo/main.go': goMain('echo'),
    'test/integration/images/echo/Dockerfile': 'FROM scratch\nCOPY bin/echo /echo\n',
    'examples/hello/main.go': goMain('hello'),
  };
}

/**
 * Linkerd's proxy image as linkerd2 writes it: a fetch stage on the build
 * machine that downloads the proxy release for the target arch (and its
 * checksum), checks and unpacks it; the final stage copies the binary out.
 * Path: proxy/Dockerfile in the linkerd2 shape.
 */
export function proxyImageDockerfile(): string {
  const release = '${PROXY_URL}/${LINKERD2_PROXY_VERSION}/linkerd2-proxy-${LINKERD2_PROXY_VERSION}-${TARGETARCH}';
  return [
    'ARG LINKERD2_PROXY_VERSION=v2.14.0',
    'ARG PROXY_URL=https://releases.example.invalid/linkerd2-proxy',
    'FROM --platform=$BUILDPLATFORM curlimages/curl:8.5.0 AS fetch',
    'ARG LINKERD2_PROXY_VERSION',
    'ARG PROXY_URL',
    'ARG TARGETARCH',
    'WORKDIR /build',
    `RUN curl -fsSLo "linkerd2-proxy-\${LINKERD2_PROXY_VERSION}-\${TARGETARCH}.tar.gz" "${release}.tar.gz" \\`,
    ` && curl -fsSLo proxy.txt "${release}.txt" \\`,
    ' && sha256sum -c proxy.txt \\',
    ' && mkdir -p /out \\',
    ' && tar -xzf "linkerd2-proxy-${LINKERD2_PROXY_VERSION}-${TARGETARCH}.tar.gz" -C /out --strip-components=1',
    '',
    'FROM scratch',
    'COPY --from=fetch /out/LICENSE /usr/lib/linkerd/LICENSE',
    'COPY --from=fetch /out/linkerd2-proxy /usr/lib/linkerd/linkerd2-proxy',
    'ENTRYPOINT ["/usr/lib/linkerd/linkerd2-proxy"]',
    '',
  ].join('\n');
}

/** A Go module with two mains and an image built from the repository root that copies source folders, never binaries. */
export function proxyInitShape(): RepoFiles {
  return {
    'go.mod': 'module example.com/linkerd2-proxy-init\n\ngo 1.22\n',
    'go.sum': '',
    LICENSE: 'Apache License 2.0 (fixture)\n',
    'proxy-init/main.go': goMain('proxy-init'),
    'cni-plugin/main.go': goMain('cni-plugin'),
    'cni-plugin/deployment/scripts/install-cni.sh': '#!/bin/sh\n',
    'internal/iptables/iptables.go': 'package iptables\n',
    'Dockerfile': [
      'FROM --platform=$BUILDPLATFORM golang:1.22 AS go',
      'WORKDIR /build',
      'COPY go.mod go.sum ./',
      'COPY internal internal',
      'COPY proxy-init proxy-init',
      'ARG TARGETARCH',
      'RUN GOARCH=$TARGETARCH go build -o /out/linkerd2-proxy-init ./proxy-init',
      'FROM scratch',
      'COPY LICENSE /LICENSE',
      'COPY --from=go /out/linkerd2-proxy-init /usr/local/bin/proxy-init',
      'ENTRYPOINT ["/usr/local/bin/proxy-init"]',
      '',
    ].join('\n'),
    'cni-plugin/Dockerfile': [
      'FROM --platform=$BUILDPLATFORM golang:1.22 AS go',
      'WORKDIR /build',
      'COPY go.mod go.sum ./',
      'COPY cni-plugin cni-plugin',
      'COPY internal internal',
      'ARG TARGETARCH',
      'RUN GOARCH=$TARGETARCH go build -o /out/linkerd-cni ./cni-plugin',
      'FROM scratch',
      'COPY LICENSE /LICENSE',
      'COPY cni-plugin/deployment/scripts/install-cni.sh /install-cni.sh',
      'COPY --from=go /out/linkerd-cni /opt/cni/bin/linkerd-cni',
      'ENTRYPOINT ["/install-cni.sh"]',
      '',
    ].join('\n'),
  };
}

export interface ProxyShapeSize {
  /** Library crates under linkerd/ (the real proxy has about 85). */
  crates: number;
  /** Files per library crate, Cargo.toml included. */
  filesPerCrate: number;
  /** Crates that carry a fuzz crate in <crate>/fuzz. */
  fuzzEvery: number;
}

/**
 * A Cargo workspace like the proxy's: library crates under linkerd/ whose
 * manifests use `"""` strings, inline tables over several lines, dotted
 * keys and target tables; fuzz crates; one binary crate; a devcontainer; an
 * image that stages the binary and the root LICENSE.
 */
export function proxyShape(size: ProxyShapeSize = { crates: 85, filesPerCrate: 4, fuzzEvery: 10 }): RepoFiles {
  const files: RepoFiles = {
    'Cargo.toml': [
      '[workspace]',
      'resolver = "2"',
      'members = [',
      '    "linkerd/*",',
      '    "linkerd2-proxy",',
      ']',
      '',
      '[workspace.package]',
      'version = "0.1.0"',
      'description = """',
      'The data plane [of a mesh] = "fixture"',
      '"""',
      '',
      '[profile.release]',
      'debug = 1',
      'lto = true',
      '',
    ].join('\n'),
    'Cargo.lock': '# generated\nversion = 3\n',
    LICENSE: 'Apache License 2.0 (fixture)\n',
    'rust-toolchain.toml': '[toolchain]\nchannel = "1.85.0"\n',
    'linkerd2-proxy/Cargo.toml': '[package]\nname = "linkerd2-proxy"\nversion = { workspace = true }\nedition = "2021"\npublish = false\n\n[dependencies]\nlinkerd-c0 = { path = "../linkerd/c0" }\n',
    'linkerd2-proxy/src/main.rs': 'fn main() {}\n',
    'Dockerfile': 'FROM scratch\nCOPY LICENSE /usr/lib/linkerd/LICENSE\nCOPY bin/linkerd2-proxy /usr/lib/linkerd/linkerd2-proxy\nENTRYPOINT ["/usr/lib/linkerd/linkerd2-proxy"]\n',
    '.devcontainer/Dockerfile': 'FROM rust:1.85\nRUN rustup component add clippy\n',
  };
  for (let i = 0; i < size.crates; i++) {
    const dir = `linkerd/c${i}`;
    files[`${dir}/Cargo.toml`] = [
      '[package]',
      `name = "linkerd-c${i}"`,
      'version.workspace = true',
      'edition = "2021"',
      'publish = false',
      'description = """',
      `Crate ${i} of the fixture, with "quotes", [brackets] and a # that is no comment.`,
      '"""',
      '',
      '[dependencies]',
      'futures = { version = "0.3", default-features = false, features = [',
      '    "std",',
      '] }',
      i > 0 ? `linkerd-c${i - 1} = { path = "../c${i - 1}" }` : 'tokio = { version = "1", features = ["rt"] }',
      '',
      "[target.'cfg(target_os = \"linux\")'.dependencies]",
      'libc = "0.2"',
      '',
    ].join('\n');
    files[`${dir}/src/lib.rs`] = `//! Crate ${i}.\n${Array.from({ length: Math.max(0, size.filesPerCrate - 2) }, (_, j) => `pub mod m${j};`).join('\n')}\n`;
    for (let j = 0; j < size.filesPerCrate - 2; j++) files[`${dir}/src/m${j}.rs`] = `pub fn f${j}() -> usize { ${j} }\n`;
    if (size.fuzzEvery > 0 && i % size.fuzzEvery === 0) {
      files[`${dir}/fuzz/Cargo.toml`] = [
        '[package]',
        `name = "linkerd-c${i}-fuzz"`,
        'version = "0.0.0"',
        'publish = false',
        'edition = "2021"',
        '',
        '[package.metadata]',
        'cargo-fuzz = true',
        '',
        '[[bin]]',
        'name = "fuzz_target_1"',
        'path = "fuzz_targets/fuzz_target_1.rs"',
        'test = false',
        'doc = false',
        '',
      ].join('\n');
      files[`${dir}/fuzz/fuzz_targets/fuzz_target_1.rs`] = '#![no_main]\n';
    }
  }
  return files;
}
