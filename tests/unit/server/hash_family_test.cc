// Tests for the hash command family (server/commands/hash_family.cc): replies, error texts and
// encodings as redis-server 7.0.15 gives them (expected replies taken from redis-server), run
// through the command table with the in-process CommandHarness, with 1 shard and with 4 shards.
// Random replies (HRANDFIELD) and cursor walks (HSCAN) are checked by their rules.
#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "storage/hash_value.h"
#include "storage/value.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

const std::string kOk = "+OK\r\n";
const std::string kNil = "$-1\r\n";
const std::string kEmptyArray = "*0\r\n";
const std::string kWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const std::string kSyntax = "-ERR syntax error\r\n";
const std::string kNotInt = "-ERR value is not an integer or out of range\r\n";
const std::string kNotFloat = "-ERR value is not a valid float\r\n";

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

// A parsed RESP2/RESP3 reply: bulk strings, integers, errors, nulls and aggregates.
struct Resp {
  char type = 0;  // '$', ':', '-', '+', '_' (any null), '*', '%', '~'
  std::string str;
  int64_t integer = 0;
  std::vector<Resp> elems;  // maps: k1, v1, k2, v2...
};

Resp Parse(const std::string& s, size_t* pos) {
  Resp r;
  char t = s[*pos];
  size_t eol = s.find("\r\n", *pos);
  std::string line = s.substr(*pos + 1, eol - *pos - 1);
  *pos = eol + 2;
  r.type = t;
  switch (t) {
    case '$': {
      int64_t n = std::stoll(line);
      if (n < 0) {
        r.type = '_';
        break;
      }
      r.str = s.substr(*pos, n);
      *pos += n + 2;
      break;
    }
    case ':':
      r.integer = std::stoll(line);
      break;
    case '*':
    case '%':
    case '~': {
      int64_t n = std::stoll(line);
      if (n < 0) {
        r.type = '_';
        break;
      }
      if (t == '%') n *= 2;
      for (int64_t i = 0; i < n; ++i) r.elems.push_back(Parse(s, pos));
      break;
    }
    default:
      r.str = line;
  }
  return r;
}

Resp Parse(const std::string& s) {
  size_t pos = 0;
  Resp r = Parse(s, &pos);
  EXPECT_EQ(pos, s.size()) << "trailing bytes in " << s;
  return r;
}

std::vector<std::string> Strings(const Resp& r) {
  std::vector<std::string> out;
  for (const Resp& e : r.elems) out.push_back(e.str);
  return out;
}

class HashFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  HashFamilyTest() : h_(GetParam()) {}

  std::string Run(std::initializer_list<std::string> args) {
    return h_.Run(std::vector<std::string>(args));
  }
  std::string Run(std::vector<std::string> args) { return h_.Run(std::move(args)); }

  Entry* Peek(const std::string& key) {
    return h_.shard(ShardOfKey(key, GetParam())).db(0).keyspace().Find(key);
  }
  std::string Encoding(const std::string& key) {
    Entry* e = Peek(key);
    return e == nullptr ? "(none)" : EncodingName(*e);
  }
  void PutString(const std::string& key, const std::string& value) {
    h_.shard(ShardOfKey(key, GetParam())).db(0).Set(key, Value::FromString(value));
  }
  // HSET key f0 v0 ... f<n-1> v<n-1>.
  void Fill(const std::string& key, int n, const std::string& prefix = "f") {
    std::vector<std::string> argv = {"HSET", key};
    for (int i = 0; i < n; ++i) {
      argv.push_back(prefix + std::to_string(i));
      argv.push_back("v" + std::to_string(i));
    }
    ASSERT_EQ(Run(argv), Int(n));
  }
  // The field -> value contents of a hash, read with HGETALL.
  std::map<std::string, std::string> Contents(const std::string& key) {
    Resp r = Parse(Run({"HGETALL", key}));
    std::map<std::string, std::string> out;
    for (size_t i = 0; i + 1 < r.elems.size(); i += 2) out[r.elems[i].str] = r.elems[i + 1].str;
    return out;
  }

  // Every (field, value) of a full HSCAN walk, and the number of calls it took.
  std::vector<std::pair<std::string, std::string>> ScanAll(const std::string& key,
                                                           std::vector<std::string> options,
                                                           int* calls) {
    std::vector<std::pair<std::string, std::string>> all;
    std::string cursor = "0";
    *calls = 0;
    do {
      std::vector<std::string> argv = {"HSCAN", key, cursor};
      argv.insert(argv.end(), options.begin(), options.end());
      Resp r = Parse(h_.Run(argv));
      EXPECT_EQ(r.type, '*');
      if (r.type != '*' || r.elems.size() != 2) break;
      cursor = r.elems[0].str;
      for (size_t i = 0; i + 1 < r.elems[1].elems.size(); i += 2) {
        all.emplace_back(r.elems[1].elems[i].str, r.elems[1].elems[i + 1].str);
      }
      ++*calls;
    } while (cursor != "0" && *calls < 100000);
    return all;
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, HashFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "shards";
                         });

