// Unit tests of storage/hash_value: the listpack encoding (insertion order, in-place updates),
// conversion to hashtable at the entry-count and value-length thresholds (and never back), deep
// copies, HSCAN cursors across resizes, random picks, and randomized runs against a reference
// model (an insertion-ordered vector plus a map).
#include "storage/hash_value.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shardis {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAreArray;

constexpr size_t kEntries = 512;  // redis-server 7.0's hash-max-listpack-entries
constexpr size_t kValue = 64;     // hash-max-listpack-value

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Contents(const HashValue& h) {
  Pairs out;
  for (HashValue::Cursor c(h); !c.Done(); c.Next()) {
    out.emplace_back(std::string(c.field()), std::string(c.value()));
  }
  return out;
}

TEST(HashValueTest, ListpackKeepsInsertionOrder) {
  HashValue h;
  EXPECT_STREQ(h.EncodingName(), "listpack");
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(h.Set("b", "1", kEntries, kValue));
  EXPECT_TRUE(h.Set("a", "2", kEntries, kValue));
  EXPECT_TRUE(h.Set("c", "3", kEntries, kValue));
  EXPECT_FALSE(h.Set("a", "two", kEntries, kValue));  // update in place
  EXPECT_THAT(Contents(h), ElementsAre(Pair("b", "1"), Pair("a", "two"), Pair("c", "3")));
  EXPECT_TRUE(h.Delete("b"));
  EXPECT_FALSE(h.Delete("b"));
  EXPECT_TRUE(h.Set("b", "again", kEntries, kValue));  // a re-added field goes last
  EXPECT_THAT(Contents(h), ElementsAre(Pair("a", "two"), Pair("c", "3"), Pair("b", "again")));
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.Get("c"), "3");
  EXPECT_FALSE(h.Get("zz").has_value());
  EXPECT_TRUE(h.Contains("a"));
  EXPECT_STREQ(h.EncodingName(), "listpack");
}

TEST(HashValueTest, EmptyAndBinaryStrings) {
  for (bool table : {false, true}) {
    HashValue h;
    if (table) h.ConvertToHashtable();
    std::string bin("a\0b\xff", 4);
    EXPECT_TRUE(h.Set("", "", kEntries, kValue));
    EXPECT_TRUE(h.Set(bin, bin + bin, kEntries, kValue));
    EXPECT_EQ(h.Get(""), "");
    EXPECT_EQ(h.Get(bin), bin + bin);
    EXPECT_FALSE(h.Get(std::string("a\0b", 3)).has_value());
    EXPECT_TRUE(h.Delete(""));
    EXPECT_EQ(h.size(), 1u);
  }
}

TEST(HashValueTest, ConvertsPastEntryLimitNeverBack) {
  HashValue h;
  EXPECT_TRUE(h.Set("f1", "v", 3, kValue));
  EXPECT_TRUE(h.Set("f2", "v", 3, kValue));
  EXPECT_TRUE(h.Set("f3", "v", 3, kValue));
  EXPECT_FALSE(h.Set("f3", "w", 3, kValue));
  EXPECT_STREQ(h.EncodingName(), "listpack");
  EXPECT_TRUE(h.Set("f4", "v", 3, kValue));
  EXPECT_STREQ(h.EncodingName(), "hashtable");
  EXPECT_TRUE(h.Delete("f4"));
  EXPECT_TRUE(h.Delete("f3"));
  EXPECT_STREQ(h.EncodingName(), "hashtable");
  EXPECT_THAT(Contents(h), UnorderedElementsAreArray(Pairs{{"f1", "v"}, {"f2", "v"}}));

  HashValue zero;  // hash-max-listpack-entries 0: the first field converts
  zero.Set("a", "1", 0, kValue);
  EXPECT_STREQ(zero.EncodingName(), "hashtable");

  // A lowered limit converts on the next write, an update included.
  HashValue lowered;
  lowered.Set("a", "1", 8, kValue);
  lowered.Set("b", "2", 8, kValue);
  EXPECT_FALSE(lowered.Set("a", "3", 1, kValue));
  EXPECT_STREQ(lowered.EncodingName(), "hashtable");
}

