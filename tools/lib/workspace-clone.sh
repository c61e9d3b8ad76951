# shellcheck shell=bash
# Set-up of a scratch clone of this workspace for the bench and fault scripts:
# "installed" without the network, by linking this checkout's node_modules.
# Source after common.sh (it uses REPO_ROOT).
#
# The root node_modules alone is not enough: npm leaves a workspace package's
# dependencies whose versions clash at the root (execa 9 beside Nx's execa 5,
# @types/tar-stream) in that package's own node_modules. Nx runs the clone's
# plugin from its sources, so they must resolve from the clone's package too.

# link_package_modules DIR: links each packages/<name>/node_modules of this
# checkout into the clone at DIR, where the clone has that package.
link_package_modules() {
  local dir=$1 modules name
  for modules in "$REPO_ROOT"/packages/*/node_modules; do
    [ -d "$modules" ] || continue
    name=$(basename "$(dirname "$modules")")
    [ -d "$dir/packages/$name" ] && [ ! -e "$dir/packages/$name/node_modules" ] && ln -s "$modules" "$dir/packages/$name/node_modules"
  done
  return 0
}

# link_workspace_modules DIR: this checkout's root node_modules and every
# package's own node_modules, linked into the clone at DIR.
link_workspace_modules() {
  ln -s "$REPO_ROOT/node_modules" "$1/node_modules"
  link_package_modules "$1"
}

# clone_workspace DIR [SOURCE]: a fresh git clone of SOURCE (default: this
# checkout) at DIR, with node_modules linked as above.
clone_workspace() {
  git clone --quiet --no-hardlinks "${2:-$REPO_ROOT}" "$1"
  link_workspace_modules "$1"
}
