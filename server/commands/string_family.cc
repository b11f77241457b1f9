// The string command family (SET, GET, GETEX, INCR..., APPEND, GETRANGE, SETRANGE, LCS, MGET,
// MSET, MSETNX...) with redis-server 7.0 semantics, replies and error texts.
//
// on_shard handlers run on the thread of the shard that owns the command's keys. The multi-key
// commands (MGET, MSET, MSETNX, LCS) also have on_client handlers, run on the connection's thread
// when their keys span shards: they copy what they need, fan out to the owning shards, each task
// writing only its own per-shard slot, and merge on the connection's thread. The bitmap commands
// live in bitops_family.cc and are registered from RegisterStringCommands.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/db.h"
#include "storage/value.h"

namespace shardis {

// Registers the bitmap commands (bitops_family.cc).
void RegisterBitmapCommands(std::vector<CommandSpec>* table);

namespace {

constexpr std::string_view kStringTooLongErr =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
// Strings up to this length are "embstr" when created whole (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
constexpr size_t kEmbstrLimit = 44;

bool IsString(const Entry* e) { return e->type() == ValueType::kString; }

void Touch(Entry* e, int64_t now_ms) { e->set_access_time(now_ms); }

// Redis's lookupKeyWrite: no hit/miss accounting, but the access time is updated.
Entry* FindForWrite(Db& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e != nullptr) Touch(e, db.now_ms());
  return e;
}

// Redis's setKey: the key holds a new value object, so its access time is now.
Entry* Store(Db& db, std::string_view key, Value value, bool keep_ttl) {
  Entry* e = db.Set(key, std::move(value), keep_ttl);
  Touch(e, db.now_ms());
  return e;
}

// A string object created from bytes without trying the integer encoding (createStringObject).
Value PlainString(std::string s) {
  StringEncoding enc = s.size() <= kEmbstrLimit ? StringEncoding::kEmbstr : StringEncoding::kRaw;
  return Value{ValueType::kString, enc, std::move(s), {}};
}

// Redis's checkStringLength: size + append must fit in proto-max-bulk-len.
bool CheckStringLength(ReplyBuilder& reply, const Config& config, uint64_t size, uint64_t append) {
  uint64_t total = size + append;
  if (total < size || total > static_cast<uint64_t>(config.proto_max_bulk_len)) {
    reply.Error(kStringTooLongErr);
    return false;
  }
  return true;
}

// Groups `keys` by owning shard: (*by_shard)[s] lists the indexes of the keys shard s owns.
// Returns the shards that own at least one key.
std::vector<int> GroupByShard(const ClientCommand& cmd, const std::vector<std::string>& keys,
                              std::vector<std::vector<size_t>>* by_shard) {
  by_shard->assign(cmd.shard_count(), {});
  for (size_t i = 0; i < keys.size(); ++i) (*by_shard)[cmd.ShardOf(keys[i])].push_back(i);
  std::vector<int> shards;
  for (int s = 0; s < cmd.shard_count(); ++s) {
    if (!(*by_shard)[s].empty()) shards.push_back(s);
  }
  return shards;
}

// ---------------------------------------------------------------------------------------------
// SET family: SET, SETNX, SETEX, PSETEX, GET, GETEX, GETDEL, GETSET.

enum SetFlag : uint32_t {
  kSetNx = 1u << 0,
  kSetXx = 1u << 1,
  kSetEx = 1u << 2,
  kSetPx = 1u << 3,
  kSetKeepTtl = 1u << 4,
  kSetGet = 1u << 5,
  kSetExat = 1u << 6,
  kSetPxat = 1u << 7,
  kSetPersist = 1u << 8,
};
constexpr uint32_t kSetAnyExpire = kSetEx | kSetPx | kSetExat | kSetPxat;

struct ExtendedArgs {
  uint32_t flags = 0;
  std::optional<std::string_view> expire;  // the EX/PX/EXAT/PXAT argument
};

// Redis's parseExtendedStringArgumentsOrReply: SET options from args[3], GETEX options from
// args[2]. Repeating an option is allowed; conflicting ones are a syntax error.
bool ParseExtendedArgs(ArgList args, bool is_set, ExtendedArgs* out, ReplyBuilder& reply) {
  uint32_t& f = out->flags;
  for (size_t j = is_set ? 3 : 2; j < args.size(); ++j) {
    std::string_view opt = args[j];
    bool has_next = j + 1 < args.size();
    uint32_t expire_flag = 0;
    if (cmd::EqualsIgnoreCase(opt, "ex")) {
      expire_flag = kSetEx;
    } else if (cmd::EqualsIgnoreCase(opt, "px")) {
      expire_flag = kSetPx;
    } else if (cmd::EqualsIgnoreCase(opt, "exat")) {
      expire_flag = kSetExat;
    } else if (cmd::EqualsIgnoreCase(opt, "pxat")) {
      expire_flag = kSetPxat;
    }
    if (is_set && cmd::EqualsIgnoreCase(opt, "nx") && !(f & kSetXx)) {
      f |= kSetNx;
    } else if (is_set && cmd::EqualsIgnoreCase(opt, "xx") && !(f & kSetNx)) {
      f |= kSetXx;
    } else if (is_set && cmd::EqualsIgnoreCase(opt, "get")) {
      f |= kSetGet;
    } else if (is_set && cmd::EqualsIgnoreCase(opt, "keepttl") &&
               !(f & (kSetPersist | kSetAnyExpire))) {
      f |= kSetKeepTtl;
    } else if (!is_set && cmd::EqualsIgnoreCase(opt, "persist") &&
               !(f & (kSetAnyExpire | kSetKeepTtl))) {
      f |= kSetPersist;
    } else if (expire_flag != 0 && has_next &&
               !(f & (kSetKeepTtl | kSetPersist | (kSetAnyExpire & ~expire_flag)))) {
      f |= expire_flag;
      out->expire = args[++j];
    } else {
      reply.Error(cmd::kSyntaxErr);
      return false;
    }
  }
  return true;
}

// Redis's getExpireMillisecondsOrReply: the absolute expiry in ms of an EX/PX/EXAT/PXAT argument.
bool ParseExpireAt(ReplyBuilder& reply, std::string_view arg, uint32_t flags, int64_t now_ms,
                   std::string_view command, int64_t* at_ms) {
  int64_t ms;
  if (!cmd::ParseInt64(arg, &ms)) {
    reply.Error(cmd::kNotIntErr);
    return false;
  }
  bool seconds = (flags & (kSetEx | kSetExat)) != 0;
  bool relative = (flags & (kSetEx | kSetPx)) != 0;
  bool bad = ms <= 0 || (seconds && ms > INT64_MAX / 1000);
  if (!bad && seconds) ms *= 1000;
  if (!bad && relative) bad = __builtin_add_overflow(ms, now_ms, &ms);
  if (bad) {
    reply.Error("ERR invalid expire time in '" + std::string(command) + "' command");
    return false;
  }
  *at_ms = ms;
  return true;
}

// Redis's getGenericCommand: replies with the value (or nil); false after a WRONGTYPE error.
bool ReplyGet(ShardCommand& c, std::string_view key) {
  Entry* e = c.db.Lookup(key);
  if (e == nullptr) {
    c.reply.Null();
    return true;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return false;
  }
  c.reply.Bulk(e->str());
  return true;
}

// Redis's setGenericCommand. SETNX replies :1 / :0 instead of +OK / nil.
void SetGeneric(ShardCommand& c, uint32_t flags, std::string_view key, std::string_view value,
                std::optional<std::string_view> expire, std::string_view command, bool int_reply) {
  int64_t at_ms = 0;
  if (expire && !ParseExpireAt(c.reply, *expire, flags, c.now_ms(), command, &at_ms)) return;
  if ((flags & kSetGet) && !ReplyGet(c, key)) return;
  bool found = FindForWrite(c.db, key) != nullptr;
  if (((flags & kSetNx) && found) || ((flags & kSetXx) && !found)) {
    if (!(flags & kSetGet)) {
      if (int_reply) {
        c.reply.Integer(0);
      } else {
        c.reply.Null();
      }
    }
    return;
  }
  bool keep_ttl = (flags & kSetKeepTtl) || expire;
  Entry* e = Store(c.db, key, Value::FromString(std::string(value)), keep_ttl);
  // An expiry already in the past (EXAT/PXAT) leaves a key that expires on its next access, as
  // redis-server 7.0 does.
  NotifyKeyspaceEvent(c, kNotifyString, "set", key);
  if (expire) {
    c.db.SetExpiry(e, at_ms);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "expire", key);
  }
  if (!(flags & kSetGet)) {
    if (int_reply) {
      c.reply.Integer(1);
    } else {
      c.reply.Ok();
    }
  }
}

