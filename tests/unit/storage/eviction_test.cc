// Eviction building blocks: Keyspace::Sample (random, bounded, volatile-only), the LFU counter
// packed in an entry's access bits (init, logarithmic increments, decay), and Evictor's choice
// under each policy (LRU keeps recently read keys, volatile-* only keys with a TTL, volatile-ttl
// the nearest expiry first, LFU the least used) with evictions behaving as deletions.
#include "storage/eviction.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

class LfuMode {
 public:
  explicit LfuMode(bool on, int factor = 10, int decay = 1) {
    GlobalAccessPolicy().lfu.store(on);
    GlobalAccessPolicy().lfu_log_factor.store(factor);
    GlobalAccessPolicy().lfu_decay_time.store(decay);
  }
  ~LfuMode() {
    GlobalAccessPolicy().lfu.store(false);
    GlobalAccessPolicy().lfu_log_factor.store(10);
    GlobalAccessPolicy().lfu_decay_time.store(1);
  }
};

constexpr int64_t kNow = 1'700'000'000'000;

TEST(KeyspaceSampleTest, EmptyAndBounded) {
  Keyspace ks;
  int calls = 0;
  EXPECT_EQ(ks.Sample(1, 5, false, [&](Entry&) { ++calls; }), 0u);
  bool inserted;
  for (int i = 0; i < 3; ++i) ks.FindOrInsert("k" + std::to_string(i), &inserted);
  // Fewer entries than asked: each one once.
  std::set<std::string> seen;
  EXPECT_EQ(ks.Sample(7, 10, false, [&](Entry& e) { seen.insert(std::string(e.key())); }), 3u);
  EXPECT_EQ(seen.size(), 3u);
}

TEST(KeyspaceSampleTest, RandomPositionsCoverTheTable) {
  Keyspace ks;
  bool inserted;
  for (int i = 0; i < 20000; ++i) ks.FindOrInsert("key:" + std::to_string(i), &inserted);
  ASSERT_GT(ks.segment_count(), 4u);
  std::set<std::string> seen;
  for (uint64_t r = 1; r <= 400; ++r) {
    size_t n = ks.Sample(r * 0x9E3779B97F4A7C15ULL, 5, false,
                         [&](Entry& e) { seen.insert(std::string(e.key())); });
    EXPECT_EQ(n, 5u);
  }
  // 400 samples of 5 from random places: most are distinct keys.
  EXPECT_GT(seen.size(), 1500u);
}

