// End-to-end tests of the blocking list commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) against a
// real shardis-server (--threads 4 and 1) and, for the same scenarios, the reference
// redis-server: serving a blocked client from a push on another connection (several connections,
// so they sit on different threads), timeouts, first-come first-served fairness, disconnection
// while blocked, BLMOVE chains, BLMPOP, multi-key waits, INFO's blocked_clients, a pipelined
// push + pop racing a blocked client, a cross-shard LMOVE waking a waiter, WATCH seeing
// cross-shard list writes, concurrent cross-shard moves that must neither lose nor duplicate an
// element, and (Shardis with several threads only) CROSSSLOT for blocking commands whose keys are
// on different shards. Also runs redis-benchmark's list tests against Shardis.
//
// Each blocked client is a hiredis connection whose command is sent with Append/Flush and whose
// reply is read later; the test waits for INFO clients to report it blocked before going on, so
// the order of events is deterministic. Timing checks have generous upper bounds.
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/blocking_test.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

std::string Pair(std::string_view key, std::string_view value) {
  return Arr({Str(key), Str(value)});
}

class BlockingListTest : public BlockingTest {};

TEST_P(BlockingListTest, PushFromAnotherConnectionServesTheBlockedClient) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(Connect());
  int round = 0;
  for (size_t waiter = 0; waiter < clients.size(); ++waiter) {
    for (size_t pusher = 0; pusher < clients.size(); pusher += 2) {
      if (pusher == waiter) continue;
      std::string key = absl::StrCat("q", round);
      std::string value = absl::StrCat("v", round++);
      Send(clients[waiter].get(), {"BLPOP", key, "10"});
      ASSERT_TRUE(WaitBlocked(1));
      EXPECT_EQ(clients[pusher]->Run({"RPUSH", key, value}), Int(1));
      EXPECT_EQ(Reply(clients[waiter].get()), Pair(key, value));
      EXPECT_EQ(admin_->Run({"EXISTS", key}), Int(0));
      ASSERT_TRUE(WaitBlocked(0));
    }
  }
}

TEST_P(BlockingListTest, TimeoutsReplyNil) {
  auto c = Connect();
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  const std::vector<Case> cases = {
      {{"BLPOP", "{to}1", "{to}2", "0.3"}, kNil},
      {{"BRPOP", "{to}1", "0.3"}, kNil},
      {{"BLMOVE", "{to}1", "{to}2", "LEFT", "RIGHT", "0.3"}, kNil},
      {{"BRPOPLPUSH", "{to}1", "{to}2", "0.3"}, kNil},
      {{"BLMPOP", "0.3", "2", "{to}1", "{to}2", "LEFT"}, kNil},
  };
  for (const Case& tc : cases) {
    Clock::time_point start = Clock::now();
    EXPECT_EQ(c->Run(tc.args), tc.want) << RenderCommand(tc.args);
    auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
    EXPECT_GE(elapsed, 240) << RenderCommand(tc.args);
    EXPECT_LT(elapsed, 8000) << RenderCommand(tc.args);
  }
  EXPECT_EQ(BlockedClients(), 0);
  EXPECT_EQ(c->Run({"PING"}), "status:\"PONG\"");  // the connection goes on normally
}

TEST_P(BlockingListTest, FirstComeFirstServed) {
  std::vector<std::unique_ptr<Client>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(Connect());
    Send(waiters.back().get(), {"BLPOP", "fair", "10"});
    ASSERT_TRUE(WaitBlocked(i + 1));
  }
  auto pusher = Connect();
  for (const char* v : {"a", "b", "c"}) EXPECT_EQ(pusher->Run({"RPUSH", "fair", v}), Int(1));
  EXPECT_EQ(Reply(waiters[0].get()), Pair("fair", "a"));
  EXPECT_EQ(Reply(waiters[1].get()), Pair("fair", "b"));
  EXPECT_EQ(Reply(waiters[2].get()), Pair("fair", "c"));
  // One push of three elements serves all three, in the same order.
  for (int i = 0; i < 3; ++i) {
    Send(waiters[i].get(), {"BRPOP", "fair", "10"});
    ASSERT_TRUE(WaitBlocked(i + 1));
  }
  EXPECT_EQ(pusher->Run({"RPUSH", "fair", "x", "y", "z"}), Int(3));
  EXPECT_EQ(Reply(waiters[0].get()), Pair("fair", "z"));
  EXPECT_EQ(Reply(waiters[1].get()), Pair("fair", "y"));
  EXPECT_EQ(Reply(waiters[2].get()), Pair("fair", "x"));
  EXPECT_EQ(admin_->Run({"EXISTS", "fair"}), Int(0));
}

