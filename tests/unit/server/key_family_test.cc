// Unit tests of the generic keyspace commands (server/commands/key_family.cc), run through the
// command table with the in-process CommandHarness (single test thread), with one and with four
// shards. Data is written straight into the shards' databases so these tests depend on no other
// command family. Expected replies are redis-server 7.0's, byte for byte.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/command.h"
#include "server/command_table.h"
#include "storage/shard_data.h"
#include "storage/value.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;
using ::testing::UnorderedElementsAreArray;

std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& e) { return "-" + e + "\r\n"; }
std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
const std::string kOk = "+OK\r\n";
const std::string kNil = "$-1\r\n";

// Decodes a reply made of arrays and bulk strings (KEYS, SCAN) into its strings, in order.
class RespReader {
 public:
  explicit RespReader(std::string s) : s_(std::move(s)) {}
  char Type() const { return s_[pos_]; }
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
  std::vector<std::string> BulkArray() {
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

class KeyFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  KeyFamilyTest() : h_(GetParam()) {}

  int Shards() { return h_.shard_count(); }
  Db& DbOf(const std::string& key, int db = 0) {
    return h_.shard(ShardOfKey(key, Shards())).db(db);
  }
  void Put(const std::string& key, const std::string& value, int db = 0) {
    DbOf(key, db).Set(key, Value::FromString(value));
  }
  std::optional<std::string> Get(const std::string& key, int db = 0) {
    Entry* e = DbOf(key, db).Find(key);
    if (e == nullptr) return std::nullopt;
    return std::string(e->str());
  }
  int64_t ExpireAt(const std::string& key, int db = 0) {
    Entry* e = DbOf(key, db).Find(key);
    return e == nullptr ? -2 : e->expire_at_ms();
  }
  int64_t Now() { return h_.shard(0).now_ms(); }
  std::string Run(std::vector<std::string> argv) { return h_.Run(std::move(argv)); }

  // The first key "<prefix><n>" that hashes to `shard` (any shard when there is one).
  std::string KeyOnShard(int shard, const std::string& prefix = "key") {
    for (int n = 0;; ++n) {
      std::string key = prefix + std::to_string(n);
      if (ShardOfKey(key, Shards()) == shard % Shards()) return key;
    }
  }
  // Two distinct keys on different shards when there are several.
  std::pair<std::string, std::string> TwoShardKeys() {
    return {KeyOnShard(0, "src"), KeyOnShard(1, "dst")};
  }

  // Every key SCAN returns, walking from cursor 0 to the end with the given options.
  std::vector<std::string> ScanAll(std::vector<std::string> options, int* calls = nullptr) {
    std::vector<std::string> all;
    std::string cursor = "0";
    int n = 0;
    do {
      std::vector<std::string> argv = {"SCAN", cursor};
      argv.insert(argv.end(), options.begin(), options.end());
      std::string reply = Run(argv);
      RespReader r(reply);
      EXPECT_EQ(r.Type(), '*') << reply;
      if (r.Type() != '*') break;
      EXPECT_EQ(r.Header(), 2);
      cursor = r.BulkString();
      for (std::string& k : r.BulkArray()) all.push_back(std::move(k));
      EXPECT_TRUE(r.AtEnd());
      ++n;
    } while (cursor != "0" && n < 100000);
    if (calls != nullptr) *calls = n;
    return all;
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, KeyFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "shards";
                         });

// ---------------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TOUCH TYPE

TEST_P(KeyFamilyTest, DelCountsEachDeletedKeyOnce) {
  Put("a", "1");
  Put("b", "2");
  Put("c", "3");
  EXPECT_EQ(Run({"DEL", "a", "b", "a", "missing"}), Int(2));
  EXPECT_FALSE(Get("a"));
  EXPECT_FALSE(Get("b"));
  EXPECT_EQ(Get("c"), "3");
  EXPECT_EQ(Run({"DEL", "a"}), Int(0));
  EXPECT_EQ(Run({"UNLINK", "c", "c"}), Int(1));
  EXPECT_FALSE(Get("c"));
  EXPECT_EQ(Run({"DEL"}), Err("ERR wrong number of arguments for 'del' command"));
  EXPECT_EQ(Run({"unlink"}), Err("ERR wrong number of arguments for 'unlink' command"));
}

TEST_P(KeyFamilyTest, DelAcrossManyKeys) {
  std::vector<std::string> argv = {"DEL"};
  for (int i = 0; i < 50; ++i) {
    Put("k" + std::to_string(i), "v");
    argv.push_back("k" + std::to_string(i));
  }
  argv.push_back("nope");
  EXPECT_EQ(Run(argv), Int(50));
  EXPECT_EQ(Run({"DBSIZE"}), Int(0));
}

TEST_P(KeyFamilyTest, ExistsCountsDuplicates) {
  Put("x", "1");
  Put("y", "1");
  EXPECT_EQ(Run({"EXISTS", "x", "x", "y", "z"}), Int(3));
  EXPECT_EQ(Run({"EXISTS", "z"}), Int(0));
  EXPECT_EQ(Run({"EXISTS"}), Err("ERR wrong number of arguments for 'exists' command"));
}

TEST_P(KeyFamilyTest, TouchCountsExistingKeysAndUpdatesAccessTime) {
  Put("x", "1");
  Put("y", "1");
  h_.AdvanceTime(30'000);
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "x"}), Int(30));
  EXPECT_EQ(Run({"TOUCH", "x", "x", "y", "z"}), Int(3));
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "x"}), Int(0));
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "y"}), Int(0));
}

TEST_P(KeyFamilyTest, ExistsDoesNotTouch) {
  Put("x", "1");
  h_.AdvanceTime(5'000);
  EXPECT_EQ(Run({"EXISTS", "x"}), Int(1));
  EXPECT_EQ(Run({"TYPE", "x"}), "+string\r\n");
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "x"}), Int(5));
}

TEST_P(KeyFamilyTest, Type) {
  Put("s", "hello");
  EXPECT_EQ(Run({"TYPE", "s"}), "+string\r\n");
  EXPECT_EQ(Run({"type", "nokey"}), "+none\r\n");
  EXPECT_EQ(Run({"TYPE"}), Err("ERR wrong number of arguments for 'type' command"));
  EXPECT_EQ(Run({"TYPE", "a", "b"}), Err("ERR wrong number of arguments for 'type' command"));
}

