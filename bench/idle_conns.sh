#!/usr/bin/env bash
# bench/idle_conns.sh: what idle connections cost Shardis and redis-server, measured in the same
# run. For each server (a fresh one, pinned to the server CPU(s), default 0):
#   1. redis-benchmark -t get -c 50 -n 20000 (not pipelined, pinned to the client CPU(s),
#      default 1): rps, p50 and p99 with no idle clients;
#   2. VmRSS of the server ("before");
#   3. bench/c10k/pingload --hold opens --clients N connections (quick 5,000, full 15,000), each
#      sends one PING and reads the reply, then all stay open and silent;
#   4. VmRSS at once, and again after --settle seconds (default 15; redis-server shrinks the
#      query buffers of idle clients in its clientsCron, so it needs a few seconds to settle);
#      per idle connection = (settled RSS - RSS before) / N;
#   5. the same redis-benchmark run while the N idle connections are held;
#   6. the idle connections are closed (the script checks that the server had closed none).
# redis-server runs with --maxclients 16000 --save "" --appendonly no, Shardis with --threads 1
# --pin=false --maxclients 16000. Each server and each client runs in a session of its own
# (setsid), so that with autogroup scheduling each is its own scheduling group, as a daemon would
# be (see bench/c10k/run.sh). ulimit -n is raised to the hard limit (each server and the
# client need N + a few descriptors). With --rounds R the servers alternate in order and the
# table shows medians. The last lines estimate 1,000,000 idle connections from the measured slope
# (user-space memory only: the kernel's socket structures come on top, for either server).
#
# Usage: bench/idle_conns.sh [options]
#   --quick              5,000 idle clients (default 15,000)
#   --clients N          idle clients (at most the open-file limit - 100, and 15,900)
#   --settle S           seconds between "ready" and the RSS reading (default 5)
#   --rounds R           runs per server, medians reported (default 1)
#   -n N                 requests of each redis-benchmark run (default 20000)
#   --shardis PATH       shardis-server binary (default: build-rel, then build-c10k, then build)
#   --redis PATH         redis-server binary (default: redis-server from PATH)
#   --server-cpus LIST   taskset CPU list for the servers (default 0)
#   --client-cpus LIST   taskset CPU list for redis-benchmark and the idle clients (default 1)
#   --out FILE           also write the table (with its header) to FILE
#   -h, --help           this help
# Exit status: 0 on success, 1 on a failed server or run, 2 on a usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

QUICK=0
CLIENTS=""
SETTLE=15
ROUNDS=1
REQUESTS=20000
SHARDIS_BIN=""
REDIS_BIN=$(command -v redis-server || true)
SERVER_CPUS=0
CLIENT_CPUS=1
OUT=""
MAXCLIENTS=16000
BENCH_TIMEOUT=300

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "idle_conns: error: $*" >&2; exit 1; }
note() { echo "idle_conns: $*" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --settle) SETTLE="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    -n) REQUESTS="$2"; shift 2 ;;
    --shardis) SHARDIS_BIN="$2"; shift 2 ;;
    --redis) REDIS_BIN="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --client-cpus) CLIENT_CPUS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "idle_conns: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$CLIENTS" ]] || CLIENTS=$(( QUICK ? 5000 : 15000 ))
for v in CLIENTS ROUNDS REQUESTS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "idle_conns: $v must be a positive integer" >&2; exit 2; }
done
[[ "$SETTLE" =~ ^[0-9]+$ ]] || { echo "idle_conns: --settle must be a whole number of seconds" >&2; exit 2; }
(( CLIENTS <= MAXCLIENTS - 100 )) || { echo "idle_conns: at most $(( MAXCLIENTS - 100 )) clients" >&2; exit 2; }

if [[ -z "$SHARDIS_BIN" ]]; then
  for b in build-rel build-c10k build; do
    if [[ -x "$ROOT/$b/server/shardis-server" ]]; then SHARDIS_BIN="$ROOT/$b/server/shardis-server"; break; fi
  done
fi
[[ -n "$SHARDIS_BIN" && -x "$SHARDIS_BIN" ]] || die "Shardis binary not found (use --shardis PATH); build it with:
  cmake -S $ROOT -B $ROOT/build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHARDIS_BUILD_TESTS=OFF -DSHARDIS_BUILD_BENCH=OFF && ninja -C $ROOT/build-rel shardis-server"
