// Differential test of SORT / SORT_RO (and WAIT / LOLWUT basics) against the reference
// redis-server 7.0: seeded random datasets (a list, an intset, a set of strings, a sorted set,
// weight strings, hashes with weight and name fields, object strings; duplicate and equal
// weights, missing and non-numeric ones) and seeded random SORT commands combining BY (none,
// nosort, string and hash-field patterns), LIMIT (negative and out-of-range values too), GET
// (#, strings, hash fields), ASC|DESC, ALPHA and STORE (the stored list is compared too). Run
// on shardis --threads 4 and --threads 1; every key carries the {s} hashtag, so pattern keys
// share the sorted key's shard, except the STORE destination "dst2" which exercises the
// cross-shard store.
//
// Comparison is exact, except where redis-server's order is its hash table's: a set of strings
// (or a sorted set, which Redis sorts from its dict) with ALPHA by a pattern (equal or missing
// values keep the input order) and a set of strings BY nosort. There the LIMIT is dropped and
// the replies are compared as multisets.
//
// Environment: SHARDIS_DIFF_SORT_COMMANDS (commands per seed, default 1500), SHARDIS_DIFF_SEED.
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

struct DiffParam {
  int threads;
  uint64_t seed;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }

  // A list element / set member: small ints (duplicates in lists), floats, some words.
  std::string Number() {
    switch (Uniform(0, 5)) {
      case 0:
        return absl::StrCat(Uniform(-5, 5), ".", Uniform(0, 9));
      case 1:
        return absl::StrCat(Uniform(-1000000, 1000000));
      default:
        return absl::StrCat(Uniform(0, 40));
    }
  }
  std::string Word() {
    static const char* kWords[] = {"apple", "b", "Banana", "cherry", "a b", "", "zz", "10", "9"};
    return kWords[Uniform(0, 8)];
  }
  // A weight value: equal values often (ties), non-numbers sometimes.
  std::string Weight() {
    switch (Uniform(0, 9)) {
      case 0:
        return "notanumber";
      case 1:
        return absl::StrCat(Uniform(0, 3), ".0");
      case 2:
        return absl::StrCat(" ", Uniform(0, 3));
      default:
        return absl::StrCat(Uniform(0, 5));
    }
  }

  // Builds the dataset with the same commands on both servers. `numeric_weights`: no
  // non-numeric weights (so numeric BY sorts succeed often).
  std::vector<std::vector<std::string>> Dataset(bool numeric_weights) {
    std::vector<std::vector<std::string>> cmds;
    std::vector<std::string> elems;
    std::vector<std::string> list = {"RPUSH", "{s}list"};
    int n = Uniform(0, 60);
    for (int i = 0; i < n; ++i) {
      list.push_back(Number());
      elems.push_back(list.back());
    }
    if (n > 0) cmds.push_back(list);
    std::vector<std::string> iset = {"SADD", "{s}iset"};
    for (int i = Uniform(1, 20); i > 0; --i) {
      iset.push_back(absl::StrCat(Uniform(-50, 50)));
      elems.push_back(iset.back());
    }
    cmds.push_back(iset);
    std::vector<std::string> sset = {"SADD", "{s}sset"};
    for (int i = Uniform(1, 15); i > 0; --i) {
      sset.push_back(Chance(50) ? Word() : Number());
      elems.push_back(sset.back());
    }
    cmds.push_back(sset);
    std::vector<std::string> zset = {"ZADD", "{s}zset"};
    for (int i = Uniform(1, 25); i > 0; --i) {
      zset.push_back(absl::StrCat(Uniform(0, 5)));
      zset.push_back(Number());
      elems.push_back(zset.back());
    }
    cmds.push_back(zset);
    cmds.push_back({"SET", "{s}str", "x"});
    for (const std::string& e : elems) {
      if (Chance(80)) {
        std::string w = Weight();
        if (numeric_weights && w == "notanumber") w = "7";
        cmds.push_back({"SET", absl::StrCat("{s}w_", e), w});
      }
      if (Chance(60)) {
        cmds.push_back({"HSET", absl::StrCat("{s}h_", e), "w", absl::StrCat(Uniform(0, 4)), "name",
                        absl::StrCat("n", e)});
      }
      if (Chance(60)) cmds.push_back({"SET", absl::StrCat("{s}o_", e), Word()});
    }
    return cmds;
  }

  // One random SORT; *as_multiset when the order is redis-server's hash table's.
  std::vector<std::string> Sort(bool* as_multiset, bool* stores) {
    static const char* kKeys[] = {"{s}list", "{s}iset", "{s}sset", "{s}zset", "{s}none", "{s}str"};
    static const char* kBy[] = {"{s}w_*",       "{s}h_*->w",    "{s}o_*",  "nosort",
                                "{s}missing_*", "{s}h_*->name", "{s}w_*->"};
    static const char* kGet[] = {"#", "{s}o_*", "{s}h_*->name", "{s}w_*", "{s}h_*->nofield"};
    std::string key = kKeys[Uniform(0, 5)];
    bool readonly = Chance(20);
    std::vector<std::string> a = {readonly ? "SORT_RO" : "SORT", key};
    std::string by;
    bool alpha = false, limit = false, store = false;
    std::vector<std::string> opts;
    if (Chance(60)) by = kBy[Uniform(0, 6)];
    if (Chance(40)) alpha = true;
    if (Chance(40)) limit = true;
    if (!readonly && Chance(25)) store = true;
    const bool hashed = key == "{s}sset" || key == "{s}zset";
    const bool real_by = !by.empty() && by != "nosort";
    *as_multiset = (hashed && real_by && alpha) || (key == "{s}sset" && by == "nosort" && !store);
    if (*as_multiset) limit = false;
    if (!by.empty()) opts.insert(opts.end(), {"BY", by});
    if (limit) {
      opts.insert(opts.end(),
                  {"LIMIT", absl::StrCat(Uniform(-2, 25)), absl::StrCat(Uniform(-2, 12))});
    }
    for (int g = Uniform(0, 2) == 0 ? Uniform(1, 3) : 0; g > 0; --g) {
      opts.insert(opts.end(), {"GET", kGet[Uniform(0, 4)]});
    }
    if (Chance(30)) opts.push_back(Chance(50) ? "DESC" : "ASC");
    if (alpha) opts.push_back("ALPHA");
    if (store) opts.insert(opts.end(), {"STORE", Chance(50) ? "{s}dst" : "dst2"});
    *stores = store;
    // Options in a random order (pairs kept together) makes the parser's job realistic.
    std::vector<std::vector<std::string>> groups;
    for (size_t i = 0; i < opts.size();) {
      size_t len = 1;
      if (opts[i] == "BY" || opts[i] == "GET" || opts[i] == "STORE") len = 2;
      if (opts[i] == "LIMIT") len = 3;
      groups.emplace_back(opts.begin() + i, opts.begin() + i + len);
      i += len;
    }
    // Keep the GETs' relative order (it decides the reply's layout) by shuffling the others.
    std::vector<size_t> movable;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (groups[i][0] != "GET") movable.push_back(i);
    }
    for (size_t i = movable.size(); i > 1; --i) {
      std::swap(groups[movable[i - 1]], groups[movable[Uniform(0, static_cast<int>(i) - 1)]]);
    }
    for (const auto& g : groups) a.insert(a.end(), g.begin(), g.end());
    return a;
  }

 private:
  std::mt19937_64 rng_;
};

