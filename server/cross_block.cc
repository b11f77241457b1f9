// Cross-shard blocking pops: BLPOP, BRPOP, BZPOPMIN, BZPOPMAX, BLMPOP, BZMPOP whose keys live on
// several shards, BLMOVE / BRPOPLPUSH between two shards (MovePhase), and XREAD / XREADGROUP
// BLOCK over streams of several shards once their first read found nothing (BlockAcrossShards).
// Runs on the client's thread (the coordinator) and on the keys' shards.
//
// A try is an atomic operation (coordination.h) over every key: holding their intents, it runs
// the command on one key at a time, in argument order, as a non-blocking pop on that key's shard
// (the same shard handler with one key); the first key that answers something other than the
// timeout reply gives the reply (so at most one element is taken, from the first non-empty key,
// as Redis), and a try that finds nothing registers a one-shot "ready" watch for the keys on
// their shards before the intents go. No write to the keys can slip between the check and the
// registration, so no wake-up is lost. When a watched key becomes ready, its shard notifies the
// coordinator, which tries again (the first shard that can serve wins; a client that was faster
// leaves it empty and the watch is renewed). The deadline is kept by the coordinator.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <memory>

#include "server/command_table.h"
#include "server/reactor.h"
#include "server/server.h"

namespace shardis {

void CrossBlockMessage::Deliver(Reactor& reactor) { reactor.OnCrossBlockMessage(this); }

bool IsCrossShardBlockable(const CommandSpec& spec) {
  static constexpr std::string_view kNames[] = {"blpop",  "brpop",  "bzpopmin", "bzpopmax",
                                                "blmpop", "bzmpop", "blmove",   "brpoplpush"};
  for (std::string_view name : kNames) {
    if (spec.name == name) return true;
  }
  return false;
}

namespace {

bool IsTimeoutReply(const std::string& out) {
  return out == "*-1\r\n" || out == "_\r\n" || out == "$-1\r\n";
}

std::string NullReply(const CrossBlock& op) {
  if (op.origin.resp == RespVersion::kResp3) return "_\r\n";
  return op.move ? "$-1\r\n" : "*-1\r\n";
}

// The bytes of a RESP bulk string reply ("$3\r\nabc\r\n" -> "abc"); false if it is none.
bool BulkPayload(const std::string& reply, std::string* out) {
  if (reply.size() < 4 || reply[0] != '$') return false;
  size_t crlf = reply.find("\r\n");
  if (crlf == std::string::npos) return false;
  int64_t len = 0;
  if (!cmd::ParseInt64(std::string_view(reply).substr(1, crlf - 1), &len) || len < 0) return false;
  if (reply.size() < crlf + 2 + static_cast<size_t>(len)) return false;
  *out = reply.substr(crlf + 2, len);
  return true;
}

// Redis's timeout checks for BLMOVE/BRPOPLPUSH, done on the coordinator (error text or "").
std::string_view TimeoutError(std::string_view arg) {
  long double seconds = 0;
  if (!cmd::ParseLongDouble(arg, &seconds)) return "ERR timeout is not a float or out of range";
  long double ms = seconds * 1000.0L;
  if (std::isnan(ms) || ms < 0 || ms <= -0x1p63L || ms >= 0x1p63L) {
    return "ERR timeout is negative";
  }
  return "";
}

// The one-key form of a blocking pop (args[0] the name; positions of the keys given).
std::vector<std::string> OneKeyArgs(ArgList args, const std::vector<int>& positions, int which) {
  std::string_view name = args[0];
  if (cmd::EqualsIgnoreCase(name, "blmpop") || cmd::EqualsIgnoreCase(name, "bzmpop")) {
    // NAME timeout numkeys key... rest  ->  NAME timeout 1 key rest
    std::vector<std::string> out = {std::string(name), std::string(args[1]), "1",
                                    std::string(args[positions[which]])};
    for (size_t i = positions.back() + 1; i < args.size(); ++i) out.emplace_back(args[i]);
    return out;
  }
  // NAME key... timeout  ->  NAME key timeout
  return {std::string(name), std::string(args[positions[which]]), std::string(args.back())};
}

// Redis's timeout rules (the first try already replied the errors): absolute ms, 0 = forever.
int64_t DeadlineOf(ArgList args, int64_t now) {
  bool mpop = cmd::EqualsIgnoreCase(args[0], "blmpop") || cmd::EqualsIgnoreCase(args[0], "bzmpop");
  int64_t deadline = 0;
  cmd::ParseBlockTimeout(mpop ? args[1] : args.back(), now, &deadline);  // BLMOVE: the last
  return deadline;
}

}  // namespace

std::shared_ptr<CrossBlock> MakeCrossBlock(const CommandSpec& spec, ArgList args,
                                           const OpOrigin& origin) {
  auto op = std::make_shared<CrossBlock>();
  op->origin = origin;
  op->spec = &spec;
  if (spec.name == "blmove" || spec.name == "brpoplpush") {
    op->move = true;
    op->keys = {std::string(args[1]), std::string(args[2])};
    bool ok = true;
    if (spec.name == "blmove") {
      auto dir = [&ok](std::string_view a) {
        if (cmd::EqualsIgnoreCase(a, "left")) return true;
        if (!cmd::EqualsIgnoreCase(a, "right")) ok = false;
        return false;
      };
      op->from_front = dir(args[3]);
      op->to_front = dir(args[4]);
    } else {
      op->from_front = false;
      op->to_front = true;
    }
    if (!ok) {
      op->error = std::string(cmd::kSyntaxErr);
    } else if (std::string_view e = TimeoutError(args.back()); !e.empty()) {
      op->error = std::string(e);
    }
    return op;
  }
  std::vector<int> positions;
  CommandTable::KeyPositions(spec, args, &positions);
  for (size_t i = 0; i < positions.size(); ++i) {
    op->keys.emplace_back(args[positions[i]]);
    op->try_args.push_back(OneKeyArgs(args, positions, static_cast<int>(i)));
  }
  return op;
}

void Reactor::StartCrossShardBlock(Connection* c, const CommandSpec& spec, ArgList args) {
  auto op =
      MakeCrossBlock(spec, args, OpOrigin{index_, c->state.id, c->state.db_index, c->state.resp});
  op->id = next_atomic_id_++;
  if (!op->error.empty()) {
    ReplyBuilder(&c->out, c->state.resp).Error(op->error);
    MarkDirty(c);
    return;
  }
  // The deadline counts from now, as Redis's.
  int64_t deadline = DeadlineOf(args, shard_.now_ms());
  op->deadline_ms = deadline;
  cross_blocks_[op->id] = op;
  cross_block_by_conn_[c->state.id] = op->id;
  c->waiting = true;
  c->state.blocked = true;
  c->inflight_shard = -1;
  CrossBlockTry(op);
}

void Reactor::BlockAcrossShards(uint64_t conn_id, std::vector<std::string> keys,
                                std::vector<std::vector<std::string>> try_args,
                                int64_t timeout_ms) {
  auto it = connections_by_id_.find(conn_id);
  if (it == connections_by_id_.end() || try_args.empty()) return;
  const ClientState& state = it->second->state;
  auto op = std::make_shared<CrossBlock>();
  op->origin = OpOrigin{index_, conn_id, state.db_index, state.resp};
  op->spec = CommandTable::Get().Find(try_args[0][0]);
  assert(op->spec != nullptr && op->spec->on_shard != nullptr);
  op->keys = std::move(keys);
  op->try_args = std::move(try_args);
  // BLOCK 0: forever; a deadline past int64 also never comes (as Redis).
  int64_t now = shard_.now_ms();
  op->deadline_ms = timeout_ms > 0 && timeout_ms <= INT64_MAX - now ? now + timeout_ms : 0;
  op->retrying = true;  // every try serves as a wake-up does: the first key with something
  deferred_cross_blocks_[conn_id] = std::move(op);
}

void Reactor::StartDeferredCrossBlock(Connection* c, std::shared_ptr<CrossBlock> op) {
  op->id = next_atomic_id_++;
  cross_blocks_[op->id] = op;
  cross_block_by_conn_[c->state.id] = op->id;
  c->waiting = true;
  c->state.blocked = true;
  c->inflight_shard = -1;
  MarkDirty(c);  // anything the operation wrote before (nothing, for XREAD) goes out
  CrossBlockTry(op);
}

void Reactor::CrossBlockPhase(const std::shared_ptr<CrossBlock>& op, size_t i, FanOutRunner& runner,
                              const std::shared_ptr<std::string>& result, bool in_exec,
                              bool retrying) {
  int n = thread_count();
  // A client that left takes nothing (its try ends; its reply would go nowhere).
  if (!in_exec && !connections_by_id_.contains(op->origin.conn_id)) return;
  if (op->move && i < op->keys.size()) {
    MovePhase(op, runner, result, in_exec, retrying);
    return;
  }
  if (i == op->keys.size()) {
    if (in_exec) return;  // inside EXEC: nothing to wait for
    // Nothing anywhere: watch the keys before the intents go.
    auto keys = std::make_shared<std::vector<std::string>>(op->keys);
    if (op->move) keys->resize(1);  // BLMOVE waits on its source only
    std::vector<int> shards;
    for (const std::string& k : *keys) {
      int s = ShardOfKey(k, n);
      if (std::find(shards.begin(), shards.end(), s) == shards.end()) shards.push_back(s);
    }
    int origin_thread = index_;
    uint64_t id = op->id;
    int db = op->origin.db_index;
    runner.RunOnShards(
        std::move(shards),
        [this, origin_thread, id, db, keys, n](ShardAccess& a) {
          std::vector<std::string> mine;
          for (const std::string& k : *keys) {
            if (ShardOfKey(k, n) == a.shard_index) mine.push_back(k);
          }
          server_.reactor(a.shard_index).WatchForCrossBlock(origin_thread, id, db, mine);
        },
        [](ReplyBuilder&, FanOutRunner&) {});
    return;
  }
  int shard = ShardOfKey(op->keys[i], n);
  auto out = std::make_shared<std::string>();
  OpOrigin origin = op->origin;
  runner.RunOnShards(
      {shard},
      [this, op, i, out, origin, retrying](ShardAccess& a) {
        std::vector<std::string_view> args(op->try_args[i].begin(), op->try_args[i].end());
        server_.reactor(a.shard_index)
            .RunQueuedOnShard(*op->spec, args, origin.db_index, origin.resp, out.get(), retrying);
      },
      [this, op, i, out, result, in_exec, retrying](ReplyBuilder& reply, FanOutRunner& next) {
        if (!IsTimeoutReply(*out)) {
          if (in_exec) {
            reply.Raw(*out);
          } else {
            *result = std::move(*out);
          }
          return;
        }
        if (in_exec && i + 1 == op->keys.size()) {
          reply.Raw(*out);  // the timeout reply
          return;
        }
        CrossBlockPhase(op, i + 1, next, result, in_exec, retrying);
      });
}

void Reactor::CrossBlockTry(const std::shared_ptr<CrossBlock>& op) {
  op->trying = true;
  AtomicScope scope;
  for (const std::string& k : op->keys) scope.keys.push_back({op->origin.db_index, k});
  StartAtomic(std::move(scope), [this, op](uint64_t atomic_id) {
    auto result = std::make_shared<std::string>();
    bool retrying = op->retrying;
    FanOutDone body = [this, op, result, retrying](ReplyBuilder&, FanOutRunner& runner) {
      CrossBlockPhase(op, 0, runner, result, false, retrying);
    };
    auto finish = [this, op, result, atomic_id] {
      ReleaseAtomic(atomic_id);
      op->trying = false;
      op->retrying = true;
      auto it = connections_by_id_.find(op->origin.conn_id);
      Connection* c = it == connections_by_id_.end() ? nullptr : it->second;
      if (!result->empty() || c == nullptr) {
        EndCrossBlock(op->id, *result);
        return;
      }
      if (!op->unblocked.empty()) {  // CLIENT UNBLOCK came during the try
        EndCrossBlock(op->id, op->unblocked);
        return;
      }
      if (op->deadline_ms > 0 && shard_.now_ms() >= op->deadline_ms) {
        EndCrossBlock(op->id, NullReply(*op));
        return;
      }
      if (op->deadline_ms > 0) cross_block_deadlines_.emplace(op->deadline_ms, op->id);
    };
    if (!RunBody(op->origin, body, finish)) finish();
  });
}

// BLMOVE / BRPOPLPUSH between shards, under the intents of src and dst: peek at the source
// (nothing: wait on it; wrong type: the error), check the destination's type, then pop and push.
// Redis checks in the same order, so an empty source with a wrong-type destination waits.
void Reactor::MovePhase(const std::shared_ptr<CrossBlock>& op, FanOutRunner& runner,
                        const std::shared_ptr<std::string>& result, bool in_exec, bool retrying) {
  int n = thread_count();
  int src_shard = ShardOfKey(op->keys[0], n);
  int dst_shard = ShardOfKey(op->keys[1], n);
  OpOrigin origin = op->origin;
  // Runs one command (built by `make`) on `shard`, then `then(reply bytes, runner)`.
  using Then = std::function<void(const std::string&, ReplyBuilder&, FanOutRunner&)>;
  auto step = [this, origin](FanOutRunner& r, int shard, std::vector<std::string> argv, Then then) {
    auto out = std::make_shared<std::string>();
    auto args = std::make_shared<std::vector<std::string>>(std::move(argv));
    r.RunOnShards(
        {shard},
        [this, out, args, origin](ShardAccess& a) {
          const CommandSpec* spec = CommandTable::Get().Find((*args)[0]);
          std::vector<std::string_view> views(args->begin(), args->end());
          server_.reactor(a.shard_index)
              .RunQueuedOnShard(*spec, views, origin.db_index, origin.resp, out.get());
        },
        [out, then](ReplyBuilder& reply, FanOutRunner& next) { then(*out, reply, next); });
  };
  auto finish_with = [result, in_exec](const std::string& bytes, ReplyBuilder& reply) {
    if (in_exec) {
      reply.Raw(bytes);
    } else {
      *result = bytes;
    }
  };
  std::string src = op->keys[0];
  std::string dst = op->keys[1];
  bool from_front = op->from_front;
  bool to_front = op->to_front;
  step(runner, src_shard, {"lindex", src, from_front ? "0" : "-1"},
       [=, this](const std::string& peek, ReplyBuilder& reply, FanOutRunner& r2) {
         std::string elem;
         if (!BulkPayload(peek, &elem)) {
           bool wrong_type = !peek.empty() && peek[0] == '-';
           if (wrong_type && !retrying) {
             finish_with(peek, reply);
           } else if (in_exec) {
             reply.Raw(NullReply(*op));
           } else {
             CrossBlockPhase(op, op->keys.size(), r2, result, false, retrying);  // wait
           }
           return;
         }
         step(r2, dst_shard, {"type", dst},
              [=, this](const std::string& type, ReplyBuilder& reply3, FanOutRunner& r3) {
                if (type != "+none\r\n" && type != "+list\r\n") {
                  finish_with(std::string("-") + std::string(cmd::kWrongTypeErr) + "\r\n", reply3);
                  return;
                }
                step(r3, src_shard, {from_front ? "lpop" : "rpop", src},
                     [=, this](const std::string& popped, ReplyBuilder&, FanOutRunner& r4) {
                       step(r4, dst_shard, {to_front ? "lpush" : "rpush", dst, elem},
                            [=](const std::string&, ReplyBuilder& reply5, FanOutRunner&) {
                              finish_with(popped, reply5);
                            });
                     });
              });
       });
}

void Reactor::EndCrossBlock(uint64_t id, const std::string& reply) {
  auto it = cross_blocks_.find(id);
  if (it == cross_blocks_.end()) return;
  std::shared_ptr<CrossBlock> op = it->second;
  cross_blocks_.erase(it);
  cross_block_by_conn_.erase(op->origin.conn_id);
  if (op->deadline_ms > 0) cross_block_deadlines_.erase({op->deadline_ms, op->id});
  // Drop the watches left on every shard of the keys.
  std::vector<int> shards;
  for (const std::string& k : op->keys) {
    int s = ShardOfKey(k, thread_count());
    if (std::find(shards.begin(), shards.end(), s) == shards.end()) shards.push_back(s);
  }
  for (int s : shards) {
    auto* m = new CrossBlockMessage;
    m->origin_thread = index_;
    m->op_id = id;
    m->cancel = true;
    Send(s, m);
  }
  auto cit = connections_by_id_.find(op->origin.conn_id);
  if (cit == connections_by_id_.end()) return;
  Connection* c = cit->second;
  c->out.append(reply);
  c->waiting = false;
  c->state.blocked = false;
  EndSilentOp(c);
  MarkDirty(c);
  ResumeConnection(c);
}

void Reactor::ExpireCrossBlocks() {
  int64_t now = shard_.now_ms();
  while (!cross_block_deadlines_.empty() && cross_block_deadlines_.begin()->first <= now) {
    uint64_t id = cross_block_deadlines_.begin()->second;
    cross_block_deadlines_.erase(cross_block_deadlines_.begin());
    auto it = cross_blocks_.find(id);
    if (it == cross_blocks_.end() || it->second->trying) continue;  // a try ends it itself
    EndCrossBlock(id, NullReply(*it->second));
  }
}

void Reactor::CancelCrossBlock(uint64_t conn_id) {
  auto it = cross_block_by_conn_.find(conn_id);
  if (it == cross_block_by_conn_.end()) return;
  auto op = cross_blocks_.find(it->second);
  if (op != cross_blocks_.end() && op->second->trying) return;  // the try's finish ends it
  EndCrossBlock(it->second, "");
}

// CLIENT UNBLOCK of a client waiting here: its timeout reply or the UNBLOCKED error. During a
// try, the try ends it that way unless it takes something (then the client was served).
bool Reactor::UnblockCrossBlock(uint64_t conn_id, bool error) {
  auto it = cross_block_by_conn_.find(conn_id);
  if (it == cross_block_by_conn_.end()) return false;
  auto op = cross_blocks_.find(it->second);
  if (op == cross_blocks_.end()) return false;
  std::string reply = error ? Cat("-", kUnblockedError, "\r\n") : NullReply(*op->second);
  if (op->second->trying) {
    op->second->unblocked = std::move(reply);
    return true;
  }
  EndCrossBlock(op->first, reply);
  return true;
}

// ---- Shard side ----

void Reactor::WatchForCrossBlock(int origin_thread, uint64_t id, int db,
                                 const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    auto& list = cross_block_watches_[IntentKey(db, k)];
    if (std::find(list.begin(), list.end(), std::make_pair(origin_thread, id)) != list.end()) {
      continue;
    }
    list.emplace_back(origin_thread, id);
    shard_.db(db).WatchKey(k);
  }
}

