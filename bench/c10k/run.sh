#!/usr/bin/env bash
# bench/c10k/run.sh: the C10k experiment. N mostly idle connections, each sending one PING per
# second, against a thread-per-connection blocking server (bench/c10k/thread_server.cc) and
# against Shardis with one reactor thread (--threads 1 --pin=false).
#
# For each N (default 1000 5000 10000) and each server, a fresh server is started pinned to the
# server CPU(s) (default 0) and bench/c10k/pingload (one epoll thread, pinned to the client
# CPU(s), default 1) opens N connections, has each answer one PING, then sends N PINGs per
# second, spread evenly (each connection one per second), for --duration seconds. Reported:
#   RSS MB          VmRSS of the server at the end of the run, N connections open
#   KB/conn         (that RSS - the RSS before the first connection) / N
#   Threads         Threads: of /proc/PID/status at the end of the run
#   Kstack MB       growth of KernelStack in /proc/meminfo from before the connections to the end
#                   of the run: the kernel stacks of the server's threads (not in VmRSS). It is
#                   machine-wide, so other jobs add noise of a few MB either way
#   vol cs, invol cs  voluntary / nonvoluntary context switches of all the server's threads
#                   (/proc/PID/task/*/status), the difference over the measured run
#   CPU us/req      server utime+stime over the run / requests (1 tick = 10 ms of resolution)
#   p50, p99        per-request latency, ms: reply read - request written, as the client saw it
#                   (a request still unanswered 5 s after the end counts with its age then)
#   lag p99         how late the client sent its requests against the schedule, p99, ms: when
#                   this is as large as p99, the client itself was waiting for a CPU
# The order of the two servers alternates from one N to the next. Each server and the load
# generator run in a session of their own (setsid), as a daemon would: with the kernel's
# autogroup scheduling (kernel.sched_autogroup_enabled = 1) a session is one scheduling group, and
# a group's CPU share is spread over the CPUs by its load there, so a load generator in the same
# group as 10,000 runnable server threads on CPU 0 would get almost nothing of CPU 1 while other
# jobs run there.
#
# Usage: bench/c10k/run.sh [options]
#   --quick              5 s per run instead of 20 (about 2 minutes in all)
#   --duration S         seconds of load per run (default 20, quick 5)
#   --conns "N1 N2 ..."  connection counts (default "1000 5000 10000"); each needs N+32 open
#                        files in the client and in the server (ulimit -n is raised to the hard
#                        limit)
#   --shardis PATH       shardis-server binary (default: build-rel, then build-c10k, then build)
#   --server-cpus LIST   taskset CPU list for the servers (default 0)
#   --client-cpus LIST   taskset CPU list for the load generator (default 1)
#   --out FILE           also write the table (with its header) to FILE
#   --data FILE          also write the results as tab-separated values to FILE
#   --plot FILE.png      draw RSS and p99 against N for both servers with gnuplot
#   --replot "A.tsv ..." with --plot: measure nothing, draw the plot from earlier --data files
#                        (memory from the first, p99 from each)
#   -h, --help           this help
# Exit status: 0 on success, 1 on a failed server or run, 2 on a usage error.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

