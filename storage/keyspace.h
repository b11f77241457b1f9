// Keyspace: the hash table of one database of one shard (key -> Entry), built for small keys.
//
// Owned by one shard and used only on that shard's thread.
//
// Layout. The table is a directory of segments (extendible hashing): the top `depth_` bits of a
// key's 64-bit hash pick a directory slot, which points at a segment; a segment of local depth d
// is shared by the 2^(depth_ - d) slots that agree on the top d bits. A segment is one block of
// 16-byte Entries, an open-addressing table with linear probing kept sorted by home slot
// ("Robin Hood" order): a key's home is derived from the low 16 bits of its hash (its tag), which
// each Entry keeps, so probing compares tags and follows homes without touching the heap. An
// Entry points at one heap block holding the key's bytes and the value's (a string's bytes, or
// the owned Collection*), plus the expiry when the key has one; everything else (type, encoding,
// lengths, access clock) is packed in the Entry. A 16-byte key with a 32-byte value costs one
// 48-byte block plus its share of the segment: no per-key object, no separate expiry table.
//
// Growth is always small steps: a full segment is rebuilt into the next size class (segments
// step through jemalloc's size classes 16K, 20K, 24K, 28K, 32K, so the load stays between 0.75
// and 15/16) or, at the largest size, split in two (doubling the directory, an array of
// pointers, when needed). No operation ever moves more than one segment's entries, so no single
// command or loop turn stalls on a resize of millions of keys. Segments shrink when mostly empty.
//
// Invariants:
//  - in a segment, entry i sits at or after its home slot, every slot between its home and i is
//    occupied, and homes never decrease along the slots;
//  - an Entry* is valid until the next insert or erase in this Keyspace (both move entries
//    within a segment); updating an entry's value or expiry keeps it where it is;
//  - a "dead" entry (expired, found by a lookup, not yet erased) stays until Db reaps it.
//
// Scan() walks the hash space in order, segment by segment and, inside a segment, by tag: every
// key present for the whole of a scan is returned at least once, across any number of segment
// rebuilds and splits in between.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/value.h"

namespace shardis {

inline constexpr int64_t kNoExpiry = -1;

class Keyspace;

// How entries track accesses, process-wide (maxmemory-policy decides; every shard thread reads it
// with relaxed loads, the config code stores it). With lfu off, an entry's 24 access bits are an
// LRU clock of seconds; with lfu on they are Redis's LFU pair: 16 bits of last decrement time in
// minutes and an 8-bit logarithmic counter. Switching at run time reinterprets old bits, as in
// Redis ("LRU and LFU data will take some time to adjust").
struct AccessPolicy {
  std::atomic<bool> lfu{false};
  std::atomic<int> lfu_log_factor{10};
  std::atomic<int> lfu_decay_time{1};
};
AccessPolicy& GlobalAccessPolicy();
inline constexpr int kLfuInitCounter = 5;

class Entry {
 public:
  std::string_view key() const;
  ValueType type() const { return static_cast<ValueType>(meta_ & kTypeMask); }
  // How redis-server would encode the string (strings only).
  StringEncoding encoding() const {
    return static_cast<StringEncoding>((meta_ >> kEncodingShift) & 3);
  }
  void set_encoding(StringEncoding e) {
    meta_ =
        (meta_ & ~(uint64_t{3} << kEncodingShift)) | (static_cast<uint64_t>(e) << kEncodingShift);
  }
  // The string's bytes (strings only); valid until the entry is changed.
  std::string_view str() const;
  // The collection (every type but strings).
  Collection* collection() const;
  template <typename T>
  T* As() const {
    return static_cast<T*>(collection());
  }
  bool has_expiry() const { return (meta_ & kHasExpiry) != 0; }
  // Absolute unix time in ms, or kNoExpiry.
  int64_t expire_at_ms() const;