void Reactor::NotifyCrossBlocks(int db, const std::string& key) {
  auto it = cross_block_watches_.find(IntentKey(db, key));
  if (it == cross_block_watches_.end()) return;
  std::vector<std::pair<int, uint64_t>> watchers = std::move(it->second);
  cross_block_watches_.erase(it);
  for (const auto& [thread, id] : watchers) {
    shard_.db(db).UnwatchKey(key);
    auto* m = new CrossBlockMessage;
    m->origin_thread = thread;
    m->op_id = id;
    Send(thread, m);
  }
}

void Reactor::OnCrossBlockMessage(CrossBlockMessage* m) {
  if (m->cancel) {
    // Drop every watch of that operation on this shard.
    for (auto it = cross_block_watches_.begin(); it != cross_block_watches_.end();) {
      auto& list = it->second;
      auto pos = std::find(list.begin(), list.end(), std::make_pair(m->origin_thread, m->op_id));
      if (pos != list.end()) {
        list.erase(pos);
        // The encoded key is "db:key".
        size_t colon = it->first.find(':');
        int db = std::stoi(it->first.substr(0, colon));
        shard_.db(db).UnwatchKey(it->first.substr(colon + 1));
      }
      if (list.empty()) {
        cross_block_watches_.erase(it++);
      } else {
        ++it;
      }
    }
    delete m;
    return;
  }
  // A watched key became ready: try again (unless a try is running, which sees it anyway).
  uint64_t id = m->op_id;
  delete m;
  auto it = cross_blocks_.find(id);
  if (it == cross_blocks_.end() || it->second->trying) return;
  std::shared_ptr<CrossBlock> op = it->second;
  if (op->deadline_ms > 0) cross_block_deadlines_.erase({op->deadline_ms, op->id});
  CrossBlockTry(op);
}

}  // namespace shardis
