// Differential test of the hash and HyperLogLog commands: the same seeded random command sequences
// go to shardis-server (--threads 4 and --threads 1) and to the reference redis-server 7.0, and
// every reply must match. A small keyspace mixes hashes, HLLs and plain strings (WRONGTYPE and
// invalid-HLL errors), {hashtag} keys make PFCOUNT / PFMERGE sometimes share a shard and sometimes
// span shards, and CONFIG SET moves the encoding thresholds during the run so hashes cross
// listpack -> hashtable and HLLs cross sparse -> dense at different sizes.
//
// Comparisons: exact by default (HLLs are compared byte for byte through GET); HGETALL / HKEYS /
// HVALS exactly while redis-server's hash is a listpack, as multisets once it is a hashtable;
// HRANDFIELD by its count and membership rules against the hash's contents; HSCAN as the union
// of a full cursor walk (and a single call while a listpack). Every few hundred commands the
// whole keyspace (types, values, encodings) is compared, and keys that drifted to the other type
// are deleted on both sides every hundred commands.
//
// Environment: SHARDIS_DIFF_COMMANDS (commands per sequence, default 10000), SHARDIS_DIFF_SEED
// (run only this seed), SHARDIS_DIFF_VERBOSE=1 (print every command and both replies).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
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

enum class Compare {
  kExact,
  kHashAll,    // HGETALL, HKEYS, HVALS: exact while a listpack, multiset once a hashtable
  kRandField,  // HRANDFIELD: count and membership rules
  kScan,       // HSCAN: the union of a full walk
};

struct Step {
  std::vector<std::string> args;
  Compare compare = Compare::kExact;
};

