// Differential test of the sorted-set commands: the same seeded random command sequences go to
// shardis-server (--threads 4 and --threads 1) and to the reference redis-server 7.0, and the
// replies must match. A small keyspace with {hashtag} keys makes the multi-key commands
// (ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD, ZRANGESTORE, ZMPOP) sometimes share a
// shard and sometimes span shards; plain sets take part as inputs. Scores have ties, infinities,
// -0, fractions and invalid values; ranges are exclusive, inverted, negative, with LIMIT offsets;
// the listpack thresholds change along the way so encodings convert (OBJECT ENCODING is compared).
//
// Lexicographic commands only touch the "lex" keys, whose members all score 0 (on mixed scores
// Redis's answer depends on its skiplist's random levels). Blocking pops use keys of one shard and
// a short timeout. Comparisons are exact except: ZRANDMEMBER is checked by rules (count, distinct
// members for a positive count, each member present with its score on its own server); a full
// ZSCAN is compared as a set of (member, score). The keyspace is compared every 250 commands.
//
// Environment: SHARDIS_DIFF_COMMANDS (commands per sequence, default 3000), SHARDIS_DIFF_SEED
// (run only this seed), SHARDIS_DIFF_VERBOSE=1 (print every command and both replies).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
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
  kRandMember,  // by rules
  kScan,        // a full ZSCAN, as a set of (member, score)
};

struct Step {
  std::vector<std::string> args;
  Compare compare = Compare::kExact;
};

// Sorted-set keys: three share the {t} tag (one shard), the others spread.
const std::vector<std::string>& ZKeys() {
  static const std::vector<std::string> keys = {"z1", "z2", "z3", "{t}z4", "{t}z5", "{t}z6", "z 7"};
  return keys;
}
// Keys whose members all score 0 (lexicographic commands).
const std::vector<std::string>& LexKeys() {
  static const std::vector<std::string> keys = {"lex1", "{t}lex2"};
  return keys;
}
// Plain sets, inputs of the set operations.
const std::vector<std::string>& SetKeys() {
  static const std::vector<std::string> keys = {"s1", "{t}s2"};
  return keys;
}
const char kStringKey[] = "str";

