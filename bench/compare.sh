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
# Suites (all tests -c 50 (see --clients) -d 32 -r <keyspace>, each run on its own):
#   strings (default)  SET, GET, SET -P 16, GET -P 16, PING_MBULK, INCR, MSET.
#   types              redis-benchmark -P 16 -t lpush, rpush, lpop, rpop, sadd, hset, spop, zadd,
#                      zpopmin, lrange_100, lrange_300, lrange_600, then xadd; then without -P:
#                      lpush, lpop, sadd, hset, zadd, lrange_100, xadd. Pops run after the pushes
#                      of the same size, so they pop real elements, as in redis-benchmark's own
#                      sequence. Two differences from `redis-benchmark -t`:
#                      * LRANGE_N is run as the command redis-benchmark sends, `LRANGE <list> 0
#                        N-1`, on a list (key mylist:lrange) prefilled once with 600 elements of
#                        -d bytes, instead of `-t lrange_N`, which first runs -n LPUSHes whose
#                        CPU would be counted with the LRANGEs. LRANGE tests use fewer requests:
#                        pipelined -n / 5 (lrange_100), / 10 (lrange_300), / 20 (lrange_600);
#                        not pipelined -n / 2.
#                      * redis-benchmark 7.0 has no xadd test (it came in 7.2), so XADD is run as
#                        the command 7.2 sends: `XADD mystream * myfield <-d bytes>`.
#                      No keyspace prefill in this suite (use --prefill to force one).
#   A test whose command a server answers with an error (e.g. "unknown command" while a type is
#   still missing) makes redis-benchmark stop: the row is marked "unsupported" (or "error",
#   "timeout") for that server and the other tests go on.
#
# Usage: bench/compare.sh [options]
#   --suite NAME          strings (default) or types
#   --quick               small request counts (about 1-2 minutes in all; default mode
#                         takes about 3 minutes on a quiet machine, under 10 on a busy one;
#                         types suite on a very busy one: quick ~2.5 min per round, default ~20)
#   -n N                  requests per non-pipelined test   (default 500000, quick 100000)
#   --pipeline-n N        requests per pipelined test       (default 2000000, quick 500000)
#   --rounds R            runs of each test per server, median reported (default 1)
#   --keyspace N          -r for redis-benchmark and prefill size (default 1000000)
#   --no-prefill          do not load the keyspace before the tests
#   --prefill             load it even in the types suite
#   --shardis PATH        shardis-server binary (default build-rel/server/shardis-server)
#   --redis PATH          redis-server binary (default: redis-server from PATH)
#   --shardis-args "..."  extra Shardis arguments, appended (e.g. "--threads 2")
#   --redis-args "..."    extra redis-server arguments, appended (e.g. "--io-threads 2")
#   --server-cpus LIST    taskset CPU list for the servers (default 0)
#   --bench-cpus LIST     taskset CPU list for redis-benchmark (default 1)
#   --tests LIST          comma-separated subset of the suite's tests, run in that order:
#                         strings: set,get,set_p16,get_p16,ping_mbulk,incr,mset
#                         types:   lpush_p16,rpush_p16,lpop_p16,rpop_p16,sadd_p16,hset_p16,
#                                  spop_p16,zadd_p16,zpopmin_p16,lrange_100_p16,lrange_300_p16,
#                                  lrange_600_p16,xadd_p16,lpush,lpop,sadd,hset,zadd,lrange_100,xadd
#   --clients N           redis-benchmark connections (-c; default 50; 1 = single-connection latency)
#   --out FILE            also write the Markdown table (with a header) to FILE
#   -h, --help            this help
# Exit status: 0 on success (rows marked unsupported/error/timeout included), 1 on a server
# that fails to start or dies, or a benchmark that fails without an error reply; 2 on a usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

