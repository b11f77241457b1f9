// Differential test of the string and generic key commands: the same seeded random command
// sequences go to shardis-server (--threads 4 and --threads 1) and to the reference redis-server
// 7.0, and every reply must match. A small keyspace with {hashtag} keys makes multi-key commands
// sometimes share a shard and sometimes span shards. Order-free replies (KEYS, a full SCAN) are
// compared as sets, RANDOMKEY by membership, TTL-like replies within a tolerance. The whole
// keyspace of databases 0-2 is also compared every few hundred commands.
//
// Environment: SHARDIS_DIFF_COMMANDS (commands per sequence, default 20000), SHARDIS_DIFF_SEED
// (run only this seed), SHARDIS_DIFF_SKIP (comma-separated command names not to generate),
// SHARDIS_DIFF_ONLY (generate only these commands, plus SET to fill keys),
// SHARDIS_DIFF_VERBOSE=1 (print every command and both replies).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

// How a command's replies are compared.
enum class Compare {
  kExact,
  kSet,        // array elements in any order (KEYS)
  kTtlSec,     // TTL, EXPIRETIME: equal classes, values within kTolSec
  kTtlMs,      // PTTL, PEXPIRETIME: within kTolMs
  kRandomKey,  // nil on both, or a key that exists on each side
  kScan,       // a full SCAN iteration from cursor 0, union compared as a set
};

constexpr int64_t kTolSec = 5;
constexpr int64_t kTolMs = 5000;

struct Step {
  std::vector<std::string> args;
  Compare compare = Compare::kExact;
};

// The keyspace: 20 keys. {t} and {u} keys share a hash tag (so one shard); the others spread.
const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = {"k1",
                                                "k2",
                                                "k3",
                                                "k4",
                                                "k5",
                                                "n1",
                                                "n2",
                                                "b1",
                                                "{t}a",
                                                "{t}b",
                                                "{t}c",
                                                "x{t}y",
                                                "{t}",
                                                "{u}a",
                                                "{u}b",
                                                "{u}c",
                                                "{}e",
                                                "{u}{t}",
                                                std::string("bin\0k\xff", 6),
                                                "k 6"};
  return keys;
}
const std::vector<std::vector<std::string>>& TagGroups() {
  static const std::vector<std::vector<std::string>> groups = {
      {"{t}a", "{t}b", "{t}c", "x{t}y", "{t}"}, {"{u}a", "{u}b", "{u}c", "{u}{t}"}};
  return groups;
}

