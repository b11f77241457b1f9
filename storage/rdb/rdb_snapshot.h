// ShardSnapshot: one shard's part of an incremental (copy-on-write, fork-less) RDB snapshot.
//
// Created on the shard's thread at the snapshot instant (every shard paused at the barrier of
// server/persistence.cc), it attaches a sink to each of the shard's databases (Db::BeginSnapshot)
// and then serializes them a bounded slice at a time (Step), between commands, in Scan order,
// while the shard keeps serving. Any entry a command is about to reach is serialized first by the
// Db's pre-write hook, so each database's section holds exactly the keys that were live at the
// instant, with their values at the instant. Used only on the shard's thread (or on the main
// thread after the reactors stopped). Output goes to one DbSection per database; with a spill
// prefix, a section's bytes are appended to the temp file <prefix>-<db>.part whenever they reach
// the spill threshold, so the memory a snapshot holds stays bounded (shards x databases in use
// x threshold) whatever the dataset and the write load. The file writer copies spilled bytes
// in order; this object removes its spill files when destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/rdb/rdb_file.h"
#include "storage/shard_data.h"

namespace shardis::rdb {

class ShardSnapshot {
 public:
  // Attaches to every database of `shard`: the snapshot instant is now, `instant_ms` the shard's
  // clock then (keys whose expiry is before it are left out, as the blocking save does).
  ShardSnapshot(ShardData& shard, const SaveOptions& options, int64_t instant_ms,
                std::string spill_prefix = "", size_t spill_threshold = size_t{4} << 20);
  // Finishes the walk first if needed: detaching early would break the tables' epoch invariant.
  ~ShardSnapshot();
  ShardSnapshot(const ShardSnapshot&) = delete;
  ShardSnapshot& operator=(const ShardSnapshot&) = delete;

  // Serializes for about budget_us microseconds (at least one scan step). True when complete:
  // every database is detached and sections() is final.
  bool Step(int64_t budget_us);
  // Completes the walk now.
  void Finish();
  // Detaches without completing: only for a server that is shutting down (the tables' entries
  // are then left mid-epoch, so no incremental snapshot may follow on them).
  void Abandon();
  bool complete() const { return complete_; }

  // Per database index at the instant (SWAPDB afterwards does not move a key's section). Once
  // complete, the sections (with their spill files) may be handed to the writer: the files stay
  // until this object is destroyed.
  std::vector<DbSection>& sections() { return sections_; }
  // A spill write that failed ("" if none): the sections are then unusable (the save fails).
  const std::string& spill_error() const { return spill_error_; }
  uint64_t spilled_bytes() const { return spilled_; }
  uint64_t keys_at_start() const { return keys_at_start_; }
  uint64_t keys_saved() const;
  uint64_t bytes() const;  // serialized so far and held in memory (not spilled)

 private:
  struct Sink;
  struct PerDb {
    Db* db = nullptr;
    uint64_t cursor = 0;
    bool done = false;
    std::unique_ptr<Sink> sink;
  };
  std::vector<PerDb> dbs_;
  std::vector<DbSection> sections_;
  std::vector<std::string> spill_files_;  // to remove when destroyed
  std::string spill_error_;
  uint64_t spilled_ = 0;
  uint64_t keys_at_start_ = 0;
  bool complete_ = false;
};

}  // namespace shardis::rdb
