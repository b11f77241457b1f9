// Command dispatch on a reactor: parse a connection's input, route each command to where it runs
// (inline on this shard, batched to another shard, or a connection-level handler that may fan
// out), and deliver remote results back in order.
//
// Ordering rule: a connection has at most one remote operation in flight (`waiting`). Commands
// for one remote shard accumulate in one batch while they come in a row; any other command first
// sends the batch and waits for its reply, so a later command never runs before an earlier one
// has finished, and replies are appended to the output in request order.
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/logging.h"
#include "server/memory_accounting.h"
#include "server/persistence.h"
#include "server/reactor.h"
#include "server/scripting/lua_engine.h"
#include "server/server.h"

namespace shardis {
namespace {

constexpr int kCommandsPerTurn = 512;      // per connection, so one flood cannot starve the others
constexpr size_t kMaxBatchCommands = 128;  // per batch sent to another shard

// Commands that act at once inside MULTI instead of being queued.
bool IsTransactionControl(const CommandSpec* spec) {
  if (spec == nullptr) return false;
  static constexpr std::string_view kControl[] = {"exec",  "discard", "multi",
                                                  "watch", "quit",    "reset"};
  for (std::string_view name : kControl) {
    if (spec->name == name) return true;
  }
  return false;
}

}  // namespace

// Keyless commands that read or write every shard's data: they run atomically over every
// shard whole, so they never see (or cut through) the middle of a multi-shard operation.
bool IsKeylessDataCommand(const CommandSpec& spec) {
  static constexpr std::string_view kNames[] = {"flushall", "flushdb",   "swapdb",
                                                "keys",     "randomkey", "dbsize"};
  for (std::string_view name : kNames) {
    if (spec.name == name) return true;
  }
  return false;
}

namespace {

// RESP2 clients in subscribed mode may only run these (Redis's rule).
bool AllowedWhileSubscribed(std::string_view name) {
  static constexpr std::string_view kAllowed[] = {"subscribe",   "psubscribe",   "ssubscribe",
                                                  "unsubscribe", "punsubscribe", "sunsubscribe",
                                                  "ping",        "quit",         "reset"};
  for (std::string_view allowed : kAllowed) {
    if (name == allowed) return true;
  }
  return false;
}

}  // namespace

// The FanOutRunner of one client operation (a handler call or a fan-out continuation). `finish`
// is what ends the operation (see FanOutOp::finish); it is set inside atomic operations.
class Reactor::Runner : public FanOutRunner {
 public:
  Runner(Reactor& reactor, const OpOrigin& origin, std::function<void()> finish = nullptr)
      : reactor_(reactor), origin_(origin), finish_(std::move(finish)) {}

  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) override {
    started_ = true;
    reactor_.StartFanOut(origin_, std::move(shards), std::move(task), nullptr, std::move(done),
                         finish_);
  }
  void RunOnThreads(std::function<void(ServerContext&)> task, FanOutDone done) {
    started_ = true;
    std::vector<int> all(reactor_.thread_count());
    for (int i = 0; i < reactor_.thread_count(); ++i) all[i] = i;
    reactor_.StartFanOut(origin_, std::move(all), nullptr, std::move(task), std::move(done),
                         finish_);
  }
  void RunAtomic(AtomicScope scope, FanOutDone body) override {
    if (finish_) {
      // Already inside an atomic operation (e.g. a cross-shard EXEC), which holds what it needs:
      // the body is just its next phase.
      RunOnShards(
          {}, [](ShardAccess&) {}, std::move(body));
      return;
    }
    started_ = true;
    Reactor& r = reactor_;
    OpOrigin origin = origin_;
    r.StartAtomic(std::move(scope), [&r, origin, body = std::move(body)](uint64_t op_id) {
      auto finish = [&r, origin, op_id] {
        r.ReleaseAtomic(op_id);
        r.FinishOp(origin, nullptr);
      };
      if (!r.RunBody(origin, body, finish)) finish();
    });
  }
  int shard_count() const override { return reactor_.thread_count(); }
  bool started() const { return started_; }
  void MarkStarted() { started_ = true; }

 private:
  Reactor& reactor_;
  OpOrigin origin_;
  std::function<void()> finish_;
  bool started_ = false;
};

size_t Reactor::ProcessInput(Connection* c, std::string_view input) {
  size_t consumed = 0;
  int budget = kCommandsPerTurn;
  while (!c->waiting && !c->closed && !c->paused && !c->protocol_error &&
         !c->state.close_after_reply) {
    if (budget-- == 0) {
      MarkReady(c);
      break;
    }
    // A client that does not read its replies waits (WriteConnection resumes it once the output
    // has drained), so a pipelined flood cannot grow its output without bound.
    if (c->pending_output() >= kMaxPendingOutput) break;
    c->parser.set_unauthenticated(!c->state.authenticated);  // AUTH may have run just before
    RequestParser::Result result = c->parser.Parse(input.substr(consumed));
    if (result == RequestParser::Result::kNeedMore) {
      consumed += c->parser.consumed();  // skipped blank lines / empty multibulks
      break;
    }
    if (result == RequestParser::Result::kError) {
      // As Redis: the commands before the bad frame run, then the error, then the connection
      // closes; the rest of the input is dropped.
      std::string message = "ERR " + c->parser.error();
      Log(LogLevel::kVerbose, "Protocol error (%s) from client: id=%d addr=%s", c->parser.error(),
          c->state.id, c->state.addr);
      c->protocol_error = true;
      if (c->batch != nullptr) {
        c->pending_error = std::move(message);
        SendBatch(c);
      } else {
        ReplyBuilder(&c->out, c->state.resp).Error(message);
        c->state.close_after_reply = true;
        MarkDirty(c);
      }
      consumed = input.size();
      break;
    }
    if (!Dispatch(c, c->parser.args())) break;
    consumed += c->parser.consumed();
    // Invalidations of keys this command wrote follow its reply.
    if (!c->own_invalidations.empty() && !c->waiting) FlushOwnInvalidations(c);
  }
  if (c->batch != nullptr) SendBatch(c);
  return consumed;
}

