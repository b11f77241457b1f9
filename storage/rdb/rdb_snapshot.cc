// Incremental snapshot of one shard (see rdb_snapshot.h).
#include "storage/rdb/rdb_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace shardis::rdb {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ShardSnapshot::Sink : SnapshotSink {
  Sink(ShardSnapshot* o, const SaveOptions& opts, int64_t instant, DbSection* s, std::string path,
       size_t threshold)
      : owner(o),
        options(opts),
        instant_ms(instant),
        out(s),
        spill_path(std::move(path)),
        spill_threshold(threshold) {}
  ~Sink() override {
    if (fd >= 0) close(fd);
  }
  void Save(const Entry& e) override {
    int64_t expire = e.has_expiry() ? e.expire_at_ms() : -1;
    if (expire >= 0 && expire < instant_ms) return;  // expired at the instant (Db::IsExpired)
    AppendKeyRecord(&out->bytes, e.key(), expire, e.type(), e.str(), e.collection(), options);
    ++out->keys;
    if (expire >= 0) ++out->expires;
    if (!spill_path.empty() && out->bytes.size() >= spill_threshold) Spill();
  }
  // Appends the buffered bytes to the spill file (on this thread: a write to the page cache).
  void Spill() {
    if (fd < 0) {
      fd = open(spill_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) return Fail();
      owner->spill_files_.push_back(spill_path);
      out->spill_path = spill_path;
    }
    std::string_view data = out->bytes;
    while (!data.empty()) {
      ssize_t n = write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail();
      data.remove_prefix(static_cast<size_t>(n));
    }
    owner->spilled_ += out->bytes.size();
    out->bytes.clear();  // keeps its capacity for the next chunk
  }
  // A failed spill (disk full...): the save must fail, since the file may hold part of a
  // chunk; nothing is spilled any more.
  void Fail() {
    if (owner->spill_error_.empty()) {
      owner->spill_error_ =
          "Write error saving DB on disk: " + spill_path + ": " + std::strerror(errno);
    }
    spill_path.clear();
  }

  ShardSnapshot* owner;
  SaveOptions options;
  int64_t instant_ms;
  DbSection* out;
  std::string spill_path;
  size_t spill_threshold;
  int fd = -1;
};

ShardSnapshot::ShardSnapshot(ShardData& shard, const SaveOptions& options, int64_t instant_ms,
                             std::string spill_prefix, size_t spill_threshold)
    : dbs_(shard.db_count()), sections_(shard.db_count()) {
  for (int i = 0; i < shard.db_count(); ++i) {
    PerDb& d = dbs_[i];
    d.db = &shard.db(i);
    // A Db is in at most one snapshot: saves run one at a time.
    if (d.db->in_snapshot()) std::abort();
    std::string path = spill_prefix.empty() ? "" : spill_prefix + "-" + std::to_string(i) + ".part";
    d.sink = std::make_unique<Sink>(this, options, instant_ms, &sections_[i], std::move(path),
                                    spill_threshold);
    keys_at_start_ += d.db->size();
    d.db->BeginSnapshot(d.sink.get());
  }
}

ShardSnapshot::~ShardSnapshot() {
  Finish();
  for (const std::string& path : spill_files_) unlink(path.c_str());
}

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