const std::vector<std::string>& HashKeys() {
  static const std::vector<std::string> keys = {"h1", "h2", "h3", "h4", "{t}a", "{t}b", "x{t}y"};
  return keys;
}
const std::vector<std::string>& HllKeys() {
  static const std::vector<std::string> keys = {"p1", "p2", "p3", "{t}p", "{u}p1", "{u}p2", "{u}"};
  return keys;
}
const std::vector<std::string>& OtherKeys() {
  static const std::vector<std::string> keys = {"s1", "{t}s", "{u}s"};
  return keys;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {
    struct Weighted {
      const char* name;
      int weight;
    };
    static const Weighted table[] = {
        {"HSET", 14}, {"HMSET", 2},   {"HSETNX", 4},  {"HGET", 6},         {"HMGET", 4},
        {"HDEL", 8},  {"HLEN", 3},    {"HSTRLEN", 3}, {"HEXISTS", 3},      {"HKEYS", 2},
        {"HVALS", 2}, {"HGETALL", 4}, {"HINCRBY", 5}, {"HINCRBYFLOAT", 4}, {"HRANDFIELD", 6},
        {"HSCAN", 3}, {"PFADD", 12},  {"PFCOUNT", 7}, {"PFMERGE", 4},      {"PFDEBUG", 1},
        {"GET", 3},   {"SET", 2},     {"DEL", 2},     {"TYPE", 1},         {"OBJECT", 2},
        {"COPY", 1},  {"RENAME", 1},  {"CONFIG", 1},  {"EXISTS", 1},
    };
    for (const Weighted& w : table) {
      names_.push_back(w.name);
      total_ += w.weight;
      cumulative_.push_back(total_);
    }
  }

  Step Next() {
    int pick = Rand(total_);
    size_t idx =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), pick) - cumulative_.begin();
    Step step = Make(names_[idx]);
    if (Chance(0.08)) step.args[0] = absl::AsciiStrToLower(step.args[0]);
    if (Chance(0.01) && step.args.size() > 1) {
      step.args.resize(1 + Rand(static_cast<int>(step.args.size()) - 1));  // arity errors
    }
    return step;
  }

 private:
  int Rand(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  const std::string& Pick(const std::vector<std::string>& v) {
    return v[Rand(static_cast<int>(v.size()))];
  }
  std::string PickS(std::initializer_list<const char*> v) {
    std::vector<const char*> vv(v);
    return vv[Rand(static_cast<int>(vv.size()))];
  }
  std::string Alpha(int lo, int hi) {
    int n = static_cast<int>(Range(lo, hi));
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + Rand(26)));
    return s;
  }

  // Mostly a key of the wanted kind, sometimes any key (type errors) or a missing one.
  std::string KeyOf(const std::vector<std::string>& kind) {
    int r = Rand(100);
    if (r < 92) return Pick(kind);
    if (r < 95) return "missing";
    if (r < 98) return Pick(OtherKeys());
    return Pick(r % 2 ? HashKeys() : HllKeys());
  }
  std::string HashKey() { return KeyOf(HashKeys()); }
  std::string HllKey() { return KeyOf(HllKeys()); }
  std::string AnyKey() {
    switch (Rand(3)) {
      case 0:
        return Pick(HashKeys());
      case 1:
        return Pick(HllKeys());
      default:
        return Pick(OtherKeys());
    }
  }
  // HLL keys for PFCOUNT / PFMERGE: one hash-tag group (one shard) or spread over shards.
  std::vector<std::string> HllKeyList(int n) {
    std::vector<std::string> out;
    bool same_tag = Chance(0.4);
    static const std::vector<std::string> tag_u = {"{u}p1", "{u}p2", "{u}", "{u}s"};
    for (int i = 0; i < n; ++i) out.push_back(same_tag ? Pick(tag_u) : HllKey());
    return out;
  }

  std::string Field() {
    int r = Rand(100);
    if (r < 85) return absl::StrCat("f", Rand(25));
    if (r < 92) return Alpha(28, 40);  // around hash-max-listpack-value
    if (r < 96) return "";
    return std::string("\0\xff", 2) + Alpha(0, 3);
  }

  std::string HashValue() {
    switch (Rand(10)) {
      case 0:
      case 1:
        return absl::StrCat(Range(-1000, 1000));
      case 2:
        return PickS({"9223372036854775807", "-9223372036854775808", "1.5", "1e3", " 1", "007",
                      "abc", "inf", "0x10", "-0"});
      case 3:
        return Alpha(28, 40);
      case 4:
        return "";
      case 5:
        return absl::StrCat(Range(-1000, 1000), ".", Range(0, 999));
      default:
        return Alpha(1, 8);
    }
  }

  std::string IntArg() {
    if (Chance(0.08)) {
      return PickS({"abc", "1.5", "", "9223372036854775807", "-9223372036854775808", " 1"});
    }
    return absl::StrCat(Range(-100, 100));
  }

  std::string FloatArg() {
    if (Chance(0.08)) return PickS({"inf", "-inf", "nan", "abc", "1e400", " 1", "0x10", "1e308"});
    return absl::StrCat(Range(-100, 100), ".", Range(0, 999), Chance(0.1) ? "e2" : "");
  }

  std::string Element() {
    if (Chance(0.05)) return std::string("\0\x01\xfe", 3) + Alpha(0, 4);
    return absl::StrCat("el", Rand(4000));
  }

  Step Make(const std::string& name) {
    Step s;
    std::vector<std::string>& a = s.args;
    a.push_back(name);
    if (name == "HSET" || name == "HMSET") {
      a.push_back(HashKey());
      int n = 1 + Rand(Chance(0.1) ? 12 : 3);
      for (int i = 0; i < n; ++i) {
        a.push_back(Field());
        a.push_back(HashValue());
      }
      if (Chance(0.02)) a.push_back(Field());  // odd count: arity error
    } else if (name == "HSETNX") {
      a = {name, HashKey(), Field(), HashValue()};
    } else if (name == "HGET" || name == "HSTRLEN" || name == "HEXISTS") {
      a = {name, HashKey(), Field()};
    } else if (name == "HMGET" || name == "HDEL") {
      a.push_back(HashKey());
      int n = 1 + Rand(4);
      for (int i = 0; i < n; ++i) a.push_back(Field());
    } else if (name == "HLEN" || name == "TYPE" || name == "EXISTS") {
      a.push_back(name == "HLEN" ? HashKey() : AnyKey());
    } else if (name == "HKEYS" || name == "HVALS" || name == "HGETALL") {
      a.push_back(HashKey());
      s.compare = Compare::kHashAll;
    } else if (name == "HINCRBY") {
      a = {name, HashKey(), Field(), IntArg()};
    } else if (name == "HINCRBYFLOAT") {
      a = {name, HashKey(), Field(), FloatArg()};
    } else if (name == "HRANDFIELD") {
      a.push_back(HashKey());
      s.compare = Compare::kRandField;
      if (Chance(0.3)) return s;
      int r = Rand(100);
      if (r < 80) {
        a.push_back(absl::StrCat(Range(-30, 30)));
      } else if (r < 90) {
        a.push_back(PickS({"1000", "-1000", "9223372036854775807", "0", "1", "-1"}));
      } else {
        a.push_back(PickS({"abc", "-9223372036854775808", "4611686018427387904", "1.5"}));
      }
      if (Chance(0.5)) a.push_back(Chance(0.9) ? "WITHVALUES" : PickS({"WITHVALUE", "x"}));
      if (Chance(0.02)) a.push_back("extra");
    } else if (name == "HSCAN") {
      a.push_back(HashKey());
      if (Chance(0.05)) {
        a.push_back(PickS({"abc", "-", " 1", "18446744073709551616"}));
        return s;
      }
      a.push_back("0");
      s.compare = Compare::kScan;
      if (Chance(0.4)) Append(&a, {"MATCH", PickS({"*", "f1*", "f?", "*[0-3]", "x*", "**"})});
      if (Chance(0.4)) {
        Append(&a,
               {"COUNT", Chance(0.05) ? PickS({"0", "-1", "abc"}) : absl::StrCat(Range(1, 30))});
      }
      if (Chance(0.03)) Append(&a, {PickS({"TYPE", "FOO", "MATCH"})});
    } else if (name == "PFADD") {
      a.push_back(HllKey());
      int n = Chance(0.05) ? 0 : 1 + Rand(Chance(0.1) ? 150 : 12);
      for (int i = 0; i < n; ++i) a.push_back(Element());
    } else if (name == "PFCOUNT") {
      Append(&a, HllKeyList(1 + Rand(Chance(0.5) ? 1 : 4)));
    } else if (name == "PFMERGE") {
      Append(&a, HllKeyList(1 + Rand(4)));
    } else if (name == "PFDEBUG") {
      a = {name, PickS({"ENCODING", "DECODE", "encoding", "FOO"}), HllKey()};
    } else if (name == "GET") {
      a.push_back(Chance(0.8) ? HllKey() : AnyKey());
    } else if (name == "SET") {
      std::string value;
      switch (Rand(4)) {
        case 0:
          value = "123";
          break;
        case 1:
          value = std::string("HYLL\x01\0\0\0", 8);
          break;
        case 2:
          value = std::string("HYLL\x00", 5) + Alpha(11, 30);
          break;
        default:
          value = Alpha(1, 50);
      }
      a = {name, Chance(0.85) ? Pick(OtherKeys()) : AnyKey(), value};
    } else if (name == "DEL") {
      a.push_back(AnyKey());
    } else if (name == "OBJECT") {
      a = {name, "ENCODING", AnyKey()};
    } else if (name == "COPY" || name == "RENAME") {
      a.push_back(AnyKey());
      a.push_back(AnyKey());
      if (name == "COPY" && Chance(0.5)) a.push_back("REPLACE");
    } else if (name == "CONFIG") {
      switch (Rand(3)) {
        case 0:
          a = {name, "SET", "hash-max-listpack-entries", PickS({"4", "16", "16", "128", "0"})};
          break;
        case 1:
          a = {name, "SET", "hash-max-listpack-value", PickS({"8", "32", "32", "64", "0"})};
          break;
        default:
          a = {name, "SET", "hll-sparse-max-bytes", PickS({"50", "300", "3000", "3000"})};
      }
    }
    return s;
  }

  static void Append(std::vector<std::string>* a, const std::vector<std::string>& more) {
    a->insert(a->end(), more.begin(), more.end());
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

std::string Str(const redisReply* r) { return std::string(r->str, r->len); }

// HGETALL / HKEYS / HVALS as an order-free rendering: pairs (HGETALL) or elements, sorted.
std::string RenderUnordered(const redisReply* r, bool pairs) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return Render(r);
  std::vector<std::string> items;
  size_t step = pairs ? 2 : 1;
  for (size_t i = 0; i + step <= r->elements; i += step) {
    std::string item = Render(r->element[i]);
    if (pairs) item += "=>" + Render(r->element[i + 1]);
    items.push_back(item);
  }
  std::sort(items.begin(), items.end());
  return absl::StrCat("unordered:[", absl::StrJoin(items, ","), "]");
}