namespace {

// The commands whose replies are (un)subscribe confirmations.
bool IsSubscribeConfirmed(std::string_view name) {
  static constexpr std::string_view kNames[] = {"subscribe",    "unsubscribe", "psubscribe",
                                                "punsubscribe", "ssubscribe",  "sunsubscribe"};
  for (std::string_view n : kNames) {
    if (cmd::EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

}  // namespace

bool Reactor::Dispatch(Connection* c, ArgList args) {
  if (!c->state.replies_suppressed() && !c->batch_silent) return DispatchCommand(c, args);
  // CLIENT REPLY OFF / SKIP, as Redis: the reply of a command is dropped when, once it has run,
  // replies are off or skipped for it (CLIENT REPLY ON clears the mode before its +OK).
  ClientState& s = c->state;
  if (s.reply_skip_next) {  // the command after CLIENT REPLY SKIP: this one
    s.reply_skip = true;
    s.reply_skip_next = false;
  }
  bool silent = s.reply_off || s.reply_skip;
  if (c->batch != nullptr && c->batch_silent != silent) {
    SendBatch(c);  // a batch's replies are either all kept or all dropped
    return false;
  }
  size_t mark = c->out.size();
  if (!DispatchCommand(c, args)) return false;
  bool drop = s.reply_off || s.reply_skip;
  // The (un)subscribe confirmations are pushes to Redis (RESP2 too), written whatever the
  // reply mode.
  if (drop && IsSubscribeConfirmed(args[0])) drop = false;
  s.reply_skip = false;
  if (c->batch != nullptr) {
    c->batch_silent = drop;  // this command joined (or started) the batch
  } else if (c->waiting) {
    c->silent_op = drop;  // its reply comes later (fan-out, blocked, atomic...)
    c->silent_mark = mark;
  } else if (drop && c->out.size() > mark) {
    c->out.resize(std::max(mark, c->out_pos));
  }
  return true;
}

void Reactor::EndSilentOp(Connection* c) {
  if (!c->silent_op) return;
  c->silent_op = false;
  if (c->out.size() > c->silent_mark) c->out.resize(std::max(c->silent_mark, c->out_pos));
}

bool Reactor::DispatchCommand(Connection* c, ArgList args) {
  const CommandTable& table = CommandTable::Get();
  const CommandSpec* spec = table.Find(args[0]);
  std::string error;
  bool acl_restricted = false;
  if (spec == nullptr) {
    error = UnknownCommandError(args);
  } else if (!CommandTable::ArityOk(*spec, args.size())) {
    error = ArityError(spec->name);
  } else if (!c->state.authenticated && !(spec->flags & kCmdNoAuth)) {
    error = "NOAUTH Authentication required.";
  } else if (const AclUser* user = AclUserOf(c->state); user == nullptr || !user->unrestricted) {
    // ACL: one branch for users with every permission (the default user unless restricted).
    error = CheckAcl(c, *spec, args, user);
    acl_restricted = true;
  }
  if (error.empty() && (config_.maxmemory > 0 || memory::ScriptOom()) &&
      OomRejects(c, *spec, args)) {
    if (spec->name == "exec") {
      c->state.tx->aborted = true;  // EXEC then discards it with the OOM reason
      c->state.tx->abort_reason = kOomError;
    } else {
      error = kOomError;
    }
  }
  if (!error.empty()) {
  } else if ((spec->flags & kCmdNoMulti) && c->state.in_multi()) {
    error = "ERR Command not allowed inside a transaction";
  } else if (c->state.subscribed() && c->state.resp == RespVersion::kResp2 &&
             !AllowedWhileSubscribed(spec->name)) {
    error = Cat("ERR Can't execute '", spec->name,
                "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
                "this context");
  } else if (((spec->flags & kCmdWrite) || spec->name == "ping") && WritesDeniedByDiskError()) {
    // stop-writes-on-bgsave-error: Redis refuses writes (and PING) until a save succeeds.
    error =
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
        "to disk. Commands that may modify the data set are disabled, because this instance is "
        "configured to report errors during writes if RDB snapshotting fails "
        "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
        "RDB error.";
  } else if (((spec->flags & kCmdWrite) || spec->name == "ping") && aof::WriteErrno() != 0) {
    error = Cat("MISCONF Errors writing to the AOF file: ", strerror(aof::WriteErrno()));
  }
  if (error.empty() && (busy_serving_ || scripting::LuaEngine::AnyBusy())) {
    // A script is busy (on this thread or another, as Redis's one busy server): only
    // connection-side allow-busy commands get through.
    const CommandSpec* effective = spec;
    if (args.size() >= 2) {
      if (const CommandSpec* sub = table.FindSubcommand(args[0], args[1])) effective = sub;
    }
    if (!(effective->flags & kCmdAllowBusy) || spec->on_shard != nullptr) {
      scripting::BusyKind kind = scripting::LuaEngine::ThisThread().busy_kind();
      if (kind == scripting::BusyKind::kNone) {
        kind = scripting::LuaEngine::AnyBusyKind(thread_count());
      }
      error = scripting::LuaEngine::BusyError(kind);
    }
  }
  int target = -1;
  bool single_shard = true;
  if (error.empty() && spec->on_shard != nullptr) {
    CommandTable::KeyPositions(*spec, args, &key_positions_);
    for (int pos : key_positions_) {
      int s = ShardOfKey(args[pos], thread_count());
      if (target < 0) target = s;
      if (s != target) single_shard = false;
    }
    if (!single_shard && spec->on_client == nullptr && !IsCrossShardBlockable(*spec)) {
      error = "CROSSSLOT Keys in request don't hash to the same slot";
    }
  }
  // A connection-side data command with a key finder (SINTERCARD...) whose keys span shards is
  // coordinated like the multi-shard commands above.
  bool atomic_keys = false;
  if (error.empty() && spec->on_shard == nullptr && spec->get_keys != nullptr &&
      (spec->flags & (kCmdReadonly | kCmdWrite))) {
    CommandTable::KeyPositions(*spec, args, &key_positions_);
    for (int pos : key_positions_) {
      if (ShardOfKey(args[pos], thread_count()) !=
          ShardOfKey(args[key_positions_[0]], thread_count())) {
        atomic_keys = true;
      }
    }
  }
  bool queue_it = c->state.in_multi() && !IsTransactionControl(spec);
  if (!error.empty()) {
    if (c->batch != nullptr) {
      SendBatch(c);
      return false;
    }
    // As Redis: any command refused inside MULTI (MULTI/DISCARD with bad arity too) dooms the
    // transaction, and a refused EXEC discards it, naming why.
    if (c->state.in_multi()) c->state.tx->aborted = true;
    if (spec != nullptr && spec->name == "exec") {
      if (c->state.tx != nullptr) {
        c->state.tx->in_multi = false;
        c->state.tx->aborted = false;
        c->state.tx->queue.clear();
        c->state.tx->abort_reason.clear();
        ReleaseWatches(c->state);
      }
      error = Cat("EXECABORT Transaction discarded because of: ",
                  error.starts_with("ERR ") ? error.substr(4) : error);
    }
    ReplyBuilder(&c->out, c->state.resp).Error(error);
    CountErrorReply(error);
    if (spec != nullptr) ++command_stats_[spec - table.specs().data()].rejected_calls;
    MarkDirty(c);
    return true;
  }
  if (pause_until_ms_ != 0 && IsPaused(*spec)) {
    if (c->batch != nullptr) {
      SendBatch(c);
      return false;
    }
    c->paused = true;
    paused_.push_back(c->state.id);
    return false;
  }
  if (queue_it) {
    // MULTI: validated above; queued for EXEC.
    c->state.tx->queue.push_back(
        TransactionState::Queued{spec, std::vector<std::string>(args.begin(), args.end())});
    ReplyBuilder(&c->out, c->state.resp).SimpleString("QUEUED");
    MarkDirty(c);
    return true;
  }
  // Scripts of a restricted user run on this thread, where the user's permissions are, so that
  // each redis.call is checked (script_run.h).
  bool on_shard = spec->on_shard != nullptr && single_shard &&
                  !(spec->prefer_client != nullptr && spec->prefer_client(args)) &&
                  !(acl_restricted && spec->widen_scope != nullptr);
  if (on_shard && target < 0) target = index_;
  // A batch being built for another shard (or any batch, before a connection-side command) must
  // go first; this command is parsed again once its reply is back.
  if (c->batch != nullptr && (!on_shard || c->batch_shard != target)) {
    SendBatch(c);
    return false;
  }
  c->state.last_command = spec->name;
  ++c->state.commands;
  ++counters_.commands_processed;
  bool no_block = false;
  // MONITOR: one relaxed load when nobody monitors. Shard commands are shown as they start,
  // connection-side ones once run (SELECT shows its new db, EXEC follows its commands, as
  // Redis).
  const bool monitored = MonitorsExist();
  if (c->state.tracking.on) TrackCommand(c, *spec, args);
  if ((spec->name == "flushall" || spec->name == "flushdb") &&
      TrackingClientCount().load(std::memory_order_relaxed) > 0) {
    c->tracking_flush = true;  // FinishOp tells every tracking client once the flush is done
  }
  if (monitored && spec->name == "exec" && c->state.in_multi() && !c->state.tx->aborted) {
    std::vector<std::string_view> queued;
    for (const auto& q : c->state.tx->queue) {
      queued.assign(q.args.begin(), q.args.end());
      FeedCommand(c, *q.spec, queued);
    }
  }
  if (!on_shard) {
    // The handler may change the client's db or close it; args stay valid meanwhile.
    struct FeedAfter {
      Reactor* r;
      Connection* c;
      const CommandSpec* spec;
      ArgList args;
      bool on;
      ~FeedAfter() {
        if (on) r->FeedCommand(c, *spec, args);
      }
    } feed_after{this, c, spec, args, monitored};
    if (spec->on_shard != nullptr && spec->on_client == nullptr) {
      StartCrossShardBlock(c, *spec, args);  // BLPOP... over keys of several shards
    } else if (spec->on_shard != nullptr || IsKeylessDataCommand(*spec) || atomic_keys) {
      // Keys on several shards (key_positions_ holds them), or every shard: atomic under
      // intents.
      RunAtomicCommand(c, *spec, args);
    } else {
      RunClientHandler(c, *spec, args);
    }
    return true;
  }
  if (monitored) FeedCommand(c, *spec, args);
  if (c->batch == nullptr && target == index_) {
    Connection* saved = executing_conn_;
    executing_conn_ = c;
    ExecuteLocal(c, *spec, args, no_block);
    executing_conn_ = saved;
    return true;
  }
  if (c->batch == nullptr) {
    c->batch = NewBatch();
    c->batch_shard = target;
    c->batch->origin = OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp};
  }
  AppendToBatch(c, *spec, args, no_block);
  // A full batch goes now: its reply joins the output before more commands run, so a client
  // that does not read (GETs of big values) holds at most kMaxPendingOutput plus one batch's
  // replies.
  if (c->batch->commands.size() >= kMaxBatchCommands) SendBatch(c);
  return true;
}

std::string Reactor::CheckAcl(Connection* c, const CommandSpec& spec, ArgList args,
                              const AclUser* user) {
  const CommandSpec* effective = &spec;
  if (args.size() >= 2) {
    if (const CommandSpec* sub = CommandTable::Get().FindSubcommand(args[0], args[1])) {
      effective = sub;
    }
  }
  int pos = 0;
  AclResult result =
      user == nullptr ? AclResult::kDeniedCommand : AclStore::Check(*user, *effective, args, &pos);
  if (result == AclResult::kOk) return {};
  AclLogEntry entry;
  entry.context = c->state.in_multi() ? "multi" : "toplevel";
  entry.username = c->state.user;
  entry.created_ms = entry.updated_ms = shard_.now_ms();
  entry.client_info =
      FormatClientInfo(c->state, shard_.now_ms(), c->in.size(), 0, c->pending_output());
  std::string error;
  switch (result) {
    case AclResult::kDeniedCommand:
      entry.reason = "command";
      entry.object = std::string(effective->name);
      error = Cat("NOPERM this user has no permissions to run the '", effective->name, "' command");
      break;
    case AclResult::kDeniedKey:
      entry.reason = "key";
      entry.object = std::string(args[pos]);
      error = "NOPERM this user has no permissions to access one of the keys used as arguments";
      break;
    default:
      entry.reason = "channel";
      entry.object = std::string(args[pos]);
      error = "NOPERM this user has no permissions to access one of the channels used as arguments";
      break;
  }
  std::string max_len;
  int64_t max = 128;
  if (config_.Get("acllog-max-len", &max_len)) cmd::ParseInt64(max_len, &max);
  acl_.AddLog(std::move(entry), static_cast<size_t>(max));
  return error;
}

int Reactor::NoteErrorReply(const std::string& out, size_t at) {
  ScriptReplyMark mark;
  if (script_reply_mark_.buffer != nullptr) {
    if (script_reply_mark_.buffer == &out && script_reply_mark_.at == at) {
      mark = script_reply_mark_;
    }
    script_reply_mark_ = ScriptReplyMark{};
  }
  if (out.size() <= at || out[at] != '-') return mark.failures;
  if (mark.raw) return 0;
  if (!mark.top_counted) CountErrorReply(std::string_view(out).substr(at + 1));
  return 1;
}

void Reactor::MarkScriptReply(const std::string* buffer, size_t at, bool top_counted,
                              int failures) {
  script_reply_mark_ = ScriptReplyMark{buffer, at, top_counted, failures};
}

void Reactor::CountErrorReply(std::string_view error) {
  ++counters_.total_error_replies;
  std::string_view prefix = error.substr(0, error.find_first_of(" \r\n"));
  auto it = error_stats_.find(prefix);
  if (it != error_stats_.end()) {
    ++it->second;
  } else if (error_stats_.size() < kMaxErrorPrefixes) {
    error_stats_.emplace(std::string(prefix), 1);
  }
}

CommandStat& Reactor::StatOf(const CommandSpec& spec, ArgList args) {
  // As Redis, a container's calls count for the subcommand (cmdstat_config|get).
  const CommandTable& table = CommandTable::Get();
  static const std::vector<bool> containers = [&table] {
    std::vector<bool> out(table.specs().size());
    for (size_t i = 0; i < out.size(); ++i) {
      const CommandSpec& s = table.specs()[i];
      out[i] = s.name.find('|') == std::string_view::npos && !table.Subcommands(s.name).empty();
    }
    return out;
  }();
  const CommandSpec* counted = &spec;
  if (containers[&spec - table.specs().data()] && args.size() >= 2) {
    if (const CommandSpec* sub = table.FindSubcommand(args[0], args[1])) counted = sub;
  }
  return command_stats_[counted - table.specs().data()];
}

void Reactor::RecordCall(const CommandSpec& spec, ArgList args, uint64_t usec, int failures) {
  CommandStat& stat = StatOf(spec, args);
  ++stat.calls;
  stat.usec += usec;
  stat.failed_calls += failures;
  ++stat.latency_buckets[CommandStat::LatencyBucket(usec)];
}

void Reactor::RecordScriptCall(const CommandSpec& spec, ArgList args, uint64_t usec,
                               std::string_view error) {
  ++counters_.commands_processed;
  if (!error.empty()) CountErrorReply(error);
  RecordCall(spec, args, usec, error.empty() ? 0 : 1);
}

void Reactor::RecordScriptRejection(const CommandSpec* spec, ArgList args, std::string_view error) {
  CountErrorReply(error);
  if (spec != nullptr) ++StatOf(*spec, args).rejected_calls;
}

void Reactor::FeedCommand(Connection* c, const CommandSpec& spec, ArgList args) {
  const CommandSpec* effective = &spec;
  if (args.size() >= 2 && spec.name.find('|') == std::string_view::npos) {
    if (const CommandSpec* sub = CommandTable::Get().FindSubcommand(args[0], args[1])) {
      effective = sub;
    }
  }
  // Scripts are flagged skip_monitor, yet Redis shows EVAL/FCALL lines (its script code feeds
  // them itself) before the "lua" lines of their calls.
  static constexpr std::string_view kScripts[] = {"eval",       "evalsha", "eval_ro",
                                                  "evalsha_ro", "fcall",   "fcall_ro"};
  bool script =
      std::find(std::begin(kScripts), std::end(kScripts), effective->name) != std::end(kScripts);
  if (!script && !ShownToMonitors(effective->flags)) return;
  timeval tv;
  gettimeofday(&tv, nullptr);
  FeedMonitorLine(FormatMonitorLine(static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec,
                                    c->state.db_index, c->state.addr, args));
}

void Reactor::AfterCall(const CommandSpec& spec, ArgList args, uint64_t usec,
                        const ClientState* client, BatchMessage* batch, int failures,
                        bool blocked) {
  if (client != nullptr) {
    writer_ = ClientRef{index_, client->id};
  } else if (batch != nullptr) {
    writer_ = ClientRef{batch->origin.thread, batch->origin.conn_id};
  } else {
    writer_ = ClientRef{};
  }
  if (blocked) return;
  RecordCall(spec, args, usec, failures);
  bool slow = config_.slowlog_log_slower_than >= 0 &&
              static_cast<int64_t>(usec) >= config_.slowlog_log_slower_than;
  bool latent = config_.latency_monitor_threshold > 0 &&
                static_cast<int64_t>(usec / 1000) >= config_.latency_monitor_threshold;
  if (!slow && !latent) return;  // the common case: two comparisons
  // Redis judges a container command by its subcommand (CLIENT SETNAME is logged, ...).
  const CommandSpec* effective = &spec;
  if (args.size() >= 2 && spec.name.find('|') == std::string_view::npos) {
    if (const CommandSpec* sub = CommandTable::Get().FindSubcommand(args[0], args[1])) {
      effective = sub;
    }
  }
  int64_t now_sec = shard_.now_ms() / 1000;
  if (latent) {
    latency_.AddIfNeeded((effective->flags & kCmdFast) ? "fast-command" : "command",
                         config_.latency_monitor_threshold, usec / 1000, now_sec);
  }
  if (!slow || (effective->flags & kCmdSkipSlowlog)) return;
  SlowlogEntry entry = MakeSlowlogEntry(args, static_cast<int64_t>(usec), now_sec);
  if (batch != nullptr && batch->origin.thread != index_) {
    // The client lives on another thread: the entry travels back with the batch's reply, and
    // its thread adds the client's address and name (CompleteBatch).
    batch->slow_entries.push_back(std::move(entry));
    return;
  }
  if (client == nullptr && batch != nullptr) {
    auto it = connections_by_id_.find(batch->origin.conn_id);
    if (it != connections_by_id_.end()) client = &it->second->state;
  }
  if (client != nullptr) {
    entry.addr = client->addr;
    entry.name = client->name;
  }
  slowlog_.Push(std::move(entry), config_.slowlog_max_len);
}

void Reactor::ExecuteLocal(Connection* c, const CommandSpec& spec, ArgList args, bool no_block) {
  if (!intents_.idle()) {
    std::vector<std::string> keys;
    bool exclusive = true;
    if (MustWait(spec, args, c->state.db_index, &keys, &exclusive)) {
      // A key of this command is taken by an atomic operation: it waits in line as a batch
      // addressed back to this thread, like a remote command.
      BatchMessage* b = NewBatch();
      b->origin = OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp};
      AppendCommand(b, spec, args, no_block);
      c->waiting = true;
      c->inflight_shard = index_;
      ParkForIntents(b, 0, std::move(keys), exclusive, false);
      return;
    }
  }
  uint64_t start = call_clock_.Start();
  ReplyBuilder reply(&c->out, c->state.resp);
  const size_t reply_at = c->out.size();
  BlockRequest block;
  if ((spec.flags & kCmdDenyOom) && config_.maxmemory > 0) EvictForWrite();
  ShardCommand cmd{args,  shard_,  shard_.db(c->state.db_index), c->state.db_index,
                   reply, config_, no_block ? nullptr : &block,  false};
  const uint64_t events = shard_.notifier().events_raised();
  aof::RunShardHandler(spec, cmd);
  AfterCall(spec, args, call_clock_.Stop(start), &c->state, nullptr,
            NoteErrorReply(c->out, reply_at), block.requested);
  if (spec.flags & kCmdWrite) TouchKeys(spec, cmd.db, args, events);
  if (block.requested) {
    // The client waits on this very shard: park it with an empty batch whose reply comes back
    // to this thread like any remote one.
    BatchMessage* b = NewBatch();
    b->origin = OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp};
    c->waiting = true;
    c->state.blocked = true;
    c->inflight_shard = index_;
    MarkGoneOnClose(c, b);
    Park(b, 0, spec, args, block);
  }
  MarkDirty(c);
  if (!shard_.ready_keys().empty()) ServeReadyKeys();
}

