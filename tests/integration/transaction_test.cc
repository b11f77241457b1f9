// MULTI/EXEC/DISCARD/WATCH end to end: replies byte for byte as redis-server's for scripted
// sessions (queued errors, EXECABORT, nesting, WATCH touched by another client, by expiry), then
// concurrency: transfers between counters of one hashtag (one shard, so EXEC is atomic) by
// clients on every thread keep the total constant, and WATCH-based optimistic increments from
// many clients lose no update.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using Script = std::vector<std::vector<std::string>>;

// Runs a script on one connection (pipelined) and renders every reply.
std::vector<std::string> RunScript(int port, const Script& script) {
  auto client = Client::Connect(port);
  if (client == nullptr) return {"connect-failed"};
  for (const auto& cmd : script) client->Append(cmd);
  std::vector<std::string> out;
  for (size_t i = 0; i < script.size(); ++i) out.push_back(Render(client->GetReply().get()));
  return out;
}

class TransactionTest : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { redis_ = StartRedis().release(); }
  static void TearDownTestSuite() {
    delete redis_;
    redis_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(redis_, nullptr);
    shardis_ = StartShardis(GetParam());
    ASSERT_NE(shardis_, nullptr);
    RunScript(redis_->port(), {{"FLUSHALL"}});
  }
  void ExpectSameAsRedis(const Script& script) {
    RunScript(redis_->port(), {{"FLUSHALL"}});
    RunScript(shardis_->port(), {{"FLUSHALL"}});
    EXPECT_EQ(RunScript(shardis_->port(), script), RunScript(redis_->port(), script));
  }

  static ServerProcess* redis_;
  std::unique_ptr<ServerProcess> shardis_;
};

ServerProcess* TransactionTest::redis_ = nullptr;

TEST_P(TransactionTest, ScriptedSessionsMatchRedis) {
  ExpectSameAsRedis({{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}, {"EXEC"}});
  ExpectSameAsRedis(
      {{"MULTI"}, {"SET", "{t}1", "1"}, {"SET", "{t}2", "2"}, {"MGET", "{t}1", "{t}2"}, {"EXEC"}});
  // Keys on several shards, keyless commands, a multi-key command.
  ExpectSameAsRedis({{"MULTI"},
                     {"SET", "a", "1"},
                     {"SET", "b", "2"},
                     {"MSET", "c", "3", "d", "4"},
                     {"MGET", "a", "b", "c", "d"},
                     {"PING"},
                     {"DBSIZE"},
                     {"EXEC"},
                     {"GET", "a"}});
  // Errors: queued rejections abort; runtime errors do not.
  ExpectSameAsRedis({{"MULTI"},
                     {"SET", "a"},
                     {"NOSUCHCOMMAND"},
                     {"EXEC"},
                     {"EXEC"},
                     {"DISCARD"},
                     {"MULTI"},
                     {"MULTI"},
                     {"WATCH", "x"},
                     {"DISCARD"}});
  ExpectSameAsRedis(
      {{"SET", "s", "str"}, {"MULTI"}, {"INCR", "s"}, {"SET", "t", "1"}, {"EXEC"}, {"GET", "t"}});
  ExpectSameAsRedis({{"MULTI"}, {"EXEC"}, {"MULTI"}, {"DISCARD"}, {"UNWATCH"}});
  // Blocking commands inside a transaction never block, on one shard or across shards.
  ExpectSameAsRedis({{"MULTI"},
                     {"RPUSH", "q1", "x"},
                     {"BLPOP", "q2", "0"},
                     {"SET", "zz", "1"},
                     {"BRPOPLPUSH", "{q}3", "{q}4", "0"},
                     {"EXEC"}});
  ExpectSameAsRedis({{"MULTI"}, {"BLPOP", "{q}2", "0"}, {"BZPOPMIN", "{q}3", "0"}, {"EXEC"}});
  // WATCH on an untouched key, and a key the transaction itself writes.
  ExpectSameAsRedis({{"WATCH", "w"}, {"MULTI"}, {"SET", "w", "1"}, {"EXEC"}, {"GET", "w"}});
}

