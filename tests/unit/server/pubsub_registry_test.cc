// PubSubRegistry: per-connection bookkeeping, delivery targets (channels, then matching
// patterns), counts as Redis reports them, and cleanup when a connection goes.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/pubsub.h"

namespace shardis {
namespace {

std::vector<uint64_t> ChannelSubscribers(const PubSubRegistry& r, SubKind kind,
                                         const std::string& channel) {
  std::vector<uint64_t> out;
  r.ForEachChannelSubscriber(kind, channel, [&](uint64_t id) { out.push_back(id); });
  return out;
}

TEST(PubSubRegistryTest, SubscribeIsIdempotentAndCounts) {
  PubSubRegistry r;
  EXPECT_TRUE(r.Subscribe(1, SubKind::kChannel, "a"));
  EXPECT_FALSE(r.Subscribe(1, SubKind::kChannel, "a"));
  EXPECT_TRUE(r.Subscribe(1, SubKind::kPattern, "a*"));
  EXPECT_TRUE(r.Subscribe(1, SubKind::kShardChannel, "s"));
  EXPECT_EQ(r.CountOf(1, SubKind::kChannel), 2u);  // channels + patterns, as SUBSCRIBE replies
  EXPECT_EQ(r.CountOf(1, SubKind::kShardChannel), 1u);
  EXPECT_EQ(r.NumSub(SubKind::kChannel, "a"), 1u);
  EXPECT_EQ(r.NumSub(SubKind::kChannel, "zz"), 0u);
}

TEST(PubSubRegistryTest, DeliveryTargetsInSubscriptionOrder) {
  PubSubRegistry r;
  r.Subscribe(3, SubKind::kChannel, "news");
  r.Subscribe(1, SubKind::kChannel, "news");
  r.Subscribe(2, SubKind::kPattern, "n*");
  r.Subscribe(4, SubKind::kPattern, "x*");
  EXPECT_EQ(ChannelSubscribers(r, SubKind::kChannel, "news"), (std::vector<uint64_t>{3, 1}));
  std::vector<std::pair<std::string, uint64_t>> patterns;
  r.ForEachPatternSubscriber(
      "news", [&](const std::string& p, uint64_t id) { patterns.emplace_back(p, id); });
  ASSERT_EQ(patterns.size(), 1u);
  EXPECT_EQ(patterns[0], std::make_pair(std::string("n*"), uint64_t{2}));
  // Shard channels are a separate namespace.
  EXPECT_TRUE(ChannelSubscribers(r, SubKind::kShardChannel, "news").empty());
}

TEST(PubSubRegistryTest, UnsubscribeAndRemoveAllCleanUp) {
  PubSubRegistry r;
  r.Subscribe(1, SubKind::kChannel, "a");
  r.Subscribe(1, SubKind::kChannel, "b");
  r.Subscribe(2, SubKind::kChannel, "a");
  EXPECT_TRUE(r.Unsubscribe(1, SubKind::kChannel, "a"));
  EXPECT_FALSE(r.Unsubscribe(1, SubKind::kChannel, "a"));
  EXPECT_EQ(ChannelSubscribers(r, SubKind::kChannel, "a"), (std::vector<uint64_t>{2}));
  r.RemoveAll(2);
  EXPECT_TRUE(ChannelSubscribers(r, SubKind::kChannel, "a").empty());
  std::vector<std::string> channels = r.Channels(SubKind::kChannel, "");
  EXPECT_EQ(channels, (std::vector<std::string>{"b"}));
  EXPECT_EQ(r.SubscriptionsOf(1, SubKind::kChannel), (std::vector<std::string>{"b"}));
  r.RemoveAll(1);
  EXPECT_TRUE(r.Channels(SubKind::kChannel, "").empty());
  EXPECT_EQ(r.CountOf(1, SubKind::kChannel), 0u);
}

TEST(PubSubRegistryTest, ChannelsFilterByGlob) {
  PubSubRegistry r;
  r.Subscribe(1, SubKind::kChannel, "news.tech");
  r.Subscribe(1, SubKind::kChannel, "news.art");
  r.Subscribe(1, SubKind::kChannel, "sport");
  std::vector<std::string> news = r.Channels(SubKind::kChannel, "news.*");
  std::sort(news.begin(), news.end());
  EXPECT_EQ(news, (std::vector<std::string>{"news.art", "news.tech"}));
}

}  // namespace
}  // namespace shardis
