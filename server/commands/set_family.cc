// The set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP SRANDMEMBER SMOVE SINTER
// SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN, with redis-server 7.0's
// semantics, reply types (RESP2 and RESP3), error texts and result encodings. The values are
// storage/set_value.h's SetValue.
//
// ShardHandlers run on the thread of the shard that owns the keys. When the keys of a multi-key
// command span shards, its ClientHandler runs on the connection's thread: it gathers copies of
// the source sets (each shard's task writes only its own slot), computes there, and for the
// STORE variants and SMOVE writes the destination on its shard as a chained phase. Cross-shard
// operations are correct but not atomic.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "server/command.h"
#include "server/config.h"
#include "storage/glob.h"
#include "storage/set_value.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

constexpr std::string_view kMustBePositiveErr = "ERR value is out of range, must be positive";
constexpr std::string_view kRandCountRangeErr =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr std::string_view kInvalidCursorErr = "ERR invalid cursor";
constexpr std::string_view kNumkeysErr = "ERR numkeys should be greater than 0";
constexpr std::string_view kTooManyKeysErr =
    "ERR Number of keys can't be greater than number of args";
constexpr std::string_view kLimitErr = "ERR LIMIT can't be negative";

// Redis's strategy switches (SPOP_MOVE_STRATEGY_MUL, SRANDMEMBER_SUB_STRATEGY_MUL).
constexpr uint64_t kSpopMoveStrategyMul = 5;
constexpr uint64_t kSrandmemberSubStrategyMul = 3;

size_t MaxIntsetEntries(const Config& config) {
  return config.set_max_intset_entries < 0 ? 0 : static_cast<size_t>(config.set_max_intset_entries);
}

bool IsSet(const Entry* e) { return e->type() == ValueType::kSet; }
SetValue* SetOf(const Entry* e) { return e->As<SetValue>(); }

// lookupKeyWrite: no statistics, updates the access time. Reads use Db::Lookup.
Entry* LookupWrite(Db& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e != nullptr) e->set_access_time(db.now_ms());
  return e;
}

// Stores `set` under key, replacing any value and its TTL (Redis's setKey / dbAdd).
Entry* StoreSet(Db& db, std::string_view key, std::unique_ptr<SetValue> set) {
  return db.Set(key, Value::OfCollection(ValueType::kSet, std::move(set)));
}

// The STORE variants' last step: the result replaces dst, or dst is deleted when it is empty.
// Returns the reply (the result's size). `event`: "sinterstore", "sunionstore" or "sdiffstore".
int64_t StoreResult(Db& db, std::string_view dst, std::unique_ptr<SetValue> result,
                    const char* event) {
  int64_t n = static_cast<int64_t>(result->size());
  if (n > 0) {
    StoreSet(db, dst, std::move(result));
    db.Notify(kNotifySet, event, dst);
  } else if (db.Erase(dst)) {
    db.Notify(kNotifyGeneric, "del", dst);
  }
  return n;
}

// Frees a temporary set, on the lazy-free thread when it is big (see storage/value.h).
void Dispose(std::unique_ptr<SetValue> set) {
  if (set != nullptr) DisposeCollection(std::move(set));
}

std::unique_ptr<SetValue> Snapshot(const SetValue* set) {
  return std::unique_ptr<SetValue>(static_cast<SetValue*>(set->Clone().release()));
}

// ---------------------------------------------------------------------------------------------
// Set algebra over sources in argument order (null = missing key). The same pointer twice means
// the same key given twice, as in Redis, where it is the same object.

enum class SetOp : uint8_t { kUnion, kDiff };

// Redis's sinterGenericCommand core: calls emit(member) for each member of the intersection, in
// the iteration order of the smallest set, until emit returns false.
template <typename Fn>
void ForEachInIntersection(std::vector<const SetValue*> sets, Fn&& emit) {
  for (const SetValue* s : sets) {
    if (s == nullptr) return;  // a missing key is an empty set
  }
  std::stable_sort(sets.begin(), sets.end(),
                   [](const SetValue* a, const SetValue* b) { return a->size() < b->size(); });
  const SetValue* first = sets[0];
  if (first->is_intset()) {
    char buf[24];
    for (size_t i = 0; i < first->ints().size(); ++i) {
      int64_t v = first->ints().At(i);
      size_t j = 1;
      for (; j < sets.size(); ++j) {
        if (sets[j] != first && !sets[j]->ContainsInt(v)) break;
      }
      if (j == sets.size() && !emit(SetValue::FormatInt(v, buf))) return;
    }
    return;
  }
  for (size_t i = 0; i < first->strings().size(); ++i) {
    std::string_view m = first->strings().At(i);
    size_t j = 1;
    for (; j < sets.size(); ++j) {
      if (sets[j] != first && !sets[j]->Contains(m)) break;
    }
    if (j == sets.size() && !emit(m)) return;
  }
}