class Generator {
 public:
  Generator(uint64_t seed, int64_t base_ms, const std::set<std::string>& skip,
            const std::set<std::string>& only)
      : rng_(seed), base_ms_(base_ms) {
    struct Entry {
      const char* name;
      int weight;
    };
    const Entry table[] = {
        {"SET", 60},        {"GET", 25},        {"GETSET", 4},   {"GETDEL", 4},
        {"GETEX", 8},       {"SETNX", 4},       {"SETEX", 4},    {"PSETEX", 4},
        {"MGET", 8},        {"MSET", 8},        {"MSETNX", 5},   {"APPEND", 8},
        {"STRLEN", 4},      {"INCR", 8},        {"DECR", 5},     {"INCRBY", 8},
        {"DECRBY", 5},      {"INCRBYFLOAT", 8}, {"GETRANGE", 6}, {"SETRANGE", 6},
        {"SUBSTR", 3},      {"LCS", 4},         {"SETBIT", 8},   {"GETBIT", 5},
        {"BITCOUNT", 6},    {"BITPOS", 6},      {"BITOP", 5},    {"BITFIELD", 8},
        {"BITFIELD_RO", 2}, {"DEL", 6},         {"UNLINK", 3},   {"EXISTS", 5},
        {"TOUCH", 3},       {"TYPE", 4},        {"EXPIRE", 6},   {"PEXPIRE", 5},
        {"EXPIREAT", 4},    {"PEXPIREAT", 4},   {"TTL", 5},      {"PTTL", 4},
        {"EXPIRETIME", 3},  {"PEXPIRETIME", 3}, {"PERSIST", 4},  {"KEYS", 3},
        {"SCAN", 3},        {"RANDOMKEY", 2},   {"RENAME", 4},   {"RENAMENX", 3},
        {"COPY", 4},        {"MOVE", 3},        {"OBJECT", 5},   {"SELECT", 3},
        {"DBSIZE", 2},      {"FLUSHDB", 1},
    };
    for (const Entry& e : table) {
      if (skip.count(e.name) != 0) continue;
      if (!only.empty() && only.count(e.name) == 0 && std::string_view(e.name) != "SET") continue;
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
    // Case-insensitivity of names and options.
    if (Chance(0.1)) {
      for (size_t i = 0; i < step.args.size(); ++i) {
        if (i == 0 || IsOptionWord(step.args[i]))
          step.args[i] = absl::AsciiStrToLower(step.args[i]);
      }
    }
    // Arity errors: drop trailing arguments or add one.
    if (Chance(0.02) && step.args.size() > 1) {
      step.args.resize(1 + Rand(static_cast<int>(step.args.size()) - 1));
    } else if (Chance(0.01)) {
      step.args.push_back(Chance(0.5) ? "extra" : "1");
    }
    return step;
  }

 private:
  static bool IsOptionWord(const std::string& s) {
    static const std::set<std::string> words = {
        "NX",      "XX",      "GT",   "LT",  "GET",         "EX",           "PX",    "EXAT", "PXAT",
        "KEEPTTL", "PERSIST", "LEN",  "IDX", "MINMATCHLEN", "WITHMATCHLEN", "BYTE",  "BIT",  "AND",
        "OR",      "XOR",     "NOT",  "SET", "INCRBY",      "OVERFLOW",     "WRAP",  "SAT",  "FAIL",
        "MATCH",   "COUNT",   "TYPE", "DB",  "REPLACE",     "ENCODING",     "ASYNC", "SYNC"};
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

  std::string Key() {
    if (Chance(0.02)) return "missing:key";
    return Pick(Keys());
  }
  // 1..n keys: all from one hash-tag group (one shard) or from anywhere.
  std::vector<std::string> KeyList(int n) {
    std::vector<std::string> out;
    bool same_tag = Chance(0.4);
    const std::vector<std::string>& group = Pick(TagGroups());
    for (int i = 0; i < n; ++i) out.push_back(same_tag ? Pick(group) : Key());
    return out;
  }

  std::string Alpha(int lo, int hi) {
    int n = static_cast<int>(Range(lo, hi));
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + Rand(26)));
    return s;
  }

