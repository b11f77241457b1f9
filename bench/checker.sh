#!/usr/bin/env bash
# bench/checker.sh: the cross-shard concurrency checker (tests/integration/coordination_test.cc,
# ConcurrencyCheckerKeepsInvariants) at a large size: many clients on every thread running
# random mixes of MSET/MGET, MULTI/EXEC and WATCH transfers, RENAME ping-pong, SMOVE/LMOVE,
# DBSIZE and Lua scripts over undeclared keys against shardis-server --threads 4, every read
# checking the invariants. Prints the run time and the operations per second of the mix.
#
# Usage: bench/checker.sh [--workers N] [--ops N] [--build DIR]
#   defaults: 32 workers x 5000 operations each, build dir build (RelWithDebInfo, tests on).
set -euo pipefail
cd "$(dirname "$0")/.."
workers=32
ops=5000
build=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workers) workers="$2"; shift 2 ;;
    --ops) ops="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
ninja -C "$build" -j2 shardis-server coordination_test >/dev/null
start=$(date +%s.%N)
SHARDIS_CHECKER_WORKERS=$workers SHARDIS_CHECKER_OPS=$ops \
  "$build/tests/coordination_test" --gtest_filter='*ConcurrencyChecker*'
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n=$((workers * ops)) \
  'BEGIN { printf "checker: %d operations (mixes of 1-4 commands) in %.1f s: %.0f ops/s, invariants held\n", n, e - s, n / (e - s) }'
