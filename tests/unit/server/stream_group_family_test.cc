// Unit tests of the consumer-group commands (server/commands/stream_group_family.cc) through the
// command table with the in-process CommandHarness, with one and four shards. The harness clock
// is exact, so idle times and delivery times are checked to the millisecond (the differential
// test against redis-server has to mask them). Blocking XREADGROUP is exercised by calling its
// handler with a BlockRequest, as the dispatcher does (park, then re-run).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/shard_data.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& e) { return "-" + e + "\r\n"; }
std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string Arr(size_t n) { return "*" + std::to_string(n) + "\r\n"; }
std::string EntryReply(const std::string& id, const std::string& v) {
  return Arr(2) + Bulk(id) + Arr(2) + Bulk("f") + Bulk(v);
}
const std::string kOk = "+OK\r\n";
const std::string kNil = "$-1\r\n";
const std::string kNilArray = "*-1\r\n";

class StreamGroupFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  StreamGroupFamilyTest() : h_(GetParam()) {}
  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }
  void Fill(const std::string& key, int n) {
    for (int i = 1; i <= n; ++i) {
      std::string id = std::to_string(i) + "-0";
      ASSERT_EQ(Run({"XADD", key, id, "f", "v" + std::to_string(i)}), Bulk(id));
    }
  }
  CommandHarness h_;
};

TEST_P(StreamGroupFamilyTest, CreateReadAckPending) {
  Fill("s", 3);
  EXPECT_EQ(Run({"XGROUP", "CREATE", "s", "g", "0"}), kOk);
  EXPECT_EQ(Run({"XGROUP", "CREATE", "s", "g", "0"}),
            Err("BUSYGROUP Consumer Group name already exists"));
  EXPECT_EQ(Run({"XGROUP", "CREATE", "nokey", "g", "$"}),
            Err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
                "may want to use the MKSTREAM option to create an empty stream automatically."));
  EXPECT_EQ(Run({"XGROUP", "CREATE", "nokey", "g", "$", "MKSTREAM"}), kOk);
  EXPECT_EQ(Run({"XLEN", "nokey"}), Int(0));
  EXPECT_EQ(
      Run({"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"}),
      Arr(1) + Arr(2) + Bulk("s") + Arr(2) + EntryReply("1-0", "v1") + EntryReply("2-0", "v2"));
  h_.AdvanceTime(250);
  // XPENDING: summary, then the extended form with exact idle times.
  EXPECT_EQ(Run({"XPENDING", "s", "g"}), Arr(4) + Int(2) + Bulk("1-0") + Bulk("2-0") + Arr(1) +
                                             Arr(2) + Bulk("alice") + Bulk("2"));
  EXPECT_EQ(Run({"XPENDING", "s", "g", "-", "+", "1"}),
            Arr(1) + Arr(4) + Bulk("1-0") + Bulk("alice") + Int(250) + Int(1));
  EXPECT_EQ(Run({"XPENDING", "s", "g", "IDLE", "300", "-", "+", "10"}), Arr(0));
  EXPECT_EQ(Run({"XPENDING", "s", "g", "-", "+", "10", "bob"}), Arr(0));
  // History read: delivery count goes up, the idle time back to 0.
  EXPECT_EQ(
      Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"}),
      Arr(1) + Arr(2) + Bulk("s") + Arr(2) + EntryReply("1-0", "v1") + EntryReply("2-0", "v2"));
  EXPECT_EQ(Run({"XPENDING", "s", "g", "-", "(2-0", "10"}),
            Arr(1) + Arr(4) + Bulk("1-0") + Bulk("alice") + Int(0) + Int(2));
  EXPECT_EQ(Run({"XACK", "s", "g", "1-0", "1-0", "9-0"}), Int(1));
  EXPECT_EQ(Run({"XACK", "s", "g", "bad"}),
            Err("ERR Invalid stream ID specified as stream command argument"));
  EXPECT_EQ(Run({"XACK", "s", "nogroup", "bad"}), Int(0));
  // A deleted pending entry reads back as [id, nil].
  EXPECT_EQ(Run({"XDEL", "s", "2-0"}), Int(1));
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"}),
            Arr(1) + Arr(2) + Bulk("s") + Arr(1) + Arr(2) + Bulk("2-0") + kNilArray);
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "$"}).substr(0, 30),
            "-ERR The $ ID is meaningless i");
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "nog", "alice", "STREAMS", "s", ">"}),
            Err("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"));
  EXPECT_EQ(Run({"XREADGROUP", "COUNT", "1", "STREAMS", "s", "s", ">", ">"}),
            Err("ERR Missing GROUP option for XREADGROUP"));
  EXPECT_EQ(Run({"XREAD", "STREAMS", "s", ">"}),
            Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                "<group> <consumer> option."));
}

