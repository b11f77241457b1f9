#!/usr/bin/env bash
# Real fuzzing with libFuzzer (clang, Debian's libclang-rt-14-dev): builds tests/fuzz with
# -DSHARDIS_FUZZ=ON (ASan + UBSan + coverage) in build-fuzz/ and runs each target for SECONDS
# (default 300) in one process (no -jobs: the CPUs are shared), starting from the seed corpus
# in tests/fuzz/corpus/<target>.
# New interesting inputs go to build-fuzz/corpus/<target> (not the repo); crashes to
# build-fuzz/artifacts/. A crash's input belongs in tests/fuzz/corpus/<target>/regress-*, with
# the fix, so the ctest replay (fuzz_* tests) keeps it fixed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     TARGET: request_parser, command (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request_parser command)
export CCACHE_NOHASHDIR=true
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDIS_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSHARDIS_BUILD_BENCH=OFF >/dev/null
ninja -C build-fuzz -j"${JOBS:-2}" "${targets[@]/#/fuzz_}"
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "=== fuzz_$t for ${seconds}s"
  # detect_leaks: a leak found at exit is reported like a crash.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
    -max_len=16384 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/artifacts/$t-" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t"
done
