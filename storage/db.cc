#include "storage/db.h"

#include <chrono>

namespace shardis {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Db::CountExpired(const Entry& entry) {
  Touch(entry.key());
  if (expiry_listener_ != nullptr) expiry_listener_(expiry_context_, entry.key());
  --expires_;
  ++stats_->expired_keys;
  Notify(kNotifyExpired, "expired", entry.key());
}

void Db::MarkDead(Entry* entry) {
  CountExpired(*entry);
  Keyspace::SetDead(entry, true);
  ++dead_;
  dead_keys_.emplace_back(entry->key());
  if (!watched_.empty()) SignalKeyReady(entry->key());
}

Entry* Db::Find(std::string_view key) {
  Entry* e = keys_.Find(key);
  if (e == nullptr || e->dead()) return nullptr;
  PreWrite(e);
  if (IsExpired(*e)) {
    MarkDead(e);
    return nullptr;
  }
  return e;
}

Entry* Db::Lookup(std::string_view key) {
  Entry* e = Find(key);
  if (e == nullptr) {
    ++stats_->keyspace_misses;
    Notify(kNotifyKeyMiss, "keymiss", key);  // as Redis: where a read counts a miss
  } else {
    ++stats_->keyspace_hits;
    e->set_access_time(clock_->now_ms);
  }
  return e;
}

Entry* Db::FindOrInsert(std::string_view key, bool* inserted) {
  Touch(key);  // callers find-or-insert to write
  Entry* e = keys_.FindOrInsert(key, inserted);
  if (!*inserted) PreWrite(e);
  if (!*inserted && (e->dead() || IsExpired(*e))) {
    // Reuse the entry as a fresh key.
    if (e->dead()) {
      Keyspace::SetDead(e, false);
      --dead_;
    } else {
      CountExpired(*e);
    }
    keys_.ClearExpiry(e);
    keys_.SetString(e, {}, StringEncoding::kEmbstr);
    *inserted = true;
  }
  if (*inserted) {
    Notify(kNotifyNew, "new", key);
    e->InitAccess(clock_->now_ms);
    if (!watched_.empty()) SignalKeyReady(key);
  }
  return e;
}

uint64_t Db::Watch(const std::string& key) {
  WatchState& state = watch_versions_[key];
  ++state.watchers;
  return state.version;
}

void Db::Unwatch(const std::string& key) {
  auto it = watch_versions_.find(key);
  if (it != watch_versions_.end() && --it->second.watchers <= 0) watch_versions_.erase(it);
}

uint64_t Db::WatchVersion(const std::string& key) {
  Find(key);  // a watched key whose time has passed expires now, which touches it
  auto it = watch_versions_.find(key);
  // Not registered (no client watches it here): report a change.
  return it == watch_versions_.end() ? UINT64_MAX : it->second.version;
}

void Db::TouchSlow(std::string_view key) {
  auto it = watch_versions_.find(std::string(key));
  if (it != watch_versions_.end()) it->second.version = ++touch_counter_;
}

void Db::TouchWatchedExisting(Db& other) {
  // Raw lookups, as Redis's dictFind: a key past its time but not yet reaped still counts.
  for (auto& [key, state] : watch_versions_) {
    if (keys_.Find(key) != nullptr || other.keys_.Find(key) != nullptr) {
      state.version = ++touch_counter_;
    }
  }
}

void Db::TradeClientState(Db& other) {
  std::swap(watch_versions_, other.watch_versions_);
  std::swap(touch_counter_, other.touch_counter_);
  std::swap(watched_, other.watched_);
}

void Db::SignalWaitedKeysReady() {
  for (const auto& [key, n] : watched_) {
    const Entry* e = keys_.Find(key);
    if (e != nullptr && !e->dead()) SignalKeyReady(key);
  }
}

void Db::UnwatchKey(const std::string& key) {
  auto it = watched_.find(key);
  if (it != watched_.end() && --it->second <= 0) watched_.erase(it);
}

void Db::SignalKeyReady(std::string_view key) {
  if (ready_ == nullptr || watched_.empty()) return;
  std::string k(key);
  if (watched_.contains(k)) ready_->emplace_back(index_, std::move(k));
}

Entry* Db::Set(std::string_view key, Value value, bool keep_ttl) {
  bool inserted = false;
  Entry* e = FindOrInsert(key, &inserted);
  keys_.Assign(e, std::move(value));
  if (!keep_ttl) ClearExpiry(e);
  // An overwrite (e.g. RENAME of a list onto a string key) can serve blocked clients too.
  if (!inserted && !watched_.empty()) SignalKeyReady(key);
  return e;
}

bool Db::Erase(std::string_view key) {
  Entry* e = keys_.Find(key);
  if (e == nullptr) return false;  // nothing changes: no WATCH is touched (as Redis's dbDelete)
  Touch(key);
  PreWrite(e);
  bool live = false;
  const bool was_dead = e->dead();
  if (was_dead) {
    --dead_;
  } else if (IsExpired(*e)) {
    CountExpired(*e);
  } else {
    live = true;
    if (e->has_expiry()) --expires_;
  }
  keys_.Erase(key);
  // A deleted (or expired) key wakes its blocked clients too: XREADGROUP then replies an error,
  // as Redis's signalDeletedKeyAsReady makes it. A dead entry signalled when it died.
  if (!was_dead && !watched_.empty()) SignalKeyReady(key);
  return live;
}

bool Db::Evict(std::string_view key) {
  if (keys_.Find(key) == nullptr) return false;
  std::string name(key);  // `key` may live in the entry that goes
  if (Erase(name)) {
    ++stats_->evicted_keys;
    Notify(kNotifyEvicted, "evicted", name);
    // Client-side caching: an evicted key is invalidated like an expired one.
    if (expiry_listener_ != nullptr) expiry_listener_(expiry_context_, name);
  }
  return true;
}

std::optional<Db::Taken> Db::Take(std::string_view key) {
  Entry* e = Find(key);
  if (e == nullptr) {
    Erase(key);  // a dead entry goes now
    return std::nullopt;
  }
  Taken taken;
  taken.expire_at_ms = e->expire_at_ms();
  taken.value = keys_.TakeValue(e);
  Erase(key);
  return taken;
}

void Db::TouchLive() {
  if (watch_versions_.empty()) return;
  std::vector<std::string> keys;
  keys.reserve(watch_versions_.size());
  for (const auto& [key, state] : watch_versions_) keys.push_back(key);
  for (const std::string& key : keys) {
    if (Find(key) != nullptr) TouchSlow(key);  // Find expires a stale key, which touches it
  }
}

void Db::Clear() {
  if (snapshot_ != nullptr) DrainSnapshot();
  TouchLive();
  for (const auto& [key, n] : watched_) SignalKeyReady(key);
  keys_.Clear();
  expires_ = 0;
  dead_ = 0;
  dead_keys_.clear();
  expire_cursor_ = 0;
}

void Db::SetExpiry(Entry* entry, int64_t at_ms) {
  if (!entry->has_expiry()) ++expires_;
  keys_.SetExpiry(entry, at_ms);
}

void Db::ClearExpiry(Entry* entry) {
  if (entry->has_expiry()) --expires_;
  keys_.ClearExpiry(entry);
}

uint64_t Db::Scan(uint64_t cursor, size_t count, const std::function<void(Entry&)>& fn) {
  return keys_.Scan(cursor, count, [&](Entry& e) {
    if (e.dead()) return;
    PreWrite(&e);
    if (IsExpired(e)) {
      MarkDead(&e);
      return;
    }
    fn(e);
  });
}

Entry* Db::RandomLive(uint64_t random_bits) {
  // Expired keys found on the way are deleted, as Redis's RANDOMKEY does; bounded tries.
  for (int i = 0; i < 100 && size() > 0; ++i) {
    Entry* e = keys_.Random(random_bits + i * 0x9E3779B97F4A7C15ULL);
    if (e == nullptr) return nullptr;
    if (e->dead()) continue;
    PreWrite(e);
    if (!IsExpired(*e)) return e;
    MarkDead(e);
  }
  return nullptr;
}

void Db::ReapDead() {
  for (const std::string& key : dead_keys_) {
    Entry* e = keys_.Find(key);
    if (e != nullptr && e->dead()) {
      keys_.Erase(key);
      --dead_;
    }
  }
  dead_keys_.clear();
}

size_t Db::ActiveExpire(int64_t budget_us) {
  ReapDead();
  if (expires_ == 0) return 0;
  int64_t start = NowMicros();
  size_t deleted = 0;
  std::vector<std::string> expired;
  do {
    expire_cursor_ = keys_.ScanVolatile(expire_cursor_, 16, [&](Entry& e) {
      if (!e.dead() && IsExpired(e)) expired.emplace_back(e.key());
    });
    for (const std::string& key : expired) Erase(key);
    deleted += expired.size();
    expired.clear();
  } while (expires_ > 0 && expire_cursor_ != 0 && NowMicros() - start < budget_us);
  return deleted;
}

void Db::Maintain(int64_t /*budget_us*/) { ReapDead(); }

void Db::SaveForSnapshot(Entry* e) {
  keys_.MarkSnapshotDone(e);
  // A dead entry not yet done died before the snapshot began: every path that marks an entry
  // dead (Find, Scan, RandomLive) runs the pre-write hook first.
  if (!e->dead()) snapshot_->Save(*e);
}

bool Db::SnapshotStep(uint64_t* cursor, size_t count) {
  if (snapshot_ == nullptr) return true;
  *cursor = keys_.Scan(*cursor, count, [&](Entry& e) {
    if (!keys_.SnapshotDone(e)) SaveForSnapshot(&e);
  });
  return *cursor == 0;
}

void Db::DrainSnapshot() {
  uint64_t cursor = 0;
  while (!SnapshotStep(&cursor, 1024)) {
  }
}

}  // namespace shardis
