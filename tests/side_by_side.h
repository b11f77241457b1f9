// A differential test fixture: a Shardis (two threads, so commands cross threads) and the
// reference redis-server, started with the same extra arguments, with a hiredis client on each.
// Both() runs one command on each and expects the same rendered reply.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {

class SideBySideTest : public ::testing::Test {
 protected:
  // `timeout` bounds every read: a command that would block for ever fails instead of hanging.
  void StartBoth(const std::vector<std::string>& extra,
                 std::chrono::seconds timeout = std::chrono::seconds(10)) {
    std::string error;
    shardis_ = StartShardis(2, extra, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis(extra, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    sh_ = Client::Connect(shardis_->port(), timeout, &error);
    ASSERT_NE(sh_, nullptr) << error;
    ref_ = Client::Connect(redis_->port(), timeout, &error);
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

}  // namespace shardis::test