// A full HSCAN from cursor 0: the union of (field, value) pairs, sorted, plus the call count.
std::string FullScan(Client* c, std::vector<std::string> args, int* calls) {
  std::set<std::string> pairs;
  *calls = 0;
  for (int i = 0; i < 10000; ++i) {
    ReplyPtr r = c->Command(args);
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
      return i == 0 ? Render(r.get()) : absl::StrCat("at iteration ", i, ": ", Render(r.get()));
    }
    ++*calls;
    const redisReply* items = r->element[1];
    if (items->elements % 2 != 0) return "odd HSCAN item count";
    for (size_t j = 0; j < items->elements; j += 2) {
      pairs.insert(Render(items->element[j]) + "=>" + Render(items->element[j + 1]));
    }
    std::string cursor = Str(r->element[0]);
    if (cursor == "0") return absl::StrCat("hscan-union:[", absl::StrJoin(pairs, ","), "]");
    args[2] = cursor;
  }
  return "hscan did not finish in 10000 calls";
}

// Checks an HRANDFIELD reply against the hash's contents (field -> value); "" when it follows
// the rules, else what is wrong.
std::string CheckRandField(const redisReply* r, const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& contents) {
  if (r == nullptr) return "no reply";
  if (args.size() == 2) {
    if (contents.empty()) return r->type == REDIS_REPLY_NIL ? "" : "expected nil";
    if (r->type != REDIS_REPLY_STRING) return "expected a bulk string";
    return contents.count(Str(r)) ? "" : "not a field";
  }
  if (r->type != REDIS_REPLY_ARRAY) return "expected an array";
  int64_t count = std::stoll(args[2]);
  bool with_values = args.size() == 4;
  size_t per = with_values ? 2 : 1;
  if (r->elements % per != 0) return "odd element count";
  size_t n = r->elements / per;
  size_t want = count >= 0 ? std::min<size_t>(count, contents.size())
                           : (contents.empty() ? 0 : static_cast<size_t>(-count));
  if (n != want) return absl::StrCat("expected ", want, " picks, got ", n);
  std::set<std::string> distinct;
  for (size_t i = 0; i < r->elements; i += per) {
    std::string f = Str(r->element[i]);
    auto it = contents.find(f);
    if (it == contents.end()) return absl::StrCat("not a field: ", Escape(f));
    if (with_values && Str(r->element[i + 1]) != it->second) return "wrong value";
    distinct.insert(f);
  }
  if (count >= 0 && distinct.size() != n) return "repeated field for a positive count";
  return "";
}

