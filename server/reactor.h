// Reactor: one thread, pinned to one CPU, with its own epoll loop, its own SO_REUSEPORT listening
// sockets, its own connections and its own shard of the keyspace.
//
// A connection's commands run inline when their keys belong to this shard; otherwise they are
// copied into a batch for the owning shard and sent through that reactor's Mailbox; the reply
// bytes come back the same way and are appended to the connection's output in order. Keyless and
// multi-shard commands run here and may fan out to shards (FanOutOp). Nothing is shared with
// other threads except mailboxes (and a connection counter for maxclients, touched on accept and
// close only).
//
// A loop turn: wait for events (not sleeping when work is queued), read, execute, deliver the
// mailbox, push outgoing messages (one chain and at most one wake-up per target), write replies
// (one write per connection per turn), run periodic work (expiry, rehash, client timeouts).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/client_state.h"
#include "server/command.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/mailbox.h"
#include "server/server_context.h"
#include "storage/shard_data.h"

namespace shardis {

class Server;

// Where a remote operation's result must go back to.
struct OpOrigin {
  int thread = 0;
  uint64_t conn_id = 0;
  int db_index = 0;
  RespVersion resp = RespVersion::kResp2;
};

// Consecutive commands of one connection for one remote shard, and then their replies.
struct BatchMessage : MailboxMessage {
  struct Command {
    const CommandSpec* spec;
    uint32_t first_arg;
    uint32_t argc;
    bool no_block;  // part of a cross-shard EXEC: must not block
  };
  OpOrigin origin;
  bool is_reply = false;
  std::string arena;                                // argument bytes
  std::vector<std::pair<uint32_t, uint32_t>> args;  // (offset, length) in arena
  std::vector<Command> commands;
  std::string reply;
  // EXEC of a transaction whose commands and WATCHed keys all live on the target shard: the
  // target checks the watched versions, then runs every command (never blocking) under one
  // array header, or replies a null array when a watched key changed.
  bool transaction = false;
  std::vector<TransactionState::Watched> watch_checks;

  void Deliver(Reactor& reactor) override;
  void Clear();
};

// One fan-out (RunOnShards / ForEachThread): lives on the origin thread; its per-target messages
// point to it. Targets run the task; only the origin touches `remaining` and `done`.
struct FanOutOp {
  OpOrigin origin;
  ShardTask shard_task;                             // set for RunOnShards
  std::function<void(ServerContext&)> thread_task;  // set for ForEachThread
  FanOutDone done;
  int remaining = 0;
};

// Asks a shard to drop the waits of a client that disconnected (its batch is sent back).
struct CancelWaitMessage : MailboxMessage {
  uint64_t conn_id = 0;
  int origin_thread = 0;
  void Deliver(Reactor& reactor) override;
};

// A client blocked on keys of this shard (BLPOP...), with the batch its reply goes into.
struct Waiter {
  uint64_t id = 0;
  BatchMessage* batch = nullptr;  // reply goes to batch->reply; batch->origin says where to
  size_t next_command = 0;        // the batch command to run once this one is answered
  const CommandSpec* spec = nullptr;
  std::vector<std::string> args;
  std::vector<std::string> keys;
  int db_index = 0;
  int64_t deadline_ms = 0;
  TimeoutReply timeout_reply = TimeoutReply::kNullArray;
};

// Drops WATCH registrations on a shard (fire and forget).
struct UnwatchMessage : MailboxMessage {
  std::vector<std::pair<int, std::string>> keys;  // (db, key)
  void Deliver(Reactor& reactor) override;
};

struct FanOutMessage : MailboxMessage {
  FanOutOp* op = nullptr;
  bool is_reply = false;
  ~FanOutMessage() override;
  void Deliver(Reactor& reactor) override;
};

class Reactor : public ServerContext {
 public:
  Reactor(Server& server, int index, const Config& config);
  ~Reactor() override;

