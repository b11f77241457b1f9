// Tests for the string and bitmap command families: replies, error texts, encodings and TTLs as
// redis-server 7.0.15 gives them (the expected replies were taken from redis-server), run through
// the command table with 1 shard and with 4 shards (multi-key commands then span shards and take
// their fan-out path).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "storage/value.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

const std::string kOk = "+OK\r\n";
const std::string kNil = "$-1\r\n";
const std::string kEmpty = "$0\r\n\r\n";
const std::string kWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const std::string kSyntax = "-ERR syntax error\r\n";
const std::string kNotInt = "-ERR value is not an integer or out of range\r\n";
const std::string kNotFloat = "-ERR value is not a valid float\r\n";
const std::string kBitOffset = "-ERR bit offset is not an integer or out of range\r\n";
const std::string kBitfieldType =
    "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.\r\n";
const std::string kTooLong = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& msg) { return "-" + msg + "\r\n"; }
std::string Arr(std::initializer_list<std::string> items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& i : items) out += i;
  return out;
}
std::string InvalidExpire(const std::string& cmd) {
  return Err("ERR invalid expire time in '" + cmd + "' command");
}

class StringFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  StringFamilyTest() : h_(GetParam()) {}

  std::string Run(std::initializer_list<std::string> args) {
    return h_.Run(std::vector<std::string>(args));
  }

  // The entry of `key` in db 0, without expiring it or counting a lookup; null when absent.
  Entry* Peek(const std::string& key) {
    return h_.shard(ShardOfKey(key, GetParam())).db(0).keyspace().Find(key);
  }
  std::string Encoding(const std::string& key) {
    Entry* e = Peek(key);
    return e == nullptr ? "(none)" : EncodingName(*e);
  }
  // The key's expiry relative to now in ms, -1 without one, -2 when absent (as PTTL).
  int64_t Pttl(const std::string& key) {
    Entry* e = Peek(key);
    if (e == nullptr) return -2;
    if (!e->has_expiry()) return -1;
    return e->expire_at_ms() - h_.shard(0).now_ms();
  }
  // Stores a value of another type at `key`: stands in for the aggregate types (lists, hashes...)
  // that commands must reject with WRONGTYPE.
  void PlantNonString(const std::string& key) {
    Db& db = h_.shard(ShardOfKey(key, GetParam())).db(0);
    db.Set(key, Value{static_cast<ValueType>(1), StringEncoding::kRaw, "x", {}});
  }
  // A key owned by shard `shard % shard count`, named after `prefix`.
  std::string KeyOn(int shard, const std::string& prefix) {
    int target = shard % GetParam();
    for (int i = 0;; ++i) {
      std::string key = prefix + std::to_string(i);
      if (ShardOfKey(key, GetParam()) == target) return key;
    }
  }
  uint64_t Hits() {
    uint64_t n = 0;
    for (int i = 0; i < GetParam(); ++i) n += h_.shard(i).stats().keyspace_hits;
    return n;
  }
  uint64_t Misses() {
    uint64_t n = 0;
    for (int i = 0; i < GetParam(); ++i) n += h_.shard(i).stats().keyspace_misses;
    return n;
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, StringFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "Shards";
                         });

// ---------------------------------------------------------------------------------------------
// Command table entries.

TEST_P(StringFamilyTest, SpecsMatchRedisCommandInfo) {
  const CommandTable& t = CommandTable::Get();
  struct Want {
    const char* name;
    int arity, first, last, step;
    uint32_t flags;
    const char* acl;
    const char* group;
    const char* since;
  };
  const Want wants[] = {
      {"set", -3, 1, 1, 1, kCmdWrite | kCmdDenyOom, "@write @string @slow", "string", "1.0.0"},
      {"get", 2, 1, 1, 1, kCmdReadonly | kCmdFast, "@read @string @fast", "string", "1.0.0"},
      {"getex", -2, 1, 1, 1, kCmdWrite | kCmdFast, "@write @string @fast", "string", "6.2.0"},
      {"mget", -2, 1, -1, 1, kCmdReadonly | kCmdFast, "@read @string @fast", "string", "1.0.0"},
      {"mset", -3, 1, -1, 2, kCmdWrite | kCmdDenyOom, "@write @string @slow", "string", "1.0.1"},
      {"msetnx", -3, 1, -1, 2, kCmdWrite | kCmdDenyOom, "@write @string @slow", "string", "1.0.1"},
      {"incrbyfloat", 3, 1, 1, 1, kCmdWrite | kCmdDenyOom | kCmdFast, "@write @string @fast",
       "string", "2.6.0"},
      {"getrange", 4, 1, 1, 1, kCmdReadonly, "@read @string @slow", "string", "2.4.0"},
      {"substr", 4, 1, 1, 1, kCmdReadonly, "@read @string @slow", "string", "1.0.0"},
      {"lcs", -3, 1, 2, 1, kCmdReadonly, "@read @string @slow", "string", "7.0.0"},
      {"setbit", 4, 1, 1, 1, kCmdWrite | kCmdDenyOom, "@write @bitmap @slow", "bitmap", "2.2.0"},
      {"bitpos", -3, 1, 1, 1, kCmdReadonly, "@read @bitmap @slow", "bitmap", "2.8.7"},
      {"bitop", -4, 2, -1, 1, kCmdWrite | kCmdDenyOom, "@write @bitmap @slow", "bitmap", "2.6.0"},
      {"bitfield", -2, 1, 1, 1, kCmdWrite | kCmdDenyOom, "@write @bitmap @slow", "bitmap", "3.2.0"},
      {"bitfield_ro", -2, 1, 1, 1, kCmdReadonly | kCmdFast, "@read @bitmap @fast", "bitmap",
       "6.0.0"},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.name);
    const CommandSpec* spec = t.Find(w.name);
    ASSERT_NE(spec, nullptr);
    EXPECT_EQ(spec->arity, w.arity);
    EXPECT_EQ(spec->first_key, w.first);
    EXPECT_EQ(spec->last_key, w.last);
    EXPECT_EQ(spec->key_step, w.step);
    EXPECT_EQ(spec->flags, w.flags);
    EXPECT_EQ(spec->acl_categories, w.acl);
    EXPECT_EQ(spec->group, w.group);
    EXPECT_EQ(spec->since, w.since);
    EXPECT_FALSE(spec->summary.empty());
    EXPECT_NE(spec->on_shard, nullptr);
  }
  for (const char* name : {"mget", "mset", "msetnx", "bitop", "lcs"}) {
    EXPECT_NE(t.Find(name)->on_client, nullptr) << name;
  }
  for (const char* name : {"getset", "getdel", "setnx", "setex", "psetex", "append", "strlen",
                           "incr", "decr", "incrby", "decrby", "setrange", "getbit", "bitcount"}) {
    EXPECT_NE(t.Find(name), nullptr) << name;
  }
}

