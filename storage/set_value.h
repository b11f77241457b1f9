// SetValue: the value of a Redis set, with redis-server 7.0's two encodings.
//
//  - "intset": a sorted contiguous array of integers whose element width (16, 32 or 64 bits)
//    widens when a value needs it and never narrows, as Redis's intset. Used while every member
//    is a canonical int64 string and the set holds at most set-max-intset-entries members.
//  - "hashtable": a chained hash table of member strings. The members live in a dense array (so a
//    uniformly random member is one index away, as SPOP / SRANDMEMBER need) and the buckets chain
//    indexes into it. Scanned with Redis's reverse-binary cursor, so SSCAN keeps its guarantee
//    across resizes.
// A set converts from intset to hashtable when a non-integer member arrives or the intset grows
// past the threshold, and never back (only SPOP's rebuild, which creates a new set, can yield an
// intset again, as in Redis).
//
// Owned by a keyspace entry of one shard and touched only by that shard's thread; command code
// also builds temporary sets (SUNION results, cross-shard snapshots) on the connection's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/value.h"

namespace shardis {

// A sorted array of distinct int64 values stored at the narrowest width that fits them all.
class IntSet {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Bytes per element: 2, 4 or 8.
  uint8_t width() const { return width_; }
  int64_t At(size_t i) const;
  bool Contains(int64_t v) const;
  // False when already present. Widens the array first when v does not fit.
  bool Insert(int64_t v);
  // False when absent. The width never narrows.
  bool Erase(int64_t v);
  void EraseAt(size_t i);

 private:
  // Binary search: true when found; *pos is its index or where it would go.
  bool Search(int64_t v, size_t* pos) const;
  void Put(size_t i, int64_t v);
  void Widen(uint8_t width);

  std::vector<uint8_t> bytes_;
  size_t size_ = 0;
  uint8_t width_ = 2;
};

// A hash set of strings: a dense member array plus power-of-two bucket chains of indexes.
class StringHashSet {
 public:
  size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }
  size_t bucket_count() const { return buckets_.size(); }
  bool Contains(std::string_view s) const { return FindIndex(s) != kNil; }
  // False when already present.
  bool Insert(std::string_view s);
  // False when absent.
  bool Erase(std::string_view s);
  // The member at dense index i (0 <= i < size()); indexes change when members are erased.
  const std::string& At(size_t i) const { return nodes_[i].member; }
  void EraseAt(size_t i);
  // Sizes the buckets for n members up front.
  void Reserve(size_t n);

  // One step of a cursor scan (Redis's dictScan): calls fn(const std::string&) for each member
  // of the bucket the cursor designates and returns the next cursor, 0 when the scan is over.
  // Every member present for the whole scan is returned at least once, whatever resizes happen
  // between calls.
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) const {
    if (buckets_.empty()) return 0;
    uint64_t mask = buckets_.size() - 1;
    for (uint32_t n = buckets_[cursor & mask]; n != kNil; n = nodes_[n].next) fn(nodes_[n].member);
    return NextCursor(cursor, mask);
  }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Node {
    std::string member;
    uint64_t hash;
    uint32_t next;
  };

  static uint64_t Hash(std::string_view s);
  static uint64_t NextCursor(uint64_t cursor, uint64_t mask);
  uint32_t FindIndex(std::string_view s) const;
  // The link (bucket head or a node's next) that points at node i.
  uint32_t* LinkTo(uint32_t i);
  void Unlink(uint32_t i);
  void Rebuild(size_t bucket_count);
  void MaybeShrink();

  std::vector<Node> nodes_;
  std::vector<uint32_t> buckets_;
};

class SetValue final : public Collection {
 public:
  enum class Encoding : uint8_t { kIntset, kHashtable };

  // An empty intset (Redis's createIntsetObject).
  SetValue() = default;
  // An empty set encoded for a set whose first member is `first` (Redis's setTypeCreate):
  // intset when it is a canonical integer, else hashtable.
  static std::unique_ptr<SetValue> CreateFor(std::string_view first);

  Encoding encoding() const { return encoding_; }
  bool is_intset() const { return encoding_ == Encoding::kIntset; }
  size_t size() const { return is_intset() ? ints_.size() : strs_.size(); }
  bool empty() const { return size() == 0; }

  // Redis's setTypeAdd: true when added. An intset converts to a hashtable when `member` is not a
  // canonical integer or when it grows past max_intset_entries.
  bool Add(std::string_view member, size_t max_intset_entries);
  bool Remove(std::string_view member);
  bool Contains(std::string_view member) const;
  bool ContainsInt(int64_t v) const;
  // The member at position i of the dense order (0 <= i < size()), e.g. for a random pick.
  std::string MemberAt(size_t i) const;
  // Removes and returns the member at position i.
  std::string RemoveAt(size_t i);
  void ConvertToHashtable();

  // Calls fn(std::string_view) for every member in iteration order: ascending for an intset,
  // the dense order for a hashtable. fn must not modify the set.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (is_intset()) {
      char buf[24];
      for (size_t i = 0; i < ints_.size(); ++i) fn(FormatInt(ints_.At(i), buf));
    } else {
      for (size_t i = 0; i < strs_.size(); ++i) fn(std::string_view(strs_.At(i)));
    }
  }
  std::vector<std::string> Members() const;

  // One SSCAN step over the hashtable encoding (see StringHashSet::Scan); an intset returns all
  // its members at once and cursor 0, as Redis does.
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) const {
    if (is_intset()) {
      ForEach([&](std::string_view m) { fn(m); });
      return 0;
    }
    return strs_.Scan(cursor, [&](const std::string& m) { fn(std::string_view(m)); });
  }

  const IntSet& ints() const { return ints_; }
  const StringHashSet& strings() const { return strs_; }

  std::unique_ptr<Collection> Clone() const override { return std::make_unique<SetValue>(*this); }
  const char* EncodingName() const override { return is_intset() ? "intset" : "hashtable"; }
  size_t ElementCount() const override { return size(); }

  // Writes v in decimal into buf (at least 21 bytes) and returns the text.
  static std::string_view FormatInt(int64_t v, char* buf);

 private:
  Encoding encoding_ = Encoding::kIntset;
  IntSet ints_;
  StringHashSet strs_;
};

}  // namespace shardis
