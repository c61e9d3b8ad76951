# shellcheck shell=bash
# Background process helpers for tools/services.sh. Source after common.sh.
#
# A service is started detached with its pid in a file, and is only ever
# stopped through that pid, after checking that the pid still belongs to the
# program we started (a stale pid file must never make us signal a stranger).

# pid_of PIDFILE EXE: prints the pid from PIDFILE when that process is alive
# and its command line starts with a path ending in EXE; else fails.
pid_of() {
  local pidfile=$1 exe=$2 pid argv0
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # A zombie or a reused pid has another (or an empty) command line.
  argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n 1) || return 1
  [ "${argv0##*/}" = "$exe" ] || return 1
  echo "$pid"
}

# start_detached PIDFILE LOGFILE COMMAND...: starts COMMAND in its own session
# (so a closing terminal or a Ctrl-C in the caller does not kill it), with
# stdin from /dev/null and all output in LOGFILE, and writes its pid.
start_detached() {
  local pidfile=$1 logfile=$2
  shift 2
  # From a non-interactive shell the background child is not a process group
  # leader, so setsid execs in place and $! is the service's own pid.
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  echo $! >"$pidfile"
}

# stop_pid PID NAME TIMEOUT_SECONDS: SIGTERM, wait, then SIGKILL if needed.
stop_pid() {
  local pid=$1 name=$2 timeout=$3 waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ -d "/proc/$pid" ] && ! is_zombie "$pid"; do
    if [ "$waited" -ge "$((timeout * 10))" ]; then
      log "$name (pid $pid) did not stop within ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

is_zombie() {
  local state
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [ "$state" = "Z" ]
}

# wait_until TIMEOUT_SECONDS PID DESCRIPTION COMMAND...: polls COMMAND until
# it succeeds; fails early when PID dies, or after the timeout.
wait_until() {
  local timeout=$1 pid=$2 what=$3 tries=0
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || is_zombie "$pid"; then
      log "$what: the process (pid $pid) exited while starting"
      return 1
    fi
    if [ "$tries" -ge "$((timeout * 5))" ]; then
      log "$what: not ready after ${timeout}s"
      return 1
    fi
    sleep 0.2
    tries=$((tries + 1))
  done
}

# show_log_tail LOGFILE: the last lines of a service's log, for errors.
show_log_tail() {
  [ -f "$1" ] || return 0
  log "last lines of $1:"
  tail -n 20 "$1" | sed 's/^/    /' >&2
}
