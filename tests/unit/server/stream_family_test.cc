// Unit tests of the stream commands (server/commands/stream_family.cc), run through the command
// table with the in-process CommandHarness (single test thread), with one and with four shards.
// Expected replies are redis-server 7.0's, byte for byte. Blocking XREAD is also exercised by
// calling its handler directly with a BlockRequest, as the dispatcher does (park, then re-run).
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
#include "storage/stream_value.h"
#include "storage/value.h"
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
// One stream entry: [id, [field, value, ...]].
std::string EntryReply(const std::string& id, const std::vector<std::string>& fv) {
  std::string out = Arr(2) + Bulk(id) + Arr(fv.size());
  for (const std::string& s : fv) out += Bulk(s);
  return out;
}
const std::string kOk = "+OK\r\n";
const std::string kNil = "$-1\r\n";
const std::string kNilArray = "*-1\r\n";
const std::string kWrongType =
    Err("WRONGTYPE Operation against a key holding the wrong kind of value");
const std::string kInvalidId = Err("ERR Invalid stream ID specified as stream command argument");

class StreamFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  StreamFamilyTest() : h_(GetParam()) {}

  int Shards() { return h_.shard_count(); }
  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }
  // The first key "<prefix><n>" that hashes to `shard` (any shard when there is one).
  std::string KeyOnShard(int shard, const std::string& prefix) {
    for (int n = 0;; ++n) {
      std::string key = prefix + std::to_string(n);
      if (ShardOfKey(key, Shards()) == shard % Shards()) return key;
    }
  }
  std::string Add(const std::string& key, const std::string& id) {
    return Run({"XADD", key, id, "f", id});
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, StreamFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "shards";
                         });

