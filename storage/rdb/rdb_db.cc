// RDB <-> keyspace glue (see rdb_db.h). The only RDB file that touches Entry fields.
#include "storage/rdb/rdb_db.h"

namespace shardis::rdb {

void SerializeDb(Db& db, const SaveOptions& options, DbSection* out) {
  // Nothing inserts or erases during the walk (expired keys met are only marked dead), so the
  // scan returns every key exactly once.
  uint64_t cursor = 0;
  do {
    cursor = db.Scan(cursor, 256, [&](Entry& e) {
      int64_t expire = e.has_expiry() ? e.expire_at_ms() : -1;
      AppendKeyRecord(&out->bytes, e.key(), expire, e.type(), e.str(), e.collection(), options);
      ++out->keys;
      if (expire >= 0) ++out->expires;
    });
  } while (cursor != 0);
}

bool DumpKey(Db& db, std::string_view key, const SaveOptions& options, std::string* payload) {
  Entry* e = db.Lookup(key);
  if (e == nullptr) return false;
  *payload = CreateDumpPayload(e->type(), e->str(), e->collection(), options);
  return true;
}

bool KeyExists(Db& db, std::string_view key) { return db.Find(key) != nullptr; }

void StoreKey(Db& db, std::string_view key, Value value, int64_t expire_ms, int64_t idle_s) {
  Entry* e = db.Set(key, std::move(value));
  if (expire_ms >= 0) db.SetExpiry(e, expire_ms);
  if (idle_s >= 0) {
    int64_t now_ms = db.now_ms();
    e->set_access_time(now_ms > idle_s * 1000 ? now_ms - idle_s * 1000 : 0);
  }
}

bool DeleteKey(Db& db, std::string_view key) { return db.Erase(key); }

}  // namespace shardis::rdb
