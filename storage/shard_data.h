// ShardData: everything one shard owns: its databases (SELECT 0..N-1), its clock and its counters.
// Created and used only by the shard's thread (the reactor that owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "storage/db.h"
#include "storage/eviction.h"
#include "storage/notify.h"

namespace shardis {

class ShardData {
 public:
  explicit ShardData(int num_dbs) {
    dbs_.reserve(num_dbs);
    for (int i = 0; i < num_dbs; ++i) {
      dbs_.push_back(std::make_unique<Db>(&clock_, &stats_, i, &ready_keys_));
      dbs_.back()->set_notifier(&notifier_);
    }
  }

  int db_count() const { return static_cast<int>(dbs_.size()); }
  Db& db(int index) { return *dbs_[index]; }
  ShardClock& clock() { return clock_; }
  int64_t now_ms() const { return clock_.now_ms; }
  ShardStats& stats() { return stats_; }
  Evictor& evictor() { return evictor_; }
  uint64_t Random() { return rng_(); }
  // SWAPDB: the Db objects trade places (their indexes follow their slot), and trade back what
  // clients registered on each index (see Db::TradeClientState).
  void SwapDbs(int a, int b) {
    dbs_[a]->TouchWatchedExisting(*dbs_[b]);
    dbs_[b]->TouchWatchedExisting(*dbs_[a]);
    std::swap(dbs_[a], dbs_[b]);
    dbs_[a]->set_index(a);
    dbs_[b]->set_index(b);
    dbs_[a]->TradeClientState(*dbs_[b]);
    dbs_[a]->SignalWaitedKeysReady();
    dbs_[b]->SignalWaitedKeysReady();
  }
  // Keys made ready for blocked clients by the commands run so far (see Db::WatchKey).
  ReadyKeys& ready_keys() { return ready_keys_; }
  // Keyspace notifications raised by the commands run so far (see storage/notify.h).
  KeyspaceNotifier& notifier() { return notifier_; }
  // Where this shard sits among the server's shards (index 0 of 1 until set), for commands
  // that derive key names from data (SORT BY/GET) and must tell whether such a key is theirs.
  void set_placement(int index, int count) {
    shard_index_ = index;
    shard_count_ = count;
  }
  int shard_index() const { return shard_index_; }
  int shard_count() const { return shard_count_; }

 private:
  ShardClock clock_;
  ShardStats stats_;
  ReadyKeys ready_keys_;
  KeyspaceNotifier notifier_;
  Evictor evictor_;
  std::vector<std::unique_ptr<Db>> dbs_;
  std::mt19937_64 rng_{0x5eed};
  int shard_index_ = 0;
  int shard_count_ = 1;
};

}  // namespace shardis
