// Consumer groups of a stream: see stream_groups.h. Shard thread only.
#include "storage/stream_groups.h"

#include <cassert>
#include <utility>

namespace shardis {

StreamGroup::StreamGroup(const StreamGroup& other)
    : last_id(other.last_id), entries_read(other.entries_read) {
  for (const auto& [name, c] : other.consumers) {
    auto copy = std::make_unique<StreamConsumer>(*c);
    consumers.emplace(name, std::move(copy));
  }
  for (const auto& [id, nack] : other.pel) {
    StreamNack n = nack;
    n.consumer = consumers.find(nack.consumer->name)->second.get();
    pel.emplace(id, n);
  }
}

StreamConsumer* StreamGroup::FindConsumer(std::string_view name) const {
  auto it = consumers.find(name);
  return it == consumers.end() ? nullptr : it->second.get();
}

StreamConsumer* StreamGroup::CreateConsumer(std::string_view name, int64_t now_ms) {
  if (consumers.find(name) != consumers.end()) return nullptr;
  auto c = std::make_unique<StreamConsumer>();
  c->name = std::string(name);
  c->seen_time = now_ms;
  StreamConsumer* raw = c.get();
  consumers.emplace(c->name, std::move(c));
  return raw;
}

StreamConsumer* StreamGroup::FindOrCreateConsumer(std::string_view name, int64_t now_ms,
                                                  bool* created) {
  StreamConsumer* c = FindConsumer(name);
  *created = c == nullptr;
  return c != nullptr ? c : CreateConsumer(name, now_ms);
}

void StreamGroup::DeleteConsumer(StreamConsumer* consumer) {
  for (StreamId id : consumer->pel) pel.erase(id);
  consumers.erase(consumer->name);
}

void StreamGroup::Deliver(StreamId id, StreamConsumer* consumer, int64_t now_ms) {
  auto [it, inserted] = pel.try_emplace(id);
  StreamNack& nack = it->second;
  if (!inserted) nack.consumer->pel.erase(id);
  nack.consumer = consumer;
  nack.delivery_time = now_ms;
  nack.delivery_count = 1;
  consumer->pel.insert(id);
}

void StreamGroup::Assign(StreamNack* nack, StreamId id, StreamConsumer* consumer) {
  if (nack->consumer == consumer) return;
  nack->consumer->pel.erase(id);
  nack->consumer = consumer;
  consumer->pel.insert(id);
}

bool StreamGroup::AddNack(StreamId id, StreamConsumer* consumer, int64_t delivery_time,
                          uint64_t count) {
  auto [it, inserted] = pel.try_emplace(id, StreamNack{delivery_time, count, consumer});
  if (!inserted) return false;
  if (consumer != nullptr) consumer->pel.insert(id);
  return true;
}

bool StreamGroup::Ack(StreamId id) {
  auto it = pel.find(id);
  if (it == pel.end()) return false;
  assert(it->second.consumer != nullptr);
  it->second.consumer->pel.erase(id);
  pel.erase(it);
  return true;
}

StreamGroups::StreamGroups(const StreamGroups& other) {
  for (const auto& [name, g] : other.groups_) {
    groups_.emplace(name, std::make_unique<StreamGroup>(*g));
  }
}

StreamGroups& StreamGroups::operator=(const StreamGroups& other) {
  if (this != &other) {
    StreamGroups copy(other);
    *this = std::move(copy);
  }
  return *this;
}

StreamGroup* StreamGroups::Find(std::string_view name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

StreamGroup* StreamGroups::Create(std::string_view name, StreamId last_id, int64_t entries_read) {
  if (groups_.find(name) != groups_.end()) return nullptr;
  auto g = std::make_unique<StreamGroup>(last_id, entries_read);
  StreamGroup* raw = g.get();
  groups_.emplace(std::string(name), std::move(g));
  return raw;
}

bool StreamGroups::Destroy(std::string_view name) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return false;
  groups_.erase(it);
  return true;
}

}  // namespace shardis
