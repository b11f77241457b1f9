// Cross-shard coordination end to end (docs/architecture.md, "Coordination"):
//  - a concurrency checker: clients on every thread run random mixes of MSET over shared keys,
//    MULTI/EXEC and WATCH transfers between counters on different shards, RENAME ping-pong
//    across shards and MGET/EXISTS snapshots; every read checks the invariants (an MGET sees one
//    MSET entirely, the counters' sum is constant, exactly one key of a RENAME pair exists);
//    DBSIZE (over every shard whole) always counts the same keys; Lua scripts that move amounts
//    between counters they do not declare, and read them all, keep the same invariants; every
//    wait is bounded, so a deadlock fails the test instead of hanging it;
//  - a key held by an atomic operation (DEBUG INTENT-HOLD) makes commands on it wait, on its
//    shard and across shards, while commands on other keys of the same shards complete.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

constexpr int kThreads = 4;

// The server's key -> shard mapping (Redis Cluster slot of the key or its hashtag, mod threads),
// to pick keys that surely live on different shards.
uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc ^= static_cast<uint16_t>(c) << 8;
    for (int i = 0; i < 8; ++i) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
  }
  return crc;
}
int ShardOf(std::string_view key) {
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return (Crc16(key) & 16383) % kThreads;
}

// `count` keys named prefix<i>, one per shard in turn (so they span every shard).
std::vector<std::string> SpreadKeys(const std::string& prefix, int count) {
  std::vector<std::string> keys;
  for (int i = 0; static_cast<int>(keys.size()) < count && i < 100000; ++i) {
    std::string k = prefix + std::to_string(i);
    if (ShardOf(k) == static_cast<int>(keys.size()) % kThreads) keys.push_back(k);
  }
  return keys;
}

class CoordinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shardis_ = StartShardis(kThreads, {"--enable-debug-command", "yes"});
    ASSERT_NE(shardis_, nullptr);
  }
  std::unique_ptr<ServerProcess> shardis_;
};

struct Failures {
  std::atomic<int> count{0};
  std::string first;  // written once, by whoever counted first
  void Add(const std::string& what) {
    if (count.fetch_add(1) == 0) first = what;
  }
};

