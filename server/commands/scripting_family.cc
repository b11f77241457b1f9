// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP.
//
// Where a script runs: the dispatcher routes EVAL* by its declared KEYS (get_keys reads
// numkeys). A script this thread has seen keep to its declared keys (LuaEngine::key_use), with
// those keys on one shard (or none: the connection's own shard), takes the fast path: the
// on_shard handler runs it there in one step, atomically. Any other (a new script, one that
// touched undeclared keys, declared keys on several shards) runs through on_client, inside the
// atomic operation the dispatcher opens over its declared keys, widened to every shard whole
// unless it is known to keep to them (EvalWidenScope): on the connection's thread, as a
// coroutine whose calls on other shards are phases of that operation (script_run.h). A new body
// is first compiled on every thread, so a later EVALSHA finds it wherever it runs.
#include <memory>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/scripting/call_target.h"
#include "server/scripting/lua_engine.h"
#include "server/scripting/script_run.h"
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

// The key-use id of the script EVAL* names, or "" when this thread has not cached it.
std::string KeyUseId(ArgList args) {
  if (IsSha(args)) return scripting::ScriptKeyUseId(false, args[1]);
  std::string_view sha = LuaEngine::ThisThread().ShaOfBody(args[1]);
  return sha.empty() ? std::string() : scripting::ScriptKeyUseId(false, sha);
}

// The fast path (on_shard, in one step on the shard of the declared keys) is for scripts this
// thread has seen touch only the keys they declare. Others run on the connection's thread
// across shards (script_run.h).
bool EvalPreferClient(ArgList args) {
  if (LuaEngine::ThreadShardCount() == 1) return false;
  std::string id = KeyUseId(args);
  return id.empty() || LuaEngine::ThisThread().key_use(id) != scripting::KeyUse::kDeclaredOnly;
}

// A script not known to keep to its declared keys holds every shard while it runs.
void EvalWidenScope(ArgList args, AtomicScope* scope) {
  std::string id = KeyUseId(args);
  if (id.empty() || LuaEngine::ThisThread().key_use(id) != scripting::KeyUse::kDeclaredOnly) {
    scope->all_shards = true;
  }
}

// Inside the atomic operation the dispatcher opened (EvalWidenScope): runs the script here,
// across shards, after caching a new body on every thread (so a later EVALSHA finds it
// wherever it runs).
void EvalClient(ClientCommand& c) {
  EvalArgs ea;
  std::string error;
  if (!ParseEvalArgs(c.args, &ea, &error)) {
    c.reply.Error(error);
    return;
  }
  bool is_sha = IsSha(c.args);
  LuaEngine& engine = LuaEngine::ThisThread();
  bool new_body = !is_sha && !engine.KnowsBody(c.args[1]);
  std::string sha;
  if (is_sha) {
    sha = std::string(c.args[1]);
  } else if (!engine.LoadScript(c.args[1], &sha, &error)) {
    c.reply.Error(error);
    return;
  }
  if (c.server ==
      nullptr) {  // unit tests: no coordinator; the script runs on the first key's shard
    int target = ea.keys.empty() ? 0 : c.ShardOf(ea.keys[0]);
    auto argv = std::make_shared<std::vector<std::string>>(c.args.begin(), c.args.end());
    auto out = std::make_shared<std::string>();
    RespVersion resp = c.client.resp;
    c.RunOnShards(
        {target},
        [argv, out, resp](ShardAccess& a) {
          std::vector<std::string_view> args(argv->begin(), argv->end());
          ReplyBuilder reply(out.get(), resp);
          RunEvalHere(args, a.shard, a.db_index, a.config, a.shard_index, reply);
        },
        [out](ReplyBuilder& reply, FanOutRunner&) { reply.Raw(*out); });
    return;
  }
  scripting::CrossShardScript script;
  script.argv.assign(c.args.begin(), c.args.end());
  script.sha = std::move(sha);
  script.numkeys = ea.keys.size();
  script.read_only = IsReadOnly(c.args);
  script.db_index = c.client.db_index;
  script.busy_threshold_ms = c.server->config().busy_reply_threshold;
  script.acl_user = scripting::ScriptAclUser(c);
  ServerContext* server = c.server;
  if (new_body && server->thread_count() > 1) {
    std::string body(c.args[1]);
    server->ForEachThread(
        [body](ServerContext&) {
          std::string s, e;
          LuaEngine::ThisThread().LoadScript(body, &s, &e);
        },
        [server, script = std::move(script)](ReplyBuilder& reply, FanOutRunner& runner) mutable {
          scripting::RunScriptAcrossShards(std::move(script), server->shard(), server->config(),
                                           server->thread_index(), reply, runner);
        });
    return;
  }
  scripting::RunScriptAcrossShards(std::move(script), server->shard(), server->config(),
                                   server->thread_index(), c.reply, c.runner());
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

// The Lua debugger is not implemented: NO (its default state) is accepted as Redis does,
// YES/SYNC are refused, anything else gets Redis's usage error.
void CmdScriptDebug(ClientCommand& c) {
  std::string_view mode = c.args[2];
  if (cmd::EqualsIgnoreCase(mode, "no")) {
    c.reply.Ok();
  } else if (cmd::EqualsIgnoreCase(mode, "yes") || cmd::EqualsIgnoreCase(mode, "sync")) {
    c.reply.Error("ERR SCRIPT DEBUG is not supported by this server");
  } else {
    c.reply.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
  }
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
    spec.prefer_client = EvalPreferClient;
    spec.widen_scope = EvalWidenScope;
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
