// Eviction: picks and deletes keys of one shard under a maxmemory-policy, as Redis's evict.c.
//
// Owned by one shard (one Evictor per ShardData's thread) and used only on that thread. The
// memory figure that decides *whether* to evict lives in server/ (memory_accounting.h); this
// file only decides *which* key goes: it samples `maxmemory-samples` entries per database with
// Keyspace::Sample (volatile-* policies only entries with an expiry) and keeps Redis's pool of
// the 16 best candidates across calls, scored by idle time (LRU), 255 - decayed counter (LFU) or
// the nearest expiry (TTL). Random policies take one random entry, databases round-robin.
// An evicted key is deleted through Db::Evict, so WATCH and blocked clients see a deletion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shardis {

class ShardData;
class Entry;

enum class EvictionPolicy : uint8_t {
  kNoEviction,
  kAllkeysLru,
  kAllkeysLfu,
  kAllkeysRandom,
  kVolatileLru,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,
};

// maxmemory-policy's value (lower case, as config stores it); nullopt if unknown.
std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name);
inline bool IsVolatilePolicy(EvictionPolicy p) {
  return p == EvictionPolicy::kVolatileLru || p == EvictionPolicy::kVolatileLfu ||
         p == EvictionPolicy::kVolatileRandom || p == EvictionPolicy::kVolatileTtl;
}
inline bool IsLfuPolicy(EvictionPolicy p) {
  return p == EvictionPolicy::kAllkeysLfu || p == EvictionPolicy::kVolatileLfu;
}

class Evictor {
 public:
  static constexpr size_t kPoolSize = 16;

  // Deletes one key chosen by `policy`; false when the shard has no candidate (no keys, or no
  // keys with an expiry for volatile-*), or the policy is noeviction.
  bool EvictOne(ShardData& shard, EvictionPolicy policy, int samples);

  // Whether the shard holds any candidate for `policy` (cheap: counts).
  static bool HasCandidates(ShardData& shard, EvictionPolicy policy);

  // Redis's score of an entry: higher is evicted first.
  static uint64_t Score(const Entry& e, EvictionPolicy policy, int64_t now_ms);

  size_t pool_size() const { return pool_.size(); }

 private:
  struct Candidate {
    uint64_t score;
    int db;
    std::string key;
  };
  void Populate(ShardData& shard, int db, EvictionPolicy policy, int samples);
  bool EvictRandom(ShardData& shard, bool volatile_only);

  std::vector<Candidate> pool_;  // ascending score; the best candidate is last
  int next_db_ = 0;
  uint64_t rng_ = 0x2545F4914F6CDD1DULL;
};

}  // namespace shardis
