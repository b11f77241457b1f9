// CLIENT REPLY ON|OFF|SKIP against the reference redis-server: the same pipelined sessions on
// both servers give the same reply streams (replies are read up to a final ECHO marker, so
// nothing depends on timing). Keys spread over the shards of a 3-thread Shardis, so dropped
// replies come from inline, batched, fanned-out and cross-shard commands alike.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using Cmds = std::vector<std::vector<std::string>>;

// Sends every command in one write (pipelined), then CLIENT REPLY ON and ECHO END, and returns
// the replies received up to END.
std::vector<std::string> Session(int port, const Cmds& cmds) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::string bytes;
  auto encode = [&bytes](const std::vector<std::string>& args) {
    bytes += "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args) bytes += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  };
  for (const auto& cmd : cmds) encode(cmd);
  encode({"CLIENT", "REPLY", "ON"});
  encode({"ECHO", "END"});
  if (!c->Send(bytes)) return {"send-failed"};
  std::vector<std::string> out;
  for (int i = 0; i < 1000; ++i) {
    auto v = c->Read();
    if (!v) {
      out.push_back("read-failed");
      break;
    }
    out.push_back(v->Render());
    if (v->type == RespValue::Type::kBulk && v->str == "END") break;
  }
  return out;
}

class ClientReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(3, {}, &error);
    ASSERT_NE(shardis_, nullptr) << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << error;
  }
  void Same(const Cmds& cmds) {
    auto want = Session(redis_->port(), cmds);
    auto got = Session(shardis_->port(), cmds);
    EXPECT_EQ(got, want);
  }
  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
};

TEST_F(ClientReplyTest, OffDropsEverythingUntilOn) {
  Cmds cmds = {{"CLIENT", "REPLY", "OFF"}};
  for (int i = 0; i < 20; ++i) {
    cmds.push_back({"SET", "k" + std::to_string(i), std::to_string(i)});
    cmds.push_back({"GET", "k" + std::to_string(i)});
  }
  cmds.push_back({"MSET", "a", "1", "b", "2", "c", "3"});
  cmds.push_back({"MGET", "a", "b", "c", "k1"});
  cmds.push_back({"DEL", "k1", "k2", "k3"});
  cmds.push_back({"NOSUCHCOMMAND"});
  cmds.push_back({"GET"});
  cmds.push_back({"INCR", "a", "extra"});
  cmds.push_back({"DBSIZE"});
  cmds.push_back({"CLIENT", "REPLY", "SKIP"});  // ignored while OFF
  cmds.push_back({"CLIENT", "REPLY", "ON"});
  for (int i = 0; i < 6; ++i) cmds.push_back({"GET", "k" + std::to_string(i)});
  cmds.push_back({"MGET", "a", "b", "c"});
  cmds.push_back({"DBSIZE"});
  Same(cmds);
}

TEST_F(ClientReplyTest, SkipDropsOnlyTheNextCommand) {
  Cmds cmds;
  for (int i = 0; i < 12; ++i) {
    cmds.push_back({"SET", "s" + std::to_string(i), "v" + std::to_string(i)});
  }
  // SKIP before commands of every shard, pipelined with the ones that follow.
  for (int i = 0; i < 12; ++i) {
    cmds.push_back({"CLIENT", "REPLY", "SKIP"});
    cmds.push_back({"GET", "s" + std::to_string(i)});
    cmds.push_back({"GET", "s" + std::to_string((i + 1) % 12)});
    cmds.push_back({"GET", "s" + std::to_string((i + 5) % 12)});
  }
  cmds.push_back({"CLIENT", "REPLY", "SKIP"});
  cmds.push_back({"CLIENT", "REPLY", "SKIP"});  // skipped itself, and skips the next
  cmds.push_back({"GET", "s1"});
  cmds.push_back({"GET", "s2"});
  cmds.push_back({"CLIENT", "REPLY", "SKIP"});
  cmds.push_back({"MGET", "s1", "s2", "s3", "s4"});
  cmds.push_back({"MGET", "s1", "s2", "s3", "s4"});
  cmds.push_back({"CLIENT", "REPLY", "SKIP"});
  cmds.push_back({"CLIENT", "REPLY", "ON"});  // clears the skip: its +OK shows
  cmds.push_back({"GET", "s3"});
  cmds.push_back({"CLIENT", "REPLY", "SKIP"});
  cmds.push_back({"NOSUCHCOMMAND"});  // its error is skipped
  cmds.push_back({"PING"});
  Same(cmds);
}

TEST_F(ClientReplyTest, BadSubcommandsAndArity) {
  Same({{"CLIENT", "REPLY", "MAYBE"},
        {"CLIENT", "REPLY"},
        {"CLIENT", "REPLY", "ON", "extra"},
        {"CLIENT", "REPLY", "on"},
        {"CLIENT", "REPLY", "off"},
        {"CLIENT", "REPLY", "MAYBE"},  // the error is dropped too
        {"client", "reply", "On"},
        {"PING"}});
}

TEST_F(ClientReplyTest, TransactionsAndReset) {
  Same({{"CLIENT", "REPLY", "SKIP"},
        {"MULTI"},
        {"SET", "t1", "1"},
        {"INCR", "t1"},
        {"EXEC"},
        {"CLIENT", "REPLY", "OFF"},
        {"MULTI"},
        {"SET", "t2", "x"},
        {"GET", "t1"},
        {"EXEC"},
        {"CLIENT", "REPLY", "ON"},
        {"MGET", "t1", "t2"},
        {"MULTI"},
        {"CLIENT", "REPLY", "MAYBE"},  // queued: the error shows when EXEC runs it
        {"GET", "t1"},
        {"EXEC"},
        {"CLIENT", "REPLY", "SKIP"},
        {"EXEC"},  // error (no MULTI), skipped
        {"CLIENT", "REPLY", "OFF"},
        {"RESET"},  // RESET turns replies back on
        {"PING"}});
}

}  // namespace
}  // namespace shardis::test
