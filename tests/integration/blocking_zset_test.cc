// End-to-end tests of the blocking sorted-set pops (BZPOPMIN BZPOPMAX BZMPOP) against a real
// shardis-server (--threads 4 and 1) and, for the same scenarios, the reference redis-server:
// a blocked client served by a ZADD (or a ZUNIONSTORE / ZINCRBY) from another connection,
// timeouts, first-come first-served order of two waiters, multi-key waits (a waited key turned
// into a string is skipped), disconnection while blocked, RESP3 replies, and (Shardis with several
// threads only) CROSSSLOT for keys on different shards. Also runs redis-benchmark's zadd/zpopmin
// tests against Shardis.
//
// Each blocked client is a hiredis connection whose command is sent with Append/Flush and whose
// reply is read later; the test waits for INFO clients to report it blocked before going on, so
// the order of events is deterministic. Timing checks have generous upper bounds.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/blocking_test.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// BZPOPMIN / BZPOPMAX's reply.
std::string Popped(std::string_view key, std::string_view member, std::string_view score) {
  return Arr({Str(key), Str(member), Str(score)});
}

class BlockingZSetTest : public BlockingTest {};

TEST_P(BlockingZSetTest, ZaddFromAnotherConnectionServesTheBlockedClient) {
  // Several keys and connections, so waiter, writer and key sit on various threads.
  for (int i = 0; i < 8; ++i) {
    std::string key = absl::StrCat("zkey", i);
    auto waiter = Connect();
    auto writer = Connect();
    Send(waiter.get(), {"BZPOPMIN", key, "0"});
    ASSERT_TRUE(WaitBlocked(1));
    EXPECT_EQ(writer->Run({"ZADD", key, "2", "b", "1", "a"}), Int(2));
    EXPECT_EQ(Reply(waiter.get()), Popped(key, "a", "1"));
    ASSERT_TRUE(WaitBlocked(0));
    EXPECT_EQ(writer->Run({"ZRANGE", key, "0", "-1"}), Arr({Str("b")}));
    // The waiter's connection goes on normally afterwards.
    EXPECT_EQ(waiter->Run({"BZPOPMAX", key, "0"}), Popped(key, "b", "2"));
    EXPECT_EQ(waiter->Run({"EXISTS", key}), Int(0));
  }
}

TEST_P(BlockingZSetTest, TimeoutRepliesNil) {
  auto c = Connect();
  Clock::time_point start = Clock::now();
  EXPECT_EQ(c->Run({"BZPOPMIN", "nothing", "0.2"}), kNil);
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(150));
  EXPECT_LT(elapsed, seconds(5));
  start = Clock::now();
  EXPECT_EQ(c->Run({"BZMPOP", "0.1", "2", "nothing{x}", "other{x}", "MAX"}), kNil);
  EXPECT_GE(Clock::now() - start, milliseconds(60));
  EXPECT_EQ(c->Run({"PING"}), "status:\"PONG\"");
  EXPECT_EQ(BlockedClients(), 0);
}

