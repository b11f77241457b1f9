// RDB persistence end to end: files written by Shardis pass Debian's redis-check-rdb and load in
// the reference redis-server with identical contents; files written by redis-server load in
// Shardis with identical contents (every type and encoding, expiring keys, 16 databases, binary
// keys and values; compared key by key, TTLs within a second); SAVE / BGSAVE / DEBUG RELOAD /
// SHUTDOWN SAVE round trips (DEBUG DIGEST equal to redis-server's and unchanged by them, whatever
// the shard count); save on SIGTERM when a schedule is set and not with NOSAVE; the `save`
// schedule; INFO persistence; a corrupt or truncated file refuses to start, naming the offset; a
// failing save is reported.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/rdb_dataset.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

void ExpectCheckRdbAccepts(const std::string& path) {
  ShellResult r = RunShell("redis-check-rdb " + ShellQuote(path));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out + r.err, "RDB looks OK")) << r.out << r.err;
}

class RdbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (AgainstRedis()) GTEST_SKIP() << "compares Shardis files with redis-server's";
    reference_ = StartRedis({"--enable-debug-command", "yes"});
    ASSERT_NE(reference_, nullptr);
    ref_ = Client::Connect(reference_->port());
    ASSERT_NE(ref_, nullptr);
    Populate(*ref_);
  }

  std::unique_ptr<ServerProcess> reference_;
  std::unique_ptr<Client> ref_;
};

TEST_F(RdbTest, ShardisFilesLoadInRedisServer) {
  const std::vector<std::vector<std::string>> variants = {
      {}, {"--rdbcompression", "no", "--rdbchecksum", "no"}};
  for (const auto& extra : variants) {
    SCOPED_TRACE(absl::StrJoin(extra, " "));
    auto shardis = StartShardis(3, extra);
    ASSERT_NE(shardis, nullptr);
    auto c = Client::Connect(shardis->port());
    ASSERT_NE(c, nullptr);
    Populate(*c);
    ASSERT_EQ(c->Run({"SAVE"}), "status:\"OK\"");
    std::string file = shardis->dir() + "/dump.rdb";
    ASSERT_TRUE(FileExists(file));
    ExpectCheckRdbAccepts(file);
    auto loaded = StartRedis({"--dir", shardis->dir(), "--dbfilename", "dump.rdb"});
    ASSERT_NE(loaded, nullptr);
    auto lc = Client::Connect(loaded->port());
    ASSERT_NE(lc, nullptr);
    ExpectSameDataset(*ref_, *lc, "redis-server loading a Shardis file");
    ExpectSameDataset(*c, *lc, "Shardis vs redis-server loading its file");
  }
}

