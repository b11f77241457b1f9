// The hash command family (HSET, HGET, HDEL, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN...)
// with redis-server 7.0 semantics, replies and error texts, over storage/hash_value.h.
//
// Every hash command names one key, so every handler is an on_shard handler: it runs on the
// thread of the shard that owns the key and touches only that shard's Db. Encoding thresholds
// (hash-max-listpack-entries / -value) come from that thread's Config copy, so CONFIG SET takes
// effect on the next write, and conversions only ever go listpack -> hashtable, as in Redis. A
// hash whose last field is deleted is removed from the keyspace.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "storage/db.h"
#include "storage/glob.h"
#include "storage/hash_value.h"
#include "storage/value.h"

namespace shardis {
namespace {

constexpr std::string_view kHashNotIntErr = "ERR hash value is not an integer";
constexpr std::string_view kHashNotFloatErr = "ERR hash value is not a float";
constexpr std::string_view kInvalidCursorErr = "ERR invalid cursor";
constexpr std::string_view kOutOfRangeErr = "ERR value is out of range";
constexpr std::string_view kCountRangeErr =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
// HRANDFIELD with a negative count returns that many picks. redis-server starts building any
// such reply and dies of memory exhaustion on absurd counts; Shardis refuses more than 16M picks
// (a reply of hundreds of MB) with Redis's out-of-range error.
constexpr uint64_t kMaxRandomPicks = uint64_t{1} << 24;

void Touch(Entry* e, int64_t now_ms) { e->set_access_time(now_ms); }

struct Limits {
  size_t max_entries;
  size_t max_value;
};

Limits LimitsOf(const Config& config) {
  return {static_cast<size_t>(std::max(config.hash_max_listpack_entries, 0)),
          static_cast<size_t>(std::max(config.hash_max_listpack_value, 0))};
}

// Redis's lookupKeyRead + checkType: the hash at `key`; null when missing, or when the key holds
// another type (then *wrong_type is set and the WRONGTYPE error written).
HashValue* ReadHash(ShardCommand& c, std::string_view key, bool* wrong_type) {
  *wrong_type = false;
  Entry* e = c.db.Lookup(key);
  if (e == nullptr) return nullptr;
  if (e->type() != ValueType::kHash) {
    c.reply.Error(cmd::kWrongTypeErr);
    *wrong_type = true;
    return nullptr;
  }
  return e->As<HashValue>();
}

// Redis's lookupKeyWrite + checkType: the hash at `key` (null when missing, or WRONGTYPE written).
Entry* FindHashForWrite(ShardCommand& c, std::string_view key, bool* wrong_type) {
  *wrong_type = false;
  Entry* e = c.db.Find(key);
  if (e == nullptr) return nullptr;
  Touch(e, c.now_ms());
  if (e->type() != ValueType::kHash) {
    c.reply.Error(cmd::kWrongTypeErr);
    *wrong_type = true;
    return nullptr;
  }
  return e;
}

// Redis's hashTypeLookupWriteOrCreate: the hash at `key`, created empty when missing; null after
// a WRONGTYPE error. The caller stores at least one field into a created hash.
HashValue* HashForWrite(ShardCommand& c, std::string_view key) {
  bool wrong_type;
  Entry* e = FindHashForWrite(c, key, &wrong_type);
  if (wrong_type) return nullptr;
  if (e == nullptr) {
    e = c.db.Set(key, Value::OfCollection(ValueType::kHash, std::make_unique<HashValue>()));
    Touch(e, c.now_ms());
  }
  return e->As<HashValue>();
}

// ---------------------------------------------------------------------------------------------
// HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HLEN, HSTRLEN, HEXISTS.

void HSetGeneric(ShardCommand& c, bool hmset) {
  if (c.args.size() % 2 == 1) {
    c.reply.Error(ArityError(hmset ? "hmset" : "hset"));
    return;
  }
  HashValue* h = HashForWrite(c, c.args[1]);
  if (h == nullptr) return;
  Limits limits = LimitsOf(c.config);
  h->PrepareWrite(c.args.subspan(2), limits.max_value);
  int64_t created = 0;
  for (size_t i = 2; i < c.args.size(); i += 2) {
    created += h->Set(c.args[i], c.args[i + 1], limits.max_entries, limits.max_value) ? 1 : 0;
  }
  NotifyKeyspaceEvent(c, kNotifyHash, "hset", c.args[1]);
  if (hmset) {
    c.reply.Ok();
  } else {
    c.reply.Integer(created);
  }
}

void HSetCmd(ShardCommand& c) { HSetGeneric(c, false); }
void HMSetCmd(ShardCommand& c) { HSetGeneric(c, true); }

void HSetNxCmd(ShardCommand& c) {
  HashValue* h = HashForWrite(c, c.args[1]);
  if (h == nullptr) return;
  if (h->Contains(c.args[2])) {
    c.reply.Integer(0);
    return;
  }
  Limits limits = LimitsOf(c.config);
  h->PrepareWrite(c.args.subspan(2, 2), limits.max_value);
  h->Set(c.args[2], c.args[3], limits.max_entries, limits.max_value);
  NotifyKeyspaceEvent(c, kNotifyHash, "hset", c.args[1]);
  c.reply.Integer(1);
}

void HGetCmd(ShardCommand& c) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  std::optional<std::string_view> v;
  if (h != nullptr) v = h->Get(c.args[2]);
  if (v) {
    c.reply.Bulk(*v);
  } else {
    c.reply.Null();
  }
}

void HMGetCmd(ShardCommand& c) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  c.reply.ArrayHeader(c.args.size() - 2);
  for (size_t i = 2; i < c.args.size(); ++i) {
    std::optional<std::string_view> v;
    if (h != nullptr) v = h->Get(c.args[i]);
    if (v) {
      c.reply.Bulk(*v);
    } else {
      c.reply.Null();
    }
  }
}

