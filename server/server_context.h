// ServerContext: the services of one reactor thread that connection- and server-level commands
// (CLIENT, INFO, CONFIG, SHUTDOWN...) may use. Implemented by Reactor. A handler gets the
// context of its connection's thread; ForEachThread hands each thread's own context to a task
// running on that thread, so per-thread state (its clients, counters, config copy) is only ever
// touched by its owner. Data-type commands never use this.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/acl.h"
#include "server/client_state.h"
#include "server/command.h"
#include "server/latency.h"
#include "server/pubsub.h"
#include "server/slowlog.h"
#include "server/tracking.h"

namespace shardis {

class Config;
class TlsContext;

// Facts fixed at start-up, shared read-only by all threads.
struct ServerInfo {
  int64_t start_time_ms = 0;
  int pid = 0;
  std::string run_id;
  std::string executable;
  std::string config_file;
  int thread_count = 1;
};

// Per-command counters of one thread.
// At most kMaxErrorPrefixes distinct prefixes are kept (Redis: 128), in name order.
using ErrorStats = std::map<std::string, uint64_t, std::less<>>;
inline constexpr size_t kMaxErrorPrefixes = 128;

struct CommandStat {
  // Latency histogram (LATENCY HISTOGRAM, INFO latencystats, /metrics): bucket i counts the
  // calls that took at most 2^i microseconds (and more than 2^(i-1)); the last bucket takes the
  // rest. Powers of two, as Redis's reply of LATENCY HISTOGRAM.
  static constexpr int kLatencyBuckets = 32;
  static int LatencyBucket(uint64_t usec) {
    int b = usec <= 1 ? 0 : 64 - __builtin_clzll(usec - 1);
    return b < kLatencyBuckets ? b : kLatencyBuckets - 1;
  }
  uint64_t calls = 0;
  uint64_t usec = 0;
  uint64_t rejected_calls = 0;
  uint64_t failed_calls = 0;
  uint64_t latency_buckets[kLatencyBuckets] = {};

  void Merge(const CommandStat& o) {
    calls += o.calls;
    usec += o.usec;
    rejected_calls += o.rejected_calls;
    failed_calls += o.failed_calls;
    for (int i = 0; i < kLatencyBuckets; ++i) latency_buckets[i] += o.latency_buckets[i];
  }
};

// Counters of one thread, merged by INFO.
struct ThreadCounters {
  uint64_t connections_received = 0;
  uint64_t rejected_connections = 0;
  uint64_t commands_processed = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  uint64_t reads_processed = 0;    // read() calls that brought client bytes
  uint64_t writes_processed = 0;   // flushes of a client's output that wrote bytes
  uint64_t messages_sent = 0;      // cross-thread batches and tasks sent
  uint64_t messages_received = 0;  // delivered to this thread
  uint64_t batches_executed = 0;   // remote batches run on this shard
  uint64_t loop_turns = 0;
  uint64_t unexpected_error_replies = 0;
  uint64_t total_error_replies = 0;
};

// A snapshot of one client for CLIENT LIST / KILL (taken on the client's thread).
struct ClientSnapshot {
  ClientState state;
  size_t query_buffer = 0;
  size_t query_buffer_free = 0;
  size_t output_bytes = 0;
};

class ServerContext {
 public:
  virtual ~ServerContext() = default;

  virtual const Config& config() const = 0;
  virtual Config& mutable_config() = 0;
  virtual int thread_index() const = 0;
  virtual int thread_count() const = 0;
  virtual const ServerInfo& server_info() const = 0;
  virtual ShardData& shard() = 0;
  virtual const ThreadCounters& counters() const = 0;
  virtual const std::vector<CommandStat>& command_stats() const = 0;
  // Error replies by their first word ("ERR", "WRONGTYPE"...), for INFO errorstats.
  virtual const ErrorStats& error_stats() const {
    static const ErrorStats kNone;
    return kNone;
  }
  virtual void ResetStats() = 0;
  virtual size_t connection_count() const = 0;
  // Clients blocked (BLPOP...) on this thread's shard.
  virtual size_t blocked_clients() const = 0;

