// RDB files: the header (magic, version, AUX fields), per-database sections (SELECTDB, RESIZEDB,
// key records with their expiry), the EOF opcode and the CRC64 trailer; writing a file from
// pieces serialized elsewhere (temp file, fsync, rename) and parsing a whole file.
//
// Pure code over byte buffers plus POSIX file calls; no keyspace knowledge (rdb_db.h is the
// glue). Runs on whichever thread saves or loads (the server's main thread at start-up, a
// connection's reactor for SAVE, a background thread for BGSAVE).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/rdb/rdb_codec.h"

namespace shardis::rdb {

// "REDIS0010" and the AUX fields (name, value), as redis-server writes redis-ver, redis-bits,
// ctime, used-mem, aof-base.
std::string FileHeader(const std::vector<std::pair<std::string, std::string>>& aux);
// The function libraries (their Lua code), as redis-server 7.0 writes them after the AUX fields:
// per library the FUNCTION2 opcode and the code as an RDB string. Appended to the header.
void AppendFunctions(std::string* out, const std::vector<std::string>& codes);
// One key record: [EXPIRETIME_MS t] type key object.
void AppendKeyRecord(std::string* out, std::string_view key, int64_t expire_ms, ValueType type,
                     std::string_view str, const Collection* coll, const SaveOptions& options);
// SELECTDB db, RESIZEDB keys expires.
void AppendDbHeader(std::string* out, int db, uint64_t keys, uint64_t expires);

// The serialized keys of one database of one shard.
struct DbSection {
  uint64_t keys = 0;
  uint64_t expires = 0;
  std::string bytes;  // key records (following those in spill_path, if any)
  // Records written out to a temp file earlier (an incremental BGSAVE bounds its memory so),
  // in order, before `bytes`; "" when none. WriteFile copies them; their owner removes the file.
  std::string spill_path;
};

// Writes a whole file: header, then for each db index (sections[db] holds every shard's piece,
// merged under one SELECTDB/RESIZEDB; dbs without keys are left out), EOF and the CRC64 (0 when
// !checksum). Writes to "temp-<pid>.rdb" in `dir`, fsyncs and renames to `dir`/`filename`.
// Returns an error text ("" on success). *bytes_written gets the file size.
std::string WriteFile(const std::string& dir, const std::string& filename,
                      const std::string& header, const std::vector<std::vector<DbSection*>>& dbs,
                      bool checksum, uint64_t* bytes_written);

// The bytes WriteFile writes, in memory (a transfer to a replica or `redis-cli --rdb`). Returns
// "" when a section's spill file could not be read.
std::string FileBytes(const std::string& header, const std::vector<std::vector<DbSection*>>& dbs,
                      bool checksum);

// A key read from a file.
struct LoadedKey {
  int db = 0;
  std::string key;
  int64_t expire_ms = -1;  // -1: none
  int64_t idle_s = -1;     // IDLE opcode, -1: none
  Value value;
};
struct LoadStats {
  uint64_t keys = 0;
  uint64_t expired_skipped = 0;
  uint64_t empty_skipped = 0;
  int version = 0;
  std::vector<std::string> functions;  // the function libraries' code (FUNCTION2 records)
};
// Receives each key; returns an error text ("" to go on), e.g. for a duplicate key.
using KeySink = std::function<std::string(LoadedKey&&)>;

// Called every kProgressKeys keys with the file offset reached and the keys read so far.
using LoadProgress = std::function<void(uint64_t offset, uint64_t keys)>;
inline constexpr uint64_t kProgressKeys = 1000000;

// Parses a whole RDB file. Keys already expired at `now_ms` are skipped (as a master does).
// Returns "" on success, else an error text naming the file offset.
std::string ParseFile(std::string_view data, const LoadLimits& limits, int64_t now_ms, int num_dbs,
                      const KeySink& sink, LoadStats* stats,
                      const LoadProgress& progress = nullptr);

}  // namespace shardis::rdb