  // Records an access: the LRU clock (a 24-bit clock of seconds, wrapping every 194 days as
  // Redis's), or under an LFU policy Redis's updateLFU (decay, then a logarithmic increment).
  void set_access_time(int64_t now_ms) {
    if (GlobalAccessPolicy().lfu.load(std::memory_order_relaxed)) {
      TouchLfu(now_ms);
    } else {
      set_access_bits(static_cast<uint64_t>(now_ms / 1000) & kClockMax);
    }
  }
  // A new key's access bits: now as LRU clock, or (now in minutes, LFU_INIT_VAL) under LFU.
  void InitAccess(int64_t now_ms) {
    if (GlobalAccessPolicy().lfu.load(std::memory_order_relaxed)) {
      set_access_bits((LfuMinutes(now_ms) << 8) | kLfuInitCounter);
    } else {
      set_access_bits(static_cast<uint64_t>(now_ms / 1000) & kClockMax);
    }
  }
  // LFU: the counter decayed to now (Redis's LFUDecrAndReturn), without changing the entry.
  int LfuCounter(int64_t now_ms) const;
  void TouchLfu(int64_t now_ms);
  uint32_t access_bits() const { return static_cast<uint32_t>((meta_ >> kClockShift) & kClockMax); }
  void set_access_bits(uint64_t bits) {
    meta_ = (meta_ & ~(kClockMax << kClockShift)) | ((bits & kClockMax) << kClockShift);
  }
  static uint64_t LfuMinutes(int64_t now_ms) {
    return static_cast<uint64_t>(now_ms / 60000) & 0xFFFF;
  }
  int64_t IdleSeconds(int64_t now_ms) const {
    uint64_t now = static_cast<uint64_t>(now_ms / 1000) & kClockMax;
    uint64_t then = (meta_ >> kClockShift) & kClockMax;
    return static_cast<int64_t>(now >= then ? now - then : now + (kClockMax + 1) - then);
  }

  // A deep copy of the value (COPY, MOVE between databases).
  Value ToValue() const;

  bool dead() const { return (word_ & kDeadBit) != 0; }

 private:
  friend class Keyspace;

  // meta_ bits.
  static constexpr uint64_t kTypeMask = 7;
  static constexpr int kEncodingShift = 3;
  static constexpr uint64_t kHasExpiry = 1u << 5;
  static constexpr uint64_t kLongKey = 1u << 6;    // key length stored in the block
  static constexpr uint64_t kLongValue = 1u << 7;  // value length stored in the block
  static constexpr int kKeyLenShift = 8;
  static constexpr uint64_t kShortKeyMax = 254;
  static constexpr int kClockShift = 16;
  static constexpr uint64_t kClockMax = (1u << 24) - 1;
  static constexpr int kValueLenShift = 40;
  static constexpr uint64_t kShortValueMax = (1u << 24) - 1;
  // word_ bits: block address | dead << 0 | snapshot epoch << 1 | tag << 48 (blocks are 8-byte
  // aligned).
  static constexpr uint64_t kDeadBit = 1;
  static constexpr uint64_t kSnapshotBit = 2;
  static constexpr uint64_t kAddressMask = (uint64_t{1} << 48) - 8;

  bool empty() const { return word_ == 0; }
  uint16_t tag() const { return static_cast<uint16_t>(word_ >> 48); }
  char* block() const { return reinterpret_cast<char*>(word_ & kAddressMask); }
  size_t key_size() const;
  size_t value_size() const;
  size_t header_size() const {
    return (has_expiry() ? 8 : 0) + ((meta_ & kLongKey) ? 4 : 0) + ((meta_ & kLongValue) ? 8 : 0);
  }
  const char* value_bytes() const { return block() + header_size() + key_size(); }

  uint64_t word_ = 0;
  uint64_t meta_ = 0;
};
static_assert(sizeof(Entry) == 16);

// OBJECT ENCODING's name for the entry's value.
const char* EncodingName(const Entry& entry);

class Keyspace {
 public:
  Keyspace() = default;
  ~Keyspace();
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  // Entries physically present, dead ones included.
  size_t size() const { return size_; }
  size_t segment_count() const { return segments_; }
  // Bytes of segment memory (for INFO / tests).
  size_t table_bytes() const { return table_bytes_; }

  Entry* Find(std::string_view key);
  // Hints for a batch of lookups (a pipeline), by HashKey(key): the first brings the key's home
  // slot toward the cache; the second, issued once that slot has arrived, the heap block of the
  // entry whose tag matches. Neither changes anything. Issue the slot hints as early as possible
  // (while parsing the batch) and the block hints last: PrefetchBlock reads the slot, and stalls
  // if its line has not arrived yet (issuing them right after each other lost nearly all of
  // the gain: GET -P 16 at 0.76 us/op against 0.60, and 0.78 without prefetching).
  void PrefetchSlot(uint64_t hash) const;
  void PrefetchBlock(uint64_t hash) const;
  // Returns the entry for `key`, inserting an empty string value when absent; *inserted tells.
  Entry* FindOrInsert(std::string_view key, bool* inserted);
  bool Erase(std::string_view key);
  void Clear();