// `redis-cli --rdb` (a backup through the replication handshake: REPLCONF rdb-only 1, SYNC)
// and `--functions-rdb` (REPLCONF rdb-filter-only functions): the transfer is one instant of
// every shard, and redis-server loads it.
TEST_F(RdbTest, RedisCliRdbBackupLoadsInRedisServer) {
  auto shardis = StartShardis(3);
  ASSERT_NE(shardis, nullptr);
  auto c = Client::Connect(shardis->port());
  ASSERT_NE(c, nullptr);
  Populate(*c);
  const std::string library =
      "#!lua name=backuplib\nredis.register_function('f1', function() return 1 end)";
  ASSERT_EQ(c->Run({"FUNCTION", "LOAD", library}), "str:\"backuplib\"");
  const std::string port = std::to_string(shardis->port());
  std::string dir = MakeTempDir("shardis-backup");
  ShellResult r = RunShell("redis-cli -p " + port + " --rdb " + ShellQuote(dir + "/dump.rdb"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out + r.err, "Transfer finished with success")) << r.out << r.err;
  ExpectCheckRdbAccepts(dir + "/dump.rdb");
  {
    auto loaded = StartRedis({"--dir", dir, "--dbfilename", "dump.rdb"});
    ASSERT_NE(loaded, nullptr);
    auto lc = Client::Connect(loaded->port());
    ASSERT_NE(lc, nullptr);
    ExpectSameDataset(*c, *lc, "redis-server loading a redis-cli --rdb backup of Shardis");
    EXPECT_EQ(lc->Run({"FCALL", "f1", "0"}), "int:1");
  }
  r = RunShell("redis-cli -p " + port + " --functions-rdb " + ShellQuote(dir + "/functions.rdb"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  {
    auto loaded = StartRedis({"--dir", dir, "--dbfilename", "functions.rdb"});
    ASSERT_NE(loaded, nullptr);
    auto lc = Client::Connect(loaded->port());
    ASSERT_NE(lc, nullptr);
    EXPECT_EQ(lc->Run({"DBSIZE"}), "int:0");
    EXPECT_EQ(lc->Run({"FCALL", "f1", "0"}), "int:1");
  }
  RemoveTree(dir);

  // PSYNC: the payload follows +FULLRESYNC, and the connection closes once it is sent.
  auto raw = RawConnection::Connect(shardis->port());
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->Run({"REPLCONF", "rdb-only", "1"}), "status:\"OK\"");
  ASSERT_TRUE(raw->SendCommand({"PSYNC", "?", "-1"}));
  ASSERT_TRUE(raw->WaitClosed());
  EXPECT_TRUE(absl::StartsWith(raw->pending(), "+FULLRESYNC ")) << raw->pending().substr(0, 80);
  EXPECT_TRUE(absl::StrContains(raw->pending(), " 0\r\n$")) << raw->pending().substr(0, 80);
  EXPECT_TRUE(absl::StrContains(raw->pending(), "\r\nREDIS0010"));
}

// Errors as redis-server 7.0's: a replica is refused (no replication stream), a SYNC behind
// unsent replies is refused, and REPLCONF checks its options.
TEST_F(RdbTest, SyncAndReplconfErrorsMatchRedis) {
  auto shardis = StartShardis(2);
  ASSERT_NE(shardis, nullptr);
  for (int port : {reference_->port(), shardis->port()}) {
    SCOPED_TRACE(port == reference_->port() ? "redis-server" : "shardis");
    auto raw = RawConnection::Connect(port);
    ASSERT_NE(raw, nullptr);
    ASSERT_TRUE(raw->Send(EncodeCommand({"REPLCONF", "rdb-only", "1"}) + EncodeCommand({"SYNC"})));
    EXPECT_EQ(raw->Read()->Render(), "status:\"OK\"");
    EXPECT_EQ(raw->Read()->Render(), "err:\"ERR SYNC and PSYNC are invalid with pending output\"");
    auto c = Client::Connect(port);
    ASSERT_NE(c, nullptr);
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"REPLCONF"}, "status:\"OK\""},
        {{"REPLCONF", "foo"}, "err:\"ERR syntax error\""},
        {{"REPLCONF", "foo", "bar"}, "err:\"ERR Unrecognized REPLCONF option: foo\""},
        {{"REPLCONF", "listening-port", "x"},
         "err:\"ERR value is not an integer or out of range\""},
        {{"REPLCONF", "rdb-only", "2"},
         "err:\"ERR value is out of range, value must between 0 and 1\""},
        {{"REPLCONF", "rdb-filter-only", "functions foo"},
         "err:\"ERR Unsupported rdb-filter-only option: foo\""},
        {{"REPLCONF", "rdb-filter-only", ""}, "status:\"OK\""},
        {{"REPLCONF", "capa", "eof", "capa", "psync2", "ip-address", "1.2.3.4"}, "status:\"OK\""},
    };
    for (const auto& [args, want] : cases)
      EXPECT_EQ(c->Run(args), want) << absl::StrJoin(args, " ");
  }
  auto c = Client::Connect(shardis->port());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Run({"SYNC"}),
            "err:\"ERR Shardis does not support replication: PSYNC and SYNC are refused\"");
}

