// ZSetValue: the value of a Redis sorted set, with redis-server 7.0's two encodings.
//
//  - "listpack": a compact array of (member, score) pairs kept sorted by score, then member bytes.
//    Lookups by member are linear, as in Redis; used while the set has at most
//    zset-max-listpack-entries members and none is longer than zset-max-listpack-value bytes.
//  - "skiplist": Redis's skiplist with spans (so ranks are O(log n)) whose nodes are also the
//    entries of a member -> node chained hash table (power-of-two buckets, Redis's
//    reverse-binary cursor for ZSCAN, so a scan keeps its guarantee across resizes).
// A set converts from listpack to skiplist when an insertion would break a limit, and never back;
// only a freshly built set (ZUNIONSTORE, ZRANGESTORE...: FromSorted) picks its encoding from its
// final size, as Redis does.
//
// Order: by score, then by member bytes compared as unsigned (memcmp), exactly as Redis. Scores
// are never NaN (callers check). Owned by a keyspace entry of one shard and touched only by that
// shard's thread; command code also builds temporary sets (snapshots, results) on the
// connection's thread. Knows nothing of commands or replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/value.h"

namespace shardis {

// The encoding thresholds (zset-max-listpack-entries / zset-max-listpack-value).
struct ZSetLimits {
  size_t max_listpack_entries = 128;
  size_t max_listpack_value = 64;

  // Whether a set of `size` members, the longest `max_member_len` bytes, is a listpack.
  bool FitsListpack(size_t size, size_t max_member_len) const {
    return size <= max_listpack_entries && max_member_len <= max_listpack_value;
  }
};

// A score interval: [min, max], either end exclusive ("(1.5").
struct ZScoreRange {
  double min = 0;
  double max = 0;
  bool minex = false;
  bool maxex = false;
};

// One end of a lexicographic interval: "-" (below everything), "+" (above everything), or a
// member, inclusive ("[abc") or exclusive ("(abc").
struct ZLexBound {
  enum class Kind : uint8_t { kNegInf, kPosInf, kValue };
  Kind kind = Kind::kNegInf;
  bool exclusive = true;  // "-" and "+" count as exclusive, as in Redis
  std::string value;
};

struct ZLexRange {
  ZLexBound min;
  ZLexBound max;
};

// An owned (member, score) pair, e.g. a popped element or a snapshot entry.
struct ZEntry {
  std::string member;
  double score = 0;
};

// The score a listpack keeps for `score`: Redis stores integral scores as integers there, so a
// -0 reads back as 0 (a skiplist keeps the double as is).
inline double ListpackScore(double score) { return score == 0 ? 0.0 : score; }

// ZADD's options (Redis's ZADD_IN_*).
enum ZAddFlag : int {
  kZAddNx = 1 << 0,
  kZAddXx = 1 << 1,
  kZAddGt = 1 << 2,
  kZAddLt = 1 << 3,
  kZAddIncr = 1 << 4,
};

// What ZSetValue::Add did (Redis's ZADD_OUT_*; kUnchanged: the member exists with that score).
enum class ZAddResult : uint8_t { kAdded, kUpdated, kUnchanged, kNop, kNaN };

// Ascending ranks [begin, end).
struct ZRankSpan {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end > begin ? end - begin : 0; }
  bool empty() const { return end <= begin; }
};

namespace zset_internal {
struct Node;
class Skiplist;
}  // namespace zset_internal

class ZSetValue final : public Collection {
 public:
  enum class Encoding : uint8_t { kListpack, kSkiplist };

  // A position in ascending order; Next() goes up, Prev() goes down. Invalidated by any
  // modification of the set.
  class Iterator {
   public:
    bool valid() const { return valid_; }
    std::string_view member() const;
    double score() const;
    void Next();
    void Prev();

   private:
    friend class ZSetValue;
    const ZSetValue* z_ = nullptr;
    size_t index_ = 0;                           // listpack
    const zset_internal::Node* node_ = nullptr;  // skiplist
    bool valid_ = false;
  };

