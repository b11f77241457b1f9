#!/usr/bin/env bash
# Builds Shardis and runs every test: unit and integration tests on a normal build, then the
# unit and integration tests under AddressSanitizer+UBSan, then the cross-thread paths (the
# mailbox and the multi-threaded integration tests) under ThreadSanitizer.
# SHARDIS_SANITIZERS=0 skips the sanitizer builds (quicker local runs). Tests run in parallel
# (-j, one per CPU): each starts its own servers on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="${JOBS:-$(nproc)}"
# Build directories differ between clones; let ccache share objects across them.
export CCACHE_NOHASHDIR=true

build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j"$jobs"
}

echo "=== build and test: RelWithDebInfo"
# Line tables only (-g1): stack traces keep file:line, and the build takes a quarter less time.
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
ctest --test-dir build --output-on-failure --timeout 600 -j"$jobs"

if [ "${SHARDIS_SANITIZERS:-1}" != 0 ]; then
  echo "=== build and test: AddressSanitizer + UndefinedBehaviorSanitizer"
  build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDIS_SANITIZE=address \
    -DSHARDIS_BUILD_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure --timeout 900 \
    -j"$jobs" -E 'benchmark_test'

  echo "=== build and test: ThreadSanitizer (cross-thread paths)"
  # Only what crosses threads: the mailbox, and the multi-threaded integration tests.
  tsan_tests=(mailbox_test basic_test differential_test pubsub_test transaction_test coordination_test
              blocking_list_test blocking_zset_test blocking_stream_test rdb_test
              blocking_stream_group_test
              differential_scripting_test scripting_busy_test differential_acl_test
              cross_shard_scripting_test aof_test client_unblock_test ioredis_compat_test)
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDIS_SANITIZE=thread \
    -DSHARDIS_BUILD_BENCH=OFF >/dev/null
  ninja -C build-tsan -j"$jobs" shardis-server "${tsan_tests[@]}"
  regex="^($(IFS='|'; echo "${tsan_tests[*]}"))\$"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --test-dir build-tsan --output-on-failure --timeout 900 -j"$jobs" -R "$regex"
fi