TEST_P(StringFamilyTest, ArityErrors) {
  EXPECT_EQ(Run({"GET"}), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(Run({"set", "k"}), Err("ERR wrong number of arguments for 'set' command"));
  EXPECT_EQ(Run({"setex", "k", "10"}), Err("ERR wrong number of arguments for 'setex' command"));
  EXPECT_EQ(Run({"bitop", "and", "d"}), Err("ERR wrong number of arguments for 'bitop' command"));
  EXPECT_EQ(Run({"lcs", "a"}), Err("ERR wrong number of arguments for 'lcs' command"));
}

// ---------------------------------------------------------------------------------------------
// SET and friends.

TEST_P(StringFamilyTest, SetAndGet) {
  EXPECT_EQ(Run({"get", "k"}), kNil);
  EXPECT_EQ(Run({"set", "k", "v"}), kOk);
  EXPECT_EQ(Run({"get", "k"}), Bulk("v"));
  EXPECT_EQ(Run({"set", "k", ""}), kOk);
  EXPECT_EQ(Run({"get", "k"}), kEmpty);
  std::string binary("a\0b\r\n", 5);
  EXPECT_EQ(Run({"set", "k", binary}), kOk);
  EXPECT_EQ(Run({"get", "k"}), Bulk(binary));
  PlantNonString("l");
  EXPECT_EQ(Run({"get", "l"}), kWrongType);
  // SET overwrites a value of any type.
  EXPECT_EQ(Run({"set", "l", "v"}), kOk);
  EXPECT_EQ(Run({"get", "l"}), Bulk("v"));
}

TEST_P(StringFamilyTest, SetEncodings) {
  Run({"set", "k", "12345"});
  EXPECT_EQ(Encoding("k"), "int");
  Run({"set", "k", "-9223372036854775808"});
  EXPECT_EQ(Encoding("k"), "int");
  for (const char* not_int : {"0123", " 1", "+1", "-0", "123456789012345678901"}) {
    Run({"set", "k", not_int});
    EXPECT_EQ(Encoding("k"), "embstr") << not_int;
  }
  Run({"set", "k", std::string(44, 'a')});
  EXPECT_EQ(Encoding("k"), "embstr");
  Run({"set", "k", std::string(45, 'a')});
  EXPECT_EQ(Encoding("k"), "raw");
}

TEST_P(StringFamilyTest, SetOptionConflictsAreSyntaxErrors) {
  for (std::initializer_list<std::string> cmd : {
           std::initializer_list<std::string>{"set", "k", "v", "nx", "xx"},
           {"set", "k", "v", "xx", "nx"},
           {"set", "k", "v", "ex", "10", "px", "100"},
           {"set", "k", "v", "ex", "10", "keepttl"},
           {"set", "k", "v", "keepttl", "ex", "10"},
           {"set", "k", "v", "exat", "10", "pxat", "100"},
           {"set", "k", "v", "ex"},
           {"set", "k", "v", "persist"},
           {"set", "k", "v", "foo"},
       }) {
    EXPECT_EQ(Run(cmd), kSyntax);
  }
  EXPECT_EQ(Peek("k"), nullptr);
  // Repeating an option is allowed; the last expiry wins.
  EXPECT_EQ(Run({"set", "k", "v", "ex", "10", "EX", "20"}), kOk);
  EXPECT_EQ(Pttl("k"), 20000);
  EXPECT_EQ(Run({"set", "k", "v", "px", "100", "px", "2000"}), kOk);
  EXPECT_EQ(Pttl("k"), 2000);
  EXPECT_EQ(Run({"set", "k", "v", "xx", "xx"}), kOk);
  EXPECT_EQ(Run({"set", "k", "v", "nx", "nx"}), kNil);
  EXPECT_EQ(Run({"set", "k", "v", "keepttl", "keepttl"}), kOk);
}

TEST_P(StringFamilyTest, SetExpireTimes) {
  EXPECT_EQ(Run({"set", "k", "v", "ex", "0"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "-1"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "k", "v", "px", "0"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "k", "v", "exat", "0"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "k", "v", "pxat", "-5"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "k", "v", "ex", "9223372036854775807"}), InvalidExpire("set"));
  // Fits once multiplied by 1000, overflows when now is added.
  EXPECT_EQ(Run({"set", "k", "v", "ex", "9223372036854775"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "k", "v", "px", "9223372036854775807"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "k", "v", "ex", "abc"}), kNotInt);
  EXPECT_EQ(Run({"set", "k", "v", "ex", "1.5"}), kNotInt);
  EXPECT_EQ(Peek("k"), nullptr);

  EXPECT_EQ(Run({"set", "k", "v", "ex", "100"}), kOk);
  EXPECT_EQ(Pttl("k"), 100000);
  EXPECT_EQ(Run({"set", "k", "v", "px", "1500"}), kOk);
  EXPECT_EQ(Pttl("k"), 1500);
  int64_t now = h_.shard(0).now_ms();
  EXPECT_EQ(Run({"set", "k", "v", "exat", std::to_string(now / 1000 + 50)}), kOk);
  EXPECT_EQ(Peek("k")->expire_at_ms(), (now / 1000 + 50) * 1000);
  EXPECT_EQ(Run({"set", "k", "v", "pxat", std::to_string(now + 1234)}), kOk);
  EXPECT_EQ(Pttl("k"), 1234);
  EXPECT_EQ(Run({"set", "k", "v", "pxat", "9223372036854775807"}), kOk);
  EXPECT_EQ(Peek("k")->expire_at_ms(), INT64_MAX);
  EXPECT_EQ(Run({"set", "k", "v", "exat", "9223372036854775"}), kOk);
  EXPECT_EQ(Peek("k")->expire_at_ms(), 9223372036854775000);

  // The key expires.
  EXPECT_EQ(Run({"set", "k", "v", "px", "100"}), kOk);
  h_.AdvanceTime(99);
  EXPECT_EQ(Run({"get", "k"}), Bulk("v"));
  h_.AdvanceTime(1 + 1);
  EXPECT_EQ(Run({"get", "k"}), kNil);
}

TEST_P(StringFamilyTest, SetWithPastAbsoluteTimeLeavesAnExpiredKey) {
  // As redis-server 7.0: +OK, and the key is gone (counted as expired) when next accessed.
  EXPECT_EQ(Run({"set", "k", "v", "exat", "1"}), kOk);
  EXPECT_EQ(Run({"get", "k"}), kNil);
  EXPECT_EQ(Run({"set", "k", "v", "pxat", "100"}), kOk);
  EXPECT_EQ(Run({"get", "k"}), kNil);
  uint64_t expired = 0;
  for (int i = 0; i < GetParam(); ++i) expired += h_.shard(i).stats().expired_keys;
  EXPECT_EQ(expired, 2u);
}

TEST_P(StringFamilyTest, SetNxXx) {
  EXPECT_EQ(Run({"set", "k", "v", "xx"}), kNil);
  EXPECT_EQ(Peek("k"), nullptr);
  EXPECT_EQ(Run({"set", "k", "v", "nx"}), kOk);
  EXPECT_EQ(Run({"set", "k", "v2", "NX"}), kNil);
  EXPECT_EQ(Run({"get", "k"}), Bulk("v"));
  EXPECT_EQ(Run({"set", "k", "v3", "xx"}), kOk);
  EXPECT_EQ(Run({"get", "k"}), Bulk("v3"));
  // An expired key does not exist for NX.
  EXPECT_EQ(Run({"set", "e", "v", "px", "10"}), kOk);
  h_.AdvanceTime(10 + 1);
  EXPECT_EQ(Run({"set", "e", "w", "nx"}), kOk);
  EXPECT_EQ(Run({"get", "e"}), Bulk("w"));
  EXPECT_EQ(Pttl("e"), -1);
}

TEST_P(StringFamilyTest, SetGet) {
  EXPECT_EQ(Run({"set", "k", "v", "get"}), kNil);
  EXPECT_EQ(Run({"set", "k", "v2", "GET"}), Bulk("v"));
  // NX with GET (allowed since 7.0): replies the old value and does not set.
  EXPECT_EQ(Run({"set", "k", "v3", "get", "nx"}), Bulk("v2"));
  EXPECT_EQ(Run({"get", "k"}), Bulk("v2"));
  EXPECT_EQ(Run({"set", "k", "v4", "get", "xx"}), Bulk("v2"));
  EXPECT_EQ(Run({"get", "k"}), Bulk("v4"));
  EXPECT_EQ(Run({"set", "nk", "v", "get", "xx"}), kNil);
  EXPECT_EQ(Peek("nk"), nullptr);
  EXPECT_EQ(Run({"set", "nk", "v", "nx", "get"}), kNil);
  EXPECT_EQ(Run({"get", "nk"}), Bulk("v"));
  EXPECT_EQ(Run({"set", "k", "v5", "nx", "ex", "10", "get"}), Bulk("v4"));
  EXPECT_EQ(Pttl("k"), -1);
  EXPECT_EQ(Run({"set", "k", "v6", "ex", "100", "get", "get"}), Bulk("v4"));
  EXPECT_EQ(Pttl("k"), 100000);

  PlantNonString("l");
  EXPECT_EQ(Run({"set", "l", "v", "get"}), kWrongType);
  EXPECT_EQ(Run({"set", "l", "v", "get", "nx"}), kWrongType);
  // Option and expiry errors come before the type check.
  EXPECT_EQ(Run({"set", "l", "v", "get", "ex", "abc"}), kNotInt);
  EXPECT_EQ(Run({"set", "l", "v", "get", "ex", "0"}), InvalidExpire("set"));
  EXPECT_EQ(Run({"set", "l", "v", "get", "foo"}), kSyntax);
  EXPECT_NE(Peek("l")->type(), ValueType::kString);
}

TEST_P(StringFamilyTest, SetKeepTtl) {
  EXPECT_EQ(Run({"set", "k", "v", "ex", "100"}), kOk);
  EXPECT_EQ(Run({"set", "k", "v2", "keepttl"}), kOk);
  EXPECT_EQ(Pttl("k"), 100000);
  EXPECT_EQ(Run({"get", "k"}), Bulk("v2"));
  EXPECT_EQ(Run({"set", "k", "v3"}), kOk);
  EXPECT_EQ(Pttl("k"), -1);
  EXPECT_EQ(Run({"set", "n", "v", "keepttl"}), kOk);
  EXPECT_EQ(Pttl("n"), -1);
}

TEST_P(StringFamilyTest, SetNxCommand) {
  EXPECT_EQ(Run({"setnx", "k", "x"}), Int(1));
  EXPECT_EQ(Run({"setnx", "k", "y"}), Int(0));
  EXPECT_EQ(Run({"get", "k"}), Bulk("x"));
  PlantNonString("l");
  EXPECT_EQ(Run({"setnx", "l", "x"}), Int(0));
  Run({"setnx", "n", "42"});
  EXPECT_EQ(Encoding("n"), "int");
}

TEST_P(StringFamilyTest, SetExAndPSetEx) {
  EXPECT_EQ(Run({"setex", "k", "10", "v"}), kOk);
  EXPECT_EQ(Pttl("k"), 10000);
  EXPECT_EQ(Run({"get", "k"}), Bulk("v"));
  EXPECT_EQ(Run({"setex", "k", "0", "v"}), InvalidExpire("setex"));
  EXPECT_EQ(Run({"setex", "k", "-1", "v"}), InvalidExpire("setex"));
  EXPECT_EQ(Run({"setex", "k", "abc", "v"}), kNotInt);
  EXPECT_EQ(Run({"setex", "k", "9223372036854775", "v"}), InvalidExpire("setex"));
  EXPECT_EQ(Run({"psetex", "k", "0", "v"}), InvalidExpire("psetex"));
  EXPECT_EQ(Run({"psetex", "k", "9223372036854775807", "v"}), InvalidExpire("psetex"));
  EXPECT_EQ(Run({"psetex", "k", "1000", "w"}), kOk);
  EXPECT_EQ(Pttl("k"), 1000);
  EXPECT_EQ(Run({"get", "k"}), Bulk("w"));
  PlantNonString("l");
  EXPECT_EQ(Run({"setex", "l", "10", "v"}), kOk);
  EXPECT_EQ(Run({"get", "l"}), Bulk("v"));
}

TEST_P(StringFamilyTest, GetSet) {
  EXPECT_EQ(Run({"getset", "k", "v"}), kNil);
  EXPECT_EQ(Run({"getset", "k", "v2"}), Bulk("v"));
  EXPECT_EQ(Run({"get", "k"}), Bulk("v2"));
  Run({"set", "k", "123", "ex", "100"});
  EXPECT_EQ(Run({"getset", "k", "456"}), Bulk("123"));
  EXPECT_EQ(Pttl("k"), -1);  // GETSET drops the TTL
  EXPECT_EQ(Encoding("k"), "int");
  PlantNonString("l");
  EXPECT_EQ(Run({"getset", "l", "v"}), kWrongType);
  EXPECT_NE(Peek("l")->type(), ValueType::kString);
}

TEST_P(StringFamilyTest, GetDel) {
  EXPECT_EQ(Run({"getdel", "k"}), kNil);
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"getdel", "k"}), Bulk("v"));
  EXPECT_EQ(Peek("k"), nullptr);
  PlantNonString("l");
  EXPECT_EQ(Run({"getdel", "l"}), kWrongType);
  EXPECT_NE(Peek("l"), nullptr);
}

