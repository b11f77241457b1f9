// Scripts across shards: runs an EVAL* or FCALL* on the connection's thread, inside the atomic
// operation the dispatcher opened for it (RunAtomic over its declared KEYS, or over every shard
// whole for a script that touches keys it did not declare: see scripting_family.cc), as a
// coroutine (LuaEngine::RunScriptAsync) that suspends at each redis.call on another shard.
//
// Each such call becomes one phase of the atomic operation: a task on the owning shard runs it
// there (a LocalShardTarget on that shard), and the phase's `done`, back on the connection's
// thread, resumes the script with the reply. Calls on this thread's own shard run inline, as do
// keyless ones. A command whose keys span shards (MSET, SUNIONSTORE...) or that visits every
// shard (DBSIZE, FLUSHALL...) runs its connection-side handler, whose own phases join the
// operation; its reply is captured for the script instead of the client. Because the intents
// of the whole operation are held from the first instruction to the reply, the script is one
// atomic step for every other client, as in Redis.
//
// While the script waits for a phase the thread serves its other connections; only commands on
// the keys (or shards) the script holds wait for it. At the end the engine of this thread learns
// whether the script touched undeclared keys (LuaEngine::NoteKeyUse), which decides the scope of
// its next runs.
//
// Runs on the connection's thread only, except the shard tasks, which touch only their shard and
// the drive's reply buffer (one phase at a time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/command.h"

namespace shardis {

class Config;
class ShardData;
struct AclUser;

namespace scripting {

struct CrossShardScript {
  std::vector<std::string> argv;  // the whole EVAL*/FCALL* command
  bool is_function = false;       // FCALL*: argv[1] is the function name; EVAL*: the sha is below
  std::string sha;                // EVAL*: the script (already cached on this thread)
  size_t numkeys = 0;             // validated by the caller
  bool read_only = false;         // EVAL_RO, EVALSHA_RO, FCALL_RO
  int db_index = 0;
  int64_t busy_threshold_ms = -1;
  std::shared_ptr<const AclUser> acl_user;  // a restricted caller's permissions (a copy)
};

// The permissions a script of this client runs with: null for a user with every permission,
// else a copy (ACL SETUSER may change the user while the script waits for a phase).
std::shared_ptr<const AclUser> ScriptAclUser(const ClientCommand& c);

// The key-use id of a script (LuaEngine::key_use): "s:" + sha or "f:" + function name.
std::string ScriptKeyUseId(bool is_function, std::string_view sha_or_name);

// Starts `script` now. Called from an on_client handler (or a phase's done) of an atomic
// operation that covers the script's keys, on the thread that owns `own_shard`. The reply goes to
// `reply` now or, if the script suspends, to a later phase's reply.
void RunScriptAcrossShards(CrossShardScript script, ShardData& own_shard, const Config& config,
                           int own_index, ReplyBuilder& reply, FanOutRunner& runner);

}  // namespace scripting
}  // namespace shardis
