// Tests for Keyspace: seeded random operations checked against std::unordered_map across many
// incremental grows and shrinks, Detach/Clear/Random, and the SCAN guarantee (every key present
// for the whole scan is returned at least once, however the table resizes between calls).
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

namespace shardis {
namespace {

std::string Key(uint64_t n) { return "key:" + std::to_string(n); }

// Inserts key=value (overwriting); returns the entry.
Entry* Put(Keyspace& ks, const std::string& key, const std::string& value) {
  bool inserted = false;
  Entry* e = ks.FindOrInsert(key, &inserted);
  e->value.str = value;
  return e;
}

// Every key of a full scan, with the number of times each was returned. `between` runs after
// every Scan() call (it may modify the table). Bounded by `max_calls`.
std::unordered_map<std::string, int> FullScan(Keyspace& ks, const std::function<void()>& between,
                                              size_t max_calls = 10'000'000) {
  std::unordered_map<std::string, int> seen;
  uint64_t cursor = 0;
  size_t calls = 0;
  do {
    cursor = ks.Scan(cursor, [&](Entry& e) { ++seen[e.key]; });
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
    EXPECT_EQ(e->key, key);
    EXPECT_EQ(e->value.str, value);
    EXPECT_EQ(e->hash, Keyspace::HashKey(key));
  }
  // A scan of the unchanged table returns every key exactly once, even mid-rehash.
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
  EXPECT_EQ(ks.Detach("x"), nullptr);
  EXPECT_FALSE(ks.Erase("x"));
  EXPECT_EQ(ks.Random(123), nullptr);
  int calls = 0;
  EXPECT_EQ(ks.Scan(0, [&](Entry&) { ++calls; }), 0u);
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(ks.RehashFor(1000));
  ks.MaybeShrink();
  ks.Clear();
  EXPECT_EQ(ks.size(), 0u);
}

TEST(KeyspaceTest, InsertFindErase) {
  Keyspace ks;
  bool inserted = false;
  Entry* e = ks.FindOrInsert("a", &inserted);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(e->key, "a");
  EXPECT_TRUE(e->value.str.empty());
  EXPECT_FALSE(e->has_expiry());
  e->value.str = "1";
  EXPECT_EQ(ks.FindOrInsert("a", &inserted), e);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(ks.Find("a"), e);
  EXPECT_EQ(ks.size(), 1u);
  // Keys are binary.
  std::string binary("a\0b", 3);
  Put(ks, binary, "bin");
  Put(ks, "", "empty");
  EXPECT_EQ(ks.Find(binary)->value.str, "bin");
  EXPECT_EQ(ks.Find("")->value.str, "empty");
  EXPECT_EQ(ks.Find(std::string("a\0c", 3)), nullptr);
  EXPECT_TRUE(ks.Erase("a"));
  EXPECT_FALSE(ks.Erase("a"));
  EXPECT_EQ(ks.Find("a"), nullptr);
  EXPECT_EQ(ks.size(), 2u);
}

TEST(KeyspaceTest, EntryAddressesAreStableAcrossResizes) {
  Keyspace ks;
  Entry* first = Put(ks, "first", "v");
  for (int i = 0; i < 5000; ++i) Put(ks, Key(i), "x");
  while (ks.RehashFor(1000)) {
  }
  EXPECT_EQ(ks.Find("first"), first);
  for (int i = 0; i < 5000; ++i) ks.Erase(Key(i));
  ks.MaybeShrink();
  while (ks.RehashFor(1000)) {
  }
  EXPECT_EQ(ks.Find("first"), first);
  EXPECT_EQ(first->value.str, "v");
}

TEST(KeyspaceTest, DetachHandsOverTheEntry) {
  Keyspace ks;
  for (int i = 0; i < 100; ++i) Put(ks, Key(i), "v" + std::to_string(i));
  std::unique_ptr<Entry> e = ks.Detach(Key(42));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->key, Key(42));
  EXPECT_EQ(e->value.str, "v42");
  EXPECT_EQ(e->next, nullptr);
  EXPECT_EQ(ks.Find(Key(42)), nullptr);
  EXPECT_EQ(ks.size(), 99u);
  EXPECT_EQ(ks.Detach(Key(42)), nullptr);
  // Every other key is still there.
  for (int i = 0; i < 100; ++i) {
    if (i != 42) {
      EXPECT_NE(ks.Find(Key(i)), nullptr) << i;
    }
  }
}

TEST(KeyspaceTest, ClearAndReuse) {
  Keyspace ks;
  for (int i = 0; i < 1000; ++i) Put(ks, Key(i), "v");
  // Clear in the middle of a rehash too.
  Put(ks, "one-more", "v");
  ks.Clear();
  EXPECT_EQ(ks.size(), 0u);
  EXPECT_FALSE(ks.rehashing());
  EXPECT_EQ(ks.bucket_count(), 0u);
  EXPECT_EQ(ks.Find(Key(1)), nullptr);
  for (int i = 0; i < 1000; ++i) Put(ks, Key(i), "w");
  EXPECT_EQ(ks.size(), 1000u);
  EXPECT_EQ(ks.Find(Key(999))->value.str, "w");
}

TEST(KeyspaceTest, GrowsAndShrinks) {
  Keyspace ks;
  for (int i = 0; i < 10000; ++i) Put(ks, Key(i), "v");
  while (ks.RehashFor(1000)) {
  }
  EXPECT_GE(ks.bucket_count(), 10000u);
  for (int i = 0; i < 9990; ++i) ASSERT_TRUE(ks.Erase(Key(i)));
  size_t before = ks.bucket_count();
  ks.MaybeShrink();
  EXPECT_TRUE(ks.rehashing());
  while (ks.RehashFor(1000)) {
  }
  EXPECT_LT(ks.bucket_count(), before);
  EXPECT_LE(ks.bucket_count(), 16u);
  for (int i = 9990; i < 10000; ++i) EXPECT_NE(ks.Find(Key(i)), nullptr);
  // Shrinking an emptied table.
  for (int i = 9990; i < 10000; ++i) ks.Erase(Key(i));
  ks.MaybeShrink();
  while (ks.RehashFor(1000)) {
  }
  EXPECT_LE(ks.bucket_count(), 4u);
  EXPECT_EQ(ks.size(), 0u);
}

TEST(KeyspaceTest, RandomOperationsMatchUnorderedMap) {
  std::mt19937_64 rng(12345);
  Keyspace ks;
  std::unordered_map<std::string, std::string> model;
  size_t max_buckets = 0;
  int shrinks = 0;
  // Phases alternately grow to a high water mark and shrink to a low one, many times over.
  for (int phase = 0; phase < 12; ++phase) {
    bool growing = phase % 2 == 0;
    size_t target = growing ? 2000 + rng() % 20000 : rng() % 200;
    for (int op = 0; op < 400000; ++op) {
      if (growing ? model.size() >= target : model.size() <= target) break;
      uint64_t r = rng();
      std::string key = Key(r % 30000);
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
          e->value.str = value;
          model[key] = value;
          break;
        }
        case 4:
        case 5: {  // erase, by Erase() or Detach()
          bool had = model.erase(key) > 0;
          if ((r >> 41) % 2) {
            std::unique_ptr<Entry> e = ks.Detach(key);
            EXPECT_EQ(e != nullptr, had) << key;
            if (e) {
              EXPECT_EQ(e->key, key);
            }
          } else {
            EXPECT_EQ(ks.Erase(key), had) << key;
          }
          break;
        }
        case 6:
        case 7: {  // find
          Entry* e = ks.Find(key);
          auto it = model.find(key);
          ASSERT_EQ(e != nullptr, it != model.end()) << key;
          if (e) {
            EXPECT_EQ(e->value.str, it->second);
          }
          break;
        }
        case 8: {  // the shard's periodic maintenance
          if ((r >> 40) % 32 == 0) {
            bool was_rehashing = ks.rehashing();
            ks.MaybeShrink();
            if (!was_rehashing && ks.rehashing()) ++shrinks;
          }
          if ((r >> 48) % 128 == 0) ks.RehashFor(0);
          break;
        }
        case 9: {  // random member
          Entry* e = ks.Random(rng());
          ASSERT_EQ(e == nullptr, model.empty());
          if (e) {
            auto it = model.find(e->key);
            ASSERT_NE(it, model.end()) << e->key;
            EXPECT_EQ(ks.Find(e->key), e);
          }
          break;
        }
      }
      ASSERT_EQ(ks.size(), model.size());
      max_buckets = std::max(max_buckets, ks.bucket_count());
    }
    SCOPED_TRACE("phase " + std::to_string(phase));
    EXPECT_TRUE(growing ? model.size() >= target : model.size() <= target);
    ExpectSameContents(ks, model);
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  EXPECT_GE(max_buckets, 2048u);
  EXPECT_GT(shrinks, 5);
}