// SINTERSTORE's result, built as Redis builds it: an intset that converts as members arrive.
std::unique_ptr<SetValue> IntersectionSet(const std::vector<const SetValue*>& sets, size_t max) {
  auto out = std::make_unique<SetValue>();
  ForEachInIntersection(sets, [&](std::string_view m) {
    out->Add(m, max);
    return true;
  });
  return out;
}

// SINTERCARD: the intersection's size, stopping at `limit` when limit > 0.
int64_t IntersectionCard(const std::vector<const SetValue*>& sets, int64_t limit) {
  int64_t n = 0;
  ForEachInIntersection(sets, [&](std::string_view) {
    ++n;
    return limit == 0 || n < limit;
  });
  return n;
}

void ReplyIntersection(const std::vector<const SetValue*>& sets, ReplyBuilder& reply) {
  std::vector<std::string> members;
  ForEachInIntersection(sets, [&](std::string_view m) {
    members.emplace_back(m);
    return true;
  });
  reply.SetHeader(members.size());
  for (const std::string& m : members) reply.Bulk(m);
}

// Redis's sunionDiffGenericCommand core. The result is built as Redis builds its dstset (an
// intset converting as members arrive, never back), so its encoding is Redis's: for SDIFF's
// second algorithm that includes first adding all of the first set, then removing.
std::unique_ptr<SetValue> UnionDiff(const std::vector<const SetValue*>& sets, SetOp op,
                                    size_t max) {
  auto dst = std::make_unique<SetValue>();
  if (op == SetOp::kUnion) {
    for (const SetValue* s : sets) {
      if (s == nullptr) continue;
      s->ForEach([&](std::string_view m) { dst->Add(m, max); });
    }
    return dst;
  }
  const SetValue* first = sets[0];
  if (first == nullptr) return dst;
  for (size_t j = 1; j < sets.size(); ++j) {
    if (sets[j] == first) return dst;  // the first key again: the difference is empty
  }
  // Algorithm 1 is O(N*M) with N the first set's size and M the number of sets; algorithm 2 is
  // O(total size). Redis gives algorithm 1 a 2x advantage.
  uint64_t algo_one_work = 0;
  uint64_t algo_two_work = 0;
  for (const SetValue* s : sets) {
    if (s == nullptr) continue;
    algo_one_work += first->size();
    algo_two_work += s->size();
  }
  algo_one_work /= 2;
  if (algo_one_work <= algo_two_work) {
    // Larger sets first: an element is likelier to be found early.
    std::vector<const SetValue*> others;
    for (size_t j = 1; j < sets.size(); ++j) {
      if (sets[j] != nullptr) others.push_back(sets[j]);
    }
    std::stable_sort(others.begin(), others.end(),
                     [](const SetValue* a, const SetValue* b) { return a->size() > b->size(); });
    first->ForEach([&](std::string_view m) {
      for (const SetValue* o : others) {
        if (o->Contains(m)) return;
      }
      dst->Add(m, max);
    });
    return dst;
  }
  first->ForEach([&](std::string_view m) { dst->Add(m, max); });
  for (size_t j = 1; j < sets.size() && !dst->empty(); ++j) {
    if (sets[j] == nullptr) continue;
    sets[j]->ForEach([&](std::string_view m) { dst->Remove(m); });
  }
  return dst;
}

void ReplyMembers(const SetValue& set, ReplyBuilder& reply) {
  reply.SetHeader(set.size());
  set.ForEach([&](std::string_view m) { reply.Bulk(m); });
}

// Replies with a temporary result's members, then frees it.
void ReplyResult(std::unique_ptr<SetValue> result, ReplyBuilder& reply) {
  ReplyMembers(*result, reply);
  Dispose(std::move(result));
}