TEST_P(StringFamilyTest, GetEx) {
  EXPECT_EQ(Run({"getex", "k"}), kNil);
  // A missing key replies nil before the expiry is validated.
  EXPECT_EQ(Run({"getex", "k", "ex", "abc"}), kNil);
  EXPECT_EQ(Run({"getex", "k", "ex", "0"}), kNil);
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"getex", "k"}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), -1);
  EXPECT_EQ(Run({"getex", "k", "ex", "100"}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), 100000);
  EXPECT_EQ(Run({"getex", "k", "persist"}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), -1);
  EXPECT_EQ(Run({"getex", "k", "PX", "5000"}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), 5000);
  int64_t now = h_.shard(0).now_ms();
  EXPECT_EQ(Run({"getex", "k", "pxat", std::to_string(now + 777)}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), 777);
  EXPECT_EQ(Run({"getex", "k", "exat", std::to_string(now / 1000 + 9)}), Bulk("v"));
  EXPECT_EQ(Peek("k")->expire_at_ms(), (now / 1000 + 9) * 1000);
  EXPECT_EQ(Run({"getex", "k", "ex", "5", "ex", "50"}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), 50000);
  EXPECT_EQ(Run({"getex", "k", "persist", "persist"}), Bulk("v"));
  EXPECT_EQ(Pttl("k"), -1);
  // An absolute time already past deletes the key after replying.
  EXPECT_EQ(Run({"getex", "k", "exat", "1"}), Bulk("v"));
  EXPECT_EQ(Peek("k"), nullptr);
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"getex", "k", "pxat", std::to_string(now)}), Bulk("v"));
  EXPECT_EQ(Peek("k"), nullptr);

  Run({"set", "k", "v"});
  for (std::initializer_list<std::string> cmd : {
           std::initializer_list<std::string>{"getex", "k", "foo"},
           {"getex", "k", "ex", "10", "px", "10"},
           {"getex", "k", "persist", "ex", "10"},
           {"getex", "k", "ex", "10", "persist"},
           {"getex", "k", "keepttl"},
           {"getex", "k", "nx"},
           {"getex", "k", "get"},
           {"getex", "k", "ex"},
           {"getex", "nokey", "foo"},
       }) {
    EXPECT_EQ(Run(cmd), kSyntax);
  }
  EXPECT_EQ(Run({"getex", "k", "ex", "0"}), InvalidExpire("getex"));
  EXPECT_EQ(Run({"getex", "k", "ex", "-5"}), InvalidExpire("getex"));
  EXPECT_EQ(Run({"getex", "k", "pxat", "0"}), InvalidExpire("getex"));
  EXPECT_EQ(Run({"getex", "k", "px", "9223372036854775807"}), InvalidExpire("getex"));
  EXPECT_EQ(Run({"getex", "k", "ex", "abc"}), kNotInt);
  EXPECT_EQ(Pttl("k"), -1);

  PlantNonString("l");
  EXPECT_EQ(Run({"getex", "l"}), kWrongType);
  EXPECT_EQ(Run({"getex", "l", "ex", "10"}), kWrongType);
  EXPECT_EQ(Run({"getex", "l", "ex", "abc"}), kWrongType);
}

TEST_P(StringFamilyTest, KeyspaceHitsAndMisses) {
  Run({"set", "k", "v"});
  uint64_t hits = Hits(), misses = Misses();
  Run({"get", "k"});
  Run({"get", "nokey"});
  Run({"strlen", "k"});
  EXPECT_EQ(Hits(), hits + 2);
  EXPECT_EQ(Misses(), misses + 1);
  // Writes do not count.
  Run({"set", "k", "w"});
  Run({"incr", "n"});
  Run({"append", "k", "x"});
  EXPECT_EQ(Hits(), hits + 2);
  EXPECT_EQ(Misses(), misses + 1);
  // MGET counts every key, on whichever shard.
  Run({"mget", KeyOn(0, "a"), KeyOn(1, "b"), "k"});
  EXPECT_EQ(Hits(), hits + 3);
  EXPECT_EQ(Misses(), misses + 3);
}

// ---------------------------------------------------------------------------------------------
// MGET, MSET, MSETNX.

TEST_P(StringFamilyTest, MSetAndMGet) {
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b"), c = KeyOn(2, "c"), d = KeyOn(3, "d");
  EXPECT_EQ(Run({"mset", a, "1", b, "2", c, "3"}), kOk);
  PlantNonString(d);
  EXPECT_EQ(Run({"mget", c, "missing", a, d, b, a}),
            Arr({Bulk("3"), kNil, Bulk("1"), kNil, Bulk("2"), Bulk("1")}));
  EXPECT_EQ(Run({"mget", "missing"}), Arr({kNil}));
  EXPECT_EQ(Run({"mset", a, "1", b}), Err("ERR wrong number of arguments for 'mset' command"));
  // A repeated key keeps its last value.
  EXPECT_EQ(Run({"mset", a, "x", b, "y", a, "z"}), kOk);
  EXPECT_EQ(Run({"mget", a, b}), Arr({Bulk("z"), Bulk("y")}));
  EXPECT_EQ(Encoding(b), "embstr");
  Run({"mset", b, "77"});
  EXPECT_EQ(Encoding(b), "int");
  // MSET drops TTLs and replaces other types.
  Run({"set", c, "v", "ex", "100"});
  EXPECT_EQ(Run({"mset", c, "w", d, "s"}), kOk);
  EXPECT_EQ(Pttl(c), -1);
  EXPECT_EQ(Run({"mget", c, d}), Arr({Bulk("w"), Bulk("s")}));
}

TEST_P(StringFamilyTest, MGetResp3Nulls) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b");
  h3.Run({"set", a, "1"});
  EXPECT_EQ(h3.Run({"mget", b, a}), "*2\r\n_\r\n$1\r\n1\r\n");
}

