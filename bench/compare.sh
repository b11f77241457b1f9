#!/usr/bin/env bash
# bench/compare.sh: Shardis vs redis-server, measured in the same run under the same conditions.
#
# Each server runs pinned to the server CPU(s) (taskset, default CPU 0; Shardis with
# --threads 1 --pin=false), redis-benchmark is pinned to the benchmark CPU(s) (default CPU 1).
# Both servers are started and prefilled with the same 1M keys (key:000000000000 ..., 32-byte
# values, the key names redis-benchmark -r uses), then every test is run on one server right
# after the other (the order alternates between rounds), so that the noise of a shared machine
# hits both alike. For each test it reports, per server and as a ratio Shardis / redis-server:
#   rps           requests per second                  (higher is better)
#   p50, p99      latency percentiles in ms             (lower is better)
#   CPU us/op     server utime+stime (/proc/PID/stat) consumed during the test, divided by the
#                 number of requests                    (lower is better; resolution 1 tick =
#                 1/CLK_TCK s over the whole test)
# With --rounds R > 1 every figure is the median of the R runs.
#
# Tests (all -c 50 -d 32 -r <keyspace>): SET, GET, SET -P 16, GET -P 16, PING_MBULK, INCR, MSET.
#
# Usage: bench/compare.sh [options]
#   --quick               small request counts (about 1-2 minutes in all; default mode
#                         takes about 3 minutes on a quiet machine, under 10 on a busy one)
#   -n N                  requests per non-pipelined test   (default 500000, quick 100000)
#   --pipeline-n N        requests per pipelined test       (default 2000000, quick 500000)
#   --rounds R            runs of each test per server, median reported (default 1)
#   --keyspace N          -r for redis-benchmark and prefill size (default 1000000)
#   --no-prefill          do not load the keyspace before the tests
#   --shardis PATH        shardis-server binary (default build-rel/server/shardis-server)
#   --redis PATH          redis-server binary (default: redis-server from PATH)
#   --shardis-args "..."  extra Shardis arguments, appended (e.g. "--threads 2")
#   --redis-args "..."    extra redis-server arguments, appended (e.g. "--io-threads 2")
#   --server-cpus LIST    taskset CPU list for the servers (default 0)
#   --bench-cpus LIST     taskset CPU list for redis-benchmark (default 1)
#   --tests LIST          comma-separated subset of: set,get,set_p16,get_p16,ping_mbulk,incr,mset
#   --out FILE            also write the Markdown table (with a header) to FILE
#   -h, --help            this help
# Exit status: 0 on success, 1 on a failed server or benchmark, 2 on a usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

QUICK=0
N=""
PN=""
ROUNDS=1
KEYSPACE=1000000
PREFILL=1
SHARDIS_BIN="$ROOT/build-rel/server/shardis-server"
REDIS_BIN=$(command -v redis-server || true)
SHARDIS_EXTRA=""
REDIS_EXTRA=""
SERVER_CPUS=0
BENCH_CPUS=1
TESTS="set,get,set_p16,get_p16,ping_mbulk,incr,mset"
OUT=""
CLIENTS=50
DATASIZE=32
PIPELINE=16
BENCH_TIMEOUT=300   # seconds, per redis-benchmark run

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "compare.sh: error: $*" >&2; exit 1; }
note() { echo "compare.sh: $*" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    -n) N="$2"; shift 2 ;;
    --pipeline-n) PN="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --keyspace) KEYSPACE="$2"; shift 2 ;;
    --no-prefill) PREFILL=0; shift ;;
    --shardis) SHARDIS_BIN="$2"; shift 2 ;;
    --redis) REDIS_BIN="$2"; shift 2 ;;
    --shardis-args) SHARDIS_EXTRA="$2"; shift 2 ;;
    --redis-args) REDIS_EXTRA="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --bench-cpus) BENCH_CPUS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -z "$N" ]]; then N=$(( QUICK ? 100000 : 500000 )); fi
if [[ -z "$PN" ]]; then PN=$(( QUICK ? 500000 : 2000000 )); fi
for v in N PN ROUNDS KEYSPACE; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: $v must be a positive integer" >&2; exit 2; }
done

[[ -x "$SHARDIS_BIN" ]] || die "Shardis binary not found at $SHARDIS_BIN; build it with:
  cmake -S $ROOT -B $ROOT/build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHARDIS_BUILD_TESTS=OFF -DSHARDIS_BUILD_BENCH=OFF && ninja -C $ROOT/build-rel shardis-server"
[[ -n "$REDIS_BIN" && -x "$REDIS_BIN" ]] || die "redis-server not found (use --redis PATH)"
for tool in redis-benchmark redis-cli taskset awk timeout; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
taskset -c "$SERVER_CPUS" true 2>/dev/null || die "cannot pin to server CPUs '$SERVER_CPUS'"
taskset -c "$BENCH_CPUS" true 2>/dev/null || die "cannot pin to benchmark CPUs '$BENCH_CPUS'"
CLK_TCK=$(getconf CLK_TCK)

