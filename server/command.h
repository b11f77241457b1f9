// The command model: what a command handler sees, and the command table entry that describes it.
//
// A command runs in one of two places:
//  - on the shard that owns its keys (ShardHandler): it sees that shard's data, the selected
//    database, its arguments and a reply sink; it never sees a socket or a connection;
//  - on the connection's own thread (ClientHandler): keyless commands (PING, CLIENT, CONFIG...)
//    and commands whose keys span shards. Such a handler may fan work out to shards with
//    ClientCommand::RunOnShards and finish the reply when every shard has answered.
// The dispatcher chooses: a command with an on_shard handler whose keys all hash to one shard
// runs there (inline when that shard is the connection's own); otherwise on_client runs.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "protocol/reply_builder.h"
#include "server/coordination.h"
#include "storage/shard_data.h"

namespace shardis {

using ArgList = std::span<const std::string_view>;

// Debian's abseil has its own absl::string_view, distinct from std::string_view; absl's string
// functions (StrCat, AsciiStrToLower, map lookups...) take it, so convert at that boundary.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Cat / CatAppend: string concatenation that takes std::string_view (absl::StrCat does not, see
// above), strings, C strings and integers.
inline void CatPiece(std::string& out, std::string_view s) { out.append(s); }
inline void CatPiece(std::string& out, const char* s) { out.append(s); }
inline void CatPiece(std::string& out, const std::string& s) { out.append(s); }
inline void CatPiece(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void CatPiece(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void CatPiece(std::string& out,
                                                                         T value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}
template <typename... Args>
void CatAppend(std::string* out, const Args&... args) {
  (CatPiece(*out, args), ...);
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (CatPiece(out, args), ...);
  return out;
}

// The redis-server version whose behaviour Shardis matches (INFO redis_version, HELLO).
inline constexpr std::string_view kRedisCompatVersion = "7.0.15";

class Config;
struct ClientState;
class ServerContext;

// Command flags, named as Redis's COMMAND reply names them.
enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadonly = 1u << 1,
  kCmdDenyOom = 1u << 2,
  kCmdAdmin = 1u << 3,
  kCmdPubsub = 1u << 4,
  kCmdNoscript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdFast = 1u << 11,
  kCmdNoAuth = 1u << 12,
  kCmdMayReplicate = 1u << 13,
  kCmdAllowBusy = 1u << 14,
  kCmdNoMulti = 1u << 15,
  kCmdMovableKeys = 1u << 16,
  kCmdNoMandatoryKeys = 1u << 17,
  kCmdNoAsyncLoading = 1u << 18,
  kCmdAsking = 1u << 19,
};

// What a blocked client gets when its timeout passes.
enum class TimeoutReply : uint8_t { kNullArray, kNullBulk, kZero };

// Filled by ShardCommand::Block(): the client waits on `keys` of this shard's db.
struct BlockRequest {
  bool requested = false;
  std::vector<std::string> keys;
  int64_t deadline_ms = 0;  // absolute unix ms; 0 = wait forever
  TimeoutReply timeout_reply = TimeoutReply::kNullArray;
  std::vector<std::string> retry_args;  // args for re-runs; empty = the original ones
};

// What a handler running on the owning shard sees.
struct ShardCommand {
  ArgList args;  // args[0] is the command name as the client sent it
  ShardData& shard;
  Db& db;  // the client's selected database on this shard
  int db_index;
  ReplyBuilder& reply;
  const Config& config;  // this thread's copy of the configuration
  // Blocking support: null where the command may not block (then it replies as on timeout).
  BlockRequest* block = nullptr;
  bool retrying = false;     // re-run because one of the keys it waits on may be ready
  bool from_script = false;  // called by a Lua script (redis.call), as Redis's CLIENT_SCRIPT

  int64_t now_ms() const { return shard.now_ms(); }

  // For blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK...): when nothing can be served now, call
  // this instead of replying and return. The client then waits; the handler runs again (with
  // `retry_args` if given, e.g. XREAD's "$" resolved to an id) each time one of `keys` is
  // created or signalled (Db::SignalKeyReady), until it replies without blocking; at the
  // deadline the dispatcher replies `timeout_reply` itself. Returns false when this context
  // cannot block: the handler must then reply as on timeout.
  bool Block(std::vector<std::string> keys, int64_t deadline_ms, TimeoutReply timeout_reply,
             std::vector<std::string> retry_args = {}) {
    if (block == nullptr) return false;
    block->requested = true;
    block->keys = std::move(keys);
    block->deadline_ms = deadline_ms;
    block->timeout_reply = timeout_reply;
    block->retry_args = std::move(retry_args);
    return true;
  }
};

// Raises a keyspace notification (notify-keyspace-events) for `key` of the command's db, e.g.
// NotifyKeyspaceEvent(cmd, kNotifyString, "set", key). One branch when notifications are off;
// the reactor publishes what was raised once the command has run.
template <typename Cmd>
inline void NotifyKeyspaceEvent(Cmd& cmd, uint32_t type, const char* event, std::string_view key) {
  cmd.shard.notifier().Notify(type, event, key, cmd.db_index);
}

// What a fan-out task sees on each shard it runs on.
struct ShardAccess {
  ShardData& shard;
  Db& db;  // the client's selected database on this shard
  int db_index;
  int shard_index;
  const Config& config;
  int shard_count = 1;  // of the server (set by the reactor)
};

class FanOutRunner;

// Work sent to every listed shard by RunOnShards: runs on that shard's thread.
using ShardTask = std::function<void(ShardAccess&)>;
// Runs back on the connection's thread once every shard has run its task. It either writes the
// reply, or starts another phase with runner.RunOnShards(...) (e.g. a cross-shard RENAME: take
// the value from one shard, then store it on another) whose own `done` replies later.
using FanOutDone = std::function<void(ReplyBuilder& reply, FanOutRunner& runner)>;

// Implemented by the connection's reactor: runs fan-out work for a ClientCommand.
class FanOutRunner {
 public:
  virtual ~FanOutRunner() = default;
  virtual void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) = 0;
  virtual int shard_count() const = 0;
  // Runs `body` once the intents of `scope` are held, and keeps them until the operation's last
  // phase is done (see server/coordination.h). Without a coordinator (unit tests), it just runs.
  virtual void RunAtomic(AtomicScope scope, FanOutDone body) {
    (void)scope;
    RunOnShards(
        {}, [](ShardAccess&) {}, std::move(body));
  }
};

// The shard that owns `key` among `shard_count` shards (hash slot, then slot -> shard).
int ShardOfKey(std::string_view key, int shard_count);

// For tasks of atomic operations (RunAtomic, e.g. a script's redis.call): runs one command on
// the shard of `a` the way a transaction does — its on_shard handler, never blocking (blocking
// commands reply as on timeout), touching the WATCHed keys it writes — appending its RESP reply
// to *out. Returns false, writing nothing, when args[0] is no command with an on_shard handler,
// fails its arity, or names a key of another shard.
bool RunCommandOnShard(ShardAccess& a, ArgList args, RespVersion resp, std::string* out);

class ClientCommand {
 public:
  ClientCommand(ArgList a, ClientState& c, ReplyBuilder& r, ServerContext* s, FanOutRunner& f)
      : args(a), client(c), reply(r), server(s), runner_(f) {}

