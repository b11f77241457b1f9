// Helpers shared by the sorted-set command files (zset_family.cc: single-key commands, ranges,
// pops and blocking pops; zset_store_family.cc: ZUNION/ZINTER/ZDIFF[STORE], ZINTERCARD). They
// run on whichever thread the calling handler runs on and touch only what they are given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"
#include "server/command.h"
#include "server/config.h"
#include "storage/db.h"
#include "storage/zset_value.h"

namespace shardis::zset {

inline constexpr std::string_view kNanErr = "ERR resulting score is not a number (NaN)";

inline ZSetLimits LimitsOf(const Config& config) {
  return ZSetLimits{
      static_cast<size_t>(config.zset_max_listpack_entries < 0 ? 0
                                                               : config.zset_max_listpack_entries),
      static_cast<size_t>(config.zset_max_listpack_value < 0 ? 0 : config.zset_max_listpack_value)};
}

// Redis's lookupKeyRead: counts a keyspace hit or miss and updates the access time.
inline Entry* LookupRead(Db& db, std::string_view key) { return db.Lookup(key); }

// Redis's lookupKeyWrite: no statistics, updates the access time.
inline Entry* LookupWrite(Db& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e != nullptr) e->set_access_time(db.now_ms());
  return e;
}

inline bool IsZSet(const Entry* e) { return e->type() == ValueType::kZSet; }
inline ZSetValue* ZSetOf(const Entry* e) { return e->As<ZSetValue>(); }

// Stores a computed sorted set (entries sorted, distinct) under `key`, replacing what was there,
// or deletes `key` when there are none (the *STORE commands). Wakes clients blocked on the key.
// `event`: the keyspace notification of a stored result ("zunionstore", "geosearchstore"...).
void StoreResult(Db& db, std::string_view key, std::vector<ZEntry> sorted, const char* event,
                 const ZSetLimits& limits);

// Number of reply elements announced for `count` (member, score) pairs: flat in RESP2 when
// with scores, one [member, score] array per pair in RESP3.
inline size_t PairsLength(const ReplyBuilder& reply, size_t count, bool withscores) {
  return withscores && !reply.resp3() ? count * 2 : count;
}
// One element of a WITHSCORES-style reply.
inline void ReplyPair(ReplyBuilder& reply, std::string_view member, double score, bool withscores) {
  if (withscores && reply.resp3()) reply.ArrayHeader(2);
  reply.Bulk(member);
  if (withscores) reply.Double(score);
}

// Redis's getDoubleFromObject (string2d): no leading space, no NaN, nothing after the number.
inline bool ParseScore(std::string_view s, double* out) { return cmd::ParseDouble(s, out); }

// The specs of zset_family.cc, then of zset_store_family.cc.
void RegisterCommands(std::vector<CommandSpec>* table);
void RegisterStoreCommands(std::vector<CommandSpec>* table);

}  // namespace shardis::zset
