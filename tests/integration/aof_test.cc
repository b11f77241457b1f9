// AOF persistence end to end: the varied dataset (every type, 16 databases, expiries) survives a
// kill -9 through replay; BGREWRITEAOF compacts into a new base and keeps later writes; the
// multi-shard MSET / EXEC are logged as one command / one MULTI-EXEC and replay atomically;
// kill -9 under appendfsync always loses no acknowledged INCR; a truncated last file loads with
// aof-load-truncated yes (cut at the last whole command) and refuses to start with no; a corrupt
// file refuses to start naming file and offset; redis-server 7.0 loads a Shardis AOF directory
// and Shardis loads redis-server's; CONFIG SET appendonly yes at runtime starts with a rewrite.
// Function libraries: FUNCTION LOAD/DELETE/FLUSH/RESTORE are logged as redis-server logs them,
// replayed, and kept by the rewrite's base and by RDB snapshots (SAVE, BGSAVE, DEBUG RELOAD,
// shutdown), readable by redis-server. Consumer groups: the PEL after a replay (and after a
// rewrite, and in redis-server replaying Shardis's log) is the PEL before. Crashes and full
// disks: kill -9 under everysec keeps a prefix of the acknowledged writes; a failed write under
// always exits (no reply); a full disk fails BGSAVE (MISCONF) and a rewrite (status err).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/rdb_dataset.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;

void AppendTo(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << data;
}

std::vector<std::string> AofArgs(const std::string& dir, const std::string& fsync = "everysec") {
  return {"--dir", dir, "--appendonly", "yes", "--appendfsync", fsync};
}

void Kill9(ServerProcess& s) {
  s.Signal(SIGKILL);
  s.WaitForExit(milliseconds(10000));
}

std::string Manifest(const std::string& dir) {
  return ReadAll(dir + "/appendonlydir/appendonly.aof.manifest");
}

// The path of the incr file named last in the manifest.
std::string LastIncr(const std::string& dir) {
  std::string m = Manifest(dir);
  std::string name;
  std::istringstream in(m);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string k, file, s, seq, t, type;
    words >> k >> file >> s >> seq >> t >> type;
    if (type == "i") name = file;
  }
  return dir + "/appendonlydir/" + name;
}

// Starts a reference redis-server and fills it and `other` with the varied dataset, command by
// command in step (so that relative TTLs match however slow `other` is, e.g. under a sanitizer).
std::unique_ptr<ServerProcess> ReferenceWithDataset(std::unique_ptr<Client>* client,
                                                    Client& other) {
  auto redis = StartRedis();
  if (redis == nullptr) return nullptr;
  *client = Client::Connect(redis->port());
  int current = -1;
  for (const auto& [db, cmd] : DatasetCommands()) {
    if (db != current) {
      for (Client* c : {client->get(), &other}) c->Run({"SELECT", absl::StrCat(db)});
      current = db;
    }
    for (Client* c : {client->get(), &other}) {
      ReplyPtr r = c->Command(cmd);
      EXPECT_TRUE(r != nullptr && r->type != REDIS_REPLY_ERROR)
          << RenderCommand(cmd) << " -> " << Render(r.get());
    }
  }
  for (Client* c : {client->get(), &other}) c->Run({"SELECT", "0"});
  return redis;
}