void SetCmd(ShardCommand& c) {
  ExtendedArgs ext;
  if (!ParseExtendedArgs(c.args, true, &ext, c.reply)) return;
  SetGeneric(c, ext.flags, c.args[1], c.args[2], ext.expire, "set", false);
}

void SetNxCmd(ShardCommand& c) { SetGeneric(c, kSetNx, c.args[1], c.args[2], {}, "setnx", true); }

void SetExCmd(ShardCommand& c) {
  SetGeneric(c, kSetEx, c.args[1], c.args[3], c.args[2], "setex", false);
}

void PSetExCmd(ShardCommand& c) {
  SetGeneric(c, kSetPx, c.args[1], c.args[3], c.args[2], "psetex", false);
}

void GetCmd(ShardCommand& c) { ReplyGet(c, c.args[1]); }

void GetExCmd(ShardCommand& c) {
  ExtendedArgs ext;
  if (!ParseExtendedArgs(c.args, false, &ext, c.reply)) return;
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Null();
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t at_ms = 0;
  if (ext.expire && !ParseExpireAt(c.reply, *ext.expire, ext.flags, c.now_ms(), "getex", &at_ms)) {
    return;
  }
  c.reply.Bulk(e->str());
  if ((ext.flags & (kSetExat | kSetPxat)) && at_ms <= c.now_ms()) {
    c.db.Erase(c.args[1]);  // an absolute time already past deletes the key
    NotifyKeyspaceEvent(c, kNotifyGeneric, "del", c.args[1]);
  } else if (ext.expire) {
    c.db.SetExpiry(e, at_ms);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "expire", c.args[1]);
  } else if ((ext.flags & kSetPersist) && e->has_expiry()) {
    c.db.ClearExpiry(e);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "persist", c.args[1]);
  }
}