  // Opens the listening sockets (SO_REUSEPORT). Returns an error text, empty on success.
  std::string Listen();
  // The thread body: runs until Stop().
  void Run();
  // Any thread: asks the loop to finish (flush replies, close connections) and return.
  void Stop();

  Mailbox& mailbox() { return mailbox_; }
  // Before Run(): this thread's copy of the start-up ACL users.
  void SetAcl(const AclStore& acl) { acl_ = acl; }
  int index() const { return index_; }

  // ServerContext.
  const Config& config() const override { return config_; }
  Config& mutable_config() override { return config_; }
  int thread_index() const override { return index_; }
  int thread_count() const override;
  const ServerInfo& server_info() const override;
  ShardData& shard() override { return shard_; }
  const ThreadCounters& counters() const override { return counters_; }
  const std::vector<CommandStat>& command_stats() const override { return command_stats_; }
  void ResetStats() override;
  size_t connection_count() const override { return connections_.size(); }
  void ForEachClient(const std::function<void(const ClientSnapshot&)>& fn) const override;
  bool KillClient(uint64_t id) override;
  void PauseClients(int64_t until_ms, bool write_only) override;
  void SetActiveExpire(bool enabled) override { active_expire_ = enabled; }
  PubSubRegistry& pubsub() override { return pubsub_; }
  AclStore& acl() override { return acl_; }
  size_t DeliverMessage(SubKind kind, std::string_view channel, std::string_view message) override;
  void ForEachThread(std::function<void(ServerContext&)> task, FanOutDone done) override;
  void RequestShutdown() override;
  void ExecTransaction() override;
  void ReleaseWatches(ClientState& client) override;

  // Message delivery (called by the messages on this thread).
  void ExecuteBatch(BatchMessage* batch);
  void CompleteBatch(BatchMessage* batch);
  void ExecuteFanOut(FanOutMessage* message);
  void CompleteFanOut(FanOutMessage* message);
  void CancelWaits(uint64_t conn_id, int origin_thread);
  size_t blocked_clients() const override { return waiters_.size(); }

 private:
  class Runner;
  friend class Runner;

  // Event handling.
  void Accept(int listen_fd);
  void OnReadable(Connection* c);
  void OnWritable(Connection* c);
  void CloseConnection(Connection* c);
  void UpdateInterest(Connection* c);
  void MarkDirty(Connection* c);
  void MarkReady(Connection* c);
  void FlushWrites();
  void WriteConnection(Connection* c);
  void DrainMailbox();
  void FlushOutgoing();
  void Send(int target, MailboxMessage* message);
  void Cron();
  void UpdateClock();
  void StopNow();