TEST(AofTest, ReplayRestoresEveryTypeAfterKill9) {
  std::string dir = MakeTempDir("aof-roundtrip");
  auto s = StartShardis(3, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  std::unique_ptr<Client> ref;
  auto redis = ReferenceWithDataset(&ref, *c);
  ASSERT_NE(redis, nullptr);
  // Commands Redis propagates in another form, applied to both (deterministic results).
  for (Client* x : {ref.get(), c.get()}) {
    x->Run({"SET", "px:ex", "v", "EX", "1000"});
    x->Run({"SETEX", "px:setex", "1000", "v"});
    x->Run({"SET", "px:exp", "v"});
    x->Run({"EXPIRE", "px:exp", "2000"});
    x->Run({"SET", "px:gone", "v"});
    x->Run({"EXPIRE", "px:gone", "-1"});
    x->Run({"INCRBYFLOAT", "px:float", "1.25"});
    x->Run({"HINCRBYFLOAT", "px:hfloat", "f", "2.5"});
    x->Run({"SADD", "px:one", "only", "other"});
    x->Run({"SREM", "px:one", "other"});
    x->Run({"SPOP", "px:one"});
    x->Run({"SADD", "px:one2", "a"});
    x->Run({"SPOP", "px:one2", "5"});
    x->Run({"XADD", "px:stream", "5-1", "f", "v"});
    x->Run({"RPUSH", "px:blist", "a", "b"});
    x->Run({"BLPOP", "px:blist", "0"});
    x->Run({"EVAL", "redis.call('set', KEYS[1], 'x'); redis.call('append', KEYS[1], 'y')", "1",
            "px:script"});
    x->Run({"GETDEL", "str:1"});
  }
  ASSERT_EQ(c->Run({"MULTI"}), "status:\"OK\"");
  c->Run({"SET", "px:tx", "1"});
  c->Run({"INCR", "px:tx"});
  c->Run({"EXEC"});
  ref->Run({"SET", "px:tx", "2"});
  Kill9(*s);
  auto again = StartShardis(2, AofArgs(dir));
  ASSERT_NE(again, nullptr) << "restart failed";
  auto c2 = Client::Connect(again->port());
  ExpectSameDataset(*ref, *c2, "after replay");
  EXPECT_EQ(InfoField(*c2, "aof_enabled"), "1");
  again->Stop();
  RemoveTree(dir);
}

TEST(AofTest, RewriteCompactsAndKeepsLaterWrites) {
  std::string dir = MakeTempDir("aof-rewrite");
  auto s = StartShardis(3, AofArgs(dir));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  for (int i = 0; i < 200; ++i) c->Run({"INCR", absl::StrCat("k", i % 10)});
  std::string before = Manifest(dir);
  ASSERT_EQ(c->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "aof_rewrite_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "aof_last_bgrewrite_status"), "ok");
  std::string after = Manifest(dir);
  EXPECT_NE(before, after);
  EXPECT_TRUE(absl::StrContains(after, "appendonly.aof.2.base.rdb seq 2 type b")) << after;
  EXPECT_TRUE(absl::StrContains(after, "appendonly.aof.2.incr.aof seq 2 type i")) << after;
  struct stat st;
  EXPECT_NE(stat((dir + "/appendonlydir/appendonly.aof.1.incr.aof").c_str(), &st), 0)
      << "old incr file deleted";
  c->Run({"INCR", "k0"});
  c->Run({"SET", "after", "rewrite"});
  Kill9(*s);
  auto again = StartShardis(1, AofArgs(dir));
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  EXPECT_EQ(c2->Run({"GET", "k0"}), "str:\"21\"");
  EXPECT_EQ(c2->Run({"GET", "k9"}), "str:\"20\"");
  EXPECT_EQ(c2->Run({"GET", "after"}), "str:\"rewrite\"");
  again->Stop();
  RemoveTree(dir);
}

TEST(AofTest, RewritesUnderConcurrentWritesLoseAndRepeatNothing) {
  std::string dir = MakeTempDir("aof-rewrite-load");
  auto s = StartShardis(3, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  int port = s->port();
  constexpr int kWriters = 4, kOps = 1500, kKeys = 8;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto c = Client::Connect(port);
      if (c == nullptr) {
        failures.fetch_add(1);
        return;
      }
      for (int i = 0; i < kOps; ++i) {
        std::string key = absl::StrCat("w", w, ":", i % kKeys);
        // Alternate single-key INCRs and a cross-shard transaction over two keys.
        if (i % 5 == 0) {
          c->Append({"MULTI"});
          c->Append({"INCR", key});
          c->Append({"INCR", absl::StrCat("pair", w, ":", i % 3)});
          c->Append({"EXEC"});
          for (int r = 0; r < 4; ++r) {
            if (c->GetReply() == nullptr) failures.fetch_add(1);
          }
        } else if (c->Command({"INCR", key}) == nullptr) {
          failures.fetch_add(1);
        }
      }
    });
  }
  auto c = Client::Connect(port);
  for (int r = 0; r < 3; ++r) {
    ASSERT_EQ(c->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
    ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "aof_rewrite_in_progress") == "0"; }));
  }
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);
  Kill9(*s);
  auto again = StartShardis(2, AofArgs(dir));
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  for (int w = 0; w < kWriters; ++w) {
    for (int k = 0; k < kKeys; ++k) {
      int expected = 0;
      for (int i = 0; i < kOps; ++i) expected += i % kKeys == k;
      EXPECT_EQ(c2->Run({"GET", absl::StrCat("w", w, ":", k)}),
                absl::StrCat("str:\"", expected, "\""));
    }
    for (int k = 0; k < 3; ++k) {
      int expected = 0;
      for (int i = 0; i < kOps; i += 5) expected += i % 3 == k;
      EXPECT_EQ(c2->Run({"GET", absl::StrCat("pair", w, ":", k)}),
                absl::StrCat("str:\"", expected, "\""));
    }
  }
  again->Stop();
  RemoveTree(dir);
}

TEST(AofTest, CrossShardMsetAndExecReplayAtomically) {
  std::string dir = MakeTempDir("aof-atomic");
  auto s = StartShardis(3, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 12; ++i) {
    mset.push_back(absl::StrCat("m", i));
    mset.push_back("1");
  }
  ASSERT_EQ(c->Run(mset), "status:\"OK\"");
  ASSERT_EQ(c->Run({"MULTI"}), "status:\"OK\"");
  for (int i = 0; i < 12; ++i) c->Run({"INCR", absl::StrCat("m", i)});
  c->Run({"SELECT", "5"});
  c->Run({"SET", "in5", "x"});
  ASSERT_EQ(c->Run({"EXEC"}).substr(0, 4), "arr:");
  std::string incr = ReadAll(LastIncr(dir));
  // The transaction is one MULTI ... EXEC block in the log.
  size_t multi = incr.find("MULTI");
  size_t exec = incr.find("EXEC");
  ASSERT_NE(multi, std::string::npos) << Escape(incr);
  ASSERT_NE(exec, std::string::npos);
  EXPECT_EQ(incr.find("MULTI", multi + 1), std::string::npos);
  Kill9(*s);
  {
    auto again = StartShardis(2, AofArgs(dir));
    ASSERT_NE(again, nullptr);
    auto c2 = Client::Connect(again->port());
    for (int i = 0; i < 12; ++i) EXPECT_EQ(c2->Run({"GET", absl::StrCat("m", i)}), "str:\"2\"");
    c2->Run({"SELECT", "5"});
    EXPECT_EQ(c2->Run({"GET", "in5"}), "str:\"x\"");
    again->Stop();
  }
  // A crash inside the block (the file ends before EXEC): nothing of it is replayed.
  std::string path = LastIncr(dir);
  std::string data = ReadAll(path);
  size_t cut = data.rfind("*1\r\n$4\r\nEXEC\r\n");
  ASSERT_NE(cut, std::string::npos);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data.substr(0, cut);
  }
  auto again =
      StartShardis(3, {"--dir", dir, "--appendonly", "yes", "--aof-load-truncated", "yes"});
  ASSERT_NE(again, nullptr);
  auto c3 = Client::Connect(again->port());
  for (int i = 0; i < 12; ++i) EXPECT_EQ(c3->Run({"GET", absl::StrCat("m", i)}), "str:\"1\"");
  again->Stop();
  RemoveTree(dir);
}

