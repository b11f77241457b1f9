// Scripts and functions whose keys live on several shards (server/scripting/script_run.h).
//
// Differential part: scripts that touch keys they did not declare, declared keys on several
// shards, errors raised by calls that ran on another shard (with redis.call, redis.pcall and
// pcall around them), SELECT, multi-key commands and keyless commands from scripts; each runs
// twice (the first run is the one that learns the script's key use, the second takes the route
// that learning chose) against shardis-server --threads 3 and the reference redis-server, over
// RESP2 and RESP3, and the replies must match exactly.
//
// Atomicity part: clients on different threads move amounts between counters spread over every
// shard with scripts that declare none of them (and with scripts that declare both), while
// others read all the counters with a script and with MGET: every read sees the same total.
#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

class CrossShardScriptingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(3, {}, &error);
    ASSERT_NE(shardis_, nullptr) << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << error;
    for (int resp3 = 0; resp3 < 2; ++resp3) {
      for (ServerProcess* p : {shardis_.get(), redis_.get()}) {
        std::unique_ptr<RawConnection> c = RawConnection::Connect(p->port(), &error);
        ASSERT_NE(c, nullptr) << error;
        if (resp3 == 1) {
          ASSERT_NE(c->Run({"HELLO", "3"}), "io-error");
        }
        (p == shardis_.get() ? sh_ : ref_)[resp3] = std::move(c);
      }
    }
  }
  void TearDown() override {
    if (shardis_ != nullptr) {
      EXPECT_TRUE(shardis_->Running()) << shardis_->DescribeExit() << "\n" << shardis_->LogTail();
    }
  }

  void Same(const std::vector<std::string>& args, int resp3) {
    std::string a = sh_[resp3]->Run(args);
    std::string b = ref_[resp3]->Run(args);
    EXPECT_EQ(a, b) << "RESP" << (resp3 ? 3 : 2) << " " << RenderCommand(args);
  }
  static std::vector<std::string> Eval(const std::string& body, std::vector<std::string> keys = {},
                                       std::vector<std::string> argv = {}) {
    std::vector<std::string> args = {"EVAL", body, absl::StrCat(keys.size())};
    args.insert(args.end(), keys.begin(), keys.end());
    args.insert(args.end(), argv.begin(), argv.end());
    return args;
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<RawConnection> sh_[2];
  std::unique_ptr<RawConnection> ref_[2];
};