TEST_P(KeyFamilyTest, ExpiredKeysAreAbsent) {
  Put("gone", "1");
  DbOf("gone").SetExpiry(DbOf("gone").Find("gone"), Now() + 100);
  Put("kept", "1");
  h_.AdvanceTime(100 + 1);
  EXPECT_EQ(Run({"EXISTS", "gone", "kept"}), Int(1));
  EXPECT_EQ(Run({"TYPE", "gone"}), "+none\r\n");
  EXPECT_EQ(Run({"DEL", "gone", "kept"}), Int(1));
}

// ---------------------------------------------------------------------------------------------
// EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST

TEST_P(KeyFamilyTest, ExpireSetsTtl) {
  Put("k", "v");
  EXPECT_EQ(Run({"EXPIRE", "k", "100"}), Int(1));
  EXPECT_EQ(ExpireAt("k"), Now() + 100'000);
  EXPECT_EQ(Run({"TTL", "k"}), Int(100));
  EXPECT_EQ(Run({"PTTL", "k"}), Int(100'000));
  EXPECT_EQ(Run({"EXPIRETIME", "k"}), Int((Now() + 100'000 + 500) / 1000));
  EXPECT_EQ(Run({"PEXPIRETIME", "k"}), Int(Now() + 100'000));
  h_.AdvanceTime(1'499);
  EXPECT_EQ(Run({"TTL", "k"}), Int(99));  // 98.501 s rounds to 99
  EXPECT_EQ(Run({"PTTL", "k"}), Int(98'501));
  h_.AdvanceTime(98'501 + 1);
  EXPECT_EQ(Run({"TTL", "k"}), Int(-2));
  EXPECT_EQ(Run({"EXISTS", "k"}), Int(0));
}

TEST_P(KeyFamilyTest, ExpireVariantsAndUnits) {
  Put("k", "v");
  EXPECT_EQ(Run({"PEXPIRE", "k", "1500"}), Int(1));
  EXPECT_EQ(ExpireAt("k"), Now() + 1500);
  EXPECT_EQ(Run({"TTL", "k"}), Int(2));
  int64_t at_s = Now() / 1000 + 50;
  EXPECT_EQ(Run({"EXPIREAT", "k", std::to_string(at_s)}), Int(1));
  EXPECT_EQ(ExpireAt("k"), at_s * 1000);
  EXPECT_EQ(Run({"EXPIRETIME", "k"}), Int(at_s));
  EXPECT_EQ(Run({"PEXPIREAT", "k", std::to_string(Now() + 777)}), Int(1));
  EXPECT_EQ(Run({"PTTL", "k"}), Int(777));
  EXPECT_EQ(Run({"PEXPIREAT", "k", "9223372036854775807"}), Int(1));
  EXPECT_EQ(Run({"PEXPIRETIME", "k"}), Int(INT64_MAX));
  EXPECT_EQ(Run({"EXPIREAT", "k", "9223372036854775"}), Int(1));
  EXPECT_EQ(Run({"PEXPIRETIME", "k"}), Int(9223372036854775000));
}

TEST_P(KeyFamilyTest, ExpireOnMissingKey) {
  EXPECT_EQ(Run({"EXPIRE", "nokey", "10"}), Int(0));
  EXPECT_EQ(Run({"PEXPIREAT", "nokey", "10"}), Int(0));
  EXPECT_FALSE(Get("nokey"));
}

TEST_P(KeyFamilyTest, ExpireInThePastDeletes) {
  Put("a", "v");
  Put("b", "v");
  Put("c", "v");
  Put("d", "v");
  EXPECT_EQ(Run({"EXPIRE", "a", "0"}), Int(1));
  EXPECT_EQ(Run({"EXPIRE", "b", "-5"}), Int(1));
  EXPECT_EQ(Run({"PEXPIREAT", "c", std::to_string(Now())}), Int(1));
  EXPECT_EQ(Run({"PEXPIRE", "d", "-9223372036854775808"}), Int(1));
  EXPECT_EQ(Run({"EXISTS", "a", "b", "c", "d"}), Int(0));
  for (int s = 0; s < Shards(); ++s) EXPECT_EQ(h_.shard(s).db(0).expires_count(), 0u);
}

TEST_P(KeyFamilyTest, ExpireErrors) {
  Put("k", "v");
  EXPECT_EQ(Run({"EXPIRE", "k", "abc"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"EXPIRE", "k", "+1"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"EXPIRE", "k", " 1"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"EXPIRE", "k", "-0"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "foo"}), Err("ERR Unsupported option foo"));
  // Options are checked before the time.
  EXPECT_EQ(Run({"EXPIRE", "k", "abc", "Bar"}), Err("ERR Unsupported option Bar"));
  const std::string nx_err = "ERR NX and XX, GT or LT options at the same time are not compatible";
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "nx", "xx"}), Err(nx_err));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "NX", "GT"}), Err(nx_err));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "lt", "nx"}), Err(nx_err));
  EXPECT_EQ(Run({"EXPIRE", "k", "abc", "nx", "xx"}), Err(nx_err));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "gt", "lt"}),
            Err("ERR GT and LT options at the same time are not compatible"));
  EXPECT_EQ(Run({"EXPIRE", "k"}), Err("ERR wrong number of arguments for 'expire' command"));
  EXPECT_EQ(ExpireAt("k"), kNoExpiry);
}

TEST_P(KeyFamilyTest, ExpireOverflow) {
  Put("k", "v");
  EXPECT_EQ(Run({"EXPIRE", "k", "9223372036854775807"}),
            Err("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(Run({"EXPIRE", "k", "-9223372036854775808"}),
            Err("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(Run({"PEXPIRE", "k", "9223372036854775807"}),
            Err("ERR invalid expire time in 'pexpire' command"));
  EXPECT_EQ(Run({"EXPIREAT", "k", "9223372036854776"}),
            Err("ERR invalid expire time in 'expireat' command"));
  // The check comes before the key lookup.
  EXPECT_EQ(Run({"PEXPIRE", "nokey", "9223372036854775807"}),
            Err("ERR invalid expire time in 'pexpire' command"));
  EXPECT_EQ(Run({"Expire", "k", "9223372036854775807"}),
            Err("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(ExpireAt("k"), kNoExpiry);
}

TEST_P(KeyFamilyTest, ExpireNxXx) {
  Put("k", "v");
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "XX"}), Int(0));
  EXPECT_EQ(ExpireAt("k"), kNoExpiry);
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "NX"}), Int(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "nx"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "nx", "nx"}), Int(0));
  EXPECT_EQ(Run({"TTL", "k"}), Int(100));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "xx"}), Int(1));
  EXPECT_EQ(Run({"TTL", "k"}), Int(200));
}