// bench/checker.sh runs it at a large size through SHARDIS_CHECKER_WORKERS / SHARDIS_CHECKER_OPS.
TEST_F(CoordinationTest, ConcurrencyCheckerKeepsInvariants) {
  const int kWorkers = static_cast<int>(EnvInt("SHARDIS_CHECKER_WORKERS", 8));
  const int kOps = static_cast<int>(EnvInt("SHARDIS_CHECKER_OPS", 400));
  constexpr int kCounterStart = 1000;
  const std::vector<std::string> mkeys = SpreadKeys("m:", 8);
  const std::vector<std::string> counters = SpreadKeys("c:", 8);
  const std::vector<std::string> pair_a = SpreadKeys("rpa:", 4);
  std::vector<std::string> pair_b;  // each on another shard than its partner
  for (size_t p = 0; p < pair_a.size(); ++p) {
    for (int i = 0; i < 1000; ++i) {
      std::string k = "rpb:" + std::to_string(p) + ":" + std::to_string(i);
      if (ShardOf(k) != ShardOf(pair_a[p])) {
        pair_b.push_back(k);
        break;
      }
    }
  }
  ASSERT_EQ(pair_b.size(), pair_a.size());

  auto setup = Client::Connect(shardis_->port());
  ASSERT_NE(setup, nullptr);
  std::vector<std::string> mset = {"MSET"};
  for (const auto& k : mkeys) mset.insert(mset.end(), {k, "init"});
  for (const auto& k : counters) mset.insert(mset.end(), {k, std::to_string(kCounterStart)});
  for (size_t p = 0; p < pair_a.size(); ++p) {
    mset.insert(mset.end(), {pair_a[p], "token" + std::to_string(p)});
  }
  ASSERT_EQ(setup->Run(mset), "status:\"OK\"");
  // Two sets and two lists on different shards, whose members move back and forth.
  const std::vector<std::string> sets = SpreadKeys("set:", 2);
  const std::vector<std::string> lists = SpreadKeys("list:", 2);
  constexpr int kMembers = 6;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(setup->Run({"SADD", sets[i], "anchor" + std::to_string(i)}), "int:1");  // stays
  }
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_EQ(setup->Run({"SADD", sets[i % 2], "e" + std::to_string(i)}), "int:1");
    ASSERT_EQ(setup->Run({"RPUSH", lists[i % 2], "e" + std::to_string(i)}),
              "int:" + std::to_string(i / 2 + 1));
  }
  const int64_t total = kCounterStart * static_cast<int64_t>(counters.size());

  Failures failures;
  std::vector<std::thread> workers;
  for (int t = 0; t < kWorkers; ++t) {
    workers.emplace_back([&, t] {
      // A stalled server fails a read after the timeout instead of hanging the test.
      auto c = Client::Connect(shardis_->port(), std::chrono::seconds(60));
      if (c == nullptr) return failures.Add("connect");
      std::mt19937 rng(1234 + t);
      auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
      auto check_sum = [&](const redisReply* r, const char* what) {
        if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != counters.size()) {
          return failures.Add(std::string(what) + ": " + Render(r));
        }
        int64_t sum = 0;
        for (size_t i = 0; i < r->elements; ++i) sum += std::stoll(r->element[i]->str);
        if (sum != total) failures.Add(std::string(what) + ": sum " + std::to_string(sum));
      };
      std::vector<std::string> mget_m = {"MGET"};
      mget_m.insert(mget_m.end(), mkeys.begin(), mkeys.end());
      std::vector<std::string> mget_c = {"MGET"};
      mget_c.insert(mget_c.end(), counters.begin(), counters.end());
      for (int i = 0; i < kOps && failures.count == 0; ++i) {
        switch (rng() % 13) {
          case 0: {  // MSET over the shared keys, all with one value
            std::string v = "w" + std::to_string(t) + "-" + std::to_string(i);
            std::vector<std::string> cmd = {"MSET"};
            for (const auto& k : mkeys) cmd.insert(cmd.end(), {k, v});
            ReplyPtr r = c->Command(cmd);
            if (r == nullptr || r->type != REDIS_REPLY_STATUS)
              failures.Add("mset " + Render(r.get()));
            break;
          }
          case 1: {  // MGET sees one MSET entirely
            ReplyPtr r = c->Command(mget_m);
            if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != mkeys.size()) {
              failures.Add("mget " + Render(r.get()));
              break;
            }
            for (size_t k = 1; k < r->elements; ++k) {
              if (std::string(r->element[k]->str) != r->element[0]->str) {
                failures.Add("torn mget " + Render(r.get()));
                break;
              }
            }
            break;
          }
          case 2: {  // MULTI/EXEC transfer between counters on different shards
            size_t from = pick(counters.size());
            size_t to = (from + 1 + pick(counters.size() - 1)) % counters.size();
            std::string amount = std::to_string(1 + pick(9));
            c->Append({"MULTI"});
            c->Append({"DECRBY", counters[from], amount});
            c->Append({"INCRBY", counters[to], amount});
            c->Append({"EXEC"});
            for (int r = 0; r < 3; ++r) c->GetReply();
            ReplyPtr exec = c->GetReply();
            if (exec == nullptr || exec->type != REDIS_REPLY_ARRAY || exec->elements != 2) {
              failures.Add("exec " + Render(exec.get()));
            }
            break;
          }
          case 3: {  // snapshots of the counters: MGET, and MGET inside a transaction
            ReplyPtr r = c->Command(mget_c);
            check_sum(r.get(), "mget counters");
            c->Append({"MULTI"});
            c->Append({"GET", counters[pick(counters.size())]});
            c->Append(mget_c);
            c->Append({"EXEC"});
            for (int k = 0; k < 3; ++k) c->GetReply();
            ReplyPtr exec = c->GetReply();
            if (exec == nullptr || exec->type != REDIS_REPLY_ARRAY || exec->elements != 2) {
              failures.Add("exec snapshot " + Render(exec.get()));
              break;
            }
            check_sum(exec->element[1], "exec mget counters");
            break;
          }
          case 4: {  // WATCH-based transfer: either applies whole or not at all
            size_t from = pick(counters.size());
            size_t to = (from + 1 + pick(counters.size() - 1)) % counters.size();
            c->Run({"WATCH", counters[from], counters[to]});
            ReplyPtr a = c->Command({"GET", counters[from]});
            ReplyPtr b = c->Command({"GET", counters[to]});
            if (a == nullptr || b == nullptr || a->type != REDIS_REPLY_STRING ||
                b->type != REDIS_REPLY_STRING) {
              failures.Add("watch get");
              break;
            }
            c->Append({"MULTI"});
            c->Append({"SET", counters[from], std::to_string(std::stoll(a->str) - 3)});
            c->Append({"SET", counters[to], std::to_string(std::stoll(b->str) + 3)});
            c->Append({"EXEC"});
            for (int k = 0; k < 3; ++k) c->GetReply();
            ReplyPtr exec = c->GetReply();
            if (exec == nullptr ||
                (exec->type != REDIS_REPLY_NIL && exec->type != REDIS_REPLY_ARRAY)) {
              failures.Add("watch exec " + Render(exec.get()));
            }
            break;
          }
          case 5: {  // RENAME ping-pong across shards
            size_t p = pick(pair_a.size());
            bool forward = rng() % 2;
            ReplyPtr r = c->Command(
                {"RENAME", forward ? pair_a[p] : pair_b[p], forward ? pair_b[p] : pair_a[p]});
            if (r == nullptr ||
                (r->type != REDIS_REPLY_STATUS &&
                 !(r->type == REDIS_REPLY_ERROR && std::string(r->str) == "ERR no such key"))) {
              failures.Add("rename " + Render(r.get()));
            }
            break;
          }
          case 6: {  // the token is in exactly one key of its pair
            size_t p = pick(pair_a.size());
            ReplyPtr e = c->Command({"EXISTS", pair_a[p], pair_b[p]});
            if (e == nullptr || e->type != REDIS_REPLY_INTEGER || e->integer != 1) {
              failures.Add("exists pair " + Render(e.get()));
            }
            ReplyPtr m = c->Command({"MGET", pair_a[p], pair_b[p]});
            if (m == nullptr || m->type != REDIS_REPLY_ARRAY || m->elements != 2 ||
                (m->element[0]->type == REDIS_REPLY_NIL) ==
                    (m->element[1]->type == REDIS_REPLY_NIL)) {
              failures.Add("mget pair " + Render(m.get()));
            }
            break;
          }
          case 7: {  // RENAMENX back and forth too, with a DEL of a key nobody uses in between
            size_t p = pick(pair_a.size());
            ReplyPtr r = c->Command({"RENAMENX", pair_b[p], pair_a[p]});
            if (r == nullptr) failures.Add("renamenx io");
            c->Command({"DEL", "unused:" + std::to_string(t), mkeys[0] + ":nope"});
            break;
          }
          case 8: {  // DBSIZE runs over every shard whole: it never sees a RENAME half done
            // (lists may empty and go: EXISTS counts them in the same transaction)
            c->Append({"MULTI"});
            c->Append({"DBSIZE"});
            c->Append({"EXISTS", lists[0], lists[1]});
            c->Append({"EXEC"});
            for (int k = 0; k < 3; ++k) c->GetReply();
            ReplyPtr r = c->GetReply();
            int64_t expected =
                static_cast<int64_t>(mkeys.size() + counters.size() + pair_a.size() + sets.size());
            if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                r->element[0]->integer != expected + r->element[1]->integer) {
              failures.Add("dbsize " + Render(r.get()));
            }
            break;
          }
          case 9: {  // SMOVE across shards; SUNION and SINTERCARD see every member exactly once
            size_t from = pick(2);
            c->Command({"SMOVE", sets[from], sets[1 - from], "e" + std::to_string(pick(kMembers))});
            ReplyPtr u = c->Command({"SUNION", sets[0], sets[1]});
            if (u == nullptr || u->type != REDIS_REPLY_ARRAY || u->elements != kMembers + 2) {
              failures.Add("sunion " + Render(u.get()));
            }
            ReplyPtr i = c->Command({"SINTERCARD", "2", sets[0], sets[1]});
            if (i == nullptr || i->type != REDIS_REPLY_INTEGER || i->integer != 0) {
              failures.Add("sintercard " + Render(i.get()));
            }
            break;
          }
          case 10: {  // LMOVE across shards (kept non-empty); the lengths always add up
            size_t from = pick(2);
            c->Append({"MULTI"});
            c->Append({"LLEN", lists[from]});
            c->Append({"EXEC"});
            c->GetReply();
            c->GetReply();
            ReplyPtr len = c->GetReply();
            if (len != nullptr && len->type == REDIS_REPLY_ARRAY && len->elements == 1 &&
                len->element[0]->integer > 1) {
              c->Command({"LMOVE", lists[from], lists[1 - from], "LEFT", "RIGHT"});
            }
            c->Append({"MULTI"});
            c->Append({"LLEN", lists[0]});
            c->Append({"LLEN", lists[1]});
            c->Append({"EXEC"});
            for (int k = 0; k < 3; ++k) c->GetReply();
            ReplyPtr exec = c->GetReply();
            if (exec == nullptr || exec->type != REDIS_REPLY_ARRAY || exec->elements != 2 ||
                exec->element[0]->integer + exec->element[1]->integer != kMembers) {
              failures.Add("llen sum " + Render(exec.get()));
            }
            break;
          }
          case 11: {  // a script moves an amount between counters it does not declare
            size_t from = pick(counters.size());
            size_t to = (from + 1 + pick(counters.size() - 1)) % counters.size();
            ReplyPtr r =
                c->Command({"EVAL",
                            "redis.call('decrby', ARGV[1], ARGV[3]) "
                            "return redis.call('incrby', ARGV[2], ARGV[3])",
                            "0", counters[from], counters[to], std::to_string(1 + pick(9))});
            if (r == nullptr || r->type != REDIS_REPLY_INTEGER) {
              failures.Add("script transfer " + Render(r.get()));
            }
            break;
          }
          case 12: {  // a script reads every counter one GET at a time, and a pair's token
            std::vector<std::string> cmd = {
                "EVAL",
                "local t = {} for i = 1, #ARGV - 2 do t[i] = redis.call('get', ARGV[i]) end "
                "t[#t + 1] = redis.call('exists', ARGV[#ARGV - 1], ARGV[#ARGV]) return t",
                "0"};
            cmd.insert(cmd.end(), counters.begin(), counters.end());
            size_t p = pick(pair_a.size());
            cmd.insert(cmd.end(), {pair_a[p], pair_b[p]});
            ReplyPtr r = c->Command(cmd);
            if (r == nullptr || r->type != REDIS_REPLY_ARRAY ||
                r->elements != counters.size() + 1) {
              failures.Add("script snapshot " + Render(r.get()));
              break;
            }
            int64_t sum = 0;
            for (size_t k = 0; k < counters.size(); ++k) sum += std::stoll(r->element[k]->str);
            if (sum != total || r->element[counters.size()]->integer != 1) {
              failures.Add("script snapshot " + Render(r.get()));
            }
            break;
          }
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.count.load(), 0) << failures.first;

  ReplyPtr sum = setup->Command([&] {
    std::vector<std::string> cmd = {"MGET"};
    cmd.insert(cmd.end(), counters.begin(), counters.end());
    return cmd;
  }());
  ASSERT_NE(sum, nullptr);
  int64_t s = 0;
  for (size_t i = 0; i < sum->elements; ++i) s += std::stoll(sum->element[i]->str);
  EXPECT_EQ(s, total);
  for (size_t p = 0; p < pair_a.size(); ++p) {
    std::string a = setup->Run({"GET", pair_a[p]});
    std::string b = setup->Run({"GET", pair_b[p]});
    std::string token = "str:\"token" + std::to_string(p) + "\"";
    EXPECT_TRUE((a == token && b == "nil") || (a == "nil" && b == token)) << a << " " << b;
  }
}