// DEBUG SET-SKIP-CHECKSUM-VALIDATION (Redis's corrupt-payload tests use it) and DEBUG
// QUICKLIST-PACKED-THRESHOLD's argument checks, as redis-server's.
TEST_F(RdbTest, DebugSkipChecksumValidationAndPackedThreshold) {
  auto shardis = StartShardis(2);
  ASSERT_NE(shardis, nullptr);
  ASSERT_EQ(ref_->Run({"SET", "payload-src", "hello"}), "status:\"OK\"");
  ReplyPtr dumped = ref_->Command({"DUMP", "payload-src"});
  ASSERT_NE(dumped, nullptr);
  ASSERT_EQ(dumped->type, REDIS_REPLY_STRING);
  std::string payload(dumped->str, dumped->len);
  payload[payload.size() - 1] ^= 0x55;  // a wrong CRC64
  auto c = Client::Connect(shardis->port());
  ASSERT_NE(c, nullptr);
  for (Client* client : {ref_.get(), c.get()}) {
    EXPECT_EQ(client->Run({"RESTORE", "restored", "0", payload}),
              "err:\"ERR DUMP payload version or checksum are wrong\"");
    EXPECT_EQ(client->Run({"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"}), "status:\"OK\"");
    EXPECT_EQ(client->Run({"RESTORE", "restored", "0", payload}), "status:\"OK\"");
    EXPECT_EQ(client->Run({"GET", "restored"}), "str:\"hello\"");
    EXPECT_EQ(client->Run({"DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"}), "status:\"OK\"");
    EXPECT_EQ(client->Run({"RESTORE", "restored2", "0", payload}),
              "err:\"ERR DUMP payload version or checksum are wrong\"");
    for (const char* size : {"0", "1b", "100mb"}) {
      EXPECT_EQ(client->Run({"DEBUG", "QUICKLIST-PACKED-THRESHOLD", size}), "status:\"OK\"");
    }
    for (const char* size : {"5gb", "abc", "-1", "4294967296"}) {
      EXPECT_EQ(client->Run({"DEBUG", "QUICKLIST-PACKED-THRESHOLD", size}),
                "err:\"ERR argument must be a memory value bigger than 1 and smaller than 4gb\"")
          << size;
    }
  }
}

