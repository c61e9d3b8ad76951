#!/usr/bin/env bash
# Native against docker engine: the same Dockerfile and the same cross-built
# binaries, built into an OCI layout by each engine, wall time via hyperfine.
#
#   bash tools/bench/engines.sh [ARCH] [RUNS] [PROJECT]
#        (defaults: arm64 5 linkerd2-controller)
#
# 1. engines: the plugin's compiled engines called directly (no Nx start-up)
#    on one staged context: the final stage of PROJECT's Dockerfile as
#    strategy 1 writes it (tools/lib/final-stage.sh: COPY --from becomes
#    COPY bin/<name>, since docker cannot run the golang build stage here),
#    plus its cross binaries from dist/cross/PROJECT/ARCH copied into bin/.
#    The layout folder is emptied before every run.
# 2. nx: `npx nx run PROJECT:docker-arch-build --arch=ARCH --engine=native|docker
#    --skip-nx-cache --excludeTaskDependencies` (the cross binaries are built
#    once beforehand). Skipped, with the reason, when that target cannot build
#    in this workspace yet.
#
# The docker engine needs a daemon: DOCKER_HOST if set, else the one
# `tools/services.sh start dockerd` starts (and this script stops it again if
# it started it). Both engines run warm: one warm-up run each, so docker's
# layer cache is as filled as it is on a developer's machine.
# Prints mean wall times and docker/native (goal in issue 17: native at least 5x faster, both warm).
set -euo pipefail
LOG_TAG=bench-engines
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/final-stage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/final-stage.sh"
# shellcheck source=../lib/bench-step.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/bench-step.sh"

ARCH=${1:-arm64}
RUNS=${2:-5}
PROJECT=${3:-linkerd2-controller}
command -v hyperfine >/dev/null || die "hyperfine is not installed" "apt-get install hyperfine"
command -v jq >/dev/null || die "jq is not installed" "apt-get install jq"
case "$ARCH" in
  amd64 | arm64 | arm | ppc64le | s390x) ;;
  *) die "unsupported arch '$ARCH'" "use one of: amd64 arm64 arm ppc64le s390x" ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nx-multiarch-bench-engines.XXXXXX")
