#include "server/scripting/script_run.h"

#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "server/acl.h"
#include "server/aof.h"
#include "server/call_clock.h"
#include "server/call_stats.h"
#include "server/client_state.h"
#include "server/command_table.h"
#include "server/coordination.h"
#include "server/scripting/call_target.h"
#include "server/scripting/lua_engine.h"
#include "server/server_context.h"

namespace shardis::scripting {
namespace {

// A call the script made that must run elsewhere.
struct DeferredCall {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> args;
  int shard = -1;  // the shard whose on_shard handler runs it; -1: the connection-side handler
  int db = 0;
  RespVersion resp = RespVersion::kResp2;
};

// The ScriptCallTarget of a script running across shards: runs what it can on this thread's
// shard, defers the rest, and notes whether the script touched keys it did not declare.
class DeferringTarget : public ScriptCallTarget {
 public:
  DeferringTarget(ShardData& own, int db, const Config& config, int own_index, int shard_count)
      : local_(own, db, config, own_index, shard_count),
        base_db_(db),
        own_index_(own_index),
        shard_count_(shard_count) {}

  void Declare(ArgList keys) {
    for (std::string_view k : keys) declared_.insert(IntentKey(base_db_, k));
  }

  CallStatus Call(const CommandSpec& spec, ArgList args, ReplyBuilder& reply,
                  std::string* error) override {
    if (spec.name == "select") return local_.Call(spec, args, reply, error);
    int db = local_.db_index();
    CommandTable::KeyPositions(spec, args, &positions_);
    int target = -1;
    bool several = false;
    for (int pos : positions_) {
      if (!declared_.contains(IntentKey(db, args[pos]))) undeclared_ = true;
      int s = ShardOfKey(args[pos], shard_count_);
      if (target >= 0 && s != target) several = true;
      if (target < 0) target = s;
    }
    if (IsKeylessDataCommand(spec)) undeclared_ = true;
    int shard = -1;
    if (!several && (target < 0 || target == own_index_)) {
      CallStatus status = local_.Call(spec, args, reply, error);
      if (status != CallStatus::kFailed || *error != kNonLocalKeyError) return status;
      error->clear();  // a keyless connection-side command over every shard: its handler runs it
    } else if (!several && spec.on_shard != nullptr) {
      shard = target;
    } else if (spec.on_client == nullptr) {
      *error = kNonLocalKeyError;  // e.g. a blocking pop over keys of several shards
      return CallStatus::kFailed;
    }
    if (shard < 0 && !ClientHandlerAllowed(spec)) {
      *error = kNotAllowedFromScript;
      return CallStatus::kFailed;
    }
    pending_.spec = &spec;
    pending_.args.assign(args.begin(), args.end());
    pending_.shard = shard;
    pending_.db = db;
    pending_.resp = reply.version();
    return CallStatus::kDeferred;
  }

  const DeferredCall& pending() const { return pending_; }
  bool undeclared() const { return undeclared_; }

 private:
  LocalShardTarget local_;
  int base_db_;
  int own_index_;
  int shard_count_;
  absl::flat_hash_set<std::string> declared_;
  bool undeclared_ = false;
  DeferredCall pending_;
  std::vector<int> positions_;
};

// One script run in progress; shared by the phases' callbacks.
struct Drive {
  Drive(CrossShardScript s, ShardData& own, const Config& config, int own_index, int count)
      : in(std::move(s)), target(own, in.db_index, config, own_index, count) {}

  CrossShardScript in;
  std::vector<std::string_view> views;  // of in.argv
  ScriptRun run;
  DeferringTarget target;
  std::unique_ptr<AsyncScript> script;
  std::string call_reply;  // the deferred call's reply, built by its phase(s)
  uint64_t call_usec = 0;  // the time a connection-side deferred call's handler ran here
  ClientState client;      // for connection-side handlers run on the script's behalf
  aof::Sink log;           // the script's writes, appended to the AOF as one MULTI/EXEC
  aof::Sink task_log;      // the writes of a deferred call's shard task
};

// The script is over: its writes go to the AOF as one transaction, before the intents go.
void Finish(Drive& d) {
  LuaEngine::ThisThread().NoteKeyUse(
      ScriptKeyUseId(d.in.is_function, d.in.is_function ? d.in.argv[1] : d.in.sha),
      d.target.undeclared());
  aof::AppendTransaction(d.log);
}

void Step(const std::shared_ptr<Drive>& d, ReplyBuilder& reply, FanOutRunner& runner);

// Resumes the script with the deferred call's reply; true when it finished (reply written).
bool ResumeScript(const std::shared_ptr<Drive>& d, ReplyBuilder& reply) {
  bool finished;
  {
    aof::Capture capture(&d->log);
    aof::AppendTransaction(d->task_log);  // the deferred call's write, if any
    d->task_log = aof::Sink();
    finished = LuaEngine::ThisThread().Resume(*d->script, d->call_reply, reply);
  }
  if (finished) Finish(*d);
  return finished;
}

// A connection-side deferred call completed: counted on this thread (the script's).
void RecordDeferredCall(const Drive& d) {
  const DeferredCall& call = d.target.pending();
  std::vector<std::string_view> args(call.args.begin(), call.args.end());
  RecordScriptCallStats(*call.spec, args, d.call_usec, d.call_reply, 0);
}

// The runner a connection-side handler gets when it runs for the script: its phases join the
// atomic operation, their replies go to the script, and once the last is done the script
// resumes.
class CapturingRunner : public FanOutRunner {
 public:
  CapturingRunner(std::shared_ptr<Drive> d, FanOutRunner& outer)
      : d_(std::move(d)), outer_(outer) {}

  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) override {
    started_ = true;
    // The tasks see the script's database (SELECT inside the script), not the client's.
    int db = d_->target.pending().db;
    ShardTask in_db = [db, task = std::move(task)](ShardAccess& a) {
      ShardAccess access{a.shard, a.shard.db(db), db, a.shard_index, a.config, a.shard_count};
      task(access);
    };
    outer_.RunOnShards(std::move(shards), std::move(in_db),
                       [d = d_, done = std::move(done)](ReplyBuilder& reply, FanOutRunner& runner) {
                         CapturingRunner capture(d, runner);
                         ReplyBuilder out(&d->call_reply, d->target.pending().resp);
                         done(out, capture);
                         if (capture.started()) return;
                         RecordDeferredCall(*d);
                         if (!ResumeScript(d, reply)) Step(d, reply, runner);
                       });
  }
  int shard_count() const override { return outer_.shard_count(); }
  // Inside the script's atomic operation already: the body is the next phase.
  void RunAtomic(AtomicScope, FanOutDone body) override {
    RunOnShards(
        {}, [](ShardAccess&) {}, std::move(body));
  }
  bool started() const { return started_; }

