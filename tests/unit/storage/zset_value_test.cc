// Unit tests of ZSetValue (storage/zset_value.h): the listpack -> skiplist conversion at the
// thresholds (and never back), ZADD's flag semantics, rank / score / lex queries, pops and range
// removals, checked against a reference std::set<(score, member)> under randomized operations,
// plus ZSCAN's cursor guarantee across resizes. Single-threaded, no server.
#include "storage/zset_value.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace shardis {
namespace {

using Pair = std::pair<double, std::string>;

std::vector<Pair> Contents(const ZSetValue& z) {
  std::vector<Pair> out;
  z.ForEach([&](std::string_view m, double s) { out.emplace_back(s, std::string(m)); });
  return out;
}

double Score(const ZSetValue& z, const std::string& m) {
  double s = std::numeric_limits<double>::quiet_NaN();
  z.Score(m, &s);
  return s;
}

ZAddResult Add(ZSetValue& z, double score, const std::string& m, const ZSetLimits& limits,
               int flags = 0) {
  double out = 0;
  return z.Add(score, m, flags, limits, &out);
}

TEST(ZSetValueTest, StartsAsListpackAndConvertsAtEntryLimit) {
  ZSetLimits limits{4, 8};
  ZSetValue z;
  EXPECT_STREQ(z.EncodingName(), "listpack");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(Add(z, i, "m" + std::to_string(i), limits), ZAddResult::kAdded);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kListpack);
  // Updating an existing member never converts.
  EXPECT_EQ(Add(z, 10, "m0", limits), ZAddResult::kUpdated);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kListpack);
  EXPECT_EQ(Add(z, 5, "m5", limits), ZAddResult::kAdded);
  EXPECT_STREQ(z.EncodingName(), "skiplist");
  EXPECT_EQ(z.size(), 5u);
  // Never back, even when emptied to one element.
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(z.Remove("m" + std::to_string(i)));
  EXPECT_EQ(z.size(), 2u);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kSkiplist);
  EXPECT_EQ(Contents(z), (std::vector<Pair>{{5, "m5"}, {10, "m0"}}));
}

TEST(ZSetValueTest, ConvertsOnLongMember) {
  ZSetLimits limits{128, 8};
  ZSetValue z;
  Add(z, 1, "12345678", limits);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kListpack);
  // An existing long member cannot happen in a listpack; XX of a new long member is a no-op and
  // does not convert.
  EXPECT_EQ(Add(z, 1, "123456789", limits, kZAddXx), ZAddResult::kNop);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kListpack);
  EXPECT_EQ(Add(z, 2, "123456789", limits), ZAddResult::kAdded);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kSkiplist);
  EXPECT_TRUE(z.Remove("123456789"));
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kSkiplist);
}

TEST(ZSetValueTest, ZeroEntryLimitIsAlwaysSkiplist) {
  ZSetLimits limits{0, 64};
  ZSetValue z;
  Add(z, 1, "a", limits);
  EXPECT_EQ(z.encoding(), ZSetValue::Encoding::kSkiplist);
}

TEST(ZSetValueTest, FromSortedPicksEncodingFromFinalSize) {
  ZSetLimits limits{3, 4};
  auto small = ZSetValue::FromSorted({{"a", 1}, {"b", 2}, {"c", 3}}, limits);
  EXPECT_STREQ(small->EncodingName(), "listpack");
  auto many = ZSetValue::FromSorted({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}, limits);
  EXPECT_STREQ(many->EncodingName(), "skiplist");
  auto wide = ZSetValue::FromSorted({{"abcde", 1}}, limits);
  EXPECT_STREQ(wide->EncodingName(), "skiplist");
  EXPECT_EQ(Contents(*many), (std::vector<Pair>{{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}}));
}

TEST(ZSetValueTest, OrderIsScoreThenUnsignedBytes) {
  for (size_t entries : {128u, 0u}) {
    ZSetLimits limits{entries, 64};
    ZSetValue z;
    Add(z, 1, "b", limits);
    Add(z, 1, "a", limits);
    Add(z, 1, std::string("\xff", 1), limits);
    Add(z, 1, "", limits);
    Add(z, 0, "z", limits);
    Add(z, -std::numeric_limits<double>::infinity(), "neg", limits);
    Add(z, std::numeric_limits<double>::infinity(), "pos", limits);
    std::vector<Pair> want = {{-std::numeric_limits<double>::infinity(), "neg"},
                              {0, "z"},
                              {1, ""},
                              {1, "a"},
                              {1, "b"},
                              {1, "\xff"},
                              {std::numeric_limits<double>::infinity(), "pos"}};
    EXPECT_EQ(Contents(z), want);
  }
}

