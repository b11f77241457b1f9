// StreamValue: the stream type (XADD, XRANGE, XREAD, XTRIM...): entries ordered by ID, each a
// list of field/value pairs, plus the metadata XINFO STREAM reports (last generated ID, entries
// added, max deleted entry ID).
//
// Owned by a keyspace entry and touched only by the owning shard's thread. The layout mirrors
// redis-server's so that the node-granular behaviour users can observe matches it: entries live
// in nodes keyed by their first ("master") ID, each node a packed byte string of delta-encoded
// entries (fields omitted when they repeat the master entry's). A node takes new entries until
// it holds stream-node-max-entries entries (live plus deleted) or its emulated listpack size
// reaches stream-node-max-bytes, as Redis's listpack would: XTRIM with "~" removes whole nodes
// only, so approximate trimming removes exactly what Redis removes. XDEL only flags an entry as
// deleted; a node goes away when its last live entry does.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/stream_groups.h"
#include "storage/stream_id.h"
#include "storage/value.h"

namespace shardis {

// The node thresholds (the stream-node-max-entries / stream-node-max-bytes configs); 0 means
// unlimited (bytes: the listpack ceiling of 1 GiB).
struct StreamNodeLimits {
  int64_t max_entries = 100;
  int64_t max_bytes = 4096;
};

// A trimming request: XTRIM's arguments, or XADD's MAXLEN/MINID options.
struct StreamTrimArgs {
  enum class Strategy : uint8_t { kNone, kMaxLen, kMinId };
  Strategy strategy = Strategy::kNone;
  uint64_t maxlen = 0;  // kMaxLen: keep at most this many entries
  StreamId minid;       // kMinId: remove entries below this ID
  bool approx = false;  // "~": stop at the first node that cannot be removed whole
  int64_t limit = 0;    // with "~": at most this many entries removed (whole nodes); 0 = no limit
};

// One node of a stream: the entries from its master ID up to the next node's, packed.
namespace stream_internal {
struct Node {
  std::vector<std::string> master_fields;  // the fields of the node's first entry
  std::string data;                        // the packed entries (see stream_value.cc)
  std::vector<uint32_t> offsets;           // where each entry starts in `data`
  uint64_t live = 0;                       // entries not flagged deleted
  uint64_t deleted = 0;                    // entries flagged deleted (still in `data`)
  size_t lp_bytes_base = 0;  // emulated listpack bytes, except the live/deleted counters

  // The size Redis's listpack for this node would have (lpBytes).
  size_t ListpackBytes() const;
};
}  // namespace stream_internal

class StreamValue : public Collection {
 public:
  // How XADD chooses the new entry's ID.
  struct IdRequest {
    enum class Kind : uint8_t {
      kAuto,      // "*": the current time, or the last ID + 1 when the clock is not ahead
      kExplicit,  // "<ms>-<seq>"
      kAutoSeq,   // "<ms>-*": the next sequence number within ms
    };
    Kind kind = Kind::kAuto;
    StreamId id;  // kExplicit: the ID; kAutoSeq: its ms
  };
  enum class AddStatus : uint8_t {
    kOk,
    kIdTooSmall,  // not greater than the last ID (or no sequence number left in that ms)
    kExhausted,   // the last ID is the maximum: nothing can follow it
    kTooLarge,    // the fields and values exceed what one node can hold (1 GiB)
  };

  StreamValue() = default;

  std::unique_ptr<Collection> Clone() const override;
  const char* EncodingName() const override { return "stream"; }
  size_t ElementCount() const override { return length_; }

  // Appends an entry (`field_values` alternates fields and values, at least one pair). `now_ms`
  // is the clock for automatic IDs.
  AddStatus Add(const IdRequest& request, std::span<const std::string_view> field_values,
                int64_t now_ms, const StreamNodeLimits& limits, StreamId* added);
  // XDEL: deletes the live entries among `ids`; returns how many. Raises max_deleted_id.
  size_t Delete(std::span<const StreamId> ids);
  // Redis's streamTrim: returns how many entries it removed.
  int64_t Trim(const StreamTrimArgs& args);

  // Iterates the live entries with start <= ID <= end, ascending or (reverse) descending. The
  // stream must not change while an iterator is in use; the views Next() fills stay valid until
  // it does.
  class Iterator {
   public:
    Iterator(const StreamValue& stream, StreamId start, StreamId end, bool reverse);
    // The next entry (field_values may be null when only IDs are wanted); false at the end.
    bool Next(StreamId* id, std::vector<std::string_view>* field_values);

   private:
    using NodeMap = std::map<StreamId, stream_internal::Node>;

    const NodeMap& nodes_;
    StreamId start_, end_;
    bool reverse_;
    bool done_ = false;
    NodeMap::const_iterator node_;
    size_t index_ = 0;  // forward: the next entry's index; reverse: the next entry's index + 1
  };

  uint64_t size() const { return length_; }
  StreamId last_id() const { return last_id_; }
  StreamId max_deleted_id() const { return max_deleted_id_; }
  uint64_t entries_added() const { return entries_added_; }
  // The first live entry's ID, 0-0 when empty (XINFO's recorded-first-entry-id).
  StreamId first_id() const;
  // The last live entry's ID, 0-0 when empty (Redis's streamLastValidID).
  StreamId last_valid_id() const;
  // XINFO STREAM's radix-tree-keys (the number of nodes) and radix-tree-nodes (the nodes a
  // radix tree over the nodes' 128-bit big-endian master IDs has, as Redis's rax builds it).
  size_t node_count() const { return nodes_.size(); }
  size_t RadixTreeNodes() const;

  // Consumer groups.
  StreamGroups& groups() { return groups_; }
  const StreamGroups& groups() const { return groups_; }
  // Whether a live entry has this ID.
  bool Contains(StreamId id) const;
  // Redis's streamRangeHasTombstones: whether a deleted entry may lie in [start, end].
  bool RangeHasTombstones(StreamId start, StreamId end) const;
  // Redis's streamEstimateDistanceFromFirstEverEntry: the logical read counter of `id`, or
  // kInvalidEntriesRead when it cannot be known.
  int64_t EstimateDistanceFromFirstEverEntry(StreamId id) const;
  // A group's lag (entries added but not yet read by it); false when it cannot be computed.
  bool GroupLag(const StreamGroup& group, int64_t* lag) const;
  // Moves a group's last-delivered ID forward to `id` (which was just delivered), keeping its
  // read counter as Redis's streamReplyWithRange does.
  void AdvanceGroup(StreamGroup* group, StreamId id) const;

  // XSETID.
  void set_last_id(StreamId id) { last_id_ = id; }
  void set_entries_added(uint64_t n) { entries_added_ = n; }
  void set_max_deleted_id(StreamId id) { max_deleted_id_ = id; }

  // The emulated listpack size of each node, in order (for tests of the node layout).
  std::vector<size_t> NodeBytesForTest() const;
  std::vector<size_t> NodeEntriesForTest() const;  // live + deleted entries of each node

 private:
  using Node = stream_internal::Node;

  bool DeleteOne(StreamId id);

  std::map<StreamId, Node> nodes_;  // master ID -> node
  uint64_t length_ = 0;
  StreamId last_id_;
  StreamId max_deleted_id_;
  uint64_t entries_added_ = 0;
  StreamGroups groups_;
};

}  // namespace shardis