 private:
  std::shared_ptr<Drive> d_;
  FanOutRunner& outer_;
  bool started_ = false;
};

// On the shard that owns the deferred call's keys.
void RunDeferredOnShard(Drive& d, ShardAccess& a) {
  const DeferredCall& call = d.target.pending();
  LocalShardTarget target(a.shard, call.db, a.config, a.shard_index, a.shard_count);
  std::vector<std::string_view> args(call.args.begin(), call.args.end());
  d.call_reply.clear();
  ReplyBuilder out(&d.call_reply, call.resp);
  std::string error;
  aof::Capture capture(&d.task_log);
  if (target.Call(*call.spec, args, out, &error) != CallStatus::kReplied) {
    d.call_reply.clear();
    out.Error(Cat("ERR ", error));
    // Refused: counted as Redis counts a script's refused call (server/call_stats.h).
    if (CallStatsSink* sink = ThreadCallStatsSink()) {
      sink->RecordScriptRejection(call.spec, args, Cat("ERR ", error));
    }
  }
}

// The script is suspended at a deferred call: runs it, then resumes the script, until the
// script finishes or a call needs a phase (whose done continues here).
void Step(const std::shared_ptr<Drive>& d, ReplyBuilder& reply, FanOutRunner& runner) {
  for (;;) {
    const DeferredCall& call = d->target.pending();
    d->call_reply.clear();
    if (call.shard >= 0) {
      runner.RunOnShards(
          {call.shard}, [d](ShardAccess& a) { RunDeferredOnShard(*d, a); },
          [d](ReplyBuilder& reply, FanOutRunner& runner) {
            if (!ResumeScript(d, reply)) Step(d, reply, runner);
          });
      return;
    }
    CapturingRunner capture(d, runner);
    ReplyBuilder out(&d->call_reply, call.resp);
    d->client.db_index = call.db;
    d->client.resp = call.resp;
    std::vector<std::string_view> args(call.args.begin(), call.args.end());
    ClientCommand cmd(args, d->client, out, nullptr, capture);
    const uint64_t start = CallClock::NowMicros();
    call.spec->on_client(cmd);
    d->call_usec = CallClock::NowMicros() - start;
    if ((call.spec->flags & kCmdWrite) && aof::Active()) {  // recorded whole, as a client's
      aof::Capture log(&d->log);
      aof::Record(call.db, args);
    }
    if (capture.started()) return;
    RecordDeferredCall(*d);
    if (ResumeScript(d, reply)) return;
  }
}

}  // namespace

std::string ScriptKeyUseId(bool is_function, std::string_view sha_or_name) {
  return is_function ? Cat("f:", sha_or_name) : Cat("s:", cmd::ToLower(sha_or_name));
}

std::shared_ptr<const AclUser> ScriptAclUser(const ClientCommand& c) {
  if (c.server == nullptr) return nullptr;
  const AclUser* user = c.server->acl().Find(c.client.user);
  if (user == nullptr || user->unrestricted) return nullptr;
  return std::make_shared<AclUser>(*user);
}

void RunScriptAcrossShards(CrossShardScript script, ShardData& own_shard, const Config& config,
                           int own_index, ReplyBuilder& reply, FanOutRunner& runner) {
  auto d = std::make_shared<Drive>(std::move(script), own_shard, config, own_index,
                                   runner.shard_count());
  d->views.assign(d->in.argv.begin(), d->in.argv.end());
  ArgList all(d->views);
  d->run.keys = all.subspan(3, d->in.numkeys);
  d->run.args = all.subspan(3 + d->in.numkeys);
  d->run.read_only_command = d->in.read_only;
  d->run.target = &d->target;
  d->run.busy_threshold_ms = d->in.busy_threshold_ms;
  d->run.acl_user = d->in.acl_user.get();
  d->target.Declare(d->run.keys);
  LuaEngine& engine = LuaEngine::ThisThread();
  {
    aof::Capture capture(&d->log);
    if (d->in.is_function) {
      const LuaEngine::Function* fn = engine.FindFunction(d->in.argv[1]);
      if (fn == nullptr) {
        reply.Error("ERR Function not found");
        return;
      }
      d->script = engine.CallFunctionAsync(*fn, d->run, reply);
    } else {
      d->script = engine.RunScriptAsync(d->in.sha, d->run, reply);
    }
  }
  if (d->script == nullptr) {  // finished in one step
    Finish(*d);
    return;
  }
  Step(d, reply, runner);
}

}  // namespace shardis::scripting