TEST(ZSetValueTest, AddFlags) {
  ZSetLimits limits;
  ZSetValue z;
  double out = 0;
  EXPECT_EQ(z.Add(5, "a", 0, limits, &out), ZAddResult::kAdded);
  EXPECT_EQ(z.Add(6, "a", kZAddNx, limits, &out), ZAddResult::kNop);
  EXPECT_EQ(z.Add(6, "b", kZAddXx, limits, &out), ZAddResult::kNop);
  EXPECT_EQ(z.Add(4, "a", kZAddGt, limits, &out), ZAddResult::kNop);
  EXPECT_EQ(z.Add(5, "a", kZAddGt, limits, &out), ZAddResult::kNop);
  EXPECT_EQ(z.Add(7, "a", kZAddGt, limits, &out), ZAddResult::kUpdated);
  EXPECT_EQ(out, 7);
  EXPECT_EQ(z.Add(8, "a", kZAddLt, limits, &out), ZAddResult::kNop);
  EXPECT_EQ(z.Add(2, "a", kZAddLt | kZAddIncr, limits, &out), ZAddResult::kNop);
  EXPECT_EQ(z.Add(-2, "a", kZAddLt | kZAddIncr, limits, &out), ZAddResult::kUpdated);
  EXPECT_EQ(out, 5);
  EXPECT_EQ(z.Add(5, "a", 0, limits, &out), ZAddResult::kUnchanged);
  EXPECT_EQ(z.Add(1, "c", kZAddGt, limits, &out), ZAddResult::kAdded);  // GT still adds
  EXPECT_EQ(z.Add(std::nan(""), "a", 0, limits, &out), ZAddResult::kNaN);
  EXPECT_EQ(z.Add(std::numeric_limits<double>::infinity(), "a", kZAddIncr, limits, &out),
            ZAddResult::kUpdated);
  EXPECT_EQ(z.Add(-std::numeric_limits<double>::infinity(), "a", kZAddIncr, limits, &out),
            ZAddResult::kNaN);
  EXPECT_TRUE(std::isinf(Score(z, "a")));
  // -0 and 0 are the same score: no update.
  EXPECT_EQ(z.Add(0.0, "z", 0, limits, &out), ZAddResult::kAdded);
  EXPECT_EQ(z.Add(-0.0, "z", 0, limits, &out), ZAddResult::kUnchanged);
  EXPECT_FALSE(std::signbit(Score(z, "z")));
}

TEST(ZSetValueTest, LexRangeHelpers) {
  using K = ZLexBound::Kind;
  ZLexBound neg{K::kNegInf, true, ""};
  ZLexBound pos{K::kPosInf, true, ""};
  ZLexBound incl_b{K::kValue, false, "b"};
  ZLexBound excl_b{K::kValue, true, "b"};
  EXPECT_TRUE(ZLexGteMin("", neg));
  EXPECT_FALSE(ZLexGteMin("zzz", pos));
  EXPECT_TRUE(ZLexGteMin("b", incl_b));
  EXPECT_FALSE(ZLexGteMin("b", excl_b));
  EXPECT_TRUE(ZLexLteMax("b", incl_b));
  EXPECT_FALSE(ZLexLteMax("b", excl_b));
  EXPECT_FALSE(ZLexLteMax("", neg));
  EXPECT_FALSE(ZLexRangeEmpty({neg, pos}));
  EXPECT_TRUE(ZLexRangeEmpty({pos, neg}));
  EXPECT_TRUE(ZLexRangeEmpty({neg, neg}));
  EXPECT_TRUE(ZLexRangeEmpty({pos, pos}));
  EXPECT_FALSE(ZLexRangeEmpty({incl_b, incl_b}));
  EXPECT_TRUE(ZLexRangeEmpty({incl_b, excl_b}));
  EXPECT_TRUE(ZLexRangeEmpty({ZLexBound{K::kValue, false, "c"}, incl_b}));
}

