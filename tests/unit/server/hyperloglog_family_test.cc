// Tests for the HyperLogLog command family (server/commands/hyperloglog_family.cc): PFADD, PFCOUNT
// (cached cardinality, union over keys on several shards), PFMERGE (same-shard and two-phase
// cross-shard), PFDEBUG, and their errors, with the replies and bytes redis-server 7.0.15 gives,
// run through the command table with 1 shard and with 4 shards.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "storage/hyperloglog.h"
#include "storage/value.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

const std::string kOk = "+OK\r\n";
const std::string kWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const std::string kInvalidHll = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
const std::string kCorrupt = "-INVALIDOBJ Corrupted HLL object detected\r\n";

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& msg) { return "-" + msg + "\r\n"; }

std::string Hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

class HyperLogLogFamilyTest : public ::testing::TestWithParam<int> {
 protected:
  HyperLogLogFamilyTest() : h_(GetParam()) {}

  std::string Run(std::initializer_list<std::string> args) {
    return h_.Run(std::vector<std::string>(args));
  }
  std::string Run(std::vector<std::string> args) { return h_.Run(std::move(args)); }

  Db& DbOf(const std::string& key) { return h_.shard(ShardOfKey(key, GetParam())).db(0); }
  Entry* Peek(const std::string& key) { return DbOf(key).keyspace().Find(key); }
  std::string Bytes(const std::string& key) {
    Entry* e = Peek(key);
    return e == nullptr ? "(none)" : std::string(e->str());
  }
  std::string Encoding(const std::string& key) {
    Entry* e = Peek(key);
    return e == nullptr ? "(none)" : EncodingName(*e);
  }
  void Put(const std::string& key, const std::string& value) {
    DbOf(key).Set(key, Value::FromString(value));
  }
  // PFADD key e<from> .. e<to-1>.
  void AddRange(const std::string& key, int from, int to) {
    std::vector<std::string> argv = {"PFADD", key};
    for (int i = from; i < to; ++i) argv.push_back("e" + std::to_string(i));
    std::string r = Run(argv);
    ASSERT_TRUE(r == Int(0) || r == Int(1)) << r;
  }
  // A key named after `prefix` owned by shard `shard % shard count`.
  std::string KeyOn(int shard, const std::string& prefix) {
    for (int n = 0;; ++n) {
      std::string key = prefix + std::to_string(n);
      if (ShardOfKey(key, GetParam()) == shard % GetParam()) return key;
    }
  }

  CommandHarness h_;
};

INSTANTIATE_TEST_SUITE_P(Shards, HyperLogLogFamilyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "shards";
                         });

TEST_P(HyperLogLogFamilyTest, AddCreatesRedisBytes) {
  EXPECT_EQ(Run({"PFADD", "h"}), Int(1));
  EXPECT_EQ(Hex(Bytes("h")),
            "48594c4c01000000000000000000008"
            "07fff");
  EXPECT_EQ(Run({"PFADD", "h"}), Int(0));
  EXPECT_EQ(Run({"PFADD", "h", "a", "b", "c"}), Int(1));
  EXPECT_EQ(Run({"PFADD", "h", "a", "b"}), Int(0));
  EXPECT_EQ(Hex(Bytes("h")), "48594c4c01000000000000000000008060f38050b1844bfb80425a");
  EXPECT_EQ(Run({"TYPE", "h"}), "+string\r\n");
  EXPECT_EQ(Encoding("h"), "raw");
  EXPECT_EQ(Run({"PFADD"}), Err("ERR wrong number of arguments for 'pfadd' command"));
}