# ---- test table: id | label | redis-benchmark arguments | pipelined? ----
declare -A T_LABEL T_ARGS T_PIPE
T_LABEL[set]="SET";            T_ARGS[set]="-t set";                        T_PIPE[set]=0
T_LABEL[get]="GET";            T_ARGS[get]="-t get";                        T_PIPE[get]=0
T_LABEL[set_p16]="SET -P 16";  T_ARGS[set_p16]="-t set -P $PIPELINE";       T_PIPE[set_p16]=1
T_LABEL[get_p16]="GET -P 16";  T_ARGS[get_p16]="-t get -P $PIPELINE";       T_PIPE[get_p16]=1
T_LABEL[ping_mbulk]="PING_MBULK"; T_ARGS[ping_mbulk]="-t ping_mbulk";       T_PIPE[ping_mbulk]=0
T_LABEL[incr]="INCR";          T_ARGS[incr]="-t incr";                      T_PIPE[incr]=0
T_LABEL[mset]="MSET (10 keys)"; T_ARGS[mset]="-t mset";                     T_PIPE[mset]=0
IFS=, read -r -a TEST_IDS <<< "$TESTS"
for t in "${TEST_IDS[@]}"; do
  [[ -n "${T_LABEL[$t]:-}" ]] || { echo "compare.sh: unknown test '$t'" >&2; exit 2; }
done

# ---- servers ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardis-compare.XXXXXX")
declare -A PID PORT LOG
cleanup() {
  local s
  for s in "${!PID[@]}"; do
    if kill -0 "${PID[$s]}" 2>/dev/null; then
      kill -TERM "${PID[$s]}" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "${PID[$s]}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${PID[$s]}" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {   # a random free port in 20000-29999 not already chosen
  local p
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % 10000 ))
    [[ " ${PORT[*]:-} " == *" $p "* ]] && continue
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}

server_dead() {   # $1 = server name; prints the log and exits
  echo "compare.sh: error: $1 (pid ${PID[$1]}) died; last log lines:" >&2
  tail -n 20 "${LOG[$1]}" >&2 || true
  exit 1
}
check_alive() { kill -0 "${PID[$1]}" 2>/dev/null || server_dead "$1"; }

start_server() {   # $1 = name; the rest = command
  local name=$1; shift
  PORT[$name]=$(free_port)
  LOG[$name]="$WORK/$name.log"
  local port=${PORT[$name]}
  # taskset execs the server, so $! is the server's own pid.
  taskset -c "$SERVER_CPUS" "$@" --port "$port" >"${LOG[$name]}" 2>&1 &
  PID[$name]=$!
  for _ in $(seq 100); do   # up to ~10 s
    check_alive "$name"
    if [[ "$(timeout 2 redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]]; then
      note "$name ready on port $port (pid ${PID[$name]})"
      return 0
    fi
    sleep 0.1
  done
  echo "compare.sh: error: $name did not answer PING within 10 s; log:" >&2
  tail -n 20 "${LOG[$name]}" >&2
  exit 1
}

# Server CPU time in clock ticks: utime + stime, fields 14 and 15 of /proc/PID/stat (the
# command name, field 2, is in parentheses and may hold spaces, so split after the last ')').
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*") "}
  # After ')' the fields start at 3 (state): utime is the 12th, stime the 13th of the rest.
  awk '{ print $12 + $13 }' <<< "$stat"
}

prefill() {   # $1 = name: SET key:%012d for every key of the keyspace, as redis-benchmark -r names them
  local name=$1 port=${PORT[$1]}
  if [[ ! -f "$WORK/prefill.resp" ]]; then
    awk -v n="$KEYSPACE" -v d="$DATASIZE" 'BEGIN {
      v = sprintf("%*s", d, ""); gsub(/ /, "x", v);
      for (i = 0; i < n; i++)
        printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", i, d, v;
    }' > "$WORK/prefill.resp"
  fi
  local out
  out=$(timeout 300 taskset -c "$BENCH_CPUS" redis-cli -p "$port" --pipe < "$WORK/prefill.resp" 2>&1) \
    || { check_alive "$name"; die "prefill of $name failed: $out"; }
  grep -q "errors: 0," <<< "$out" || die "prefill of $name had errors: $out"
  check_alive "$name"
  local size
  size=$(redis-cli -p "$port" dbsize)
  note "$name prefilled: dbsize $size"
}