TEST(HashValueTest, ConvertsOnLongStrings) {
  HashValue h;
  h.Set("f", std::string(kValue, 'x'), kEntries, kValue);  // at the limit: still listpack
  EXPECT_STREQ(h.EncodingName(), "listpack");
  h.Set("g", std::string(kValue + 1, 'x'), kEntries, kValue);
  EXPECT_STREQ(h.EncodingName(), "hashtable");
  EXPECT_EQ(h.Get("f"), std::string(kValue, 'x'));

  HashValue by_field;
  by_field.Set(std::string(kValue + 1, 'k'), "1", kEntries, kValue);
  EXPECT_STREQ(by_field.EncodingName(), "hashtable");

  // PrepareWrite looks at every string about to be written.
  HashValue prepared;
  prepared.Set("a", "1", kEntries, kValue);
  std::vector<std::string_view> ok = {"x", std::string_view("yyyy")};
  prepared.PrepareWrite(ok, 4);
  EXPECT_STREQ(prepared.EncodingName(), "listpack");
  std::vector<std::string_view> long_one = {"x", "yyyyy"};
  prepared.PrepareWrite(long_one, 4);
  EXPECT_STREQ(prepared.EncodingName(), "hashtable");

  HashValue zero;  // hash-max-listpack-value 0 still takes empty strings
  zero.Set("", "", kEntries, 0);
  EXPECT_STREQ(zero.EncodingName(), "listpack");
  zero.Set("a", "", kEntries, 0);
  EXPECT_STREQ(zero.EncodingName(), "hashtable");
}

TEST(HashValueTest, LongStringsInAListpack) {
  // Large thresholds keep long values in the listpack (multi-byte length prefixes).
  HashValue h;
  std::string big(100000, 'v');
  h.Set("a", big, kEntries, 1 << 20);
  h.Set(std::string(300, 'f'), "x", kEntries, 1 << 20);
  h.Set("a", "short", kEntries, 1 << 20);
  h.Set("b", big, kEntries, 1 << 20);
  EXPECT_STREQ(h.EncodingName(), "listpack");
  EXPECT_THAT(Contents(h),
              ElementsAre(Pair("a", "short"), Pair(std::string(300, 'f'), "x"), Pair("b", big)));
}

TEST(HashValueTest, CloneIsDeep) {
  for (bool table : {false, true}) {
    HashValue h;
    for (int i = 0; i < 20; ++i)
      h.Set("f" + std::to_string(i), std::to_string(i), kEntries, kValue);
    if (table) h.ConvertToHashtable();
    std::unique_ptr<Collection> copy = h.Clone();
    auto* c = static_cast<HashValue*>(copy.get());
    EXPECT_STREQ(c->EncodingName(), h.EncodingName());
    EXPECT_THAT(Contents(*c), UnorderedElementsAreArray(Contents(h)));
    if (!table) {
      EXPECT_EQ(Contents(*c), Contents(h));  // same listpack order
    }
    c->Set("f1", "changed", kEntries, kValue);
    c->Delete("f2");
    EXPECT_EQ(h.Get("f1"), "1");
    EXPECT_EQ(h.Get("f2"), "2");
    EXPECT_EQ(h.size(), 20u);
  }
}

// Collects a full scan from cursor 0.
std::multiset<std::string> FullScan(const HashValue& h, int* calls = nullptr) {
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  int n = 0;
  do {
    cursor = h.Scan(cursor, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    ++n;
  } while (cursor != 0 && n < 1000000);
  if (calls != nullptr) *calls = n;
  return seen;
}

TEST(HashValueTest, ListpackScanReturnsEverythingAtOnce) {
  HashValue h;
  for (int i = 0; i < 10; ++i) h.Set("f" + std::to_string(i), "v", kEntries, kValue);
  int calls = 0;
  EXPECT_EQ(FullScan(h, &calls).size(), 10u);
  EXPECT_EQ(calls, 1);
  // Any cursor on a listpack returns everything and 0.
  size_t n = 0;
  EXPECT_EQ(h.Scan(12345, [&](std::string_view, std::string_view) { ++n; }), 0u);
  EXPECT_EQ(n, 10u);
}

TEST(HashValueTest, HashtableScanCoversEveryFieldOnce) {
  HashValue h;
  h.ConvertToHashtable();
  for (int i = 0; i < 1000; ++i) h.Set("f" + std::to_string(i), "v", kEntries, kValue);
  std::multiset<std::string> seen = FullScan(h);
  std::set<std::string> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), 1000u);
  EXPECT_EQ(seen.size(), 1000u);  // no resize during the scan: no duplicates
}

TEST(HashValueTest, ScanAcrossGrowthAndShrinkKeepsStableFields) {
  for (int round = 0; round < 10; ++round) {
    bool grow = round % 2 == 0;
    HashValue h;
    h.ConvertToHashtable();
    std::set<std::string> stable;
    for (int i = 0; i < 200; ++i) {
      std::string f = "s" + std::to_string(round) + "-" + std::to_string(i);
      h.Set(f, "v", kEntries, kValue);
      stable.insert(f);
    }
    int doomed = grow ? 0 : 3000;
    for (int i = 0; i < doomed; ++i) h.Set("d" + std::to_string(i), "x", kEntries, kValue);
    int added = 0;
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int calls = 0;
    do {
      cursor = h.Scan(cursor, [&](std::string_view f, std::string_view) { seen.emplace(f); });
      // Between calls the table grows (and rehashes) or shrinks (and rehashes).
      if (grow) {
        for (int j = 0; j < 2; ++j) h.Set("t" + std::to_string(added++), "x", kEntries, kValue);
      } else {
        for (int j = 0; j < 30 && doomed > 0; ++j) h.Delete("d" + std::to_string(--doomed));
      }
    } while (cursor != 0 && ++calls < 100000);
    EXPECT_EQ(cursor, 0u);
    for (const std::string& f : stable) EXPECT_TRUE(seen.count(f)) << f << " round " << round;
  }
}