TEST_P(HyperLogLogFamilyTest, CountCachesCardinality) {
  EXPECT_EQ(Run({"PFCOUNT", "nokey"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", "nokey"}), Int(0));
  Run({"PFADD", "h", "a", "b", "c"});
  EXPECT_EQ(Run({"PFCOUNT", "h"}), Int(3));
  EXPECT_EQ(Hex(Bytes("h")), "48594c4c01000000030000000000000060f38050b1844bfb80425a");
  EXPECT_EQ(Run({"PFCOUNT", "h"}), Int(3));
  Run({"PFADD", "h", "d"});
  EXPECT_EQ(Hex(Bytes("h").substr(8, 8)), "0300000000000080");  // stale
  EXPECT_EQ(Run({"PFCOUNT", "h"}), Int(4));
  EXPECT_EQ(Run({"PFCOUNT"}), Err("ERR wrong number of arguments for 'pfcount' command"));
}

TEST_P(HyperLogLogFamilyTest, EncodingOfStoredHllStrings) {
  Run({"PFADD", "src", "a", "b", "c"});
  std::string bytes = Bytes("src");
  Put("e", bytes);  // SET: 27 bytes, embstr
  EXPECT_EQ(Encoding("e"), "embstr");
  Put("f", bytes);
  EXPECT_EQ(Run({"PFCOUNT", "e", "f"}), Int(3));  // several keys: left alone
  EXPECT_EQ(Encoding("e"), "embstr");
  EXPECT_EQ(Run({"PFCOUNT", "e"}), Int(3));  // one key: unshared, becomes raw
  EXPECT_EQ(Encoding("e"), "raw");
  EXPECT_EQ(Run({"PFADD", "f"}), Int(0));
  EXPECT_EQ(Encoding("f"), "raw");
  EXPECT_EQ(Run({"GET", "f"}), Bulk(bytes));
}

TEST_P(HyperLogLogFamilyTest, TypeErrors) {
  Put("int", "123");
  Put("short", "HYLL");
  Put("text", "hello world, this is not an HLL at all");
  Run({"HSET", "hash", "a", "1"});
  const std::string non_string = "hash";
  for (const std::string& key : std::vector<std::string>{"int", "short", "text"}) {
    EXPECT_EQ(Run({"PFADD", key, "a"}), kInvalidHll) << key;
    EXPECT_EQ(Run({"PFCOUNT", key}), kInvalidHll) << key;
    EXPECT_EQ(Run({"PFCOUNT", "nokey", key}), kInvalidHll) << key;
    EXPECT_EQ(Run({"PFMERGE", "dest", key}), kInvalidHll) << key;
    EXPECT_EQ(Run({"PFMERGE", key, "nokey"}), kInvalidHll) << key;
    EXPECT_EQ(Run({"PFDEBUG", "ENCODING", key}), kInvalidHll) << key;
  }
  EXPECT_EQ(Run({"PFADD", non_string, "a"}), kWrongType);
  EXPECT_EQ(Run({"PFCOUNT", non_string}), kWrongType);
  EXPECT_EQ(Run({"PFCOUNT", "nokey", non_string}), kWrongType);
  EXPECT_EQ(Run({"PFMERGE", "dest", non_string}), kWrongType);
  EXPECT_EQ(Run({"EXISTS", "dest"}), Int(0));
  EXPECT_EQ(Encoding("int"), "int");  // nothing unshared on errors
  // A dense-encoded header with the wrong length is not an HLL either.
  Put("baddense", std::string("HYLL\x00", 5) + std::string(100, '\0'));
  EXPECT_EQ(Run({"PFCOUNT", "baddense"}), kInvalidHll);
}

TEST_P(HyperLogLogFamilyTest, ErrorsFollowArgumentOrderAcrossShards) {
  std::string invalid = KeyOn(0, "inv"), wrong = KeyOn(1, "wt"), good = KeyOn(2, "ok");
  Put(invalid, "not an hll");
  Run({"HSET", wrong, "a", "1"});
  Run({"PFADD", good, "a"});
  EXPECT_EQ(Run({"PFCOUNT", good, invalid, wrong}), kInvalidHll);
  EXPECT_EQ(Run({"PFCOUNT", good, wrong, invalid}), kWrongType);
  EXPECT_EQ(Run({"PFMERGE", good, invalid, wrong}), kInvalidHll);
  EXPECT_EQ(Run({"PFMERGE", good, wrong, invalid}), kWrongType);
}

TEST_P(HyperLogLogFamilyTest, CountUnionAcrossShards) {
  std::string a = KeyOn(0, "a"), b = KeyOn(1, "b"), c = KeyOn(2, "c");
  AddRange(a, 0, 50);
  AddRange(b, 0, 2000);  // dense
  AddRange(c, 0, 3000);  // dense
  std::string before_a = Bytes(a);
  // redis-server: PFCOUNT of e0..e49, e0..e1999, e0..e2999 = 2979.
  EXPECT_EQ(Run({"PFCOUNT", a, b, c, "missing"}), Int(2979));
  EXPECT_EQ(Bytes(a), before_a);  // the union count writes no cache
  EXPECT_EQ(Run({"PFCOUNT", c}), Int(2979));
  EXPECT_EQ(Run({"PFCOUNT", a, a}), Int(50));
}

TEST_P(HyperLogLogFamilyTest, MergeSameAndAcrossShards) {
  std::string a = KeyOn(0, "ma"), b = KeyOn(1, "mb"), dest = KeyOn(3, "md");
  AddRange(a, 0, 50);
  AddRange(b, 0, 1000);
  EXPECT_EQ(Run({"PFMERGE", dest, a, b}), kOk);
  EXPECT_EQ(Run({"PFCOUNT", dest}), Int(1008));  // redis-server: PFMERGE m k2 n1000
  EXPECT_EQ(Bytes(dest).size(), 1906u);
  EXPECT_EQ(Run({"PFDEBUG", "ENCODING", dest}), "+sparse\r\n");
  EXPECT_EQ(Encoding(dest), "raw");
  // The destination is a source too.
  std::string d2 = KeyOn(2, "m2");
  AddRange(d2, 5000, 5010);
  EXPECT_EQ(Run({"PFMERGE", d2, a}), kOk);
  EXPECT_EQ(Run({"PFCOUNT", d2}), Int(60));
  // A dense source makes the destination dense; a TTL on the destination stays.
  std::string dense = KeyOn(1, "dn");
  AddRange(dense, 0, 3000);
  EXPECT_EQ(Run({"EXPIRE", d2, "100"}), Int(1));
  EXPECT_EQ(Run({"PFMERGE", d2, dense}), kOk);
  EXPECT_EQ(Run({"PFDEBUG", "ENCODING", d2}), "+dense\r\n");
  EXPECT_EQ(Run({"TTL", d2}), Int(100));
  // No sources: an empty HLL.
  EXPECT_EQ(Run({"PFMERGE", "empty"}), kOk);
  EXPECT_EQ(Hex(Bytes("empty")),
            "48594c4c01000000000000000000008"
            "07fff");
  EXPECT_EQ(Run({"PFCOUNT", "empty"}), Int(0));
}

TEST_P(HyperLogLogFamilyTest, CorruptHll) {
  // One register short. As redis-server: the zero cached cardinality is trusted, the multi-key
  // paths detect the corruption, and PFADD updates a register the opcodes do cover.
  std::string corrupt = std::string("HYLL\x01", 5) + std::string(11, '\0') + "\x7f\xfe";
  Put("bad", corrupt);
  EXPECT_EQ(Run({"PFCOUNT", "bad"}), Int(0));
  EXPECT_EQ(Run({"PFCOUNT", "bad", "nokey"}), kCorrupt);
  EXPECT_EQ(Run({"PFMERGE", "dest", "bad"}), kCorrupt);
  EXPECT_EQ(Run({"EXISTS", "dest"}), Int(0));
  EXPECT_EQ(Run({"PFDEBUG", "DECODE", "bad"}), Bulk("Z:16383"));
  EXPECT_EQ(Run({"PFDEBUG", "GETREG", "bad"}), kCorrupt);
  EXPECT_EQ(Run({"PFADD", "bad", "a"}), Int(1));
  EXPECT_EQ(Hex(Bytes("bad")), "48594c4c01000000000000000000008071a6844e56");
  EXPECT_EQ(Run({"PFCOUNT", "bad"}), kCorrupt);
}

TEST_P(HyperLogLogFamilyTest, SparseMaxBytesPromotes) {
  ASSERT_TRUE(h_.config().Set("hll-sparse-max-bytes", "0").ok());
  EXPECT_EQ(Run({"PFADD", "h", "a"}), Int(1));
  EXPECT_EQ(Run({"PFDEBUG", "ENCODING", "h"}), "+dense\r\n");
  EXPECT_EQ(Bytes("h").size(), hll::kDenseSize);
  ASSERT_TRUE(h_.config().Set("hll-sparse-max-bytes", "3000").ok());
  AddRange("big", 0, 1000);
  EXPECT_EQ(Run({"PFDEBUG", "ENCODING", "big"}), "+sparse\r\n");
  AddRange("big", 1000, 2000);
  EXPECT_EQ(Run({"PFDEBUG", "ENCODING", "big"}), "+dense\r\n");
  EXPECT_EQ(Run({"PFCOUNT", "big"}), Int(2000));
}

TEST_P(HyperLogLogFamilyTest, Debug) {
  EXPECT_EQ(Run({"PFDEBUG", "ENCODING", "nokey"}), Err("ERR The specified key does not exist"));
  Run({"PFADD", "h", "a", "b", "c"});
  EXPECT_EQ(Run({"PFDEBUG", "DECODE", "h"}), Bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"));
  EXPECT_EQ(Run({"PFDEBUG", "encoding", "h"}), "+sparse\r\n");
  EXPECT_EQ(Run({"PFDEBUG", "Foo", "h"}), Err("ERR Unknown PFDEBUG subcommand 'Foo'"));
  EXPECT_EQ(Run({"PFDEBUG", "TODENSE", "h"}), Int(1));
  EXPECT_EQ(Run({"PFDEBUG", "TODENSE", "h"}), Int(0));
  EXPECT_EQ(Run({"PFDEBUG", "DECODE", "h"}), Err("ERR HLL encoding is not sparse"));
  EXPECT_EQ(Run({"PFCOUNT", "h"}), Int(3));
  std::string regs = Run({"PFDEBUG", "GETREG", "h"});
  EXPECT_EQ(regs.substr(0, 8), "*16384\r\n");
  size_t ones = 0, twos = 0;
  for (size_t pos = 8; pos < regs.size(); pos = regs.find("\r\n", pos) + 2) {
    if (regs.compare(pos, 4, ":1\r\n") == 0) ++ones;
    if (regs.compare(pos, 4, ":2\r\n") == 0) ++twos;
  }
  EXPECT_EQ(ones, 2u);
  EXPECT_EQ(twos, 1u);
  EXPECT_EQ(Run({"PFDEBUG", "GETREG"}), Err("ERR wrong number of arguments for 'pfdebug' command"));
}

TEST_P(HyperLogLogFamilyTest, SelfTest) {
  if (GetParam() != 1) GTEST_SKIP() << "shard-independent; run once";
  EXPECT_EQ(Run({"PFSELFTEST"}), kOk);
  EXPECT_EQ(Run({"PFSELFTEST", "x"}),
            Err("ERR wrong number of arguments for 'pfselftest' command"));
}

}  // namespace
}  // namespace shardis