QUICK=0
N=""
PN=""
ROUNDS=1
KEYSPACE=1000000
PREFILL=""   # default: 1 for strings, 0 for types
SUITE="strings"
SHARDIS_BIN="$ROOT/build-rel/server/shardis-server"
REDIS_BIN=$(command -v redis-server || true)
SHARDIS_EXTRA=""
REDIS_EXTRA=""
SERVER_CPUS=0
BENCH_CPUS=1
TESTS=""
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
    --prefill) PREFILL=1; shift ;;
    --suite) SUITE="$2"; shift 2 ;;
    --shardis) SHARDIS_BIN="$2"; shift 2 ;;
    --redis) REDIS_BIN="$2"; shift 2 ;;
    --shardis-args) SHARDIS_EXTRA="$2"; shift 2 ;;
    --redis-args) REDIS_EXTRA="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --bench-cpus) BENCH_CPUS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

case "$SUITE" in
  strings) : "${PREFILL:=1}"
           [[ -n "$TESTS" ]] || TESTS="set,get,set_p16,get_p16,ping_mbulk,incr,mset" ;;
  types)   : "${PREFILL:=0}"
           [[ -n "$TESTS" ]] || TESTS="lpush_p16,rpush_p16,lpop_p16,rpop_p16,sadd_p16,hset_p16,spop_p16,zadd_p16,zpopmin_p16,lrange_100_p16,lrange_300_p16,lrange_600_p16,xadd_p16,lpush,lpop,sadd,hset,zadd,lrange_100,xadd" ;;
  *) echo "compare.sh: unknown suite '$SUITE' (strings or types)" >&2; exit 2 ;;
esac
if [[ -z "$N" ]]; then N=$(( QUICK ? 100000 : 500000 )); fi
if [[ -z "$PN" ]]; then PN=$(( QUICK ? 500000 : 2000000 )); fi
for v in N PN ROUNDS KEYSPACE CLIENTS; do
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
# T_ARGS is split on blanks without globbing (a custom command may hold '*').
# Optional: T_NDIV (divide the request count by it), T_SETUP (function run once per server
# before the test's first run; it returns non-zero after marking the test for that server).
declare -A T_LABEL T_ARGS T_PIPE T_NDIV T_SETUP
DATA=$(printf '%*s' "$DATASIZE" '' | tr ' ' x)   # redis-benchmark's -d payload
if [[ "$SUITE" == strings ]]; then
T_LABEL[set]="SET";            T_ARGS[set]="-t set";                        T_PIPE[set]=0
T_LABEL[get]="GET";            T_ARGS[get]="-t get";                        T_PIPE[get]=0
T_LABEL[set_p16]="SET -P 16";  T_ARGS[set_p16]="-t set -P $PIPELINE";       T_PIPE[set_p16]=1
T_LABEL[get_p16]="GET -P 16";  T_ARGS[get_p16]="-t get -P $PIPELINE";       T_PIPE[get_p16]=1
T_LABEL[ping_mbulk]="PING_MBULK"; T_ARGS[ping_mbulk]="-t ping_mbulk";       T_PIPE[ping_mbulk]=0
T_LABEL[incr]="INCR";          T_ARGS[incr]="-t incr";                      T_PIPE[incr]=0
T_LABEL[mset]="MSET (10 keys)"; T_ARGS[mset]="-t mset";                     T_PIPE[mset]=0
else
  add_test() {   # $1 = id, $2 = label, $3 = pipelined (0/1), $4 = arguments after -P
    local id=$1 label=$2 pipe=$3 args=$4
    if (( pipe )); then T_LABEL[$id]="$label -P $PIPELINE"; T_ARGS[$id]="-P $PIPELINE $args"
    else T_LABEL[$id]="$label"; T_ARGS[$id]="$args"; fi
    T_PIPE[$id]=$pipe
  }
  for p in 1 0; do
    sfx=$([[ $p == 1 ]] && echo _p16 || true)
    for t in lpush rpush lpop rpop sadd hset spop zadd zpopmin; do
      add_test "$t$sfx" "${t^^}" "$p" "-t $t"
    done
    for l in 100 300 600; do
      add_test "lrange_$l$sfx" "LRANGE_$l" "$p" "LRANGE mylist:lrange 0 $(( l - 1 ))"
      T_NDIV[lrange_$l$sfx]=$(( p == 0 ? 2 : l == 100 ? 5 : l == 300 ? 10 : 20 ))
      T_SETUP[lrange_$l$sfx]=setup_lrange
    done
    add_test "xadd$sfx" "XADD" "$p" "XADD mystream * myfield $DATA"
  done
