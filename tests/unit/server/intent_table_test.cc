// IntentTable (server/coordination.h): FIFO grants per key, shared/exclusive compatibility,
// whole-shard requests, re-entrant release from grant callbacks.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/coordination.h"

namespace shardis {
namespace {

std::vector<std::string> Keys(std::initializer_list<const char*> keys) {
  std::vector<std::string> out;
  for (const char* k : keys) out.push_back(IntentKey(0, k));
  return out;
}

TEST(IntentTableTest, DisjointKeysDoNotWait) {
  IntentTable t;
  EXPECT_TRUE(t.idle());
  bool granted = false;
  uint64_t a = t.Add(
      Keys({"a", "b"}), true, false, [] { FAIL(); }, &granted);
  EXPECT_TRUE(granted);
  EXPECT_FALSE(t.idle());
  uint64_t c = t.Add(
      Keys({"c"}), true, false, [] { FAIL(); }, &granted);
  EXPECT_TRUE(granted);
  EXPECT_TRUE(t.CanRunNow(Keys({"d"}), true));
  EXPECT_FALSE(t.CanRunNow(Keys({"b"}), false));
  EXPECT_FALSE(t.CanRunNow(Keys({"d", "c"}), true));
  EXPECT_TRUE(t.CanRunKeylessNow());
  t.Release(a);
  t.Release(c);
  EXPECT_TRUE(t.idle());
}

TEST(IntentTableTest, ConflictsAreGrantedInOrder) {
  IntentTable t;
  std::vector<int> order;
  bool granted = false;
  uint64_t a = t.Add(Keys({"k"}), true, false, nullptr, &granted);
  ASSERT_TRUE(granted);
  uint64_t b = t.Add(
      Keys({"k", "x"}), true, false, [&] { order.push_back(2); }, &granted);
  EXPECT_FALSE(granted);
  uint64_t c = t.Add(
      Keys({"x"}), true, false, [&] { order.push_back(3); }, &granted);
  EXPECT_FALSE(granted);  // behind b on x, although x is not held yet
  EXPECT_FALSE(t.CanRunNow(Keys({"x"}), false));
  t.Release(a);
  EXPECT_EQ(order, std::vector<int>({2}));
  t.Release(b);
  EXPECT_EQ(order, std::vector<int>({2, 3}));
  t.Release(c);
  EXPECT_TRUE(t.idle());
}

TEST(IntentTableTest, ReadersShareWritersWait) {
  IntentTable t;
  bool granted = false;
  int writer_granted = 0;
  uint64_t r1 = t.Add(Keys({"k"}), false, false, nullptr, &granted);
  EXPECT_TRUE(granted);
  uint64_t r2 = t.Add(Keys({"k"}), false, false, nullptr, &granted);
  EXPECT_TRUE(granted);
  EXPECT_TRUE(t.CanRunNow(Keys({"k"}), false));
  EXPECT_FALSE(t.CanRunNow(Keys({"k"}), true));
  uint64_t w = t.Add(
      Keys({"k"}), true, false, [&] { ++writer_granted; }, &granted);
  EXPECT_FALSE(granted);
  // A reader arriving after a waiting writer waits too (no writer starvation).
  EXPECT_FALSE(t.CanRunNow(Keys({"k"}), false));
  t.Release(r1);
  EXPECT_EQ(writer_granted, 0);
  t.Release(r2);
  EXPECT_EQ(writer_granted, 1);
  t.Release(w);
}

TEST(IntentTableTest, WholeShardConflictsWithEverything) {
  IntentTable t;
  bool granted = false;
  std::vector<int> order;
  uint64_t a = t.Add(Keys({"a"}), false, false, nullptr, &granted);
  ASSERT_TRUE(granted);
  uint64_t whole = t.Add(
      {}, true, true, [&] { order.push_back(1); }, &granted);
  EXPECT_FALSE(granted);
  EXPECT_FALSE(t.CanRunKeylessNow());
  EXPECT_FALSE(t.CanRunNow(Keys({"zzz"}), false));
  uint64_t b = t.Add(
      Keys({"b"}), true, false, [&] { order.push_back(2); }, &granted);
  EXPECT_FALSE(granted);  // registered after the whole-shard request
  t.Release(a);
  EXPECT_EQ(order, std::vector<int>({1}));
  t.Release(whole);
  EXPECT_EQ(order, std::vector<int>({1, 2}));
  t.Release(b);
  EXPECT_TRUE(t.idle());
}

TEST(IntentTableTest, GrantCallbacksMayReleaseAndAdd) {
  IntentTable t;
  bool granted = false;
  uint64_t a = t.Add(Keys({"k"}), true, false, nullptr, &granted);
  int runs = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  // b releases itself when granted (as an ordinary command does once admitted), c then runs.
  b = t.Add(
      Keys({"k"}), true, false,
      [&] {
        ++runs;
        t.Release(b);
      },
      &granted);
  c = t.Add(
      Keys({"k"}), true, false,
      [&] {
        ++runs;
        bool g = false;
        t.Add(
            Keys({"k"}), true, false, [&] { ++runs; }, &g);
        EXPECT_FALSE(g);  // c itself still holds k
        t.Release(c);     // d is granted once this callback returns
      },
      &granted);
  t.Release(a);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(t.size(), 1u);  // d, granted and still held
}

TEST(IntentTableTest, DuplicateKeysInOneRequest) {
  IntentTable t;
  bool granted = false;
  uint64_t a = t.Add(Keys({"k", "k", "j"}), true, false, nullptr, &granted);
  EXPECT_TRUE(granted);
  t.Release(a);
  EXPECT_TRUE(t.idle());
  EXPECT_TRUE(t.CanRunNow(Keys({"k"}), true));
}

}  // namespace
}  // namespace shardis
