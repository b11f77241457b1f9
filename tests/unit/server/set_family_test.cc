// Unit tests of the set commands (server/commands/set_family.cc), run through the command table
// with the in-process CommandHarness (single test thread), with one and with four shards (so the
// multi-key commands run both on one shard and fanned out). Expected replies are redis-server
// 7.0's, byte for byte, including RESP3 shapes and OBJECT ENCODING after each conversion.
#include <algorithm>
#include <cstdint>
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
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& e) { return "-" + e + "\r\n"; }
std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
// An aggregate of bulk strings with the given type byte ('*' array, '~' set).
std::string Agg(char type, const std::vector<std::string>& items) {
  std::string out = type + std::to_string(items.size()) + "\r\n";
  for (const std::string& s : items) out += Bulk(s);
  return out;
}
std::string Arr(const std::vector<std::string>& items) { return Agg('*', items); }
const std::string kWrongType =
    Err("WRONGTYPE Operation against a key holding the wrong kind of value");
const std::string kNil = "$-1\r\n";
const std::string kEmpty = "*0\r\n";

// Decodes one reply made of aggregates and bulk strings (any aggregate type byte).
class RespReader {
 public:
  explicit RespReader(std::string s) : s_(std::move(s)) {}
  char Type() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  int64_t Header() {
    size_t end = s_.find("\r\n", pos_);
    int64_t n = std::stoll(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 2;
    return n;
  }
  std::string BulkString() {
    int64_t n = Header();
    std::string out = s_.substr(pos_, n);
    pos_ += n + 2;
    return out;
  }
  std::vector<std::string> BulkAggregate() {
    int64_t n = Header();
    std::vector<std::string> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(BulkString());
    return out;
  }
  bool AtEnd() const { return pos_ == s_.size(); }

 private:
  std::string s_;
  size_t pos_ = 0;
};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class SetFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  SetFamilyTest() : h_(GetParam()) {}

  int Shards() { return h_.shard_count(); }
  Db& DbOf(const std::string& key) { return h_.shard(ShardOfKey(key, Shards())).db(0); }
  void PutString(const std::string& key, const std::string& value) {
    DbOf(key).Set(key, Value::FromString(value));
  }
  const SetValue* SetAt(const std::string& key) {
    Entry* e = DbOf(key).Find(key);
    if (e == nullptr || e->type() != ValueType::kSet) return nullptr;
    return e->As<SetValue>();
  }
  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }
  std::string Encoding(const std::string& key) { return Run({"OBJECT", "ENCODING", key}); }
  // The members of an aggregate reply, in reply order.
  std::vector<std::string> Members(std::vector<std::string> argv) {
    std::string reply = Run(std::move(argv));
    RespReader r(reply);
    EXPECT_TRUE(r.Type() == '*' || r.Type() == '~') << reply;
    if (r.Type() != '*' && r.Type() != '~') return {};
    std::vector<std::string> out = r.BulkAggregate();
    EXPECT_TRUE(r.AtEnd()) << reply;
    return out;
  }
  void Add(const std::string& key, const std::vector<std::string>& members) {
    std::vector<std::string> argv = {"SADD", key};
    argv.insert(argv.end(), members.begin(), members.end());
    Run(argv);
  }
  // The first key "<prefix><n>" on `shard` (mod the shard count).
  std::string KeyOnShard(int shard, const std::string& prefix) {
    for (int n = 0;; ++n) {
      std::string key = prefix + std::to_string(n);
      if (ShardOfKey(key, Shards()) == shard % Shards()) return key;
    }
  }
  // Every member SSCAN returns, from cursor 0 to the end.
  std::vector<std::string> ScanAll(const std::string& key, std::vector<std::string> options,
                                   int* calls = nullptr) {
    std::vector<std::string> all;
    std::string cursor = "0";
    int n = 0;
    do {
      std::vector<std::string> argv = {"SSCAN", key, cursor};
      argv.insert(argv.end(), options.begin(), options.end());
      std::string reply = Run(argv);
      RespReader r(reply);
      EXPECT_EQ(r.Type(), '*') << reply;
      if (r.Type() != '*') break;
      EXPECT_EQ(r.Header(), 2);
      cursor = r.BulkString();
      for (std::string& m : r.BulkAggregate()) all.push_back(std::move(m));
      ++n;
    } while (cursor != "0" && n < 100000);
    if (calls != nullptr) *calls = n;
    return all;
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, SetFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "shards";
                         });

