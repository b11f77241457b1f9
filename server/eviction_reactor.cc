// The reactor's side of maxmemory, on the reactor's own thread: whether a command may run
// (Redis's processCommand OOM rule), freeing memory by evicting keys of this thread's shard
// before deny-oom commands and on each cron tick, and publishing this thread's memory figure
// (server/memory_accounting.h) and LFU/LRU mode (storage/keyspace.h's AccessPolicy).
//
// Shards share one limit: every shard evicts its own keys while the process-wide figure is over
// maxmemory. A shard with nothing left to evict lets a command through while another shard
// still has candidates (they evict on their next write or cron tick, at most 1000/hz ms later);
// when no shard has any, deny-oom commands get Redis's OOM error.
#include <chrono>
#include <cmath>

#include "server/memory_accounting.h"
#include "server/reactor.h"
#include "server/scripting/lua_engine.h"

namespace shardis {
namespace {

uint64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Redis's evictionTimeProc limit from maxmemory-eviction-tenacity.
uint64_t EvictionTimeLimitUs(int tenacity) {
  if (tenacity <= 10) return 50 * static_cast<uint64_t>(tenacity);
  if (tenacity < 100) return static_cast<uint64_t>(500.0 * std::pow(1.15, tenacity - 10));
  return UINT64_MAX;
}

int ConfigInt(const Config& config, const char* name, int fallback) {
  std::string value;
  if (!config.Get(name, &value)) return fallback;
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  return end == value.c_str() ? fallback : static_cast<int>(v);
}

bool IsScriptCommand(std::string_view name) {
  return name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" ||
         name == "fcall" || name == "fcall_ro";
}

bool IsDenyOomExec(const ClientState& state) {
  if (state.tx == nullptr) return false;
  for (const auto& q : state.tx->queue) {
    if (q.spec->flags & kCmdDenyOom) return true;
  }
  return false;
}

}  // namespace

const char* const kOomError = "OOM command not allowed when used memory > 'maxmemory'.";

void Reactor::SyncEvictionConfig() {
  EvictionPolicy policy =
      ParseEvictionPolicy(config_.maxmemory_policy).value_or(EvictionPolicy::kNoEviction);
  AccessPolicy& access = GlobalAccessPolicy();
  access.lfu.store(IsLfuPolicy(policy), std::memory_order_relaxed);
  access.lfu_log_factor.store(ConfigInt(config_, "lfu-log-factor", 10), std::memory_order_relaxed);
  access.lfu_decay_time.store(ConfigInt(config_, "lfu-decay-time", 1), std::memory_order_relaxed);
  eviction_samples_ = ConfigInt(config_, "maxmemory-samples", 5);
  eviction_tenacity_ = ConfigInt(config_, "maxmemory-eviction-tenacity", 10);
}

bool Reactor::EvictForWrite() {
  if (config_.maxmemory <= 0) return true;
  int64_t used = memory::Publish();
  if (used <= config_.maxmemory) return true;
  EvictionPolicy policy =
      ParseEvictionPolicy(config_.maxmemory_policy).value_or(EvictionPolicy::kNoEviction);
  if (policy == EvictionPolicy::kNoEviction) return false;
  uint64_t start = NowMicros();
  uint64_t limit = EvictionTimeLimitUs(eviction_tenacity_);
  for (int evicted = 0; used > config_.maxmemory; ++evicted) {
    if (!shard_.evictor().EvictOne(shard_, policy, eviction_samples_)) {
      memory::PublishCandidates(index_, false);
      return thread_count() > 1 && memory::AnyCandidates();
    }
    used = memory::Publish();
    // As Redis: check the time every 16 keys; past the limit, the rest is left to the cron.
    if ((evicted & 15) == 15 && NowMicros() - start > limit) return true;
  }
  return true;
}

bool Reactor::OomRejects(Connection* c, const CommandSpec& spec, ArgList args) {
  bool script = IsScriptCommand(spec.name);
  if (config_.maxmemory <= 0) {
    if (script) memory::SetScriptOom(false);
    return false;
  }
  bool reject = (spec.flags & kCmdDenyOom) != 0;
  if (script) {
    // Redis: a script is refused up front when it declares flags without allow-oom or
    // no-writes (EVAL; EVALSHA and FCALL scripts are checked per call instead); otherwise its
    // deny-oom calls fail while the state taken now says OOM.
    bool oom = !EvictForWrite();
    memory::SetScriptOom(oom);
    if (spec.name == "eval" && args.size() >= 2) {
      uint32_t flags = scripting::EvalScriptFlags(args[1]);
      if ((flags & scripting::kScriptShebang) &&
          !(flags & (scripting::kScriptAllowOom | scripting::kScriptNoWrites))) {
        reject = true;
      }
    }
    if (!c->state.in_multi()) return reject && oom;
  }
  // Redis: inside MULTI, queuing may take unbounded memory, so everything but EXEC, DISCARD,
  // QUIT and RESET is refused; EXEC when it holds deny-oom commands.
  if (c->state.in_multi()) {
    if (spec.name == "exec") {
      reject = IsDenyOomExec(c->state);
    } else if (spec.name != "discard" && spec.name != "quit" && spec.name != "reset") {
      reject = true;
    }
  }
  if (!reject) return false;
  return !EvictForWrite();
}

void Reactor::EvictionCron() {
  SyncEvictionConfig();
  memory::Publish();
  if (index_ == 0 && shard_.now_ms() - last_recalibrate_ms_ >= 1000) {
    memory::Recalibrate();
    last_recalibrate_ms_ = shard_.now_ms();
  }
  if (config_.maxmemory <= 0) {
    if (index_ == 0) memory::SetScriptOom(false);
    return;
  }
  EvictionPolicy policy =
      ParseEvictionPolicy(config_.maxmemory_policy).value_or(EvictionPolicy::kNoEviction);
  memory::PublishCandidates(index_, Evictor::HasCandidates(shard_, policy));
  if (policy == EvictionPolicy::kNoEviction) return;
  // Bounded: 1 ms of evictions per tick, more on the next one.
  uint64_t start = NowMicros();
  int64_t used = memory::Publish();
  for (int evicted = 0; used > config_.maxmemory; ++evicted) {
    if (!shard_.evictor().EvictOne(shard_, policy, eviction_samples_)) {
      memory::PublishCandidates(index_, false);
      break;
    }
    used = memory::Publish();
    if ((evicted & 15) == 15 && NowMicros() - start > 1000) break;
  }
  if (!shard_.ready_keys().empty()) ServeReadyKeys();
}

}  // namespace shardis
