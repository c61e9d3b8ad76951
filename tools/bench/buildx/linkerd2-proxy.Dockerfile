# The proxy image for tools/bench/baseline-buildx.sh only: the proxy compiled
# from source with cargo in a $BUILDPLATFORM stage for the target arch (the
# workspace's packages/linkerd2/proxy/Dockerfile downloads a release instead,
# which cannot run here), then the runtime stage of that Dockerfile.
#
# Context: packages/linkerd2-proxy. Named context `proxy-init-src`:
# packages/linkerd2-proxy-init (its binary is compiled here as in its own
# Dockerfile, so BuildKit reuses that image's build steps).
# Build args: RUST_IMAGE (Debian's rustc/cargo with the target std of each arch
# and the cross gcc; the script assembles it), GO_IMAGE, GOPROXY.
ARG RUST_IMAGE=rust:1.85-bookworm
ARG GO_IMAGE=golang:1.26-bookworm

FROM --platform=$BUILDPLATFORM $RUST_IMAGE AS proxy-deps
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The crates, fetched once for every arch into the layer (as go mod download
# is in the Go images), with stand-ins for the sources the manifest names. A
# registry cache mount shared by the three arches' cargo runs does not work:
# each container has its own CARGO_HOME lock, and two runs unpacking the same
# crate into the mount fail with "File exists".
RUN mkdir src && touch build.rs src/lib.rs src/main.rs \
 && cargo fetch --locked \
 && rm -rf src build.rs

FROM proxy-deps AS proxy
COPY build.rs LICENSE ./
COPY src src
ARG TARGETARCH
# The target folder is a cache mount, one per arch; the C of ring is compiled
# with the target's gcc through cc-rs. The build machine's own triple keeps
# cargo's default linker and compiler.
RUN --mount=type=cache,id=linkerd2-proxy-target-$TARGETARCH,target=/src/target \
    set -e; \
    case "$TARGETARCH" in \
      amd64) triple=x86_64-unknown-linux-gnu; prefix= ;; \
      arm64) triple=aarch64-unknown-linux-gnu; prefix=aarch64-linux-gnu- ;; \
      arm) triple=armv7-unknown-linux-gnueabihf; prefix=arm-linux-gnueabihf- ;; \
      *) echo "no Rust target for $TARGETARCH" >&2; exit 1 ;; \
    esac; \
    if [ "$triple" != "$(rustc -vV | sed -n 's/^host: //p')" ]; then \
      export "CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER=${prefix}gcc" \
        "CC_$(echo "$triple" | tr - _)=${prefix}gcc" "AR_$(echo "$triple" | tr - _)=${prefix}ar"; \
    fi; \
    RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --offline \
      --target "$triple" --bin linkerd2-proxy; \
    mkdir -p /out; \
    cp "target/$triple/release/linkerd2-proxy" LICENSE /out/

FROM --platform=$BUILDPLATFORM $GO_IMAGE AS proxy-init
ARG GOPROXY
ENV GOCACHE=/root/.cache/go-build
WORKDIR /build
COPY --from=proxy-init-src go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache/go-build go mod download
COPY --from=proxy-init-src . .
ARG TARGETOS TARGETARCH TARGETVARIANT
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/linkerd2-proxy-init .

FROM scratch
LABEL org.opencontainers.image.title="linkerd2-proxy"
LABEL org.opencontainers.image.description="Linkerd data-plane proxy"
LABEL org.opencontainers.image.licenses="Apache-2.0"
COPY --from=proxy /out/LICENSE /usr/lib/linkerd/LICENSE
COPY --from=proxy /out/linkerd2-proxy /usr/lib/linkerd/linkerd2-proxy
COPY --from=proxy-init /out/linkerd2-proxy-init /usr/lib/linkerd/linkerd2-proxy-init
ENV LINKERD2_PROXY_INBOUND_LISTEN_ADDR=0.0.0.0:4143
ENV LINKERD2_PROXY_ADMIN_LISTEN_ADDR=0.0.0.0:4191
EXPOSE 4143 4191
USER 2102:2102
ENTRYPOINT ["/usr/lib/linkerd/linkerd2-proxy"]
