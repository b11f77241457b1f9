// Differential test of DUMP / RESTORE against the reference redis-server 7.0: the same varied
// dataset (tests/rdb_dataset.h: every type and encoding, binary keys and values) is built in
// both; every key's DUMP from redis-server is RESTOREd into Shardis and Shardis's DUMP into
// redis-server, and the restored values must equal the originals (and restore to the same
// encodings). Payloads that redis-server and Shardis encode the same way (strings, intsets,
// listpacks, LZF-compressed or not) must be byte-identical. RESTORE's options (REPLACE, ABSTTL,
// IDLETIME, FREQ) and its error replies are compared with redis-server's.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/rdb_dataset.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// CRC-64/Jones as Redis (bitwise; the server has its own table-driven one).
uint64_t Crc64(std::string_view data) {
  uint64_t crc = 0;
  for (unsigned char b : data) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
  }
  return crc;
}

// A payload with a valid checksum around `body` (type byte + object) and RDB version `version`.
std::string Payload(std::string body, int version = 10) {
  body.push_back(static_cast<char>(version & 0xff));
  body.push_back(static_cast<char>(version >> 8));
  uint64_t crc = Crc64(body);
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return body;
}

std::string Bytes(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
}

std::string Encoding(Client& c, const std::string& key) {
  return Render(c.Command({"OBJECT", "ENCODING", key}).get());
}

class DifferentialDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = StartRedis();
    ASSERT_NE(redis_, nullptr);
    shardis_ = StartShardis(3);
    ASSERT_NE(shardis_, nullptr);
    r_ = Client::Connect(redis_->port());
    s_ = Client::Connect(shardis_->port());
    ASSERT_NE(r_, nullptr);
    ASSERT_NE(s_, nullptr);
  }

  // Runs a command on both servers; the replies must match.
  std::string Both(const std::vector<std::string>& cmd) {
    std::string a = r_->Run(cmd);
    std::string b = s_->Run(cmd);
    EXPECT_EQ(b, a) << RenderCommand(cmd);
    return a;
  }

  std::unique_ptr<ServerProcess> redis_, shardis_;
  std::unique_ptr<Client> r_, s_;
};

TEST_F(DifferentialDumpTest, EveryTypeAndEncodingCrossesBothWays) {
  ASSERT_NO_FATAL_FAILURE(Populate(*r_));
  ASSERT_NO_FATAL_FAILURE(Populate(*s_));
  int compared = 0, identical = 0;
  for (int db : {0, 3, 7}) {
    std::string n = absl::StrCat(db);
    ASSERT_EQ(r_->Run({"SELECT", n}), "status:\"OK\"");
    ASSERT_EQ(s_->Run({"SELECT", n}), "status:\"OK\"");
    std::vector<std::string> keys = KeysOf(*r_);
    ASSERT_EQ(KeysOf(*s_), keys);
    for (const std::string& key : keys) {
      SCOPED_TRACE(Escape(key));
      ReplyPtr dr = r_->Command({"DUMP", key});
      ReplyPtr ds = s_->Command({"DUMP", key});
      ASSERT_TRUE(dr && dr->type == REDIS_REPLY_STRING);
      ASSERT_TRUE(ds && ds->type == REDIS_REPLY_STRING);
      std::string pr = Bytes(dr.get()), ps = Bytes(ds.get());
      std::string enc = Encoding(*r_, key);
      EXPECT_EQ(Encoding(*s_, key), enc);
      // LZF-compressed ones included: our encoder makes liblzf's choices.
      bool same_layout = enc == "str:\"int\"" || enc == "str:\"embstr\"" || enc == "str:\"raw\"" ||
                         enc == "str:\"intset\"" || enc == "str:\"listpack\"";
      if (same_layout) {
        EXPECT_EQ(Escape(ps), Escape(pr)) << "payload bytes of a " << enc << " value";
        identical += ps == pr;
      }
      // Redis's payload into Shardis, Shardis's into Redis, and Redis's into Redis (reference).
      std::string r2s = "r2s:" + key, s2r = "s2r:" + key, r2r = "r2r:" + key;
      ASSERT_EQ(s_->Run({"RESTORE", r2s, "0", pr}), "status:\"OK\"");
      ASSERT_EQ(r_->Run({"RESTORE", s2r, "0", ps}), "status:\"OK\"");
      ASSERT_EQ(r_->Run({"RESTORE", r2r, "0", pr}), "status:\"OK\"");
      std::string expected = DescribeValue(*r_, key);
      EXPECT_EQ(DescribeValue(*s_, r2s), expected);
      EXPECT_EQ(DescribeValue(*r_, s2r), expected);
      EXPECT_EQ(Encoding(*s_, r2s), Encoding(*r_, r2r));
      EXPECT_EQ(Encoding(*r_, s2r), Encoding(*r_, r2r));
      ++compared;
    }
  }
  EXPECT_GT(compared, 60);
  EXPECT_GT(identical, 10);
}

