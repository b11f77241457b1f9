// Differential regression cases found by running a client library's own test suite (redis-py)
// against shardis-server (--threads 2) and the reference redis-server 7.0: replies must match.
// Each case is a command a client library's tests (or its users) send whose reply differed:
// DEBUG ERROR (clients fake LOADING / READONLY errors with it), DEBUG OBJECT, COMMAND GETKEYS's
// arity, CLIENT KILL USER of an unknown user, CLIENT REPLY ON, ACL LOG's count argument. Both
// servers run with enable-debug-command yes, as client libraries' CI runs redis-server.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

class DifferentialClientCompatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(2, {"--enable-debug-command", "yes"}, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis({"--enable-debug-command", "yes"}, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    sh_ = Client::Connect(shardis_->port(), seconds(10), &error);
    ASSERT_NE(sh_, nullptr) << error;
    ref_ = Client::Connect(redis_->port(), seconds(10), &error);
    ASSERT_NE(ref_, nullptr) << error;
  }

  void Both(const std::vector<std::string>& args) {
    std::string a = sh_->Run(args);
    std::string b = ref_->Run(args);
    EXPECT_EQ(a, b) << "command: " << RenderCommand(args);
  }

  std::unique_ptr<ServerProcess> shardis_, redis_;
  std::unique_ptr<Client> sh_, ref_;
};

TEST_F(DifferentialClientCompatTest, DebugErrorAndObject) {
  Both({"DEBUG", "ERROR", "LOADING fake message"});
  Both({"DEBUG", "ERROR", "READONLY You can't write against a read only replica."});
  Both({"DEBUG", "ERROR", "ERR with\r\nnewlines"});
  Both({"DEBUG", "OBJECT", "nokey"});
  Both({"SET", "a", "1"});
  // The address and clock differ; the reply is a status line with Redis's fields.
  for (Client* c : {sh_.get(), ref_.get()}) {
    std::string line = c->Run({"DEBUG", "OBJECT", "a"});
    EXPECT_NE(line.find("Value at:"), std::string::npos) << line;
    EXPECT_NE(line.find(" refcount:"), std::string::npos) << line;
    EXPECT_NE(line.find(" encoding:int serializedlength:"), std::string::npos) << line;
    EXPECT_NE(line.find(" lru_seconds_idle:"), std::string::npos) << line;
  }
}

TEST_F(DifferentialClientCompatTest, CommandGetKeysArity) {
  Both({"COMMAND", "GETKEYS", "GET"});
  Both({"COMMAND", "GETKEYS", "PING"});
  Both({"COMMAND", "GETKEYS", "PING", "x"});
  Both({"COMMAND", "GETKEYS", "SET", "a", "b"});
  Both({"COMMAND", "GETKEYS", "NOSUCH", "a"});
  Both({"COMMAND", "GETKEYS", "GET", "a", "b"});
  Both({"COMMAND", "INFO", "command|getkeys"});
}

TEST_F(DifferentialClientCompatTest, ClientKillUserAndReply) {
  Both({"CLIENT", "KILL", "USER", "nouser"});
  Both({"CLIENT", "KILL", "USER", "default", "SKIPME", "yes"});
  Both({"CLIENT", "KILL", "USER", "nouser", "SKIPME", "yes"});
  Both({"CLIENT", "REPLY", "ON"});
  Both({"CLIENT", "REPLY", "bogus"});
  Both({"PING"});
}

TEST_F(DifferentialClientCompatTest, AclLogCount) {
  Both({"ACL", "LOG", "x"});
  Both({"ACL", "LOG", "-1"});
  Both({"ACL", "LOG", "0"});
  Both({"AUTH", "nouser", "wrong"});
  Both({"ACL", "LOG", "-5"});
  Both({"ACL", "LOG", "0"});
  Both({"ACL", "LOG", "RESET"});
}

}  // namespace
}  // namespace shardis::test
