// RunCommandOnShard (server/command.h): the primitive an atomic operation's tasks (e.g. a script's
// redis.call) use to run one command on a shard.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/command.h"
#include "server/config.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

TEST(RunCommandOnShardTest, RunsLikeATransactionDoes) {
  ShardData shard(16);
  Config config;
  ShardAccess a{shard, shard.db(0), 0, 0, config, 1};
  auto run = [&](std::vector<std::string_view> args, std::string* out) {
    out->clear();
    return RunCommandOnShard(a, args, RespVersion::kResp2, out);
  };
  std::string out;
  EXPECT_TRUE(run({"SET", "k", "v"}, &out));
  EXPECT_EQ(out, "+OK\r\n");
  EXPECT_TRUE(run({"get", "k"}, &out));
  EXPECT_EQ(out, "$1\r\nv\r\n");
  // Blocking commands never block: they reply as on timeout.
  EXPECT_TRUE(run({"BLPOP", "nothing", "0"}, &out));
  EXPECT_EQ(out, "*-1\r\n");
  // Not runnable here: nothing is written.
  EXPECT_FALSE(run({"NOSUCH"}, &out));
  EXPECT_FALSE(run({"GET"}, &out));
  EXPECT_FALSE(run({"PING"}, &out));  // no on_shard handler
  EXPECT_EQ(out, "");
}

TEST(RunCommandOnShardTest, RefusesKeysOfOtherShards) {
  ShardData shard(16);
  Config config;
  // Of two shards, find a key of shard 1 while running as shard 0.
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    std::string k = "k" + std::to_string(i);
    if (ShardOfKey(k, 2) == 1) other = k;
  }
  ShardAccess a{shard, shard.db(0), 0, 0, config, 2};
  std::string out;
  std::vector<std::string_view> args = {"SET", other, "v"};
  EXPECT_FALSE(RunCommandOnShard(a, args, RespVersion::kResp2, &out));
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace shardis