TEST_P(KeyFamilyTest, ExpireGtLt) {
  Put("k", "v");
  // A persistent key has an infinite TTL: GT never wins, LT always does.
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "GT"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "xx", "gt"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "LT"}), Int(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "lt"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "lt"}), Int(0));  // equal is not less
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "gt"}), Int(0));  // nor greater
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "gt"}), Int(1));
  EXPECT_EQ(Run({"TTL", "k"}), Int(200));
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "lt", "xx"}), Int(1));
  EXPECT_EQ(Run({"TTL", "k"}), Int(50));
  EXPECT_EQ(Run({"EXPIRE", "k", "-1", "gt"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "-1", "lt"}), Int(1));  // in the past: deleted
  EXPECT_FALSE(Get("k"));
}

TEST_P(KeyFamilyTest, TtlOfMissingAndPersistentKeys) {
  Put("p", "v");
  for (const char* c : {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}) {
    EXPECT_EQ(Run({c, "nokey"}), Int(-2)) << c;
    EXPECT_EQ(Run({c, "p"}), Int(-1)) << c;
  }
}

TEST_P(KeyFamilyTest, Persist) {
  Put("k", "v");
  EXPECT_EQ(Run({"PERSIST", "k"}), Int(0));
  EXPECT_EQ(Run({"PERSIST", "nokey"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "100"}), Int(1));
  EXPECT_EQ(Run({"PERSIST", "k"}), Int(1));
  EXPECT_EQ(Run({"TTL", "k"}), Int(-1));
  EXPECT_EQ(Run({"PERSIST", "k"}), Int(0));
  EXPECT_EQ(DbOf("k").expires_count(), 0u);
  h_.AdvanceTime(1'000'000);
  EXPECT_EQ(Get("k"), "v");
}

// ---------------------------------------------------------------------------------------------
// KEYS SCAN RANDOMKEY DBSIZE

TEST_P(KeyFamilyTest, KeysMatchesAcrossShards) {
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) {
    all.push_back("user:" + std::to_string(i));
    Put(all.back(), "v");
  }
  Put("other", "v");
  RespReader r1(Run({"KEYS", "user:*"}));
  EXPECT_THAT(r1.BulkArray(), UnorderedElementsAreArray(all));
  std::string reply = Run({"KEYS", "*"});
  RespReader r2(reply);
  EXPECT_EQ(r2.BulkArray().size(), 41u);
  RespReader r3(Run({"KEYS", "user:1?"}));
  EXPECT_EQ(r3.BulkArray().size(), 10u);
  EXPECT_EQ(Run({"KEYS", "nomatch*"}), "*0\r\n");
  EXPECT_EQ(Run({"KEYS", "["}), "*0\r\n");
  EXPECT_EQ(Run({"KEYS", "oth[e]r"}), "*1\r\n" + Bulk("other"));
  EXPECT_EQ(Run({"KEYS"}), Err("ERR wrong number of arguments for 'keys' command"));
  EXPECT_EQ(Run({"KEYS", "a", "b"}), Err("ERR wrong number of arguments for 'keys' command"));
}

TEST_P(KeyFamilyTest, KeysSkipsExpiredKeys) {
  Put("live", "v");
  Put("dead", "v");
  DbOf("dead").SetExpiry(DbOf("dead").Find("dead"), Now() + 10);
  EXPECT_EQ(RespReader(Run({"KEYS", "*"})).BulkArray().size(), 2u);
  h_.AdvanceTime(10 + 1);
  EXPECT_EQ(Run({"KEYS", "*"}), "*1\r\n" + Bulk("live"));
}

TEST_P(KeyFamilyTest, ScanReturnsEveryKey) {
  std::vector<std::string> all;
  for (int i = 0; i < 1000; ++i) {
    all.push_back("key:" + std::to_string(i));
    Put(all.back(), "v");
  }
  for (const char* count : {"1", "7", "10", "100", "5000"}) {
    int calls = 0;
    std::vector<std::string> seen = ScanAll({"COUNT", count}, &calls);
    EXPECT_THAT(std::set<std::string>(seen.begin(), seen.end()),
                ::testing::ContainerEq(std::set<std::string>(all.begin(), all.end())))
        << "COUNT " << count;
    // No resize happened during the scan, so no key came twice.
    EXPECT_EQ(seen.size(), all.size()) << "COUNT " << count;
    if (std::string(count) == "5000") {
      EXPECT_EQ(calls, 1);
    }
  }
}

TEST_P(KeyFamilyTest, ScanDefaultCountFillsFromLaterShards) {
  // With a few keys per shard, one call with the default COUNT returns them all.
  for (int i = 0; i < 8; ++i) Put("few" + std::to_string(i), "v");
  std::string reply = Run({"SCAN", "0"});
  RespReader r(reply);
  r.Header();
  EXPECT_EQ(r.BulkString(), "0");
  EXPECT_EQ(r.BulkArray().size(), 8u);
}

TEST_P(KeyFamilyTest, ScanWhileKeysAreAdded) {
  std::set<std::string> initial;
  for (int i = 0; i < 300; ++i) {
    initial.insert("base:" + std::to_string(i));
    Put("base:" + std::to_string(i), "v");
  }
  std::set<std::string> seen;
  std::string cursor = "0";
  int added = 0;
  do {
    RespReader r(Run({"SCAN", cursor, "COUNT", "5"}));
    r.Header();
    cursor = r.BulkString();
    for (std::string& k : r.BulkArray()) seen.insert(k);
    // Grow the tables between calls so they rehash mid-scan.
    for (int i = 0; i < 20; ++i) Put("new:" + std::to_string(added++), "v");
  } while (cursor != "0");
  for (const std::string& k : initial) EXPECT_TRUE(seen.count(k)) << k;
}