class DifferentialSortTest : public ::testing::TestWithParam<DiffParam> {
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
      EXPECT_TRUE(shardis_->Running()) << shardis_->DescribeExit() << "\n" << shardis_->LogTail();
      shardis_->Stop();
    }
  }
  // Both servers; returns false (and records a failure) when the replies differ.
  bool Both(const std::vector<std::string>& args, bool as_multiset = false) {
    ReplyPtr a = sh_->Command(args);
    ReplyPtr b = ref_->Command(args);
    std::string ra = as_multiset ? RenderSet(a.get()) : Render(a.get());
    std::string rb = as_multiset ? RenderSet(b.get()) : Render(b.get());
    EXPECT_EQ(ra, rb) << RenderCommand(args) << context_;
    return ra == rb;
  }

  std::unique_ptr<ServerProcess> shardis_, redis_;
  std::unique_ptr<Client> sh_, ref_;
  std::string context_;  // appended to mismatch messages
};

TEST_P(DifferentialSortTest, RandomSorts) {
  const int64_t commands = EnvInt("SHARDIS_DIFF_SORT_COMMANDS", 1500);
  Generator gen(GetParam().seed);
  int mismatches = 0;
  int64_t done = 0;
  for (int round = 0; done < commands && mismatches < 20; ++round) {
    Both({"FLUSHALL"});
    for (const auto& cmd : gen.Dataset(round % 2 == 0)) Both(cmd);
    for (int i = 0; i < 100 && done < commands; ++i, ++done) {
      bool as_multiset = false, stores = false;
      std::vector<std::string> sort = gen.Sort(&as_multiset, &stores);
      // A destination left by an earlier (maybe multiset-compared) store must not linger.
      if (stores) Both({"DEL", sort.back()});
      if (!Both(sort, as_multiset)) ++mismatches;
      if (stores) {
        context_ = " after " + RenderCommand(sort);
        if (!Both({"LRANGE", sort[sort.size() - 1], "0", "-1"}, as_multiset)) ++mismatches;
        if (!Both({"EXISTS", sort[sort.size() - 1]})) ++mismatches;
        context_.clear();
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(DifferentialSortTest, FixedCases) {
  Both({"RPUSH", "{s}l", "3", "1", "2"});
  Both({"SET", "{s}dst", "string"});
  Both({"EXPIRE", "{s}dst", "100"});
  Both({"SORT", "{s}l", "STORE", "{s}dst"});
  Both({"TTL", "{s}dst"});
  Both({"TYPE", "{s}dst"});
  Both({"SORT", "{s}l", "LIMIT", "10", "1", "STORE", "{s}dst"});
  Both({"EXISTS", "{s}dst"});
  Both({"SORT", "{s}l", "LIMIT"});
  Both({"SORT", "{s}l", "LIMIT", "a", "b"});
  Both({"SORT", "{s}l", "BY"});
  Both({"SORT", "{s}l", "STORE"});
  Both({"SORT_RO", "{s}l", "STORE", "{s}x"});
  Both({"SORT"});
  Both({"COMMAND", "GETKEYS", "SORT", "{s}l", "LIMIT", "0", "1", "STORE", "a", "GET", "x", "STORE",
        "b"});
  // In a script, a set BY nosort is sorted ALPHA (its internal order must not leak).
  Both({"SADD", "{s}hs", "b", "c", "a", "10", "-1"});
  Both({"EVAL", "return redis.call('SORT', KEYS[1], 'BY', 'nosort')", "1", "{s}hs"});
  Both({"EVAL", "return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'DESC', 'LIMIT', '1', '2')",
        "1", "{s}hs"});
  Both({"WAIT", "0", "0"});
  Both({"WAIT", "-3", "10"});
  Both({"WAIT", "1", "20"});  // blocks 20 ms on both, then 0
  Both({"WAIT", "x", "0"});
  Both({"WAIT", "1", "-1"});
  Both({"LOLWUT"});
  Both({"LOLWUT", "VERSION", "7"});
  Both({"LOLWUT", "VERSION", "x"});
  for (const char* v : {"5", "6"}) {
    std::string a = sh_->Run({"LOLWUT", "VERSION", v});
    std::string b = ref_->Run({"LOLWUT", "VERSION", v});
    // The drawings differ; the closing text is Redis's.
    std::string tail = b.substr(b.rfind("\\n", b.size() - 4));
    EXPECT_TRUE(a.ends_with(tail)) << a << "\nvs\n" << b;
  }
}

// BY/GET patterns whose keys have no hashtag, so (with 4 threads) they live on other shards
// than the sorted key: read there, as redis-server reads them (also inside MULTI/EXEC).
TEST_P(DifferentialSortTest, PatternKeysOnAnyShard) {
  std::vector<std::string> push = {"RPUSH", "ids"};
  std::vector<std::string> weights = {"MSET"};
  for (int i = 0; i < 40; ++i) {
    push.push_back(absl::StrCat(i));
    if (i % 7 != 0) {
      weights.push_back(absl::StrCat("w_", i));
      weights.push_back(absl::StrCat((i * 13) % 17));
    }
    if (i % 3 != 0) {
      Both({"HSET", absl::StrCat("obj_", i), "name", absl::StrCat("n", (i * 7) % 11), "score",
            absl::StrCat(i % 5)});
    }
  }
  Both(push);
  Both(weights);
  Both({"SADD", "members", "3", "1", "2", "30", "12"});
  Both({"ZADD", "zs", "1", "5", "2", "4", "3", "3"});
  for (const std::string key : {"ids", "members", "zs"}) {
    // Equal ALPHA values keep the input order, which for a set or sorted set is redis-server's
    // hash table's: compared as multisets there.
    const bool hashed = key != "ids";
    Both({"SORT", key, "BY", "w_*"});
    Both({"SORT", key, "BY", "w_*", "DESC", "LIMIT", "2", "5", "GET", "#", "GET", "obj_*->name"});
    Both({"SORT", key, "BY", "obj_*->name", "ALPHA", "GET", "w_*"}, hashed);
    Both({"SORT", key, "BY", "obj_*->score", "LIMIT", "0", "4", "GET", "obj_*->score"});
    Both({"SORT_RO", key, "GET", "w_*", "GET", "obj_*->missing"});
    Both({"SORT", key, "BY", "nosort", "GET", "w_*"}, hashed);
    Both({"SORT", key, "BY", "w_*", "GET", "obj_*->name", "STORE", "dest"});
    Both({"LRANGE", "dest", "0", "-1"});
  }
  Both({"SORT", "ids", "BY", "obj_*->name"});  // non-numeric weights: the error
  Both({"SORT", "nokey", "BY", "w_*", "GET", "w_*"});
  Both({"MULTI"});
  Both({"SORT", "ids", "BY", "w_*", "LIMIT", "0", "3"});
  Both({"SORT", "members", "GET", "obj_*->name", "STORE", "dest2"});
  Both({"EXEC"});
  Both({"LRANGE", "dest2", "0", "-1"});
}

// WAIT 1 0 without replicas blocks (as redis-server); the client's later commands wait behind
// it; a client that disconnects while blocked leaves the server serving others; WAIT inside
// MULTI replies at once.
TEST_P(DifferentialSortTest, WaitBlocksUntilTimeoutOrDisconnect) {
  for (ServerProcess* server : {shardis_.get(), redis_.get()}) {
    SCOPED_TRACE(server == redis_.get() ? "redis-server" : "shardis");
    std::unique_ptr<RawConnection> blocked = RawConnection::Connect(server->port());
    ASSERT_NE(blocked, nullptr);
    ASSERT_TRUE(blocked->SendCommand({"WAIT", "1", "0"}));
    ASSERT_TRUE(blocked->SendCommand({"PING"}));
    blocked->ReadFor(std::chrono::milliseconds(200));
    EXPECT_EQ(blocked->pending(), "");  // neither WAIT nor the PING behind it has replied
    blocked.reset();                    // disconnects while blocked
    std::unique_ptr<RawConnection> other = RawConnection::Connect(server->port());
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->Run({"WAIT", "2", "30"}), "int:0");
    EXPECT_EQ(other->Run({"MULTI"}), "status:\"OK\"");
    EXPECT_EQ(other->Run({"WAIT", "1", "0"}), "status:\"QUEUED\"");
    EXPECT_EQ(other->Run({"EXEC"}), "arr:[int:0]");
    EXPECT_EQ(other->Run({"PING"}), "status:\"PONG\"");
  }
}

std::vector<DiffParam> Params() {
  int64_t seed = EnvInt("SHARDIS_DIFF_SEED", 0);
  if (seed != 0) return {{4, static_cast<uint64_t>(seed)}, {1, static_cast<uint64_t>(seed)}};
  return {{4, 1}, {1, 2}};
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialSortTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

}  // namespace
}  // namespace shardis::test
