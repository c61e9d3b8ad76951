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

# build_plugin_at_ref DIR REF: a git clone of this checkout at DIR, checked
# out at REF, node_modules linked, the plugin compiled there (tsc -b): what a
# bench compares this checkout's plugin against.
build_plugin_at_ref() {
  git clone --quiet "$REPO_ROOT" "$1"
  git -C "$1" checkout --quiet "$2"
  link_workspace_modules "$1"
  node "$REPO_ROOT/node_modules/typescript/bin/tsc" -b "$1/packages/nx-multiarch/tsconfig.lib.json"
}

# build_plugin_and_clone_head DIR: this checkout's plugin compiled (npm run
# build:plugin), then HEAD cloned into DIR (a temp folder) by clone_workspace.
build_plugin_and_clone_head() {
  log "building the plugin"
  (cd "$REPO_ROOT" && npm run --silent build:plugin >&2)
  log "cloning HEAD ($(git -C "$REPO_ROOT" rev-parse --short HEAD)) into a temp folder"
  clone_workspace "$1"
}

# install_compiled_plugin DIR TARBALL: the plugin in the clone at DIR as users
# install it: TARBALL (`npm pack` of packages/nx-multiarch: compiled JS and
# the package's "files" only) unpacked into DIR/node_modules/nx-multiarch,
# every other package linked from this checkout. Nx resolves a plugin or
# executor from a workspace package's sources (through its TypeScript
# transpiler) whenever a workspace project carries the package's name, so the
# clone's own copy is renamed: it stays the project `nx-multiarch` (targets
# that depend on it still work) but is no longer the package Nx loads.
install_compiled_plugin() {
  local dir=$1 tarball=$2 entry name
  mkdir "$dir/node_modules"
  for entry in "$REPO_ROOT"/node_modules/* "$REPO_ROOT"/node_modules/.bin; do
    name=$(basename "$entry")
    [ "$name" = nx-multiarch ] || ln -s "$entry" "$dir/node_modules/$name"
  done
  mkdir "$dir/node_modules/nx-multiarch"
  tar -xzf "$tarball" -C "$dir/node_modules/nx-multiarch" --strip-components=1
  # The plugin's dependencies npm keeps beside it (execa 9 next to Nx's execa 5), as an install would nest them.
  [ -d "$REPO_ROOT/packages/nx-multiarch/node_modules" ] &&
    ln -s "$REPO_ROOT/packages/nx-multiarch/node_modules" "$dir/node_modules/nx-multiarch/node_modules"
  link_package_modules "$dir"
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    pkg.name = "nx-multiarch-workspace-source";
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  ' "$dir/packages/nx-multiarch/package.json"
}

# clone_with_compiled_plugin DIR TARBALL [SOURCE]: a fresh git clone of SOURCE
# (default: this checkout) at DIR, with the plugin installed from TARBALL as
# install_compiled_plugin does: what the benchmarks measure, as users run it.
clone_with_compiled_plugin() {
  git clone --quiet --no-hardlinks "${3:-$REPO_ROOT}" "$1"
  install_compiled_plugin "$1" "$2"
}

# ref_and_head_clones WORK REF: two clones of this checkout's HEAD, WORK/ref
# with the plugin of commit REF and WORK/head with this checkout's, each
# installed from its `npm pack` as clone_with_compiled_plugin does: the same
# workspace on both sides, only the plugin differs.
ref_and_head_clones() {
  local work=$1 ref=$2
  build_plugin_at_ref "$work/ref-src" "$ref"
  mkdir "$work/ref-pack" "$work/head-pack"
  (cd "$work/ref-src/packages/nx-multiarch" && npm pack --silent --pack-destination "$work/ref-pack" >/dev/null)
  (cd "$REPO_ROOT" && npm run --silent build:plugin >&2)
  (cd "$REPO_ROOT/packages/nx-multiarch" && npm pack --silent --pack-destination "$work/head-pack" >/dev/null)
  clone_with_compiled_plugin "$work/ref" "$(ls "$work"/ref-pack/*.tgz)"
  clone_with_compiled_plugin "$work/head" "$(ls "$work"/head-pack/*.tgz)"
}
