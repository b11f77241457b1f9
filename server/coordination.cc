// IntentTable: one shard's key intents (see coordination.h). Single-threaded: only the shard's own
// reactor thread calls it.
#include "server/coordination.h"

#include <algorithm>
#include <cassert>

#include "server/command.h"

namespace shardis {

std::string IntentKey(int db, std::string_view key) { return Cat(db, ':', key); }

uint64_t IntentTable::Add(std::vector<std::string> keys, bool exclusive, bool whole_shard,
                          Grant on_grant, bool* granted) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  uint64_t seq = next_seq_++;
  Request& r = requests_[seq];
  r.keys = std::move(keys);
  r.exclusive = exclusive;
  r.whole = whole_shard;
  if (whole_shard) {
    wholes_.insert(seq);
  } else {
    for (const std::string& k : r.keys) queues_[k].push_back(seq);
  }
  r.granted = Grantable(seq, r);
  if (!r.granted) r.on_grant = std::move(on_grant);
  *granted = r.granted;
  return seq;
}

bool IntentTable::Grantable(uint64_t seq, const Request& r) const {
  if (!wholes_.empty() && *wholes_.begin() < seq) return false;
  if (r.whole) return requests_.begin()->first == seq;
  for (const std::string& k : r.keys) {
    auto it = queues_.find(k);
    assert(it != queues_.end());
    for (uint64_t other : it->second) {
      if (other == seq) break;
      if (r.exclusive || requests_.at(other).exclusive) return false;
    }
  }
  return true;
}

void IntentTable::Release(uint64_t id) {
  auto it = requests_.find(id);
  assert(it != requests_.end());
  Request& r = it->second;
  if (r.whole) {
    wholes_.erase(id);
  } else {
    for (const std::string& k : r.keys) {
      auto q = queues_.find(k);
      std::erase(q->second, id);
      if (q->second.empty()) queues_.erase(q);
    }
  }
  requests_.erase(it);
  Pump();
}

void IntentTable::Pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    std::vector<Grant> grants;
    for (auto& [seq, r] : requests_) {
      if (r.granted || !Grantable(seq, r)) continue;
      r.granted = true;
      grants.push_back(std::move(r.on_grant));
    }
    // Callbacks run after the scan: they may Add or Release (which only flags another round).
    for (Grant& g : grants) g();
  } while (pump_again_);
  pumping_ = false;
}

bool IntentTable::CanRunNow(const std::vector<std::string>& keys, bool exclusive) const {
  if (!wholes_.empty()) return false;
  for (const std::string& k : keys) {
    auto it = queues_.find(k);
    if (it == queues_.end()) continue;
    if (exclusive) return false;
    for (uint64_t other : it->second) {
      if (requests_.at(other).exclusive) return false;
    }
  }
  return true;
}

bool IntentTable::Busy(const std::string& key) const {
  return !wholes_.empty() || queues_.contains(key);
}

}  // namespace shardis