TEST_F(CrossShardScriptingTest, SameRepliesAsRedis) {
  struct Case {
    std::string body;
    std::vector<std::string> keys = {};
    std::vector<std::string> argv = {};
  };
  // Keys without hashtags: a..z, k1..k30 spread over the three shards.
  const std::vector<Case> cases = {
      {"for i = 1, 30 do redis.call('set', 'k' .. i, i * 3) end return redis.call('dbsize')"},
      {"local t = {} for i = 1, 30 do t[#t + 1] = redis.call('get', 'k' .. i) end return t"},
      {"redis.call('set', KEYS[1], ARGV[1]) return {redis.call('get', KEYS[1]), "
       "redis.call('get', 'k7'), redis.call('incrby', 'k9', 5)}",
       {"a"},
       {"va"}},
      {"return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2]), "
       "redis.call('get', KEYS[3])}",
       {"k1", "k2", "k3"}},
      {"return redis.call('mset', 'x', '1', 'y', '2', 'z', '3', 'w', '4')"},
      {"return redis.call('mget', 'x', 'y', 'z', 'w', 'nosuch')"},
      {"return redis.call('exists', 'x', 'y', 'z', 'w', 'nosuch', 'x')"},
      {"return redis.call('del', 'x', 'y', 'nosuch')"},
      {"redis.call('sadd', 's1', 'a', 'b', 'c') redis.call('sadd', 's2', 'c', 'd') "
       "redis.call('sadd', 's3', 'e') local n = redis.call('sunionstore', 'dest', 's1', 's2', "
       "'s3') local m = redis.call('smembers', 'dest') table.sort(m) return {n, m}"},
      {"redis.call('set', 'str', 'text') return redis.call('incr', 'str')"},
      {"redis.call('set', 'written', '1') return redis.call('lpush', 'str', 'x')"},
      {"return redis.call('get', 'written')"},
      {"return redis.pcall('incr', 'str')"},
      {"local r = redis.pcall('incr', 'str') return {type(r), r['err']}"},
      {"local ok, e = pcall(redis.call, 'incr', 'str') return {tostring(ok), e}"},
      {"local ok, e = pcall(function() local v = redis.call('get', 'k5') "
       "redis.call('hset', 'k6', 'f', v) end) return {tostring(ok), e}"},
      {"local ok, v = pcall(function() return redis.call('get', 'k11'), "
       "redis.call('get', 'k12') end) return {tostring(ok), v}"},
      {"local ok, e = pcall(function() error({err = 'MY own'}) end) return {tostring(ok), e}"},
      {"local ok, e = pcall(function() error('plain') end) return {tostring(ok), e}"},
      {"local ok, e = pcall(pcall, redis.call, 'incr', 'str') return {tostring(ok), tostring(e)}"},
      {"return redis.call('nosuchcommand', 'k3')"},
      {"return redis.call('get', 'k3', 'extra')"},
      {"return redis.call('eval', 'return 1', '0')"},
      {"redis.call('hset', 'h', 'f1', 'v1', 'f2', 'v2') redis.call('zadd', 'zz', 1.5, 'm1', 2, "
       "'m2') return {redis.call('hgetall', 'h'), redis.call('zrange', 'zz', 0, -1, "
       "'withscores')}"},
      {"redis.setresp(3) return {redis.call('hgetall', 'h'), redis.call('zscore', 'zz', 'm1'), "
       "redis.call('smembers', 'nosuchset')}"},
      {"redis.call('select', 5) redis.call('set', 'k1', 'in5') local v = redis.call('get', 'k1') "
       "local n = redis.call('dbsize') return {v, n}"},
      {"return redis.call('get', 'k1')"},
      {"local ks = redis.call('keys', 'k1*') table.sort(ks) return ks"},
      {"return redis.call('dbsize')"},
      {"return redis.call('blpop', 'emptylist', 0)"},
      {"return redis.call('rpoplpush', 'nolist', 'k20')"},
      {"redis.call('rpush', 'l1', 'a', 'b') return redis.call('lmove', 'l1', 'l2', 'left', "
       "'right')"},
      {"return redis.call('rename', 'l2', 'l3')"},
      {"return {redis.call('type', 'l3'), redis.call('exists', 'l2')}"},
      {"return redis.call('copy', 'l3', 'l4')"},
      {"return redis.call('smove', 's1', 's3', 'a')"},
      {"return redis.call('pfadd', 'hll1', 'a', 'b') + redis.call('pfadd', 'hll2', 'c') + "
       "redis.call('pfcount', 'hll1', 'hll2')"},
      {"return redis.call('flushdb')"},
      {"return redis.call('dbsize')"},
  };
  for (int resp3 = 0; resp3 < 2; ++resp3) {
    for (ServerProcess* p : {shardis_.get(), redis_.get()}) {
      (p == shardis_.get() ? sh_ : ref_)[resp3]->Run({"FLUSHALL"});
    }
    for (const Case& c : cases) {
      for (int run = 0; run < 2; ++run) Same(Eval(c.body, c.keys, c.argv), resp3);
    }
  }
  // Inside MULTI/EXEC, with and without other commands around.
  for (int run = 0; run < 2; ++run) {
    Same({"MULTI"}, 0);
    Same({"SET", "m1", "1"}, 0);
    Same(Eval("redis.call('incr', 'm1') redis.call('set', 'm2', 'x') "
              "return {redis.call('get', 'm1'), redis.call('mget', 'm2', 'k3', 'k4')}"),
         0);
    Same(Eval("return redis.call('get', KEYS[1])", {"m2"}), 0);
    Same({"EXEC"}, 0);
  }
  // Read-only variants refuse writes wherever the key lives.
  for (int run = 0; run < 2; ++run) {
    std::vector<std::string> ro = {"EVAL_RO", "return redis.call('set', 'k8', 'x')", "0"};
    Same(ro, 0);
    Same({"EVAL_RO", "return redis.call('get', 'k8')", "0"}, 0);
  }
}