TEST_P(KeyFamilyTest, ScanMatchAndType) {
  std::vector<std::string> users;
  for (int i = 0; i < 100; ++i) {
    users.push_back("user:" + std::to_string(i));
    Put(users.back(), "v");
    Put("item:" + std::to_string(i), "v");
  }
  EXPECT_THAT(ScanAll({"MATCH", "user:*"}), UnorderedElementsAreArray(users));
  EXPECT_THAT(ScanAll({"match", "user:*", "count", "3", "TYPE", "STRING"}),
              UnorderedElementsAreArray(users));
  EXPECT_EQ(ScanAll({"MATCH", "*"}).size(), 200u);
  EXPECT_TRUE(ScanAll({"TYPE", "list"}).empty());
  EXPECT_TRUE(ScanAll({"TYPE", "foo"}).empty());
  EXPECT_TRUE(ScanAll({"MATCH", ""}).empty());
  Put("", "empty key");
  EXPECT_EQ(ScanAll({"MATCH", ""}), std::vector<std::string>{""});
}

TEST_P(KeyFamilyTest, ScanSkipsExpiredKeys) {
  for (int i = 0; i < 20; ++i) Put("k" + std::to_string(i), "v");
  for (int i = 0; i < 10; ++i) {
    std::string k = "k" + std::to_string(i);
    DbOf(k).SetExpiry(DbOf(k).Find(k), Now() + 5);
  }
  h_.AdvanceTime(5 + 1);
  EXPECT_EQ(ScanAll({}).size(), 10u);
  EXPECT_EQ(Run({"DBSIZE"}), Int(10));  // SCAN deleted the expired keys it met
}

TEST_P(KeyFamilyTest, ScanEmpty) { EXPECT_EQ(Run({"SCAN", "0"}), "*2\r\n" + Bulk("0") + "*0\r\n"); }

TEST_P(KeyFamilyTest, ScanCursorParsing) {
  Put("a", "1");
  const std::string all = "*2\r\n" + Bulk("0") + "*1\r\n" + Bulk("a");
  EXPECT_EQ(Run({"SCAN", ""}), all);    // strtoul: an empty cursor is 0
  EXPECT_EQ(Run({"SCAN", "+0"}), all);  // and a sign is accepted
  EXPECT_EQ(Run({"SCAN", "abc"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SCAN", " 0"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SCAN", "0 "}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SCAN", "18446744073709551616"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SCAN", "x", "COUNT", "0"}), Err("ERR invalid cursor"));
  // Any in-range cursor is accepted (Redis resumes the walk from it).
  EXPECT_EQ(Run({"SCAN", "18446744073709551615"}).substr(0, 4), "*2\r\n");
  EXPECT_EQ(Run({"SCAN", "-1"}).substr(0, 4), "*2\r\n");
}

TEST_P(KeyFamilyTest, ScanOptionErrors) {
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "0"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "-1"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"SCAN", "0", "COUNT"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "MATCH"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "TYPE"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "foo", "bar"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN"}), Err("ERR wrong number of arguments for 'scan' command"));
  // The last COUNT wins.
  Put("a", "1");
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "1", "COUNT", "100"}),
            "*2\r\n" + Bulk("0") + "*1\r\n" + Bulk("a"));
}

TEST_P(KeyFamilyTest, RandomKey) {
  EXPECT_EQ(Run({"RANDOMKEY"}), kNil);
  std::set<std::string> all;
  for (int i = 0; i < 20; ++i) {
    all.insert("r" + std::to_string(i));
    Put("r" + std::to_string(i), "v");
  }
  std::set<std::string> picked;
  for (int i = 0; i < 400; ++i) {
    std::string reply = Run({"RANDOMKEY"});
    RespReader r(reply);
    ASSERT_EQ(r.Type(), '$') << reply;
    std::string key = r.BulkString();
    EXPECT_TRUE(all.count(key)) << key;
    picked.insert(key);
  }
  EXPECT_GT(picked.size(), 10u);
  EXPECT_EQ(Run({"RANDOMKEY", "x"}), Err("ERR wrong number of arguments for 'randomkey' command"));
}

TEST_P(KeyFamilyTest, RandomKeyOnlyExpiredKeys) {
  Put("a", "v");
  DbOf("a").SetExpiry(DbOf("a").Find("a"), Now() + 1);
  h_.AdvanceTime(1 + 1);
  EXPECT_EQ(Run({"RANDOMKEY"}), kNil);
  Put("b", "v");
  EXPECT_EQ(Run({"RANDOMKEY"}), Bulk("b"));
}

TEST_P(KeyFamilyTest, RandomKeyResp3Null) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  EXPECT_EQ(h3.Run({"RANDOMKEY"}), "_\r\n");
}

TEST_P(KeyFamilyTest, Dbsize) {
  EXPECT_EQ(Run({"DBSIZE"}), Int(0));
  for (int i = 0; i < 25; ++i) Put("d" + std::to_string(i), "v");
  Put("other-db", "v", 3);
  EXPECT_EQ(Run({"DBSIZE"}), Int(25));
  h_.client().db_index = 3;
  EXPECT_EQ(Run({"DBSIZE"}), Int(1));
  EXPECT_EQ(Run({"DBSIZE", "x"}), Err("ERR wrong number of arguments for 'dbsize' command"));
}

// ---------------------------------------------------------------------------------------------
// FLUSHDB FLUSHALL SWAPDB

TEST_P(KeyFamilyTest, Flushdb) {
  for (int i = 0; i < 10; ++i) Put("f" + std::to_string(i), "v");
  Put("keep", "v", 1);
  EXPECT_EQ(Run({"FLUSHDB"}), kOk);
  EXPECT_EQ(Run({"DBSIZE"}), Int(0));
  EXPECT_EQ(Get("keep", 1), "v");
  Put("a", "v");
  EXPECT_EQ(Run({"FLUSHDB", "ASYNC"}), kOk);
  EXPECT_FALSE(Get("a"));
  EXPECT_EQ(Run({"flushdb", "sync"}), kOk);
  EXPECT_EQ(Run({"FLUSHDB", "foo"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"FLUSHDB", "sync", "async"}), Err("ERR syntax error"));
  EXPECT_EQ(Get("keep", 1), "v");
}