std::map<std::string, std::string> HashContents(Client* c, const std::string& key) {
  std::map<std::string, std::string> out;
  ReplyPtr r = c->Command({"HGETALL", key});
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    out[Str(r->element[i])] = Str(r->element[i + 1]);
  }
  return out;
}

struct DiffParam {
  int threads;
  uint64_t seed;
};

class DifferentialHashTest : public ::testing::TestWithParam<DiffParam> {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(GetParam().threads, {}, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    for (auto* c : {&sh_, &sh_inspect_}) {
      *c = Client::Connect(shardis_->port(), seconds(10), &error);
      ASSERT_NE(*c, nullptr) << error;
    }
    for (auto* c : {&ref_, &ref_inspect_}) {
      *c = Client::Connect(redis_->port(), seconds(10), &error);
      ASSERT_NE(*c, nullptr) << error;
    }
    // Thresholds small enough for the sequences to cross them.
    for (Client* c : {sh_.get(), ref_.get()}) {
      ASSERT_EQ(c->Run({"CONFIG", "SET", "hash-max-listpack-entries", "16",
                        "hash-max-listpack-value", "32"}),
                "status:\"OK\"");
    }
  }

  void TearDown() override {
    sh_.reset();
    sh_inspect_.reset();
    ref_.reset();
    ref_inspect_.reset();
    if (shardis_ != nullptr) {
      bool alive = shardis_->Running();
      EXPECT_TRUE(alive) << ShardisLabel() << " died: " << shardis_->DescribeExit() << "\n"
                         << shardis_->LogTail();
      if (alive) {
        EXPECT_TRUE(shardis_->Stop()) << shardis_->LogTail();
      }
    }
  }