// Reference model: (score, member) ordered set plus member -> score.
class Model {
 public:
  void Set(const std::string& m, double s) {
    Erase(m);
    scores_[m] = s;
    order_.insert({s, m});
  }
  bool Erase(const std::string& m) {
    auto it = scores_.find(m);
    if (it == scores_.end()) return false;
    order_.erase({it->second, m});
    scores_.erase(it);
    return true;
  }
  bool Has(const std::string& m) const { return scores_.count(m) != 0; }
  double ScoreOf(const std::string& m) const { return scores_.at(m); }
  size_t size() const { return order_.size(); }
  std::vector<Pair> Items() const { return {order_.begin(), order_.end()}; }

 private:
  std::map<std::string, double> scores_;
  std::set<Pair> order_;
};

// Drives random operations on a ZSetValue and the model, comparing after each one.
void RunRandomized(uint64_t seed, ZSetLimits limits, int ops, int members, bool equal_scores) {
  std::mt19937_64 rng(seed);
  auto rand = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto member = [&] {
    std::string m = "m" + std::to_string(rand(members));
    if (rand(20) == 0) m += std::string(rand(20), 'x');  // sometimes past the value limit
    return m;
  };
  auto score = [&]() -> double {
    if (equal_scores) return 0;
    switch (rand(10)) {
      case 0:
        return std::numeric_limits<double>::infinity();
      case 1:
        return -std::numeric_limits<double>::infinity();
      case 2:
        return rand(4) * 0.5;
      default:
        return rand(40) - 20;
    }
  };
  ZSetValue z;
  Model model;
  bool converted = false;
  for (int op = 0; op < ops; ++op) {
    int kind = rand(100);
    if (kind < 45) {
      std::string m = member();
      double s = score();
      int flags = 0;
      if (rand(4) == 0) flags |= (rand(2) ? kZAddGt : kZAddLt);
      if (rand(6) == 0) flags |= kZAddXx;
      if (rand(6) == 0 && !(flags & (kZAddGt | kZAddLt))) flags = kZAddNx;
      if (rand(5) == 0 && !equal_scores) flags |= kZAddIncr;
      double out = 0;
      ZAddResult r = z.Add(s, m, flags, limits, &out);
      bool exists = model.Has(m);
      if (!exists) {
        if (flags & kZAddXx) {
          ASSERT_EQ(r, ZAddResult::kNop);
        } else {
          ASSERT_EQ(r, ZAddResult::kAdded);
          model.Set(m, s);
        }
      } else if (flags & kZAddNx) {
        ASSERT_EQ(r, ZAddResult::kNop);
      } else {
        double cur = model.ScoreOf(m);
        double next = (flags & kZAddIncr) ? cur + s : s;
        if (std::isnan(next)) {
          ASSERT_EQ(r, ZAddResult::kNaN);
        } else if (((flags & kZAddLt) && next >= cur) || ((flags & kZAddGt) && next <= cur)) {
          ASSERT_EQ(r, ZAddResult::kNop);
        } else if (next == cur) {
          ASSERT_EQ(r, ZAddResult::kUnchanged);
        } else {
          ASSERT_EQ(r, ZAddResult::kUpdated);
          ASSERT_EQ(out, next);
          model.Set(m, next);
        }
      }
    } else if (kind < 60) {
      std::string m = member();
      ASSERT_EQ(z.Remove(m), model.Erase(m));
    } else if (kind < 65) {
      size_t count = rand(4);
      bool from_max = rand(2);
      std::vector<ZEntry> popped = z.Pop(count, from_max);
      std::vector<Pair> items = model.Items();
      if (from_max) std::reverse(items.begin(), items.end());
      ASSERT_EQ(popped.size(), std::min(count, items.size()));
      for (size_t i = 0; i < popped.size(); ++i) {
        ASSERT_EQ(popped[i].member, items[i].second);
        ASSERT_EQ(popped[i].score, items[i].first);
        model.Erase(items[i].second);
      }
    } else if (kind < 68) {
      size_t n = model.size();
      size_t b = n == 0 ? 0 : rand(static_cast<int>(n));
      size_t e = b + rand(4);
      std::vector<Pair> items = model.Items();
      size_t removed = z.RemoveRanks({b, e});
      ASSERT_EQ(removed, n == 0 ? 0 : std::min(e, n) - b);
      for (size_t i = b; i < std::min(e, n); ++i) model.Erase(items[i].second);
    } else if (kind < 80) {
      ZScoreRange range{score(), score(), rand(2) == 0, rand(2) == 0};
      if (range.min > range.max && rand(2)) std::swap(range.min, range.max);
      ZRankSpan span = z.ScoreSpan(range);
      std::vector<Pair> items = model.Items();
      size_t want_begin = items.size(), want_count = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        double s = items[i].first;
        bool in = (range.minex ? s > range.min : s >= range.min) &&
                  (range.maxex ? s < range.max : s <= range.max);
        if (in) {
          want_begin = std::min(want_begin, i);
          ++want_count;
        }
      }
      ASSERT_EQ(span.size(), want_count);
      if (want_count > 0) {
        ASSERT_EQ(span.begin, want_begin);
      }
    } else if (kind < 88 && equal_scores) {
      using K = ZLexBound::Kind;
      auto bound = [&] {
        int r = rand(8);
        if (r == 0) return ZLexBound{K::kNegInf, true, ""};
        if (r == 1) return ZLexBound{K::kPosInf, true, ""};
        return ZLexBound{K::kValue, rand(2) == 0, member()};
      };
      ZLexRange range{bound(), bound()};
      std::vector<Pair> items = model.Items();
      size_t want_begin = items.size(), want_count = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (ZLexGteMin(items[i].second, range.min) && ZLexLteMax(items[i].second, range.max)) {
          want_begin = std::min(want_begin, i);
          ++want_count;
        }
      }
      for (bool reverse : {false, true}) {
        ZRankSpan span = z.LexSpan(range, reverse);
        ASSERT_EQ(span.size(), want_count);
        if (want_count > 0) {
          ASSERT_EQ(span.begin, want_begin);
        }
      }
    } else {
      // Rank queries and random access.
      std::vector<Pair> items = model.Items();
      for (int k = 0; k < 3 && !items.empty(); ++k) {
        size_t i = rand(static_cast<int>(items.size()));
        size_t rank = 0;
        ASSERT_TRUE(z.Rank(items[i].second, &rank));
        ASSERT_EQ(rank, i);
        ZSetValue::Iterator it = z.At(i);
        ASSERT_TRUE(it.valid());
        ASSERT_EQ(it.member(), items[i].second);
        ASSERT_EQ(it.score(), items[i].first);
      }
      size_t rank = 0;
      ASSERT_FALSE(z.Rank("absent", &rank));
      ASSERT_FALSE(z.At(items.size()).valid());
    }
    ASSERT_EQ(z.size(), model.size());
    if (z.encoding() == ZSetValue::Encoding::kSkiplist) converted = true;
    if (converted) {
      ASSERT_EQ(z.encoding(), ZSetValue::Encoding::kSkiplist) << "went back";
    }
    if (op % 50 == 0) {
      ASSERT_EQ(Contents(z), model.Items()) << "seed " << seed << " op " << op;
      // Backward iteration matches too.
      std::vector<Pair> back;
      if (!z.empty()) {
        for (ZSetValue::Iterator it = z.At(z.size() - 1); it.valid(); it.Prev()) {
          back.emplace_back(it.score(), std::string(it.member()));
        }
      }
      std::vector<Pair> want = model.Items();
      std::reverse(want.begin(), want.end());
      ASSERT_EQ(back, want);
    }
  }
  ASSERT_EQ(Contents(z), model.Items());
  // A clone is equal and independent.
  std::unique_ptr<Collection> copy = z.Clone();
  auto* zc = static_cast<ZSetValue*>(copy.get());
  ASSERT_EQ(Contents(*zc), model.Items());
  ASSERT_EQ(zc->encoding(), z.encoding());
  Add(*zc, 1, "only-in-copy", limits);
  double s = 0;
  ASSERT_FALSE(z.Score("only-in-copy", &s));
}