TEST_P(HashFamilyTest, DefaultThresholdsAreRedis70s) {
  EXPECT_EQ(h_.config().hash_max_listpack_entries, 512);
  EXPECT_EQ(h_.config().hash_max_listpack_value, 64);
}

TEST_P(HashFamilyTest, SetGetBasics) {
  EXPECT_EQ(Run({"HSET", "h", "a", "1", "b", "2"}), Int(2));
  EXPECT_EQ(Run({"HSET", "h", "a", "x", "c", "3"}), Int(1));
  EXPECT_EQ(Run({"HGET", "h", "a"}), Bulk("x"));
  EXPECT_EQ(Run({"HGET", "h", "zz"}), kNil);
  EXPECT_EQ(Run({"HGET", "nokey", "a"}), kNil);
  EXPECT_EQ(Run({"HMGET", "h", "a", "zz", "c"}), Arr({Bulk("x"), kNil, Bulk("3")}));
  EXPECT_EQ(Run({"HMGET", "nokey", "a", "b"}), Arr({kNil, kNil}));
  EXPECT_EQ(Run({"HLEN", "h"}), Int(3));
  EXPECT_EQ(Run({"HLEN", "nokey"}), Int(0));
  EXPECT_EQ(Run({"HEXISTS", "h", "b"}), Int(1));
  EXPECT_EQ(Run({"HEXISTS", "h", "zz"}), Int(0));
  EXPECT_EQ(Run({"HEXISTS", "nokey", "b"}), Int(0));
  EXPECT_EQ(Run({"HSTRLEN", "h", "c"}), Int(1));
  EXPECT_EQ(Run({"HSTRLEN", "h", "zz"}), Int(0));
  EXPECT_EQ(Run({"HSTRLEN", "nokey", "zz"}), Int(0));
  EXPECT_EQ(Run({"HMSET", "h", "d", "4", "e", "5"}), kOk);
  EXPECT_EQ(Run({"HLEN", "h"}), Int(5));
  EXPECT_EQ(Run({"TYPE", "h"}), "+hash\r\n");
  EXPECT_EQ(Encoding("h"), "listpack");
  EXPECT_EQ(Run({"HSET", "h", "", ""}), Int(1));
  EXPECT_EQ(Run({"HGET", "h", ""}), Bulk(""));
}

TEST_P(HashFamilyTest, ArityErrors) {
  EXPECT_EQ(Run({"HSET", "h", "a"}), Err("ERR wrong number of arguments for 'hset' command"));
  EXPECT_EQ(Run({"HSET", "h", "a", "1", "b"}),
            Err("ERR wrong number of arguments for 'hset' command"));
  EXPECT_EQ(Run({"hmset", "h", "a", "1", "b"}),
            Err("ERR wrong number of arguments for 'hmset' command"));
  EXPECT_EQ(Run({"HMSET", "h", "a"}), Err("ERR wrong number of arguments for 'hmset' command"));
  EXPECT_EQ(Run({"HSETNX", "h", "a"}), Err("ERR wrong number of arguments for 'hsetnx' command"));
  EXPECT_EQ(Run({"HGET", "h"}), Err("ERR wrong number of arguments for 'hget' command"));
  EXPECT_EQ(Run({"HDEL", "h"}), Err("ERR wrong number of arguments for 'hdel' command"));
  EXPECT_EQ(Run({"HRANDFIELD"}), Err("ERR wrong number of arguments for 'hrandfield' command"));
  EXPECT_EQ(Run({"HSCAN", "h"}), Err("ERR wrong number of arguments for 'hscan' command"));
  EXPECT_EQ(Run({"EXISTS", "h"}), Int(0));  // nothing was created
}

