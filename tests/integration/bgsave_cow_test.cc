// BGSAVE without fork (incremental, copy-on-write at the entry level): the file is one point in
// time across every shard while clients keep writing. DEBUG SNAPSHOT-PAUSE holds the
// serialization after the snapshot instant so that changes certainly fall inside the snapshot
// (no timing assumptions); the files are loaded by the reference redis-server and checked.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;

class BgsaveCowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (AgainstRedis()) GTEST_SKIP() << "uses Shardis's DEBUG SNAPSHOT-PAUSE";
    server_ = StartShardis(4, {"--enable-debug-command", "yes"});
    ASSERT_NE(server_, nullptr);
    c_ = Client::Connect(server_->port());
    ASSERT_NE(c_, nullptr);
  }
  // Waits for the BGSAVE to end and loads its file in redis-server.
  std::unique_ptr<Client> LoadResult() {
    EXPECT_TRUE(WaitFor([&] { return InfoField(*c_, "rdb_bgsave_in_progress") == "0"; }));
    EXPECT_EQ(InfoField(*c_, "rdb_last_bgsave_status"), "ok");
    loaded_ = StartRedis({"--dir", server_->dir(), "--dbfilename", "dump.rdb"});
    if (loaded_ == nullptr) return nullptr;
    return Client::Connect(loaded_->port());
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<ServerProcess> loaded_;
  std::unique_ptr<Client> c_;
};

TEST_F(BgsaveCowTest, ChangesAfterTheInstantAreNotInTheFile) {
  constexpr int kKeys = 2000;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(c_->Run({"SET", absl::StrCat("k", i), absl::StrCat("old", i)}), "status:\"OK\"");
  }
  ASSERT_EQ(c_->Run({"RPUSH", "list", "a", "b"}), "int:2");
  ASSERT_EQ(c_->Run({"HSET", "hash", "f", "1"}), "int:1");
  ASSERT_EQ(c_->Run({"SET", "ttl", "t", "EX", "1000"}), "status:\"OK\"");
  ASSERT_EQ(c_->Run({"SELECT", "1"}), "status:\"OK\"");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(c_->Run({"SET", absl::StrCat("one", i), "1"}), "status:\"OK\"");
  }
  ASSERT_EQ(c_->Run({"SELECT", "0"}), "status:\"OK\"");

  ASSERT_EQ(c_->Run({"DEBUG", "SNAPSHOT-PAUSE", "1"}), "status:\"OK\"");
  ASSERT_EQ(c_->Run({"BGSAVE"}), "status:\"Background saving started\"");
  EXPECT_EQ(InfoField(*c_, "rdb_bgsave_in_progress"), "1");
  EXPECT_EQ(InfoField(*c_, "current_save_keys_total"), std::to_string(kKeys + 3 + 100));
  EXPECT_EQ(InfoField(*c_, "current_save_keys_processed"), "0");
  EXPECT_EQ(c_->Run({"BGSAVE"}), "err:\"ERR Background save already in progress\"");
  // Every kind of change, on every shard, inside the snapshot.
  for (int i = 0; i < kKeys; ++i) {
    std::string key = absl::StrCat("k", i);
    switch (i % 4) {
      case 0:
        c_->Run({"SET", key, "new"});
        break;
      case 1:
        c_->Run({"DEL", key});
        break;
      case 2:
        c_->Run({"APPEND", key, "+"});
        break;
      default:
        c_->Run({"RENAME", key, absl::StrCat("renamed", i)});
        break;
    }
    c_->Run({"SET", absl::StrCat("added", i), "x"});
  }
  EXPECT_EQ(c_->Run({"RPUSH", "list", "c"}), "int:3");
  EXPECT_EQ(c_->Run({"HSET", "hash", "g", "2"}), "int:1");
  EXPECT_EQ(c_->Run({"PERSIST", "ttl"}), "int:1");
  EXPECT_EQ(c_->Run({"SWAPDB", "0", "2"}), "status:\"OK\"");
  EXPECT_EQ(c_->Run({"SELECT", "1"}), "status:\"OK\"");
  EXPECT_EQ(c_->Run({"FLUSHDB"}), "status:\"OK\"");
  ASSERT_EQ(c_->Run({"DEBUG", "SNAPSHOT-PAUSE", "0"}), "status:\"OK\"");

  auto lc = LoadResult();
  ASSERT_NE(lc, nullptr);
  EXPECT_EQ(lc->Run({"DBSIZE"}), absl::StrCat("int:", kKeys + 3));
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(lc->Run({"GET", absl::StrCat("k", i)}), absl::StrCat("str:\"old", i, "\""));
  }
  EXPECT_EQ(lc->Run({"LRANGE", "list", "0", "-1"}), "arr:[str:\"a\",str:\"b\"]");
  EXPECT_EQ(lc->Run({"HGETALL", "hash"}), "arr:[str:\"f\",str:\"1\"]");
  EXPECT_NE(lc->Run({"TTL", "ttl"}), "int:-1");
  EXPECT_EQ(lc->Run({"SELECT", "1"}), "status:\"OK\"");
  EXPECT_EQ(lc->Run({"DBSIZE"}), "int:100");
  EXPECT_EQ(lc->Run({"SELECT", "2"}), "status:\"OK\"");
  EXPECT_EQ(lc->Run({"DBSIZE"}), "int:0");
  EXPECT_NE(InfoField(*c_, "rdb_last_cow_size"), "0");
}