TEST(ZSetValueTest, RandomizedAgainstReferenceSmallLimits) {
  for (uint64_t seed = 1; seed <= 6; ++seed) RunRandomized(seed, {16, 12}, 3000, 40, false);
}

TEST(ZSetValueTest, RandomizedAgainstReferenceSkiplist) {
  for (uint64_t seed = 7; seed <= 9; ++seed) RunRandomized(seed, {0, 0}, 4000, 300, false);
}

TEST(ZSetValueTest, RandomizedLexRangesBothEncodings) {
  RunRandomized(11, {128, 64}, 3000, 60, true);
  RunRandomized(12, {8, 64}, 3000, 60, true);
}

TEST(ZSetValueTest, ListpackLexScanFollowsRedisOnMixedScores) {
  // Members out of lexicographic order: Redis scans a listpack linearly, from the head for
  // ZRANGEBYLEX and from the tail for ZREVRANGEBYLEX.
  ZSetLimits limits;
  ZSetValue z;
  Add(z, 1, "b", limits);
  Add(z, 2, "a", limits);
  Add(z, 3, "c", limits);
  using K = ZLexBound::Kind;
  ZLexRange range{ZLexBound{K::kValue, false, "a"}, ZLexBound{K::kValue, false, "b"}};
  ZRankSpan fwd = z.LexSpan(range, false);
  EXPECT_EQ(fwd.begin, 0u);
  EXPECT_EQ(fwd.end, 2u);  // b, a; stops at c
  ZRankSpan rev = z.LexSpan(range, true);
  EXPECT_EQ(rev.begin, 0u);
  EXPECT_EQ(rev.end, 2u);  // from the tail: c > b skipped, then a, b
}

