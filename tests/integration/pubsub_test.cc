// Pub/sub end to end: subscribers spread over reactor threads receive every message, in publish
// order, in RESP2 arrays and RESP3 pushes; subscribed-mode rules; PUBSUB introspection summed
// over threads; a subscriber that stops reading is cut off by client-output-buffer-limit pubsub.
// Replies are compared byte for byte with the reference redis-server where they are
// deterministic.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// Sends the same script to a server and returns every reply rendered, in order.
std::vector<std::string> Script(int port, bool resp3,
                                const std::vector<std::vector<std::string>>& cmds, size_t replies) {
  std::vector<std::string> out;
  auto conn = RawConnection::Connect(port);
  if (conn == nullptr) return {"connect-failed"};
  if (resp3) {
    conn->SendCommand({"HELLO", "3"});
    conn->Read();
  }
  for (const auto& cmd : cmds) conn->SendCommand(cmd);
  for (size_t i = 0; i < replies; ++i) {
    auto v = conn->Read(std::chrono::seconds(5));
    out.push_back(v ? v->Render() : "timeout");
  }
  return out;
}

class PubSubTest : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { redis_ = StartRedis().release(); }
  static void TearDownTestSuite() {
    delete redis_;
    redis_ = nullptr;
  }
  void SetUp() override {
    shardis_ = StartShardis(GetParam());
    ASSERT_NE(shardis_, nullptr);
    ASSERT_NE(redis_, nullptr);
  }

  static ServerProcess* redis_;
  std::unique_ptr<ServerProcess> shardis_;
};

ServerProcess* PubSubTest::redis_ = nullptr;

TEST_P(PubSubTest, SubscribedModeRepliesMatchRedis) {
  const std::vector<std::vector<std::string>> cmds = {{"SUBSCRIBE", "a", "b"},
                                                      {"GET", "x"},
                                                      {"PING"},
                                                      {"PING", "hi"},
                                                      {"PSUBSCRIBE", "p*"},
                                                      {"SSUBSCRIBE", "s"},
                                                      {"UNSUBSCRIBE", "a"},
                                                      {"PUNSUBSCRIBE"},
                                                      {"SUNSUBSCRIBE"},
                                                      {"UNSUBSCRIBE", "b"},
                                                      {"PING"},
                                                      {"UNSUBSCRIBE"}};
  // SUBSCRIBE a b gives two confirmations: 13 replies in all.
  for (bool resp3 : {false, true}) {
    EXPECT_EQ(Script(shardis_->port(), resp3, cmds, 13), Script(redis_->port(), resp3, cmds, 13))
        << (resp3 ? "RESP3" : "RESP2");
  }
}

TEST_P(PubSubTest, EverySubscriberGetsEveryMessageInOrder) {
  constexpr int kSubscribers = 12;
  constexpr int kMessages = 200;
  std::vector<std::unique_ptr<RawConnection>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    auto conn = RawConnection::Connect(shardis_->port());
    ASSERT_NE(conn, nullptr);
    if (i % 2 == 1) {
      conn->SendCommand({"HELLO", "3"});
      ASSERT_TRUE(conn->Read());
    }
    conn->SendCommand({"SUBSCRIBE", "news"});
    ASSERT_TRUE(conn->Read());
    conn->SendCommand({"PSUBSCRIBE", "n*"});
    ASSERT_TRUE(conn->Read());
    subs.push_back(std::move(conn));
  }
  auto publisher = Client::Connect(shardis_->port());
  ASSERT_NE(publisher, nullptr);
  for (int m = 0; m < kMessages; ++m) publisher->Append({"PUBLISH", "news", std::to_string(m)});
  for (int m = 0; m < kMessages; ++m) {
    EXPECT_EQ(Render(publisher->GetReply().get()), "int:" + std::to_string(2 * kSubscribers));
  }
  for (int i = 0; i < kSubscribers; ++i) {
    for (int m = 0; m < kMessages; ++m) {
      auto message = subs[i]->Read();
      ASSERT_TRUE(message) << "subscriber " << i << " message " << m;
      auto pmessage = subs[i]->Read();
      ASSERT_TRUE(pmessage);
      std::string kind = i % 2 == 1 ? "push" : "arr";
      EXPECT_EQ(message->Render(),
                kind + ":[str:\"message\",str:\"news\",str:\"" + std::to_string(m) + "\"]");
      EXPECT_EQ(pmessage->Render(), kind + ":[str:\"pmessage\",str:\"n*\",str:\"news\",str:\"" +
                                        std::to_string(m) + "\"]");
    }
  }
}

TEST_P(PubSubTest, IntrospectionSumsOverThreads) {
  std::vector<std::unique_ptr<RawConnection>> subs;
  for (int i = 0; i < 6; ++i) {
    auto conn = RawConnection::Connect(shardis_->port());
    ASSERT_NE(conn, nullptr);
    conn->SendCommand({"SUBSCRIBE", "c1", i % 2 ? "c2" : "c3"});
    conn->Read();
    conn->Read();
    conn->SendCommand({"PSUBSCRIBE", "p*"});
    conn->Read();
    subs.push_back(std::move(conn));
  }
  auto client = Client::Connect(shardis_->port());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Run({"PUBSUB", "NUMSUB", "c1", "c2", "c3", "none"}),
            "arr:[str:\"c1\",int:6,str:\"c2\",int:3,str:\"c3\",int:3,str:\"none\",int:0]");
  EXPECT_EQ(client->Run({"PUBSUB", "NUMPAT"}), "int:1");
  EXPECT_EQ(RenderSet(client->Command({"PUBSUB", "CHANNELS"}).get()),
            RenderSet(client->Command({"PUBSUB", "CHANNELS", "c*"}).get()));
  EXPECT_EQ(client->Run({"PUBSUB", "CHANNELS", "c1"}), "arr:[str:\"c1\"]");
  EXPECT_EQ(client->Run({"PUBLISH", "c1", "x"}), "int:6");  // "p*" does not match "c1"
}

TEST_P(PubSubTest, SlowSubscriberIsDisconnected) {
  auto admin = Client::Connect(shardis_->port());
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->Run({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 0 0"}),
            "status:\"OK\"");
  auto slow = RawConnection::Connect(shardis_->port());
  ASSERT_NE(slow, nullptr);
  slow->SendCommand({"SUBSCRIBE", "flood"});
  ASSERT_TRUE(slow->Read());
  // The slow subscriber never reads again; the socket buffers fill, then its output grows.
  std::string payload(16 * 1024, 'x');
  int64_t receivers = 1;
  for (int i = 0; i < 2000 && receivers > 0; ++i) {
    auto reply = admin->Command({"PUBLISH", "flood", payload});
    ASSERT_NE(reply, nullptr);
    receivers = reply->integer;
  }
  EXPECT_EQ(receivers, 0) << "the slow subscriber should have been cut off";
  EXPECT_EQ(admin->Run({"PUBSUB", "NUMSUB", "flood"}), "arr:[str:\"flood\",int:0]");
}

INSTANTIATE_TEST_SUITE_P(Threads, PubSubTest, ::testing::Values(1, 4),
                         [](const auto& info) { return "Threads" + std::to_string(info.param); });

}  // namespace
}  // namespace shardis::test