TEST_F(CrossShardScriptingTest, FunctionsReachEveryShard) {
  const std::string lib =
      "#!lua name=bank\n"
      "redis.register_function('fill', function(keys, args)\n"
      "  for i = 1, tonumber(args[1]) do redis.call('set', 'f' .. i, i) end\n"
      "  return redis.call('dbsize')\n"
      "end)\n"
      "redis.register_function{function_name='total', flags={'no-writes'}, callback=\n"
      "  function(keys, args)\n"
      "    local sum = 0\n"
      "    for i = 1, tonumber(args[1]) do sum = sum + tonumber(redis.call('get', 'f' .. i)) end\n"
      "    return sum\n"
      "  end}\n"
      "redis.register_function('bad', function(keys, args)\n"
      "  redis.call('set', 'f1', 'one') return redis.call('incr', 'f1') end)\n";
  for (int resp3 = 0; resp3 < 2; ++resp3) {
    Same({"FLUSHALL"}, resp3);
    Same({"FUNCTION", "FLUSH"}, resp3);
    Same({"FUNCTION", "LOAD", lib}, resp3);
    for (int run = 0; run < 2; ++run) {
      Same({"FCALL", "fill", "0", "25"}, resp3);
      Same({"FCALL_RO", "total", "0", "25"}, resp3);
      Same({"FCALL", "total", "2", "f1", "f2", "25"}, resp3);
      Same({"FCALL_RO", "fill", "0", "3"}, resp3);
      Same({"FCALL", "bad", "0"}, resp3);
      Same({"GET", "f1"}, resp3);
    }
  }
}

// redis.call checks the calling user's permissions, wherever the key lives.
TEST_F(CrossShardScriptingTest, AclChecksEveryCall) {
  std::string error;
  for (ServerProcess* p : {shardis_.get(), redis_.get()}) {
    std::unique_ptr<RawConnection> admin = RawConnection::Connect(p->port(), &error);
    ASSERT_NE(admin, nullptr) << error;
    ASSERT_EQ(admin->Run({"ACL", "SETUSER", "u1", "on", "nopass", "+eval", "+evalsha", "+fcall",
                          "+get", "+select", "~a*", "~k*"}),
              "status:\"OK\"");
    admin->Run({"MSET", "a1", "1", "k1", "2", "b1", "3"});
  }
  std::unique_ptr<RawConnection> users[2];
  for (ServerProcess* p : {shardis_.get(), redis_.get()}) {
    std::unique_ptr<RawConnection> u = RawConnection::Connect(p->port(), &error);
    ASSERT_NE(u, nullptr) << error;
    ASSERT_EQ(u->Run({"AUTH", "u1", "x"}), "status:\"OK\"");
    users[p == redis_.get()] = std::move(u);
  }
  const std::vector<std::string> bodies = {
      "return redis.call('get', 'a1')",
      "return {redis.call('get', 'a1'), redis.call('get', 'k1')}",
      "return redis.call('set', 'a1', 'x')",
      "return redis.call('get', 'b1')",
      "return redis.pcall('get', 'b1')",
      "return redis.pcall('set', 'k1', 'v')",
      "local ok, e = pcall(redis.call, 'get', 'b1') return {tostring(ok), e}",
  };
  for (const std::string& body : bodies) {
    for (int run = 0; run < 2; ++run) {
      std::vector<std::string> args = {"EVAL", body, "0"};
      EXPECT_EQ(users[0]->Run(args), users[1]->Run(args)) << body;
    }
  }
}

