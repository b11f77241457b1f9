// Db: one logical database (SELECT n) of one shard: a Keyspace plus expiry semantics.
//
// Owned by the shard and used only on its thread. Lookups expire lazily: a key whose time has
// passed is deleted when found and reported absent. ActiveExpire() deletes expired keys nobody
// reads, walking the table with a scan cursor in time-bounded slices. The current time comes from
// the shard's ShardClock, which the shard sets once per command (as Redis caches mstime per
// command, so one command sees one instant).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/keyspace.h"
#include "storage/notify.h"

namespace shardis {

struct ShardClock {
  int64_t now_ms = 0;
};

// Keys that became ready for blocked clients (a write created a key someone waits on, or a
// command signalled it), as (db index, key). One list per shard, drained by the shard's reactor
// after each command.
using ReadyKeys = std::vector<std::pair<int, std::string>>;

struct ShardStats {
  uint64_t expired_keys = 0;
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  uint64_t evicted_keys = 0;
};

// Where an incremental snapshot's entries go (storage/rdb/rdb_snapshot.h implements it). Save is
// called at most once per entry per snapshot, on the shard's thread, with the entry as it was at
// the snapshot instant (before any change since); it must not change the table.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void Save(const Entry& entry) = 0;
};

class Db {
 public:
  Db(const ShardClock* clock, ShardStats* stats, int index = 0, ReadyKeys* ready = nullptr)
      : clock_(clock), stats_(stats), index_(index), ready_(ready) {}

  // Entry pointers follow the Keyspace's rule: valid until the next insert or erase in this Db
  // (FindOrInsert of a new key, Set, Erase, Take, Clear, and the maintenance calls). Find and
  // Lookup never move entries: a key found expired is marked dead (logically deleted, counted
  // and reported to WATCH at once) and physically erased later by Maintain / ActiveExpire.

  // The live entry for key, or null.
  Entry* Find(std::string_view key);
  // Find() that also counts a keyspace hit or miss and updates the access time (reads by
  // commands use this; internal probes use Find()).
  Entry* Lookup(std::string_view key);
  // The live entry for key, inserting an empty string when absent; *inserted tells.
  Entry* FindOrInsert(std::string_view key, bool* inserted);
  // Sets key to value, removing any expiry unless keep_ttl.
  Entry* Set(std::string_view key, Value value, bool keep_ttl = false);
  // Deletes key; true if it was live.
  bool Erase(std::string_view key);
  // Deletes key to free memory (maxmemory): a deletion for WATCH and blocked clients, counted
  // in evicted_keys when it was live. True if an entry was removed (live, expired or dead).
  bool Evict(std::string_view key);
  // Removes key and hands over its value and expiry (RENAME, MOVE); nullopt if not live.
  struct Taken {
    Value value;
    int64_t expire_at_ms = kNoExpiry;
  };
  std::optional<Taken> Take(std::string_view key);
  void Clear();

  // Value changes on a live entry (they keep its expiry and its place).
  void Assign(Entry* entry, Value value) { keys_.Assign(entry, std::move(value)); }
  void SetString(Entry* entry, std::string_view s, StringEncoding encoding) {
    keys_.SetString(entry, s, encoding);
  }
  // Resizes a string to n bytes (zero-filled growth), encoding raw, and returns its bytes for
  // in-place changes (valid until the entry changes again).
  char* ResizeString(Entry* entry, size_t n) { return keys_.ResizeString(entry, n); }
  void SetExpiry(Entry* entry, int64_t at_ms);
  void ClearExpiry(Entry* entry);
  bool IsExpired(const Entry& entry) const {
    return entry.has_expiry() && entry.expire_at_ms() < clock_->now_ms;  // Redis: now > when
  }

  size_t size() const { return keys_.size() - dead_; }
  size_t expires_count() const { return expires_; }
  int64_t now_ms() const { return clock_->now_ms; }

  // One step of a SCAN over this db: calls fn for at least `count` live keys (fewer when a
  // segment of the table ends first) and returns the next cursor. Expired keys met on the way
  // are deleted (marked dead). fn must not insert or erase.
  uint64_t Scan(uint64_t cursor, size_t count, const std::function<void(Entry&)>& fn);
  Entry* RandomLive(uint64_t random_bits);

  // Deletes expired keys for at most budget_us microseconds; returns how many it deleted.
  size_t ActiveExpire(int64_t budget_us);
  // Periodic work: erases the entries lookups found expired.
  void Maintain(int64_t budget_us);

  Keyspace& keyspace() { return keys_; }