// BGREWRITEAOF serializes its base as BGSAVE does (after the instant, copy-on-write) while the
// writes after the instant go to the new incr file: replayed (here by redis-server), base + incr
// give exactly the final data, nothing applied twice or lost.
TEST_F(BgsaveCowTest, AofRewriteBaseIsTheInstantAndLaterWritesReplayOnce) {
  server_ = StartShardis(4, {"--enable-debug-command", "yes", "--appendonly", "yes"});
  ASSERT_NE(server_, nullptr);
  c_ = Client::Connect(server_->port());
  ASSERT_NE(c_, nullptr);
  constexpr int kKeys = 1000;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_EQ(c_->Run({"SET", absl::StrCat("k", i), "10"}), "status:\"OK\"");
  }
  ASSERT_EQ(c_->Run({"RPUSH", "list", "a"}), "int:1");
  ASSERT_EQ(c_->Run({"DEBUG", "SNAPSHOT-PAUSE", "1"}), "status:\"OK\"");
  ASSERT_EQ(c_->Run({"BGREWRITEAOF"}), "status:\"Background append only file rewriting started\"");
  EXPECT_EQ(InfoField(*c_, "aof_rewrite_in_progress"), "1");
  // Not idempotent on purpose: applied twice (base and incr) they would show.
  for (int i = 0; i < kKeys; ++i) {
    std::string key = absl::StrCat("k", i);
    if (i % 3 == 0) {
      ASSERT_EQ(c_->Run({"DEL", key}), "int:1");
    } else {
      ASSERT_EQ(c_->Run({"INCR", key}), "int:11");
    }
  }
  ASSERT_EQ(c_->Run({"RPUSH", "list", "b"}), "int:2");
  ASSERT_EQ(c_->Run({"DEBUG", "SNAPSHOT-PAUSE", "0"}), "status:\"OK\"");
  ASSERT_TRUE(WaitFor([&] { return InfoField(*c_, "aof_rewrite_in_progress") == "0"; }));
  EXPECT_EQ(InfoField(*c_, "aof_last_bgrewrite_status"), "ok");
  ASSERT_EQ(c_->Run({"INCR", "k1"}), "int:12");  // after the rewrite: in the new incr file too
  loaded_ = StartRedis({"--dir", server_->dir(), "--appendonly", "yes"});
  ASSERT_NE(loaded_, nullptr);
  auto lc = Client::Connect(loaded_->port());
  ASSERT_NE(lc, nullptr);
  EXPECT_EQ(lc->Run({"DBSIZE"}), absl::StrCat("int:", kKeys - (kKeys + 2) / 3 + 1));
  for (int i = 0; i < kKeys; ++i) {
    std::string want = i % 3 == 0 ? "nil" : (i == 1 ? "str:\"12\"" : "str:\"11\"");
    ASSERT_EQ(lc->Run({"GET", absl::StrCat("k", i)}), want) << i;
  }
  EXPECT_EQ(lc->Run({"LRANGE", "list", "0", "-1"}), "arr:[str:\"a\",str:\"b\"]");
}