TEST_F(RdbTest, RedisServerFilesLoadInShardis) {
  // One more stream with a consumer group, a pending entry and a consumer (the dataset has
  // more): Shardis loads the groups, their PELs and consumers.
  ASSERT_EQ(ref_->Run({"XADD", "x:groups", "1-1", "f", "v"}), "str:\"1-1\"");
  ASSERT_EQ(ref_->Run({"XADD", "x:groups", "2-1", "f", "w"}), "str:\"2-1\"");
  ASSERT_EQ(ref_->Run({"XGROUP", "CREATE", "x:groups", "g", "0"}), "status:\"OK\"");
  ref_->Run({"XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "x:groups", ">"});
  for (const char* compression : {"yes", "no"}) {
    SCOPED_TRACE(compression);
    ASSERT_EQ(ref_->Run({"CONFIG", "SET", "rdbcompression", compression}), "status:\"OK\"");
    ASSERT_EQ(ref_->Run({"SAVE"}), "status:\"OK\"");
    std::string dir = MakeTempDir("shardis-rdb");
    WriteAll(dir + "/from-redis.rdb", ReadAll(reference_->dir() + "/dump.rdb"));
    auto shardis = StartShardis(3, {"--dir", dir, "--dbfilename", "from-redis.rdb"});
    ASSERT_NE(shardis, nullptr);
    auto c = Client::Connect(shardis->port());
    ASSERT_NE(c, nullptr);
    ExpectSameDataset(*ref_, *c, "Shardis loading a redis-server file");
    EXPECT_NE(InfoField(*c, "rdb_last_load_keys_loaded"), "0");
    shardis->Stop();
    RemoveTree(dir);
  }
}

TEST_F(RdbTest, BgsaveDebugReloadAndShutdownSaveRoundTrip) {
  auto shardis = StartShardis(4);
  ASSERT_NE(shardis, nullptr);
  auto c = Client::Connect(shardis->port());
  ASSERT_NE(c, nullptr);
  // DEBUG DIGEST: 40 zeros for no data (and DIGEST-VALUE for a missing key), as Redis.
  const std::string zeros = "status:\"" + std::string(40, '0') + "\"";
  EXPECT_EQ(c->Run({"DEBUG", "DIGEST"}), zeros);
  EXPECT_EQ(c->Run({"DEBUG", "DIGEST-VALUE", "missing"}), "arr:[" + zeros + "]");
  Populate(*c);
  // Redis's digest of the same data, whatever the encodings and shards.
  const std::string digest = c->Run({"DEBUG", "DIGEST"});
  EXPECT_NE(digest, zeros);
  EXPECT_EQ(digest, ref_->Run({"DEBUG", "DIGEST"}));
  const std::vector<std::string> value_keys = {
      "DEBUG", "DIGEST-VALUE", "l:huge", "set:i16", "set:big", "set:str", "h:small",
      "h:big", "z:small",      "z:big",  "x:main",  "e:str",   "missing"};
  EXPECT_EQ(c->Run(value_keys), ref_->Run(value_keys));
  EXPECT_NE(InfoField(*c, "rdb_changes_since_last_save"), "0");
  std::string before = c->Run({"LASTSAVE"});
  EXPECT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "ok");
  EXPECT_EQ(InfoField(*c, "rdb_changes_since_last_save"), "0");
  ExpectCheckRdbAccepts(shardis->dir() + "/dump.rdb");
  EXPECT_EQ(c->Run({"BGSAVE", "SCHEDULE", "x"}), "err:\"ERR syntax error\"");

  EXPECT_EQ(c->Run({"DEBUG", "RELOAD"}), "status:\"OK\"");
  ExpectSameDataset(*ref_, *c, "after DEBUG RELOAD");
  EXPECT_EQ(c->Run({"DEBUG", "DIGEST"}), digest) << "same data, new tables: same digest";
  // Any change shows, even one that keeps every key and its type.
  ASSERT_EQ(c->Run({"SET", "digest-probe", "1"}), "status:\"OK\"");
  const std::string probed = c->Run({"DEBUG", "DIGEST"});
  EXPECT_NE(probed, digest);
  std::string value_digest = c->Run({"DEBUG", "DIGEST-VALUE", "digest-probe", "missing"});
  ASSERT_EQ(c->Run({"SET", "digest-probe", "2"}), "status:\"OK\"");
  EXPECT_NE(c->Run({"DEBUG", "DIGEST"}), probed);
  EXPECT_NE(c->Run({"DEBUG", "DIGEST-VALUE", "digest-probe", "missing"}), value_digest);
  ASSERT_EQ(c->Run({"DEL", "digest-probe"}), "int:1");
  EXPECT_EQ(c->Run({"DEBUG", "DIGEST"}), digest);

  // SHUTDOWN SAVE writes the file even without a schedule; a restart loads it.
  ASSERT_EQ(c->Run({"SET", "written-last", "1"}), "status:\"OK\"");
  ASSERT_EQ(ref_->Run({"SET", "written-last", "1"}), "status:\"OK\"");
  c->Run({"SHUTDOWN", "SAVE"});
  ASSERT_TRUE(shardis->WaitForExit());
  EXPECT_EQ(shardis->exit_code(), 0) << shardis->LogTail();
  auto again = StartShardis(2, {"--dir", shardis->dir()});
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  ASSERT_NE(c2, nullptr);
  ExpectSameDataset(*ref_, *c2, "restart after SHUTDOWN SAVE (4 shards -> 2)");
  ASSERT_EQ(c2->Run({"DEL", "written-last"}), "int:1");
  EXPECT_EQ(c2->Run({"DEBUG", "DIGEST"}), digest) << "the digest does not depend on the shards";
  EXPECT_NE(c2->Run({"LASTSAVE"}), "int:0");
  (void)before;
}

TEST(RdbShutdownTest, SigtermSavesOnlyWithASchedule) {
  if (AgainstRedis()) GTEST_SKIP();
  {
    auto s = StartShardis(2, {"--save", "3600", "1"});
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    ASSERT_EQ(c->Run({"SET", "k", "v"}), "status:\"OK\"");
    EXPECT_TRUE(s->Stop());
    EXPECT_TRUE(FileExists(s->dir() + "/dump.rdb")) << s->LogTail();
  }
  {
    auto s = StartShardis(2);  // --save "": no schedule
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    ASSERT_EQ(c->Run({"SET", "k", "v"}), "status:\"OK\"");
    EXPECT_TRUE(s->Stop());
    EXPECT_FALSE(FileExists(s->dir() + "/dump.rdb"));
  }
  {
    auto s = StartShardis(2, {"--save", "3600", "1"});
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    ASSERT_EQ(c->Run({"SET", "k", "v"}), "status:\"OK\"");
    c->Run({"SHUTDOWN", "NOSAVE"});
    ASSERT_TRUE(s->WaitForExit());
    EXPECT_FALSE(FileExists(s->dir() + "/dump.rdb"));
  }
}

TEST(RdbShutdownTest, ShutdownDuringBgsaveExits) {
  if (AgainstRedis()) GTEST_SKIP();
  for (int round = 0; round < 3; ++round) {
    auto s = StartShardis(4);
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    ASSERT_NO_FATAL_FAILURE(Populate(*c));
    c->Append({"BGSAVE"});
    c->Append({"SHUTDOWN", "NOSAVE"});
    c->Flush();
    EXPECT_TRUE(s->WaitForExit()) << s->LogTail();
    EXPECT_EQ(s->exit_code(), 0);
  }
}

TEST(RdbShutdownTest, FlushallWithAScheduleSavesTheEmptyDataset) {
  if (AgainstRedis()) GTEST_SKIP();
  auto s = StartShardis(2, {"--save", "3600", "1"});
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ASSERT_EQ(c->Run({"SET", "k", "v"}), "status:\"OK\"");
  ASSERT_EQ(c->Run({"SAVE"}), "status:\"OK\"");
  ASSERT_EQ(c->Run({"FLUSHALL"}), "status:\"OK\"");
  // Killed without a shutdown save: the file FLUSHALL wrote is what a restart sees.
  ASSERT_TRUE(s->Signal(SIGKILL));
  ASSERT_TRUE(s->WaitForExit());
  auto again = StartShardis(2, {"--dir", s->dir()});
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  EXPECT_EQ(c2->Run({"DBSIZE"}), "int:0");
}

TEST(RdbConsistencyTest, BgsaveUnderWritesIsOneInstant) {
  // Two writers update pairs of keys atomically (MULTI on one {hashtag}); a third increments a
  // chain of counters c0..c5 on different {hashtag}s (so different shards) one after the other,
  // each acknowledged before the next: at any instant c0 >= c1 >= ... >= c5 >= c0 - 1. Each
  // saved file, loaded by redis-server, must satisfy both invariants.
  if (AgainstRedis()) GTEST_SKIP();
  auto s = StartShardis(3);
  ASSERT_NE(s, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};
  std::vector<std::thread> writers;
  const int kPairs = 6;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto c = Client::Connect(s->port());
      if (c == nullptr) return;
      for (int i = 0; i < 200000 && !stop.load(); ++i) {
        std::string tag = absl::StrCat("{p", (i + w) % kPairs, "}");
        c->Append({"MULTI"});
        c->Append({"INCR", tag + "a"});
        c->Append({"INCR", tag + "b"});
        c->Append({"EXEC"});
        for (int r = 0; r < 4; ++r) c->GetReply();
        done.fetch_add(1);
      }
    });
  }
  const int kChain = 6;
  writers.emplace_back([&] {
    auto c = Client::Connect(s->port());
    if (c == nullptr) return;
    for (int i = 0; i < 600000 && !stop.load(); ++i) {
      c->Command({"INCR", absl::StrCat("{c", i % kChain, "}")});
    }
  });
  auto c = Client::Connect(s->port());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(WaitFor([&] { return done.load() > 500; }));
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
    ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
    std::string dir = MakeTempDir("shardis-rdb-consistency");
    WriteAll(dir + "/snap.rdb", ReadAll(s->dir() + "/dump.rdb"));
    ExpectCheckRdbAccepts(dir + "/snap.rdb");
    auto r = StartRedis({"--dir", dir, "--dbfilename", "snap.rdb"});
    ASSERT_NE(r, nullptr);
    auto rc = Client::Connect(r->port());
    int nonzero = 0;
    for (int p = 0; p < kPairs; ++p) {
      std::string tag = absl::StrCat("{p", p, "}");
      std::string a = rc->Run({"GET", tag + "a"}), b = rc->Run({"GET", tag + "b"});
      EXPECT_EQ(a, b) << "pair " << p << " in snapshot " << round;
      nonzero += a != "nil";
    }
    EXPECT_GT(nonzero, 0);
    std::vector<int64_t> chain;
    for (int k = 0; k < kChain; ++k) {
      ReplyPtr v = rc->Command({"GET", absl::StrCat("{c", k, "}")});
      chain.push_back(v && v->type == REDIS_REPLY_STRING ? std::stoll(v->str) : 0);
    }
    for (int k = 1; k < kChain; ++k) {
      EXPECT_GE(chain[k - 1], chain[k]) << "chain in snapshot " << round;
      EXPECT_LE(chain[k - 1], chain[k] + 1) << "chain in snapshot " << round;
    }
    EXPECT_LE(chain[0], chain[kChain - 1] + 1);
    r->Stop();
    RemoveTree(dir);
  }
  stop.store(true);
  for (auto& t : writers) t.join();
}

