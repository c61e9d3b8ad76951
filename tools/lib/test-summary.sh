#!/usr/bin/env bash
# Prints one closing line with the totals over every test runner of an
# `nx run-many -t test` run:
#
#   tests: 42 passed, 0 failed, 3 skipped
#
#   bash tools/lib/test-summary.sh SINCE_EPOCH_MS STREAM_LOG
#
# Counted: Jest's "Tests:" lines, cargo test's "test result:" lines, go test
# -v's "--- PASS/FAIL/SKIP" lines and node:test's "# pass/# fail" lines.
#
# Nx's streamed output is no good for this: it prefixes every chunk a task
# writes, and libtest flushes "test result: ", "ok" and ". 7 passed; ..." as
# separate chunks, so one line becomes three. Nx also keeps each task's raw
# output (cacheDirectory/terminalOutputs/<hash>) and lists the last run's
# tasks in cacheDirectory/run.json, so the totals come from those; the
# streamed log is the fallback when they are missing or older than SINCE.
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

# The raw output files of the tasks of the last Nx run, if that run started
# after SINCE; fails otherwise.
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
      if (fs.existsSync(file)) console.log(file);
      // A task can fail before its runner counts anything (a config error).
      if (task.status !== 0) console.error(`test-summary: task ${task.taskId} failed (exit ${task.status})`);
    }
  ' "$cache_dir" "$since_ms"
}

count_totals() {
  # Colours would split the numbers from their words.
  sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | awk '
    function count(text, word,    m) {
      if (match(text, "[0-9]+ " word)) { m = substr(text, RSTART, RLENGTH); sub(" .*", "", m); return m + 0 }
      return 0
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
    # go test -v: top-level and subtest results
    /--- PASS: / { passed++; found = 1; next }
    /--- FAIL: / { failed++; found = 1; next }
    /--- SKIP: / { skipped++; found = 1; next }
    # node:test (TAP): "# pass 5", "# fail 0", "# skipped 1"
    /^(.*[ \t])?# pass [0-9]+\r?$/    { passed += $NF; found = 1; next }
    /^(.*[ \t])?# fail [0-9]+\r?$/    { failed += $NF; found = 1; next }
    /^(.*[ \t])?# skipped [0-9]+\r?$/ { skipped += $NF; found = 1; next }
    END {
      if (!found) exit 1
      line = "tests: " passed " passed, " failed " failed"
      if (skipped > 0) line = line ", " skipped " skipped"
      print line
    }
  '
}

files=()
if cache_dir=$(nx_cache_dir) && listing=$(task_output_files "$cache_dir"); then
  while IFS= read -r f; do [ -n "$f" ] && files+=("$f"); done <<<"$listing"
fi
if [ ${#files[@]} -gt 0 ]; then
  cat "${files[@]}" | count_totals
else
  count_totals <"$stream_log"
fi
