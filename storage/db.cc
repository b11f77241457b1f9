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

void Db::ExpireEntry(Entry* entry) {
  Touch(entry->key);
  --expires_;
  ++stats_->expired_keys;
  keys_.Erase(entry->key);
}

Entry* Db::Find(std::string_view key) {
  Entry* e = keys_.Find(key);
  if (e != nullptr && IsExpired(*e)) {
    ExpireEntry(e);
    return nullptr;
  }
  return e;
}

Entry* Db::Lookup(std::string_view key) {
  Entry* e = Find(key);
  if (e == nullptr) {
    ++stats_->keyspace_misses;
  } else {
    ++stats_->keyspace_hits;
    e->access_time_s = static_cast<uint32_t>(clock_->now_ms / 1000);
  }
  return e;
}

Entry* Db::FindOrInsert(std::string_view key, bool* inserted) {
  Touch(key);  // callers find-or-insert to write
  Entry* e = keys_.FindOrInsert(key, inserted);
  if (!*inserted && IsExpired(*e)) {
    // Reuse the entry as a fresh key.
    --expires_;
    ++stats_->expired_keys;
    e->expire_at_ms = kNoExpiry;
    e->value = Value{};
    *inserted = true;
  }
  if (*inserted) {
    e->access_time_s = static_cast<uint32_t>(clock_->now_ms / 1000);
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
  // Not registered here (e.g. SWAPDB moved the watched db away): report a change.
  return it == watch_versions_.end() ? UINT64_MAX : it->second.version;
}

void Db::TouchSlow(std::string_view key) {
  auto it = watch_versions_.find(std::string(key));
  if (it != watch_versions_.end()) it->second.version = ++touch_counter_;
}

void Db::TouchAll() {
  for (auto& [key, state] : watch_versions_) state.version = ++touch_counter_;
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
  e->value = std::move(value);
  if (!keep_ttl) ClearExpiry(e);
  // An overwrite (e.g. RENAME of a list onto a string key) can serve blocked clients too.
  if (!inserted && !watched_.empty()) SignalKeyReady(key);
  return e;
}

bool Db::Erase(std::string_view key) { return Detach(key) != nullptr; }

std::unique_ptr<Entry> Db::Detach(std::string_view key) {
  Touch(key);
  std::unique_ptr<Entry> e = keys_.Detach(key);
  if (e == nullptr) return nullptr;
  if (e->has_expiry()) {
    --expires_;
    if (IsExpired(*e)) {
      ++stats_->expired_keys;
      return nullptr;
    }
  }
  return e;
}

void Db::Clear() {
  TouchAll();
  keys_.Clear();
  expires_ = 0;
  expire_cursor_ = 0;
}

void Db::SetExpiry(Entry* entry, int64_t at_ms) {
  if (!entry->has_expiry()) ++expires_;
  entry->expire_at_ms = at_ms;
}

void Db::ClearExpiry(Entry* entry) {
  if (entry->has_expiry()) --expires_;
  entry->expire_at_ms = kNoExpiry;
}

uint64_t Db::Scan(uint64_t cursor, std::vector<Entry*>* out) {
  std::vector<Entry*> expired;
  uint64_t next = keys_.Scan(cursor, [&](Entry& e) {
    if (IsExpired(e)) {
      expired.push_back(&e);
    } else {
      out->push_back(&e);
    }
  });
  for (Entry* e : expired) ExpireEntry(e);
  return next;
}

Entry* Db::RandomLive(uint64_t random_bits) {
  // Expired keys found on the way are deleted, as Redis's RANDOMKEY does; bounded tries.
  for (int i = 0; i < 100 && keys_.size() > 0; ++i) {
    Entry* e = keys_.Random(random_bits + i * 0x9E3779B97F4A7C15ULL);
    if (!IsExpired(*e)) return e;
    ExpireEntry(e);
  }
  return nullptr;
}

size_t Db::ActiveExpire(int64_t budget_us) {
  if (expires_ == 0) return 0;
  int64_t start = NowMicros();
  size_t deleted = 0;
  std::vector<Entry*> expired;
  do {
    for (int i = 0; i < 16; ++i) {
      expire_cursor_ = keys_.Scan(expire_cursor_, [&](Entry& e) {
        if (IsExpired(e)) expired.push_back(&e);
      });
      if (expire_cursor_ == 0) break;
    }
    for (Entry* e : expired) ExpireEntry(e);
    deleted += expired.size();
    expired.clear();
  } while (expires_ > 0 && expire_cursor_ != 0 && NowMicros() - start < budget_us);
  return deleted;
}

void Db::Maintain(int64_t budget_us) {
  keys_.MaybeShrink();
  if (keys_.rehashing()) keys_.RehashFor(budget_us);
}

}  // namespace shardis
