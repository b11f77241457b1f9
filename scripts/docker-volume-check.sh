#!/usr/bin/env bash
# Docker volume check (issue #7), with rootful podman as ../shared/tools/docker-check does (no
# Docker engine here; run as root). Builds the image from the Dockerfile, then for each
# persistence mode (RDB snapshot on shutdown, then AOF):
#   1. runs it with a config file mounted at /etc/shardis/shardis.conf (requirepass, persistence)
#      and a named volume at /data, published on 127.0.0.1:PORT;
#   2. checks the file was read (CONFIG GET), writes keys;
#   3. `podman stop` (SIGTERM): the server must exit by itself, saving (exit code 0, not killed);
#   4. starts a new container on the same volume and finds every key.
# Containers, volumes and temp files it made are removed at the end.
#
#   scripts/docker-volume-check.sh [PORT]            (default: a free port)
#   SHARDIS_IMAGE=name scripts/docker-volume-check.sh  (use an existing image, skip the build)
# Not part of ctest (minutes: the image build compiles the server). Needs redis-cli.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

log() { printf '[docker-volume-check %4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[docker-volume-check] FAIL: %s\n' "$*" >&2; exit 1; }

(( EUID == 0 )) || die "must run as root (rootful podman)"
command -v podman >/dev/null || die "podman is not installed (../shared/tools/docker-check installs it)"
command -v redis-cli >/dev/null || die "redis-cli is needed"
PORT=${1:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
PASS=volume-check-secret

# Same runtime and rlimit choices as docker-check (crun refuses cgroup v1 hosts; no
# CAP_SYS_RESOURCE in some VMs).
if [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" == cgroup2fs ]] && command -v crun >/dev/null; then
  RUNTIME=crun
else
  RUNTIME=runc
fi
hn=$(ulimit -Hn); [[ "$hn" == unlimited ]] && hn=1048576; (( hn > 1048576 )) && hn=1048576
hu=$(ulimit -Hu); [[ "$hu" == unlimited ]] && hu=32768; (( hu > 32768 )) && hu=32768
ULIMITS=(--ulimit "nofile=$hn:$hn" --ulimit "nproc=$hu:$hu")
pm() { podman --runtime "$RUNTIME" "$@"; }

TMP=$(mktemp -d /tmp/shardis-volume-check.XXXXXX)
CONTAINERS=()
VOLUMES=()
cleanup() {
  local c v
  for c in "${CONTAINERS[@]}"; do pm rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
  for v in "${VOLUMES[@]}"; do pm volume rm -f "$v" >/dev/null 2>&1 || true; done
  rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT

IMAGE=${SHARDIS_IMAGE:-}
if [[ -z "$IMAGE" ]]; then
  IMAGE=localhost/shardis-volume-check:latest
  log "building $IMAGE (the docker-check base images must exist: run ../shared/tools/docker-check once)"
  pm build --pull=never --network=host --format docker --layers "${ULIMITS[@]}" -t "$IMAGE" . >&2 \
    || die "podman build failed"
fi

cli() { redis-cli -h 127.0.0.1 -p "$PORT" --no-auth-warning -a "$PASS" "$@"; }

# start NAME VOLUME CONF: runs the image and waits for PONG (30 s).
start() {
  local name=$1 volume=$2 conf=$3
  CONTAINERS+=("$name")
  pm run -d --name "$name" --pull=never "${ULIMITS[@]}" --health-interval=disable \
    -p "127.0.0.1:$PORT:6379" -v "$conf:/etc/shardis/shardis.conf:ro" -v "$volume:/data" \
    "$IMAGE" >/dev/null 2> >(grep -v 'unable to get systemd connection' >&2) \
    || die "podman run $name failed"
  for _ in $(seq 60); do
    [[ "$(cli PING 2>/dev/null)" == PONG ]] && return 0
    sleep 0.5
  done
  pm logs "$name" >&2 || true
  die "$name: no PONG on 127.0.0.1:$PORT"
}

# stop NAME: podman stop (SIGTERM, SIGKILL after 10 s); the server must exit 0 by itself.
stop() {
  local name=$1 t0=$SECONDS ec
  pm stop -t 10 "$name" 2>&1 >/dev/null | grep -v 'unable to get systemd connection' >&2 || true
  ec=$(pm inspect --format '{{.State.ExitCode}}' "$name")
  log "$name stopped in $((SECONDS - t0))s, exit code $ec"
  [[ "$ec" == 0 ]] || { pm logs "$name" >&2 || true; die "$name: exit code $ec on podman stop"; }
}

check_mode() {
  local mode=$1 conf="$TMP/$1.conf" volume="shardis-volume-check-$1-$$"
  {
    echo "requirepass $PASS"
    echo "dir /data"
    if [[ "$mode" == rdb ]]; then
      echo "appendonly no"
      echo "save 3600 1"
    else
      echo "appendonly yes"
      echo "appendfsync everysec"
      echo 'save ""'
    fi
  } > "$conf"
  chmod 0644 "$conf"
  VOLUMES+=("$volume")
  pm volume create "$volume" >/dev/null

  log "[$mode] first container, config: $(tr '\n' ';' < "$conf")"
  start "svc-$mode-1-$$" "$volume" "$conf"
  [[ "$(cli CONFIG GET appendonly | tail -n1)" == "$([[ $mode == aof ]] && echo yes || echo no)" ]] \
    || die "[$mode] the mounted config file was not read (CONFIG GET appendonly)"
  [[ "$(redis-cli -h 127.0.0.1 -p "$PORT" GET x 2>&1)" == NOAUTH* ]] \
    || die "[$mode] requirepass from the config file is not in force"
  for i in $(seq 1 1000); do echo "SET key:$i value-$i"; done | cli >/dev/null
  cli RPUSH list a b c >/dev/null
  cli HSET hash f1 v1 f2 v2 >/dev/null
  cli ZADD zset 1 one 2 two >/dev/null
  [[ "$(cli DBSIZE)" == 1003 ]] || die "[$mode] DBSIZE after writing: $(cli DBSIZE)"
  stop "svc-$mode-1-$$"
  pm logs "svc-$mode-1-$$" 2>&1 | grep -iE 'sav|shutdown|ready to exit' | tail -n 4 >&2 || true

  log "[$mode] second container on the same volume"
  start "svc-$mode-2-$$" "$volume" "$conf"
  local n
  n=$(cli DBSIZE)
  [[ "$n" == 1003 ]] || die "[$mode] DBSIZE after restart: $n (want 1003)"
  [[ "$(cli GET key:777)" == value-777 ]] || die "[$mode] key:777 lost"
  [[ "$(cli LRANGE list 0 -1 | tr '\n' ' ')" == "a b c " ]] || die "[$mode] list lost"
  [[ "$(cli HGET hash f2)" == v2 ]] || die "[$mode] hash lost"
  [[ "$(cli ZSCORE zset two)" == 2 ]] || die "[$mode] zset lost"
  log "[$mode] /data: $(pm exec "svc-$mode-2-$$" ls -la /data | tail -n +2 | awk '{print $1, $3, $5, $NF}' | tr '\n' ';')"
  stop "svc-$mode-2-$$"
  log "[$mode] OK: 1003 keys survived podman stop + a new container on the volume"
}

check_mode rdb
check_mode aof
log "OK: image $IMAGE keeps /data across containers (RDB and AOF) and saves on podman stop"