void HDelCmd(ShardCommand& c) {
  bool wrong_type;
  Entry* e = FindHashForWrite(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  if (e == nullptr) {
    c.reply.Integer(0);
    return;
  }
  HashValue* h = e->As<HashValue>();
  int64_t deleted = 0;
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (h->Delete(c.args[i])) {
      ++deleted;
      if (h->empty()) break;
    }
  }
  if (deleted > 0) NotifyKeyspaceEvent(c, kNotifyHash, "hdel", c.args[1]);
  if (h->empty()) {
    c.db.Erase(c.args[1]);
    NotifyKeyspaceEvent(c, kNotifyGeneric, "del", c.args[1]);
  }
  c.reply.Integer(deleted);
}

void HLenCmd(ShardCommand& c) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  c.reply.Integer(h == nullptr ? 0 : static_cast<int64_t>(h->size()));
}

void HStrlenCmd(ShardCommand& c) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  std::optional<std::string_view> v;
  if (h != nullptr) v = h->Get(c.args[2]);
  c.reply.Integer(v ? static_cast<int64_t>(v->size()) : 0);
}

void HExistsCmd(ShardCommand& c) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  c.reply.Integer(h != nullptr && h->Contains(c.args[2]) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// HKEYS, HVALS, HGETALL.

enum GetAllFlags { kKeys = 1, kValues = 2 };

void GetAllGeneric(ShardCommand& c, int flags) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  bool both = flags == (kKeys | kValues);
  size_t n = h == nullptr ? 0 : h->size();
  if (both) {
    c.reply.MapHeader(n);
  } else {
    c.reply.ArrayHeader(n);
  }
  if (h == nullptr) return;
  for (HashValue::Cursor it(*h); !it.Done(); it.Next()) {
    if (flags & kKeys) c.reply.Bulk(it.field());
    if (flags & kValues) c.reply.Bulk(it.value());
  }
}