void Reactor::RunClientHandler(Connection* c, const CommandSpec& spec, ArgList args) {
  uint64_t start = call_clock_.Start();
  ReplyBuilder reply(&c->out, c->state.resp);
  const size_t reply_at = c->out.size();
  Runner runner(*this, OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp});
  Runner* saved = current_runner_;
  current_runner_ = &runner;
  current_conn_ = c;
  ClientCommand cmd(args, c->state, reply, this, runner);
  spec.on_client(cmd);
  current_conn_ = nullptr;
  current_runner_ = saved;
  if (spec.flags & kCmdWrite) NoteWrites(index_);
  if (runner.started()) {
    c->waiting = true;
    c->pending_call = Connection::PendingCall{
        &spec, {args.begin(), args.end()}, call_clock_.Stop(start), reply_at};
    call_clock_.Break();
  } else {
    AfterCall(spec, args, call_clock_.Stop(start), &c->state, nullptr,
              NoteErrorReply(c->out, reply_at));
  }
  MarkDirty(c);
}

bool Reactor::RunnerStarted() const {
  return current_runner_ != nullptr && current_runner_->started();
}

void Reactor::RecordPendingCall(Connection* c) {
  if (!c->pending_call) return;
  Connection::PendingCall call = std::move(*c->pending_call);
  c->pending_call.reset();
  std::vector<std::string_view> args(call.args.begin(), call.args.end());
  AfterCall(*call.spec, args, call.usec, &c->state, nullptr, NoteErrorReply(c->out, call.reply_at));
}