TEST_P(HashFamilyTest, WrongTypeEverywhere) {
  PutString("s", "x");
  for (std::vector<std::string> argv : std::vector<std::vector<std::string>>{
           {"HSET", "s", "a", "1"},
           {"HMSET", "s", "a", "1"},
           {"HSETNX", "s", "a", "1"},
           {"HGET", "s", "a"},
           {"HMGET", "s", "a"},
           {"HDEL", "s", "a"},
           {"HLEN", "s"},
           {"HSTRLEN", "s", "a"},
           {"HEXISTS", "s", "a"},
           {"HKEYS", "s"},
           {"HVALS", "s"},
           {"HGETALL", "s"},
           {"HINCRBY", "s", "a", "1"},
           {"HINCRBYFLOAT", "s", "a", "1"},
           {"HRANDFIELD", "s"},
           {"HRANDFIELD", "s", "2"},
           {"HSCAN", "s", "0"},
           {"HSCAN", "s", "0", "FOO"},
       }) {
    EXPECT_EQ(Run(argv), kWrongType) << argv[0];
  }
  EXPECT_EQ(Run({"GET", "s"}), Bulk("x"));
  // Argument errors come first where Redis checks them first.
  EXPECT_EQ(Run({"HINCRBY", "s", "a", "x"}), kNotInt);
  EXPECT_EQ(Run({"HINCRBYFLOAT", "s", "a", "x"}), kNotFloat);
  EXPECT_EQ(Run({"HRANDFIELD", "s", "1", "WITHVALUESX"}), kSyntax);
  EXPECT_EQ(Run({"HSCAN", "s", "x"}), Err("ERR invalid cursor"));
}

TEST_P(HashFamilyTest, SetNx) {
  EXPECT_EQ(Run({"HSETNX", "h", "a", "1"}), Int(1));
  EXPECT_EQ(Run({"HSETNX", "h", "a", "2"}), Int(0));
  EXPECT_EQ(Run({"HGET", "h", "a"}), Bulk("1"));
}

TEST_P(HashFamilyTest, DelRemovesEmptyHash) {
  EXPECT_EQ(Run({"HDEL", "nokey", "a"}), Int(0));
  Fill("h", 3);
  EXPECT_EQ(Run({"HDEL", "h", "f0", "f0", "zz"}), Int(1));
  EXPECT_EQ(Run({"HDEL", "h", "f1", "f2", "f1"}), Int(2));
  EXPECT_EQ(Run({"EXISTS", "h"}), Int(0));
  EXPECT_EQ(Peek("h"), nullptr);
  // A hashtable-encoded hash goes too.
  Fill("big", 600);
  EXPECT_EQ(Encoding("big"), "hashtable");
  std::vector<std::string> argv = {"HDEL", "big"};
  for (int i = 0; i < 600; ++i) argv.push_back("f" + std::to_string(i));
  EXPECT_EQ(Run(argv), Int(600));
  EXPECT_EQ(Run({"EXISTS", "big"}), Int(0));
}

TEST_P(HashFamilyTest, GetAllKeysValsInListpackOrder) {
  EXPECT_EQ(Run({"HSET", "h", "b", "1", "a", "2", "c", "3"}), Int(3));
  EXPECT_EQ(Run({"HSET", "h", "a", "two"}), Int(0));
  EXPECT_EQ(Run({"HGETALL", "h"}),
            Arr({Bulk("b"), Bulk("1"), Bulk("a"), Bulk("two"), Bulk("c"), Bulk("3")}));
  EXPECT_EQ(Run({"HKEYS", "h"}), Arr({Bulk("b"), Bulk("a"), Bulk("c")}));
  EXPECT_EQ(Run({"HVALS", "h"}), Arr({Bulk("1"), Bulk("two"), Bulk("3")}));
  EXPECT_EQ(Run({"HGETALL", "nokey"}), kEmptyArray);
  EXPECT_EQ(Run({"HKEYS", "nokey"}), kEmptyArray);
  EXPECT_EQ(Run({"HVALS", "nokey"}), kEmptyArray);
}

