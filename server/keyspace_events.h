// Publishing keyspace notifications: turns a shard's raised events (storage/notify.h) into the
// pub/sub messages redis-server sends (notify.c): __keyspace@<db>__:<key> carrying the event
// name and __keyevent@<db>__:<event> carrying the key, in that order, per the K / E flags.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/notify.h"

namespace shardis {

using ChannelMessages = std::vector<std::pair<std::string, std::string>>;  // (channel, message)

// Appends the messages of `events` under `flags` (the K / E bits decide which channels).
void BuildKeyspaceMessages(const std::vector<KeyspaceEvent>& events, uint32_t flags,
                           ChannelMessages* out);

}  // namespace shardis
