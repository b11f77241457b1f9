// Command dispatch on a reactor: parse a connection's input, route each command to where it runs
// (inline on this shard, batched to another shard, or a connection-level handler that may fan
// out), and deliver remote results back in order.
//
// Ordering rule: a connection has at most one remote operation in flight (`waiting`). Commands
// for one remote shard accumulate in one batch while they come in a row; any other command first
// sends the batch and waits for its reply, so a later command never runs before an earlier one
// has finished, and replies are appended to the output in request order.
#include <time.h>

#include "server/command_table.h"
#include "server/logging.h"
#include "server/reactor.h"
#include "server/server.h"

namespace shardis {
namespace {

constexpr int kCommandsPerTurn = 512;  // per connection, so one flood cannot starve the others

uint64_t MonoMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

// The FanOutRunner of one client operation (a handler call or a fan-out continuation).
class Reactor::Runner : public FanOutRunner {
 public:
  Runner(Reactor& reactor, const OpOrigin& origin) : reactor_(reactor), origin_(origin) {}

  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) override {
    started_ = true;
    reactor_.StartFanOut(origin_, std::move(shards), std::move(task), nullptr, std::move(done));
  }
  void RunOnThreads(std::function<void(ServerContext&)> task, FanOutDone done) {
    started_ = true;
    std::vector<int> all(reactor_.thread_count());
    for (int i = 0; i < reactor_.thread_count(); ++i) all[i] = i;
    reactor_.StartFanOut(origin_, std::move(all), nullptr, std::move(task), std::move(done));
  }
  int shard_count() const override { return reactor_.thread_count(); }
  bool started() const { return started_; }

 private:
  Reactor& reactor_;
  OpOrigin origin_;
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
  }
  if (c->batch != nullptr) SendBatch(c);
  return consumed;
}

bool Reactor::Dispatch(Connection* c, ArgList args) {
  const CommandTable& table = CommandTable::Get();
  const CommandSpec* spec = table.Find(args[0]);
  std::string error;
  if (spec == nullptr) {
    error = UnknownCommandError(args);
  } else if (!CommandTable::ArityOk(*spec, args.size())) {
    error = ArityError(spec->name);
  } else if (!c->state.authenticated && !(spec->flags & kCmdNoAuth)) {
    error = "NOAUTH Authentication required.";
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
    if (!single_shard && spec->on_client == nullptr) {
      error = "CROSSSLOT Keys in request don't hash to the same slot";
    }
  }
  if (!error.empty()) {
    if (c->batch != nullptr) {
      SendBatch(c);
      return false;
    }
    ReplyBuilder(&c->out, c->state.resp).Error(error);
    ++counters_.total_error_replies;
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
  c->state.last_command = spec->name;
  ++c->state.commands;
  ++counters_.commands_processed;
  if (spec->on_shard != nullptr && single_shard) {
    if (target < 0) target = index_;
    if (c->batch != nullptr) {
      if (c->batch_shard != target) {
        SendBatch(c);
        return false;
      }
      AppendToBatch(c, *spec, args);
      return true;
    }
    if (target == index_) {
      ExecuteLocal(c, *spec, args);
      return true;
    }
    c->batch = NewBatch();
    c->batch_shard = target;
    c->batch->origin = OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp};
    AppendToBatch(c, *spec, args);
    return true;
  }
  if (c->batch != nullptr) {
    SendBatch(c);
    return false;
  }
  RunClientHandler(c, *spec, args);
  return true;
}

void Reactor::RecordCall(const CommandSpec& spec, uint64_t usec) {
  CommandStat& stat = command_stats_[&spec - CommandTable::Get().specs().data()];
  ++stat.calls;
  stat.usec += usec;
}

void Reactor::ExecuteLocal(Connection* c, const CommandSpec& spec, ArgList args) {
  uint64_t start = MonoMicros();
  ReplyBuilder reply(&c->out, c->state.resp);
  ShardCommand cmd{args, shard_, shard_.db(c->state.db_index), c->state.db_index, reply, config_};
  spec.on_shard(cmd);
  RecordCall(spec, MonoMicros() - start);
  MarkDirty(c);
}