// Counters on every shard; transfers by scripts that do not declare them and by scripts that
// do; readers sum them with a script and with MGET. The total never changes.
TEST_F(CrossShardScriptingTest, TransfersAreAtomic) {
  constexpr int kAccounts = 12;
  constexpr int kStart = 100;
  constexpr int kWriters = 3;
  constexpr int kReaders = 2;
  constexpr int kRounds = 150;
  const int port = shardis_->port();
  {
    std::unique_ptr<Client> c = Client::Connect(port);
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < kAccounts; ++i) {
      ASSERT_EQ(c->Run({"SET", absl::StrCat("acct:", i), absl::StrCat(kStart)}), "status:\"OK\"");
    }
  }
  const std::string undeclared =
      "local from, to, n = 'acct:' .. ARGV[1], 'acct:' .. ARGV[2], tonumber(ARGV[3]) "
      "local have = tonumber(redis.call('get', from)) "
      "if have < n then return 0 end "
      "redis.call('decrby', from, n) redis.call('incrby', to, n) return 1";
  const std::string declared =
      "local n = tonumber(ARGV[1]) local have = tonumber(redis.call('get', KEYS[1])) "
      "if have < n then return 0 end "
      "redis.call('decrby', KEYS[1], n) redis.call('incrby', KEYS[2], n) return 1";
  const std::string sum =
      "local s = 0 for i = 0, tonumber(ARGV[1]) - 1 do "
      "s = s + tonumber(redis.call('get', 'acct:' .. i)) end return s";
  std::atomic<int> failures{0};
  std::atomic<bool> writers_done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::unique_ptr<Client> c = Client::Connect(port);
      if (c == nullptr) {
        ++failures;
        return;
      }
      std::mt19937 rng(w + 1);
      for (int r = 0; r < kRounds; ++r) {
        int from = static_cast<int>(rng() % kAccounts);
        int to = static_cast<int>(rng() % kAccounts);
        std::string n = absl::StrCat(1 + rng() % 20);
        std::string reply =
            r % 2 == 0 ? c->Run({"EVAL", undeclared, "0", absl::StrCat(from), absl::StrCat(to), n})
                       : c->Run({"EVAL", declared, "2", absl::StrCat("acct:", from),
                                 absl::StrCat("acct:", to), n});
        if (reply != "int:0" && reply != "int:1") {
          ADD_FAILURE() << "transfer: " << reply;
          ++failures;
          return;
        }
      }
    });
  }
  for (int rd = 0; rd < kReaders; ++rd) {
    threads.emplace_back([&, rd] {
      std::unique_ptr<Client> c = Client::Connect(port);
      if (c == nullptr) {
        ++failures;
        return;
      }
      std::vector<std::string> mget = {"MGET"};
      for (int i = 0; i < kAccounts; ++i) mget.push_back(absl::StrCat("acct:", i));
      const std::string expected = absl::StrCat("int:", kAccounts * kStart);
      for (int r = 0; r < 4 * kRounds && !writers_done.load(); ++r) {
        std::string total;
        if ((r + rd) % 2 == 0) {
          total = c->Run({"EVAL", sum, "0", absl::StrCat(kAccounts)});
        } else {
          ReplyPtr reply = c->Command(mget);
          int64_t s = 0;
          for (size_t i = 0; reply != nullptr && i < reply->elements; ++i) {
            s += std::stoll(std::string(reply->element[i]->str, reply->element[i]->len));
          }
          total = absl::StrCat("int:", s);
        }
        if (total != expected) {
          ADD_FAILURE() << "read total " << total << ", expected " << expected;
          ++failures;
          return;
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writers_done.store(true);
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(failures.load(), 0);
  std::unique_ptr<Client> c = Client::Connect(port);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Run({"EVAL", sum, "0", absl::StrCat(kAccounts)}),
            absl::StrCat("int:", kAccounts * kStart));
}

}  // namespace
}  // namespace shardis::test
