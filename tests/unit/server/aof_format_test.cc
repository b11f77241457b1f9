// AOF pieces without a server: Redis 7.0's manifest format, the RESP command reader used by the
// replay (complete, truncated and malformed input), and the forms in which write commands are
// recorded (as redis-server 7.0 propagates them).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/aof.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

TEST(AofManifest, ParsesAndFormatsRedisFormat) {
  std::string text =
      "file appendonly.aof.1.base.rdb seq 1 type b\n"
      "file appendonly.aof.1.incr.aof seq 1 type h\n"
      "# a comment\n"
      "file appendonly.aof.2.incr.aof seq 2 type i\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n";
  std::vector<aof::ManifestEntry> entries;
  ASSERT_EQ(aof::ParseManifest(text, &entries), "");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].name, "appendonly.aof.1.base.rdb");
  EXPECT_EQ(entries[0].type, 'b');
  EXPECT_EQ(entries[3].seq, 3);
  std::string without_comment =
      "file appendonly.aof.1.base.rdb seq 1 type b\n"
      "file appendonly.aof.1.incr.aof seq 1 type h\n"
      "file appendonly.aof.2.incr.aof seq 2 type i\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n";
  EXPECT_EQ(aof::FormatManifest(entries), without_comment);
}

TEST(AofManifest, RejectsMalformedLines) {
  std::vector<aof::ManifestEntry> entries;
  EXPECT_NE(aof::ParseManifest("file a seq 1 type x\n", &entries), "");
  EXPECT_NE(aof::ParseManifest("file a seq\n", &entries), "");
  EXPECT_NE(aof::ParseManifest("file a seq one type i\n", &entries), "");
  EXPECT_NE(aof::ParseManifest("file a seq 1 type b\nfile b seq 2 type b\n", &entries), "");
}

std::vector<std::vector<std::string>> ParseAll(std::string_view data, size_t* valid,
                                               bool* truncated, std::string* error) {
  std::vector<std::vector<std::string>> out;
  *valid = aof::ParseCommands(
      data,
      [&](std::vector<std::string>&& argv, size_t) {
        out.push_back(std::move(argv));
        return true;
      },
      truncated, error);
  return out;
}

TEST(AofCommands, ReadsCompleteTruncatedAndMalformedInput) {
  std::string two = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\r\n\r\n";
  size_t valid = 0;
  bool truncated = false;
  std::string error;
  auto cmds = ParseAll(two, &valid, &truncated, &error);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[1][2], "\r\n");  // binary-safe
  EXPECT_EQ(valid, two.size());
  EXPECT_FALSE(truncated);
  EXPECT_EQ(error, "");
  // Every other proper prefix ends in a truncated command, cut back to the last whole one.
  for (size_t n = 1; n < two.size(); ++n) {
    cmds = ParseAll(std::string_view(two).substr(0, n), &valid, &truncated, &error);
    EXPECT_EQ(truncated, n != 23) << n;  // 23: exactly the SELECT
    EXPECT_EQ(error, "") << n;
    EXPECT_EQ(valid, n < 23 ? 0u : 23u) << n;
  }
  cmds = ParseAll(two + "garbage\r\n", &valid, &truncated, &error);
  EXPECT_EQ(valid, two.size());
  EXPECT_NE(error.find("offset " + std::to_string(two.size())), std::string::npos) << error;
  cmds = ParseAll("*1\r\n$3\r\nabcd\r\n", &valid, &truncated, &error);
  EXPECT_NE(error, "");
}

