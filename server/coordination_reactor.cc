// The reactor's side of cross-shard coordination (see coordination.h and docs/architecture.md,
// "Coordination"). Everything here runs on one reactor thread; threads meet only through
// IntentMessages and fan-out messages.
//
//  - As coordinator (the client's thread): an AtomicOp acquires its shards one at a time in
//    increasing shard index, runs the operation's body (ordinary fan-out phases), and releases
//    every shard when the last phase is done (FanOutOp::finish).
//  - As shard: the IntentTable grants registrations in FIFO order per key; ordinary commands
//    check it only when it is not idle, and wait (their batch parked) when a key of theirs is
//    taken; blocked clients (BLPOP...) of a taken key are served after the release.
//  - Cross-shard EXEC: acquires every key of its queue and its WATCHed keys (every shard whole
//    when a queued command has no keys but reads or writes data, e.g. FLUSHALL or DBSIZE), checks
//    the watched versions, then runs its commands one after the other.
#include <time.h>

#include <algorithm>
#include <cassert>
#include <memory>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/reactor.h"
#include "server/server.h"

namespace shardis {
void IntentMessage::Deliver(Reactor& reactor) { reactor.OnIntentMessage(this); }

// ---- Coordinator side ----

uint64_t Reactor::StartAtomic(AtomicScope scope, std::function<void(uint64_t)> on_held) {
  auto op = std::make_unique<AtomicOp>();
  op->id = next_atomic_id_++;
  op->exclusive = scope.exclusive;
  op->whole = scope.all_shards;
  op->on_held = std::move(on_held);
  if (scope.all_shards) {
    for (int s = 0; s < thread_count(); ++s) op->shards.push_back(s);
    op->keys.resize(op->shards.size());
  } else {
    std::vector<std::vector<std::string>> by_shard(thread_count());
    for (const AtomicScope::Key& k : scope.keys) {
      by_shard[ShardOfKey(k.key, thread_count())].push_back(IntentKey(k.db, k.key));
    }
    for (int s = 0; s < thread_count(); ++s) {
      if (by_shard[s].empty()) continue;
      op->shards.push_back(s);
      op->keys.push_back(std::move(by_shard[s]));
    }
  }
  uint64_t id = op->id;
  bool several = op->shards.size() > 1;
  atomic_ops_[id] = std::move(op);
  if (several) {
    // At least one shard answers by message, so on_held cannot run inside the caller.
    TryAll(id);
    return id;
  }
  // The first step goes through our own queue, so on_held never runs inside the caller (a
  // command handler), whatever the shards.
  auto* m = new IntentMessage;
  m->origin_thread = index_;
  m->op_id = id;
  m->is_reply = true;
  m->start = true;
  Send(index_, m);
  return id;
}

void Reactor::AcquireNext(uint64_t op_id) {
  AtomicOp* op = atomic_ops_.at(op_id).get();
  while (op->next < op->shards.size()) {
    int s = op->shards[op->next];
    if (s != index_) {
      auto* m = new IntentMessage;
      m->origin_thread = index_;
      m->op_id = op_id;
      m->exclusive = op->exclusive;
      m->whole = op->whole;
      m->keys = std::move(op->keys[op->next]);
      Send(s, m);
      return;  // OnIntentMessage (the reply) goes on
    }
    bool granted = false;
    uint64_t seq = intents_.Add(
        std::move(op->keys[op->next]), op->exclusive, op->whole,
        [this, op_id] {
          atomic_ops_.at(op_id)->next++;
          AcquireNext(op_id);
        },
        &granted);
    remote_intents_[{index_, op_id}] = seq;
    if (!granted) return;
    op->next++;
  }
  // Every shard is held. The op stays registered (for the release) without its callback.
  std::function<void(uint64_t)> on_held = std::move(op->on_held);
  op->on_held = nullptr;
  on_held(op_id);
}

// Optimistic acquisition: every shard at once, each granting only if it can right away. Such
// requests never wait, so they cannot take part in a deadlock; when one shard refuses, the op
// releases what it got and falls back to the ordered acquisition.
void Reactor::TryAll(uint64_t op_id) {
  AtomicOp* op = atomic_ops_.at(op_id).get();
  op->tries_pending = 1;  // held until every message is out, so TryDone runs once
  for (size_t i = 0; i < op->shards.size(); ++i) {
    int s = op->shards[i];
    if (s == index_) {
      bool now = op->whole ? intents_.idle() : intents_.CanRunNow(op->keys[i], op->exclusive);
      if (!now) {
        op->try_refused = true;
        continue;
      }
      bool granted = false;
      remote_intents_[{index_, op_id}] =
          intents_.Add(op->keys[i], op->exclusive, op->whole, nullptr, &granted);
      continue;
    }
    auto* m = new IntentMessage;
    m->origin_thread = index_;
    m->op_id = op_id;
    m->exclusive = op->exclusive;
    m->whole = op->whole;
    m->try_only = true;
    m->keys = op->keys[i];
    Send(s, m);
    op->tries_pending++;
  }
  if (--op->tries_pending == 0) TryDone(op_id);
}

void Reactor::TryDone(uint64_t op_id) {
  AtomicOp* op = atomic_ops_.at(op_id).get();
  if (!op->try_refused) {
    op->next = op->shards.size();
    AcquireNext(op_id);  // runs on_held
    return;
  }
  // Give back what was granted (ahead of the ordered registrations, in each mailbox), then
  // queue up shard by shard.
  ReleaseShards(*op);
  op->try_refused = false;
  op->next = 0;
  AcquireNext(op_id);
}

void Reactor::ReleaseShards(const AtomicOp& op) {
  // Remote shards first (the messages leave at the end of the turn, ahead of anything this
  // client sends next), then our own shard at once, so the client's next inline command does
  // not find its own intent.
  bool local = false;
  for (int s : op.shards) {
    if (s == index_) {
      local = true;
      continue;
    }
    auto* m = new IntentMessage;
    m->origin_thread = index_;
    m->op_id = op.id;
    m->release = true;
    Send(s, m);
  }
  if (local) ReleaseIntent(index_, op.id);
}

void Reactor::ReleaseAtomic(uint64_t op_id) {
  auto it = atomic_ops_.find(op_id);
  if (it == atomic_ops_.end()) return;
  std::unique_ptr<AtomicOp> op = std::move(it->second);
  atomic_ops_.erase(it);
  ReleaseShards(*op);
}

// ---- Shard side ----

void Reactor::OnIntentMessage(IntentMessage* m) {
  if (m->is_reply) {
    uint64_t op_id = m->op_id;
    bool start = m->start;
    bool try_only = m->try_only;
    bool granted = m->granted;
    delete m;
    AtomicOp* op = atomic_ops_.at(op_id).get();
    if (try_only) {
      if (!granted) op->try_refused = true;
      if (--op->tries_pending == 0) TryDone(op_id);
      return;
    }
    if (start) {
      if (op->shards.size() > 1) {
        TryAll(op_id);
        return;
      }
    } else {
      op->next++;
    }
    AcquireNext(op_id);
    return;
  }
  if (m->release) {
    ReleaseIntent(m->origin_thread, m->op_id);
    delete m;
    return;
  }
  if (m->try_only) {
    // Granted now, or refused without queuing: such a request never waits for anyone.
    m->granted = m->whole ? intents_.idle() : intents_.CanRunNow(m->keys, m->exclusive);
    if (m->granted) {
      bool granted = false;
      remote_intents_[{m->origin_thread, m->op_id}] =
          intents_.Add(std::move(m->keys), m->exclusive, m->whole, nullptr, &granted);
      assert(granted);
    }
    m->keys.clear();
    m->is_reply = true;
    Send(m->origin_thread, m);
    return;
  }
  bool granted = false;
  uint64_t seq = intents_.Add(
      std::move(m->keys), m->exclusive, m->whole,
      [this, m] {
        m->is_reply = true;
        Send(m->origin_thread, m);
      },
      &granted);
  remote_intents_[{m->origin_thread, m->op_id}] = seq;
  if (granted) {
    m->is_reply = true;
    Send(m->origin_thread, m);
  }
}

void Reactor::ReleaseIntent(int origin_thread, uint64_t op_id) {
  auto it = remote_intents_.find({origin_thread, op_id});
  if (it == remote_intents_.end()) return;
  uint64_t seq = it->second;
  remote_intents_.erase(it);
  intents_.Release(seq);
  AfterIntentRelease();
}

void Reactor::AfterIntentRelease() {
  if (deferred_ready_.empty()) return;
  for (auto& k : deferred_ready_) shard_.ready_keys().push_back(std::move(k));
  deferred_ready_.clear();
  ServeReadyKeys();
}

bool Reactor::MustWait(const CommandSpec& spec, ArgList args, int db_index,
                       std::vector<std::string>* keys, bool* exclusive) {
  CommandTable::KeyPositions(spec, args, &key_positions_);
  *exclusive = !(spec.flags & kCmdReadonly);
  keys->clear();
  if (key_positions_.empty()) return !intents_.CanRunKeylessNow();
  for (int pos : key_positions_) keys->push_back(IntentKey(db_index, args[pos]));
  return !intents_.CanRunNow(*keys, *exclusive);
}

bool Reactor::TransactionMustWait(BatchMessage* b, std::vector<std::string>* keys, bool* exclusive,
                                  bool* whole) {
  keys->clear();
  *exclusive = false;
  *whole = false;
  std::vector<std::string_view> args;
  for (const BatchMessage::Command& command : b->commands) {
    args.clear();
    for (uint32_t j = 0; j < command.argc; ++j) {
      auto [offset, len] = b->args[command.first_arg + j];
      args.emplace_back(b->arena.data() + offset, len);
    }
    CommandTable::KeyPositions(*command.spec, args, &key_positions_);
    if (!(command.spec->flags & kCmdReadonly)) *exclusive = true;
    if (key_positions_.empty() && (command.spec->flags & (kCmdWrite | kCmdReadonly))) {
      *whole = true;
    }
    for (int pos : key_positions_) keys->push_back(IntentKey(b->origin.db_index, args[pos]));
  }
  for (const auto& w : b->watch_checks) keys->push_back(IntentKey(w.db, w.key));
  if (*whole) return !intents_.idle();
  return !intents_.CanRunNow(*keys, *exclusive);
}

void Reactor::ParkForIntents(BatchMessage* b, size_t index, std::vector<std::string> keys,
                             bool exclusive, bool whole) {
  auto id = std::make_shared<uint64_t>(0);
  bool granted = false;
  auto run = [this, b, index, id] {
    // Admitted: nothing ahead of it conflicts any more. It runs now, so it need not stay.
    intents_.Release(*id);
    call_clock_.Break();  // admitted after other work
    if (b->transaction) {
      RunTransactionBatch(b, true);
    } else {
      RunBatchFrom(b, index, true);
    }
  };
  *id = intents_.Add(std::move(keys), exclusive, whole, run, &granted);
  if (granted) run();
}

// ---- Running operations under intents ----

void Reactor::RunAtomicCommand(Connection* c, const CommandSpec& spec, ArgList args) {
  AtomicScope scope;
  scope.exclusive = !(spec.flags & kCmdReadonly);
  if (IsKeylessDataCommand(spec)) {
    scope.all_shards = true;
  } else {
    for (int pos : key_positions_) {
      scope.keys.push_back({c->state.db_index, std::string(args[pos])});
    }
  }
  if (spec.widen_scope != nullptr) spec.widen_scope(args, &scope);
  auto argv = std::make_shared<std::vector<std::string>>(args.begin(), args.end());
  OpOrigin origin{index_, c->state.id, c->state.db_index, c->state.resp};
  c->waiting = true;
  c->inflight_shard = -1;
  StartAtomic(std::move(scope), [this, origin, argv, &spec](uint64_t op_id) {
    auto finish = [this, origin, op_id, argv, &spec] {
      // A command over several shards is logged whole, by this thread, before its intents go
      // (and so before any later write to its keys can be logged).
      if ((spec.flags & kCmdWrite) && aof::Active()) aof::Record(origin.db_index, *argv);
      // Client-side caching: its keys changed on their shards (told before the intents go).
      if ((spec.flags & kCmdWrite) && TrackingClientCount().load(std::memory_order_relaxed) > 0) {
        std::vector<std::string_view> views(argv->begin(), argv->end());
        InvalidateEverywhere(spec, views, ClientRef{origin.thread, origin.conn_id});
      }
      ReleaseAtomic(op_id);
      FinishOp(origin, nullptr);
    };
    FanOutDone body = [this, argv, &spec](ReplyBuilder& reply, FanOutRunner& runner) {
      std::vector<std::string_view> views(argv->begin(), argv->end());
      ClientState gone;  // the client left meanwhile: the command still runs, unanswered
      ClientState* state = current_conn_ != nullptr ? &current_conn_->state : &gone;
      call_clock_.Break();  // a phase of an atomic operation: other work came before it
      uint64_t start = call_clock_.Start();
      const size_t reply_at = reply.buffer()->size();
      ClientCommand cmd(views, *state, reply, this, runner);
      cmd.may_block_across_shards = state != &gone;
      spec.on_client(cmd);
      if (state != &gone && RunnerStarted()) {
        // Its reply comes with a later phase (a script across shards): counted once complete
        // (FinishOp), failed if its reply is an error, as a connection-side fan-out.
        current_conn_->pending_call =
            Connection::PendingCall{&spec, *argv, call_clock_.Stop(start), reply_at};
        call_clock_.Break();
        return;
      }
      AfterCall(spec, views, call_clock_.Stop(start), state, nullptr,
                NoteErrorReply(*reply.buffer(), reply_at));
    };
    if (!RunBody(origin, body, finish)) finish();
  });
}

void Reactor::RunQueuedOnShard(const CommandSpec& spec, ArgList args, int db_index,
                               RespVersion resp, std::string* out, bool retrying) {
  uint64_t start = call_clock_.Start();
  ReplyBuilder reply(out, resp);
  const size_t reply_at = out->size();
  Db& db = shard_.db(db_index);
  // block == nullptr: inside a transaction blocking commands reply as on timeout (Redis).
  ShardCommand cmd{args, shard_, db, db_index, reply, config_, nullptr, retrying};
  const uint64_t events = shard_.notifier().events_raised();
  aof::RunShardHandler(spec, cmd);
  AfterCall(spec, args, call_clock_.Stop(start), nullptr, nullptr, NoteErrorReply(*out, reply_at));
  if (spec.flags & kCmdWrite) TouchKeys(spec, db, args, events);
}

bool RunCommandOnShard(ShardAccess& a, ArgList args, RespVersion resp, std::string* out) {
  if (args.empty()) return false;
  const CommandSpec* spec = CommandTable::Get().Find(args[0]);
  if (spec == nullptr || spec->on_shard == nullptr || !CommandTable::ArityOk(*spec, args.size())) {
    return false;
  }
  std::vector<int> positions;
  CommandTable::KeyPositions(*spec, args, &positions);
  for (int pos : positions) {
    if (ShardOfKey(args[pos], a.shard_count) != a.shard_index) return false;
  }
  ReplyBuilder reply(out, resp);
  ShardCommand cmd{args, a.shard, a.db, a.db_index, reply, a.config};
  const uint64_t events = a.shard.notifier().events_raised();
  spec->on_shard(cmd);
  if ((spec->flags & kCmdWrite) && a.db.has_watches() &&
      a.shard.notifier().events_raised() != events) {  // (a no-op write touches nothing)
    for (int pos : positions) a.db.Touch(args[pos]);
  }
  return true;
}

// ---- Cross-shard EXEC ----

struct ExecRun {
  std::vector<TransactionState::Queued> queue;
  size_t next = 0;
  OpOrigin origin;
  uint64_t op_id = 0;
  aof::Sink log;  // the writes, recorded as one MULTI/EXEC at the end
};

void Reactor::StartCrossShardExec(Connection* c, std::vector<TransactionState::Queued> queue,
                                  std::vector<TransactionState::Watched> watched) {
  // The scope: every key of every queued command (following SELECTs), and the watched keys.
  AtomicScope scope;
  scope.exclusive = false;
  int db = c->state.db_index;
  std::vector<std::string_view> views;
  for (const auto& q : queue) {
    views.assign(q.args.begin(), q.args.end());
    if (!(q.spec->flags & kCmdReadonly)) scope.exclusive = true;
    if (q.spec->name == "select") {
      int64_t n = 0;
      if (cmd::ParseInt64(views[1], &n) && n >= 0 && n < config_.databases) {
        db = static_cast<int>(n);
      }
      continue;
    }
    CommandTable::KeyPositions(*q.spec, views, &key_positions_);
    if ((key_positions_.empty() && (q.spec->flags & (kCmdWrite | kCmdReadonly))) ||
        IsKeylessDataCommand(*q.spec) || q.spec->name == "move") {
      scope.all_shards = true;  // FLUSHALL, DBSIZE, KEYS, SWAPDB, MOVE...: every shard whole
    }
    for (int pos : key_positions_) scope.keys.push_back({db, std::string(views[pos])});
    if (q.spec->widen_scope != nullptr) q.spec->widen_scope(views, &scope);
  }
  for (const auto& w : watched) scope.keys.push_back({w.db, w.key});

  auto run = std::make_shared<ExecRun>();
  run->queue = std::move(queue);
  run->origin = OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp};
  c->waiting = true;
  c->inflight_shard = -1;
  auto checks = std::make_shared<std::vector<TransactionState::Watched>>(std::move(watched));
  StartAtomic(std::move(scope), [this, run, checks](uint64_t op_id) {
    run->op_id = op_id;
    // Held: check (and drop) the watches, then run the queue.
    std::vector<int> shards;
    for (const auto& w : *checks) {
      if (std::find(shards.begin(), shards.end(), w.shard) == shards.end()) {
        shards.push_back(w.shard);
      }
    }
    auto dirty = std::make_shared<std::vector<char>>(thread_count(), 0);
    FanOutDone body = [this, run, checks, dirty, shards](ReplyBuilder&, FanOutRunner& runner) {
      runner.RunOnShards(
          shards,
          [checks, dirty](ShardAccess& a) {
            for (const auto& w : *checks) {
              if (w.shard != a.shard_index) continue;
              Db& db = a.shard.db(w.db);
              if (db.WatchVersion(w.key) != w.version) (*dirty)[a.shard_index] = 1;
              db.Unwatch(w.key);
            }
          },
          [this, run, dirty](ReplyBuilder& reply, FanOutRunner&) {
            if (std::find(dirty->begin(), dirty->end(), 1) != dirty->end()) {
              reply.NullArray();
              run->next = run->queue.size();  // nothing runs
              return;
            }
            reply.ArrayHeader(run->queue.size());
          });
    };
    if (!RunBody(run->origin, body, [this, run] { ExecContinue(run); })) ExecContinue(run);
  });
}