TEST_P(HashFamilyTest, Resp3Shapes) {
  h_.client().resp = RespVersion::kResp3;
  Run({"HSET", "h", "a", "1", "b", "2"});
  EXPECT_EQ(Run({"HGETALL", "h"}), "%2\r\n" + Bulk("a") + Bulk("1") + Bulk("b") + Bulk("2"));
  EXPECT_EQ(Run({"HGETALL", "nokey"}), "%0\r\n");
  EXPECT_EQ(Run({"HKEYS", "nokey"}), kEmptyArray);
  EXPECT_EQ(Run({"HGET", "h", "zz"}), "_\r\n");
  EXPECT_EQ(Run({"HMGET", "nokey", "a"}), "*1\r\n_\r\n");
  EXPECT_EQ(Run({"HRANDFIELD", "nokey"}), "_\r\n");
  EXPECT_EQ(Run({"HRANDFIELD", "nokey", "3", "WITHVALUES"}), kEmptyArray);
  EXPECT_EQ(Run({"HRANDFIELD", "h", "5", "WITHVALUES"}),
            "*2\r\n*2\r\n" + Bulk("a") + Bulk("1") + "*2\r\n" + Bulk("b") + Bulk("2"));
  Resp r = Parse(Run({"HRANDFIELD", "h", "-3", "WITHVALUES"}));
  ASSERT_EQ(r.elems.size(), 3u);
  for (const Resp& pair : r.elems) {
    ASSERT_EQ(pair.type, '*');
    ASSERT_EQ(pair.elems.size(), 2u);
    EXPECT_EQ(pair.elems[1].str, pair.elems[0].str == "a" ? "1" : "2");
  }
  EXPECT_EQ(Run({"HSCAN", "h", "0"}),
            "*2\r\n" + Bulk("0") + Arr({Bulk("a"), Bulk("1"), Bulk("b"), Bulk("2")}));
}

TEST_P(HashFamilyTest, IncrBy) {
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "abc"}), kNotInt);
  EXPECT_EQ(Run({"EXISTS", "h"}), Int(0));
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "1"}), Int(1));
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "9223372036854775806"}), Int(INT64_MAX));
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "1"}), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "-9223372036854775807"}), Int(0));
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "-9223372036854775808"}), Int(INT64_MIN));
  EXPECT_EQ(Run({"HINCRBY", "h", "f", "-1"}), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"HSET", "h", "g", "x", "sp", " 5", "e", "", "z", "007"}), Int(4));
  for (const char* field : {"g", "sp", "e", "z"}) {
    EXPECT_EQ(Run({"HINCRBY", "h", field, "1"}), Err("ERR hash value is not an integer")) << field;
  }
  EXPECT_EQ(Run({"HGET", "h", "f"}), Bulk("-9223372036854775808"));
}

TEST_P(HashFamilyTest, IncrByFloat) {
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "abc"}), kNotFloat);
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "inf"}), Err("ERR value is NaN or Infinity"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "nan"}), kNotFloat);
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", " 1"}), kNotFloat);
  EXPECT_EQ(Run({"EXISTS", "h"}), Int(0));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "10.5"}), Bulk("10.5"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "0.1"}), Bulk("10.6"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "-5.6"}), Bulk("5"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "f", "1e-5"}), Bulk("5.00001"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "g", "3.0e3"}), Bulk("3000"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "g", "0x10"}), Bulk("3016"));
  EXPECT_EQ(Run({"HSET", "h", "i", "7", "x", "abc", "big", "1e308"}), Int(3));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "i", "1.5"}), Bulk("8.5"));
  EXPECT_EQ(Run({"HINCRBYFLOAT", "h", "x", "1"}), Err("ERR hash value is not a float"));
  // Long doubles go past 1e308 without overflowing.
  std::string r = Run({"HINCRBYFLOAT", "h", "big", "1e308"});
  EXPECT_EQ(r.substr(0, 8), "$309\r\n19");
  EXPECT_EQ(Run({"HINCRBY", "h", "i", "1"}), Err("ERR hash value is not an integer"));
}