  // Value changes. They may move the entry's heap block, never the entry itself.
  void SetString(Entry* e, std::string_view s, StringEncoding encoding);
  // Resizes a string value to n bytes (zero-filling growth) and returns its bytes to modify in
  // place; valid until the entry is changed again.
  char* ResizeString(Entry* e, size_t n);
  void SetCollection(Entry* e, ValueType type, std::unique_ptr<Collection> c);
  void Assign(Entry* e, Value value);
  // Moves the value out, leaving an empty string.
  Value TakeValue(Entry* e);
  void SetExpiry(Entry* e, int64_t at_ms);
  void ClearExpiry(Entry* e);
  // Marks an entry dead (logically deleted) or alive again.
  static void SetDead(Entry* e, bool dead) {
    e->word_ = dead ? (e->word_ | Entry::kDeadBit) : (e->word_ & ~Entry::kDeadBit);
  }

  // Calls fn for the entries (dead ones too) of one step of a scan, at least `count` of them
  // unless the segment ends first, and returns the next cursor (0 when the scan is complete).
  // fn must not insert or erase.
  uint64_t Scan(uint64_t cursor, size_t count, const std::function<void(Entry&)>& fn);
  // Like Scan over whole segments, but skips segments holding no key with an expiry (active
  // expiry). Visits at most `max_segments` segments.
  uint64_t ScanVolatile(uint64_t cursor, int max_segments, const std::function<void(Entry&)>& fn);

  // A random entry (null when empty; maybe dead); fair enough for RANDOMKEY and eviction.
  Entry* Random(uint64_t random_bits);
  // Eviction sampling: calls fn for up to n occupied entries (dead ones too) taken in table order
  // from a random position (random segment, random slot), moving on to following segments as
  // needed; with volatile_only, only entries with an expiry (segments without any are skipped
  // by their count). Visits at most 64 segments; no allocation. fn must not insert or erase.
  // Returns how many entries it passed to fn.
  size_t Sample(uint64_t random_bits, size_t n, bool volatile_only,
                const std::function<void(Entry&)>& fn);
  size_t volatile_size() const;

  static uint64_t HashKey(std::string_view key);

  // Incremental snapshots (Db's pre-write hook, storage/rdb/rdb_snapshot.h). Each entry carries
  // one epoch bit; an entry is "done" for the current snapshot when its bit equals the table's.
  // Inserts take the table's bit, so between snapshots every entry is done; starting a snapshot
  // flips the table's bit, which makes every entry present "not done" in O(1). A snapshot must
  // then visit (or mark) every entry before the next one starts.
  void FlipSnapshotEpoch() { snapshot_bit_ ^= Entry::kSnapshotBit; }
  bool SnapshotDone(const Entry& e) const {
    return (e.word_ & Entry::kSnapshotBit) == snapshot_bit_;
  }
  void MarkSnapshotDone(Entry* e) const {
    e->word_ = (e->word_ & ~Entry::kSnapshotBit) | snapshot_bit_;
  }

 private:
  struct Segment;

  size_t DirectorySlot(uint64_t hash) const { return depth_ == 0 ? 0 : hash >> (64 - depth_); }
  Segment* SegmentFor(uint64_t hash) const { return directory_[DirectorySlot(hash)]; }
  Segment* SegmentOfEntry(const Entry* e) const { return SegmentFor(HashKey(e->key())); }
  // Index of the directory slot where `position` (the top 32 bits of a hash) falls.
  size_t DirectoryIndex(uint32_t position) const {
    return depth_ == 0 ? 0 : position >> (32 - depth_);
  }
  // The first hash position (top 32 bits) past the segment at directory index i, or 2^32.
  uint64_t SegmentEnd(size_t index) const;
  Entry* FindIn(uint64_t hash, std::string_view key, Segment** segment) const;
  Entry* Insert(uint64_t hash, std::string_view key);
  void Grow(Segment* seg);
  void Split(Segment* seg);
  void Rebuild(Segment* seg, size_t bytes);
  void ReplaceSegment(Segment* old_seg, Segment* new_seg);
  void EraseAt(Segment* seg, size_t slot);
  bool MaybeShrink(Segment* seg);  // true if it rebuilt the segment
  // Builds a new heap block for e from pieces and frees the old one (without its collection).
  void Rebuild(Entry* e, bool has_expiry, int64_t expiry, std::string_view value_bytes,
               size_t value_size);

  std::vector<Segment*> directory_;
  // directory_homes_[i] is directory_[i]->homes, kept beside the pointer so that PrefetchSlot
  // can compute a key's slot address without reading (and stalling on) the segment's header.
  std::vector<uint32_t> directory_homes_;
  int depth_ = 0;
  size_t size_ = 0;
  size_t segments_ = 0;
  size_t table_bytes_ = 0;
  uint64_t snapshot_bit_ = 0;  // 0 or Entry::kSnapshotBit
};

}  // namespace shardis