TEST_P(StreamFamilyTest, XaddXlenXrange) {
  EXPECT_EQ(Run({"XADD", "s", "1-1", "a", "1", "b", "2"}), Bulk("1-1"));
  EXPECT_EQ(Run({"XADD", "s", "2", "a", "3"}), Bulk("2-0"));
  EXPECT_EQ(Run({"XADD", "s", "2-*", "a", "4"}), Bulk("2-1"));
  EXPECT_EQ(Run({"XLEN", "s"}), Int(3));
  EXPECT_EQ(Run({"XLEN", "missing"}), Int(0));
  EXPECT_EQ(Run({"TYPE", "s"}), "+stream\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "s"}), Bulk("stream"));
  EXPECT_EQ(Run({"XRANGE", "s", "-", "+"}), Arr(3) + EntryReply("1-1", {"a", "1", "b", "2"}) +
                                                EntryReply("2-0", {"a", "3"}) +
                                                EntryReply("2-1", {"a", "4"}));
  EXPECT_EQ(Run({"XRANGE", "s", "(1-1", "2", "COUNT", "1"}),
            Arr(1) + EntryReply("2-0", {"a", "3"}));
  EXPECT_EQ(Run({"XREVRANGE", "s", "+", "-", "COUNT", "2"}),
            Arr(2) + EntryReply("2-1", {"a", "4"}) + EntryReply("2-0", {"a", "3"}));
  EXPECT_EQ(Run({"XREVRANGE", "s", "(2-1", "(1-1"}), Arr(1) + EntryReply("2-0", {"a", "3"}));
  EXPECT_EQ(Run({"XRANGE", "s", "-", "+", "COUNT", "0"}), kNilArray);
  EXPECT_EQ(Run({"XRANGE", "missing", "-", "+", "COUNT", "0"}), Arr(0));
  EXPECT_EQ(Run({"XRANGE", "s", "3", "1"}), Arr(0));
}

TEST_P(StreamFamilyTest, XaddErrors) {
  EXPECT_EQ(Run({"XADD", "s", "0-0", "f", "v"}),
            Err("ERR The ID specified in XADD must be greater than 0-0"));
  EXPECT_EQ(Run({"EXISTS", "s"}), Int(0));
  Add("s", "5-5");
  EXPECT_EQ(Run({"XADD", "s", "5-5", "f", "v"}),
            Err("ERR The ID specified in XADD is equal or smaller than the target stream top "
                "item"));
  EXPECT_EQ(Run({"XADD", "s", "+", "f", "v"}), kInvalidId);
  EXPECT_EQ(Run({"XADD", "s", "f", "v"}), Err("ERR wrong number of arguments for 'xadd' command"));
  EXPECT_EQ(Run({"XADD", "s", "*", "f", "v", "g"}),
            Err("ERR wrong number of arguments for 'xadd' command"));
  EXPECT_EQ(Run({"XADD", "s", "LIMIT", "5", "*", "f", "v"}),
            Err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
  EXPECT_EQ(Run({"XADD", "s", "MAXLEN", "5", "LIMIT", "2", "*", "f", "v"}),
            Err("ERR syntax error, LIMIT cannot be used without the special ~ option"));
  EXPECT_EQ(Run({"XADD", "s", "MAXLEN", "-1", "*", "f", "v"}),
            Err("ERR The MAXLEN argument must be >= 0."));
  EXPECT_EQ(Run({"XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "f", "v"}),
            Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
  EXPECT_EQ(Run({"XADD", "s", "MAXLEN", "~", "2", "LIMIT", "-1", "*", "f", "v"}),
            Err("ERR The LIMIT argument must be >= 0."));
  EXPECT_EQ(Run({"XADD", "s", "MAXLEN", "x", "*", "f", "v"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"XADD", "s", "MINID", "x", "*", "f", "v"}), kInvalidId);
  EXPECT_EQ(Run({"XADD", "s", "18446744073709551615-18446744073709551615", "f", "v"}),
            Bulk("18446744073709551615-18446744073709551615"));
  EXPECT_EQ(Run({"XADD", "s", "*", "f", "v"}),
            Err("ERR The stream has exhausted the last possible ID, unable to add more items"));
  Run({"SET", "str", "x"});
  EXPECT_EQ(Run({"XADD", "str", "*", "f", "v"}), kWrongType);
}

TEST_P(StreamFamilyTest, AutoIdsFollowTheShardClockAndNeverGoBack) {
  h_.SetTime(5000);
  EXPECT_EQ(Run({"XADD", "s", "*", "f", "v"}), Bulk("5000-0"));
  EXPECT_EQ(Run({"XADD", "s", "*", "f", "v"}), Bulk("5000-1"));
  h_.SetTime(4000);  // the clock went back: the sequence continues
  EXPECT_EQ(Run({"XADD", "s", "*", "f", "v"}), Bulk("5000-2"));
  h_.SetTime(6000);
  EXPECT_EQ(Run({"XADD", "s", "*", "f", "v"}), Bulk("6000-0"));
  EXPECT_EQ(Run({"XADD", "s", "6000-*", "f", "v"}), Bulk("6000-1"));
  EXPECT_EQ(Run({"XADD", "s", "7000-*", "f", "v"}), Bulk("7000-0"));
}

TEST_P(StreamFamilyTest, NomkstreamAndTrimmingOnAdd) {
  EXPECT_EQ(Run({"XADD", "s", "NOMKSTREAM", "*", "f", "v"}), kNil);
  EXPECT_EQ(Run({"EXISTS", "s"}), Int(0));
  for (int i = 1; i <= 5; ++i) Add("s", std::to_string(i) + "-0");
  EXPECT_EQ(Run({"XADD", "s", "NOMKSTREAM", "MAXLEN", "=", "3", "6-0", "f", "v"}), Bulk("6-0"));
  EXPECT_EQ(Run({"XLEN", "s"}), Int(3));
  EXPECT_EQ(Run({"XADD", "s", "MINID", "5", "7-0", "f", "v"}), Bulk("7-0"));
  EXPECT_EQ(Run({"XRANGE", "s", "-", "+", "COUNT", "1"}), Arr(1) + EntryReply("5-0", {"f", "5-0"}));
  // "~" keeps whole nodes: nothing goes while the first node cannot go whole.
  EXPECT_EQ(Run({"XADD", "s", "MAXLEN", "~", "1", "8-0", "f", "v"}), Bulk("8-0"));
  EXPECT_EQ(Run({"XLEN", "s"}), Int(4));
}

TEST_P(StreamFamilyTest, XdelAndXtrim) {
  for (int i = 1; i <= 250; ++i) Add("s", std::to_string(i) + "-0");
  EXPECT_EQ(Run({"XDEL", "s", "1-0", "1-0", "999", "2"}), Int(2));
  EXPECT_EQ(Run({"XDEL", "s", "bad"}), kInvalidId);
  EXPECT_EQ(Run({"XDEL", "missing", "bad"}), Int(0));
  EXPECT_EQ(Run({"XLEN", "s"}), Int(248));
  // Nodes of 100 entries: "~" removes the first (98 live entries) only.
  EXPECT_EQ(Run({"XTRIM", "s", "MAXLEN", "~", "100"}), Int(98));
  EXPECT_EQ(Run({"XTRIM", "s", "MAXLEN", "~", "100", "LIMIT", "50"}), Int(0));
  EXPECT_EQ(Run({"XTRIM", "s", "MAXLEN", "100"}), Int(50));
  EXPECT_EQ(Run({"XTRIM", "s", "MINID", "=", "200"}), Int(49));
  EXPECT_EQ(Run({"XTRIM", "s", "MAXLEN", "0"}), Int(51));
  // An emptied stream stays, with its metadata.
  EXPECT_EQ(Run({"EXISTS", "s"}), Int(1));
  EXPECT_EQ(Run({"XLEN", "s"}), Int(0));
  EXPECT_EQ(Run({"XTRIM", "s"}), Err("ERR wrong number of arguments for 'xtrim' command"));
  EXPECT_EQ(Run({"XTRIM", "s", "foo", "1"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"XTRIM", "s", "LIMIT", "1", "MAXLEN", "1"}),
            Err("ERR syntax error, LIMIT cannot be used without the special ~ option"));
  EXPECT_EQ(Run({"XTRIM", "missing", "MAXLEN", "1"}), Int(0));
  Run({"SET", "str", "x"});
  EXPECT_EQ(Run({"XTRIM", "str", "MAXLEN", "1"}), kWrongType);
  EXPECT_EQ(Run({"XDEL", "str", "1"}), kWrongType);
  EXPECT_EQ(Run({"XLEN", "str"}), kWrongType);
  EXPECT_EQ(Run({"XRANGE", "str", "-", "+"}), kWrongType);
}

TEST_P(StreamFamilyTest, XrangeErrors) {
  Add("s", "1-1");
  EXPECT_EQ(Run({"XRANGE", "s", "(", "+"}), kInvalidId);
  EXPECT_EQ(Run({"XRANGE", "s", "(-", "+"}), kInvalidId);
  EXPECT_EQ(Run({"XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"}),
            Err("ERR invalid start ID for the interval"));
  EXPECT_EQ(Run({"XRANGE", "s", "-", "(0-0"}), Err("ERR invalid end ID for the interval"));
  EXPECT_EQ(Run({"XRANGE", "s", "-", "+", "FOO"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"XRANGE", "s", "-", "+", "COUNT", "x"}),
            Err("ERR value is not an integer or out of range"));
}

TEST_P(StreamFamilyTest, XsetidAndXinfo) {
  Add("s", "1-1");
  Add("s", "2-1");
  Run({"XDEL", "s", "2-1"});
  EXPECT_EQ(Run({"XSETID", "s", "1-0"}),
            Err("ERR The ID specified in XSETID is smaller than the target stream top item"));
  EXPECT_EQ(Run({"XSETID", "s", "1-5"}), kOk);  // below max_deleted_entry_id is allowed (7.0)
  EXPECT_EQ(Run({"XSETID", "missing", "1-1"}), Err("ERR no such key"));
  EXPECT_EQ(Run({"XSETID", "s", "9", "ENTRIESADDED", "-1"}),
            Err("ERR entries_added must be positive"));
  EXPECT_EQ(Run({"XSETID", "s", "9", "ENTRIESADDED", "0"}),
            Err("ERR The entries_added specified in XSETID is smaller than the target stream "
                "length"));
  EXPECT_EQ(Run({"XSETID", "s", "9", "MAXDELETEDID", "10"}),
            Err("ERR The ID specified in XSETID is smaller than the provided "
                "max_deleted_entry_id"));
  EXPECT_EQ(Run({"XSETID", "s", "9", "MAXDELETEDID", "3", "ENTRIESADDED", "7"}), kOk);
  const std::string info = Run({"XINFO", "STREAM", "s"});
  EXPECT_EQ(info, Arr(20) + Bulk("length") + Int(1) + Bulk("radix-tree-keys") + Int(1) +
                      Bulk("radix-tree-nodes") + Int(2) + Bulk("last-generated-id") + Bulk("9-0") +
                      Bulk("max-deleted-entry-id") + Bulk("3-0") + Bulk("entries-added") + Int(7) +
                      Bulk("recorded-first-entry-id") + Bulk("1-1") + Bulk("groups") + Int(0) +
                      Bulk("first-entry") + EntryReply("1-1", {"f", "1-1"}) + Bulk("last-entry") +
                      EntryReply("1-1", {"f", "1-1"}));
  EXPECT_EQ(Run({"XINFO", "STREAM", "s", "FULL", "COUNT", "1"}),
            Arr(18) + Bulk("length") + Int(1) + Bulk("radix-tree-keys") + Int(1) +
                Bulk("radix-tree-nodes") + Int(2) + Bulk("last-generated-id") + Bulk("9-0") +
                Bulk("max-deleted-entry-id") + Bulk("3-0") + Bulk("entries-added") + Int(7) +
                Bulk("recorded-first-entry-id") + Bulk("1-1") + Bulk("entries") + Arr(1) +
                EntryReply("1-1", {"f", "1-1"}) + Bulk("groups") + Arr(0));
  EXPECT_EQ(Run({"XINFO", "STREAM", "s", "foo"}),
            Err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO "
                "HELP."));
  EXPECT_EQ(Run({"XINFO", "stream", "missing", "foo"}), Err("ERR no such key"));
  EXPECT_EQ(Run({"XINFO", "foo"}), Err("ERR unknown subcommand 'foo'. Try XINFO HELP."));
  EXPECT_EQ(Run({"XINFO", "stream"}),
            Err("ERR wrong number of arguments for 'xinfo|stream' command"));
  EXPECT_EQ(Run({"XINFO", "GROUPS", "s"}), Arr(0));
  EXPECT_EQ(Run({"XINFO", "CONSUMERS", "s", "g"}),
            Err("NOGROUP No such consumer group 'g' for key name 's'"));
  EXPECT_EQ(Run({"XINFO", "HELP"}).substr(0, 4), Arr(9));
  // An emptied stream: no first or last entry, one radix tree node.
  Run({"XDEL", "s", "1-1"});
  const std::string empty = Run({"XINFO", "STREAM", "s"});
  EXPECT_NE(empty.find(Bulk("radix-tree-nodes") + Int(1)), std::string::npos);
  EXPECT_NE(empty.find(Bulk("first-entry") + kNil + Bulk("last-entry") + kNil), std::string::npos);
}

TEST_P(StreamFamilyTest, CopyIsDeep) {
  Add("{t}a", "1-1");
  EXPECT_EQ(Run({"COPY", "{t}a", "{t}b"}), Int(1));
  Add("{t}b", "2-1");
  EXPECT_EQ(Run({"XLEN", "{t}a"}), Int(1));
  EXPECT_EQ(Run({"XLEN", "{t}b"}), Int(2));
}

TEST_P(StreamFamilyTest, XreadAcrossShards) {
  const std::string a = KeyOnShard(0, "a");
  const std::string b = KeyOnShard(1, "b");
  const std::string c = KeyOnShard(2, "c");
  Add(a, "1-1");
  Add(a, "2-1");
  Add(c, "5-1");
  Run({"SET", "str", "x"});
  EXPECT_EQ(Run({"XREAD", "STREAMS", a, b, c, "1-1", "0", "0"}),
            Arr(2) + Arr(2) + Bulk(a) + Arr(1) + EntryReply("2-1", {"f", "2-1"}) + Arr(2) +
                Bulk(c) + Arr(1) + EntryReply("5-1", {"f", "5-1"}));
  EXPECT_EQ(Run({"XREAD", "COUNT", "1", "STREAMS", a, c, "0", "$"}),
            Arr(1) + Arr(2) + Bulk(a) + Arr(1) + EntryReply("1-1", {"f", "1-1"}));
  EXPECT_EQ(Run({"XREAD", "STREAMS", a, c, "$", "$"}), kNilArray);
  EXPECT_EQ(Run({"XREAD", "STREAMS", b, "0"}), kNilArray);
  // Errors come from the first key, in argument order, that has one.
  EXPECT_EQ(Run({"XREAD", "STREAMS", a, "str", "0", "bad"}), kWrongType);
  EXPECT_EQ(Run({"XREAD", "STREAMS", a, "str", "bad", "0"}), kInvalidId);
  EXPECT_EQ(Run({"XREAD", "STREAMS", a, c, "0", ">"}),
            Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
                "<group> <consumer> option."));
  // Options.
  EXPECT_EQ(Run({"XREAD", "STREAMS", a, b, "0"}),
            Err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                "specified."));
  EXPECT_EQ(Run({"XREAD", "FOO", "STREAMS", a, "0"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"XREAD", "COUNT", "1", "BLOCK"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"XREAD", "BLOCK", "-1", "STREAMS", a, "0"}), Err("ERR timeout is negative"));
  EXPECT_EQ(Run({"XREAD", "BLOCK", "x", "STREAMS", a, "0"}),
            Err("ERR timeout is not an integer or out of range"));
  EXPECT_EQ(Run({"XREAD", "GROUP", "g", "c", "STREAMS", a, "0"}),
            Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                "instead."));
  EXPECT_EQ(Run({"XREAD", "STREAMS", a}), Err("ERR wrong number of arguments for 'xread' command"));
  // A blocking read with data answers at once; without data it would wait (here: nil, as in
  // MULTI). Across shards too.
  const std::string tag_a = "{q}a", tag_b = "{q}b";
  Add(tag_a, "3-3");
  EXPECT_EQ(Run({"XREAD", "BLOCK", "100", "STREAMS", tag_a, tag_b, "0", "0"}),
            Arr(1) + Arr(2) + Bulk(tag_a) + Arr(1) + EntryReply("3-3", {"f", "3-3"}));
  EXPECT_EQ(Run({"XREAD", "BLOCK", "100", "STREAMS", tag_a, tag_b, "$", "$"}), kNilArray);
  EXPECT_EQ(Run({"XREAD", "BLOCK", "100", "STREAMS", a, c, "0", "0"}),
            Run({"XREAD", "STREAMS", a, c, "0", "0"}));
  EXPECT_EQ(Run({"XREAD", "BLOCK", "100", "STREAMS", a, c, "$", "$"}), kNilArray);
}

TEST_P(StreamFamilyTest, XreadResp3IsAMap) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  h3.Run({"XADD", "s", "1-1", "f", "v"});
  h3.Run({"XADD", "t", "1-1", "f", "v"});
  EXPECT_EQ(h3.Run({"XREAD", "STREAMS", "s", "t", "0", "0"}),
            "%2\r\n" + Bulk("s") + Arr(1) + EntryReply("1-1", {"f", "v"}) + Bulk("t") + Arr(1) +
                EntryReply("1-1", {"f", "v"}));
  EXPECT_EQ(h3.Run({"XREAD", "STREAMS", "s", "$"}), "_\r\n");
}

