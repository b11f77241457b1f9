// The list commands (LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
// LTRIM LPOS LMOVE RPOPLPUSH LMPOP) and the blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP)
// with redis-server 7.0's semantics, reply shapes (RESP2 and RESP3) and error texts. Values are
// ListValue (storage/list_value.h).
//
// on_shard handlers run on the thread of the shard that owns the keys. LMOVE/RPOPLPUSH and LMPOP
// may name keys of several shards: their on_client handlers run on the connection's thread and
// work in chained phases, one shard at a time (a move checks both keys, pops on the source's
// shard, then pushes on the destination's, putting the element back if the push cannot happen;
// LMPOP probes the keys, then pops from the first that has elements). Not atomic across shards.
// Their tasks bump the WATCH version of the keys they modify (Db::Touch), which the dispatcher
// does for on_shard writes.
// The blocking commands need all their keys on one shard (no on_client: the dispatcher answers
// CROSSSLOT otherwise); when nothing can be served they park with ShardCommand::Block and are
// re-run, first come first served, when a key they wait on is created.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/list_value.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

constexpr std::string_view kGroup = "list";
constexpr std::string_view kMustBePositiveErr = "ERR value is out of range, must be positive";
constexpr std::string_view kIndexOutOfRangeErr = "ERR index out of range";
constexpr std::string_view kElementTooLargeErr = "ERR Element too large";
constexpr std::string_view kRankZeroErr =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list";
constexpr std::string_view kCountNegativeErr = "ERR COUNT can't be negative";
constexpr std::string_view kMaxlenNegativeErr = "ERR MAXLEN can't be negative";
constexpr std::string_view kNumkeysErr = "ERR numkeys should be greater than 0";
constexpr std::string_view kCountPositiveErr = "ERR count should be greater than 0";
// Redis's LIST_MAX_ITEM_SIZE.
constexpr size_t kListMaxItemSize = (size_t{1} << 32) - 1024;

// ---------------------------------------------------------------------------------------------
// Lookups and storage, after Redis's lookupKeyRead / lookupKeyWrite.

void Touch(Db& db, Entry* e) { e->set_access_time(db.now_ms()); }

// lookupKeyWrite: no hit/miss statistics, updates the access time.
Entry* FindForWrite(Db& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e != nullptr) Touch(db, e);
  return e;
}

bool IsList(const Entry* e) { return e->type() == ValueType::kList; }

ListValue* ListOf(const Entry* e) { return e->As<ListValue>(); }

// The list at key for a write, with the current node size setting; null when absent or of
// another type (*wrong_type tells which).
ListValue* WritableList(Db& db, const Config& config, std::string_view key, bool* wrong_type) {
  *wrong_type = false;
  Entry* e = FindForWrite(db, key);
  if (e == nullptr) return nullptr;
  if (!IsList(e)) {
    *wrong_type = true;
    return nullptr;
  }
  ListValue* l = ListOf(e);
  l->set_fill(config.list_max_listpack_size);
  return l;
}

// Creates an empty list at key (which must be absent). Creating a key wakes clients blocked on
// it (Db signals it), once the command is done.
ListValue* CreateList(Db& db, const Config& config, std::string_view key) {
  bool inserted = false;
  Entry* e = db.FindOrInsert(key, &inserted);
  db.Assign(e, Value::OfCollection(ValueType::kList,
                                   std::make_unique<ListValue>(config.list_max_listpack_size)));
  Touch(db, e);
  return ListOf(e);
}

// A list left empty by a command is deleted (Redis never keeps empty lists), with a "del" event
// after the command's own.
void DeleteIfEmpty(Db& db, std::string_view key, const ListValue* l) {
  if (!l->empty()) return;
  db.Erase(key);
  db.Notify(kNotifyGeneric, "del", key);
}

const char* PopEvent(bool front) { return front ? "lpop" : "rpop"; }
const char* PushEvent(bool front) { return front ? "lpush" : "rpush"; }

void Push(ListValue* l, std::string_view value, bool front) {
  if (front) {
    l->PushFront(value);
  } else {
    l->PushBack(value);
  }
}

std::string Pop(ListValue* l, bool front) {
  std::string out;
  if (front) {
    l->PopFront(&out);
  } else {
    l->PopBack(&out);
  }
  return out;
}

// LEFT / RIGHT (Redis's getListPositionFromObjectOrReply); true for LEFT.
bool ParseWhere(std::string_view arg, bool* left) {
  if (cmd::EqualsIgnoreCase(arg, "left")) {
    *left = true;
  } else if (cmd::EqualsIgnoreCase(arg, "right")) {
    *left = false;
  } else {
    return false;
  }
  return true;
}

// Resolves a Redis index (negative counts from the tail) to a position; false when out of range.
bool ResolveIndex(const ListValue* l, int64_t index, size_t* out) {
  size_t size = l->size();
  if (index >= 0) {
    if (static_cast<uint64_t>(index) >= size) return false;
    *out = static_cast<size_t>(index);
    return true;
  }
  uint64_t from_tail = static_cast<uint64_t>(-(index + 1));
  if (from_tail >= size) return false;
  *out = size - 1 - static_cast<size_t>(from_tail);
  return true;
}