TEST_P(BlockingListTest, DisconnectedWaiterTakesNothing) {
  auto gone = Connect();
  Send(gone.get(), {"BLPOP", "dk", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  auto stays = Connect();
  Send(stays.get(), {"BLPOP", "dk", "0"});
  ASSERT_TRUE(WaitBlocked(2));
  gone.reset();
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"RPUSH", "dk", "first", "second"}), Int(2));
  EXPECT_EQ(Reply(stays.get()), Pair("dk", "first"));
  EXPECT_EQ(admin_->Run({"LRANGE", "dk", "0", "-1"}), Arr({Str("second")}));
  // Nobody waits any more: a push stays in the list.
  auto gone2 = Connect();
  Send(gone2.get(), {"BRPOP", "dk2", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  gone2.reset();
  ASSERT_TRUE(WaitBlocked(0));
  EXPECT_EQ(admin_->Run({"LPUSH", "dk2", "kept"}), Int(1));
  EXPECT_EQ(admin_->Run({"LRANGE", "dk2", "0", "-1"}), Arr({Str("kept")}));
}

TEST_P(BlockingListTest, BlmoveChain) {
  auto c1 = Connect();
  auto c2 = Connect();
  auto c3 = Connect();
  Send(c1.get(), {"BLMOVE", "{c}a", "{c}b", "LEFT", "RIGHT", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  Send(c2.get(), {"BRPOPLPUSH", "{c}b", "{c}c", "0"});
  ASSERT_TRUE(WaitBlocked(2));
  Send(c3.get(), {"BLPOP", "{c}c", "0"});
  ASSERT_TRUE(WaitBlocked(3));
  EXPECT_EQ(admin_->Run({"RPUSH", "{c}a", "x", "y"}), Int(2));
  EXPECT_EQ(Reply(c1.get()), Str("x"));
  EXPECT_EQ(Reply(c2.get()), Str("x"));
  EXPECT_EQ(Reply(c3.get()), Pair("{c}c", "x"));
  EXPECT_EQ(admin_->Run({"LRANGE", "{c}a", "0", "-1"}), Arr({Str("y")}));
  EXPECT_EQ(admin_->Run({"EXISTS", "{c}b", "{c}c"}), Int(0));
  EXPECT_EQ(BlockedClients(), 0);
}

TEST_P(BlockingListTest, BlmoveServedIntoWrongTypeGetsWrongType) {
  auto c = Connect();
  Send(c.get(), {"BLMOVE", "{w}src", "{w}dst", "LEFT", "LEFT", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"SET", "{w}dst", "string"}), "status:\"OK\"");
  EXPECT_EQ(admin_->Run({"RPUSH", "{w}src", "e"}), Int(1));
  EXPECT_EQ(Reply(c.get()),
            "err:\"WRONGTYPE Operation against a key holding the wrong kind of value\"");
  EXPECT_EQ(admin_->Run({"LRANGE", "{w}src", "0", "-1"}), Arr({Str("e")}));
}

TEST_P(BlockingListTest, Blmpop) {
  auto c = Connect();
  Send(c.get(), {"BLMPOP", "0", "2", "{m}a", "{m}b", "RIGHT", "COUNT", "2"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"RPUSH", "{m}b", "1", "2", "3"}), Int(3));
  EXPECT_EQ(Reply(c.get()), Arr({Str("{m}b"), Arr({Str("3"), Str("2")})}));
  EXPECT_EQ(admin_->Run({"LRANGE", "{m}b", "0", "-1"}), Arr({Str("1")}));
  // Served at once when a key has elements.
  EXPECT_EQ(c->Run({"BLMPOP", "1", "2", "{m}a", "{m}b", "LEFT"}),
            Arr({Str("{m}b"), Arr({Str("1")})}));
}

TEST_P(BlockingListTest, SecondKeyGetsThePush) {
  auto c = Connect();
  Send(c.get(), {"BLPOP", "{k}a", "{k}b", "{k}c", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"SET", "{k}a", "not a list"}), "status:\"OK\"");  // does not wake it
  EXPECT_EQ(admin_->Run({"LPUSH", "{k}b", "v"}), Int(1));
  EXPECT_EQ(Reply(c.get()), Pair("{k}b", "v"));
}