TEST_F(DifferentialDumpTest, RestoreOptionsAndErrors) {
  Both({"SET", "src", "hello world"});
  Both({"RPUSH", "{t}list", "a", "b"});
  std::string p = Bytes(r_->Command({"DUMP", "src"}).get());
  ASSERT_EQ(Escape(Bytes(s_->Command({"DUMP", "src"}).get())), Escape(p));
  Both({"DUMP", "missing"});

  Both({"RESTORE", "src", "0", p});                              // BUSYKEY
  Both({"RESTORE", "k", "-1", p});                               // invalid TTL
  Both({"RESTORE", "k", "abc", p});                              // not an integer
  Both({"RESTORE", "k", "0", p, "IDLETIME", "-1"});              // invalid IDLETIME
  Both({"RESTORE", "k", "0", p, "IDLETIME", "x"});               // not an integer
  Both({"RESTORE", "k", "0", p, "FREQ", "256"});                 // invalid FREQ
  Both({"RESTORE", "k", "0", p, "IDLETIME", "1", "FREQ", "1"});  // syntax error
  Both({"RESTORE", "k", "0", p, "IDLETIME"});                    // syntax error
  Both({"RESTORE", "k", "0", p, "BOGUS"});                       // syntax error
  Both({"RESTORE", "src", "0", p, "BOGUS"});  // options are checked before BUSYKEY
  std::string flipped = p;
  flipped[3] ^= 1;
  Both({"RESTORE", "k", "0", flipped});  // checksum
  Both({"RESTORE", "k", "0", "short"});  // too short
  Both({"RESTORE", "k", "0", ""});       // empty
  std::string body = p.substr(0, p.size() - 10);
  Both({"RESTORE", "k", "0", Payload(body, 11)});  // newer RDB version
  Both({"RESTORE", "k", "0", Payload(body, 9)});   // older version: accepted
  Both({"GET", "k"});
  Both({"RESTORE", "k2", "0", Payload(std::string("\x63\x01\x02", 3))});     // unknown type
  Both({"RESTORE", "k3", "0", Payload(std::string("\x00\x05", 2) + "ab")});  // reads the footer
  Both({"RESTORE", "k4", "0", Payload(std::string("\x00\x20", 2) + "ab")});  // truncated
  Both({"RESTORE", "k5", "0", Payload(std::string("\x12\x00", 2))});         // empty list
  Both({"RESTORE", "k6", "0",
        Payload(std::string("\x0b\x03"
                            "abc",
                            5))});  // malformed intset
  for (const char* k : {"k2", "k3", "k4", "k5", "k6"}) Both({"EXISTS", k});

  // REPLACE over another type; TTLs relative and absolute.
  Both({"RESTORE", "{t}list", "0", p, "REPLACE"});
  Both({"TYPE", "{t}list"});
  Both({"RESTORE", "ttl", "100000", p});
  int64_t rt = PttlOf(*r_, "ttl"), st = PttlOf(*s_, "ttl");
  EXPECT_GT(st, 90000);
  EXPECT_LE(st, 100000);
  EXPECT_GT(rt, 90000);
  Both({"RESTORE", "abs", "4102444800000", p, "ABSTTL"});
  Both({"PEXPIRETIME", "abs"});
  Both({"RESTORE", "past", "1000", p, "ABSTTL"});  // already expired: OK, nothing created
  Both({"EXISTS", "past"});
  Both({"SET", "old", "x"});
  Both({"RESTORE", "old", "1000", p, "ABSTTL", "REPLACE"});  // replaced, then expired
  Both({"EXISTS", "old"});
  Both({"RESTORE", "idle", "0", p, "IDLETIME", "5000"});
  ReplyPtr idle = s_->Command({"OBJECT", "IDLETIME", "idle"});
  ASSERT_TRUE(idle && idle->type == REDIS_REPLY_INTEGER);
  EXPECT_GE(idle->integer, 5000);
  EXPECT_LE(idle->integer, 5002);
  Both({"RESTORE", "freq", "0", p, "FREQ", "100"});
  Both({"GET", "freq"});
  // Under an LFU policy FREQ sets the access counter (a minute boundary between the two
  // commands may already decay it by one).
  Both({"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"});
  Both({"RESTORE", "lfu", "0", p, "FREQ", "100"});
  ReplyPtr freq = s_->Command({"OBJECT", "FREQ", "lfu"});
  ASSERT_TRUE(freq && freq->type == REDIS_REPLY_INTEGER);
  EXPECT_GE(freq->integer, 99);
  EXPECT_LE(freq->integer, 100);
  Both({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  Both({"restore", "lower", "0", p, "replace", "absttl"});
  Both({"GET", "lower"});
}

// Corrupt payloads with valid checksums (as Redis's corrupt-dump.tcl): ziplists are always
// checked deeply (Redis converts them at load); listpacks and stream nodes under
// sanitize-dump-payload yes. Both servers answer "Bad data format" and create nothing.
TEST_F(DifferentialDumpTest, CorruptPayloadsRejectedAsRedis) {
  Both({"CONFIG", "SET", "sanitize-dump-payload", "yes"});
  // Ziplist "a" "b" "c": zlbytes 20, zltail 16, zllen 3, entries prevlen+0x01+char.
  const std::string zl =
      std::string("\x14\x00\x00\x00\x10\x00\x00\x00\x03\x00", 10) + std::string(
                                                                        "\x00\x01"
                                                                        "a"
                                                                        "\x03\x01"
                                                                        "b"
                                                                        "\x03\x01"
                                                                        "c"
                                                                        "\xFF",
                                                                        10);
  auto list_zl = [](const std::string& z) {
    return Payload(std::string("\x0A", 1) + static_cast<char>(z.size()) + z);
  };
  Both({"RESTORE", "zl_ok", "0", list_zl(zl)});
  Both({"LRANGE", "zl_ok", "0", "-1"});
  std::string bad = zl;
  bad[13] = '\x02';  // prevlen
  Both({"RESTORE", "zl_prevlen", "0", list_zl(bad)});
  bad = zl;
  bad[4] = '\x0D';  // zltail
  Both({"RESTORE", "zl_tail", "0", list_zl(bad)});
  bad = zl;
  bad[8] = '\x04';  // zllen
  Both({"RESTORE", "zl_count", "0", list_zl(bad)});
  // Hash listpack f1 v1 (15 bytes), then with a wrong back-length after "f1".
  const std::string lp(
      "\x0F\x00\x00\x00\x02\x00\x82"
      "f1"
      "\x03\x82"
      "v1"
      "\x03\xFF",
      15);
  auto hash_lp = [](const std::string& l) {
    return Payload(std::string("\x10", 1) + static_cast<char>(l.size()) + l);
  };
  Both({"RESTORE", "lp_ok", "0", hash_lp(lp)});
  Both({"HGETALL", "lp_ok"});
  bad = lp;
  bad[9] = '\x04';
  Both({"RESTORE", "lp_backlen", "0", hash_lp(bad)});
  // Quicklist 2 with an empty PLAIN node.
  Both({"RESTORE", "ql_plain", "0", Payload(std::string("\x12\x01\x01\x00", 4))});
  for (const char* k : {"zl_prevlen", "zl_tail", "zl_count", "lp_backlen", "ql_plain"}) {
    Both({"EXISTS", k});
  }
  std::string count_bad = zl;
  count_bad[8] = '\x04';
  EXPECT_NE(s_->Run({"RESTORE", "zl_again", "0", list_zl(count_bad)}).find("Bad data format"),
            std::string::npos);
  Both({"PING"});
}

}  // namespace
}  // namespace shardis::test
