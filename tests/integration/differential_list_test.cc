// Differential test of the list commands: the same seeded random command sequences go to
// shardis-server (--threads 4 and --threads 1) and to the reference redis-server 7.0, and every
// reply must match byte for byte (lists are ordered, so no reply is compared as a set). A small
// keyspace with {hashtag} groups makes LMOVE/RPOPLPUSH/LMPOP sometimes share a shard and
// sometimes span shards; blocking commands use keys of one group only (Shardis answers CROSSSLOT
// otherwise) and short timeouts. A few keys hold strings, for WRONGTYPE paths. Elements come from
// a small vocabulary so LREM, LPOS and LINSERT find matches. The whole keyspace (type, contents,
// encoding) is compared every few hundred commands.
//
// Environment: SHARDIS_DIFF_LIST_COMMANDS (commands per sequence, default 3000),
// SHARDIS_DIFF_SEED (run only this seed), SHARDIS_DIFF_VERBOSE=1 (print every command and both
// replies).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

// Single keys spread over shards; {t} and {u} groups share a shard each.
const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = {"l1",
                                                "l2",
                                                "l3",
                                                "l4",
                                                "s1",
                                                "{t}a",
                                                "{t}b",
                                                "{t}c",
                                                "{u}a",
                                                "{u}b",
                                                "{u}c",
                                                "k 6",
                                                std::string("b\0n", 3)};
  return keys;
}
const std::vector<std::vector<std::string>>& TagGroups() {
  static const std::vector<std::vector<std::string>> groups = {{"{t}a", "{t}b", "{t}c"},
                                                               {"{u}a", "{u}b", "{u}c"}};
  return groups;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {
    struct Entry {
      const char* name;
      int weight;
    };
    const Entry table[] = {
        {"LPUSH", 14},     {"RPUSH", 14}, {"LPUSHX", 4},  {"RPUSHX", 4}, {"LPOP", 8},
        {"RPOP", 8},       {"LLEN", 4},   {"LRANGE", 10}, {"LINDEX", 6}, {"LSET", 5},
        {"LINSERT", 6},    {"LREM", 6},   {"LTRIM", 4},   {"LPOS", 8},   {"LMOVE", 6},
        {"RPOPLPUSH", 3},  {"LMPOP", 6},  {"BLPOP", 3},   {"BRPOP", 3},  {"BLMOVE", 2},
        {"BRPOPLPUSH", 1}, {"BLMPOP", 2}, {"SET", 1},     {"DEL", 3},    {"TYPE", 1},
        {"OBJECT", 1},     {"COPY", 1},   {"RENAME", 1},
    };
    for (const Entry& e : table) {
      names_.push_back(e.name);
      total_ += e.weight;
      cumulative_.push_back(total_);
    }
  }

  std::vector<std::string> Next() {
    int pick = Rand(total_);
    size_t idx =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), pick) - cumulative_.begin();
    std::vector<std::string> args = Make(names_[idx]);
    if (Chance(0.1)) {
      for (size_t i = 0; i < args.size(); ++i) {
        if (i == 0 || IsOptionWord(args[i])) args[i] = absl::AsciiStrToLower(args[i]);
      }
    }
    if (Chance(0.01) && args.size() > 1) {
      args.resize(1 + Rand(static_cast<int>(args.size()) - 1));  // arity errors
    }
    return args;
  }

 private:
  static bool IsOptionWord(const std::string& s) {
    static const std::set<std::string> words = {"LEFT",  "RIGHT", "BEFORE", "AFTER",
                                                "COUNT", "RANK",  "MAXLEN", "ENCODING"};
    return words.count(s) != 0;
  }

  int Rand(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Rand(static_cast<int>(v.size()))];
  }
  std::string PickS(std::initializer_list<const char*> v) {
    std::vector<const char*> vv(v);
    return vv[Rand(static_cast<int>(vv.size()))];
  }

  std::string Key() { return Chance(0.03) ? "missing:key" : Pick(Keys()); }
  // Keys of one tag group (one shard), for blocking commands.
  std::string GroupKey(const std::vector<std::string>& group) { return Pick(group); }

  std::string Element() {
    switch (Rand(12)) {
      case 0:
        return "";
      case 1:
        return std::string(static_cast<size_t>(Range(60, 300)), 'x');
      case 2:
        return absl::StrCat(Range(-5, 5));
      case 3:
        return std::string("b\0\xff\r\n", 5);
      default:
        return PickS({"a", "b", "c", "d", "e"});
    }
  }
  std::string Index() {
    if (Chance(0.05)) {
      return PickS({"9223372036854775807", "-9223372036854775808", "abc", "1.5", "", " 1"});
    }
    return absl::StrCat(Range(-12, 12));
  }
  std::string Count() {
    if (Chance(0.1)) return PickS({"-1", "abc", "0", "9223372036854775807", "-0"});
    return absl::StrCat(Range(1, 6));
  }
  std::string Where() {
    if (Chance(0.03)) return "UP";
    return Chance(0.5) ? "LEFT" : "RIGHT";
  }
  std::string Timeout() {
    if (Chance(0.2)) return PickS({"abc", "-1", "nan", "inf", "1e30", "", "-0.5"});
    return PickS({"0.01", "0.02", "0.015"});
  }

  void AddElements(std::vector<std::string>* args, int max) {
    int n = 1 + Rand(max);
    for (int i = 0; i < n; ++i) args->push_back(Element());
  }

  std::vector<std::string> Make(const std::string& name) {
    std::vector<std::string> a = {name};
    if (name == "LPUSH" || name == "RPUSH" || name == "LPUSHX" || name == "RPUSHX") {
      a.push_back(Key());
      AddElements(&a, Chance(0.1) ? 40 : 4);
    } else if (name == "LPOP" || name == "RPOP") {
      a.push_back(Key());
      if (Chance(0.5)) a.push_back(Count());
    } else if (name == "LLEN" || name == "TYPE") {
      a.push_back(Key());
    } else if (name == "LRANGE" || name == "LTRIM") {
      a.push_back(Key());
      a.push_back(Index());
      a.push_back(Index());
    } else if (name == "LINDEX") {
      a.push_back(Key());
      a.push_back(Index());
    } else if (name == "LSET") {
      a.push_back(Key());
      a.push_back(Index());
      a.push_back(Element());
    } else if (name == "LINSERT") {
      a.push_back(Key());
      a.push_back(Chance(0.03) ? "MIDDLE" : (Chance(0.5) ? "BEFORE" : "AFTER"));
      a.push_back(Element());
      a.push_back(Element());
    } else if (name == "LREM") {
      a.push_back(Key());
      a.push_back(Chance(0.05) ? "x" : absl::StrCat(Range(-3, 3)));
      a.push_back(Element());
    } else if (name == "LPOS") {
      a.push_back(Key());
      a.push_back(Element());
      int opts = Rand(4);
      for (int i = 0; i < opts; ++i) {
        switch (Rand(4)) {
          case 0:
            a.push_back("RANK");
            a.push_back(Chance(0.1) ? PickS({"0", "abc", "-9223372036854775808"})
                                    : absl::StrCat(Chance(0.5) ? Range(1, 3) : Range(-3, -1)));
            break;
          case 1:
            a.push_back("COUNT");
            a.push_back(Chance(0.1) ? PickS({"-1", "abc"}) : absl::StrCat(Range(0, 3)));
            break;
          case 2:
            a.push_back("MAXLEN");
            a.push_back(Chance(0.1) ? PickS({"-1", "abc"}) : absl::StrCat(Range(0, 8)));
            break;
          default:
            a.push_back(Chance(0.5) ? "RANK" : "BOGUS");
            break;
        }
      }
    } else if (name == "LMOVE") {
      a.push_back(Key());
      a.push_back(Chance(0.1) ? a[1] : Key());
      a.push_back(Where());
      a.push_back(Where());
    } else if (name == "RPOPLPUSH") {
      a.push_back(Key());
      a.push_back(Chance(0.1) ? a[1] : Key());
    } else if (name == "LMPOP" || name == "BLMPOP") {
      bool blocking = name == "BLMPOP";
      const std::vector<std::string>& group = Pick(TagGroups());
      if (blocking) a.push_back(Timeout());
      int n = 1 + Rand(3);
      a.push_back(Chance(0.05) ? PickS({"0", "-1", "abc", "9"}) : absl::StrCat(n));
      for (int i = 0; i < n; ++i) a.push_back(blocking ? GroupKey(group) : Key());
      a.push_back(Where());
      if (Chance(0.5)) {
        a.push_back("COUNT");
        a.push_back(Chance(0.1) ? PickS({"0", "-1", "abc"}) : absl::StrCat(Range(1, 4)));
      }
    } else if (name == "BLPOP" || name == "BRPOP") {
      const std::vector<std::string>& group = Pick(TagGroups());
      int n = 1 + Rand(3);
      for (int i = 0; i < n; ++i) a.push_back(GroupKey(group));
      a.push_back(Timeout());
    } else if (name == "BLMOVE" || name == "BRPOPLPUSH") {
      const std::vector<std::string>& group = Pick(TagGroups());
      a.push_back(GroupKey(group));
      a.push_back(GroupKey(group));
      if (name == "BLMOVE") {
        a.push_back(Where());
        a.push_back(Where());
      }
      a.push_back(Timeout());
    } else if (name == "SET") {
      a.push_back(Chance(0.85) ? "s1" : Key());
      a.push_back(Element());
    } else if (name == "DEL") {
      a.push_back(Key());
    } else if (name == "OBJECT") {
      a = {"OBJECT", "ENCODING", Key()};
    } else if (name == "COPY" || name == "RENAME") {
      a.push_back(Key());
      a.push_back(Key());
    }
    return a;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> names_;
  std::vector<int> cumulative_;
  int total_ = 0;
};