BatchMessage* Reactor::NewBatch() {
  if (free_batches_.empty()) return new BatchMessage;
  BatchMessage* b = free_batches_.back();
  free_batches_.pop_back();
  return b;
}

void Reactor::FreeBatch(BatchMessage* batch) {
  if (free_batches_.size() >= 1024 || batch->arena.capacity() > 64 * 1024 ||
      batch->reply.capacity() > 64 * 1024) {
    delete batch;
    return;
  }
  batch->Clear();
  free_batches_.push_back(batch);
}

void Reactor::AppendToBatch(Connection* c, const CommandSpec& spec, ArgList args, bool no_block) {
  AppendCommand(c->batch, spec, args, no_block);
}

void Reactor::AppendCommand(BatchMessage* b, const CommandSpec& spec, ArgList args, bool no_block) {
  b->commands.push_back(BatchMessage::Command{&spec, static_cast<uint32_t>(b->args.size()),
                                              static_cast<uint32_t>(args.size()), no_block});
  for (std::string_view arg : args) {
    b->args.emplace_back(static_cast<uint32_t>(b->arena.size()), static_cast<uint32_t>(arg.size()));
    b->arena.append(arg);
  }
}

void Reactor::SendBatch(Connection* c) {
  BatchMessage* b = c->batch;
  c->batch = nullptr;
  c->waiting = true;
  c->silent_op = c->batch_silent;
  c->silent_mark = c->out.size();
  c->batch_silent = false;
  c->inflight_shard = c->batch_shard;
  c->hold_output = true;
  for (const BatchMessage::Command& command : b->commands) {
    if ((command.spec->flags & kCmdBlocking) && !command.no_block) {
      c->hold_output = false;
      c->state.blocked = true;
      MarkGoneOnClose(c, b);
    }
  }
  Send(c->batch_shard, b);
  c->batch_shard = -1;
}