TEST_P(TransactionTest, WatchSeesOtherClientsWrites) {
  for (int port : {shardis_->port(), redis_->port()}) {
    auto a = Client::Connect(port);
    auto b = Client::Connect(port);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->Run({"WATCH", "w", "z"}), "status:\"OK\"");
    EXPECT_EQ(a->Run({"MULTI"}), "status:\"OK\"");
    EXPECT_EQ(a->Run({"SET", "w", "2"}), "status:\"QUEUED\"");
    EXPECT_EQ(b->Run({"SET", "z", "9"}), "status:\"OK\"");  // touches a watched key
    EXPECT_EQ(a->Run({"EXEC"}), "nil");
    EXPECT_EQ(a->Run({"GET", "w"}), "nil");
    // After EXEC the keys are no longer watched.
    EXPECT_EQ(a->Run({"MULTI"}), "status:\"OK\"");
    EXPECT_EQ(a->Run({"SET", "w", "3"}), "status:\"QUEUED\"");
    EXPECT_EQ(b->Run({"SET", "z", "10"}), "status:\"OK\"");
    EXPECT_EQ(a->Run({"EXEC"}), "arr:[status:\"OK\"]");
    // FLUSHALL touches every watched key.
    EXPECT_EQ(a->Run({"WATCH", "w"}), "status:\"OK\"");
    EXPECT_EQ(b->Run({"FLUSHALL"}), "status:\"OK\"");
    EXPECT_EQ(a->Run({"MULTI"}), "status:\"OK\"");
    EXPECT_EQ(a->Run({"PING"}), "status:\"QUEUED\"");
    EXPECT_EQ(a->Run({"EXEC"}), "nil");
  }
}

// As Redis, a write that changes nothing (DEL of a missing key, SREM of a missing member, SET NX
// on an existing key...) touches no WATCHed key, while one that does (even to the same value)
// does. Each case: setup by another client, WATCH, that client's write, then EXEC's outcome.
TEST_P(TransactionTest, OnlyWritesThatChangeSomethingTouchWatchedKeys) {
  struct Case {
    Script setup;
    std::string watched;
    Script writes;
  };
  const std::vector<Case> cases = {
      {{}, "k1", {{"DEL", "k1"}, {"UNLINK", "k1"}, {"GETDEL", "k1"}, {"EXPIRE", "k1", "100"}}},
      {{{"SET", "k2", "v"}}, "k2", {{"SET", "k2", "w", "NX"}, {"PERSIST", "k2"}}},
      {{{"SADD", "s3", "a"}}, "s3", {{"SREM", "s3", "zz"}, {"SADD", "s3", "a"}}},
      {{{"HSET", "h4", "f", "v"}}, "h4", {{"HDEL", "h4", "nf"}, {"HSETNX", "h4", "f", "w"}}},
      {{{"RPUSH", "l5", "a"}}, "l5", {{"LREM", "l5", "0", "zz"}, {"LPUSHX", "nolist", "a"}}},
      {{{"ZADD", "z6", "1", "a"}}, "z6", {{"ZREM", "z6", "b"}, {"ZADD", "z6", "XX", "2", "b"}}},
      {{{"SETBIT", "b7", "3", "1"}}, "b7", {{"SETBIT", "b7", "3", "1"}}},
      {{}, "k8", {{"SINTERSTORE", "k8", "nosuch"}, {"LPOP", "k8"}}},
      // A consumer group's bookkeeping (a new consumer, a claim) is no change to the key.
      {{{"XADD", "x12", "1-1", "f", "v"}, {"XGROUP", "CREATE", "x12", "g", "0"}},
       "x12",
       {{"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x12", ">"},
        {"XCLAIM", "x12", "g", "bob", "0", "1-1"}}},
      {{{"SET", "k9", "v"}}, "k9", {{"SET", "k9", "v"}}},        // the same value: touched
      {{{"SET", "k10", "1"}}, "k10", {{"INCRBY", "k10", "0"}}},  // touched
      {{{"SET", "k11", "v"}}, "k11", {{"DEL", "k11"}}},          // touched
  };
  for (int port : {shardis_->port(), redis_->port()}) {
    auto a = Client::Connect(port);
    auto b = Client::Connect(port);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    a->Run({"FLUSHALL"});
    std::vector<std::string> outcomes;
    for (const Case& c : cases) {
      for (const auto& cmd : c.setup) b->Run(cmd);
      a->Run({"WATCH", c.watched});
      for (const auto& cmd : c.writes) b->Run(cmd);
      a->Run({"MULTI"});
      a->Run({"PING"});
      outcomes.push_back(c.watched + " " + a->Run({"EXEC"}));
    }
    const std::vector<std::string> want = {"k1 arr:[status:\"PONG\"]",
                                           "k2 arr:[status:\"PONG\"]",
                                           "s3 arr:[status:\"PONG\"]",
                                           "h4 arr:[status:\"PONG\"]",
                                           "l5 arr:[status:\"PONG\"]",
                                           "z6 arr:[status:\"PONG\"]",
                                           "b7 arr:[status:\"PONG\"]",
                                           "k8 arr:[status:\"PONG\"]",
                                           "x12 arr:[status:\"PONG\"]",
                                           "k9 nil",
                                           "k10 nil",
                                           "k11 nil"};
    EXPECT_EQ(outcomes, want) << (port == redis_->port() ? "redis-server" : "shardis");
  }
}

