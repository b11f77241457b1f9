// CLIENT UNBLOCK against Shardis (--threads 2 and 1) and, for the same scenarios, the reference
// redis-server: every blocking command (one key, keys on both shards, BLMOVE between shards,
// XREAD / XREADGROUP BLOCK, WAIT) ended with the timeout reply (default and TIMEOUT) or the
// UNBLOCKED error, from blocked clients and unblockers on several connections (so both threads
// hold blocked clients and unblockers); the reply 1 only for a blocked client, the argument errors,
// pipelined commands after the unblocked one, and the unblocked client's later waits; CLIENT
// LIST's b flag while blocked.
//
// With --threads 2, l1/l2, z1/z2, s1/s2 and a/b hash to different shards (their slots' parity).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/blocking_test.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

constexpr char kUnblockedErr[] = "err:\"UNBLOCKED client unblocked via CLIENT UNBLOCK\"";

class ClientUnblockTest : public BlockingTest {
 protected:
  // CLIENT ID of `c`.
  static std::string IdOf(Client* c) {
    ReplyPtr r = c->Command({"CLIENT", "ID"});
    return r != nullptr && r->type == REDIS_REPLY_INTEGER ? absl::StrCat(r->integer) : "?";
  }
  // Connections of reactor `t` (INFO threads: "threadT:connections=N,..."), or -1.
  int64_t ThreadConnections(int t) {
    std::string line = InfoField(*admin_, absl::StrCat("thread", t), "threads");
    constexpr std::string_view kPrefix = "connections=";
    int64_t n = -1;
    if (line.rfind(kPrefix, 0) != 0) return -1;
    line = line.substr(kPrefix.size());
    return absl::SimpleAtoi(line.substr(0, line.find(',')), &n) ? n : -1;
  }
};

TEST_P(ClientUnblockTest, EndsEveryBlockingCommandWithItsTimeoutReplyOrTheError) {
  ASSERT_EQ(admin_->Run({"XGROUP", "CREATE", "s1", "g", "$", "MKSTREAM"}), "status:\"OK\"");
  struct Case {
    std::vector<std::string> command;
    std::string timeout_reply;
  };
  const std::vector<Case> cases = {
      {{"BLPOP", "l1", "0"}, kNil},
      {{"BRPOP", "l1", "l2", "0"}, kNil},
      {{"BLMPOP", "0", "2", "l2", "l1", "LEFT"}, kNil},
      {{"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}, kNil},
      {{"BRPOPLPUSH", "l2", "b", "0"}, kNil},
      {{"BZPOPMIN", "z1", "z2", "0"}, kNil},
      {{"BZPOPMAX", "z2", "0"}, kNil},
      {{"XREAD", "BLOCK", "0", "STREAMS", "s2", "$"}, kNil},
      {{"XREAD", "BLOCK", "0", "STREAMS", "s1", "s2", "$", "$"}, kNil},
      {{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s1", ">"}, kNil},
      {{"WAIT", "1", "0"}, Int(0)},
  };
  std::vector<std::unique_ptr<Client>> clients;
  // At least 4 connections, and (Shardis with 2 threads) some on each thread: the kernel spreads
  // them by a hash, so connect until both threads hold two (the admin connection is one).
  auto both_threads = [this] {
    if (IsRedis() || GetParam().threads < 2) return true;
    return ThreadConnections(0) >= 2 && ThreadConnections(1) >= 2;
  };
  while (clients.size() < 4 || (clients.size() < 24 && !both_threads())) {
    clients.push_back(Connect());
  }
  ASSERT_TRUE(both_threads());
  std::vector<std::string> ids;
  for (auto& c : clients) ids.push_back(IdOf(c.get()));
  const std::vector<std::vector<std::string>> modes = {{}, {"TIMEOUT"}, {"error"}};
  int round = 0;
  for (const Case& k : cases) {
    for (const auto& mode : modes) {
      // Blocked client and unblocker rotate over the connections (and so over the threads).
      size_t blocked = round % clients.size();
      size_t unblocker =
          (blocked + 1 + (round / clients.size()) % (clients.size() - 1)) % clients.size();
      ++round;
      SCOPED_TRACE(RenderCommand(k.command) + " " + (mode.empty() ? "" : mode[0]));
      Send(clients[blocked].get(), k.command);
      ASSERT_TRUE(WaitBlocked(1));
      // CLIENT LIST's b flag, seen from any thread.
      std::vector<std::string> list = {"CLIENT", "LIST", "ID", ids[blocked]};
      EXPECT_NE(clients[unblocker]->Run(list).find(" flags=b "), std::string::npos);
      std::vector<std::string> unblock = {"CLIENT", "UNBLOCK", ids[blocked]};
      unblock.insert(unblock.end(), mode.begin(), mode.end());
      EXPECT_EQ(clients[unblocker]->Run(unblock), Int(1));
      EXPECT_EQ(Reply(clients[blocked].get()), mode == modes[2] ? kUnblockedErr : k.timeout_reply);
      ASSERT_TRUE(WaitBlocked(0));
      EXPECT_EQ(clients[unblocker]->Run(unblock), Int(0));  // no longer blocked
      EXPECT_NE(clients[unblocker]->Run(list).find(" flags=N "), std::string::npos);
    }
  }
  // Nothing was taken or moved by the unblocked commands.
  EXPECT_EQ(admin_->Run({"DBSIZE"}), Int(1));  // the stream s1
}

TEST_P(ClientUnblockTest, RepliesZeroUnlessBlockedAndChecksItsArguments) {
  auto c = Connect();
  std::string id = IdOf(c.get());
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", id}), Int(0));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", IdOf(admin_.get())}), Int(0));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", "999999"}), Int(0));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", "-1", "TIMEOUT"}), Int(0));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", "abc"}),
            "err:\"ERR value is not an integer or out of range\"");
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", "abc", "nope"}),
            "err:\"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\"");
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", id, "nope"}),
            "err:\"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\"");
  // A client that ran a blocking command that could serve at once is not blocked.
  EXPECT_EQ(c->Run({"RPUSH", "l1", "x"}), Int(1));
  EXPECT_EQ(c->Run({"BLPOP", "l1", "0"}), Arr({Str("l1"), Str("x")}));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", id}), Int(0));
}

