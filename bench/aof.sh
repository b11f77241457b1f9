#!/usr/bin/env bash
# bench/aof.sh: SET throughput with the AOF on (appendonly yes), Shardis vs redis-server, in the
# same run under the same conditions.
#
# Both servers run pinned to the server CPU(s) (taskset, default CPU 0; Shardis with --threads 1
# --pin=false unless --shardis-args says otherwise), redis-benchmark pinned to the benchmark
# CPU(s) (default CPU 1). Each server writes its AOF into a fresh temp directory (same disk).
# For each fsync policy (default: everysec, then no AOF at all as the baseline) and each test
# (SET not pipelined, SET -P 16; -c 50 -d 32 -r 1000000), the test runs on one server right
# after the other (order alternating between rounds). Reported per server: requests per second
# and p50 ms, and the ratio Shardis / redis-server (rps: higher is better), plus the AOF
# directory size afterwards. With --rounds R > 1 every figure is the median of the R runs.
#
# Usage: bench/aof.sh [options]
#   -n N                 requests per non-pipelined test (default 200000)
#   --pipeline-n N       requests per pipelined test (default 1000000)
#   --rounds R           runs per test and server, median reported (default 1)
#   --policies LIST      comma-separated: everysec,always,no,off (default everysec,off;
#                        "off" = appendonly no, the baseline)
#   --shardis PATH       shardis-server binary (default build-rel/server/shardis-server)
#   --redis PATH         redis-server binary (default: redis-server from PATH)
#   --shardis-args "..." extra Shardis arguments (e.g. "--threads 2")
#   --server-cpus LIST   taskset CPU list for the servers (default 0)
#   --bench-cpus LIST    taskset CPU list for redis-benchmark (default 1)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N=200000
PN=1000000
ROUNDS=1
POLICIES="everysec,off"
SHARDIS_BIN="$ROOT/build-rel/server/shardis-server"
REDIS_BIN="$(command -v redis-server || true)"
SHARDIS_ARGS=""
SERVER_CPUS=0
BENCH_CPUS=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    --pipeline-n) PN="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --policies) POLICIES="$2"; shift 2 ;;
    --shardis) SHARDIS_BIN="$2"; shift 2 ;;
    --redis) REDIS_BIN="$2"; shift 2 ;;
    --shardis-args) SHARDIS_ARGS="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --bench-cpus) BENCH_CPUS="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if [[ ! -x "$SHARDIS_BIN" ]]; then
  echo "no $SHARDIS_BIN: build it with:" >&2
  echo "  cmake -S $ROOT -B $ROOT/build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHARDIS_BUILD_TESTS=OFF -DSHARDIS_BUILD_BENCH=OFF && ninja -C $ROOT/build-rel shardis-server" >&2
  exit 1
fi
[[ -x "$REDIS_BIN" ]] || { echo "redis-server not found" >&2; exit 1; }

WORK="$(mktemp -d /tmp/shardis-aof-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  sleep 0.2
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ping() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# start_server NAME POLICY -> sets PORT and PID
start_server() {
  local name=$1 policy=$2
  local dir="$WORK/$name-$policy"
  mkdir -p "$dir"
  PORT=$(free_port)
  local aof=(--appendonly yes --appendfsync "$policy")
  [[ "$policy" == off ]] && aof=(--appendonly no)
  if [[ "$name" == shardis ]]; then
    # shellcheck disable=SC2086
    taskset -c "$SERVER_CPUS" "$SHARDIS_BIN" --port "$PORT" --bind 127.0.0.1 --threads 1 \
      --pin=false --save '' --dir "$dir" "${aof[@]}" $SHARDIS_ARGS >"$dir/log" 2>&1 &
  else
    taskset -c "$SERVER_CPUS" "$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' \
      --dir "$dir" "${aof[@]}" --daemonize no >"$dir/log" 2>&1 &
  fi
  PID=$!
  PIDS+=("$PID")
  wait_ping "$PORT"
}

stop_server() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# run_test PORT PIPELINE REQUESTS -> "rps p50"
run_test() {
  local out
  out=$(taskset -c "$BENCH_CPUS" redis-benchmark -p "$1" -t set -n "$3" -c 50 -d 32 \
    -r 1000000 -P "$2" --csv 2>/dev/null | tail -1)
  # "SET","rps","avg","min","p50",...
  echo "$out" | awk -F'","' '{gsub(/"/,"",$2); gsub(/"/,"",$5); print $2, $5}'
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| policy | test | Shardis rps | redis rps | ratio rps | Shardis p50 ms | redis p50 ms | AOF dir Shardis / redis |"
echo "|---|---|---|---|---|---|---|---|"
IFS=',' read -r -a POLICY_LIST <<<"$POLICIES"
for policy in "${POLICY_LIST[@]}"; do
  for test in set set_p16; do
    pipeline=1
    requests=$N
    if [[ "$test" == set_p16 ]]; then pipeline=16; requests=$PN; fi
    s_rps=(); r_rps=(); s_p50=(); r_p50=()
    for round in $(seq 1 "$ROUNDS"); do
      order=(shardis redis)
      (( round % 2 == 0 )) && order=(redis shardis)
      for name in "${order[@]}"; do
        rm -rf "$WORK/$name-$policy"
        start_server "$name" "$policy"
        read -r rps p50 < <(run_test "$PORT" "$pipeline" "$requests")
        size=$(du -sb "$WORK/$name-$policy" | cut -f1)
        stop_server "$PID"
        if [[ "$name" == shardis ]]; then s_rps+=("$rps"); s_p50+=("$p50"); s_size=$size
        else r_rps+=("$rps"); r_p50+=("$p50"); r_size=$size; fi
      done
    done
    sr=$(printf '%s\n' "${s_rps[@]}" | median)
    rr=$(printf '%s\n' "${r_rps[@]}" | median)
    sp=$(printf '%s\n' "${s_p50[@]}" | median)
    rp=$(printf '%s\n' "${r_p50[@]}" | median)
    ratio=$(awk -v a="$sr" -v b="$rr" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
    echo "| $policy | $test | $sr | $rr | $ratio | $sp | $rp | $((s_size / 1048576)) MB / $((r_size / 1048576)) MB |"
  done
done