// Replies `count` elements popped from one end, as Redis's addListRangeReply + delete.
void PopRangeReply(ReplyBuilder& reply, ListValue* l, bool front, uint64_t count) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(count, l->size()));
  reply.ArrayHeader(n);
  for (size_t i = 0; i < n; ++i) {
    if (front) {
      reply.Bulk(l->Front());
      l->PopFront();
    } else {
      reply.Bulk(l->Back());
      l->PopBack();
    }
  }
}

// The deadline as absolute ms (0 = forever); replies the error and returns false when the
// argument is not acceptable.
bool ParseTimeout(ShardCommand& cmd, std::string_view arg, int64_t* deadline_ms) {
  std::string_view error = cmd::ParseBlockTimeout(arg, cmd.now_ms(), deadline_ms);
  if (!error.empty()) cmd.reply.Error(error);
  return error.empty();
}

std::vector<std::string> UniqueKeys(ArgList keys) {
  std::vector<std::string> out;
  for (std::string_view k : keys) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.emplace_back(k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A reply computed on a shard and written on the connection's thread (cross-shard commands).

struct Outcome {
  enum class Kind : uint8_t { kNull, kNullArray, kBulk, kError, kKeyAndElements };
  Kind kind = Kind::kNull;
  std::string str;  // bulk, error text, or the key
  std::vector<std::string> elements;

  void WriteTo(ReplyBuilder& reply) const {
    switch (kind) {
      case Kind::kNull:
        reply.Null();
        break;
      case Kind::kNullArray:
        reply.NullArray();
        break;
      case Kind::kBulk:
        reply.Bulk(str);
        break;
      case Kind::kError:
        reply.Error(str);
        break;
      case Kind::kKeyAndElements:
        reply.ArrayHeader(2);
        reply.Bulk(str);
        reply.ArrayHeader(elements.size());
        for (const std::string& e : elements) reply.Bulk(e);
        break;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// LPUSH RPUSH LPUSHX RPUSHX

template <bool kFront, bool kOnlyExisting>
void PushCommand(ShardCommand& cmd) {
  for (size_t j = 2; j < cmd.args.size(); ++j) {
    if (cmd.args[j].size() > kListMaxItemSize) {
      cmd.reply.Error(kElementTooLargeErr);
      return;
    }
  }
  bool wrong_type = false;
  ListValue* l = WritableList(cmd.db, cmd.config, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (l == nullptr) {
    if (kOnlyExisting) {
      cmd.reply.Integer(0);
      return;
    }
    l = CreateList(cmd.db, cmd.config, cmd.args[1]);
  }
  for (size_t j = 2; j < cmd.args.size(); ++j) Push(l, cmd.args[j], kFront);
  NotifyKeyspaceEvent(cmd, kNotifyList, PushEvent(kFront), cmd.args[1]);
  cmd.reply.Integer(static_cast<int64_t>(l->size()));
}

// ---------------------------------------------------------------------------------------------
// LPOP RPOP key [count]

template <bool kFront>
void PopCommand(ShardCommand& cmd) {
  if (cmd.args.size() > 3) {
    cmd.reply.Error(ArityError(cmd.args[0]));
    return;
  }
  bool has_count = cmd.args.size() == 3;
  int64_t count = 0;
  if (has_count && (!cmd::ParseInt64(cmd.args[2], &count) || count < 0)) {
    cmd.reply.Error(kMustBePositiveErr);
    return;
  }
  bool wrong_type = false;
  ListValue* l = WritableList(cmd.db, cmd.config, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (l == nullptr) {
    if (has_count) {
      cmd.reply.NullArray();
    } else {
      cmd.reply.Null();
    }
    return;
  }
  if (has_count && count == 0) {
    cmd.reply.ArrayHeader(0);
    return;
  }
  if (!has_count) {
    cmd.reply.Bulk(kFront ? l->Front() : l->Back());
    if (kFront) {
      l->PopFront();
    } else {
      l->PopBack();
    }
  } else {
    PopRangeReply(cmd.reply, l, kFront, static_cast<uint64_t>(count));
  }
  NotifyKeyspaceEvent(cmd, kNotifyList, PopEvent(kFront), cmd.args[1]);
  DeleteIfEmpty(cmd.db, cmd.args[1], l);
}

// ---------------------------------------------------------------------------------------------
// LLEN LINDEX LRANGE LPOS (reads: lookupKeyRead, with hit/miss statistics)

// The list at key for a read (null when absent); for another type it replies WRONGTYPE and sets
// *wrong_type.
const ListValue* ReadableList(ShardCommand& cmd, bool* wrong_type) {
  *wrong_type = false;
  Entry* e = cmd.db.Lookup(cmd.args[1]);
  if (e == nullptr) return nullptr;
  if (!IsList(e)) {
    *wrong_type = true;
    cmd.reply.Error(cmd::kWrongTypeErr);
    return nullptr;
  }
  return ListOf(e);
}

void LlenCommand(ShardCommand& cmd) {
  bool wrong_type = false;
  const ListValue* l = ReadableList(cmd, &wrong_type);
  if (wrong_type) return;
  cmd.reply.Integer(l == nullptr ? 0 : static_cast<int64_t>(l->size()));
}

void LindexCommand(ShardCommand& cmd) {
  bool wrong_type = false;
  const ListValue* l = ReadableList(cmd, &wrong_type);
  if (wrong_type) return;
  if (l == nullptr) {
    cmd.reply.Null();
    return;
  }
  int64_t index = 0;
  if (!cmd::ParseInt64(cmd.args[2], &index)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  size_t pos = 0;
  if (!ResolveIndex(l, index, &pos)) {
    cmd.reply.Null();
    return;
  }
  cmd.reply.Bulk(l->At(pos));
}

void LrangeCommand(ShardCommand& cmd) {
  int64_t start = 0;
  int64_t end = 0;
  if (!cmd::ParseInt64(cmd.args[2], &start) || !cmd::ParseInt64(cmd.args[3], &end)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  bool wrong_type = false;
  const ListValue* l = ReadableList(cmd, &wrong_type);
  if (wrong_type) return;
  if (l == nullptr) {
    cmd.reply.ArrayHeader(0);
    return;
  }
  int64_t llen = static_cast<int64_t>(l->size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) {
    cmd.reply.ArrayHeader(0);
    return;
  }
  if (end >= llen) end = llen - 1;
  int64_t n = end - start + 1;
  cmd.reply.ArrayHeader(static_cast<size_t>(n));
  ListValue::Iterator it = l->IteratorAt(static_cast<size_t>(start));
  for (int64_t i = 0; i < n; ++i, it.Next()) cmd.reply.Bulk(it.value());
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void LposCommand(ShardCommand& cmd) {
  std::string_view element = cmd.args[2];
  int64_t rank = 1;
  int64_t count = -1;  // -1: no COUNT option
  int64_t maxlen = 0;
  for (size_t j = 3; j < cmd.args.size(); ++j) {
    std::string_view opt = cmd.args[j];
    bool more = j + 1 < cmd.args.size();
    if (cmd::EqualsIgnoreCase(opt, "rank") && more) {
      if (!cmd::ParseInt64(cmd.args[++j], &rank)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (rank == 0) {
        cmd.reply.Error(kRankZeroErr);
        return;
      }
    } else if (cmd::EqualsIgnoreCase(opt, "count") && more) {
      if (!cmd::ParseInt64(cmd.args[++j], &count) || count < 0) {
        cmd.reply.Error(kCountNegativeErr);
        return;
      }
    } else if (cmd::EqualsIgnoreCase(opt, "maxlen") && more) {
      if (!cmd::ParseInt64(cmd.args[++j], &maxlen) || maxlen < 0) {
        cmd.reply.Error(kMaxlenNegativeErr);
        return;
      }
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  // A negative rank searches from the tail. As in Redis (two's complement wrap), -INT64_MIN
  // stays INT64_MIN, which every match satisfies and which never ends a COUNT early.
  bool from_tail = rank < 0;
  if (from_tail) rank = static_cast<int64_t>(0 - static_cast<uint64_t>(rank));
  Entry* e = cmd.db.Lookup(cmd.args[1]);
  if (e == nullptr) {
    if (count != -1) {
      cmd.reply.ArrayHeader(0);
    } else {
      cmd.reply.Null();
    }
    return;
  }
  if (!IsList(e)) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  const ListValue* l = ListOf(e);
  int64_t llen = static_cast<int64_t>(l->size());
  std::vector<int64_t> found;
  int64_t matches = 0;
  int64_t match_index = -1;
  int64_t index = 0;
  ListValue::Iterator it = l->IteratorAt(from_tail ? l->size() - 1 : 0);
  for (; it.Valid() && (maxlen == 0 || index < maxlen); ++index) {
    if (it.value() == element) {
      ++matches;
      match_index = from_tail ? llen - index - 1 : index;
      if (matches >= rank) {
        if (count == -1) break;
        found.push_back(match_index);
        int64_t served =
            static_cast<int64_t>(static_cast<uint64_t>(matches) - static_cast<uint64_t>(rank) + 1);
        if (count != 0 && served >= count) break;
      }
    }
    match_index = -1;
    if (from_tail) {
      it.Prev();
    } else {
      it.Next();
    }
  }
  if (count != -1) {
    cmd.reply.ArrayHeader(found.size());
    for (int64_t i : found) cmd.reply.Integer(i);
  } else if (match_index != -1) {
    cmd.reply.Integer(match_index);
  } else {
    cmd.reply.Null();
  }
}

// ---------------------------------------------------------------------------------------------
// LSET LINSERT LREM LTRIM

void LsetCommand(ShardCommand& cmd) {
  bool wrong_type = false;
  ListValue* l = WritableList(cmd.db, cmd.config, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (l == nullptr) {
    cmd.reply.Error(cmd::kNoSuchKeyErr);
    return;
  }
  int64_t index = 0;
  if (!cmd::ParseInt64(cmd.args[2], &index)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (cmd.args[3].size() > kListMaxItemSize) {
    cmd.reply.Error(kElementTooLargeErr);
    return;
  }
  size_t pos = 0;
  if (!ResolveIndex(l, index, &pos)) {
    cmd.reply.Error(kIndexOutOfRangeErr);
    return;
  }
  l->Set(pos, cmd.args[3]);
  NotifyKeyspaceEvent(cmd, kNotifyList, "lset", cmd.args[1]);
  cmd.reply.Ok();
}

// LINSERT key BEFORE|AFTER pivot element
void LinsertCommand(ShardCommand& cmd) {
  bool after = false;
  if (cmd::EqualsIgnoreCase(cmd.args[2], "after")) {
    after = true;
  } else if (!cmd::EqualsIgnoreCase(cmd.args[2], "before")) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  if (cmd.args[4].size() > kListMaxItemSize) {
    cmd.reply.Error(kElementTooLargeErr);
    return;
  }
  bool wrong_type = false;
  ListValue* l = WritableList(cmd.db, cmd.config, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (l == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  int64_t pivot = l->Find(cmd.args[3]);
  if (pivot < 0) {
    cmd.reply.Integer(-1);
    return;
  }
  l->Insert(static_cast<size_t>(pivot) + (after ? 1 : 0), cmd.args[4]);
  NotifyKeyspaceEvent(cmd, kNotifyList, "linsert", cmd.args[1]);
  cmd.reply.Integer(static_cast<int64_t>(l->size()));
}

void LremCommand(ShardCommand& cmd) {
  int64_t count = 0;
  if (!cmd::ParseInt64(cmd.args[2], &count)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  bool wrong_type = false;
  ListValue* l = WritableList(cmd.db, cmd.config, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (l == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  size_t removed = l->Remove(cmd.args[3], count);
  if (removed > 0) NotifyKeyspaceEvent(cmd, kNotifyList, "lrem", cmd.args[1]);
  DeleteIfEmpty(cmd.db, cmd.args[1], l);
  cmd.reply.Integer(static_cast<int64_t>(removed));
}

void LtrimCommand(ShardCommand& cmd) {
  int64_t start = 0;
  int64_t end = 0;
  if (!cmd::ParseInt64(cmd.args[2], &start) || !cmd::ParseInt64(cmd.args[3], &end)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  bool wrong_type = false;
  ListValue* l = WritableList(cmd.db, cmd.config, cmd.args[1], &wrong_type);
  if (wrong_type) {
    cmd.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  if (l == nullptr) {
    cmd.reply.Ok();
    return;
  }
  int64_t llen = static_cast<int64_t>(l->size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  int64_t ltrim = 0;
  int64_t rtrim = 0;
  if (start > end || start >= llen) {
    ltrim = llen;
  } else {
    if (end >= llen) end = llen - 1;
    ltrim = start;
    rtrim = llen - end - 1;
  }
  l->Erase(0, static_cast<size_t>(ltrim));
  if (rtrim > 0) l->Erase(l->size() - static_cast<size_t>(rtrim), static_cast<size_t>(rtrim));
  NotifyKeyspaceEvent(cmd, kNotifyList, "ltrim", cmd.args[1]);
  DeleteIfEmpty(cmd.db, cmd.args[1], l);
  cmd.reply.Ok();
}

// ---------------------------------------------------------------------------------------------
// LMOVE RPOPLPUSH (and the serving part of BLMOVE BRPOPLPUSH), both keys on this shard.

Outcome MoveLocal(Db& db, const Config& config, std::string_view src, std::string_view dst,
                  bool from_front, bool to_front) {
  Outcome out;
  bool wrong_type = false;
  ListValue* from = WritableList(db, config, src, &wrong_type);
  if (wrong_type) return Outcome{Outcome::Kind::kError, std::string(cmd::kWrongTypeErr), {}};
  if (from == nullptr) return out;  // null
  ListValue* to = WritableList(db, config, dst, &wrong_type);
  if (wrong_type) return Outcome{Outcome::Kind::kError, std::string(cmd::kWrongTypeErr), {}};
  out.kind = Outcome::Kind::kBulk;
  out.str = Pop(from, from_front);
  if (src == dst) {
    to = from;  // a rotation: the list is never empty in between for anyone else
  } else if (to == nullptr) {
    to = CreateList(db, config, dst);
  }
  Push(to, out.str, to_front);
  // Redis's order: the push, then the pop, then the source's deletion.
  db.Notify(kNotifyList, PushEvent(to_front), dst);
  db.Notify(kNotifyList, PopEvent(from_front), src);
  if (src != dst) DeleteIfEmpty(db, src, from);
  return out;
}

// The LEFT/RIGHT arguments of LMOVE/BLMOVE, or RPOPLPUSH's fixed RIGHT LEFT.
bool MoveDirections(ArgList args, bool rpoplpush, bool* from_front, bool* to_front) {
  if (rpoplpush) {
    *from_front = false;
    *to_front = true;
    return true;
  }
  return ParseWhere(args[3], from_front) && ParseWhere(args[4], to_front);
}

template <bool kRpoplpush>
void MoveOnShard(ShardCommand& cmd) {
  bool from_front = false;
  bool to_front = false;
  if (!MoveDirections(cmd.args, kRpoplpush, &from_front, &to_front)) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  MoveLocal(cmd.db, cmd.config, cmd.args[1], cmd.args[2], from_front, to_front).WriteTo(cmd.reply);
}

// A move between two shards, in phases: check both keys (in parallel) -> pop on the source's
// shard -> push on the destination's -> [the destination changed type meanwhile: put the element
// back where it came from and reply WRONGTYPE, as if the move had failed its check].
struct MoveState {
  std::string src;
  std::string dst;
  bool from_front = false;
  bool to_front = false;
  int src_shard = 0;
  int dst_shard = 0;
  // Phase 1; each field written by the shard that owns its key.
  bool src_exists = false;
  bool src_wrong_type = false;
  bool dst_wrong_type = false;
  // Phase 2 (source shard) and 3 (destination shard).
  bool popped = false;
  bool src_deleted = false;  // the pop emptied (and deleted) the source
  std::string value;
  bool pushed = false;
};

Outcome WrongTypeOutcome() {
  return Outcome{Outcome::Kind::kError, std::string(cmd::kWrongTypeErr), {}};
}

// Classifies `key` on this shard for a move: (exists, wrong type).
void ProbeList(Db& db, std::string_view key, bool* exists, bool* wrong_type) {
  Entry* e = FindForWrite(db, key);
  *exists = e != nullptr;
  *wrong_type = e != nullptr && !IsList(e);
}

void MovePush(std::shared_ptr<MoveState> st, FanOutRunner& runner) {
  runner.RunOnShards(
      {st->dst_shard},
      [st](ShardAccess& a) {
        bool wrong_type = false;
        ListValue* to = WritableList(a.db, a.config, st->dst, &wrong_type);
        if (wrong_type) return;
        if (to == nullptr) to = CreateList(a.db, a.config, st->dst);
        Push(to, st->value, st->to_front);
        a.db.Touch(st->dst);
        st->pushed = true;
        // The source shard's events too, raised here so they follow the push as in Redis.
        a.db.Notify(kNotifyList, PushEvent(st->to_front), st->dst);
        a.db.Notify(kNotifyList, PopEvent(st->from_front), st->src);
        if (st->src_deleted) a.db.Notify(kNotifyGeneric, "del", st->src);
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->pushed) {
          reply.Bulk(st->value);
          return;
        }
        // Put the element back at the end it came from. Should the source have become another
        // type meanwhile, that write replaced the list the element would be in had the move
        // failed its check, so it goes with it.
        runner.RunOnShards(
            {st->src_shard},
            [st](ShardAccess& a) {
              bool wrong_type = false;
              ListValue* from = WritableList(a.db, a.config, st->src, &wrong_type);
              if (wrong_type) return;
              if (from == nullptr) from = CreateList(a.db, a.config, st->src);
              Push(from, st->value, st->from_front);
              a.db.Touch(st->src);
            },
            [](ReplyBuilder& reply, FanOutRunner&) { WrongTypeOutcome().WriteTo(reply); });
      });
}

void MovePop(std::shared_ptr<MoveState> st, FanOutRunner& runner) {
  runner.RunOnShards(
      {st->src_shard},
      [st](ShardAccess& a) {
        bool wrong_type = false;
        ListValue* from = WritableList(a.db, a.config, st->src, &wrong_type);
        st->src_wrong_type = wrong_type;
        if (from == nullptr) return;
        st->value = Pop(from, st->from_front);
        st->popped = true;
        st->src_deleted = from->empty();
        if (st->src_deleted) a.db.Erase(st->src);  // its events come with the push
        a.db.Touch(st->src);
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->src_wrong_type) {
          WrongTypeOutcome().WriteTo(reply);
        } else if (!st->popped) {
          reply.Null();
        } else {
          MovePush(st, runner);
        }
      });
}

template <bool kRpoplpush>
void MoveOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<MoveState>();
  if (!MoveDirections(cmd.args, kRpoplpush, &st->from_front, &st->to_front)) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  st->src = std::string(cmd.args[1]);
  st->dst = std::string(cmd.args[2]);
  st->src_shard = cmd.ShardOf(st->src);
  st->dst_shard = cmd.ShardOf(st->dst);
  if (st->src_shard == st->dst_shard) {
    auto out = std::make_shared<Outcome>();
    cmd.RunOnShards(
        {st->src_shard},
        [st, out](ShardAccess& a) {
          *out = MoveLocal(a.db, a.config, st->src, st->dst, st->from_front, st->to_front);
          if (out->kind == Outcome::Kind::kBulk) {
            a.db.Touch(st->src);
            a.db.Touch(st->dst);
          }
        },
        [out](ReplyBuilder& reply, FanOutRunner&) { out->WriteTo(reply); });
    return;
  }
  cmd.RunOnShards(
      {st->src_shard, st->dst_shard},
      [st](ShardAccess& a) {
        if (a.shard_index == st->src_shard) {
          ProbeList(a.db, st->src, &st->src_exists, &st->src_wrong_type);
        } else {
          bool exists = false;
          ProbeList(a.db, st->dst, &exists, &st->dst_wrong_type);
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (!st->src_exists) {
          reply.Null();
        } else if (st->src_wrong_type || st->dst_wrong_type) {
          WrongTypeOutcome().WriteTo(reply);
        } else {
          MovePop(st, runner);
        }
      });
}

// ---------------------------------------------------------------------------------------------
// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] (and BLMPOP's arguments)

struct MpopArgs {
  size_t first_key = 0;
  size_t num_keys = 0;
  bool left = true;
  int64_t count = 1;
};

// Redis's lmpopGenericCommand parsing; returns the error to reply, or "" when valid.
std::string_view ParseMpop(ArgList args, size_t numkeys_index, MpopArgs* out) {
  int64_t numkeys = 0;
  if (!cmd::ParseInt64(args[numkeys_index], &numkeys) || numkeys < 1) return kNumkeysErr;
  if (static_cast<uint64_t>(numkeys) >= args.size() - numkeys_index - 1) return cmd::kSyntaxErr;
  size_t where = numkeys_index + static_cast<size_t>(numkeys) + 1;
  if (!ParseWhere(args[where], &out->left)) return cmd::kSyntaxErr;
  bool has_count = false;
  for (size_t j = where + 1; j < args.size(); ++j) {
    bool more = j + 1 < args.size();
    if (!has_count && cmd::EqualsIgnoreCase(args[j], "count") && more) {
      if (!cmd::ParseInt64(args[++j], &out->count) || out->count < 1) return kCountPositiveErr;
      has_count = true;
    } else {
      return cmd::kSyntaxErr;
    }
  }
  out->first_key = numkeys_index + 1;
  out->num_keys = static_cast<size_t>(numkeys);
  return "";
}

// Key finder for routing: the keys after numkeys when the count is valid and leaves room for
// LEFT|RIGHT (Redis's lmpopGetKeys); otherwise none, and the handler replies the error.
template <size_t kNumkeysIndex>
void MpopKeys(ArgList args, std::vector<int>* positions) {
  int64_t n = 0;
  if (args.size() <= kNumkeysIndex || !cmd::ParseInt64(args[kNumkeysIndex], &n) || n < 1 ||
      static_cast<uint64_t>(n) >= args.size() - kNumkeysIndex - 1) {
    return;
  }
  for (int64_t i = 0; i < n; ++i) positions->push_back(static_cast<int>(kNumkeysIndex + 1 + i));
}

// Pops from the first of `keys` holding elements. Returns false when none does (nothing
// replied); replies WRONGTYPE (and returns true) at a key of another type, unless
// `skip_wrong_type` (a blocked client being served ignores such keys, as Redis does).
bool MpopLocal(ShardCommand& cmd, ArgList keys, const MpopArgs& m, bool skip_wrong_type) {
  for (std::string_view key : keys) {
    bool wrong_type = false;
    ListValue* l = WritableList(cmd.db, cmd.config, key, &wrong_type);
    if (wrong_type) {
      if (skip_wrong_type) continue;
      cmd.reply.Error(cmd::kWrongTypeErr);
      return true;
    }
    if (l == nullptr) continue;
    cmd.reply.ArrayHeader(2);
    cmd.reply.Bulk(key);
    PopRangeReply(cmd.reply, l, m.left, static_cast<uint64_t>(m.count));
    NotifyKeyspaceEvent(cmd, kNotifyList, PopEvent(m.left), key);
    DeleteIfEmpty(cmd.db, key, l);
    return true;
  }
  return false;
}

void LmpopOnShard(ShardCommand& cmd) {
  MpopArgs m;
  std::string_view err = ParseMpop(cmd.args, 1, &m);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  if (!MpopLocal(cmd, cmd.args.subspan(m.first_key, m.num_keys), m, false)) {
    cmd.reply.NullArray();
  }
}

// LMPOP over keys of several shards: probe the keys from `from` on (each shard writes the
// slots of its own keys), then pop on the shard of the first key that has elements; if it was
// emptied in between, continue after it.
struct MpopState {
  std::vector<std::string> keys;
  std::vector<int> shard_of;
  MpopArgs args;
  enum Status : uint8_t { kEmpty, kWrongType, kHasElements };
  std::vector<Status> status;
  Outcome outcome;  // of the pop phase
  bool popped = false;
};

void MpopPopAt(std::shared_ptr<MpopState> st, size_t i, FanOutRunner& runner);

template <typename Runner>
void MpopProbeFrom(std::shared_ptr<MpopState> st, size_t from, Runner& runner) {
  std::vector<int> shards;
  for (size_t i = from; i < st->keys.size(); ++i) {
    if (std::find(shards.begin(), shards.end(), st->shard_of[i]) == shards.end()) {
      shards.push_back(st->shard_of[i]);
    }
  }
  runner.RunOnShards(
      std::move(shards),
      [st, from](ShardAccess& a) {
        for (size_t i = from; i < st->keys.size(); ++i) {
          if (st->shard_of[i] != a.shard_index) continue;
          Entry* e = FindForWrite(a.db, st->keys[i]);
          st->status[i] = e == nullptr ? MpopState::kEmpty
                          : !IsList(e) ? MpopState::kWrongType
                                       : MpopState::kHasElements;
        }
      },
      [st, from](ReplyBuilder& reply, FanOutRunner& runner) {
        for (size_t i = from; i < st->keys.size(); ++i) {
          if (st->status[i] == MpopState::kWrongType) {
            WrongTypeOutcome().WriteTo(reply);
            return;
          }
          if (st->status[i] == MpopState::kHasElements) {
            MpopPopAt(st, i, runner);
            return;
          }
        }
        reply.NullArray();
      });
}

void MpopPopAt(std::shared_ptr<MpopState> st, size_t i, FanOutRunner& runner) {
  runner.RunOnShards(
      {st->shard_of[i]},
      [st, i](ShardAccess& a) {
        bool wrong_type = false;
        ListValue* l = WritableList(a.db, a.config, st->keys[i], &wrong_type);
        if (wrong_type) {
          st->outcome = WrongTypeOutcome();
          st->popped = true;
          return;
        }
        if (l == nullptr) return;
        Outcome& out = st->outcome;
        out.kind = Outcome::Kind::kKeyAndElements;
        out.str = st->keys[i];
        uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(st->args.count), l->size());
        for (uint64_t k = 0; k < n; ++k) out.elements.push_back(Pop(l, st->args.left));
        a.db.Notify(kNotifyList, PopEvent(st->args.left), st->keys[i]);
        DeleteIfEmpty(a.db, st->keys[i], l);
        a.db.Touch(st->keys[i]);
        st->popped = true;
      },
      [st, i](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->popped) {
          st->outcome.WriteTo(reply);
        } else if (i + 1 == st->keys.size()) {
          reply.NullArray();
        } else {
          MpopProbeFrom(st, i + 1, runner);
        }
      });
}

void LmpopOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<MpopState>();
  std::string_view err = ParseMpop(cmd.args, 1, &st->args);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  for (size_t i = 0; i < st->args.num_keys; ++i) {
    st->keys.emplace_back(cmd.args[st->args.first_key + i]);
    st->shard_of.push_back(cmd.ShardOf(st->keys.back()));
  }
  st->status.assign(st->keys.size(), MpopState::kEmpty);
  MpopProbeFrom(st, 0, cmd);
}

// ---------------------------------------------------------------------------------------------
// BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH

// Serves from the keys now, or blocks on them; replies as on timeout when it cannot block.
template <bool kFront>
void BlockingPopCommand(ShardCommand& cmd) {
  int64_t deadline = 0;
  if (!ParseTimeout(cmd, cmd.args.back(), &deadline)) return;
  ArgList keys = cmd.args.subspan(1, cmd.args.size() - 2);
  for (std::string_view key : keys) {
    bool wrong_type = false;
    ListValue* l = WritableList(cmd.db, cmd.config, key, &wrong_type);
    if (wrong_type) {
      if (cmd.retrying) continue;  // Redis serves blocked clients from list keys only
      cmd.reply.Error(cmd::kWrongTypeErr);
      return;
    }
    if (l == nullptr) continue;
    cmd.reply.ArrayHeader(2);
    cmd.reply.Bulk(key);
    cmd.reply.Bulk(kFront ? l->Front() : l->Back());
    if (kFront) {
      l->PopFront();
    } else {
      l->PopBack();
    }
    NotifyKeyspaceEvent(cmd, kNotifyList, PopEvent(kFront), key);
    DeleteIfEmpty(cmd.db, key, l);
    return;
  }
  if (!cmd.Block(UniqueKeys(keys), deadline, TimeoutReply::kNullArray)) cmd.reply.NullArray();
}

void BlmpopCommand(ShardCommand& cmd) {
  MpopArgs m;
  std::string_view err = ParseMpop(cmd.args, 2, &m);
  if (!err.empty()) {
    cmd.reply.Error(err);
    return;
  }
  int64_t deadline = 0;
  if (!ParseTimeout(cmd, cmd.args[1], &deadline)) return;
  ArgList keys = cmd.args.subspan(m.first_key, m.num_keys);
  if (MpopLocal(cmd, keys, m, cmd.retrying)) return;
  if (!cmd.Block(UniqueKeys(keys), deadline, TimeoutReply::kNullArray)) cmd.reply.NullArray();
}

template <bool kRpoplpush>
void BlockingMoveCommand(ShardCommand& cmd) {
  bool from_front = false;
  bool to_front = false;
  if (!MoveDirections(cmd.args, kRpoplpush, &from_front, &to_front)) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return;
  }
  int64_t deadline = 0;
  if (!ParseTimeout(cmd, cmd.args[kRpoplpush ? 3 : 5], &deadline)) return;
  std::string_view src = cmd.args[1];
  Entry* e = FindForWrite(cmd.db, src);
  if (e != nullptr && !IsList(e)) {
    if (!cmd.retrying) {
      cmd.reply.Error(cmd::kWrongTypeErr);
      return;
    }
    e = nullptr;  // a blocked client waits for a list
  }
  if (e == nullptr) {
    if (!cmd.Block({std::string(src)}, deadline, TimeoutReply::kNullBulk)) cmd.reply.Null();
    return;
  }
  MoveLocal(cmd.db, cmd.config, src, cmd.args[2], from_front, to_front).WriteTo(cmd.reply);
}

}  // namespace

void RegisterListCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kF = kCmdFast;
  constexpr uint32_t kOom = kCmdDenyOom;
  constexpr uint32_t kBlock = kCmdNoscript | kCmdBlocking;
  constexpr std::string_view kWriteFast = "@write @list @fast";
  constexpr std::string_view kWriteSlow = "@write @list @slow";
  constexpr std::string_view kReadSlow = "@read @list @slow";
  constexpr std::string_view kBlocking = "@write @list @slow @blocking";
  std::vector<CommandSpec> specs = {
      {"lpush", -3, kW | kOom | kF, 1, 1, 1, kWriteFast, kGroup,
       "Prepend one or multiple elements to a list", "1.0.0", PushCommand<true, false>},
      {"rpush", -3, kW | kOom | kF, 1, 1, 1, kWriteFast, kGroup,
       "Append one or multiple elements to a list", "1.0.0", PushCommand<false, false>},
      {"lpushx", -3, kW | kOom | kF, 1, 1, 1, kWriteFast, kGroup,
       "Prepend an element to a list, only if the list exists", "2.2.0", PushCommand<true, true>},
      {"rpushx", -3, kW | kOom | kF, 1, 1, 1, kWriteFast, kGroup,
       "Append an element to a list, only if the list exists", "2.2.0", PushCommand<false, true>},
      {"lpop", -2, kW | kF, 1, 1, 1, kWriteFast, kGroup,
       "Remove and get the first elements in a list", "1.0.0", PopCommand<true>},
      {"rpop", -2, kW | kF, 1, 1, 1, kWriteFast, kGroup,
       "Remove and get the last elements in a list", "1.0.0", PopCommand<false>},
      {"llen", 2, kR | kF, 1, 1, 1, "@read @list @fast", kGroup, "Get the length of a list",
       "1.0.0", LlenCommand},
      {"lrange", 4, kR, 1, 1, 1, kReadSlow, kGroup, "Get a range of elements from a list", "1.0.0",
       LrangeCommand},
      {"lindex", 3, kR, 1, 1, 1, kReadSlow, kGroup, "Get an element from a list by its index",
       "1.0.0", LindexCommand},
      {"lset", 4, kW | kOom, 1, 1, 1, kWriteSlow, kGroup,
       "Set the value of an element in a list by its index", "1.0.0", LsetCommand},
      {"linsert", 5, kW | kOom, 1, 1, 1, kWriteSlow, kGroup,
       "Insert an element before or after another element in a list", "2.2.0", LinsertCommand},
      {"lrem", 4, kW, 1, 1, 1, kWriteSlow, kGroup, "Remove elements from a list", "1.0.0",
       LremCommand},
      {"ltrim", 4, kW, 1, 1, 1, kWriteSlow, kGroup, "Trim a list to the specified range", "1.0.0",
       LtrimCommand},
      {"lpos", -3, kR, 1, 1, 1, kReadSlow, kGroup,
       "Return the index of matching elements on a list", "6.0.6", LposCommand},
      {"lmove", 5, kW | kOom, 1, 2, 1, kWriteSlow, kGroup,
       "Pop an element from a list, push it to another list and return it", "6.2.0",
       MoveOnShard<false>, MoveOnClient<false>},
      {"rpoplpush", 3, kW | kOom, 1, 2, 1, kWriteSlow, kGroup,
       "Remove the last element in a list, prepend it to another list and return it", "1.2.0",
       MoveOnShard<true>, MoveOnClient<true>},
      {.name = "lmpop",
       .arity = -4,
       .flags = kW | kCmdMovableKeys,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = kWriteSlow,
       .group = kGroup,
       .summary = "Pop elements from a list",
       .since = "7.0.0",
       .on_shard = LmpopOnShard,
       .on_client = LmpopOnClient,
       .get_keys = MpopKeys<1>},
      {"blpop", -3, kW | kBlock, 1, -2, 1, kBlocking, kGroup,
       "Remove and get the first element in a list, or block until one is available", "2.0.0",
       BlockingPopCommand<true>},
      {"brpop", -3, kW | kBlock, 1, -2, 1, kBlocking, kGroup,
       "Remove and get the last element in a list, or block until one is available", "2.0.0",
       BlockingPopCommand<false>},
      {"blmove", 6, kW | kOom | kBlock, 1, 2, 1, kBlocking, kGroup,
       "Pop an element from a list, push it to another list and return it; or block until one "
       "is available",
       "6.2.0", BlockingMoveCommand<false>},
      {"brpoplpush", 4, kW | kOom | kBlock, 1, 2, 1, kBlocking, kGroup,
       "Pop an element from a list, push it to another list and return it; or block until one "
       "is available",
       "2.2.0", BlockingMoveCommand<true>},
      {.name = "blmpop",
       .arity = -5,
       .flags = kW | kCmdBlocking | kCmdMovableKeys,
       .first_key = 0,
       .last_key = 0,
       .key_step = 0,
       .acl_categories = kBlocking,
       .group = kGroup,
       .summary = "Pop elements from a list, or block until one is available",
       .since = "7.0.0",
       .on_shard = BlmpopCommand,
       .get_keys = MpopKeys<2>},
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
