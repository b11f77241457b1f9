// Keyspace: the hash table of one database of one shard (key -> Entry).
//
// Owned by one shard and used only on that shard's thread. A chained table with power-of-two
// bucket arrays and incremental rehashing, as Redis's dict: while it grows or shrinks, two bucket
// arrays coexist and every operation moves a few buckets, so no single call stalls the loop
// (RehashFor() moves more in the active cycle's time slice).
//
// Scan() walks buckets with a reverse-binary cursor (Redis's dictScan): every key present for the
// whole of a scan is returned at least once, across any number of resizes in between; a key may
// be returned more than once.
//
// Invariants: an Entry's address is stable until it is erased; `hash` is the entry key's hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "storage/value.h"

namespace shardis {

inline constexpr int64_t kNoExpiry = -1;

struct Entry {
  Entry* next = nullptr;
  uint64_t hash = 0;
  int64_t expire_at_ms = kNoExpiry;  // absolute unix time in ms, or kNoExpiry
  uint32_t access_time_s = 0;        // for OBJECT IDLETIME
  std::string key;
  Value value;

  bool has_expiry() const { return expire_at_ms != kNoExpiry; }
};

class Keyspace {
 public:
  Keyspace() = default;
  ~Keyspace();
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  size_t size() const { return tables_[0].used + tables_[1].used; }
  size_t bucket_count() const { return tables_[0].size() + tables_[1].size(); }
  bool rehashing() const { return rehash_index_ >= 0; }

  Entry* Find(std::string_view key);
  // Returns the entry for `key`, inserting an empty string value when absent; *inserted tells.
  Entry* FindOrInsert(std::string_view key, bool* inserted);
  // Removes and returns the entry (caller owns it), or null.
  std::unique_ptr<Entry> Detach(std::string_view key);
  bool Erase(std::string_view key) { return Detach(key) != nullptr; }
  void Clear();

  // Calls fn for the entries of the buckets the cursor designates and returns the next cursor
  // (0 when the scan is complete). fn must not insert or erase.
  uint64_t Scan(uint64_t cursor, const std::function<void(Entry&)>& fn);

  // A random entry (null when empty); fair enough for RANDOMKEY and eviction sampling.
  Entry* Random(uint64_t random_bits);

  // Moves buckets to the new table for about `budget_us` microseconds. Returns true if a rehash
  // is still in progress.
  bool RehashFor(int64_t budget_us);
  // Starts shrinking when the table is mostly empty (called from the shard's periodic work).
  void MaybeShrink();

  static uint64_t HashKey(std::string_view key);

 private:
  struct Table {
    std::unique_ptr<Entry*[]> buckets;
    uint64_t mask = 0;  // size - 1, meaningful when buckets != null
    size_t used = 0;
    size_t size() const { return buckets ? mask + 1 : 0; }
  };

  void RehashStep(int buckets);
  void MaybeGrow();
  void StartResize(size_t new_size);
  Entry* FindWithHash(std::string_view key, uint64_t hash);

  Table tables_[2];
  int64_t rehash_index_ = -1;
};

}  // namespace shardis