void Reactor::ExecuteBatch(BatchMessage* b) {
  ++counters_.batches_executed;
  if (b->transaction) {
    RunTransactionBatch(b);
    return;
  }
  RunBatchFrom(b, 0);
}

bool Reactor::WritesDeniedByDiskError() const {
  return config_.stop_writes_on_bgsave_error && !config_.save_params.empty() &&
         !Persistence().last_bgsave_ok.load(std::memory_order_relaxed);
}

void Reactor::TouchKeys(const CommandSpec& spec, Db& db, ArgList args, uint64_t events_before) {
  NoteWrites(index_);  // the `save` schedule's change counter (one per write command)
  if (shard_.notifier().events_raised() == events_before) return;  // a no-op (SREM of no member)
  if (!tracking_.empty()) {
    invalidating_own_write_ = true;  // writer_ is the command's client (AfterCall)
    InvalidateWrites(spec, args);
    invalidating_own_write_ = false;
  }
  if (!db.has_watches()) return;
  CommandTable::KeyPositions(spec, args, &key_positions_);
  for (int pos : key_positions_) db.Touch(args[pos]);
}

void Reactor::RunBatchFrom(BatchMessage* b, size_t from, bool gated) {
  std::vector<std::string_view> args;
  for (size_t i = from; i < b->commands.size(); ++i) {
    const BatchMessage::Command& command = b->commands[i];
    args.clear();
    for (uint32_t j = 0; j < command.argc; ++j) {
      auto [offset, len] = b->args[command.first_arg + j];
      args.emplace_back(b->arena.data() + offset, len);
    }
    if (!intents_.idle() && !(gated && i == from)) {
      std::vector<std::string> keys;
      bool exclusive = true;
      if (MustWait(*command.spec, args, b->origin.db_index, &keys, &exclusive)) {
        ParkForIntents(b, i, std::move(keys), exclusive, false);
        return;  // resumes at command i once admitted
      }
    }
    if (RunShardCommand(b, i, *command.spec, args, false, command.no_block)) {
      return;  // parked: resumes later
    }
  }
  b->is_reply = true;
  Send(b->origin.thread, b);
}

bool Reactor::RunShardCommand(BatchMessage* b, size_t index, const CommandSpec& spec, ArgList args,
                              bool retrying, bool no_block) {
  uint64_t start = call_clock_.Start();
  ReplyBuilder reply(&b->reply, b->origin.resp);
  const size_t reply_at = b->reply.size();
  BlockRequest block;
  if ((spec.flags & kCmdDenyOom) && config_.maxmemory > 0) EvictForWrite();
  ShardCommand cmd{args,  shard_,  shard_.db(b->origin.db_index), b->origin.db_index,
                   reply, config_, no_block ? nullptr : &block,   retrying};
  const uint64_t events = shard_.notifier().events_raised();
  aof::RunShardHandler(spec, cmd);
  AfterCall(spec, args, call_clock_.Stop(start), nullptr, b, NoteErrorReply(b->reply, reply_at),
            block.requested);
  if (spec.flags & kCmdWrite) TouchKeys(spec, cmd.db, args, events);
  if (block.requested && !retrying) Park(b, index + 1, spec, args, block);
  if (!shard_.ready_keys().empty()) ServeReadyKeys();
  return block.requested;
}

void Reactor::CompleteBatch(BatchMessage* b) {
  auto it = connections_by_id_.find(b->origin.conn_id);
  for (SlowlogEntry& entry : b->slow_entries) {
    if (it != connections_by_id_.end()) {
      entry.addr = it->second->state.addr;
      entry.name = it->second->state.name;
    }
    slowlog_.Push(std::move(entry), config_.slowlog_max_len);
  }
  if (it != connections_by_id_.end()) {
    Connection* c = it->second;
    if (c->out.empty()) {
      c->out.swap(b->reply);
    } else {
      c->out.append(b->reply);
    }
    c->waiting = false;
    c->hold_output = false;
    c->state.blocked = false;
    EndSilentOp(c);
    if (!c->pending_error.empty()) {
      ReplyBuilder(&c->out, c->state.resp).Error(c->pending_error);
      c->pending_error.clear();
      c->state.close_after_reply = true;
    }
    MarkDirty(c);
    ResumeConnection(c, /*chained=*/true);
  }
  FreeBatch(b);
}

void Reactor::StartFanOut(const OpOrigin& origin, std::vector<int> shards, ShardTask shard_task,
                          std::function<void(ServerContext&)> thread_task, FanOutDone done,
                          std::function<void()> finish) {
  auto* op = new FanOutOp;
  op->origin = origin;
  op->finish = std::move(finish);
  op->shard_task = std::move(shard_task);
  op->thread_task = std::move(thread_task);
  op->done = std::move(done);
  if (shards.empty()) {
    op->remaining = 1;
    auto* m = new FanOutMessage;
    m->op = op;
    m->is_reply = true;
    Send(index_, m);
    return;
  }
  op->remaining = static_cast<int>(shards.size());
  for (int s : shards) {
    auto* m = new FanOutMessage;
    m->op = op;
    Send(s, m);
  }
}