TEST_P(HashFamilyTest, EncodingFollowsEntryThreshold) {
  ASSERT_TRUE(h_.config().Set("hash-max-listpack-entries", "2").ok());
  EXPECT_EQ(Run({"HSET", "h", "a", "1", "b", "2"}), Int(2));
  EXPECT_EQ(Encoding("h"), "listpack");
  EXPECT_EQ(Run({"HSET", "h", "a", "3"}), Int(0));
  EXPECT_EQ(Encoding("h"), "listpack");
  EXPECT_EQ(Run({"HSET", "h", "c", "3"}), Int(1));
  EXPECT_EQ(Encoding("h"), "hashtable");
  EXPECT_EQ(Run({"HDEL", "h", "c", "b"}), Int(2));
  EXPECT_EQ(Encoding("h"), "hashtable");  // never back
  EXPECT_EQ(Run({"OBJECT", "ENCODING", "h"}), Bulk("hashtable"));
  EXPECT_EQ(Run({"HINCRBY", "h2", "a", "1"}), Int(1));
  EXPECT_EQ(Run({"HINCRBY", "h2", "b", "1"}), Int(1));
  EXPECT_EQ(Run({"HINCRBY", "h2", "c", "1"}), Int(1));
  EXPECT_EQ(Encoding("h2"), "hashtable");
  ASSERT_TRUE(h_.config().Set("hash-max-listpack-entries", "0").ok());
  EXPECT_EQ(Run({"HSET", "h3", "a", "1"}), Int(1));
  EXPECT_EQ(Encoding("h3"), "hashtable");
  ASSERT_TRUE(h_.config().Set("hash-max-ziplist-entries", "1").ok());  // the old name
  EXPECT_EQ(Run({"HSET", "h4", "a", "1", "a", "2"}), Int(1));
  EXPECT_EQ(Encoding("h4"), "listpack");
  // A lowered limit converts a listpack on its next write, even an update.
  ASSERT_TRUE(h_.config().Set("hash-max-listpack-entries", "8").ok());
  EXPECT_EQ(Run({"HSET", "h5", "a", "1", "b", "2"}), Int(2));
  EXPECT_EQ(Run({"HGET", "h5", "a"}), Bulk("1"));
  ASSERT_TRUE(h_.config().Set("hash-max-listpack-entries", "1").ok());
  EXPECT_EQ(Encoding("h5"), "listpack");
  EXPECT_EQ(Run({"HINCRBY", "h5", "a", "1"}), Int(2));
  EXPECT_EQ(Encoding("h5"), "hashtable");
}

TEST_P(HashFamilyTest, EncodingFollowsValueThreshold) {
  ASSERT_TRUE(h_.config().Set("hash-max-listpack-value", "5").ok());
  EXPECT_EQ(Run({"HSET", "h", "a", "12345"}), Int(1));
  EXPECT_EQ(Encoding("h"), "listpack");
  EXPECT_EQ(Run({"HSET", "h", "b", "123456"}), Int(1));
  EXPECT_EQ(Encoding("h"), "hashtable");
  // Every command that writes converts on a long field or value, as Redis 7.0 does.
  EXPECT_EQ(Run({"HINCRBY", "i", "abcdefgh", "1"}), Int(1));
  EXPECT_EQ(Encoding("i"), "hashtable");
  EXPECT_EQ(Run({"HINCRBYFLOAT", "j", "f", "1234.5"}), Bulk("1234.5"));
  EXPECT_EQ(Encoding("j"), "hashtable");
  EXPECT_EQ(Run({"HSETNX", "k", "a", "123456"}), Int(1));
  EXPECT_EQ(Encoding("k"), "hashtable");
  EXPECT_EQ(Run({"HSET", "l", "a", "1"}), Int(1));
  EXPECT_EQ(Run({"HSETNX", "l", "a", "1234567"}), Int(0));  // not written: no conversion
  EXPECT_EQ(Encoding("l"), "listpack");
  ASSERT_TRUE(h_.config().Set("hash-max-listpack-value", "0").ok());
  EXPECT_EQ(Run({"HSET", "m", "", ""}), Int(1));
  EXPECT_EQ(Encoding("m"), "listpack");
  EXPECT_EQ(Run({"HSET", "n", "a", ""}), Int(1));
  EXPECT_EQ(Encoding("n"), "hashtable");
}

