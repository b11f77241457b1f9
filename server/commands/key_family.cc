// The generic keyspace commands: DEL UNLINK EXISTS TOUCH TYPE, the EXPIRE/TTL/PERSIST family,
// KEYS SCAN RANDOMKEY, RENAME RENAMENX COPY MOVE SWAPDB, OBJECT, DBSIZE FLUSHDB FLUSHALL, with
// redis-server 7.0's semantics, reply types and error texts.
//
// ShardHandlers run on the thread of the shard that owns the keys. ClientHandlers run on the
// connection's thread and fan work out to shards: their tasks run on each shard's thread and write
// only that shard's slot of the state they captured (or, for phased operations such as a
// cross-shard RENAME, the one field the phase's single shard owns); `done` runs back on the
// connection's thread. Cross-shard operations are correct but not atomic.
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/persistence.h"
#include "server/server_context.h"
#include "storage/glob.h"
#include "storage/shard_data.h"

namespace shardis {
namespace {

constexpr std::string_view kSameObjectErr = "ERR source and destination objects are the same";
constexpr std::string_view kIntRangeErr =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
constexpr std::string_view kInvalidCursorErr = "ERR invalid cursor";
constexpr std::string_view kLfuNotSelectedErr =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust.";
constexpr std::string_view kLfuSelectedErr =
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Redis's shared integer objects: OBJECT REFCOUNT reports INT_MAX for them.
constexpr int64_t kSharedIntegers = 10000;
constexpr int64_t kSharedRefcount = INT_MAX;

// ---------------------------------------------------------------------------------------------
// A reply computed on a shard and written later on the connection's thread.

struct Result {
  enum class Kind : uint8_t { kOk, kInt, kNull, kBulk, kError };
  Kind kind = Kind::kNull;
  int64_t num = 0;
  std::string str;

  static Result Ok() { return Result{Kind::kOk, 0, {}}; }
  static Result Int(int64_t n) { return Result{Kind::kInt, n, {}}; }
  static Result Null() { return Result{Kind::kNull, 0, {}}; }
  static Result Bulk(std::string s) { return Result{Kind::kBulk, 0, std::move(s)}; }
  static Result Error(std::string_view e) { return Result{Kind::kError, 0, std::string(e)}; }