TEST_P(StringFamilyTest, MSetNx) {
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b"), x = KeyOn(2, "x"), y = KeyOn(3, "y");
  EXPECT_EQ(Run({"msetnx", a, "1", b}), Err("ERR wrong number of arguments for 'msetnx' command"));
  EXPECT_EQ(Run({"msetnx", a, "1", b, "2"}), Int(1));
  // One existing key (on any shard) blocks them all.
  EXPECT_EQ(Run({"msetnx", x, "5", a, "9", y, "6"}), Int(0));
  EXPECT_EQ(Run({"mget", x, a, y}), Arr({kNil, Bulk("1"), kNil}));
  EXPECT_EQ(Run({"msetnx", x, "1", y, "2"}), Int(1));
  EXPECT_EQ(Run({"mget", x, y}), Arr({Bulk("1"), Bulk("2")}));
  // A key repeated in the command: both are checked, then both set in order.
  std::string z = KeyOn(1, "z");
  EXPECT_EQ(Run({"msetnx", z, "1", z, "2"}), Int(1));
  EXPECT_EQ(Run({"get", z}), Bulk("2"));
  EXPECT_EQ(Run({"msetnx", x, "1", x, "2"}), Int(0));
  // A key of another type exists too.
  std::string l = KeyOn(2, "l"), w = KeyOn(3, "w");
  PlantNonString(l);
  EXPECT_EQ(Run({"msetnx", w, "1", l, "1"}), Int(0));
  EXPECT_EQ(Peek(w), nullptr);
  // An expired key does not block.
  Run({"set", w, "old", "px", "5"});
  h_.AdvanceTime(5 + 1);
  EXPECT_EQ(Run({"msetnx", w, "new", KeyOn(0, "q"), "q"}), Int(1));
  EXPECT_EQ(Run({"get", w}), Bulk("new"));
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN.

TEST_P(StringFamilyTest, Append) {
  EXPECT_EQ(Run({"append", "k", "hello"}), Int(5));
  EXPECT_EQ(Encoding("k"), "embstr");
  EXPECT_EQ(Run({"append", "k", " world"}), Int(11));
  EXPECT_EQ(Encoding("k"), "raw");
  EXPECT_EQ(Run({"get", "k"}), Bulk("hello world"));
  EXPECT_EQ(Run({"append", "n", "123"}), Int(3));
  EXPECT_EQ(Encoding("n"), "int");
  EXPECT_EQ(Run({"append", "n", "4"}), Int(4));
  EXPECT_EQ(Encoding("n"), "raw");
  EXPECT_EQ(Run({"get", "n"}), Bulk("1234"));
  EXPECT_EQ(Run({"append", "n", ""}), Int(4));
  // APPEND keeps the TTL.
  Run({"set", "e", "10", "ex", "100"});
  EXPECT_EQ(Run({"append", "e", "x"}), Int(3));
  EXPECT_EQ(Pttl("e"), 100000);
  PlantNonString("l");
  EXPECT_EQ(Run({"append", "l", "x"}), kWrongType);
  // The total length is limited by proto-max-bulk-len.
  h_.config().proto_max_bulk_len = 6;
  EXPECT_EQ(Run({"append", "k6", "abc"}), Int(3));
  EXPECT_EQ(Run({"append", "k6", "def"}), Int(6));
  EXPECT_EQ(Run({"append", "k6", "g"}), kTooLong);
  EXPECT_EQ(Run({"get", "k6"}), Bulk("abcdef"));
}

TEST_P(StringFamilyTest, Strlen) {
  EXPECT_EQ(Run({"strlen", "k"}), Int(0));
  Run({"set", "k", "hello"});
  EXPECT_EQ(Run({"strlen", "k"}), Int(5));
  Run({"set", "n", "-123"});
  EXPECT_EQ(Run({"strlen", "n"}), Int(4));
  PlantNonString("l");
  EXPECT_EQ(Run({"strlen", "l"}), kWrongType);
}

// ---------------------------------------------------------------------------------------------
// INCR family.

TEST_P(StringFamilyTest, IncrDecr) {
  EXPECT_EQ(Run({"incr", "n"}), Int(1));
  EXPECT_EQ(Run({"set", "i", "10"}), kOk);
  EXPECT_EQ(Run({"incr", "i"}), Int(11));
  EXPECT_EQ(Run({"decr", "i"}), Int(10));
  EXPECT_EQ(Run({"incrby", "i", "5"}), Int(15));
  EXPECT_EQ(Run({"decrby", "i", "3"}), Int(12));
  EXPECT_EQ(Run({"incrby", "i", "-20"}), Int(-8));
  EXPECT_EQ(Run({"decr", "new"}), Int(-1));
  EXPECT_EQ(Run({"get", "i"}), Bulk("-8"));
  EXPECT_EQ(Encoding("i"), "int");
  Run({"set", "s", "1111111111111111111"});
  EXPECT_EQ(Run({"incr", "s"}), Int(1111111111111111112));
  // INCR keeps the TTL.
  Run({"set", "e", "10", "ex", "100"});
  EXPECT_EQ(Run({"incr", "e"}), Int(11));
  EXPECT_EQ(Pttl("e"), 100000);
  // A raw string holding a number is incremented and becomes int-encoded.
  Run({"append", "r", "5"});
  Run({"append", "r", "0"});
  EXPECT_EQ(Encoding("r"), "raw");
  EXPECT_EQ(Run({"incr", "r"}), Int(51));
  EXPECT_EQ(Encoding("r"), "int");
}

TEST_P(StringFamilyTest, IncrErrors) {
  EXPECT_EQ(Run({"incrby", "i", "abc"}), kNotInt);
  EXPECT_EQ(Run({"incrby", "i", "1.5"}), kNotInt);
  EXPECT_EQ(Run({"incrby", "i", " 1"}), kNotInt);
  EXPECT_EQ(Run({"decrby", "i", "9223372036854775808"}), kNotInt);
  EXPECT_EQ(Peek("i"), nullptr);
  for (const char* bad :
       {"abc", " 1", "01", "+1", "1 ", "-0", "123456789012345678901234567890", ""}) {
    Run({"set", "s", bad});
    EXPECT_EQ(Run({"incr", "s"}), kNotInt) << bad;
  }
  Run({"set", "i", "9223372036854775807"});
  EXPECT_EQ(Run({"incr", "i"}), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"incrby", "i", "9223372036854775807"}),
            Err("ERR increment or decrement would overflow"));
  Run({"set", "i", "-9223372036854775808"});
  EXPECT_EQ(Run({"decr", "i"}), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"decrby", "i", "-9223372036854775808"}), Err("ERR decrement would overflow"));
  Run({"set", "i", "0"});
  EXPECT_EQ(Run({"decrby", "i", "-9223372036854775808"}), Err("ERR decrement would overflow"));
  EXPECT_EQ(Run({"decrby", "i", "9223372036854775807"}), Int(-9223372036854775807));
  EXPECT_EQ(Run({"decr", "i"}), Int(INT64_MIN));
  EXPECT_EQ(Run({"incrby", "i", "-1"}), Err("ERR increment or decrement would overflow"));
  PlantNonString("l");
  EXPECT_EQ(Run({"incr", "l"}), kWrongType);
  EXPECT_EQ(Run({"incrby", "l", "abc"}), kNotInt);  // the increment is parsed first
}

TEST_P(StringFamilyTest, IncrByFloat) {
  EXPECT_EQ(Run({"incrbyfloat", "f", "1.5"}), Bulk("1.5"));
  EXPECT_EQ(Encoding("f"), "embstr");
  EXPECT_EQ(Run({"incrbyfloat", "f", "1.5"}), Bulk("3"));
  EXPECT_EQ(Encoding("f"), "embstr");  // never int-encoded
  EXPECT_EQ(Run({"incrbyfloat", "f", "0.1"}), Bulk("3.1"));
  EXPECT_EQ(Run({"incrbyfloat", "f", "-3.1"}), Bulk("0"));
  EXPECT_EQ(Run({"incrbyfloat", "f", "1e3"}), Bulk("1000"));
  EXPECT_EQ(Run({"incrbyfloat", "f", "5.0e3"}), Bulk("6000"));
  Run({"set", "f", "3.0e3"});
  EXPECT_EQ(Run({"incrbyfloat", "f", "1.1"}), Bulk("3001.10000000000000009"));
  EXPECT_EQ(Run({"incrbyfloat", "g", "1.23456789012345678901"}), Bulk("1.23456789012345679"));
  EXPECT_EQ(Run({"incrbyfloat", "h", "0.0000000000000000001"}), Bulk("0"));
  EXPECT_EQ(Run({"incrbyfloat", "h2", "-0.0"}), Bulk("0"));
  EXPECT_EQ(Run({"incrbyfloat", "h3", "1e20"}), Bulk("100000000000000000000"));
  EXPECT_EQ(Run({"incrbyfloat", "h4", "123456789012345678"}), Bulk("123456789012345678"));
  EXPECT_EQ(Run({"incrbyfloat", "h7", ".5"}), Bulk("0.5"));
  EXPECT_EQ(Run({"incrbyfloat", "h8", "5."}), Bulk("5"));
  EXPECT_EQ(Run({"incrbyfloat", "h9", "-.5e-2"}), Bulk("-0.005"));
  EXPECT_EQ(Run({"incrbyfloat", "h10", "+1.5"}), Bulk("1.5"));
  // Long results are raw strings.
  Run({"set", "big", "1e308"});
  std::string r = Run({"incrbyfloat", "big", "1e308"});
  EXPECT_EQ(r.substr(0, 12), "$309\r\n199999");
  EXPECT_EQ(Encoding("big"), "raw");
  // INCRBYFLOAT keeps the TTL.
  Run({"set", "e", "10", "ex", "100"});
  EXPECT_EQ(Run({"incrbyfloat", "e", "1"}), Bulk("11"));
  EXPECT_EQ(Pttl("e"), 100000);
}

TEST_P(StringFamilyTest, IncrByFloatErrors) {
  for (const char* bad : {"abc", "", " 1", "1 ", "nan"}) {
    EXPECT_EQ(Run({"incrbyfloat", "f", bad}), kNotFloat) << bad;
  }
  EXPECT_EQ(Run({"incrbyfloat", "f", "inf"}), Err("ERR increment would produce NaN or Infinity"));
  EXPECT_EQ(Peek("f"), nullptr);
  Run({"set", "f", "abc"});
  EXPECT_EQ(Run({"incrbyfloat", "f", "1"}), kNotFloat);
  Run({"set", "f", " 1"});
  EXPECT_EQ(Run({"incrbyfloat", "f", "1"}), kNotFloat);
  Run({"set", "f", "5  "});
  EXPECT_EQ(Run({"incrbyfloat", "f", "1"}), kNotFloat);
  PlantNonString("l");
  EXPECT_EQ(Run({"incrbyfloat", "l", "1"}), kWrongType);
}

// ---------------------------------------------------------------------------------------------
// GETRANGE, SUBSTR, SETRANGE.