std::vector<std::string> AllKeys() {
  std::vector<std::string> all = ZKeys();
  all.insert(all.end(), LexKeys().begin(), LexKeys().end());
  all.insert(all.end(), SetKeys().begin(), SetKeys().end());
  all.push_back(kStringKey);
  return all;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {
    struct Entry {
      const char* name;
      int weight;
    };
    const Entry table[] = {
        {"ZADD", 40},
        {"ZINCRBY", 6},
        {"ZREM", 8},
        {"ZCARD", 3},
        {"ZCOUNT", 6},
        {"ZSCORE", 5},
        {"ZMSCORE", 4},
        {"ZRANK", 5},
        {"ZREVRANK", 3},
        {"ZRANGE", 14},
        {"ZRANGESTORE", 5},
        {"ZRANGEBYSCORE", 6},
        {"ZREVRANGEBYSCORE", 4},
        {"ZREVRANGE", 4},
        {"ZREMRANGEBYRANK", 3},
        {"ZREMRANGEBYSCORE", 3},
        {"ZPOPMIN", 4},
        {"ZPOPMAX", 4},
        {"BZPOPMIN", 2},
        {"BZPOPMAX", 2},
        {"ZMPOP", 4},
        {"BZMPOP", 2},
        {"ZRANDMEMBER", 5},
        {"ZUNION", 4},
        {"ZINTER", 4},
        {"ZDIFF", 4},
        {"ZUNIONSTORE", 4},
        {"ZINTERSTORE", 4},
        {"ZDIFFSTORE", 3},
        {"ZINTERCARD", 3},
        {"ZSCAN", 3},
        {"LEXADD", 12},
        {"ZLEXCOUNT", 4},
        {"ZRANGEBYLEX", 5},
        {"ZREVRANGEBYLEX", 4},
        {"ZREMRANGEBYLEX", 2},
        {"SADD", 4},
        {"OBJECT", 6},
        {"TYPE", 1},
        {"DEL", 2},
        {"SET", 1},
        {"CONFIG", 1},
    };
    for (const Entry& e : table) {
      names_.push_back(e.name);
      total_ += e.weight;
      cumulative_.push_back(total_);
    }
  }

  Step Next() {
    int pick = Rand(total_);
    size_t idx =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), pick) - cumulative_.begin();
    Step step = Make(names_[idx]);
    if (Chance(0.1)) {
      for (size_t i = 0; i < step.args.size(); ++i) {
        if (i == 0 || IsOptionWord(step.args[i])) {
          step.args[i] = absl::AsciiStrToLower(step.args[i]);
        }
      }
    }
    // Arity errors: drop trailing arguments (never for CONFIG, whose reply is not the point).
    if (Chance(0.02) && step.args.size() > 1 && step.args[0] != "CONFIG") {
      step.args.resize(1 + Rand(static_cast<int>(step.args.size()) - 1));
    }
    return step;
  }

 private:
  static bool IsOptionWord(const std::string& s) {
    static const std::set<std::string> words = {
        "NX",    "XX",  "GT",      "LT",    "CH",      "INCR",      "WITHSCORES",
        "LIMIT", "REV", "BYSCORE", "BYLEX", "WEIGHTS", "AGGREGATE", "SUM",
        "MIN",   "MAX", "COUNT",   "MATCH", "ENCODING"};
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
  static void Append(std::vector<std::string>* out, const std::vector<std::string>& more) {
    out->insert(out->end(), more.begin(), more.end());
  }

  std::string ZKey() {
    if (Chance(0.03)) return "missing";
    if (Chance(0.02)) return kStringKey;
    return Pick(ZKeys());
  }
  // A destination for the STORE commands: a zset key, sometimes the string key (overwritten).
  std::string DstKey() { return Chance(0.05) ? kStringKey : Pick(ZKeys()); }
  // An input of a set operation: mostly zsets, sometimes a plain set or a missing key.
  std::string InputKey() {
    int r = Rand(100);
    if (r < 12) return Pick(SetKeys());
    if (r < 15) return "missing";
    if (r < 17) return kStringKey;
    if (r < 22) return Pick(LexKeys());
    return Pick(ZKeys());
  }
  // Keys of one shard: a single key, or keys of the {t} tag.
  std::vector<std::string> OneShardKeys(int n) {
    static const std::vector<std::string> tagged = {"{t}z4",   "{t}z5", "{t}z6",
                                                    "{t}lex2", "{t}s2", "{t}missing"};
    if (n == 1 || Chance(0.3)) return {Chance(0.5) ? Pick(ZKeys()) : Pick(LexKeys())};
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(Pick(tagged));
    return out;
  }

  std::string Member() {
    int r = Rand(100);
    if (r < 80) return std::string(1, static_cast<char>('a' + Rand(12)));
    if (r < 85) return PickS({"", "10", "-1", "0", "3.5"});
    if (r < 90) return PickS({"\xff", "a b", "A", "aa", "ab"});
    return std::string(Range(60, 70), 'w');  // around zset-max-listpack-value
  }
  std::string Score() {
    int r = Rand(100);
    if (r < 50) return absl::StrCat(Range(-5, 5));
    if (r < 62) return absl::StrCat(Range(-10, 10), ".5");
    if (r < 70) return PickS({"inf", "-inf", "+inf"});
    if (r < 76) return PickS({"-0", "0.1", "1e3", "1.5e-3", "3.0000000000000004", "1e20"});
    if (r < 78) return PickS({"abc", "nan", "", " 1", "1x", "0x10"});
    return absl::StrCat(Range(-3, 3));
  }
  // One end of a score range (may be exclusive, infinite or invalid).
  std::string ScoreBound() {
    int r = Rand(100);
    if (r < 20) return PickS({"-inf", "+inf", "inf", "(-inf", "(+inf"});
    if (r < 22) return PickS({"abc", "(", "nan", "((1", "0x10", ""});
    std::string v = r < 60 ? absl::StrCat(Range(-6, 6)) : absl::StrCat(Range(-6, 6), ".5");
    return Chance(0.35) ? "(" + v : v;
  }
  std::string LexMember() { return std::string(1, static_cast<char>('a' + Rand(10))); }
  std::string LexBound() {
    int r = Rand(100);
    if (r < 20) return PickS({"-", "+"});
    if (r < 23) return PickS({"a", "", "+a", "--"});
    return (Chance(0.5) ? "[" : "(") + LexMember();
  }
  std::string Index() {
    if (Chance(0.04)) return PickS({"abc", "1.5", "9223372036854775807", "-9223372036854775808"});
    return absl::StrCat(Range(-8, 8));
  }
  std::vector<std::string> Limit() {
    if (Chance(0.03)) return {"LIMIT", PickS({"a", "1"}), PickS({"1", "b"})};
    return {"LIMIT", absl::StrCat(Chance(0.1) ? -1 : Range(0, 4)),
            absl::StrCat(Chance(0.2) ? -1 : Range(0, 5))};
  }
  std::string Timeout() { return Chance(0.05) ? PickS({"-1", "abc"}) : "0.01"; }

  // ZRANGE's options for a score or lex range.
  void RangeOptions(std::vector<std::string>* a, bool allow_withscores) {
    std::vector<std::vector<std::string>> opts;
    if (allow_withscores && Chance(0.4)) opts.push_back({"WITHSCORES"});
    if (Chance(0.3)) opts.push_back(Limit());
    if (Chance(0.02)) opts.push_back({"FOO"});
    std::shuffle(opts.begin(), opts.end(), rng_);
    for (const auto& o : opts) Append(a, o);
  }

  Step Make(const std::string& name) {
    Step s;
    std::vector<std::string>& a = s.args;
    a.push_back(name);
    if (name == "ZADD") {
      a.push_back(ZKey());
      std::vector<std::string> opts;
      if (Chance(0.1)) opts.push_back(PickS({"NX", "XX"}));
      if (Chance(0.1)) opts.push_back(PickS({"GT", "LT"}));
      if (Chance(0.1)) opts.push_back("CH");
      bool incr = Chance(0.08);
      if (incr) opts.push_back("INCR");
      if (Chance(0.01)) opts.push_back(PickS({"NX", "XX", "GT", "LT"}));
      std::shuffle(opts.begin(), opts.end(), rng_);
      Append(&a, opts);
      int pairs = incr && Chance(0.9) ? 1 : 1 + Rand(4);
      for (int i = 0; i < pairs; ++i) {
        a.push_back(Score());
        a.push_back(Member());
      }
      if (Chance(0.02)) a.pop_back();
    } else if (name == "LEXADD") {
      a = {"ZADD", Pick(LexKeys())};
      int pairs = 1 + Rand(4);
      for (int i = 0; i < pairs; ++i) {
        a.push_back("0");
        a.push_back(LexMember());
      }
    } else if (name == "ZINCRBY") {
      Append(&a, {ZKey(), Score(), Member()});
    } else if (name == "ZREM") {
      a.push_back(Chance(0.2) ? Pick(LexKeys()) : ZKey());
      int n = 1 + Rand(3);
      for (int i = 0; i < n; ++i) a.push_back(Chance(0.5) ? LexMember() : Member());
    } else if (name == "ZCARD") {
      a.push_back(ZKey());
    } else if (name == "ZCOUNT" || name == "ZREMRANGEBYSCORE") {
      Append(&a, {ZKey(), ScoreBound(), ScoreBound()});
    } else if (name == "ZSCORE" || name == "ZRANK" || name == "ZREVRANK") {
      Append(&a, {ZKey(), Member()});
    } else if (name == "ZMSCORE") {
      a.push_back(ZKey());
      int n = 1 + Rand(4);
      for (int i = 0; i < n; ++i) a.push_back(Member());
    } else if (name == "ZRANGE") {
      int kind = Rand(3);
      if (kind == 2) {
        Append(&a, {Pick(LexKeys()), LexBound(), LexBound(), "BYLEX"});
        if (Chance(0.5)) a.push_back("REV");
        RangeOptions(&a, Chance(0.05));
      } else if (kind == 1) {
        Append(&a, {ZKey(), ScoreBound(), ScoreBound(), "BYSCORE"});
        if (Chance(0.5)) a.push_back("REV");
        RangeOptions(&a, true);
      } else {
        Append(&a, {ZKey(), Index(), Index()});
        if (Chance(0.4)) a.push_back("REV");
        if (Chance(0.4)) a.push_back("WITHSCORES");
        if (Chance(0.03)) Append(&a, Limit());
      }
    } else if (name == "ZRANGESTORE") {
      a.push_back(DstKey());
      int kind = Rand(3);
      if (kind == 2) {
        Append(&a, {Pick(LexKeys()), LexBound(), LexBound(), "BYLEX"});
      } else if (kind == 1) {
        Append(&a, {ZKey(), ScoreBound(), ScoreBound(), "BYSCORE"});
      } else {
        Append(&a, {ZKey(), Index(), Index()});
      }
      if (Chance(0.4)) a.push_back("REV");
      if (kind != 0 && Chance(0.4)) Append(&a, Limit());
      if (Chance(0.02)) a.push_back("WITHSCORES");
    } else if (name == "ZRANGEBYSCORE" || name == "ZREVRANGEBYSCORE") {
      Append(&a, {ZKey(), ScoreBound(), ScoreBound()});
      RangeOptions(&a, true);
    } else if (name == "ZREVRANGE") {
      Append(&a, {ZKey(), Index(), Index()});
      if (Chance(0.4)) a.push_back("WITHSCORES");
    } else if (name == "ZREMRANGEBYRANK") {
      Append(&a, {ZKey(), Index(), Index()});
    } else if (name == "ZLEXCOUNT" || name == "ZREMRANGEBYLEX") {
      Append(&a, {Pick(LexKeys()), LexBound(), LexBound()});
    } else if (name == "ZRANGEBYLEX" || name == "ZREVRANGEBYLEX") {
      Append(&a, {Pick(LexKeys()), LexBound(), LexBound()});
      RangeOptions(&a, Chance(0.03));
    } else if (name == "ZPOPMIN" || name == "ZPOPMAX") {
      a.push_back(Chance(0.2) ? Pick(LexKeys()) : ZKey());
      if (Chance(0.5)) {
        a.push_back(Chance(0.05) ? PickS({"-1", "abc"}) : absl::StrCat(Range(0, 4)));
      }
    } else if (name == "BZPOPMIN" || name == "BZPOPMAX") {
      Append(&a, OneShardKeys(1 + Rand(3)));
      a.push_back(Timeout());
    } else if (name == "ZMPOP" || name == "BZMPOP") {
      if (name == "BZMPOP") a.push_back(Timeout());
      std::vector<std::string> keys;
      if (name == "BZMPOP") {
        keys = OneShardKeys(1 + Rand(3));
      } else {
        int n = 1 + Rand(3);
        for (int i = 0; i < n; ++i) keys.push_back(Chance(0.2) ? Pick(LexKeys()) : ZKey());
      }
      a.push_back(Chance(0.03) ? PickS({"0", "abc", "5"}) : absl::StrCat(keys.size()));
      Append(&a, keys);
      a.push_back(Chance(0.03) ? "FOO" : PickS({"MIN", "MAX"}));
      if (Chance(0.5)) {
        Append(&a, {"COUNT", Chance(0.05) ? PickS({"0", "-1"}) : absl::StrCat(Range(1, 5))});
      }
    } else if (name == "ZRANDMEMBER") {
      a.push_back(ZKey());
      s.compare = Compare::kRandMember;
      if (Chance(0.7)) {
        a.push_back(absl::StrCat(Range(-6, 12)));
        if (Chance(0.4)) a.push_back("WITHSCORES");
      }
    } else if (name == "ZUNION" || name == "ZINTER" || name == "ZDIFF" || name == "ZINTERCARD" ||
               name == "ZUNIONSTORE" || name == "ZINTERSTORE" || name == "ZDIFFSTORE") {
      bool store = name.find("STORE") != std::string::npos;
      if (store) a.push_back(DstKey());
      int n = 1 + Rand(3);
      std::string numkeys = absl::StrCat(n);
      if (Chance(0.03)) numkeys = PickS({"0", "-1", "abc", "9"});
      a.push_back(numkeys);
      for (int i = 0; i < n; ++i) a.push_back(InputKey());
      std::vector<std::vector<std::string>> opts;
      bool weighted = name != "ZDIFF" && name != "ZDIFFSTORE" && name != "ZINTERCARD";
      if (weighted && Chance(0.4)) {
        std::vector<std::string> w = {"WEIGHTS"};
        for (int i = 0; i < n; ++i) {
          w.push_back(Chance(0.05) ? PickS({"x", "nan"})
                                   : PickS({"1", "2", "0.5", "-1", "0", "inf", "-inf", "3"}));
        }
        opts.push_back(w);
      }
      if (weighted && Chance(0.4)) {
        opts.push_back({"AGGREGATE", Chance(0.03) ? "AVG" : PickS({"SUM", "MIN", "MAX"})});
      }
      if (!store && name != "ZINTERCARD" && Chance(0.5)) opts.push_back({"WITHSCORES"});
      if (name == "ZINTERCARD" && Chance(0.4)) {
        opts.push_back({"LIMIT", Chance(0.05) ? "-1" : absl::StrCat(Range(0, 3))});
      }
      if (Chance(0.02)) opts.push_back({"FOO"});
      std::shuffle(opts.begin(), opts.end(), rng_);
      for (const auto& o : opts) Append(&a, o);
    } else if (name == "ZSCAN") {
      a.push_back(ZKey());
      a.push_back("0");
      s.compare = Compare::kScan;
      if (Chance(0.3)) Append(&a, {"MATCH", PickS({"*", "a*", "[a-c]", "*w*"})});
      if (Chance(0.3)) Append(&a, {"COUNT", absl::StrCat(Range(1, 20))});
    } else if (name == "SADD") {
      a.push_back(Pick(SetKeys()));
      int n = 1 + Rand(3);
      for (int i = 0; i < n; ++i) a.push_back(Member());
    } else if (name == "OBJECT") {
      Append(&a, {"ENCODING", Chance(0.2) ? Pick(LexKeys()) : ZKey()});
    } else if (name == "TYPE") {
      a.push_back(ZKey());
    } else if (name == "DEL") {
      a.push_back(Chance(0.3) ? Pick(LexKeys()) : ZKey());
    } else if (name == "SET") {
      Append(&a, {kStringKey, "x"});
    } else if (name == "CONFIG") {
      if (Chance(0.5)) {
        Append(&a, {"SET", "zset-max-listpack-entries", PickS({"4", "16", "128", "0"})});
      } else {
        Append(&a, {"SET", "zset-max-listpack-value", PickS({"8", "64", "3"})});
      }
    }
    return s;
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

// A full ZSCAN from cursor 0 with the step's options: the sorted (member, score) pairs, or the
// first non-scan reply.
std::string FullScan(Client* c, std::vector<std::string> args) {
  std::set<std::string> pairs;
  for (int i = 0; i < 10000; ++i) {
    ReplyPtr r = c->Command(args);
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements % 2 != 0) {
      return i == 0 ? Render(r.get()) : absl::StrCat("at iteration ", i, ": ", Render(r.get()));
    }
    for (size_t j = 0; j < r->element[1]->elements; j += 2) {
      pairs.insert(absl::StrCat(Render(r->element[1]->element[j]), "=",
                                Render(r->element[1]->element[j + 1])));
    }
    std::string cursor(r->element[0]->str, r->element[0]->len);
    if (cursor == "0") return absl::StrCat("zscan:[", absl::StrJoin(pairs, ","), "]");
    args[2] = cursor;
  }
  return "zscan did not finish";
}

// ZRANDMEMBER's reply on one server, checked against that server's own data. Returns "" when it
// follows the rules, else what is wrong. *summary gets the shape to compare across servers.
std::string CheckRandMember(Client* c, const std::vector<std::string>& args, const redisReply* r,
                            std::string* summary) {
  if (r == nullptr) return "no reply";
  if (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_NIL) {
    *summary = Render(r);
    return "";
  }
  const std::string& key = args[1];
  if (args.size() == 2) {
    if (r->type != REDIS_REPLY_STRING) return "not a bulk string";
    *summary = "one member";
    std::string score = c->Run({"ZSCORE", key, std::string(r->str, r->len)});
    return score.rfind("str:", 0) == 0 ? "" : "member not in the set";
  }
  if (r->type != REDIS_REPLY_ARRAY) return "not an array";
  bool withscores = args.size() == 4;
  size_t step = withscores ? 2 : 1;
  if (r->elements % step != 0) return "odd array";
  int64_t count = std::strtoll(args[2].c_str(), nullptr, 10);
  size_t n = r->elements / step;
  std::set<std::string> distinct;
  for (size_t i = 0; i < r->elements; i += step) {
    std::string m(r->element[i]->str, r->element[i]->len);
    distinct.insert(m);
    std::string score = c->Run({"ZSCORE", key, m});
    if (score.rfind("str:", 0) != 0) return "member " + m + " not in the set";
    if (withscores && score != Render(r->element[i + 1])) return "wrong score for " + m;
  }
  if (count > 0 && distinct.size() != n) return "repeated members for a positive count";
  *summary = absl::StrCat("array of ", n, count > 0 ? " distinct" : "");
  return "";
}

struct DiffParam {
  int threads;
  uint64_t seed;
};

class DifferentialZSetTest : public ::testing::TestWithParam<DiffParam> {
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
      if (alive) EXPECT_TRUE(shardis_->Stop()) << shardis_->LogTail();
    }
  }

  // Compares every key: type, contents, encoding. Returns the first difference, or "".
  std::string CompareState() {
    for (const std::string& key : AllKeys()) {
      std::string ta = sh_inspect_->Run({"TYPE", key});
      std::string tb = ref_inspect_->Run({"TYPE", key});
      if (ta != tb) return absl::StrCat("TYPE ", key, ": ", ta, " vs ", tb);
      std::vector<std::vector<std::string>> probes;
      if (tb == "status:\"zset\"") {
        probes = {{"ZRANGE", key, "0", "-1", "WITHSCORES"}, {"OBJECT", "ENCODING", key}};
      } else if (tb == "status:\"set\"") {
        probes = {{"SCARD", key}};
      }
      for (const auto& p : probes) {
        std::string a = sh_inspect_->Run(p);
        std::string b = ref_inspect_->Run(p);
        if (a != b) {
          return absl::StrCat(RenderCommand(p), " differs:\n  ", ShardisLabel(), ": ", Clip(a),
                              "\n  redis:   ", Clip(b));
        }
      }
    }
    return "";
  }

  void Resync() {
    for (Client* c : {sh_inspect_.get(), ref_inspect_.get()}) c->Run({"FLUSHDB"});
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> sh_, sh_inspect_, ref_, ref_inspect_;
};