  std::string Value() {
    switch (Rand(14)) {
      case 0:
      case 1:
      case 2:
        return absl::StrCat(Range(-100, 1000));
      case 3:
        return PickS({"9223372036854775807", "-9223372036854775808", "9223372036854775806",
                      "-9223372036854775807", "4294967296", "10000", "9999", "0", "-1",
                      "12345678901234567890"});
      case 4:
        return PickS({"3.14", "-0.5", "1e3", "1.5e10", "0.1", "-2.5E-3", "10.00",
                      "1.7976931348623157e308", "5.0e-324", "0.0", "1.23456789012345678", "inf",
                      "nan", "-.5", "5."});
      case 5: {
        std::string s;
        int n = Rand(9);
        for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(Rand(256)));
        return s;
      }
      case 6:
        return "";
      case 7:
        return PickS({" 12", "12 ", "+5", "007", "0x10", "1e2", "-0", "12abc", "-", "+", "\x01",
                      "\xff\xfe", "a\r\nb"});
      case 8:
        return Alpha(40, 60);  // around the 44-byte embstr limit
      case 9:
        return absl::StrCat(Range(-100000, 100000), ".", Range(0, 999));
      default:
        return Alpha(1, 8);
    }
  }

  std::string IntArg() {
    switch (Rand(10)) {
      case 0:
        return PickS({"9223372036854775807", "-9223372036854775808", "4611686018427387904",
                      "-4611686018427387904"});
      case 1:
        return PickS({"abc", "1.5", "", " 1", "1 ", "0x1", "99999999999999999999", "+3"});
      default:
        return absl::StrCat(Range(-1000, 1000));
    }
  }

  std::string FloatArg() {
    switch (Rand(8)) {
      case 0:
        return PickS(
            {"inf", "-inf", "nan", "abc", "1e400", " 1", "0x10", "5.0e-324", "1e308", "", "1.5.5"});
      case 1:
        return absl::StrCat(Range(-1000, 1000));
      default:
        return absl::StrCat(Range(-1000, 1000), ".", Range(0, 99999), Chance(0.2) ? "e3" : "");
    }
  }

  std::string IndexArg() {
    if (Chance(0.05)) {
      return PickS({"9223372036854775807", "-9223372036854775808", "abc", "1.5", "100000"});
    }
    return absl::StrCat(Range(-15, 15));
  }

  // Relative and absolute times: large and well apart, so that no key expires during the run
  // and GT/LT comparisons do not depend on when each server ran the command.
  std::string RelSec() { return absl::StrCat(Range(1000, 1000000)); }
  std::string RelMs() { return absl::StrCat(Range(1000000, 1000000000)); }
  std::string AbsSec() { return absl::StrCat(base_ms_ / 1000 + Range(1000, 1000000)); }
  std::string AbsMs() { return absl::StrCat(base_ms_ + Range(1000000, 1000000000)); }
  std::string PastSec() { return absl::StrCat(base_ms_ / 1000 - Range(1, 100000)); }
  std::string PastMs() { return absl::StrCat(base_ms_ - Range(1, 100000000)); }
  std::string BadTime() {
    return PickS({"0", "-1", "abc", "9223372036854775807", "1.5", "", "-9223372036854775808",
                  "9223372036854775"});
  }

  // Expiry option for SET / GETEX (may be invalid).
  std::vector<std::string> ExpireOption(bool getex) {
    int r = Rand(100);
    if (r < 12) return {"EX", RelSec()};
    if (r < 24) return {"PX", RelMs()};
    if (r < 32) return {"EXAT", AbsSec()};
    if (r < 40) return {"PXAT", AbsMs()};
    // A past EXAT/PXAT: GETEX deletes the key at once; SET in 7.0 stores an already expired key
    // that DBSIZE counts until the active expiry cycle reclaims it (non-deterministic), so SET
    // gets a relative time instead.
    if (r < 42) {
      return getex ? std::vector<std::string>{"EXAT", PastSec()}
                   : std::vector<std::string>{"EX", RelSec()};
    }
    if (r < 44) {
      return getex ? std::vector<std::string>{"PXAT", PastMs()}
                   : std::vector<std::string>{"PX", RelMs()};
    }
    if (r < 52) return {getex ? "PERSIST" : "KEEPTTL"};
    if (r < 56) return {PickS({"EX", "PX", "EXAT", "PXAT"}), BadTime()};
    if (r < 58) return {"EX", RelSec(), "PX", RelMs()};
    if (r < 59) return {"EX"};
    return {};
  }

  std::vector<std::string> ExpireFlags() {
    int r = Rand(100);
    if (r < 55) return {};
    if (r < 65) return {"NX"};
    if (r < 75) return {"XX"};
    if (r < 85) return {"GT"};
    if (r < 95) return {"LT"};
    if (r < 97) return {"NX", "XX"};
    if (r < 98) return {"GT", "LT"};
    if (r < 99) return {"XX", "GT"};
    return {"FOO"};
  }

  static void Append(std::vector<std::string>* out, const std::vector<std::string>& more) {
    out->insert(out->end(), more.begin(), more.end());
  }

  std::string BitfieldType() {
    if (Chance(0.05)) return PickS({"u64", "i65", "i0", "u0", "x8", "8", "i"});
    if (Chance(0.5)) return absl::StrCat("i", Range(1, 64));
    return absl::StrCat("u", Range(1, 63));
  }
  std::string BitfieldOffset() {
    if (Chance(0.03)) return PickS({"-1", "abc", "#-1", "#x"});
    if (Chance(0.3)) return absl::StrCat("#", Range(0, 8));
    return absl::StrCat(Range(0, 100));
  }

  Step Make(const std::string& name) {
    Step s;
    std::vector<std::string>& a = s.args;
    a.push_back(name);
    if (name == "SET") {
      a.push_back(Key());
      a.push_back(Value());
      std::vector<std::vector<std::string>> opts;
      int cond = Rand(100);
      if (cond < 15)
        opts.push_back({"NX"});
      else if (cond < 30)
        opts.push_back({"XX"});
      else if (cond < 32)
        opts.push_back({"NX", "XX"});
      if (Chance(0.3)) opts.push_back({"GET"});
      std::vector<std::string> ex = ExpireOption(false);
      if (!ex.empty()) opts.push_back(ex);
      if (Chance(0.02)) opts.push_back({PickS({"FOO", "EXX", "PXX"})});
      std::shuffle(opts.begin(), opts.end(), rng_);
      for (const auto& o : opts) Append(&a, o);
    } else if (name == "GET" || name == "GETDEL" || name == "STRLEN" || name == "INCR" ||
               name == "DECR" || name == "TYPE" || name == "PERSIST") {
      a.push_back(Key());
    } else if (name == "GETSET" || name == "SETNX" || name == "APPEND") {
      a.push_back(Key());
      a.push_back(Value());
    } else if (name == "GETEX") {
      a.push_back(Key());
      Append(&a, ExpireOption(true));
      if (Chance(0.03)) Append(&a, {"PERSIST"});
    } else if (name == "SETEX" || name == "PSETEX") {
      a.push_back(Key());
      a.push_back(Chance(0.08) ? BadTime() : (name == "SETEX" ? RelSec() : RelMs()));
      a.push_back(Value());
    } else if (name == "MGET" || name == "DEL" || name == "UNLINK" || name == "EXISTS" ||
               name == "TOUCH") {
      Append(&a, KeyList(1 + Rand(5)));
    } else if (name == "MSET" || name == "MSETNX") {
      for (const std::string& k : KeyList(1 + Rand(4))) {
        a.push_back(k);
        a.push_back(Value());
      }
      if (Chance(0.03)) a.pop_back();  // odd number of arguments
    } else if (name == "INCRBY" || name == "DECRBY") {
      a.push_back(Key());
      a.push_back(IntArg());
    } else if (name == "INCRBYFLOAT") {
      a.push_back(Key());
      a.push_back(FloatArg());
    } else if (name == "GETRANGE" || name == "SUBSTR") {
      a.push_back(Key());
      a.push_back(IndexArg());
      a.push_back(IndexArg());
    } else if (name == "SETRANGE") {
      a.push_back(Key());
      int r = Rand(100);
      if (r < 3) {
        a.push_back(PickS({"-1", "abc", "536870912", "536870913", "9223372036854775807"}));
      } else if (r < 5) {
        a.push_back(absl::StrCat(Range(100, 1000)));
      } else {
        a.push_back(absl::StrCat(Range(0, 40)));
      }
      a.push_back(Chance(0.05) ? "" : Value());
    } else if (name == "LCS") {
      Append(&a, KeyList(2));
      std::vector<std::vector<std::string>> opts;
      if (Chance(0.3)) opts.push_back({"LEN"});
      if (Chance(0.4)) opts.push_back({"IDX"});
      if (Chance(0.3))
        opts.push_back({"MINMATCHLEN", Chance(0.1) ? "abc" : absl::StrCat(Range(-1, 4))});
      if (Chance(0.3)) opts.push_back({"WITHMATCHLEN"});
      if (Chance(0.02)) opts.push_back({"FOO"});
      std::shuffle(opts.begin(), opts.end(), rng_);
      for (const auto& o : opts) Append(&a, o);
    } else if (name == "SETBIT") {
      a.push_back(Key());
      a.push_back(Chance(0.04) ? PickS({"-1", "4294967296", "abc", ""})
                               : absl::StrCat(Range(0, 300)));
      a.push_back(Chance(0.04) ? PickS({"2", "-1", "abc", ""}) : absl::StrCat(Rand(2)));
    } else if (name == "GETBIT") {
      a.push_back(Key());
      a.push_back(Chance(0.05) ? PickS({"-1", "4294967296", "4294967295", "abc"})
                               : absl::StrCat(Range(0, 400)));
    } else if (name == "BITCOUNT" || name == "BITPOS") {
      a.push_back(Key());
      if (name == "BITPOS")
        a.push_back(Chance(0.03) ? PickS({"2", "-1", "x"}) : absl::StrCat(Rand(2)));
      int r = Rand(100);
      if (r < 30) return s;
      a.push_back(IndexArg());
      if (r < 40 && name == "BITPOS") return s;
      if (r < 35 && name == "BITCOUNT") return s;  // start without end: syntax error
      a.push_back(IndexArg());
      if (Chance(0.4)) a.push_back(PickS({"BYTE", "BIT", "BIT", "FOO"}));
    } else if (name == "BITOP") {
      std::string op = Chance(0.03) ? "FOO" : PickS({"AND", "OR", "XOR", "NOT"});
      a.push_back(op);
      int n = op == "NOT" ? (Chance(0.1) ? 2 : 1) : 1 + Rand(3);
      Append(&a, KeyList(n + 1));
    } else if (name == "BITFIELD" || name == "BITFIELD_RO") {
      a.push_back(Key());
      int n = Rand(4);
      for (int i = 0; i < n; ++i) {
        int r = Rand(100);
        if (name == "BITFIELD_RO" && r < 90) r = 0;
        if (r < 35) {
          Append(&a, {"GET", BitfieldType(), BitfieldOffset()});
        } else if (r < 65) {
          Append(&a, {"SET", BitfieldType(), BitfieldOffset(), IntArg()});
        } else if (r < 88) {
          Append(&a, {"INCRBY", BitfieldType(), BitfieldOffset(), IntArg()});
        } else if (r < 98) {
          Append(&a, {"OVERFLOW", Chance(0.05) ? "BAD" : PickS({"WRAP", "SAT", "FAIL"})});
        } else {
          Append(&a, {"FOO"});
        }
      }
    } else if (name == "EXPIRE" || name == "PEXPIRE" || name == "EXPIREAT" || name == "PEXPIREAT") {
      a.push_back(Key());
      bool ms = name[0] == 'P';
      bool at = absl::EndsWith(name, "AT");
      int r = Rand(100);
      if (r < 80) {
        a.push_back(at ? (ms ? AbsMs() : AbsSec()) : (ms ? RelMs() : RelSec()));
      } else if (r < 88) {
        a.push_back(at ? (ms ? PastMs() : PastSec()) : PickS({"0", "-1", "-100000"}));
      } else {
        a.push_back(BadTime());
      }
      Append(&a, ExpireFlags());
    } else if (name == "TTL" || name == "EXPIRETIME") {
      a.push_back(Key());
      s.compare = Compare::kTtlSec;
    } else if (name == "PTTL" || name == "PEXPIRETIME") {
      a.push_back(Key());
      s.compare = Compare::kTtlMs;
    } else if (name == "KEYS") {
      a.push_back(PickS({"*", "k*", "{t}*", "*a", "?1", "k[1-3]", "k[^1]*", "*{*", "n?", "\\{t\\}a",
                         "", "[", "*\\", "{u}[a-b]", "*[", "b*", "*}*", "?"}));
      s.compare = Compare::kSet;
    } else if (name == "SCAN") {
      if (Chance(0.05)) {
        a.push_back(PickS({"abc", "1.5", "x1"}));
        return s;
      }
      a.push_back("0");
      s.compare = Compare::kScan;
      std::vector<std::vector<std::string>> opts;
      if (Chance(0.4)) opts.push_back({"MATCH", PickS({"*", "k*", "{t}*", "*a", "?1", "[kn]*"})});
      if (Chance(0.4)) {
        opts.push_back(
            {"COUNT", Chance(0.05) ? PickS({"0", "-1", "abc"}) : absl::StrCat(Range(1, 30))});
      }
      if (Chance(0.2)) opts.push_back({"TYPE", PickS({"string", "list", "STRING", "hash"})});
      if (Chance(0.02)) opts.push_back({"FOO"});
      std::shuffle(opts.begin(), opts.end(), rng_);
      for (const auto& o : opts) Append(&a, o);
    } else if (name == "RANDOMKEY") {
      s.compare = Compare::kRandomKey;
    } else if (name == "RENAME" || name == "RENAMENX") {
      Append(&a, KeyList(2));
    } else if (name == "COPY") {
      Append(&a, KeyList(2));
      std::vector<std::vector<std::string>> opts;
      if (Chance(0.3)) {
        opts.push_back({"DB", Chance(0.1) ? PickS({"16", "-1", "abc"}) : absl::StrCat(Rand(3))});
      }
      if (Chance(0.4)) opts.push_back({"REPLACE"});
      std::shuffle(opts.begin(), opts.end(), rng_);
      for (const auto& o : opts) Append(&a, o);
    } else if (name == "MOVE") {
      a.push_back(Key());
      a.push_back(Chance(0.1) ? PickS({"16", "-1", "abc"}) : absl::StrCat(Rand(3)));
    } else if (name == "OBJECT") {
      a.push_back(Chance(0.03) ? "FOO" : "ENCODING");
      a.push_back(Key());
    } else if (name == "SELECT") {
      // Mostly db 0; db 1 and 2 take part too (the state check covers 0-2).
      int r = Rand(100);
      a.push_back(r < 50 ? "0" : r < 80 ? "1" : r < 92 ? "2" : PickS({"16", "-1", "abc"}));
    } else if (name == "FLUSHDB") {
      if (Chance(0.5)) a.push_back(PickS({"ASYNC", "SYNC", "SYNC", "ASYNC", "FOO"}));
    }
    return s;
  }

  std::mt19937_64 rng_;
  int64_t base_ms_;
  std::vector<std::string> names_;
  std::vector<int> cumulative_;
  int total_ = 0;
};

