#!/usr/bin/env bash
# Reads a test run's output (a file, or stdin) and prints one closing line
# with the totals over every runner it finds:
#
#   tests: 42 passed, 0 failed, 3 skipped
#
# Counted: Jest's "Tests:" lines, cargo test's "test result:" lines, go test
# -v's "--- PASS/FAIL/SKIP" lines and node:test's "# pass/# fail" lines.
# Nx runs each project's runner separately, so the per-runner lines are spread
# over the log; this gives CI one line to read. Prints nothing when no runner
# line is found (and exits 1), so a run that tested nothing is visible.
set -euo pipefail

# Colours would split the numbers from their words.
sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "${1:-/dev/stdin}" | awk '
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
  /^(.*[ \t])?# pass [0-9]+$/    { passed += $NF; found = 1; next }
  /^(.*[ \t])?# fail [0-9]+$/    { failed += $NF; found = 1; next }
  /^(.*[ \t])?# skipped [0-9]+$/ { skipped += $NF; found = 1; next }
  END {
    if (!found) exit 1
    line = "tests: " passed " passed, " failed " failed"
    if (skipped > 0) line = line ", " skipped " skipped"
    print line
  }
'
