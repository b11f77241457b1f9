// Tests for Keyspace, the segmented open-addressing table: seeded random operations checked
// against std::unordered_map through many segment grows, splits and shrinks; the value layouts an
// Entry can hold (short and long keys and values, collections, expiry) and every transition
// between them; and the SCAN guarantee (every key present for the whole scan is returned at least
// once, however the table changes between calls).
#include "storage/keyspace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/set_value.h"

namespace shardis {
namespace {

std::string Key(uint64_t n) { return "key:" + std::to_string(n); }

// Inserts key=value (overwriting); returns the entry.
Entry* Put(Keyspace& ks, const std::string& key, const std::string& value) {
  bool inserted = false;
  Entry* e = ks.FindOrInsert(key, &inserted);
  ks.SetString(e, value, StringEncoding::kRaw);
  return e;
}

// Every key of a full scan, with the number of times each was returned. `between` runs after
// every Scan() call (it may modify the table). Bounded by `max_calls`.
std::unordered_map<std::string, int> FullScan(Keyspace& ks, const std::function<void()>& between,
                                              size_t count = 10, size_t max_calls = 10'000'000) {
  std::unordered_map<std::string, int> seen;
  uint64_t cursor = 0;
  size_t calls = 0;
  do {
    cursor = ks.Scan(cursor, count, [&](Entry& e) { ++seen[std::string(e.key())]; });
    between();
    ++calls;
  } while (cursor != 0 && calls < max_calls);
  EXPECT_EQ(cursor, 0u) << "scan did not finish";
  return seen;
}

void ExpectSameContents(Keyspace& ks, const std::unordered_map<std::string, std::string>& model) {
  ASSERT_EQ(ks.size(), model.size());
  for (const auto& [key, value] : model) {
    Entry* e = ks.Find(key);
    ASSERT_NE(e, nullptr) << key;
    EXPECT_EQ(e->key(), key);
    EXPECT_EQ(e->str(), value);
  }
  // A scan of the unchanged table returns every key exactly once.
  auto seen = FullScan(ks, [] {});
  EXPECT_EQ(seen.size(), model.size());
  for (const auto& [key, count] : seen) {
    EXPECT_EQ(count, 1) << key;
    EXPECT_TRUE(model.count(key)) << key;
  }
}

TEST(KeyspaceTest, Empty) {
  Keyspace ks;
  EXPECT_EQ(ks.size(), 0u);
  EXPECT_EQ(ks.Find("x"), nullptr);
  EXPECT_FALSE(ks.Erase("x"));
  EXPECT_EQ(ks.Random(123), nullptr);
  int calls = 0;
  EXPECT_EQ(ks.Scan(0, 10, [&](Entry&) { ++calls; }), 0u);
  EXPECT_EQ(ks.ScanVolatile(0, 10, [&](Entry&) { ++calls; }), 0u);
  EXPECT_EQ(calls, 0);
  ks.Clear();
  EXPECT_EQ(ks.size(), 0u);
  EXPECT_EQ(ks.table_bytes(), 0u);
}

TEST(KeyspaceTest, InsertFindErase) {
  Keyspace ks;
  bool inserted = false;
  Entry* e = ks.FindOrInsert("a", &inserted);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(e->key(), "a");
  EXPECT_EQ(e->type(), ValueType::kString);
  EXPECT_TRUE(e->str().empty());
  EXPECT_FALSE(e->has_expiry());
  EXPECT_EQ(e->expire_at_ms(), kNoExpiry);
  ks.SetString(e, "1", StringEncoding::kInt);
  EXPECT_EQ(ks.FindOrInsert("a", &inserted), e);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(ks.Find("a"), e);
  EXPECT_EQ(e->encoding(), StringEncoding::kInt);
  EXPECT_EQ(ks.size(), 1u);
  // Keys are binary.
  std::string binary("a\0b", 3);
  Put(ks, binary, "bin");
  Put(ks, "", "empty");
  EXPECT_EQ(ks.Find(binary)->str(), "bin");
  EXPECT_EQ(ks.Find("")->str(), "empty");
  EXPECT_EQ(ks.Find(std::string("a\0c", 3)), nullptr);
  EXPECT_TRUE(ks.Erase("a"));
  EXPECT_FALSE(ks.Erase("a"));
  EXPECT_EQ(ks.Find("a"), nullptr);
  EXPECT_EQ(ks.size(), 2u);
}

// Prefetch hints are safe on any table (empty, cleared, grown through many segments, keys
// present or not) and change nothing.
TEST(KeyspaceTest, PrefetchChangesNothing) {
  Keyspace ks;
  ks.PrefetchSlot(Keyspace::HashKey("x"));
  ks.PrefetchBlock(Keyspace::HashKey("x"));
  for (int i = 0; i < 20000; ++i) Put(ks, "k" + std::to_string(i), "v");
  for (int i = 0; i < 40000; ++i) {
    uint64_t hash = Keyspace::HashKey("k" + std::to_string(i));
    ks.PrefetchSlot(hash);
    ks.PrefetchBlock(hash);
  }
  EXPECT_EQ(ks.size(), 20000u);
  EXPECT_EQ(ks.Find("k19999")->str(), "v");
  ks.Clear();
  ks.PrefetchSlot(Keyspace::HashKey("k1"));
  ks.PrefetchBlock(Keyspace::HashKey("k1"));
  EXPECT_EQ(ks.size(), 0u);
}

// Every combination of key size, value size and expiry, through every change of value.
TEST(KeyspaceTest, ValueLayouts) {
  const std::string keys[] = {"", "k", std::string(254, 'a'), std::string(255, 'b'),
                              std::string(70000, 'c')};
  const size_t value_sizes[] = {0, 1, 32, 1000, (1u << 24) - 1, (1u << 24) + 5};
  Keyspace ks;
  for (const std::string& key : keys) {
    for (size_t vs : value_sizes) {
      for (bool expiring : {false, true}) {
        SCOPED_TRACE(std::to_string(key.size()) + "/" + std::to_string(vs) + "/" +
                     std::to_string(expiring));
        std::string value(vs, 'v');
        if (vs > 0) value[vs - 1] = 'z';
        Entry* e = Put(ks, key, value);
        e->set_access_time(5'000'000);
        if (expiring) ks.SetExpiry(e, 1234567);
        ASSERT_EQ(ks.Find(key), e);
        EXPECT_EQ(e->key(), key);
        EXPECT_EQ(e->str(), value);
        EXPECT_EQ(e->expire_at_ms(), expiring ? 1234567 : kNoExpiry);
        EXPECT_EQ(e->IdleSeconds(9'000'000), 4000);
        // Grow in place, keep the rest.
        char* bytes = ks.ResizeString(e, vs + 3);
        bytes[vs] = 'x';
        EXPECT_EQ(e->str().size(), vs + 3);
        EXPECT_EQ(e->str().substr(vs), std::string("x\0\0", 3));
        EXPECT_EQ(e->encoding(), StringEncoding::kRaw);
        EXPECT_EQ(e->key(), key);
        EXPECT_EQ(e->expire_at_ms(), expiring ? 1234567 : kNoExpiry);
        // Shrink across the long-value boundary and back.
        ks.ResizeString(e, 2);
        EXPECT_EQ(e->str().size(), 2u);
        ks.ResizeString(e, vs);
        EXPECT_EQ(e->str().size(), vs);
        // A collection, and back to a string.
        auto set = SetValue::CreateFor("m");
        set->Add("m", 128);
        ks.SetCollection(e, ValueType::kSet, std::move(set));
        EXPECT_EQ(e->type(), ValueType::kSet);
        EXPECT_EQ(e->As<SetValue>()->size(), 1u);
        EXPECT_EQ(e->key(), key);
        EXPECT_EQ(e->expire_at_ms(), expiring ? 1234567 : kNoExpiry);
        Value copy = e->ToValue();
        EXPECT_EQ(copy.type, ValueType::kSet);
        EXPECT_NE(copy.coll.get(), e->collection());
        ks.ClearExpiry(e);
        ks.SetExpiry(e, 99);
        EXPECT_EQ(e->As<SetValue>()->size(), 1u);
        EXPECT_EQ(e->expire_at_ms(), 99);
        Value taken = ks.TakeValue(e);
        EXPECT_EQ(taken.type, ValueType::kSet);
        EXPECT_EQ(e->type(), ValueType::kString);
        EXPECT_TRUE(e->str().empty());
        ks.Assign(e, std::move(copy));
        EXPECT_EQ(e->type(), ValueType::kSet);
        ks.SetString(e, value, StringEncoding::kEmbstr);
        EXPECT_EQ(e->str(), value);
        // An overwrite of the same length, in place (also from the value's own bytes).
        std::string other(vs, 'w');
        ks.SetString(e, other, StringEncoding::kRaw);
        EXPECT_EQ(e->str(), other);
        EXPECT_EQ(e->encoding(), StringEncoding::kRaw);
        ks.SetString(e, e->str(), StringEncoding::kEmbstr);
        EXPECT_EQ(e->str(), other);
        EXPECT_EQ(e->key(), key);
        EXPECT_EQ(e->expire_at_ms(), 99);
        ks.ClearExpiry(e);
        EXPECT_FALSE(e->has_expiry());
        EXPECT_EQ(e->IdleSeconds(9'000'000), 4000);
        ASSERT_TRUE(ks.Erase(key));
      }
    }
  }
  EXPECT_EQ(ks.size(), 0u);
}

TEST(KeyspaceTest, ClearAndReuse) {
  Keyspace ks;
  for (int i = 0; i < 10000; ++i) Put(ks, Key(i), "v");
  EXPECT_GT(ks.segment_count(), 1u);
  ks.Clear();
  EXPECT_EQ(ks.size(), 0u);
  EXPECT_EQ(ks.table_bytes(), 0u);
  EXPECT_EQ(ks.Find(Key(1)), nullptr);
  for (int i = 0; i < 1000; ++i) Put(ks, Key(i), "w");
  EXPECT_EQ(ks.size(), 1000u);
  EXPECT_EQ(ks.Find(Key(999))->str(), "w");
}

// Big tables stay between about 0.70 and 15/16 full; emptied tables give their memory back.
TEST(KeyspaceTest, LoadFactorAndShrinking) {
  Keyspace ks;
  for (int i = 0; i < 300000; ++i) {
    Put(ks, Key(i), "v");
    if (i > 20000 && i % 997 == 0) {
      double slots = static_cast<double>(ks.table_bytes()) / sizeof(Entry);
      double load = static_cast<double>(ks.size()) / slots;
      ASSERT_GT(load, 0.62) << i;
      ASSERT_LE(load, 0.94) << i;
    }
  }
  size_t full = ks.table_bytes();
  for (int i = 0; i < 299990; ++i) ASSERT_TRUE(ks.Erase(Key(i)));
  EXPECT_LT(ks.table_bytes(), full / 8);
  for (int i = 299990; i < 300000; ++i) EXPECT_NE(ks.Find(Key(i)), nullptr);
}

TEST(KeyspaceTest, RandomOperationsMatchUnorderedMap) {
  std::mt19937_64 rng(12345);
  Keyspace ks;
  std::unordered_map<std::string, std::string> model;
  size_t max_segments = 0;
  // Phases alternately grow to a high water mark and shrink to a low one, many times over.
  for (int phase = 0; phase < 10; ++phase) {
    bool growing = phase % 2 == 0;
    size_t target = growing ? 2000 + rng() % 40000 : rng() % 200;
    for (int op = 0; op < 600000; ++op) {
      if (growing ? model.size() >= target : model.size() <= target) break;
      uint64_t r = rng();
      std::string key = Key(r % 60000);
      int kind = (r >> 32) % 10;
      // Growing phases insert more than they erase; shrinking phases erase existing keys.
      if (!growing && kind < 4 && !model.empty()) {
        key = model.begin()->first;
        kind = 4;
      }
      switch (kind) {
        case 0:
        case 1:
        case 2:
        case 3: {  // insert or overwrite
          std::string value = std::to_string(r);
          bool inserted = false;
          Entry* e = ks.FindOrInsert(key, &inserted);
          EXPECT_EQ(inserted, model.count(key) == 0) << key;
          ks.SetString(e, value, StringEncoding::kRaw);
          model[key] = value;
          break;
        }
        case 4:
        case 5: {  // erase
          bool had = model.erase(key) > 0;
          EXPECT_EQ(ks.Erase(key), had) << key;
          break;
        }
        case 6:
        case 7:
        case 8: {  // find
          Entry* e = ks.Find(key);
          auto it = model.find(key);
          ASSERT_EQ(e != nullptr, it != model.end()) << key;
          if (e) {
            EXPECT_EQ(e->str(), it->second);
          }
          break;
        }
        case 9: {  // random member
          Entry* e = ks.Random(rng());
          ASSERT_EQ(e == nullptr, model.empty());
          if (e) {
            std::string k(e->key());
            ASSERT_TRUE(model.count(k)) << k;
            EXPECT_EQ(ks.Find(k), e);
          }
          break;
        }
      }
      ASSERT_EQ(ks.size(), model.size());
      max_segments = std::max(max_segments, ks.segment_count());
    }
    SCOPED_TRACE("phase " + std::to_string(phase));
    EXPECT_TRUE(growing ? model.size() >= target : model.size() <= target);
    ExpectSameContents(ks, model);
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  EXPECT_GE(max_segments, 8u);
}

TEST(KeyspaceTest, RandomReturnsEveryMemberEventually) {
  std::mt19937_64 rng(99);
  Keyspace ks;
  for (int i = 0; i < 10; ++i) Put(ks, Key(i), "v");
  std::set<std::string> seen;
  for (int i = 0; i < 20000 && seen.size() < 10; ++i) {
    Entry* e = ks.Random(rng());
    ASSERT_NE(e, nullptr);
    seen.emplace(e->key());
  }
  EXPECT_EQ(seen.size(), 10u);
  // A big table with most segments emptied still finds the rest.
  for (int i = 10; i < 50000; ++i) Put(ks, Key(i), "v");
  for (int i = 10; i < 49990; ++i) ks.Erase(Key(i));
  for (int i = 0; i < 2000; ++i) {
    Entry* e = ks.Random(rng());
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(ks.Find(e->key()), e);
  }
}

TEST(KeyspaceTest, ScanOfStaticTableReturnsEachKeyOnce) {
  Keyspace ks;
  std::unordered_map<std::string, std::string> model;
  for (int i = 0; i < 60000; ++i) {
    Put(ks, Key(i), "v");
    model[Key(i)] = "v";
    if (i % 3777 == 0) ExpectSameContents(ks, model);
  }
  ExpectSameContents(ks, model);
  // Any COUNT works, one included.
  for (size_t count : {1, 3, 100, 100000}) {
    auto seen = FullScan(
        ks, [] {}, count);
    EXPECT_EQ(seen.size(), model.size()) << count;
  }
}

// The SCAN guarantee while segments grow, split and shrink between Scan() calls.
TEST(KeyspaceTest, ScanReturnsStableKeysAcrossResizes) {
  std::mt19937_64 rng(4242);
  int rounds_with_splits = 0;
  for (int round = 0; round < 12; ++round) {
    Keyspace ks;
    std::unordered_set<std::string> stable;
    size_t stable_count = 50 + rng() % 4000;
    for (size_t i = 0; i < stable_count; ++i) {
      stable.insert("stable:" + std::to_string(i));
      Put(ks, "stable:" + std::to_string(i), "s");
    }
    // Volatile keys come and go between Scan() calls, in bursts that grow and shrink segments.
    std::vector<std::string> volatile_keys;
    uint64_t next_volatile = 0;
    size_t segments_seen_max = 0;
    auto mutate = [&] {
      int action = rng() % 6;
      if (action < 3) {
        int n = rng() % 600;
        for (int i = 0; i < n; ++i) {
          volatile_keys.push_back("vol:" + std::to_string(next_volatile++));
          Put(ks, volatile_keys.back(), "v");
        }
      } else {
        int n = rng() % 800;
        for (int i = 0; i < n && !volatile_keys.empty(); ++i) {
          size_t pick = rng() % volatile_keys.size();
          ASSERT_TRUE(ks.Erase(volatile_keys[pick]));
          volatile_keys[pick] = volatile_keys.back();
          volatile_keys.pop_back();
        }
      }
      segments_seen_max = std::max(segments_seen_max, ks.segment_count());
    };
    auto seen = FullScan(ks, mutate, 1 + rng() % 50);
    SCOPED_TRACE("round " + std::to_string(round));
    for (const std::string& key : stable) EXPECT_TRUE(seen.count(key)) << key;
    for (const auto& [key, count] : seen) {
      EXPECT_TRUE(stable.count(key) || key.rfind("vol:", 0) == 0) << key;
    }
    rounds_with_splits += segments_seen_max > 1;
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  EXPECT_GE(rounds_with_splits, 6);
}

// Scan cursors survive the table shrinking from large to small and growing back in between.
TEST(KeyspaceTest, ScanAcrossFullShrinkAndGrow) {
  Keyspace ks;
  for (int i = 0; i < 100; ++i) Put(ks, "stable:" + std::to_string(i), "s");
  for (int i = 0; i < 20000; ++i) Put(ks, Key(i), "v");
  std::unordered_map<std::string, int> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = ks.Scan(cursor, 10, [&](Entry& e) { ++seen[std::string(e.key())]; });
    ++step;
    if (step == 10) {  // shrink to almost nothing
      for (int i = 0; i < 20000; ++i) ks.Erase(Key(i));
    } else if (step == 20) {  // and grow again, far past the old size
      for (int i = 0; i < 100000; ++i) Put(ks, Key(i), "v");
    }
  } while (cursor != 0 && step < 10'000'000);
  ASSERT_EQ(cursor, 0u);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.count("stable:" + std::to_string(i))) << i;
}

TEST(KeyspaceTest, ScanVolatileVisitsOnlyKeysWithExpiry) {
  Keyspace ks;
  std::set<std::string> expiring;
  for (int i = 0; i < 20000; ++i) {
    Entry* e = Put(ks, Key(i), "v");
    if (i % 100 == 0) {
      ks.SetExpiry(e, 1000 + i);
      expiring.insert(Key(i));
    }
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = ks.ScanVolatile(cursor, 3, [&](Entry& e) {
      EXPECT_TRUE(e.has_expiry());
      seen.emplace(e.key());
    });
  } while (cursor != 0 && ++calls < 100000);
  EXPECT_EQ(seen, expiring);
}

}  // namespace
}  // namespace shardis
