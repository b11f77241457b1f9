// Corners found by running Redis's own tcl suite differentially (a redis-server 7.0 passes, we
// did not): each session is a short fixed command sequence sent on one connection, in order, to
// a 2-thread shardis-server and to the reference redis-server; the rendered replies must be
// identical. Sessions are independent (each starts with FLUSHALL) and bounded.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using Cmds = std::vector<std::vector<std::string>>;

std::vector<std::string> Session(int port, const Cmds& cmds) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  out.push_back(c->Run({"FLUSHALL"}));
  for (const auto& cmd : cmds) out.push_back(RenderCommand(cmd) + " -> " + c->Run(cmd));
  return out;
}

class DifferentialCorners : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    shardis_ = StartShardis(2, {}, &error).release();
    ASSERT_NE(shardis_, nullptr) << error;
    redis_ = StartRedis({}, &error).release();
    ASSERT_NE(redis_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete shardis_;
    delete redis_;
    shardis_ = nullptr;
    redis_ = nullptr;
  }
  static void Compare(const Cmds& cmds) {
    ASSERT_NE(shardis_, nullptr);
    ASSERT_NE(redis_, nullptr);
    std::vector<std::string> want = Session(redis_->port(), cmds);
    std::vector<std::string> got = Session(shardis_->port(), cmds);
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "step " << i;
  }
  static ServerProcess* shardis_;
  static ServerProcess* redis_;
};
ServerProcess* DifferentialCorners::shardis_ = nullptr;
ServerProcess* DifferentialCorners::redis_ = nullptr;

// A refused EXEC (here: wrong arity) discards the transaction and says why, without "ERR".
TEST_F(DifferentialCorners, RefusedExecDiscardsTransaction) {
  Compare({{"EXEC", "foo"},
           {"SET", "k", "1"},
           {"WATCH", "k"},
           {"MULTI"},
           {"INCR", "k"},
           {"EXEC", "extra"},
           {"PING"},
           {"EXEC"},
           {"GET", "k"}});
}

// Any command refused inside MULTI, transaction control included, dooms the transaction.
TEST_F(DifferentialCorners, RefusedControlCommandsAbortMulti) {
  Compare({{"MULTI"},
           {"DISCARD", "x"},
           {"SET", "a", "1"},
           {"EXEC"},
           {"EXISTS", "a"},
           {"MULTI"},
           {"MULTI", "x"},
           {"SET", "a", "1"},
           {"EXEC"},
           {"EXISTS", "a"},
           {"MULTI"},
           {"MULTI"},
           {"SET", "a", "1"},
           {"EXEC"},
           {"EXISTS", "a"}});
}

// FLUSHDB/FLUSHALL only touch WATCHed keys that existed.
TEST_F(DifferentialCorners, FlushTouchesOnlyExistingWatchedKeys) {
  Cmds cmds;
  for (const char* flush : {"FLUSHDB", "FLUSHALL"}) {
    for (const std::string& key : {"x", "{t}y", "z9"}) {
      cmds.push_back({"WATCH", key});  // does not exist
      cmds.push_back({flush});
      cmds.push_back({"MULTI"});
      cmds.push_back({"PING"});
      cmds.push_back({"EXEC"});
      cmds.push_back({"SET", key, "1"});
      cmds.push_back({"WATCH", key, "nokey"});  // exists
      cmds.push_back({flush});
      cmds.push_back({"MULTI"});
      cmds.push_back({"PING"});
      cmds.push_back({"EXEC"});
    }
  }
  Compare(cmds);
}

}  // namespace
}  // namespace shardis::test
