// Unit tests of the list commands (server/commands/list_family.cc), run through the command table
// with the in-process CommandHarness (single test thread, fan-out run synchronously), with one and
// with four shards, so multi-key commands take both the same-shard path and the cross-shard one.
// The harness cannot block: blocking commands reply as on timeout when nothing can be served.
// Expected replies are redis-server 7.0's, byte for byte.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/command.h"
#include "server/command_table.h"
#include "storage/list_value.h"
#include "storage/shard_data.h"
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
std::string Arr(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& s : items) out += Bulk(s);
  return out;
}
std::string Ints(const std::vector<int64_t>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (int64_t n : items) out += Int(n);
  return out;
}
// [key, [elements...]] as LMPOP / BLMPOP reply.
std::string KeyAndArr(const std::string& key, const std::vector<std::string>& items) {
  return "*2\r\n" + Bulk(key) + Arr(items);
}

const std::string kOk = "+OK\r\n";
const std::string kNil = "$-1\r\n";
const std::string kNilArr = "*-1\r\n";
const std::string kEmpty = "*0\r\n";
const std::string kWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
const std::string kNotInt = "ERR value is not an integer or out of range";

class ListFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  ListFamilyTest() : h_(GetParam()) {}

  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }
  Db& DbOf(const std::string& key) { return h_.shard(ShardOfKey(key, h_.shard_count())).db(0); }
  void PutString(const std::string& key, const std::string& value) {
    DbOf(key).Set(key, Value::FromString(value));
  }
  bool Exists(const std::string& key) { return DbOf(key).Find(key) != nullptr; }
  std::string Range(const std::string& key) { return Run({"LRANGE", key, "0", "-1"}); }

  CommandHarness h_;
};

TEST_P(ListFamilyTest, PushAndLength) {
  EXPECT_EQ(Run({"RPUSH", "l", "a", "b"}), Int(2));
  EXPECT_EQ(Run({"LPUSH", "l", "x", "y"}), Int(4));
  EXPECT_EQ(Range("l"), Arr({"y", "x", "a", "b"}));
  EXPECT_EQ(Run({"LLEN", "l"}), Int(4));
  EXPECT_EQ(Run({"LLEN", "missing"}), Int(0));
  EXPECT_EQ(Run({"LPUSHX", "missing", "a"}), Int(0));
  EXPECT_FALSE(Exists("missing"));
  EXPECT_EQ(Run({"RPUSHX", "l", "z", "w"}), Int(6));
  EXPECT_EQ(Run({"LPUSHX", "l", "first"}), Int(7));
  EXPECT_EQ(Range("l"), Arr({"first", "y", "x", "a", "b", "z", "w"}));
  EXPECT_EQ(Run({"LPUSH", "l"}), Err("ERR wrong number of arguments for 'lpush' command"));
  PutString("s", "v");
  for (const char* c : {"LPUSH", "RPUSH", "LPUSHX", "RPUSHX"}) {
    EXPECT_EQ(Run({c, "s", "a"}), Err(kWrongType)) << c;
  }
  EXPECT_EQ(Run({"LLEN", "s"}), Err(kWrongType));
}

TEST_P(ListFamilyTest, EncodingAndType) {
  Run({"RPUSH", "l", "a"});
  EXPECT_EQ(Run({"TYPE", "l"}), "+list\r\n");
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "l"}), Bulk("quicklist"));
}

