// LocalShardTarget: the ScriptCallTarget of a script running on one shard (its thread). A
// redis.call runs the command's shard handler inline on this shard, as the dispatcher would for
// a client; keyless commands that only have a connection-side handler (DBSIZE, FLUSHDB, TIME,
// PING...) run it with a synchronous fan-out limited to this shard. A command touching a key
// another shard owns fails with Redis Cluster's error here; scripts that may reach other shards
// run on the connection's thread with a target that defers such calls (script_run.h), which
// uses a LocalShardTarget for each shard it reaches.
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

  CallStatus Call(const CommandSpec& spec, ArgList args, ReplyBuilder& reply,
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
inline constexpr std::string_view kNotAllowedFromScript =
    "This Redis command is not allowed from script";

// Connection-side handlers a script may run: the data families' (they never use the server
// context) and a few server/connection commands that only read their arguments and the shard.
bool ClientHandlerAllowed(const CommandSpec& spec);

// Counts a command a script ran in this thread's INFO commandstats (and its error reply, the
// reply from `at` in `out`, in errorstats): see server/call_stats.h.
void RecordScriptCallStats(const CommandSpec& spec, ArgList args, uint64_t usec,
                           const std::string& out, size_t at);

}  // namespace scripting
}  // namespace shardis