TEST(AofTest, Kill9UnderFsyncAlwaysLosesNoAcknowledgedWrite) {
  std::string dir = MakeTempDir("aof-crash");
  std::mt19937 rng(std::random_device{}());
  int64_t acked_total = 0;
  for (int round = 0; round < 3; ++round) {
    auto s = StartShardis(2, AofArgs(dir, "always"));
    ASSERT_NE(s, nullptr) << "round " << round;
    {
      auto c = Client::Connect(s->port());
      ReplyPtr r = c->Command({"GET", "counter"});
      int64_t now =
          r && r->type == REDIS_REPLY_STRING ? std::stoll(std::string(r->str, r->len)) : 0;
      EXPECT_GE(now, acked_total) << "round " << round << ": an acknowledged INCR was lost";
      EXPECT_LE(now, acked_total + 1) << "round " << round << ": more than the one in flight";
      acked_total = now;
    }
    std::atomic<int64_t> acked{acked_total};
    std::atomic<bool> stop{false};
    int port = s->port();
    std::thread writer([&] {
      auto w = Client::Connect(port, milliseconds(2000));
      if (w == nullptr) return;
      for (int i = 0; i < 1000000 && !stop.load(); ++i) {
        ReplyPtr r = w->Command({"INCR", "counter"});
        if (r == nullptr || r->type != REDIS_REPLY_INTEGER) return;
        acked.store(r->integer);
      }
    });
    std::this_thread::sleep_for(milliseconds(100 + rng() % 400));
    Kill9(*s);
    stop.store(true);
    writer.join();
    acked_total = acked.load();
  }
  auto s = StartShardis(2, AofArgs(dir));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ReplyPtr r = c->Command({"GET", "counter"});
  ASSERT_TRUE(r && r->type == REDIS_REPLY_STRING);
  int64_t now = std::stoll(std::string(r->str, r->len));
  EXPECT_GE(now, acked_total);
  EXPECT_LE(now, acked_total + 1);
  EXPECT_GT(acked_total, 0);
  s->Stop();
  RemoveTree(dir);
}

TEST(AofTest, TruncatedAndCorruptFiles) {
  std::string dir = MakeTempDir("aof-trunc");
  {
    auto s = StartShardis(2, AofArgs(dir));
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    c->Run({"SET", "a", "1"});
    c->Run({"SET", "b", "2"});
    Kill9(*s);
  }
  std::string path = LastIncr(dir);
  std::string whole = ReadAll(path);
  AppendTo(path, "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhel");
  std::string error;
  auto refused =
      StartShardis(2, {"--dir", dir, "--appendonly", "yes", "--aof-load-truncated", "no"}, &error);
  EXPECT_EQ(refused, nullptr);
  EXPECT_TRUE(absl::StrContains(error, "Unexpected end of file")) << error;
  {
    auto s = StartShardis(2, {"--dir", dir, "--appendonly", "yes", "--aof-load-truncated", "yes"});
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    EXPECT_EQ(c->Run({"GET", "b"}), "str:\"2\"");
    EXPECT_EQ(c->Run({"EXISTS", "c"}), "int:0");
    EXPECT_TRUE(absl::StrContains(s->Log(), "loaded anyway because aof-load-truncated is enabled"));
    c->Run({"SET", "d", "4"});  // appended after the cut: the file stays well formed
    Kill9(*s);
  }
  {
    auto s = StartShardis(1, AofArgs(dir));
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    EXPECT_EQ(c->Run({"GET", "d"}), "str:\"4\"");
    Kill9(*s);
  }
  AppendTo(LastIncr(dir), "garbage\r\n");
  auto corrupt = StartShardis(2, AofArgs(dir), &error);
  EXPECT_EQ(corrupt, nullptr);
  EXPECT_TRUE(absl::StrContains(error, "Bad file format")) << error;
  EXPECT_TRUE(absl::StrContains(error, "offset")) << error;
  EXPECT_TRUE(absl::StrContains(error, "incr.aof")) << error;
  RemoveTree(dir);
}

TEST(AofTest, RedisServerLoadsShardisAofAndBack) {
  std::string dir = MakeTempDir("aof-interchange");
  std::unique_ptr<Client> ref;
  std::unique_ptr<ServerProcess> redis;
  {
    auto s = StartShardis(3, AofArgs(dir));
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    redis = ReferenceWithDataset(&ref, *c);
    ASSERT_NE(redis, nullptr);
    ASSERT_EQ(c->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
    ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "aof_rewrite_in_progress") == "0"; }));
    // Some writes after the rewrite land in the incr file.
    for (Client* x : {ref.get(), c.get()}) {
      x->Run({"SET", "late", "1", "PX", "900000"});
      x->Run({"INCRBYFLOAT", "late:f", "0.5"});
      x->Run({"DEL", "str:2"});
    }
    ASSERT_EQ(c->Run({"SHUTDOWN", "NOSAVE"}), "io-error");
    s->WaitForExit();
  }
  {
    auto loaded = StartRedis({"--dir", dir, "--appendonly", "yes"});
    ASSERT_NE(loaded, nullptr);
    auto c = Client::Connect(loaded->port());
    ExpectSameDataset(*ref, *c, "redis-server loading Shardis's AOF");
    // redis-server appends to the same directory; Shardis then loads what it wrote.
    for (Client* x : {ref.get(), c.get()}) {
      x->Run({"SET", "from", "redis", "EX", "5000"});
      x->Run({"HSET", "from:h", "a", "1"});
    }
    loaded->Stop();
  }
  auto back = StartShardis(2, AofArgs(dir));
  ASSERT_NE(back, nullptr);
  auto c = Client::Connect(back->port());
  ExpectSameDataset(*ref, *c, "Shardis loading redis-server's AOF");
  back->Stop();
  RemoveTree(dir);
}

