// The one place where RDB code meets the keyspace (Db / Entry): serializing a database's live
// keys, inserting loaded or restored keys, and DUMP of one entry. Everything else in storage/rdb
// works on (type, string bytes, Collection*) and Value, so a change of the keyspace internals
// touches only this file. Runs on the thread of the shard that owns the Db.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/db.h"
#include "storage/rdb/rdb_file.h"

namespace shardis::rdb {

// Appends every live key of `db` (key records, with expiry) to *out and counts them. Walks the
// table once (Db::Scan) and does not modify it otherwise; runs in one go on the shard's thread.
void SerializeDb(Db& db, const SaveOptions& options, DbSection* out);

// DUMP: the payload of `key`'s value, or false when the key does not exist.
bool DumpKey(Db& db, std::string_view key, const SaveOptions& options, std::string* payload);

// True when `key` exists (live).
bool KeyExists(Db& db, std::string_view key);

// Stores a value (replacing any), with an absolute expiry (-1: none) and, when idle_s >= 0, an
// access time idle_s seconds before now (OBJECT IDLETIME).
void StoreKey(Db& db, std::string_view key, Value value, int64_t expire_ms, int64_t idle_s);

// Deletes a key; true when it existed.
bool DeleteKey(Db& db, std::string_view key);

}  // namespace shardis::rdb
