#!/usr/bin/env bash
# Prints the totals over every test runner of an `nx run-many -t test` run:
#
#   tests: 812 ran (800 passed, 2 failed, 10 skipped); 95 replayed from the Nx cache (95 passed)
#   go test skipped: linkerd2-proxy-init TestApplyLoadsTheRulesIntoTheKernel: needs unshare
#   907 passed, 2 failed, 10 skipped
#
#   bash tools/lib/test-summary.sh SINCE_EPOCH_MS STREAM_LOG
#
# The last line is the closing line CI reads: "N passed, N failed" (and
# ", N skipped" when any were), alone on its line, over ran and replayed tests.
#
# Counted: Jest's "Tests:" lines, cargo test's "test result:" lines, go test
# -v's "--- PASS/FAIL/SKIP" lines (leaf tests only: a parent whose subtests
# report is not counted again) and node:test's "# pass/# fail" lines. Every
# go test skip is listed with its reason, so a skipped kernel or qemu test is
# seen, not only counted.
#
# Tests of tasks Nx replayed from its cache (local or remote) did not run in
# this run; they are counted apart. Nx's streamed output is no good for this
# (nor for counting: it prefixes every chunk a task writes, and libtest
# flushes "test result: ", "ok" and ". 7 passed; ..." as separate chunks).
# Nx keeps each task's raw output (cacheDirectory/terminalOutputs/<hash>) and
# lists the last run's tasks with their cache status in cacheDirectory/run.json,
# so the totals come from those; the streamed log is the fallback when they are
# missing or older than SINCE (then replays cannot be told apart).
# Exits 1, printing nothing, when no runner line is found.
set -euo pipefail
LOG_TAG=test-summary
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

since_ms=${1:?usage: test-summary.sh SINCE_EPOCH_MS STREAM_LOG}
stream_log=${2:?usage: test-summary.sh SINCE_EPOCH_MS STREAM_LOG}

# Nx's cache folder, as Nx resolves it: NX_CACHE_DIRECTORY, else nx.json's
# cacheDirectory, else .nx/cache (both relative to the workspace root).
nx_cache_dir() {
  (cd "$REPO_ROOT" && node -e '
    const fs = require("fs"), path = require("path");
    let dir = process.env.NX_CACHE_DIRECTORY;
    if (!dir) {
      try { dir = JSON.parse(fs.readFileSync("nx.json", "utf8")).cacheDirectory; } catch {}
    }
    console.log(path.resolve(dir || ".nx/cache"));
  ')
}

# "<ran|replayed> <taskId> <output file>" for each task of the last Nx run, if
# that run started after SINCE; fails otherwise.
task_output_files() {
  local cache_dir=$1
  [ -f "$cache_dir/run.json" ] || return 1
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir, since] = process.argv.slice(1);
    const run = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8"));
    if (!(Date.parse(run.run.startTime) >= Number(since))) process.exit(1);
    for (const task of run.tasks) {
      const file = path.join(dir, "terminalOutputs", task.hash);
      // cacheStatus: "cache-miss" ran now; "local-cache-hit", "local-cache-kept-existing", "remote-cache-hit" were replayed.
      const how = /hit|kept/.test(task.cacheStatus || "") ? "replayed" : "ran";
      if (fs.existsSync(file)) console.log(`${how} ${task.taskId} ${file}`);
      // A task can fail before its runner counts anything (a config error).
      if (task.status !== 0) console.error(`test-summary: task ${task.taskId} failed (exit ${task.status})`);
    }
  ' "$cache_dir" "$since_ms"
}