void GetDelCmd(ShardCommand& c) {
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Null();
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  c.reply.Bulk(e->str());
  c.db.Erase(c.args[1]);
  NotifyKeyspaceEvent(c, kNotifyGeneric, "del", c.args[1]);
}

void GetSetCmd(ShardCommand& c) {
  if (!ReplyGet(c, c.args[1])) return;
  Store(c.db, c.args[1], Value::FromString(std::string(c.args[2])), false);
  NotifyKeyspaceEvent(c, kNotifyString, "set", c.args[1]);
}

// ---------------------------------------------------------------------------------------------
// MGET, MSET, MSETNX.

void MGetShard(ShardCommand& c) {
  c.reply.ArrayHeader(c.args.size() - 1);
  for (size_t i = 1; i < c.args.size(); ++i) {
    Entry* e = c.db.Lookup(c.args[i]);
    if (e == nullptr || !IsString(e)) {
      c.reply.Null();
    } else {
      c.reply.Bulk(e->str());
    }
  }
}

struct MGetState {
  std::vector<std::string> keys;
  std::vector<std::vector<size_t>> by_shard;                   // shard -> indexes into keys
  std::vector<std::vector<std::optional<std::string>>> found;  // shard -> values of its keys
};

void MGetClient(ClientCommand& cmd) {
  auto st = std::make_shared<MGetState>();
  st->keys.assign(cmd.args.begin() + 1, cmd.args.end());
  std::vector<int> shards = GroupByShard(cmd, st->keys, &st->by_shard);
  st->found.resize(st->by_shard.size());
  for (int s : shards) st->found[s].resize(st->by_shard[s].size());
  cmd.RunOnShards(
      std::move(shards),
      [st](ShardAccess& a) {
        const std::vector<size_t>& mine = st->by_shard[a.shard_index];
        std::vector<std::optional<std::string>>& out = st->found[a.shard_index];
        for (size_t k = 0; k < mine.size(); ++k) {
          Entry* e = a.db.Lookup(st->keys[mine[k]]);
          if (e != nullptr && IsString(e)) out[k] = e->str();
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner&) {
        std::vector<const std::optional<std::string>*> ordered(st->keys.size());
        for (size_t s = 0; s < st->by_shard.size(); ++s) {
          for (size_t k = 0; k < st->by_shard[s].size(); ++k) {
            ordered[st->by_shard[s][k]] = &st->found[s][k];
          }
        }
        reply.ArrayHeader(ordered.size());
        for (const std::optional<std::string>* v : ordered) {
          if (v->has_value()) {
            reply.Bulk(**v);
          } else {
            reply.Null();
          }
        }
      });
}

// MSET and MSETNX take key/value pairs: an even argument count is an arity error.
bool CheckPairs(ArgList args, std::string_view command, ReplyBuilder& reply) {
  if (args.size() % 2 == 0) {
    reply.Error(ArityError(command));
    return false;
  }
  return true;
}

void MSetShard(ShardCommand& c) {
  if (!CheckPairs(c.args, "mset", c.reply)) return;
  for (size_t i = 1; i < c.args.size(); i += 2) {
    Store(c.db, c.args[i], Value::FromString(std::string(c.args[i + 1])), false);
    NotifyKeyspaceEvent(c, kNotifyString, "set", c.args[i]);
  }
  c.reply.Ok();
}

void MSetNxShard(ShardCommand& c) {
  if (!CheckPairs(c.args, "msetnx", c.reply)) return;
  for (size_t i = 1; i < c.args.size(); i += 2) {
    if (FindForWrite(c.db, c.args[i]) != nullptr) {
      c.reply.Integer(0);
      return;
    }
  }
  for (size_t i = 1; i < c.args.size(); i += 2) {
    Store(c.db, c.args[i], Value::FromString(std::string(c.args[i + 1])), false);
    NotifyKeyspaceEvent(c, kNotifyString, "set", c.args[i]);
  }
  c.reply.Integer(1);
}

struct MSetState {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::vector<size_t>> by_shard;  // shard -> indexes into keys, argument order
  std::vector<uint8_t> exists;                // MSETNX phase 1: shard -> one of its keys exists
};

std::shared_ptr<MSetState> MakeMSetState(ClientCommand& cmd, std::vector<int>* shards) {
  auto st = std::make_shared<MSetState>();
  for (size_t i = 1; i + 1 < cmd.args.size(); i += 2) {
    st->keys.emplace_back(cmd.args[i]);
    st->values.emplace_back(cmd.args[i + 1]);
  }
  *shards = GroupByShard(cmd, st->keys, &st->by_shard);
  st->exists.assign(st->by_shard.size(), 0);
  return st;
}

// Stores the pairs the running shard owns, in argument order (a repeated key keeps its last value).
void StoreOwnedPairs(const MSetState& st, ShardAccess& a) {
  for (size_t i : st.by_shard[a.shard_index]) {
    Store(a.db, st.keys[i], Value::FromString(st.values[i]), false);
    NotifyKeyspaceEvent(a, kNotifyString, "set", st.keys[i]);
  }
}

void MSetClient(ClientCommand& cmd) {
  if (!CheckPairs(cmd.args, "mset", cmd.reply)) return;
  std::vector<int> shards;
  std::shared_ptr<MSetState> st = MakeMSetState(cmd, &shards);
  cmd.RunOnShards(
      std::move(shards), [st](ShardAccess& a) { StoreOwnedPairs(*st, a); },
      [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

// Phase 1 checks every key on its shard; phase 2, only when none exists, sets them all. The two
// phases are not atomic across shards: another client may create one of the keys in between.
void MSetNxClient(ClientCommand& cmd) {
  if (!CheckPairs(cmd.args, "msetnx", cmd.reply)) return;
  std::vector<int> shards;
  std::shared_ptr<MSetState> st = MakeMSetState(cmd, &shards);
  std::vector<int> phase2_shards = shards;
  cmd.RunOnShards(
      std::move(shards),
      [st](ShardAccess& a) {
        for (size_t i : st->by_shard[a.shard_index]) {
          if (FindForWrite(a.db, st->keys[i]) != nullptr) {
            st->exists[a.shard_index] = 1;
            return;
          }
        }
      },
      [st, phase2_shards](ReplyBuilder& reply, FanOutRunner& runner) {
        for (uint8_t e : st->exists) {
          if (e) {
            reply.Integer(0);
            return;
          }
        }
        runner.RunOnShards(
            phase2_shards, [st](ShardAccess& a) { StoreOwnedPairs(*st, a); },
            [](ReplyBuilder& reply, FanOutRunner&) { reply.Integer(1); });
      });
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, INCR family, GETRANGE, SETRANGE.

void AppendCmd(ShardCommand& c) {
  std::string_view key = c.args[1], tail = c.args[2];
  Entry* e = FindForWrite(c.db, key);
  if (e == nullptr) {
    Store(c.db, key, Value::FromString(std::string(tail)), false);
    NotifyKeyspaceEvent(c, kNotifyString, "append", key);
    c.reply.Integer(static_cast<int64_t>(tail.size()));
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  size_t size = e->str().size();
  if (!CheckStringLength(c.reply, c.config, size, tail.size())) return;
  char* bytes = c.db.ResizeString(e, size + tail.size());  // now raw: modified in place
  std::memcpy(bytes + size, tail.data(), tail.size());
  NotifyKeyspaceEvent(c, kNotifyString, "append", key);
  c.reply.Integer(static_cast<int64_t>(size + tail.size()));
}

void StrlenCmd(ShardCommand& c) {
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Integer(0);
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  c.reply.Integer(static_cast<int64_t>(e->str().size()));
}

// Redis's incrDecrCommand: the result is int-encoded and the key keeps its TTL.
void IncrDecr(ShardCommand& c, int64_t incr) {
  Entry* e = FindForWrite(c.db, c.args[1]);
  if (e != nullptr && !IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  int64_t value = 0;
  if (e != nullptr && !cmd::ParseInt64(e->str(), &value)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (__builtin_add_overflow(value, incr, &value)) {
    c.reply.Error(cmd::kOverflowErr);
    return;
  }
  Value result = Value::FromString(std::to_string(value));
  if (e != nullptr) {
    c.db.Assign(e, std::move(result));
  } else {
    Store(c.db, c.args[1], std::move(result), false);
  }
  NotifyKeyspaceEvent(c, kNotifyString, "incrby", c.args[1]);
  c.reply.Integer(value);
}

void IncrCmd(ShardCommand& c) { IncrDecr(c, 1); }
void DecrCmd(ShardCommand& c) { IncrDecr(c, -1); }

void IncrByCmd(ShardCommand& c) {
  int64_t incr;
  if (!cmd::ParseInt64(c.args[2], &incr)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  IncrDecr(c, incr);
}

void DecrByCmd(ShardCommand& c) {
  int64_t decr;
  if (!cmd::ParseInt64(c.args[2], &decr)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (decr == INT64_MIN) {
    c.reply.Error("ERR decrement would overflow");
    return;
  }
  IncrDecr(c, -decr);
}

void IncrByFloatCmd(ShardCommand& c) {
  Entry* e = FindForWrite(c.db, c.args[1]);
  if (e != nullptr && !IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  long double value = 0, incr = 0;
  if ((e != nullptr && !cmd::ParseLongDouble(e->str(), &value)) ||
      !cmd::ParseLongDouble(c.args[2], &incr)) {
    c.reply.Error(cmd::kNotFloatErr);
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    c.reply.Error("ERR increment would produce NaN or Infinity");
    return;
  }
  // Redis stores the formatted text as a plain string object (embstr or raw, never int).
  Value result = PlainString(cmd::FormatLongDouble(value));
  c.reply.Bulk(result.str);
  if (e != nullptr) {
    c.db.Assign(e, std::move(result));
  } else {
    Store(c.db, c.args[1], std::move(result), false);
  }
  NotifyKeyspaceEvent(c, kNotifyString, "incrbyfloat", c.args[1]);
}

void GetRangeCmd(ShardCommand& c) {
  int64_t start, end;
  if (!cmd::ParseInt64(c.args[2], &start) || !cmd::ParseInt64(c.args[3], &end)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  Entry* e = c.db.Lookup(c.args[1]);
  if (e == nullptr) {
    c.reply.Bulk("");
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  std::string_view s = e->str();
  int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) {
    c.reply.Bulk("");
    return;
  }
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    c.reply.Bulk("");
  } else {
    c.reply.Bulk(std::string_view(s).substr(start, end - start + 1));
  }
}

void SetRangeCmd(ShardCommand& c) {
  std::string_view key = c.args[1], value = c.args[3];
  int64_t offset;
  if (!cmd::ParseInt64(c.args[2], &offset)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (offset < 0) {
    c.reply.Error("ERR offset is out of range");
    return;
  }
  Entry* e = FindForWrite(c.db, key);
  if (e == nullptr) {
    if (value.empty()) {  // setting nothing on a missing key creates nothing
      c.reply.Integer(0);
      return;
    }
    if (!CheckStringLength(c.reply, c.config, offset, value.size())) return;
    std::string s(offset, '\0');
    s.append(value);
    e = Store(c.db, key, Value::RawString(std::move(s)), false);
    NotifyKeyspaceEvent(c, kNotifyString, "setrange", key);
    c.reply.Integer(static_cast<int64_t>(e->str().size()));
    return;
  }
  if (!IsString(e)) {
    c.reply.Error(cmd::kWrongTypeErr);
    return;
  }
  size_t size = e->str().size();
  if (value.empty()) {
    c.reply.Integer(static_cast<int64_t>(size));
    return;
  }
  if (!CheckStringLength(c.reply, c.config, offset, value.size())) return;
  size = std::max(size, static_cast<size_t>(offset) + value.size());
  char* bytes = c.db.ResizeString(e, size);  // now raw
  std::memcpy(bytes + offset, value.data(), value.size());
  NotifyKeyspaceEvent(c, kNotifyString, "setrange", key);
  c.reply.Integer(static_cast<int64_t>(size));
}

// ---------------------------------------------------------------------------------------------
// LCS.

// What one shard found for one of LCS's keys.
struct FetchedString {
  bool exists = false;
  bool wrong_type = false;
  std::string value;
};

struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

// Redis's lcsCommand after the lookups: `opts` are the arguments from args[3]; `a` and `b` the
// two strings (empty for a missing key).
void LcsReply(ReplyBuilder& reply, const std::vector<std::string_view>& opts, std::string_view a,
              std::string_view b, int64_t proto_max_bulk_len) {
  bool get_len = false, get_idx = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 0; j < opts.size(); ++j) {
    std::string_view opt = opts[j];
    if (cmd::EqualsIgnoreCase(opt, "idx")) {
      get_idx = true;
    } else if (cmd::EqualsIgnoreCase(opt, "len")) {
      get_len = true;
    } else if (cmd::EqualsIgnoreCase(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (cmd::EqualsIgnoreCase(opt, "minmatchlen") && j + 1 < opts.size()) {
      if (!cmd::ParseInt64(opts[j + 1], &min_match_len)) {
        reply.Error(cmd::kNotIntErr);
        return;
      }
      if (min_match_len < 0) min_match_len = 0;
      ++j;
    } else {
      reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  if (get_len && get_idx) {
    reply.Error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    reply.Error("ERR String too long for LCS");
    return;
  }
  uint32_t alen = static_cast<uint32_t>(a.size());
  uint32_t blen = static_cast<uint32_t>(b.size());
  uint64_t cells = static_cast<uint64_t>(alen + 1) * (blen + 1);
  uint64_t bytes = cells * sizeof(uint32_t);
  std::unique_ptr<uint32_t[]> lcs;
  if (bytes / sizeof(uint32_t) == cells) {
    if (bytes > static_cast<uint64_t>(proto_max_bulk_len)) {
      reply.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
      return;
    }
    lcs.reset(new (std::nothrow) uint32_t[cells]);
  }
  if (lcs == nullptr) {
    reply.Error("ERR Insufficient memory, failed allocating transient memory for LCS");
    return;
  }
  // LCS(i, j): the length of the LCS of a[0..i) and b[0..j).
  auto at = [&](uint32_t i, uint32_t j) -> uint32_t& {
    return lcs[j + static_cast<uint64_t>(i) * (blen + 1)];
  };
  for (uint32_t i = 0; i <= alen; ++i) {
    for (uint32_t j = 0; j <= blen; ++j) {
      if (i == 0 || j == 0) {
        at(i, j) = 0;
      } else if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  uint32_t total = at(alen, blen);
  if (get_len && !get_idx) {
    reply.Integer(total);
    return;
  }
  // Walk back from the end, building the LCS string and the matching ranges (longest first).
  std::string result(total, '\0');
  std::vector<LcsMatch> matches;
  uint32_t idx = total;
  uint32_t a_start = alen, a_end = 0, b_start = 0, b_end = 0;  // a_start == alen: no range
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (a_start == alen) {
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) {
        --a_start;
        --b_start;
      } else {
        emit = true;
      }
      if (a_start == 0 || b_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (a_start != alen) emit = true;
    }
    if (emit) {
      uint32_t match_len = a_end - a_start + 1;
      if (min_match_len == 0 || match_len >= min_match_len) {
        matches.push_back({a_start, a_end, b_start, b_end});
      }
      a_start = alen;
    }
  }
  if (!get_idx) {
    reply.Bulk(result);
    return;
  }
  reply.MapHeader(2);
  reply.Bulk("matches");
  reply.ArrayHeader(matches.size());
  for (const LcsMatch& m : matches) {
    reply.ArrayHeader(with_match_len ? 3 : 2);
    reply.ArrayHeader(2);
    reply.Integer(m.a_start);
    reply.Integer(m.a_end);
    reply.ArrayHeader(2);
    reply.Integer(m.b_start);
    reply.Integer(m.b_end);
    if (with_match_len) reply.Integer(m.a_end - m.a_start + 1);
  }
  reply.Bulk("len");
  reply.Integer(total);
}

constexpr std::string_view kLcsTypeErr = "ERR The specified keys must contain string values";

void LcsShard(ShardCommand& c) {
  Entry* ea = c.db.Lookup(c.args[1]);
  Entry* eb = c.db.Lookup(c.args[2]);
  if ((ea != nullptr && !IsString(ea)) || (eb != nullptr && !IsString(eb))) {
    c.reply.Error(kLcsTypeErr);
    return;
  }
  std::vector<std::string_view> opts(c.args.begin() + 3, c.args.end());
  LcsReply(c.reply, opts, ea ? ea->str() : std::string_view(), eb ? eb->str() : std::string_view(),
           c.config.proto_max_bulk_len);
}

struct LcsState {
  std::vector<std::string> keys;  // the two keys
  std::vector<std::string> opts;  // arguments after the keys
  std::vector<std::vector<size_t>> by_shard;
  std::vector<std::vector<FetchedString>> fetched;  // shard -> what it found for its keys
  std::vector<int64_t> proto_max_bulk_len;          // shard -> its configuration's limit
};

void LcsClient(ClientCommand& cmd) {
  auto st = std::make_shared<LcsState>();
  st->keys.assign(cmd.args.begin() + 1, cmd.args.begin() + 3);
  st->opts.assign(cmd.args.begin() + 3, cmd.args.end());
  std::vector<int> shards = GroupByShard(cmd, st->keys, &st->by_shard);
  st->fetched.resize(st->by_shard.size());
  st->proto_max_bulk_len.assign(st->by_shard.size(), 0);
  for (int s : shards) st->fetched[s].resize(st->by_shard[s].size());
  cmd.RunOnShards(
      std::move(shards),
      [st](ShardAccess& a) {
        st->proto_max_bulk_len[a.shard_index] = a.config.proto_max_bulk_len;
        const std::vector<size_t>& mine = st->by_shard[a.shard_index];
        for (size_t k = 0; k < mine.size(); ++k) {
          FetchedString& f = st->fetched[a.shard_index][k];
          Entry* e = a.db.Lookup(st->keys[mine[k]]);
          if (e == nullptr) continue;
          f.exists = true;
          if (IsString(e)) {
            f.value = e->str();
          } else {
            f.wrong_type = true;
          }
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner&) {
        const FetchedString* by_key[2] = {nullptr, nullptr};
        int64_t limit = 0;
        for (size_t s = 0; s < st->by_shard.size(); ++s) {
          if (st->by_shard[s].empty()) continue;
          limit = st->proto_max_bulk_len[s];
          for (size_t k = 0; k < st->by_shard[s].size(); ++k) {
            by_key[st->by_shard[s][k]] = &st->fetched[s][k];
          }
        }
        if (by_key[0]->wrong_type || by_key[1]->wrong_type) {
          reply.Error(kLcsTypeErr);
          return;
        }
        std::vector<std::string_view> opts(st->opts.begin(), st->opts.end());
        LcsReply(reply, opts, by_key[0]->value, by_key[1]->value, limit);
      });
}

}  // namespace

void RegisterStringCommands(std::vector<CommandSpec>* table) {
  const std::vector<CommandSpec> specs = {
      {.name = "set",
       .arity = -3,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @slow",
       .group = "string",
       .summary = "Set the string value of a key",
       .since = "1.0.0",
       .on_shard = SetCmd},
      {.name = "setnx",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Set the value of a key, only if the key does not exist",
       .since = "1.0.0",
       .on_shard = SetNxCmd},
      {.name = "setex",
       .arity = 4,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @slow",
       .group = "string",
       .summary = "Set the value and expiration of a key",
       .since = "2.0.0",
       .on_shard = SetExCmd},
      {.name = "psetex",
       .arity = 4,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @slow",
       .group = "string",
       .summary = "Set the value and expiration in milliseconds of a key",
       .since = "2.6.0",
       .on_shard = PSetExCmd},
      {.name = "get",
       .arity = 2,
       .flags = kCmdReadonly | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @string @fast",
       .group = "string",
       .summary = "Get the value of a key",
       .since = "1.0.0",
       .on_shard = GetCmd},
      {.name = "getex",
       .arity = -2,
       .flags = kCmdWrite | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Get the value of a key and optionally set its expiration",
       .since = "6.2.0",
       .on_shard = GetExCmd},
      {.name = "getdel",
       .arity = 2,
       .flags = kCmdWrite | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Get the value of a key and delete the key",
       .since = "6.2.0",
       .on_shard = GetDelCmd},
      {.name = "getset",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Set the string value of a key and return its old value",
       .since = "1.0.0",
       .on_shard = GetSetCmd},
      {.name = "mget",
       .arity = -2,
       .flags = kCmdReadonly | kCmdFast,
       .first_key = 1,
       .last_key = -1,
       .key_step = 1,
       .acl_categories = "@read @string @fast",
       .group = "string",
       .summary = "Get the values of all the given keys",
       .since = "1.0.0",
       .on_shard = MGetShard,
       .on_client = MGetClient},
      {.name = "mset",
       .arity = -3,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = -1,
       .key_step = 2,
       .acl_categories = "@write @string @slow",
       .group = "string",
       .summary = "Set multiple keys to multiple values",
       .since = "1.0.1",
       .on_shard = MSetShard,
       .on_client = MSetClient},
      {.name = "msetnx",
       .arity = -3,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = -1,
       .key_step = 2,
       .acl_categories = "@write @string @slow",
       .group = "string",
       .summary = "Set multiple keys to multiple values, only if none of the keys exist",
       .since = "1.0.1",
       .on_shard = MSetNxShard,
       .on_client = MSetNxClient},
      {.name = "append",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Append a value to a key",
       .since = "2.0.0",
       .on_shard = AppendCmd},
      {.name = "strlen",
       .arity = 2,
       .flags = kCmdReadonly | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @string @fast",
       .group = "string",
       .summary = "Get the length of the value stored in a key",
       .since = "2.2.0",
       .on_shard = StrlenCmd},
      {.name = "incr",
       .arity = 2,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Increment the integer value of a key by one",
       .since = "1.0.0",
       .on_shard = IncrCmd},
      {.name = "decr",
       .arity = 2,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Decrement the integer value of a key by one",
       .since = "1.0.0",
       .on_shard = DecrCmd},
      {.name = "incrby",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Increment the integer value of a key by the given amount",
       .since = "1.0.0",
       .on_shard = IncrByCmd},
      {.name = "decrby",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Decrement the integer value of a key by the given number",
       .since = "1.0.0",
       .on_shard = DecrByCmd},
      {.name = "incrbyfloat",
       .arity = 3,
       .flags = kCmdWrite | kCmdDenyOom | kCmdFast,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @fast",
       .group = "string",
       .summary = "Increment the float value of a key by the given amount",
       .since = "2.6.0",
       .on_shard = IncrByFloatCmd},
      {.name = "getrange",
       .arity = 4,
       .flags = kCmdReadonly,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @string @slow",
       .group = "string",
       .summary = "Get a substring of the string stored at a key",
       .since = "2.4.0",
       .on_shard = GetRangeCmd},
      {.name = "substr",
       .arity = 4,
       .flags = kCmdReadonly,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@read @string @slow",
       .group = "string",
       .summary = "Get a substring of the string stored at a key",
       .since = "1.0.0",
       .on_shard = GetRangeCmd},
      {.name = "setrange",
       .arity = 4,
       .flags = kCmdWrite | kCmdDenyOom,
       .first_key = 1,
       .last_key = 1,
       .key_step = 1,
       .acl_categories = "@write @string @slow",
       .group = "string",
       .summary = "Overwrite part of a string at key starting at the specified offset",
       .since = "2.2.0",
       .on_shard = SetRangeCmd},
      {.name = "lcs",
       .arity = -3,
       .flags = kCmdReadonly,
       .first_key = 1,
       .last_key = 2,
       .key_step = 1,
       .acl_categories = "@read @string @slow",
       .group = "string",
       .summary = "Find longest common substring",
       .since = "7.0.0",
       .on_shard = LcsShard,
       .on_client = LcsClient},
  };
  table->insert(table->end(), specs.begin(), specs.end());
  RegisterBitmapCommands(table);
}

}  // namespace shardis