TEST(AofTest, ShardisLoadsAofWrittenFromScratchByRedis) {
  std::string dir = MakeTempDir("aof-from-redis");
  std::unique_ptr<Client> ref;
  std::unique_ptr<ServerProcess> redis;
  {
    auto r = StartRedis({"--dir", dir, "--appendonly", "yes"});
    ASSERT_NE(r, nullptr);
    auto c = Client::Connect(r->port());
    redis = ReferenceWithDataset(&ref, *c);
    ASSERT_NE(redis, nullptr);
    r->Stop();
  }
  auto s = StartShardis(3, AofArgs(dir));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ExpectSameDataset(*ref, *c, "Shardis loading redis-server's AOF");
  s->Stop();
  RemoveTree(dir);
}

TEST(AofTest, ShardisLoadsRedisAofFormatBase) {
  // aof-use-rdb-preamble no: redis-server's rewrite writes the base as commands (.base.aof).
  std::string dir = MakeTempDir("aof-from-redis-cmds");
  std::unique_ptr<Client> ref;
  std::unique_ptr<ServerProcess> redis;
  {
    auto r = StartRedis({"--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no"});
    ASSERT_NE(r, nullptr);
    auto c = Client::Connect(r->port());
    redis = ReferenceWithDataset(&ref, *c);
    ASSERT_NE(redis, nullptr);
    ASSERT_EQ(c->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
    ASSERT_TRUE(WaitFor([&] {
      return InfoField(*c, "aof_rewrite_in_progress") == "0" &&
             InfoField(*c, "aof_rewrite_scheduled") == "0";
    }));
    for (Client* x : {ref.get(), c.get()}) x->Run({"SET", "after", "rewrite"});
    r->Stop();
  }
  EXPECT_TRUE(absl::StrContains(Manifest(dir), ".base.aof")) << Manifest(dir);
  auto s = StartShardis(3, AofArgs(dir));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ExpectSameDataset(*ref, *c, "Shardis loading redis-server's command-form base");
  s->Stop();
  RemoveTree(dir);
}

TEST(AofTest, WriteErrorRefusesWritesWithMisconf) {
  // The incr file is made a link to /dev/full: every write to it fails with ENOSPC.
  std::string dir = MakeTempDir("aof-full");
  {
    auto s = StartShardis(2, AofArgs(dir));
    ASSERT_NE(s, nullptr);
    Kill9(*s);
  }
  std::string incr = LastIncr(dir);
  ASSERT_EQ(unlink(incr.c_str()), 0);
  ASSERT_EQ(symlink("/dev/full", incr.c_str()), 0);
  auto s = StartShardis(2, AofArgs(dir));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  EXPECT_EQ(c->Run({"SET", "a", "1"}), "status:\"OK\"");  // logged after it ran: the write fails
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "aof_last_write_status") == "err"; }));
  EXPECT_EQ(c->Run({"SET", "b", "2"}),
            "err:\"MISCONF Errors writing to the AOF file: No space left on device\"");
  EXPECT_EQ(c->Run({"PING"}),
            "err:\"MISCONF Errors writing to the AOF file: No space left on device\"");
  EXPECT_EQ(c->Run({"GET", "a"}), "str:\"1\"");  // reads still work
  EXPECT_TRUE(
      absl::StrContains(s->Log(), "Error writing to the AOF file: No space left on device"));
  s->Stop();
  RemoveTree(dir);
}

TEST(AofTest, ConfigSetAppendonlyAtRuntime) {
  std::string dir = MakeTempDir("aof-config");
  auto s = StartShardis(2, {"--dir", dir});
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  c->Run({"SET", "before", "1"});
  EXPECT_EQ(InfoField(*c, "aof_enabled"), "0");
  ASSERT_EQ(c->Run({"CONFIG", "SET", "appendonly", "yes"}), "status:\"OK\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "aof_rewrite_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "aof_enabled"), "1");
  c->Run({"SET", "after", "2"});
  ASSERT_EQ(c->Run({"CONFIG", "SET", "appendfsync", "always"}), "status:\"OK\"");
  c->Run({"SET", "synced", "3"});
  Kill9(*s);
  auto again = StartShardis(2, AofArgs(dir));
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  EXPECT_EQ(c2->Run({"GET", "before"}), "str:\"1\"");
  EXPECT_EQ(c2->Run({"GET", "after"}), "str:\"2\"");
  EXPECT_EQ(c2->Run({"GET", "synced"}), "str:\"3\"");
  again->Stop();
  RemoveTree(dir);
}

// ---- Functions and consumer groups ----

// The commands of an AOF incr file, one rendered line each, SELECTs included where the database
// changes. (Shardis's threads each start what they append with a SELECT.)
std::vector<std::string> IncrCommands(const std::string& path) {
  std::string db;
  std::string data = ReadAll(path);
  std::vector<std::string> out;
  std::string_view rest(data);
  while (!rest.empty()) {
    RespValue v;
    int64_t n = ParseResp(rest, &v);
    if (n <= 0) break;
    std::vector<std::string> argv;
    for (const RespValue& e : v.elems) argv.push_back(e.str);
    rest.remove_prefix(static_cast<size_t>(n));
    if (argv.size() == 2 && argv[0] == "SELECT") {
      if (argv[1] == db) continue;
      db = argv[1];
    }
    out.push_back(RenderCommand(argv));
  }
  return out;
}