TEST_P(StringFamilyTest, GetRange) {
  Run({"set", "s", "Hello World"});
  EXPECT_EQ(Run({"getrange", "s", "0", "4"}), Bulk("Hello"));
  EXPECT_EQ(Run({"getrange", "s", "-5", "-1"}), Bulk("World"));
  EXPECT_EQ(Run({"getrange", "s", "-1", "-5"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "s", "5", "3"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "s", "0", "-100"}), Bulk("H"));
  EXPECT_EQ(Run({"getrange", "s", "-100", "-100"}), Bulk("H"));
  EXPECT_EQ(Run({"getrange", "s", "-100", "-50"}), Bulk("H"));
  EXPECT_EQ(Run({"getrange", "s", "-100", "-200"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "s", "-5", "-100"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "s", "0", "1000"}), Bulk("Hello World"));
  EXPECT_EQ(Run({"getrange", "s", "100", "200"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "s", "3", "-2"}), Bulk("lo Worl"));
  EXPECT_EQ(Run({"getrange", "s", "9223372036854775807", "9223372036854775807"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "s", "-9223372036854775808", "9223372036854775807"}),
            Bulk("Hello World"));
  EXPECT_EQ(Run({"getrange", "s", "0", "9223372036854775808"}), kNotInt);
  EXPECT_EQ(Run({"getrange", "s", "a", "1"}), kNotInt);
  EXPECT_EQ(Run({"getrange", "s", "1", "b"}), kNotInt);
  EXPECT_EQ(Run({"substr", "s", "0", "4"}), Bulk("Hello"));
  EXPECT_EQ(Run({"substr", "s", "-3", "-1"}), Bulk("rld"));
  EXPECT_EQ(Run({"getrange", "nokey", "0", "-1"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "nokey", "a", "1"}), kNotInt);
  Run({"set", "e", ""});
  EXPECT_EQ(Run({"getrange", "e", "0", "-1"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "e", "0", "0"}), kEmpty);
  EXPECT_EQ(Run({"getrange", "e", "-1", "-1"}), kEmpty);
  Run({"set", "n", "12345"});
  EXPECT_EQ(Run({"getrange", "n", "1", "2"}), Bulk("23"));
  EXPECT_EQ(Run({"getrange", "n", "-1", "-1"}), Bulk("5"));
  PlantNonString("l");
  EXPECT_EQ(Run({"getrange", "l", "0", "1"}), kWrongType);
  EXPECT_EQ(Run({"getrange", "l", "a", "1"}), kNotInt);
}

TEST_P(StringFamilyTest, SetRange) {
  Run({"set", "s", "Hello World"});
  EXPECT_EQ(Run({"setrange", "s", "6", "Redis"}), Int(11));
  EXPECT_EQ(Run({"get", "s"}), Bulk("Hello Redis"));
  EXPECT_EQ(Run({"setrange", "s", "-1", "x"}), Err("ERR offset is out of range"));
  EXPECT_EQ(Run({"setrange", "s", "a", "x"}), kNotInt);
  EXPECT_EQ(Run({"setrange", "s", "100", ""}), Int(11));
  EXPECT_EQ(Run({"setrange", "s", "9", "XYZ"}), Int(12));
  EXPECT_EQ(Run({"get", "s"}), Bulk("Hello RedXYZ"));
  // A missing key: nothing to set creates nothing; otherwise zero padding.
  EXPECT_EQ(Run({"setrange", "nokey", "5", ""}), Int(0));
  EXPECT_EQ(Peek("nokey"), nullptr);
  EXPECT_EQ(Run({"setrange", "nokey", "5", "ab"}), Int(7));
  EXPECT_EQ(Run({"get", "nokey"}), Bulk(std::string("\0\0\0\0\0ab", 7)));
  EXPECT_EQ(Encoding("nokey"), "raw");
  // Encodings: an int becomes raw once modified; setting nothing changes nothing.
  Run({"set", "n", "12345"});
  EXPECT_EQ(Run({"setrange", "n", "0", "9"}), Int(5));
  EXPECT_EQ(Encoding("n"), "raw");
  EXPECT_EQ(Run({"get", "n"}), Bulk("92345"));
  Run({"set", "sm", "abc"});
  EXPECT_EQ(Run({"setrange", "sm", "1", ""}), Int(3));
  EXPECT_EQ(Encoding("sm"), "embstr");
  EXPECT_EQ(Run({"setrange", "sm", "1", "b"}), Int(3));
  EXPECT_EQ(Encoding("sm"), "raw");
  // SETRANGE keeps the TTL.
  Run({"set", "e", "abc", "ex", "100"});
  Run({"setrange", "e", "0", "x"});
  EXPECT_EQ(Pttl("e"), 100000);
  PlantNonString("l");
  EXPECT_EQ(Run({"setrange", "l", "0", "x"}), kWrongType);
  EXPECT_EQ(Run({"setrange", "l", "0", ""}), kWrongType);
  EXPECT_EQ(Run({"setrange", "l", "-1", "x"}), Err("ERR offset is out of range"));
}

TEST_P(StringFamilyTest, SetRangeSizeLimit) {
  EXPECT_EQ(Run({"setrange", "s", "536870911", "ab"}), kTooLong);
  EXPECT_EQ(Run({"setrange", "s", "9223372036854775807", "ab"}), kTooLong);
  EXPECT_EQ(Peek("s"), nullptr);
  EXPECT_EQ(Run({"setrange", "s", "536870912", ""}), Int(0));
  h_.config().proto_max_bulk_len = 10;
  EXPECT_EQ(Run({"setrange", "s", "8", "ab"}), Int(10));
  EXPECT_EQ(Run({"setrange", "s", "9", "ab"}), kTooLong);
  EXPECT_EQ(Run({"setrange", "s", "100", ""}), Int(10));
}

// ---------------------------------------------------------------------------------------------
// LCS.

