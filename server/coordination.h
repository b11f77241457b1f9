// Cross-shard coordination: key intents that make multi-shard operations atomic without locks.
//
// Every shard (reactor thread) owns one IntentTable. A multi-shard operation T (a command whose
// keys span shards, a cross-shard EXEC, a Lua script) is coordinated by the connection's
// own thread: it registers T's keys on each shard involved, one shard at a time in increasing
// shard index, each registration a mailbox message that is answered once T is granted there
// (VLL-style: a per-key FIFO of requests). When every shard has granted, T runs its per-shard
// parts (ordinary fan-out tasks, which intents never hold back) in as many phases as it needs,
// then releases every shard. Meanwhile any other command whose keys hit one of T's keys waits on
// that shard in the same FIFO; commands on other keys run as if nothing was held. See
// docs/architecture.md ("Coordination") for why this cannot deadlock and is serializable.
//
// The IntentTable is plain single-threaded data (only its shard's thread touches it); it holds no
// reference to the reactor, so it is unit-tested alone (tests/unit/server/intent_table_test.cc).
//
// The public API, for command handlers (ClientCommand, server/command.h) and the script engine:
//
//   cmd.RunAtomic(AtomicScope scope, FanOutDone body)
//
// Called from an on_client handler (on the connection's thread) instead of writing a reply.
// `scope` names the keys (of the client's selected database, or with explicit dbs) and whether
// they are written (exclusive) or only read (shared), or asks for every shard whole
// (`all_shards`: conflicts with everything on every shard, for keys not known in advance).
// Once this client holds the intents, `body(reply, runner)` runs on the connection's thread; it
// may write the reply or start a phase with runner.RunOnShards(...), whose `done` may start
// another phase, and so on. The intents are released when a phase's `done` returns without
// starting another (or when `body` itself starts none). While they are held, no other client
// can read or write any key of the scope (nor anything at all, with all_shards) until the
// release, so everything the phases do appears as one step. The dispatcher already wraps every
// command whose keys span shards this way (its on_client handler runs as the body), and a
// cross-shard EXEC too. Called from inside such a body (e.g. by a command run by a cross-shard
// EXEC), RunAtomic just runs `body` as the next phase: the enclosing operation already holds
// what it needs (it must then have named those keys, or all_shards).
//
// A task of a phase runs one command on its shard with RunCommandOnShard(access, args, resp,
// &out) (server/command.h): the on_shard handler, never blocking, WATCH-touching. A script
// engine runs a script over shards this way: RunAtomic(declared KEYS, or all_shards when the
// script may touch undeclared keys), then, for each redis.call, one phase on the key's shard
// (RunOnShards({shard}, task calling RunCommandOnShard, done resuming the script, e.g. a Lua
// coroutine that yielded in redis.call)); the intents go when a done returns without starting
// another phase. A command whose keys span shards inside such a script needs its on_client
// handler instead (as ExecContinue in coordination_reactor.cc does for EXEC).
//
// Test hook: DEBUG INTENT-HOLD key... / DEBUG INTENT-RELEASE hold exclusive intents from a client
// beyond its command (that client must not touch those keys meanwhile: it would wait for
// itself).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace shardis {

// What an atomic operation locks (see RunAtomic above).
struct AtomicScope {
  struct Key {
    int db;
    std::string key;
  };
  std::vector<Key> keys;
  bool exclusive = true;    // false: the keys are only read (shared with other readers)
  bool all_shards = false;  // every shard whole; `keys` is then ignored
};

struct CommandSpec;
// FLUSHALL, FLUSHDB, SWAPDB, KEYS, RANDOMKEY, DBSIZE: keyless commands over every shard's data,
// which run atomically over every shard whole (dispatch.cc).
bool IsKeylessDataCommand(const CommandSpec& spec);

// The encoded form of (db, key) the intent table and the blocking registry use.
std::string IntentKey(int db, std::string_view key);

// One shard's intent table. Requests are numbered in registration order (seq). A request on
// keys is granted when, for each of its keys, every earlier request on that key is compatible
// (both shared), and no earlier whole-shard request is pending or held. A whole-shard request is
// granted when it is the oldest request of the table. Grants happen in Add (immediately) or in
// Release (calling the waiting requests' on_grant, in seq order).
class IntentTable {
 public:
  using Grant = std::function<void()>;

  // No request at all: the fast path of every command checks this first.
  bool idle() const { return requests_.empty(); }
  size_t size() const { return requests_.size(); }

  // Registers a request; `keys` are IntentKey()s (duplicates allowed). Returns its id. When it
  // is granted at once, *granted is set and on_grant is never called; otherwise on_grant runs
  // later, from a Release call, on this thread.
  uint64_t Add(std::vector<std::string> keys, bool exclusive, bool whole_shard, Grant on_grant,
               bool* granted);
  // Drops a request, granted or not, then grants what became grantable. Re-entrant: a grant
  // callback may Add or Release.
  void Release(uint64_t id);

  // Would a new request on these keys be granted now? (For ordinary commands, which only wait
  // when this is false.) keyless: a command without keys conflicts only with whole-shard
  // requests.
  bool CanRunNow(const std::vector<std::string>& keys, bool exclusive) const;
  bool CanRunKeylessNow() const { return wholes_.empty(); }
  // Some request (held or waiting) names this key, or a whole-shard request exists.
  bool Busy(const std::string& key) const;

 private:
  struct Request {
    std::vector<std::string> keys;
    bool exclusive = true;
    bool whole = false;
    bool granted = false;
    Grant on_grant;
  };
  bool Grantable(uint64_t seq, const Request& r) const;
  void Pump();

  uint64_t next_seq_ = 1;
  std::map<uint64_t, Request> requests_;                            // all, by seq
  absl::flat_hash_map<std::string, std::vector<uint64_t>> queues_;  // key -> seqs, in order
  std::set<uint64_t> wholes_;                                       // whole-shard requests
  bool pumping_ = false;
  bool pump_again_ = false;
};

}  // namespace shardis
