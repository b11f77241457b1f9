// Tests for SetValue (storage/set_value.h): the intset's widths and order, the hashtable's
// dense array and cursor scan, the conversions at set-max-intset-entries and on non-integer
// members (never back), and seeded random operations checked against std::set.
#include "storage/set_value.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace shardis {
namespace {

std::vector<int64_t> IntsOf(const IntSet& s) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < s.size(); ++i) out.push_back(s.At(i));
  return out;
}

TEST(IntSetTest, WidthWidensAndNeverNarrows) {
  IntSet s;
  EXPECT_EQ(s.width(), 2);
  EXPECT_TRUE(s.Insert(5));
  EXPECT_TRUE(s.Insert(-3));
  EXPECT_FALSE(s.Insert(5));
  EXPECT_EQ(s.width(), 2);
  EXPECT_TRUE(s.Insert(32767));
  EXPECT_TRUE(s.Insert(-32768));
  EXPECT_EQ(s.width(), 2);
  EXPECT_TRUE(s.Insert(32768));
  EXPECT_EQ(s.width(), 4);
  EXPECT_TRUE(s.Insert(-2147483648LL));
  EXPECT_EQ(s.width(), 4);
  EXPECT_TRUE(s.Insert(-2147483649LL));
  EXPECT_EQ(s.width(), 8);
  EXPECT_TRUE(s.Insert(INT64_MAX));
  EXPECT_TRUE(s.Insert(INT64_MIN));
  EXPECT_EQ(IntsOf(s), (std::vector<int64_t>{INT64_MIN, -2147483649LL, -2147483648LL, -32768, -3, 5,
                                             32767, 32768, INT64_MAX}));
  EXPECT_TRUE(s.Erase(INT64_MAX));
  EXPECT_TRUE(s.Erase(INT64_MIN));
  EXPECT_TRUE(s.Erase(-2147483649LL));
  EXPECT_EQ(s.width(), 8);  // as Redis: no downgrade
  EXPECT_FALSE(s.Erase(INT64_MAX));
  EXPECT_TRUE(s.Contains(32768));
  EXPECT_FALSE(s.Contains(4));
}

TEST(IntSetTest, ValuesWiderThanTheSetAreAbsent) {
  IntSet s;
  s.Insert(1);
  EXPECT_FALSE(s.Contains(1LL << 40));
  EXPECT_FALSE(s.Erase(1LL << 40));
  EXPECT_FALSE(s.Contains(65537));  // would alias 1 if truncated to 16 bits
  EXPECT_EQ(s.width(), 2);
}

TEST(IntSetTest, RandomAgainstStdSet) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    IntSet s;
    std::set<int64_t> model;
    int bits = 8 + round * 3;  // values grow wider over the rounds
    for (int i = 0; i < 3000; ++i) {
      int64_t v = static_cast<int64_t>(rng() % (1ULL << std::min(bits, 62))) -
                  static_cast<int64_t>(1ULL << (std::min(bits, 62) - 1));
      if (rng() % 3 == 0) {
        ASSERT_EQ(s.Erase(v), model.erase(v) == 1);
      } else {
        ASSERT_EQ(s.Insert(v), model.insert(v).second);
      }
      if (i % 97 == 0 && !model.empty()) {
        size_t idx = rng() % s.size();
        int64_t at = s.At(idx);
        s.EraseAt(idx);
        model.erase(at);
      }
    }
    ASSERT_EQ(IntsOf(s), std::vector<int64_t>(model.begin(), model.end()));
    for (int64_t v : model) ASSERT_TRUE(s.Contains(v));
  }
}