// ---------------------------------------------------------------------------------------------
// SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS

TEST_P(SetFamilyTest, AddRemoveCardAndMembership) {
  EXPECT_EQ(Run({"SADD", "s", "b", "a", "b"}), Int(2));
  EXPECT_EQ(Run({"SADD", "s", "a", "c"}), Int(1));
  EXPECT_EQ(Run({"SCARD", "s"}), Int(3));
  EXPECT_EQ(Run({"SCARD", "nokey"}), Int(0));
  EXPECT_EQ(Run({"SISMEMBER", "s", "a"}), Int(1));
  EXPECT_EQ(Run({"SISMEMBER", "s", "z"}), Int(0));
  EXPECT_EQ(Run({"SISMEMBER", "nokey", "a"}), Int(0));
  EXPECT_EQ(Run({"SMISMEMBER", "s", "a", "z", "c"}), "*3\r\n:1\r\n:0\r\n:1\r\n");
  EXPECT_EQ(Run({"SMISMEMBER", "nokey", "a", "b"}), "*2\r\n:0\r\n:0\r\n");
  EXPECT_EQ(Sorted(Members({"SMEMBERS", "s"})), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Run({"SMEMBERS", "nokey"}), kEmpty);
  EXPECT_EQ(Run({"TYPE", "s"}), "+set\r\n");
  EXPECT_EQ(Run({"SREM", "s", "a", "z", "a"}), Int(1));
  EXPECT_EQ(Run({"SREM", "nokey", "a"}), Int(0));
  EXPECT_EQ(Run({"SREM", "s", "b", "c", "d"}), Int(2));
  EXPECT_EQ(Run({"EXISTS", "s"}), Int(0));  // an emptied set is deleted
}

TEST_P(SetFamilyTest, WrongTypeAndArity) {
  PutString("str", "x");
  for (std::vector<std::string> argv : std::vector<std::vector<std::string>>{
           {"SADD", "str", "a"},
           {"SREM", "str", "a"},
           {"SCARD", "str"},
           {"SISMEMBER", "str", "a"},
           {"SMISMEMBER", "str", "a"},
           {"SMEMBERS", "str"},
           {"SPOP", "str"},
           {"SPOP", "str", "0"},
           {"SRANDMEMBER", "str"},
           {"SRANDMEMBER", "str", "0"},
           {"SSCAN", "str", "0"},
       }) {
    EXPECT_EQ(Run(argv), kWrongType) << argv[0];
  }
  EXPECT_EQ(Run({"SADD", "s"}), Err("ERR wrong number of arguments for 'sadd' command"));
  EXPECT_EQ(Run({"SMISMEMBER", "s"}),
            Err("ERR wrong number of arguments for 'smismember' command"));
  EXPECT_EQ(Run({"SPOP", "s", "1", "2"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SRANDMEMBER", "s", "1", "2"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SINTERCARD", "1"}),
            Err("ERR wrong number of arguments for 'sintercard' command"));
  EXPECT_EQ(Run({"SMOVE", "a", "b"}), Err("ERR wrong number of arguments for 'smove' command"));
}

TEST_P(SetFamilyTest, IntsetMembersAscendingAndResp3Set) {
  EXPECT_EQ(Run({"SADD", "s", "10", "-3", "7", "100000", "0"}), Int(5));
  EXPECT_EQ(Encoding("s"), Bulk("intset"));
  EXPECT_EQ(Run({"SMEMBERS", "s"}), Arr({"-3", "0", "7", "10", "100000"}));
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  h3.Run({"SADD", "s", "3", "1", "2"});
  EXPECT_EQ(h3.Run({"SMEMBERS", "s"}), Agg('~', {"1", "2", "3"}));
  EXPECT_EQ(h3.Run({"SMEMBERS", "nokey"}), "~0\r\n");
  EXPECT_EQ(h3.Run({"SMISMEMBER", "s", "1"}), "*1\r\n:1\r\n");
}

// ---------------------------------------------------------------------------------------------
// Encodings

