#include "server/pubsub.h"

#include <algorithm>

#include "storage/glob.h"

namespace shardis {
namespace {

absl::string_view AView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

bool PubSubRegistry::Subscribe(uint64_t conn, SubKind kind, const std::string& name) {
  int k = static_cast<int>(kind);
  if (!by_conn_[conn].names[k].insert(name).second) return false;
  by_name_[k][name].push_back(conn);
  return true;
}

bool PubSubRegistry::Unsubscribe(uint64_t conn, SubKind kind, const std::string& name) {
  int k = static_cast<int>(kind);
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end() || it->second.names[k].erase(name) == 0) return false;
  auto nit = by_name_[k].find(name);
  if (nit != by_name_[k].end()) {
    std::erase(nit->second, conn);
    if (nit->second.empty()) by_name_[k].erase(nit);
  }
  const ClientSubs& subs = it->second;
  if (subs.names[0].empty() && subs.names[1].empty() && subs.names[2].empty()) {
    by_conn_.erase(it);
  }
  return true;
}

std::vector<std::string> PubSubRegistry::SubscriptionsOf(uint64_t conn, SubKind kind) const {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return {};
  const auto& names = it->second.names[static_cast<int>(kind)];
  return std::vector<std::string>(names.begin(), names.end());
}

size_t PubSubRegistry::CountOf(uint64_t conn, SubKind kind) const {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return 0;
  if (kind == SubKind::kShardChannel) return it->second.names[2].size();
  return it->second.names[0].size() + it->second.names[1].size();
}

void PubSubRegistry::RemoveAll(uint64_t conn) {
  for (SubKind kind : {SubKind::kChannel, SubKind::kPattern, SubKind::kShardChannel}) {
    for (const std::string& name : SubscriptionsOf(conn, kind)) Unsubscribe(conn, kind, name);
  }
}

void PubSubRegistry::ForEachChannelSubscriber(SubKind kind, std::string_view channel,
                                              const std::function<void(uint64_t)>& fn) const {
  const Names& names = by_name_[static_cast<int>(kind)];
  auto it = names.find(AView(channel));
  if (it == names.end()) return;
  std::vector<uint64_t> conns = it->second;  // fn may unsubscribe (e.g. closing a slow client)
  for (uint64_t conn : conns) fn(conn);
}

void PubSubRegistry::ForEachPatternSubscriber(
    std::string_view channel, const std::function<void(const std::string&, uint64_t)>& fn) const {
  std::vector<std::pair<std::string, uint64_t>> matches;
  for (const auto& [pattern, conns] : by_name_[static_cast<int>(SubKind::kPattern)]) {
    if (!GlobMatch(pattern, channel)) continue;
    for (uint64_t conn : conns) matches.emplace_back(pattern, conn);
  }
  for (const auto& [pattern, conn] : matches) fn(pattern, conn);
}

std::vector<std::string> PubSubRegistry::Channels(SubKind kind, std::string_view pattern) const {
  std::vector<std::string> out;
  for (const auto& [name, conns] : by_name_[static_cast<int>(kind)]) {
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  }
  return out;
}

size_t PubSubRegistry::NumSub(SubKind kind, std::string_view channel) const {
  const Names& names = by_name_[static_cast<int>(kind)];
  auto it = names.find(AView(channel));
  return it == names.end() ? 0 : it->second.size();
}

}  // namespace shardis