TEST(KeyspaceSampleTest, VolatileOnlySeesKeysWithExpiry) {
  Keyspace ks;
  bool inserted;
  for (int i = 0; i < 5000; ++i) {
    Entry* e = ks.FindOrInsert("key:" + std::to_string(i), &inserted);
    if (i % 1000 == 0) ks.SetExpiry(e, kNow + i);
  }
  EXPECT_EQ(ks.volatile_size(), 5u);
  std::set<std::string> seen;
  for (uint64_t r = 1; r <= 50; ++r) {
    ks.Sample(r * 7919, 5, true, [&](Entry& e) {
      EXPECT_TRUE(e.has_expiry());
      seen.insert(std::string(e.key()));
    });
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(LfuTest, InitIncrementAndDecay) {
  LfuMode lfu(true, /*factor=*/10, /*decay=*/1);
  Keyspace ks;
  bool inserted;
  Entry* e = ks.FindOrInsert("k", &inserted);
  e->InitAccess(kNow);
  EXPECT_EQ(e->LfuCounter(kNow), kLfuInitCounter);
  for (int i = 0; i < 100; ++i) e->set_access_time(kNow);
  int after100 = e->LfuCounter(kNow);
  EXPECT_GT(after100, kLfuInitCounter);
  EXPECT_LT(after100, 40);  // logarithmic: 100 hits with factor 10 stay small
  for (int i = 0; i < 100000; ++i) e->set_access_time(kNow);
  int after = e->LfuCounter(kNow);
  EXPECT_GT(after, after100);
  EXPECT_LE(after, 255);
  // One unit off per decay period (1 minute).
  EXPECT_EQ(e->LfuCounter(kNow + 3 * 60000), after - 3);
  EXPECT_EQ(e->LfuCounter(kNow + 100000LL * 60000 % (65536LL * 60000)), 0);
}

TEST(LfuTest, FactorZeroCountsEveryHitAndSaturates) {
  LfuMode lfu(true, /*factor=*/0, /*decay=*/0);
  Keyspace ks;
  bool inserted;
  Entry* e = ks.FindOrInsert("k", &inserted);
  e->InitAccess(kNow);
  for (int i = 0; i < 10; ++i) e->set_access_time(kNow);
  EXPECT_EQ(e->LfuCounter(kNow), kLfuInitCounter + 10);
  for (int i = 0; i < 1000; ++i) e->set_access_time(kNow);
  EXPECT_EQ(e->LfuCounter(kNow), 255);
  EXPECT_EQ(e->LfuCounter(kNow + 3600 * 1000), 255);  // decay time 0: no decay
}

class EvictorTest : public ::testing::Test {
 protected:
  EvictorTest() : shard_(2) { shard_.clock().now_ms = kNow; }
  Db& db() { return shard_.db(0); }
  void Set(const std::string& key) {
    Value v;
    v.str = "v";
    db().Set(key, std::move(v));
  }
  ShardData shard_;
};

TEST_F(EvictorTest, NoEvictionAndEmpty) {
  Evictor& ev = shard_.evictor();
  EXPECT_FALSE(ev.EvictOne(shard_, EvictionPolicy::kAllkeysLru, 5));
  Set("a");
  EXPECT_FALSE(ev.EvictOne(shard_, EvictionPolicy::kNoEviction, 5));
  EXPECT_FALSE(ev.EvictOne(shard_, EvictionPolicy::kVolatileLru, 5));  // no TTLs
  EXPECT_TRUE(ev.EvictOne(shard_, EvictionPolicy::kAllkeysRandom, 5));
  EXPECT_EQ(db().size(), 0u);
  EXPECT_EQ(shard_.stats().evicted_keys, 1u);
}

TEST_F(EvictorTest, AllkeysLruKeepsRecentlyReadKeys) {
  for (int i = 0; i < 1000; ++i) Set("key:" + std::to_string(i));
  shard_.clock().now_ms = kNow + 100'000;
  for (int i = 0; i < 100; ++i) ASSERT_NE(db().Lookup("key:" + std::to_string(i)), nullptr);
  for (int i = 0; i < 700; ++i)
    ASSERT_TRUE(shard_.evictor().EvictOne(shard_, EvictionPolicy::kAllkeysLru, 10));
  EXPECT_EQ(db().size(), 300u);
  int kept = 0;
  for (int i = 0; i < 100; ++i) kept += db().Find("key:" + std::to_string(i)) != nullptr;
  EXPECT_GE(kept, 95);  // the pool makes recent keys survive almost surely
}

TEST_F(EvictorTest, AllkeysLfuKeepsFrequentKeys) {
  LfuMode lfu(true, /*factor=*/0, /*decay=*/1);
  for (int i = 0; i < 1000; ++i) Set("key:" + std::to_string(i));
  for (int i = 0; i < 50; ++i) {
    for (int k = 0; k < 20; ++k) db().Lookup("key:" + std::to_string(i));
  }
  for (int i = 0; i < 800; ++i)
    ASSERT_TRUE(shard_.evictor().EvictOne(shard_, EvictionPolicy::kAllkeysLfu, 10));
  int kept = 0;
  for (int i = 0; i < 50; ++i) kept += db().Find("key:" + std::to_string(i)) != nullptr;
  EXPECT_GE(kept, 48);
}

TEST_F(EvictorTest, VolatilePoliciesOnlyEvictKeysWithTtl) {
  for (EvictionPolicy policy : {EvictionPolicy::kVolatileLru, EvictionPolicy::kVolatileLfu,
                                EvictionPolicy::kVolatileRandom, EvictionPolicy::kVolatileTtl}) {
    db().Clear();
    for (int i = 0; i < 500; ++i) {
      Set("key:" + std::to_string(i));
      if (i % 5 == 0) db().SetExpiry(db().Find("key:" + std::to_string(i)), kNow + 3'600'000 + i);
    }
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(shard_.evictor().EvictOne(shard_, policy, 5));
    EXPECT_FALSE(shard_.evictor().EvictOne(shard_, policy, 5));
    EXPECT_EQ(db().size(), 400u);
    EXPECT_EQ(db().expires_count(), 0u);
  }
}

TEST_F(EvictorTest, VolatileTtlEvictsNearestExpiryFirst) {
  for (int i = 0; i < 1000; ++i) {
    Set("key:" + std::to_string(i));
    db().SetExpiry(db().Find("key:" + std::to_string(i)), kNow + 1'000'000 + i * 1000);
  }
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(shard_.evictor().EvictOne(shard_, EvictionPolicy::kVolatileTtl, 10));
  // The far half survives almost whole; the near half is mostly gone.
  int far = 0;
  for (int i = 500; i < 1000; ++i) far += db().Find("key:" + std::to_string(i)) != nullptr;
  EXPECT_GE(far, 400);
}

TEST_F(EvictorTest, EvictionTouchesWatchedKeysAndSignalsWaiters) {
  Set("watched");
  uint64_t version = db().Watch("watched");
  db().WatchKey("watched");  // a blocked client waits on it
  ASSERT_TRUE(shard_.evictor().EvictOne(shard_, EvictionPolicy::kAllkeysRandom, 5));
  EXPECT_NE(db().WatchVersion("watched"), version);
  ASSERT_EQ(shard_.ready_keys().size(), 1u);
  EXPECT_EQ(shard_.ready_keys()[0].second, "watched");
}

TEST(EvictionPolicyTest, Names) {
  EXPECT_EQ(ParseEvictionPolicy("volatile-ttl"), EvictionPolicy::kVolatileTtl);
  EXPECT_EQ(ParseEvictionPolicy("allkeys-lfu"), EvictionPolicy::kAllkeysLfu);
  EXPECT_EQ(ParseEvictionPolicy("nope"), std::nullopt);
}

}  // namespace
}  // namespace shardis