void HKeysCmd(ShardCommand& c) { GetAllGeneric(c, kKeys); }
void HValsCmd(ShardCommand& c) { GetAllGeneric(c, kValues); }
void HGetAllCmd(ShardCommand& c) { GetAllGeneric(c, kKeys | kValues); }

// ---------------------------------------------------------------------------------------------
// HINCRBY, HINCRBYFLOAT.

void HIncrByCmd(ShardCommand& c) {
  int64_t incr;
  if (!cmd::ParseInt64(c.args[3], &incr)) {
    c.reply.Error(cmd::kNotIntErr);
    return;
  }
  HashValue* h = HashForWrite(c, c.args[1]);
  if (h == nullptr) return;
  int64_t value = 0;
  if (std::optional<std::string_view> old = h->Get(c.args[2])) {
    if (!cmd::ParseInt64(*old, &value)) {
      c.reply.Error(kHashNotIntErr);
      return;
    }
  }
  if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
      (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
    c.reply.Error(cmd::kOverflowErr);
    return;
  }
  value += incr;
  Limits limits = LimitsOf(c.config);
  h->Set(c.args[2], std::to_string(value), limits.max_entries, limits.max_value);
  NotifyKeyspaceEvent(c, kNotifyHash, "hincrby", c.args[1]);
  c.reply.Integer(value);
}

void HIncrByFloatCmd(ShardCommand& c) {
  long double incr;
  if (!cmd::ParseLongDouble(c.args[3], &incr)) {
    c.reply.Error(cmd::kNotFloatErr);
    return;
  }
  if (std::isnan(incr) || std::isinf(incr)) {
    c.reply.Error("ERR value is NaN or Infinity");
    return;
  }
  HashValue* h = HashForWrite(c, c.args[1]);
  if (h == nullptr) return;
  long double value = 0;
  if (std::optional<std::string_view> old = h->Get(c.args[2])) {
    if (!cmd::ParseLongDouble(*old, &value)) {
      c.reply.Error(kHashNotFloatErr);
      return;
    }
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    c.reply.Error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string formatted = cmd::FormatLongDouble(value);
  Limits limits = LimitsOf(c.config);
  h->Set(c.args[2], formatted, limits.max_entries, limits.max_value);
  NotifyKeyspaceEvent(c, kNotifyHash, "hincrbyfloat", c.args[1]);
  c.reply.Bulk(formatted);
}

// ---------------------------------------------------------------------------------------------
// HRANDFIELD.

using FieldValue = std::pair<std::string_view, std::string_view>;

// One pick of a reply: [field, value] in RESP3 with values, flat otherwise.
void ReplyPick(ReplyBuilder& reply, const FieldValue& fv, bool with_values) {
  if (with_values && reply.resp3()) reply.ArrayHeader(2);
  reply.Bulk(fv.first);
  if (with_values) reply.Bulk(fv.second);
}

void ReplyPicksHeader(ReplyBuilder& reply, uint64_t count, bool with_values) {
  reply.ArrayHeader(with_values && !reply.resp3() ? count * 2 : count);
}

std::vector<FieldValue> AllEntries(const HashValue& h) {
  std::vector<FieldValue> all;
  all.reserve(h.size());
  for (HashValue::Cursor it(h); !it.Done(); it.Next()) all.emplace_back(it.field(), it.value());
  return all;
}

// Redis's hrandfieldWithCountCommand.
void RandomFieldsWithCount(ShardCommand& c, int64_t l, bool with_values) {
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  if (h == nullptr) {
    c.reply.ArrayHeader(0);
    return;
  }
  uint64_t size = h->size();
  bool unique = l >= 0;
  uint64_t count = l >= 0 ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  if (count == 0) {
    c.reply.ArrayHeader(0);
    return;
  }
  // Case 1: a negative count (repeats allowed, random order), or a single pick.
  if (!unique || count == 1) {
    if (count > kMaxRandomPicks) {
      c.reply.Error(kOutOfRangeErr);
      return;
    }
    ReplyPicksHeader(c.reply, count, with_values);
    if (h->is_listpack()) {
      std::vector<FieldValue> all = AllEntries(*h);
      for (uint64_t i = 0; i < count; ++i) {
        ReplyPick(c.reply, all[c.shard.Random() % all.size()], with_values);
      }
    } else {
      for (uint64_t i = 0; i < count; ++i) {
        ReplyPick(c.reply, h->Random(c.shard.Random()), with_values);
      }
    }
    return;
  }
  // Case 2: at least the whole hash: all of it, in iteration order.
  if (count >= size) {
    ReplyPicksHeader(c.reply, size, with_values);
    for (HashValue::Cursor it(*h); !it.Done(); it.Next()) {
      ReplyPick(c.reply, {it.field(), it.value()}, with_values);
    }
    return;
  }
  ReplyPicksHeader(c.reply, count, with_values);
  if (h->is_listpack()) {
    // Distinct picks in listpack order (lpRandomPairsUnique): selection sampling.
    uint64_t needed = count, left = size;
    for (HashValue::Cursor it(*h); !it.Done() && needed > 0; it.Next(), --left) {
      if (c.shard.Random() % left < needed) {
        ReplyPick(c.reply, {it.field(), it.value()}, with_values);
        --needed;
      }
    }
    return;
  }
  if (count * 3 > size) {
    // Case 3: many of the fields: a partial shuffle of all of them.
    std::vector<FieldValue> all = AllEntries(*h);
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t j = i + c.shard.Random() % (all.size() - i);
      std::swap(all[i], all[j]);
      ReplyPick(c.reply, all[i], with_values);
    }
    return;
  }
  // Case 4: few of many: random picks until `count` distinct ones.
  std::unordered_set<std::string_view> picked;
  while (picked.size() < count) {
    FieldValue fv = h->Random(c.shard.Random());
    if (picked.insert(fv.first).second) ReplyPick(c.reply, fv, with_values);
  }
}

