// PubSubRegistry: one reactor thread's subscriptions: which of its connections listen to which
// channels, patterns and shard channels. Each thread keeps its own; PUBLISH visits every thread
// (ServerContext::ForEachThread) and each delivers to its own subscribers, so no registry is
// shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace shardis {

enum class SubKind : uint8_t { kChannel = 0, kPattern = 1, kShardChannel = 2 };

class PubSubRegistry {
 public:
  // True when the connection was not yet subscribed to `name`.
  bool Subscribe(uint64_t conn, SubKind kind, const std::string& name);
  bool Unsubscribe(uint64_t conn, SubKind kind, const std::string& name);
  // The connection's subscriptions of one kind (for UNSUBSCRIBE without arguments).
  std::vector<std::string> SubscriptionsOf(uint64_t conn, SubKind kind) const;
  // Channels + patterns (what SUBSCRIBE replies count), or shard channels.
  size_t CountOf(uint64_t conn, SubKind kind) const;
  void RemoveAll(uint64_t conn);

  // Subscribers of `channel` of the given kind (kChannel or kShardChannel), in subscription order.
  void ForEachChannelSubscriber(SubKind kind, std::string_view channel,
                                const std::function<void(uint64_t conn)>& fn) const;
  // (pattern, subscriber) for every pattern matching `channel`.
  void ForEachPatternSubscriber(
      std::string_view channel,
      const std::function<void(const std::string& pattern, uint64_t conn)>& fn) const;

  // PUBSUB: channel names of one kind (matching `pattern` unless empty), subscriber counts.
  std::vector<std::string> Channels(SubKind kind, std::string_view pattern) const;
  size_t NumSub(SubKind kind, std::string_view channel) const;

 private:
  using Names = absl::flat_hash_map<std::string, std::vector<uint64_t>>;
  struct ClientSubs {
    absl::flat_hash_set<std::string> names[3];
  };

  Names by_name_[3];
  absl::flat_hash_map<uint64_t, ClientSubs> by_conn_;
};

}  // namespace shardis
