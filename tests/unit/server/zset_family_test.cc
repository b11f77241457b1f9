// Unit tests of the sorted-set commands (server/commands/zset_family.cc and
// zset_store_family.cc), run through the command table with the in-process CommandHarness (single
// test thread) with one and with four shards, so multi-key commands run both on one shard and as
// cross-shard fan-outs. Expected replies are redis-server 7.0.15's, byte for byte (RESP2 unless a
// test says RESP3). Sets used as inputs are written straight into the shards' databases.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/command.h"
#include "server/command_table.h"
#include "storage/set_value.h"
#include "storage/shard_data.h"
#include "storage/value.h"
#include "storage/zset_value.h"
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
  for (const std::string& i : items) out += i;
  return out;
}
// A flat array of bulk strings.
std::string Bulks(const std::vector<std::string>& items) {
  std::vector<std::string> encoded;
  for (const std::string& i : items) encoded.push_back(Bulk(i));
  return Arr(encoded);
}
const std::string kNil = "$-1\r\n";
const std::string kNilArray = "*-1\r\n";
const std::string kEmpty = "*0\r\n";
const std::string kWrongType =
    Err("WRONGTYPE Operation against a key holding the wrong kind of value");
const std::string kSyntax = Err("ERR syntax error");

class ZSetFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  ZSetFamilyTest() : h_(GetParam()) {}

  int Shards() { return h_.shard_count(); }
  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }
  Db& DbOf(const std::string& key) { return h_.shard(ShardOfKey(key, Shards())).db(0); }

  // The first key "<prefix><n>" on `shard` (mod the shard count).
  std::string KeyOnShard(int shard, const std::string& prefix) {
    for (int n = 0;; ++n) {
      std::string key = prefix + std::to_string(n);
      if (ShardOfKey(key, Shards()) == shard % Shards()) return key;
    }
  }
  void PutString(const std::string& key, const std::string& v) {
    DbOf(key).Set(key, Value::FromString(v));
  }
  void PutSet(const std::string& key, const std::vector<std::string>& members) {
    auto s = std::make_unique<SetValue>();
    for (const std::string& m : members) s->Add(m, 512);
    DbOf(key).Set(key, Value::OfCollection(ValueType::kSet, std::move(s)));
  }
  bool Exists(const std::string& key) { return DbOf(key).Find(key) != nullptr; }
  std::string Encoding(const std::string& key) {
    Entry* e = DbOf(key).Find(key);
    return e == nullptr ? "none" : EncodingName(*e);
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, ZSetFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "shards";
                         });

// ---------------------------------------------------------------------------------------------
// ZADD ZINCRBY ZSCORE ZMSCORE ZCARD ZREM

