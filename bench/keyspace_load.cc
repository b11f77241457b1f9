// keyspace_load: loads N keys (16-byte keys, 32-byte values, as `bench/memory.sh` and
// redis-benchmark -r name them) into one Keyspace and reports
//  - the slowest single insert, and the 99.99th / 99.9th percentiles: no resize of the table may
//    stall a loop turn, and a loop turn runs at least one command;
//  - the memory per key: process RSS and jemalloc's allocated bytes (after - before) / N, and the
//    table's own bytes per key.
// Usage: keyspace_load [N]   (default 10,000,000)
#include <jemalloc/jemalloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "storage/keyspace.h"

namespace {

size_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

size_t AllocatedBytes() {
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  size_t allocated = 0;
  len = sizeof(allocated);
  mallctl("stats.allocated", &allocated, &len, nullptr, 0);
  return allocated;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  using Clock = std::chrono::steady_clock;
  std::vector<uint32_t> ns(n, 1);  // per insert, in nanoseconds (pages touched before measuring)
  size_t rss_before = RssBytes();
  size_t allocated_before = AllocatedBytes();
  shardis::Keyspace ks;
  char key[32];
  char value[40];
  auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(key, sizeof(key), "key:%012zu", i);
    std::snprintf(value, sizeof(value), "v%031zu", i);
    auto t0 = Clock::now();
    bool inserted;
    shardis::Entry* e = ks.FindOrInsert(std::string_view(key, 16), &inserted);
    ks.SetString(e, std::string_view(value, 32), shardis::StringEncoding::kEmbstr);
    ns[i] = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
  double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  size_t rss_after = RssBytes();
  size_t allocated_after = AllocatedBytes();
  std::vector<uint32_t> sorted = ns;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) { return sorted[std::min(n - 1, static_cast<size_t>(p * n))] / 1000.0; };
  std::printf("keys: %zu  segments: %zu  load: %.3f\n", ks.size(), ks.segment_count(),
              static_cast<double>(ks.size()) /
                  (static_cast<double>(ks.table_bytes()) / sizeof(shardis::Entry)));
  std::printf("insert: %.0f ns mean  p50 %.2f us  p99.9 %.2f us  p99.99 %.2f us  max %.1f us\n",
              total_s * 1e9 / n, pct(0.5), pct(0.999), pct(0.9999), sorted[n - 1] / 1000.0);
  std::printf("bytes per key: RSS %.1f  allocated %.1f  table %.1f\n",
              static_cast<double>(rss_after - rss_before) / n,
              static_cast<double>(allocated_after - allocated_before) / n,
              static_cast<double>(ks.table_bytes()) / n);
  return 0;
}
