#!/usr/bin/env bash
# The fault suite, bounded in count and time (every trial count and timeout is
# fixed in the tests). Runs real Nx in scratch git clones of this checkout; the
# checkout itself is never touched.
#
#   bash tools/faults/run.sh [bad-inputs|services|kill ...]   (default: all three)
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
#               by a rerun                                                 (~10 min)
set -euo pipefail
LOG_TAG=faults
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(bad-inputs services kill)
paths=()
for s in "${suites[@]}"; do
  case "$s" in
    bad-inputs|services|kill) paths+=("test/faults/$s.test.ts") ;;
    *) die "unknown fault suite $s" "choose from bad-inputs, services, kill" ;;
  esac
done
cd "$REPO_ROOT"
npm run --silent build:plugin
cd packages/nx-multiarch
exec npx jest --runInBand "${paths[@]}"
