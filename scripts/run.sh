#!/usr/bin/env bash
# Builds Shardis (Release) and starts it on port 6379, installing missing Debian packages first.
# Extra arguments go to the server, e.g. scripts/run.sh --threads 4 --requirepass secret
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSHARDIS_BUILD_TESTS=OFF -DSHARDIS_BUILD_BENCH=OFF >/dev/null
ninja -C build-release -j"${JOBS:-$(nproc)}" shardis-server
exec build-release/server/shardis-server --port "${PORT:-6379}" "$@"