TEST_P(ZSetFamilyTest, ZaddBasicsAndOptions) {
  EXPECT_EQ(Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"}), Int(3));
  EXPECT_EQ(Run({"ZADD", "z", "1", "a", "5", "b", "9", "n"}), Int(1));
  EXPECT_EQ(Run({"ZADD", "z", "ch", "1", "a", "6", "b", "10", "m"}), Int(2));
  EXPECT_EQ(Run({"ZADD", "z", "NX", "100", "a", "1", "nx1"}), Int(1));
  EXPECT_EQ(Run({"ZSCORE", "z", "a"}), Bulk("1"));
  EXPECT_EQ(Run({"ZADD", "z", "XX", "CH", "7", "a", "1", "nothere"}), Int(1));
  EXPECT_EQ(Run({"ZSCORE", "z", "nothere"}), kNil);
  EXPECT_EQ(Run({"ZADD", "z", "GT", "CH", "3", "a", "100", "b"}), Int(1));
  EXPECT_EQ(Run({"ZADD", "z", "LT", "CH", "1", "a", "200", "b"}), Int(1));
  EXPECT_EQ(Run({"ZMSCORE", "z", "a", "b", "zz"}), Arr({Bulk("1"), Bulk("100"), kNil}));
  EXPECT_EQ(Run({"ZMSCORE", "nokey", "a"}), Arr({kNil}));
  EXPECT_EQ(Run({"ZCARD", "z"}), Int(6));
  EXPECT_EQ(Run({"ZCARD", "nokey"}), Int(0));
}

TEST_P(ZSetFamilyTest, ZaddErrorsInRedisOrder) {
  EXPECT_EQ(Run({"ZADD", "z", "nx", "xx", "1"}), kSyntax);
  EXPECT_EQ(Run({"ZADD", "z", "foo", "1", "a"}), kSyntax);
  EXPECT_EQ(Run({"ZADD", "z", "nx", "xx", "1", "a"}),
            Err("ERR XX and NX options at the same time are not compatible"));
  EXPECT_EQ(Run({"ZADD", "z", "gt", "lt", "1", "a"}),
            Err("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_EQ(Run({"ZADD", "z", "nx", "gt", "1", "a"}),
            Err("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_EQ(Run({"ZADD", "z", "incr", "1", "a", "2", "b"}),
            Err("ERR INCR option supports a single increment-element pair"));
  EXPECT_EQ(Run({"ZADD", "z", "1", "a", "nan", "b"}), Err("ERR value is not a valid float"));
  EXPECT_EQ(Run({"ZADD", "z", " 1", "a"}), Err("ERR value is not a valid float"));
  EXPECT_EQ(Run({"ZADD", "z", "1"}), Err("ERR wrong number of arguments for 'zadd' command"));
  EXPECT_FALSE(Exists("z"));
  PutString("s", "x");
  EXPECT_EQ(Run({"ZADD", "s", "1", "a"}), kWrongType);
  EXPECT_EQ(Run({"ZADD", "s", "xx", "1", "a"}), kWrongType);
}

TEST_P(ZSetFamilyTest, ZaddIncrAndZincrby) {
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "1.5", "a"}), Bulk("1.5"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "2", "a"}), Bulk("3.5"));
  EXPECT_EQ(Run({"ZADD", "z", "NX", "INCR", "1", "a"}), kNil);
  EXPECT_EQ(Run({"ZADD", "z", "XX", "INCR", "1", "q"}), kNil);
  EXPECT_EQ(Run({"ZADD", "z", "GT", "INCR", "-1", "a"}), kNil);
  EXPECT_EQ(Run({"ZADD", "nokey", "XX", "INCR", "1", "q"}), kNil);
  EXPECT_FALSE(Exists("nokey"));
  EXPECT_EQ(Run({"ZADD", "z", "INCR", "inf", "a"}), Bulk("inf"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "-inf", "a"}), Err("ERR resulting score is not a number (NaN)"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "abc", "a"}), Err("ERR value is not a valid float"));
  EXPECT_EQ(Run({"ZSCORE", "z", "a"}), Bulk("inf"));
  EXPECT_EQ(Run({"ZINCRBY", "z", "0.1", "b"}), Bulk("0.10000000000000001"));
  // -0: the reply keeps the sign, the listpack does not.
  EXPECT_EQ(Run({"ZADD", "m", "INCR", "-0", "x"}), Bulk("-0"));
  EXPECT_EQ(Run({"ZSCORE", "m", "x"}), Bulk("0"));
}

TEST_P(ZSetFamilyTest, ZremDeletesEmptiedKey) {
  Run({"ZADD", "z", "1", "a", "2", "b"});
  EXPECT_EQ(Run({"ZREM", "z", "a", "x", "a"}), Int(1));
  EXPECT_EQ(Run({"ZREM", "z", "b", "c"}), Int(1));
  EXPECT_FALSE(Exists("z"));
  EXPECT_EQ(Run({"ZREM", "z", "b"}), Int(0));
  PutString("s", "x");
  EXPECT_EQ(Run({"ZREM", "s", "b"}), kWrongType);
}

// ---------------------------------------------------------------------------------------------
// Encodings