void Reactor::ExecContinue(const std::shared_ptr<ExecRun>& run) {
  while (run->next < run->queue.size()) {
    const TransactionState::Queued& q = run->queue[run->next++];
    auto it = connections_by_id_.find(run->origin.conn_id);
    Connection* c = it == connections_by_id_.end() ? nullptr : it->second;
    if (c != nullptr) RecordPendingCall(c);  // the previous command's, if its reply came later
    // SELECT inside the transaction changes the database of the commands after it.
    OpOrigin origin = run->origin;
    if (c != nullptr) origin.db_index = c->state.db_index;
    const CommandSpec* spec = q.spec;
    const std::vector<std::string>* argv = &q.args;
    std::vector<std::string_view> views(argv->begin(), argv->end());
    int target = -1;
    bool single = spec->on_shard != nullptr &&
                  !(spec->prefer_client != nullptr && spec->prefer_client(views));
    if (single) {
      CommandTable::KeyPositions(*spec, views, &key_positions_);
      for (int pos : key_positions_) {
        int s = ShardOfKey(views[pos], thread_count());
        if (target < 0) target = s;
        if (s != target) single = false;
      }
      if (target < 0) target = index_;
    }
    ++counters_.commands_processed;
    if (c != nullptr) {
      c->state.last_command = spec->name;
      ++c->state.commands;
    }
    FanOutDone body;
    if (!single && spec->on_client == nullptr) {
      // A blocking pop over keys of several shards: never blocks here (Redis's rule inside
      // MULTI), the first key that has something answers.
      body = [this, spec, views, origin](ReplyBuilder& reply, FanOutRunner& runner) {
        auto op = MakeCrossBlock(*spec, views, origin);
        if (!op->error.empty()) {
          reply.Error(op->error);
          return;
        }
        CrossBlockPhase(op, 0, runner, nullptr, true, false);
      };
    } else if (single) {
      body = [this, spec, argv, target, origin, run](ReplyBuilder&, FanOutRunner& runner) {
        auto out = std::make_shared<std::string>();
        auto log = std::make_shared<aof::Sink>();
        runner.RunOnShards(
            {target},
            [this, spec, argv, origin, out, log](ShardAccess& a) {
              std::vector<std::string_view> args(argv->begin(), argv->end());
              aof::Capture capture(log.get());
              server_.reactor(a.shard_index)
                  .RunQueuedOnShard(*spec, args, origin.db_index, origin.resp, out.get());
            },
            [out, log, run](ReplyBuilder& reply, FanOutRunner&) {
              reply.Raw(*out);
              aof::Capture capture(&run->log);
              aof::AppendTransaction(*log);
            });
      };
    } else {
      body = [this, spec, argv, origin, run](ReplyBuilder& reply, FanOutRunner& runner) {
        std::vector<std::string_view> args(argv->begin(), argv->end());
        if ((spec->flags & kCmdWrite) && aof::Active()) {
          aof::Capture capture(&run->log);
          aof::Record(origin.db_index, args);
        }
        ClientState gone;
        ClientState* state = current_conn_ != nullptr ? &current_conn_->state : &gone;
        call_clock_.Break();
        uint64_t start = call_clock_.Start();
        const size_t reply_at = reply.buffer()->size();
        ClientCommand cmd(args, *state, reply, this, runner);
        spec->on_client(cmd);
        if (state != &gone && RunnerStarted()) {
          // Its reply comes with a later phase (e.g. EVAL): counted once it is there (by the
          // next ExecContinue, or FinishOp after the last), as RunAtomicCommand does.
          current_conn_->pending_call =
              Connection::PendingCall{spec, *argv, call_clock_.Stop(start), reply_at};
          call_clock_.Break();
          return;
        }
        AfterCall(*spec, args, call_clock_.Stop(start), state, nullptr,
                  NoteErrorReply(*reply.buffer(), reply_at));
      };
    }
    if (RunBody(origin, body, [this, run] { ExecContinue(run); })) return;
  }
  aof::AppendTransaction(run->log);
  ReleaseAtomic(run->op_id);
  FinishOp(run->origin, nullptr);
}

}  // namespace shardis