TEST(KeyspaceTest, RandomReturnsEveryMemberEventually) {
  std::mt19937_64 rng(99);
  Keyspace ks;
  for (int i = 0; i < 10; ++i) Put(ks, Key(i), "v");
  std::set<std::string> seen;
  for (int i = 0; i < 20000 && seen.size() < 10; ++i) {
    Entry* e = ks.Random(rng());
    ASSERT_NE(e, nullptr);
    seen.insert(e->key);
  }
  EXPECT_EQ(seen.size(), 10u);
  // Also mid-rehash: grow past a resize without finishing it.
  for (int i = 10; i < 5000; ++i) Put(ks, Key(i), "v");
  for (int i = 0; i < 2000; ++i) {
    Entry* e = ks.Random(rng());
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(ks.Find(e->key), e);
  }
}

TEST(KeyspaceTest, ScanOfStaticTableReturnsEachKeyOnce) {
  Keyspace ks;
  std::unordered_map<std::string, std::string> model;
  for (int i = 0; i < 3000; ++i) {
    Put(ks, Key(i), "v");
    model[Key(i)] = "v";
    // Check both settled tables and tables caught mid-rehash.
    if (i % 377 == 0) ExpectSameContents(ks, model);
  }
  bool saw_rehash = false;
  for (int i = 3000; i < 40000 && !saw_rehash; ++i) {
    Put(ks, Key(i), "v");
    model[Key(i)] = "v";
    saw_rehash = ks.rehashing();
  }
  ASSERT_TRUE(saw_rehash);
  ExpectSameContents(ks, model);
}