TEST_P(StreamFamilyTest, XreadKeyFinder) {
  const CommandSpec* spec = CommandTable::Get().Find("xread");
  ASSERT_NE(spec, nullptr);
  std::vector<int> positions;
  std::vector<std::string_view> args = {"XREAD",   "COUNT", "1",  "BLOCK", "0",
                                        "STREAMS", "k1",    "k2", "0",     "$"};
  CommandTable::KeyPositions(*spec, args, &positions);
  EXPECT_EQ(positions, (std::vector<int>{6, 7}));
  args = {"XREAD", "STREAMS", "k1", "k2", "0"};
  CommandTable::KeyPositions(*spec, args, &positions);
  EXPECT_TRUE(positions.empty());
  EXPECT_EQ(spec->first_key, 0);  // as COMMAND INFO reports it
  EXPECT_TRUE(spec->flags & kCmdMovableKeys);
}

// The blocking protocol as the dispatcher drives it: the first run parks with "$" resolved, a
// re-run after XADD serves the one stream that moved.
TEST(StreamBlockingTest, ParkThenServeOnRetry) {
  ShardData shard(16);
  shard.clock().now_ms = 1000;
  Config config;
  const CommandSpec* xread = CommandTable::Get().Find("xread");
  const CommandSpec* xadd = CommandTable::Get().Find("xadd");
  auto run = [&](const CommandSpec* spec, std::vector<std::string> argv, BlockRequest* block,
                 bool retrying) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    std::string out;
    ReplyBuilder reply(&out, RespVersion::kResp2);
    ShardCommand cmd{args, shard, shard.db(0), 0, reply, config, block, retrying};
    spec->on_shard(cmd);
    return out;
  };
  BlockRequest none;
  run(xadd, {"XADD", "s", "5-0", "f", "old"}, &none, false);

  BlockRequest block;
  EXPECT_EQ(
      run(xread, {"XREAD", "BLOCK", "500", "STREAMS", "s", "t", "s", "$", "$", "5"}, &block, false),
      "");
  ASSERT_TRUE(block.requested);
  EXPECT_EQ(block.keys, (std::vector<std::string>{"s", "t"}));
  EXPECT_EQ(block.deadline_ms, 1500);
  EXPECT_EQ(block.timeout_reply, TimeoutReply::kNullArray);
  EXPECT_EQ(block.retry_args, (std::vector<std::string>{"XREAD", "BLOCK", "500", "STREAMS", "s",
                                                        "t", "s", "5-0", "0-0", "5"}));
  // A re-run with nothing new keeps waiting.
  BlockRequest again;
  EXPECT_EQ(run(xread, block.retry_args, &again, true), "");
  EXPECT_TRUE(again.requested);
  // A new stream at "t": served alone, from its first entry.
  run(xadd, {"XADD", "t", "1-0", "f", "new"}, &none, false);
  BlockRequest served;
  EXPECT_EQ(run(xread, block.retry_args, &served, true),
            Arr(1) + Arr(2) + Bulk("t") + Arr(1) + EntryReply("1-0", {"f", "new"}));
  EXPECT_FALSE(served.requested);
  // BLOCK 0 waits forever; without a BlockRequest (e.g. in a script) it answers nil.
  BlockRequest forever;
  run(xread, {"XREAD", "BLOCK", "0", "STREAMS", "u", "$"}, &forever, false);
  EXPECT_TRUE(forever.requested);
  EXPECT_EQ(forever.deadline_ms, 0);
  EXPECT_EQ(run(xread, {"XREAD", "BLOCK", "0", "STREAMS", "u", "$"}, nullptr, false), kNilArray);
  // XADD to an existing stream that someone waits on signals it.
  shard.db(0).WatchKey("s");
  run(xadd, {"XADD", "s", "6-0", "f", "v"}, &none, false);
  ASSERT_EQ(shard.ready_keys().size(), 1u);
  EXPECT_EQ(shard.ready_keys()[0].second, "s");
}

}  // namespace
}  // namespace shardis