TEST_P(StringFamilyTest, Lcs) {
  // The two keys are on different shards when there are several.
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b");
  Run({"set", a, "ohmytext"});
  Run({"set", b, "mynewtext"});
  EXPECT_EQ(Run({"lcs", a, b}), Bulk("mytext"));
  EXPECT_EQ(Run({"lcs", a, b, "len"}), Int(6));
  EXPECT_EQ(Run({"lcs", a, b, "idx"}),
            "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:"
            "2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(Run({"lcs", a, b, "idx", "minmatchlen", "4"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:"
            "6\r\n");
  EXPECT_EQ(Run({"lcs", a, b, "IDX", "MINMATCHLEN", "0", "WITHMATCHLEN"}),
            "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*"
            "2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(Run({"lcs", a, b, "minmatchlen", "-5", "idx"}), Run({"lcs", a, b, "idx"}));
  EXPECT_EQ(Run({"lcs", a, b, "withmatchlen"}), Bulk("mytext"));
  EXPECT_EQ(Run({"lcs", a, b, "withmatchlen", "len"}), Int(6));
  EXPECT_EQ(Run({"lcs", a, a, "idx"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:7\r\n*2\r\n:0\r\n:7\r\n$3\r\nlen\r\n:"
            "8\r\n");
  std::string x = KeyOn(2, "x"), y = KeyOn(3, "y");
  Run({"set", x, "abcxyzabc"});
  Run({"set", y, "xyzabcxyz"});
  EXPECT_EQ(Run({"lcs", x, y}), Bulk("xyzabc"));
  EXPECT_EQ(Run({"lcs", x, y, "idx", "withmatchlen"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:3\r\n:8\r\n*2\r\n:0\r\n:5\r\n:6\r\n$3\r\nle"
            "n\r\n:6\r\n");
  // Integers are compared as their decimal text.
  Run({"set", x, "12345"});
  Run({"set", y, "2345"});
  EXPECT_EQ(Run({"lcs", x, y, "idx", "withmatchlen"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:4\r\n*2\r\n:0\r\n:3\r\n:4\r\n$3\r\nle"
            "n\r\n:4\r\n");
  // Missing keys are empty strings.
  EXPECT_EQ(Run({"lcs", a, "nokey"}), kEmpty);
  EXPECT_EQ(Run({"lcs", "nokey", a, "len"}), Int(0));
  EXPECT_EQ(Run({"lcs", "nokey", "nokey2", "idx"}),
            "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
}

TEST_P(StringFamilyTest, LcsResp3) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b");
  h3.Run({"set", a, "ohmytext"});
  h3.Run({"set", b, "mynewtext"});
  EXPECT_EQ(h3.Run({"lcs", a, b, "idx", "withmatchlen"}),
            "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*"
            "2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n");
}

TEST_P(StringFamilyTest, LcsErrors) {
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b"), l = KeyOn(2, "l");
  Run({"set", a, "ohmytext"});
  Run({"set", b, "mynewtext"});
  const std::string both = Err("ERR If you want both the length and indexes, please just use IDX.");
  EXPECT_EQ(Run({"lcs", a, b, "len", "idx"}), both);
  EXPECT_EQ(Run({"lcs", a, b, "idx", "len"}), both);
  EXPECT_EQ(Run({"lcs", a, b, "foo"}), kSyntax);
  EXPECT_EQ(Run({"lcs", a, b, "minmatchlen"}), kSyntax);
  EXPECT_EQ(Run({"lcs", a, b, "minmatchlen", "x"}), kNotInt);
  PlantNonString(l);
  const std::string type_err = Err("ERR The specified keys must contain string values");
  EXPECT_EQ(Run({"lcs", a, l}), type_err);
  EXPECT_EQ(Run({"lcs", l, a}), type_err);
  EXPECT_EQ(Run({"lcs", l, a, "foo"}), type_err);  // the type check comes first
  // The DP table must fit in proto-max-bulk-len: (601 * 601 * 4) > 1 MiB >= (601 * 301 * 4).
  h_.config().proto_max_bulk_len = 1024 * 1024;
  Run({"set", a, std::string(600, 'a')});
  Run({"set", b, std::string(600, 'a')});
  EXPECT_EQ(Run({"lcs", a, b, "len"}),
            Err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
  Run({"set", b, std::string(300, 'a')});
  EXPECT_EQ(Run({"lcs", a, b, "len"}), Int(300));
}

// ---------------------------------------------------------------------------------------------
// SETBIT, GETBIT.

TEST_P(StringFamilyTest, SetBitGetBit) {
  EXPECT_EQ(Run({"setbit", "b", "7", "1"}), Int(0));
  EXPECT_EQ(Run({"get", "b"}), Bulk("\x01"));
  EXPECT_EQ(Encoding("b"), "raw");
  EXPECT_EQ(Run({"setbit", "b", "7", "0"}), Int(1));
  EXPECT_EQ(Run({"setbit", "b", "7", "1"}), Int(0));
  EXPECT_EQ(Run({"setbit", "b", "100", "1"}), Int(0));
  EXPECT_EQ(Run({"strlen", "b"}), Int(13));
  EXPECT_EQ(Run({"getbit", "b", "7"}), Int(1));
  EXPECT_EQ(Run({"getbit", "b", "6"}), Int(0));
  EXPECT_EQ(Run({"getbit", "b", "100"}), Int(1));
  EXPECT_EQ(Run({"getbit", "b", "100000"}), Int(0));
  EXPECT_EQ(Run({"getbit", "nokey", "0"}), Int(0));
  // An int-encoded value is read as its text, and becomes raw once written.
  Run({"set", "n", "12"});  // '1' = 0x31
  EXPECT_EQ(Run({"getbit", "n", "2"}), Int(1));
  EXPECT_EQ(Run({"getbit", "n", "3"}), Int(1));
  EXPECT_EQ(Run({"getbit", "n", "4"}), Int(0));
  EXPECT_EQ(Encoding("n"), "int");
  EXPECT_EQ(Run({"setbit", "n", "0", "0"}), Int(0));
  EXPECT_EQ(Encoding("n"), "raw");
  // SETBIT keeps the TTL.
  Run({"set", "e", "a", "ex", "100"});
  Run({"setbit", "e", "0", "1"});
  EXPECT_EQ(Pttl("e"), 100000);
}

TEST_P(StringFamilyTest, SetBitGetBitErrors) {
  EXPECT_EQ(Run({"setbit", "b", "-1", "1"}), kBitOffset);
  EXPECT_EQ(Run({"setbit", "b", "abc", "1"}), kBitOffset);
  EXPECT_EQ(Run({"setbit", "b", "4294967296", "1"}), kBitOffset);
  const std::string bit_err = Err("ERR bit is not an integer or out of range");
  EXPECT_EQ(Run({"setbit", "b", "1", "2"}), bit_err);
  EXPECT_EQ(Run({"setbit", "b", "1", "-1"}), bit_err);
  EXPECT_EQ(Run({"setbit", "b", "1", "abc"}), bit_err);
  EXPECT_EQ(Peek("b"), nullptr);
  EXPECT_EQ(Run({"getbit", "b", "-1"}), kBitOffset);
  EXPECT_EQ(Run({"getbit", "b", "abc"}), kBitOffset);
  EXPECT_EQ(Run({"getbit", "b", "4294967296"}), kBitOffset);
  EXPECT_EQ(Run({"getbit", "b", "4294967295"}), Int(0));
  PlantNonString("l");
  EXPECT_EQ(Run({"setbit", "l", "0", "1"}), kWrongType);
  EXPECT_EQ(Run({"setbit", "l", "0", "5"}), bit_err);
  EXPECT_EQ(Run({"setbit", "l", "x", "1"}), kBitOffset);
  EXPECT_EQ(Run({"getbit", "l", "0"}), kWrongType);
  EXPECT_EQ(Run({"getbit", "l", "-1"}), kBitOffset);
  // The offset limit follows proto-max-bulk-len.
  h_.config().proto_max_bulk_len = 2;
  EXPECT_EQ(Run({"setbit", "b", "15", "1"}), Int(0));
  EXPECT_EQ(Run({"setbit", "b", "16", "1"}), kBitOffset);
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT.

TEST_P(StringFamilyTest, BitCount) {
  Run({"set", "s", "foobar"});
  EXPECT_EQ(Run({"bitcount", "s"}), Int(26));
  EXPECT_EQ(Run({"bitcount", "s", "0", "0"}), Int(4));
  EXPECT_EQ(Run({"bitcount", "s", "1", "1"}), Int(6));
  EXPECT_EQ(Run({"bitcount", "s", "1", "1", "byte"}), Int(6));
  EXPECT_EQ(Run({"bitcount", "s", "5", "30", "bit"}), Int(17));
  EXPECT_EQ(Run({"bitcount", "s", "5", "30", "BIT"}), Int(17));
  EXPECT_EQ(Run({"bitcount", "s", "0", "-1", "bit"}), Int(26));
  EXPECT_EQ(Run({"bitcount", "s", "-5", "-1", "bit"}), Int(2));
  EXPECT_EQ(Run({"bitcount", "s", "3", "5", "bit"}), Int(1));
  EXPECT_EQ(Run({"bitcount", "s", "6", "6", "bit"}), Int(1));
  EXPECT_EQ(Run({"bitcount", "s", "-1", "-5"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "s", "-1", "-5", "bit"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "s", "1000", "2000"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "s", "-1000", "-2000"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "s", "-1000", "1000"}), Int(26));
  EXPECT_EQ(Run({"bitcount", "s", "0", "9223372036854775807", "bit"}), Int(26));
  EXPECT_EQ(Run({"bitcount", "s", "-9223372036854775808", "9223372036854775807", "bit"}), Int(26));
  Run({"set", "n", "12"});
  EXPECT_EQ(Run({"bitcount", "n"}), Int(6));
  EXPECT_EQ(Run({"bitcount", "n", "0", "0"}), Int(3));
  Run({"set", "e", ""});
  EXPECT_EQ(Run({"bitcount", "e", "0", "-1"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "e", "0", "-1", "bit"}), Int(0));
  std::string big(1000, '\xff');
  Run({"set", "big", big});
  EXPECT_EQ(Run({"bitcount", "big"}), Int(8000));
  EXPECT_EQ(Run({"bitcount", "big", "3", "7996", "bit"}), Int(7994));
}

TEST_P(StringFamilyTest, BitCountErrorsInRedis70Order) {
  Run({"set", "s", "foobar"});
  EXPECT_EQ(Run({"bitcount", "s", "0"}), kSyntax);
  EXPECT_EQ(Run({"bitcount", "s", "0", "1", "2"}), kSyntax);
  EXPECT_EQ(Run({"bitcount", "s", "0", "1", "foo"}), kSyntax);
  EXPECT_EQ(Run({"bitcount", "s", "0", "1", "bit", "extra"}), kSyntax);
  EXPECT_EQ(Run({"bitcount", "s", "a", "1"}), kNotInt);
  EXPECT_EQ(Run({"bitcount", "s", "0", "a"}), kNotInt);
  EXPECT_EQ(Run({"bitcount", "s", "a", "1", "foo"}), kNotInt);
  // An empty negative range answers before the unit is checked.
  EXPECT_EQ(Run({"bitcount", "s", "-1", "-5", "foo"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "s", "-5", "-1", "foo"}), kSyntax);
  // A missing key answers 0 before any argument is checked.
  EXPECT_EQ(Run({"bitcount", "nokey"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "nokey", "0"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "nokey", "a", "b"}), Int(0));
  EXPECT_EQ(Run({"bitcount", "nokey", "0", "1", "foo"}), Int(0));
  PlantNonString("l");
  EXPECT_EQ(Run({"bitcount", "l"}), kWrongType);
  EXPECT_EQ(Run({"bitcount", "l", "0"}), kWrongType);
  EXPECT_EQ(Run({"bitcount", "l", "a", "b"}), kWrongType);
}

// ---------------------------------------------------------------------------------------------
// BITPOS.

TEST_P(StringFamilyTest, BitPos) {
  Run({"set", "z", "\xff\xf0"});
  Run({"append", "z", std::string(1, '\0')});
  EXPECT_EQ(Run({"bitpos", "z", "0"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "1"}), Int(0));
  EXPECT_EQ(Run({"bitpos", "z", "0", "1"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "1", "2"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "z", "0", "2", "-1"}), Int(16));
  EXPECT_EQ(Run({"bitpos", "z", "1", "2", "-1"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "z", "0", "0", "-1", "bit"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "0", "7", "15", "bit"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "1", "7", "15", "bit"}), Int(7));
  EXPECT_EQ(Run({"bitpos", "z", "1", "12", "15", "bit"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "z", "0", "12", "15", "bit"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "0", "0", "-1", "byte"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "1", "-1", "-1", "bit"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "z", "0", "-1", "-1", "bit"}), Int(23));
  EXPECT_EQ(Run({"bitpos", "z", "0", "8", "11", "bit"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "z", "0", "8", "12", "bit"}), Int(12));
  EXPECT_EQ(Run({"bitpos", "z", "1", "12", "100", "bit"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "z", "0", "2"}), Int(16));
  EXPECT_EQ(Run({"bitpos", "z", "0", "-1", "-1"}), Int(16));
  Run({"set", "f", "\xff\xff\xff"});
  EXPECT_EQ(Run({"bitpos", "f", "0"}), Int(24));  // past the end: zero padding
  EXPECT_EQ(Run({"bitpos", "f", "0", "0"}), Int(24));
  EXPECT_EQ(Run({"bitpos", "f", "0", "0", "-1"}), Int(-1));  // explicit end: no padding
  EXPECT_EQ(Run({"bitpos", "f", "0", "0", "-1", "bit"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "f", "1", "-1"}), Int(16));
  EXPECT_EQ(Run({"bitpos", "f", "0", "1", "0"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "f", "1", "-1", "-5"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "f", "0", "100"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "f", "0", "-100", "-200"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "f", "1", "5", "5", "bit"}), Int(5));
  EXPECT_EQ(Run({"bitpos", "f", "0", "0", "9223372036854775807", "bit"}), Int(-1));
  Run({"set", "zz", std::string(3, '\0')});
  EXPECT_EQ(Run({"bitpos", "zz", "1"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "zz", "0"}), Int(0));
  EXPECT_EQ(Run({"bitpos", "zz", "1", "0", "-1", "bit"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "zz", "0", "0", "9223372036854775807", "bit"}), Int(0));
  Run({"set", "e", ""});
  EXPECT_EQ(Run({"bitpos", "e", "0"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "e", "1"}), Int(-1));
  Run({"set", "n", "12"});
  EXPECT_EQ(Run({"bitpos", "n", "1"}), Int(2));
  EXPECT_EQ(Run({"bitpos", "n", "0", "0", "0"}), Int(0));
  // Long runs are skipped a word at a time.
  std::string lng(100, '\0');
  lng[77] = '\x10';
  Run({"set", "long", lng});
  EXPECT_EQ(Run({"bitpos", "long", "1"}), Int(77 * 8 + 3));
  EXPECT_EQ(Run({"bitpos", "long", "1", "78"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "long", "1", "10", "-1", "bit"}), Int(77 * 8 + 3));
  std::string ones(100, '\xff');
  ones[90] = '\xfe';
  Run({"set", "ones", ones});
  EXPECT_EQ(Run({"bitpos", "ones", "0"}), Int(90 * 8 + 7));
  EXPECT_EQ(Run({"bitpos", "ones", "0", "91"}), Int(800));
  EXPECT_EQ(Run({"bitpos", "ones", "0", "91", "99"}), Int(-1));
}

TEST_P(StringFamilyTest, BitPosErrorsInRedis70Order) {
  Run({"set", "z", "abc"});
  const std::string bit_err = Err("ERR The bit argument must be 1 or 0.");
  EXPECT_EQ(Run({"bitpos", "z", "2"}), bit_err);
  EXPECT_EQ(Run({"bitpos", "z", "-1"}), bit_err);
  EXPECT_EQ(Run({"bitpos", "z", "a"}), kNotInt);
  EXPECT_EQ(Run({"bitpos", "z", "0", "a"}), kNotInt);
  EXPECT_EQ(Run({"bitpos", "z", "0", "0", "a"}), kNotInt);
  EXPECT_EQ(Run({"bitpos", "z", "0", "0", "1", "foo"}), kSyntax);
  EXPECT_EQ(Run({"bitpos", "z", "0", "0", "1", "bit", "x"}), kSyntax);
  EXPECT_EQ(Run({"bitpos", "z", "0", "0", "a", "foo"}), kSyntax);  // unit before end
  EXPECT_EQ(Run({"bitpos", "z", "0", "a", "1", "foo"}), kNotInt);  // start before unit
  EXPECT_EQ(Run({"bitpos", "z", "1", "5", "bit"}), kNotInt);
  // The bit is checked first, then the key, then the range.
  EXPECT_EQ(Run({"bitpos", "nokey", "0"}), Int(0));
  EXPECT_EQ(Run({"bitpos", "nokey", "1"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "nokey", "1", "a"}), Int(-1));
  EXPECT_EQ(Run({"bitpos", "nokey", "0", "0", "1", "foo"}), Int(0));
  EXPECT_EQ(Run({"bitpos", "nokey", "2"}), bit_err);
  PlantNonString("l");
  EXPECT_EQ(Run({"bitpos", "l", "0"}), kWrongType);
  EXPECT_EQ(Run({"bitpos", "l", "2"}), bit_err);
  EXPECT_EQ(Run({"bitpos", "l", "0", "a"}), kWrongType);
}

// ---------------------------------------------------------------------------------------------
// BITOP.

TEST_P(StringFamilyTest, BitOp) {
  // Sources and destination on different shards when there are several.
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b"), d = KeyOn(2, "d"), n = KeyOn(3, "n");
  Run({"set", a, "\xff\x0f"});
  Run({"set", b, "\x0f"});
  EXPECT_EQ(Run({"bitop", "and", d, a, b}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk(std::string("\x0f\x00", 2)));
  EXPECT_EQ(Encoding(d), "raw");
  EXPECT_EQ(Run({"bitop", "OR", d, a, b}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk("\xff\x0f"));
  EXPECT_EQ(Run({"bitop", "xor", d, a, b}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk("\xf0\x0f"));
  EXPECT_EQ(Run({"bitop", "Not", d, a}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk(std::string("\x00\xf0", 2)));
  EXPECT_EQ(Run({"bitop", "and", d, a}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk("\xff\x0f"));
  // Missing keys are empty strings, padded with zeros.
  EXPECT_EQ(Run({"bitop", "and", d, a, "nokey"}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk(std::string("\x00\x00", 2)));
  EXPECT_EQ(Run({"bitop", "or", d, "nokey", a}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk("\xff\x0f"));
  // Integers are operated on as text.
  Run({"set", n, "12"});
  EXPECT_EQ(Run({"bitop", "or", d, n}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk("12"));
  EXPECT_EQ(Encoding(d), "raw");
  // The destination loses its TTL, may be the source, may be of another type.
  Run({"set", d, "x", "ex", "100"});
  EXPECT_EQ(Run({"bitop", "or", d, a}), Int(2));
  EXPECT_EQ(Pttl(d), -1);
  EXPECT_EQ(Run({"bitop", "not", d, d}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk(std::string("\x00\xf0", 2)));
  PlantNonString(d);
  EXPECT_EQ(Run({"bitop", "and", d, a}), Int(2));
  EXPECT_EQ(Run({"get", d}), Bulk("\xff\x0f"));
  // An empty result deletes the destination.
  EXPECT_EQ(Run({"bitop", "and", d, "nokey", "nokey2"}), Int(0));
  EXPECT_EQ(Peek(d), nullptr);
  Run({"set", d, "x"});
  EXPECT_EQ(Run({"bitop", "not", d, "nokey"}), Int(0));
  EXPECT_EQ(Peek(d), nullptr);
  // Many sources, longer strings.
  std::string s1(100, '\x5a'), s2(70, '\x0f'), s3(130, '\xf1');
  Run({"mset", a, s1, b, s2, n, s3});
  EXPECT_EQ(Run({"bitop", "xor", d, a, b, n}), Int(130));
  std::string want(130, '\0');
  for (size_t i = 0; i < 130; ++i) {
    want[i] = static_cast<char>((i < 100 ? 0x5a : 0) ^ (i < 70 ? 0x0f : 0) ^ 0xf1);
  }
  EXPECT_EQ(Run({"get", d}), Bulk(want));
  EXPECT_EQ(Run({"bitop", "and", d, a, b, n}), Int(130));
  want.assign(130, '\0');
  for (size_t i = 0; i < 70; ++i) want[i] = static_cast<char>(0x5a & 0x0f & 0xf1);
  EXPECT_EQ(Run({"get", d}), Bulk(want));
}

TEST_P(StringFamilyTest, BitOpErrors) {
  std::string a = KeyOn(0, "a"), d = KeyOn(1, "d"), l = KeyOn(2, "l");
  Run({"set", a, "\xff"});
  EXPECT_EQ(Run({"bitop", "not", d, a, a}),
            Err("ERR BITOP NOT must be called with a single source key."));
  EXPECT_EQ(Run({"bitop", "foo", d, a}), kSyntax);
  PlantNonString(l);
  EXPECT_EQ(Run({"bitop", "foo", d, l}), kSyntax);
  EXPECT_EQ(Run({"bitop", "NOT", d, l}), kWrongType);
  EXPECT_EQ(Run({"bitop", "and", d, a, l}), kWrongType);
  EXPECT_EQ(Peek(d), nullptr);
}

// ---------------------------------------------------------------------------------------------
// BITFIELD, BITFIELD_RO.

TEST_P(StringFamilyTest, Bitfield) {
  EXPECT_EQ(Run({"bitfield", "bf"}), "*0\r\n");
  EXPECT_EQ(Peek("bf"), nullptr);
  EXPECT_EQ(Run({"bitfield", "bf", "get", "u8", "0"}), Arr({Int(0)}));
  EXPECT_EQ(Peek("bf"), nullptr);
  EXPECT_EQ(Run({"bitfield", "bf", "set", "u8", "0", "255"}), Arr({Int(0)}));
  EXPECT_EQ(Run({"get", "bf"}), Bulk("\xff"));
  EXPECT_EQ(Encoding("bf"), "raw");
  EXPECT_EQ(Run({"bitfield", "bf", "get", "u8", "0", "get", "i8", "0", "get", "u4", "4", "get",
                 "i4", "4"}),
            Arr({Int(255), Int(-1), Int(15), Int(-1)}));
  EXPECT_EQ(Run({"bitfield", "bf", "incrby", "u8", "0", "1"}), Arr({Int(0)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "sat", "incrby", "u8", "0", "300"}),
            Arr({Int(255)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "fail", "incrby", "u8", "0", "1"}), Arr({kNil}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "wrap", "incrby", "i8", "0", "127"}),
            Arr({Int(126)}));
  EXPECT_EQ(Run({"bitfield", "bf", "set", "i8", "0", "-128", "incrby", "i8", "0", "-1"}),
            Arr({Int(126), Int(127)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "sat", "set", "i8", "0", "1000", "get", "i8", "0"}),
            Arr({Int(127), Int(127)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "fail", "set", "i8", "0", "1000", "get", "i8", "0"}),
            Arr({kNil, Int(127)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "sat", "set", "u8", "0", "-1", "get", "u8", "0"}),
            Arr({Int(127), Int(255)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "wrap", "set", "u8", "0", "-1", "get", "u8", "0"}),
            Arr({Int(255), Int(255)}));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "fail", "set", "u8", "0", "-1", "get", "u8", "0"}),
            Arr({kNil, Int(255)}));
  EXPECT_EQ(Run({"bitfield", "bf", "get", "i64", "0"}), Arr({Int(-72057594037927936)}));
  EXPECT_EQ(Run({"bitfield", "bf", "get", "u63", "0"}), Arr({Int(9187343239835811840)}));
  // "#n" offsets are multiplied by the width.
  EXPECT_EQ(Run({"bitfield", "bf", "get", "u8", "#1"}), Arr({Int(0)}));
  EXPECT_EQ(Run({"bitfield", "bf", "set", "u8", "#1", "5", "get", "u8", "8"}),
            Arr({Int(0), Int(5)}));
  EXPECT_EQ(Run({"bitfield", "bf", "get", "u8", "4294967295"}), Arr({Int(0)}));
  EXPECT_EQ(
      Run({"bitfield", "bf", "GET", "u8", "0", "Overflow", "Sat", "INCRBY", "u8", "0", "1000"}),
      Arr({Int(255), Int(255)}));
}

TEST_P(StringFamilyTest, BitfieldWideAndUnaligned) {
  EXPECT_EQ(Run({"bitfield", "bf2", "set", "i64", "0", "-1", "get", "i64", "0", "get", "u63", "1",
                 "incrby", "i64", "0", "-9223372036854775807"}),
            Arr({Int(0), Int(-1), Int(9223372036854775807), Int(INT64_MIN)}));
  EXPECT_EQ(Run({"bitfield", "bf2", "overflow", "sat", "incrby", "i64", "0", "-100", "incrby",
                 "i64", "0", "9223372036854775807"}),
            Arr({Int(INT64_MIN), Int(-1)}));
  EXPECT_EQ(Run({"bitfield", "bf2", "overflow", "wrap", "incrby", "i64", "0", "9223372036854775807",
                 "incrby", "i64", "0", "9223372036854775807"}),
            Arr({Int(9223372036854775806), Int(-3)}));
  EXPECT_EQ(Run({"bitfield", "bf3", "set", "u63", "0", "9223372036854775807", "overflow", "sat",
                 "incrby", "u63", "0", "1", "overflow", "wrap", "incrby", "u63", "0", "1"}),
            Arr({Int(0), Int(9223372036854775807), Int(0)}));
  EXPECT_EQ(Run({"bitfield", "bf4", "set", "i3", "5", "-1", "get", "u8", "0", "get", "i3", "5",
                 "set", "u2", "100", "5"}),
            Arr({Int(0), Int(7), Int(-1), Int(0)}));
  EXPECT_EQ(Run({"get", "bf4"}), Bulk(std::string("\x07\0\0\0\0\0\0\0\0\0\0\0\x04", 13)));
  EXPECT_EQ(Run({"bitfield", "bf5", "incrby", "i5", "100", "1", "get", "u4", "0"}),
            Arr({Int(1), Int(0)}));
  EXPECT_EQ(Run({"bitfield", "bf5", "overflow", "sat", "incrby", "i5", "100", "100", "incrby", "i5",
                 "100", "-100"}),
            Arr({Int(15), Int(-16)}));
  EXPECT_EQ(Run({"bitfield", "bf5", "overflow", "wrap", "incrby", "i5", "100", "100", "incrby",
                 "i5", "100", "-100"}),
            Arr({Int(-12), Int(-16)}));
  // "#n" times the width wraps as in Redis: 2^60 * 64 is offset 0.
  Run({"set", "bfx", "\x01\x02"});
  EXPECT_EQ(Run({"bitfield", "bfx", "get", "i64", "#1152921504606846976"}),
            Arr({Int(72620543991349248)}));
}

TEST_P(StringFamilyTest, BitfieldCreatesAndEncodes) {
  // A write creates the key even when it fails on overflow.
  EXPECT_EQ(Run({"bitfield", "nk", "overflow", "fail", "incrby", "u2", "0", "10"}), Arr({kNil}));
  EXPECT_EQ(Run({"get", "nk"}), Bulk(std::string(1, '\0')));
  // Only OVERFLOW: no operation, no key.
  EXPECT_EQ(Run({"bitfield", "bf7", "overflow", "fail"}), "*0\r\n");
  EXPECT_EQ(Peek("bf7"), nullptr);
  EXPECT_EQ(Run({"bitfield", "bf6", "set", "u8", "0", "1", "overflow", "fail"}), Arr({Int(0)}));
  // Reading an int does not change its encoding; a write makes it raw.
  Run({"set", "n", "12"});
  EXPECT_EQ(Run({"bitfield", "n", "get", "u8", "0"}), Arr({Int(49)}));
  EXPECT_EQ(Encoding("n"), "int");
  EXPECT_EQ(Run({"bitfield", "n", "set", "u8", "0", "49"}), Arr({Int(49)}));
  EXPECT_EQ(Run({"get", "n"}), Bulk("12"));
  EXPECT_EQ(Encoding("n"), "raw");
  // BITFIELD keeps the TTL.
  Run({"set", "e", "a", "ex", "100"});
  Run({"bitfield", "e", "set", "u8", "8", "1"});
  EXPECT_EQ(Pttl("e"), 100000);
  EXPECT_EQ(Run({"get", "e"}), Bulk("a\x01"));
}

TEST_P(StringFamilyTest, BitfieldErrors) {
  Run({"set", "bf", "\xff"});
  for (const char* type : {"u64", "i65", "x8", "u0", "U8", "u", "", "u+8", "u08", "i-8"}) {
    EXPECT_EQ(Run({"bitfield", "bf", "get", type, "0"}), kBitfieldType) << type;
  }
  for (const char* offset : {"-1", "#-1", "#x", "#", "4294967296", "#536870912", "+1", "01"}) {
    EXPECT_EQ(Run({"bitfield", "bf", "get", "u8", offset}), kBitOffset) << offset;
  }
  EXPECT_EQ(Run({"bitfield", "bf", "overflow", "foo", "get", "u8", "0"}),
            Err("ERR Invalid OVERFLOW type specified"));
  EXPECT_EQ(Run({"bitfield", "bf", "overflow"}), kSyntax);
  EXPECT_EQ(Run({"bitfield", "bf", "get", "u8"}), kSyntax);
  EXPECT_EQ(Run({"bitfield", "bf", "set", "u8", "0"}), kSyntax);
  EXPECT_EQ(Run({"bitfield", "bf", "foo"}), kSyntax);
  EXPECT_EQ(Run({"bitfield", "bf", "set", "u8", "0", "abc"}), kNotInt);
  EXPECT_EQ(Run({"bitfield", "bf", "incrby", "u8", "0", "9223372036854775808"}), kNotInt);
  // Nothing ran: errors are found before any operation.
  EXPECT_EQ(Run({"bitfield", "bf", "set", "u8", "0", "1", "get", "x8", "0"}), kBitfieldType);
  EXPECT_EQ(Run({"get", "bf"}), Bulk("\xff"));
  PlantNonString("l");
  EXPECT_EQ(Run({"bitfield", "l", "get", "u8", "0"}), kWrongType);
  EXPECT_EQ(Run({"bitfield", "l", "set", "u8", "0", "1"}), kWrongType);
  EXPECT_EQ(Run({"bitfield", "l", "get", "x8", "0"}), kBitfieldType);  // parsing comes first
}

TEST_P(StringFamilyTest, BitfieldRo) {
  Run({"set", "bf", "\xff"});
  EXPECT_EQ(Run({"bitfield_ro", "bf", "get", "u8", "0"}), Arr({Int(255)}));
  const std::string ro_err = Err("ERR BITFIELD_RO only supports the GET subcommand");
  EXPECT_EQ(Run({"bitfield_ro", "bf", "set", "u8", "0", "1"}), ro_err);
  EXPECT_EQ(Run({"bitfield_ro", "bf", "incrby", "u8", "0", "1"}), ro_err);
  EXPECT_EQ(Run({"bitfield_ro", "nokey", "set", "u8", "0", "1"}), ro_err);
  EXPECT_EQ(Peek("nokey"), nullptr);
  EXPECT_EQ(Run({"bitfield_ro", "bf", "set", "u8", "0", "abc"}), kNotInt);
  EXPECT_EQ(Run({"bitfield_ro", "bf", "overflow", "sat"}), "*0\r\n");
  EXPECT_EQ(Run({"bitfield_ro", "bf", "overflow", "sat", "get", "u8", "0"}), Arr({Int(255)}));
  EXPECT_EQ(Run({"bitfield_ro", "bf"}), "*0\r\n");
  EXPECT_EQ(Run({"bitfield_ro", "nokey", "get", "u8", "0", "get", "i64", "100"}),
            Arr({Int(0), Int(0)}));
  PlantNonString("l");
  EXPECT_EQ(Run({"bitfield_ro", "l", "get", "u8", "0"}), kWrongType);
}

TEST_P(StringFamilyTest, BitfieldResp3Null) {
  CommandHarness h3(GetParam(), RespVersion::kResp3);
  EXPECT_EQ(h3.Run({"bitfield", "k", "overflow", "fail", "incrby", "u2", "0", "10"}),
            "*1\r\n_\r\n");
}

}  // namespace
}  // namespace shardis