TEST_P(BlockingListTest, ForeverWaitServedLater) {
  auto c = Connect();
  Send(c.get(), {"BRPOP", "later", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(BlockedClients(), 1);
  EXPECT_EQ(admin_->Run({"LPUSH", "later", "1", "2"}), Int(2));
  EXPECT_EQ(Reply(c.get()), Pair("later", "1"));
  EXPECT_EQ(admin_->Run({"LRANGE", "later", "0", "-1"}), Arr({Str("2")}));
}

TEST_P(BlockingListTest, InfoCountsBlockedClients) {
  EXPECT_EQ(BlockedClients(), 0);
  auto c1 = Connect();
  auto c2 = Connect();
  Send(c1.get(), {"BLPOP", "i1", "0"});
  Send(c2.get(), {"BLMPOP", "0", "1", "i2", "LEFT"});
  ASSERT_TRUE(WaitBlocked(2));
  EXPECT_EQ(admin_->Run({"RPUSH", "i1", "x"}), Int(1));
  EXPECT_EQ(Reply(c1.get()), Pair("i1", "x"));
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"RPUSH", "i2", "y"}), Int(1));
  EXPECT_EQ(Reply(c2.get()), Arr({Str("i2"), Arr({Str("y")})}));
  EXPECT_TRUE(WaitBlocked(0));
}

TEST_P(BlockingListTest, BlockedClientServedRightAfterThePush) {
  auto waiter = Connect();
  Send(waiter.get(), {"BLPOP", "pp", "10"});
  ASSERT_TRUE(WaitBlocked(1));
  auto pusher = Connect();
  ASSERT_TRUE(pusher->Append({"LPUSH", "pp", "a"}));
  ASSERT_TRUE(pusher->Append({"LPOP", "pp"}));
  EXPECT_EQ(Render(pusher->GetReply().get()), Int(1));
  EXPECT_EQ(Render(pusher->GetReply().get()), kNil);
  EXPECT_EQ(Reply(waiter.get()), Pair("pp", "a"));
}

TEST_P(BlockingListTest, CrossShardKeys) {
  // k1 and k2 live on different shards of four.
  auto c = Connect();
  if (IsRedis() || GetParam().threads == 1) {
    EXPECT_EQ(c->Run({"BLPOP", "k1", "k2", "0.05"}), kNil);
    return;
  }
  // Blocking pops and moves over several shards wait like Redis's
  // (tests/integration/coordination_test.cc covers them).
  EXPECT_EQ(c->Run({"BLPOP", "k1", "k2", "0.05"}), kNil);
  EXPECT_EQ(c->Run({"BLMOVE", "k1", "k2", "LEFT", "LEFT", "0.05"}), kNil);
  EXPECT_EQ(c->Run({"BLMPOP", "0.05", "2", "k1", "k2", "LEFT"}), kNil);
  // The non-blocking forms work across shards.
  EXPECT_EQ(c->Run({"RPUSH", "k1", "a", "b"}), Int(2));
  EXPECT_EQ(c->Run({"LMOVE", "k1", "k2", "LEFT", "RIGHT"}), Str("a"));
  EXPECT_EQ(c->Run({"LMPOP", "2", "k3", "k2", "LEFT"}), Arr({Str("k2"), Arr({Str("a")})}));
  EXPECT_EQ(BlockedClients(), 0);
}

TEST_P(BlockingListTest, CrossShardMoveAndMpopWakeWaiters) {
  // k1 and k2 on different shards of four: the push phase of LMOVE serves k2's waiter.
  auto waiter = Connect();
  Send(waiter.get(), {"BLPOP", "k2", "10"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"RPUSH", "k1", "v", "w"}), Int(2));
  EXPECT_EQ(admin_->Run({"LMOVE", "k1", "k2", "LEFT", "LEFT"}), Str("v"));
  EXPECT_EQ(Reply(waiter.get()), Pair("k2", "v"));
  EXPECT_EQ(admin_->Run({"EXISTS", "k2"}), Int(0));
  EXPECT_EQ(admin_->Run({"LMPOP", "2", "k2", "k1", "RIGHT"}), Arr({Str("k1"), Arr({Str("w")})}));
  EXPECT_EQ(admin_->Run({"EXISTS", "k1"}), Int(0));
}

