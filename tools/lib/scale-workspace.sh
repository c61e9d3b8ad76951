# shellcheck shell=bash
# A generated workspace (tools/bench/scale.sh: half Go, half Rust projects),
# built and pushed once to a loopback registry, for the bench scripts that
# time Nx commands over images that are already built. Source after
# common.sh and bench-registry.sh.

# pushed_scale_workspace N LOGDIR: scratch folder and registry
# (scratch_with_registry), N projects generated in $work/ws, Nx set up for a
# CI-like run (no daemon, no Nx Cloud, its own cache), and every image built
# for 3 arches and pushed once (log: LOGDIR/first.log). Leaves the shell in
# $work/ws with $nx (the Nx command) and $push (run-many -t manifest-push
# against the registry) set.
pushed_scale_workspace() {
  local n=$1 logs=$2
  # Every script that uses it times its commands with hyperfine: fail before the build, not after.
  command -v hyperfine >/dev/null || die "hyperfine is not installed" "run bash tools/setup.sh"
  scratch_with_registry nxm-scale
  mkdir -p "$logs"
  bash "$REPO_ROOT/tools/bench/scale.sh" --generate "$work/ws" "$n"
  bash "$REPO_ROOT/tools/services.sh" start registry "$reg_port" >/dev/null
  export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true NX_CACHE_DIRECTORY="$work/nx-cache"
  unset NX_SELF_HOSTED_REMOTE_CACHE_SERVER NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN
  cd "$work/ws"
  nx="nice -n 10 node $REPO_ROOT/node_modules/nx/dist/bin/nx.js"
  push="$nx run-many -t manifest-push --registry=127.0.0.1:$reg_port/bench --outputStyle=static"
  log "building and pushing $n images x 3 arches once ($logs/first.log)"
  $push >"$logs/first.log" 2>&1 || { tail -30 "$logs/first.log"; die "the first build and push failed" "see the output above"; }
}