TEST_P(TransactionTest, TransfersKeepTheTotal) {
  constexpr int kClients = 6;
  constexpr int kTransfers = 300;
  constexpr int kAccounts = 5;
  auto setup = Client::Connect(shardis_->port());
  ASSERT_NE(setup, nullptr);
  for (int i = 0; i < kAccounts; ++i) {
    setup->Run({"SET", "{bank}" + std::to_string(i), "1000"});
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect(shardis_->port());
      if (c == nullptr) {
        ++failures;
        return;
      }
      for (int i = 0; i < kTransfers; ++i) {
        std::string from = "{bank}" + std::to_string((t + i) % kAccounts);
        std::string to = "{bank}" + std::to_string((t + 2 * i + 1) % kAccounts);
        c->Append({"MULTI"});
        c->Append({"DECRBY", from, "7"});
        c->Append({"INCRBY", to, "7"});
        c->Append({"EXEC"});
        for (int r = 0; r < 4; ++r) c->GetReply();
        if (i % 10 == 0) {
          // A snapshot inside one shard's transaction always sees the full total.
          c->Append({"MULTI"});
          std::vector<std::string> mget = {"MGET"};
          for (int a = 0; a < kAccounts; ++a) mget.push_back("{bank}" + std::to_string(a));
          c->Append(mget);
          c->Append({"EXEC"});
          c->GetReply();
          c->GetReply();
          ReplyPtr exec = c->GetReply();
          if (exec == nullptr || exec->type != REDIS_REPLY_ARRAY || exec->elements != 1) {
            ++failures;
            continue;
          }
          int64_t total = 0;
          const redisReply* values = exec->element[0];
          for (size_t a = 0; a < values->elements; ++a)
            total += std::stoll(values->element[a]->str);
          if (total != 1000 * kAccounts) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t total = 0;
  for (int i = 0; i < kAccounts; ++i) {
    ReplyPtr r = setup->Command({"GET", "{bank}" + std::to_string(i)});
    ASSERT_NE(r, nullptr);
    total += std::stoll(r->str);
  }
  EXPECT_EQ(total, 1000 * kAccounts);
}

TEST_P(TransactionTest, OptimisticIncrementsLoseNothing) {
  constexpr int kClients = 4;
  constexpr int kIncrements = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      auto c = Client::Connect(shardis_->port());
      if (c == nullptr) {
        ++failures;
        return;
      }
      for (int i = 0; i < kIncrements; ++i) {
        bool done = false;
        for (int attempt = 0; attempt < 1000 && !done; ++attempt) {
          c->Run({"WATCH", "counter"});
          ReplyPtr v = c->Command({"GET", "counter"});
          int64_t value = (v && v->type == REDIS_REPLY_STRING) ? std::stoll(v->str) : 0;
          c->Append({"MULTI"});
          c->Append({"SET", "counter", std::to_string(value + 1)});
          c->Append({"EXEC"});
          c->GetReply();
          c->GetReply();
          ReplyPtr exec = c->GetReply();
          done = exec != nullptr && exec->type == REDIS_REPLY_ARRAY;
        }
        if (!done) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto c = Client::Connect(shardis_->port());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Run({"GET", "counter"}), "str:\"" + std::to_string(kClients * kIncrements) + "\"");
}

INSTANTIATE_TEST_SUITE_P(Threads, TransactionTest, ::testing::Values(1, 4),
                         [](const auto& info) { return "Threads" + std::to_string(info.param); });

}  // namespace
}  // namespace shardis::test
