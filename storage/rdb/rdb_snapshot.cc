// Incremental snapshot of one shard (see rdb_snapshot.h).
#include "storage/rdb/rdb_snapshot.h"

#include <chrono>

namespace shardis::rdb {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ShardSnapshot::Sink : SnapshotSink {
  Sink(const SaveOptions& o, int64_t instant, DbSection* s)
      : options(o), instant_ms(instant), out(s) {}
  void Save(const Entry& e) override {
    int64_t expire = e.has_expiry() ? e.expire_at_ms() : -1;
    if (expire >= 0 && expire < instant_ms) return;  // expired at the instant (Db::IsExpired)
    AppendKeyRecord(&out->bytes, e.key(), expire, e.type(), e.str(), e.collection(), options);
    ++out->keys;
    if (expire >= 0) ++out->expires;
  }
  SaveOptions options;
  int64_t instant_ms;
  DbSection* out;
};

ShardSnapshot::ShardSnapshot(ShardData& shard, const SaveOptions& options, int64_t instant_ms)
    : dbs_(shard.db_count()), sections_(shard.db_count()) {
  for (int i = 0; i < shard.db_count(); ++i) {
    PerDb& d = dbs_[i];
    d.db = &shard.db(i);
    // A Db is in at most one snapshot: saves run one at a time.
    if (d.db->in_snapshot()) std::abort();
    d.sink = std::make_unique<Sink>(options, instant_ms, &sections_[i]);
    keys_at_start_ += d.db->size();
    d.db->BeginSnapshot(d.sink.get());
  }
}

ShardSnapshot::~ShardSnapshot() { Finish(); }

bool ShardSnapshot::Step(int64_t budget_us) {
  if (complete_) return true;
  int64_t start = NowMicros();
  bool all_done = true;
  for (PerDb& d : dbs_) {
    while (!d.done) {
      if (d.db->SnapshotStep(&d.cursor, 256)) {
        d.done = true;
        d.db->EndSnapshot();
        break;
      }
      if (NowMicros() - start >= budget_us) return false;
    }
    all_done = all_done && d.done;
  }
  complete_ = all_done;
  return complete_;
}

void ShardSnapshot::Finish() {
  for (PerDb& d : dbs_) {
    if (d.done) continue;
    d.db->DrainSnapshot();
    d.db->EndSnapshot();
    d.done = true;
  }
  complete_ = true;
}

void ShardSnapshot::Abandon() {
  for (PerDb& d : dbs_) {
    d.db->EndSnapshot();
    d.done = true;
  }
  complete_ = true;
}

uint64_t ShardSnapshot::keys_saved() const {
  uint64_t n = 0;
  for (const DbSection& s : sections_) n += s.keys;
  return n;
}

uint64_t ShardSnapshot::bytes() const {
  uint64_t n = 0;
  for (const DbSection& s : sections_) n += s.bytes.size();
  return n;
}

}  // namespace shardis::rdb