// The SCAN guarantee while the table grows and shrinks (incrementally) between Scan() calls.
TEST(KeyspaceTest, ScanReturnsStableKeysAcrossResizes) {
  std::mt19937_64 rng(4242);
  for (int round = 0; round < 20; ++round) {
    Keyspace ks;
    std::unordered_set<std::string> stable;
    size_t stable_count = 50 + rng() % 2000;
    for (size_t i = 0; i < stable_count; ++i) {
      stable.insert("stable:" + std::to_string(i));
      Put(ks, "stable:" + std::to_string(i), "s");
    }
    // Volatile keys come and go between Scan() calls, in bursts that trigger grows and shrinks.
    std::vector<std::string> volatile_keys;
    uint64_t next_volatile = 0;
    size_t rehashing_scans = 0;
    auto mutate = [&] {
      if (ks.rehashing()) ++rehashing_scans;
      int action = rng() % 8;
      if (action < 3) {
        int n = rng() % 300;
        for (int i = 0; i < n; ++i) {
          volatile_keys.push_back("vol:" + std::to_string(next_volatile++));
          Put(ks, volatile_keys.back(), "v");
        }
      } else if (action < 6) {
        int n = rng() % 400;
        for (int i = 0; i < n && !volatile_keys.empty(); ++i) {
          size_t pick = rng() % volatile_keys.size();
          ASSERT_TRUE(ks.Erase(volatile_keys[pick]));
          volatile_keys[pick] = volatile_keys.back();
          volatile_keys.pop_back();
        }
        ks.MaybeShrink();
      } else if (action == 6) {
        ks.RehashFor(0);
      } else {
        ks.MaybeShrink();
      }
    };
    auto seen = FullScan(ks, mutate);
    SCOPED_TRACE("round " + std::to_string(round));
    for (const std::string& key : stable) EXPECT_TRUE(seen.count(key)) << key;
    for (const auto& [key, count] : seen) {
      EXPECT_TRUE(stable.count(key) || key.rfind("vol:", 0) == 0) << key;
    }
    EXPECT_GT(rehashing_scans, 0u);
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
}

// Scan cursors survive a table shrinking from large to small and growing back in between calls.
TEST(KeyspaceTest, ScanAcrossFullShrinkAndGrow) {
  Keyspace ks;
  for (int i = 0; i < 100; ++i) Put(ks, "stable:" + std::to_string(i), "s");
  for (int i = 0; i < 20000; ++i) Put(ks, Key(i), "v");
  while (ks.RehashFor(1000)) {
  }
  std::unordered_map<std::string, int> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = ks.Scan(cursor, [&](Entry& e) { ++seen[e.key]; });
    ++step;
    if (step == 10) {  // shrink to almost nothing
      for (int i = 0; i < 20000; ++i) ks.Erase(Key(i));
      ks.MaybeShrink();
      while (ks.RehashFor(1000)) {
      }
    } else if (step == 20) {  // and grow again
      for (int i = 0; i < 50000; ++i) Put(ks, Key(i), "v");
    }
  } while (cursor != 0 && step < 10'000'000);
  ASSERT_EQ(cursor, 0u);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.count("stable:" + std::to_string(i))) << i;
}

}  // namespace
}  // namespace shardis
