// RDB <-> keyspace glue (see rdb_db.h). The only RDB file that touches Entry fields.
#include "storage/rdb/rdb_db.h"

#include <algorithm>
#include <vector>

namespace shardis::rdb {

void SerializeDb(Db& db, const SaveOptions& options, DbSection* out) {
  // Collect first: Db::Scan deletes expired keys it meets, which may move buckets between the
  // two tables of a rehash; sorting the pointers drops any entry a moved bucket showed twice.
  std::vector<Entry*> entries;
  entries.reserve(db.size());
  uint64_t cursor = 0;
  do {
    cursor = db.Scan(cursor, &entries);
  } while (cursor != 0);
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  for (const Entry* e : entries) {
    int64_t expire = e->has_expiry() ? e->expire_at_ms : -1;
    AppendKeyRecord(&out->bytes, e->key, expire, e->value.type, e->value.str, e->value.coll.get(),
                    options);
    ++out->keys;
    if (expire >= 0) ++out->expires;
  }
}

bool DumpKey(Db& db, std::string_view key, const SaveOptions& options, std::string* payload) {
  Entry* e = db.Lookup(key);
  if (e == nullptr) return false;
  *payload = CreateDumpPayload(e->value.type, e->value.str, e->value.coll.get(), options);
  return true;
}

bool KeyExists(Db& db, std::string_view key) { return db.Find(key) != nullptr; }

void StoreKey(Db& db, std::string_view key, Value value, int64_t expire_ms, int64_t idle_s) {
  Entry* e = db.Set(key, std::move(value));
  if (expire_ms >= 0) db.SetExpiry(e, expire_ms);
  if (idle_s >= 0) {
    int64_t now_s = db.now_ms() / 1000;
    e->access_time_s = static_cast<uint32_t>(now_s > idle_s ? now_s - idle_s : 0);
  }
}

bool DeleteKey(Db& db, std::string_view key) { return db.Erase(key); }

}  // namespace shardis::rdb