TEST_P(SetFamilyTest, EncodingFollowsThresholdAndNeverGoesBack) {
  ASSERT_TRUE(h_.config().Set("set-max-intset-entries", "3").ok());
  Run({"SADD", "i", "1", "2", "3"});
  EXPECT_EQ(Encoding("i"), Bulk("intset"));
  Run({"SADD", "i", "3"});
  EXPECT_EQ(Encoding("i"), Bulk("intset"));
  Run({"SADD", "i", "4"});
  EXPECT_EQ(Encoding("i"), Bulk("hashtable"));
  Run({"SREM", "i", "1", "2", "3"});
  EXPECT_EQ(Encoding("i"), Bulk("hashtable"));
  // A lower threshold applies only when the set next grows.
  ASSERT_TRUE(h_.config().Set("set-max-intset-entries", "512").ok());
  Run({"SADD", "j", "1", "2", "3", "4", "5"});
  ASSERT_TRUE(h_.config().Set("set-max-intset-entries", "2").ok());
  Run({"SREM", "j", "5"});
  EXPECT_EQ(Encoding("j"), Bulk("intset"));
  Run({"SADD", "j", "9"});
  EXPECT_EQ(Encoding("j"), Bulk("hashtable"));
  ASSERT_TRUE(h_.config().Set("set-max-intset-entries", "512").ok());
  // A non-integer member, or a non-canonical integer, converts.
  Run({"SADD", "k", "1"});
  Run({"SADD", "k", "01"});
  EXPECT_EQ(Encoding("k"), Bulk("hashtable"));
  Run({"SADD", "m", "x", "1"});  // created for "x": a hashtable from the start
  Run({"SREM", "m", "x"});
  EXPECT_EQ(Encoding("m"), Bulk("hashtable"));
  Run({"SADD", "n", "9223372036854775807", "-9223372036854775808"});
  EXPECT_EQ(Encoding("n"), Bulk("intset"));
  Run({"SADD", "n", "9223372036854775808"});
  EXPECT_EQ(Encoding("n"), Bulk("hashtable"));
}

TEST_P(SetFamilyTest, StoreResultEncodingsAsRedis) {
  std::vector<std::string> big;
  for (int i = 1; i <= 600; ++i) big.push_back(std::to_string(i));
  Add("big", big);
  EXPECT_EQ(Encoding("big"), Bulk("hashtable"));
  Add("small", {"1", "2"});
  EXPECT_EQ(Run({"SINTERSTORE", "d1", "big", "small"}), Int(2));
  EXPECT_EQ(Encoding("d1"), Bulk("intset"));
  EXPECT_EQ(Run({"SUNIONSTORE", "d2", "small"}), Int(2));
  EXPECT_EQ(Encoding("d2"), Bulk("intset"));
  // SDIFF's first algorithm builds only the result: 4 members, an intset.
  std::vector<std::string> rm;
  for (int i = 3; i <= 598; ++i) rm.push_back(std::to_string(i));
  Add("rm", rm);
  EXPECT_EQ(Run({"SDIFFSTORE", "d3", "big", "rm"}), Int(4));
  EXPECT_EQ(Encoding("d3"), Bulk("intset"));
  EXPECT_EQ(Run({"SMEMBERS", "d3"}), Arr({"1", "2", "599", "600"}));
  // Its second algorithm copies the first set, then removes: 401 members, but a hashtable.
  std::vector<std::string> a1, a2;
  for (int i = 1; i <= 100; ++i) a1.push_back(std::to_string(i));
  for (int i = 101; i <= 199; ++i) a2.push_back(std::to_string(i));
  Add("a1", a1);
  Add("a2", a2);
  EXPECT_EQ(Run({"SDIFFSTORE", "d4", "big", "a1", "a2"}), Int(401));
  EXPECT_EQ(Encoding("d4"), Bulk("hashtable"));
  Add("mixed", {"x", "5"});
  EXPECT_EQ(Run({"SINTERSTORE", "d5", "mixed", "big"}), Int(1));
  EXPECT_EQ(Encoding("d5"), Bulk("intset"));
  EXPECT_EQ(Run({"SUNIONSTORE", "d6", "mixed", "small"}), Int(4));
  EXPECT_EQ(Encoding("d6"), Bulk("hashtable"));
}