  ArgList args;
  ClientState& client;
  ReplyBuilder& reply;    // valid during the handler call only
  ServerContext* server;  // the reactor's services (clients, stats); null in unit tests of
                          // data command families, which must not use it
  // The client's own command, not one inside EXEC or a script: it may wait on keys of several
  // shards (ServerContext::BlockAcrossShards). Elsewhere blocking commands do not block.
  bool may_block_across_shards = false;

  int shard_count() const { return runner_.shard_count(); }
  int ShardOf(std::string_view key) const { return ShardOfKey(key, runner_.shard_count()); }

  // Runs `task` on each shard in `shards` (each at most once; in parallel, order unspecified),
  // then `done` on this thread, which writes the reply. The client's later commands wait until
  // `done` has run; the handler must not write to `reply` itself when it calls this. A task
  // touches only what the shard it runs on owns, plus its own slot of objects it captured (one
  // slot per shard; `done` may read them all).
  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) {
    runner_.RunOnShards(std::move(shards), std::move(task), std::move(done));
  }
  void RunOnAllShards(ShardTask task, FanOutDone done) {
    std::vector<int> all(runner_.shard_count());
    for (int i = 0; i < runner_.shard_count(); ++i) all[i] = i;
    RunOnShards(std::move(all), std::move(task), std::move(done));
  }
  // Runs `body` atomically over the keys (or every shard) of `scope`: see server/coordination.h.
  // Like RunOnShards, the handler must not write to `reply` itself when it calls this.
  void RunAtomic(AtomicScope scope, FanOutDone body) {
    runner_.RunAtomic(std::move(scope), std::move(body));
  }
  // For code that continues the operation itself (e.g. a script across shards, script_run.h).
  FanOutRunner& runner() { return runner_; }

 private:
  FanOutRunner& runner_;
};

using ShardHandler = void (*)(ShardCommand&);
using ClientHandler = void (*)(ClientCommand&);
// Appends the positions of the key arguments of `args` (args[0] is the name), for commands whose
// keys first/last/step cannot describe (a numkeys argument: ZUNIONSTORE, ZMPOP...), as Redis's
// getkeys_proc. Must only read args and never fail: malformed arguments yield fewer keys (the
// handler then replies the error).
using KeysHandler = void (*)(ArgList args, std::vector<int>* positions);