  void WriteTo(ReplyBuilder& reply) const {
    switch (kind) {
      case Kind::kOk:
        reply.Ok();
        break;
      case Kind::kInt:
        reply.Integer(num);
        break;
      case Kind::kNull:
        reply.Null();
        break;
      case Kind::kBulk:
        reply.Bulk(str);
        break;
      case Kind::kError:
        reply.Error(str);
        break;
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Lookups, named after Redis's lookupKey flavours (they differ in statistics and access time).

void TouchEntry(Db& db, Entry* e) { e->set_access_time(db.now_ms()); }

// lookupKeyRead: counts a hit or miss and updates the access time.
Entry* LookupRead(Db& db, std::string_view key) { return db.Lookup(key); }

// lookupKeyReadWithFlags(LOOKUP_NOTOUCH): counts a hit or miss, leaves the access time alone;
// a miss raises "keymiss" unless `notify` is false (OBJECT's LOOKUP_NONOTIFY).
Entry* LookupNoTouch(ShardData& shard, Db& db, std::string_view key, bool notify = true) {
  Entry* e = db.Find(key);
  if (e == nullptr) {
    ++shard.stats().keyspace_misses;
    if (notify) db.Notify(kNotifyKeyMiss, "keymiss", key);
  } else {
    ++shard.stats().keyspace_hits;
  }
  return e;
}

// lookupKeyWrite: no statistics, updates the access time.
Entry* LookupWrite(Db& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e != nullptr) TouchEntry(db, e);
  return e;
}

// Stores value (and expiry, kNoExpiry for none) under key, replacing what was there.
void StoreValue(Db& db, std::string_view key, Value value, int64_t expire_at_ms) {
  Entry* e = db.Set(key, std::move(value));
  if (expire_at_ms != kNoExpiry) db.SetExpiry(e, expire_at_ms);
  TouchEntry(db, e);
}

// Redis's getIntFromObjectOrReply with no custom message.
bool ParseIntArg(std::string_view s, int* out, std::string_view* err) {
  int64_t v = 0;
  if (!cmd::ParseInt64(s, &v)) {
    *err = cmd::kNotIntErr;
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    *err = kIntRangeErr;
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

bool IsLfuPolicy(const Config& config) {
  return config.maxmemory_policy == "allkeys-lfu" || config.maxmemory_policy == "volatile-lfu";
}

bool IsLruOrLfuPolicy(const Config& config) {
  return IsLfuPolicy(config) || config.maxmemory_policy == "allkeys-lru" ||
         config.maxmemory_policy == "volatile-lru";
}

std::vector<std::string> OwnedArgs(ArgList args) {
  return std::vector<std::string>(args.begin(), args.end());
}

// ---------------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TOUCH: per-key operations summed over every key, fanned out by shard.

using KeyOp = int64_t (*)(ShardData& shard, Db& db, std::string_view key);

int64_t DelOp(ShardData& shard, Db& db, std::string_view key) {
  if (!db.Erase(key)) return 0;
  shard.notifier().Notify(kNotifyGeneric, "del", key, db.index());
  return 1;
}

int64_t ExistsOp(ShardData& shard, Db& db, std::string_view key) {
  return LookupNoTouch(shard, db, key) != nullptr ? 1 : 0;
}

int64_t TouchOp(ShardData&, Db& db, std::string_view key) {
  return LookupRead(db, key) != nullptr ? 1 : 0;
}

template <KeyOp op>
void MultiKeyOnShard(ShardCommand& cmd) {
  int64_t n = 0;
  for (size_t i = 1; i < cmd.args.size(); ++i) n += op(cmd.shard, cmd.db, cmd.args[i]);
  cmd.reply.Integer(n);
}

template <KeyOp op>
void MultiKeyOnClient(ClientCommand& cmd) {
  int shards = cmd.shard_count();
  // keys[s] lists, in argument order and with duplicates, the keys shard s owns.
  auto keys = std::make_shared<std::vector<std::vector<std::string>>>(shards);
  std::vector<int> targets;
  for (size_t i = 1; i < cmd.args.size(); ++i) {
    int s = cmd.ShardOf(cmd.args[i]);
    if ((*keys)[s].empty()) targets.push_back(s);
    (*keys)[s].emplace_back(cmd.args[i]);
  }
  auto counts = std::make_shared<std::vector<int64_t>>(shards, 0);
  cmd.RunOnShards(
      std::move(targets),
      [keys, counts](ShardAccess& a) {
        int64_t n = 0;
        for (const std::string& key : (*keys)[a.shard_index]) n += op(a.shard, a.db, key);
        (*counts)[a.shard_index] = n;
      },
      [counts](ReplyBuilder& reply, FanOutRunner&) {
        int64_t total = 0;
        for (int64_t n : *counts) total += n;
        reply.Integer(total);
      });
}

// ---------------------------------------------------------------------------------------------
// TYPE, TTL family, PERSIST

void TypeCommand(ShardCommand& cmd) {
  Entry* e = LookupNoTouch(cmd.shard, cmd.db, cmd.args[1]);
  cmd.reply.SimpleString(e == nullptr ? "none" : TypeName(e->type()));
}

// Redis's ttlGenericCommand.
template <bool kMillis, bool kAbsolute>
void TtlCommand(ShardCommand& cmd) {
  Entry* e = LookupNoTouch(cmd.shard, cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(-2);
    return;
  }
  if (!e->has_expiry()) {
    cmd.reply.Integer(-1);
    return;
  }
  int64_t ttl = kAbsolute ? e->expire_at_ms() : e->expire_at_ms() - cmd.now_ms();
  if (ttl < 0) ttl = 0;
  cmd.reply.Integer(kMillis ? ttl : (ttl + 500) / 1000);
}

void PersistCommand(ShardCommand& cmd) {
  Entry* e = LookupWrite(cmd.db, cmd.args[1]);
  if (e == nullptr || !e->has_expiry()) {
    cmd.reply.Integer(0);
    return;
  }
  cmd.db.ClearExpiry(e);
  NotifyKeyspaceEvent(cmd, kNotifyGeneric, "persist", cmd.args[1]);
  cmd.reply.Integer(1);
}

// ---------------------------------------------------------------------------------------------
// EXPIRE PEXPIRE EXPIREAT PEXPIREAT (Redis's expireGenericCommand)

enum ExpireFlag : int { kExpireNx = 1, kExpireXx = 2, kExpireGt = 4, kExpireLt = 8 };

bool ParseExpireFlags(ArgList args, int* flags, std::string* err) {
  for (size_t j = 3; j < args.size(); ++j) {
    std::string_view opt = args[j];
    if (cmd::EqualsIgnoreCase(opt, "nx")) {
      *flags |= kExpireNx;
    } else if (cmd::EqualsIgnoreCase(opt, "xx")) {
      *flags |= kExpireXx;
    } else if (cmd::EqualsIgnoreCase(opt, "gt")) {
      *flags |= kExpireGt;
    } else if (cmd::EqualsIgnoreCase(opt, "lt")) {
      *flags |= kExpireLt;
    } else {
      *err = "ERR Unsupported option " + std::string(opt);
      return false;
    }
  }
  if ((*flags & kExpireNx) && (*flags & (kExpireXx | kExpireGt | kExpireLt))) {
    *err = "ERR NX and XX, GT or LT options at the same time are not compatible";
    return false;
  }
  if ((*flags & kExpireGt) && (*flags & kExpireLt)) {
    *err = "ERR GT and LT options at the same time are not compatible";
    return false;
  }
  return true;
}

// `name` is the command's table name (Redis quotes it in the overflow error); kSeconds tells the
// unit of the argument; kRelative adds the current time.
template <bool kSeconds, bool kRelative>
void ExpireGeneric(ShardCommand& cmd, std::string_view name) {
  int flags = 0;
  std::string err;
  if (!ParseExpireFlags(cmd.args, &flags, &err)) {
    cmd.reply.Error(err);
    return;
  }
  int64_t when = 0;
  if (!cmd::ParseInt64(cmd.args[2], &when)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  auto overflow = [&] {
    cmd.reply.Error("ERR invalid expire time in '" + std::string(name) + "' command");
  };
  if (kSeconds) {
    if (when > INT64_MAX / 1000 || when < INT64_MIN / 1000) return overflow();
    when *= 1000;
  }
  int64_t basetime = kRelative ? cmd.now_ms() : 0;
  if (when > INT64_MAX - basetime) return overflow();
  when += basetime;

  Entry* e = LookupWrite(cmd.db, cmd.args[1]);
  if (e == nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  if (flags != 0) {
    int64_t current = e->expire_at_ms();  // kNoExpiry (-1) when persistent, as Redis's getExpire
    bool fail = false;
    if ((flags & kExpireNx) && current != kNoExpiry) fail = true;
    if ((flags & kExpireXx) && current == kNoExpiry) fail = true;
    // A persistent key counts as an infinite TTL: GT never beats it, LT always does.
    if ((flags & kExpireGt) && (when <= current || current == kNoExpiry)) fail = true;
    if ((flags & kExpireLt) && current != kNoExpiry && when >= current) fail = true;
    if (fail) {
      cmd.reply.Integer(0);
      return;
    }
  }
  if (when <= cmd.now_ms()) {
    cmd.db.Erase(cmd.args[1]);
    NotifyKeyspaceEvent(cmd, kNotifyGeneric, "del", cmd.args[1]);
  } else {
    cmd.db.SetExpiry(e, when);
    NotifyKeyspaceEvent(cmd, kNotifyGeneric, "expire", cmd.args[1]);
  }
  cmd.reply.Integer(1);
}

void ExpireCommand(ShardCommand& cmd) { ExpireGeneric<true, true>(cmd, "expire"); }
void PexpireCommand(ShardCommand& cmd) { ExpireGeneric<false, true>(cmd, "pexpire"); }
void ExpireatCommand(ShardCommand& cmd) { ExpireGeneric<true, false>(cmd, "expireat"); }
void PexpireatCommand(ShardCommand& cmd) { ExpireGeneric<false, false>(cmd, "pexpireat"); }

// ---------------------------------------------------------------------------------------------
// KEYS

void KeysCommand(ClientCommand& cmd) {
  auto pattern = std::make_shared<const std::string>(cmd.args[1]);
  auto found = std::make_shared<std::vector<std::vector<std::string>>>(cmd.shard_count());
  cmd.RunOnAllShards(
      [pattern, found](ShardAccess& a) {
        // Walks the table without modifying it (as Redis's KEYS: expired keys are skipped, not
        // deleted), so the table cannot change between steps and no key is returned twice.
        bool all = *pattern == "*";
        std::vector<std::string>& out = (*found)[a.shard_index];
        uint64_t cursor = 0;
        do {
          cursor = a.db.keyspace().Scan(cursor, 64, [&](Entry& e) {
            if (e.dead() || a.db.IsExpired(e)) return;
            if (all || GlobMatch(*pattern, e.key())) out.emplace_back(e.key());
          });
        } while (cursor != 0);
      },
      [found](ReplyBuilder& reply, FanOutRunner&) {
        size_t total = 0;
        for (const auto& keys : *found) total += keys.size();
        reply.ArrayHeader(total);
        for (const auto& keys : *found) {
          for (const std::string& key : keys) reply.Bulk(key);
        }
      });
}

// ---------------------------------------------------------------------------------------------
// SCAN: one cursor over every shard. cursor = keyspace_cursor * shard_count + shard, so cursor 0
// starts at shard 0 and, with one shard, cursors are exactly the keyspace's. Each shard is walked
// to completion before the next one starts, so every key present for the whole scan is returned.

// Redis's parseScanCursorOrReply: strtoul rules (a sign is accepted, "-1" wraps), no leading
// space, the whole argument, no overflow.
bool ParseScanCursor(std::string_view s, uint64_t* cursor) {
  std::string buf(s);
  if (!buf.empty() && std::isspace(static_cast<unsigned char>(buf[0]))) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *cursor = v;
  return true;
}

struct ScanState {
  bool has_pattern = false;  // MATCH given and not "*"
  std::string pattern;
  bool has_type = false;  // TYPE given
  std::string type;
  int64_t count = 10;
  int64_t iterations_left = 100;  // Redis stops after count * 10 empty buckets
  int64_t visited = 0;            // keys seen before filtering, across the phases of this call
  int shard_count = 1;
  int shard = 0;        // the shard being walked; only that shard's task writes below
  uint64_t cursor = 0;  // its keyspace cursor
  std::vector<std::string> keys;
};

void ScanTask(const std::shared_ptr<ScanState>& st, ShardAccess& a) {
  do {
    size_t wanted = st->count > st->visited ? static_cast<size_t>(st->count - st->visited) : 1;
    st->cursor = a.db.Scan(st->cursor, wanted, [&](Entry& e) {
      ++st->visited;
      if (st->has_pattern && !GlobMatch(st->pattern, e.key())) return;
      if (st->has_type && !cmd::EqualsIgnoreCase(st->type, TypeName(e.type()))) return;
      st->keys.emplace_back(e.key());
    });
  } while (st->cursor != 0 && st->iterations_left-- > 0 && st->visited < st->count);
}

FanOutDone ScanDone(std::shared_ptr<ScanState> st);

// Runner: the ClientCommand for the first phase, the FanOutRunner for the next ones.
template <typename Runner>
void RunScanPhase(Runner& runner, std::shared_ptr<ScanState> st) {
  int shard = st->shard;
  runner.RunOnShards(
      {shard}, [st](ShardAccess& a) { ScanTask(st, a); }, ScanDone(st));
}

FanOutDone ScanDone(std::shared_ptr<ScanState> st) {
  return [st](ReplyBuilder& reply, FanOutRunner& runner) {
    uint64_t next = 0;
    if (st->cursor != 0) {
      next = st->cursor * static_cast<uint64_t>(st->shard_count) + st->shard;
    } else if (st->shard + 1 < st->shard_count) {
      ++st->shard;
      if (st->visited < st->count && st->iterations_left > 0) {
        RunScanPhase(runner, st);  // fill the reply from the next shard
        return;
      }
      next = static_cast<uint64_t>(st->shard);  // keyspace cursor 0 of the next shard
    }
    reply.ArrayHeader(2);
    reply.Bulk(std::to_string(next));
    reply.ArrayHeader(st->keys.size());
    for (const std::string& key : st->keys) reply.Bulk(key);
  };
}

void ScanCommand(ClientCommand& cmd) {
  uint64_t cursor = 0;
  if (!ParseScanCursor(cmd.args[1], &cursor)) {
    cmd.reply.Error(kInvalidCursorErr);
    return;
  }
  auto st = std::make_shared<ScanState>();
  for (size_t i = 2; i < cmd.args.size(); i += 2) {
    bool has_value = i + 1 < cmd.args.size();
    std::string_view opt = cmd.args[i];
    if (cmd::EqualsIgnoreCase(opt, "count") && has_value) {
      if (!cmd::ParseInt64(cmd.args[i + 1], &st->count)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (st->count < 1) {
        cmd.reply.Error(cmd::kSyntaxErr);
        return;
      }
    } else if (cmd::EqualsIgnoreCase(opt, "match") && has_value) {
      st->pattern = std::string(cmd.args[i + 1]);
      st->has_pattern = st->pattern != "*";
    } else if (cmd::EqualsIgnoreCase(opt, "type") && has_value) {
      st->type = std::string(cmd.args[i + 1]);
      st->has_type = true;
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  st->iterations_left = st->count > INT64_MAX / 10 ? INT64_MAX : st->count * 10;
  st->shard_count = cmd.shard_count();
  st->shard = static_cast<int>(cursor % static_cast<uint64_t>(st->shard_count));
  st->cursor = cursor / static_cast<uint64_t>(st->shard_count);
  RunScanPhase(cmd, std::move(st));
}

// ---------------------------------------------------------------------------------------------
// RANDOMKEY DBSIZE FLUSHDB FLUSHALL SWAPDB

struct RandomPick {
  bool found = false;
  std::string key;
  size_t size = 0;
};

uint64_t ClientThreadRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

void RandomkeyCommand(ClientCommand& cmd) {
  auto picks = std::make_shared<std::vector<RandomPick>>(cmd.shard_count());
  cmd.RunOnAllShards(
      [picks](ShardAccess& a) {
        RandomPick& p = (*picks)[a.shard_index];
        Entry* e = a.db.RandomLive(a.shard.Random());
        if (e == nullptr) return;
        p.found = true;
        p.key = std::string(e->key());
        p.size = a.db.size();
      },
      [picks](ReplyBuilder& reply, FanOutRunner&) {
        // One shard, chosen in proportion to its key count, so every key is about equally likely.
        uint64_t total = 0;
        for (const RandomPick& p : *picks) {
          if (p.found) total += p.size;
        }
        if (total == 0) {
          reply.Null();
          return;
        }
        uint64_t r = ClientThreadRandom() % total;
        for (const RandomPick& p : *picks) {
          if (!p.found) continue;
          if (r < p.size) {
            reply.Bulk(p.key);
            return;
          }
          r -= p.size;
        }
      });
}

void DbsizeCommand(ClientCommand& cmd) {
  auto sizes = std::make_shared<std::vector<int64_t>>(cmd.shard_count(), 0);
  cmd.RunOnAllShards(
      [sizes](ShardAccess& a) { (*sizes)[a.shard_index] = static_cast<int64_t>(a.db.size()); },
      [sizes](ReplyBuilder& reply, FanOutRunner&) {
        int64_t total = 0;
        for (int64_t n : *sizes) total += n;
        reply.Integer(total);
      });
}

// FLUSHDB / FLUSHALL [ASYNC|SYNC]. Both modes clear at once (the memory is freed on the shard).
bool ParseFlushMode(ClientCommand& cmd) {
  if (cmd.args.size() > 2 || (cmd.args.size() == 2 && !cmd::EqualsIgnoreCase(cmd.args[1], "sync") &&
                              !cmd::EqualsIgnoreCase(cmd.args[1], "async"))) {
    cmd.reply.Error(cmd::kSyntaxErr);
    return false;
  }
  return true;
}

void FlushdbCommand(ClientCommand& cmd) {
  if (!ParseFlushMode(cmd)) return;
  cmd.RunOnAllShards([](ShardAccess& a) { a.db.Clear(); },
                     [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void FlushallCommand(ClientCommand& cmd) {
  if (!ParseFlushMode(cmd)) return;
  // As Redis: with a save schedule, FLUSHALL also saves the now empty dataset, so a restart does
  // not bring the flushed keys back.
  std::shared_ptr<Config> save_config;
  if (cmd.server != nullptr && !cmd.server->config().save_params.empty()) {
    save_config = std::make_shared<Config>(cmd.server->config());
  }
  cmd.RunOnAllShards(
      [](ShardAccess& a) {
        for (int i = 0; i < a.shard.db_count(); ++i) a.shard.db(i).Clear();
      },
      [save_config](ReplyBuilder& reply, FanOutRunner& runner) {
        auto run_on_all = [&runner](ShardTask task, FanOutDone done) {
          std::vector<int> all(runner.shard_count());
          for (int i = 0; i < runner.shard_count(); ++i) all[i] = i;
          runner.RunOnShards(std::move(all), std::move(task), std::move(done));
        };
        if (save_config == nullptr ||
            !StartSave(*save_config, SaveMode::kForeground, run_on_all,
                       [](ReplyBuilder& r, FanOutRunner&, const std::string&) { r.Ok(); })) {
          reply.Ok();
        }
      });
}

void SwapdbCommand(ClientCommand& cmd) {
  int64_t a64 = 0;
  int64_t b64 = 0;
  if (!cmd::ParseInt64(cmd.args[1], &a64) || a64 < INT_MIN || a64 > INT_MAX) {
    cmd.reply.Error("ERR invalid first DB index");
    return;
  }
  if (!cmd::ParseInt64(cmd.args[2], &b64) || b64 < INT_MIN || b64 > INT_MAX) {
    cmd.reply.Error("ERR invalid second DB index");
    return;
  }
  int first = static_cast<int>(a64);
  int second = static_cast<int>(b64);
  // Every shard has the same number of databases, so all accept or all refuse.
  auto ok = std::make_shared<std::vector<char>>(cmd.shard_count(), 0);
  cmd.RunOnAllShards(
      [ok, first, second](ShardAccess& a) {
        int n = a.shard.db_count();
        if (first < 0 || first >= n || second < 0 || second >= n) return;
        if (first != second) a.shard.SwapDbs(first, second);
        (*ok)[a.shard_index] = 1;
      },
      [ok](ReplyBuilder& reply, FanOutRunner&) {
        for (char shard_ok : *ok) {
          if (!shard_ok) {
            reply.Error(cmd::kDbIndexErr);
            return;
          }
        }
        reply.Ok();
      });
}

// ---------------------------------------------------------------------------------------------
// RENAME RENAMENX (Redis's renameGenericCommand)

// Both keys on this shard.
Result RenameLocal(Db& db, std::string_view src, std::string_view dst, bool nx) {
  Entry* e = LookupWrite(db, src);
  if (e == nullptr) return Result::Error(cmd::kNoSuchKeyErr);
  if (src == dst) return nx ? Result::Int(0) : Result::Ok();
  if (nx && LookupWrite(db, dst) != nullptr) return Result::Int(0);
  std::optional<Db::Taken> moved = db.Take(src);
  // Redis deletes an existing destination and adds the key anew ("new", n).
  if (db.Find(dst) != nullptr) db.Notify(kNotifyNew, "new", dst);
  StoreValue(db, dst, std::move(moved->value), moved->expire_at_ms);
  db.Notify(kNotifyGeneric, "rename_from", src);
  db.Notify(kNotifyGeneric, "rename_to", dst);
  return nx ? Result::Int(1) : Result::Ok();
}

template <bool kNx>
void RenameOnShard(ShardCommand& cmd) {
  RenameLocal(cmd.db, cmd.args[1], cmd.args[2], kNx).WriteTo(cmd.reply);
}

// A cross-shard rename in phases: [RENAMENX: check both keys] -> detach the source -> store on
// the destination -> [RENAMENX, when the destination appeared meanwhile: put the source back].
// Each phase runs on one shard (the check on two, writing separate fields).
struct RenameState {
  std::string src;
  std::string dst;
  bool nx = false;
  int src_shard = 0;
  int dst_shard = 0;
  bool src_exists = false;  // written by the source shard
  bool dst_exists = false;  // written by the destination shard
  bool detached = false;
  Value value;
  int64_t expire_at_ms = kNoExpiry;
  bool stored = false;
};

void RenameStore(std::shared_ptr<RenameState> st, FanOutRunner& runner) {
  runner.RunOnShards(
      {st->dst_shard},
      [st](ShardAccess& a) {
        bool dst_exists = a.db.Find(st->dst) != nullptr;
        if (st->nx && dst_exists) return;
        if (dst_exists) a.db.Notify(kNotifyNew, "new", st->dst);  // deleted, then added
        StoreValue(a.db, st->dst, std::move(st->value), st->expire_at_ms);
        st->stored = true;
        // Raised here, once the rename happened (the source shard only detached the value).
        a.db.Notify(kNotifyGeneric, "rename_from", st->src);
        a.db.Notify(kNotifyGeneric, "rename_to", st->dst);
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (st->stored) {
          if (st->nx) {
            reply.Integer(1);
          } else {
            reply.Ok();
          }
          return;
        }
        // RENAMENX lost a race with a writer of the destination: restore the source.
        runner.RunOnShards(
            {st->src_shard},
            [st](ShardAccess& a) {
              bool inserted = false;
              Entry* e = a.db.FindOrInsert(st->src, &inserted);
              if (!inserted) return;  // rewritten meanwhile; that write wins
              a.db.Assign(e, std::move(st->value));
              if (st->expire_at_ms != kNoExpiry) a.db.SetExpiry(e, st->expire_at_ms);
            },
            [](ReplyBuilder& reply, FanOutRunner&) { reply.Integer(0); });
      });
}

// Runner: the ClientCommand (RENAME's first phase) or the FanOutRunner (after RENAMENX's check).
template <typename Runner>
void RenameDetach(std::shared_ptr<RenameState> st, Runner& runner) {
  runner.RunOnShards(
      {st->src_shard},
      [st](ShardAccess& a) {
        if (LookupWrite(a.db, st->src) == nullptr) return;
        std::optional<Db::Taken> taken = a.db.Take(st->src);
        st->value = std::move(taken->value);
        st->expire_at_ms = taken->expire_at_ms;
        st->detached = true;
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (!st->detached) {
          reply.Error(cmd::kNoSuchKeyErr);
          return;
        }
        RenameStore(st, runner);
      });
}

template <bool kNx>
void RenameOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<RenameState>();
  st->src = std::string(cmd.args[1]);
  st->dst = std::string(cmd.args[2]);
  st->nx = kNx;
  st->src_shard = cmd.ShardOf(st->src);
  st->dst_shard = cmd.ShardOf(st->dst);
  if (st->src_shard == st->dst_shard) {
    auto result = std::make_shared<Result>();
    cmd.RunOnShards(
        {st->src_shard},
        [st, result](ShardAccess& a) { *result = RenameLocal(a.db, st->src, st->dst, st->nx); },
        [result](ReplyBuilder& reply, FanOutRunner&) { result->WriteTo(reply); });
    return;
  }
  if (!kNx) {
    RenameDetach(st, cmd);
    return;
  }
  cmd.RunOnShards(
      {st->src_shard, st->dst_shard},
      [st](ShardAccess& a) {
        if (a.shard_index == st->src_shard) {
          st->src_exists = LookupWrite(a.db, st->src) != nullptr;
        } else {
          st->dst_exists = LookupWrite(a.db, st->dst) != nullptr;
        }
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (!st->src_exists) {
          reply.Error(cmd::kNoSuchKeyErr);
        } else if (st->dst_exists) {
          reply.Integer(0);
        } else {
          RenameDetach(st, runner);
        }
      });
}

// ---------------------------------------------------------------------------------------------
// COPY source destination [DB destination-db] [REPLACE] (Redis's copyCommand)

struct CopyOptions {
  int dst_db = 0;
  bool replace = false;
};

// Parses the options as Redis does, in order, stopping at the first error (the DB range check
// needs the shard's database count, so this runs on a shard).
bool ParseCopyOptions(const std::vector<std::string>& args, int db_count, int current_db,
                      CopyOptions* opts, Result* err) {
  opts->dst_db = current_db;
  for (size_t j = 3; j < args.size(); ++j) {
    size_t additional = args.size() - j - 1;
    if (cmd::EqualsIgnoreCase(args[j], "replace")) {
      opts->replace = true;
    } else if (cmd::EqualsIgnoreCase(args[j], "db") && additional >= 1) {
      std::string_view int_err;
      int db = 0;
      if (!ParseIntArg(args[j + 1], &db, &int_err)) {
        *err = Result::Error(int_err);
        return false;
      }
      if (db < 0 || db >= db_count) {
        *err = Result::Error(cmd::kDbIndexErr);
        return false;
      }
      opts->dst_db = db;
      ++j;
    } else {
      *err = Result::Error(cmd::kSyntaxErr);
      return false;
    }
  }
  if (opts->dst_db == current_db && args[1] == args[2]) {
    *err = Result::Error(kSameObjectErr);
    return false;
  }
  return true;
}

// Writes a copy into the destination db; the copy's reply.
Result CopyStore(Db& dst, std::string_view key, const CopyOptions& opts, Value value,
                 int64_t expire_at_ms) {
  bool exists = LookupWrite(dst, key) != nullptr;
  if (exists && !opts.replace) return Result::Int(0);
  if (exists) dst.Notify(kNotifyNew, "new", key);  // Redis deletes it, then adds the copy
  StoreValue(dst, key, std::move(value), expire_at_ms);
  dst.Notify(kNotifyGeneric, "copy_to", key);
  return Result::Int(1);
}

Result CopyLocal(ShardData& shard, Db& db, int db_index, const std::vector<std::string>& args) {
  CopyOptions opts;
  Result err;
  if (!ParseCopyOptions(args, shard.db_count(), db_index, &opts, &err)) return err;
  Entry* src = LookupRead(db, args[1]);
  if (src == nullptr) return Result::Int(0);
  return CopyStore(shard.db(opts.dst_db), args[2], opts, src->ToValue(), src->expire_at_ms());
}

void CopyOnShard(ShardCommand& cmd) {
  CopyLocal(cmd.shard, cmd.db, cmd.db_index, OwnedArgs(cmd.args)).WriteTo(cmd.reply);
}

struct CopyState {
  std::vector<std::string> args;
  int src_shard = 0;
  int dst_shard = 0;
  CopyOptions opts;
  bool have_value = false;  // set by the source phase when the key exists
  Value value;
  int64_t expire_at_ms = kNoExpiry;
  Result result;
};

void CopyOnClient(ClientCommand& cmd) {
  auto st = std::make_shared<CopyState>();
  st->args = OwnedArgs(cmd.args);
  st->src_shard = cmd.ShardOf(cmd.args[1]);
  st->dst_shard = cmd.ShardOf(cmd.args[2]);
  if (st->src_shard == st->dst_shard) {
    cmd.RunOnShards(
        {st->src_shard},
        [st](ShardAccess& a) { st->result = CopyLocal(a.shard, a.db, a.db_index, st->args); },
        [st](ReplyBuilder& reply, FanOutRunner&) { st->result.WriteTo(reply); });
    return;
  }
  // Phase 1 on the source shard: options, then a copy of the value; phase 2 stores it.
  cmd.RunOnShards(
      {st->src_shard},
      [st](ShardAccess& a) {
        if (!ParseCopyOptions(st->args, a.shard.db_count(), a.db_index, &st->opts, &st->result)) {
          return;
        }
        Entry* src = LookupRead(a.db, st->args[1]);
        if (src == nullptr) {
          st->result = Result::Int(0);
          return;
        }
        st->value = src->ToValue();
        st->expire_at_ms = src->expire_at_ms();
        st->have_value = true;
      },
      [st](ReplyBuilder& reply, FanOutRunner& runner) {
        if (!st->have_value) {
          st->result.WriteTo(reply);
          return;
        }
        runner.RunOnShards(
            {st->dst_shard},
            [st](ShardAccess& a) {
              st->result = CopyStore(a.shard.db(st->opts.dst_db), st->args[2], st->opts,
                                     std::move(st->value), st->expire_at_ms);
            },
            [st](ReplyBuilder& reply, FanOutRunner&) { st->result.WriteTo(reply); });
      });
}

// ---------------------------------------------------------------------------------------------
// MOVE key db (Redis's moveCommand): the key stays on its shard, only the db changes.

void MoveCommand(ShardCommand& cmd) {
  int dst_index = 0;
  std::string_view err;
  if (!ParseIntArg(cmd.args[2], &dst_index, &err)) {
    cmd.reply.Error(err);
    return;
  }
  if (dst_index < 0 || dst_index >= cmd.shard.db_count()) {
    cmd.reply.Error(cmd::kDbIndexErr);
    return;
  }
  if (dst_index == cmd.db_index) {
    cmd.reply.Error(kSameObjectErr);
    return;
  }
  std::string_view key = cmd.args[1];
  Db& dst = cmd.shard.db(dst_index);
  if (LookupWrite(cmd.db, key) == nullptr || LookupWrite(dst, key) != nullptr) {
    cmd.reply.Integer(0);
    return;
  }
  std::optional<Db::Taken> taken = cmd.db.Take(key);
  StoreValue(dst, key, std::move(taken->value), taken->expire_at_ms);
  NotifyKeyspaceEvent(cmd, kNotifyGeneric, "move_from", key);
  dst.Notify(kNotifyGeneric, "move_to", key);
  cmd.reply.Integer(1);
}

// ---------------------------------------------------------------------------------------------
// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT|HELP. A container without keys in the table (as Redis
// lists it), so it runs on the client thread and sends the key's subcommand to its shard.

enum class ObjectSub : uint8_t { kEncoding, kFreq, kIdletime, kRefcount };

// Redis's LFUDecrAndReturn: the key's counter decayed to now (the entry keeps LFU data while an
// LFU policy is selected).
int64_t LfuCounter(const Entry& e, int64_t now_ms) { return e.LfuCounter(now_ms); }

Result ObjectQuery(ShardData& shard, Db& db, const Config& config, ObjectSub sub,
                   std::string_view key) {
  Entry* e = LookupNoTouch(shard, db, key, /*notify=*/false);
  if (e == nullptr) return Result::Null();
  switch (sub) {
    case ObjectSub::kEncoding:
      return Result::Bulk(EncodingName(*e));
    case ObjectSub::kRefcount: {
      int64_t v = 0;
      bool shared_int = e->type() == ValueType::kString && e->encoding() == StringEncoding::kInt &&
                        IsCanonicalInt(e->str(), &v) && v >= 0 && v < kSharedIntegers &&
                        !(config.maxmemory > 0 && IsLruOrLfuPolicy(config));
      return Result::Int(shared_int ? kSharedRefcount : 1);
    }
    case ObjectSub::kIdletime: {
      if (IsLfuPolicy(config)) return Result::Error(kLfuSelectedErr);
      int64_t idle = e->IdleSeconds(db.now_ms());
      return Result::Int(idle < 0 ? 0 : idle);
    }
    case ObjectSub::kFreq:
      if (!IsLfuPolicy(config)) return Result::Error(kLfuNotSelectedErr);
      return Result::Int(LfuCounter(*e, db.now_ms()));
  }
  return Result::Null();
}

constexpr std::string_view kObjectHelp[] = {
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

void ObjectCommand(ClientCommand& cmd) {
  std::string sub_name = cmd::ToLower(cmd.args[1]);
  ObjectSub sub;
  if (sub_name == "help") {
    if (cmd.args.size() != 2) {
      cmd.reply.Error(ArityError("object|help"));
      return;
    }
    cmd.reply.ArrayHeader(1 + std::size(kObjectHelp));
    // Redis prints argv[0] upper-cased, which is always OBJECT here.
    cmd.reply.SimpleString("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    for (std::string_view line : kObjectHelp) cmd.reply.SimpleString(line);
    return;
  } else if (sub_name == "encoding") {
    sub = ObjectSub::kEncoding;
  } else if (sub_name == "freq") {
    sub = ObjectSub::kFreq;
  } else if (sub_name == "idletime") {
    sub = ObjectSub::kIdletime;
  } else if (sub_name == "refcount") {
    sub = ObjectSub::kRefcount;
  } else {
    cmd.reply.Error("ERR unknown subcommand '" + std::string(cmd.args[1].substr(0, 128)) +
                    "'. Try OBJECT HELP.");
    return;
  }
  if (cmd.args.size() != 3) {
    cmd.reply.Error(ArityError("object|" + sub_name));
    return;
  }
  auto key = std::make_shared<const std::string>(cmd.args[2]);
  auto result = std::make_shared<Result>();
  cmd.RunOnShards(
      {cmd.ShardOf(*key)},
      [key, result, sub](ShardAccess& a) {
        *result = ObjectQuery(a.shard, a.db, a.config, sub, *key);
      },
      [result](ReplyBuilder& reply, FanOutRunner&) { result->WriteTo(reply); });
}

}  // namespace

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw]
// [KEYS key...]. Shardis does not open connections to other servers from a reactor (it would
// block it), so MIGRATE answers as Redis does when the target cannot be written to: NOKEY when
// none of the keys exists, else IOERR. The arguments are checked first, as Redis does.
void MigrateCommand(ShardCommand& cmd) {
  ArgList args = cmd.args;
  size_t first_key = 3;
  size_t num_keys = 1;
  for (size_t j = 6; j < args.size(); ++j) {
    size_t more = args.size() - 1 - j;
    if (cmd::EqualsIgnoreCase(args[j], "copy") || cmd::EqualsIgnoreCase(args[j], "replace")) {
      continue;
    } else if (cmd::EqualsIgnoreCase(args[j], "auth") && more >= 1) {
      ++j;
    } else if (cmd::EqualsIgnoreCase(args[j], "auth2") && more >= 2) {
      j += 2;
    } else if (cmd::EqualsIgnoreCase(args[j], "keys")) {
      if (!args[3].empty()) {
        cmd.reply.Error(
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty "
            "string");
        return;
      }
      first_key = j + 1;
      num_keys = args.size() - j - 1;
      break;
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  int64_t timeout = 0;
  int64_t dbid = 0;
  if (!cmd::ParseInt64(args[5], &timeout) || !cmd::ParseInt64(args[4], &dbid)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  bool any = false;
  for (size_t j = 0; j < num_keys; ++j) any = any || cmd.db.Lookup(args[first_key + j]) != nullptr;
  if (!any) {
    cmd.reply.SimpleString("NOKEY");
    return;
  }
  cmd.reply.Error("IOERR error or timeout writing to target instance");
}

// MIGRATE's keys: the key argument, or every argument after KEYS.
void MigrateKeys(ArgList args, std::vector<int>* positions) {
  for (size_t j = 6; j < args.size(); ++j) {
    if (cmd::EqualsIgnoreCase(args[j], "auth")) {
      ++j;
    } else if (cmd::EqualsIgnoreCase(args[j], "auth2")) {
      j += 2;
    } else if (cmd::EqualsIgnoreCase(args[j], "keys")) {
      for (size_t k = j + 1; k < args.size(); ++k) positions->push_back(static_cast<int>(k));
      return;
    }
  }
  if (args.size() > 3) positions->push_back(3);
}

void RegisterKeyCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kF = kCmdFast;
  constexpr std::string_view kWriteFast = "@keyspace @write @fast";
  constexpr std::string_view kReadFast = "@keyspace @read @fast";
  std::vector<CommandSpec> specs = {
      {"del", -2, kW, 1, -1, 1, "@keyspace @write @slow", "generic", "Delete a key", "1.0.0",
       MultiKeyOnShard<DelOp>, MultiKeyOnClient<DelOp>},
      {"unlink", -2, kW | kF, 1, -1, 1, kWriteFast, "generic",
       "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
       "blocking.",
       "4.0.0", MultiKeyOnShard<DelOp>, MultiKeyOnClient<DelOp>},
      {"exists", -2, kR | kF, 1, -1, 1, kReadFast, "generic", "Determine if a key exists", "1.0.0",
       MultiKeyOnShard<ExistsOp>, MultiKeyOnClient<ExistsOp>},
      {"touch", -2, kR | kF, 1, -1, 1, kReadFast, "generic",
       "Alters the last access time of a key(s). Returns the number of existing keys specified.",
       "3.2.1", MultiKeyOnShard<TouchOp>, MultiKeyOnClient<TouchOp>},
      {"type", 2, kR | kF, 1, 1, 1, kReadFast, "generic", "Determine the type stored at key",
       "1.0.0", TypeCommand},
      {"expire", -3, kW | kF, 1, 1, 1, kWriteFast, "generic", "Set a key's time to live in seconds",
       "1.0.0", ExpireCommand},
      {"pexpire", -3, kW | kF, 1, 1, 1, kWriteFast, "generic",
       "Set a key's time to live in milliseconds", "2.6.0", PexpireCommand},
      {"expireat", -3, kW | kF, 1, 1, 1, kWriteFast, "generic",
       "Set the expiration for a key as a UNIX timestamp", "1.2.0", ExpireatCommand},
      {"pexpireat", -3, kW | kF, 1, 1, 1, kWriteFast, "generic",
       "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "2.6.0",
       PexpireatCommand},
      {"ttl", 2, kR | kF, 1, 1, 1, kReadFast, "generic",
       "Get the time to live for a key in seconds", "1.0.0", TtlCommand<false, false>},
      {"pttl", 2, kR | kF, 1, 1, 1, kReadFast, "generic",
       "Get the time to live for a key in milliseconds", "2.6.0", TtlCommand<true, false>},
      {"expiretime", 2, kR | kF, 1, 1, 1, kReadFast, "generic",
       "Get the expiration Unix timestamp for a key", "7.0.0", TtlCommand<false, true>},
      {"pexpiretime", 2, kR | kF, 1, 1, 1, kReadFast, "generic",
       "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0",
       TtlCommand<true, true>},
      {"persist", 2, kW | kF, 1, 1, 1, kWriteFast, "generic", "Remove the expiration from a key",
       "2.2.0", PersistCommand},
      {"keys", 2, kR, 0, 0, 0, "@keyspace @read @slow @dangerous", "generic",
       "Find all keys matching the given pattern", "1.0.0", nullptr, KeysCommand},
      {"scan", -2, kR, 0, 0, 0, "@keyspace @read @slow", "generic",
       "Incrementally iterate the keys space", "2.8.0", nullptr, ScanCommand},
      {"randomkey", 1, kR, 0, 0, 0, "@keyspace @read @slow", "generic",
       "Return a random key from the keyspace", "1.0.0", nullptr, RandomkeyCommand},
      {"rename", 3, kW, 1, 2, 1, "@keyspace @write @slow", "generic", "Rename a key", "1.0.0",
       RenameOnShard<false>, RenameOnClient<false>},
      {"renamenx", 3, kW | kF, 1, 2, 1, kWriteFast, "generic",
       "Rename a key, only if the new key does not exist", "1.0.0", RenameOnShard<true>,
       RenameOnClient<true>},
      {"copy", -3, kW | kCmdDenyOom, 1, 2, 1, "@keyspace @write @slow", "generic", "Copy a key",
       "6.2.0", CopyOnShard, CopyOnClient},
      {"move", 3, kW | kF, 1, 1, 1, kWriteFast, "generic", "Move a key to another database",
       "1.0.0", MoveCommand},
      {"swapdb", 3, kW | kF, 0, 0, 0, "@keyspace @write @fast @dangerous", "server",
       "Swaps two Redis databases", "4.0.0", nullptr, SwapdbCommand},
      {"object", -2, 0, 0, 0, 0, "@slow", "generic",
       "A container for object introspection commands", "2.2.3", nullptr, ObjectCommand},
      {"object|encoding", 3, kR, 2, 2, 1, "@keyspace @read @slow", "generic",
       "Inspect the internal encoding of a Redis object", "2.2.3"},
      {"object|freq", 3, kR, 2, 2, 1, "@keyspace @read @slow", "generic",
       "Get the logarithmic access frequency counter of a Redis object", "4.0.0"},
      {"object|help", 2, kCmdLoading | kCmdStale, 0, 0, 0, "@keyspace @slow", "generic",
       "Show helpful text about the different subcommands", "6.2.0"},
      {"object|idletime", 3, kR, 2, 2, 1, "@keyspace @read @slow", "generic",
       "Get the time since a Redis object was last accessed", "2.2.3"},
      {"object|refcount", 3, kR, 2, 2, 1, "@keyspace @read @slow", "generic",
       "Get the number of references to the value of the key", "2.2.3"},
      {"dbsize", 1, kR | kF, 0, 0, 0, kReadFast, "server",
       "Return the number of keys in the selected database", "1.0.0", nullptr, DbsizeCommand},
      {"flushdb", -1, kW, 0, 0, 0, "@keyspace @write @slow @dangerous", "server",
       "Remove all keys from the current database", "1.0.0", nullptr, FlushdbCommand},
      {"flushall", -1, kW, 0, 0, 0, "@keyspace @write @slow @dangerous", "server",
       "Remove all keys from all databases", "1.0.0", nullptr, FlushallCommand},
  };
  CommandSpec migrate{"migrate",
                      -6,
                      kW | kCmdMovableKeys,
                      3,
                      3,
                      1,
                      "@keyspace @write @slow @dangerous",
                      "generic",
                      "Atomically transfer a key from a Redis instance to another one.",
                      "2.6.0",
                      MigrateCommand};
  migrate.get_keys = MigrateKeys;
  specs.push_back(migrate);
  table->insert(table->end(), specs.begin(), specs.end());
}

}  // namespace shardis