std::string Lib(const std::string& name, const std::string& fn, int value) {
  return absl::StrCat("#!lua name=", name, "\nredis.register_function('", fn,
                      "', function(keys, args) return ", value, " end)");
}

// FCALL's answers for f1, f3, f4 (and so which libraries, in which version, are loaded), asked
// on several connections (so on several reactor threads).
std::string FunctionState(int port) {
  std::string out;
  for (int i = 0; i < 3; ++i) {
    auto c = Client::Connect(port);
    if (c == nullptr) return "no connection";
    for (const char* f : {"f1", "f3", "f4"}) absl::StrAppend(&out, c->Run({"FCALL", f, "0"}), " ");
  }
  return out;
}

TEST(AofTest, FunctionLibrariesAreLoggedReplayedAndKeptInTheBase) {
  std::string dir = MakeTempDir("aof-functions");
  std::string rdir = MakeTempDir("aof-functions-redis");
  auto s = StartShardis(3, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  auto redis = StartRedis({"--dir", rdir, "--appendonly", "yes"});
  ASSERT_NE(redis, nullptr);
  auto c = Client::Connect(s->port());
  auto r = Client::Connect(redis->port());
  ASSERT_EQ(c->Run({"FUNCTION", "LOAD", Lib("lib1", "f1", 1)}), "str:\"lib1\"");
  ASSERT_EQ(c->Run({"FUNCTION", "LOAD", Lib("lib3", "f3", 3)}), "str:\"lib3\"");
  ReplyPtr dump = c->Command({"FUNCTION", "DUMP"});
  ASSERT_TRUE(dump != nullptr && dump->type == REDIS_REPLY_STRING);
  std::string payload(dump->str, dump->len);
  ASSERT_EQ(c->Run({"FUNCTION", "FLUSH"}), "status:\"OK\"");
  for (Client* x : {c.get(), r.get()}) {
    x->Run({"FUNCTION", "LOAD", Lib("lib1", "f1", 1)});
    x->Run({"FUNCTION", "LOAD", "REPLACE", Lib("lib1", "f1", 2)});
    x->Run({"FUNCTION", "LOAD", Lib("lib2", "f2", 2)});
    x->Run({"FUNCTION", "DELETE", "lib2"});
    EXPECT_EQ(x->Run({"FUNCTION", "DELETE", "nosuch"}), "err:\"ERR Library not found\"");
    x->Run({"SELECT", "3"});
    x->Run({"FUNCTION", "LOAD", Lib("lib3", "f3", 30)});
    x->Run({"SELECT", "0"});
    x->Run({"FUNCTION", "FLUSH", "ASYNC"});
    x->Run({"FUNCTION", "LOAD", Lib("lib4", "f4", 4)});
    x->Run({"FUNCTION", "RESTORE", payload, "FLUSH"});
    x->Run({"FUNCTION", "LOAD", Lib("lib4", "f4", 4)});
  }
  const std::string expected = "int:1 int:3 int:4 ";  // lib1 and lib3 as dumped
  ASSERT_EQ(FunctionState(s->port()), expected + expected + expected);
  // The records are redis-server's (the Shardis log also holds the three commands before; the
  // redis-server's log is read once it stopped: under everysec it may delay its writes).
  redis->Stop();
  std::vector<std::string> ours = IncrCommands(LastIncr(dir));
  std::vector<std::string> theirs = IncrCommands(LastIncr(rdir));
  ASSERT_EQ(ours.size(), theirs.size() + 3) << absl::StrJoin(ours, "\n");
  ours.erase(ours.begin() + 1, ours.begin() + 4);
  EXPECT_EQ(absl::StrJoin(ours, "\n"), absl::StrJoin(theirs, "\n"));
  Kill9(*s);

  auto again = StartShardis(2, AofArgs(dir));
  ASSERT_NE(again, nullptr) << "restart failed";
  EXPECT_EQ(FunctionState(again->port()), expected + expected + expected) << "after replay";
  auto c2 = Client::Connect(again->port());
  ASSERT_EQ(c2->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c2, "aof_rewrite_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c2, "aof_last_bgrewrite_status"), "ok");
  ASSERT_EQ(c2->Run({"FUNCTION", "DELETE", "lib4"}), "status:\"OK\"");  // in the new incr file
  Kill9(*again);

  const std::string after_delete = "int:1 int:3 err:\"ERR Function not found\" ";
  auto third = StartShardis(3, AofArgs(dir));
  ASSERT_NE(third, nullptr) << "restart from the rewritten base failed";
  EXPECT_EQ(FunctionState(third->port()), after_delete + after_delete + after_delete);
  third->Stop();
  // redis-server reads the libraries of Shardis's base (RDB FUNCTION2 records) and its log.
  auto loaded = StartRedis({"--dir", dir, "--appendonly", "yes"});
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(FunctionState(loaded->port()), after_delete + after_delete + after_delete);
  loaded->Stop();
  RemoveTree(dir);
  RemoveTree(rdir);
}

TEST(AofTest, RdbSnapshotsKeepFunctionLibraries) {
  std::string dir = MakeTempDir("rdb-functions");
  auto s = StartShardis(3, {"--dir", dir});
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ASSERT_EQ(c->Run({"FUNCTION", "LOAD", Lib("lib1", "f1", 1)}), "str:\"lib1\"");
  ASSERT_EQ(c->Run({"FUNCTION", "LOAD", Lib("lib3", "f3", 3)}), "str:\"lib3\"");
  c->Run({"SET", "k", "v"});
  const std::string loaded = "int:1 int:3 err:\"ERR Function not found\" ";
  ASSERT_EQ(c->Run({"DEBUG", "RELOAD"}), "status:\"OK\"");
  EXPECT_EQ(FunctionState(s->port()), loaded + loaded + loaded) << "after DEBUG RELOAD";
  ASSERT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
  Kill9(*s);
  {
    auto again = StartShardis(2, {"--dir", dir});
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(FunctionState(again->port()), loaded + loaded + loaded) << "BGSAVE's file";
    auto c2 = Client::Connect(again->port());
    EXPECT_EQ(c2->Run({"GET", "k"}), "str:\"v\"");
    ASSERT_EQ(c2->Run({"FUNCTION", "DELETE", "lib3"}), "status:\"OK\"");
    ASSERT_EQ(c2->Run({"SHUTDOWN", "SAVE"}), "io-error");
    again->WaitForExit();
  }
  const std::string one = "int:1 err:\"ERR Function not found\" err:\"ERR Function not found\" ";
  {
    auto redis = StartRedis({"--dir", dir});  // the shutdown save, in redis-server
    ASSERT_NE(redis, nullptr);
    EXPECT_EQ(FunctionState(redis->port()), one + one + one);
    // And back: redis-server's file (its code strings LZF-compressed) in Shardis.
    auto r = Client::Connect(redis->port());
    ASSERT_EQ(r->Run({"FUNCTION", "LOAD", Lib("lib4", "f4", 4)}), "str:\"lib4\"");
    ASSERT_EQ(r->Run({"SAVE"}), "status:\"OK\"");
    redis->Stop();
  }
  auto back = StartShardis(2, {"--dir", dir});
  ASSERT_NE(back, nullptr);
  const std::string two = "int:1 err:\"ERR Function not found\" int:4 ";
  EXPECT_EQ(FunctionState(back->port()), two + two + two);
  back->Stop();
  RemoveTree(dir);
}

// Replaces each consumer's seen-time (set by whoever replays, in Redis too) in a rendering.
std::string MaskSeenTime(std::string s) {
  const std::string tag = "str:\"seen-time\",int:";
  for (size_t p = s.find(tag); p != std::string::npos; p = s.find(tag, p + tag.size())) {
    size_t q = p + tag.size();
    size_t e = q;
    while (e < s.size() && (isdigit(static_cast<unsigned char>(s[e])) || s[e] == '-')) ++e;
    s.replace(q, e - q, "T");
  }
  return s;
}

// A stream's consumer groups as far as a replay must give them back: XINFO STREAM FULL (seen
// times masked), and per group XPENDING's summary and extended form (idle times left out: they
// grow with the clock; the delivery times are in XINFO).
std::string GroupState(Client& c, const std::string& key) {
  std::string out = MaskSeenTime(c.Run({"XINFO", "STREAM", key, "FULL"}));
  for (const char* g : {"g", "g2"}) {
    absl::StrAppend(&out, "\n", g, ": ", c.Run({"XPENDING", key, g}), "\n");
    ReplyPtr r = c.Command({"XPENDING", key, g, "-", "+", "100"});
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY) {
      absl::StrAppend(&out, Render(r.get()));
      continue;
    }
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 4) continue;
      absl::StrAppend(&out, Render(e->element[0]), " ", Render(e->element[1]), " ",
                      Render(e->element[3]), "; ");
    }
  }
  return out;
}

