// SORT and SORT_RO (Redis's sort.c semantics): sort a list, set or sorted set numerically or
// ALPHA, by the elements or by the values of other keys (BY pattern, `nosort`, hash `->field`),
// with LIMIT, GET patterns (`#`, `*`, `->field`), ASC|DESC and STORE into a list.
//
// Without BY/GET patterns naming keys, the sort runs on the thread of the shard that owns the
// sorted key (STORE to a destination on the same shard is done in place).
//
// BY/GET patterns name other keys, derived from the data, which may live on any shard. Such a
// SORT runs connection-side (prefer_client), atomically over every shard (widen_scope): the
// elements are collected on the sorted key's shard, then every key the patterns form is read on
// its own shard, then the sort runs on the connection's thread, and a STORE goes to the
// destination's shard. Inside MULTI/EXEC batches on one shard or Lua scripts (which run commands
// on one shard), a pattern key of another shard still gets Redis Cluster's error ("... denied in
// Cluster mode."), as redis-server 7.0 in cluster mode.
//
// Ordering follows Redis exactly: numeric ties are broken by comparing the elements as binary
// strings; a full sort is stable (glibc's qsort is a merge sort); BY with a LIMIT uses Redis's
// partial quicksort (pqsort), reimplemented below, whose order of equal elements we reproduce.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/command.h"
#include "server/config.h"
#include "storage/db.h"
#include "storage/hash_value.h"
#include "storage/list_value.h"
#include "storage/set_value.h"
#include "storage/shard_data.h"
#include "storage/zset_value.h"