TEST_P(StreamGroupFamilyTest, InfoGroupsAndConsumers) {
  Fill("s", 4);
  EXPECT_EQ(Run({"XGROUP", "CREATE", "s", "g", "0"}), kOk);
  EXPECT_EQ(Run({"XGROUP", "CREATECONSUMER", "s", "g", "zed"}), Int(1));
  EXPECT_EQ(Run({"XGROUP", "CREATECONSUMER", "s", "g", "zed"}), Int(0));
  h_.AdvanceTime(40);
  Run({"XREADGROUP", "GROUP", "g", "amy", "COUNT", "3", "STREAMS", "s", ">"});
  h_.AdvanceTime(10);
  auto group_info = [](int consumers, int pending, const std::string& last, const std::string& read,
                       const std::string& lag) {
    return Arr(1) + Arr(12) + Bulk("name") + Bulk("g") + Bulk("consumers") + Int(consumers) +
           Bulk("pending") + Int(pending) + Bulk("last-delivered-id") + Bulk(last) +
           Bulk("entries-read") + read + Bulk("lag") + lag;
  };
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), group_info(2, 3, "3-0", Int(3), Int(1)));
  EXPECT_EQ(Run({"XINFO", "CONSUMERS", "s", "g"}),
            Arr(2) + Arr(6) + Bulk("name") + Bulk("amy") + Bulk("pending") + Int(3) + Bulk("idle") +
                Int(10) + Arr(6) + Bulk("name") + Bulk("zed") + Bulk("pending") + Int(0) +
                Bulk("idle") + Int(50));
  EXPECT_EQ(Run({"XINFO", "CONSUMERS", "s", "nog"}),
            Err("NOGROUP No such consumer group 'nog' for key name 's'"));
  // A tombstone after the group's position: no lag; SETID without ENTRIESREAD: no counter.
  EXPECT_EQ(Run({"XDEL", "s", "4-0"}), Int(1));
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), group_info(2, 3, "3-0", Int(3), kNil));
  EXPECT_EQ(Run({"XGROUP", "SETID", "s", "g", "1-0"}), kOk);
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), group_info(2, 3, "1-0", kNil, kNil));
  EXPECT_EQ(Run({"XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "4"}), kOk);
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), group_info(2, 3, "4-0", Int(4), Int(0)));
  EXPECT_EQ(Run({"XGROUP", "DELCONSUMER", "s", "g", "amy"}), Int(3));
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), group_info(1, 0, "4-0", Int(4), Int(0)));
  EXPECT_EQ(Run({"XGROUP", "DESTROY", "s", "g"}), Int(1));
  EXPECT_EQ(Run({"XGROUP", "DESTROY", "s", "g"}), Int(0));
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), Arr(0));
}

TEST_P(StreamGroupFamilyTest, ClaimAndAutoclaim) {
  Fill("s", 5);
  Run({"XGROUP", "CREATE", "s", "g", "0"});
  Run({"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"});
  h_.AdvanceTime(100);
  // Too recent for min-idle 200: nothing claimed.
  EXPECT_EQ(Run({"XCLAIM", "s", "g", "b", "200", "1-0"}), Arr(0));
  EXPECT_EQ(Run({"XCLAIM", "s", "g", "b", "50", "1-0", "2-0", "JUSTID"}),
            Arr(2) + Bulk("1-0") + Bulk("2-0"));
  EXPECT_EQ(Run({"XCLAIM", "s", "g", "b", "0", "3-0", "RETRYCOUNT", "7", "IDLE", "1000"}),
            Arr(1) + EntryReply("3-0", "v3"));
  EXPECT_EQ(Run({"XPENDING", "s", "g", "3-0", "3-0", "1"}),
            Arr(1) + Arr(4) + Bulk("3-0") + Bulk("b") + Int(1000) + Int(7));
  EXPECT_EQ(Run({"XCLAIM", "s", "g", "b", "0", "3-0", "BOGUS"}),
            Err("ERR Unrecognized XCLAIM option 'BOGUS'"));
  EXPECT_EQ(Run({"XCLAIM", "s", "g", "b", "x", "3-0"}),
            Err("ERR Invalid min-idle-time argument for XCLAIM"));
  // A deleted entry leaves the PEL when claimed.
  Run({"XDEL", "s", "4-0"});
  EXPECT_EQ(Run({"XCLAIM", "s", "g", "b", "0", "4-0"}), Arr(0));
  // XAUTOCLAIM: a cursor, the claimed entries, the deleted IDs it dropped.
  Run({"XDEL", "s", "5-0"});
  EXPECT_EQ(Run({"XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "2", "JUSTID"}),
            Arr(3) + Bulk("3-0") + Arr(2) + Bulk("1-0") + Bulk("2-0") + Arr(0));
  EXPECT_EQ(Run({"XAUTOCLAIM", "s", "g", "c", "0", "3-0"}),
            Arr(3) + Bulk("0-0") + Arr(1) + EntryReply("3-0", "v3") + Arr(1) + Bulk("5-0"));
  EXPECT_EQ(Run({"XPENDING", "s", "g"}),
            Arr(4) + Int(3) + Bulk("1-0") + Bulk("3-0") + Arr(1) + Arr(2) + Bulk("c") + Bulk("3"));
  EXPECT_EQ(Run({"XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"}),
            Err("ERR COUNT must be > 0"));
  EXPECT_EQ(Run({"XAUTOCLAIM", "s", "nog", "c", "0", "0"}),
            Err("NOGROUP No such key 's' or consumer group 'nog'"));
}

TEST_P(StreamGroupFamilyTest, CopyAndRenameCarryGroups) {
  Fill("{k}a", 2);
  Run({"XGROUP", "CREATE", "{k}a", "g", "0"});
  Run({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "{k}a", ">"});
  EXPECT_EQ(Run({"COPY", "{k}a", "{k}b"}), Int(1));
  EXPECT_EQ(Run({"XACK", "{k}a", "g", "1-0"}), Int(1));
  EXPECT_EQ(Run({"XPENDING", "{k}b", "g"}).substr(0, 8), Arr(4) + Int(1));
  EXPECT_EQ(Run({"RENAME", "{k}b", "{k}c"}), kOk);
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{k}c", "0"}),
            Arr(1) + Arr(2) + Bulk("{k}c") + Arr(1) + EntryReply("1-0", "v1"));
}

TEST_P(StreamGroupFamilyTest, KeysOnSeveralShards) {
  Fill("{x}1", 1);
  Fill("{y}2", 1);
  Run({"XGROUP", "CREATE", "{x}1", "g", "0"});
  // The first failing key in argument order decides the error; nothing is served.
  EXPECT_EQ(
      Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{x}1", "{y}2", ">", ">"}),
      Err("NOGROUP No such key '{y}2' or consumer group 'g' in XREADGROUP with GROUP option"));
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{x}1", "{y}2", "bad", ">"}),
            Err("ERR Invalid stream ID specified as stream command argument"));
  EXPECT_EQ(Run({"XPENDING", "{x}1", "g"}).substr(0, 8), Arr(4) + Int(0));
  Run({"XGROUP", "CREATE", "{y}2", "g", "0"});
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{y}2", "{x}1", ">", ">"}),
            Arr(2) + Arr(2) + Bulk("{y}2") + Arr(1) + EntryReply("1-0", "v1") + Arr(2) +
                Bulk("{x}1") + Arr(1) + EntryReply("1-0", "v1"));
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{y}2", "{x}1", ">", ">"}), kNilArray);
  EXPECT_EQ(Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{y}2", "{x}1", "0", ">"}),
            Arr(1) + Arr(2) + Bulk("{y}2") + Arr(1) + EntryReply("1-0", "v1"));
  // Nothing new: a blocking read would wait (here, without a server to wait in, nil as in MULTI),
  // whether or not the keys share a shard.
  EXPECT_EQ(
      Run({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "{x}1", "{y}2", ">", ">"}),
      kNilArray);
}