std::set<std::string> EnvSet(const char* name) {
  std::set<std::string> out;
  const char* v = getenv(name);
  if (v == nullptr) return out;
  for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipEmpty())) {
    out.insert(absl::AsciiStrToUpper(part));
  }
  return out;
}

std::string Clip(const std::string& s, size_t n = 600) {
  if (s.size() <= n) return s;
  return absl::StrCat(s.substr(0, n), "...(", s.size(), " chars)");
}

// A full SCAN from cursor 0 with the step's options; renders the union of keys, sorted, or the
// first non-array reply.
std::string FullScan(Client* c, std::vector<std::string> args) {
  std::set<std::string> keys;
  for (int i = 0; i < 10000; ++i) {
    ReplyPtr r = c->Command(args);
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
      return i == 0 ? Render(r.get()) : absl::StrCat("at iteration ", i, ": ", Render(r.get()));
    }
    for (size_t j = 0; j < r->element[1]->elements; ++j) {
      keys.insert(Render(r->element[1]->element[j]));
    }
    std::string cursor(r->element[0]->str, r->element[0]->len);
    if (cursor == "0") {
      return absl::StrCat("scan-union:[", absl::StrJoin(keys, ","), "]");
    }
    args[1] = cursor;
  }
  return "scan did not finish in 10000 iterations";
}