TEST(HashValueTest, RandomPicksExistingEntries) {
  for (bool table : {false, true}) {
    HashValue h;
    if (table) h.ConvertToHashtable();
    for (int i = 0; i < 8; ++i)
      h.Set("f" + std::to_string(i), "v" + std::to_string(i), kEntries, kValue);
    std::mt19937_64 rng(5);
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
      auto [f, v] = h.Random(rng());
      ASSERT_EQ(h.Get(f), v);
      seen.emplace(f);
    }
    EXPECT_EQ(seen.size(), 8u);
  }
}

// Every entry of a table is about as likely as any other, whether or not it shares a bucket
// (a chi-square statistic, bounded far in the tail for n-1 degrees of freedom; the old
// bucket-then-chain pick scored in the hundreds).
// Entry counts from 10 to 40 put entries in chains of one and of several.
TEST(HashValueTest, RandomIsUniformOverTableEntries) {
  for (int n : {10, 17, 40}) {
    HashValue h;
    h.ConvertToHashtable();
    for (int i = 0; i < n; ++i) h.Set("f" + std::to_string(i), "v", kEntries, kValue);
    std::mt19937_64 rng(7);
    std::map<std::string, int> hits;
    const int draws = 200 * n;
    for (int i = 0; i < draws; ++i) ++hits[std::string(h.Random(rng()).first)];
    ASSERT_EQ(hits.size(), static_cast<size_t>(n));
    double expected = 200.0;
    double chi = 0;
    for (const auto& [f, c] : hits) chi += (c - expected) * (c - expected) / expected;
    EXPECT_LT(chi, 2.0 * n + 20) << "n=" << n;
  }
}

// Reference model: pairs in insertion order (the listpack order).
struct Model {
  Pairs pairs;
  std::optional<std::string> Get(const std::string& f) const {
    for (const auto& [k, v] : pairs) {
      if (k == f) return v;
    }
    return std::nullopt;
  }
  bool Set(const std::string& f, const std::string& v) {
    for (auto& [k, val] : pairs) {
      if (k == f) {
        val = v;
        return false;
      }
    }
    pairs.emplace_back(f, v);
    return true;
  }
  bool Delete(const std::string& f) {
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (pairs[i].first == f) {
        pairs.erase(pairs.begin() + i);
        return true;
      }
    }
    return false;
  }
};

TEST(HashValueTest, RandomizedAgainstModel) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    size_t max_entries = std::vector<size_t>{0, 1, 4, 16, 128, 512}[seed % 6];
    size_t max_value = std::vector<size_t>{0, 3, 8, 64}[seed % 4];
    HashValue h;
    Model model;
    bool converted = false;
    int fields = 8 + static_cast<int>(rng() % 300);
    auto random_string = [&](int max_len) {
      std::string s;
      int len = static_cast<int>(rng() % (max_len + 1));
      for (int i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + rng() % 4));
      return s;
    };
    for (int step = 0; step < 3000; ++step) {
      std::string f = "f" + std::to_string(rng() % fields);
      int op = static_cast<int>(rng() % 10);
      if (op < 5) {
        std::string v = random_string(rng() % 20 == 0 ? 12 : 4);
        bool expect_convert = h.is_listpack() && (f.size() > max_value || v.size() > max_value);
        bool is_new = model.Set(f, v);
        if (h.is_listpack() && model.pairs.size() > max_entries) expect_convert = true;
        ASSERT_EQ(h.Set(f, v, max_entries, max_value), is_new);
        if (expect_convert) converted = true;
      } else if (op < 8) {
        ASSERT_EQ(h.Delete(f), model.Delete(f));
      } else {
        ASSERT_EQ(h.Get(f), model.Get(f));
      }
      ASSERT_EQ(h.size(), model.pairs.size());
      ASSERT_EQ(h.is_listpack(), !converted) << "seed " << seed << " step " << step;
      if (step % 100 == 0) {
        if (h.is_listpack()) {
          ASSERT_EQ(Contents(h), model.pairs);
        } else {
          ASSERT_THAT(Contents(h), UnorderedElementsAreArray(model.pairs));
          std::multiset<std::string> seen = FullScan(h);
          ASSERT_EQ(seen.size(), model.pairs.size());
        }
      }
    }
  }
}

}  // namespace
}  // namespace shardis
