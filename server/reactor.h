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

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/call_clock.h"
#include "server/call_stats.h"
#include "server/client_state.h"
#include "server/command.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/mailbox.h"
#include "server/metrics_http.h"
#include "server/monitor.h"
#include "server/server_context.h"
#include "server/slowlog.h"
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
  // Slow log entries of these commands, completed with the client's address and name by the
  // origin thread when the reply comes back.
  std::vector<SlowlogEntry> slow_entries;
  // Set for a batch with a blocking command: true once the client's connection closed. A shard
  // checks it before serving the parked wait, so that an element pushed after the client left is
  // not popped for nobody (the cancel message may still be on its way).
  std::shared_ptr<CloseFlag> origin_gone;
  // Its socket, peeked for an EOF the origin thread has not read yet (another thread may be
  // slower to see the client leave than this one is to see a push that came after it).
  int origin_fd = -1;

  void Deliver(Reactor& reactor) override;
  void Prefetch(Reactor& reactor) const override;
  void Clear();
};

// A client accepted on the Unix socket by another reactor, handed to this one (Reactor::Accept).
struct AdoptUnixClientMessage : MailboxMessage {
  int fd = -1;
  void Deliver(Reactor& reactor) override;
};

// One fan-out (RunOnShards / ForEachThread): lives on the origin thread; its per-target messages
// point to it. Targets run the task; only the origin touches `remaining` and `done`.
struct FanOutOp {
  OpOrigin origin;
  ShardTask shard_task;                             // set for RunOnShards
  std::function<void(ServerContext&)> thread_task;  // set for ForEachThread
  FanOutDone done;
  // Runs (on the origin) when `done` starts no further phase; empty: the client's operation is
  // over and its connection resumes. Atomic operations release their intents here; a
  // cross-shard EXEC goes on with its next command.
  std::function<void()> finish;
  int remaining = 0;
};

// Coordination (coordination.h): registers an atomic operation's keys on one shard (answered
// once granted there, the same message coming back), or releases them (fire and forget).
struct IntentMessage : MailboxMessage {
  int origin_thread = 0;
  uint64_t op_id = 0;
  bool release = false;
  bool is_reply = false;
  bool start = false;     // to self: an op's first acquisition step
  bool try_only = false;  // optimistic: granted at once or refused (never queued)
  bool granted = false;   // the answer to a try_only
  bool exclusive = true;
  bool whole = false;
  std::vector<std::string> keys;  // IntentKey()s
  void Deliver(Reactor& reactor) override;
};

// An atomic operation coordinated by this thread, while it acquires its shards in order.
struct AtomicOp {
  uint64_t id = 0;
  std::vector<int> shards;                     // ascending
  std::vector<std::vector<std::string>> keys;  // per entry of `shards`
  bool exclusive = true;
  bool whole = false;
  size_t next = 0;  // shards[0..next) are held
  std::function<void(uint64_t op_id)> on_held;
  // Optimistic first attempt: every shard asked at once with try_only requests.
  int tries_pending = 0;
  bool try_refused = false;
};

// A cross-shard EXEC running its queue one command at a time under its intents.
struct ExecRun;
// A blocking pop whose keys span shards (cross_block.cc), owned by the client's thread.
struct CrossBlock {
  uint64_t id = 0;
  OpOrigin origin;
  const CommandSpec* spec = nullptr;
  std::vector<std::string> keys;                   // in argument order
  std::vector<std::vector<std::string>> try_args;  // the one-key command, per key
  int64_t deadline_ms = -1;                        // -1: not known yet; 0: forever
  bool trying = false;
  bool retrying = false;  // a try after a wake-up (wrong-type keys are skipped, as Redis)
  // BLMOVE / BRPOPLPUSH: keys are (src, dst); only src is waited on.
  bool move = false;
  bool from_front = false;
  bool to_front = false;
  std::string error;      // an argument error found on the coordinator: replied at once
  std::string unblocked;  // CLIENT UNBLOCK during a try: the reply if the try finds nothing
};
bool IsCrossShardBlockable(const CommandSpec& spec);
std::shared_ptr<CrossBlock> MakeCrossBlock(const CommandSpec& spec, ArgList args,
                                           const OpOrigin& origin);