TEST_P(KeyFamilyTest, Flushall) {
  for (int i = 0; i < 10; ++i) {
    Put("f" + std::to_string(i), "v");
    Put("g" + std::to_string(i), "v", 15);
  }
  EXPECT_EQ(Run({"FLUSHALL", "foo"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"FLUSHALL", "async", "x"}), Err("ERR syntax error"));
  EXPECT_EQ(Get("f1"), "v");
  EXPECT_EQ(Run({"FLUSHALL", "SYNC"}), kOk);
  for (int s = 0; s < Shards(); ++s) {
    for (int db = 0; db < h_.shard(s).db_count(); ++db) EXPECT_EQ(h_.shard(s).db(db).size(), 0u);
  }
  EXPECT_EQ(Run({"FLUSHALL"}), kOk);
}

TEST_P(KeyFamilyTest, Swapdb) {
  Put("a", "in0");
  Put("b", "in1", 1);
  EXPECT_EQ(Run({"SWAPDB", "0", "1"}), kOk);
  EXPECT_EQ(Get("a", 1), "in0");
  EXPECT_EQ(Get("b", 0), "in1");
  EXPECT_FALSE(Get("a", 0));
  EXPECT_EQ(Run({"SWAPDB", "1", "1"}), kOk);
  EXPECT_EQ(Get("a", 1), "in0");
  EXPECT_EQ(Run({"SWAPDB", "0", "x"}), Err("ERR invalid second DB index"));
  EXPECT_EQ(Run({"SWAPDB", "x", "y"}), Err("ERR invalid first DB index"));
  EXPECT_EQ(Run({"SWAPDB", "4294967296", "0"}), Err("ERR invalid first DB index"));
  EXPECT_EQ(Run({"SWAPDB", "0", "16"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"SWAPDB", "-1", "0"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"SWAPDB", "1"}), Err("ERR wrong number of arguments for 'swapdb' command"));
  EXPECT_EQ(Get("b", 0), "in1");
}

// ---------------------------------------------------------------------------------------------
// RENAME RENAMENX

TEST_P(KeyFamilyTest, RenameKeepsValueAndTtl) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "value");
  EXPECT_EQ(Run({"PEXPIRE", src, "5000"}), Int(1));
  int64_t at = ExpireAt(src);
  EXPECT_EQ(Run({"RENAME", src, dst}), kOk);
  EXPECT_FALSE(Get(src));
  EXPECT_EQ(Get(dst), "value");
  EXPECT_EQ(ExpireAt(dst), at);
  EXPECT_EQ(Run({"PTTL", dst}), Int(5000));
  // And back, onto an existing persistent key, which takes the TTL.
  Put(src, "old");
  EXPECT_EQ(Run({"RENAME", dst, src}), kOk);
  EXPECT_EQ(Get(src), "value");
  EXPECT_EQ(ExpireAt(src), at);
  EXPECT_FALSE(Get(dst));
}

TEST_P(KeyFamilyTest, RenameClearsDestinationTtl) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "persistent");
  Put(dst, "volatile");
  EXPECT_EQ(Run({"EXPIRE", dst, "100"}), Int(1));
  EXPECT_EQ(Run({"RENAME", src, dst}), kOk);
  EXPECT_EQ(Get(dst), "persistent");
  EXPECT_EQ(Run({"TTL", dst}), Int(-1));
  EXPECT_EQ(DbOf(dst).expires_count(), 0u);
}

TEST_P(KeyFamilyTest, RenameErrors) {
  auto [src, dst] = TwoShardKeys();
  EXPECT_EQ(Run({"RENAME", src, dst}), Err("ERR no such key"));
  EXPECT_EQ(Run({"RENAMENX", src, dst}), Err("ERR no such key"));
  EXPECT_EQ(Run({"RENAME", src, src}), Err("ERR no such key"));
  EXPECT_EQ(Run({"RENAMENX", src, src}), Err("ERR no such key"));
  Put(dst, "d");
  EXPECT_EQ(Run({"RENAMENX", src, dst}), Err("ERR no such key"));  // missing source comes first
  Put(src, "s");
  EXPECT_EQ(Run({"RENAME", src, src}), kOk);
  EXPECT_EQ(Run({"RENAMENX", src, src}), Int(0));
  EXPECT_EQ(Get(src), "s");
  EXPECT_EQ(Run({"RENAME", src}), Err("ERR wrong number of arguments for 'rename' command"));
}

TEST_P(KeyFamilyTest, RenamenxSameAndCrossShard) {
  for (int shard = 0; shard < Shards(); ++shard) {
    std::string src = KeyOnShard(0, "nx-src");
    std::string dst = KeyOnShard(shard, "nx-dst");
    Put(src, "s");
    Put(dst, "d");
    EXPECT_EQ(Run({"RENAMENX", src, dst}), Int(0));
    EXPECT_EQ(Get(src), "s");
    EXPECT_EQ(Get(dst), "d");
    DbOf(dst).Erase(dst);
    EXPECT_EQ(Run({"EXPIRE", src, "60"}), Int(1));
    EXPECT_EQ(Run({"RENAMENX", src, dst}), Int(1));
    EXPECT_FALSE(Get(src));
    EXPECT_EQ(Get(dst), "s");
    EXPECT_EQ(Run({"TTL", dst}), Int(60));
    DbOf(dst).Erase(dst);
  }
}

TEST_P(KeyFamilyTest, RenameExpiredSource) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "s");
  EXPECT_EQ(Run({"PEXPIRE", src, "10"}), Int(1));
  h_.AdvanceTime(10 + 1);
  EXPECT_EQ(Run({"RENAME", src, dst}), Err("ERR no such key"));
  EXPECT_FALSE(Get(dst));
}

TEST_P(KeyFamilyTest, RenameInSelectedDb) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "in5", 5);
  h_.client().db_index = 5;
  EXPECT_EQ(Run({"RENAME", src, dst}), kOk);
  EXPECT_EQ(Get(dst, 5), "in5");
  EXPECT_FALSE(Get(dst, 0));
}