# ---- one measurement ----
# results: R_<metric>[name,test] = space-separated values, one per round
declare -A R_RPS R_P50 R_P99 R_CPU
run_one() {   # $1 = name, $2 = test id
  local name=$1 t=$2 port=${PORT[$1]} n
  n=$(( ${T_PIPE[$t]} ? PN : N ))
  check_alive "$name"
  local before after csv
  before=$(cpu_ticks "${PID[$name]}") || server_dead "$name"
  # shellcheck disable=SC2086
  if ! csv=$(timeout "$BENCH_TIMEOUT" taskset -c "$BENCH_CPUS" redis-benchmark -p "$port" \
        -n "$n" -c "$CLIENTS" -d "$DATASIZE" -r "$KEYSPACE" ${T_ARGS[$t]} --csv 2>"$WORK/bench.err"); then
    check_alive "$name"
    die "redis-benchmark failed on $name (${T_LABEL[$t]}): $(tail -n 5 "$WORK/bench.err")"
  fi
  after=$(cpu_ticks "${PID[$name]}") || server_dead "$name"
  check_alive "$name"
  # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
  #      "p99_latency_ms","max_latency_ms"
  local row
  row=$(grep -v '^"test"' <<< "$csv" | grep '^"' | head -n 1 | tr -d '"')
  [[ -n "$row" ]] || die "no result from redis-benchmark on $name (${T_LABEL[$t]}): $csv $(cat "$WORK/bench.err")"
  local rps p50 p99 cpu
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<< "$row"
  cpu=$(awk -v d=$(( after - before )) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')
  R_RPS[$name,$t]+="$rps "; R_P50[$name,$t]+="$p50 "; R_P99[$name,$t]+="$p99 "; R_CPU[$name,$t]+="$cpu "
  note "$(printf '%-8s %-15s rps=%-10s p50=%-6s p99=%-6s cpu_us/op=%s' "$name" "${T_LABEL[$t]}" "$rps" "$p50" "$p99" "$cpu")"
}

median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END {
  if (NR == 0) { print "n/a"; exit }
  if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "n/a"; else printf "%.2f", a / b }'; }

# ---- run ----
START=$(date +%s)
# shellcheck disable=SC2086
start_server redis "$REDIS_BIN" --bind 127.0.0.1 --save "" --appendonly no --protected-mode no \
  --daemonize no $REDIS_EXTRA
# shellcheck disable=SC2086
start_server shardis "$SHARDIS_BIN" --threads 1 --bind 127.0.0.1 --pin=false $SHARDIS_EXTRA
if (( PREFILL )); then
  prefill redis
  prefill shardis
  rm -f "$WORK/prefill.resp"
fi

for (( round = 1; round <= ROUNDS; round++ )); do
  if (( round % 2 )); then order=(redis shardis); else order=(shardis redis); fi
  for t in "${TEST_IDS[@]}"; do
    for s in "${order[@]}"; do run_one "$s" "$t"; done
  done
done
ELAPSED=$(( $(date +%s) - START ))

# ---- report ----
table() {
  echo "| Test | rps Redis | rps Shardis | rps ratio | p50 ms Redis | p50 ms Shardis | p50 ratio | p99 ms Redis | p99 ms Shardis | p99 ratio | CPU us/op Redis | CPU us/op Shardis | CPU ratio |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  local t rr rs lr50 ls50 lr99 ls99 cr cs
  for t in "${TEST_IDS[@]}"; do
    rr=$(median "${R_RPS[redis,$t]}");  rs=$(median "${R_RPS[shardis,$t]}")
    lr50=$(median "${R_P50[redis,$t]}"); ls50=$(median "${R_P50[shardis,$t]}")
    lr99=$(median "${R_P99[redis,$t]}"); ls99=$(median "${R_P99[shardis,$t]}")
    cr=$(median "${R_CPU[redis,$t]}");  cs=$(median "${R_CPU[shardis,$t]}")
    printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
      "${T_LABEL[$t]}" "$rr" "$rs" "$(ratio "$rs" "$rr")" \
      "$lr50" "$ls50" "$(ratio "$ls50" "$lr50")" \
      "$lr99" "$ls99" "$(ratio "$ls99" "$lr99")" \
      "$cr" "$cs" "$(ratio "$cs" "$cr")"
  done
}
REDIS_VERSION=$("$REDIS_BIN" --version 2>/dev/null | head -n 1 || true)
HEADER="Shardis ($SHARDIS_BIN --threads 1 --pin=false $SHARDIS_EXTRA) vs redis-server ($REDIS_VERSION $REDIS_EXTRA)
servers on CPU(s) $SERVER_CPUS, redis-benchmark on CPU(s) $BENCH_CPUS; -c $CLIENTS -d $DATASIZE -r $KEYSPACE; \
-n $N (pipelined -P $PIPELINE: -n $PN); rounds $ROUNDS (median); prefill $([[ $PREFILL == 1 ]] && echo "$KEYSPACE keys" || echo none); \
took ${ELAPSED}s
Ratios are Shardis / redis-server: above 1 is better for rps, below 1 is better for latency and CPU."
TABLE=$(table)
printf '%s\n\n%s\n' "$HEADER" "$TABLE"
if [[ -n "$OUT" ]]; then
  printf '%s\n\n%s\n' "$HEADER" "$TABLE" > "$OUT"
  note "table written to $OUT"
fi