// Writers keep invariants that hold only between their operations: pairs of counters on two
// shards bumped by one MULTI/EXEC, cross-shard MSETs of two equal values, per-shard pairs. The
// snapshot instant is ordered with them, so the file satisfies every invariant.
TEST_F(BgsaveCowTest, ConcurrentMultiShardWritersSeeOnePointInTime) {
  constexpr int kPairs = 8;
  ASSERT_EQ(c_->Run({"DEBUG", "POPULATE", "20000"}), "status:\"OK\"");
  for (int p = 0; p < kPairs; ++p) {
    for (const char* k : {"pa:", "pb:", "{h}ha:", "{h}hb:"}) {
      ASSERT_EQ(c_->Run({"SET", absl::StrCat(k, p), "0"}), "status:\"OK\"");
    }
  }
  constexpr int kWriters = 2;
  constexpr int kMaxOps = 4000;  // per writer: a bound, whatever the timing
  std::atomic<int> ops{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto c = Client::Connect(server_->port());
      if (c == nullptr) {
        ++failures;
        return;
      }
      for (int i = 0; i < kMaxOps && !stop.load(); ++i) {
        int p = (i + w) % kPairs;
        std::string n = std::to_string(i);
        c->Run({"MULTI"});
        c->Run({"INCR", absl::StrCat("pa:", p)});
        c->Run({"INCR", absl::StrCat("pb:", p)});
        if (c->Run({"EXEC"}).rfind("arr:", 0) != 0) ++failures;
        // Writer w's i-th MSET: its progress on two shards, and one populated key it changes.
        if (c->Run({"MSET", absl::StrCat("ma:", w), n, absl::StrCat("mb:", w), n,
                    absl::StrCat("key:", w * 10000 + i), absl::StrCat("w", n)}) !=
            "status:\"OK\"") {
          ++failures;
        }
        c->Run({"MULTI"});
        c->Run({"INCR", absl::StrCat("{h}ha:", p)});
        c->Run({"INCR", absl::StrCat("{h}hb:", p)});
        c->Run({"EXEC"});
        ops.fetch_add(1);
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return ops.load() >= 50; }));
  ASSERT_EQ(c_->Run({"DEBUG", "SNAPSHOT-PAUSE", "1"}), "status:\"OK\"");
  ASSERT_EQ(c_->Run({"BGSAVE"}), "status:\"Background saving started\"");
  int at_save = ops.load();
  // Writes certainly inside the snapshot, then the walk goes on while the writers continue.
  EXPECT_TRUE(WaitFor([&] { return ops.load() >= at_save + 200 || ops.load() >= kMaxOps; }));
  ASSERT_EQ(c_->Run({"DEBUG", "SNAPSHOT-PAUSE", "0"}), "status:\"OK\"");
  auto lc = LoadResult();
  stop.store(true);
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_NE(lc, nullptr);
  for (int p = 0; p < kPairs; ++p) {
    std::string a = lc->Run({"GET", absl::StrCat("pa:", p)});
    EXPECT_EQ(a, lc->Run({"GET", absl::StrCat("pb:", p)})) << p;
    EXPECT_EQ(lc->Run({"GET", absl::StrCat("{h}ha:", p)}),
              lc->Run({"GET", absl::StrCat("{h}hb:", p)}))
        << p;
  }
  // Each writer's keys: those it changed up to its last MSET before the instant hold the new
  // value, every later one still the populated one.
  int present = 0;
  for (int w = 0; w < kWriters; ++w) {
    std::string ma = lc->Run({"GET", absl::StrCat("ma:", w)});
    EXPECT_EQ(ma, lc->Run({"GET", absl::StrCat("mb:", w)})) << w;
    int last = -1;
    if (ma != "nil") {
      ASSERT_EQ(ma.rfind("str:\"", 0), 0u) << ma;
      last = std::stoi(ma.substr(5));
      ++present;
    }
    for (int i = 0; i < kMaxOps; ++i) {
      int k = w * 10000 + i;
      std::string want =
          i <= last ? absl::StrCat("str:\"w", i, "\"") : absl::StrCat("str:\"value:", k, "\"");
      ASSERT_EQ(lc->Run({"GET", absl::StrCat("key:", k)}), want) << w << " " << i << " " << last;
    }
  }
  EXPECT_EQ(lc->Run({"DBSIZE"}), absl::StrCat("int:", 20000 + 4 * kPairs + 2 * present));
}

}  // namespace
}  // namespace shardis::test
