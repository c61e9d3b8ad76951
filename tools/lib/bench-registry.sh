# shellcheck shell=bash
# Scratch folder and loopback registries of the bench scripts, started with
# tools/services.sh (its state under the scratch folder) and stopped by their
# port, so only what the script started is stopped. Source after common.sh.

# scratch_with_registry PREFIX: a fresh temp folder in $work (services' state
# in $work/services) and a free loopback port in $reg_port for one registry
# the script starts there; on exit that registry is stopped and $work removed.
scratch_with_registry() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  export NX_MULTIARCH_STATE_DIR="$work/services"
  reg_port=$(free_port)
  trap _stop_scratch_registry EXIT
}
_stop_scratch_registry() {
  bash "$REPO_ROOT/tools/services.sh" stop registry "$reg_port" >/dev/null 2>&1 || true
  rm -rf "$work"
}

# stop_state_registries: every registry services.sh started under
# $NX_MULTIARCH_STATE_DIR, also those a measuring program left running when it
# crashed (it stops its own otherwise).
stop_state_registries() {
  local dir
  for dir in "$NX_MULTIARCH_STATE_DIR"/registry-*; do
    if [ -d "$dir" ]; then bash "$REPO_ROOT/tools/services.sh" stop registry "${dir##*-}" >/dev/null 2>&1 || true; fi
  done
}
