#!/usr/bin/env bash
# Starts, stops and reports the local services that builds and tests need.
#
#   bash tools/services.sh start  registry [PORT]   loopback registry (default port 5000);
#                                                   prints its address, e.g. 127.0.0.1:5000
#   bash tools/services.sh start  dockerd           private Docker engine; prints the
#                                                   DOCKER_HOST to use (unix://…/docker.sock)
#   bash tools/services.sh start  binfmt [NAME...]  registers qemu-user for foreign ELF
#                                                   binaries (default: qemu-aarch64 qemu-arm
#                                                   qemu-ppc64le qemu-s390x)
#   bash tools/services.sh stop   registry [PORT] | dockerd | binfmt
#   bash tools/services.sh status [registry [PORT] | dockerd | binfmt]
#
# Only the value a caller needs goes to stdout (an address, a DOCKER_HOST);
# progress and errors go to stderr. State (config, pid, log, data) lives in
# ${NX_MULTIARCH_STATE_DIR:-<repo>/tmp/services}; sockets live in a short
# folder under ${TMPDIR:-/tmp}, since unix socket paths must stay under ~100
# characters. `status` exits 0 when the service runs, 3 when it does not.
set -euo pipefail
LOG_TAG=services
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/proc.sh
source "$REPO_ROOT/tools/lib/proc.sh"

STATE_DIR="${NX_MULTIARCH_STATE_DIR:-$REPO_ROOT/tmp/services}"
DEFAULT_REGISTRY_PORT=5000
DEFAULT_BINFMT_NAMES=(qemu-aarch64 qemu-arm qemu-ppc64le qemu-s390x)
BINFMT_DIR=/proc/sys/fs/binfmt_misc
BINFMT_CONF_DIR=/usr/lib/binfmt.d

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; }

need_cmd() { # COMMAND PACKAGE
  command -v "$1" >/dev/null || die "$1 not found" "run bash tools/setup.sh (it installs Debian's $2)"
}

# ------------------------------------------------------------- registry --
registry_port() {
  local port=${1:-$DEFAULT_REGISTRY_PORT}
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
    die "registry port '$port' is not a port number" "give a number from 1 to 65535, e.g. 5000"
  echo "$port"
}

registry_dir() { echo "$STATE_DIR/registry-$1"; }

