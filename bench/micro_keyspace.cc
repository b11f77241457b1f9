// Micro-benchmarks for storage/Keyspace against absl::flat_hash_map<std::string, std::string>:
// insert, find (hit and miss) and erase at 1M keys. The 1M-key tables for the lookups are built
// once per process; insert and erase rebuild theirs outside the timed region.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "storage/keyspace.h"

namespace shardis {
namespace {

constexpr size_t kKeys = 1'000'000;

using AbslMap = absl::flat_hash_map<std::string, std::string>;

// kKeys distinct keys ("key:NNNNNNNN"), in a random order.
const std::vector<std::string>& Keys() {
  static const auto* keys = [] {
    auto* v = new std::vector<std::string>;
    v->reserve(kKeys);
    char buf[32];
    for (size_t i = 0; i < kKeys; ++i) {
      v->emplace_back(buf, std::snprintf(buf, sizeof(buf), "key:%08zu", i));
    }
    std::shuffle(v->begin(), v->end(), std::mt19937_64(1));
    return v;
  }();
  return *keys;
}

// Keys that are in no table ("miss:NNNNNNNN").
const std::vector<std::string>& MissingKeys() {
  static const auto* keys = [] {
    auto* v = new std::vector<std::string>;
    v->reserve(kKeys);
    char buf[32];
    for (size_t i = 0; i < kKeys; ++i) {
      v->emplace_back(buf, std::snprintf(buf, sizeof(buf), "miss:%07zu", i));
    }
    return v;
  }();
  return *keys;
}

void FillKeyspace(Keyspace& ks) {
  bool inserted;
  for (const std::string& k : Keys()) ks.FindOrInsert(k, &inserted);
}

void FillAbsl(AbslMap& map) {
  for (const std::string& k : Keys()) map.try_emplace(k);
}

Keyspace& SharedKeyspace() {
  static Keyspace* ks = [] {
    auto* k = new Keyspace;
    FillKeyspace(*k);
    return k;
  }();
  return *ks;
}

AbslMap& SharedAbsl() {
  static AbslMap* map = [] {
    auto* m = new AbslMap;
    FillAbsl(*m);
    return m;
  }();
  return *map;
}

// --- insert: 1M keys into an empty table (grows all the way; incremental rehash included).

void BM_KeyspaceInsert(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto ks = std::make_unique<Keyspace>();
    state.ResumeTiming();
    bool inserted;
    for (const std::string& k : Keys()) benchmark::DoNotOptimize(ks->FindOrInsert(k, &inserted));
    state.PauseTiming();
    ks.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
}
BENCHMARK(BM_KeyspaceInsert)->Unit(benchmark::kMillisecond);

void BM_AbslInsert(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto map = std::make_unique<AbslMap>();
    state.ResumeTiming();
    for (const std::string& k : Keys()) benchmark::DoNotOptimize(map->try_emplace(k));
    state.PauseTiming();
    map.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
}
BENCHMARK(BM_AbslInsert)->Unit(benchmark::kMillisecond);

// --- find in a 1M-key table: hits in random order, then misses.

void BM_KeyspaceFindHit(benchmark::State& state) {
  Keyspace& ks = SharedKeyspace();
  const auto& keys = Keys();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ks.Find(keys[i]));
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyspaceFindHit);

void BM_AbslFindHit(benchmark::State& state) {
  AbslMap& map = SharedAbsl();
  const auto& keys = Keys();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.find(keys[i]));
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AbslFindHit);

void BM_KeyspaceFindMiss(benchmark::State& state) {
  Keyspace& ks = SharedKeyspace();
  const auto& keys = MissingKeys();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ks.Find(keys[i]));
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyspaceFindMiss);

void BM_AbslFindMiss(benchmark::State& state) {
  AbslMap& map = SharedAbsl();
  const auto& keys = MissingKeys();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map.find(keys[i]));
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AbslFindMiss);

// --- erase: every key of a 1M-key table, in random order.

void BM_KeyspaceErase(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto ks = std::make_unique<Keyspace>();
    FillKeyspace(*ks);
    state.ResumeTiming();
    for (const std::string& k : Keys()) benchmark::DoNotOptimize(ks->Erase(k));
    state.PauseTiming();
    ks.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
}
BENCHMARK(BM_KeyspaceErase)->Unit(benchmark::kMillisecond);

void BM_AbslErase(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    auto map = std::make_unique<AbslMap>();
    FillAbsl(*map);
    state.ResumeTiming();
    for (const std::string& k : Keys()) benchmark::DoNotOptimize(map->erase(k));
    state.PauseTiming();
    map.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
}
BENCHMARK(BM_AbslErase)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shardis