void Reactor::ExecuteFanOut(FanOutMessage* m) {
  UpdateClock();
  FanOutOp* op = m->op;
  // A task may wait for the other shards' tasks (the snapshot barrier, server/persistence.h):
  // the messages this thread has queued for them (e.g. the rest of the very fan-out it started)
  // must be on their way first.
  FlushOutgoing();
  call_clock_.Break();  // (a system call)
  if (op->shard_task) {
    ShardAccess access{
        shard_,        shard_.db(op->origin.db_index), op->origin.db_index, index_, config_,
        thread_count()};
    op->shard_task(access);
  } else {
    op->thread_task(*this);
  }
  if (!shard_.ready_keys().empty()) ServeReadyKeys();
  m->is_reply = true;
  Send(op->origin.thread, m);
}

void Reactor::CompleteFanOut(FanOutMessage* m) {
  FanOutOp* op = m->op;
  m->op = nullptr;
  delete m;
  if (--op->remaining > 0) return;
  std::unique_ptr<FanOutOp> owned(op);
  auto it = connections_by_id_.find(op->origin.conn_id);
  Connection* c = it == connections_by_id_.end() ? nullptr : it->second;
  // The continuation runs even when the client has gone, so a multi-phase operation (e.g. a
  // cross-shard RENAME) always completes and never loses a key; its reply is then discarded.
  std::string discarded;
  ReplyBuilder reply(c != nullptr ? &c->out : &discarded, op->origin.resp);
  Runner runner(*this, op->origin, op->finish);
  Runner* saved = current_runner_;
  current_runner_ = &runner;
  op->done(reply, runner);
  current_runner_ = saved;
  if (c != nullptr) MarkDirty(c);
  if (!runner.started()) FinishOp(op->origin, op->finish);
}

// Runner is defined here, so this is too (see coordination_reactor.cc for its callers).
bool Reactor::RunBody(const OpOrigin& origin, const FanOutDone& body,
                      std::function<void()> finish) {
  auto it = connections_by_id_.find(origin.conn_id);
  Connection* c = it == connections_by_id_.end() ? nullptr : it->second;
  std::string discarded;
  ReplyBuilder reply(c != nullptr ? &c->out : &discarded, origin.resp);
  Runner runner(*this, origin, std::move(finish));
  Runner* saved_runner = current_runner_;
  Connection* saved_conn = current_conn_;
  current_runner_ = &runner;
  current_conn_ = c;
  body(reply, runner);
  current_runner_ = saved_runner;
  current_conn_ = saved_conn;
  if (c != nullptr) MarkDirty(c);
  return runner.started();
}

void Reactor::HoldIntents(std::vector<std::string> keys) {
  Connection* c = current_conn_;
  current_runner_->MarkStarted();  // the client waits until the intents are held
  AtomicScope scope;
  for (std::string& k : keys) scope.keys.push_back({c->state.db_index, std::move(k)});
  OpOrigin origin{index_, c->state.id, c->state.db_index, c->state.resp};
  StartAtomic(std::move(scope), [this, origin](uint64_t op_id) {
    auto it = connections_by_id_.find(origin.conn_id);
    if (it == connections_by_id_.end()) {
      ReleaseAtomic(op_id);  // the client left meanwhile
      return;
    }
    held_for_test_[origin.conn_id].push_back(op_id);
    ReplyBuilder(&it->second->out, origin.resp).Ok();
    FinishOp(origin, nullptr);
  });
}

void Reactor::ReleaseHeldIntents() {
  auto it = held_for_test_.find(current_conn_->state.id);
  if (it == held_for_test_.end()) return;
  for (uint64_t op : it->second) ReleaseAtomic(op);
  held_for_test_.erase(it);
}

void Reactor::ServeMetrics(std::function<void(std::string)> done) {
  Runner runner(*this, OpOrigin{index_, 0, 0, RespVersion::kResp2});
  Runner* saved = current_runner_;
  current_runner_ = &runner;
  CollectPrometheusMetrics(*this, std::move(done));
  current_runner_ = saved;
}

void Reactor::AofCron() {
  // A connection-less operation (connection id 0), like the `save` schedule's fan-out.
  Runner runner(*this, OpOrigin{index_, 0, 0, RespVersion::kResp2});
  aof::Cron(config_, runner);
  Runner save_runner(*this, OpOrigin{index_, 0, 0, RespVersion::kResp2});
  PersistenceCron(config_, AtomicAllShardsStarter(save_runner));
}

void Reactor::FinishOp(const OpOrigin& origin, const std::function<void()>& finish) {
  if (finish) {
    finish();
    return;
  }
  std::shared_ptr<CrossBlock> deferred;
  if (!deferred_cross_blocks_.empty()) {
    if (auto d = deferred_cross_blocks_.find(origin.conn_id); d != deferred_cross_blocks_.end()) {
      deferred = std::move(d->second);
      deferred_cross_blocks_.erase(d);
    }
  }
  auto it = connections_by_id_.find(origin.conn_id);
  if (it == connections_by_id_.end()) return;
  Connection* c = it->second;
  RecordPendingCall(c);
  if (deferred != nullptr) {
    StartDeferredCrossBlock(c, std::move(deferred));  // the client keeps waiting
    return;
  }
  c->waiting = false;
  c->state.blocked = false;
  EndSilentOp(c);
  if (c->tracking_flush) {
    c->tracking_flush = false;
    BroadcastTrackingFlush();
  }
  MarkDirty(c);
  ResumeConnection(c);
}

void Reactor::ForEachThread(std::function<void(ServerContext&)> task, FanOutDone done) {
  current_runner_->RunOnThreads(std::move(task), std::move(done));
}

bool Reactor::IsPaused(const CommandSpec& spec) const {
  if (shard_.now_ms() >= pause_until_ms_) return false;
  if (spec.name == "client") return false;  // so CLIENT UNPAUSE can get through
  return !pause_write_only_ || (spec.flags & kCmdWrite);
}

// ---- Blocking commands ----
//
// A blocked client is a Waiter on the shard that owns its keys, holding the batch its reply goes
// into (for a command run inline, an empty batch addressed to this same thread). Writes that
// create a watched key put it on the shard's ReadyKeys; after every command the shard serves the
// waiters of each ready key in the order they blocked, re-running their command; a served waiter
// continues its batch. Deadlines are kept in an ordered set; the loop wakes up for the earliest.

namespace {

std::string WaitKey(int db, std::string_view key) { return Cat(db, ':', key); }

}  // namespace

void CancelWaitMessage::Deliver(Reactor& reactor) {
  reactor.CancelWaits(conn_id, origin_thread);
  delete this;
}

