// Serialization of one value to and from Redis's RDB object encoding (RDB version 10, what
// redis-server 7.0 writes), and DUMP / RESTORE payloads (object + 2-byte RDB version + CRC64).
//
// Independent of the keyspace: the encoder takes a value's type, its string bytes (strings) and
// its Collection (other types); the decoder returns a Value. Encodings written: strings (integer-
// encoded, LZF, raw), lists as quicklist 2 of listpack nodes, sets as intset or hashtable, hashes
// as listpack or hashtable, sorted sets as listpack or skiplist (binary doubles), streams as
// STREAM_LISTPACKS_2 (no consumer groups: Shardis has none). Every encoding redis-server 7.0
// writes can be read, plus older ones (ziplist, zipmap, quicklist v1, zset v1, set listpack,
// stream listpacks v1/v3; consumer groups are read and dropped). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/rdb/rdb_format.h"
#include "storage/stream_value.h"
#include "storage/value.h"
#include "storage/zset_value.h"

namespace shardis::rdb {

struct SaveOptions {
  bool compress = true;  // rdbcompression
  int list_fill = -2;    // list-max-listpack-size: the size of the listpack nodes written
};

// Encoding thresholds applied to loaded values (the server's config), as Redis converts on load.
struct LoadLimits {
  int list_fill = -2;
  size_t hash_max_listpack_entries = 512;
  size_t hash_max_listpack_value = 64;
  size_t set_max_intset_entries = 512;
  ZSetLimits zset;
  StreamNodeLimits stream;
  // DEBUG SET-SKIP-CHECKSUM-VALIDATION 1: RESTORE payloads and RDB files are not checked
  // against their CRC64 (Redis's tests feed corrupt payloads to the decoder so).
  bool skip_checksum = false;
};

// The RDB type byte a value is written with.
uint8_t ObjectType(ValueType type, const Collection* coll);
// Appends the object's encoding (without its type byte).
void SaveObject(Writer& w, ValueType type, std::string_view str, const Collection* coll,
                const SaveOptions& options);

enum class LoadResult : uint8_t { kOk, kEmpty, kError };
// Reads an object of RDB type `rdb_type`. kEmpty: a valid but empty collection (Redis skips such
// keys when loading a file and refuses them in RESTORE). kError: r.error() says why and where.
LoadResult LoadObject(uint8_t rdb_type, Reader& r, const LoadLimits& limits, Value* out);

// DUMP: type byte, object, RDB version (2 bytes LE), CRC64 of all that (8 bytes LE).
std::string CreateDumpPayload(ValueType type, std::string_view str, const Collection* coll,
                              const SaveOptions& options);
// RESTORE's checks, with redis-server 7.0's outcomes.
enum class RestoreStatus : uint8_t {
  kOk,
  kBadVersionOrChecksum,  // "ERR DUMP payload version or checksum are wrong"
  kBadFormat,             // "ERR Bad data format"
};
RestoreStatus ParseDumpPayload(std::string_view payload, const LoadLimits& limits, Value* out);

}  // namespace shardis::rdb
