// maxmemory end to end, on 1 and 2 threads: a server limited to 16 MB is filled well past the
// limit under each maxmemory-policy, and the test checks what was evicted (allkeys-lru/lfu keep
// the keys read all along, volatile-* evict only keys with a TTL and then refuse writes with
// Redis's OOM error, volatile-ttl evicts the nearest expiries first), that INFO's used_memory
// settles within a small margin of maxmemory, and Redis's OOM rules for noeviction (MULTI,
// EXECABORT, reads and deletes still served).
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

constexpr int64_t kLimit = 16 * 1024 * 1024;
constexpr int kValueSize = 500;
const char kOom[] = "OOM command not allowed when used memory > 'maxmemory'.";

std::string Err(const std::string& message) { return "err:\"" + message + "\""; }

// INFO keyspace's expires= of db0 (0 when db0 is absent).
int64_t ExpiresCount(Client& c) {
  ReplyPtr r = c.Command({"INFO", "keyspace"});
  if (r == nullptr || r->str == nullptr) return -1;
  std::string info(r->str, r->len);
  size_t at = info.find("expires=");
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + 8));
}

class MaxmemoryTest : public ::testing::TestWithParam<int> {
 protected:
  void Start(const std::string& policy, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--maxmemory", std::to_string(kLimit), "--maxmemory-policy",
                                     policy};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = StartShardis(GetParam(), args);
    ASSERT_NE(server_, nullptr);
    client_ = Client::Connect(server_->port());
    ASSERT_NE(client_, nullptr);
  }

  // Writes keys prefix0..prefix{n-1} (pipelined, in batches), with `ttl_s` seconds (+ i when
  // ttl_step) of expiry when ttl_s > 0. Calls between(i) before each batch. Returns the number
  // of OOM errors.
  int Fill(const std::string& prefix, int n, int64_t ttl_s, bool ttl_step = false,
           const std::function<void(int)>& between = nullptr) {
    std::string value(kValueSize, 'v');
    int oom = 0;
    for (int start = 0; start < n; start += 500) {
      if (between) between(start);
      int end = std::min(n, start + 500);
      for (int i = start; i < end; ++i) {
        std::vector<std::string> cmd = {"SET", prefix + std::to_string(i), value};
        if (ttl_s > 0) {
          cmd.push_back("EX");
          cmd.push_back(std::to_string(ttl_s + (ttl_step ? i : 0)));
        }
        client_->Append(cmd);
      }
      for (int i = start; i < end; ++i) {
        ReplyPtr r = client_->GetReply();
        EXPECT_NE(r, nullptr);
        if (r == nullptr) return oom;
        std::string s = Render(r.get());
        if (s.find("OOM") != std::string::npos) {
          EXPECT_EQ(s, Err(kOom));
          ++oom;
        }
      }
    }
    return oom;
  }

  int CountExisting(const std::string& prefix, int from, int to) {
    int n = 0;
    for (int i = from; i < to; ++i) client_->Append({"EXISTS", prefix + std::to_string(i)});
    for (int i = from; i < to; ++i) {
      ReplyPtr r = client_->GetReply();
      if (r != nullptr && r->integer == 1) ++n;
    }
    return n;
  }

  // used_memory settles within 10% above maxmemory (other shards evict on their cron ticks).
  void ExpectMemoryNearLimit() {
    int64_t used = 0;
    for (int i = 0; i < 100; ++i) {
      used = InfoInt(*client_, "used_memory", "memory");
      if (used <= kLimit * 11 / 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_LE(used, kLimit * 11 / 10);
    EXPECT_GE(used, kLimit / 2);  // filled, not emptied
    EXPECT_GT(InfoInt(*client_, "evicted_keys", "stats"), 0);
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(MaxmemoryTest, AllkeysLruKeepsRecentlyReadKeys) {
  Start("allkeys-lru");
  ASSERT_EQ(Fill("hot:", 200, 0), 0);
  ASSERT_EQ(Fill("old:", 25000, 0), 0);  // about 3/4 of the limit
  // The LRU clock counts seconds (as Redis's): let it move on before reading the hot keys.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  for (int i = 0; i < 200; ++i) client_->Append({"GET", "hot:" + std::to_string(i)});
  for (int i = 0; i < 200; ++i) client_->GetReply();
  // Past the limit: the evicted keys are the old ones, idle for longer than the hot ones.
  EXPECT_EQ(Fill("new:", 15000, 0), 0);
  EXPECT_GE(CountExisting("hot:", 0, 200), 190);
  EXPECT_LT(CountExisting("old:", 0, 25000), 20000);
  ExpectMemoryNearLimit();
}

TEST_P(MaxmemoryTest, AllkeysLfuKeepsFrequentlyReadKeys) {
  Start("allkeys-lfu", {"--lfu-log-factor", "1"});
  ASSERT_EQ(Fill("hot:", 200, 0), 0);
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 200; ++i) client_->Append({"GET", "hot:" + std::to_string(i)});
    for (int i = 0; i < 200; ++i) client_->GetReply();
  }
  EXPECT_EQ(Fill("cold:", 60000, 0), 0);
  EXPECT_GE(CountExisting("hot:", 0, 200), 190);
  EXPECT_GT(std::stoi(client_->Run({"OBJECT", "FREQ", "hot:1"}).substr(4)), 5);
  ExpectMemoryNearLimit();
}

TEST_P(MaxmemoryTest, AllkeysRandomStaysWithinTheLimit) {
  Start("allkeys-random");
  EXPECT_EQ(Fill("k:", 60000, 0), 0);
  ExpectMemoryNearLimit();
}

TEST_P(MaxmemoryTest, VolatilePoliciesEvictOnlyKeysWithTtlThenRefuse) {
  for (const char* policy : {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}) {
    SCOPED_TRACE(policy);
    Start(policy);
    // About a third of the limit without TTL, then TTL keys past the limit.
    ASSERT_EQ(Fill("keep:", 10000, 0), 0);
    EXPECT_EQ(Fill("ttl:", 40000, 100000), 0);
    EXPECT_EQ(CountExisting("keep:", 0, 10000), 10000);
    EXPECT_LT(CountExisting("ttl:", 0, 40000), 40000);
    ExpectMemoryNearLimit();
    // Only keys without TTL left to write: every TTL key goes, then writes get OOM.
    int oom = 0;
    for (int batch = 0; batch < 200 && oom == 0; ++batch) {
      oom = Fill("more:" + std::to_string(batch) + ":", 500, 0);
    }
    EXPECT_GT(oom, 0);
    EXPECT_EQ(CountExisting("keep:", 0, 10000), 10000);
    // Refused only once no key with a TTL is left.
    EXPECT_EQ(ExpiresCount(*client_), 0);
    EXPECT_EQ(client_->Run({"GET", "keep:1"}).size(), kValueSize + 6);  // reads still work
    server_.reset();
  }
}

TEST_P(MaxmemoryTest, VolatileTtlEvictsNearestExpiriesFirst) {
  Start("volatile-ttl");
  // TTLs grow with the key number: the first keys expire soonest.
  EXPECT_EQ(Fill("t:", 60000, 100000, /*ttl_step=*/true), 0);
  int first = CountExisting("t:", 0, 10000);
  int last = CountExisting("t:", 50000, 60000);
  // Each shard evicts its own nearest expiries, so on 2 threads the split is less sharp (and
  // under sanitizers far fewer keys fit): far fewer of the first keys survive than of the last.
  EXPECT_LT(first * 2, last);
  EXPECT_GT(last, 5000);
  ExpectMemoryNearLimit();
}

TEST_P(MaxmemoryTest, NoevictionRefusesWritesAsRedis) {
  Start("noeviction");
  int oom = Fill("k:", 60000, 0);
  EXPECT_GT(oom, 10000);
  EXPECT_EQ(InfoInt(*client_, "evicted_keys", "stats"), 0);
  EXPECT_LE(InfoInt(*client_, "used_memory", "memory"), kLimit * 11 / 10);
  // Well over a lower limit: reads and deletes are served; MULTI refuses every queued command,
  // EXEC aborts.
  EXPECT_EQ(client_->Run({"CONFIG", "SET", "maxmemory", "1mb"}), "status:\"OK\"");
  EXPECT_EQ(client_->Run({"GET", "k:0"}).size(), kValueSize + 6);
  EXPECT_EQ(client_->Run({"MULTI"}), "status:\"OK\"");
  EXPECT_EQ(client_->Run({"SET", "a", "b"}), Err(kOom));
  EXPECT_EQ(client_->Run({"GET", "a"}), Err(kOom));
  EXPECT_EQ(client_->Run({"EXEC"}),
            "err:\"EXECABORT Transaction discarded because of previous errors.\"");
  EXPECT_EQ(client_->Run({"MULTI"}), "status:\"OK\"");
  EXPECT_EQ(client_->Run({"DISCARD"}), "status:\"OK\"");
  EXPECT_EQ(client_->Run({"DEL", "k:0"}), "int:1");
  // Scripts, as Redis 7.0: deny-oom calls fail inside a script without flags; a script with
  // flags is refused up front unless allow-oom or no-writes.
  EXPECT_EQ(client_->Run({"EVAL", "return redis.call('set','x','y')", "0"}),
            Err(std::string(kOom) +
                " script: 71e6319f97b0fe8bdfa1c5df3ce4489946dda479, on @user_script:1."));
  EXPECT_EQ(client_->Run({"EVAL", "return redis.pcall('get','x')", "0"}), "nil");
  EXPECT_EQ(client_->Run({"EVAL", "#!lua\nreturn 1", "0"}), Err(kOom));
  EXPECT_EQ(client_->Run({"EVAL", "#!lua flags=no-writes\nreturn 1", "0"}), "int:1");
  EXPECT_EQ(client_->Run({"EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"}),
            "status:\"OK\"");
  // Raising the limit lets writes through again.
  EXPECT_EQ(client_->Run({"CONFIG", "SET", "maxmemory", "0"}), "status:\"OK\"");
  EXPECT_EQ(client_->Run({"SET", "a", "b"}), "status:\"OK\"");
}

TEST_P(MaxmemoryTest, MemoryCommands) {
  Start("noeviction");
  EXPECT_EQ(client_->Run({"SET", "k", "bar"}), "status:\"OK\"");
  EXPECT_EQ(client_->Run({"MEMORY", "USAGE", "k"}), "int:64");  // as redis-server 7.0
  EXPECT_EQ(client_->Run({"MEMORY", "USAGE", "nokey"}), "nil");
  EXPECT_EQ(client_->Run({"MEMORY", "USAGE", "k", "SAMPLES", "x"}),
            "err:\"ERR value is not an integer or out of range\"");
  EXPECT_EQ(client_->Run({"MEMORY", "USAGE", "k", "FOO"}), "err:\"ERR syntax error\"");
  EXPECT_EQ(client_->Run({"MEMORY", "PURGE"}), "status:\"OK\"");
  EXPECT_NE(client_->Run({"MEMORY", "STATS"}).find("keys.count"), std::string::npos);
  EXPECT_NE(client_->Run({"MEMORY", "DOCTOR"}).find("Sam"), std::string::npos);
  EXPECT_EQ(client_->Run({"MEMORY", "FOO"}),
            "err:\"ERR unknown subcommand 'FOO'. Try MEMORY HELP.\"");
  EXPECT_EQ(client_->Run({"OBJECT", "FREQ", "k"}),
            "err:\"ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
            "Please note that when switching between policies at runtime LRU and LFU data will "
            "take some time to adjust.\"");
  EXPECT_EQ(InfoInt(*client_, "maxmemory", "memory"), kLimit);
}

INSTANTIATE_TEST_SUITE_P(Threads, MaxmemoryTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace shardis::test
