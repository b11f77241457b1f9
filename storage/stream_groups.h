// Consumer groups of a stream (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM): each
// group has a last-delivered ID, a logical read counter (entries-read), a pending entries list
// (PEL: delivered but not acknowledged IDs, each owned by one consumer) and its consumers, each
// with its own view of the PEL. Mirrors redis-server 7.0's streamCG / streamConsumer /
// streamNACK; groups and consumers are ordered by name bytes (Redis keeps them in radix trees)
// and PELs by ID.
//
// Owned by a StreamValue (storage/stream_value.h) and touched only by the owning shard's thread.
// Invariant: an ID is in a consumer's `pel` iff the group's `pel` holds it with that consumer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "storage/stream_id.h"

namespace shardis {

// Redis's SCG_INVALID_ENTRIES_READ: the group's read counter is unknown.
inline constexpr int64_t kInvalidEntriesRead = -1;

struct StreamConsumer;

// One pending (delivered, unacknowledged) entry of a group.
struct StreamNack {
  int64_t delivery_time = 0;  // unix ms of the last delivery
  uint64_t delivery_count = 1;
  StreamConsumer* consumer = nullptr;  // the owner (one of the group's consumers)
};

struct StreamConsumer {
  std::string name;
  int64_t seen_time = 0;   // unix ms of the consumer's last activity
  std::set<StreamId> pel;  // the IDs of the group PEL it owns
};

class StreamGroup {
 public:
  StreamGroup(StreamId last, int64_t read) : last_id(last), entries_read(read) {}
  StreamGroup(const StreamGroup& other);  // deep copy (COPY, Clone)
  StreamGroup& operator=(const StreamGroup&) = delete;

  StreamConsumer* FindConsumer(std::string_view name) const;
  // Creates a consumer; null when one of that name exists.
  StreamConsumer* CreateConsumer(std::string_view name, int64_t now_ms);
  // The consumer of that name, created when missing (*created tells).
  StreamConsumer* FindOrCreateConsumer(std::string_view name, int64_t now_ms, bool* created);
  // Deletes a consumer and its pending entries (from the group PEL too).
  void DeleteConsumer(StreamConsumer* consumer);

  // Records a delivery of `id` to `consumer`: a new PEL entry, or the existing one moved to
  // `consumer` with its delivery time set and its count reset to 1 (as XREADGROUP does).
  void Deliver(StreamId id, StreamConsumer* consumer, int64_t now_ms);
  // Moves an existing PEL entry to `consumer` (XCLAIM), leaving time and count to the caller.
  void Assign(StreamNack* nack, StreamId id, StreamConsumer* consumer);
  // Adds a PEL entry (XCLAIM FORCE, RDB load); false if present.
  bool AddNack(StreamId id, StreamConsumer* consumer, int64_t delivery_time, uint64_t count);
  // Removes an ID from the PEL (XACK); false if it was not pending.
  bool Ack(StreamId id);
  StreamNack* FindNack(StreamId id) {
    auto it = pel.find(id);
    return it == pel.end() ? nullptr : &it->second;
  }

  StreamId last_id;
  int64_t entries_read = kInvalidEntriesRead;
  std::map<StreamId, StreamNack> pel;
  std::map<std::string, std::unique_ptr<StreamConsumer>, std::less<>> consumers;
};

// The groups of one stream by name; copying deep-copies them.
class StreamGroups {
 public:
  using Map = std::map<std::string, std::unique_ptr<StreamGroup>, std::less<>>;

  StreamGroups() = default;
  StreamGroups(const StreamGroups& other);
  StreamGroups& operator=(const StreamGroups& other);
  StreamGroups(StreamGroups&&) noexcept = default;
  StreamGroups& operator=(StreamGroups&&) noexcept = default;

  StreamGroup* Find(std::string_view name) const;
  // Null when a group of that name exists.
  StreamGroup* Create(std::string_view name, StreamId last_id, int64_t entries_read);
  bool Destroy(std::string_view name);
  const Map& map() const { return groups_; }
  size_t size() const { return groups_.size(); }
  bool empty() const { return groups_.empty(); }

 private:
  Map groups_;
};

}  // namespace shardis