fi
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
# results: R_<metric>[name,test] = space-separated values, one per round;
# R_STATUS[name,test] = unsupported / error / timeout once a run could not be measured.
declare -A R_RPS R_P50 R_P99 R_CPU R_STATUS SETUP_DONE

mark() {   # $1 = name, $2 = test, $3 = status, $4 = detail
  R_STATUS[$1,$2]=$3
  note "$(printf '%-8s %-18s %s: %s' "$1" "${T_LABEL[$2]}" "$3" "$4")"
}
classify_error() {   # stdin = error text; prints unsupported or error
  if grep -qiE "unknown command|unknown subcommand" ; then echo unsupported; else echo error; fi
}

setup_lrange() {   # $1 = name, $2 = test: mylist:lrange = 600 elements of -d bytes
  local port=${PORT[$1]} out args=() i
  for (( i = 0; i < 600; i++ )); do args+=("$DATA"); done
  timeout 30 redis-cli -p "$port" del mylist:lrange >/dev/null 2>&1 || true
  out=$(timeout 30 redis-cli -p "$port" rpush mylist:lrange "${args[@]}" 2>&1) || true
  check_alive "$1"
  if [[ "$out" != 600 ]]; then
    mark "$1" "$2" "$(classify_error <<< "$out")" "setup RPUSH answered: ${out:0:120}"
    return 1
  fi
}