INSTANTIATE_TEST_SUITE_P(Shards, StreamGroupFamilyTest, ::testing::Values(1, 4));

// The blocking protocol, driven as the dispatcher drives it.
TEST(StreamGroupBlockingTest, ParkRerunAndErrors) {
  ShardData shard(16);
  shard.clock().now_ms = 1000;
  Config config;
  auto run = [&](std::vector<std::string> argv, BlockRequest* block, bool retrying) {
    const CommandSpec* spec = CommandTable::Get().Find(argv[0]);
    std::vector<std::string_view> args(argv.begin(), argv.end());
    std::string out;
    ReplyBuilder reply(&out, RespVersion::kResp2);
    ShardCommand cmd{args, shard, shard.db(0), 0, reply, config, block, retrying};
    spec->on_shard(cmd);
    return out;
  };
  BlockRequest none;
  run({"XADD", "s", "1-0", "f", "v1"}, &none, false);
  run({"XGROUP", "CREATE", "s", "g", "$"}, &none, false);
  const std::vector<std::string> read = {"XREADGROUP", "GROUP",   "g", "c", "BLOCK",
                                         "300",        "STREAMS", "s", ">"};
  BlockRequest block;
  EXPECT_EQ(run(read, &block, false), "");
  ASSERT_TRUE(block.requested);
  EXPECT_EQ(block.keys, (std::vector<std::string>{"s"}));
  EXPECT_EQ(block.deadline_ms, 1300);
  BlockRequest again;
  EXPECT_EQ(run(read, &again, true), "");  // nothing new: keeps waiting
  EXPECT_TRUE(again.requested);
  run({"XADD", "s", "2-0", "f", "v2"}, &none, false);
  BlockRequest served;
  EXPECT_EQ(run(read, &served, true),
            Arr(1) + Arr(2) + Bulk("s") + Arr(1) + EntryReply("2-0", "v2"));
  EXPECT_FALSE(served.requested);
  // Without a BlockRequest (MULTI, scripts) it answers nil at once.
  EXPECT_EQ(run(read, nullptr, false), kNilArray);
  // Group destroyed, key deleted: the errors Redis 7.0 gives a blocked reader.
  run({"XGROUP", "DESTROY", "s", "g"}, &none, false);
  EXPECT_EQ(run(read, &again, true),
            Err("NOGROUP the consumer group this client was blocked on no longer exists"));
  run({"DEL", "s"}, &none, false);
  EXPECT_EQ(run(read, &again, true), Err("UNBLOCKED the stream key no longer exists"));
}

}  // namespace
}  // namespace shardis