bool WithinTolerance(const redisReply* a, const redisReply* b, int64_t tol) {
  if (a == nullptr || b == nullptr) return false;
  if (a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER) {
    return Render(a) == Render(b);
  }
  if (a->integer < 0 || b->integer < 0) return a->integer == b->integer;
  return std::llabs(a->integer - b->integer) <= tol;
}

struct DiffParam {
  int threads;
  uint64_t seed;
};

class DifferentialTest : public ::testing::TestWithParam<DiffParam> {
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
      if (alive) {
        EXPECT_TRUE(shardis_->Stop()) << shardis_->LogTail();
      }
    }
  }

  // Compares the keyspace of databases 0-2 (keys, values, TTLs) through the inspector
  // connections. Returns a description of the first difference, or "".
  std::string CompareState() {
    for (int db = 0; db <= 2; ++db) {
      std::vector<std::string> select = {"SELECT", absl::StrCat(db)};
      if (sh_inspect_->Run(select) != "status:\"OK\"" ||
          ref_inspect_->Run(select) != "status:\"OK\"") {
        return absl::StrCat("inspector SELECT ", db, " failed: ", sh_inspect_->error());
      }
      ReplyPtr ka = sh_inspect_->Command({"KEYS", "*"});
      ReplyPtr kb = ref_inspect_->Command({"KEYS", "*"});
      if (RenderSet(ka.get()) != RenderSet(kb.get())) {
        return absl::StrCat("db ", db, " KEYS * differ:\n  ", ShardisLabel(), ": ",
                            Clip(RenderSet(ka.get())), "\n  redis:   ", Clip(RenderSet(kb.get())));
      }
      if (kb == nullptr || kb->type != REDIS_REPLY_ARRAY) continue;
      for (size_t i = 0; i < kb->elements; ++i) {
        std::string key(kb->element[i]->str, kb->element[i]->len);
        for (const char* cmd : {"GET", "PTTL", "OBJECT"}) {
          std::vector<std::string> args = {cmd, key};
          if (std::string_view(cmd) == "OBJECT") args = {"OBJECT", "ENCODING", key};
          ReplyPtr a = sh_inspect_->Command(args);
          ReplyPtr b = ref_inspect_->Command(args);
          bool same = std::string_view(cmd) == "PTTL" ? WithinTolerance(a.get(), b.get(), kTolMs)
                                                      : Render(a.get()) == Render(b.get());
          if (!same) {
            return absl::StrCat("db ", db, " ", RenderCommand(args), " differs:\n  ",
                                ShardisLabel(), ": ", Clip(Render(a.get())),
                                "\n  redis:   ", Clip(Render(b.get())));
          }
        }
      }
    }
    return "";
  }

  // Empties databases 0-2 on both sides and selects db 0 on the main connections.
  void Resync() {
    for (int db = 0; db <= 2; ++db) {
      for (Client* c : {sh_inspect_.get(), ref_inspect_.get()}) {
        c->Run({"SELECT", absl::StrCat(db)});
        c->Run({"FLUSHDB"});
      }
    }
    sh_->Run({"SELECT", "0"});
    ref_->Run({"SELECT", "0"});
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> sh_, sh_inspect_, ref_, ref_inspect_;
};