namespace shardis {
namespace {

constexpr std::string_view kScoreErr = "ERR One or more scores can't be converted into double";
constexpr std::string_view kByCrossShardErr = "ERR BY option of SORT denied in Cluster mode.";
constexpr std::string_view kGetCrossShardErr = "ERR GET option of SORT denied in Cluster mode.";

struct SortOptions {
  bool desc = false;
  bool alpha = false;
  bool dontsort = false;  // BY a pattern without '*'
  int64_t limit_start = 0;
  int64_t limit_count = -1;
  std::optional<std::string> by;     // a real pattern (with '*') only
  std::optional<std::string> store;  // the destination
  std::vector<std::string> gets;
};

// Redis's option loop. Returns the error to reply, or "".
std::string ParseOptions(ArgList args, bool readonly, SortOptions* o) {
  for (size_t j = 2; j < args.size(); ++j) {
    size_t left = args.size() - j - 1;
    std::string_view a = args[j];
    if (cmd::EqualsIgnoreCase(a, "asc")) {
      o->desc = false;
    } else if (cmd::EqualsIgnoreCase(a, "desc")) {
      o->desc = true;
    } else if (cmd::EqualsIgnoreCase(a, "alpha")) {
      o->alpha = true;
    } else if (cmd::EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!cmd::ParseInt64(args[j + 1], &o->limit_start) ||
          !cmd::ParseInt64(args[j + 2], &o->limit_count)) {
        return std::string(cmd::kNotIntErr);
      }
      j += 2;
    } else if (!readonly && cmd::EqualsIgnoreCase(a, "store") && left >= 1) {
      o->store = std::string(args[j + 1]);
      ++j;
    } else if (cmd::EqualsIgnoreCase(a, "by") && left >= 1) {
      std::string_view pattern = args[j + 1];
      // strchr semantics: the pattern ends at its first NUL byte.
      // (As in Redis, one constant pattern anywhere turns sorting off for good.)
      if (pattern.substr(0, pattern.find('\0')).find('*') == std::string_view::npos) {
        o->dontsort = true;
      } else {
        o->by = std::string(pattern);
      }
      ++j;
    } else if (cmd::EqualsIgnoreCase(a, "get") && left >= 1) {
      o->gets.emplace_back(args[j + 1]);
      ++j;
    } else {
      return std::string(cmd::kSyntaxErr);
    }
  }
  return {};
}

// Redis's sortGetKeys: the sorted key, then the last STORE destination (options with arguments
// are skipped as Redis skips them).
void SortKeys(ArgList args, std::vector<int>* positions) {
  positions->push_back(1);
  int store = -1;
  for (size_t i = 2; i < args.size(); ++i) {
    if (cmd::EqualsIgnoreCase(args[i], "limit")) {
      i += 2;
    } else if (cmd::EqualsIgnoreCase(args[i], "get") || cmd::EqualsIgnoreCase(args[i], "by")) {
      i += 1;
    } else if (cmd::EqualsIgnoreCase(args[i], "store") && i + 1 < args.size()) {
      store = static_cast<int>(i + 1);
    }
  }
  if (store >= 0) positions->push_back(store);
}

enum class Lookup { kFound, kMissing, kOtherShard };

// Resolves a key formed from a pattern (and a hash field, when the pattern has "->field").
using KeyLookup = std::function<Lookup(const std::string& key,
                                       std::optional<std::string_view> field, std::string* out)>;

// Redis's lookupKeyByPattern, first half: the key a pattern forms for an element (the first '*'
// replaced by the element) and the hash field after "->", if any. False for "#" and for patterns
// without '*' (which name no key).
bool FormPatternKey(std::string_view pattern, std::string_view elem, std::string* key,
                    std::optional<std::string_view>* field) {
  std::string_view cpat = pattern.substr(0, pattern.find('\0'));  // C string view, as strchr
  if (cpat == "#") return false;
  size_t star = cpat.find('*');
  if (star == std::string_view::npos) return false;
  size_t arrow = cpat.find("->", star + 1);
  size_t fieldlen = 0;
  if (arrow != std::string_view::npos && arrow + 2 < cpat.size()) {
    fieldlen = pattern.size() - arrow - 2;
  } else {
    arrow = std::string_view::npos;
  }
  size_t postfix = pattern.size() - (star + 1) - (fieldlen ? fieldlen + 2 : 0);
  key->clear();
  key->reserve(star + elem.size() + postfix);
  key->append(pattern.substr(0, star));
  key->append(elem);
  key->append(pattern.substr(star + 1, postfix));
  if (fieldlen != 0) {
    *field = pattern.substr(arrow + 2);
  } else {
    field->reset();
  }
  return true;
}

// The value of `key` (a string, or a field of a hash) in `db`, as Redis reads it for BY/GET.
Lookup ReadPatternKey(Db& db, const std::string& key, std::optional<std::string_view> field,
                      std::string* out) {
  Entry* e = db.Lookup(key);
  if (e == nullptr) return Lookup::kMissing;
  if (field.has_value()) {
    if (e->type() != ValueType::kHash) return Lookup::kMissing;
    std::optional<std::string_view> v = e->As<HashValue>()->Get(*field);
    if (!v.has_value()) return Lookup::kMissing;
    out->assign(*v);
    return Lookup::kFound;
  }
  if (e->type() != ValueType::kString) return Lookup::kMissing;
  out->assign(e->str());
  return Lookup::kFound;
}

// Redis's lookupKeyByPattern: "#" is the element itself; otherwise the formed key's value.
Lookup LookupByPattern(const KeyLookup& lookup, std::string_view pattern, std::string_view elem,
                       std::string* out) {
  if (pattern.substr(0, pattern.find('\0')) == "#") {
    out->assign(elem);
    return Lookup::kFound;
  }
  std::string key;
  std::optional<std::string_view> field;
  if (!FormPatternKey(pattern, elem, &key, &field)) return Lookup::kMissing;
  return lookup(key, field, out);
}

// Lookups on one shard's db: keys of other shards cannot be read there.
KeyLookup ShardLookup(Db& db, int shard_index, int shard_count) {
  return [&db, shard_index, shard_count](const std::string& key,
                                         std::optional<std::string_view> field, std::string* out) {
    if (shard_count > 1 && ShardOfKey(key, shard_count) != shard_index) return Lookup::kOtherShard;
    return ReadPatternKey(db, key, field, out);
  };
}

struct SortItem {
  std::string obj;
  double score = 0;
  bool has_cmp = false;  // BY ... ALPHA: the looked-up value, when found
  std::string cmp;
};

// Redis's sortCompare.
struct SortCompare {
  bool desc, alpha, bypattern, store;