registry_answers() { curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$1/v2/"; }

# Our own config: loopback only (Debian's packaged config listens on every
# interface), storage in the state folder, deletes allowed so tests can clean up.
write_registry_config() { # DIR PORT
  cat >"$1/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
EOF
}

registry_start() {
  local port dir pid
  port=$(registry_port "${1:-}")
  dir=$(registry_dir "$port")
  if pid=$(pid_of "$dir/pid" docker-registry); then
    log "registry already running on 127.0.0.1:$port (pid $pid)"
    echo "127.0.0.1:$port"
    return 0
  fi
  need_cmd docker-registry docker-registry
  need_cmd curl curl
  if registry_answers "$port" 2>/dev/null; then
    die "port $port already answers /v2/ but not from a registry this script started" \
      "stop that registry, or pick another port: bash tools/services.sh start registry <port>"
  fi
  mkdir -p "$dir/data"
  write_registry_config "$dir" "$port"
  : >"$dir/log"
  start_detached "$dir/pid" "$dir/log" "$(command -v docker-registry)" serve "$dir/config.yml"
  pid=$(cat "$dir/pid")
  if ! wait_until 30 "$pid" "registry on 127.0.0.1:$port" registry_answers "$port"; then
    show_log_tail "$dir/log"
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    die "the registry did not start on 127.0.0.1:$port" \
      "if the port is taken, pick another: bash tools/services.sh start registry <port>"
  fi
  log "registry running on 127.0.0.1:$port (pid $pid, storage ${dir#"$REPO_ROOT"/}/data, log ${dir#"$REPO_ROOT"/}/log)"
  echo "127.0.0.1:$port"
}

registry_stop() {
  local port dir pid
  port=$(registry_port "${1:-}")
  dir=$(registry_dir "$port")
  if pid=$(pid_of "$dir/pid" docker-registry); then
    stop_pid "$pid" "registry" 10
    log "registry on 127.0.0.1:$port stopped (pid $pid)"
  else
    log "registry on 127.0.0.1:$port is not running (nothing to stop)"
  fi
  rm -f "$dir/pid"
}

registry_status() {
  local port dir pid
  port=$(registry_port "${1:-}")
  dir=$(registry_dir "$port")
  if pid=$(pid_of "$dir/pid" docker-registry); then
    if registry_answers "$port" 2>/dev/null; then
      log "registry: running on 127.0.0.1:$port (pid $pid)"
    else
      log "registry: process $pid runs but 127.0.0.1:$port/v2/ does not answer"
    fi
    echo "127.0.0.1:$port"
    return 0
  fi
  log "registry: not running on port $port"
  return 3
}

# -------------------------------------------------------------- dockerd --
dockerd_dir() { echo "$STATE_DIR/dockerd"; }

# The short run folder (exec-root and socket) is made once per start and its
# path kept in the state folder, so stop and status find it.
dockerd_run_dir() { cat "$(dockerd_dir)/run-dir" 2>/dev/null; }

dockerd_host() { echo "unix://$(dockerd_run_dir)/docker.sock"; }

docker_answers() { docker -H "$1" version --format '{{.Server.Version}}'; }

dockerd_start() {
  local dir run pid host
  dir=$(dockerd_dir)
  if pid=$(pid_of "$dir/pid" dockerd); then
    host=$(dockerd_host)
    log "dockerd already running (pid $pid), DOCKER_HOST=$host"
    echo "$host"
    return 0
  fi
  require_root "the dockerd service"
  need_cmd dockerd docker.io
  need_cmd docker docker.io
  dockerd_cleanup_run_dir
  mkdir -p "$dir/data"
  run=$(mktemp -d "${TMPDIR:-/tmp}/nxma-docker.XXXXXX")
  echo "$run" >"$dir/run-dir"
  host="unix://$run/docker.sock"
  # An empty config file keeps the machine's /etc/docker/daemon.json out.
  echo '{}' >"$dir/daemon.json"
  : >"$dir/log"
  # vfs needs no kernel overlay support; no iptables and no bridge, so it
  # changes nothing in the machine's network (containers use --network
  # none or host).
  start_detached "$dir/pid" "$dir/log" "$(command -v dockerd)" \
    --config-file "$dir/daemon.json" \
    --storage-driver vfs --iptables=false --ip-masq=false --bridge=none \
    --data-root "$dir/data" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
    -H "$host"
  pid=$(cat "$dir/pid")
  if ! wait_until 60 "$pid" "dockerd" docker_answers "$host"; then
    show_log_tail "$dir/log"
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    die "dockerd did not start" "see the log above; it needs root and cgroups (/sys/fs/cgroup)"
  fi
  log "dockerd $(docker_answers "$host") running (pid $pid, data ${dir#"$REPO_ROOT"/}/data, log ${dir#"$REPO_ROOT"/}/log); export DOCKER_HOST=$host"
  echo "$host"
}

# Removes the previous run folder once nothing is mounted under it (a killed
# dockerd can leave container network-namespace mounts behind).
dockerd_cleanup_run_dir() {
  local run mnt
  run=$(dockerd_run_dir) || return 0
  [ -n "$run" ] && [ -d "$run" ] || { rm -f "$(dockerd_dir)/run-dir"; return 0; }
  # Deepest mounts first.
  while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done < <(
    awk -v p="$run/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf "$run"
  rm -f "$(dockerd_dir)/run-dir"
}

dockerd_stop() {
  local dir pid run cpid
  dir=$(dockerd_dir)
  run=$(dockerd_run_dir || true)
  if pid=$(pid_of "$dir/pid" dockerd); then
    # dockerd stops its containers (10s grace) and its own containerd.
    stop_pid "$pid" "dockerd" 40
    log "dockerd stopped (pid $pid)"
  else
    log "dockerd is not running (nothing to stop)"
  fi
  # A dockerd that had to be killed leaves its containerd running; that
  # containerd's pid file is in our own exec-root.
  if [ -n "$run" ] && cpid=$(pid_of "$run/exec/containerd/containerd.pid" containerd); then
    stop_pid "$cpid" "containerd" 10
    log "containerd left by dockerd stopped (pid $cpid)"
  fi
  rm -f "$dir/pid"
  dockerd_cleanup_run_dir
}

dockerd_status() {
  local dir pid host
  dir=$(dockerd_dir)
  if pid=$(pid_of "$dir/pid" dockerd); then
    host=$(dockerd_host)
    if docker_answers "$host" >/dev/null 2>&1; then
      log "dockerd: running (pid $pid), server $(docker_answers "$host"), DOCKER_HOST=$host"
    else
      log "dockerd: process $pid runs but $host does not answer"
    fi
    echo "$host"
    return 0
  fi
  log "dockerd: not running"
  return 3
}

# --------------------------------------------------------------- binfmt --
binfmt_mount() {
  [ -e "$BINFMT_DIR/register" ] && return 0
  require_root "registering binfmt handlers"
  mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" ||
    die "could not mount binfmt_misc on $BINFMT_DIR" \
      "the kernel needs CONFIG_BINFMT_MISC; in a container, run it privileged"
}

binfmt_start() {
  local names=("$@") name conf
  [ ${#names[@]} -gt 0 ] || names=("${DEFAULT_BINFMT_NAMES[@]}")
  binfmt_mount
  for name in "${names[@]}"; do
    if [ -e "$BINFMT_DIR/$name" ]; then
      if head -n 1 "$BINFMT_DIR/$name" | grep -qx enabled; then
        log "binfmt: $name already registered"
      else
        echo 1 >"$BINFMT_DIR/$name"
        log "binfmt: $name was registered but disabled; enabled it"
      fi
      continue
    fi
    conf="$BINFMT_CONF_DIR/$name.conf"
    [ -f "$conf" ] || die "no $conf" "run bash tools/setup.sh (it installs qemu-user-static)"
    # The F flag in Debian's conf makes the kernel open the interpreter now,
    # so it also works inside containers and chroots.
    cat "$conf" >"$BINFMT_DIR/register" ||
      die "the kernel refused the binfmt registration in $conf" "check dmesg; the entry may conflict with another"
    log "binfmt: registered $name ($(sed -n 's/^interpreter //p' "$BINFMT_DIR/$name"))"
  done
}

binfmt_stop() {
  # Registrations are machine-wide and may serve others: leave them.
  log "binfmt: registrations are machine-wide and stay in place (nothing stopped)"
}

binfmt_status() {
  local names=("$@") name missing=0
  [ ${#names[@]} -gt 0 ] || names=("${DEFAULT_BINFMT_NAMES[@]}")
  if [ ! -e "$BINFMT_DIR/register" ]; then
    log "binfmt: binfmt_misc is not mounted"
    return 3
  fi
  for name in "${names[@]}"; do
    if [ -e "$BINFMT_DIR/$name" ]; then
      log "binfmt: $name $(head -n 1 "$BINFMT_DIR/$name"), $(sed -n 's/^interpreter //p' "$BINFMT_DIR/$name"), flags $(sed -n 's/^flags: //p' "$BINFMT_DIR/$name")"
      head -n 1 "$BINFMT_DIR/$name" | grep -qx enabled || missing=1
    else
      log "binfmt: $name not registered"
      missing=1
    fi
  done
  [ "$missing" -eq 0 ] || return 3
}

# ------------------------------------------------------------------ main --
[ $# -ge 1 ] || { usage; exit 2; }
action=$1
shift
case "$action" in
  start|stop|status) ;;
  -h|--help|help) usage; exit 0 ;;
  *) usage; die "unknown action '$action'" "use start, stop or status" ;;
esac

if [ $# -eq 0 ]; then
  [ "$action" = status ] || { usage; die "$action needs a service name" "one of: registry, dockerd, binfmt"; }
  # status of everything at its defaults; non-zero if any is down
  rc=0
  registry_status >/dev/null || rc=3
  dockerd_status >/dev/null || rc=3
  binfmt_status || rc=3
  exit "$rc"
fi

service=$1
shift
case "$service" in
  registry)
    [ $# -le 1 ] || die "registry takes at most one argument, the port" "e.g. bash tools/services.sh $action registry 5000"
    "registry_$action" "$@" ;;
  dockerd)
    [ $# -eq 0 ] || die "dockerd takes no arguments" "e.g. bash tools/services.sh $action dockerd"
    "dockerd_$action" ;;
  binfmt)
    "binfmt_$action" "$@" ;;
  *) die "unknown service '$service'" "one of: registry, dockerd, binfmt" ;;
esac