  // Compares every key: type, encoding, TTL class, and value (GET bytes, or the hash's pairs).
  std::string CompareState() {
    ReplyPtr ka = sh_inspect_->Command({"KEYS", "*"});
    ReplyPtr kb = ref_inspect_->Command({"KEYS", "*"});
    if (RenderSet(ka.get()) != RenderSet(kb.get())) {
      return absl::StrCat("KEYS * differ:\n  ", ShardisLabel(), ": ", Clip(RenderSet(ka.get())),
                          "\n  redis:   ", Clip(RenderSet(kb.get())));
    }
    if (kb == nullptr || kb->type != REDIS_REPLY_ARRAY) return "";
    for (size_t i = 0; i < kb->elements; ++i) {
      std::string key = Str(kb->element[i]);
      ReplyPtr type = ref_inspect_->Command({"TYPE", key});
      bool hash = type != nullptr && Str(type.get()) == "hash";
      std::vector<std::vector<std::string>> probes = {
          {"TYPE", key}, {"OBJECT", "ENCODING", key}, {hash ? "HGETALL" : "GET", key}};
      for (const auto& args : probes) {
        ReplyPtr a = sh_inspect_->Command(args);
        ReplyPtr b = ref_inspect_->Command(args);
        std::string ra = Render(a.get()), rb = Render(b.get());
        if (hash && args[0] == "HGETALL") {
          ra = RenderUnordered(a.get(), true);
          rb = RenderUnordered(b.get(), true);
        }
        if (ra != rb) {
          return absl::StrCat(RenderCommand(args), " differs:\n  ", ShardisLabel(), ": ", Clip(ra),
                              "\n  redis:   ", Clip(rb));
        }
      }
    }
    return "";
  }

  // Keys of one kind drift into the other type (HSET on a missing HLL key...); deletes, on both
  // sides, the hash keys that no longer hold hashes and the HLL keys that hold no HLL, so most
  // commands keep hitting their own type. Both sides are equal here (just compared).
  void Repair() {
    for (const std::string& key : HashKeys()) {
      ReplyPtr t = ref_inspect_->Command({"TYPE", key});
      if (t != nullptr && Str(t.get()) != "hash" && Str(t.get()) != "none") {
        sh_inspect_->Run({"DEL", key});
        ref_inspect_->Run({"DEL", key});
      }
    }
    for (const std::string& key : HllKeys()) {
      // PFCOUNT may write the cached cardinality: run it on both sides.
      ReplyPtr v = ref_inspect_->Command({"PFCOUNT", key});
      sh_inspect_->Run({"PFCOUNT", key});
      if (v != nullptr && v->type == REDIS_REPLY_ERROR) {
        sh_inspect_->Run({"DEL", key});
        ref_inspect_->Run({"DEL", key});
      }
    }
  }