  static int Binary(const std::string& a, const std::string& b) {
    int c = a.compare(b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  // strcoll in the C / C.UTF-8 locales: bytes up to the first NUL.
  static int Collate(const std::string& a, const std::string& b) {
    int c = std::strcmp(a.c_str(), b.c_str());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  int operator()(const SortItem& a, const SortItem& b) const {
    int cmp;
    if (!alpha) {
      if (a.score > b.score) {
        cmp = 1;
      } else if (a.score < b.score) {
        cmp = -1;
      } else {
        cmp = Binary(a.obj, b.obj);
      }
    } else if (bypattern) {
      if (!a.has_cmp || !b.has_cmp) {
        cmp = a.has_cmp == b.has_cmp ? 0 : !a.has_cmp ? -1 : 1;
      } else {
        cmp = store ? Binary(a.cmp, b.cmp) : Collate(a.cmp, b.cmp);
      }
    } else {
      cmp = store ? Binary(a.obj, b.obj) : Collate(a.obj, b.obj);
    }
    return desc ? -cmp : cmp;
  }
};

// Redis's pqsort (Bentley & McIlroy's quicksort, without the BSD switch to insertion sort when
// a pass swapped nothing, that only recurses into the parts overlapping the wanted range), over
// elements [base, base + n) of v; the wanted range is given in half-element units (lrange, rrange)
// as Redis computes it in bytes, so its boundary cases match.
class PartialSort {
 public:
  PartialSort(std::vector<SortItem>& v, const SortCompare& cmp) : v_(v), cmp_(cmp) {}

  void Run(int64_t start, int64_t end) {
    if (v_.empty()) return;
    Sort(0, v_.size(), start * 2, (end + 1) * 2 - 1);
  }

 private:
  int C(size_t a, size_t b) const { return cmp_(v_[a], v_[b]); }
  void Swap(size_t a, size_t b) { std::swap(v_[a], v_[b]); }
  void VecSwap(size_t a, size_t b, size_t n) {
    for (size_t i = 0; i < n; ++i) Swap(a + i, b + i);
  }
  size_t Med3(size_t a, size_t b, size_t c) const {
    return C(a, b) < 0 ? (C(b, c) < 0 ? b : (C(a, c) < 0 ? c : a))
                       : (C(b, c) > 0 ? b : (C(a, c) < 0 ? a : c));
  }
  void Insertion(size_t a, size_t n) {
    for (size_t m = a + 1; m < a + n; ++m) {
      for (size_t l = m; l > a && C(l - 1, l) > 0; --l) Swap(l, l - 1);
    }
  }
  // Does [a, a + n) overlap the wanted range? (Redis's test on byte addresses.)
  static bool Wanted(size_t a, size_t n, int64_t lrange, int64_t rrange) {
    int64_t l = static_cast<int64_t>(a) * 2;
    int64_t r = static_cast<int64_t>(a + n) * 2 - 1;
    return !((lrange < l && rrange < l) || (lrange > r && rrange > r));
  }

  void Sort(size_t a, size_t n, int64_t lrange, int64_t rrange) {
    for (;;) {
      if (n < 7) {
        Insertion(a, n);
        return;
      }
      size_t pm = a + n / 2;
      if (n > 7) {
        size_t pl = a;
        size_t pn = a + n - 1;
        if (n > 40) {
          size_t d = n / 8;
          pl = Med3(pl, pl + d, pl + 2 * d);
          pm = Med3(pm - d, pm, pm + d);
          pn = Med3(pn - 2 * d, pn - d, pn);
        }
        pm = Med3(pl, pm, pn);
      }
      Swap(a, pm);
      // Signed positions: pc may step below pb (to a - 1 at worst, never below a).
      int64_t pa = static_cast<int64_t>(a) + 1, pb = pa;
      int64_t pc = static_cast<int64_t>(a + n - 1), pd = pc;
      for (;;) {
        int r;
        while (pb <= pc && (r = C(pb, a)) <= 0) {
          if (r == 0) {
            Swap(pa, pb);
            ++pa;
          }
          ++pb;
        }
        while (pb <= pc && (r = C(pc, a)) >= 0) {
          if (r == 0) {
            Swap(pc, pd);
            --pd;
          }
          --pc;
        }
        if (pb > pc) break;
        Swap(pb, pc);
        ++pb;
        --pc;
      }
      int64_t pn = static_cast<int64_t>(a + n);
      int64_t r = std::min(pa - static_cast<int64_t>(a), pb - pa);
      VecSwap(a, pb - r, r);
      r = std::min(pd - pc, pn - pd - 1);
      VecSwap(pb, pn - r, r);
      if ((r = pb - pa) > 1 && Wanted(a, r, lrange, rrange)) Sort(a, r, lrange, rrange);
      if ((r = pd - pc) > 1) {
        a = pn - r;
        n = r;
        if (Wanted(a, n, lrange, rrange)) continue;
      }
      return;
    }
  }

  std::vector<SortItem>& v_;
  const SortCompare& cmp_;
};

// Redis's string-to-double of SORT: strtod over the whole (C) string, no NaN, no ERANGE.
bool SortScore(const std::string& s, double* out) {
  errno = 0;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(*out);
}

// What a sort produced: an error, or the values to reply / store (nullopt: a missing GET).
struct SortResult {
  std::string error;
  std::vector<std::optional<std::string>> values;
};

// The elements to sort and the range wanted, as collected on the sorted key's shard.
struct Collected {
  std::string error;
  SortOptions o;  // as adjusted for the value's type
  std::vector<SortItem> vec;
  int64_t start = 0;
  int64_t end = -1;
};

// First half of Redis's sortCommandGeneric, on the shard that owns `key`: the elements and the
// range. `from_script`: run by a Lua script (a set's order must then not leak either).
Collected Collect(Db& db, std::string_view key, SortOptions o, bool from_script) {
  Collected res;
  Entry* e = db.Lookup(key);
  ValueType type = ValueType::kList;
  Collection* coll = nullptr;
  if (e != nullptr) {
    type = e->type();
    if (type != ValueType::kList && type != ValueType::kSet && type != ValueType::kZSet) {
      res.error = cmd::kWrongTypeErr;
      return res;
    }
    coll = e->collection();
  }
  // A set with nothing to sort by is sorted ALPHA when stored or in a script (the result must
  // not depend on the set's internal order).
  if (o.dontsort && type == ValueType::kSet && (o.store.has_value() || from_script)) {
    o.dontsort = false;
    o.alpha = true;
    o.by.reset();
  }
  res.o = std::move(o);
  const SortOptions& opts = res.o;
  int64_t vectorlen = coll == nullptr ? 0 : static_cast<int64_t>(coll->ElementCount());
  int64_t start = std::min(std::max<int64_t>(opts.limit_start, 0), vectorlen);
  int64_t count = std::min(std::max<int64_t>(opts.limit_count, -1), vectorlen);
  int64_t end = count < 0 ? vectorlen : start + count - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;
  const bool ordered = type == ValueType::kList || type == ValueType::kZSet;
  if (ordered && opts.dontsort && (start != 0 || end != vectorlen - 1)) vectorlen = end - start + 1;

  std::vector<SortItem>& vec = res.vec;
  vec.reserve(static_cast<size_t>(std::max<int64_t>(vectorlen, 0)));
  auto add = [&vec](std::string_view s) {
    vec.emplace_back();
    vec.back().obj.assign(s);
  };
  if (coll == nullptr) {
    // An absent key sorts as an empty list.
  } else if (type == ValueType::kList) {
    const ListValue* l = static_cast<ListValue*>(coll);
    if (opts.dontsort) {
      // The list's own order (reversed for DESC), and only the LIMIT range.
      if (end >= start) {
        int64_t len = static_cast<int64_t>(l->size());
        ListValue::Iterator it = l->IteratorAt(opts.desc ? len - start - 1 : start);
        while (static_cast<int64_t>(vec.size()) < vectorlen && it.Valid()) {
          add(it.value());
          if (opts.desc) {
            it.Prev();
          } else {
            it.Next();
          }
        }
        end -= start;
        start = 0;
      }
    } else {
      for (ListValue::Iterator it = l->IteratorAt(0); it.Valid(); it.Next()) add(it.value());
    }
  } else if (type == ValueType::kSet) {
    static_cast<SetValue*>(coll)->ForEach([&](std::string_view m) { add(m); });
  } else {
    const ZSetValue* z = static_cast<ZSetValue*>(coll);
    if (opts.dontsort) {
      // Score order (reversed for DESC), only the LIMIT range.
      int64_t len = static_cast<int64_t>(z->size());
      if (vectorlen > 0) {
        ZSetValue::Iterator it = z->At(static_cast<size_t>(opts.desc ? len - 1 - start : start));
        for (int64_t i = 0; i < vectorlen && it.valid(); ++i) {
          add(it.member());
          if (opts.desc) {
            it.Prev();
          } else {
            it.Next();
          }
        }
      }
      end -= start;
      start = 0;
    } else {
      z->ForEach([&](std::string_view m, double) { add(m); });
    }
  }

  res.start = start;
  res.end = end;
  return res;
}

// Second half: sorts (BY values from `lookup`) and applies the GET patterns to the range.
SortResult Finish(Collected c, const KeyLookup& lookup) {
  SortResult res;
  const SortOptions& o = c.o;
  std::vector<SortItem>& vec = c.vec;
  int64_t start = c.start;
  int64_t end = c.end;
  if (!o.dontsort) {
    bool conversion_error = false;
    std::string byval;
    for (SortItem& item : vec) {
      const std::string* val = &item.obj;
      if (o.by.has_value()) {
        Lookup found = LookupByPattern(lookup, *o.by, item.obj, &byval);
        if (found == Lookup::kOtherShard) {
          res.error = kByCrossShardErr;
          return res;
        }
        if (found == Lookup::kMissing) continue;
        val = &byval;
      }
      if (o.alpha) {
        if (o.by.has_value()) {
          item.has_cmp = true;
          item.cmp = *val;
        }
      } else if (!SortScore(*val, &item.score)) {
        conversion_error = true;
      }
    }
    SortCompare cmp{o.desc, o.alpha, o.by.has_value(), o.store.has_value()};
    if (o.by.has_value() && (start != 0 || end != static_cast<int64_t>(vec.size()) - 1)) {
      PartialSort(vec, cmp).Run(start, end);
    } else {
      std::stable_sort(vec.begin(), vec.end(),
                       [&cmp](const SortItem& a, const SortItem& b) { return cmp(a, b) < 0; });
    }
    if (conversion_error) {
      res.error = kScoreErr;
      return res;
    }
  }

  std::string got;
  for (int64_t j = start; j <= end; ++j) {
    const std::string& elem = vec[static_cast<size_t>(j)].obj;
    if (o.gets.empty()) {
      res.values.emplace_back(elem);
      continue;
    }
    for (const std::string& pattern : o.gets) {
      Lookup found = LookupByPattern(lookup, pattern, elem, &got);
      if (found == Lookup::kOtherShard) {
        res.error = kGetCrossShardErr;
        res.values.clear();
        return res;
      }
      if (found == Lookup::kFound) {
        res.values.emplace_back(got);
      } else {
        res.values.emplace_back(std::nullopt);
      }
    }
  }
  return res;
}

// The whole sort on the shard that owns `key`, pattern keys read from that shard only.
SortResult Compute(Db& db, int shard_index, int shard_count, std::string_view key, SortOptions o,
                   bool from_script) {
  Collected c = Collect(db, key, std::move(o), from_script);
  if (!c.error.empty()) {
    SortResult res;
    res.error = std::move(c.error);
    return res;
  }
  return Finish(std::move(c), ShardLookup(db, shard_index, shard_count));
}

// STORE: the values as a list at `dst` (missing GETs as empty strings), or `dst` deleted when
// there are none. Replaces any value and its TTL; wakes clients blocked on the key.
void StoreList(Db& db, const Config& config, std::string_view dst,
               const std::vector<std::optional<std::string>>& values) {
  if (values.empty()) {
    if (db.Erase(dst)) db.Notify(kNotifyGeneric, "del", dst);
    return;
  }
  auto list = std::make_unique<ListValue>(config.list_max_listpack_size);
  for (const auto& v : values) list->PushBack(v.has_value() ? std::string_view(*v) : "");
  bool existed = db.Find(dst) != nullptr;
  Entry* e = db.Set(dst, Value::OfCollection(ValueType::kList, std::move(list)));
  e->set_access_time(db.now_ms());
  db.Notify(kNotifyList, "sortstore", dst);
  // A created key is signalled by Db itself; an overwritten one here.
  if (existed) db.SignalKeyReady(dst);
}

void ReplyValues(ReplyBuilder& reply, const std::vector<std::optional<std::string>>& values) {
  reply.ArrayHeader(values.size());
  for (const auto& v : values) {
    if (v.has_value()) {
      reply.Bulk(*v);
    } else {
      reply.Null();
    }
  }
}

template <bool kReadonly>
void SortOnShard(ShardCommand& c) {
  SortOptions o;
  std::string err = ParseOptions(c.args, kReadonly, &o);
  if (!err.empty()) {
    c.reply.Error(err);
    return;
  }
  std::optional<std::string> store = o.store;
  SortResult res = Compute(c.db, c.shard.shard_index(), c.shard.shard_count(), c.args[1],
                           std::move(o), c.from_script);
  if (!res.error.empty()) {
    c.reply.Error(res.error);
    return;
  }
  if (!store.has_value()) {
    ReplyValues(c.reply, res.values);
    return;
  }
  StoreList(c.db, c.config, *store, res.values);
  c.reply.Integer(static_cast<int64_t>(res.values.size()));
}

// Does a BY or GET pattern name keys (that may live on other shards)? Then the sort runs
// connection-side, atomically over every shard. Reads the options loosely (as SortKeys): a
// malformed command is answered by the handler.
bool PatternsNameKeys(ArgList args) {
  auto names_keys = [](std::string_view pattern, bool by) {
    std::string_view cpat = pattern.substr(0, pattern.find('\0'));
    if (!by && cpat == "#") return false;
    return cpat.find('*') != std::string_view::npos;
  };
  for (size_t i = 2; i < args.size(); ++i) {
    if (cmd::EqualsIgnoreCase(args[i], "limit")) {
      i += 2;
    } else if (cmd::EqualsIgnoreCase(args[i], "store")) {
      i += 1;
    } else if (i + 1 < args.size() &&
               (cmd::EqualsIgnoreCase(args[i], "by") || cmd::EqualsIgnoreCase(args[i], "get"))) {
      if (names_keys(args[i + 1], cmd::EqualsIgnoreCase(args[i], "by"))) return true;
      i += 1;
    }
  }
  return false;
}

void WidenToAllShards(ArgList args, AtomicScope* scope) {
  if (PatternsNameKeys(args)) scope->all_shards = true;
}

// The pattern keys a connection-side sort reads: each formed once, read on its own shard.
struct PatternReads {
  struct Read {
    std::string key;
    std::optional<std::string> field;
    Lookup result = Lookup::kMissing;
    std::string value;
  };
  std::vector<Read> reads;
  absl::flat_hash_map<std::string, size_t> index;  // IndexKey(key, field) -> reads[i]

  static std::string IndexKey(const std::string& key, std::optional<std::string_view> field) {
    std::string k = Cat(key.size(), ':', key);
    if (field.has_value()) CatAppend(&k, '>', *field);
    return k;
  }
  void Add(std::string_view pattern, std::string_view elem) {
    std::string key;
    std::optional<std::string_view> field;
    if (!FormPatternKey(pattern, elem, &key, &field)) return;
    auto [it, inserted] = index.try_emplace(IndexKey(key, field), reads.size());
    if (!inserted) return;
    Read r;
    r.key = std::move(key);
    if (field.has_value()) r.field.emplace(*field);
    reads.push_back(std::move(r));
  }
  KeyLookup Lookuper() const {
    return [this](const std::string& key, std::optional<std::string_view> field, std::string* out) {
      auto it = index.find(IndexKey(key, field));
      if (it == index.end()) return Lookup::kMissing;  // not reached: every key was read
      const Read& r = reads[it->second];
      if (r.result == Lookup::kFound) out->assign(r.value);
      return r.result;
    };
  }
};

// Replies the sort's result, or stores it on the destination's shard (a last phase).
void ReplyOrStore(const std::shared_ptr<SortResult>& res, std::optional<std::string> store,
                  int dst_shard, ReplyBuilder& reply, FanOutRunner& runner) {
  if (!res->error.empty()) {
    reply.Error(res->error);
    return;
  }
  if (!store.has_value()) {
    ReplyValues(reply, res->values);
    return;
  }
  auto dst = std::make_shared<std::string>(std::move(*store));
  runner.RunOnShards(
      {dst_shard}, [dst, res](ShardAccess& a) { StoreList(a.db, a.config, *dst, res->values); },
      [res](ReplyBuilder& reply, FanOutRunner&) {
        reply.Integer(static_cast<int64_t>(res->values.size()));
      });
}

// Connection-side SORT: a STORE destination on another shard than the sorted key, BY/GET
// patterns naming keys (then: collect on the key's shard, read the pattern keys on their shards,
// sort here), or an ACL-restricted user.
template <bool kReadonly>
void SortOnClient(ClientCommand& c) {
  auto o = std::make_shared<SortOptions>();
  std::string err = ParseOptions(c.args, kReadonly, o.get());
  if (!err.empty()) {
    c.reply.Error(err);
    return;
  }
  auto key = std::make_shared<std::string>(c.args[1]);
  int shards = c.shard_count();
  int key_shard = c.ShardOf(*key);
  int dst_shard = o->store.has_value() ? c.ShardOf(*o->store) : key_shard;
  if (!PatternsNameKeys(c.args)) {
    auto res = std::make_shared<SortResult>();
    c.RunOnShards(
        {key_shard},
        [o, key, res, shards](ShardAccess& a) {
          *res = Compute(a.db, a.shard_index, shards, *key, *o, false);
        },
        [o, res, dst_shard](ReplyBuilder& reply, FanOutRunner& runner) {
          ReplyOrStore(res, o->store, dst_shard, reply, runner);
        });
    return;
  }
  auto collected = std::make_shared<Collected>();
  c.RunOnShards(
      {key_shard},
      [o, key, collected](ShardAccess& a) { *collected = Collect(a.db, *key, *o, false); },
      [o, collected, shards, dst_shard](ReplyBuilder& reply, FanOutRunner& runner) {
        if (!collected->error.empty()) {
          reply.Error(collected->error);
          return;
        }
        // Every key the patterns form for any element (GET for every element, as the range's
        // elements are known only once sorted).
        auto reads = std::make_shared<PatternReads>();
        const SortOptions& so = collected->o;
        for (const SortItem& item : collected->vec) {
          if (so.by.has_value() && !so.dontsort) reads->Add(*so.by, item.obj);
          for (const std::string& g : so.gets) reads->Add(g, item.obj);
        }
        std::vector<int> targets;
        std::vector<bool> seen(static_cast<size_t>(shards), false);
        for (const PatternReads::Read& r : reads->reads) {
          int s = ShardOfKey(r.key, shards);
          if (!seen[static_cast<size_t>(s)]) {
            seen[static_cast<size_t>(s)] = true;
            targets.push_back(s);
          }
        }
        runner.RunOnShards(
            std::move(targets),
            [reads, shards](ShardAccess& a) {
              // Each shard fills only the reads of the keys it owns.
              for (PatternReads::Read& r : reads->reads) {
                if (ShardOfKey(r.key, shards) != a.shard_index) continue;
                std::optional<std::string_view> field;
                if (r.field.has_value()) field = *r.field;
                r.result = ReadPatternKey(a.db, r.key, field, &r.value);
              }
            },
            [o, collected, reads, dst_shard](ReplyBuilder& reply, FanOutRunner& runner) {
              auto res =
                  std::make_shared<SortResult>(Finish(std::move(*collected), reads->Lookuper()));
              ReplyOrStore(res, o->store, dst_shard, reply, runner);
            });
      });
}

}  // namespace

void RegisterSortCommands(std::vector<CommandSpec>* table) {
  CommandSpec sort{};
  sort.name = "sort";
  sort.arity = -2;
  sort.flags = kCmdWrite | kCmdDenyOom | kCmdMovableKeys;
  sort.first_key = 1;
  sort.last_key = 1;
  sort.key_step = 1;
  sort.acl_categories = "@write @set @sortedset @list @slow @dangerous";
  sort.group = "generic";
  sort.summary = "Sort the elements in a list, set or sorted set";
  sort.since = "1.0.0";
  sort.on_shard = SortOnShard<false>;
  sort.on_client = SortOnClient<false>;
  sort.get_keys = SortKeys;
  sort.prefer_client = PatternsNameKeys;
  sort.widen_scope = WidenToAllShards;
  table->push_back(sort);

  CommandSpec ro{};
  ro.name = "sort_ro";
  ro.arity = -2;
  ro.flags = kCmdReadonly | kCmdMovableKeys;
  ro.first_key = 1;
  ro.last_key = 1;
  ro.key_step = 1;
  ro.acl_categories = "@read @set @sortedset @list @slow @dangerous";
  ro.group = "generic";
  ro.summary = "Sort the elements in a list, set or sorted set. Read-only variant of SORT.";
  ro.since = "7.0.0";
  ro.on_shard = SortOnShard<true>;
  ro.on_client = SortOnClient<true>;
  ro.prefer_client = PatternsNameKeys;
  ro.widen_scope = WidenToAllShards;
  table->push_back(ro);
}

}  // namespace shardis
