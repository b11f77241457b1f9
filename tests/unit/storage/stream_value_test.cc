// Unit tests of StreamValue (storage/stream_value.h): ID parsing and arithmetic, XADD's ID rules,
// the node layout Redis would build (entries and listpack bytes per node), and randomized
// sequences of appends, deletions, trims and range scans checked against a reference std::map.
#include "storage/stream_value.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shardis {
namespace {

using ::testing::ElementsAre;
using Kind = StreamValue::IdRequest::Kind;
using Status = StreamValue::AddStatus;
using Strategy = StreamTrimArgs::Strategy;

StreamValue::IdRequest Explicit(uint64_t ms, uint64_t seq) {
  return {Kind::kExplicit, StreamId{ms, seq}};
}

Status Add(StreamValue* s, StreamValue::IdRequest req, std::vector<std::string_view> fv,
           StreamId* added = nullptr, int64_t now = 1000, StreamNodeLimits limits = {}) {
  return s->Add(req, fv, now, limits, added);
}

// All live entries in [start, end], as (id, fields and values).
using Flat = std::vector<std::pair<StreamId, std::vector<std::string>>>;
Flat Scan(const StreamValue& s, StreamId start, StreamId end, bool reverse, size_t count = 0) {
  Flat out;
  StreamValue::Iterator it(s, start, end, reverse);
  StreamId id;
  std::vector<std::string_view> fv;
  while ((count == 0 || out.size() < count) && it.Next(&id, &fv)) {
    out.emplace_back(id, std::vector<std::string>(fv.begin(), fv.end()));
  }
  return out;
}

TEST(StreamIdTest, ParseForms) {
  StreamId id;
  bool seq_given = false;
  EXPECT_TRUE(ParseStreamId("5-3", true, 0, &id));
  EXPECT_EQ(id, (StreamId{5, 3}));
  EXPECT_TRUE(ParseStreamId("7", true, 9, &id));
  EXPECT_EQ(id, (StreamId{7, 9}));
  EXPECT_TRUE(ParseStreamId("-", false, 0, &id));
  EXPECT_EQ(id, (StreamId{0, 0}));
  EXPECT_TRUE(ParseStreamId("+", false, 0, &id));
  EXPECT_EQ(id, StreamId::Max());
  EXPECT_FALSE(ParseStreamId("-", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("+", true, 0, &id));
  EXPECT_TRUE(ParseStreamId("12-*", true, 0, &id, &seq_given));
  EXPECT_FALSE(seq_given);
  EXPECT_EQ(id, (StreamId{12, 0}));
  EXPECT_TRUE(ParseStreamId("12-4", true, 0, &id, &seq_given));
  EXPECT_TRUE(seq_given);
  EXPECT_FALSE(ParseStreamId("12-*", true, 0, &id));  // "*" only where XADD allows it
  EXPECT_TRUE(ParseStreamId("18446744073709551615-18446744073709551615", true, 0, &id));
  EXPECT_EQ(id, StreamId::Max());
  EXPECT_FALSE(ParseStreamId("18446744073709551616", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("abc", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("1-", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("-1", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("1-2-3", true, 0, &id));
  EXPECT_FALSE(ParseStreamId("1--5", true, 0, &id));
  EXPECT_FALSE(ParseStreamId(std::string(128, '1'), true, 0, &id));
  // string2ull falls back to strtoull: blanks, '+', leading zeros and "-0" are accepted.
  EXPECT_TRUE(ParseStreamId(" 10-+1", true, 0, &id));
  EXPECT_EQ(id, (StreamId{10, 1}));
  EXPECT_TRUE(ParseStreamId("012-01", true, 0, &id));
  EXPECT_EQ(id, (StreamId{12, 1}));
  EXPECT_TRUE(ParseStreamId("1--0", true, 0, &id));
  EXPECT_EQ(id, (StreamId{1, 0}));
  // An embedded NUL ends the C string Redis parses.
  EXPECT_TRUE(ParseStreamId(std::string("3-4\0x", 5), true, 0, &id));
  EXPECT_EQ(id, (StreamId{3, 4}));
}

TEST(StreamIdTest, IncrDecrAndFormat) {
  StreamId id{1, UINT64_MAX};
  EXPECT_TRUE(id.Incr());
  EXPECT_EQ(id, (StreamId{2, 0}));
  EXPECT_TRUE(id.Decr());
  EXPECT_EQ(id, (StreamId{1, UINT64_MAX}));
  StreamId max = StreamId::Max();
  EXPECT_FALSE(max.Incr());
  EXPECT_EQ(max, (StreamId{0, 0}));
  StreamId zero;
  EXPECT_FALSE(zero.Decr());
  EXPECT_EQ(zero, StreamId::Max());
  EXPECT_EQ(StreamId::Max().ToString(), "18446744073709551615-18446744073709551615");
  EXPECT_LT((StreamId{1, 5}), (StreamId{2, 0}));
}

TEST(StreamValueTest, AddIdRules) {
  StreamValue s;
  StreamId id;
  EXPECT_EQ(Add(&s, Explicit(5, 5), {"f", "v"}, &id), Status::kOk);
  EXPECT_EQ(Add(&s, Explicit(5, 5), {"f", "v"}), Status::kIdTooSmall);
  EXPECT_EQ(Add(&s, Explicit(4, 9), {"f", "v"}), Status::kIdTooSmall);
  EXPECT_EQ(Add(&s, {Kind::kAutoSeq, StreamId{5, 0}}, {"f", "v"}, &id), Status::kOk);
  EXPECT_EQ(id, (StreamId{5, 6}));
  EXPECT_EQ(Add(&s, {Kind::kAutoSeq, StreamId{9, 0}}, {"f", "v"}, &id), Status::kOk);
  EXPECT_EQ(id, (StreamId{9, 0}));
  EXPECT_EQ(Add(&s, {Kind::kAutoSeq, StreamId{3, 0}}, {"f", "v"}), Status::kIdTooSmall);
  // Automatic IDs: the clock when ahead, else the last ID + 1 (never backwards).
  EXPECT_EQ(Add(&s, {}, {"f", "v"}, &id, 1000), Status::kOk);
  EXPECT_EQ(id, (StreamId{1000, 0}));
  EXPECT_EQ(Add(&s, {}, {"f", "v"}, &id, 1000), Status::kOk);
  EXPECT_EQ(id, (StreamId{1000, 1}));
  EXPECT_EQ(Add(&s, {}, {"f", "v"}, &id, 400), Status::kOk);
  EXPECT_EQ(id, (StreamId{1000, 2}));
  EXPECT_EQ(s.size(), 6u);
  EXPECT_EQ(s.entries_added(), 6u);
  EXPECT_EQ(s.last_id(), (StreamId{1000, 2}));
  EXPECT_EQ(Add(&s, Explicit(UINT64_MAX, UINT64_MAX), {"f", "v"}), Status::kOk);
  EXPECT_EQ(Add(&s, {}, {"f", "v"}), Status::kExhausted);
  EXPECT_EQ(Add(&s, Explicit(1, 1), {"f", "v"}), Status::kExhausted);

  StreamValue t;
  EXPECT_EQ(Add(&t, Explicit(7, UINT64_MAX), {"f", "v"}), Status::kOk);
  EXPECT_EQ(Add(&t, {Kind::kAutoSeq, StreamId{7, 0}}, {"f", "v"}), Status::kIdTooSmall);
  EXPECT_EQ(Add(&t, {}, {"f", "v"}, &id, 5), Status::kOk);
  EXPECT_EQ(id, (StreamId{8, 0}));
}

TEST(StreamValueTest, FieldsRoundTripWithAndWithoutMasterFields) {
  StreamValue s;
  Add(&s, Explicit(1, 0), {"a", "1", "b", "2"});
  Add(&s, Explicit(2, 0), {"a", "3", "b", "4"});          // same fields as the master entry
  Add(&s, Explicit(3, 0), {"x", "", "", "y", "z", "w"});  // different ones
  Add(&s, Explicit(3, 1), {"a", std::string(5000, 'q')});
  Flat all = Scan(s, {}, StreamId::Max(), false);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_THAT(all[0].second, ElementsAre("a", "1", "b", "2"));
  EXPECT_THAT(all[1].second, ElementsAre("a", "3", "b", "4"));
  EXPECT_THAT(all[2].second, ElementsAre("x", "", "", "y", "z", "w"));
  EXPECT_EQ(all[3].second[1], std::string(5000, 'q'));
}

TEST(StreamValueTest, NodeLayoutFollowsRedisLimits) {
  // 100 entries per node by default.
  StreamValue s;
  for (uint64_t i = 1; i <= 250; ++i) Add(&s, Explicit(i, 0), {"f", "v"});
  EXPECT_THAT(s.NodeEntriesForTest(), ElementsAre(100, 100, 50));
  EXPECT_EQ(s.node_count(), 3u);

  // Listpack bytes: 18 for the header and master entry of {"f"}, then 11 per "f v" entry;
  // a new node starts when bytes + the entry's field/value bytes reach the limit.
  StreamValue b;
  StreamNodeLimits limits{100, 100};
  for (uint64_t i = 1; i <= 10; ++i) Add(&b, Explicit(i, 1), {"f", "v"}, nullptr, 0, limits);
  EXPECT_THAT(b.NodeEntriesForTest(), ElementsAre(8, 2));
  EXPECT_THAT(b.NodeBytesForTest(), ElementsAre(18 + 8 * 11, 18 + 2 * 11));

  // Integers are stored compactly, as a listpack does.
  StreamValue n;
  Add(&n, Explicit(1, 0), {"f", "12345"});
  Add(&n, Explicit(1, 1), {"f", "012345"});
  // header+master 18; entry 1: flags 2, deltas 2+2, 12345 as a 16-bit int 4, count 2 = 12;
  // entry 2: "012345" a 6-byte string 8, seq delta 1 -> 2: 2+2+2+8+2 = 16.
  EXPECT_THAT(n.NodeBytesForTest(), ElementsAre(18 + 12 + 16));

  // Unlimited entries: only the byte limit splits.
  StreamValue u;
  for (uint64_t i = 1; i <= 300; ++i) Add(&u, Explicit(i, 0), {"f", "v"}, nullptr, 0, {0, 4096});
  EXPECT_EQ(u.node_count(), 1u);
}

TEST(StreamValueTest, DeleteFlagsEntriesAndDropsEmptyNodes) {
  StreamValue s;
  for (uint64_t i = 1; i <= 150; ++i) Add(&s, Explicit(i, 0), {"f", "v"});
  StreamId ids[] = {{5, 0}, {5, 0}, {500, 0}, {1, 0}};
  EXPECT_EQ(s.Delete(ids), 2u);
  EXPECT_EQ(s.max_deleted_id(), (StreamId{5, 0}));
  EXPECT_EQ(s.size(), 148u);
  EXPECT_EQ(s.first_id(), (StreamId{2, 0}));
  EXPECT_THAT(s.NodeEntriesForTest(), ElementsAre(100, 50));
  std::vector<StreamId> second;
  for (uint64_t i = 101; i <= 150; ++i) second.push_back({i, 0});
  EXPECT_EQ(s.Delete(second), 50u);
  EXPECT_THAT(s.NodeEntriesForTest(), ElementsAre(100));
  EXPECT_EQ(s.last_valid_id(), (StreamId{100, 0}));
  EXPECT_EQ(s.last_id(), (StreamId{150, 0}));
  EXPECT_EQ(s.max_deleted_id(), (StreamId{150, 0}));
  // A new entry goes to the old node while it has room (deleted entries count).
  Add(&s, Explicit(200, 0), {"f", "v"});
  EXPECT_THAT(s.NodeEntriesForTest(), ElementsAre(100, 1));
}

TEST(StreamValueTest, ApproximateTrimRemovesWholeNodesOnly) {
  StreamValue s;
  for (uint64_t i = 1; i <= 250; ++i) Add(&s, Explicit(i, 0), {"f", "v"});
  StreamTrimArgs args;
  args.strategy = Strategy::kMaxLen;
  args.approx = true;
  args.maxlen = 180;
  EXPECT_EQ(s.Trim(args), 0);  // removing the first node would leave 150 < 180
  args.maxlen = 150;
  EXPECT_EQ(s.Trim(args), 100);
  EXPECT_EQ(s.size(), 150u);
  args.maxlen = 0;
  args.limit = 50;  // a node of 100 exceeds the limit
  EXPECT_EQ(s.Trim(args), 0);
  args.limit = 0;
  EXPECT_EQ(s.Trim(args), 150);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.node_count(), 0u);
  EXPECT_EQ(s.first_id(), (StreamId{0, 0}));

  // MINID: a node goes when its last entry is below the threshold.
  StreamValue m;
  for (uint64_t i = 1; i <= 250; ++i) Add(&m, Explicit(i, 0), {"f", "v"});
  StreamTrimArgs minid;
  minid.strategy = Strategy::kMinId;
  minid.approx = true;
  minid.minid = StreamId{150, 0};
  EXPECT_EQ(m.Trim(minid), 100);
  minid.approx = false;
  EXPECT_EQ(m.Trim(minid), 49);
  EXPECT_EQ(m.first_id(), (StreamId{150, 0}));
}

TEST(StreamValueTest, RadixTreeNodes) {
  StreamValue s;
  EXPECT_EQ(s.RadixTreeNodes(), 1u);  // the empty root
  Add(&s, Explicit(1, 1), {"f", "v"});
  EXPECT_EQ(s.RadixTreeNodes(), 2u);  // a compressed node and the key's leaf
  StreamValue t;
  StreamNodeLimits one{1, 4096};
  Add(&t, Explicit(1, 0), {"f", "v"}, nullptr, 0, one);
  Add(&t, Explicit(2, 0), {"f", "v"}, nullptr, 0, one);
  // Common 7-byte prefix (compressed), a branch on byte 7, then two "rest + leaf" pairs.
  EXPECT_EQ(t.RadixTreeNodes(), 6u);
}

// Randomized: the stream against a std::map of live entries.
TEST(StreamValueTest, RandomizedAgainstReferenceMap) {
  std::mt19937_64 rng(20240607);
  auto rand = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  const std::vector<std::string> fields = {"a", "b", "c", "123", "-7", "long-field-name"};
  for (int round = 0; round < 30; ++round) {
    StreamNodeLimits limits{static_cast<int64_t>(rand(3) == 0 ? 0 : 1 + rand(20)),
                            static_cast<int64_t>(rand(3) == 0 ? 0 : 60 + rand(400))};
    StreamValue s;
    std::map<StreamId, std::vector<std::string>> ref;
    StreamId last;
    StreamId max_deleted;
    uint64_t added = 0;
    uint64_t ms = 1;
    for (int op = 0; op < 800; ++op) {
      uint64_t what = rand(100);
      if (what < 55) {
        // Append with an explicit increasing ID and random fields.
        ms += rand(3);
        StreamId id{ms, rand(2) == 0 ? 0 : rand(5)};
        std::vector<std::string> fv;
        size_t pairs = 1 + rand(3);
        bool same = rand(2) == 0;
        for (size_t i = 0; i < pairs; ++i) {
          fv.push_back(same ? fields[i] : fields[rand(fields.size())]);
          fv.push_back(rand(4) == 0 ? std::string(rand(100), 'x') : std::to_string(rand(100000)));
        }
        std::vector<std::string_view> views(fv.begin(), fv.end());
        StreamId got;
        Status st = s.Add(Explicit(id.ms, id.seq), views, 0, limits, &got);
        if (id <= last) {
          ASSERT_EQ(st, Status::kIdTooSmall);
          continue;
        }
        ASSERT_EQ(st, Status::kOk);
        ASSERT_EQ(got, id);
        ref[id] = fv;
        last = id;
        ++added;
      } else if (what < 70) {
        // Delete some existing and some missing IDs.
        std::vector<StreamId> ids;
        size_t expect = 0;
        for (int i = 0; i < 3; ++i) {
          StreamId id{rand(ms + 2), rand(5)};
          if (!ref.empty() && rand(2) == 0) {
            auto it = ref.begin();
            std::advance(it, rand(ref.size()));
            id = it->first;
          }
          ids.push_back(id);
          if (ref.erase(id) != 0) {
            ++expect;
            if (id > max_deleted) max_deleted = id;
          }
        }
        ASSERT_EQ(s.Delete(ids), expect);
      } else if (what < 80) {
        // Exact trims behave like the reference; approximate ones remove a prefix of it.
        StreamTrimArgs args;
        args.strategy = rand(2) == 0 ? Strategy::kMaxLen : Strategy::kMinId;
        args.maxlen = rand(ref.size() + 5);
        args.minid = StreamId{rand(ms + 2), rand(5)};
        args.approx = rand(2) == 0;
        if (args.approx && rand(2) == 0) args.limit = static_cast<int64_t>(rand(300));
        size_t before = ref.size();
        int64_t removed = s.Trim(args);
        ASSERT_GE(removed, 0);
        ASSERT_LE(static_cast<size_t>(removed), before);
        size_t exact = 0;
        if (args.strategy == Strategy::kMaxLen) {
          exact = before > args.maxlen ? before - args.maxlen : 0;
        } else {
          for (const auto& [id, fv] : ref) exact += id < args.minid ? 1 : 0;
        }
        if (args.approx) {
          ASSERT_LE(static_cast<size_t>(removed), exact);
        } else {
          ASSERT_EQ(static_cast<size_t>(removed), exact);
        }
        for (int64_t i = 0; i < removed; ++i) ref.erase(ref.begin());
      } else {
        // Ranges, both directions, with a COUNT.
        StreamId a{rand(ms + 2), rand(5)};
        StreamId b{rand(ms + 2), rand(5)};
        if (b < a) std::swap(a, b);
        bool reverse = rand(2) == 0;
        size_t count = rand(4) == 0 ? 1 + rand(10) : 0;
        Flat want;
        for (auto it = ref.lower_bound(a); it != ref.end() && it->first <= b; ++it) {
          want.emplace_back(it->first, it->second);
        }
        if (reverse) std::reverse(want.begin(), want.end());
        if (count != 0 && want.size() > count) want.resize(count);
        ASSERT_EQ(Scan(s, a, b, reverse, count), want) << "round " << round << " op " << op;
      }
      ASSERT_EQ(s.size(), ref.size());
      ASSERT_EQ(s.last_id(), last);
      ASSERT_EQ(s.entries_added(), added);
      ASSERT_EQ(s.max_deleted_id(), max_deleted);
      ASSERT_EQ(s.first_id(), ref.empty() ? StreamId{} : ref.begin()->first);
      ASSERT_EQ(s.last_valid_id(), ref.empty() ? StreamId{} : ref.rbegin()->first);
      size_t node_entries = 0;
      for (size_t n : s.NodeEntriesForTest()) {
        ASSERT_GT(n, 0u);
        if (limits.max_entries > 0) {
          ASSERT_LE(n, static_cast<size_t>(limits.max_entries));
        }
        node_entries += n;
      }
      ASSERT_GE(node_entries, ref.size());
    }
    // A clone is deep and equal.
    std::unique_ptr<Collection> copy = s.Clone();
    auto* c = static_cast<StreamValue*>(copy.get());
    EXPECT_EQ(Scan(*c, {}, StreamId::Max(), false), Scan(s, {}, StreamId::Max(), false));
    EXPECT_EQ(c->NodeBytesForTest(), s.NodeBytesForTest());
    EXPECT_STREQ(c->EncodingName(), "stream");
  }
}

}  // namespace
}  // namespace shardis
