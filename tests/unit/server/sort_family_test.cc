// Unit tests of SORT / SORT_RO (server/commands/sort_family.cc), WAIT and LOLWUT, run through the
// command table with the in-process CommandHarness, with one and with four shards (so STORE to a
// destination on another shard takes the fan-out path, and BY/GET keys on other shards are read
// there). Expected replies are redis-server 7.0's.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/command.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& e) { return "-" + e + "\r\n"; }
std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
const std::string kNil = "$-1\r\n";
// An array of bulk strings; "(nil)" stands for a null bulk.
std::string Arr(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& s : items) out += s == "(nil)" ? kNil : Bulk(s);
  return out;
}
const std::string kOk = "+OK\r\n";
const std::string kWrongType =
    Err("WRONGTYPE Operation against a key holding the wrong kind of value");

class SortTest : public ::testing::TestWithParam<int> {
 protected:
  SortTest() : h_(GetParam()) {}
  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }
  CommandHarness h_;
};

TEST_P(SortTest, NumericAlphaDescLimit) {
  Run({"RPUSH", "{k}l", "3", "1", "2", "10", "1.5"});
  EXPECT_EQ(Run({"SORT", "{k}l"}), Arr({"1", "1.5", "2", "3", "10"}));
  EXPECT_EQ(Run({"SORT", "{k}l", "DESC"}), Arr({"10", "3", "2", "1.5", "1"}));
  EXPECT_EQ(Run({"SORT", "{k}l", "ALPHA"}), Arr({"1", "1.5", "10", "2", "3"}));
  EXPECT_EQ(Run({"sort", "{k}l", "limit", "1", "2"}), Arr({"1.5", "2"}));
  EXPECT_EQ(Run({"SORT", "{k}l", "LIMIT", "-5", "2"}), Arr({"1", "1.5"}));
  EXPECT_EQ(Run({"SORT", "{k}l", "LIMIT", "3", "-1"}), Arr({"3", "10"}));
  EXPECT_EQ(Run({"SORT", "{k}l", "LIMIT", "9", "1"}), Arr({}));
  EXPECT_EQ(Run({"SORT", "{k}l", "LIMIT", "0", "0"}), Arr({}));
  EXPECT_EQ(Run({"SORT", "{k}l", "LIMIT", "x", "0"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"SORT", "{k}l", "LIMIT", "0"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SORT", "{k}l", "BY", "nosort"}), Arr({"3", "1", "2", "10", "1.5"}));
  EXPECT_EQ(Run({"SORT", "{k}l", "BY", "nosort", "DESC", "LIMIT", "1", "2"}), Arr({"10", "2"}));
  EXPECT_EQ(Run({"SORT", "missing"}), Arr({}));
  // Equal scores: ties broken by the elements as strings (reversed by DESC).
  Run({"RPUSH", "ties", "1.0", "1", "01", "b"});
  EXPECT_EQ(Run({"SORT", "ties", "BY", "nosort"}), Arr({"1.0", "1", "01", "b"}));
  EXPECT_EQ(Run({"SORT", "ties"}), Err("ERR One or more scores can't be converted into double"));
  Run({"LREM", "ties", "0", "b"});
  EXPECT_EQ(Run({"SORT", "ties"}), Arr({"01", "1", "1.0"}));
  EXPECT_EQ(Run({"SORT", "ties", "DESC"}), Arr({"1.0", "1", "01"}));
  // strtod rules: spaces before, hex, inf; an empty string is 0; NaN and garbage fail.
  Run({"RPUSH", "odd", " 2", "0x10", "-inf", "", "5"});
  EXPECT_EQ(Run({"SORT", "odd"}), Arr({"-inf", "", " 2", "5", "0x10"}));
  Run({"RPUSH", "nan", "nan"});
  EXPECT_EQ(Run({"SORT", "nan"}), Err("ERR One or more scores can't be converted into double"));
  Run({"SET", "str", "x"});
  EXPECT_EQ(Run({"SORT", "str"}), kWrongType);
  EXPECT_EQ(Run({"SORT", "{k}l", "FOO"}), Err("ERR syntax error"));
}

TEST_P(SortTest, SetsAndSortedSets) {
  Run({"SADD", "s", "5", "3", "9", "1"});
  EXPECT_EQ(Run({"SORT", "s"}), Arr({"1", "3", "5", "9"}));
  EXPECT_EQ(Run({"SORT", "s", "DESC", "LIMIT", "0", "2"}), Arr({"9", "5"}));
  EXPECT_EQ(Run({"SORT", "s", "BY", "nosort"}), Arr({"1", "3", "5", "9"}));  // intset order
  Run({"ZADD", "z", "3", "a", "1", "b", "2", "c"});
  EXPECT_EQ(Run({"SORT", "z", "ALPHA"}), Arr({"a", "b", "c"}));
  EXPECT_EQ(Run({"SORT", "z", "BY", "nosort"}), Arr({"b", "c", "a"}));
  EXPECT_EQ(Run({"SORT", "z", "BY", "nosort", "DESC"}), Arr({"a", "c", "b"}));
  EXPECT_EQ(Run({"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"}), Arr({"c", "b"}));
  EXPECT_EQ(Run({"SORT", "z", "BY", "nosort", "LIMIT", "1", "1"}), Arr({"c"}));
  EXPECT_EQ(Run({"SORT", "z"}), Err("ERR One or more scores can't be converted into double"));
  EXPECT_EQ(Run({"SORT_RO", "z", "BY", "nosort"}), Arr({"b", "c", "a"}));
  EXPECT_EQ(Run({"SORT_RO", "z", "STORE", "x"}), Err("ERR syntax error"));
}

TEST_P(SortTest, ByAndGetPatterns) {
  Run({"RPUSH", "{u}ids", "1", "2", "3", "4"});
  Run({"MSET", "{u}w_1", "30", "{u}w_2", "10", "{u}w_3", "20", "{u}o_1", "one", "{u}o_3", "three"});
  Run({"HSET", "{u}h_2", "name", "two", "w", "5"});
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}w_*"}), Arr({"4", "2", "3", "1"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}w_*", "GET", "#", "GET", "{u}o_*"}),
            Arr({"4", "(nil)", "2", "(nil)", "3", "three", "1", "one"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}w_*", "DESC", "LIMIT", "0", "2", "GET", "{u}o_*"}),
            Arr({"one", "three"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}h_*->w", "GET", "{u}h_*->name"}),
            Arr({"(nil)", "(nil)", "(nil)", "two"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}o_*", "ALPHA"}), Arr({"2", "4", "1", "3"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}o_*", "ALPHA", "DESC"}), Arr({"3", "1", "2", "4"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "BY", "{u}o_*"}),
            Err("ERR One or more scores can't be converted into double"));
  // GET of a constant pattern or of a non-string: nil.
  EXPECT_EQ(Run({"SORT", "{u}ids", "LIMIT", "0", "1", "GET", "fixed", "GET", "{u}h_*"}),
            Arr({"(nil)", "(nil)"}));
  EXPECT_EQ(Run({"SORT", "{u}ids", "LIMIT", "1", "1", "GET", "{u}h_*->"}), Arr({"(nil)"}));
}