void Reactor::RunClientHandler(Connection* c, const CommandSpec& spec, ArgList args) {
  uint64_t start = MonoMicros();
  ReplyBuilder reply(&c->out, c->state.resp);
  Runner runner(*this, OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp});
  Runner* saved = current_runner_;
  current_runner_ = &runner;
  ClientCommand cmd(args, c->state, reply, this, runner);
  spec.on_client(cmd);
  current_runner_ = saved;
  if (runner.started()) c->waiting = true;
  RecordCall(spec, MonoMicros() - start);
  MarkDirty(c);
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

void Reactor::AppendToBatch(Connection* c, const CommandSpec& spec, ArgList args) {
  BatchMessage* b = c->batch;
  b->commands.push_back(BatchMessage::Command{&spec, static_cast<uint32_t>(b->args.size()),
                                              static_cast<uint32_t>(args.size())});
  for (std::string_view arg : args) {
    b->args.emplace_back(static_cast<uint32_t>(b->arena.size()), static_cast<uint32_t>(arg.size()));
    b->arena.append(arg);
  }
}

void Reactor::SendBatch(Connection* c) {
  BatchMessage* b = c->batch;
  c->batch = nullptr;
  c->waiting = true;
  Send(c->batch_shard, b);
  c->batch_shard = -1;
}

void Reactor::ExecuteBatch(BatchMessage* b) {
  UpdateClock();
  ++counters_.batches_executed;
  ReplyBuilder reply(&b->reply, b->origin.resp);
  Db& db = shard_.db(b->origin.db_index);
  for (const BatchMessage::Command& command : b->commands) {
    batch_args_.clear();
    for (uint32_t i = 0; i < command.argc; ++i) {
      auto [offset, len] = b->args[command.first_arg + i];
      batch_args_.emplace_back(b->arena.data() + offset, len);
    }
    uint64_t start = MonoMicros();
    ShardCommand cmd{batch_args_, shard_, db, b->origin.db_index, reply, config_};
    command.spec->on_shard(cmd);
    RecordCall(*command.spec, MonoMicros() - start);
  }
  b->is_reply = true;
  Send(b->origin.thread, b);
}

void Reactor::CompleteBatch(BatchMessage* b) {
  auto it = connections_by_id_.find(b->origin.conn_id);
  if (it != connections_by_id_.end()) {
    Connection* c = it->second;
    if (c->out.empty()) {
      c->out.swap(b->reply);
    } else {
      c->out.append(b->reply);
    }
    c->waiting = false;
    if (!c->pending_error.empty()) {
      ReplyBuilder(&c->out, c->state.resp).Error(c->pending_error);
      c->pending_error.clear();
      c->state.close_after_reply = true;
    }
    MarkDirty(c);
    ResumeConnection(c);
  }
  FreeBatch(b);
}

void Reactor::StartFanOut(const OpOrigin& origin, std::vector<int> shards, ShardTask shard_task,
                          std::function<void(ServerContext&)> thread_task, FanOutDone done) {
  auto* op = new FanOutOp;
  op->origin = origin;
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
  if (op->shard_task) {
    ShardAccess access{shard_, shard_.db(op->origin.db_index), op->origin.db_index, index_,
                       config_};
    op->shard_task(access);
  } else {
    op->thread_task(*this);
  }
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
  Runner runner(*this, op->origin);
  Runner* saved = current_runner_;
  current_runner_ = &runner;
  op->done(reply, runner);
  current_runner_ = saved;
  if (c == nullptr) return;
  MarkDirty(c);
  if (!runner.started()) {
    c->waiting = false;
    ResumeConnection(c);
  }
}

void Reactor::ForEachThread(std::function<void(ServerContext&)> task, FanOutDone done) {
  current_runner_->RunOnThreads(std::move(task), std::move(done));
}

bool Reactor::IsPaused(const CommandSpec& spec) const {
  if (shard_.now_ms() >= pause_until_ms_) return false;
  if (spec.name == "client") return false;  // so CLIENT UNPAUSE can get through
  return !pause_write_only_ || (spec.flags & kCmdWrite);
}

}  // namespace shardis