QUICK=0
DURATION=""
CONNS="1000 5000 10000"
SHARDIS_BIN=""
SERVER_CPUS=0
CLIENT_CPUS=1
OUT=""
DATA=""
PLOT=""
REPLOT=""
GRACE=5

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "c10k: error: $*" >&2; exit 1; }
note() { echo "c10k: $*" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --duration) DURATION="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --shardis) SHARDIS_BIN="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --client-cpus) CLIENT_CPUS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --data) DATA="$2"; shift 2 ;;
    --plot) PLOT="$2"; shift 2 ;;
    --replot) REPLOT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "c10k: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$DURATION" ]] || DURATION=$(( QUICK ? 5 : 20 ))
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || { echo "c10k: --duration must be a positive integer" >&2; exit 2; }
read -r -a CONN_LIST <<< "$CONNS"
(( ${#CONN_LIST[@]} > 0 )) || { echo "c10k: --conns is empty" >&2; exit 2; }
for n in "${CONN_LIST[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "c10k: connection count '$n' is not a positive integer" >&2; exit 2; }
done

if [[ -z "$SHARDIS_BIN" ]]; then
  for b in build-rel build-c10k build; do
    if [[ -x "$ROOT/$b/server/shardis-server" ]]; then SHARDIS_BIN="$ROOT/$b/server/shardis-server"; break; fi
  done
fi
[[ -n "$REPLOT" || ( -n "$SHARDIS_BIN" && -x "$SHARDIS_BIN" ) ]] || die "Shardis binary not found (use --shardis PATH); build it with:
  cmake -S $ROOT -B $ROOT/build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHARDIS_BUILD_TESTS=OFF -DSHARDIS_BUILD_BENCH=OFF && ninja -C $ROOT/build-rel shardis-server"
for tool in g++ redis-cli taskset setsid awk timeout ss; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
taskset -c "$SERVER_CPUS" true 2>/dev/null || die "cannot pin to server CPUs '$SERVER_CPUS'"
taskset -c "$CLIENT_CPUS" true 2>/dev/null || die "cannot pin to client CPUs '$CLIENT_CPUS'"
[[ -z "$REPLOT" || -n "$PLOT" ]] || { echo "c10k: --replot needs --plot FILE.png" >&2; exit 2; }
if [[ -n "$PLOT" ]] && ! command -v gnuplot >/dev/null; then
  die "--plot needs gnuplot (Debian: apt-get install -y gnuplot-nox)"
fi

# Both the client and the server need N + a few descriptors; the limit is per process.
ulimit -n "$(ulimit -Hn)"
MAXN=0
for n in "${CONN_LIST[@]}"; do (( n > MAXN )) && MAXN=$n; done
(( $(ulimit -n) >= MAXN + 64 )) || die "open-file limit $(ulimit -n) is too low for $MAXN connections"
SHARDIS_MAXCLIENTS=$(( MAXN + 100 ))

# draw_plot OUT.png DATA.tsv...: memory (from the first file) and p99 (every file) against N.
draw_plot() {
  local out=$1; shift
  local first=$1 k=0 m=$# dur p99="" sfx
  dur=$(sed -n 's/^# c10k duration_s=\([0-9]*\).*/\1/p' "$first" | head -n 1)
  for f in "$@"; do
    k=$(( k + 1 ))
    sfx=$( (( m > 1 )) && echo " (run $k)" || true)
    [[ -z "$p99" ]] || p99+=", "
    p99+="\"$f\" index 0 using 1:11 with linespoints lw 2 pt 7 dt $k lc 1 title \"thread per connection$sfx\", "
    p99+="\"$f\" index 1 using 1:11 with linespoints lw 2 pt 5 dt $k lc 2 title \"Shardis --threads 1$sfx\""
  done
  gnuplot <<EOF
set terminal pngcairo size 1100,480 font "sans,11"
set output "$out"
set multiplot layout 1,2 title "C10k: N connections, one PING per second each (${dur:-?} s per run$( (( m > 1 )) && echo ", $m runs" || true))"
set key top left opaque box
set offsets 0, 0, graph 0.35, 0
set grid
set yrange [0:*]
set xlabel "connections (N)"
set ylabel "server memory (MB)"
set title "Server memory"
plot "$first" index 0 using 1:3 with linespoints lw 2 pt 7 lc 1 title "thread per connection: VmRSS", \
     "" index 0 using 1:(\$3 + \$6) with linespoints lw 2 pt 6 dt 2 lc 1 \
        title "thread per connection: VmRSS + kernel stacks", \
     "" index 1 using 1:3 with linespoints lw 2 pt 5 lc 2 title "Shardis --threads 1: VmRSS"
set ylabel "p99 latency (ms, log scale)"
set title "p99 latency"
set logscale y
set format y "%g"
set yrange [*:*]
set offsets 0, 0, graph 0.3, 0
plot $p99
unset multiplot
EOF
}

if [[ -n "$REPLOT" ]]; then   # no measurement: draw the plot from earlier --data files
  read -r -a files <<< "$REPLOT"
  for f in "${files[@]}"; do [[ -f "$f" ]] || die "no data file $f"; done
  draw_plot "$PLOT" "${files[@]}"
  note "plot written to $PLOT"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardis-c10k.XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note "building the thread-per-connection server and the load generator"
g++ -std=c++20 -O2 -pthread -o "$WORK/thread_server" "$HERE/thread_server.cc"
g++ -std=c++20 -O2 -o "$WORK/pingload" "$HERE/pingload.cc"

port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % 10000 ))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
kstack_kb() { awk '$1 == "KernelStack:" { print $2 }' /proc/meminfo; }

start_server() {   # $1 = thread|shardis; sets SERVER_PID, PORT
  PORT=$(free_port)
  local log="$WORK/$1.log"
  # taskset and setsid exec the server (setsid forks only in a process-group leader, and a
  # background job of a script is none), so $! is the server's own pid.
  if [[ $1 == thread ]]; then
    taskset -c "$SERVER_CPUS" setsid "$WORK/thread_server" "$PORT" >"$log" 2>&1 &
  else
    taskset -c "$SERVER_CPUS" setsid "$SHARDIS_BIN" --port "$PORT" --threads 1 --bind 127.0.0.1 \
      --pin=false --save "" --dir "$WORK" --maxclients "$SHARDIS_MAXCLIENTS" >"$log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "$1 server died at start"; }
    [[ "$(timeout 2 redis-cli -p "$PORT" ping 2>/dev/null)" == "PONG" ]] && return 0
    sleep 0.1
  done
  tail -n 20 "$log" >&2
  die "$1 server did not answer PING within 10 s"
}
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

field() { grep -o "\b$1=[^ ]*" <<< "$2" | head -n 1 | cut -d= -f2; }

declare -A RES   # RES[server,N] = "rss_mb kb_conn threads kstack_mb vcsw nvcsw cpu_us p50 p99 lag99 note"
run_one() {   # $1 = thread|shardis, $2 = N
  local name=$1 n=$2 rss0 ks0 out rc=0
  start_server "$name"
  sleep 0.5
  rss0=$(status_kb "$SERVER_PID" VmRSS)
  ks0=$(kstack_kb)
  note "$name: N=$n, port $PORT, pid $SERVER_PID, RSS before ${rss0} kB"
  out=$(timeout $(( DURATION + GRACE + 240 )) taskset -c "$CLIENT_CPUS" setsid "$WORK/pingload" \
        --port "$PORT" --conns "$n" --duration "$DURATION" --grace "$GRACE" \
        --server-pid "$SERVER_PID" 2>"$WORK/pingload.err") || rc=$?
  kill -0 "$SERVER_PID" 2>/dev/null || die "$name server died during the run (N=$n)"
  stop_server
  [[ "$out" == *conns=* ]] || die "pingload failed on $name (N=$n, exit $rc): $(tail -n 5 "$WORK/pingload.err")"
  note "$name: $out"
  local sent recv unanswered errors skipped closed rss ks vcsw nvcsw cpu p50 p99 lag threads flag=""
  sent=$(field sent "$out"); recv=$(field recv "$out"); unanswered=$(field unanswered "$out")
  errors=$(field errors "$out")
  skipped=$(field skipped "$out"); closed=$(field closed "$out")
  rss=$(field rss_kb "$out"); ks=$(field kstack_kb "$out"); threads=$(field threads "$out")
  vcsw=$(field vcsw "$out"); nvcsw=$(field nvcsw "$out"); cpu=$(field cpu_s "$out")
  p50=$(field p50_us "$out"); p99=$(field p99_us "$out"); lag=$(field lag_p99_us "$out")
  if (( rc != 0 || errors > 0 || closed > 0 || skipped > 0 || recv != sent )); then
    flag="$unanswered of $sent requests unanswered after the ${GRACE} s grace (their age counted: p50/p99 are lower bounds); $skipped sends skipped (8 already outstanding)"
    (( errors == 0 )) || flag+="; $errors errors"
    (( closed == 0 )) || flag+="; $closed closed"
  fi
  RES[$name,$n]=$(awk -v rss="$rss" -v rss0="$rss0" -v n="$n" -v ks="$ks" -v ks0="$ks0" \
      -v th="$threads" -v vc="$vcsw" -v nv="$nvcsw" -v cpu="$cpu" -v sent="$sent" \
      -v p50="$p50" -v p99="$p99" -v lag="$lag" 'BEGIN {
      k = (ks - ks0) / 1024; k = (k < 0 ? -int(-k + 0.5) : int(k + 0.5))
      printf "%.1f %.2f %d %d %d %d %.1f %.3f %.3f %.3f", rss / 1024, (rss - rss0) / n, th,
        k, vc, nv, (sent > 0 ? cpu * 1e6 / sent : 0), p50 / 1000, p99 / 1000,
        lag / 1000 }')
  [[ -z "$flag" ]] || RES[$name,$n]+=" $flag"
  sleep 1
}

START=$(date +%s)
i=0
for n in "${CONN_LIST[@]}"; do
  if (( i % 2 == 0 )); then order=(thread shardis); else order=(shardis thread); fi
  for s in "${order[@]}"; do run_one "$s" "$n"; done
  i=$(( i + 1 ))
done
ELAPSED=$(( $(date +%s) - START ))

label() { [[ $1 == thread ]] && echo "thread-per-connection" || echo "Shardis --threads 1"; }
table() {
  echo "| N | Server | RSS MB | KB/conn | Threads | Kstack MB | vol cs | invol cs | CPU us/req | p50 ms | p99 ms | client lag p99 ms | Notes |"
  echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
  local n s v
  for n in "${CONN_LIST[@]}"; do
    for s in thread shardis; do
      read -r -a v <<< "${RES[$s,$n]}"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$(label "$s")" \
        "${v[0]}" "${v[1]}" "${v[2]}" "${v[3]}" "${v[4]}" "${v[5]}" "${v[6]}" "${v[7]}" "${v[8]}" "${v[9]}" \
        "${v[*]:10}"
    done
  done
}
HEADER="C10k: each connection sends one PING per second for ${DURATION}s; servers on CPU(s) $SERVER_CPUS, \
load generator on CPU(s) $CLIENT_CPUS; Shardis: $SHARDIS_BIN --threads 1 --pin=false; took ${ELAPSED}s"
TABLE=$(table)
printf '%s\n\n%s\n' "$HEADER" "$TABLE"
if [[ -n "$OUT" ]]; then
  printf '%s\n\n%s\n' "$HEADER" "$TABLE" > "$OUT"
  note "table written to $OUT"
fi

tsv() {
  printf '# c10k duration_s=%s\n' "$DURATION"
  printf '# N\tserver\trss_mb\tkb_per_conn\tthreads\tkstack_mb\tvcsw\tnvcsw\tcpu_us_per_req\tp50_ms\tp99_ms\tlag_p99_ms\n'
  local n s v
  for s in thread shardis; do
    for n in "${CONN_LIST[@]}"; do
      read -r -a v <<< "${RES[$s,$n]}"
      printf '%s\t%s\t%s\n' "$n" "$s" "$(IFS=$'\t'; echo "${v[*]:0:10}")"
    done
    printf '\n\n'   # gnuplot: one data set (index) per server
  done
}
if [[ -n "$DATA" ]]; then
  tsv > "$DATA"
  note "data written to $DATA"
fi
if [[ -n "$PLOT" ]]; then
  tsv > "$WORK/plot.tsv"
  draw_plot "$PLOT" "$WORK/plot.tsv"
  note "plot written to $PLOT"
fi