TEST_P(ZSetFamilyTest, EncodingFollowsConfiguredThresholds) {
  ASSERT_TRUE(h_.config().Set("zset-max-listpack-entries", "3").ok());
  ASSERT_TRUE(h_.config().Set("zset-max-listpack-value", "5").ok());
  Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  EXPECT_EQ(Encoding("z"), "listpack");
  Run({"ZADD", "z", "4", "d"});
  EXPECT_EQ(Encoding("z"), "skiplist");
  Run({"ZREM", "z", "a", "b", "c"});
  EXPECT_EQ(Encoding("z"), "skiplist");  // never back
  Run({"ZADD", "w", "1", "abcde"});
  EXPECT_EQ(Encoding("w"), "listpack");
  Run({"ZADD", "w", "1", "abcdef"});
  EXPECT_EQ(Encoding("w"), "skiplist");
  // Duplicates in one ZADD count once.
  Run({"ZADD", "d", "1", "a", "1", "a", "1", "a", "1", "a"});
  EXPECT_EQ(Encoding("d"), "listpack");
  // Stored results pick their encoding from their final size.
  std::string dst = KeyOnShard(1, "dst");
  EXPECT_EQ(Run({"ZUNIONSTORE", dst, "1", "z"}), Int(1));
  EXPECT_EQ(Encoding(dst), "listpack");
  EXPECT_EQ(Run({"ZRANGESTORE", dst, "w", "0", "-1"}), Int(2));
  EXPECT_EQ(Encoding(dst), "skiplist");
}

// ---------------------------------------------------------------------------------------------
// ZRANK ZCOUNT ZLEXCOUNT and the ZRANGE family

TEST_P(ZSetFamilyTest, RankAndCounts) {
  Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d", "4", "e"});
  EXPECT_EQ(Run({"ZRANK", "z", "c"}), Int(2));
  EXPECT_EQ(Run({"ZREVRANK", "z", "c"}), Int(2));
  EXPECT_EQ(Run({"ZREVRANK", "z", "a"}), Int(4));
  EXPECT_EQ(Run({"ZRANK", "z", "x"}), kNil);
  EXPECT_EQ(Run({"ZRANK", "nokey", "x"}), kNil);
  EXPECT_EQ(Run({"ZRANK", "z", "c", "withscore"}),
            Err("ERR wrong number of arguments for 'zrank' command"));
  EXPECT_EQ(Run({"ZCOUNT", "z", "(1", "3"}), Int(3));
  EXPECT_EQ(Run({"ZCOUNT", "z", "(", "3"}), Int(4));  // "(" is an exclusive 0
  EXPECT_EQ(Run({"ZCOUNT", "z", "-inf", "(inf"}), Int(5));
  EXPECT_EQ(Run({"ZCOUNT", "z", "0x10", "100"}), Int(0));
  EXPECT_EQ(Run({"ZCOUNT", "z", std::string("1\0x", 3), "2"}), Int(2));
  EXPECT_EQ(Run({"ZCOUNT", "z", "abc", "3"}), Err("ERR min or max is not a float"));
  EXPECT_EQ(Run({"ZCOUNT", "z", "nan", "3"}), Err("ERR min or max is not a float"));
  Run({"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"});
  EXPECT_EQ(Run({"ZLEXCOUNT", "lex", "-", "+"}), Int(4));
  EXPECT_EQ(Run({"ZLEXCOUNT", "lex", "[b", "(d"}), Int(2));
  EXPECT_EQ(Run({"ZLEXCOUNT", "lex", "+", "-"}), Int(0));
  EXPECT_EQ(Run({"ZLEXCOUNT", "lex", "a", "b"}), Err("ERR min or max not valid string range item"));
  EXPECT_EQ(Run({"ZLEXCOUNT", "lex", "-x", "+"}),
            Err("ERR min or max not valid string range item"));
  PutString("s", "x");
  EXPECT_EQ(Run({"ZCOUNT", "s", "abc", "1"}), Err("ERR min or max is not a float"));
  EXPECT_EQ(Run({"ZCOUNT", "s", "0", "1"}), kWrongType);
}

