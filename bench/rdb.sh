#!/usr/bin/env bash
# bench/rdb.sh: RDB persistence at size, Shardis vs redis-server in the same run.
#
# For each server (redis-server first, then Shardis), on a free port with its own temp dir:
#   1. DEBUG POPULATE N (default 10,000,000 keys "key:<j>" -> "value:<j>"; both servers support
#      it; enable-debug-command yes);
#   2. SAVE: wall time of `redis-cli SAVE`, file size -> MB/s and keys/s;
#   3. BGSAVE under a write load: redis-benchmark SET (bounded: -n W, -c 50, -d 32, random keys
#      key:<12 digits> in a range of N: new keys) starts, then BGSAVE; a sampler reads /proc
#      every 20 ms and records the peak of the server's RSS plus the RSS of its children
#      (redis-server's forked saver; Shardis has none), and the same for PSS (shared pages
#      counted once). Reported: before, peak, peak - before, the BGSAVE's wall time (polling
#      INFO every 50 ms) and the SET rps of the whole load;
#   4. load: the server is stopped and started again on the BGSAVE's file; the load time is the
#      "DB loaded from disk: X seconds" line of its log -> MB/s and keys/s.
# Servers are not pinned (Shardis runs --threads T --pin=false, redis-server its usual single
# main thread plus the forked child); redis-benchmark runs alongside. Everything is bounded by
# N and W; a trap stops the servers this script started (by pid) on exit.
#
# Usage: bench/rdb.sh [options]
#   --keys N             dataset size (default 10000000)
#   --writes W           SETs during the BGSAVE (default 500000)
#   --threads T          Shardis threads (default 2)
#   --shardis PATH       shardis-server binary (default build/server/shardis-server)
#   --redis PATH         redis-server binary (default: from PATH)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KEYS=10000000
WRITES=500000
THREADS=2
SHARDIS_BIN="$ROOT/build/server/shardis-server"
REDIS_BIN="$(command -v redis-server || true)"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --keys) KEYS="$2"; shift 2 ;;
    --writes) WRITES="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --shardis) SHARDIS_BIN="$2"; shift 2 ;;
    --redis) REDIS_BIN="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$SHARDIS_BIN" ]] || { echo "no $SHARDIS_BIN" >&2; exit 1; }
[[ -x "$REDIS_BIN" ]] || { echo "redis-server not found" >&2; exit 1; }

WORK="$(mktemp -d /tmp/shardis-rdb-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
wait_ping() {  # port, tries of 0.1 s
  for _ in $(seq 1 "${2:-600}"); do
    [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]] && return 0
    sleep 0.1
  done
  echo "server on port $1 did not answer" >&2
  return 1
}
info_field() { redis-cli -p "$1" info persistence | tr -d '\r' | awk -F: -v f="$2" '$1==f {print $2}'; }

# start NAME -> PORT, PID (loads $WORK/NAME/dump.rdb when present)
start() {
  local name=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  PORT=$(free_port)
  if [[ $name == shardis ]]; then
    "$SHARDIS_BIN" --port "$PORT" --bind 127.0.0.1 --threads "$THREADS" --pin=false --save '' \
      --appendonly no --enable-debug-command yes --dir "$dir" >>"$dir/log" 2>&1 &
  else
    "$REDIS_BIN" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --enable-debug-command yes --dir "$dir" --daemonize no >>"$dir/log" 2>&1 &
  fi
  PID=$!
  PIDS+=("$PID")
  wait_ping "$PORT" 1200
}
stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# Samples every 20 ms until $2 exists: RSS (KB) of pid + its children, and their PSS (KB, from
# smaps_rollup: shared pages counted once between the server and its forked child). Prints
# "rss_before rss_peak pss_before pss_peak".
SAMPLER='
import os, sys, time
pid, stop = int(sys.argv[1]), sys.argv[2]
def field(p, name, file):
    try:
        with open(f"/proc/{p}/{file}") as f:
            for line in f:
                if line.startswith(name): return int(line.split()[1])
    except OSError: pass
    return 0
def children(p):
    out = []
    try:
        for t in os.listdir(f"/proc/{p}/task"):
            with open(f"/proc/{p}/task/{t}/children") as f: out += [int(c) for c in f.read().split()]
    except OSError: pass
    return out
def sample():
    ps = [pid] + children(pid)
    return (sum(field(p, "VmRSS:", "status") for p in ps),
            sum(field(p, "Pss:", "smaps_rollup") for p in ps))