TEST_P(SetFamilyTest, SpopRebuildCanReturnToIntset) {
  Add("h", {"a", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  // 9 of 10 popped: Redis keeps the remaining member in a new set, created for it.
  std::vector<std::string> popped = Members({"SPOP", "h", "9"});
  EXPECT_EQ(popped.size(), 9u);
  EXPECT_EQ(Run({"SCARD", "h"}), Int(1));
  std::vector<std::string> left = Members({"SMEMBERS", "h"});
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(Encoding("h"), Bulk(left[0] == "a" ? "hashtable" : "intset"));
  std::set<std::string> all(popped.begin(), popped.end());
  all.insert(left[0]);
  EXPECT_EQ(all.size(), 10u);
}

// ---------------------------------------------------------------------------------------------
// SPOP SRANDMEMBER

TEST_P(SetFamilyTest, SpopShapesAndCounts) {
  EXPECT_EQ(Run({"SPOP", "nokey"}), kNil);
  EXPECT_EQ(Run({"SPOP", "nokey", "3"}), kEmpty);
  EXPECT_EQ(Run({"SPOP", "nokey", "-1"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(Run({"SPOP", "nokey", "x"}), Err("ERR value is out of range, must be positive"));
  Add("s", {"1", "2", "3", "4", "5"});
  EXPECT_EQ(Run({"SPOP", "s", "0"}), kEmpty);
  std::string one = Run({"SPOP", "s"});
  RespReader r(one);
  std::string m = r.BulkString();
  EXPECT_EQ(Run({"SISMEMBER", "s", m}), Int(0));
  EXPECT_EQ(Run({"SCARD", "s"}), Int(4));
  std::vector<std::string> two = Members({"SPOP", "s", "2"});
  EXPECT_EQ(two.size(), 2u);
  EXPECT_NE(two[0], two[1]);
  EXPECT_EQ(Run({"SCARD", "s"}), Int(2));
  // More than the set holds: all of it (ascending for an intset), and the key is gone.
  std::vector<std::string> rest = Members({"SPOP", "s", "10"});
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_TRUE(std::is_sorted(rest.begin(), rest.end()));
  EXPECT_EQ(Run({"EXISTS", "s"}), Int(0));
  Add("t", {"x"});
  EXPECT_EQ(Run({"SPOP", "t"}), Bulk("x"));
  EXPECT_EQ(Run({"EXISTS", "t"}), Int(0));

  CommandHarness h3(GetParam(), RespVersion::kResp3);
  EXPECT_EQ(h3.Run({"SPOP", "nokey"}), "_\r\n");
  EXPECT_EQ(h3.Run({"SPOP", "nokey", "2"}), "~0\r\n");
  h3.Run({"SADD", "s", "a", "b", "c"});
  EXPECT_EQ(h3.Run({"SPOP", "s", "0"}), "~0\r\n");
  EXPECT_EQ(h3.Run({"SPOP", "s", "1"}).substr(0, 4), "~1\r\n");
}

TEST_P(SetFamilyTest, SpopEveryStrategyPopsDistinctMembers) {
  for (int count : {1, 3, 10, 17, 19, 20}) {
    std::vector<std::string> members;
    for (int i = 0; i < 20; ++i) members.push_back("m" + std::to_string(i));
    Add("p", members);
    std::vector<std::string> got = Members({"SPOP", "p", std::to_string(count)});
    std::set<std::string> distinct(got.begin(), got.end());
    EXPECT_EQ(got.size(), static_cast<size_t>(count));
    EXPECT_EQ(distinct.size(), got.size());
    std::vector<std::string> left = Members({"SMEMBERS", "p"});
    EXPECT_EQ(left.size(), static_cast<size_t>(20 - count));
    for (const std::string& m : left) EXPECT_EQ(distinct.count(m), 0u) << m;
    for (const std::string& m : got) distinct.insert(m);
    for (const std::string& m : left) distinct.insert(m);
    EXPECT_EQ(distinct.size(), 20u);
    Run({"DEL", "p"});
  }
}

TEST_P(SetFamilyTest, SpopKeepsTtl) {
  Add("s", {"a", "b", "c", "d", "e", "f"});
  EXPECT_EQ(Run({"PEXPIRE", "s", "100000"}), Int(1));
  Run({"SPOP", "s", "5"});  // the rebuild strategy
  EXPECT_EQ(Run({"PTTL", "s"}), Int(100000));
}

TEST_P(SetFamilyTest, SrandmemberShapesAndCounts) {
  EXPECT_EQ(Run({"SRANDMEMBER", "nokey"}), kNil);
  EXPECT_EQ(Run({"SRANDMEMBER", "nokey", "5"}), kEmpty);
  EXPECT_EQ(Run({"SRANDMEMBER", "nokey", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"SRANDMEMBER", "nokey", "-9223372036854775808"}),
            Err("ERR value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807"));
  Add("s", {"3", "1", "2"});
  EXPECT_EQ(Run({"SRANDMEMBER", "s", "0"}), kEmpty);
  EXPECT_EQ(Run({"SRANDMEMBER", "s", "5"}), Arr({"1", "2", "3"}));
  EXPECT_EQ(Run({"SRANDMEMBER", "s", "3"}), Arr({"1", "2", "3"}));
  std::vector<std::string> neg = Members({"SRANDMEMBER", "s", "-7"});
  EXPECT_EQ(neg.size(), 7u);
  for (const std::string& m : neg) EXPECT_TRUE(m == "1" || m == "2" || m == "3") << m;
  std::vector<std::string> members;
  for (int i = 0; i < 100; ++i) members.push_back("v" + std::to_string(i));
  Add("big", members);
  for (int count : {1, 2, 20, 40, 99}) {
    std::vector<std::string> got = Members({"SRANDMEMBER", "big", std::to_string(count)});
    std::set<std::string> distinct(got.begin(), got.end());
    EXPECT_EQ(got.size(), static_cast<size_t>(count));
    EXPECT_EQ(distinct.size(), got.size());
    for (const std::string& m : got) EXPECT_EQ(m[0], 'v');
  }
  EXPECT_EQ(Run({"SCARD", "big"}), Int(100));
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  EXPECT_EQ(h3.Run({"SRANDMEMBER", "nokey"}), "_\r\n");
  EXPECT_EQ(h3.Run({"SRANDMEMBER", "nokey", "2"}), "*0\r\n");
  h3.Run({"SADD", "s", "1", "2"});
  EXPECT_EQ(h3.Run({"SRANDMEMBER", "s", "2"}), Arr({"1", "2"}));  // an array, not a set
}

TEST_P(SetFamilyTest, RandomMembersCoverTheSet) {
  std::vector<std::string> members;
  for (int i = 0; i < 30; ++i) members.push_back("x" + std::to_string(i));
  Add("s", members);
  std::map<std::string, int> hits;
  for (const std::string& m : Members({"SRANDMEMBER", "s", "-3000"})) ++hits[m];
  EXPECT_EQ(hits.size(), 30u);
  for (const auto& [m, n] : hits) EXPECT_GT(n, 40) << m;  // about 100 each
}

// ---------------------------------------------------------------------------------------------
// SMOVE

TEST_P(SetFamilyTest, SmoveSameAndCrossShard) {
  for (auto [src, dst] : std::vector<std::pair<std::string, std::string>>{
           {"{t}src", "{t}dst"}, {KeyOnShard(0, "src"), KeyOnShard(1, "dst")}}) {
    EXPECT_EQ(Run({"SMOVE", src, dst, "a"}), Int(0));  // no source
    Add(src, {"a", "b"});
    EXPECT_EQ(Run({"SMOVE", src, dst, "z"}), Int(0));
    EXPECT_EQ(Run({"SMOVE", src, dst, "a"}), Int(1));
    EXPECT_EQ(Run({"SISMEMBER", dst, "a"}), Int(1));
    EXPECT_EQ(Run({"SISMEMBER", src, "a"}), Int(0));
    EXPECT_EQ(Run({"SMOVE", src, dst, "b"}), Int(1));
    EXPECT_EQ(Run({"EXISTS", src}), Int(0));  // emptied source deleted
    EXPECT_EQ(Sorted(Members({"SMEMBERS", dst})), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(Run({"SMOVE", dst, dst, "a"}), Int(1));
    EXPECT_EQ(Run({"SMOVE", dst, dst, "q"}), Int(0));
    // Wrong types: the source missing wins over a wrong destination.
    PutString(src, "str");
    EXPECT_EQ(Run({"SMOVE", src, dst, "a"}), kWrongType);
    Run({"DEL", src});
    Add(src, {"a"});
    Run({"DEL", dst});
    PutString(dst, "str");
    EXPECT_EQ(Run({"SMOVE", src, dst, "a"}), kWrongType);
    EXPECT_EQ(Run({"SISMEMBER", src, "a"}), Int(1));  // nothing moved
    Run({"DEL", src});
    EXPECT_EQ(Run({"SMOVE", src, dst, "a"}), Int(0));
    Run({"DEL", src, dst});
  }
}

TEST_P(SetFamilyTest, SmoveCreatesDestinationForTheMember) {
  std::string src = KeyOnShard(0, "s");
  std::string dst = KeyOnShard(3, "d");
  Add(src, {"x", "5"});
  EXPECT_EQ(Run({"SMOVE", src, dst, "5"}), Int(1));
  EXPECT_EQ(Encoding(dst), Bulk("intset"));
  EXPECT_EQ(Run({"SMOVE", src, dst, "x"}), Int(1));
  EXPECT_EQ(Encoding(dst), Bulk("hashtable"));
}

// ---------------------------------------------------------------------------------------------
// SINTER SUNION SDIFF, STORE variants, SINTERCARD

TEST_P(SetFamilyTest, AlgebraAcrossShards) {
  std::string a = KeyOnShard(0, "a");
  std::string b = KeyOnShard(1, "b");
  std::string c = KeyOnShard(2, "c");
  Add(a, {"1", "2", "3", "x"});
  Add(b, {"2", "3", "4", "x", "y"});
  Add(c, {"3", "x", "z"});
  EXPECT_EQ(Sorted(Members({"SINTER", a, b, c})), (std::vector<std::string>{"3", "x"}));
  EXPECT_EQ(Sorted(Members({"SINTER", a, b})), (std::vector<std::string>{"2", "3", "x"}));
  EXPECT_EQ(Members({"SINTER", a, "nokey"}), std::vector<std::string>{});
  EXPECT_EQ(Sorted(Members({"SUNION", a, "nokey", c})),
            (std::vector<std::string>{"1", "2", "3", "x", "z"}));
  EXPECT_EQ(Sorted(Members({"SDIFF", a, b})), (std::vector<std::string>{"1"}));
  EXPECT_EQ(Sorted(Members({"SDIFF", a, "nokey"})), (std::vector<std::string>{"1", "2", "3", "x"}));
  EXPECT_EQ(Members({"SDIFF", "nokey", a}), std::vector<std::string>{});
  EXPECT_EQ(Members({"SDIFF", a, b, a}), std::vector<std::string>{});  // the first key again
  EXPECT_EQ(Sorted(Members({"SINTER", a, a})), Sorted(Members({"SMEMBERS", a})));
  EXPECT_EQ(Run({"SINTERCARD", "3", a, b, c}), Int(2));
  EXPECT_EQ(Run({"SINTERCARD", "2", a, b, "LIMIT", "2"}), Int(2));
  EXPECT_EQ(Run({"SINTERCARD", "2", a, b, "limit", "0"}), Int(3));
  EXPECT_EQ(Run({"SINTERCARD", "2", a, "nokey"}), Int(0));
  // WRONGTYPE whichever position the other type has, even after a missing key.
  PutString("str", "v");
  EXPECT_EQ(Run({"SINTER", "nokey", "str"}), kWrongType);
  EXPECT_EQ(Run({"SINTER", a, "nokey", "str"}), kWrongType);
  EXPECT_EQ(Run({"SUNION", "str", a}), kWrongType);
  EXPECT_EQ(Run({"SDIFF", "nokey", "str"}), kWrongType);
  EXPECT_EQ(Run({"SINTERSTORE", "d", "nokey", "str"}), kWrongType);
  EXPECT_EQ(Run({"SDIFFSTORE", "d", a, "str"}), kWrongType);
  EXPECT_EQ(Run({"SINTERCARD", "2", "nokey", "str"}), kWrongType);
}

TEST_P(SetFamilyTest, StoreVariantsAcrossShards) {
  std::string a = KeyOnShard(0, "a");
  std::string b = KeyOnShard(1, "b");
  std::string dst = KeyOnShard(2, "dst");
  Add(a, {"1", "2", "3"});
  Add(b, {"3", "4"});
  EXPECT_EQ(Run({"SUNIONSTORE", dst, a, b}), Int(4));
  EXPECT_EQ(Run({"SMEMBERS", dst}), Arr({"1", "2", "3", "4"}));
  EXPECT_EQ(Run({"SINTERSTORE", dst, a, b}), Int(1));
  EXPECT_EQ(Run({"SMEMBERS", dst}), Arr({"3"}));
  EXPECT_EQ(Run({"SDIFFSTORE", dst, a, b}), Int(2));
  EXPECT_EQ(Run({"SMEMBERS", dst}), Arr({"1", "2"}));
  // The destination may be a source; its TTL and old type are replaced.
  EXPECT_EQ(Run({"PEXPIRE", dst, "50000"}), Int(1));
  EXPECT_EQ(Run({"SUNIONSTORE", dst, dst, b}), Int(4));
  EXPECT_EQ(Run({"PTTL", dst}), Int(-1));
  PutString(dst, "a string");
  EXPECT_EQ(Run({"SINTERSTORE", dst, a, a}), Int(3));
  EXPECT_EQ(Run({"TYPE", dst}), "+set\r\n");
  // An empty result deletes the destination.
  EXPECT_EQ(Run({"SINTERSTORE", dst, a, "nokey"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", dst}), Int(0));
  PutString(dst, "x");
  EXPECT_EQ(Run({"SDIFFSTORE", dst, a, a}), Int(0));
  EXPECT_EQ(Run({"EXISTS", dst}), Int(0));
  EXPECT_EQ(Run({"SUNIONSTORE", dst, "nokey"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", dst}), Int(0));
}

TEST_P(SetFamilyTest, AlgebraResp3IsASet) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  h3.Run({"SADD", "{t}a", "1", "2"});
  h3.Run({"SADD", "b", "2", "3"});
  EXPECT_EQ(h3.Run({"SINTER", "{t}a", "b"}), Agg('~', {"2"}));
  EXPECT_EQ(h3.Run({"SUNION", "{t}a", "b"}), Agg('~', {"1", "2", "3"}));
  EXPECT_EQ(h3.Run({"SDIFF", "{t}a", "b"}), Agg('~', {"1"}));
  EXPECT_EQ(h3.Run({"SINTER", "nokey", "b"}), "~0\r\n");
  EXPECT_EQ(h3.Run({"SDIFF", "nokey"}), "~0\r\n");
}

TEST_P(SetFamilyTest, SintercardArgumentErrors) {
  Add("s", {"1", "2", "3"});
  EXPECT_EQ(Run({"SINTERCARD", "0", "s"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"SINTERCARD", "x", "s"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"SINTERCARD", "9223372036854775808", "s"}),
            Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"SINTERCARD", "3", "s", "s"}),
            Err("ERR Number of keys can't be greater than number of args"));
  EXPECT_EQ(Run({"SINTERCARD", "1", "s", "LIMIT", "-1"}), Err("ERR LIMIT can't be negative"));
  EXPECT_EQ(Run({"SINTERCARD", "1", "s", "LIMIT", "x"}), Err("ERR LIMIT can't be negative"));
  EXPECT_EQ(Run({"SINTERCARD", "1", "s", "LIMIT"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SINTERCARD", "1", "s", "foo", "1"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SINTERCARD", "1", "s", "LIMIT", "2"}), Int(2));
  EXPECT_EQ(Run({"SINTERCARD", "1", "s", "LIMIT", "5", "LIMIT", "1"}), Int(1));
  EXPECT_EQ(Run({"SINTERCARD", "2", "s", "LIMIT"}), Int(0));  // "LIMIT" taken as a key
}

// ---------------------------------------------------------------------------------------------
// SSCAN

TEST_P(SetFamilyTest, SscanIntsetReturnsAllAtOnce) {
  Add("i", {"5", "1", "3"});
  EXPECT_EQ(Run({"SSCAN", "i", "0"}), "*2\r\n" + Bulk("0") + Arr({"1", "3", "5"}));
  EXPECT_EQ(Run({"SSCAN", "i", "77", "COUNT", "1"}), "*2\r\n" + Bulk("0") + Arr({"1", "3", "5"}));
  EXPECT_EQ(Run({"SSCAN", "i", "0", "MATCH", "[13]"}), "*2\r\n" + Bulk("0") + Arr({"1", "3"}));
  EXPECT_EQ(Run({"SSCAN", "nokey", "0", "COUNT", "0"}), "*2\r\n" + Bulk("0") + kEmpty);
  EXPECT_EQ(Run({"SSCAN", "nokey", "x"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SSCAN", "i", " 1"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SSCAN", "i", "-1"}), "*2\r\n" + Bulk("0") + Arr({"1", "3", "5"}));
  EXPECT_EQ(Run({"SSCAN", "i", "0", "COUNT", "0"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SSCAN", "i", "0", "COUNT", "x"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"SSCAN", "i", "0", "TYPE", "string"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SSCAN", "i", "0", "MATCH"}), Err("ERR syntax error"));
}

TEST_P(SetFamilyTest, SscanHashtableIteratesEverything) {
  std::vector<std::string> members;
  for (int i = 0; i < 1000; ++i) members.push_back("m" + std::to_string(i));
  Add("h", members);
  int calls = 0;
  std::vector<std::string> all = ScanAll("h", {}, &calls);
  EXPECT_GT(calls, 10);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()),
            std::set<std::string>(members.begin(), members.end()));
  std::vector<std::string> matched = ScanAll("h", {"MATCH", "m1?", "COUNT", "100"});
  EXPECT_EQ(Sorted(matched),
            Sorted({"m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17", "m18", "m19"}));
  // One call with a large COUNT returns everything.
  std::string reply = Run({"SSCAN", "h", "0", "COUNT", "100000"});
  RespReader r(reply);
  r.Header();
  EXPECT_EQ(r.BulkString(), "0");
  EXPECT_EQ(r.BulkAggregate().size(), 1000u);
}

TEST_P(SetFamilyTest, SscanSurvivesGrowthBetweenCalls) {
  std::vector<std::string> members;
  for (int i = 0; i < 200; ++i) members.push_back("s" + std::to_string(i));
  Add("h", members);
  std::set<std::string> seen;
  std::string cursor = "0";
  int extra = 0;
  for (int step = 0; step < 10000; ++step) {
    std::string reply = Run({"SSCAN", "h", cursor, "COUNT", "5"});
    RespReader r(reply);
    r.Header();
    cursor = r.BulkString();
    for (std::string& m : r.BulkAggregate()) seen.insert(m);
    for (int k = 0; k < 20; ++k) Run({"SADD", "h", "new" + std::to_string(extra++)});
    if (cursor == "0") break;
  }
  EXPECT_EQ(cursor, "0");
  for (const std::string& m : members) EXPECT_EQ(seen.count(m), 1u) << m;
}

TEST_P(SetFamilyTest, CopyRenameAndScanTypeSeeSets) {
  std::string a = KeyOnShard(0, "a");
  std::string b = KeyOnShard(1, "b");
  Add(a, {"1", "2"});
  EXPECT_EQ(Run({"COPY", a, b}), Int(1));
  Run({"SADD", b, "3"});
  EXPECT_EQ(Run({"SCARD", a}), Int(2));
  EXPECT_EQ(Run({"SCARD", b}), Int(3));
  EXPECT_EQ(Run({"RENAME", b, "c"}), "+OK\r\n");
  EXPECT_EQ(Run({"SMEMBERS", "c"}), Arr({"1", "2", "3"}));
  EXPECT_EQ(Encoding("c"), Bulk("intset"));
}

TEST_P(SetFamilyTest, CommandTableEntries) {
  const CommandTable& table = CommandTable::Get();
  for (const char* name : {"sadd", "srem", "scard", "sismember", "smismember", "smembers", "spop",
                           "srandmember", "smove", "sinter", "sintercard", "sunion", "sdiff",
                           "sinterstore", "sunionstore", "sdiffstore", "sscan"}) {
    const CommandSpec* spec = table.Find(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->group, "set") << name;
    EXPECT_TRUE(spec->on_shard != nullptr || spec->on_client != nullptr) << name;
  }
  const CommandSpec* card = table.Find("SINTERCARD");
  EXPECT_EQ(card->first_key, 0);
  EXPECT_TRUE(card->flags & kCmdMovableKeys);
  const CommandSpec* store = table.Find("sdiffstore");
  EXPECT_EQ(store->arity, -3);
  EXPECT_EQ(store->last_key, -1);
}

}  // namespace
}  // namespace shardis