  // Command processing (dispatch.cc).
  void ResumeConnection(Connection* c);
  size_t ProcessInput(Connection* c, std::string_view input);
  // Returns false when the command was not consumed (a pending batch had to go first).
  bool Dispatch(Connection* c, ArgList args);
  // ACL: the client's user (cached per store epoch; null when deleted), and the slow-path check
  // for users without every permission (logs the denial, returns the error, "" when allowed).
  const AclUser* AclUserOf(ClientState& state) {
    if (state.acl_epoch != acl_.epoch()) {
      state.acl_user = acl_.Find(state.user);
      state.acl_epoch = acl_.epoch();
    }
    return state.acl_user;
  }
  std::string CheckAcl(Connection* c, const CommandSpec& spec, ArgList args, const AclUser* user);
  void ExecuteLocal(Connection* c, const CommandSpec& spec, ArgList args, bool no_block);
  void RunClientHandler(Connection* c, const CommandSpec& spec, ArgList args);
  void RunTransactionBatch(BatchMessage* b);
  // After a write command ran on this shard: WATCHers of its keys see a change.
  void TouchKeys(const CommandSpec& spec, Db& db, ArgList args);
  // stop-writes-on-bgsave-error with a save schedule, after a failed save.
  bool WritesDeniedByDiskError() const;
  void AppendToBatch(Connection* c, const CommandSpec& spec, ArgList args, bool no_block);
  void SendBatch(Connection* c);
  void StartFanOut(const OpOrigin& origin, std::vector<int> shards, ShardTask shard_task,
                   std::function<void(ServerContext&)> thread_task, FanOutDone done);
  void RecordCall(const CommandSpec& spec, uint64_t usec);
  // Runs a batch's commands from `from` on this shard; sends it back unless one blocks.
  void RunBatchFrom(BatchMessage* batch, size_t from);
  // Runs one command on this shard for a batch. Returns true when it blocked (parked).
  bool RunShardCommand(BatchMessage* batch, size_t index, const CommandSpec& spec, ArgList args,
                       bool retrying, bool no_block);
  // Blocking: park, serve ready keys, expire deadlines, cancel.
  void Park(BatchMessage* batch, size_t next_command, const CommandSpec& spec, ArgList args,
            BlockRequest& request);
  void Unpark(Waiter* w);
  void ServeReadyKeys();
  void ExpireWaiters();
  int64_t NextWaiterDeadline() const;
  BatchMessage* NewBatch();
  void FreeBatch(BatchMessage* batch);
  bool IsPaused(const CommandSpec& spec) const;
  // Closes a client whose pending output passed its class's client-output-buffer-limit.
  bool EnforceOutputLimit(Connection* c, const Config::OutputLimit& limit);

  Server& server_;
  const int index_;
  Config config_;
  AclStore acl_;
  ShardData shard_;
  Mailbox mailbox_;
  int epoll_fd_ = -1;
  std::vector<int> listen_fds_;
  std::atomic<bool> stop_requested_{false};
  bool running_ = false;
  bool active_expire_ = true;

  uint64_t next_client_id_;
  absl::flat_hash_map<int, std::unique_ptr<Connection>> connections_;  // by fd
  absl::flat_hash_map<uint64_t, Connection*> connections_by_id_;
  std::vector<Connection*> ready_;  // input left to process
  std::vector<Connection*> dirty_;  // output to write
  std::vector<std::unique_ptr<Connection>> graveyard_;
  std::vector<char> scratch_;  // shared read buffer

  std::vector<std::vector<MailboxMessage*>> outgoing_;  // by target thread
  std::deque<MailboxMessage*> local_queue_;             // messages to self
  std::vector<BatchMessage*> free_batches_;

  PubSubRegistry pubsub_;
  ThreadCounters counters_;
  std::vector<CommandStat> command_stats_;  // indexed like CommandTable::specs()
  int64_t next_cron_ms_ = 0;
  int64_t pause_until_ms_ = 0;
  bool pause_write_only_ = false;
  std::vector<uint64_t> paused_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Waiter>> waiters_;
  absl::flat_hash_map<std::string, std::deque<uint64_t>> waiters_by_key_;  // "db:key" -> ids
  std::set<std::pair<int64_t, uint64_t>> waiter_deadlines_;
  uint64_t next_waiter_id_ = 1;
  bool serving_ready_keys_ = false;
  // A script past busy-reply-threshold polls the loop from its Lua hook (ServeWhileBusy): the
  // other connections are read and answered (BUSY, or allow-busy commands such as SCRIPT KILL)
  // while the script runs. Mailbox messages wait: the shard is the script's until it ends.
  bool ServeWhileBusy();
  bool busy_serving_ = false;
  Connection* executing_conn_ = nullptr;  // the client whose command runs inline right now
  Runner* current_runner_ = nullptr;
  Connection* current_conn_ = nullptr;  // the client whose on_client handler is running  // the
                                        // client operation being run, for ForEachThread
  std::vector<int> key_positions_;      // scratch for Dispatch
  std::vector<std::string_view>
      batch_args_;  // scratch for ExecuteBatch  // ids of connections held by CLIENT PAUSE
};

}  // namespace shardis