TEST(StringHashSetTest, RandomAgainstStdSetThroughGrowsAndShrinks) {
  std::mt19937_64 rng(11);
  StringHashSet s;
  std::set<std::string> model;
  for (int phase = 0; phase < 6; ++phase) {
    bool growing = phase % 2 == 0;
    for (int i = 0; i < 5000; ++i) {
      std::string m = "m" + std::to_string(rng() % 4000);
      bool insert = growing ? rng() % 4 != 0 : rng() % 4 == 0;
      if (insert) {
        ASSERT_EQ(s.Insert(m), model.insert(m).second);
      } else if (rng() % 2 == 0 && !model.empty()) {
        size_t idx = rng() % s.size();
        std::string at = s.At(idx);
        s.EraseAt(idx);
        ASSERT_EQ(model.erase(at), 1u);
      } else {
        ASSERT_EQ(s.Erase(m), model.erase(m) == 1);
      }
    }
    ASSERT_EQ(s.size(), model.size());
    std::set<std::string> dense;
    for (size_t i = 0; i < s.size(); ++i) dense.insert(s.At(i));
    ASSERT_EQ(dense, model);
    for (const std::string& m : model) ASSERT_TRUE(s.Contains(m));
    // Load factor at most 1 when growing; shrinks keep it above 10% (or the minimum size).
    EXPECT_LE(s.size(), s.bucket_count());
    EXPECT_TRUE(s.bucket_count() <= 4 || s.size() * 10 >= s.bucket_count())
        << s.size() << " in " << s.bucket_count();
  }
  while (!model.empty()) {
    ASSERT_TRUE(s.Erase(*model.begin()));
    model.erase(model.begin());
  }
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.Scan(0, [](const std::string&) {}), 0u);
}

TEST(StringHashSetTest, ScanReturnsEveryStableMemberAcrossResizes) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 30; ++round) {
    StringHashSet s;
    std::set<std::string> stable;
    int n = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < n; ++i) {
      std::string m = "s" + std::to_string(i);
      s.Insert(m);
      stable.insert(m);
    }
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int churn = 0;
    int steps = 0;
    do {
      cursor = s.Scan(cursor, [&](const std::string& m) { seen.insert(m); });
      // Grow or shrink the table between steps with members that come and go.
      int k = static_cast<int>(rng() % 64);
      if (rng() % 2 == 0) {
        for (int i = 0; i < k; ++i) s.Insert("t" + std::to_string(churn++));
      } else {
        for (int i = 0; i < k * 2 && churn > 0; ++i) s.Erase("t" + std::to_string(--churn));
      }
      ASSERT_LT(++steps, 100000);
    } while (cursor != 0);
    for (const std::string& m : stable) ASSERT_TRUE(seen.count(m)) << m << " round " << round;
  }
}

TEST(SetValueTest, CreateForPicksRedisEncoding) {
  EXPECT_EQ(SetValue::CreateFor("12")->encoding(), SetValue::Encoding::kIntset);
  EXPECT_EQ(SetValue::CreateFor("-9223372036854775808")->encoding(), SetValue::Encoding::kIntset);
  for (const char* s : {"a", "01", "+1", "-0", " 1", "1.0", "", "9223372036854775808"}) {
    EXPECT_EQ(SetValue::CreateFor(s)->encoding(), SetValue::Encoding::kHashtable) << s;
  }
  EXPECT_STREQ(SetValue().EncodingName(), "intset");
  EXPECT_STREQ(SetValue::CreateFor("x")->EncodingName(), "hashtable");
}