int64_t BlockedClients(Client& c) {
  ReplyPtr r = c.Command({"INFO", "clients"});
  if (r == nullptr || r->type != REDIS_REPLY_STRING) return -1;
  std::string text(r->str, r->len);
  size_t at = text.find("blocked_clients:");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + 16));
}

// The consumer-group commands whose effect depends on the clock or on the group's state
// (XREADGROUP new and history reads, NOACK, served when blocked, in MULTI; XCLAIM with IDLE /
// RETRYCOUNT / JUSTID; XAUTOCLAIM, over deleted entries too) are logged with explicit IDs, times
// and counts: a replay gives back the same PEL, by Shardis and by redis-server.
void RunGroupCommands(Client& c, int port) {
  for (int i = 1; i <= 6; ++i) c.Run({"XADD", "s", absl::StrCat(i, "-1"), "f", "v"});
  c.Run({"XGROUP", "CREATE", "s", "g", "0"});
  c.Run({"XGROUP", "CREATE", "s", "g2", "0"});
  c.Run({"XGROUP", "CREATECONSUMER", "s", "g", "alice"});
  c.Run({"XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"});
  c.Run({"XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"});
  c.Run({"XREADGROUP", "GROUP", "g", "carol", "NOACK", "COUNT", "1", "STREAMS", "s", ">"});
  c.Run({"XREADGROUP", "GROUP", "g", "dave", "COUNT", "2", "STREAMS", "s", ">"});
  c.Run({"XCLAIM", "s", "g", "alice", "0", "1-1"});
  c.Run({"XCLAIM", "s", "g", "alice", "0", "2-1", "IDLE", "5000", "RETRYCOUNT", "7", "JUSTID"});
  c.Run({"XAUTOCLAIM", "s", "g", "erin", "0", "0-0", "COUNT", "1"});
  c.Run({"XDEL", "s", "2-1"});
  c.Run({"XAUTOCLAIM", "s", "g", "frank", "0", "0-0", "COUNT", "3"});
  c.Run({"XACK", "s", "g", "5-1"});
  c.Run({"XREADGROUP", "GROUP", "g2", "zed", "STREAMS", "s", ">"});
  c.Run({"XGROUP", "SETID", "s", "g2", "3-1", "ENTRIESREAD", "2"});
  c.Run({"XGROUP", "DELCONSUMER", "s", "g", "carol"});
  c.Run({"MULTI"});
  c.Run({"XREADGROUP", "GROUP", "g", "ivy", "COUNT", "1", "STREAMS", "s", ">"});
  c.Run({"XACK", "s", "g", "1-1"});
  c.Run({"EXEC"});
  // A blocked XREADGROUP, served by an XADD.
  std::thread reader([port] {
    auto b = Client::Connect(port);
    if (b != nullptr)
      b->Run({"XREADGROUP", "GROUP", "g", "hank", "BLOCK", "0", "STREAMS", "s", ">"});
  });
  WaitFor([&] { return BlockedClients(c) == 1; });
  c.Run({"XADD", "s", "7-1", "f", "v"});
  reader.join();
}