TEST_P(ListFamilyTest, PopWithAndWithoutCount) {
  Run({"RPUSH", "l", "a", "b", "c", "d", "e"});
  EXPECT_EQ(Run({"LPOP", "l"}), Bulk("a"));
  EXPECT_EQ(Run({"RPOP", "l"}), Bulk("e"));
  EXPECT_EQ(Run({"LPOP", "l", "0"}), kEmpty);
  EXPECT_EQ(Run({"LPOP", "l", "2"}), Arr({"b", "c"}));
  EXPECT_EQ(Run({"RPOP", "l", "10"}), Arr({"d"}));
  EXPECT_FALSE(Exists("l"));
  EXPECT_EQ(Run({"LPOP", "l"}), kNil);
  EXPECT_EQ(Run({"LPOP", "l", "0"}), kNilArr);
  EXPECT_EQ(Run({"RPOP", "l", "3"}), kNilArr);
  EXPECT_EQ(Run({"LPOP", "l", "-1"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(Run({"LPOP", "l", "x"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(Run({"LPOP", "l", "1", "2"}), Err("ERR wrong number of arguments for 'lpop' command"));
  PutString("s", "v");
  EXPECT_EQ(Run({"LPOP", "s"}), Err(kWrongType));
  EXPECT_EQ(Run({"RPOP", "s", "0"}), Err(kWrongType));
  EXPECT_EQ(Run({"RPOP", "s", "-1"}), Err("ERR value is out of range, must be positive"));
}

TEST_P(ListFamilyTest, Resp3Nulls) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  EXPECT_EQ(h3.Run({"LPOP", "nope"}), "_\r\n");
  EXPECT_EQ(h3.Run({"LPOP", "nope", "2"}), "_\r\n");
  EXPECT_EQ(h3.Run({"LMPOP", "2", "nope", "nope2", "LEFT"}), "_\r\n");
  EXPECT_EQ(h3.Run({"BLPOP", "nope", "1"}), "_\r\n");
  EXPECT_EQ(h3.Run({"BLMOVE", "nope", "x", "LEFT", "LEFT", "1"}), "_\r\n");
  EXPECT_EQ(h3.Run({"LINDEX", "nope", "0"}), "_\r\n");
  EXPECT_EQ(h3.Run({"LPOS", "nope", "a"}), "_\r\n");
}

TEST_P(ListFamilyTest, RangeAndIndex) {
  Run({"RPUSH", "l", "a", "b", "c", "d"});
  EXPECT_EQ(Run({"LRANGE", "l", "1", "2"}), Arr({"b", "c"}));
  EXPECT_EQ(Run({"LRANGE", "l", "-2", "-1"}), Arr({"c", "d"}));
  EXPECT_EQ(Run({"LRANGE", "l", "-100", "100"}), Arr({"a", "b", "c", "d"}));
  EXPECT_EQ(Run({"LRANGE", "l", "3", "1"}), kEmpty);
  EXPECT_EQ(Run({"LRANGE", "l", "4", "10"}), kEmpty);
  EXPECT_EQ(Run({"LRANGE", "l", "-9223372036854775808", "9223372036854775807"}),
            Arr({"a", "b", "c", "d"}));
  EXPECT_EQ(Run({"LRANGE", "missing", "0", "-1"}), kEmpty);
  EXPECT_EQ(Run({"LRANGE", "missing", "x", "1"}), Err(kNotInt));
  EXPECT_EQ(Run({"LINDEX", "l", "0"}), Bulk("a"));
  EXPECT_EQ(Run({"LINDEX", "l", "-1"}), Bulk("d"));
  EXPECT_EQ(Run({"LINDEX", "l", "-4"}), Bulk("a"));
  EXPECT_EQ(Run({"LINDEX", "l", "-5"}), kNil);
  EXPECT_EQ(Run({"LINDEX", "l", "4"}), kNil);
  EXPECT_EQ(Run({"LINDEX", "l", "-9223372036854775808"}), kNil);
  EXPECT_EQ(Run({"LINDEX", "l", "x"}), Err(kNotInt));
  EXPECT_EQ(Run({"LINDEX", "missing", "x"}), kNil);  // the key is looked up first
  PutString("s", "v");
  EXPECT_EQ(Run({"LINDEX", "s", "x"}), Err(kWrongType));
  EXPECT_EQ(Run({"LRANGE", "s", "0", "1"}), Err(kWrongType));
  EXPECT_EQ(Run({"LRANGE", "s", "x", "1"}), Err(kNotInt));
}

TEST_P(ListFamilyTest, Lset) {
  Run({"RPUSH", "l", "a", "b", "c"});
  EXPECT_EQ(Run({"LSET", "l", "1", "B"}), kOk);
  EXPECT_EQ(Run({"LSET", "l", "-1", "a much longer element than before"}), kOk);
  EXPECT_EQ(Range("l"), Arr({"a", "B", "a much longer element than before"}));
  EXPECT_EQ(Run({"LSET", "l", "3", "x"}), Err("ERR index out of range"));
  EXPECT_EQ(Run({"LSET", "l", "-4", "x"}), Err("ERR index out of range"));
  EXPECT_EQ(Run({"LSET", "l", "x", "x"}), Err(kNotInt));
  EXPECT_EQ(Run({"LSET", "missing", "x", "x"}), Err("ERR no such key"));
  PutString("s", "v");
  EXPECT_EQ(Run({"LSET", "s", "0", "x"}), Err(kWrongType));
}

TEST_P(ListFamilyTest, Linsert) {
  Run({"RPUSH", "l", "a", "b", "a"});
  EXPECT_EQ(Run({"LINSERT", "l", "BEFORE", "a", "x"}), Int(4));
  EXPECT_EQ(Run({"LINSERT", "l", "after", "a", "y"}), Int(5));
  EXPECT_EQ(Range("l"), Arr({"x", "a", "y", "b", "a"}));
  EXPECT_EQ(Run({"LINSERT", "l", "after", "zz", "y"}), Int(-1));
  EXPECT_EQ(Run({"LINSERT", "l", "middle", "a", "y"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LINSERT", "missing", "middle", "a", "y"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LINSERT", "missing", "before", "a", "y"}), Int(0));
  EXPECT_FALSE(Exists("missing"));
  PutString("s", "v");
  EXPECT_EQ(Run({"LINSERT", "s", "before", "a", "y"}), Err(kWrongType));
}

TEST_P(ListFamilyTest, LremAndLtrim) {
  Run({"RPUSH", "l", "a", "b", "a", "c", "a", "b"});
  EXPECT_EQ(Run({"LREM", "l", "1", "a"}), Int(1));
  EXPECT_EQ(Range("l"), Arr({"b", "a", "c", "a", "b"}));
  EXPECT_EQ(Run({"LREM", "l", "-1", "b"}), Int(1));
  EXPECT_EQ(Range("l"), Arr({"b", "a", "c", "a"}));
  EXPECT_EQ(Run({"LREM", "l", "0", "a"}), Int(2));
  EXPECT_EQ(Run({"LREM", "l", "0", "zz"}), Int(0));
  EXPECT_EQ(Run({"LREM", "l", "x", "a"}), Err(kNotInt));
  EXPECT_EQ(Run({"LREM", "missing", "0", "a"}), Int(0));
  EXPECT_EQ(Run({"LREM", "l", "0", "b"}), Int(1));
  EXPECT_EQ(Run({"LREM", "l", "-5", "c"}), Int(1));
  EXPECT_FALSE(Exists("l"));

  Run({"RPUSH", "t", "0", "1", "2", "3", "4", "5"});
  EXPECT_EQ(Run({"LTRIM", "t", "1", "-2"}), kOk);
  EXPECT_EQ(Range("t"), Arr({"1", "2", "3", "4"}));
  EXPECT_EQ(Run({"LTRIM", "t", "-100", "100"}), kOk);
  EXPECT_EQ(Range("t"), Arr({"1", "2", "3", "4"}));
  EXPECT_EQ(Run({"LTRIM", "t", "2", "2"}), kOk);
  EXPECT_EQ(Range("t"), Arr({"3"}));
  EXPECT_EQ(Run({"LTRIM", "t", "1", "0"}), kOk);
  EXPECT_FALSE(Exists("t"));
  EXPECT_EQ(Run({"LTRIM", "t", "0", "1"}), kOk);
  EXPECT_EQ(Run({"LTRIM", "t", "a", "1"}), Err(kNotInt));
  PutString("s", "v");
  EXPECT_EQ(Run({"LTRIM", "s", "0", "1"}), Err(kWrongType));
  EXPECT_EQ(Run({"LREM", "s", "0", "a"}), Err(kWrongType));
}

TEST_P(ListFamilyTest, Lpos) {
  Run({"RPUSH", "l", "a", "b", "c", "a", "b", "c"});
  EXPECT_EQ(Run({"LPOS", "l", "a"}), Int(0));
  EXPECT_EQ(Run({"LPOS", "l", "c", "RANK", "2"}), Int(5));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "-1"}), Int(3));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "3"}), kNil);
  EXPECT_EQ(Run({"LPOS", "l", "a", "COUNT", "0"}), Ints({0, 3}));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "-1", "COUNT", "0"}), Ints({3, 0}));
  EXPECT_EQ(Run({"LPOS", "l", "b", "COUNT", "1", "COUNT", "2"}), Ints({1, 4}));
  EXPECT_EQ(Run({"LPOS", "l", "a", "MAXLEN", "1", "COUNT", "0"}), Ints({0}));
  EXPECT_EQ(Run({"LPOS", "l", "c", "MAXLEN", "2"}), kNil);
  EXPECT_EQ(Run({"LPOS", "l", "zz", "COUNT", "3"}), kEmpty);
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "-9223372036854775808"}), Int(3));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "1"}), Ints({3, 0}));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "0"}),
            Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second "
                "... or use negative to start from the end of the list"));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK", "x"}), Err(kNotInt));
  EXPECT_EQ(Run({"LPOS", "l", "a", "COUNT", "-1"}), Err("ERR COUNT can't be negative"));
  EXPECT_EQ(Run({"LPOS", "l", "a", "COUNT", "x"}), Err("ERR COUNT can't be negative"));
  EXPECT_EQ(Run({"LPOS", "l", "a", "MAXLEN", "-1"}), Err("ERR MAXLEN can't be negative"));
  EXPECT_EQ(Run({"LPOS", "l", "a", "RANK"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LPOS", "l", "a", "FOO", "1"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LPOS", "missing", "a"}), kNil);
  EXPECT_EQ(Run({"LPOS", "missing", "a", "COUNT", "0"}), kEmpty);
  PutString("s", "v");
  EXPECT_EQ(Run({"LPOS", "s", "a"}), Err(kWrongType));
}