TEST_P(HashFamilyTest, RandFieldSingle) {
  EXPECT_EQ(Run({"HRANDFIELD", "nokey"}), kNil);
  Fill("h", 5);
  std::set<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    Resp r = Parse(Run({"HRANDFIELD", "h"}));
    ASSERT_EQ(r.type, '$');
    seen.insert(r.str);
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST_P(HashFamilyTest, RandFieldErrors) {
  Fill("h", 3);
  EXPECT_EQ(Run({"HRANDFIELD", "h", "abc"}), kNotInt);
  EXPECT_EQ(Run({"HRANDFIELD", "nokey", "abc"}), kNotInt);
  EXPECT_EQ(Run({"HRANDFIELD", "h", "-9223372036854775808"}),
            Err("ERR value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807"));
  EXPECT_EQ(Run({"HRANDFIELD", "h", "1", "WITHVALUE"}), kSyntax);
  EXPECT_EQ(Run({"HRANDFIELD", "h", "1", "withvalues", "x"}), kSyntax);
  EXPECT_EQ(Run({"HRANDFIELD", "nokey", "1", "x"}), kSyntax);
  EXPECT_EQ(Run({"HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"}),
            Err("ERR value is out of range"));
  EXPECT_EQ(Run({"HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"}),
            Err("ERR value is out of range"));
  EXPECT_EQ(Run({"HRANDFIELD", "h", "-9223372036854775807"}), Err("ERR value is out of range"));
  EXPECT_EQ(Run({"HRANDFIELD", "h", "0"}), kEmptyArray);
  EXPECT_EQ(Run({"HRANDFIELD", "h", "0", "WITHVALUES"}), kEmptyArray);
  EXPECT_EQ(Run({"HRANDFIELD", "nokey", "5"}), kEmptyArray);
  EXPECT_EQ(Run({"HRANDFIELD", "nokey", "-5", "WITHVALUES"}), kEmptyArray);
}

// Checks an HRANDFIELD reply (RESP2) by the count rules.
void CheckRandReply(const Resp& r, const std::map<std::string, std::string>& contents,
                    int64_t count, bool with_values) {
  ASSERT_EQ(r.type, '*');
  size_t per = with_values ? 2 : 1;
  ASSERT_EQ(r.elems.size() % per, 0u);
  size_t n = r.elems.size() / per;
  if (count >= 0) {
    EXPECT_EQ(n, std::min<size_t>(count, contents.size()));
  } else {
    EXPECT_EQ(n, static_cast<size_t>(-count));
  }
  std::set<std::string> distinct;
  for (size_t i = 0; i < r.elems.size(); i += per) {
    auto it = contents.find(r.elems[i].str);
    ASSERT_NE(it, contents.end()) << r.elems[i].str;
    if (with_values) {
      EXPECT_EQ(r.elems[i + 1].str, it->second);
    }
    distinct.insert(r.elems[i].str);
  }
  if (count >= 0) {
    EXPECT_EQ(distinct.size(), n) << "positive counts give distinct fields";
  }
}

TEST_P(HashFamilyTest, RandFieldCountRules) {
  for (int size : {3, 40, 700}) {  // listpack, listpack, hashtable
    std::string key = "h" + std::to_string(size);
    Fill(key, size);
    std::map<std::string, std::string> contents = Contents(key);
    ASSERT_EQ(contents.size(), static_cast<size_t>(size));
    for (int64_t count :
         {1, 2, 3, 5, 10, 39, 40, 41, 100, 233, 699, 700, 5000, -1, -5, -50, -1000}) {
      for (bool wv : {false, true}) {
        std::vector<std::string> argv = {"HRANDFIELD", key, std::to_string(count)};
        if (wv) argv.push_back("WITHVALUES");
        CheckRandReply(Parse(Run(argv)), contents, count, wv);
      }
    }
  }
  // count >= size returns the whole hash (in listpack order when listpack).
  EXPECT_EQ(Run({"HRANDFIELD", "h3", "3"}), Arr({Bulk("f0"), Bulk("f1"), Bulk("f2")}));
  EXPECT_EQ(Run({"HRANDFIELD", "h3", "4", "withvalues"}),
            Arr({Bulk("f0"), Bulk("v0"), Bulk("f1"), Bulk("v1"), Bulk("f2"), Bulk("v2")}));
}

TEST_P(HashFamilyTest, RandFieldIsSpreadOut) {
  Fill("h", 700);
  std::set<std::string> seen;
  for (int i = 0; i < 30; ++i) {
    for (const std::string& f : Strings(Parse(Run({"HRANDFIELD", "h", "-100"})))) seen.insert(f);
  }
  EXPECT_GT(seen.size(), 600u);
}

TEST_P(HashFamilyTest, ScanListpackAtOnce) {
  EXPECT_EQ(Run({"HSCAN", "nokey", "0"}), "*2\r\n" + Bulk("0") + kEmptyArray);
  EXPECT_EQ(Run({"HSCAN", "nokey", "0", "FOO"}), "*2\r\n" + Bulk("0") + kEmptyArray);
  Run({"HSET", "h", "a", "1", "b", "2", "ab", "3"});
  EXPECT_EQ(Run({"HSCAN", "h", "0"}),
            "*2\r\n" + Bulk("0") +
                Arr({Bulk("a"), Bulk("1"), Bulk("b"), Bulk("2"), Bulk("ab"), Bulk("3")}));
  // Any cursor: everything, and cursor 0.
  EXPECT_EQ(Run({"HSCAN", "h", "12345", "COUNT", "1", "MATCH", "a*"}),
            "*2\r\n" + Bulk("0") + Arr({Bulk("a"), Bulk("1"), Bulk("ab"), Bulk("3")}));
  EXPECT_EQ(Run({"HSCAN", "h", "-1", "MATCH", "b"}),
            "*2\r\n" + Bulk("0") + Arr({Bulk("b"), Bulk("2")}));
  EXPECT_EQ(Run({"HSCAN", "h", "18446744073709551615"}).substr(0, 9), "*2\r\n$1\r\n0");
}

TEST_P(HashFamilyTest, ScanErrors) {
  Run({"HSET", "h", "a", "1"});
  EXPECT_EQ(Run({"HSCAN", "h", "x"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"HSCAN", "h", " 1"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"HSCAN", "h", "18446744073709551616"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"HSCAN", "h", "0", "COUNT", "0"}), kSyntax);
  EXPECT_EQ(Run({"HSCAN", "h", "0", "COUNT", "-1"}), kSyntax);
  EXPECT_EQ(Run({"HSCAN", "h", "0", "COUNT", "abc"}), kNotInt);
  EXPECT_EQ(Run({"HSCAN", "h", "0", "TYPE", "string"}), kSyntax);
  EXPECT_EQ(Run({"HSCAN", "h", "0", "MATCH"}), kSyntax);
  EXPECT_EQ(Run({"HSCAN", "h", "+0"}).substr(0, 9), "*2\r\n$1\r\n0");
}

TEST_P(HashFamilyTest, ScanHashtableWalksEverything) {
  Fill("h", 1000);
  ASSERT_EQ(Encoding("h"), "hashtable");
  int calls = 0;
  auto all = ScanAll("h", {}, &calls);
  std::map<std::string, std::string> seen(all.begin(), all.end());
  EXPECT_EQ(seen, Contents("h"));
  EXPECT_GT(calls, 50);  // about COUNT (10) fields a call
  all = ScanAll("h", {"COUNT", "400", "MATCH", "f1*"}, &calls);
  std::set<std::string> fields;
  for (const auto& [f, v] : all) {
    EXPECT_EQ(f.substr(0, 2), "f1");
    fields.insert(f);
  }
  EXPECT_EQ(fields.size(), 111u);  // f1, f10..f19, f100..f199
  EXPECT_LT(calls, 20);
}

TEST_P(HashFamilyTest, CopyRenameExpire) {
  Fill("h", 3);
  EXPECT_EQ(Run({"COPY", "h", "{h}copy"}), Int(1));
  EXPECT_EQ(Run({"HSET", "{h}copy", "f0", "changed"}), Int(0));
  EXPECT_EQ(Run({"HGET", "h", "f0"}), Bulk("v0"));
  EXPECT_EQ(Run({"HGET", "{h}copy", "f0"}), Bulk("changed"));
  EXPECT_EQ(Run({"EXPIRE", "h", "100"}), Int(1));
  EXPECT_EQ(Run({"HSET", "h", "x", "1"}), Int(1));
  EXPECT_EQ(Run({"TTL", "h"}), Int(100));  // writes keep the TTL
  h_.AdvanceTime(100'001);
  EXPECT_EQ(Run({"HLEN", "h"}), Int(0));
  EXPECT_EQ(Run({"HSET", "h", "y", "1"}), Int(1));
  EXPECT_EQ(Run({"TTL", "h"}), Int(-1));
  EXPECT_EQ(Run({"HLEN", "h"}), Int(1));
}

}  // namespace
}  // namespace shardis