TEST_P(ClientUnblockTest, PipelinedCommandsFollowAndTheClientBlocksAgain) {
  auto c = Connect();
  std::string id = IdOf(c.get());
  // The commands after the unblocked one run, in order.
  ASSERT_TRUE(c->Append({"BLPOP", "l1", "l2", "0"}));
  ASSERT_TRUE(c->Append({"RPUSH", "l2", "y"}));
  ASSERT_TRUE(c->Append({"PING"}));
  ASSERT_TRUE(c->Flush());
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", id, "ERROR"}), Int(1));
  EXPECT_EQ(Reply(c.get()), kUnblockedErr);
  EXPECT_EQ(Reply(c.get()), Int(1));
  EXPECT_EQ(Reply(c.get()), "status:\"PONG\"");
  // Blocked again, the client is served by a push as usual; the unblocked wait took nothing.
  Send(c.get(), {"BLPOP", "l1", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"RPUSH", "l1", "z"}), Int(1));
  EXPECT_EQ(Reply(c.get()), Arr({Str("l1"), Str("z")}));
  EXPECT_EQ(admin_->Run({"LRANGE", "l2", "0", "-1"}), Arr({Str("y")}));
  // A push after an unblock stays in the list.
  Send(c.get(), {"BRPOPLPUSH", "a", "b", "0"});
  ASSERT_TRUE(WaitBlocked(1));
  EXPECT_EQ(admin_->Run({"CLIENT", "UNBLOCK", id}), Int(1));
  EXPECT_EQ(Reply(c.get()), kNil);
  EXPECT_EQ(admin_->Run({"RPUSH", "a", "w"}), Int(1));
  EXPECT_EQ(admin_->Run({"LLEN", "a"}), Int(1));
  EXPECT_EQ(admin_->Run({"EXISTS", "b"}), Int(0));
}

INSTANTIATE_TEST_SUITE_P(Servers, ClientUnblockTest,
                         ::testing::Values(Target{2}, Target{1}, Target{0}),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return info.param.threads == 0
                                      ? std::string("Redis")
                                      : absl::StrCat("Shardis", info.param.threads);
                         });

}  // namespace
}  // namespace shardis::test