rss0, pss0 = sample(); rss_peak, pss_peak = rss0, pss0
while not os.path.exists(stop):
    r, q = sample()
    rss_peak = max(rss_peak, r); pss_peak = max(pss_peak, q)
    time.sleep(0.02)
print(rss0, rss_peak, pss0, pss_peak)
'

run() {
  local name=$1 dir="$WORK/$1"
  start "$name"
  local port=$PORT pid=$PID t0 t1
  t0=$(now)
  redis-cli -p "$port" debug populate "$KEYS" >/dev/null
  t1=$(now)
  local populate_s; populate_s=$(echo "$t1 - $t0" | bc -l)
  # SAVE
  t0=$(now)
  [[ "$(redis-cli -p "$port" save)" == OK ]] || { echo "$name: SAVE failed" >&2; exit 1; }
  t1=$(now)
  local save_s size
  save_s=$(echo "$t1 - $t0" | bc -l)
  size=$(stat -c %s "$dir/dump.rdb")
  # BGSAVE under a SET load
  rm -f "$WORK/stop"
  python3 -c "$SAMPLER" "$pid" "$WORK/stop" >"$WORK/rss-$name" &
  local sampler=$!
  sleep 0.3
  redis-benchmark -p "$port" -t set -n "$WRITES" -c 50 -d 32 -r "$KEYS" --csv \
    >"$WORK/bench-$name" 2>/dev/null &
  local bench=$!
  sleep 0.5
  t0=$(now)
  redis-cli -p "$port" bgsave >/dev/null
  while [[ "$(info_field "$port" rdb_bgsave_in_progress)" != 0 ]]; do sleep 0.05; done
  t1=$(now)
  local bgsave_s; bgsave_s=$(echo "$t1 - $t0" | bc -l)
  local status; status=$(info_field "$port" rdb_last_bgsave_status)
  wait "$bench"
  touch "$WORK/stop"
  wait "$sampler"
  local before peak pss_before pss_peak rps
  read -r before peak pss_before pss_peak <"$WORK/rss-$name"
  rps=$(tail -1 "$WORK/bench-$name" | awk -F'","' '{gsub(/"/,"",$2); print $2}')
  stop "$pid"
  # Load (the BGSAVE's file)
  local bgsize; bgsize=$(stat -c %s "$dir/dump.rdb")
  : >"$dir/log"
  start "$name"
  local load_s
  load_s=$(grep -o 'DB loaded from disk: [0-9.]* seconds' "$dir/log" | awk '{print $5}' | tail -1)
  local keys_loaded; keys_loaded=$(redis-cli -p "$PORT" dbsize)
  stop "$PID"
  local mb; mb=$(echo "$size / 1048576" | bc -l)
  printf '%s populate_s=%.2f file_MB=%.1f save_s=%.2f save_MBps=%.1f save_keys_per_s=%.0f ' \
    "$name" "$populate_s" "$mb" "$save_s" "$(echo "$mb / $save_s" | bc -l)" \
    "$(echo "$KEYS / $save_s" | bc -l)"
  local bgmb; bgmb=$(echo "$bgsize / 1048576" | bc -l)
  printf 'load_file_MB=%.1f load_s=%s load_MBps=%.1f load_keys_per_s=%.0f keys_loaded=%s ' \
    "$bgmb" "$load_s" "$(echo "$bgmb / $load_s" | bc -l)" \
    "$(echo "$keys_loaded / $load_s" | bc -l)" "$keys_loaded"
  printf 'bgsave_s=%.2f bgsave_status=%s rss_before_MB=%.0f rss_peak_MB=%.0f rss_extra_MB=%.0f ' \
    "$bgsave_s" "$status" "$(echo "$before / 1024" | bc -l)" "$(echo "$peak / 1024" | bc -l)" \
    "$(echo "($peak - $before) / 1024" | bc -l)"
  printf 'pss_before_MB=%.0f pss_peak_MB=%.0f pss_extra_MB=%.0f set_rps=%s\n' \
    "$(echo "$pss_before / 1024" | bc -l)" "$(echo "$pss_peak / 1024" | bc -l)" \
    "$(echo "($pss_peak - $pss_before) / 1024" | bc -l)" "$rps"
}

echo "keys=$KEYS writes=$WRITES shardis_threads=$THREADS $(date -u +%FT%TZ)"
run redis
run shardis
