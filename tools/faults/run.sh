#!/usr/bin/env bash
# The fault suite, bounded in count and time (every trial count and timeout is
# fixed in the tests). Runs real Nx in scratch git clones of this checkout; the
# checkout itself is never touched.
#
#   bash tools/faults/run.sh [bad-inputs|services|kill|cache-server|hardening ...]   (default: all five)
#
#   bad-inputs  33 bad inputs across the executors and generators: the plugin's
#               own message and hint lines exactly (5 refused by Nx's schema
#               validation, tested apart), non-zero exit, nothing in dist/,
#               no file changed                                            (~4 min)
#   services    registry faults during a full push (drops, 500/503/429/502);
#               remote cache down, answering 500, slow; NX_SKIP_REMOTE_CACHE (~1 min)
#   kill        kill -9 of a build at 5 seeded random moments (FAULT_SEED=<n>
#               replays a run) and of a push at its 1st, 4th, 7th, 10th and
#               13th blob upload (seen by a recording proxy), each followed
#               by a rerun; the rerun leaves no temporary folder behind
#               (orphans 0)                                                (~10 min)
#   cache-server uploads (and a real Nx run) through the fault proxy (drops mid-body, 500/503/429), kill -9
#               of the server mid-upload and a restart: no half entry served
#               (violations 0), no upload left (orphans 0); prints the counts (~1 min)
#   hardening   a re-push PUTs nothing (the registry's own access log); a layer damaged
#               in place stops the push before any request; litter of killed processes
#               swept; the per-output lock; the user's cargo linker wins; cache-server
#               retention, and load with 50/100/200 clients (p50/p99)    (~3 min)
set -euo pipefail
LOG_TAG=faults
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(bad-inputs services kill cache-server hardening)
paths=()
for s in "${suites[@]}"; do
  case "$s" in
    bad-inputs|services|kill|cache-server) paths+=("test/faults/$s.test.ts") ;;
    hardening)
      paths+=(test/registry/repush.test.ts test/faults/litter.test.ts src/util/output-lock.test.ts
        test/cross/cargo-cross.test.ts test/cache-server/retention.test.ts test/cache-server/load.test.ts) ;;
    *) die "unknown fault suite $s" "choose from bad-inputs, services, kill, cache-server, hardening" ;;
  esac
done
cd "$REPO_ROOT"
npm run --silent build:plugin
cd packages/nx-multiarch
exec npx jest --runInBand "${paths[@]}"