run_one() {   # $1 = name, $2 = test id
  local name=$1 t=$2 port=${PORT[$1]} n
  n=$(( ${T_PIPE[$t]} ? PN : N ))
  n=$(( n / ${T_NDIV[$t]:-1} ))
  (( n > 0 )) || n=1
  check_alive "$name"
  [[ -z "${R_STATUS[$name,$t]:-}" ]] || return 0     # already found unsupported
  local setup=${T_SETUP[$t]:-} key
  if [[ -n "$setup" ]]; then
    key="$name,$setup"
    if [[ -z "${SETUP_DONE[$key]:-}" ]]; then
      "$setup" "$name" "$t" || return 0
      SETUP_DONE[$key]=1
    fi
  fi
  local before after csv rc=0 args
  read -r -a args <<< "${T_ARGS[$t]}"     # no globbing of '*'
  before=$(cpu_ticks "${PID[$name]}") || server_dead "$name"
  csv=$(timeout "$BENCH_TIMEOUT" taskset -c "$BENCH_CPUS" redis-benchmark -p "$port" \
        -n "$n" -c "$CLIENTS" -d "$DATASIZE" -r "$KEYSPACE" --csv "${args[@]}" 2>"$WORK/bench.err") || rc=$?
  if (( rc != 0 )); then
    check_alive "$name"
    if (( rc == 124 )); then
      mark "$name" "$t" timeout "no result within ${BENCH_TIMEOUT}s"
    elif grep -q "Error from server" "$WORK/bench.err"; then
      mark "$name" "$t" "$(classify_error < "$WORK/bench.err")" "$(grep -m 1 "Error from server" "$WORK/bench.err")"
    else
      die "redis-benchmark failed on $name (${T_LABEL[$t]}): $(tail -n 5 "$WORK/bench.err")"
    fi
    return 0
  fi
  after=$(cpu_ticks "${PID[$name]}") || server_dead "$name"
  check_alive "$name"
  # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
  #      "p99_latency_ms","max_latency_ms"
  # (one row per test; -t lrange_N would print an LPUSH row first, hence the last row)
  local row
  row=$(grep -v '^"test"' <<< "$csv" | grep '^"' | tail -n 1 | sed 's/^"[^"]*",//' | tr -d '"')
  [[ -n "$row" ]] || die "no result from redis-benchmark on $name (${T_LABEL[$t]}): $csv $(cat "$WORK/bench.err")"
  local rps p50 p99 cpu
  IFS=, read -r rps _ _ p50 _ p99 _ <<< "$row"
  cpu=$(awk -v d=$(( after - before )) -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')
  R_RPS[$name,$t]+="$rps "; R_P50[$name,$t]+="$p50 "; R_P99[$name,$t]+="$p99 "; R_CPU[$name,$t]+="$cpu "
  note "$(printf '%-8s %-18s rps=%-10s p50=%-6s p99=%-6s cpu_us/op=%s' "$name" "${T_LABEL[$t]}" "$rps" "$p50" "$p99" "$cpu")"
}

median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END {
  if (NR == 0) { print "n/a"; exit }
  if (NR % 2) { print a[(NR + 1) / 2]; exit }
  v = (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "%.3f\n", v }'; }
ratio() {   # a / b, or n/a when either is not a number
  [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] || { echo "n/a"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

# ---- run ----
START=$(date +%s)
# shellcheck disable=SC2086
start_server redis "$REDIS_BIN" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --protected-mode no \
  --daemonize no $REDIS_EXTRA
# shellcheck disable=SC2086
start_server shardis "$SHARDIS_BIN" --threads 1 --bind 127.0.0.1 --pin=false --dir "$WORK" $SHARDIS_EXTRA
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
cell() {   # $1 = metric array name, $2 = server, $3 = test: median, or the server's status
  local st=${R_STATUS[$2,$3]:-}
  if [[ -n "$st" ]]; then echo "$st"; return; fi
  local -n arr=$1
  median "${arr[$2,$3]:-}"
}
table() {
  echo "| Test | rps Redis | rps Shardis | rps ratio | p50 ms Redis | p50 ms Shardis | p50 ratio | p99 ms Redis | p99 ms Shardis | p99 ratio | CPU us/op Redis | CPU us/op Shardis | CPU ratio |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  local t m r s line
  for t in "${TEST_IDS[@]}"; do
    line="| ${T_LABEL[$t]} "
    for m in R_RPS R_P50 R_P99 R_CPU; do
      r=$(cell "$m" redis "$t"); s=$(cell "$m" shardis "$t")
      if [[ $m == R_RPS ]]; then   # rps without decimals
        [[ "$r" =~ ^[0-9.]+$ ]] && r=$(printf '%.0f' "$r")
        [[ "$s" =~ ^[0-9.]+$ ]] && s=$(printf '%.0f' "$s")
      fi
      line+="| $r | $s | $(ratio "$s" "$r") "
    done
    echo "$line|"
  done
}
REDIS_VERSION=$("$REDIS_BIN" --version 2>/dev/null | head -n 1 || true)
HEADER="Shardis ($SHARDIS_BIN --threads 1 --pin=false $SHARDIS_EXTRA) vs redis-server ($REDIS_VERSION $REDIS_EXTRA)
servers on CPU(s) $SERVER_CPUS, redis-benchmark on CPU(s) $BENCH_CPUS; -c $CLIENTS -d $DATASIZE -r $KEYSPACE; \
suite $SUITE; -n $N (pipelined -P $PIPELINE: -n $PN$([[ $SUITE == types ]] && echo "; LRANGE_100/300/600 -P: -n / 5, 10, 20, LRANGE_100: -n / 2"); rounds $ROUNDS (median); prefill $([[ $PREFILL == 1 ]] && echo "$KEYSPACE keys" || echo none); \
took ${ELAPSED}s
Ratios are Shardis / redis-server: above 1 is better for rps, below 1 is better for latency and CPU."
TABLE=$(table)
printf '%s\n\n%s\n' "$HEADER" "$TABLE"
if [[ -n "$OUT" ]]; then
  printf '%s\n\n%s\n' "$HEADER" "$TABLE" > "$OUT"
  note "table written to $OUT"
fi