// ---------------------------------------------------------------------------------------------
// COPY MOVE

TEST_P(KeyFamilyTest, Copy) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "12345");
  EXPECT_EQ(Run({"EXPIRE", src, "100"}), Int(1));
  EXPECT_EQ(Run({"COPY", src, dst}), Int(1));
  EXPECT_EQ(Get(src), "12345");
  EXPECT_EQ(Get(dst), "12345");
  EXPECT_EQ(ExpireAt(dst), ExpireAt(src));
  EXPECT_EQ(Run({"OBJECT", "ENCODING", dst}), Bulk("int"));
  Put(src, "changed");
  EXPECT_EQ(Run({"COPY", src, dst}), Int(0));
  EXPECT_EQ(Get(dst), "12345");
  EXPECT_EQ(Run({"COPY", src, dst, "REPLACE"}), Int(1));
  EXPECT_EQ(Get(dst), "changed");
  EXPECT_EQ(Run({"TTL", dst}), Int(-1));
  EXPECT_EQ(Run({"COPY", "nokey", dst, "replace"}), Int(0));
  EXPECT_EQ(Get(dst), "changed");
}

TEST_P(KeyFamilyTest, CopyToOtherDb) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "v");
  EXPECT_EQ(Run({"COPY", src, src, "DB", "1"}), Int(1));
  EXPECT_EQ(Get(src, 1), "v");
  EXPECT_EQ(Run({"COPY", src, dst, "db", "2"}), Int(1));
  EXPECT_EQ(Get(dst, 2), "v");
  EXPECT_FALSE(Get(dst, 0));
  Put(dst, "there", 2);
  EXPECT_EQ(Run({"COPY", src, dst, "db", "2"}), Int(0));
  EXPECT_EQ(Run({"COPY", src, dst, "REPLACE", "DB", "2", "replace"}), Int(1));
  EXPECT_EQ(Get(dst, 2), "v");
  // The last DB wins.
  EXPECT_EQ(Run({"COPY", src, dst, "DB", "1", "DB", "0"}), Int(1));
  EXPECT_EQ(Get(dst, 0), "v");
  EXPECT_FALSE(Get(dst, 1));
}

TEST_P(KeyFamilyTest, CopyErrors) {
  auto [src, dst] = TwoShardKeys();
  Put(src, "v");
  const std::string same = "ERR source and destination objects are the same";
  EXPECT_EQ(Run({"COPY", src, src}), Err(same));
  EXPECT_EQ(Run({"COPY", "nokey", "nokey"}), Err(same));
  EXPECT_EQ(Run({"COPY", src, src, "DB", "0", "REPLACE"}), Err(same));
  EXPECT_EQ(Run({"COPY", src, dst, "DB", "16"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"COPY", src, dst, "DB", "-1"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"COPY", "nokey", dst, "DB", "99"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"COPY", src, dst, "DB", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"COPY", src, dst, "DB", "4294967296"}),
            Err("ERR value is out of range, value must between -2147483648 and 2147483647"));
  EXPECT_EQ(Run({"COPY", src, dst, "DB"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"COPY", src, dst, "foo"}), Err("ERR syntax error"));
  // Options are parsed in order: the first error wins.
  EXPECT_EQ(Run({"COPY", src, dst, "DB", "99", "foo"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"COPY", src, dst, "foo", "DB", "99"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"COPY", src}), Err("ERR wrong number of arguments for 'copy' command"));
  EXPECT_FALSE(Get(dst));
  for (int db = 0; db < 16; ++db) EXPECT_FALSE(Get(dst, db));
}

TEST_P(KeyFamilyTest, Move) {
  Put("m", "v");
  EXPECT_EQ(Run({"EXPIRE", "m", "100"}), Int(1));
  int64_t at = ExpireAt("m");
  EXPECT_EQ(Run({"MOVE", "m", "2"}), Int(1));
  EXPECT_FALSE(Get("m"));
  EXPECT_EQ(Get("m", 2), "v");
  EXPECT_EQ(ExpireAt("m", 2), at);
  EXPECT_EQ(DbOf("m").expires_count(), 0u);
  EXPECT_EQ(Run({"MOVE", "m", "2"}), Int(0));  // no longer in db 0
  Put("m", "v0");
  EXPECT_EQ(Run({"MOVE", "m", "2"}), Int(0));  // exists in the target
  EXPECT_EQ(Get("m"), "v0");
  EXPECT_EQ(Get("m", 2), "v");
  h_.client().db_index = 2;
  EXPECT_EQ(Run({"MOVE", "m", "0"}), Int(0));
  EXPECT_EQ(Run({"MOVE", "m", "3"}), Int(1));
  EXPECT_EQ(Get("m", 3), "v");
}

TEST_P(KeyFamilyTest, MoveErrors) {
  Put("m", "v");
  const std::string same = "ERR source and destination objects are the same";
  EXPECT_EQ(Run({"MOVE", "m", "0"}), Err(same));
  EXPECT_EQ(Run({"MOVE", "nokey", "0"}), Err(same));
  EXPECT_EQ(Run({"MOVE", "m", "16"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"MOVE", "nokey", "99"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"MOVE", "m", "-1"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"MOVE", "m", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"MOVE", "m", "-2147483649"}),
            Err("ERR value is out of range, value must between -2147483648 and 2147483647"));
  EXPECT_EQ(Run({"MOVE", "nokey", "1"}), Int(0));
  EXPECT_EQ(Get("m"), "v");
}

// ---------------------------------------------------------------------------------------------
// OBJECT

TEST_P(KeyFamilyTest, ObjectEncodingAndRefcount) {
  Put("int", "100");
  Put("bigint", "10000");
  Put("neg", "-5");
  Put("emb", "hello");
  Put("raw", std::string(45, 'x'));
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "int"}), Bulk("int"));
  EXPECT_EQ(Run({"object", "encoding", "emb"}), Bulk("embstr"));
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "raw"}), Bulk("raw"));
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "nokey"}), kNil);
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "int"}), Int(2147483647));
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "bigint"}), Int(1));
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "neg"}), Int(1));
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "emb"}), Int(1));
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "nokey"}), kNil);
  // With maxmemory and an LRU/LFU policy Redis does not share integers.
  h_.config().maxmemory = 1 << 30;
  h_.config().maxmemory_policy = "allkeys-lru";
  EXPECT_EQ(Run({"OBJECT", "REFCOUNT", "int"}), Int(1));
}

