// LocalShardTarget: the ScriptCallTarget of a script running on one shard (its thread). A
// redis.call runs the command's shard handler inline on this shard, as the dispatcher would for
// a client; keyless commands that only have a connection-side handler (DBSIZE, FLUSHDB, TIME,
// PING...) run it with a synchronous fan-out limited to this shard. A command touching a key
// another shard owns fails with Redis Cluster's error: atomic multi-shard scripts need the
// cross-shard transaction mechanism (a ScriptCallTarget over every shard can replace this one).
#pragma once

#include <string>

#include "server/scripting/lua_engine.h"

namespace shardis {

class Config;
class ShardData;

namespace scripting {

class LocalShardTarget : public ScriptCallTarget {
 public:
  LocalShardTarget(ShardData& shard, int db_index, const Config& config, int shard_index,
                   int shard_count)
      : shard_(shard),
        db_index_(db_index),
        config_(config),
        shard_index_(shard_index),
        shard_count_(shard_count) {}

  bool Call(const CommandSpec& spec, ArgList args, ReplyBuilder& reply,
            std::string* error) override;

  int db_index() const { return db_index_; }

 private:
  class SyncRunner;

  ShardData& shard_;
  int db_index_;  // SELECT inside a script changes it for the rest of the script
  const Config& config_;
  int shard_index_;
  int shard_count_;
  std::vector<int> positions_;
};

inline constexpr std::string_view kNonLocalKeyError =
    "Script attempted to access a non local key in a cluster node";

}  // namespace scripting
}  // namespace shardis