TEST_P(DifferentialTest, RandomStringAndKeyCommands) {
  const DiffParam param = GetParam();
  const int64_t commands = EnvInt("SHARDIS_DIFF_COMMANDS", 20000);
  const bool verbose = EnvInt("SHARDIS_DIFF_VERBOSE", 0) != 0;
  const int64_t base_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  Generator gen(param.seed, base_ms, EnvSet("SHARDIS_DIFF_SKIP"), EnvSet("SHARDIS_DIFF_ONLY"));
  const std::set<std::string> keyset(Keys().begin(), Keys().end());
  // (command index, arguments) of every command sent so far; resyncs appear as FLUSHDB.
  std::vector<std::pair<int64_t, std::vector<std::string>>> history;
  int mismatches = 0;
  const int kMaxMismatches = 15;
  const std::string header =
      absl::StrCat("seed ", param.seed, ", ", ShardisLabel(), " --threads ", param.threads);
  std::printf("%s: %lld commands\n", header.c_str(), static_cast<long long>(commands));

  // Context for a failure: the last commands that touched any key of `args`.
  auto context = [&](const std::vector<std::string>& args) {
    std::set<std::string> keys;
    for (const std::string& a : args) {
      if (keyset.count(a) != 0) keys.insert(a);
    }
    std::vector<std::string> lines;
    for (size_t i = history.size(); i-- > 0 && lines.size() < 8;) {
      const auto& [index, cmd] = history[i];
      bool touches = false;
      for (const std::string& a : cmd) touches |= keys.count(a) != 0;
      std::string name = absl::AsciiStrToUpper(cmd[0]);
      if (touches || name == "SELECT" || name == "FLUSHDB") {
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
      switch (step.compare) {
        case Compare::kExact:
          same = got == want;
          break;
        case Compare::kSet:
          got = RenderSet(a.get());
          want = RenderSet(b.get());
          same = got == want;
          break;
        case Compare::kTtlSec:
          same = WithinTolerance(a.get(), b.get(), kTolSec);
          break;
        case Compare::kTtlMs:
          same = WithinTolerance(a.get(), b.get(), kTolMs);
          break;
        case Compare::kRandomKey:
          if (a->type == REDIS_REPLY_STRING && b->type == REDIS_REPLY_STRING) {
            std::string ka(a->str, a->len), kb(b->str, b->len);
            std::string ea = sh_->Run({"EXISTS", ka});
            std::string eb = ref_->Run({"EXISTS", kb});
            same = ea == "int:1" && eb == "int:1";
            if (!same) {
              got += absl::StrCat(" (EXISTS: ", ea, ")");
              want += absl::StrCat(" (EXISTS: ", eb, ")");
            }
          } else {
            same = got == want;
          }
          break;
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
    if (!same) {
      report(i, step.args, got, want);
      Resync();
      history.push_back({i, step.args});
      history.push_back({i, {"FLUSHDB", "(resync after mismatch)"}});
      continue;
    }
    history.push_back({i, step.args});
    if ((i + 1) % 500 == 0 || i + 1 == commands) {
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
  if (mismatches >= kMaxMismatches) {
    ADD_FAILURE() << header << ": stopped after " << kMaxMismatches << " mismatches";
  }
}

std::vector<DiffParam> Params() {
  int64_t seed = EnvInt("SHARDIS_DIFF_SEED", 0);
  if (seed != 0) {
    return {{4, static_cast<uint64_t>(seed)}, {1, static_cast<uint64_t>(seed)}};
  }
  return {{4, 1}, {4, 2}, {4, 3}, {1, 4}, {1, 5}};
}

INSTANTIATE_TEST_SUITE_P(Seeds, DifferentialTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<DiffParam>& info) {
                           return absl::StrCat("Threads", info.param.threads, "Seed",
                                               info.param.seed);
                         });

}  // namespace
}  // namespace shardis::test