// Runs a command on a one-shard setup and returns its records (SELECTs left out), one line per
// command, arguments separated by spaces.
class AofPropagation : public ::testing::Test {
 protected:
  AofPropagation() : shard_(16) {
    shard_.set_placement(0, 1);
    shard_.clock().now_ms = kNow;
  }
  std::string Run(std::vector<std::string> argv) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    const CommandSpec* spec = CommandTable::Get().Find(args[0]);
    EXPECT_NE(spec, nullptr);
    std::string out;
    ReplyBuilder reply(&out, RespVersion::kResp2);
    ShardCommand cmd{args, shard_, shard_.db(0), 0, reply, config_};
    spec->on_shard(cmd);
    aof::Sink sink;
    {
      aof::Capture capture(&sink);
      aof::Propagate(*spec, cmd, out);
    }
    std::string lines;
    aof::ParseCommands(
        sink.buf,
        [&](std::vector<std::string>&& a, size_t) {
          if (a[0] == "SELECT") return true;
          std::string line;
          for (const std::string& s : a) line += (line.empty() ? "" : " ") + s;
          lines += line + "\n";
          return true;
        },
        &truncated_, &error_);
    return lines;
  }

  static constexpr int64_t kNow = 1'700'000'000'000;
  ShardData shard_;
  Config config_;
  bool truncated_ = false;
  std::string error_;
};

TEST_F(AofPropagation, RelativeTimesBecomeAbsolute) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "10"}), "SET k v PXAT 1700000010000\n");
  EXPECT_EQ(Run({"SET", "k", "v", "PX", "10", "NX"}), "SET k v PXAT 1700000000010 NX\n");
  EXPECT_EQ(Run({"SETEX", "k", "5", "v"}), "SET k v PXAT 1700000005000\n");
  EXPECT_EQ(Run({"PSETEX", "k", "5", "v"}), "SET k v PXAT 1700000000005\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "100"}), "PEXPIREAT k 1700000100000\n");
  EXPECT_EQ(Run({"EXPIRE", "nokey", "100"}), "");
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "NX"}), "");  // has a TTL: not set, nothing logged
  EXPECT_EQ(Run({"GETEX", "k", "PX", "7"}), "PEXPIREAT k 1700000000007\n");
  EXPECT_EQ(Run({"GETEX", "k", "PERSIST"}), "PERSIST k\n");
  EXPECT_EQ(Run({"GETEX", "k"}), "");
  EXPECT_EQ(Run({"EXPIRE", "k", "-1"}), "DEL k\n");
}

TEST_F(AofPropagation, NondeterministicCommandsLogTheirEffect) {
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "1.5"}), "SET f 1.5 KEEPTTL\n");
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "x", "2"}), "HSET h x 2\n");
  Run({"SADD", "s", "only"});
  EXPECT_EQ(Run({"SPOP", "s"}), "SREM s only\n");
  Run({"SADD", "s", "a"});
  EXPECT_EQ(Run({"SPOP", "s", "3"}), "SREM s a\n");
  EXPECT_EQ(Run({"SPOP", "s"}), "");
  EXPECT_EQ(Run({"XADD", "st", "MAXLEN", "~", "10", "7-*", "f", "v"}),
            "XADD st MAXLEN = 1 7-0 f v\n");  // "~" logged exact, to what it left
  EXPECT_EQ(Run({"XADD", "st", "MINID", "~", "1", "LIMIT", "5", "8-1", "f", "v"}),
            "XADD st MINID = 7-0 8-1 f v\n");
  EXPECT_EQ(Run({"XTRIM", "st", "MAXLEN", "=", "1"}), "XTRIM st MAXLEN = 1\n");
  Run({"RPUSH", "l", "a", "b"});
  EXPECT_EQ(Run({"BLPOP", "l", "0"}), "LPOP l\n");
  EXPECT_EQ(Run({"BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"}), "RPOP l 1\n");
  EXPECT_EQ(Run({"GETDEL", "f"}), "DEL f\n");
  EXPECT_EQ(Run({"GET", "f"}), "");  // reads log nothing
  EXPECT_EQ(Run({"INCR", "nan"}), "INCR nan\n");
  EXPECT_EQ(Run({"SET", "str", "x"}), "SET str x\n");
  EXPECT_EQ(Run({"INCR", "str"}), "");  // an error reply logs nothing
}

}  // namespace
}  // namespace shardis