TEST(RdbScheduleTest, SavePointTriggersABackgroundSave) {
  if (AgainstRedis()) GTEST_SKIP();
  auto s = StartShardis(2, {"--save", "1", "2"});
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ASSERT_EQ(c->Run({"SET", "a", "1"}), "status:\"OK\"");
  ASSERT_EQ(c->Run({"SET", "b", "2"}), "status:\"OK\"");
  ASSERT_EQ(c->Run({"SET", "{b}c", "3"}), "status:\"OK\"");
  EXPECT_TRUE(WaitFor([&] {
    return InfoField(*c, "rdb_saves") != "0" && InfoField(*c, "rdb_bgsave_in_progress") == "0";
  })) << s->LogTail();
  EXPECT_TRUE(FileExists(s->dir() + "/dump.rdb"));
  EXPECT_EQ(InfoField(*c, "rdb_changes_since_last_save"), "0");
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "ok");
}

TEST(RdbErrorsTest, CorruptOrTruncatedFileRefusesToStart) {
  if (AgainstRedis()) GTEST_SKIP();
  auto s = StartShardis(2);
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ASSERT_NO_FATAL_FAILURE(Populate(*c));
  ASSERT_EQ(c->Run({"SAVE"}), "status:\"OK\"");
  std::string good = ReadAll(s->dir() + "/dump.rdb");
  ASSERT_GT(good.size(), 1000u);
  std::string dir = MakeTempDir("shardis-rdb-bad");
  struct Case {
    std::string name;
    std::string data;
    std::string expect;
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  std::vector<Case> cases = {
      {"truncated", good.substr(0, good.size() / 3), "offset"},
      {"flipped", flipped, "offset"},
      {"no-trailer", good.substr(0, good.size() - 4), "offset"},
      {"bad-magic", "NOTREDIS" + good.substr(8), "Wrong signature"},
  };
  for (const Case& k : cases) {
    WriteAll(dir + "/" + k.name + ".rdb", k.data);
    std::string error;
    auto bad = StartShardis(2, {"--dir", dir, "--dbfilename", k.name + ".rdb"}, &error);
    EXPECT_EQ(bad, nullptr) << k.name;
    EXPECT_TRUE(absl::StrContains(error, "Error loading the RDB file")) << k.name << ": " << error;
    EXPECT_TRUE(absl::StrContains(error, k.expect)) << k.name << ": " << error;
  }
  RemoveTree(dir);
}

TEST(RdbErrorsTest, FailingSaveIsReportedAndStopsWrites) {
  if (AgainstRedis()) GTEST_SKIP();
  auto s = StartShardis(2, {"--save", "3600", "1"});
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ASSERT_EQ(c->Run({"SET", "k", "v"}), "status:\"OK\"");
  // The temp file's path is taken by a directory: opening it fails even for root.
  std::string blocker = absl::StrCat(s->dir(), "/temp-", s->pid(), ".rdb");
  ASSERT_EQ(mkdir(blocker.c_str(), 0755), 0);
  EXPECT_EQ(c->Run({"SAVE"}), "err:\"ERR\"");
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "ok");  // SAVE does not set it (Redis)
  EXPECT_EQ(c->Run({"SET", "k", "v2"}), "status:\"OK\"");
  EXPECT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "err");
  EXPECT_NE(InfoField(*c, "rdb_changes_since_last_save"), "0");
  // stop-writes-on-bgsave-error: writes and PING get MISCONF, reads work.
  const std::string misconf =
      "err:\"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
      "persist to disk. Commands that may modify the data set are disabled, because this "
      "instance is configured to report errors during writes if RDB snapshotting fails "
      "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
      "RDB error.\"";
  EXPECT_EQ(c->Run({"SET", "k", "v3"}), misconf);
  EXPECT_EQ(c->Run({"DEL", "k", "{x}y"}), misconf);
  EXPECT_EQ(c->Run({"PING"}), misconf);
  EXPECT_EQ(c->Run({"GET", "k"}), "str:\"v2\"");
  ASSERT_EQ(c->Run({"CONFIG", "SET", "stop-writes-on-bgsave-error", "no"}), "status:\"OK\"");
  EXPECT_EQ(c->Run({"SET", "k", "v3"}), "status:\"OK\"");
  ASSERT_EQ(c->Run({"CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"}), "status:\"OK\"");
  EXPECT_EQ(c->Run({"SET", "k", "v4"}), misconf);
  // A successful save lifts it.
  rmdir(blocker.c_str());
  EXPECT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "ok");
  EXPECT_EQ(c->Run({"SET", "k", "v5"}), "status:\"OK\"");
}

TEST(RdbErrorsTest, ShutdownRefusesWhenItCannotSave) {
  if (AgainstRedis()) GTEST_SKIP();
  auto s = StartShardis(2, {"--save", "3600", "1"});
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  std::string blocker = absl::StrCat(s->dir(), "/temp-shutdown-", s->pid(), ".rdb");
  ASSERT_EQ(mkdir(blocker.c_str(), 0755), 0);
  EXPECT_EQ(c->Run({"SHUTDOWN"}), "err:\"ERR Errors trying to SHUTDOWN. Check logs.\"");
  EXPECT_EQ(c->Run({"SHUTDOWN", "SAVE"}), "err:\"ERR Errors trying to SHUTDOWN. Check logs.\"");
  EXPECT_EQ(c->Run({"PING"}), "status:\"PONG\"");
  c->Run({"SHUTDOWN", "NOSAVE"});  // no save, so no check
  EXPECT_TRUE(s->WaitForExit());
  rmdir(blocker.c_str());
}

}  // namespace
}  // namespace shardis::test