void Reactor::MarkGoneOnClose(Connection* c, BatchMessage* b) {
  if (c->gone == nullptr) c->gone = std::make_shared<CloseFlag>();
  b->origin_gone = c->gone;
  b->origin_fd = c->tls == nullptr ? c->state.fd : -1;
}

namespace {

// The client of a parked wait has left: its connection closed, or its socket has an EOF not read
// yet (only when `b` has a close flag: a blocking command's batch). The peek is registered in
// the flag first, so the descriptor stays open during it (see CloseFlag); a peek that finds the
// close begun does not touch it, and the last peek out of a handed-over close closes it.
bool OriginGone(const BatchMessage& b) {
  if (b.origin_gone == nullptr) return false;
  CloseFlag& flag = *b.origin_gone;
  if (flag.gone.load()) return true;
  if (b.origin_fd < 0) return false;
  bool gone = (flag.users.fetch_add(1) & CloseFlag::kClosing) != 0;
  char byte;
  if (!gone) gone = recv(b.origin_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  if (flag.users.fetch_sub(1) - 1 == (CloseFlag::kClosing | CloseFlag::kHandedOver)) {
    close(b.origin_fd);
  }
  return gone || flag.gone.load();
}

}  // namespace

void Reactor::Park(BatchMessage* batch, size_t next_command, const CommandSpec& spec, ArgList args,
                   BlockRequest& request) {
  auto w = std::make_unique<Waiter>();
  w->id = next_waiter_id_++;
  w->batch = batch;
  w->next_command = next_command;
  w->spec = &spec;
  if (request.retry_args.empty()) {
    w->args.assign(args.begin(), args.end());
  } else {
    w->args = std::move(request.retry_args);
  }
  w->keys = std::move(request.keys);
  w->db_index = batch->origin.db_index;
  w->deadline_ms = request.deadline_ms;
  w->timeout_reply = request.timeout_reply;
  Db& db = shard_.db(w->db_index);
  for (const std::string& key : w->keys) {
    db.WatchKey(key);
    waiters_by_key_[WaitKey(w->db_index, key)].push_back(w->id);
  }
  if (w->deadline_ms > 0) waiter_deadlines_.emplace(w->deadline_ms, w->id);
  waiters_[w->id] = std::move(w);
}

void Reactor::Unpark(Waiter* w) {
  Db& db = shard_.db(w->db_index);
  for (const std::string& key : w->keys) {
    db.UnwatchKey(key);
    auto it = waiters_by_key_.find(WaitKey(w->db_index, key));
    if (it == waiters_by_key_.end()) continue;
    std::erase(it->second, w->id);
    if (it->second.empty()) waiters_by_key_.erase(it);
  }
  if (w->deadline_ms > 0) waiter_deadlines_.erase({w->deadline_ms, w->id});
  waiters_.erase(w->id);  // destroys *w
}

void Reactor::ServeReadyKeys() {
  if (serving_ready_keys_) return;  // the outer call picks up keys made ready meanwhile
  serving_ready_keys_ = true;
  for (int round = 0; round < 1000 && !shard_.ready_keys().empty(); ++round) {
    ReadyKeys keys;
    keys.swap(shard_.ready_keys());
    for (const auto& [db, key] : keys) {
      if (!cross_block_watches_.empty()) NotifyCrossBlocks(db, key);
      auto it = waiters_by_key_.find(WaitKey(db, key));
      if (it == waiters_by_key_.end()) continue;
      if (!intents_.idle() && intents_.Busy(IntentKey(db, key))) {
        // An atomic operation holds (or waits for) the key: its waiters are served once it is
        // released, so none of them sees the middle of that operation.
        deferred_ready_.emplace_back(db, key);
        continue;
      }
      std::vector<uint64_t> ids(it->second.begin(), it->second.end());
      for (uint64_t id : ids) {
        auto wit = waiters_.find(id);
        if (wit == waiters_.end()) continue;
        Waiter* w = wit->second.get();
        if (OriginGone(*w->batch)) {
          // Its client closed (the cancel is on its way): it takes nothing.
          BatchMessage* b = w->batch;
          Unpark(w);
          b->is_reply = true;  // the origin finds no connection and frees it
          Send(b->origin.thread, b);
          continue;
        }
        std::vector<std::string_view> args(w->args.begin(), w->args.end());
        if (!intents_.idle()) {
          // Another key of its command (BLMOVE's destination...) may be taken: then it and
          // those after it wait for the release.
          std::vector<std::string> intent_keys;
          bool exclusive = true;
          if (MustWait(*w->spec, args, w->db_index, &intent_keys, &exclusive)) {
            deferred_ready_.emplace_back(db, key);
            break;
          }
        }
        BatchMessage* b = w->batch;
        size_t next = w->next_command;
        uint64_t start = call_clock_.Start();
        ReplyBuilder reply(&b->reply, b->origin.resp);
        const size_t reply_at = b->reply.size();
        BlockRequest block;
        ShardCommand cmd{args,   shard_, shard_.db(w->db_index), w->db_index, reply, config_,
                         &block, true};
        aof::RunShardHandler(*w->spec, cmd);
        AfterCall(*w->spec, args, call_clock_.Stop(start), nullptr, b,
                  NoteErrorReply(b->reply, reply_at), block.requested);
        if (block.requested) continue;  // still nothing for it: keeps its place in line
        Unpark(w);
        RunBatchFrom(b, next);
      }
    }
  }
  serving_ready_keys_ = false;
}

// Ends a wait without serving it: the timeout reply, or CLIENT UNBLOCK ... ERROR's error.
void Reactor::EndWait(Waiter* w, bool unblock_error) {
  BatchMessage* b = w->batch;
  size_t next = w->next_command;
  TimeoutReply kind = w->timeout_reply;
  {
    // The call counts now (its blocked runs did not), as Redis's updateStatsOnUnblock.
    std::vector<std::string_view> args(w->args.begin(), w->args.end());
    RecordCall(*w->spec, args, 0, unblock_error ? 1 : 0);
  }
  Unpark(w);
  ReplyBuilder reply(&b->reply, b->origin.resp);
  if (unblock_error) {
    const size_t reply_at = b->reply.size();
    reply.Error(kUnblockedError);
    NoteErrorReply(b->reply, reply_at);
  } else if (kind == TimeoutReply::kNullArray) {
    reply.NullArray();
  } else if (kind == TimeoutReply::kZero) {
    reply.Integer(0);  // WAIT: no replica acknowledged
  } else {
    reply.Null();
  }
  call_clock_.Break();  // expiry or CLIENT UNBLOCK ended the wait, not a command
  RunBatchFrom(b, next);
}

void Reactor::ExpireWaiters() {
  int64_t now = shard_.now_ms();
  while (!waiter_deadlines_.empty() && waiter_deadlines_.begin()->first <= now) {
    EndWait(waiters_.at(waiter_deadlines_.begin()->second).get(), false);
  }
}

// CLIENT UNBLOCK reaches every thread (ForEachThread): the one where the client's command is
// parked ends it here; the one coordinating its cross-shard wait ends that (cross_block.cc).
bool Reactor::UnblockClient(uint64_t id, bool error) {
  for (auto& [waiter_id, w] : waiters_) {
    if (w->batch->origin.conn_id == id) {
      EndWait(w.get(), error);
      return true;
    }
  }
  return !cross_block_by_conn_.empty() && UnblockCrossBlock(id, error);
}

int64_t Reactor::NextWaiterDeadline() const {
  int64_t next = waiter_deadlines_.empty() ? 0 : waiter_deadlines_.begin()->first;
  if (!cross_block_deadlines_.empty()) {
    int64_t cross = cross_block_deadlines_.begin()->first;
    if (next == 0 || cross < next) next = cross;
  }
  return next;
}

void Reactor::CancelWaits(uint64_t conn_id, int origin_thread) {
  std::vector<Waiter*> gone;
  for (auto& [id, w] : waiters_) {
    if (w->batch->origin.conn_id == conn_id && w->batch->origin.thread == origin_thread) {
      gone.push_back(w.get());
    }
  }
  for (Waiter* w : gone) {
    BatchMessage* b = w->batch;
    Unpark(w);
    b->is_reply = true;  // the origin finds no connection and frees it
    Send(b->origin.thread, b);
  }
}

// ---- Transactions ----
//
// MULTI queues validated commands in the client's TransactionState. At EXEC, when every queued
// command and every WATCHed key lives on one shard, the queue travels there as one transaction
// batch: the shard checks the watched versions and runs the commands back to back, so no other
// client can observe or interleave with them. Otherwise the transaction becomes an atomic
// operation over every key it names (StartCrossShardExec, coordination_reactor.cc).

void Reactor::ReleaseWatches(ClientState& client) {
  if (client.tx == nullptr || client.tx->watched.empty()) return;
  std::vector<UnwatchMessage*> by_shard(thread_count(), nullptr);
  for (const auto& w : client.tx->watched) {
    if (by_shard[w.shard] == nullptr) by_shard[w.shard] = new UnwatchMessage;
    by_shard[w.shard]->keys.emplace_back(w.db, w.key);
  }
  for (int s = 0; s < thread_count(); ++s) {
    if (by_shard[s] != nullptr) Send(s, by_shard[s]);
  }
  client.tx->watched.clear();
}

void Reactor::RunTransactionBatch(BatchMessage* b, bool gated) {
  if (!gated && !intents_.idle()) {
    std::vector<std::string> keys;
    bool exclusive = true;
    bool whole = false;
    if (TransactionMustWait(b, &keys, &exclusive, &whole)) {
      ParkForIntents(b, 0, std::move(keys), exclusive, whole);
      return;
    }
  }
  bool clean = true;
  for (const auto& w : b->watch_checks) {
    Db& db = shard_.db(w.db);
    if (db.WatchVersion(w.key) != w.version) clean = false;
    db.Unwatch(w.key);
  }
  ReplyBuilder reply(&b->reply, b->origin.resp);
  if (!clean) {
    reply.NullArray();
  } else {
    reply.ArrayHeader(b->commands.size());
    Db& db = shard_.db(b->origin.db_index);
    // The transaction's writes are recorded as one MULTI/EXEC.
    aof::Sink log;
    std::optional<aof::Capture> capture;
    if (aof::Active()) capture.emplace(&log);
    std::vector<std::string_view> args;
    for (const BatchMessage::Command& command : b->commands) {
      args.clear();
      for (uint32_t j = 0; j < command.argc; ++j) {
        auto [offset, len] = b->args[command.first_arg + j];
        args.emplace_back(b->arena.data() + offset, len);
      }
      uint64_t start = call_clock_.Start();
      const size_t reply_at = reply.buffer()->size();
      // block == nullptr: inside a transaction blocking commands reply as on timeout (Redis).
      ShardCommand cmd{args, shard_, db, b->origin.db_index, reply, config_};
      const uint64_t events = shard_.notifier().events_raised();
      aof::RunShardHandler(*command.spec, cmd);
      AfterCall(*command.spec, args, call_clock_.Stop(start), nullptr, b,
                NoteErrorReply(*reply.buffer(), reply_at));
      if (command.spec->flags & kCmdWrite) TouchKeys(*command.spec, db, args, events);
    }
    capture.reset();
    aof::AppendTransaction(log);
  }
  if (!shard_.ready_keys().empty()) ServeReadyKeys();
  b->is_reply = true;
  Send(b->origin.thread, b);
}

void Reactor::ExecTransaction() {
  Connection* c = current_conn_;
  std::shared_ptr<TransactionState> tx = c->state.tx;
  tx->in_multi = false;
  std::vector<TransactionState::Queued> queue = std::move(tx->queue);
  tx->queue.clear();
  if (tx->aborted) {
    tx->aborted = false;
    ReleaseWatches(c->state);
    std::string reason = std::move(tx->abort_reason);
    tx->abort_reason.clear();
    ReplyBuilder(&c->out, c->state.resp)
        .Error(reason.empty() ? "EXECABORT Transaction discarded because of previous errors."
                              : Cat("EXECABORT Transaction discarded because of: ", reason));
    return;
  }
  std::vector<TransactionState::Watched> watched = std::move(tx->watched);
  tx->watched.clear();

  // One shard for everything?
  int target = -1;
  bool single = true;
  std::vector<std::string_view> views;
  for (const auto& q : queue) {
    views.assign(q.args.begin(), q.args.end());
    if (q.spec->on_shard == nullptr ||
        (q.spec->prefer_client != nullptr && q.spec->prefer_client(views))) {
      single = false;  // e.g. a script that may reach other shards
      break;
    }
    CommandTable::KeyPositions(*q.spec, views, &key_positions_);
    int shard = index_;  // a keyless shard command runs on the client's own shard
    for (size_t i = 0; i < key_positions_.size(); ++i) {
      int s = ShardOfKey(views[key_positions_[i]], thread_count());
      if (i == 0) shard = s;
      if (s != shard) single = false;
    }
    if (target == -1) target = shard;
    if (shard != target) single = false;
  }
  for (const auto& w : watched) {
    if (target == -1) target = w.shard;
    if (w.shard != target) single = false;
  }
  if (target == -1) target = index_;

  if (single) {
    BatchMessage* b = NewBatch();
    b->origin = OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp};
    b->transaction = true;
    b->watch_checks = std::move(watched);
    for (const auto& q : queue) {
      views.assign(q.args.begin(), q.args.end());
      b->commands.push_back(BatchMessage::Command{q.spec, static_cast<uint32_t>(b->args.size()),
                                                  static_cast<uint32_t>(views.size()), true});
      for (std::string_view arg : views) {
        b->args.emplace_back(static_cast<uint32_t>(b->arena.size()),
                             static_cast<uint32_t>(arg.size()));
        b->arena.append(arg);
      }
    }
    c->waiting = true;
    c->inflight_shard = target;
    Send(target, b);
    return;
  }

  // Across shards: atomic under the intents of every key involved (coordination_reactor.cc).
  StartCrossShardExec(c, std::move(queue), std::move(watched));
}

}  // namespace shardis