TEST_P(ListFamilyTest, LmoveAndRpoplpush) {
  // {t} keys share a shard; with four shards at least one other pair spans two of them.
  if (GetParam() > 1) {
    EXPECT_TRUE(ShardOfKey("src", 4) != ShardOfKey("dst", 4) ||
                ShardOfKey("x", 4) != ShardOfKey("z", 4));
  }
  for (auto [src, dst] : std::vector<std::pair<std::string, std::string>>{
           {"{t}src", "{t}dst"}, {"src", "dst"}, {"x", "z"}}) {
    SCOPED_TRACE(src + " -> " + dst);
    Run({"RPUSH", src, "1", "2", "3"});
    EXPECT_EQ(Run({"LMOVE", src, dst, "LEFT", "RIGHT"}), Bulk("1"));
    EXPECT_EQ(Run({"LMOVE", src, dst, "right", "left"}), Bulk("3"));
    EXPECT_EQ(Run({"RPOPLPUSH", src, dst}), Bulk("2"));
    EXPECT_FALSE(Exists(src));
    EXPECT_EQ(Range(dst), Arr({"2", "3", "1"}));
    EXPECT_EQ(Run({"LMOVE", src, dst, "LEFT", "LEFT"}), kNil);
    EXPECT_EQ(Run({"RPOPLPUSH", src, dst}), kNil);
    EXPECT_EQ(Run({"LMOVE", src, dst, "UP", "LEFT"}), Err("ERR syntax error"));
    PutString(src, "v");
    EXPECT_EQ(Run({"LMOVE", src, dst, "LEFT", "LEFT"}), Err(kWrongType));
    Run({"DEL", src});
    EXPECT_EQ(Run({"LMOVE", dst, src, "LEFT", "LEFT"}), Bulk("2"));
    PutString(dst, "v");
    EXPECT_EQ(Run({"LMOVE", src, dst, "LEFT", "LEFT"}), Err(kWrongType));
    EXPECT_EQ(Range(src), Arr({"2"}));  // nothing popped
    EXPECT_EQ(Run({"LMOVE", "nothing", dst, "LEFT", "LEFT"}), kNil);
    Run({"DEL", src, dst});
  }
  // Same key: a rotation.
  Run({"RPUSH", "r", "1", "2", "3"});
  EXPECT_EQ(Run({"RPOPLPUSH", "r", "r"}), Bulk("3"));
  EXPECT_EQ(Range("r"), Arr({"3", "1", "2"}));
  EXPECT_EQ(Run({"LMOVE", "r", "r", "LEFT", "RIGHT"}), Bulk("3"));
  EXPECT_EQ(Range("r"), Arr({"1", "2", "3"}));
  Run({"RPUSH", "one", "x"});
  EXPECT_EQ(Run({"LMOVE", "one", "one", "LEFT", "LEFT"}), Bulk("x"));
  EXPECT_EQ(Range("one"), Arr({"x"}));
}