  // Incremental snapshot (copy-on-write without fork). Between BeginSnapshot and EndSnapshot,
  // every entry present at the start is handed to `sink` exactly once, as it was at the start:
  // either by SnapshotStep (the background walk, in Scan order) or by the pre-write hook, which
  // every path that reaches an entry through this Db runs first (Find, Lookup, FindOrInsert, Set,
  // Erase, Evict, Take, Scan, RandomLive; Clear drains the rest first). Keys inserted meanwhile
  // are not part of it. Dead entries (logically deleted before the start) are skipped.
  void BeginSnapshot(SnapshotSink* sink) {
    keys_.FlipSnapshotEpoch();
    snapshot_ = sink;
  }
  // One step of the walk from *cursor (0 at the start): visits at least `count` entries unless
  // a segment ends first. True when the walk is complete (then call EndSnapshot).
  bool SnapshotStep(uint64_t* cursor, size_t count);
  // Hands every entry not yet saved to the sink now (FLUSHDB during a snapshot, shutdown).
  void DrainSnapshot();
  void EndSnapshot() { snapshot_ = nullptr; }
  bool in_snapshot() const { return snapshot_ != nullptr; }
  // The pre-write hook: saves `e` for the running snapshot unless it is done already.
  void PreWrite(Entry* e) {
    if (snapshot_ != nullptr && !keys_.SnapshotDone(*e)) SaveForSnapshot(e);
  }

  // Where expiry ("expired") and key creation ("new") events go; null: nowhere.
  void set_notifier(KeyspaceNotifier* notifier) { notifier_ = notifier; }
  void Notify(uint32_t type, const char* event, std::string_view key) {
    if (notifier_ != nullptr) notifier_->Notify(type, event, key, index_);
  }
  int index() const { return index_; }
  void set_index(int index) { index_ = index; }

  // Blocking support. WatchKey/UnwatchKey count the clients blocked on a key; a key that gets
  // created while watched (FindOrInsert), or is signalled (SignalKeyReady, for writes to an
  // existing value such as XADD), is appended to the shard's ReadyKeys once per write.
  void WatchKey(const std::string& key) { ++watched_[key]; }
  void UnwatchKey(const std::string& key);
  void SignalKeyReady(std::string_view key);
  bool has_watched_keys() const { return !watched_.empty(); }

  // WATCH support: a version per watched key, bumped by every write that reaches the key through
  // this Db (creation, FindOrInsert, deletion, expiry, Clear) and by the dispatcher after each
  // write command on its keys (Touch). Only keys some client watches are tracked.
  uint64_t Watch(const std::string& key);  // registers one watcher; returns the current version
  void Unwatch(const std::string& key);
  // The key's current version (expiring it first if its time has passed, which counts as a touch).
  uint64_t WatchVersion(const std::string& key);
  void Touch(std::string_view key) {
    if (!watch_versions_.empty()) TouchSlow(key);
  }
  // SWAPDB, before the data moves: WATCHed keys that exist here or in `other` change (Redis's
  // touchAllWatchedKeysInDb).
  void TouchWatchedExisting(Db& other);
  // SWAPDB, after the data moved: what clients registered on a database index (WATCHed keys'
  // versions, keys that blocked clients wait for) stays with the index, as in Redis, so the two
  // Dbs trade it back; then this index's waited-for keys that exist now are ready.
  void TradeClientState(Db& other);
  void SignalWaitedKeysReady();
  // FLUSHDB/FLUSHALL: only watched keys that exist (or expire now) change, as in Redis.
  void TouchLive();
  bool has_watches() const { return !watch_versions_.empty(); }
  // Told each key found expired (client-side caching invalidation); null: nobody.
  using ExpiryListener = void (*)(void* context, std::string_view key);
  void set_expiry_listener(ExpiryListener fn, void* context) {
    expiry_listener_ = fn;
    expiry_context_ = context;
  }

 private:
  // Bookkeeping of a key that just expired: WATCH touch, stats, expiry count.
  void CountExpired(const Entry& entry);
  void MarkDead(Entry* entry);
  void ReapDead();
  void TouchSlow(std::string_view key);
  void SaveForSnapshot(Entry* e);

  ExpiryListener expiry_listener_ = nullptr;
  void* expiry_context_ = nullptr;
  const ShardClock* clock_;
  ShardStats* stats_;
  Keyspace keys_;
  size_t expires_ = 0;                  // live keys with an expiry
  size_t dead_ = 0;                     // entries marked dead, not yet erased
  std::vector<std::string> dead_keys_;  // their keys (maybe stale), for Maintain
  uint64_t expire_cursor_ = 0;
  int index_;
  ReadyKeys* ready_;
  KeyspaceNotifier* notifier_ = nullptr;
  SnapshotSink* snapshot_ = nullptr;              // a snapshot is running (see BeginSnapshot)
  std::unordered_map<std::string, int> watched_;  // key -> blocked clients (usually empty)
  struct WatchState {
    uint64_t version = 0;
    int watchers = 0;
  };
  std::unordered_map<std::string, WatchState> watch_versions_;  // WATCHed keys (usually empty)
  uint64_t touch_counter_ = 0;
};

}  // namespace shardis