TEST_P(ZSetFamilyTest, RangeByRankScoreLex) {
  Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "d", "4", "e"});
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1"}), Bulks({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "-2", "100", "WITHSCORES"}), Bulks({"d", "3", "e", "4"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "1", "REV", "withscores"}), Bulks({"e", "4", "d", "3"}));
  EXPECT_EQ(Run({"ZREVRANGE", "z", "1", "2"}), Bulks({"d", "c"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "5", "1"}), kEmpty);
  EXPECT_EQ(Run({"ZRANGE", "nokey", "0", "-1"}), kEmpty);
  EXPECT_EQ(Run({"ZRANGE", "z", "(1", "3", "BYSCORE"}), Bulks({"b", "c", "d"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "3", "(1", "BYSCORE", "REV"}), Bulks({"d", "c", "b"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "1", "-1"}),
            Bulks({"b", "c", "d", "e"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "10", "BYSCORE", "LIMIT", "-1", "2"}), kEmpty);
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "2"}),
            Bulks({"b", "2", "c", "3"}));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2"}), Bulks({"d", "c"}));
  EXPECT_EQ(Run({"ZREVRANGEBYSCORE", "z", "(3", "(1"}), Bulks({"b"}));
  Run({"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"});
  EXPECT_EQ(Run({"ZRANGEBYLEX", "lex", "[b", "(e"}), Bulks({"b", "c", "d"}));
  EXPECT_EQ(Run({"ZREVRANGEBYLEX", "lex", "(e", "[b"}), Bulks({"d", "c", "b"}));
  EXPECT_EQ(Run({"ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "2", "2"}), Bulks({"c", "d"}));
  EXPECT_EQ(Run({"ZRANGE", "lex", "+", "[c", "BYLEX", "REV", "LIMIT", "1", "10"}),
            Bulks({"d", "c"}));
}

TEST_P(ZSetFamilyTest, RangeOptionErrors) {
  Run({"ZADD", "z", "1", "a"});
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"}),
            Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
                "or BYLEX"));
  // LIMIT x -1 is "no limit", which Redis accepts with a rank range.
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1", "LIMIT", "5", "-1"}), Bulks({"a"}));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1", "BYLEX", "WITHSCORES"}),
            Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"}), kSyntax);
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1", "REV", "REV"}), kSyntax);
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "1", "LIMIT", "1"}), kSyntax);
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "a", "b"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"ZRANGE", "z", "a", "b"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"ZRANGE", "z", "a", "b", "BYSCORE"}), Err("ERR min or max is not a float"));
  EXPECT_EQ(Run({"ZRANGE", "z", "a", "b", "BYLEX"}),
            Err("ERR min or max not valid string range item"));
  EXPECT_EQ(Run({"ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"}), kSyntax);
  EXPECT_EQ(Run({"ZREVRANGE", "z", "0", "1", "REV"}), kSyntax);
  EXPECT_EQ(Run({"ZREVRANGE", "z", "0", "1", "WITHSCORES", "WITHSCORES"}), Bulks({"a", "1"}));
  EXPECT_EQ(Run({"ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"}),
            Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  PutString("s", "x");
  EXPECT_EQ(Run({"ZRANGE", "s", "0", "-1"}), kWrongType);
}

