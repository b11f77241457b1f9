// Persistence commands: DUMP and RESTORE (run on the shard that owns the key; Redis's payload
// format, see storage/rdb/rdb_codec.h), and SAVE, BGSAVE [SCHEDULE], LASTSAVE, DEBUG RELOAD (run
// on the connection's thread and fan out to every shard, see server/persistence.h).
#include <algorithm>
#include <cassert>
#include <chrono>
#include <memory>
#include <optional>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/logging.h"
#include "server/persistence.h"
#include "server/server_context.h"
#include "storage/eviction.h"
#include "storage/rdb/rdb_codec.h"
#include "storage/rdb/rdb_db.h"

namespace shardis {
namespace {

using cmd::EqualsIgnoreCase;

constexpr std::string_view kSaveInProgress = "ERR Background save already in progress";

void DumpCommand(ShardCommand& cmd) {
  std::string payload;
  if (!rdb::DumpKey(cmd.db, cmd.args[1], SaveOptionsFrom(cmd.config), &payload)) {
    cmd.reply.Null();
    return;
  }
  cmd.reply.Bulk(payload);
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], with Redis
// 7.0's order of checks and error texts.
void RestoreCommand(ShardCommand& cmd) {
  ArgList args = cmd.args;
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t j = 4; j < args.size(); ++j) {
    size_t additional = args.size() - j - 1;
    if (EqualsIgnoreCase(args[j], "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(args[j], "absttl")) {
      absttl = true;
    } else if (EqualsIgnoreCase(args[j], "idletime") && additional >= 1 && freq == -1) {
      if (!cmd::ParseInt64(args[j + 1], &idle)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (idle < 0) {
        cmd.reply.Error("ERR Invalid IDLETIME value, must be >= 0");
        return;
      }
      ++j;
    } else if (EqualsIgnoreCase(args[j], "freq") && additional >= 1 && idle == -1) {
      if (!cmd::ParseInt64(args[j + 1], &freq)) {
        cmd.reply.Error(cmd::kNotIntErr);
        return;
      }
      if (freq < 0 || freq > 255) {
        cmd.reply.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return;
      }
      ++j;
    } else {
      cmd.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  std::string_view key = args[1];
  if (!replace && rdb::KeyExists(cmd.db, key)) {
    cmd.reply.Error("BUSYKEY Target key name already exists.");
    return;
  }
  int64_t ttl;
  if (!cmd::ParseInt64(args[2], &ttl)) {
    cmd.reply.Error(cmd::kNotIntErr);
    return;
  }
  if (ttl < 0) {
    cmd.reply.Error("ERR Invalid TTL value, must be >= 0");
    return;
  }
  Value value;
  switch (rdb::ParseDumpPayload(args[3], LoadLimitsFrom(cmd.config), &value)) {
    case rdb::RestoreStatus::kOk:
      break;
    case rdb::RestoreStatus::kBadVersionOrChecksum:
      cmd.reply.Error("ERR DUMP payload version or checksum are wrong");
      return;
    case rdb::RestoreStatus::kBadFormat:
      cmd.reply.Error("ERR Bad data format");
      return;
  }
  bool deleted = replace && rdb::DeleteKey(cmd.db, key);
  if (ttl != 0 && !absttl) ttl += cmd.now_ms();
  if (ttl != 0 && ttl <= cmd.now_ms()) {
    if (deleted) NotifyKeyspaceEvent(cmd, kNotifyGeneric, "del", key);
    cmd.reply.Ok();  // already expired: nothing is created (an old value was still replaced)
    return;
  }
  rdb::StoreKey(cmd.db, key, std::move(value), ttl != 0 ? ttl : -1, -1);
  // As Redis's objectSetLRUOrLFU: under an LFU policy FREQ sets the counter (IDLETIME is
  // ignored), otherwise IDLETIME sets the LRU clock (FREQ is ignored). The policy is this
  // shard's config (as OBJECT FREQ's), which CONFIG SET has updated before it replies.
  std::optional<EvictionPolicy> policy = ParseEvictionPolicy(cmd.config.maxmemory_policy);
  bool lfu = policy && IsLfuPolicy(*policy);
  if ((lfu && freq >= 0) || (!lfu && idle >= 0)) {
    Entry* e = cmd.db.Find(key);
    assert(e != nullptr);
    int64_t now = cmd.now_ms();
    if (lfu) {
      e->set_access_bits((Entry::LfuMinutes(now) << 8) | static_cast<uint64_t>(freq));
    } else {
      e->set_access_bits(static_cast<uint64_t>(std::max<int64_t>(now / 1000 - idle, 0)));
    }
  }
  NotifyKeyspaceEvent(cmd, kNotifyGeneric, "restore", key);
  cmd.reply.Ok();
}

FanOutStarter StarterFor(ClientCommand& c) { return AtomicAllShardsStarter(c.runner()); }

void SaveCommand(ClientCommand& c) {
  bool started = StartSave(c.server->config(), SaveMode::kForeground, StarterFor(c),
                           [](ReplyBuilder& reply, FanOutRunner&, const std::string& error) {
                             if (error.empty()) {
                               reply.Ok();
                             } else {
                               reply.Error("ERR");
                             }
                           });
  if (!started) c.reply.Error(kSaveInProgress);
}

void BgsaveCommand(ClientCommand& c) {
  bool schedule = false;
  if (c.args.size() > 1) {
    if (c.args.size() == 2 && EqualsIgnoreCase(c.args[1], "schedule")) {
      schedule = true;
    } else {
      c.reply.Error(cmd::kSyntaxErr);
      return;
    }
  }
  bool started = StartSave(c.server->config(), SaveMode::kBackground, StarterFor(c),
                           [](ReplyBuilder& reply, FanOutRunner&, const std::string&) {
                             reply.SimpleString("Background saving started");
                           });
  if (started) return;
  if (schedule) {
    Persistence().bgsave_scheduled.store(true);
    c.reply.SimpleString("Background saving scheduled");
  } else {
    c.reply.Error(kSaveInProgress);
  }
}

void LastsaveCommand(ClientCommand& c) { c.reply.Integer(Persistence().last_save_time_s.load()); }

}  // namespace

// DEBUG RELOAD: save, empty every database, load the file back (as Redis's debug.c does).
void DebugReload(ClientCommand& c) {
  auto config = std::make_shared<Config>(c.server->config());
  bool started = StartSave(
      *config, SaveMode::kForeground, StarterFor(c),
      [config](ReplyBuilder& reply, FanOutRunner& runner, const std::string& error) {
        if (!error.empty()) {
          reply.Error("ERR Error trying to save the DB");
          return;
        }
        auto per_shard = std::make_shared<std::vector<std::vector<rdb::LoadedKey>>>();
        rdb::LoadStats stats;
        int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        std::string err = ReadRdbFile(config->dir + "/" + config->dbfilename, *config,
                                      runner.shard_count(), now, per_shard.get(), &stats);
        if (!err.empty()) {
          Log(LogLevel::kWarning, "DEBUG RELOAD: %s", err);
          reply.Error("ERR Error trying to load the RDB dump, check server logs.");
          return;
        }
        std::vector<int> all(runner.shard_count());
        for (int i = 0; i < runner.shard_count(); ++i) all[i] = i;
        auto errors = std::make_shared<std::vector<std::string>>(runner.shard_count());
        runner.RunOnShards(
            std::move(all),
            [per_shard, errors](ShardAccess& a) {
              for (int db = 0; db < a.shard.db_count(); ++db) a.shard.db(db).Clear();
              (*errors)[a.shard_index] = InsertLoadedKeys(a.shard, &(*per_shard)[a.shard_index]);
            },
            [errors](ReplyBuilder& reply, FanOutRunner&) {
              for (const std::string& e : *errors) {
                if (!e.empty()) {
                  Log(LogLevel::kWarning, "DEBUG RELOAD: %s", e);
                  reply.Error("ERR Error trying to load the RDB dump, check server logs.");
                  return;
                }
              }
              reply.Ok();
            });
      });
  if (!started) c.reply.Error(kSaveInProgress);
}

void RegisterPersistenceCommands(std::vector<CommandSpec>* table) {
  CommandSpec dump{};
  dump.name = "dump";
  dump.arity = 2;
  dump.flags = kCmdReadonly;
  dump.first_key = 1;
  dump.last_key = 1;
  dump.key_step = 1;
  dump.acl_categories = "@keyspace @read @slow";
  dump.group = "generic";
  dump.summary = "Return a serialized version of the value stored at the specified key.";
  dump.since = "2.6.0";
  dump.on_shard = DumpCommand;
  table->push_back(dump);

  CommandSpec restore = dump;
  restore.name = "restore";
  restore.arity = -4;
  restore.flags = kCmdWrite | kCmdDenyOom;
  restore.acl_categories = "@keyspace @write @slow @dangerous";
  restore.summary =
      "Create a key using the provided serialized value, previously obtained using DUMP.";
  restore.on_shard = RestoreCommand;
  table->push_back(restore);
  CommandSpec restore_asking = restore;  // Redis Cluster's migration form: the same command here
  restore_asking.name = "restore-asking";
  restore_asking.group = "server";
  restore_asking.summary = "An internal command for migrating keys in a cluster";
  restore_asking.since = "3.0.0";
  restore_asking.flags |= kCmdAsking;
  table->push_back(restore_asking);

  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = "server";
    spec.summary = summary;
    spec.since = "1.0.0";
    spec.on_client = handler;
    table->push_back(spec);
  };
  add("save", 1, kCmdAdmin | kCmdNoscript | kCmdNoMulti | kCmdNoAsyncLoading,
      "@admin @slow @dangerous", "Synchronously save the dataset to disk", SaveCommand);
  add("bgsave", -1, kCmdAdmin | kCmdNoscript | kCmdNoAsyncLoading, "@admin @slow @dangerous",
      "Asynchronously save the dataset to disk", BgsaveCommand);
  add("bgrewriteaof", 1, kCmdAdmin | kCmdNoscript | kCmdNoAsyncLoading, "@admin @slow @dangerous",
      "Asynchronously rewrite the append-only file", aof::BgRewriteCommand);
  add("lastsave", 1, kCmdLoading | kCmdStale | kCmdFast, "@admin @fast @dangerous",
      "Get the UNIX time stamp of the last successful save to disk", LastsaveCommand);
}

}  // namespace shardis
