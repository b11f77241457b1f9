// Unit tests of stream consumer groups (storage/stream_groups.h) and the StreamValue helpers
// behind entries-read and lag (Redis 7.0's streamEstimateDistanceFromFirstEverEntry,
// streamRangeHasTombstones, the read counter kept by XREADGROUP).
#include "storage/stream_groups.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "storage/stream_value.h"

namespace shardis {
namespace {

StreamId Id(uint64_t ms, uint64_t seq = 0) { return StreamId{ms, seq}; }

void Add(StreamValue* s, uint64_t ms) {
  StreamValue::IdRequest req;
  req.kind = StreamValue::IdRequest::Kind::kExplicit;
  req.id = Id(ms);
  std::vector<std::string_view> fv = {"f", "v"};
  StreamId added;
  ASSERT_EQ(s->Add(req, fv, 0, StreamNodeLimits{}, &added), StreamValue::AddStatus::kOk);
}

TEST(StreamGroupTest, DeliverMovesOwnershipAndResetsTheCount) {
  StreamGroup g(Id(0), 0);
  StreamConsumer* a = g.CreateConsumer("a", 10);
  StreamConsumer* b = g.CreateConsumer("b", 20);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(g.CreateConsumer("a", 30), nullptr);
  g.Deliver(Id(1), a, 100);
  g.Deliver(Id(2), a, 100);
  g.FindNack(Id(1))->delivery_count = 5;
  g.Deliver(Id(1), b, 200);  // e.g. after XGROUP SETID
  const StreamNack* nack = g.FindNack(Id(1));
  ASSERT_NE(nack, nullptr);
  EXPECT_EQ(nack->consumer, b);
  EXPECT_EQ(nack->delivery_count, 1u);
  EXPECT_EQ(nack->delivery_time, 200);
  EXPECT_EQ(a->pel, (std::set<StreamId>{Id(2)}));
  EXPECT_EQ(b->pel, (std::set<StreamId>{Id(1)}));
  EXPECT_TRUE(g.Ack(Id(2)));
  EXPECT_FALSE(g.Ack(Id(2)));
  EXPECT_TRUE(a->pel.empty());
  g.DeleteConsumer(b);
  EXPECT_TRUE(g.pel.empty());
  EXPECT_EQ(g.FindConsumer("b"), nullptr);
  bool created;
  EXPECT_EQ(g.FindOrCreateConsumer("a", 0, &created), a);
  EXPECT_FALSE(created);
}

TEST(StreamGroupTest, CopiesAreDeep) {
  StreamValue s;
  for (uint64_t ms = 1; ms <= 3; ++ms) Add(&s, ms);
  StreamGroup* g = s.groups().Create("g", Id(0), 0);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(s.groups().Create("g", Id(0), 0), nullptr);
  StreamConsumer* c = g->CreateConsumer("c", 1);
  g->Deliver(Id(1), c, 5);
  g->Deliver(Id(2), c, 6);
  auto clone = s.Clone();
  auto* copy = static_cast<StreamValue*>(clone.get());
  StreamGroup* cg = copy->groups().Find("g");
  ASSERT_NE(cg, nullptr);
  ASSERT_NE(cg, g);
  StreamConsumer* cc = cg->FindConsumer("c");
  ASSERT_NE(cc, nullptr);
  EXPECT_EQ(cg->FindNack(Id(1))->consumer, cc);  // points into the copy
  EXPECT_EQ(cc->pel.size(), 2u);
  g->Ack(Id(1));
  EXPECT_EQ(cg->pel.size(), 2u);
  EXPECT_TRUE(s.groups().Destroy("g"));
  EXPECT_FALSE(s.groups().Destroy("g"));
  EXPECT_EQ(copy->groups().size(), 1u);
}

TEST(StreamGroupTest, LagAndReadCounter) {
  StreamValue s;
  StreamGroup* g = s.groups().Create("g", Id(0), 0);
  int64_t lag = -5;
  ASSERT_TRUE(s.GroupLag(*g, &lag));  // a never used stream
  EXPECT_EQ(lag, 0);
  for (uint64_t ms = 1; ms <= 5; ++ms) Add(&s, ms);
  ASSERT_TRUE(s.GroupLag(*g, &lag));
  EXPECT_EQ(lag, 5);
  s.AdvanceGroup(g, Id(1));
  s.AdvanceGroup(g, Id(2));
  EXPECT_EQ(g->entries_read, 2);
  EXPECT_EQ(g->last_id, Id(2));
  ASSERT_TRUE(s.GroupLag(*g, &lag));
  EXPECT_EQ(lag, 3);
  // A tombstone ahead of the group: the lag cannot be known.
  std::vector<StreamId> del = {Id(4)};
  EXPECT_EQ(s.Delete(del), 1u);
  EXPECT_TRUE(s.RangeHasTombstones(Id(2), StreamId::Max()));
  EXPECT_FALSE(s.GroupLag(*g, &lag));
  // Reading past it makes the counter exact again (the last entry's counter is entries_added).
  s.AdvanceGroup(g, Id(3));
  s.AdvanceGroup(g, Id(5));
  EXPECT_EQ(g->entries_read, 5);
  ASSERT_TRUE(s.GroupLag(*g, &lag));
  EXPECT_EQ(lag, 0);
  // Estimates.
  EXPECT_EQ(s.EstimateDistanceFromFirstEverEntry(Id(5)), 5);
  EXPECT_EQ(s.EstimateDistanceFromFirstEverEntry(Id(9)), kInvalidEntriesRead);
  EXPECT_EQ(s.EstimateDistanceFromFirstEverEntry(Id(2)), kInvalidEntriesRead);  // fragmented
  std::vector<StreamId> first = {Id(1)};
  s.Delete(first);
  StreamValue t;
  for (uint64_t ms = 1; ms <= 4; ++ms) Add(&t, ms);
  StreamTrimArgs trim;
  trim.strategy = StreamTrimArgs::Strategy::kMaxLen;
  trim.maxlen = 2;
  EXPECT_EQ(t.Trim(trim), 2);
  EXPECT_EQ(t.EstimateDistanceFromFirstEverEntry(Id(1)), 2);  // before the first entry
  EXPECT_EQ(t.EstimateDistanceFromFirstEverEntry(Id(3)), 3);  // the first entry
  EXPECT_TRUE(t.Contains(Id(3)));
  EXPECT_FALSE(t.Contains(Id(2)));
}

}  // namespace
}  // namespace shardis
