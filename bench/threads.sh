#!/usr/bin/env bash
# bench/threads.sh: what crossing threads costs. Runs bench/compare.sh (Shardis against
# redis-server, side by side) with Shardis at --threads 1 and at --threads 2, and prints:
#   1. cross-shard CPU: server CPU per op of SET / GET (-c 50, pipelined and not) with 2 threads
#      against 1 thread. Every server is confined to the same CPU(s) (--cpu-cpus, default 0), so
#      the figure is the work per op, hops included: with 2 shards, half the keys of the
#      connections of each thread live on the other thread.
#   2. single-connection latency: SET / GET with one connection (-c 1), p50 and p99, 2 threads
#      against 1 thread and against redis-server. Servers again confined to the same CPU(s)
#      (--latency-cpus, default 0, threads not pinned), redis-benchmark on CPU 1. Confining every
#      server alike matters: a server the scheduler may run on the client's CPU answers a single
#      connection faster (no cross-CPU wake-up) than one kept on another CPU.
# Targets from issue #3: CPU 2 threads / 1 thread <= 1.25; single-connection p50 2 threads /
# 1 thread <= 1.3 and 2 threads / redis-server <= 1.2.
#
# Usage: bench/threads.sh [--quick] [--rounds R] [--out FILE] [--shardis PATH]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=()
ROUNDS=1
OUT=""
SHARDIS=()
CPU_CPUS=0
LATENCY_CPUS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=(--quick); shift ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --shardis) SHARDIS=(--shardis "$2"); shift 2 ;;
    --cpu-cpus) CPU_CPUS="$2"; shift 2 ;;
    --latency-cpus) LATENCY_CPUS="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "threads.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardis-threads.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)

run() {   # $1 = output file; the rest = compare.sh arguments
  local out=$1
  shift
  "$ROOT/bench/compare.sh" "${QUICK[@]}" "${SHARDIS[@]}" --rounds "$ROUNDS" --out "$out" "$@" >&2
}

# A column of a compare.sh table row: $1 = table file, $2 = test label, $3 = column number
# (1-based over the cells: Test, rps R, rps S, rps ratio, p50 R, p50 S, p50 ratio, p99 R, p99 S,
# p99 ratio, CPU R, CPU S, CPU ratio).
cell() {
  awk -F'|' -v t="$2" -v c="$3" '{ gsub(/^ +| +$/, "", $2) } $2 == t { v = $(c + 1); gsub(/ /, "", v); print v }' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo "threads.sh: cross-shard CPU runs (servers on CPU $CPU_CPUS)" >&2
for t in 1 2; do
  run "$WORK/cpu$t.md" --server-cpus "$CPU_CPUS" --bench-cpus 1 --tests set,get,set_p16,get_p16 \
    --shardis-args "--threads $t"
done
echo "threads.sh: single-connection runs (servers on CPUs $LATENCY_CPUS)" >&2
for t in 1 2; do
  run "$WORK/lat$t.md" --server-cpus "$LATENCY_CPUS" --bench-cpus 1 --clients 1 --tests set,get \
    --shardis-args "--threads $t"
done

{
  echo "bench/threads.sh $(date -u '+%Y-%m-%d %H:%M UTC'), took $(( $(date +%s) - start )) s; $(nproc) CPUs; compare.sh ${QUICK[*]} rounds $ROUNDS"
  echo
  echo "Cross-shard CPU per op (servers confined to CPU $CPU_CPUS, -c 50):"
  echo
  echo "| Test | CPU us/op 1 thread | CPU us/op 2 threads | 2 / 1 | CPU us/op redis-server |"
  echo "|---|--:|--:|--:|--:|"
  for test in "SET" "GET" "SET -P 16" "GET -P 16"; do
    c1=$(cell "$WORK/cpu1.md" "$test" 12); c2=$(cell "$WORK/cpu2.md" "$test" 12)
    r=$(cell "$WORK/cpu1.md" "$test" 11)
    echo "| $test | $c1 | $c2 | $(ratio "$c2" "$c1") | $r |"
  done
  echo
  echo "Single connection (-c 1, servers confined to CPU(s) $LATENCY_CPUS):"
  echo
  echo "| Test | p50 ms redis | p50 ms 1 thread | p50 ms 2 threads | 2t / 1t | 2t / redis | p99 ms redis | p99 ms 1 thread | p99 ms 2 threads |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
  for test in "SET" "GET"; do
    r50=$(cell "$WORK/lat2.md" "$test" 5); a50=$(cell "$WORK/lat1.md" "$test" 6); b50=$(cell "$WORK/lat2.md" "$test" 6)
    r99=$(cell "$WORK/lat2.md" "$test" 8); a99=$(cell "$WORK/lat1.md" "$test" 9); b99=$(cell "$WORK/lat2.md" "$test" 9)
    echo "| $test | $r50 | $a50 | $b50 | $(ratio "$b50" "$a50") | $(ratio "$b50" "$r50") | $r99 | $a99 | $b99 |"
  done
} | tee "${OUT:-/dev/null}"
