#!/usr/bin/env bash
# Measures manifest-push against the RFC's way of publishing multi-arch
# images, in the same run, on the same images:
#
#   ours  publishProject (what `nx run-many -t manifest-push` runs) from the
#         OCI layouts in dist/images/<project>/<arch>: blobs, per-arch
#         manifests (and <tag>-<arch> tags, as the RFC leaves), the index last.
#   RFC   per arch `docker load` of the same image as <repo>:<tag>-<arch> and
#         `docker push`, then `docker manifest create --insecure` and
#         `docker manifest push --insecure` (the way linkerd2's RFC and most
#         CI scripts do it).
#
#   bash tools/bench/push.sh [--synthetic | --workspace DIR] [--arches amd64,arm64,arm] [--trials N] [--no-docker]
#
# Each trial pushes to two fresh loopback registries (one per way), each
# behind a counting HTTP proxy, so both ways are measured by the same meter:
# requests, request bytes (sent) and response bytes. Rounds per trial: first
# push, then re-push of the unchanged images; `docker load` is timed on its
# own (a CI job that builds with docker has the images in the daemon
# already; one that gets them as files must load them first).
# Wall-time ratios are RFC / ours, medians over the trials.
#
# Layouts: every project in dist/images/ (of this workspace, or of the
# checkout --workspace names) that has all the arches (build them with
# `npx nx run-many -t docker-arch-build--amd64 docker-arch-build--arm64
# docker-arch-build--arm`), or, when there are none (or with --synthetic),
# five Linkerd-shaped synthetic images per arch. The docker side needs
# docker.io, skopeo (to turn each layout into a docker-archive) and root (it
# starts its own dockerd); --no-docker measures ours alone.
# Bounded: N trials (default 3, at most 5); everything it starts (registries,
# dockerd) is stopped by pid and its folders removed. Figures go to stdout and
# to tmp/bench/push-<time>.json.
set -euo pipefail
LOG_TAG=bench-push
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/bench-registry.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-registry.sh"

synthetic=0
layouts_root=$REPO_ROOT
arches=amd64,arm64,arm
trials=3
docker_way=1
usage="usage: bash tools/bench/push.sh [--synthetic | --workspace DIR] [--arches a,b,c] [--trials N] [--no-docker]"
while [ $# -gt 0 ]; do
  case "$1" in
    --synthetic) synthetic=1 ;;
    --workspace) layouts_root=${2:?--workspace needs a folder}; shift ;;
    --workspace=*) layouts_root=${1#--workspace=} ;;
    --arches) arches=${2:?--arches needs a value}; shift ;;
    --arches=*) arches=${1#--arches=} ;;
    --trials) trials=${2:?--trials needs a value}; shift ;;
    --trials=*) trials=${1#--trials=} ;;
    --no-docker) docker_way=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1" "$usage" ;;
  esac
  shift
done
[[ "$trials" =~ ^[1-5]$ ]] || die "--trials $trials is not 1 to 5" "give e.g. --trials 3"
[ -d "$layouts_root" ] || die "--workspace $layouts_root is not a folder" "give the root of a checkout whose dist/images holds built layouts"

command -v docker-registry >/dev/null || die "docker-registry not found" "run bash tools/setup.sh"
docker_cli=""
if [ "$docker_way" = 1 ]; then
  command -v skopeo >/dev/null || die "skopeo not found" "install Debian's skopeo, or measure ours alone with --no-docker"
  command -v dockerd >/dev/null || die "dockerd not found" "install Debian's docker.io, or measure ours alone with --no-docker"
  [ "$(id -u)" -eq 0 ] || die "the docker comparison starts its own dockerd, which needs root" "run it as root, or measure ours alone with --no-docker"
  # Debian's engine is 20.10; a client from 23 on may be first on PATH and refuse it, so take the first older one.
  while IFS= read -r candidate; do
    major=$("$candidate" --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p')
    if [ -n "$major" ] && [ "$major" -lt 23 ]; then docker_cli=$candidate; break; fi
  done < <(type -ap docker | awk '!seen[$0]++')
  [ -n "$docker_cli" ] || docker_cli=$(command -v docker) || die "no docker client found" "install Debian's docker.io"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nxm-bench-push.XXXXXX")
export NX_MULTIARCH_STATE_DIR="$work/services"
dockerd_started=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Registries the measuring program left running (it stops its own; this covers a crash).
  stop_state_registries
  [ "$dockerd_started" = 0 ] || bash "$REPO_ROOT/tools/services.sh" stop dockerd >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the plugin"
(cd "$REPO_ROOT" && npm run --silent build:plugin >&2)
docker_host=""
if [ "$docker_way" = 1 ]; then
  dockerd_started=1
  docker_host=$(bash "$REPO_ROOT/tools/services.sh" start dockerd)
  log "dockerd at $docker_host, client $docker_cli ($("$docker_cli" --version))"
fi
mkdir -p "$REPO_ROOT/tmp/bench"

BENCH_WORKSPACE="$REPO_ROOT" BENCH_LAYOUTS="$(cd "$layouts_root" && pwd)" BENCH_WORK="$work" BENCH_SYNTHETIC="$synthetic" BENCH_ARCHES="$arches" BENCH_TRIALS="$trials" \
  BENCH_DOCKER_CLI="$docker_cli" BENCH_DOCKER_HOST="$docker_host" BENCH_OUT="$REPO_ROOT/tmp/bench/push-$(date -u +%Y%m%dT%H%M%SZ).json" \
  node -r "$REPO_ROOT/node_modules/@swc-node/register" "$REPO_ROOT/tools/bench/push-measure.ts"