TEST(AofTest, ConsumerGroupsReplayToTheSamePel) {
  std::string dir = MakeTempDir("aof-groups");
  auto s = StartShardis(3, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  RunGroupCommands(*c, s->port());
  std::string before = GroupState(*c, "s");
  ASSERT_TRUE(absl::StrContains(before, "str:\"hank\"")) << before;
  std::string incr = ReadAll(LastIncr(dir));
  EXPECT_FALSE(absl::StrContains(incr, "XREADGROUP")) << Escape(incr);
  EXPECT_FALSE(absl::StrContains(incr, "XAUTOCLAIM")) << Escape(incr);
  Kill9(*s);
  {
    auto again = StartShardis(2, AofArgs(dir));
    ASSERT_NE(again, nullptr) << "restart failed";
    auto c2 = Client::Connect(again->port());
    EXPECT_EQ(GroupState(*c2, "s"), before) << "after replay";
    // Through a rewrite: the base holds the groups.
    ASSERT_EQ(c2->Run({"BGREWRITEAOF"}),
              "status:\"Background append only file rewriting started\"");
    ASSERT_TRUE(WaitFor([&] { return InfoField(*c2, "aof_rewrite_in_progress") == "0"; }));
    Kill9(*again);
  }
  {
    auto again = StartShardis(1, AofArgs(dir));
    ASSERT_NE(again, nullptr) << "restart after the rewrite failed";
    auto c2 = Client::Connect(again->port());
    EXPECT_EQ(GroupState(*c2, "s"), before) << "after the rewrite";
    again->Stop();
  }
  RemoveTree(dir);
}

TEST(AofTest, RedisServerReplaysShardisConsumerGroupRecords) {
  std::string dir = MakeTempDir("aof-groups-redis");
  auto s = StartShardis(2, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  RunGroupCommands(*c, s->port());
  std::string before = GroupState(*c, "s");
  Kill9(*s);
  auto redis = StartRedis({"--dir", dir, "--appendonly", "yes"});
  ASSERT_NE(redis, nullptr);
  auto r = Client::Connect(redis->port());
  EXPECT_EQ(GroupState(*r, "s"), before);
  redis->Stop();
  RemoveTree(dir);
}

// ---- Crashes and full disks ----

// appendfsync everysec, kill -9 at random moments while one client RPUSHes 0, 1, 2... to a list
// (each push acknowledged before the next): after each restart the list is exactly 0..n-1 (a
// prefix of what was sent: nothing reordered, nothing skipped), holds every push acknowledged
// more than 3 s before the kill (everysec loses at most about a second on a machine crash; a
// process kill loses nothing written), and at most the one push in flight beyond the last
// acknowledged one. The first round runs past 3 s so that bound says something.
TEST(AofTest, Kill9UnderEverysecKeepsAPrefixOfAcknowledgedWrites) {
  using Clock = std::chrono::steady_clock;
  std::string dir = MakeTempDir("aof-everysec");
  std::mt19937 rng(std::random_device{}());
  int64_t length = 0;       // what the last restart found
  int64_t must_have = 0;    // pushes acknowledged more than 3 s before the last kill
  int64_t last_acked = -1;  // the last acknowledged push (its value)
  for (int round = 0; round <= 3; ++round) {
    auto s = StartShardis(2, AofArgs(dir, "everysec"));
    ASSERT_NE(s, nullptr) << "round " << round;
    auto c = Client::Connect(s->port());
    ReplyPtr len = c->Command({"LLEN", "log"});
    ASSERT_TRUE(len != nullptr && len->type == REDIS_REPLY_INTEGER);
    length = len->integer;
    EXPECT_GE(length, must_have) << "round " << round << ": lost more than 3 s of writes";
    EXPECT_LE(length, last_acked + 2) << "round " << round << ": more than the push in flight";
    for (int64_t from = 0; from < length; from += 10000) {
      ReplyPtr r = c->Command({"LRANGE", "log", absl::StrCat(from), absl::StrCat(from + 9999)});
      ASSERT_TRUE(r != nullptr && r->type == REDIS_REPLY_ARRAY);
      for (size_t i = 0; i < r->elements; ++i) {
        ASSERT_EQ(std::string(r->element[i]->str, r->element[i]->len),
                  absl::StrCat(from + static_cast<int64_t>(i)))
            << "round " << round << ": not a prefix of the pushes";
      }
    }
    if (round == 3) {
      s->Stop();
      break;
    }
    // (time, value) of each acknowledged push; written by the writer, read after it stopped.
    std::vector<std::pair<Clock::time_point, int64_t>> acks;
    std::atomic<bool> stop{false};
    std::atomic<int64_t> acked{0};
    int port = s->port();
    int64_t first = length;
    std::thread writer([&] {
      auto w = Client::Connect(port, milliseconds(2000));
      if (w == nullptr) return;
      for (int64_t v = first; v < first + 400000 && !stop.load(); ++v) {
        ReplyPtr r = w->Command({"RPUSH", "log", absl::StrCat(v)});
        if (r == nullptr || r->type != REDIS_REPLY_INTEGER) return;
        acks.emplace_back(Clock::now(), v);
        acked.fetch_add(1);
      }
    });
    // The kill comes a random time after the first acknowledged push.
    EXPECT_TRUE(WaitFor([&] { return acked.load() > 0; })) << "round " << round;
    int ms =
        round == 0 ? 3200 + static_cast<int>(rng() % 500) : 200 + static_cast<int>(rng() % 600);
    std::this_thread::sleep_for(milliseconds(ms));
    Clock::time_point kill_at = Clock::now();
    Kill9(*s);
    stop.store(true);
    writer.join();
    must_have = length;
    last_acked = acks.empty() ? length - 1 : acks.back().second;
    for (const auto& [at, v] : acks) {
      if (at < kill_at - std::chrono::seconds(3)) must_have = v + 1;
    }
    if (round == 0) {
      EXPECT_GT(must_have, length) << "no push acknowledged 3 s before the kill";
    }
  }
  RemoveTree(dir);
}

TEST(AofTest, WriteErrorUnderFsyncAlwaysExits) {
  // As redis-server: the reply of a write that could not be logged must not go out.
  std::string dir = MakeTempDir("aof-full-always");
  {
    auto s = StartShardis(2, AofArgs(dir, "always"));
    ASSERT_NE(s, nullptr);
    auto c = Client::Connect(s->port());
    ASSERT_EQ(c->Run({"SET", "kept", "1"}), "status:\"OK\"");
    Kill9(*s);
  }
  std::string incr = LastIncr(dir);
  std::string kept = ReadAll(incr);
  ASSERT_EQ(unlink(incr.c_str()), 0);
  ASSERT_EQ(symlink("/dev/full", incr.c_str()), 0);
  auto s = StartShardis(2, AofArgs(dir, "always"));
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  EXPECT_EQ(c->Run({"SET", "lost", "1"}), "io-error");  // no reply: the process exits
  ASSERT_TRUE(s->WaitForExit());
  EXPECT_EQ(s->exit_code(), 1) << s->DescribeExit();
  EXPECT_TRUE(
      absl::StrContains(s->Log(), "Error writing to the AOF file: No space left on device"));
  EXPECT_TRUE(absl::StrContains(
      s->Log(), "Can't recover from AOF write error when the AOF fsync policy is 'always'"));
  // With the file back, nothing unacknowledged is there.
  ASSERT_EQ(unlink(incr.c_str()), 0);
  {
    std::ofstream out(incr, std::ios::binary);
    out << kept;
  }
  auto again = StartShardis(2, AofArgs(dir));
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  EXPECT_EQ(c2->Run({"GET", "kept"}), "str:\"1\"");
  EXPECT_EQ(c2->Run({"EXISTS", "lost"}), "int:0");
  again->Stop();
  RemoveTree(dir);
}

TEST(AofTest, DiskFullDuringBgsaveAndRewrite) {
  // A full disk, as root too: the temp file each writer creates is made a link to /dev/full.
  std::string dir = MakeTempDir("disk-full");
  std::vector<std::string> args = AofArgs(dir);
  for (const char* a : {"--save", "3600", "1"}) args.push_back(a);  // MISCONF needs a schedule
  auto s = StartShardis(2, args);
  ASSERT_NE(s, nullptr);
  auto c = Client::Connect(s->port());
  ASSERT_EQ(c->Run({"SET", "a", "1"}), "status:\"OK\"");
  std::string rdb_temp = absl::StrCat(dir, "/temp-", s->pid(), ".rdb");
  ASSERT_EQ(symlink("/dev/full", rdb_temp.c_str()), 0);
  EXPECT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "err");
  EXPECT_TRUE(absl::StrContains(c->Run({"SET", "b", "2"}), "MISCONF Redis is configured to save"));
  EXPECT_TRUE(absl::StrContains(s->Log(), "No space left on device")) << s->LogTail();
  unlink(rdb_temp.c_str());  // (the failed save removed it already)
  EXPECT_EQ(c->Run({"BGSAVE"}), "status:\"Background saving started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "rdb_bgsave_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "rdb_last_bgsave_status"), "ok");
  ASSERT_EQ(c->Run({"SET", "b", "2"}), "status:\"OK\"");
  // The AOF rewrite's base cannot be written: the rewrite fails, writes go on (to the new incr
  // file, already in the manifest) and are all replayed.
  std::string aof_temp = absl::StrCat(dir, "/appendonlydir/temp-", s->pid(), ".rdb");
  ASSERT_EQ(symlink("/dev/full", aof_temp.c_str()), 0);
  ASSERT_EQ(c->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c, "aof_rewrite_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c, "aof_last_bgrewrite_status"), "err");
  EXPECT_EQ(c->Run({"SET", "c", "3"}), "status:\"OK\"");
  unlink(aof_temp.c_str());
  Kill9(*s);
  auto again = StartShardis(2, AofArgs(dir));
  ASSERT_NE(again, nullptr);
  auto c2 = Client::Connect(again->port());
  EXPECT_EQ(c2->Run({"MGET", "a", "b", "c"}), "arr:[str:\"1\",str:\"2\",str:\"3\"]");
  again->Stop();
  RemoveTree(dir);
}

}  // namespace
}  // namespace shardis::test