TEST_F(CoordinationTest, HeldKeysMakeOnlyTheirCommandsWait) {
  // Two held keys on different shards, and free keys on those same shards.
  const std::string held1 = "{h1}x";
  std::string held2;
  for (int i = 0; i < 1000 && held2.empty(); ++i) {
    std::string k = "{h2-" + std::to_string(i) + "}y";
    if (ShardOf(k) != ShardOf(held1)) held2 = k;
  }
  ASSERT_FALSE(held2.empty());
  const std::string free1 = "{h1}free";                                     // same shard as held1
  const std::string free2 = held2.substr(0, held2.find('}') + 1) + "free";  // as held2
  // Keys the waiting multi-shard commands name besides a held one: they are involved in those
  // (waiting) operations, which may already hold them, so `other` leaves them alone.
  const std::string side1 = "{h1}side";
  const std::string side2 = held2.substr(0, held2.find('}') + 1) + "side";

  auto holder = Client::Connect(shardis_->port());
  auto other = Client::Connect(shardis_->port());
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_EQ(other->Run({"MSET", held1, "before", held2, "before"}), "status:\"OK\"");

  // Several connections, so some run on the held keys' threads and some on others.
  std::vector<std::unique_ptr<RawConnection>> waiters;
  for (int i = 0; i < 8; ++i) {
    auto w = RawConnection::Connect(shardis_->port());
    ASSERT_NE(w, nullptr);
    waiters.push_back(std::move(w));
  }
  ASSERT_EQ(holder->Run({"DEBUG", "INTENT-HOLD", held1, held2}), "status:\"OK\"");

  // Commands on held keys: single-shard reads and writes, and multi-shard ones.
  for (size_t i = 0; i < waiters.size(); ++i) {
    switch (i % 4) {
      case 0:
        ASSERT_TRUE(waiters[i]->SendCommand({"SET", held1, "w" + std::to_string(i)}));
        break;
      case 1:
        ASSERT_TRUE(waiters[i]->SendCommand({"GET", held2}));
        break;
      case 2:
        ASSERT_TRUE(waiters[i]->SendCommand({"MSET", held1, "m", side2, "m"}));
        break;
      case 3:
        ASSERT_TRUE(waiters[i]->SendCommand({"MGET", side1, held2}));
        break;
    }
  }
  // Commands on other keys of the same shards complete meanwhile, single- and multi-shard,
  // plain or in a transaction.
  EXPECT_EQ(other->Run({"SET", free1, "1"}), "status:\"OK\"");
  EXPECT_EQ(other->Run({"GET", free1}), "str:\"1\"");
  EXPECT_EQ(other->Run({"INCR", free2}), "int:1");
  EXPECT_EQ(other->Run({"MSET", free1, "2", free2, "2"}), "status:\"OK\"");
  EXPECT_EQ(other->Run({"MGET", free1, free2}), "arr:[str:\"2\",str:\"2\"]");
  EXPECT_EQ(other->Run({"MULTI"}), "status:\"OK\"");
  EXPECT_EQ(other->Run({"INCR", free1}), "status:\"QUEUED\"");
  EXPECT_EQ(other->Run({"INCR", free2}), "status:\"QUEUED\"");
  EXPECT_EQ(other->Run({"EXEC"}), "arr:[int:3,int:3]");
  // None of the waiting commands has been answered: they are still behind the intents.
  for (auto& w : waiters) {
    w->ReadFor(std::chrono::milliseconds(20));
    EXPECT_EQ(w->pending(), "") << "a command on a held key ran while it was held";
  }

  EXPECT_EQ(holder->Run({"DEBUG", "INTENT-RELEASE"}), "status:\"OK\"");
  for (size_t i = 0; i < waiters.size(); ++i) {
    std::optional<RespValue> v = waiters[i]->Read(std::chrono::seconds(20));
    ASSERT_TRUE(v.has_value()) << "waiter " << i << " never answered";
    if (i % 4 == 1) {
      EXPECT_EQ(v->Render(), "str:\"before\"");  // held2 is written by nobody here
    } else if (i % 4 == 3) {
      EXPECT_EQ(v->elems.size(), 2u);
    } else {
      EXPECT_EQ(v->Render(), "status:\"OK\"");
    }
  }
}

