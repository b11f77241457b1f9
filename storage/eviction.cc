#include "storage/eviction.h"

#include <algorithm>

#include "storage/shard_data.h"

namespace shardis {

std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name) {
  struct Named {
    std::string_view name;
    EvictionPolicy policy;
  };
  static constexpr Named kNames[] = {
      {"noeviction", EvictionPolicy::kNoEviction},
      {"allkeys-lru", EvictionPolicy::kAllkeysLru},
      {"allkeys-lfu", EvictionPolicy::kAllkeysLfu},
      {"allkeys-random", EvictionPolicy::kAllkeysRandom},
      {"volatile-lru", EvictionPolicy::kVolatileLru},
      {"volatile-lfu", EvictionPolicy::kVolatileLfu},
      {"volatile-random", EvictionPolicy::kVolatileRandom},
      {"volatile-ttl", EvictionPolicy::kVolatileTtl},
  };
  for (const Named& n : kNames) {
    if (n.name == name) return n.policy;
  }
  return std::nullopt;
}

uint64_t Evictor::Score(const Entry& e, EvictionPolicy policy, int64_t now_ms) {
  switch (policy) {
    case EvictionPolicy::kAllkeysLfu:
    case EvictionPolicy::kVolatileLfu:
      return 255 - static_cast<uint64_t>(e.LfuCounter(now_ms));
    case EvictionPolicy::kVolatileTtl:
      return UINT64_MAX - static_cast<uint64_t>(e.expire_at_ms());
    default:
      return static_cast<uint64_t>(e.IdleSeconds(now_ms)) * 1000;
  }
}

bool Evictor::HasCandidates(ShardData& shard, EvictionPolicy policy) {
  if (policy == EvictionPolicy::kNoEviction) return false;
  bool volatile_only = IsVolatilePolicy(policy);
  for (int i = 0; i < shard.db_count(); ++i) {
    Db& db = shard.db(i);
    if (volatile_only ? db.expires_count() > 0 : db.size() > 0) return true;
  }
  return false;
}

void Evictor::Populate(ShardData& shard, int db_index, EvictionPolicy policy, int samples) {
  Db& db = shard.db(db_index);
  int64_t now = db.now_ms();
  bool volatile_only = IsVolatilePolicy(policy);
  rng_ = rng_ * 6364136223846793005ULL + 1442695040888963407ULL;
  db.keyspace().Sample(
      rng_, static_cast<size_t>(std::max(samples, 1)), volatile_only, [&](Entry& e) {
        if (e.dead()) return;
        uint64_t score = Score(e, policy, now);
        std::string_view key = e.key();
        // Redis's evictionPoolPopulate: keep the kPoolSize best, ascending.
        if (pool_.size() == kPoolSize && score <= pool_.front().score) return;
        for (const Candidate& c : pool_) {
          if (c.db == db_index && c.key == key) return;  // already pooled
        }
        auto it = std::upper_bound(pool_.begin(), pool_.end(), score,
                                   [](uint64_t s, const Candidate& c) { return s < c.score; });
        pool_.insert(it, Candidate{score, db_index, std::string(key)});
        if (pool_.size() > kPoolSize) pool_.erase(pool_.begin());
      });
}

bool Evictor::EvictRandom(ShardData& shard, bool volatile_only) {
  for (int k = 0; k < shard.db_count(); ++k) {
    int db_index = next_db_++ % shard.db_count();
    Db& db = shard.db(db_index);
    if (volatile_only ? db.expires_count() == 0 : db.size() == 0) continue;
    for (int attempt = 0; attempt < 16; ++attempt) {
      rng_ = rng_ * 6364136223846793005ULL + 1442695040888963407ULL;
      std::string key;
      bool found = false;
      db.keyspace().Sample(rng_, 1, volatile_only, [&](Entry& e) {
        if (e.dead()) return;
        key = std::string(e.key());
        found = true;
      });
      if (found && db.Evict(key)) return true;
    }
  }
  return false;
}

bool Evictor::EvictOne(ShardData& shard, EvictionPolicy policy, int samples) {
  if (policy == EvictionPolicy::kNoEviction) return false;
  bool volatile_only = IsVolatilePolicy(policy);
  if (policy == EvictionPolicy::kAllkeysRandom || policy == EvictionPolicy::kVolatileRandom) {
    return EvictRandom(shard, volatile_only);
  }
  for (int round = 0; round < 4; ++round) {
    bool any = false;
    for (int i = 0; i < shard.db_count(); ++i) {
      Db& db = shard.db(i);
      if (volatile_only ? db.expires_count() == 0 : db.size() == 0) continue;
      any = true;
      Populate(shard, i, policy, samples);
    }
    if (!any) {
      pool_.clear();
      return false;
    }
    // The best candidate that still exists (and still has an expiry, for volatile-*).
    while (!pool_.empty()) {
      Candidate c = std::move(pool_.back());
      pool_.pop_back();
      Db& db = shard.db(c.db);
      Entry* e = db.keyspace().Find(c.key);
      if (e == nullptr || e->dead() || (volatile_only && !e->has_expiry())) continue;
      if (db.Evict(c.key)) return true;
    }
  }
  return false;
}

}  // namespace shardis