TEST(ZSetValueTest, LargeSkiplistRanks) {
  ZSetLimits limits{0, 0};
  ZSetValue z;
  const int n = 20000;
  for (int i = 0; i < n; ++i) Add(z, (i * 7919) % n, "m" + std::to_string(i), limits);
  ASSERT_EQ(z.size(), static_cast<size_t>(n));
  for (int r : {0, 1, 999, n / 2, n - 1}) {
    ZSetValue::Iterator it = z.At(r);
    ASSERT_TRUE(it.valid());
    EXPECT_EQ(it.score(), r);
    size_t rank = 0;
    ASSERT_TRUE(z.Rank(std::string(it.member()), &rank));
    EXPECT_EQ(rank, static_cast<size_t>(r));
  }
  EXPECT_EQ(z.CountBelow(100, false), 100u);
  EXPECT_EQ(z.CountBelow(100, true), 101u);
  EXPECT_EQ(z.RemoveRanks({10, 20}), 10u);
  EXPECT_EQ(z.At(10).score(), 20);
}

TEST(ZSetValueTest, ScanReturnsEveryStableMemberAcrossResizes) {
  ZSetLimits limits{0, 0};
  ZSetValue z;
  for (int i = 0; i < 500; ++i) Add(z, i, "stable" + std::to_string(i), limits);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int steps = 0;
  int churn = 0;
  std::vector<std::string> live;
  do {
    cursor = z.Scan(cursor, [&](std::string_view m, double) { seen.insert(std::string(m)); });
    // Grow and shrink the table between steps.
    if (steps % 3 == 0) {
      for (int k = 0; k < 200; ++k) {
        live.push_back("churn" + std::to_string(churn++));
        Add(z, 1, live.back(), limits);
      }
    } else {
      for (const std::string& m : live) z.Remove(m);
      live.clear();
    }
    ++steps;
  } while (cursor != 0 && steps < 100000);
  ASSERT_EQ(cursor, 0u);
  for (int i = 0; i < 500; ++i) EXPECT_TRUE(seen.count("stable" + std::to_string(i))) << i;
}

TEST(ZSetValueTest, ListpackScanIsOneStep) {
  ZSetLimits limits;
  ZSetValue z;
  Add(z, 2, "b", limits);
  Add(z, 1, "a", limits);
  std::vector<Pair> got;
  EXPECT_EQ(
      z.Scan(12345, [&](std::string_view m, double s) { got.emplace_back(s, std::string(m)); }),
      0u);
  EXPECT_EQ(got, (std::vector<Pair>{{1, "a"}, {2, "b"}}));
}

}  // namespace
}  // namespace shardis