TEST_P(KeyFamilyTest, ObjectIdletime) {
  Put("k", "v");
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "k"}), Int(0));
  h_.AdvanceTime(12'345);
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "k"}), Int(12));
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "nokey"}), kNil);
  h_.config().maxmemory_policy = "volatile-lfu";
  EXPECT_EQ(Run({"OBJECT", "IDLETIME", "k"}),
            Err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note "
                "that when switching between policies at runtime LRU and LFU data will take some "
                "time to adjust."));
}

TEST_P(KeyFamilyTest, ObjectFreq) {
  Put("k", "v");
  EXPECT_EQ(Run({"OBJECT", "FREQ", "k"}),
            Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                "Please note that when switching between policies at runtime LRU and LFU data "
                "will take some time to adjust."));
  EXPECT_EQ(Run({"OBJECT", "FREQ", "nokey"}), kNil);
  h_.config().maxmemory_policy = "allkeys-lfu";
  // The reactors switch entries to LFU data with the policy; no reactor here.
  GlobalAccessPolicy().lfu.store(true);
  Put("k2", "v");
  EXPECT_EQ(Run({"OBJECT", "FREQ", "k2"}), Int(5));  // LFU_INIT_VAL
  h_.AdvanceTime(2 * 60'000);                        // decays one per minute
  EXPECT_EQ(Run({"OBJECT", "FREQ", "k2"}), Int(3));
  h_.AdvanceTime(60 * 60'000);
  EXPECT_EQ(Run({"OBJECT", "FREQ", "k2"}), Int(0));
  GlobalAccessPolicy().lfu.store(false);
}

TEST_P(KeyFamilyTest, ObjectHelpAndErrors) {
  std::string help = Run({"OBJECT", "HELP"});
  EXPECT_EQ(help.substr(0, 5), "*15\r\n");
  EXPECT_NE(help.find("+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"),
            std::string::npos);
  EXPECT_NE(help.find("+HELP\r\n+    Prints this help.\r\n"), std::string::npos);
  EXPECT_EQ(help.substr(help.size() - 24), "+    Prints this help.\r\n");
  EXPECT_EQ(Run({"object", "help"}), help);
  EXPECT_EQ(Run({"OBJECT", "HELP", "x"}),
            Err("ERR wrong number of arguments for 'object|help' command"));
  EXPECT_EQ(Run({"OBJECT", "ENCODING"}),
            Err("ERR wrong number of arguments for 'object|encoding' command"));
  EXPECT_EQ(Run({"OBJECT", "Encoding", "k", "x"}),
            Err("ERR wrong number of arguments for 'object|encoding' command"));
  EXPECT_EQ(Run({"OBJECT", "freq"}),
            Err("ERR wrong number of arguments for 'object|freq' command"));
  EXPECT_EQ(Run({"OBJECT", "Foo"}), Err("ERR unknown subcommand 'Foo'. Try OBJECT HELP."));
  EXPECT_EQ(Run({"OBJECT", "foo", "k"}), Err("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
  EXPECT_EQ(Run({"OBJECT"}), Err("ERR wrong number of arguments for 'object' command"));
}

// ---------------------------------------------------------------------------------------------
// Four shards specifically: the fan-out paths.

class KeyFamilyFourShardsTest : public ::testing::Test {
 protected:
  CommandHarness h_{4};
  Db& DbOf(const std::string& key, int db = 0) { return h_.shard(ShardOfKey(key, 4)).db(db); }
  void Put(const std::string& key, const std::string& value, int db = 0) {
    DbOf(key, db).Set(key, Value::FromString(value));
  }
  std::string KeyOnShard(int shard, const std::string& prefix) {
    for (int n = 0;; ++n) {
      std::string key = prefix + std::to_string(n);
      if (ShardOfKey(key, 4) == shard) return key;
    }
  }
};

TEST_F(KeyFamilyFourShardsTest, MultiKeyCommandsSpanEveryShard) {
  std::vector<std::string> keys;
  for (int s = 0; s < 4; ++s) {
    keys.push_back(KeyOnShard(s, "multi"));
    Put(keys.back(), "v");
  }
  EXPECT_EQ(h_.Run({"EXISTS", keys[0], keys[1], keys[2], keys[3], keys[3], "zz"}), Int(5));
  EXPECT_EQ(h_.Run({"TOUCH", keys[0], keys[1], keys[2], keys[3], "zz"}), Int(4));
  EXPECT_EQ(h_.Run({"DEL", keys[0], keys[2], keys[2]}), Int(2));
  EXPECT_EQ(h_.Run({"UNLINK", keys[0], keys[1], keys[3]}), Int(2));
  for (int s = 0; s < 4; ++s) EXPECT_EQ(h_.shard(s).db(0).size(), 0u);
}

TEST_F(KeyFamilyFourShardsTest, ScanCursorEncodesShard) {
  // One key, on shard 2: a scan from 0 walks the empty shards 0 and 1 in the same call and
  // returns it; every cursor it hands out designates shard 2 or 3 (low bits = shard index).
  std::string key = KeyOnShard(2, "only");
  Put(key, "v");
  std::vector<std::string> seen;
  std::string cursor = "0";
  do {
    std::string reply = h_.Run({"SCAN", cursor, "COUNT", "1"});
    RespReader r(reply);
    ASSERT_EQ(r.Header(), 2) << reply;
    cursor = r.BulkString();
    for (std::string& k : r.BulkArray()) seen.push_back(std::move(k));
    uint64_t c = std::stoull(cursor);
    if (c != 0) {
      EXPECT_TRUE(c % 4 == 2 || c % 4 == 3) << c;
    }
  } while (cursor != "0");
  EXPECT_EQ(seen, std::vector<std::string>{key});
  // Cursor 3 is shard 3 from its start: nothing there, the scan is over.
  EXPECT_EQ(h_.Run({"SCAN", "3"}), "*2\r\n" + Bulk("0") + "*0\r\n");
  // Cursor 2 restarts shard 2.
  EXPECT_EQ(h_.Run({"SCAN", "2", "COUNT", "1000"}), "*2\r\n" + Bulk("0") + "*1\r\n" + Bulk(key));
}

TEST_F(KeyFamilyFourShardsTest, CrossShardRenameMovesEntry) {
  std::string src = KeyOnShard(1, "from");
  std::string dst = KeyOnShard(3, "to");
  Put(src, std::string(100, 'r'));
  EXPECT_EQ(h_.Run({"EXPIRE", src, "10"}), Int(1));
  EXPECT_EQ(h_.Run({"RENAME", src, dst}), kOk);
  EXPECT_EQ(h_.shard(1).db(0).size(), 0u);
  EXPECT_EQ(h_.shard(1).db(0).expires_count(), 0u);
  Entry* e = h_.shard(3).db(0).Find(dst);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->str(), std::string(100, 'r'));
  EXPECT_EQ(h_.Run({"OBJECT", "ENCODING", dst}), Bulk("raw"));
  EXPECT_EQ(h_.shard(3).db(0).expires_count(), 1u);
  EXPECT_EQ(h_.Run({"TTL", dst}), Int(10));
}

TEST_F(KeyFamilyFourShardsTest, CrossShardCopyLeavesSource) {
  std::string src = KeyOnShard(0, "cs");
  std::string dst = KeyOnShard(2, "cd");
  Put(src, "v");
  EXPECT_EQ(h_.Run({"COPY", src, dst, "DB", "7"}), Int(1));
  EXPECT_EQ(h_.shard(0).db(0).Find(src)->str(), "v");
  EXPECT_EQ(h_.shard(2).db(7).Find(dst)->str(), "v");
  EXPECT_EQ(h_.shard(2).db(0).size(), 0u);
}

TEST_F(KeyFamilyFourShardsTest, KeysWithHashTagsStayOnOneShard) {
  Put("{tag}a", "1");
  Put("{tag}b", "2");
  EXPECT_EQ(ShardOfKey("{tag}a", 4), ShardOfKey("{tag}b", 4));
  EXPECT_EQ(h_.Run({"RENAME", "{tag}a", "{tag}c"}), kOk);
  EXPECT_EQ(h_.Run({"COPY", "{tag}b", "{tag}d"}), Int(1));
  EXPECT_EQ(h_.Run({"EXISTS", "{tag}a", "{tag}b", "{tag}c", "{tag}d"}), Int(3));
}

// ---------------------------------------------------------------------------------------------
// The table entries.

TEST(KeyFamilySpecTest, TableMatchesRedis) {
  const CommandTable& table = CommandTable::Get();
  struct Want {
    const char* name;
    int arity;
    int first, last, step;
    const char* group;
  };
  const Want wants[] = {
      {"del", -2, 1, -1, 1, "generic"},       {"unlink", -2, 1, -1, 1, "generic"},
      {"exists", -2, 1, -1, 1, "generic"},    {"touch", -2, 1, -1, 1, "generic"},
      {"type", 2, 1, 1, 1, "generic"},        {"expire", -3, 1, 1, 1, "generic"},
      {"pexpire", -3, 1, 1, 1, "generic"},    {"expireat", -3, 1, 1, 1, "generic"},
      {"pexpireat", -3, 1, 1, 1, "generic"},  {"ttl", 2, 1, 1, 1, "generic"},
      {"pttl", 2, 1, 1, 1, "generic"},        {"expiretime", 2, 1, 1, 1, "generic"},
      {"pexpiretime", 2, 1, 1, 1, "generic"}, {"persist", 2, 1, 1, 1, "generic"},
      {"keys", 2, 0, 0, 0, "generic"},        {"scan", -2, 0, 0, 0, "generic"},
      {"randomkey", 1, 0, 0, 0, "generic"},   {"rename", 3, 1, 2, 1, "generic"},
      {"renamenx", 3, 1, 2, 1, "generic"},    {"copy", -3, 1, 2, 1, "generic"},
      {"move", 3, 1, 1, 1, "generic"},        {"swapdb", 3, 0, 0, 0, "server"},
      {"object", -2, 0, 0, 0, "generic"},     {"dbsize", 1, 0, 0, 0, "server"},
      {"flushdb", -1, 0, 0, 0, "server"},     {"flushall", -1, 0, 0, 0, "server"},
  };
  for (const Want& w : wants) {
    const CommandSpec* spec = table.Find(w.name);
    ASSERT_NE(spec, nullptr) << w.name;
    EXPECT_EQ(spec->arity, w.arity) << w.name;
    EXPECT_EQ(spec->first_key, w.first) << w.name;
    EXPECT_EQ(spec->last_key, w.last) << w.name;
    EXPECT_EQ(spec->key_step, w.step) << w.name;
    EXPECT_EQ(spec->group, w.group) << w.name;
    EXPECT_FALSE(spec->summary.empty()) << w.name;
    EXPECT_FALSE(spec->since.empty()) << w.name;
    EXPECT_TRUE(spec->on_shard != nullptr || spec->on_client != nullptr) << w.name;
    // Keyed commands keep a shard fast path; multi-key ones also have a fan-out.
    if (w.first > 0) {
      EXPECT_NE(spec->on_shard, nullptr) << w.name;
    }
    if (w.last == -1 || w.last == 2) {
      EXPECT_NE(spec->on_client, nullptr) << w.name;
    }
  }
  EXPECT_EQ(table.Find("DEL")->flags, static_cast<uint32_t>(kCmdWrite));
  EXPECT_EQ(table.Find("copy")->flags, static_cast<uint32_t>(kCmdWrite | kCmdDenyOom));
  EXPECT_EQ(table.Find("keys")->acl_categories, "@keyspace @read @slow @dangerous");
  int subcommands = 0;
  for (const CommandSpec& spec : table.specs()) {
    if (spec.name.substr(0, 7) != "object|") continue;
    ++subcommands;
    EXPECT_EQ(spec.arity, spec.name == "object|help" ? 2 : 3) << spec.name;
    EXPECT_EQ(spec.first_key, spec.name == "object|help" ? 0 : 2) << spec.name;
  }
  EXPECT_EQ(subcommands, 5);
}

}  // namespace
}  // namespace shardis