  // An empty listpack (Redis's createZsetListpackObject).
  ZSetValue();
  ZSetValue(const ZSetValue& other);
  ZSetValue& operator=(const ZSetValue&) = delete;
  ~ZSetValue() override;

  // A set holding `entries`, which are sorted by (score, member) with distinct members; a
  // listpack when they fit `limits`, else a skiplist (Redis's zsetConvertToListpackIfNeeded on a
  // freshly built set).
  static std::unique_ptr<ZSetValue> FromSorted(std::vector<ZEntry> entries,
                                               const ZSetLimits& limits);

  Encoding encoding() const { return sl_ ? Encoding::kSkiplist : Encoding::kListpack; }
  size_t size() const;
  bool empty() const { return size() == 0; }

  // The score of `member`; false when absent.
  bool Score(std::string_view member, double* score) const;
  // The 0-based ascending rank of `member`; false when absent. O(log n) for a skiplist.
  bool Rank(std::string_view member, size_t* rank) const;
  // The element at an ascending rank (invalid iterator when rank >= size()). O(log n).
  Iterator At(size_t rank) const;

  // Redis's zsetAdd: adds or updates `member` under ZADD's `flags`. *new_score receives the
  // score the member ends with unless the result is kNop or kNaN. Converts a listpack to a
  // skiplist first when the new member would break `limits`.
  ZAddResult Add(double score, std::string_view member, int flags, const ZSetLimits& limits,
                 double* new_score);
  // Removes `member`; false when absent.
  bool Remove(std::string_view member);
  // Removes the elements of an ascending rank span; returns how many.
  size_t RemoveRanks(ZRankSpan span);
  // Removes and returns up to `count` elements from the low end (ascending order) or the high end
  // (descending order).
  std::vector<ZEntry> Pop(size_t count, bool from_max);
  void ConvertToSkiplist();

  // The number of elements whose score is < `score` (or <= when `inclusive`). O(log n).
  size_t CountBelow(double score, bool inclusive) const;
  // The ranks of the elements whose score is in `range`.
  ZRankSpan ScoreSpan(const ZScoreRange& range) const;
  // The ranks of the elements in a lexicographic range. Meaningful when all scores are equal; on
  // a listpack it reproduces Redis's linear scans exactly (from the head, or from the tail for
  // `reverse` as ZREVRANGEBYLEX does) even when they are not.
  ZRankSpan LexSpan(const ZLexRange& range, bool reverse) const;

  // Calls fn(member, score) for every element in ascending order; fn must not modify the set.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (Iterator it = At(0); it.valid(); it.Next()) fn(it.member(), it.score());
  }
  // One ZSCAN step: a listpack reports all its elements and returns 0; a skiplist reports the
  // elements of the hash bucket the cursor designates and returns the next cursor (0 at the end).
  uint64_t Scan(uint64_t cursor, const std::function<void(std::string_view, double)>& fn) const;

  std::unique_ptr<Collection> Clone() const override;
  const char* EncodingName() const override;
  size_t ElementCount() const override { return size(); }

 private:
  struct ListpackEntry {
    std::string member;
    double score;
  };

  // Index of `member` in the listpack, or lp_.size().
  size_t ListpackFind(std::string_view member) const;
  // Inserts a member known to be absent, in order.
  void ListpackInsert(double score, std::string_view member);

  std::vector<ListpackEntry> lp_;                // the listpack encoding
  std::unique_ptr<zset_internal::Skiplist> sl_;  // the skiplist encoding, when set
};

// Lexicographic helpers with Redis's rules for "-" / "+" (zslLexValueGteMin / LteMax).
bool ZLexGteMin(std::string_view value, const ZLexBound& min);
bool ZLexLteMax(std::string_view value, const ZLexBound& max);
// True when no string can be in the range (min above max, or equal with an exclusive end).
bool ZLexRangeEmpty(const ZLexRange& range);

}  // namespace shardis