std::string Clip(const std::string& s, size_t n = 600) {
  if (s.size() <= n) return s;
  return absl::StrCat(s.substr(0, n), "...(", s.size(), " chars)");
}

struct DiffParam {
  int threads;
  uint64_t seed;
};

class DifferentialListTest : public ::testing::TestWithParam<DiffParam> {
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

  // Compares every key (type, contents, encoding). Returns the first difference, or "".
  std::string CompareState() {
    ReplyPtr ka = sh_->Command({"KEYS", "*"});
    ReplyPtr kb = ref_->Command({"KEYS", "*"});
    if (RenderSet(ka.get()) != RenderSet(kb.get())) {
      return absl::StrCat("KEYS * differ:\n  ", ShardisLabel(), ": ", Clip(RenderSet(ka.get())),
                          "\n  redis:   ", Clip(RenderSet(kb.get())));
    }
    if (kb == nullptr || kb->type != REDIS_REPLY_ARRAY) return "";
    for (size_t i = 0; i < kb->elements; ++i) {
      std::string key(kb->element[i]->str, kb->element[i]->len);
      std::string type = ref_->Run({"TYPE", key});
      std::vector<std::vector<std::string>> probes = {{"TYPE", key}, {"OBJECT", "ENCODING", key}};
      probes.push_back(type == "status:\"list\""
                           ? std::vector<std::string>{"LRANGE", key, "0", "-1"}
                           : std::vector<std::string>{"GET", key});
      for (const auto& args : probes) {
        std::string a = sh_->Run(args);
        std::string b = ref_->Run(args);
        if (a != b) {
          return absl::StrCat(RenderCommand(args), " differs:\n  ", ShardisLabel(), ": ", Clip(a),
                              "\n  redis:   ", Clip(b));
        }
      }
    }
    return "";
  }