TEST_P(ListFamilyTest, Lmpop) {
  if (GetParam() > 1) {
    EXPECT_TRUE(ShardOfKey("k1", 4) != ShardOfKey("k2", 4) ||
                ShardOfKey("k2", 4) != ShardOfKey("k3", 4));
  }
  Run({"RPUSH", "k2", "a", "b", "c"});
  Run({"RPUSH", "k3", "x"});
  EXPECT_EQ(Run({"LMPOP", "3", "k1", "k2", "k3", "LEFT"}), KeyAndArr("k2", {"a"}));
  EXPECT_EQ(Run({"LMPOP", "3", "k1", "k2", "k3", "RIGHT", "COUNT", "5"}),
            KeyAndArr("k2", {"c", "b"}));
  EXPECT_FALSE(Exists("k2"));
  EXPECT_EQ(Run({"LMPOP", "3", "k1", "k2", "k3", "left", "count", "1"}), KeyAndArr("k3", {"x"}));
  EXPECT_EQ(Run({"LMPOP", "2", "k1", "k2", "LEFT"}), kNilArr);
  PutString("s", "v");
  Run({"RPUSH", "k4", "y"});
  EXPECT_EQ(Run({"LMPOP", "3", "k1", "s", "k4", "LEFT"}), Err(kWrongType));
  EXPECT_EQ(Run({"LMPOP", "2", "k4", "s", "LEFT"}), KeyAndArr("k4", {"y"}));
  // Errors, in Redis's order.
  const std::string numkeys = "ERR numkeys should be greater than 0";
  EXPECT_EQ(Run({"LMPOP", "0", "k", "LEFT"}), Err(numkeys));
  EXPECT_EQ(Run({"LMPOP", "x", "k", "LEFT"}), Err(numkeys));
  EXPECT_EQ(Run({"LMPOP", "-1", "k", "LEFT"}), Err(numkeys));
  EXPECT_EQ(Run({"LMPOP", "2", "k", "LEFT"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LMPOP", "9223372036854775807", "k", "LEFT"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LMPOP", "1", "k", "MIDDLE"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LMPOP", "1", "k", "LEFT", "COUNT", "0"}),
            Err("ERR count should be greater than 0"));
  EXPECT_EQ(Run({"LMPOP", "1", "k", "LEFT", "COUNT", "x"}),
            Err("ERR count should be greater than 0"));
  EXPECT_EQ(Run({"LMPOP", "1", "k", "LEFT", "COUNT", "1", "COUNT", "1"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LMPOP", "1", "k", "LEFT", "COUNT"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"LMPOP", "1", "k", "LEFT", "FOO"}), Err("ERR syntax error"));
}

TEST_P(ListFamilyTest, BlockingCommandsServeOrReplyAsOnTimeout) {
  Run({"RPUSH", "{b}l", "a", "b", "c"});
  EXPECT_EQ(Run({"BLPOP", "{b}none", "{b}l", "0"}), Arr({"{b}l", "a"}));
  EXPECT_EQ(Run({"BRPOP", "{b}l", "1.5"}), Arr({"{b}l", "c"}));
  EXPECT_EQ(Run({"BLPOP", "{b}none", "0"}), kNilArr);  // cannot block here
  EXPECT_EQ(Run({"BLMOVE", "{b}l", "{b}m", "LEFT", "RIGHT", "0"}), Bulk("b"));
  EXPECT_FALSE(Exists("{b}l"));
  EXPECT_EQ(Run({"BLMOVE", "{b}l", "{b}m", "LEFT", "RIGHT", "0"}), kNil);
  EXPECT_EQ(Run({"BRPOPLPUSH", "{b}m", "{b}l", "0"}), Bulk("b"));
  EXPECT_EQ(Run({"BRPOPLPUSH", "{b}m", "{b}l", "0"}), kNil);
  EXPECT_EQ(Run({"BLMPOP", "0", "2", "{b}m", "{b}l", "RIGHT", "COUNT", "2"}),
            KeyAndArr("{b}l", {"b"}));
  EXPECT_EQ(Run({"BLMPOP", "0", "1", "{b}l", "LEFT"}), kNilArr);
  PutString("{b}s", "v");
  EXPECT_EQ(Run({"BLPOP", "{b}none", "{b}s", "1"}), Err(kWrongType));
  EXPECT_EQ(Run({"BLMOVE", "{b}s", "{b}m", "LEFT", "LEFT", "1"}), Err(kWrongType));
  EXPECT_EQ(Run({"BLMPOP", "1", "1", "{b}s", "LEFT"}), Err(kWrongType));
}

TEST_P(ListFamilyTest, BlockingTimeoutErrors) {
  const std::string not_float = "ERR timeout is not a float or out of range";
  const std::string negative = "ERR timeout is negative";
  EXPECT_EQ(Run({"BLPOP", "k", "abc"}), Err(not_float));
  EXPECT_EQ(Run({"BLPOP", "k", "nan"}), Err(not_float));
  EXPECT_EQ(Run({"BLPOP", "k", " 1"}), Err(not_float));
  EXPECT_EQ(Run({"BLPOP", "k", "-1"}), Err(negative));
  EXPECT_EQ(Run({"BLPOP", "k", "inf"}), Err(negative));
  EXPECT_EQ(Run({"BLPOP", "k", "1e30"}), Err(negative));
  EXPECT_EQ(Run({"BLPOP", "k", "9223372036854775807"}), Err(negative));
  EXPECT_EQ(Run({"BLPOP", "k", "-0.0001"}), kNilArr);  // truncates to 0 ms: no timeout
  EXPECT_EQ(Run({"BLPOP", "k", "0x10"}), kNilArr);
  EXPECT_EQ(Run({"BRPOPLPUSH", "k", "d", "x"}), Err(not_float));
  EXPECT_EQ(Run({"BLMOVE", "k", "d", "LEFT", "UP", "x"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"BLMOVE", "k", "d", "LEFT", "LEFT", "-1"}), Err(negative));
  // BLMPOP parses its other arguments before the timeout.
  EXPECT_EQ(Run({"BLMPOP", "-1", "0", "k", "LEFT"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"BLMPOP", "-1", "2", "k", "LEFT"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"BLMPOP", "x", "1", "k", "LEFT"}), Err(not_float));
  EXPECT_EQ(Run({"BLMPOP", "-1", "1", "k", "LEFT"}), Err(negative));
}

TEST_P(ListFamilyTest, BigListsAcrossNodes) {
  h_.config().list_max_listpack_size = 4;  // 4 entries per node
  std::vector<std::string> push = {"RPUSH", "big"};
  for (int i = 0; i < 100; ++i) push.push_back(std::to_string(i));
  EXPECT_EQ(Run(push), Int(100));
  EXPECT_EQ(Run({"LINDEX", "big", "57"}), Bulk("57"));
  EXPECT_EQ(Run({"LINSERT", "big", "BEFORE", "50", "x"}), Int(101));
  EXPECT_EQ(Run({"LRANGE", "big", "49", "51"}), Arr({"49", "x", "50"}));
  EXPECT_EQ(Run({"LTRIM", "big", "10", "-11"}), kOk);
  EXPECT_EQ(Run({"LLEN", "big"}), Int(81));
  EXPECT_EQ(Run({"LINDEX", "big", "0"}), Bulk("10"));
  EXPECT_EQ(Run({"LINDEX", "big", "-1"}), Bulk("89"));
  EXPECT_EQ(Run({"LPOS", "big", "x"}), Int(40));
  Entry* e = DbOf("big").Find("big");
  ASSERT_NE(e, nullptr);
  EXPECT_GE(e->As<ListValue>()->node_count(), 20u);
}

TEST_P(ListFamilyTest, CommandMetadata) {
  const CommandTable& t = CommandTable::Get();
  for (const char* name :
       {"lpush",  "rpush", "lpushx",  "rpushx", "lpop",       "rpop",  "llen",  "lrange",
        "lindex", "lset",  "linsert", "lrem",   "ltrim",      "lpos",  "lmove", "rpoplpush",
        "lmpop",  "blpop", "brpop",   "blmove", "brpoplpush", "blmpop"}) {
    const CommandSpec* spec = t.Find(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->group, "list") << name;
  }
  std::vector<std::string_view> args = {"blmpop", "0", "2", "a", "b", "LEFT"};
  std::vector<int> positions;
  CommandTable::KeyPositions(*t.Find("blmpop"), args, &positions);
  EXPECT_EQ(positions, (std::vector<int>{3, 4}));
  args = {"lmpop", "3", "a", "LEFT"};
  CommandTable::KeyPositions(*t.Find("lmpop"), args, &positions);
  EXPECT_TRUE(positions.empty());
  args = {"blpop", "a", "b", "0"};
  CommandTable::KeyPositions(*t.Find("blpop"), args, &positions);
  EXPECT_EQ(positions, (std::vector<int>{1, 2}));
}

INSTANTIATE_TEST_SUITE_P(Shards, ListFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Shards" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace shardis
