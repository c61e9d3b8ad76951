# shellcheck shell=bash
# final_stage_dockerfile FILE: the image's Dockerfile as strategy 1 writes it
# (tools/bench/baseline-strategy1.sh, and tools/bench/engines.sh for a context
# both engines can build): the final stage alone, each
# `COPY --from=<stage> <path> <dest>` taking the binary of that name from bin/.
# The workspace's Dockerfiles compile in $BUILDPLATFORM stages on golang
# images that no registry here serves, and strategy 1 compiles outside docker
# anyway. RUN lines of the final stage are dropped: it is FROM scratch, with no
# shell to run them (proxy-init's iptables install and setcap), so the
# baseline does less work than the plugin there, never more.
final_stage_dockerfile() {
  local last
  last=$(grep -n '^FROM' "$1" | tail -n 1 | cut -d: -f1)
  awk -v last="$last" '
    NR < last { next }
    skipping { skipping = /\\$/; next }
    /^RUN / { skipping = /\\$/; next }
    /^COPY --from=/ { n = split($3, parts, "/"); print "COPY bin/" parts[n] " " $4; next }
    { print }
  ' "$1"
}