// Cross-shard blocking: a shard tells a coordinator that a key it waits on became ready, or a
// coordinator drops its watches on a shard (`cancel`).
struct CrossBlockMessage : MailboxMessage {
  int origin_thread = 0;
  uint64_t op_id = 0;
  bool cancel = false;
  void Deliver(Reactor& reactor) override;
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

// Redis's OOM error (shared.oomerr), without the leading '-'.
extern const char* const kOomError;
// The reply of a command ended by CLIENT UNBLOCK ... ERROR (without the leading '-').
inline constexpr std::string_view kUnblockedError = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

class Reactor : public ServerContext,
                public MonitorFeed,
                public TrackingSink,
                public CallStatsSink {
 public:
  // Epoll data tags (the high 32 bits of an event's data; the low ones hold the fd). The metrics
  // endpoint's are MetricsHttp::kListenTag and kConnTag.
  static constexpr uint32_t kTagConnection = 0;
  static constexpr uint32_t kTagTcpListener = 1;
  static constexpr uint32_t kTagMailbox = 2;
  static constexpr uint32_t kTagTlsListener = 3;
  static constexpr uint32_t kTagUnixListener = 4;

  Reactor(Server& server, int index, const Config& config);
  ~Reactor() override;

  // Opens the listening sockets (SO_REUSEPORT). Returns an error text, empty on success.
  std::string Listen();
  // Before Listen(): the TLS context (needed when tls-port is set).
  void set_tls_context(std::shared_ptr<TlsContext> ctx) { tls_ctx_ = std::move(ctx); }
  // The Unix socket's listening fd, shared by every reactor and owned by the Server; before
  // Listen().
  void set_unix_listener(int fd) { unix_listen_fd_ = fd; }
  // A client accepted here or handed over by another reactor (Unix socket): its Connection.
  void AdoptConnection(int fd, uint32_t listener_tag, const sockaddr_storage& peer);
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
  const ErrorStats& error_stats() const override { return error_stats_; }
  void ResetStats() override;
  size_t connection_count() const override { return connections_.size(); }
  void ForEachClient(const std::function<void(const ClientSnapshot&)>& fn) const override;
  bool KillClient(uint64_t id) override;
  bool UnblockClient(uint64_t id, bool error) override;
  void PauseClients(int64_t until_ms, bool write_only) override;
  void SetActiveExpire(bool enabled) override { active_expire_ = enabled; }
  PubSubRegistry& pubsub() override { return pubsub_; }
  AclStore& acl() override { return acl_; }
  Slowlog& slowlog() override { return slowlog_; }
  LatencyMonitor& latency() override { return latency_; }
  size_t DeliverMessage(SubKind kind, std::string_view channel, std::string_view message) override;
  void ForEachThread(std::function<void(ServerContext&)> task, FanOutDone done) override;
  void RequestShutdown() override;
  void StartMonitor() override;
  void StopMonitor() override;
  // What scripts run on this thread (server/call_stats.h).
  void RecordScriptCall(const CommandSpec& spec, ArgList args, uint64_t usec,
                        std::string_view error) override;
  void RecordScriptRejection(const CommandSpec* spec, ArgList args,
                             std::string_view error) override;
  void MarkScriptReply(const std::string* buffer, size_t at, bool top_counted,
                       int failures) override;
  void CountScriptReplyError(std::string_view error) override { CountErrorReply(error); }
  void MarkRawErrorReply(const std::string* buffer, size_t at) override {
    script_reply_mark_ = ScriptReplyMark{buffer, at, true, 0, true};
  }
  // Client-side caching (tracking_reactor.cc, server/tracking.h).
  void TrackingChanged(ClientState& client, const ClientTracking& before) override;
  bool HasClient(uint64_t id) const override { return connections_by_id_.contains(id); }
  void SetBcastPrefixes(ClientRef client, const std::vector<std::string>& prefixes) override {
    tracking_.RemoveClient(client);
    for (const std::string& p : prefixes) tracking_.AddPrefix(client, p);
  }
  const TrackingTable& tracking() const override { return tracking_; }
  std::string SetTls(std::shared_ptr<TlsContext> ctx, int port) override;
  void OnTrackingMessage(TrackingMessage* m);
  // MONITOR (server/monitor.h): a line for every monitor of the process, and lines another
  // thread sent for this thread's monitors.
  void FeedMonitorLine(std::string line) override;
  void DeliverMonitorLines(const std::string& lines);
  int local_monitors() const { return local_monitors_.load(std::memory_order_relaxed); }
  void ExecTransaction() override;
  void ReleaseWatches(ClientState& client) override;
  void StartDeferredCrossBlock(Connection* c, std::shared_ptr<CrossBlock> op);
  void BlockAcrossShards(uint64_t conn_id, std::vector<std::string> keys,
                         std::vector<std::vector<std::string>> try_args,
                         int64_t timeout_ms) override;

  // Coordination (coordination_reactor.cc).
  void OnIntentMessage(IntentMessage* m);
  void OnCrossBlockMessage(CrossBlockMessage* m);
  // Shard side of cross-shard blocking (called on this shard's thread by a fan-out task).
  void WatchForCrossBlock(int origin_thread, uint64_t id, int db,
                          const std::vector<std::string>& keys);
  void HoldIntents(std::vector<std::string> keys) override;
  void ReleaseHeldIntents() override;

  // Message delivery (called by the messages on this thread).
  void ExecuteBatch(BatchMessage* batch);
  void CompleteBatch(BatchMessage* batch);
  // Hints the table slots of a batch's keys to the cache, and records the keys for DrainMailbox
  // to hint their heap blocks next.
  void PrefetchBatchSlots(const BatchMessage& batch);
  void HintResumedCommands(uint64_t conn_id);
  void ExecuteFanOut(FanOutMessage* message);
  void CompleteFanOut(FanOutMessage* message);
  void CancelWaits(uint64_t conn_id, int origin_thread);
  // Shares the connection's close flag with the batch of its blocking command.
  void MarkGoneOnClose(Connection* c, BatchMessage* b);
  size_t blocked_clients() const override { return waiters_.size() + cross_blocks_.size(); }

 private:
  class Runner;
  friend class Runner;

  // Event handling.
  void Accept(int listen_fd, uint32_t listener_tag);
  // Opens this thread's listening sockets for `port` on every bind address into *fds (tagged
  // `tag` in epoll). Returns an error text, empty on success.
  std::string ListenAll(int port, uint32_t tag, std::vector<int>* fds);
  // The transport: a direct system call for plain TCP, TlsConn for TLS (one branch).
  ssize_t ConnRead(Connection* c, char* buf, size_t len);
  ssize_t ConnWrite(Connection* c, const char* buf, size_t len);
  // TLS connections whose decrypted input waits inside OpenSSL (epoll cannot see it).
  void ReadTlsPending();
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
  // Reactor 0: gathers the Prometheus metrics for MetricsHttp, in a connection-less operation.
  void ServeMetrics(std::function<void(std::string)> done);
  void AofCron();  // reactor 0: AOF rewrites and the RDB `save` schedule (dispatch.cc)
  void UpdateClock();
  // Publishes the keyspace notifications raised on this shard so far (keyspace_events.cc).
  void PublishKeyspaceEvents();
  void StopNow();

  // Command processing (dispatch.cc).
  // Runs the connection's pending input. `chained`: right after other commands, with no system
  // call in between (a remote batch's reply), so the CallClock need not be read afresh.
  void ResumeConnection(Connection* c, bool chained = false);
  size_t ProcessInput(Connection* c, std::string_view input);
  void PrefetchKeys(const Connection* c, std::string_view input);
  void HintLocalRun(const Connection* c, std::string_view input, bool alone_too);
  // Returns false when the command was not consumed (a pending batch had to go first).
  bool Dispatch(Connection* c, ArgList args);
  bool DispatchCommand(Connection* c, ArgList args);
  // An operation in flight has completed: drops its reply if CLIENT REPLY said so.
  void EndSilentOp(Connection* c);
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
  void RunTransactionBatch(BatchMessage* b, bool gated = false);
  // After a write command ran on this shard: WATCHers of its keys see a change.
  // After a write command: its keys' WATCHes and cached copies (client tracking), unless it
  // changed nothing (raised no keyspace event since `events_before`, as Redis then signals no
  // key).
  void TouchKeys(const CommandSpec& spec, Db& db, ArgList args, uint64_t events_before);
  // stop-writes-on-bgsave-error with a save schedule, after a failed save.
  bool WritesDeniedByDiskError() const;
  // maxmemory (eviction_reactor.cc): evicts from this shard while over the limit; false when
  // still over and nothing (here or on other shards) can be evicted. OomRejects applies Redis's
  // rule for which commands get the OOM error then.
  bool EvictForWrite();
  bool OomRejects(Connection* c, const CommandSpec& spec, ArgList args);
  void EvictionCron();
  void SyncEvictionConfig();
  void AppendToBatch(Connection* c, const CommandSpec& spec, ArgList args, bool no_block);
  void SendBatch(Connection* c);
  void StartFanOut(const OpOrigin& origin, std::vector<int> shards, ShardTask shard_task,
                   std::function<void(ServerContext&)> thread_task, FanOutDone done,
                   std::function<void()> finish);
  // The end of a client operation: `finish` if set, else the connection resumes.
  void FinishOp(const OpOrigin& origin, const std::function<void()>& finish);

  // Coordination (coordination_reactor.cc).
  // Acquires `scope` shard by shard (ascending), then calls on_held; returns the op id.
  uint64_t StartAtomic(AtomicScope scope, std::function<void(uint64_t op_id)> on_held);
  void AcquireNext(uint64_t op_id);
  void TryAll(uint64_t op_id);
  void TryDone(uint64_t op_id);
  // Releases whatever `op` holds on its shards (fire and forget; our own shard at once).
  void ReleaseShards(const AtomicOp& op);
  void ReleaseAtomic(uint64_t op_id);
  void ReleaseIntent(int origin_thread, uint64_t op_id);
  // Runs `body` for the client of `origin` with a runner whose chain ends in `finish`. Returns
  // whether body started a phase (else the caller goes on itself).
  bool RunBody(const OpOrigin& origin, const FanOutDone& body, std::function<void()> finish);
  // A command whose keys span shards: runs its on_client handler under its keys' intents.
  void RunAtomicCommand(Connection* c, const CommandSpec& spec, ArgList args);
  // Ordinary commands: must this one wait for intents held on this shard? (Only called when
  // the table is not idle.) Fills the encoded keys and mode.
  bool MustWait(const CommandSpec& spec, ArgList args, int db_index, std::vector<std::string>* keys,
                bool* exclusive);
  bool TransactionMustWait(BatchMessage* b, std::vector<std::string>* keys, bool* exclusive,
                           bool* whole);
  // Parks batch `b` until its command `index` (or whole transaction) may run.
  void ParkForIntents(BatchMessage* b, size_t index, std::vector<std::string> keys, bool exclusive,
                      bool whole);
  void AfterIntentRelease();
  // Cross-shard EXEC.
  void StartCrossShardExec(Connection* c, std::vector<TransactionState::Queued> queue,
                           std::vector<TransactionState::Watched> watched);
  void ExecContinue(const std::shared_ptr<ExecRun>& run);
  // Runs one queued command of a cross-shard EXEC on this shard (never blocking).
  void RunQueuedOnShard(const CommandSpec& spec, ArgList args, int db_index, RespVersion resp,
                        std::string* out, bool retrying = false);
  // Cross-shard blocking pops (cross_block.cc).
  void StartCrossShardBlock(Connection* c, const CommandSpec& spec, ArgList args);
  void CrossBlockTry(const std::shared_ptr<CrossBlock>& op);
  void CrossBlockPhase(const std::shared_ptr<CrossBlock>& op, size_t i, FanOutRunner& runner,
                       const std::shared_ptr<std::string>& result, bool in_exec, bool retrying);
  void MovePhase(const std::shared_ptr<CrossBlock>& op, FanOutRunner& runner,
                 const std::shared_ptr<std::string>& result, bool in_exec, bool retrying);
  void EndCrossBlock(uint64_t id, const std::string& reply);
  void ExpireCrossBlocks();
  void CancelCrossBlock(uint64_t conn_id);
  bool UnblockCrossBlock(uint64_t conn_id, bool error);
  void NotifyCrossBlocks(int db, const std::string& key);
  static void AppendCommand(BatchMessage* b, const CommandSpec& spec, ArgList args, bool no_block);
  void RecordCall(const CommandSpec& spec, ArgList args, uint64_t usec, int failures);
  // The stats of `spec` as called with `args` (a container's: its subcommand's, as Redis).
  CommandStat& StatOf(const CommandSpec& spec, ArgList args);
  // Counts the connection's fanned-out command now that it has completed (Connection::PendingCall).
  void RecordPendingCall(Connection* c);
  // Whether the running operation's handler started a phase (its reply comes later).
  bool RunnerStarted() const;
  // The failed calls (failed_calls) the reply a command appended to `out` from `at` on makes:
  // 1 for an error reply, which is counted (INFO errorstats, total_error_replies) unless it is a
  // script's reply counted already (script_reply_mark_); a script's array reply with errors
  // inside makes as many as Redis counts (script_reply_mark_), else 0.
  int NoteErrorReply(const std::string& out, size_t at);
  void CountErrorReply(std::string_view error);  // "PREFIX message..."
  // MONITOR: shows a client's command (when its flags allow) to every monitor.
  void FeedCommand(Connection* c, const CommandSpec& spec, ArgList args);
  // Tracking: a tracking client's command (remembers what it reads, CACHING's one-shot flag);
  // a key changed on this shard; the writes of a command; FLUSHALL/FLUSHDB to every thread;
  // an invalidation for a local tracking client; the table's size limit.
  void TrackCommand(Connection* c, const CommandSpec& spec, ArgList args);
  void InvalidateKey(std::string_view key) override;
  bool tracking_empty() const override { return tracking_.empty(); }
  void InvalidateWrites(const CommandSpec& spec, ArgList args);
  // A multi-shard write ran: each of its keys' shards invalidates them.
  void InvalidateEverywhere(const CommandSpec& spec, ArgList args, ClientRef writer);
  void BroadcastTrackingFlush();
  void TrackingFlushHere();
  void WriteInvalidation(Connection* c, const std::vector<std::string>& keys, bool null);
  void SendInvalidation(ClientRef target, std::vector<std::string> keys, bool null, bool bcast);
  // Sends the BCAST invalidations gathered by InvalidateKey since the last flush.
  void FlushBcastInvalidations();
  void FlushOwnInvalidations(Connection* c);
  void LimitTrackingTable();
  // After any command ran on this thread: its stats, the slow log and the latency monitor.
  // `client` when known here, else `batch` (whose origin says who sent it), else neither.
  // `failures`: what its reply adds to failed_calls (NoteErrorReply). `blocked`: it parked
  // instead of replying; as Redis, such a run is not counted (nor slow-logged): the call counts
  // once, when it is served, times out or is unblocked (EndWait).
  void AfterCall(const CommandSpec& spec, ArgList args, uint64_t usec, const ClientState* client,
                 BatchMessage* batch, int failures = 0, bool blocked = false);
  // Runs a batch's commands from `from` on this shard; sends it back unless one blocks.
  // `gated`: command `from` was already admitted by the intent table.
  void RunBatchFrom(BatchMessage* batch, size_t from, bool gated = false);
  // Runs one command on this shard for a batch. Returns true when it blocked (parked).
  bool RunShardCommand(BatchMessage* batch, size_t index, const CommandSpec& spec, ArgList args,
                       bool retrying, bool no_block);
  // Blocking: park, serve ready keys, expire deadlines, cancel.
  void Park(BatchMessage* batch, size_t next_command, const CommandSpec& spec, ArgList args,
            BlockRequest& request);
  void Unpark(Waiter* w);
  void ServeReadyKeys();
  void EndWait(Waiter* w, bool unblock_error);
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
  int eviction_samples_ = 5;
  int eviction_tenacity_ = 10;
  int64_t last_recalibrate_ms_ = 0;
  Mailbox mailbox_;
  int epoll_fd_ = -1;
  std::vector<int> listen_fds_;
  std::vector<int> tls_listen_fds_;
  int unix_listen_fd_ = -1;              // see set_unix_listener
  uint64_t next_unix_target_ = 0;        // the reactor the next Unix client goes to (round robin)
  std::shared_ptr<TlsContext> tls_ctx_;  // shared read-only by every reactor (tls.h)
  int tls_port_ = 0;                     // what tls_listen_fds_ listen on
  std::vector<Connection*> tls_pending_;
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
  RequestParser lookahead_;    // PrefetchKeys's parser (a connection's stays where it is)
  // Keys whose table slots were hinted, for the pass that hints their blocks (PrefetchKeys, and
  // DrainMailbox for the batches drained together and the commands their replies resume).
  struct PrefetchedKey {
    const Keyspace* keyspace;
    uint64_t hash;
  };
  std::vector<PrefetchedKey> hinted_keys_;

  std::vector<std::vector<MailboxMessage*>> outgoing_;  // by target thread
  std::deque<MailboxMessage*> local_queue_;             // messages to self
  std::vector<BatchMessage*> free_batches_;

  PubSubRegistry pubsub_;
  Slowlog slowlog_;
  // MONITOR: this thread's monitors (connection ids), their count for other threads, and the
  // message being filled for each other thread during this loop turn.
  std::vector<uint64_t> monitors_;
  std::atomic<int> local_monitors_{0};
  std::vector<MonitorMessage*> monitor_out_;
  TrackingTable tracking_;
  // BCAST invalidations of this turn, one push per client, prefix and writer (as Redis's, one
  // per prefix before it sleeps); a kBcastFlush message to this thread sends them.
  struct PendingBcast {
    ClientRef target;
    std::string prefix;
    ClientRef writer;
    std::vector<std::string> keys;
  };
  std::vector<PendingBcast> pending_bcast_;
  ClientRef writer_;  // the client whose command runs now (NOLOOP); thread -1: none
  bool invalidating_own_write_ = false;  // TouchKeys: invalidations of the writer's own command
  LatencyMonitor latency_;
  CallClock call_clock_;
  ErrorStats error_stats_;  // INFO errorstats: error replies of this thread by prefix
  // The last script reply written on this thread (MarkScriptReply), for the NoteErrorReply of
  // its command (same buffer and offset), which takes it; any NoteErrorReply clears it.
  struct ScriptReplyMark {
    const std::string* buffer = nullptr;
    size_t at = 0;
    bool top_counted = false;
    int failures = 0;
    bool raw = false;  // MarkRawErrorReply
  } script_reply_mark_;
  std::unique_ptr<MetricsHttp> metrics_;  // reactor 0, when metrics-port is set
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
  // Coordination.
  IntentTable intents_;
  // Requests of this table, by (origin thread, op id) of the operation that registered them.
  absl::flat_hash_map<std::pair<int, uint64_t>, uint64_t> remote_intents_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<AtomicOp>> atomic_ops_;  // coordinated here
  uint64_t next_atomic_id_ = 1;
  ReadyKeys deferred_ready_;  // ready keys whose waiters wait for an intent to go
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> held_for_test_;  // conn id -> op ids
  // Cross-shard blocking: as coordinator, and as shard (IntentKey -> (thread, op id)).
  absl::flat_hash_map<uint64_t, std::shared_ptr<CrossBlock>> cross_blocks_;
  absl::flat_hash_map<uint64_t, uint64_t> cross_block_by_conn_;
  // BlockAcrossShards: cross-shard waits that start when the client's running operation ends.
  absl::flat_hash_map<uint64_t, std::shared_ptr<CrossBlock>> deferred_cross_blocks_;
  std::set<std::pair<int64_t, uint64_t>> cross_block_deadlines_;
  absl::flat_hash_map<std::string, std::vector<std::pair<int, uint64_t>>> cross_block_watches_;
  Runner* current_runner_ = nullptr;
  // The client whose on_client handler is running (its operation, for ForEachThread).
  Connection* current_conn_ = nullptr;
  std::vector<int> key_positions_;  // scratch for Dispatch
};

}  // namespace shardis