STARTED_DOCKERD=false
cleanup() {
  if $STARTED_DOCKERD; then bash "$REPO_ROOT/tools/services.sh" stop dockerd >&2 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$WORK/nx-cache"
unset NX_SELF_HOSTED_REMOTE_CACHE_SERVER NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN

cd "$REPO_ROOT"
if [ -z "${DOCKER_HOST:-}" ]; then
  if ! bash tools/services.sh status dockerd >/dev/null 2>&1; then STARTED_DOCKERD=true; fi
  DOCKER_HOST=$(bash tools/services.sh start dockerd)
  export DOCKER_HOST
fi
log "docker daemon: DOCKER_HOST=$DOCKER_HOST"

log "building the plugin (Nx and the runner load dist/)"
npm run --silent build:plugin

PROJECT_JSON=$(npx nx show project "$PROJECT" --json) ||
  die "Nx does not know project $PROJECT" "name a project with a docker-arch-build target: npx nx show projects --with-target docker-arch-build"
PROJECT_ROOT=$(jq -r .root <<<"$PROJECT_JSON")
CROSS_TARGET=$(jq -r '.targets | keys[] | select(. == "go-cross" or . == "cargo-cross")' <<<"$PROJECT_JSON" | head -n1)
[ -n "$CROSS_TARGET" ] || die "$PROJECT has no go-cross or cargo-cross target" "pick a project whose image holds its own cross-built binary"
DOCKERFILE="$REPO_ROOT/$PROJECT_ROOT/Dockerfile"
[ -f "$DOCKERFILE" ] || die "no Dockerfile at $PROJECT_ROOT/Dockerfile" "pick a project with an image"

log "cross-building $PROJECT for $ARCH ($CROSS_TARGET)"
npx nx run "$PROJECT:$CROSS_TARGET" --arch="$ARCH" >"$WORK/cross.log" 2>&1 ||
  { tail -n 20 "$WORK/cross.log" >&2; die "$PROJECT:$CROSS_TARGET failed for $ARCH" "see the log above"; }

# ------------------------------------------------------------------ engines --
CONTEXT="$WORK/context"
mkdir -p "$CONTEXT/bin"
final_stage_dockerfile "$DOCKERFILE" >"$CONTEXT/Dockerfile"
cp -R "dist/cross/$PROJECT/$ARCH/." "$CONTEXT/bin/"


# tools/bench/engine-build.ts calls one engine directly (no Nx), compiled, from the plugin's narrow bench entry.
compile_bench_steps "$REPO_ROOT/tmp/engine-build" engine-build
engine_cmd() { echo "node $REPO_ROOT/tmp/engine-build/engine-build.js $1 $CONTEXT $ARCH $WORK/layout-$1 $WORK/blobs"; }
# The native engine as docker-arch-build runs it: its layer cache warm, as docker's is.
native_cached_cmd() { echo "$(engine_cmd native) $WORK/layer-cache"; }
for engine in native docker; do
  bash -c "$(engine_cmd "$engine")" >&2 || die "the $engine engine cannot build $PROJECT_ROOT/Dockerfile" "see its error above"
done

log "engines on one staged context, $ARCH, $RUNS runs each"
hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/engines.json" \
  --prepare "rm -rf $WORK/layout-native $WORK/layout-docker; mkdir -p $WORK/layout-native $WORK/layout-docker" \
  -n native-engine "$(engine_cmd native)" -n native-engine-layer-cache "$(native_cached_cmd)" -n docker-engine "$(engine_cmd docker)" >&2

# ----------------------------------------------------------------------- nx --
nx_cmd() { echo "npx nx run $PROJECT:docker-arch-build --arch=$ARCH --engine=$1 --skip-nx-cache --excludeTaskDependencies"; }
NX_OK=true
for engine in native docker; do
  if ! bash -c "$(nx_cmd "$engine")" >"$WORK/nx-$engine.log" 2>&1; then
    NX_OK=false
    log "skipping the nx measure: '$(nx_cmd "$engine")' fails in this workspace:"
    grep -v '^\s*$' "$WORK/nx-$engine.log" | head -n 12 >&2
    break
  fi
done
if $NX_OK; then
  log "npx nx run docker-arch-build, $ARCH, $RUNS runs each"
  hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$WORK/nx.json" \
    -n nx-native "$(nx_cmd native)" -n nx-docker "$(nx_cmd docker)" >&2
fi

# ------------------------------------------------------------------- report --
declare -A MEAN
mean_of() { jq -r '.results[] | "\(.command)\t\(.mean)"' "$1"; }
while IFS=$'\t' read -r name mean; do MEAN[$name]=$mean; done < <(mean_of "$WORK/engines.json"; if $NX_OK; then mean_of "$WORK/nx.json"; fi)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '\n%-40s %10s %14s\n' "$PROJECT $ARCH (mean of $RUNS)" "seconds" "docker/native (compressed / cached)"
printf '%-40s %10.2f\n' "native engine, every layer compressed" "${MEAN[native-engine]}"
printf '%-40s %10.2f\n' "native engine, layer cache warm" "${MEAN[native-engine-layer-cache]}"
printf '%-40s %10.2f %14s\n' "docker engine (its cache warm)" "${MEAN[docker-engine]}" "$(ratio "${MEAN[docker-engine]}" "${MEAN[native-engine]}") / $(ratio "${MEAN[docker-engine]}" "${MEAN[native-engine-layer-cache]}")"
if $NX_OK; then
  printf '%-40s %10.2f\n' "npx nx run … --engine=native" "${MEAN[nx-native]}"
  printf '%-40s %10.2f %14s\n' "npx nx run … --engine=docker" "${MEAN[nx-docker]}" "$(ratio "${MEAN[nx-docker]}" "${MEAN[nx-native]}")"
else
  printf '%-40s %10s\n' "npx nx run … (both engines)" "skipped"
fi
log "goal: docker/native >= 5 with both engines warm (issue 17)"
