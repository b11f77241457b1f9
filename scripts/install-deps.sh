#!/usr/bin/env bash
# Installs the Debian 12 packages Shardis needs to build and test, only those missing.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config libabsl-dev libgtest-dev libgmock-dev
      libbenchmark-dev libjemalloc-dev libhiredis-dev redis-tools redis-server
      liblua5.1-0-dev lua-cjson-dev lua-bitop-dev libssl-dev openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Node client smoke test (tests/clients/node): nodejs + npm, and the pinned client modules.
# Without the npm registry the test is simply not registered.
if command -v npm >/dev/null 2>&1 || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo";
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1; }; then
  (cd "$(dirname "$0")/../tests/clients/node" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
    echo "npm ci failed (registry unreachable?): the node client smoke test is skipped"
fi