# Reads one runner output on stdin; prints "counts P F S" (or nothing when no
# runner line is there), then "skip <name>: <reason>" for each go test skip.
count_totals() {
  # Colours would split the numbers from their words.
  sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | awk '
    function count(text, word,    m) {
      if (match(text, "[0-9]+ " word)) { m = substr(text, RSTART, RLENGTH); sub(" .*", "", m); return m + 0 }
      return 0
    }
    # go test -v: "--- PASS: TestName/sub (0.01s)", indented for subtests.
    function go_result(status, line,    name, parent) {
      name = line; sub(/^.*--- (PASS|FAIL|SKIP): /, "", name); sub(/ \([0-9.]+s\).*$/, "", name)
      total[status]++; last[name] = status; found = 1
      if (index(name, "/")) { parent = name; sub(/\/[^\/]*$/, "", parent); has_child[parent] = 1 }
      if (status == "SKIP") skips[++nskips] = name ": " (name in reason ? reason[name] : "(no reason given)")
    }
    # Jest: "Tests:       1 failed, 2 skipped, 11 passed, 14 total"
    /Tests:[ \t]+[0-9]/ {
      t = substr($0, index($0, "Tests:"))
      passed += count(t, "passed"); failed += count(t, "failed")
      skipped += count(t, "skipped") + count(t, "todo"); found = 1; next
    }
    # cargo test: "test result: ok. 3 passed; 0 failed; 1 ignored; ..."
    /test result: (ok|FAILED)\./ {
      t = substr($0, index($0, "test result:"))
      passed += count(t, "passed"); failed += count(t, "failed"); skipped += count(t, "ignored"); found = 1; next
    }
    # -v streams the log lines of a test under its "=== RUN" (or "=== CONT"); the last one of a skipped test is the t.Skip reason.
    /=== (RUN|CONT) / { current = $0; sub(/^.*=== (RUN|CONT) +/, "", current); next }
    /(^|[ \t])[A-Za-z0-9_.-]+_test\.go:[0-9]+: / { line = $0; sub(/^.*_test\.go:[0-9]+: /, "", line); reason[current] = line; next }
    /--- PASS: / { go_result("PASS", $0); next }
    /--- FAIL: / { go_result("FAIL", $0); next }
    /--- SKIP: / { go_result("SKIP", $0); next }
    # node:test (TAP): "# pass 5", "# fail 0", "# skipped 1"
    /^(.*[ \t])?# pass [0-9]+\r?$/    { passed += $NF; found = 1; next }
    /^(.*[ \t])?# fail [0-9]+\r?$/    { failed += $NF; found = 1; next }
    /^(.*[ \t])?# skipped [0-9]+\r?$/ { skipped += $NF; found = 1; next }
    END {
      if (!found) exit 0
      # A parent test reports after its subtests; only the leaves are tests.
      for (p in has_child) if (p in last) total[last[p]]--
      passed += total["PASS"]; failed += total["FAIL"]; skipped += total["SKIP"]
      print "counts", passed + 0, failed + 0, skipped + 0
      for (i = 1; i <= nskips; i++) print "skip", skips[i]
    }
  '
}

declare -A sum=([ran_p]=0 [ran_f]=0 [ran_s]=0 [replayed_p]=0 [replayed_f]=0 [replayed_s]=0)
found=false
go_skips=()
# add HOW LABEL: counts one runner output (stdin) into the ran or replayed totals.
add() {
  local how=$1 label=$2 kind rest p f s note=""
  [ "$how" = ran ] || note=" (replayed from the Nx cache)"
  while IFS=' ' read -r kind rest; do
    case $kind in
      counts)
        read -r p f s <<<"$rest"
        sum[${how}_p]=$((sum[${how}_p] + p)); sum[${how}_f]=$((sum[${how}_f] + f)); sum[${how}_s]=$((sum[${how}_s] + s))
        found=true ;;
      skip) go_skips+=("${label:+$label }$rest$note") ;;
    esac
  done < <(count_totals)
}

tasks=""
if cache_dir=$(nx_cache_dir) && listing=$(task_output_files "$cache_dir"); then tasks=$listing; fi
if [ -n "$tasks" ]; then
  while IFS=' ' read -r how task file; do
    [ -n "$file" ] || continue
    add "$how" "${task%%:*}" <"$file"
  done <<<"$tasks"
  cache_known=true
else
  add ran "" <"$stream_log"
  cache_known=false
fi
$found || exit 1

breakdown() { # HOW: "P passed, F failed[, S skipped]"
  local line="${sum[${1}_p]} passed, ${sum[${1}_f]} failed"
  [ "${sum[${1}_s]}" -eq 0 ] || line="$line, ${sum[${1}_s]} skipped"
  echo "$line"
}
ran=$((sum[ran_p] + sum[ran_f] + sum[ran_s]))
replayed=$((sum[replayed_p] + sum[replayed_f] + sum[replayed_s]))
if $cache_known; then
  echo "tests: $ran ran ($(breakdown ran)); $replayed replayed from the Nx cache ($(breakdown replayed))"
else
  echo "tests: $ran counted from the streamed log ($(breakdown ran)); which were replayed from the Nx cache is unknown (no run.json of this run)"
fi
for skip in ${go_skips[@]+"${go_skips[@]}"}; do echo "go test skipped: $skip"; done
sum[ran_p]=$((sum[ran_p] + sum[replayed_p])); sum[ran_f]=$((sum[ran_f] + sum[replayed_f])); sum[ran_s]=$((sum[ran_s] + sum[replayed_s]))
# The closing line, alone: CI reads it.
breakdown ran