TEST_P(ZSetFamilyTest, Resp3Shapes) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  h3.Run({"ZADD", "z", "1", "a", "2.5", "b"});
  EXPECT_EQ(h3.Run({"ZSCORE", "z", "b"}), ",2.5\r\n");
  EXPECT_EQ(h3.Run({"ZSCORE", "z", "x"}), "_\r\n");
  EXPECT_EQ(h3.Run({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
            "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  EXPECT_EQ(h3.Run({"ZMSCORE", "z", "a", "x"}), "*2\r\n,1\r\n_\r\n");
  EXPECT_EQ(h3.Run({"ZPOPMIN", "z"}), "*2\r\n$1\r\na\r\n,1\r\n");
  EXPECT_EQ(h3.Run({"ZPOPMIN", "z", "1"}), "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  EXPECT_EQ(h3.Run({"ZMPOP", "1", "z", "MIN"}), "_\r\n");
  EXPECT_EQ(h3.Run({"ZRANDMEMBER", "z"}), "_\r\n");
  EXPECT_EQ(h3.Run({"BZPOPMIN", "z", "0"}), "_\r\n");
}

// ---------------------------------------------------------------------------------------------
// ZRANGESTORE and ZREMRANGEBY*

TEST_P(ZSetFamilyTest, RangestoreAcrossShards) {
  std::string src = KeyOnShard(0, "src");
  std::string dst = KeyOnShard(1, "dst");
  Run({"ZADD", src, "1", "a", "2", "b", "3", "c", "4", "d"});
  EXPECT_EQ(Run({"ZRANGESTORE", dst, src, "1", "2"}), Int(2));
  EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1", "WITHSCORES"}), Bulks({"b", "2", "c", "3"}));
  EXPECT_EQ(Run({"ZRANGESTORE", dst, src, "+inf", "(1", "BYSCORE", "REV", "LIMIT", "1", "2"}),
            Int(2));
  EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1"}), Bulks({"b", "c"}));
  EXPECT_EQ(Run({"ZRANGESTORE", dst, "nokey", "0", "-1"}), Int(0));
  EXPECT_FALSE(Exists(dst));
  EXPECT_EQ(Run({"ZRANGESTORE", dst, src, "0", "-1", "WITHSCORES"}), kSyntax);
  PutString(dst, "x");
  EXPECT_EQ(Run({"ZRANGESTORE", dst, src, "0", "0"}), Int(1));
  EXPECT_EQ(Run({"TYPE", dst}), "+zset\r\n");
  PutString(src, "x");
  EXPECT_EQ(Run({"ZRANGESTORE", dst, src, "0", "0"}), kWrongType);
}

TEST_P(ZSetFamilyTest, RemoveRanges) {
  Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  EXPECT_EQ(Run({"ZREMRANGEBYRANK", "z", "-2", "-1"}), Int(2));
  EXPECT_EQ(Run({"ZREMRANGEBYSCORE", "z", "(1", "2"}), Int(1));
  EXPECT_EQ(Run({"ZRANGE", "z", "0", "-1"}), Bulks({"a", "c"}));
  EXPECT_EQ(Run({"ZREMRANGEBYSCORE", "z", "abc", "1"}), Err("ERR min or max is not a float"));
  EXPECT_EQ(Run({"ZREMRANGEBYRANK", "z", "a", "1"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"ZREMRANGEBYLEX", "z", "a", "b"}),
            Err("ERR min or max not valid string range item"));
  EXPECT_EQ(Run({"ZREMRANGEBYRANK", "z", "5", "10"}), Int(0));
  EXPECT_EQ(Run({"ZREMRANGEBYLEX", "z", "-", "+"}), Int(2));
  EXPECT_FALSE(Exists("z"));
  EXPECT_EQ(Run({"ZREMRANGEBYLEX", "z", "-", "+"}), Int(0));
}

// ---------------------------------------------------------------------------------------------
// Pops

TEST_P(ZSetFamilyTest, PopsAndErrors) {
  Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  EXPECT_EQ(Run({"ZPOPMIN", "z"}), Bulks({"a", "1"}));
  EXPECT_EQ(Run({"ZPOPMAX", "z", "5"}), Bulks({"c", "3", "b", "2"}));
  EXPECT_FALSE(Exists("z"));
  EXPECT_EQ(Run({"ZPOPMIN", "z"}), kEmpty);
  EXPECT_EQ(Run({"ZPOPMIN", "z", "0"}), kEmpty);
  EXPECT_EQ(Run({"ZPOPMIN", "z", "-1"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(Run({"ZPOPMIN", "z", "abc"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(Run({"ZPOPMIN", "z", "1", "2"}), kSyntax);
  PutString("s", "x");
  EXPECT_EQ(Run({"ZPOPMAX", "s"}), kWrongType);
  EXPECT_EQ(Run({"ZPOPMAX", "s", "0"}), kWrongType);
}

TEST_P(ZSetFamilyTest, ZmpopAcrossShards) {
  std::string a = KeyOnShard(0, "a");
  std::string b = KeyOnShard(1, "b");
  std::string c = KeyOnShard(2, "c");
  Run({"ZADD", c, "1", "x", "2", "y", "3", "z"});
  EXPECT_EQ(Run({"ZMPOP", "3", a, b, c, "MAX", "COUNT", "2"}),
            Arr({Bulk(c), Arr({Bulks({"z", "3"}), Bulks({"y", "2"})})}));
  EXPECT_EQ(Run({"ZMPOP", "2", a, b, "MIN"}), kNilArray);
  PutString(b, "str");
  EXPECT_EQ(Run({"ZMPOP", "3", a, b, c, "MIN"}), kWrongType);
  EXPECT_EQ(Run({"ZMPOP", "0", a, "MIN"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"ZMPOP", "abc", a, "MIN"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"ZMPOP", "2", a, "MIN"}), kSyntax);
  EXPECT_EQ(Run({"ZMPOP", "1", a, "FOO"}), kSyntax);
  EXPECT_EQ(Run({"ZMPOP", "1", a, "MIN", "COUNT", "0"}), Err("ERR count should be greater than 0"));
  EXPECT_EQ(Run({"ZMPOP", "1", a, "MIN", "COUNT", "1", "COUNT", "1"}), kSyntax);
  EXPECT_EQ(Run({"ZMPOP", "1", c, "min"}), Arr({Bulk(c), Arr({Bulks({"x", "1"})})}));
}

TEST_P(ZSetFamilyTest, BlockingPopsReplyAsTimeoutWhenTheyCannotBlock) {
  // The harness gives no blocking context: an empty wait answers like a timeout.
  EXPECT_EQ(Run({"BZPOPMIN", "k1", "0"}), kNilArray);
  EXPECT_EQ(Run({"BZMPOP", "0", "1", "k1", "MIN"}), kNilArray);
  Run({"ZADD", "k1", "1", "a", "2", "b"});
  EXPECT_EQ(Run({"BZPOPMAX", "nokey{k1}", "k1", "0"}), Bulks({"k1", "b", "2"}));
  EXPECT_EQ(Run({"BZMPOP", "0.5", "1", "k1", "MIN", "COUNT", "5"}),
            Arr({Bulk("k1"), Arr({Bulks({"a", "1"})})}));
  EXPECT_EQ(Run({"BZPOPMIN", "k1", "abc"}), Err("ERR timeout is not a float or out of range"));
  EXPECT_EQ(Run({"BZPOPMIN", "k1", "-1"}), Err("ERR timeout is negative"));
  EXPECT_EQ(Run({"BZPOPMIN", "k1", "1e30"}), Err("ERR timeout is negative"));
  EXPECT_EQ(Run({"BZMPOP", "abc", "1", "k1", "MIN"}),
            Err("ERR timeout is not a float or out of range"));
  EXPECT_EQ(Run({"BZMPOP", "abc", "0", "k1", "MIN"}), Err("ERR numkeys should be greater than 0"));
  PutString("str", "x");
  EXPECT_EQ(Run({"BZPOPMIN", "str", "0"}), kWrongType);
}

// ---------------------------------------------------------------------------------------------
// ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD

TEST_P(ZSetFamilyTest, SetOperationsAcrossShards) {
  std::string z = KeyOnShard(0, "z");
  std::string y = KeyOnShard(1, "y");
  std::string st = KeyOnShard(2, "st");
  std::string dst = KeyOnShard(3, "dst");
  Run({"ZADD", z, "1", "a", "2", "b", "3", "c"});
  Run({"ZADD", y, "5", "b", "6", "d"});
  PutSet(st, {"a", "x"});
  EXPECT_EQ(Run({"ZUNION", "2", z, y, "WITHSCORES"}),
            Bulks({"a", "1", "c", "3", "d", "6", "b", "7"}));
  EXPECT_EQ(Run({"ZUNION", "3", z, y, st, "WITHSCORES"}),
            Bulks({"x", "1", "a", "2", "c", "3", "d", "6", "b", "7"}));
  EXPECT_EQ(Run({"ZUNION", "2", z, y, "WEIGHTS", "2", "inf", "WITHSCORES"}),
            Bulks({"a", "2", "c", "6", "b", "inf", "d", "inf"}));
  EXPECT_EQ(Run({"ZINTER", "2", z, y, "AGGREGATE", "MIN", "WITHSCORES"}), Bulks({"b", "2"}));
  EXPECT_EQ(Run({"ZINTER", "2", z, st}), Bulks({"a"}));
  EXPECT_EQ(Run({"ZDIFF", "2", z, y, "WITHSCORES"}), Bulks({"a", "1", "c", "3"}));
  EXPECT_EQ(Run({"ZINTERCARD", "2", z, y}), Int(1));
  EXPECT_EQ(Run({"ZINTERCARD", "1", z, "LIMIT", "2"}), Int(2));
  EXPECT_EQ(Run({"ZUNIONSTORE", dst, "2", z, y}), Int(4));
  EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1", "WITHSCORES"}),
            Bulks({"a", "1", "c", "3", "d", "6", "b", "7"}));
  EXPECT_EQ(Run({"ZINTERSTORE", dst, "2", z, y, "WEIGHTS", "1", "-1"}), Int(1));
  EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1", "WITHSCORES"}), Bulks({"b", "-3"}));
  EXPECT_EQ(Run({"ZDIFFSTORE", dst, "3", z, y, st}), Int(1));
  EXPECT_EQ(Run({"ZRANGE", dst, "0", "-1"}), Bulks({"c"}));
  EXPECT_EQ(Run({"ZDIFFSTORE", dst, "1", "nokey"}), Int(0));
  EXPECT_FALSE(Exists(dst));
  // The destination may be an input.
  EXPECT_EQ(Run({"ZUNIONSTORE", z, "2", z, y, "AGGREGATE", "MAX"}), Int(4));
  EXPECT_EQ(Run({"ZRANGE", z, "0", "-1", "WITHSCORES"}),
            Bulks({"a", "1", "c", "3", "b", "5", "d", "6"}));
}

TEST_P(ZSetFamilyTest, SetOperationErrors) {
  std::string z = KeyOnShard(0, "z");
  std::string s = KeyOnShard(1, "s");
  Run({"ZADD", z, "1", "a"});
  PutString(s, "x");
  EXPECT_EQ(Run({"ZUNION", "0", z}),
            Err("ERR at least 1 input key is needed for 'zunion' command"));
  EXPECT_EQ(Run({"ZUNIONSTORE", "d", "-1", z}),
            Err("ERR at least 1 input key is needed for 'zunionstore' command"));
  EXPECT_EQ(Run({"ZINTERCARD", "0", z}),
            Err("ERR at least 1 input key is needed for 'zintercard' command"));
  EXPECT_EQ(Run({"ZUNION", "abc", z}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"ZUNION", "3", z, s}), kSyntax);
  // Type errors come before option errors.
  EXPECT_EQ(Run({"ZUNION", "2", z, s, "WEIGHTS", "x", "y"}), kWrongType);
  EXPECT_EQ(Run({"ZUNION", "1", z, "WEIGHTS", "x"}), Err("ERR weight value is not a float"));
  EXPECT_EQ(Run({"ZUNION", "1", z, "WEIGHTS"}), kSyntax);
  EXPECT_EQ(Run({"ZUNION", "1", z, "AGGREGATE", "foo"}), kSyntax);
  EXPECT_EQ(Run({"ZUNIONSTORE", "d", "1", z, "WITHSCORES"}), kSyntax);
  EXPECT_EQ(Run({"ZDIFF", "1", z, "WEIGHTS", "1"}), kSyntax);
  EXPECT_EQ(Run({"ZINTERCARD", "1", z, "LIMIT", "-1"}), Err("ERR LIMIT can't be negative"));
  EXPECT_EQ(Run({"ZINTERCARD", "1", z, "WITHSCORES"}), kSyntax);
  EXPECT_EQ(Run({"ZUNION", "1", z, "WITHSCORES", "WITHSCORES"}), Bulks({"a", "1"}));
}

TEST_P(ZSetFamilyTest, KeyFindersRouteNumkeysCommands) {
  const CommandTable& table = CommandTable::Get();
  auto keys = [&](std::vector<std::string_view> args) {
    std::vector<int> positions;
    CommandTable::KeyPositions(*table.Find(args[0]), args, &positions);
    return positions;
  };
  EXPECT_EQ(keys({"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}),
            (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(keys({"zunion", "2", "a", "b"}), (std::vector<int>{2, 3}));
  EXPECT_EQ(keys({"zunion", "3", "a", "b"}), (std::vector<int>{}));
  EXPECT_EQ(keys({"zmpop", "2", "a", "b", "MIN"}), (std::vector<int>{2, 3}));
  EXPECT_EQ(keys({"zmpop", "2", "a", "b"}), (std::vector<int>{}));
  EXPECT_EQ(keys({"bzmpop", "0", "1", "a", "MAX", "COUNT", "2"}), (std::vector<int>{3}));
  EXPECT_EQ(keys({"bzpopmin", "a", "b", "0"}), (std::vector<int>{1, 2}));
  // Arguments the handler refuses give no keys: the error comes from the handler, not CROSSSLOT.
  EXPECT_EQ(keys({"bzmpop", "0.01", "5", "a", "b", "b", "MAX", "COUNT", "4"}),
            (std::vector<int>{}));
  EXPECT_EQ(keys({"bzmpop", "-1", "1", "a", "MAX"}), (std::vector<int>{}));
  EXPECT_EQ(keys({"bzpopmin", "a", "b", "abc"}), (std::vector<int>{}));
  EXPECT_EQ(keys({"zmpop", "1", "a", "MIN", "COUNT", "0"}), (std::vector<int>{}));
  EXPECT_EQ(keys({"zrangestore", "d", "s", "0", "1"}), (std::vector<int>{1, 2}));
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER ZSCAN

TEST_P(ZSetFamilyTest, Randmember) {
  Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  std::set<std::string> members = {"a", "b", "c"};
  for (int i = 0; i < 20; ++i) {
    std::string r = Run({"ZRANDMEMBER", "z"});
    EXPECT_TRUE(r == Bulk("a") || r == Bulk("b") || r == Bulk("c")) << r;
  }
  // count >= size: everything, from the highest score.
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "10", "WITHSCORES"}), Bulks({"c", "3", "b", "2", "a", "1"}));
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "0"}), kEmpty);
  EXPECT_EQ(Run({"ZRANDMEMBER", "nokey", "5"}), kEmpty);
  EXPECT_EQ(Run({"ZRANDMEMBER", "nokey"}), kNil);
  // Negative counts repeat: exactly |count| members.
  std::string r = Run({"ZRANDMEMBER", "z", "-7"});
  EXPECT_EQ(r.substr(0, 4), "*7\r\n");
  // Distinct subsets.
  for (int i = 0; i < 10; ++i) {
    std::string two = Run({"ZRANDMEMBER", "z", "2"});
    EXPECT_EQ(two.substr(0, 4), "*2\r\n");
    EXPECT_NE(two.substr(4, 7), two.substr(11, 7)) << two;
  }
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "abc"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "-9223372036854775808"}),
            Err("ERR value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807"));
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"}),
            Err("ERR value is out of range"));
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "1", "foo"}), kSyntax);
}