struct CommandSpec {
  std::string_view name;  // lowercase; "container|sub" for subcommands listed in COMMAND
  int arity;              // Redis's convention: N exact, -N at least N (name included)
  uint32_t flags;
  int first_key;  // 0 when keyless
  int last_key;   // -1 = last argument, -2 = second to last...
  int key_step;
  std::string_view acl_categories;  // e.g. "@write @string @slow"
  std::string_view group;           // COMMAND DOCS group: "string", "generic", "server"...
  std::string_view summary;         // COMMAND DOCS summary
  std::string_view since;           // Redis version that introduced it
  ShardHandler on_shard = nullptr;
  ClientHandler on_client = nullptr;
  // When set, routing takes the keys from here instead of first/last/step (which still describe
  // the command in COMMAND replies, as Redis reports them).
  KeysHandler get_keys = nullptr;
  // When set and true for these arguments, on_client runs even though the keys share a shard
  // (EVAL of a script body this thread has not cached yet: it must first reach every thread).
  bool (*prefer_client)(ArgList args) = nullptr;
  // When set, may widen the scope of the atomic operation in which on_client runs (the keys of
  // `args` by default): a script that touches keys it did not declare takes every shard.
  void (*widen_scope)(ArgList args, AtomicScope* scope) = nullptr;
};

// Command families register their specs here at start-up (see command_table.h).
void RegisterStringCommands(std::vector<CommandSpec>* table);
void RegisterKeyCommands(std::vector<CommandSpec>* table);
void RegisterServerCommands(std::vector<CommandSpec>* table);
void RegisterConnectionCommands(std::vector<CommandSpec>* table);
void RegisterInfoCommand(std::vector<CommandSpec>* table);
void RegisterListCommands(std::vector<CommandSpec>* table);
void RegisterHashCommands(std::vector<CommandSpec>* table);
void RegisterSetCommands(std::vector<CommandSpec>* table);
void RegisterZSetCommands(std::vector<CommandSpec>* table);
void RegisterGeoCommands(std::vector<CommandSpec>* table);
void RegisterStreamCommands(std::vector<CommandSpec>* table);
void RegisterStreamGroupCommands(std::vector<CommandSpec>* table);
void RegisterSortCommands(std::vector<CommandSpec>* table);
void RegisterHyperLogLogCommands(std::vector<CommandSpec>* table);
void RegisterPubSubCommands(std::vector<CommandSpec>* table);
void RegisterTransactionCommands(std::vector<CommandSpec>* table);
void RegisterPersistenceCommands(std::vector<CommandSpec>* table);
// DEBUG RELOAD (commands/persistence_family.cc), called by DEBUG.
void DebugReload(ClientCommand& c);
void DebugDigest(ClientCommand& c);       // debug_digest.cc
void DebugDigestValue(ClientCommand& c);  // debug_digest.cc
void RegisterScriptingCommands(std::vector<CommandSpec>* table);
void RegisterFunctionCommands(std::vector<CommandSpec>* table);
void RegisterReplicationCommands(std::vector<CommandSpec>* table);
void RegisterAclCommands(std::vector<CommandSpec>* table);
void RegisterSlowlogCommands(std::vector<CommandSpec>* table);
void RegisterLatencyCommands(std::vector<CommandSpec>* table);
void RegisterMonitorCommand(std::vector<CommandSpec>* table);
void RegisterTrackingCommands(std::vector<CommandSpec>* table);
void RegisterMemoryCommands(std::vector<CommandSpec>* table);

// Shared helpers for handlers (commands/util.cc).
namespace cmd {

// Standard error texts, exactly as redis-server 7.0 words them.
inline constexpr std::string_view kSyntaxErr = "ERR syntax error";
inline constexpr std::string_view kWrongTypeErr =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotIntErr = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloatErr = "ERR value is not a valid float";
inline constexpr std::string_view kOverflowErr = "ERR increment or decrement would overflow";
inline constexpr std::string_view kNoSuchKeyErr = "ERR no such key";
inline constexpr std::string_view kDbIndexErr = "ERR DB index is out of range";

bool ParseInt64(std::string_view s, int64_t* out);  // Redis's string2ll rules
bool ParseDouble(std::string_view s, double* out);  // Redis's string2d rules (no nan)
bool ParseLongDouble(std::string_view s, long double* out);
// A blocking command's timeout, as Redis 7.0's getTimeoutFromObjectOrReply: seconds (a long
// double), made milliseconds rounding up (so a tiny positive timeout waits 1 ms, not forever;
// out-of-range products become LLONG_MIN as on x86, hence negative), then the absolute deadline
// from `now_ms`, 0 meaning forever (also a deadline past INT64_MAX, which Redis's timer never
// reaches). Returns "" or the error reply.
std::string_view ParseBlockTimeout(std::string_view arg, int64_t now_ms, int64_t* deadline_ms);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
// Formats a long double the way Redis's INCRBYFLOAT does ("%.17Lf" trimmed of trailing zeros).
std::string FormatLongDouble(long double value);

}  // namespace cmd

}  // namespace shardis
