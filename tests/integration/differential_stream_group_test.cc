// Differential test of the stream consumer-group commands (XGROUP, XREADGROUP, XACK, XPENDING,
// XCLAIM, XAUTOCLAIM, XINFO GROUPS/CONSUMERS/STREAM FULL) together with XADD/XDEL/XTRIM/XSETID,
// DEL/COPY/RENAME/DUMP+RESTORE: the same seeded random sequences, and a scripted one, go to
// shardis-server (--threads 4 and 1) and to the reference redis-server 7.0; every reply must
// match once the clock-dependent numbers are masked (idle times, delivery and seen times).
// Time-dependent options only use values far from the test's own duration (IDLE 0 or 10^9 ms,
// TIME 1...), so both servers take the same decisions. A blocking XREADGROUP's keys share a
// {hashtag} (Shardis refuses one that spans shards).
//
// Environment: SHARDIS_DIFF_COMMANDS (commands per sequence, default 3000), SHARDIS_DIFF_SEED,
// SHARDIS_DIFF_VERBOSE=1.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = {"{t}a", "{t}b", "{t}c", "s1", "s2"};
  return keys;
}

std::string Clip(const std::string& s, size_t n = 800) {
  return s.size() <= n ? s : s.substr(0, n) + "...";
}

// Renders a reply with clock-dependent integers masked: absolute times (>= 10^12), the value
// after "idle", and (mask_pending) the third element of 4-element arrays (XPENDING's idle).
void RenderMasked(const redisReply* r, bool mask_pending, std::string* out) {
  if (r == nullptr) {
    out->append("io-error");
    return;
  }
  if (r->type == REDIS_REPLY_INTEGER && r->integer >= 1000000000000LL) {
    out->append("int:T");
    return;
  }
  if (r->type != REDIS_REPLY_ARRAY) {
    out->append(Render(r));
    return;
  }
  out->append("arr:[");
  for (size_t i = 0; i < r->elements; ++i) {
    if (i > 0) out->push_back(',');
    const redisReply* e = r->element[i];
    const redisReply* prev = i > 0 ? r->element[i - 1] : nullptr;
    const bool after_idle = prev != nullptr && prev->type == REDIS_REPLY_STRING &&
                            std::string(prev->str, prev->len) == "idle";
    const bool pending_idle = mask_pending && r->elements == 4 && i == 2 &&
                              e->type == REDIS_REPLY_INTEGER &&
                              r->element[0]->type == REDIS_REPLY_STRING;
    if (e->type == REDIS_REPLY_INTEGER && (after_idle || pending_idle)) {
      out->append("int:T");
    } else {
      RenderMasked(e, mask_pending, out);
    }
  }
  out->append("]");
}