TEST_P(BlockingListTest, CrossShardWritesAbortWatchers) {
  // A list changed in place (not created or deleted) by a cross-shard LMOVE / LMPOP still
  // counts as a write for WATCH.
  auto other = Connect();
  ASSERT_EQ(admin_->Run({"RPUSH", "k1", "a", "b", "c"}), Int(3));
  ASSERT_EQ(admin_->Run({"RPUSH", "k2", "x"}), Int(1));
  for (const std::vector<std::string>& write :
       {std::vector<std::string>{"LMOVE", "k1", "k2", "LEFT", "RIGHT"},
        std::vector<std::string>{"LMPOP", "2", "k3", "k1", "LEFT"}}) {
    for (const char* watched : {"k1", "k2"}) {
      ASSERT_EQ(admin_->Run({"WATCH", watched}), "status:\"OK\"");
      std::string r = other->Run(write);
      ASSERT_TRUE(absl::StartsWith(r, "str:") || absl::StartsWith(r, "arr:")) << r;
      ASSERT_EQ(admin_->Run({"MULTI"}), "status:\"OK\"");
      ASSERT_EQ(admin_->Run({"PING"}), "status:\"QUEUED\"");
      bool touched = write[0] == "LMOVE" || std::string(watched) == "k1";
      EXPECT_EQ(admin_->Run({"EXEC"}), touched ? kNil : Arr({"status:\"PONG\""}))
          << RenderCommand(write) << " watching " << watched;
      ASSERT_EQ(admin_->Run({"RPUSH", "k1", "more"}), Int(3));
    }
  }
}

TEST_P(BlockingListTest, ConcurrentCrossShardMovesKeepEveryElement) {
  // Four connections shuffle elements between k1, k2 and k3 (three shards of four) with LMOVE
  // and RPOPLPUSH while a fifth pops and pushes back: no element is lost or duplicated.
  std::vector<std::string> push = {"RPUSH", "k1"};
  for (int i = 0; i < 60; ++i) push.push_back(absl::StrCat("e", i));
  ASSERT_EQ(admin_->Run(push), Int(60));
  const std::vector<std::string> keys = {"k1", "k2", "k3"};
  std::vector<std::unique_ptr<Client>> movers;
  for (int i = 0; i < 5; ++i) movers.push_back(Connect());
  std::vector<std::string> errors(movers.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < movers.size(); ++t) {
    threads.emplace_back([&, t] {
      Client* c = movers[t].get();
      for (int i = 0; i < 300 && errors[t].empty(); ++i) {
        const std::string& src = keys[(t + i) % 3];
        const std::string& dst = keys[(t + 2 * i + 1) % 3];
        std::string r;
        if (t == 4) {
          r = c->Run({"LPOP", src});
          if (absl::StartsWith(r, "str:")) {
            std::string v = r.substr(5, r.size() - 6);
            std::string p = c->Run({"RPUSH", dst, v});
            if (!absl::StartsWith(p, "int:")) errors[t] = p;
          }
        } else if (i % 2 == 0) {
          r = c->Run({"LMOVE", src, dst, i % 4 == 0 ? "LEFT" : "RIGHT", "LEFT"});
        } else {
          r = c->Run({"RPOPLPUSH", src, dst});
        }
        if (r != kNil && !absl::StartsWith(r, "str:")) errors[t] = r;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  std::multiset<std::string> seen;
  for (const std::string& k : keys) {
    ReplyPtr r = admin_->Command({"LRANGE", k, "0", "-1"});
    ASSERT_NE(r, nullptr);
    for (size_t i = 0; i < r->elements; ++i) seen.emplace(r->element[i]->str, r->element[i]->len);
  }
  std::multiset<std::string> want(push.begin() + 2, push.end());
  EXPECT_EQ(seen, want);
}

TEST_P(BlockingListTest, RedisBenchmarkListTests) {
  if (IsRedis()) GTEST_SKIP() << "benchmarks Shardis only";
  ShellResult r = RunShell(absl::StrCat("redis-benchmark -p ", server_->port(),
                                        " -t lpush,rpush,lpop,rpop,lrange_100 -n 2000 -q"),
                           "", seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* name : {"LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE_100"}) {
    EXPECT_TRUE(absl::StrContains(r.out, name)) << r.out;
  }
  EXPECT_FALSE(absl::StrContains(r.out, "ERR")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.err, "Error")) << r.err;
  EXPECT_TRUE(server_->Running());
}

SHARDIS_INSTANTIATE_BLOCKING_TEST(BlockingListTest);

}  // namespace
}  // namespace shardis::test