TEST_P(DifferentialZSetTest, RandomSortedSetCommands) {
  const DiffParam param = GetParam();
  const int64_t commands = EnvInt("SHARDIS_DIFF_COMMANDS", 3000);
  const bool verbose = EnvInt("SHARDIS_DIFF_VERBOSE", 0) != 0;
  Generator gen(param.seed);
  std::vector<std::pair<int64_t, std::vector<std::string>>> history;
  int mismatches = 0;
  const int kMaxMismatches = 15;
  const std::string header =
      absl::StrCat("seed ", param.seed, ", ", ShardisLabel(), " --threads ", param.threads);
  std::printf("%s: %lld commands\n", header.c_str(), static_cast<long long>(commands));
  const std::vector<std::string> all_keys = AllKeys();
  const std::set<std::string> keyset(all_keys.begin(), all_keys.end());

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
      if (touches || cmd[0] == "CONFIG" || cmd[0] == "FLUSHDB") {
        lines.push_back(absl::StrCat("    #", index, " ", Clip(RenderCommand(cmd), 200)));
      }
    }
    std::reverse(lines.begin(), lines.end());
    return absl::StrJoin(lines, "\n");
  };
  auto report = [&](int64_t index, const std::vector<std::string>& args, const std::string& got,
                    const std::string& want) {
    ++mismatches;
    ADD_FAILURE() << header << ": mismatch at command #" << index
                  << "\n  command: " << Clip(RenderCommand(args), 400) << "\n  " << ShardisLabel()
                  << ": " << Clip(got) << "\n  redis:   " << Clip(want)
                  << "\n  earlier commands on these keys:\n"
                  << context(args);
  };

  for (int64_t i = 0; i < commands && mismatches < kMaxMismatches; ++i) {
    Step step = gen.Next();
    std::string got, want;
    bool same = false;
    if (step.compare == Compare::kScan) {
      got = FullScan(sh_.get(), step.args);
      want = FullScan(ref_.get(), step.args);
      same = got == want;
    } else {
      ReplyPtr a = sh_->Command(step.args);
      ReplyPtr b = ref_->Command(step.args);
      if (a == nullptr) {
        report(i, step.args, absl::StrCat("io-error (", sh_->error(), ")"), Render(b.get()));
        ADD_FAILURE() << ShardisLabel() << " " << shardis_->DescribeExit() << "\n"
                      << shardis_->LogTail();
        return;
      }
      ASSERT_NE(b, nullptr) << "redis-server: " << ref_->error();
      got = Render(a.get());
      want = Render(b.get());
      if (step.compare == Compare::kExact) {
        same = got == want;
      } else {
        std::string sa, sb;
        std::string ea = CheckRandMember(sh_inspect_.get(), step.args, a.get(), &sa);
        std::string eb = CheckRandMember(ref_inspect_.get(), step.args, b.get(), &sb);
        same = ea.empty() && eb.empty() && sa == sb;
        if (!same) {
          got = absl::StrCat(got, " [", ea.empty() ? sa : ea, "]");
          want = absl::StrCat(want, " [", eb.empty() ? sb : eb, "]");
        }
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
    if ((i + 1) % 250 == 0 || i + 1 == commands) {
      std::string diff = CompareState();
      if (!diff.empty()) {
        ++mismatches;
        ADD_FAILURE() << header << ": state differs after command #" << i << ":\n"
                      << diff << "\n  earlier commands:\n"
                      << context(all_keys);
        Resync();
        history.push_back({i, {"FLUSHDB", "(resync after mismatch)"}});
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << header;
}

// RESP3 reply shapes (doubles, nested pairs, nulls) over a fixed script, byte for byte.
TEST_P(DifferentialZSetTest, Resp3RepliesMatch) {
  std::string error;
  auto sh = RawConnection::Connect(shardis_->port(), &error);
  ASSERT_NE(sh, nullptr) << error;
  auto ref = RawConnection::Connect(redis_->port(), &error);
  ASSERT_NE(ref, nullptr) << error;
  const std::vector<std::vector<std::string>> script = {
      {"HELLO", "3"},
      {"ZADD", "z1", "1", "a", "2.5", "b", "-0", "c", "inf", "d"},
      {"ZADD", "{t}z4", "5", "b", "6", "e"},
      {"ZSCORE", "z1", "b"},
      {"ZSCORE", "z1", "nope"},
      {"ZMSCORE", "z1", "a", "nope", "d"},
      {"ZINCRBY", "z1", "0.5", "a"},
      {"ZADD", "z1", "INCR", "-0", "new"},
      {"ZADD", "z1", "NX", "INCR", "1", "a"},
      {"ZRANK", "z1", "nope"},
      {"ZRANGE", "z1", "0", "-1", "WITHSCORES"},
      {"ZRANGE", "z1", "0", "-1"},
      {"ZRANGEBYSCORE", "z1", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "2"},
      {"ZREVRANGE", "z1", "0", "1", "WITHSCORES"},
      {"ZUNION", "2", "z1", "{t}z4", "WITHSCORES"},
      {"ZINTER", "2", "z1", "{t}z4", "WITHSCORES", "AGGREGATE", "MAX"},
      {"ZDIFF", "2", "z1", "{t}z4", "WITHSCORES"},
      {"ZRANDMEMBER", "z1", "100", "WITHSCORES"},
      {"ZRANDMEMBER", "missing"},
      {"ZSCAN", "z1", "0"},
      {"ZPOPMIN", "z1"},
      {"ZPOPMIN", "z1", "2"},
      {"ZPOPMAX", "missing"},
      {"ZMPOP", "2", "missing", "z1", "MAX", "COUNT", "2"},
      {"ZMPOP", "1", "missing", "MIN"},
      {"BZPOPMIN", "{t}z4", "0.01"},
      {"BZPOPMIN", "missing", "0.01"},
      {"BZMPOP", "0.01", "1", "{t}z4", "MAX"},
      {"BZMPOP", "0.01", "1", "{t}z4", "MAX"},
  };
  for (const auto& args : script) {
    std::string got = sh->Run(args);
    std::string want = ref->Run(args);
    if (args[0] == "HELLO") continue;  // server names and versions differ
    EXPECT_EQ(got, want) << RenderCommand(args);
  }
}

std::vector<DiffParam> Params() {
  int64_t seed = EnvInt("SHARDIS_DIFF_SEED", 0);
  if (seed != 0) return {{4, static_cast<uint64_t>(seed)}, {1, static_cast<uint64_t>(seed)}};
  return {{4, 1}, {4, 2}, {1, 3}};
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialZSetTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

}  // namespace
}  // namespace shardis::test