std::string RunMasked(Client* c, const std::vector<std::string>& args) {
  ReplyPtr r = c->Command(args);
  std::string out;
  RenderMasked(r.get(), !args.empty() && (args[0] == "XPENDING" || args[0] == "xpending"), &out);
  return out;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {
    const std::pair<const char*, int> table[] = {
        {"XADD", 30},       {"XDEL", 5},  {"XTRIM", 3},    {"XGROUP", 8},
        {"XREADGROUP", 25}, {"XACK", 8},  {"XPENDING", 8}, {"XCLAIM", 8},
        {"XAUTOCLAIM", 6},  {"XINFO", 6}, {"XSETID", 2},   {"KEYOP", 3},
    };
    for (const auto& [name, weight] : table) {
      names_.push_back(name);
      total_ += weight;
      cumulative_.push_back(total_);
    }
  }

  std::vector<std::string> Next() {
    int pick = Rand(total_);
    size_t idx =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), pick) - cumulative_.begin();
    return Make(names_[idx]);
  }

 private:
  int Rand(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::string PickS(std::initializer_list<const char*> v) {
    std::vector<const char*> vv(v);
    return vv[Rand(static_cast<int>(vv.size()))];
  }
  std::string Key() {
    if (Chance(0.02)) return "str";
    if (Chance(0.02)) return "missing";
    return Keys()[Rand(static_cast<int>(Keys().size()))];
  }
  std::string Group() { return PickS({"g1", "g1", "g2", "g3"}); }
  std::string Consumer() { return PickS({"c1", "c2", "c3", "c4"}); }
  // An ID near the ones in use.
  std::string Id() {
    if (Chance(0.05)) return PickS({"0", "0-0", "-", "+", "bad", "$"});
    return absl::StrCat(1 + Rand(next_ms_ + 2), "-", Rand(3));
  }
  std::string IntervalId() {
    std::string id = Id();
    if (Chance(0.1)) return "(" + id;
    return id;
  }

  std::vector<std::string> Make(const std::string& name) {
    std::vector<std::string> a = {name};
    if (name == "XADD") {
      a.push_back(Key());
      if (Chance(0.05)) a.insert(a.end(), {"MAXLEN", std::to_string(Rand(8))});
      next_ms_ += 1 + Rand(2);
      a.push_back(Chance(0.03) ? Id() : absl::StrCat(next_ms_, "-", Rand(2)));
      a.insert(a.end(), {"f", std::to_string(Rand(100))});
    } else if (name == "XDEL") {
      a.push_back(Key());
      for (int i = 0, n = 1 + Rand(3); i < n; ++i) a.push_back(Id());
    } else if (name == "XTRIM") {
      a.push_back(Key());
      if (Chance(0.5)) {
        a.insert(a.end(), {"MAXLEN", std::to_string(Rand(10))});
      } else {
        a.insert(a.end(), {"MINID", Id()});
      }
    } else if (name == "XGROUP") {
      std::string sub = PickS({"CREATE", "CREATE", "SETID", "DESTROY", "CREATECONSUMER",
                               "DELCONSUMER", "HELP", "BOGUS"});
      a.push_back(sub);
      if (sub == "HELP") return a;
      a.push_back(Key());
      a.push_back(Group());
      if (sub == "CREATE" || sub == "SETID") {
        a.push_back(Chance(0.3) ? "$" : Id());
        if (sub == "CREATE" && Chance(0.4)) a.push_back("MKSTREAM");
        if (Chance(0.3)) a.insert(a.end(), {"ENTRIESREAD", PickS({"-1", "0", "3", "-2", "x"})});
      } else if (sub == "CREATECONSUMER" || sub == "DELCONSUMER") {
        a.push_back(Consumer());
      }
    } else if (name == "XREADGROUP") {
      a.insert(a.end(), {"GROUP", Group(), Consumer()});
      if (Chance(0.5)) a.insert(a.end(), {"COUNT", std::to_string(Rand(4))});
      if (Chance(0.15)) a.push_back("NOACK");
      const bool block = Chance(0.1);
      if (block) a.insert(a.end(), {"BLOCK", "1"});
      a.push_back("STREAMS");
      std::vector<std::string> keys = {Key()};
      if (Chance(0.2)) keys = {"{t}a", "{t}b"};
      // Keys on several shards (not with BLOCK: Shardis refuses that with CROSSSLOT).
      if (!block && Chance(0.15)) keys = {Key(), Key(), Key()};
      for (const auto& k : keys) a.push_back(k);
      for (size_t i = 0; i < keys.size(); ++i) a.push_back(Chance(0.7) ? ">" : Id());
    } else if (name == "XACK") {
      a.insert(a.end(), {Key(), Group()});
      for (int i = 0, n = 1 + Rand(3); i < n; ++i) a.push_back(Id());
    } else if (name == "XPENDING") {
      a.insert(a.end(), {Key(), Group()});
      if (Chance(0.3)) return a;
      if (Chance(0.2)) a.insert(a.end(), {"IDLE", PickS({"0", "1000000000", "x"})});
      a.push_back(IntervalId());
      a.push_back(Chance(0.5) ? "+" : IntervalId());
      a.push_back(PickS({"10", "2", "0", "-1", "100"}));
      if (Chance(0.3)) a.push_back(Consumer());
    } else if (name == "XCLAIM") {
      a.insert(a.end(), {Key(), Group(), Consumer(), PickS({"0", "0", "1000000000", "x"})});
      for (int i = 0, n = 1 + Rand(3); i < n; ++i) a.push_back(Id());
      if (Chance(0.3)) a.push_back("JUSTID");
      if (Chance(0.2)) a.push_back("FORCE");
      if (Chance(0.15)) a.insert(a.end(), {"IDLE", PickS({"0", "2000000000", "-5"})});
      if (Chance(0.1)) a.insert(a.end(), {"TIME", PickS({"1", "-1"})});
      if (Chance(0.15)) a.insert(a.end(), {"RETRYCOUNT", PickS({"0", "5"})});
      if (Chance(0.1)) a.insert(a.end(), {"LASTID", Id()});
      if (Chance(0.03)) a.push_back("BOGUS");
    } else if (name == "XAUTOCLAIM") {
      a.insert(a.end(), {Key(), Group(), Consumer(), PickS({"0", "0", "1000000000", "x"})});
      a.push_back(IntervalId());
      if (Chance(0.5)) a.insert(a.end(), {"COUNT", PickS({"1", "2", "5", "0"})});
      if (Chance(0.3)) a.push_back("JUSTID");
    } else if (name == "XINFO") {
      std::string sub = PickS({"GROUPS", "CONSUMERS", "STREAM"});
      a.push_back(sub);
      a.push_back(Key());
      if (sub == "CONSUMERS") a.push_back(Group());
      if (sub == "STREAM") {
        a.push_back("FULL");
        if (Chance(0.3)) a.insert(a.end(), {"COUNT", PickS({"0", "1", "3"})});
      }
    } else if (name == "XSETID") {
      a.push_back(Key());
      a.push_back(absl::StrCat(next_ms_ + Rand(3), "-", Rand(3)));
      if (Chance(0.5)) a.insert(a.end(), {"ENTRIESADDED", std::to_string(50 + Rand(50))});
      if (Chance(0.5)) a.insert(a.end(), {"MAXDELETEDID", absl::StrCat(Rand(next_ms_ + 1))});
    } else {  // KEYOP
      std::string op = PickS({"DEL", "COPY", "RENAME", "RESTORE"});
      if (op == "DEL") return {"DEL", Key()};
      if (op == "COPY") return {"COPY", "{t}a", "{t}c", "REPLACE"};
      if (op == "RENAME") return {"RENAME", "{t}c", "{t}b"};
      return {"RESTORE"};  // DUMP {t}a and RESTORE it into {t}c (done by the test)
    }
    return a;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> names_;
  std::vector<int> cumulative_;
  int total_ = 0;
  int next_ms_ = 0;
};

struct DiffParam {
  int threads;
  uint64_t seed;
};

class DifferentialStreamGroupTest : public ::testing::TestWithParam<DiffParam> {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(GetParam().threads, {}, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    sh_ = Client::Connect(shardis_->port(), seconds(10), &error);
    ASSERT_NE(sh_, nullptr) << error;
    ref_ = Client::Connect(redis_->port(), seconds(10), &error);
    ASSERT_NE(ref_, nullptr) << error;
  }

  void TearDown() override {
    sh_.reset();
    ref_.reset();
    if (shardis_ != nullptr) {
      bool alive = shardis_->Running();
      EXPECT_TRUE(alive) << ShardisLabel() << " died: " << shardis_->DescribeExit() << "\n"
                         << shardis_->LogTail();
      if (alive) {
        EXPECT_TRUE(shardis_->Stop()) << shardis_->LogTail();
      }
    }
  }

  // Runs a command on both servers; "" when the (masked) replies match, else a description.
  std::string Both(const std::vector<std::string>& args) {
    if (args.size() == 1 && args[0] == "RESTORE") {
      // DUMP on each server, RESTORE its own payload: the payloads hold times, so they are not
      // compared, but what RESTORE rebuilds is (by later commands and CompareState).
      std::string diff;
      for (Client* c : {sh_.get(), ref_.get()}) {
        ReplyPtr dump = c->Command({"DUMP", "{t}a"});
        if (dump == nullptr) return "io-error";
        if (dump->type != REDIS_REPLY_STRING) continue;
        std::string payload(dump->str, dump->len);
        std::string r = c->Run({"RESTORE", "{t}c", "0", payload, "REPLACE"});
        if (r != "status:\"OK\"") diff = absl::StrCat("RESTORE failed: ", r);
      }
      return diff;
    }
    std::string ra = RunMasked(sh_.get(), args);
    std::string rb = RunMasked(ref_.get(), args);
    if (ra == rb) return "";
    return absl::StrCat(RenderCommand(args), "\n  ", ShardisLabel(), ": ", Clip(ra),
                        "\n  redis:   ", Clip(rb));
  }

  std::string CompareState() {
    for (const std::string& key : Keys()) {
      std::vector<std::vector<std::string>> probes = {
          {"TYPE", key}, {"XINFO", "STREAM", key, "FULL", "COUNT", "0"}, {"XINFO", "GROUPS", key}};
      for (const char* g : {"g1", "g2", "g3"}) {
        probes.push_back({"XPENDING", key, g});
        probes.push_back({"XPENDING", key, g, "-", "+", "1000"});
        probes.push_back({"XINFO", "CONSUMERS", key, g});
      }
      for (const auto& args : probes) {
        std::string diff = Both(args);
        if (!diff.empty()) return diff;
      }
    }
    return "";
  }

  // Runs a list of commands on both servers; returns the failures.
  std::vector<std::string> RunScript(const std::vector<std::vector<std::string>>& script) {
    std::vector<std::string> failures;
    for (const auto& args : script) {
      std::string diff = Both(args);
      if (!diff.empty()) failures.push_back(diff);
    }
    return failures;
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> sh_, ref_;
};

TEST_P(DifferentialStreamGroupTest, RandomGroupCommands) {
  const DiffParam param = GetParam();
  const int64_t commands = EnvInt("SHARDIS_DIFF_COMMANDS", 3000);
  const bool verbose = EnvInt("SHARDIS_DIFF_VERBOSE", 0) != 0;
  Generator gen(param.seed);
  const std::string header =
      absl::StrCat("seed ", param.seed, ", ", ShardisLabel(), " --threads ", param.threads);
  ASSERT_EQ(sh_->Run({"SET", "str", "x"}), ref_->Run({"SET", "str", "x"}));
  std::deque<std::string> recent;
  int mismatches = 0;
  const int kMaxMismatches = 10;
  for (int64_t i = 0; i < commands && mismatches < kMaxMismatches; ++i) {
    std::vector<std::string> args = gen.Next();
    std::string diff = Both(args);
    if (verbose) {
      std::printf("#%lld %s%s\n", static_cast<long long>(i), RenderCommand(args).c_str(),
                  diff.empty() ? "" : "  (DIFFERS)");
    }
    recent.push_back(absl::StrCat("#", i, " ", Clip(RenderCommand(args), 200)));
    if (recent.size() > 25) recent.pop_front();
    if (diff.empty() && ((i + 1) % 200 == 0 || i + 1 == commands)) diff = CompareState();
    if (!diff.empty()) {
      ++mismatches;
      ADD_FAILURE() << header << ": mismatch at command #" << i << ": " << diff
                    << "\n  recent commands:\n    " << absl::StrJoin(recent, "\n    ");
      for (Client* c : {sh_.get(), ref_.get()}) {
        c->Run({"FLUSHALL"});
        c->Run({"SET", "str", "x"});
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << header;
}

// Entries-read and lag through XDEL, XTRIM, XSETID and SETID (Redis 7.0's lag rules).
TEST_P(DifferentialStreamGroupTest, LagAndEntriesRead) {
  const std::vector<std::vector<std::string>> script = {
      {"XGROUP", "CREATE", "s1", "g1", "$", "MKSTREAM"},
      {"XINFO", "GROUPS", "s1"},
      {"XADD", "s1", "1-0", "f", "1"},
      {"XADD", "s1", "2-0", "f", "2"},
      {"XADD", "s1", "3-0", "f", "3"},
      {"XADD", "s1", "4-0", "f", "4"},
      {"XADD", "s1", "5-0", "f", "5"},
      {"XGROUP", "CREATE", "s1", "g2", "0"},
      {"XGROUP", "CREATE", "s1", "g3", "3-0"},
      {"XGROUP", "CREATE", "s1", "g4", "$"},
      {"XINFO", "GROUPS", "s1"},
      {"XREADGROUP", "GROUP", "g1", "c1", "COUNT", "2", "STREAMS", "s1", ">"},
      {"XINFO", "GROUPS", "s1"},
      {"XDEL", "s1", "4-0"},
      {"XINFO", "GROUPS", "s1"},
      {"XREADGROUP", "GROUP", "g1", "c1", "STREAMS", "s1", ">"},
      {"XREADGROUP", "GROUP", "g2", "c1", "COUNT", "1", "STREAMS", "s1", ">"},
      {"XINFO", "GROUPS", "s1"},
      {"XDEL", "s1", "1-0"},
      {"XINFO", "GROUPS", "s1"},
      {"XTRIM", "s1", "MAXLEN", "1"},
      {"XINFO", "GROUPS", "s1"},
      {"XINFO", "STREAM", "s1"},
      {"XGROUP", "SETID", "s1", "g2", "0", "ENTRIESREAD", "0"},
      {"XINFO", "GROUPS", "s1"},
      {"XSETID", "s1", "9-0", "ENTRIESADDED", "20", "MAXDELETEDID", "8-0"},
      {"XINFO", "GROUPS", "s1"},
      {"XADD", "s1", "10-0", "f", "10"},
      {"XREADGROUP", "GROUP", "g3", "c2", "STREAMS", "s1", ">"},
      {"XINFO", "GROUPS", "s1"},
      {"XDEL", "s1", "5-0", "10-0"},
      {"XINFO", "GROUPS", "s1"},
      {"XINFO", "STREAM", "s1", "FULL"},
      {"XPENDING", "s1", "g1"},
      {"XAUTOCLAIM", "s1", "g1", "c3", "0", "0"},
      {"XPENDING", "s1", "g1"},
      {"XCLAIM", "s1", "g3", "c1", "0", "10-0"},
      {"XPENDING", "s1", "g3", "-", "+", "10"},
      {"XINFO", "CONSUMERS", "s1", "g1"},
  };
  std::vector<std::string> failures = RunScript(script);
  EXPECT_TRUE(failures.empty()) << absl::StrJoin(failures, "\n");
}

// XCLAIM and XAUTOCLAIM options: delivery counts, FORCE, JUSTID, LASTID, deleted entries,
// cursors; XREADGROUP history reads.
TEST_P(DifferentialStreamGroupTest, ClaimScript) {
  std::vector<std::vector<std::string>> script = {{"XGROUP", "CREATE", "s2", "g", "0", "MKSTREAM"}};
  for (int i = 1; i <= 12; ++i) {
    script.push_back({"XADD", "s2", absl::StrCat(i, "-0"), "f", std::to_string(i)});
  }
  const std::vector<std::vector<std::string>> rest = {
      {"XREADGROUP", "GROUP", "g", "a", "COUNT", "5", "STREAMS", "s2", ">"},
      {"XREADGROUP", "GROUP", "g", "b", "COUNT", "5", "STREAMS", "s2", ">"},
      {"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s2", "0"},
      {"XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s2", "2-0"},
      {"XPENDING", "s2", "g", "-", "+", "20"},
      {"XDEL", "s2", "3-0", "7-0"},
      {"XREADGROUP", "GROUP", "g", "a", "STREAMS", "s2", "0"},
      {"XCLAIM", "s2", "g", "b", "0", "1-0", "2-0", "3-0"},
      {"XCLAIM", "s2", "g", "b", "0", "4-0", "JUSTID"},
      {"XCLAIM", "s2", "g", "c", "0", "5-0", "RETRYCOUNT", "9", "IDLE", "1000000"},
      {"XPENDING", "s2", "g", "IDLE", "500000", "-", "+", "20"},
      {"XCLAIM", "s2", "g", "c", "0", "11-0", "FORCE"},
      {"XCLAIM", "s2", "g", "c", "0", "12-0", "FORCE", "JUSTID", "LASTID", "15-0"},
      {"XINFO", "GROUPS", "s2"},
      {"XCLAIM", "s2", "g", "c", "0", "99-0", "FORCE"},
      {"XCLAIM", "s2", "g", "c", "0", "1-0", "TIME", "1"},
      {"XPENDING", "s2", "g", "-", "+", "20"},
      {"XAUTOCLAIM", "s2", "g", "d", "0", "0", "COUNT", "2"},
      {"XAUTOCLAIM", "s2", "g", "d", "0", "5-0", "COUNT", "2", "JUSTID"},
      {"XAUTOCLAIM", "s2", "g", "d", "1000000000", "0"},
      {"XAUTOCLAIM", "s2", "g", "d", "0", "(8-0"},
      {"XAUTOCLAIM", "s2", "g", "d", "0", "0", "COUNT", "0"},
      {"XAUTOCLAIM", "s2", "g", "d", "0", "0", "COUNT", "x"},
      {"XAUTOCLAIM", "s2", "g", "d", "x", "0"},
      {"XPENDING", "s2", "g"},
      {"XINFO", "CONSUMERS", "s2", "g"},
      {"XGROUP", "DELCONSUMER", "s2", "g", "d"},
      {"XPENDING", "s2", "g"},
      {"XACK", "s2", "g", "1-0", "2-0", "5-0"},
      {"XPENDING", "s2", "g", "-", "+", "20", "c"},
      {"XINFO", "STREAM", "s2", "FULL", "COUNT", "2"},
      {"COPY", "s2", "s1"},
      {"XINFO", "STREAM", "s1", "FULL"},
      {"DEL", "s2"},
      {"XPENDING", "s2", "g"},
      {"XINFO", "GROUPS", "s1"},
  };
  script.insert(script.end(), rest.begin(), rest.end());
  std::vector<std::string> failures = RunScript(script);
  EXPECT_TRUE(failures.empty()) << absl::StrJoin(failures, "\n");
}

// RESP3 shapes: XREADGROUP's map, XINFO's maps, XPENDING/XCLAIM/XAUTOCLAIM arrays, nulls. Idle
// and delivery times are kept out of the compared replies.
TEST_P(DifferentialStreamGroupTest, Resp3Shapes) {
  std::string error;
  auto a = RawConnection::Connect(shardis_->port(), &error);
  ASSERT_NE(a, nullptr) << error;
  auto b = RawConnection::Connect(redis_->port(), &error);
  ASSERT_NE(b, nullptr) << error;
  const std::vector<std::vector<std::string>> script = {
      {"HELLO", "3"},
      {"XADD", "{t}a", "1-0", "f", "1"},
      {"XADD", "{t}a", "2-0", "f", "2"},
      {"XADD", "{t}b", "3-0", "f", "3"},
      {"XGROUP", "CREATE", "{t}a", "g", "0"},
      {"XGROUP", "CREATE", "{t}b", "g", "$"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{t}a", "{t}b", ">", ">"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{t}a", "{t}b", "0", "0"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "{t}a", ">"},
      {"XINFO", "GROUPS", "{t}a"},
      {"XINFO", "GROUPS", "{t}b"},
      {"XPENDING", "{t}a", "g"},
      {"XPENDING", "{t}b", "g"},
      {"XCLAIM", "{t}a", "g", "d", "0", "1-0"},
      {"XCLAIM", "{t}a", "g", "d", "0", "2-0", "JUSTID"},
      {"XAUTOCLAIM", "{t}a", "g", "e", "0", "0"},
      {"XGROUP", "HELP"},
  };
  for (const auto& cmd : script) {
    std::string ra = a->Run(cmd);
    std::string rb = b->Run(cmd);
    if (cmd[0] == "HELLO") continue;  // server identification differs
    EXPECT_EQ(ra, rb) << RenderCommand(cmd);
  }
}

std::vector<DiffParam> Params() {
  int64_t seed = EnvInt("SHARDIS_DIFF_SEED", 0);
  if (seed != 0) {
    return {{4, static_cast<uint64_t>(seed)}, {1, static_cast<uint64_t>(seed)}};
  }
  return {{4, 1}, {4, 2}, {1, 3}};
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialStreamGroupTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

}  // namespace
}  // namespace shardis::test