TEST_P(ZSetFamilyTest, ZscanListpackAndSkiplist) {
  Run({"ZADD", "z", "1", "a", "2", "b"});
  EXPECT_EQ(Run({"ZSCAN", "z", "0"}), Arr({Bulk("0"), Bulks({"a", "1", "b", "2"})}));
  EXPECT_EQ(Run({"ZSCAN", "z", "0", "MATCH", "b*"}), Arr({Bulk("0"), Bulks({"b", "2"})}));
  EXPECT_EQ(Run({"ZSCAN", "z", "0", "COUNT", "0"}), kSyntax);
  EXPECT_EQ(Run({"ZSCAN", "z", "0", "TYPE", "zset"}), kSyntax);
  EXPECT_EQ(Run({"ZSCAN", "z", "x"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"ZSCAN", "nokey", "0", "COUNT", "0"}), Arr({Bulk("0"), kEmpty}));
  std::vector<std::string> args = {"ZADD", "big"};
  std::map<std::string, std::string> want;
  for (int i = 0; i < 300; ++i) {
    args.push_back(std::to_string(i) + ".5");
    args.push_back("m" + std::to_string(i));
    want["m" + std::to_string(i)] = std::to_string(i) + ".5";
  }
  Run(args);
  EXPECT_EQ(Encoding("big"), "skiplist");
  std::map<std::string, std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    std::string reply = Run({"ZSCAN", "big", cursor, "COUNT", "20"});
    size_t pos = 0;
    auto line = [&] {
      size_t end = reply.find("\r\n", pos);
      std::string l = reply.substr(pos, end - pos);
      pos = end + 2;
      return l;
    };
    ASSERT_EQ(line(), "*2");
    line();
    cursor = line();
    int n = std::stoi(line().substr(1));
    ASSERT_EQ(n % 2, 0);
    for (int i = 0; i < n; i += 2) {
      line();
      std::string m = line();
      line();
      seen[m] = line();
    }
  } while (cursor != "0" && ++calls < 1000);
  EXPECT_EQ(seen, want);
}

}  // namespace
}  // namespace shardis