// Looks up `keys` in order (read lookups, as Redis does for the STORE variants' sources too);
// false when one holds another type (the caller replies WRONGTYPE).
bool LookupSources(Db& db, ArgList keys, std::vector<const SetValue*>* sets) {
  sets->clear();
  for (std::string_view key : keys) {
    Entry* e = db.Lookup(key);
    if (e == nullptr) {
      sets->push_back(nullptr);
      continue;
    }
    if (!IsSet(e)) return false;
    sets->push_back(SetOf(e));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Gathering source sets from several shards for a computation on the connection's thread.

struct KeySnapshot {
  bool wrong_type = false;
  std::unique_ptr<SetValue> set;  // null when the key is missing
};

struct GatherState {
  std::vector<std::string> keys;                // sources, in argument order
  std::vector<size_t> first;                    // key index -> index of its first occurrence
  std::vector<int> shard;                       // key index -> the shard that owns it
  std::vector<size_t> slot;                     // key index -> its index in by_shard[shard]
  std::vector<std::vector<size_t>> by_shard;    // shard -> indexes into keys it owns
  std::vector<std::vector<KeySnapshot>> found;  // shard -> one snapshot per key it owns
  std::vector<size_t> max_intset;               // shard -> its set-max-intset-entries
};

// Called on the connection's thread with the gathered sources (in argument order; null =
// missing; a key given twice is the same pointer) and the shards' set-max-intset-entries.
using SourcesFn = std::function<void(const std::vector<const SetValue*>& sets, size_t max,
                                     ReplyBuilder& reply, FanOutRunner& runner)>;

// Copies the sets at `keys` from their shards, then replies WRONGTYPE when one holds another
// type, or calls fn.
void GatherSources(ClientCommand& cmd, std::vector<std::string> keys, SourcesFn fn) {
  auto st = std::make_shared<GatherState>();
  st->keys = std::move(keys);
  size_t n = st->keys.size();
  int shards = cmd.shard_count();
  st->first.resize(n);
  st->shard.resize(n);
  st->slot.resize(n);
  st->by_shard.assign(shards, {});
  st->found.resize(shards);
  st->max_intset.assign(shards, 0);
  absl::flat_hash_map<std::string, size_t> seen;
  std::vector<int> targets;
  for (size_t i = 0; i < n; ++i) {
    st->first[i] = seen.try_emplace(st->keys[i], i).first->second;
    int s = cmd.ShardOf(st->keys[i]);
    if (st->by_shard[s].empty()) targets.push_back(s);
    st->shard[i] = s;
    st->slot[i] = st->by_shard[s].size();
    st->by_shard[s].push_back(i);
  }
  for (int s : targets) st->found[s].resize(st->by_shard[s].size());
  cmd.RunOnShards(
      targets,
      [st](ShardAccess& a) {
        const std::vector<size_t>& mine = st->by_shard[a.shard_index];
        std::vector<KeySnapshot>& out = st->found[a.shard_index];
        st->max_intset[a.shard_index] = MaxIntsetEntries(a.config);
        for (size_t k = 0; k < mine.size(); ++k) {
          // A key given twice is looked up twice (statistics, as in Redis) but copied once.
          Entry* e = a.db.Lookup(st->keys[mine[k]]);
          if (e == nullptr || st->first[mine[k]] != mine[k]) continue;
          if (!IsSet(e)) {
            out[k].wrong_type = true;
          } else {
            out[k].set = Snapshot(SetOf(e));
          }
        }
      },
      [st, targets, fn = std::move(fn)](ReplyBuilder& reply, FanOutRunner& runner) {
        std::vector<const SetValue*> sets(st->keys.size(), nullptr);
        bool wrong_type = false;
        for (size_t i = 0; i < st->keys.size(); ++i) {
          size_t f = st->first[i];
          const KeySnapshot& snap = st->found[st->shard[f]][st->slot[f]];
          wrong_type = wrong_type || snap.wrong_type;
          sets[i] = snap.set.get();
        }
        if (wrong_type) {
          reply.Error(cmd::kWrongTypeErr);
        } else {
          fn(sets, st->max_intset[targets.front()], reply, runner);
        }
        for (std::vector<KeySnapshot>& shard_snaps : st->found) {
          for (KeySnapshot& snap : shard_snaps) Dispose(std::move(snap.set));
        }
      });
}

// The STORE variants' second phase: writes the result on the destination's shard.
void StoreOnShard(FanOutRunner& runner, int shard, std::string dst,
                  std::unique_ptr<SetValue> result, const char* event) {
  struct StoreState {
    std::string dst;
    std::unique_ptr<SetValue> result;
    int64_t reply = 0;
  };
  auto st = std::make_shared<StoreState>();
  st->dst = std::move(dst);
  st->result = std::move(result);
  runner.RunOnShards(
      {shard},
      [st, event](ShardAccess& a) {
        st->reply = StoreResult(a.db, st->dst, std::move(st->result), event);
      },
      [st](ReplyBuilder& reply, FanOutRunner&) { reply.Integer(st->reply); });
}

std::vector<std::string> OwnedArgs(ArgList args, size_t from) {
  return std::vector<std::string>(args.begin() + from, args.end());
}

// ---------------------------------------------------------------------------------------------
// SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS

void SAddCommand(ShardCommand& c) {
  std::string_view key = c.args[1];
  Entry* e = LookupWrite(c.db, key);
  if (e != nullptr && !IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (e == nullptr) e = StoreSet(c.db, key, SetValue::CreateFor(c.args[2]));
  SetValue* set = SetOf(e);
  size_t max = MaxIntsetEntries(c.config);
  int64_t added = 0;
  for (size_t i = 2; i < c.args.size(); ++i) added += set->Add(c.args[i], max) ? 1 : 0;
  if (added > 0) NotifyKeyspaceEvent(c, kNotifySet, "sadd", key);
  c.reply.Integer(added);
}

void SRemCommand(ShardCommand& c) {
  Entry* e = LookupWrite(c.db, c.args[1]);
  if (e == nullptr) {
    c.reply.Integer(0);
    return;
  }
  if (!IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  SetValue* set = SetOf(e);
  int64_t removed = 0;
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (!set->Remove(c.args[i])) continue;
    ++removed;
    if (set->empty()) break;
  }
  if (removed > 0) NotifyKeyspaceEvent(c, kNotifySet, "srem", c.args[1]);
  if (set->empty()) {
    c.db.Erase(c.args[1]);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "del", c.args[1]);
  }
  c.reply.Integer(removed);
}

// Read lookup of the set at args[1]: the set; or null, either because the key is missing or
// after replying WRONGTYPE (then *replied is true).
const SetValue* ReadSet(ShardCommand& c, bool* replied) {
  *replied = false;
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) return nullptr;
  if (!IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    *replied = true;
    return nullptr;
  }
  return SetOf(e);
}

void SCardCommand(ShardCommand& c) {
  bool replied = false;
  const SetValue* set = ReadSet(c, &replied);
  if (replied) return;
  c.reply.Integer(set == nullptr ? 0 : static_cast<int64_t>(set->size()));
}

void SIsMemberCommand(ShardCommand& c) {
  bool replied = false;
  const SetValue* set = ReadSet(c, &replied);
  if (replied) return;
  c.reply.Integer(set != nullptr && set->Contains(c.args[2]) ? 1 : 0);
}

void SMIsMemberCommand(ShardCommand& c) {
  bool replied = false;
  const SetValue* set = ReadSet(c, &replied);
  if (replied) return;
  c.reply.ArrayHeader(c.args.size() - 2);
  for (size_t i = 2; i < c.args.size(); ++i) {
    c.reply.Integer(set != nullptr && set->Contains(c.args[i]) ? 1 : 0);
  }
}

void SMembersCommand(ShardCommand& c) {
  bool replied = false;
  const SetValue* set = ReadSet(c, &replied);
  if (replied) return;
  if (set == nullptr) {
    c.reply.SetHeader(0);
    return;
  }
  ReplyMembers(*set, c.reply);
}

// ---------------------------------------------------------------------------------------------
// SPOP SRANDMEMBER

void SPopWithCount(ShardCommand& c) {
  int64_t count = 0;
  if (!cmd::ParseInt64(c.args[2], &count) || count < 0) {
    c.reply.Error(kMustBePositiveErr);
    return;
  }
  std::string_view key = c.args[1];
  Entry* e = LookupWrite(c.db, key);
  if (e == nullptr) {
    c.reply.SetHeader(0);
    return;
  }
  if (!IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (count == 0) {
    c.reply.SetHeader(0);
    return;
  }
  SetValue* set = SetOf(e);
  size_t max = MaxIntsetEntries(c.config);
  uint64_t size = set->size();
  uint64_t n = static_cast<uint64_t>(count);
  NotifyKeyspaceEvent(c, kNotifySet, "spop", key);
  if (n >= size) {
    // The whole set, replied as Redis does: through a union of the one set (whose read lookup
    // counts a keyspace hit).
    c.db.Lookup(key);
    ReplyResult(UnionDiff({set}, SetOp::kUnion, max), c.reply);
    c.db.Erase(key);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "del", key);
    return;
  }
  uint64_t remaining = size - n;
  c.reply.SetHeader(n);
  if (remaining * kSpopMoveStrategyMul > n) {
    for (uint64_t i = 0; i < n; ++i) c.reply.Bulk(set->RemoveAt(c.shard.Random() % set->size()));
    return;
  }
  // Most of the set goes: pick the members that stay into a new set (which may be an intset
  // again, as in Redis), reply with the rest and keep the key's TTL.
  std::unique_ptr<SetValue> kept;
  for (uint64_t i = 0; i < remaining; ++i) {
    std::string m = set->RemoveAt(c.shard.Random() % set->size());
    if (kept == nullptr) kept = SetValue::CreateFor(m);
    kept->Add(m, max);
  }
  set->ForEach([&](std::string_view m) { c.reply.Bulk(m); });
  c.db.Assign(e, Value::OfCollection(ValueType::kSet, std::move(kept)));
}

void SPopCommand(ShardCommand& c) {
  if (c.args.size() > 3) {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  if (c.args.size() == 3) {
    SPopWithCount(c);
    return;
  }
  Entry* e = LookupWrite(c.db, c.args[1]);
  if (e == nullptr) {
    c.reply.Null();
    return;
  }
  if (!IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  SetValue* set = SetOf(e);
  c.reply.Bulk(set->RemoveAt(c.shard.Random() % set->size()));
  NotifyKeyspaceEvent(c, kNotifySet, "spop", c.args[1]);
  if (set->empty()) {
    c.db.Erase(c.args[1]);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "del", c.args[1]);
  }
}

// `count` distinct indexes below `size` (count < size), in random order.
std::vector<size_t> DistinctIndexes(ShardData& shard, size_t size, size_t count) {
  std::vector<size_t> out;
  if (count * kSrandmemberSubStrategyMul > size) {
    // A large share of the set: a partial Fisher-Yates shuffle of all indexes.
    out.resize(size);
    for (size_t i = 0; i < size; ++i) out[i] = i;
    for (size_t i = 0; i < count; ++i) {
      size_t j = i + shard.Random() % (size - i);
      std::swap(out[i], out[j]);
    }
    out.resize(count);
    return out;
  }
  absl::flat_hash_set<size_t> seen;
  out.reserve(count);
  while (out.size() < count) {
    size_t i = shard.Random() % size;
    if (seen.insert(i).second) out.push_back(i);
  }
  return out;
}

void SRandMemberWithCount(ShardCommand& c) {
  int64_t l = 0;
  if (!cmd::ParseInt64(c.args[2], &l)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (l == INT64_MIN) {
    c.reply.Error(kRandCountRangeErr);
    return;
  }
  bool distinct = l >= 0;
  uint64_t count = static_cast<uint64_t>(distinct ? l : -l);
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.ArrayHeader(0);
    return;
  }
  if (!IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (count == 0) {
    c.reply.ArrayHeader(0);
    return;
  }
  const SetValue* set = SetOf(e);
  uint64_t size = set->size();
  if (!distinct || count == 1) {
    c.reply.ArrayHeader(count);
    for (uint64_t i = 0; i < count; ++i) c.reply.Bulk(set->MemberAt(c.shard.Random() % size));
    return;
  }
  if (count >= size) {
    c.reply.ArrayHeader(size);
    set->ForEach([&](std::string_view m) { c.reply.Bulk(m); });
    return;
  }
  c.reply.ArrayHeader(count);
  for (size_t i : DistinctIndexes(c.shard, size, count)) c.reply.Bulk(set->MemberAt(i));
}

void SRandMemberCommand(ShardCommand& c) {
  if (c.args.size() > 3) {
    c.reply.Error(cmd::kSyntaxErr);
    return;
  }
  if (c.args.size() == 3) {
    SRandMemberWithCount(c);
    return;
  }
  bool replied = false;
  const SetValue* set = ReadSet(c, &replied);
  if (replied) return;
  if (set == nullptr) {
    c.reply.Null();
    return;
  }
  c.reply.Bulk(set->MemberAt(c.shard.Random() % set->size()));
}

// ---------------------------------------------------------------------------------------------
// SMOVE source destination member

void SMoveOnShard(ShardCommand& c) {
  std::string_view src_key = c.args[1];
  std::string_view dst_key = c.args[2];
  std::string_view member = c.args[3];
  Entry* src = LookupWrite(c.db, src_key);
  Entry* dst = LookupWrite(c.db, dst_key);
  if (src == nullptr) {
    c.reply.Integer(0);
    return;
  }
  if (!IsSet(src) || (dst != nullptr && !IsSet(dst))) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (src == dst) {
    c.reply.Integer(SetOf(src)->Contains(member) ? 1 : 0);
    return;
  }
  // Entries move when a key is erased or created: keep the sets (which do not move) instead.
  SetValue* src_set = SetOf(src);
  SetValue* dst_set = dst != nullptr ? SetOf(dst) : nullptr;
  if (!src_set->Remove(member)) {
    c.reply.Integer(0);
    return;
  }
  NotifyKeyspaceEvent(c, kNotifySet, "srem", src_key);
  if (src_set->empty()) {
    c.db.Erase(src_key);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "del", src_key);
  }
  if (dst_set == nullptr) dst_set = SetOf(StoreSet(c.db, dst_key, SetValue::CreateFor(member)));
  if (dst_set->Add(member, MaxIntsetEntries(c.config))) {
    NotifyKeyspaceEvent(c, kNotifySet, "sadd", dst_key);
  }
  c.reply.Integer(1);
}

// Source and destination on different shards, in phases: check both keys (in parallel) ->
// remove from the source -> add to the destination -> [the destination stopped being a set
// meanwhile: put the member back into the source]. The member is never dropped while either
// key still holds a set.
struct SMoveState {
  enum Kind : uint8_t { kMissing, kSet, kWrongType };
  std::string src;
  std::string dst;
  std::string member;
  int src_shard = 0;
  int dst_shard = 0;
  Kind src_kind = kMissing;  // written by the source shard
  bool has_member = false;   // written by the source shard
  Kind dst_kind = kMissing;  // written by the destination shard
  bool removed = false;
  bool stored = false;
};

SMoveState::Kind KindOf(const Entry* e) {
  if (e == nullptr) return SMoveState::kMissing;
  return IsSet(e) ? SMoveState::kSet : SMoveState::kWrongType;
}

// Adds the member to the set at key (creating it); false when key holds another type.
bool AddMember(ShardAccess& a, const std::string& key, const std::string& member) {
  Entry* e = LookupWrite(a.db, key);
  if (e != nullptr && !IsSet(e)) return false;
  if (e == nullptr) e = StoreSet(a.db, key, SetValue::CreateFor(member));
  if (SetOf(e)->Add(member, MaxIntsetEntries(a.config))) a.db.Notify(kNotifySet, "sadd", key);
  return true;
}

void SMoveAdd(std::shared_ptr<SMoveState> st, FanOutRunner& runner) {
  runner.RunOnShards(
      {st->dst_shard}, [st](ShardAccess& a) { st->stored = AddMember(a, st->dst, st->member); },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->stored) {
          reply.Integer(1);
          return;
        }
        runner.RunOnShards(
            {st->src_shard}, [st](ShardAccess& a) { AddMember(a, st->src, st->member); },
            [](ReplyBuilder& reply, FanOutRunner&) { reply.Error(cmd::kWrongTypeErr); });
      });
}

void SMoveOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<SMoveState>();
  st->src = std::string(cmd.args[1]);
  st->dst = std::string(cmd.args[2]);
  st->member = std::string(cmd.args[3]);
  st->src_shard = cmd.ShardOf(st->src);
  st->dst_shard = cmd.ShardOf(st->dst);
  cmd.RunOnShards(
      {st->src_shard, st->dst_shard},
      [st](ShardAccess& a) {
        if (a.shard_index == st->src_shard) {
          Entry* e = LookupWrite(a.db, st->src);
          st->src_kind = KindOf(e);
          st->has_member = st->src_kind == SMoveState::kSet && SetOf(e)->Contains(st->member);
        } else {
          st->dst_kind = KindOf(LookupWrite(a.db, st->dst));
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->src_kind == SMoveState::kMissing) {
          reply.Integer(0);
          return;
        }
        if (st->src_kind == SMoveState::kWrongType || st->dst_kind == SMoveState::kWrongType) {
          reply.Error(cmd::kWrongTypeErr);
          return;
        }
        if (!st->has_member) {
          reply.Integer(0);
          return;
        }
        runner.RunOnShards(
            {st->src_shard},
            [st](ShardAccess& a) {
              Entry* e = LookupWrite(a.db, st->src);
              if (e == nullptr || !IsSet(e) || !SetOf(e)->Remove(st->member)) return;
              st->removed = true;
              a.db.Notify(kNotifySet, "srem", st->src);
              if (SetOf(e)->empty()) {
                a.db.Erase(st->src);
                a.db.Notify(kNotifyGeneric, "del", st->src);
              }
            },
            [st](ReplyBuilder& reply, FanOutRunner& runner) {
              if (!st->removed) {
                reply.Integer(0);  // removed by someone else meanwhile
                return;
              }
              SMoveAdd(st, runner);
            });
      });
}

