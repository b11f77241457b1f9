// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP.
//
// Where a script runs: the dispatcher routes EVAL* by its declared KEYS (get_keys reads
// numkeys). When they all hash to one shard (or there are none: the connection's own shard)
// the on_shard handler runs the script there in one step, atomically, with the thread's
// LuaEngine. on_client handles the rest: a script body this thread has not cached yet (it is
// first compiled on every thread, so a later EVALSHA finds it wherever it runs) and declared
// keys spanning shards (the script runs on the first key's shard; a redis.call on a key of
// another shard fails until cross-shard transactions exist).
#include <memory>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/scripting/call_target.h"
#include "server/scripting/lua_engine.h"
#include "server/server_context.h"

namespace shardis {
namespace {

using scripting::LocalShardTarget;
using scripting::LuaEngine;
using scripting::ScriptRun;

struct EvalArgs {
  ArgList keys;
  ArgList argv;
};

// args: name, script-or-sha, numkeys, keys..., args...
bool ParseEvalArgs(ArgList args, EvalArgs* out, std::string* error) {
  int64_t numkeys;
  if (!cmd::ParseInt64(args[2], &numkeys)) {
    *error = cmd::kNotIntErr;
    return false;
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 3) {
    *error = "ERR Number of keys can't be greater than number of args";
    return false;
  }
  if (numkeys < 0) {
    *error = "ERR Number of keys can't be negative";
    return false;
  }
  out->keys = args.subspan(3, numkeys);
  out->argv = args.subspan(3 + numkeys);
  return true;
}

// Also used by FCALL (same layout).
void EvalKeys(ArgList args, std::vector<int>* positions) {
  int64_t numkeys;
  if (args.size() < 3 || !cmd::ParseInt64(args[2], &numkeys)) return;
  if (numkeys < 0 || numkeys > static_cast<int64_t>(args.size()) - 3) return;
  for (int64_t i = 0; i < numkeys; ++i) positions->push_back(static_cast<int>(3 + i));
}

bool IsSha(ArgList args) {
  return args[0].size() >= 7 && cmd::EqualsIgnoreCase(args[0].substr(0, 7), "evalsha");
}
bool IsReadOnly(ArgList args) {
  return args[0].size() > 3 && cmd::EqualsIgnoreCase(args[0].substr(args[0].size() - 3), "_ro");
}

// Runs EVAL* on this thread's shard. `db_index` may change through SELECT inside the script.
void RunEvalHere(ArgList args, ShardData& shard, int db_index, const Config& config,
                 int shard_index, ReplyBuilder& reply) {
  EvalArgs ea;
  std::string error;
  if (!ParseEvalArgs(args, &ea, &error)) {
    reply.Error(error);
    return;
  }
  LuaEngine& engine = LuaEngine::ThisThread();
  std::string sha;
  if (IsSha(args)) {
    sha = std::string(args[1]);
  } else if (!engine.LoadScript(args[1], &sha, &error)) {
    reply.Error(error);
    return;
  }
  LocalShardTarget target(shard, db_index, config, shard_index, LuaEngine::ThreadShardCount());
  ScriptRun run{ea.keys, ea.argv, IsReadOnly(args), &target};
  run.busy_threshold_ms = config.busy_reply_threshold;
  engine.RunScript(sha, run, reply);
}

void EvalShard(ShardCommand& c) {
  RunEvalHere(c.args, c.shard, c.db_index, c.config, LuaEngine::ThreadShardIndex(), c.reply);
}

bool EvalPreferClient(ArgList args) {
  return LuaEngine::ThreadShardCount() > 1 && !LuaEngine::ThisThread().KnowsBody(args[1]);
}

void EvalClient(ClientCommand& c) {
  EvalArgs ea;
  std::string error;
  if (!ParseEvalArgs(c.args, &ea, &error)) {
    c.reply.Error(error);
    return;
  }
  bool is_sha = IsSha(c.args);
  std::string body(is_sha ? std::string_view() : c.args[1]);
  if (!is_sha) {
    std::string sha;
    if (!LuaEngine::ThisThread().LoadScript(body, &sha, &error)) {
      c.reply.Error(error);
      return;
    }
  }
  int own = c.server != nullptr ? c.server->thread_index() : 0;
  int target = ea.keys.empty() ? own : c.ShardOf(ea.keys[0]);
  auto argv = std::make_shared<std::vector<std::string>>(c.args.begin(), c.args.end());
  auto out = std::make_shared<std::string>();
  RespVersion resp = c.client.resp;
  ShardTask task = [argv, out, resp](ShardAccess& a) {
    std::vector<std::string_view> args(argv->begin(), argv->end());
    ReplyBuilder reply(out.get(), resp);
    aof::Sink effects;  // the script's writes, logged as one MULTI/EXEC
    {
      aof::Capture capture(&effects);
      RunEvalHere(args, a.shard, a.db_index, a.config, a.shard_index, reply);
    }
    aof::AppendTransaction(effects);
  };
  FanOutDone done = [out](ReplyBuilder& reply, FanOutRunner&) { reply.Raw(*out); };
  if (!is_sha && c.server != nullptr && c.server->thread_count() > 1) {
    // Cache the new script on every thread first.
    c.server->ForEachThread(
        [body](ServerContext&) {
          std::string sha, err;
          LuaEngine::ThisThread().LoadScript(body, &sha, &err);
        },
        [target, task, done](ReplyBuilder&, FanOutRunner& runner) {
          runner.RunOnShards({target}, task, done);
        });
    return;
  }
  c.RunOnShards({target}, std::move(task), std::move(done));
}

// ---- SCRIPT ----

void CmdScript(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

void CmdScriptLoad(ClientCommand& c) {
  std::string body(c.args[2]);
  std::string sha, error;
  if (!LuaEngine::ThisThread().LoadScript(body, &sha, &error)) {
    c.reply.Error(error);
    return;
  }
  if (c.server == nullptr || c.server->thread_count() == 1) {
    c.reply.Bulk(sha);
    return;
  }
  c.server->ForEachThread(
      [body](ServerContext&) {
        std::string s, e;
        LuaEngine::ThisThread().LoadScript(body, &s, &e);
      },
      [sha](ReplyBuilder& reply, FanOutRunner&) { reply.Bulk(sha); });
}

void CmdScriptExists(ClientCommand& c) {
  LuaEngine& engine = LuaEngine::ThisThread();
  c.reply.ArrayHeader(c.args.size() - 2);
  for (size_t i = 2; i < c.args.size(); ++i) c.reply.Integer(engine.HasScript(c.args[i]) ? 1 : 0);
}

void CmdScriptFlush(ClientCommand& c) {
  if (c.args.size() > 3 || (c.args.size() == 3 && !cmd::EqualsIgnoreCase(c.args[2], "sync") &&
                            !cmd::EqualsIgnoreCase(c.args[2], "async"))) {
    c.reply.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    return;
  }
  if (c.server == nullptr) {
    LuaEngine::ThisThread().FlushScripts();
    c.reply.Ok();
    return;
  }
  c.server->ForEachThread([](ServerContext&) { LuaEngine::ThisThread().FlushScripts(); },
                          [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
}

void CmdScriptKill(ClientCommand& c) {
  std::string error =
      LuaEngine::RequestKill(c.server != nullptr ? c.server->thread_count() : 1, true);
  if (error.empty()) {
    c.reply.Ok();
  } else {
    c.reply.Error(error);
  }
}

void CmdScriptHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help.",
  };
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

void CmdScriptDebug(ClientCommand& c) {
  c.reply.Error("ERR SCRIPT DEBUG is not supported by this server");
}

}  // namespace

namespace scripting {
// Shared with function_family.cc (FCALL has EVAL's argument layout).
void NumkeysKeys(ArgList args, std::vector<int>* positions) { EvalKeys(args, positions); }
}  // namespace scripting

void RegisterScriptingCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kEvalFlags =
      kCmdNoscript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys | kCmdMovableKeys;
  for (auto [name, flags, summary] :
       {std::tuple{"eval", kEvalFlags, "Execute a Lua script server side"},
        std::tuple{"evalsha", kEvalFlags, "Execute a Lua script server side"},
        std::tuple{"eval_ro", kEvalFlags | kCmdReadonly,
                   "Execute a read-only Lua script server side"},
        std::tuple{"evalsha_ro", kEvalFlags | kCmdReadonly,
                   "Execute a read-only Lua script server side"}}) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = -3;
    spec.flags = flags;
    spec.acl_categories = "@slow @scripting";
    spec.group = "scripting";
    spec.summary = summary;
    spec.since = std::string_view(name).ends_with("_ro") ? "7.0.0" : "2.6.0";
    spec.on_shard = EvalShard;
    spec.on_client = EvalClient;
    spec.get_keys = EvalKeys;
    if (!std::string_view(name).starts_with("evalsha")) spec.prefer_client = EvalPreferClient;
    table->push_back(spec);
  }
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view summary,
                     std::string_view since, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = name == "script" ? "@slow" : "@slow @scripting";
    spec.group = "scripting";
    spec.summary = summary;
    spec.since = since;
    spec.on_client = handler;
    table->push_back(spec);
  };
  add("script", -2, 0, "A container for Lua scripts management commands", "2.6.0", CmdScript);
  add("script|load", 3, kCmdNoscript | kCmdStale,
      "Load the specified Lua script into the script cache.", "2.6.0", CmdScriptLoad);
  add("script|exists", -3, kCmdNoscript, "Check existence of scripts in the script cache.", "2.6.0",
      CmdScriptExists);
  add("script|flush", -2, kCmdNoscript, "Remove all the scripts from the script cache.", "2.6.0",
      CmdScriptFlush);
  add("script|kill", 2, kCmdNoscript | kCmdAllowBusy, "Kill the script currently in execution.",
      "2.6.0", CmdScriptKill);
  add("script|help", 2, kCmdLoading | kCmdStale,
      "Show helpful text about the different subcommands", "5.0.0", CmdScriptHelp);
  add("script|debug", 3, kCmdNoscript, "Set the debug mode for executed scripts.", "3.2.0",
      CmdScriptDebug);
}

}  // namespace shardis