  // Clients of this thread.
  virtual void ForEachClient(const std::function<void(const ClientSnapshot&)>& fn) const = 0;
  // Closes the client with this id after its pending replies (false if not on this thread).
  virtual bool KillClient(uint64_t id) = 0;
  // CLIENT UNBLOCK: ends a wait of client `id` that this thread holds (a blocked command parked
  // on this shard, or a cross-shard one this thread coordinates) with its timeout reply, or the
  // UNBLOCKED error when `error`. False when this thread holds no wait of that client.
  virtual bool UnblockClient(uint64_t id, bool error) { return false; }
  // Pauses client commands on this thread until `until_ms` (0 = unpause); write_only pauses
  // only commands that may write.
  virtual void PauseClients(int64_t until_ms, bool write_only) = 0;
  virtual void SetActiveExpire(bool enabled) = 0;

  // Pub/sub: this thread's subscriptions, and delivery of a published message to this thread's
  // subscribers (channel subscribers, then matching patterns, as Redis). Returns the receivers.
  virtual PubSubRegistry& pubsub() = 0;
  // This thread's copy of the ACL users and its part of the ACL LOG (server/acl.h).
  virtual AclStore& acl() = 0;
  // This thread's slow log and latency monitor (server/slowlog.h, server/latency.h).
  virtual Slowlog& slowlog() = 0;
  virtual LatencyMonitor& latency() = 0;
  virtual size_t DeliverMessage(SubKind kind, std::string_view channel,
                                std::string_view message) = 0;

  // Runs `task` on every thread with that thread's context, then `done` back here (chaining is
  // allowed through the runner). The calling connection's later commands wait until done.
  virtual void ForEachThread(std::function<void(ServerContext&)> task, FanOutDone done) = 0;
  // EXEC for the client whose command is running (its queued MULTI commands): atomically on one
  // shard when they all live there, else one after the other. Replies itself, later.
  virtual void ExecTransaction() = 0;
  // Drops the client's WATCHes on their shards (no reply; fire and forget).
  virtual void ReleaseWatches(ClientState& client) = 0;
  // A blocking read over keys of several shards that found nothing (XREAD/XREADGROUP BLOCK):
  // once the running operation ends, client `conn_id` waits as a cross-shard blocking command
  // (server/cross_block.cc) whose tries run `try_args[i]` (a one-key form of the command, run as
  // a re-run after a wake-up) on the shard of `keys[i]`, in order, until one serves something
  // or `timeout_ms` (0: forever) passes. Only for a ClientCommand with may_block_across_shards.
  virtual void BlockAcrossShards(uint64_t conn_id, std::vector<std::string> keys,
                                 std::vector<std::vector<std::string>> try_args,
                                 int64_t timeout_ms) = 0;

  // Test hook (DEBUG INTENT-HOLD / INTENT-RELEASE): the running client takes exclusive intents
  // on `keys` of its db (replying +OK once held) and keeps them past the command, until it
  // releases them (or disconnects); meanwhile other clients' commands on those keys wait.
  virtual void HoldIntents(std::vector<std::string> keys) = 0;
  virtual void ReleaseHeldIntents() = 0;

  // Asks the whole server to shut down (stop accepting, flush replies, exit 0).
  virtual void RequestShutdown() = 0;
  // MONITOR: the running client becomes a monitor of every thread's commands.
  virtual void StartMonitor() = 0;
  // RESET: the running client stops being a monitor (no-op if it is not one).
  virtual void StopMonitor() = 0;
  // CLIENT TRACKING: the client's options changed from `before` (counts, BCAST registrations
  // on every thread); whether a client with this id lives on this thread; this thread's table.
  virtual void TrackingChanged(ClientState& client, const ClientTracking& before) = 0;
  virtual bool HasClient(uint64_t id) const = 0;
  // BCAST: this thread's copy of a client's prefixes becomes `prefixes` (run on every thread
  // before CLIENT TRACKING ON BCAST replies).
  virtual void SetBcastPrefixes(ClientRef client, const std::vector<std::string>& prefixes) = 0;
  virtual const TrackingTable& tracking() const = 0;
  // TLS (server/tls.h), from CONFIG SET of tls-* parameters: new connections use `ctx` (open
  // ones keep theirs); the TLS listeners move to `port` (0: closed). Returns an error text, ""
  // on success.
  virtual std::string SetTls(std::shared_ptr<TlsContext> ctx, int port) { return ""; }
};

}  // namespace shardis
