#include "server/scripting/call_target.h"

#include "server/aof.h"
#include "server/call_clock.h"
#include "server/call_stats.h"
#include "server/client_state.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/monitor.h"
#include "server/tracking.h"
#include "storage/shard_data.h"

namespace shardis::scripting {

bool ClientHandlerAllowed(const CommandSpec& spec) {
  static constexpr std::string_view kGroups[] = {"generic", "string",     "list",   "hash",
                                                 "set",     "sorted-set", "stream", "hyperloglog",
                                                 "bitmap",  "geo"};
  for (std::string_view g : kGroups) {
    if (spec.group == g) return true;
  }
  static constexpr std::string_view kNames[] = {"dbsize", "flushdb", "flushall", "ping",
                                                "echo",   "time",    "lolwut"};
  for (std::string_view n : kNames) {
    if (spec.name == n) return true;
  }
  return false;
}

// Counts a call in the thread's INFO commandstats, failed when its reply (from `at` in `out`) is
// an error, which errorstats counts now (the error table the script gets says so: see
// server/call_stats.h).
void RecordScriptCallStats(const CommandSpec& spec, ArgList args, uint64_t usec,
                           const std::string& out, size_t at) {
  CallStatsSink* sink = ThreadCallStatsSink();
  if (sink == nullptr) return;
  sink->RecordScriptCall(spec, args, usec, ErrorReplyText(out, at));
}

// Runs a connection-side handler's fan-out synchronously, on this shard only.
class LocalShardTarget::SyncRunner : public FanOutRunner {
 public:
  SyncRunner(LocalShardTarget& target, ReplyBuilder& reply) : target_(target), reply_(reply) {}

  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) override {
    for (int s : shards) {
      if (s != target_.shard_index_) {
        foreign_ = true;
        return;
      }
    }
    ShardData& sd = target_.shard_;
    ShardAccess access{sd, sd.db(target_.db_index_), target_.db_index_, target_.shard_index_,
                       target_.config_};
    if (!shards.empty()) task(access);
    done(reply_, *this);
  }
  int shard_count() const override { return target_.shard_count_; }
  bool foreign() const { return foreign_; }

 private:
  LocalShardTarget& target_;
  ReplyBuilder& reply_;
  bool foreign_ = false;
};

CallStatus LocalShardTarget::Call(const CommandSpec& spec, ArgList args, ReplyBuilder& reply,
                                  std::string* error) {
  if (spec.name == "select") {
    int64_t index;
    if (!cmd::ParseInt64(args[1], &index)) {
      reply.Error(cmd::kNotIntErr);
    } else if (index < 0 || index >= shard_.db_count()) {
      reply.Error(cmd::kDbIndexErr);
    } else {
      db_index_ = static_cast<int>(index);
      reply.Ok();
    }
    return CallStatus::kReplied;
  }
  CommandTable::KeyPositions(spec, args, &positions_);
  for (int pos : positions_) {
    if (ShardOfKey(args[pos], shard_count_) != shard_index_) {
      *error = kNonLocalKeyError;
      return CallStatus::kFailed;
    }
  }
  FeedScriptCommandToMonitors(db_index_, args);
  if (spec.on_shard != nullptr) {  // as the dispatcher: keys (if any) all on this shard
    Db& db = shard_.db(db_index_);
    ShardCommand cmd{args, shard_, db, db_index_, reply, config_};
    cmd.from_script = true;
    const uint64_t start = CallClock::NowMicros();
    const size_t reply_at = reply.buffer()->size();
    const uint64_t events = shard_.notifier().events_raised();
    aof::RunShardHandler(spec, cmd);
    RecordScriptCallStats(spec, args, CallClock::NowMicros() - start, *reply.buffer(), reply_at);
    // A write that changed nothing (raised no event) touches no key, as the dispatcher's.
    const bool changed = shard_.notifier().events_raised() != events;
    if ((spec.flags & kCmdWrite) && changed) InvalidateScriptWrite(args, positions_);
    if ((spec.flags & kCmdWrite) && changed && db.has_watches()) {
      for (int pos : positions_) db.Touch(args[pos]);
    }
    return CallStatus::kReplied;
  }
  if (spec.on_client == nullptr || !ClientHandlerAllowed(spec)) {
    *error = kNotAllowedFromScript;
    return CallStatus::kFailed;
  }
  std::string out;
  ReplyBuilder local(&out, reply.version());
  ClientState client;
  client.db_index = db_index_;
  client.resp = reply.version();
  SyncRunner runner(*this, local);
  ClientCommand cmd(args, client, local, nullptr, runner);
  const uint64_t start = CallClock::NowMicros();
  spec.on_client(cmd);
  if (runner.foreign()) {
    *error = kNonLocalKeyError;
    return CallStatus::kFailed;
  }
  RecordScriptCallStats(spec, args, CallClock::NowMicros() - start, out, 0);
  reply.Raw(out);
  return CallStatus::kReplied;
}

}  // namespace shardis::scripting