TEST_P(BlockingZSetTest, TwoWaitersAreServedFirstComeFirstServed) {
  auto first = Connect();
  auto second = Connect();
  auto writer = Connect();
  Send(first.get(), {"BZPOPMIN", "fifo", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  Send(second.get(), {"BZPOPMAX", "fifo", "0"});
  ASSERT_TRUE(WaitBlocked(2));
  EXPECT_EQ(writer->Run({"ZADD", "fifo", "1", "x"}), Int(1));
  EXPECT_EQ(Reply(first.get()), Popped("fifo", "x", "1"));
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(writer->Run({"ZADD", "fifo", "5", "y", "7", "z"}), Int(2));
  EXPECT_EQ(Reply(second.get()), Popped("fifo", "z", "7"));
  ASSERT_TRUE(WaitBlocked(0));
  EXPECT_EQ(writer->Run({"ZRANGE", "fifo", "0", "-1", "WITHSCORES"}), Arr({Str("y"), Str("5")}));
  // Both waiters served by one write that brings enough elements.
  Send(first.get(), {"BZPOPMIN", "fifo2", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  Send(second.get(), {"BZPOPMIN", "fifo2", "0"});
  ASSERT_TRUE(WaitBlocked(2));
  EXPECT_EQ(writer->Run({"ZADD", "fifo2", "1", "a", "2", "b", "3", "c"}), Int(3));
  EXPECT_EQ(Reply(first.get()), Popped("fifo2", "a", "1"));
  EXPECT_EQ(Reply(second.get()), Popped("fifo2", "b", "2"));
  EXPECT_EQ(writer->Run({"ZCARD", "fifo2"}), Int(1));
}

TEST_P(BlockingZSetTest, MultiKeyWaitAndOtherWriters) {
  auto waiter = Connect();
  auto writer = Connect();
  // The second key gets the data; a key turned into a string meanwhile is skipped.
  Send(waiter.get(), {"BZPOPMAX", "{k}a", "{k}b", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(writer->Run({"SET", "{k}a", "str"}), "status:\"OK\"");
  EXPECT_EQ(BlockedClients(), 1);
  EXPECT_EQ(writer->Run({"ZADD", "{k}b", "3", "m", "4", "n"}), Int(2));
  EXPECT_EQ(Reply(waiter.get()), Popped("{k}b", "n", "4"));
  // ZUNIONSTORE and ZINCRBY creating the key serve waiters too.
  EXPECT_EQ(writer->Run({"ZADD", "{k}src", "9", "u"}), Int(1));
  Send(waiter.get(), {"BZPOPMIN", "{k}dst", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(writer->Run({"ZUNIONSTORE", "{k}dst", "1", "{k}src"}), Int(1));
  EXPECT_EQ(Reply(waiter.get()), Popped("{k}dst", "u", "9"));
  Send(waiter.get(), {"BZMPOP", "0", "2", "{k}c", "{k}d", "MIN", "COUNT", "3"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(writer->Run({"ZINCRBY", "{k}d", "2.5", "v"}), Str("2.5"));
  EXPECT_EQ(Reply(waiter.get()), Arr({Str("{k}d"), Arr({Arr({Str("v"), Str("2.5")})})}));
  EXPECT_EQ(writer->Run({"EXISTS", "{k}d"}), Int(0));
}

TEST_P(BlockingZSetTest, DisconnectedWaiterConsumesNothing) {
  {
    auto waiter = Connect();
    Send(waiter.get(), {"BZPOPMIN", "gone", "0"});
    ASSERT_TRUE(WaitBlocked(1));
  }
  ASSERT_TRUE(WaitBlocked(0));
  EXPECT_EQ(admin_->Run({"ZADD", "gone", "1", "a"}), Int(1));
  EXPECT_EQ(admin_->Run({"ZCARD", "gone"}), Int(1));
}

TEST_P(BlockingZSetTest, Resp3Replies) {
  std::string error;
  auto raw = RawConnection::Connect(server_->port(), &error);
  ASSERT_NE(raw, nullptr) << error;
  ASSERT_TRUE(absl::StartsWith(raw->Run({"HELLO", "3"}), "map:"));
  EXPECT_EQ(raw->Run({"BZPOPMIN", "r3", "0.05"}), kNil);
  ASSERT_TRUE(raw->SendCommand({"BZPOPMAX", "r3", "0"}));
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"ZADD", "r3", "1.5", "a"}), Int(1));
  std::optional<RespValue> v = raw->Read();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->Render(), "arr:[str:\"r3\",str:\"a\",double:\"1.5\"]");
  EXPECT_EQ(raw->Run({"BZMPOP", "0.05", "1", "r3", "MIN"}), kNil);
}

TEST_P(BlockingZSetTest, KeysOnDifferentShards) {
  if (IsRedis() || GetParam().threads < 2) GTEST_SKIP() << "one shard: no cross-slot case";
  // Blocking pops over keys of several shards time out like Redis's (and are served: see
  // tests/integration/coordination_test.cc).
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(admin_->Run({"BZPOPMIN", "k0", absl::StrCat("k", i), "0.01"}), kNil);
  }
  // Non-blocking ZMPOP works across shards.
  EXPECT_EQ(admin_->Run({"ZADD", "k7", "1", "a"}), Int(1));
  EXPECT_EQ(admin_->Run({"ZMPOP", "8", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "MIN"}),
            Arr({Str("k7"), Arr({Arr({Str("a"), Str("1")})})}));
}

TEST_P(BlockingZSetTest, RedisBenchmarkZaddZpopmin) {
  if (IsRedis()) GTEST_SKIP() << "Shardis only";
  ShellResult r =
      RunShell(absl::StrCat("redis-benchmark -p ", server_->port(), " -t zadd,zpopmin -n 2000 -q"),
               "", seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "ZADD")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "ZPOPMIN")) << r.out;
  EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(r.out + r.err), "error")) << r.out << r.err;
  EXPECT_EQ(admin_->Run({"PING"}), "status:\"PONG\"");
}

SHARDIS_INSTANTIATE_BLOCKING_TEST(BlockingZSetTest);

}  // namespace
}  // namespace shardis::test