TEST(SetValueTest, IntsetConvertsAboveThresholdAndNeverBack) {
  SetValue s;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(s.Add(std::to_string(i * 7), 4));
  EXPECT_TRUE(s.is_intset());
  EXPECT_FALSE(s.Add("7", 4));  // present: no conversion
  EXPECT_TRUE(s.is_intset());
  EXPECT_TRUE(s.Add("100", 4));  // the fifth member exceeds 4
  EXPECT_FALSE(s.is_intset());
  EXPECT_EQ(s.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(s.Remove(std::to_string(i * 7)));
  EXPECT_FALSE(s.is_intset());
  EXPECT_TRUE(s.Contains("100"));
  EXPECT_STREQ(s.EncodingName(), "hashtable");
}

TEST(SetValueTest, NonIntegerMemberConverts) {
  SetValue s;
  s.Add("3", 512);
  s.Add("1", 512);
  EXPECT_TRUE(s.is_intset());
  EXPECT_FALSE(s.Contains("01"));
  EXPECT_FALSE(s.Contains("+1"));
  EXPECT_FALSE(s.Remove("+1"));
  EXPECT_TRUE(s.Add("01", 512));
  EXPECT_FALSE(s.is_intset());
  EXPECT_TRUE(s.Contains("1"));
  EXPECT_TRUE(s.Contains("01"));
  EXPECT_TRUE(s.ContainsInt(3));
  EXPECT_FALSE(s.ContainsInt(2));
  EXPECT_TRUE(s.Remove("01"));
  EXPECT_FALSE(s.is_intset());
}

TEST(SetValueTest, ZeroThresholdNeverKeepsAnIntset) {
  SetValue s;
  EXPECT_TRUE(s.Add("1", 0));
  EXPECT_FALSE(s.is_intset());
}

TEST(SetValueTest, IntsetIteratesAscending) {
  SetValue s;
  for (const char* m : {"5", "-10", "300000", "0", "-9223372036854775808", "42"}) s.Add(m, 512);
  EXPECT_EQ(s.Members(),
            (std::vector<std::string>{"-9223372036854775808", "-10", "0", "5", "42", "300000"}));
  std::vector<std::string> scanned;
  EXPECT_EQ(s.Scan(12345, [&](std::string_view m) { scanned.emplace_back(m); }), 0u);
  EXPECT_EQ(scanned, s.Members());
  EXPECT_EQ(s.MemberAt(0), "-9223372036854775808");
  EXPECT_EQ(s.RemoveAt(1), "-10");
  EXPECT_EQ(s.size(), 5u);
}

TEST(SetValueTest, CloneIsDeep) {
  SetValue s;
  s.Add("a", 512);
  s.Add("b", 512);
  std::unique_ptr<Collection> c = s.Clone();
  auto* copy = static_cast<SetValue*>(c.get());
  copy->Add("c", 512);
  s.Remove("a");
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(copy->size(), 3u);
  EXPECT_TRUE(copy->Contains("a"));
  Value v = Value::OfCollection(ValueType::kSet, std::make_unique<SetValue>(s));
  Value w = v;  // deep copy through CollectionPtr
  w.As<SetValue>()->Add("z", 512);
  EXPECT_EQ(v.As<SetValue>()->size(), 1u);
  EXPECT_EQ(w.As<SetValue>()->size(), 2u);
  EXPECT_STREQ(EncodingName(w), "hashtable");
}

// Mixed integer and string members under several thresholds, checked against std::set, with the
// encoding rule checked after every step: intset exactly while no conversion has happened.
TEST(SetValueTest, RandomAgainstStdSet) {
  std::mt19937_64 rng(2024);
  for (size_t max : {0u, 1u, 16u, 128u, 512u}) {
    for (int round = 0; round < 8; ++round) {
      SetValue s;
      std::set<std::string> model;
      bool converted = false;
      double string_share = round % 4 == 0 ? 0.0 : 0.02 * round;
      for (int i = 0; i < 2500; ++i) {
        std::string m;
        double pick = std::uniform_real_distribution<double>(0, 1)(rng);
        if (pick < string_share) {
          m = "s" + std::to_string(rng() % 50);
        } else if (pick < string_share + 0.05) {
          m = std::to_string(static_cast<int64_t>(rng()));  // any int64, often 64-bit wide
        } else {
          m = std::to_string(static_cast<int64_t>(rng() % 400) - 200);
        }
        int op = static_cast<int>(rng() % 10);
        if (op < 6) {
          bool was_intset = s.is_intset();
          ASSERT_EQ(s.Add(m, max), model.insert(m).second);
          if (was_intset && !s.is_intset()) converted = true;
        } else if (op < 9) {
          ASSERT_EQ(s.Remove(m), model.erase(m) == 1);
        } else if (!model.empty()) {
          std::string out = s.RemoveAt(rng() % s.size());
          ASSERT_EQ(model.erase(out), 1u) << out;
        }
        ASSERT_EQ(s.size(), model.size());
        ASSERT_EQ(s.is_intset(), !converted);
        if (s.is_intset()) {
          ASSERT_LE(s.size(), max);
        }
      }
      std::vector<std::string> members = s.Members();
      ASSERT_EQ(std::set<std::string>(members.begin(), members.end()), model);
      ASSERT_EQ(members.size(), model.size());
      if (s.is_intset()) {
        ASSERT_TRUE(std::is_sorted(members.begin(), members.end(),
                                   [](const std::string& a, const std::string& b) {
                                     return std::stoll(a) < std::stoll(b);
                                   }));
      }
      for (const std::string& m : model) ASSERT_TRUE(s.Contains(m));
      std::set<std::string> scanned;
      uint64_t cursor = 0;
      do {
        cursor = s.Scan(cursor, [&](std::string_view m) { scanned.emplace(m); });
      } while (cursor != 0);
      ASSERT_EQ(scanned, model);
    }
  }
}

}  // namespace
}  // namespace shardis