  void Resync() {
    sh_inspect_->Run({"FLUSHDB"});
    ref_inspect_->Run({"FLUSHDB"});
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> sh_, sh_inspect_, ref_, ref_inspect_;
};

TEST_P(DifferentialHashTest, RandomHashAndHyperLogLogCommands) {
  const DiffParam param = GetParam();
  const int64_t commands = EnvInt("SHARDIS_DIFF_COMMANDS", 10000);
  const bool verbose = EnvInt("SHARDIS_DIFF_VERBOSE", 0) != 0;
  Generator gen(param.seed);
  std::vector<std::pair<int64_t, std::vector<std::string>>> history;
  int mismatches = 0;
  const int kMaxMismatches = 10;
  const std::string header =
      absl::StrCat("seed ", param.seed, ", ", ShardisLabel(), " --threads ", param.threads);

  auto report = [&](int64_t index, const std::vector<std::string>& args, const std::string& got,
                    const std::string& want) {
    ++mismatches;
    std::vector<std::string> lines;
    for (size_t i = history.size(); i-- > 0 && lines.size() < 10;) {
      lines.push_back(absl::StrCat("    #", history[i].first, " ",
                                   Clip(RenderCommand(history[i].second), 200)));
    }
    std::reverse(lines.begin(), lines.end());
    ADD_FAILURE() << header << ": mismatch at command #" << index
                  << "\n  command: " << Clip(RenderCommand(args), 400) << "\n  " << ShardisLabel()
                  << ": " << Clip(got) << "\n  redis:   " << Clip(want) << "\n  earlier commands:\n"
                  << absl::StrJoin(lines, "\n");
  };

  for (int64_t i = 0; i < commands && mismatches < kMaxMismatches; ++i) {
    Step step = gen.Next();
    std::string got, want;
    bool same = false;
    if (step.compare == Compare::kScan) {
      int calls_a = 0, calls_b = 0;
      got = FullScan(sh_.get(), step.args, &calls_a);
      want = FullScan(ref_.get(), step.args, &calls_b);
      same = got == want;
      // A listpack answers in one call, as redis-server does.
      ReplyPtr enc = ref_inspect_->Command({"OBJECT", "ENCODING", step.args[1]});
      bool listpack =
          enc != nullptr && enc->type == REDIS_REPLY_STRING && Str(enc.get()) == "listpack";
      if (same && listpack && calls_b > 0 && (calls_a != 1 || calls_b != 1)) {
        same = false;
        got += absl::StrCat(" (", calls_a, " calls)");
        want += absl::StrCat(" (", calls_b, " calls)");
      }
    } else {
      ReplyPtr a = sh_->Command(step.args);
      ReplyPtr b = ref_->Command(step.args);
      if (a == nullptr) {
        report(i, step.args, absl::StrCat("io-error (", sh_->error(), ")"), Render(b.get()));
        ADD_FAILURE() << shardis_->DescribeExit() << "\n" << shardis_->LogTail();
        return;
      }
      ASSERT_NE(b, nullptr) << "redis-server: " << ref_->error();
      got = Render(a.get());
      want = Render(b.get());
      switch (step.compare) {
        case Compare::kExact:
          same = got == want;
          break;
        case Compare::kHashAll: {
          ReplyPtr enc = ref_inspect_->Command({"OBJECT", "ENCODING", step.args[1]});
          bool table =
              enc != nullptr && enc->type == REDIS_REPLY_STRING && Str(enc.get()) == "hashtable";
          if (table && a->type == REDIS_REPLY_ARRAY) {
            bool pairs = absl::AsciiStrToUpper(step.args[0]) == "HGETALL";
            got = RenderUnordered(a.get(), pairs);
            want = RenderUnordered(b.get(), pairs);
          }
          same = got == want;
          break;
        }
        case Compare::kRandField: {
          bool errors = a->type == REDIS_REPLY_ERROR || b->type == REDIS_REPLY_ERROR;
          if (errors) {
            same = got == want;
            break;
          }
          std::map<std::string, std::string> contents =
              HashContents(ref_inspect_.get(), step.args[1]);
          std::string bad_a = CheckRandField(a.get(), step.args, contents);
          std::string bad_b = CheckRandField(b.get(), step.args, contents);
          same = bad_a.empty() && bad_b.empty();
          if (!bad_a.empty()) got += " <- " + bad_a;
          if (!bad_b.empty()) want += " <- " + bad_b;
          break;
        }
        case Compare::kScan:
          break;
      }
    }
    if (verbose) {
      std::printf("#%lld %s\n  -> %s\n  == %s\n", static_cast<long long>(i),
                  Clip(RenderCommand(step.args), 300).c_str(), Clip(got, 300).c_str(),
                  Clip(want, 300).c_str());
      std::fflush(stdout);
    }
    history.push_back({i, step.args});
    if (!same) {
      report(i, step.args, got, want);
      Resync();
      history.push_back({i, {"FLUSHDB", "(resync after mismatch)"}});
      continue;
    }
    if ((i + 1) % 300 == 0 || i + 1 == commands) {
      std::string diff = CompareState();
      if (!diff.empty()) {
        ++mismatches;
        ADD_FAILURE() << header << ": state differs after command #" << i << ":\n" << diff;
        Resync();
        history.push_back({i, {"FLUSHDB", "(resync after mismatch)"}});
      }
    }
    if ((i + 1) % 100 == 0) Repair();
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

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialHashTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

// RESP3 shapes of HGETALL (a map) and HRANDFIELD WITHVALUES (an array of pairs), byte for byte
// where the reply is deterministic (listpack order; a count covering the whole hash).
TEST(DifferentialHashResp3Test, MapAndPairShapes) {
  std::string error;
  std::unique_ptr<ServerProcess> shardis = StartShardis(4, {}, &error);
  ASSERT_NE(shardis, nullptr) << error;
  std::unique_ptr<ServerProcess> redis = StartRedis({}, &error);
  ASSERT_NE(redis, nullptr) << error;
  std::unique_ptr<RawConnection> a = RawConnection::Connect(shardis->port(), &error);
  ASSERT_NE(a, nullptr) << error;
  std::unique_ptr<RawConnection> b = RawConnection::Connect(redis->port(), &error);
  ASSERT_NE(b, nullptr) << error;
  const std::vector<std::vector<std::string>> script = {
      {"HELLO", "3"},
      {"HSET", "h", "a", "1", "b", "2", "c", "3"},
      {"HGETALL", "h"},
      {"HGETALL", "missing"},
      {"HKEYS", "missing"},
      {"HRANDFIELD", "h", "10", "WITHVALUES"},
      {"HRANDFIELD", "h", "10"},
      {"HRANDFIELD", "missing"},
      {"HRANDFIELD", "missing", "-3", "WITHVALUES"},
      {"HMGET", "h", "a", "zz"},
      {"HSCAN", "h", "0"},
      {"PFADD", "p", "x", "y"},
      {"PFCOUNT", "p", "q"},
  };
  for (const auto& cmd : script) {
    std::string ra = a->Run(cmd);
    std::string rb = b->Run(cmd);
    if (cmd[0] == "HELLO") continue;  // server identity differs
    EXPECT_EQ(ra, rb) << RenderCommand(cmd);
  }
  ASSERT_TRUE(a->SendCommand({"HRANDFIELD", "h", "-2", "WITHVALUES"}));
  std::optional<RespValue> v = a->Read();
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->elems.size(), 2u);
  for (const RespValue& pair : v->elems) {
    EXPECT_EQ(pair.type, RespValue::Type::kArray);
    EXPECT_EQ(pair.elems.size(), 2u);
  }
}

}  // namespace
}  // namespace shardis::test