TEST_F(CoordinationTest, CrossShardCommandsAgainstEachOtherDoNotDeadlock) {
  // Every pair of shards contends: clients MSET and RENAME over keys of all shards in opposite
  // orders. Bounded: a stall makes a read time out and the test fail.
  const std::vector<std::string> keys = SpreadKeys("dl:", 8);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect(shardis_->port(), std::chrono::seconds(60));
      if (c == nullptr) {
        ++failures;
        return;
      }
      for (int i = 0; i < 200; ++i) {
        std::vector<std::string> cmd = {"MSET"};
        for (size_t k = 0; k < keys.size(); ++k) {
          const std::string& key = (t % 2) ? keys[k] : keys[keys.size() - 1 - k];
          cmd.insert(cmd.end(), {key, std::to_string(i)});
        }
        if (c->Command(cmd) == nullptr) ++failures;
        size_t a = (t + i) % keys.size();
        size_t b = (t * 3 + i * 5 + 1) % keys.size();
        if (a != b && c->Command({"COPY", keys[a], keys[b], "REPLACE"}) == nullptr) ++failures;
        if (c->Command({"DEL", keys[b], keys[a]}) == nullptr) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(CoordinationTest, CrossShardBlockingPops) {
  const std::vector<std::string> keys = SpreadKeys("bl:", 2);  // two shards
  const std::string& ka = keys[0];
  const std::string& kb = keys[1];
  auto p = Client::Connect(shardis_->port());
  ASSERT_NE(p, nullptr);

  // Served at once, from the first non-empty key in argument order.
  EXPECT_EQ(p->Run({"RPUSH", ka, "a1"}), "int:1");
  EXPECT_EQ(p->Run({"RPUSH", kb, "b1"}), "int:1");
  EXPECT_EQ(p->Run({"BLPOP", kb, ka, "0"}), "arr:[str:\"" + kb + "\",str:\"b1\"]");
  EXPECT_EQ(p->Run({"BRPOP", kb, ka, "0"}), "arr:[str:\"" + ka + "\",str:\"a1\"]");
  // Errors and timeouts as Redis.
  EXPECT_EQ(p->Run({"BLPOP", ka, kb, "x"}), "err:\"ERR timeout is not a float or out of range\"");
  EXPECT_EQ(p->Run({"BLPOP", ka, kb, "0.05"}), "nil");
  EXPECT_EQ(p->Run({"SET", kb, "str"}), "status:\"OK\"");
  EXPECT_EQ(p->Run({"BLPOP", ka, kb, "0"}),
            "err:\"WRONGTYPE Operation against a key holding the wrong kind of value\"");
  EXPECT_EQ(p->Run({"DEL", kb}), "int:1");
  // Inside MULTI it never blocks.
  EXPECT_EQ(p->Run({"MULTI"}), "status:\"OK\"");
  EXPECT_EQ(p->Run({"BLPOP", ka, kb, "0"}), "status:\"QUEUED\"");
  EXPECT_EQ(p->Run({"EXEC"}), "arr:[nil]");

  // Blocked clients: each push of one element serves exactly one of them.
  std::vector<std::unique_ptr<RawConnection>> waiters;
  for (int i = 0; i < 3; ++i) {
    auto w = RawConnection::Connect(shardis_->port());
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(w->SendCommand({"BLPOP", ka, kb, "0"}));
    waiters.push_back(std::move(w));
  }
  // One more that gives up: its wait must not take anything.
  auto quitter = RawConnection::Connect(shardis_->port());
  ASSERT_NE(quitter, nullptr);
  ASSERT_TRUE(quitter->SendCommand({"BLPOP", ka, kb, "0"}));
  EXPECT_EQ(p->Run({"PING"}), "status:\"PONG\"");
  quitter.reset();
  // Wait (bounded) until the server has seen it go: p and the 3 waiters remain.
  for (int i = 0; i < 500; ++i) {
    ReplyPtr list = p->Command({"CLIENT", "LIST"});
    ASSERT_NE(list, nullptr);
    if (std::count(list->str, list->str + list->len, '\n') == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    const std::string& key = i % 2 ? ka : kb;
    EXPECT_EQ(p->Run({"RPUSH", key, "v" + std::to_string(i)}), "int:1");
    // Exactly one waiter answers, whichever.
    bool answered = false;
    for (int round = 0; round < 200 && !answered; ++round) {
      for (auto& w : waiters) {
        if (w == nullptr) continue;
        std::optional<RespValue> v = w->Read(std::chrono::milliseconds(10));
        if (!v) continue;
        got.push_back(v->Render());
        w.reset();
        answered = true;
        break;
      }
    }
    ASSERT_TRUE(answered) << "no waiter was served by push " << i << " " << p->Run({"LLEN", key})
                          << " " << p->Run({"CLIENT", "LIST"});
    EXPECT_EQ(p->Run({"EXISTS", ka, kb}), "int:0");  // taken exactly once
  }
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(p->Run({"RPUSH", ka, "left"}), "int:1");  // the quitter took nothing
  EXPECT_EQ(p->Run({"LRANGE", ka, "0", "-1"}), "arr:[str:\"left\"]");

  // BLMOVE / BRPOPLPUSH between shards.
  EXPECT_EQ(p->Run({"DEL", ka, kb}), "int:1");
  EXPECT_EQ(p->Run({"BLMOVE", ka, kb, "LEFT", "UP", "0"}), "err:\"ERR syntax error\"");
  EXPECT_EQ(p->Run({"BLMOVE", ka, kb, "LEFT", "RIGHT", "-1"}), "err:\"ERR timeout is negative\"");
  EXPECT_EQ(p->Run({"BLMOVE", ka, kb, "LEFT", "RIGHT", "0.05"}), "nil");
  EXPECT_EQ(p->Run({"RPUSH", ka, "x", "y"}), "int:2");
  EXPECT_EQ(p->Run({"SET", kb, "str"}), "status:\"OK\"");
  EXPECT_EQ(p->Run({"BLMOVE", ka, kb, "LEFT", "RIGHT", "0"}),
            "err:\"WRONGTYPE Operation against a key holding the wrong kind of value\"");
  EXPECT_EQ(p->Run({"DEL", kb}), "int:1");
  EXPECT_EQ(p->Run({"BLMOVE", ka, kb, "RIGHT", "LEFT", "0"}), "str:\"y\"");
  EXPECT_EQ(p->Run({"BRPOPLPUSH", ka, kb, "0"}), "str:\"x\"");
  EXPECT_EQ(p->Run({"LRANGE", kb, "0", "-1"}), "arr:[str:\"x\",str:\"y\"]");
  EXPECT_EQ(p->Run({"EXISTS", ka}), "int:0");
  auto mover = RawConnection::Connect(shardis_->port());
  ASSERT_NE(mover, nullptr);
  ASSERT_TRUE(mover->SendCommand({"BLMOVE", ka, kb, "LEFT", "LEFT", "0"}));
  EXPECT_EQ(p->Run({"PING"}), "status:\"PONG\"");
  EXPECT_EQ(p->Run({"LPUSH", ka, "z"}), "int:1");
  std::optional<RespValue> moved = mover->Read(std::chrono::seconds(20));
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->Render(), "str:\"z\"");
  EXPECT_EQ(p->Run({"LRANGE", kb, "0", "-1"}), "arr:[str:\"z\",str:\"x\",str:\"y\"]");
  EXPECT_EQ(p->Run({"MULTI"}), "status:\"OK\"");
  EXPECT_EQ(p->Run({"BLMOVE", ka, kb, "LEFT", "LEFT", "0"}), "status:\"QUEUED\"");
  EXPECT_EQ(p->Run({"EXEC"}), "arr:[nil]");

  // Sorted sets too.
  auto z = RawConnection::Connect(shardis_->port());
  ASSERT_NE(z, nullptr);
  ASSERT_TRUE(z->SendCommand({"BZPOPMIN", "z:" + ka, "z:" + kb, "0"}));
  EXPECT_EQ(p->Run({"PING"}), "status:\"PONG\"");
  EXPECT_EQ(p->Run({"ZADD", "z:" + kb, "2", "m"}), "int:1");
  std::optional<RespValue> v = z->Read(std::chrono::seconds(20));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->Render(), "arr:[str:\"z:" + kb + "\",str:\"m\",str:\"2\"]");
}

TEST_F(CoordinationTest, CrossShardBlockingPopsTakeEachElementOnce) {
  // Producers push unique elements onto lists of every shard; consumers BLPOP over all of them.
  // Every element is received exactly once (none lost, none duplicated).
  const std::vector<std::string> lists = SpreadKeys("q:", 4);
  constexpr int kProducers = 3;
  constexpr int kPerProducer = 150;
  constexpr int kConsumers = 4;
  std::atomic<int> produced_done{0};
  std::atomic<int> failures{0};
  std::vector<std::vector<std::string>> received(kConsumers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kConsumers; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect(shardis_->port(), std::chrono::seconds(60));
      if (c == nullptr) {
        ++failures;
        return;
      }
      std::vector<std::string> cmd = {"BLPOP"};
      cmd.insert(cmd.end(), lists.begin(), lists.end());
      cmd.push_back("0.2");
      // Bounded: stops after the producers are done and a pop times out, or 5000 rounds.
      for (int round = 0; round < 5000; ++round) {
        bool producers_done = produced_done == kProducers;
        ReplyPtr r = c->Command(cmd);
        if (r == nullptr) {
          ++failures;
          return;
        }
        if (r->type == REDIS_REPLY_NIL) {
          if (producers_done) return;
          continue;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
          ++failures;
          return;
        }
        received[t].emplace_back(r->element[1]->str);
      }
    });
  }
  for (int t = 0; t < kProducers; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect(shardis_->port(), std::chrono::seconds(60));
      if (c == nullptr) {
        ++failures;
        ++produced_done;
        return;
      }
      for (int i = 0; i < kPerProducer; ++i) {
        const std::string& list = lists[(t + i) % lists.size()];
        if (c->Command({"RPUSH", list, "p" + std::to_string(t) + ":" + std::to_string(i)}) ==
            nullptr) {
          ++failures;
        }
      }
      ++produced_done;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<std::string> all;
  for (const auto& r : received) all.insert(all.end(), r.begin(), r.end());
  // Whatever no consumer took is still in the lists.
  auto c = Client::Connect(shardis_->port());
  ASSERT_NE(c, nullptr);
  for (const std::string& list : lists) {
    ReplyPtr r = c->Command({"LRANGE", list, "0", "-1"});
    ASSERT_NE(r, nullptr);
    for (size_t i = 0; i < r->elements; ++i) all.emplace_back(r->element[i]->str);
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "an element came twice";
  EXPECT_EQ(all.size(), static_cast<size_t>(kProducers * kPerProducer));
}

}  // namespace
}  // namespace shardis::test
