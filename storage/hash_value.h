// HashValue: the hash type (HSET, HGET, HSCAN...), a Collection with Redis 7.0's two encodings.
//
//  - "listpack": every field/value pair back to back in one contiguous buffer (each string
//    prefixed by its varint length), in insertion order as Redis's listpack keeps them (a new
//    field goes to the end, an update stays in place). Lookups scan linearly; small hashes are
//    compact and cache friendly.
//  - "hashtable": a chained hash table of single-allocation nodes (field and value bytes inline),
//    power-of-two bucket arrays with incremental rehashing as Redis's dict, and a
//    reverse-binary scan cursor (HSCAN returns every field present for the whole scan at least
//    once, across resizes).
//
// A hash starts as a listpack and converts to a hashtable once it has more than
// hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value bytes
// (the thresholds are passed in by the caller from its configuration); it never converts back,
// as in Redis. Owned by one shard's keyspace and used only on that shard's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "storage/value.h"

namespace shardis {

class HashValue final : public Collection {
 public:
  HashValue();
  HashValue(const HashValue& other);
  HashValue& operator=(const HashValue&) = delete;
  ~HashValue() override;

  std::unique_ptr<Collection> Clone() const override;
  const char* EncodingName() const override;  // "listpack" or "hashtable"
  size_t ElementCount() const override { return size(); }

  bool is_listpack() const { return table_ == nullptr; }
  size_t size() const;
  bool empty() const { return size() == 0; }

  // The value of `field`, valid until the hash is next modified.
  std::optional<std::string_view> Get(std::string_view field) const;
  bool Contains(std::string_view field) const { return Get(field).has_value(); }

  // Redis's hashTypeTryConversion, before a write of `strings` (fields and values): a listpack
  // becomes a hashtable when one of them is longer than `max_value` bytes, or when the listpack
  // would outgrow its safety limit.
  void PrepareWrite(std::span<const std::string_view> strings, size_t max_value);
  // Redis's hashTypeSet: sets field to value; true when the field is new. A listpack converts
  // first when the field or value is longer than `max_value`, and afterwards when it holds more
  // than `max_entries` fields (after an update too, as the limit may have been lowered).
  bool Set(std::string_view field, std::string_view value, size_t max_entries, size_t max_value);
  // Removes the field; true when it was there. A hashtable shrinks when mostly empty.
  bool Delete(std::string_view field);
  void ConvertToHashtable();

  // A forward walk over (field, value) pairs: listpack order, or hashtable bucket order. The hash
  // must not be modified while a cursor is in use.
  class Cursor {
   public:
    explicit Cursor(const HashValue& hash);
    bool Done() const { return done_; }
    std::string_view field() const { return field_; }
    std::string_view value() const { return value_; }
    void Next();

   private:
    void Load();
    const HashValue& hash_;
    bool done_ = false;
    size_t pos_ = 0;       // listpack: offset of the current pair
    size_t next_pos_ = 0;  // listpack: offset of the pair after it
    int table_ = 0;        // hashtable: which bucket array
    uint64_t bucket_ = 0;  // hashtable: bucket index
    const void* node_ = nullptr;
    std::string_view field_, value_;
  };

  // One HSCAN step: calls fn for the entries the cursor designates and returns the next cursor
  // (0 when done). A listpack returns every entry at once and cursor 0, as Redis does.
  uint64_t Scan(uint64_t cursor,
                const std::function<void(std::string_view, std::string_view)>& fn) const;

  // A random entry of a non-empty hash, chosen with `random_bits`.
  std::pair<std::string_view, std::string_view> Random(uint64_t random_bits) const;

 private:
  class Table;
  friend class Cursor;

  // Listpack helpers: offsets into lp_ of the pair holding `field`, or npos.
  struct LpPair {
    size_t start;        // offset of the field's length prefix
    size_t value_start;  // offset of the value's length prefix
    size_t end;          // offset just past the value
    std::string_view field, value;
  };
  bool LpRead(size_t pos, LpPair* pair) const;
  bool LpFind(std::string_view field, LpPair* pair) const;
  static void LpAppendString(std::string* buf, std::string_view s);

  std::string lp_;                // the listpack pairs, while listpack-encoded
  size_t lp_count_ = 0;           // pairs in lp_
  std::unique_ptr<Table> table_;  // set once hashtable-encoded
};

}  // namespace shardis