TEST_P(SortTest, Store) {
  Run({"RPUSH", "{a}src", "2", "1", "3"});
  Run({"SET", "{a}g_1", "x"});
  EXPECT_EQ(Run({"SORT", "{a}src", "STORE", "{a}dst"}), Int(3));
  EXPECT_EQ(Run({"LRANGE", "{a}dst", "0", "-1"}), Arr({"1", "2", "3"}));
  EXPECT_EQ(Run({"SORT", "{a}src", "GET", "{a}g_*", "STORE", "{a}dst"}), Int(3));
  EXPECT_EQ(Run({"LRANGE", "{a}dst", "0", "-1"}), Arr({"x", "", ""}));
  // Another shard (with 4 shards): sorted on the source's, stored on the destination's.
  Run({"SET", "other", "string"});
  Run({"EXPIRE", "other", "100"});
  EXPECT_EQ(Run({"SORT", "{a}src", "DESC", "STORE", "other"}), Int(3));
  EXPECT_EQ(Run({"LRANGE", "other", "0", "-1"}), Arr({"3", "2", "1"}));
  EXPECT_EQ(Run({"TTL", "other"}), Int(-1));
  // Empty result: the destination is deleted.
  EXPECT_EQ(Run({"SORT", "{a}src", "LIMIT", "5", "5", "STORE", "other"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", "other"}), Int(0));
  EXPECT_EQ(Run({"SORT", "nothing", "STORE", "{a}dst"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", "{a}dst"}), Int(0));
  // A set stored without sorting is sorted ALPHA (deterministic result).
  Run({"SADD", "{a}set", "b", "10", "a", "9"});
  EXPECT_EQ(Run({"SORT", "{a}set", "BY", "nosort", "STORE", "elsewhere"}), Int(4));
  EXPECT_EQ(Run({"LRANGE", "elsewhere", "0", "-1"}), Arr({"10", "9", "a", "b"}));
  // Errors store nothing.
  EXPECT_EQ(Run({"SORT", "{a}set", "STORE", "{a}x"}),
            Err("ERR One or more scores can't be converted into double"));
  EXPECT_EQ(Run({"EXISTS", "{a}x"}), Int(0));
  // The last STORE wins (as Redis's key finder and parser).
  EXPECT_EQ(Run({"SORT", "{a}src", "STORE", "{a}p", "STORE", "q"}), Int(3));
  EXPECT_EQ(Run({"EXISTS", "{a}p", "q"}), Int(1));
  EXPECT_EQ(Run({"LRANGE", "q", "0", "-1"}), Arr({"1", "2", "3"}));
}

TEST_P(SortTest, PatternKeysOnAnotherShard) {
  Run({"RPUSH", "ids", "1", "2", "3"});
  Run({"MSET", "w_1", "3", "w_2", "2", "w_3", "1", "name_1", "a", "name_3", "c"});
  Run({"HSET", "obj_1", "f", "10"});
  Run({"HSET", "obj_2", "f", "30"});
  Run({"HSET", "obj_3", "f", "20", "g", "x"});
  // w_1, w_2, w_3 do not all live on the shard of "ids" among 4: read on their own shards.
  EXPECT_EQ(Run({"SORT", "ids", "BY", "w_*"}), Arr({"3", "2", "1"}));
  EXPECT_EQ(Run({"SORT_RO", "ids", "BY", "w_*"}), Arr({"3", "2", "1"}));
  EXPECT_EQ(Run({"SORT", "ids", "GET", "w_*"}), Arr({"3", "2", "1"}));
  EXPECT_EQ(Run({"SORT", "ids", "GET", "name_*", "GET", "#"}),
            Arr({"a", "1", "(nil)", "2", "c", "3"}));
  EXPECT_EQ(Run({"SORT", "ids", "BY", "obj_*->f", "GET", "obj_*->f", "GET", "obj_*->g"}),
            Arr({"10", "(nil)", "20", "x", "30", "(nil)"}));
  EXPECT_EQ(Run({"SORT", "ids", "BY", "obj_*->f", "DESC", "LIMIT", "0", "2", "GET", "name_*"}),
            Arr({"(nil)", "c"}));
  EXPECT_EQ(Run({"SORT", "ids", "BY", "name_*", "ALPHA", "GET", "#"}), Arr({"2", "1", "3"}));
  // Non-numeric BY values: the error, as Redis.
  EXPECT_EQ(Run({"SORT", "ids", "BY", "name_*"}),
            Err("ERR One or more scores can't be converted into double"));
  // STORE with patterns, to a destination on any shard.
  EXPECT_EQ(Run({"SORT", "ids", "BY", "w_*", "GET", "name_*", "STORE", "out"}), Int(3));
  EXPECT_EQ(Run({"LRANGE", "out", "0", "-1"}), Arr({"c", "", "a"}));
  EXPECT_EQ(Run({"SORT_RO", "ids", "GET", "w_*", "STORE", "out"}), Err("ERR syntax error"));
  // The sorted key's own errors, and an absent key.
  Run({"SET", "str", "x"});
  EXPECT_EQ(Run({"SORT", "str", "GET", "w_*"}), kWrongType);
  EXPECT_EQ(Run({"SORT", "nokey", "BY", "w_*", "GET", "w_*"}), Arr({}));
  // Constant BY and GET # never name a key.
  EXPECT_EQ(Run({"SORT", "ids", "BY", "nosort", "GET", "#"}), Arr({"1", "2", "3"}));
}

// Redis's partial quicksort decides the order of equal elements with BY ... LIMIT.
TEST_P(SortTest, ByWithLimitUsesPartialSort) {
  std::vector<std::string> push = {"RPUSH", "{p}l"};
  for (int i = 0; i < 60; ++i) push.push_back(std::to_string((i * 37) % 60));
  Run(push);
  // Every BY key is missing: all equal under ALPHA; a full sort keeps the list order.
  std::string full = Run({"SORT", "{p}l", "BY", "{p}nokey_*", "ALPHA"});
  std::vector<std::string> expected(push.begin() + 2, push.end());
  EXPECT_EQ(full, Arr(expected));
  // With a LIMIT the elements come out of the partial quicksort, as redis-server's.
  std::string part = Run({"SORT", "{p}l", "BY", "{p}nokey_*", "ALPHA", "LIMIT", "0", "5"});
  EXPECT_EQ(part, Arr({"23", "37", "14", "51", "28"}));
  EXPECT_EQ(Run({"SORT", "{p}l", "BY", "{p}nokey_*", "ALPHA", "LIMIT", "10", "5"}),
            Arr({"10", "47", "24", "1", "38"}));
  EXPECT_EQ(Run({"SORT", "{p}l", "BY", "{p}nokey_*", "ALPHA", "LIMIT", "50", "20", "DESC"}),
            Arr({"50", "27", "4", "41", "18", "55", "32", "9", "46", "0"}));
}

TEST_P(SortTest, WaitAndLolwut) {
  EXPECT_EQ(Run({"WAIT", "0", "0"}), Int(0));
  EXPECT_EQ(Run({"WAIT", "-1", "100"}), Int(0));
  // No blocking context in the harness: replies as at the timeout.
  EXPECT_EQ(Run({"WAIT", "1", "100"}), Int(0));
  EXPECT_EQ(Run({"WAIT", "x", "0"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"WAIT", "1", "-1"}), Err("ERR timeout is negative"));
  EXPECT_EQ(Run({"WAIT", "1", "1.5"}), Err("ERR timeout is not an integer or out of range"));
  EXPECT_EQ(Run({"LOLWUT"}), Bulk("Redis ver. 7.0.15\n"));
  EXPECT_EQ(Run({"LOLWUT", "VERSION", "1"}), Bulk("Redis ver. 7.0.15\n"));
  std::string five = Run({"LOLWUT", "VERSION", "5"});
  EXPECT_NE(five.find("Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"),
            std::string::npos);
  EXPECT_EQ(Run({"LOLWUT", "VERSION", "x"}), Err("ERR value is not an integer or out of range"));
}

INSTANTIATE_TEST_SUITE_P(Shards, SortTest, ::testing::Values(1, 4));

}  // namespace
}  // namespace shardis
