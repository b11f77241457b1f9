// AOF persistence end to end: the varied dataset (every type, 16 databases, expiries) survives a
// kill -9 through replay; BGREWRITEAOF compacts into a new base and keeps later writes; the
// multi-shard MSET / EXEC are logged as one command / one MULTI-EXEC and replay atomically;
// kill -9 under appendfsync always loses no acknowledged INCR; a truncated last file loads with
// aof-load-truncated yes (cut at the last whole command) and refuses to start with no; a corrupt
// file refuses to start naming file and offset; redis-server 7.0 loads a Shardis AOF directory
// and Shardis loads redis-server's; CONFIG SET appendonly yes at runtime starts with a rewrite.
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
#include "gtest/gtest.h"
#include "tests/rdb_dataset.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void AppendTo(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << data;
}

std::string InfoField(Client& c, const std::string& name) {
  ReplyPtr r = c.Command({"INFO", "persistence"});
  if (r == nullptr || r->type != REDIS_REPLY_STRING) return "";
  std::string text(r->str, r->len);
  std::string key = name + ":";
  size_t pos = text.find(key);
  if (pos == std::string::npos) return "";
  size_t end = text.find("\r\n", pos);
  return text.substr(pos + key.size(), end - pos - key.size());
}

template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
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

}  // namespace
}  // namespace shardis::test