[[ -n "$REDIS_BIN" && -x "$REDIS_BIN" ]] || die "redis-server not found (use --redis PATH)"
for tool in g++ redis-cli redis-benchmark taskset setsid awk timeout ss; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
taskset -c "$SERVER_CPUS" true 2>/dev/null || die "cannot pin to server CPUs '$SERVER_CPUS'"
taskset -c "$CLIENT_CPUS" true 2>/dev/null || die "cannot pin to client CPUs '$CLIENT_CPUS'"

ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) >= CLIENTS + 100 )) || die "open-file limit $(ulimit -n) is too low for $CLIENTS clients"
(( $(ulimit -n) >= MAXCLIENTS + 32 )) || note "open-file limit $(ulimit -n) < $(( MAXCLIENTS + 32 )): redis-server will lower maxclients"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardis-idle.XXXXXX")
SERVER_PID=""
HOLDER_PID=""
stop_pid() {   # $1 = pid: TERM, up to 10 s, then KILL
  [[ -n "$1" ]] || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_pid "$HOLDER_PID"
  stop_pid "$SERVER_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note "building bench/c10k/pingload"
g++ -std=c++20 -O2 -o "$WORK/pingload" "$ROOT/bench/c10k/pingload.cc"

port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % 10000 ))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
slab_kb() { awk '$1 == "Slab:" { print $2 }' /proc/meminfo; }
alive() { kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$WORK/server.log" >&2; die "$1 died"; }; }

start_server() {   # $1 = redis|shardis; sets SERVER_PID, PORT
  PORT=$(free_port)
  if [[ $1 == redis ]]; then
    taskset -c "$SERVER_CPUS" setsid "$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save "" \
      --appendonly no --dir "$WORK" --protected-mode no --daemonize no --maxclients "$MAXCLIENTS" \
      >"$WORK/server.log" 2>&1 &
  else
    taskset -c "$SERVER_CPUS" setsid "$SHARDIS_BIN" --port "$PORT" --threads 1 --bind 127.0.0.1 \
      --pin=false --save "" --dir "$WORK" --maxclients "$MAXCLIENTS" >"$WORK/server.log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 100); do
    alive "$1"
    [[ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]] && return 0
    sleep 0.1
  done
  tail -n 20 "$WORK/server.log" >&2
  die "$1 did not answer PING within 10 s"
}

bench() {   # $1 = server name; prints "rps p50 p99" (ms)
  local csv row rps p50 p99
  csv=$(timeout "$BENCH_TIMEOUT" taskset -c "$CLIENT_CPUS" setsid redis-benchmark -p "$PORT" -t get \
        -c 50 -n "$REQUESTS" --csv 2>"$WORK/bench.err") \
    || { alive "$1"; die "redis-benchmark failed on $1: $(tail -n 5 "$WORK/bench.err")"; }
  # CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
  #      "p99_latency_ms","max_latency_ms"
  row=$(grep '^"GET"' <<< "$csv" | tail -n 1 | tr -d '"')
  [[ -n "$row" ]] || die "no GET result from redis-benchmark on $1: $csv"
  IFS=, read -r _ rps _ _ p50 _ p99 _ <<< "$row"
  echo "$rps $p50 $p99"
}

# R[metric,server] = space-separated values, one per round
declare -A R
add() { R[$1,$2]+="$3 "; }

run_one() {   # $1 = redis|shardis
  local name=$1 b0 b1 rss0 rss1 rss2 rss3 slab0 slab1 line
  start_server "$name"
  read -r -a b0 <<< "$(bench "$name")"
  sleep 1
  rss0=$(rss_kb "$SERVER_PID")
  slab0=$(slab_kb)
  note "$name: port $PORT, pid $SERVER_PID; no idle clients: GET rps ${b0[0]} p50 ${b0[1]} p99 ${b0[2]} ms; RSS $rss0 kB"
  taskset -c "$CLIENT_CPUS" setsid "$WORK/pingload" --port "$PORT" --conns "$CLIENTS" --hold \
    --hold-max 900 >"$WORK/holder.out" 2>"$WORK/holder.err" &
  HOLDER_PID=$!
  for _ in $(seq 1800); do   # up to ~180 s
    grep -q '^ready' "$WORK/holder.out" 2>/dev/null && break
    kill -0 "$HOLDER_PID" 2>/dev/null || die "idle clients failed on $name: $(tail -n 5 "$WORK/holder.err")"
    sleep 0.1
  done
  grep -q '^ready' "$WORK/holder.out" || die "idle clients not connected to $name within 180 s"
  alive "$name"
  rss1=$(rss_kb "$SERVER_PID")
  slab1=$(slab_kb)
  sleep "$SETTLE"
  rss2=$(rss_kb "$SERVER_PID")
  note "$name: $(head -n 1 "$WORK/holder.out"); RSS at once $rss1 kB, after ${SETTLE}s $rss2 kB"
  read -r -a b1 <<< "$(bench "$name")"
  rss3=$(rss_kb "$SERVER_PID")
  note "$name: $CLIENTS idle clients: GET rps ${b1[0]} p50 ${b1[1]} p99 ${b1[2]} ms; RSS after it $rss3 kB"
  stop_pid "$HOLDER_PID"
  HOLDER_PID=""
  line=$(grep '^released' "$WORK/holder.out" || true)
  [[ "$line" == "released closed=0" ]] || die "$name closed idle connections: ${line:-no report}"
  alive "$name"
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  add rss0 "$name" "$(awk -v a="$rss0" 'BEGIN { printf "%.1f", a / 1024 }')"
  add rss2 "$name" "$(awk -v a="$rss2" 'BEGIN { printf "%.1f", a / 1024 }')"
  add per_conn_once "$name" "$(awk -v a="$rss1" -v b="$rss0" -v n="$CLIENTS" 'BEGIN { printf "%.2f", (a - b) / n }')"
  add per_conn "$name" "$(awk -v a="$rss2" -v b="$rss0" -v n="$CLIENTS" 'BEGIN { printf "%.2f", (a - b) / n }')"
  add slab "$name" "$(awk -v a="$slab1" -v b="$slab0" -v n="$CLIENTS" 'BEGIN { printf "%.2f", (a - b) / n / 2 }')"
  add rps0 "$name" "${b0[0]}"; add p50_0 "$name" "${b0[1]}"; add p99_0 "$name" "${b0[2]}"
  add rps1 "$name" "${b1[0]}"; add p50_1 "$name" "${b1[1]}"; add p99_1 "$name" "${b1[2]}"
  sleep 1
}

START=$(date +%s)
for (( round = 1; round <= ROUNDS; round++ )); do
  if (( round % 2 )); then order=(redis shardis); else order=(shardis redis); fi
  for s in "${order[@]}"; do run_one "$s"; done
done
ELAPSED=$(( $(date +%s) - START ))

median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END {
  if (NR == 0) { print "n/a"; exit }
  if (NR % 2) { print a[(NR + 1) / 2]; exit }
  printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() {
  [[ "$1" =~ ^-?[0-9.]+$ && "$2" =~ ^-?[0-9.]+$ ]] || { echo "n/a"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
M() { median "${R[$1,$2]:-}"; }

NC=$(printf "%'d" "$CLIENTS" 2>/dev/null || echo "$CLIENTS")
row() {   # $1 = label, $2 = metric, $3 = 1 to print rps without decimals
  local r s
  r=$(M "$2" redis); s=$(M "$2" shardis)
  if [[ "${3:-0}" == 1 ]]; then
    [[ "$r" =~ ^[0-9.]+$ ]] && r=$(printf '%.0f' "$r")
    [[ "$s" =~ ^[0-9.]+$ ]] && s=$(printf '%.0f' "$s")
  fi
  echo "| $1 | $r | $s | $(ratio "$s" "$r") |"
}
held() {   # $1 = metric with idle clients, $2 = without, $3 = server: with / without
  ratio "$(M "$1" "$3")" "$(M "$2" "$3")"
}
table() {
  echo "| Measure | redis-server | Shardis | Shardis / redis-server |"
  echo "|---|--:|--:|--:|"
  row "RSS before, MB" rss0
  row "RSS with $NC idle clients (after ${SETTLE} s), MB" rss2
  row "**RSS per idle client, KB** (after ${SETTLE} s)" per_conn
  row "RSS per idle client, KB, right after connecting" per_conn_once
  row "GET rps, no idle clients" rps0 1
  row "GET rps, $NC idle clients" rps1 1
  row "GET p50 ms, no idle clients" p50_0
  row "GET p50 ms, $NC idle clients" p50_1
  row "GET p99 ms, no idle clients" p99_0
  row "GET p99 ms, $NC idle clients" p99_1
  echo
  echo "With / without the idle clients: redis-server p50 $(held p50_1 p50_0 redis), p99 $(held p99_1 p99_0 redis), rps $(held rps1 rps0 redis);" \
       "Shardis p50 $(held p50_1 p50_0 shardis), p99 $(held p99_1 p99_0 shardis), rps $(held rps1 rps0 shardis)."
  echo "Kernel slab growth per socket (machine-wide /proc/meminfo Slab, both ends of each connection on this machine, so / 2N; noisy):" \
       "$(M slab redis) KB (redis-server run), $(M slab shardis) KB (Shardis run)."
  local r s
  r=$(M per_conn redis); s=$(M per_conn shardis)
  echo "1,000,000 idle connections at the measured slope (user space only):" \
       "redis-server $(awk -v k="$r" 'BEGIN { printf "%.2f", k * 1e6 / 1048576 }') GB," \
       "Shardis $(awk -v k="$s" 'BEGIN { printf "%.2f", k * 1e6 / 1048576 }') GB."
}
REDIS_VERSION=$("$REDIS_BIN" --version 2>/dev/null | head -n 1 || true)
HEADER="Idle connections: $CLIENTS idle clients (one PING each, then silent); redis-benchmark -t get -c 50 -n $REQUESTS (not pipelined)
Shardis: $SHARDIS_BIN --threads 1 --pin=false; redis-server: $REDIS_VERSION; servers on CPU(s) $SERVER_CPUS, clients on CPU(s) $CLIENT_CPUS; \
rounds $ROUNDS (median); took ${ELAPSED}s"
TABLE=$(table)
printf '%s\n\n%s\n' "$HEADER" "$TABLE"
if [[ -n "$OUT" ]]; then
  printf '%s\n\n%s\n' "$HEADER" "$TABLE" > "$OUT"
  note "table written to $OUT"
fi