  void Resync() {
    sh_->Run({"FLUSHDB"});
    ref_->Run({"FLUSHDB"});
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> sh_, ref_;
};

TEST_P(DifferentialListTest, RandomListCommands) {
  const DiffParam param = GetParam();
  const int64_t commands = EnvInt("SHARDIS_DIFF_LIST_COMMANDS", 3000);
  const bool verbose = EnvInt("SHARDIS_DIFF_VERBOSE", 0) != 0;
  Generator gen(param.seed);
  const std::set<std::string> keyset(Keys().begin(), Keys().end());
  std::vector<std::pair<int64_t, std::vector<std::string>>> history;
  int mismatches = 0;
  const int kMaxMismatches = 15;
  const std::string header =
      absl::StrCat("seed ", param.seed, ", ", ShardisLabel(), " --threads ", param.threads);
  std::printf("%s: %lld commands\n", header.c_str(), static_cast<long long>(commands));

  auto context = [&](const std::vector<std::string>& args) {
    std::set<std::string> keys;
    for (const std::string& a : args) {
      if (keyset.count(a) != 0) keys.insert(a);
    }
    std::vector<std::string> lines;
    for (size_t i = history.size(); i-- > 0 && lines.size() < 10;) {
      const auto& [index, cmd] = history[i];
      bool touches = false;
      for (const std::string& a : cmd) touches |= keys.count(a) != 0;
      if (touches || cmd[0] == "FLUSHDB") {
        lines.push_back(absl::StrCat("    #", index, " ", Clip(RenderCommand(cmd), 200)));
      }
    }
    std::reverse(lines.begin(), lines.end());
    return absl::StrJoin(lines, "\n");
  };

  for (int64_t i = 0; i < commands && mismatches < kMaxMismatches; ++i) {
    std::vector<std::string> args = gen.Next();
    ReplyPtr a = sh_->Command(args);
    ReplyPtr b = ref_->Command(args);
    if (a == nullptr) {
      ADD_FAILURE() << header << ": io-error at #" << i << " " << RenderCommand(args) << ": "
                    << sh_->error() << "\n"
                    << shardis_->DescribeExit() << "\n"
                    << shardis_->LogTail();
      return;
    }
    ASSERT_NE(b, nullptr) << "redis-server: " << ref_->error();
    std::string got = Render(a.get());
    std::string want = Render(b.get());
    if (verbose) {
      std::printf("#%lld %s\n  -> %s\n  == %s\n", static_cast<long long>(i),
                  Clip(RenderCommand(args), 300).c_str(), Clip(got, 300).c_str(),
                  Clip(want, 300).c_str());
      std::fflush(stdout);
    }
    history.push_back({i, args});
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << header << ": mismatch at command #" << i
                    << "\n  command: " << Clip(RenderCommand(args), 400) << "\n  " << ShardisLabel()
                    << ": " << Clip(got) << "\n  redis:   " << Clip(want)
                    << "\n  earlier commands on these keys:\n"
                    << context(args);
      Resync();
      history.push_back({i, {"FLUSHDB", "(resync after mismatch)"}});
      continue;
    }
    if ((i + 1) % 250 == 0 || i + 1 == commands) {
      std::string diff = CompareState();
      if (!diff.empty()) {
        ++mismatches;
        ADD_FAILURE() << header << ": state differs after command #" << i << ":\n" << diff;
        Resync();
        history.push_back({i, {"FLUSHDB", "(resync after mismatch)"}});
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << header;
}

std::vector<DiffParam> Params() {
  int64_t seed = EnvInt("SHARDIS_DIFF_SEED", 0);
  if (seed != 0) {
    return {{4, static_cast<uint64_t>(seed)}, {1, static_cast<uint64_t>(seed)}};
  }
  return {{4, 1}, {4, 2}, {1, 3}};
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialListTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

}  // namespace
}  // namespace shardis::test