void HRandFieldCmd(ShardCommand& c) {
  if (c.args.size() >= 3) {
    int64_t l;
    if (!cmd::ParseInt64(c.args[2], &l)) {
      c.reply.Error(cmd::kNotIntErr);
      return;
    }
    if (l < -INT64_MAX) {
      c.reply.Error(kCountRangeErr);
      return;
    }
    bool with_values = false;
    if (c.args.size() > 4 ||
        (c.args.size() == 4 && !cmd::EqualsIgnoreCase(c.args[3], "withvalues"))) {
      c.reply.Error(cmd::kSyntaxErr);
      return;
    }
    if (c.args.size() == 4) {
      with_values = true;
      if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) {
        c.reply.Error(kOutOfRangeErr);
        return;
      }
    }
    RandomFieldsWithCount(c, l, with_values);
    return;
  }
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  if (h == nullptr) {
    c.reply.Null();
    return;
  }
  c.reply.Bulk(h->Random(c.shard.Random()).first);
}

// ---------------------------------------------------------------------------------------------
// HSCAN.

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

// Redis's scanGenericCommand over a hash: about COUNT fields a call from a hashtable (everything
// at once from a listpack); MATCH filters on the field after the walk.
void HScanCmd(ShardCommand& c) {
  uint64_t cursor;
  if (!ParseScanCursor(c.args[2], &cursor)) {
    c.reply.Error(kInvalidCursorErr);
    return;
  }
  bool wrong_type;
  HashValue* h = ReadHash(c, c.args[1], &wrong_type);
  if (wrong_type) return;
  if (h == nullptr) {
    c.reply.ArrayHeader(2);
    c.reply.Bulk("0");
    c.reply.ArrayHeader(0);
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
  std::vector<FieldValue> found;
  uint64_t visited = 0;  // entries seen before filtering
  auto collect = [&](std::string_view f, std::string_view v) {
    ++visited;
    if (!use_pattern || GlobMatch(pattern, f)) found.emplace_back(f, v);
  };
  // Redis doubles COUNT for a hashtable hash (it counts fields and values, two per entry) and
  // takes at most ten times that many bucket steps.
  int64_t max_iterations = count > INT64_MAX / 20 ? INT64_MAX : count * 20;
  do {
    cursor = h->Scan(cursor, collect);
  } while (cursor != 0 && max_iterations-- > 0 && visited < static_cast<uint64_t>(count));
  c.reply.ArrayHeader(2);
  c.reply.Bulk(std::to_string(cursor));
  c.reply.ArrayHeader(found.size() * 2);
  for (const FieldValue& fv : found) {
    c.reply.Bulk(fv.first);
    c.reply.Bulk(fv.second);
  }
}

CommandSpec HashSpec(std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, std::string_view since, ShardHandler handler) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .first_key = 1,
                     .last_key = 1,
                     .key_step = 1,
                     .acl_categories = acl,
                     .group = "hash",
                     .summary = summary,
                     .since = since,
                     .on_shard = handler};
}

}  // namespace

void RegisterHashCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kWriteFast = kCmdWrite | kCmdDenyOom | kCmdFast;
  constexpr uint32_t kReadFast = kCmdReadonly | kCmdFast;
  constexpr std::string_view kWriteAcl = "@write @hash @fast";
  constexpr std::string_view kReadFastAcl = "@read @hash @fast";
  constexpr std::string_view kReadSlowAcl = "@read @hash @slow";
  const std::vector<CommandSpec> specs = {
      HashSpec("hset", -4, kWriteFast, kWriteAcl, "Set the string value of a hash field", "2.0.0",
               HSetCmd),
      HashSpec("hsetnx", 4, kWriteFast, kWriteAcl,
               "Set the value of a hash field, only if the field does not exist", "2.0.0",
               HSetNxCmd),
      HashSpec("hget", 3, kReadFast, kReadFastAcl, "Get the value of a hash field", "2.0.0",
               HGetCmd),
      HashSpec("hmget", -3, kReadFast, kReadFastAcl, "Get the values of all the given hash fields",
               "2.0.0", HMGetCmd),
      HashSpec("hmset", -4, kWriteFast, kWriteAcl, "Set multiple hash fields to multiple values",
               "2.0.0", HMSetCmd),
      HashSpec("hdel", -3, kCmdWrite | kCmdFast, kWriteAcl, "Delete one or more hash fields",
               "2.0.0", HDelCmd),
      HashSpec("hlen", 2, kReadFast, kReadFastAcl, "Get the number of fields in a hash", "2.0.0",
               HLenCmd),
      HashSpec("hstrlen", 3, kReadFast, kReadFastAcl, "Get the length of the value of a hash field",
               "3.2.0", HStrlenCmd),
      HashSpec("hexists", 3, kReadFast, kReadFastAcl, "Determine if a hash field exists", "2.0.0",
               HExistsCmd),
      HashSpec("hkeys", 2, kCmdReadonly, kReadSlowAcl, "Get all the fields in a hash", "2.0.0",
               HKeysCmd),
      HashSpec("hvals", 2, kCmdReadonly, kReadSlowAcl, "Get all the values in a hash", "2.0.0",
               HValsCmd),
      HashSpec("hgetall", 2, kCmdReadonly, kReadSlowAcl, "Get all the fields and values in a hash",
               "2.0.0", HGetAllCmd),
      HashSpec("hincrby", 4, kWriteFast, kWriteAcl,
               "Increment the integer value of a hash field by the given number", "2.0.0",
               HIncrByCmd),
      HashSpec("hincrbyfloat", 4, kWriteFast, kWriteAcl,
               "Increment the float value of a hash field by the given amount", "2.6.0",
               HIncrByFloatCmd),
      HashSpec("hrandfield", -2, kCmdReadonly, kReadSlowAcl,
               "Get one or multiple random fields from a hash", "6.2.0", HRandFieldCmd),
      HashSpec("hscan", -3, kCmdReadonly, kReadSlowAcl,
               "Incrementally iterate hash fields and associated values", "2.8.0", HScanCmd),
  };
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