// ---------------------------------------------------------------------------------------------
// SINTER SUNION SDIFF and their STORE variants, SINTERCARD

void SInterOnShard(ShardCommand& c) {
  std::vector<const SetValue*> sets;
  if (!LookupSources(c.db, c.args.subspan(1), &sets)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  ReplyIntersection(sets, c.reply);
}

void SInterOnClient(ClientCommand& cmd) {
  GatherSources(cmd, OwnedArgs(cmd.args, 1),
                [](const std::vector<const SetValue*>& sets, size_t, ReplyBuilder& reply,
                   FanOutRunner&) { ReplyIntersection(sets, reply); });
}

void SInterStoreOnShard(ShardCommand& c) {
  std::vector<const SetValue*> sets;
  if (!LookupSources(c.db, c.args.subspan(2), &sets)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  auto result = IntersectionSet(sets, MaxIntsetEntries(c.config));
  c.reply.Integer(StoreResult(c.db, c.args[1], std::move(result), "sinterstore"));
}

void SInterStoreOnClient(ClientCommand& cmd) {
  std::string dst(cmd.args[1]);
  int dst_shard = cmd.ShardOf(dst);
  GatherSources(cmd, OwnedArgs(cmd.args, 2),
                [dst, dst_shard](const std::vector<const SetValue*>& sets, size_t max,
                                 ReplyBuilder&, FanOutRunner& runner) {
                  StoreOnShard(runner, dst_shard, dst, IntersectionSet(sets, max), "sinterstore");
                });
}

constexpr const char* StoreEvent(SetOp op) {
  return op == SetOp::kUnion ? "sunionstore" : "sdiffstore";
}

template <SetOp kOp>
void UnionDiffOnShard(ShardCommand& c) {
  std::vector<const SetValue*> sets;
  if (!LookupSources(c.db, c.args.subspan(1), &sets)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  ReplyResult(UnionDiff(sets, kOp, MaxIntsetEntries(c.config)), c.reply);
}

template <SetOp kOp>
void UnionDiffOnClient(ClientCommand& cmd) {
  GatherSources(cmd, OwnedArgs(cmd.args, 1),
                [](const std::vector<const SetValue*>& sets, size_t max, ReplyBuilder& reply,
                   FanOutRunner&) { ReplyResult(UnionDiff(sets, kOp, max), reply); });
}

template <SetOp kOp>
void UnionDiffStoreOnShard(ShardCommand& c) {
  std::vector<const SetValue*> sets;
  if (!LookupSources(c.db, c.args.subspan(2), &sets)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  auto result = UnionDiff(sets, kOp, MaxIntsetEntries(c.config));
  c.reply.Integer(StoreResult(c.db, c.args[1], std::move(result), StoreEvent(kOp)));
}

template <SetOp kOp>
void UnionDiffStoreOnClient(ClientCommand& cmd) {
  std::string dst(cmd.args[1]);
  int dst_shard = cmd.ShardOf(dst);
  GatherSources(cmd, OwnedArgs(cmd.args, 2),
                [dst, dst_shard](const std::vector<const SetValue*>& sets, size_t max,
                                 ReplyBuilder&, FanOutRunner& runner) {
                  StoreOnShard(runner, dst_shard, dst, UnionDiff(sets, kOp, max), StoreEvent(kOp));
                });
}

// SINTERCARD's keys (numkeys at 1), for the coordination of its keys when they span shards.
void SInterCardKeys(ArgList args, std::vector<int>* positions) {
  int64_t n = 0;
  if (args.size() < 3 || !cmd::ParseInt64(args[1], &n) || n < 1 ||
      static_cast<uint64_t>(n) > args.size() - 2) {
    return;
  }
  for (int64_t i = 0; i < n; ++i) positions->push_back(static_cast<int>(2 + i));
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]. Its keys are movable, so the dispatcher always
// runs it here; it runs on the keys' shard when they share one.
void SInterCardCommand(ClientCommand& cmd) {
  int64_t numkeys = 0;
  if (!cmd::ParseInt64(cmd.args[1], &numkeys) || numkeys < 1) {
    cmd.reply.Error(kNumkeysErr);
    return;
  }
  if (numkeys > static_cast<int64_t>(cmd.args.size()) - 2) {
    cmd.reply.Error(kTooManyKeysErr);
    return;
  }
  int64_t limit = 0;
  for (size_t j = 2 + numkeys; j < cmd.args.size(); ++j) {
    bool more = j + 1 < cmd.args.size();
    if (cmd::EqualsIgnoreCase(cmd.args[j], "limit") && more) {
      ++j;
      if (!cmd::ParseInt64(cmd.args[j], &limit) || limit < 0) {
        cmd.reply.Error(kLimitErr);
        return;
      }
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  std::vector<std::string> keys(cmd.args.begin() + 2, cmd.args.begin() + 2 + numkeys);
  int shard = cmd.ShardOf(keys[0]);
  bool one_shard = true;
  for (const std::string& k : keys) one_shard = one_shard && cmd.ShardOf(k) == shard;
  if (!one_shard) {
    GatherSources(cmd, std::move(keys),
                  [limit](const std::vector<const SetValue*>& sets, size_t, ReplyBuilder& reply,
                          FanOutRunner&) { reply.Integer(IntersectionCard(sets, limit)); });
    return;
  }
  struct CardState {
    std::vector<std::string> keys;
    bool wrong_type = false;
    int64_t card = 0;
  };
  auto st = std::make_shared<CardState>();
  st->keys = std::move(keys);
  cmd.RunOnShards(
      {shard},
      [st, limit](ShardAccess& a) {
        std::vector<std::string_view> views(st->keys.begin(), st->keys.end());
        std::vector<const SetValue*> sets;
        if (!LookupSources(a.db, views, &sets)) {
          st->wrong_type = true;
          return;
        }
        st->card = IntersectionCard(sets, limit);
      },
      [st](ReplyBuilder& reply, FanOutRunner&) {
        if (st->wrong_type) {
          reply.Error(cmd::kWrongTypeErr);
        } else {
          reply.Integer(st->card);
        }
      });
}

// ---------------------------------------------------------------------------------------------
// SSCAN key cursor [MATCH pattern] [COUNT count]

// Redis's parseScanCursorOrReply: strtoul rules (a sign is accepted, "-1" wraps), no leading
// space, the whole argument, no overflow.
bool ParseScanCursor(std::string_view s, uint64_t* cursor) {
  std::string buf(s);
  if (!buf.empty() && std::isspace(static_cast<unsigned char>(buf[0]))) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *cursor = v;
  return true;
}

void SScanCommand(ShardCommand& c) {
  uint64_t cursor = 0;
  if (!ParseScanCursor(c.args[2], &cursor)) {
    c.reply.Error(kInvalidCursorErr);
    return;
  }
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.ArrayHeader(2);
    c.reply.Bulk("0");
    c.reply.ArrayHeader(0);
    return;
  }
  if (!IsSet(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < c.args.size(); i += 2) {
    bool has_value = i + 1 < c.args.size();
    if (cmd::EqualsIgnoreCase(c.args[i], "count") && has_value) {
      if (!cmd::ParseInt64(c.args[i + 1], &count)) {
        c.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (count < 1) {
        c.reply.Error(cmd::kSyntaxErr);
        return;
      }
    } else if (cmd::EqualsIgnoreCase(c.args[i], "match") && has_value) {
      pattern = c.args[i + 1];
      use_pattern = pattern != "*";
    } else {
      c.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  const SetValue* set = SetOf(e);
  std::vector<std::string> found;
  auto collect = [&](std::string_view m) { found.emplace_back(m); };
  if (set->is_intset()) {
    cursor = set->Scan(cursor, collect);
  } else {
    // Redis stops after count * 10 buckets even when they were empty.
    int64_t max_iterations = count > INT64_MAX / 10 ? INT64_MAX : count * 10;
    do {
      cursor = set->Scan(cursor, collect);
    } while (cursor != 0 && max_iterations-- > 0 && found.size() < static_cast<uint64_t>(count));
  }
  if (use_pattern) {
    std::erase_if(found, [&](const std::string& m) { return !GlobMatch(pattern, m); });
  }
  c.reply.ArrayHeader(2);
  c.reply.Bulk(std::to_string(cursor));
  c.reply.ArrayHeader(found.size());
  for (const std::string& m : found) c.reply.Bulk(m);
}

}  // namespace

void RegisterSetCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kF = kCmdFast;
  constexpr uint32_t kD = kCmdDenyOom;
  constexpr std::string_view kWriteFast = "@write @set @fast";
  constexpr std::string_view kReadFast = "@read @set @fast";
  constexpr std::string_view kReadSlow = "@read @set @slow";
  constexpr std::string_view kWriteSlow = "@write @set @slow";
  std::vector<CommandSpec> specs = {
      {"sadd", -3, kW | kD | kF, 1, 1, 1, kWriteFast, "set", "Add one or more members to a set",
       "1.0.0", SAddCommand},
      {"srem", -3, kW | kF, 1, 1, 1, kWriteFast, "set", "Remove one or more members from a set",
       "1.0.0", SRemCommand},
      {"scard", 2, kR | kF, 1, 1, 1, kReadFast, "set", "Get the number of members in a set",
       "1.0.0", SCardCommand},
      {"sismember", 3, kR | kF, 1, 1, 1, kReadFast, "set",
       "Determine if a given value is a member of a set", "1.0.0", SIsMemberCommand},
      {"smismember", -3, kR | kF, 1, 1, 1, kReadFast, "set",
       "Returns the membership associated with the given elements for a set", "6.2.0",
       SMIsMemberCommand},
      {"smembers", 2, kR, 1, 1, 1, kReadSlow, "set", "Get all the members in a set", "1.0.0",
       SMembersCommand},
      {"spop", -2, kW | kF, 1, 1, 1, kWriteFast, "set",
       "Remove and return one or multiple random members from a set", "1.0.0", SPopCommand},
      {"srandmember", -2, kR, 1, 1, 1, kReadSlow, "set",
       "Get one or multiple random members from a set", "1.0.0", SRandMemberCommand},
      {"smove", 4, kW | kF, 1, 2, 1, kWriteFast, "set", "Move a member from one set to another",
       "1.0.0", SMoveOnShard, SMoveOnClient},
      {"sinter", -2, kR, 1, -1, 1, kReadSlow, "set", "Intersect multiple sets", "1.0.0",
       SInterOnShard, SInterOnClient},
      {"sintercard", -3, kR | kCmdMovableKeys, 0, 0, 0, kReadSlow, "set",
       "Intersect multiple sets and return the cardinality of the result", "7.0.0", nullptr,
       SInterCardCommand, SInterCardKeys},
      {"sunion", -2, kR, 1, -1, 1, kReadSlow, "set", "Add multiple sets", "1.0.0",
       UnionDiffOnShard<SetOp::kUnion>, UnionDiffOnClient<SetOp::kUnion>},
      {"sdiff", -2, kR, 1, -1, 1, kReadSlow, "set", "Subtract multiple sets", "1.0.0",
       UnionDiffOnShard<SetOp::kDiff>, UnionDiffOnClient<SetOp::kDiff>},
      {"sinterstore", -3, kW | kD, 1, -1, 1, kWriteSlow, "set",
       "Intersect multiple sets and store the resulting set in a key", "1.0.0", SInterStoreOnShard,
       SInterStoreOnClient},
      {"sunionstore", -3, kW | kD, 1, -1, 1, kWriteSlow, "set",
       "Add multiple sets and store the resulting set in a key", "1.0.0",
       UnionDiffStoreOnShard<SetOp::kUnion>, UnionDiffStoreOnClient<SetOp::kUnion>},
      {"sdiffstore", -3, kW | kD, 1, -1, 1, kWriteSlow, "set",
       "Subtract multiple sets and store the resulting set in a key", "1.0.0",
       UnionDiffStoreOnShard<SetOp::kDiff>, UnionDiffStoreOnClient<SetOp::kDiff>},
      {"sscan", -3, kR, 1, 1, 1, kReadSlow, "set", "Incrementally iterate Set elements", "2.8.0",
       SScanCommand},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
