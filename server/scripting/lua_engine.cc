// The Lua engine: sandbox, redis.* API, Lua <-> RESP conversions, the script cache and function
// libraries of one thread. See lua_engine.h.
//
// Sandbox (Redis 7.0's, on Debian's stock Lua 5.1, which has no read-only tables): after the
// libraries are open, every global moves into a hidden table and the globals table stays empty
// with a metatable whose __index reads the hidden table (a missing name raises "Script attempted
// to access nonexistent global variable") and whose __newindex raises "Attempt to modify a
// readonly table". Library tables (redis, string, math, table, cjson, struct, cmsgpack, bit,
// coroutine) are replaced by read-only proxies the same way; rawset refuses those tables, and
// the string metatable is hidden behind a read-only view. While a function library loads,
// globals resolve in a separate table that holds only the load-time `redis` API
// (register_function, log).
#include "server/scripting/lua_engine.h"

#include <time.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "server/acl.h"
#include "server/call_stats.h"
#include "server/command_table.h"
#include "server/config_parse.h"
#include "server/logging.h"
#include "server/memory_accounting.h"
#include "server/scripting/lua_cmsgpack.h"
#include "server/scripting/lua_convert.h"
#include "server/scripting/lua_sandbox.h"
#include "server/scripting/lua_struct.h"
#include "server/scripting/sha1.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

namespace shardis::scripting {
namespace {

constexpr const char* kEngineKey = "shardis.engine";
constexpr const char* kHiddenKey = "shardis.hidden";  // the real globals
constexpr const char* kLoadEnvKey = "shardis.loadenv";

thread_local int tls_shard_index = 0;
thread_local int tls_shard_count = 1;
thread_local std::function<bool()>* tls_busy_poller = nullptr;

// What other threads may know about each thread's busy script: the only state scripting shares
// across threads (SCRIPT KILL must reach a thread whose loop is stuck in a script, which no
// mailbox message could). Written by the owning thread, read (and `kill` set) by any.
struct BusySlot {
  std::atomic<int> kind{0};  // BusyKind
  std::atomic<bool> wrote{false};
  std::atomic<bool> kill{false};
};
constexpr int kMaxBusySlots = 1024;
BusySlot g_busy[kMaxBusySlots];

BusySlot* MySlot() { return tls_shard_index < kMaxBusySlots ? &g_busy[tls_shard_index] : nullptr; }

int64_t MonoMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

constexpr int kHookInstructions = 100000;
constexpr int64_t kLoadTimeoutMs = 500;

LuaEngine* EngineOf(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kEngineKey);
  auto* e = static_cast<LuaEngine*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return e;
}

// The error handler of every invocation: turns the error into {err=..., source=..., line=...}
// naming the Lua line that raised it (skipping a C function such as redis.call or error).
// Replaces the error value at `index` of L by {err=..., source=..., line=...}, naming the first
// Lua function among the stack levels first_level..first_level+4 (skipping C functions such as
// redis.call or error, tail calls and the yielding pcall).
void AnnotateError(lua_State* L, int index, int first_level) {
  lua_Debug ar;
  bool found = false;
  for (int level = first_level; level <= first_level + 4; ++level) {
    if (lua_getstack(L, level, &ar) == 0) break;
    lua_getinfo(L, "Sl", &ar);
    // The yielding pcall (kYieldingPcall, chunk "=pcall", and its tail calls) is ours: the
    // user's line is above it.
    if (std::strcmp(ar.what, "C") != 0 && std::strcmp(ar.what, "tail") != 0 &&
        std::strcmp(ar.source, "=pcall") != 0) {
      found = true;
      break;
    }
  }
  lua_checkstack(L, 4);
  if (!lua_istable(L, index)) {
    // As Redis's handler: 'ERR ' .. tostring(err).
    const char* s = lua_tostring(L, index);
    std::string msg;
    if (s != nullptr) {
      msg = Cat("ERR ", s);
    } else if (lua_isnil(L, index)) {
      msg = "ERR nil";
    } else if (lua_isboolean(L, index)) {
      msg = lua_toboolean(L, index) ? "ERR true" : "ERR false";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%s: %p", lua_typename(L, lua_type(L, index)),
                    lua_topointer(L, index));
      msg = Cat("ERR ", buf);
    }
    lua_newtable(L);
    lua_pushlstring(L, msg.data(), msg.size());
    lua_setfield(L, -2, "err");
    lua_replace(L, index);
  }
  if (found) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, index, "source");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, index, "line");
  }
}

// The error handler of every synchronous invocation (level 0 is the handler itself).
int ErrorHandler(lua_State* L) {
  AnnotateError(L, 1, 1);
  lua_settop(L, 1);
  return 1;
}

// Writes the result of an invocation (the value on top of L) or its error (an annotated table,
// or a message) as the reply.
// The errors of a script's reply are counted as Redis counts them (server/call_stats.h).
void ReplyWithResult(lua_State* L, bool ok, std::string_view name, RespVersion resp,
                     ReplyBuilder& reply) {
  ReplyErrors errors;
  const std::string* buffer = reply.buffer();
  const size_t at = buffer->size();
  if (ok) {
    LuaToReply(L, reply, resp, &errors);
  } else if (lua_istable(L, -1)) {
    errors.top_counted = ErrorTableCounted(L);
    lua_getfield(L, -1, "err");
    lua_getfield(L, -2, "source");
    lua_getfield(L, -3, "line");
    size_t len = 0;
    const char* err = lua_tolstring(L, -3, &len);
    std::string msg = err != nullptr ? std::string(err, len) : "ERR unknown error";
    if (lua_isstring(L, -2) && lua_isnumber(L, -1)) {
      CatAppend(&msg, " script: ", name, ", on ", lua_tostring(L, -2), ":",
                static_cast<int64_t>(lua_tointeger(L, -1)), ".");
    }
    reply.Error(msg);
  } else {
    const char* err = lua_tostring(L, -1);
    reply.Error(Cat("ERR Error running script: ", err != nullptr ? err : "unknown error"));
  }
  CallStatsSink* sink = ThreadCallStatsSink();
  if (sink == nullptr) return;
  for (const std::string& e : errors.nested_uncounted) sink->CountScriptReplyError(e);
  int failures = errors.nested_counted + (errors.nested_uncounted.empty() ? 0 : 1);
  if (errors.top_counted || failures > 0)
    sink->MarkScriptReply(buffer, at, errors.top_counted, failures);
}

// The global `pcall` while a coroutine run executes (see lua_engine.h): the callee runs in a
// coroutine of its own whose yields pass through to the script's coroutine; as the C pcall, an
// error table {err=...} comes back as its message. A script killed by SCRIPT KILL / FUNCTION KILL
// is not caught: the kill error goes on up (each coroutine has its own hook, so the caller's would
// not raise it again at its next line as Redis's does).
constexpr std::string_view kYieldingPcall = R"lua(
local create, resume, status, yield, type, raise_if_killed = ...
return function(f, ...)
  local co = create(function(...) return f(...) end)
  local function step(ok, ...)
    if not ok then
      raise_if_killed()
      local e = ...
      if type(e) == 'table' and type(e.err) == 'string' then e = e.err end
      return false, e
    end
    if status(co) == 'dead' then return true, ... end
    return step(resume(co, yield(...)))
  end
  return step(resume(co, ...))
end
)lua";
constexpr const char* kNativePcallKey = "shardis.pcall";
constexpr const char* kYieldingPcallKey = "shardis.yielding_pcall";

// ---- Flags ----

bool ParseFlagName(std::string_view name, uint32_t* flags) {
  if (name == "no-writes") {
    *flags |= kScriptNoWrites;
  } else if (name == "allow-oom") {
    *flags |= kScriptAllowOom;
  } else if (name == "allow-stale") {
    *flags |= kScriptAllowStale;
  } else if (name == "no-cluster") {
    *flags |= kScriptNoCluster;
  } else if (name == "allow-cross-slot-keys") {
    *flags |= kScriptAllowCrossSlot;
  } else {
    return false;
  }
  return true;
}

// EVAL's "#!lua [flags=a,b]" first line. Returns false with *error on a bad shebang.
bool ParseShebang(std::string_view body, uint32_t* flags, std::string* error) {
  *flags = 0;
  if (!body.starts_with("#!")) return true;
  size_t nl = body.find('\n');
  std::string_view line = body.substr(0, nl);
  std::vector<absl::string_view> parts = absl::StrSplit(AV(line), ' ', absl::SkipEmpty());
  if (parts.empty() || parts[0] != "#!lua") {
    *error = Cat("ERR Unexpected engine in script shebang: ", parts.empty() ? "" : parts[0]);
    return false;
  }
  *flags = kScriptShebang;
  for (size_t i = 1; i < parts.size(); ++i) {
    absl::string_view part = parts[i];
    if (!absl::StartsWith(part, "flags=")) {
      *error = Cat("ERR Unknown lua shebang option: ", part);
      return false;
    }
    part.remove_prefix(6);
    for (absl::string_view f : absl::StrSplit(part, ',', absl::SkipEmpty())) {
      if (!ParseFlagName({f.data(), f.size()}, flags)) {
        *error = Cat("ERR Unexpected flag in script shebang: ", f);
        return false;
      }
    }
  }
  return true;
}

// The code Lua compiles: the shebang line blanked so line numbers stay right.
std::string CompilableBody(std::string_view body) {
  if (!body.starts_with("#!")) return std::string(body);
  size_t nl = body.find('\n');
  if (nl == std::string_view::npos) return "";
  return std::string(body.substr(nl));
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

namespace {

// Redis's checks of the calling user's permissions at each redis.call (scriptVerifyACL).
std::string AclError(const AclUser& user, const CommandSpec& spec, ArgList args) {
  int pos = 0;
  switch (AclStore::Check(user, spec, args, &pos)) {
    case AclResult::kOk:
      return {};
    case AclResult::kDeniedCommand:
      return "The user executing the script can't run this command or subcommand";
    case AclResult::kDeniedKey:
      return "The user executing the script can't access at least one of the keys mentioned in "
             "the command arguments";
    case AclResult::kDeniedChannel:
      break;
  }
  return "The user executing the script can't publish to the channel mentioned in the command";
}

}  // namespace

// The Lua C functions, with access to the engine's private state.
struct LuaEngine::Impl {
  static bool Loading(lua_State* L) { return EngineOf(L)->loading_ != nullptr; }

  // redis.call / redis.pcall. Lua errors unwind with longjmp, which skips C++ destructors: the
  // work (with its strings and vectors) happens in CallAndPush, and only its caller raises.
  // kDeferred: the target took the command; the coroutine run suspends until Resume.
  enum class CallOutcome { kValue, kError, kFatal, kDeferred };
  static int GenericCall(lua_State* L, bool raise) {
    CallOutcome outcome = CallAndPush(L);
    if (outcome == CallOutcome::kDeferred) {
      LuaEngine* e = EngineOf(L);
      e->async_->yielded_ = L;
      e->async_->raise_ = raise;
      e->deferred_ = true;
      return lua_yield(L, 0);
    }
    if (outcome == CallOutcome::kFatal || (outcome == CallOutcome::kError && raise)) {
      return lua_error(L);
    }
    return 1;
  }

  // The command and arguments of a redis.call / redis.pcall / redis.acl_check_cmd (numbers as
  // Redis formats them), or false with an error table pushed.
  static bool ReadCommandArgs(lua_State* L, std::vector<std::string>* argv) {
    int argc = lua_gettop(L);
    if (argc == 0) {
      PushErrorTable(L, "Please specify at least one argument for this redis lib call");
      return false;
    }
    argv->resize(argc);
    for (int i = 1; i <= argc; ++i) {
      if (lua_type(L, i) == LUA_TNUMBER) {
        char buf[64];
        int n = std::snprintf(buf, sizeof(buf), "%.17g", static_cast<double>(lua_tonumber(L, i)));
        (*argv)[i - 1].assign(buf, n);
      } else if (lua_type(L, i) == LUA_TSTRING) {
        size_t len;
        const char* str = lua_tolstring(L, i, &len);
        (*argv)[i - 1].assign(str, len);
      } else {
        lua_settop(L, 0);
        PushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
        return false;
      }
    }
    return true;
  }

  // Pushes the command's reply as a Lua value, or an error table.
  static CallOutcome CallAndPush(lua_State* L) {
    LuaEngine* e = EngineOf(L);
    if (e->cur_.run == nullptr) {
      PushErrorTable(L, "redis.call/pcall can only be called inside a script invocation");
      return CallOutcome::kFatal;
    }
    std::vector<std::string>& argv = e->call_args_;
    if (!ReadCommandArgs(L, &argv)) return CallOutcome::kError;
    lua_settop(L, 0);
    std::vector<std::string_view> args(argv.begin(), argv.end());
    const CommandTable& table = CommandTable::Get();
    const CommandSpec* spec = table.Find(args[0]);
    std::string error;
    if (spec == nullptr) {
      error = "Unknown Redis command called from script";
    } else if (!CommandTable::ArityOk(*spec, args.size())) {
      error = "Wrong number of args calling Redis command from script";
    } else {
      const CommandSpec* effective = spec;
      if (args.size() >= 2) {
        if (const CommandSpec* sub = table.FindSubcommand(args[0], args[1])) effective = sub;
      }
      uint32_t flags = effective->flags | spec->flags;
      bool read_only = e->cur_.run->read_only_command || (e->cur_.flags & kScriptNoWrites);
      if (flags & kCmdNoscript) {
        error = "This Redis command is not allowed from script";
      } else if (e->cur_.run->acl_user != nullptr) {
        error = AclError(*e->cur_.run->acl_user, *effective, args);
      }
      if (error.empty() && (flags & kCmdWrite) && read_only) {
        error = "Write commands are not allowed from read-only scripts.";
      } else if ((flags & kCmdDenyOom) && !(e->cur_.flags & kScriptAllowOom) &&
                 memory::ScriptOom()) {
        // Redis's scriptVerifyOOM: the state taken when the script's command was dispatched.
        error = "-OOM command not allowed when used memory > 'maxmemory'.";  // code kept
      }
    }
    if (error.empty()) {
      e->call_reply_.clear();
      ReplyBuilder reply(&e->call_reply_, e->cur_.resp);
      CallStatus status = e->cur_.run->target->Call(*spec, args, reply, &error);
      if (status == CallStatus::kDeferred) {
        if (e->async_ != nullptr) {
          e->async_->call_writes_ = (spec->flags & kCmdWrite) != 0;
          return CallOutcome::kDeferred;
        }
        error = "ERR a deferred call outside a coroutine run";  // a broken target
      }
      if (status != CallStatus::kReplied) {
        e->call_reply_.clear();
      } else if ((spec->flags & kCmdWrite) && !e->cur_.wrote && !e->call_reply_.starts_with("-")) {
        e->cur_.wrote = true;
        if (BusySlot* slot = MySlot(); slot != nullptr && e->busy_kind_ != BusyKind::kNone) {
          slot->wrote.store(true);
        }
      }
    }
    if (!error.empty()) {
      // A call refused before it ran: counted now, as Redis counts it (its command's
      // rejected_calls, when there is such a command), and the table says so.
      if (CallStatsSink* sink = ThreadCallStatsSink()) {
        sink->RecordScriptRejection(spec, args, ErrorTableText(error, false));
      }
      PushErrorTable(L, error, false, true);
      return CallOutcome::kError;
    }
    PushRespAsLua(L, e->call_reply_);
    return !e->call_reply_.empty() && e->call_reply_[0] == '-' ? CallOutcome::kError
                                                               : CallOutcome::kValue;
  }
  static int Call(lua_State* L) { return GenericCall(L, true); }
  static int PCall(lua_State* L) { return GenericCall(L, false); }

  // Lua's pcall, but an error table {err=...} comes back as its message (Redis 7's rule).
  // The yielding pcall's check after its callee failed: a killed script stops here too.
  static int RaiseIfKilled(lua_State* L) {
    LuaEngine* e = EngineOf(L);
    if (e->cur_.run == nullptr || !e->cur_.killed) return 0;
    lua_sethook(L, Hook, LUA_MASKLINE, 0);
    PushErrorTable(L, "Script killed by user with SCRIPT KILL...");
    return lua_error(L);
  }

  static int Pcall(lua_State* L) {
    int argc = lua_gettop(L);
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
      lua_remove(L, 1);
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        if (lua_isstring(L, -1)) {
          lua_replace(L, -2);
        } else {
          lua_pop(L, 1);
        }
      }
      lua_pushboolean(L, 0);
      lua_insert(L, 1);
    }
    return lua_gettop(L);
  }

  // redis.acl_check_cmd(command, arg...): whether the script's caller may run that command with
  // those arguments (Redis's luaRedisAclCheckCmdPermissionsCommand). The work happens in
  // AclVerdict, whose strings are gone before lua_error unwinds.
  static int AclCheckCmd(lua_State* L) {
    int verdict = AclVerdict(L);
    if (verdict < 0) return lua_error(L);
    lua_settop(L, 0);
    lua_pushboolean(L, verdict);
    return 1;
  }

  // 1 allowed, 0 denied, -1 an error table pushed.
  static int AclVerdict(lua_State* L) {
    LuaEngine* e = EngineOf(L);
    if (e->cur_.run == nullptr) {
      PushErrorTable(L, "redis.acl_check_cmd can only be called inside a script invocation");
      return -1;
    }
    std::vector<std::string> argv;
    if (!ReadCommandArgs(L, &argv)) return -1;
    std::vector<std::string_view> args(argv.begin(), argv.end());
    // Redis's lookupCommand: a container with arguments names one of its subcommands.
    const CommandTable& table = CommandTable::Get();
    const CommandSpec* spec = table.Find(args[0]);
    if (spec != nullptr && args.size() >= 2 && !table.Subcommands(spec->name).empty()) {
      spec = table.FindSubcommand(args[0], args[1]);
    }
    if (spec == nullptr) {
      lua_settop(L, 0);
      PushErrorTable(L, "Invalid command passed to redis.acl_check_cmd()");
      return -1;
    }
    if (e->cur_.run->acl_user == nullptr) return 1;  // an unrestricted caller
    int pos = 0;
    return AclStore::Check(*e->cur_.run->acl_user, *spec, args, &pos) == AclResult::kOk ? 1 : 0;
  }

  static int Sha1hex(lua_State* L) {
    if (lua_gettop(L) != 1) {
      PushErrorTable(L, "wrong number of arguments");
      return lua_error(L);
    }
    size_t len = 0;
    const char* s = lua_tolstring(L, 1, &len);
    std::string hex = Sha1Hex(s != nullptr ? std::string_view(s, len) : std::string_view());
    lua_pushstring(L, hex.c_str());
    return 1;
  }

  static int ErrorReply(lua_State* L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
      PushErrorTable(L, "wrong number or type of arguments");
      return 1;
    }
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    std::string text =
        (len > 0 && s[0] == '-') ? std::string(s, len) : Cat("-", std::string_view(s, len));
    PushErrorTable(L, text);
    return 1;
  }

  static int StatusReply(lua_State* L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
      PushErrorTable(L, "wrong number or type of arguments");
      return 1;
    }
    lua_newtable(L);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "ok");
    return 1;
  }

  static int Log(lua_State* L) {
    int argc = lua_gettop(L);
    if (argc < 2) {
      PushErrorTable(L, "redis.log() requires two arguments or more.");
      return lua_error(L);
    }
    if (!lua_isnumber(L, 1)) {
      PushErrorTable(L, "First argument must be a number (log level).");
      return lua_error(L);
    }
    int level = static_cast<int>(lua_tonumber(L, 1));
    if (level < 0 || level > 3) {
      PushErrorTable(L, "Invalid debug level.");
      return lua_error(L);
    }
    auto lvl = static_cast<LogLevel>(level);
    if (!LogEnabled(lvl)) return 0;
    std::string line;
    for (int i = 2; i <= argc; ++i) {
      size_t len;
      const char* s = lua_tolstring(L, i, &len);
      if (s == nullptr) continue;
      if (i != 2) line.push_back(' ');
      line.append(s, len);
    }
    LogLine(lvl, line);
    return 0;
  }

  static int SetResp(lua_State* L) {
    LuaEngine* e = EngineOf(L);
    if (e->cur_.run == nullptr) {
      PushErrorTable(L, "redis.setresp can only be called inside a script invocation");
      return lua_error(L);
    }
    if (lua_gettop(L) != 1) {
      PushErrorTable(L, "redis.setresp() requires one argument.");
      return lua_error(L);
    }
    int resp = static_cast<int>(lua_tonumber(L, 1));
    if (resp != 2 && resp != 3) {
      PushErrorTable(L, "RESP version must be 2 or 3.");
      return lua_error(L);
    }
    e->cur_.resp = resp == 3 ? RespVersion::kResp3 : RespVersion::kResp2;
    return 0;
  }

  static int SetRepl(lua_State* L) {
    LuaEngine* e = EngineOf(L);
    if (e->cur_.run == nullptr) {
      PushErrorTable(L, "redis.set_repl can only be called inside a script invocation");
      return lua_error(L);
    }
    if (lua_gettop(L) != 1) {
      PushErrorTable(L, "redis.set_repl() requires two arguments.");
      return lua_error(L);
    }
    int flags = static_cast<int>(lua_tonumber(L, -1));
    if ((flags & ~3) != 0) {
      PushErrorTable(L,
                     "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                     "REPL_NONE.");
      return lua_error(L);
    }
    return 0;  // no replication: nothing to change
  }

  static void Hook(lua_State* L, lua_Debug*) { EngineOf(L)->OnHook(L); }

  // A library's load-time code gets 500 ms, as in Redis (then at every line, the error again).
  static void LoadHook(lua_State* L, lua_Debug*) {
    if (MonoMs() - EngineOf(L)->load_start_ms_ <= kLoadTimeoutMs) return;
    lua_sethook(L, LoadHook, LUA_MASKLINE, 0);
    PushErrorTable(L, "FUNCTION LOAD timeout");
    lua_error(L);
  }

  static int ReplicateCommands(lua_State* L) {
    lua_pushboolean(L, 1);
    return 1;
  }
  static int NoOp(lua_State* L) { return 0; }

  // redis.register_function(name, callback) or redis.register_function{function_name=...,
  // callback=..., flags={...}, description=...}, while a library loads.
  // As for redis.call, no C++ object may be alive when the error is raised.
  static int RegisterFunction(lua_State* L) {
    bool ok;
    {
      std::string error;
      ok = RegisterFunctionImpl(L, &error);
      if (!ok) PushErrorTable(L, error);
    }
    if (!ok) return lua_error(L);
    return 0;
  }

  static bool RegisterFunctionImpl(lua_State* L, std::string* error) {
    LuaEngine* e = EngineOf(L);
    auto fail = [error](std::string_view msg) {
      *error = std::string(msg);
      return false;
    };
    if (e->loading_ == nullptr) {
      return fail("redis.register_function can only be called on FUNCTION LOAD command");
    }
    Function fn;
    int argc = lua_gettop(L);
    if (argc == 1) {
      if (!lua_istable(L, 1)) {
        return fail(
            "calling redis.register_function with a single argument is only applicable to Lua "
            "table (representing named arguments).");
      }
      bool have_callback = false;
      lua_pushnil(L);
      while (lua_next(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
          return fail(
              "named argument key given to "
              "redis.register_function is not a string");
        std::string key = lua_tostring(L, -2);
        if (key == "function_name") {
          if (lua_type(L, -1) != LUA_TSTRING)
            return fail(
                "function_name argument given to "
                "redis.register_function must be a "
                "string");
          fn.name = lua_tostring(L, -1);
          lua_pop(L, 1);
        } else if (key == "description") {
          if (lua_type(L, -1) != LUA_TSTRING)
            return fail(
                "description argument given to "
                "redis.register_function must be a "
                "string");
          fn.description = lua_tostring(L, -1);
          lua_pop(L, 1);
        } else if (key == "callback") {
          if (!lua_isfunction(L, -1))
            return fail(
                "callback argument given to "
                "redis.register_function must be a function");
          if (have_callback) luaL_unref(L, LUA_REGISTRYINDEX, fn.ref);
          fn.ref = luaL_ref(L, LUA_REGISTRYINDEX);  // pops the value
          have_callback = true;
        } else if (key == "flags") {
          if (!lua_istable(L, -1))
            return fail(
                "flags argument to redis.register_function must "
                "be a table representing function flags");
          for (int i = 1;; ++i) {
            lua_rawgeti(L, -1, i);
            if (lua_isnil(L, -1)) {
              lua_pop(L, 1);
              break;
            }
            if (lua_type(L, -1) != LUA_TSTRING || !ParseFlagName(lua_tostring(L, -1), &fn.flags)) {
              return fail("unknown flag given");
            }
            lua_pop(L, 1);
          }
          lua_pop(L, 1);
        } else {
          return fail("unknown argument given to redis.register_function");
        }
      }
      if (fn.name.empty() && !have_callback) {
        return fail("redis.register_function must get a function name argument");
      }
      if (fn.name.empty()) return fail("redis.register_function must get a function name argument");
      if (!have_callback) return fail("redis.register_function must get a callback argument");
    } else if (argc == 2) {
      if (lua_type(L, 1) != LUA_TSTRING) {
        return fail("first argument to redis.register_function must be a string");
      }
      if (!lua_isfunction(L, 2)) {
        return fail("second argument to redis.register_function must be a function");
      }
      fn.name = lua_tostring(L, 1);
      lua_pushvalue(L, 2);
      fn.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
      return fail("wrong number of arguments to redis.register_function");
    }
    auto drop = [&] { luaL_unref(L, LUA_REGISTRYINDEX, fn.ref); };
    if (!ValidName(fn.name)) {
      drop();
      return fail(
          "Library names can only contain letters, numbers, or underscores(_) and must be at "
          "least one character long");
    }
    for (const Function& f : e->loading_->functions) {
      if (f.name == fn.name) {
        drop();
        return fail("Function already exists in the library");
      }
    }
    e->loading_->functions.push_back(std::move(fn));
    return true;
  }
};

uint32_t EvalScriptFlags(std::string_view body) {
  uint32_t flags = 0;
  std::string error;
  return ParseShebang(body, &flags, &error) ? flags : 0;
}

namespace {

// __index of the globals: upvalue 1 is the real globals, upvalue 2 the load-time ones.
int GlobalIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(LuaEngine::Impl::Loading(L) ? 2 : 1));
  if (lua_isnil(L, -1)) return NonexistentGlobal(L, 2);
  return 1;
}

void OpenLib(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (name[0] != '\0' && lua_istable(L, -1)) {
    lua_setglobal(L, name);
  } else {
    lua_pop(L, 1);
  }
}

void SetFn(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_setfield(L, -2, name);
}

void SetNum(lua_State* L, const char* name, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

void SetLogAndVersion(lua_State* L) {
  SetFn(L, "log", LuaEngine::Impl::Log);
  SetNum(L, "LOG_DEBUG", 0);
  SetNum(L, "LOG_VERBOSE", 1);
  SetNum(L, "LOG_NOTICE", 2);
  SetNum(L, "LOG_WARNING", 3);
  lua_pushlstring(L, kRedisCompatVersion.data(), kRedisCompatVersion.size());
  lua_setfield(L, -2, "REDIS_VERSION");
  SetNum(L, "REDIS_VERSION_NUM", 0x07000f);
}

}  // namespace

// ---- Engine ----

namespace {

// The process's library set as persisted (see lua_engine.h): the start-up set, written by the
// main thread before the reactor threads start and read by every engine created after; the
// latest set, written by the thread that orders library changes (thread 0) or by the main thread
// while no reactor runs, and read by the main thread while no reactor runs.
std::vector<std::string>& StartupLibs() {
  static std::vector<std::string> codes;
  return codes;
}
std::vector<std::string>& LatestLibs() {
  static std::vector<std::string> codes;
  return codes;
}

std::unique_ptr<LuaEngine> NewThreadEngine() {
  auto engine = std::make_unique<LuaEngine>();
  if (!StartupLibs().empty()) engine->InstallLibraries(StartupLibs(), 1);
  return engine;
}

}  // namespace

LuaEngine& LuaEngine::ThisThread() {
  thread_local std::unique_ptr<LuaEngine> engine = NewThreadEngine();
  return *engine;
}

void LuaEngine::SetStartupLibraries(const std::vector<std::string>& codes) {
  StartupLibs() = codes;
  LatestLibs() = codes;
}

void LuaEngine::NoteLatestLibraries(const std::vector<std::string>& codes) { LatestLibs() = codes; }

std::vector<std::string> LuaEngine::LatestLibraries() { return LatestLibs(); }

void LuaEngine::SetThreadShard(int index, int count) {
  tls_shard_index = index;
  tls_shard_count = count;
}
int LuaEngine::ThreadShardIndex() { return tls_shard_index; }
int LuaEngine::ThreadShardCount() { return tls_shard_count; }

LuaEngine::LuaEngine() {
  lua_State* L = L_ = luaL_newstate();
  lua_pushlightuserdata(L, this);
  lua_setfield(L, LUA_REGISTRYINDEX, kEngineKey);
  OpenLib(L, "", luaopen_base);
  OpenLib(L, LUA_TABLIBNAME, luaopen_table);
  OpenLib(L, LUA_STRLIBNAME, luaopen_string);
  OpenLib(L, LUA_MATHLIBNAME, luaopen_math);
  OpenLib(L, "cjson", luaopen_cjson);
  OpenLib(L, "struct", OpenStruct);
  OpenLib(L, "cmsgpack", OpenCmsgpack);
  OpenLib(L, "bit", luaopen_bit);
  // setfenv/getfenv/newproxy as well: Redis's sandbox (reference 7.0.15) has none of them.
  for (const char* name :
       {"dofile", "loadfile", "print", "module", "require", "setfenv", "getfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_pushcfunction(L, Impl::Pcall);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kNativePcallKey);
  lua_setglobal(L, "pcall");
  if (luaL_loadbuffer(L, kYieldingPcall.data(), kYieldingPcall.size(), "=pcall") != 0) {
    std::abort();  // our own constant code
  }
  lua_getglobal(L, "coroutine");
  int coroutine = lua_gettop(L);
  for (const char* name : {"create", "resume", "status", "yield"}) lua_getfield(L, coroutine, name);
  lua_getglobal(L, "type");
  lua_pushcfunction(L, Impl::RaiseIfKilled);
  lua_remove(L, coroutine);
  lua_call(L, 6, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, kYieldingPcallKey);

  // The runtime `redis` table.
  lua_newtable(L);
  SetFn(L, "call", Impl::Call);
  SetFn(L, "pcall", Impl::PCall);
  SetFn(L, "sha1hex", Impl::Sha1hex);
  SetFn(L, "acl_check_cmd", Impl::AclCheckCmd);
  SetFn(L, "error_reply", Impl::ErrorReply);
  SetFn(L, "status_reply", Impl::StatusReply);
  SetFn(L, "setresp", Impl::SetResp);
  SetFn(L, "set_repl", Impl::SetRepl);
  SetFn(L, "replicate_commands", Impl::ReplicateCommands);
  SetFn(L, "breakpoint", Impl::NoOp);
  SetFn(L, "debug", Impl::NoOp);
  SetNum(L, "REPL_NONE", 0);
  SetNum(L, "REPL_AOF", 1);
  SetNum(L, "REPL_SLAVE", 2);
  SetNum(L, "REPL_REPLICA", 2);
  SetNum(L, "REPL_ALL", 3);
  SetLogAndVersion(L);
  lua_setglobal(L, "redis");

  lua_pushcfunction(L, GuardedRawset);
  lua_setglobal(L, "rawset");
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  MarkReadonly(L, lua_gettop(L));
  lua_pop(L, 1);

  // Move every global into the hidden table; protect the library tables.
  lua_newtable(L);  // hidden
  int hidden = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, LUA_GLOBALSINDEX)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, hidden);
  }
  for (;;) {  // empty the globals table
    lua_pushnil(L);
    if (!lua_next(L, LUA_GLOBALSINDEX)) break;
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawset(L, LUA_GLOBALSINDEX);
  }
  for (const char* lib :
       {"redis", "string", "math", "table", "cjson", "struct", "cmsgpack", "bit", "coroutine"}) {
    lua_getfield(L, hidden, lib);
    if (lua_istable(L, -1)) {
      MakeReadonlyProxy(L, false);
      lua_setfield(L, hidden, lib);
    } else {
      lua_pop(L, 1);
    }
  }
  // The string metatable is shared by every string, so by every script after this one: its
  // __index becomes the read-only string library, and getmetatable('') returns a read-only
  // proxy (__metatable), so no script can change how strings behave for the next (as Redis
  // protects the basic types' metatables).
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_getfield(L, hidden, "string");
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    MakeReadonlyProxy(L, false);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, hidden, "_G");

  // The load-time globals: only a restricted `redis`.
  lua_newtable(L);
  int load_env = lua_gettop(L);
  lua_newtable(L);
  SetFn(L, "register_function", Impl::RegisterFunction);
  SetLogAndVersion(L);
  MakeReadonlyProxy(L, true);
  lua_setfield(L, load_env, "redis");

  lua_newtable(L);  // the globals' metatable
  lua_pushvalue(L, hidden);
  lua_pushvalue(L, load_env);
  lua_pushcclosure(L, GlobalIndex, 2);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyError);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, LUA_GLOBALSINDEX);

  lua_pushvalue(L, load_env);
  lua_setfield(L, LUA_REGISTRYINDEX, kLoadEnvKey);
  lua_pushvalue(L, hidden);
  lua_setfield(L, LUA_REGISTRYINDEX, kHiddenKey);
  lua_settop(L, 0);
}

size_t LuaEngine::memory_bytes() const {
  return static_cast<size_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024 +
         static_cast<size_t>(lua_gc(L_, LUA_GCCOUNTB, 0));
}

LuaEngine::~LuaEngine() {
  alive_.reset();
  if (L_ != nullptr) lua_close(L_);
}

void LuaEngine::SetBusyPoller(std::function<bool()> poller) {
  delete tls_busy_poller;
  tls_busy_poller = poller ? new std::function<bool()>(std::move(poller)) : nullptr;
}

std::string_view LuaEngine::BusyError(BusyKind kind) {
  return kind == BusyKind::kFunction
             ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN "
               "NOSAVE."
             : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN "
               "NOSAVE.";
}

BusyKind LuaEngine::AnyBusyKind(int thread_count) {
  for (int t = 0; t < thread_count && t < kMaxBusySlots; ++t) {
    auto kind = static_cast<BusyKind>(g_busy[t].kind.load());
    if (kind != BusyKind::kNone) return kind;
  }
  return BusyKind::kNone;
}

std::string LuaEngine::RequestKill(int thread_count, bool is_eval) {
  for (int t = 0; t < thread_count && t < kMaxBusySlots; ++t) {
    BusySlot& slot = g_busy[t];
    auto kind = static_cast<BusyKind>(slot.kind.load());
    if (kind == BusyKind::kNone) continue;
    if (slot.wrote.load()) {
      return "UNKILLABLE Sorry the script already executed write commands against the dataset. "
             "You can either wait the script termination or kill the server in a hard way using "
             "the SHUTDOWN NOSAVE command.";
    }
    if (is_eval && kind == BusyKind::kFunction) return std::string(BusyError(kind));
    if (!is_eval && kind == BusyKind::kEval) return std::string(BusyError(kind));
    slot.kill.store(true);
    return "";
  }
  return "NOTBUSY No scripts in execution right now.";
}

void LuaEngine::OnHook(lua_State* L) {
  if (L == raise_thread_) {  // Resume's one-shot hook: redis.call raises the error reply
    raise_thread_ = nullptr;
    if (cur_.busy_threshold_ms >= 0) {
      lua_sethook(L, Impl::Hook, LUA_MASKCOUNT, kHookInstructions);
    } else {
      lua_sethook(L, nullptr, 0, 0);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, raise_ref_);
    luaL_unref(L, LUA_REGISTRYINDEX, raise_ref_);
    raise_ref_ = LUA_NOREF;
    lua_error(L);
  }
  if (cur_.run == nullptr) return;
  BusySlot* slot = MySlot();
  if (!cur_.killed) {
    if (busy_kind_ == BusyKind::kNone) {
      int64_t elapsed = MonoMs() - cur_.start_ms;
      if (elapsed < cur_.busy_threshold_ms) return;
      busy_kind_ = cur_.kind;
      busy_threads_.fetch_add(1, std::memory_order_relaxed);
      if (slot != nullptr) {
        slot->kill.store(false);
        slot->wrote.store(cur_.wrote);
        slot->kind.store(static_cast<int>(busy_kind_));
      }
      Log(LogLevel::kWarning,
          "Slow script detected: still in execution after %d milliseconds. You can try killing "
          "the script using the %s command.",
          elapsed, cur_.kind == BusyKind::kFunction ? "FUNCTION KILL" : "SCRIPT KILL");
    }
    bool stop = tls_busy_poller != nullptr && (*tls_busy_poller)();
    if (stop || (slot != nullptr && slot->kill.exchange(false))) {
      cur_.killed = true;
      Log(LogLevel::kNotice, "Lua script killed by user with SCRIPT KILL.");
      // Raise again at every line, should the script catch the error with pcall.
      lua_sethook(L, Impl::Hook, LUA_MASKLINE, 0);
    }
  }
  if (cur_.killed) {
    PushErrorTable(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
  }
}

bool LuaEngine::LoadScript(std::string_view body, std::string* sha, std::string* error) {
  if (auto it = by_body_.find(AV(body)); it != by_body_.end()) {
    *sha = it->second;
    return true;
  }
  uint32_t flags = 0;
  if (!ParseShebang(body, &flags, error)) return false;
  std::string hex = Sha1Hex(body);
  std::string code = CompilableBody(body);
  if (luaL_loadbuffer(L_, code.data(), code.size(), "@user_script") != 0) {
    const char* msg = lua_tostring(L_, -1);
    *error = Cat("ERR Error compiling script (new function): ", msg != nullptr ? msg : "");
    lua_pop(L_, 1);
    return false;
  }
  Script script;
  script.body = std::string(body);
  script.flags = flags;
  script.ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  if (auto old = scripts_.find(hex); old != scripts_.end()) {
    luaL_unref(L_, LUA_REGISTRYINDEX, old->second.ref);
  }
  scripts_[hex] = std::move(script);
  by_body_[std::string(body)] = hex;
  *sha = std::move(hex);
  return true;
}

bool LuaEngine::HasScript(std::string_view sha) const {
  return scripts_.contains(cmd::ToLower(sha));
}

void LuaEngine::FlushScripts() {
  for (auto& [sha, script] : scripts_) luaL_unref(L_, LUA_REGISTRYINDEX, script.ref);
  scripts_.clear();
  by_body_.clear();
  key_use_.clear();
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

namespace {

void PushList(lua_State* L, ArgList list) {
  lua_createtable(L, static_cast<int>(list.size()), 0);
  for (size_t i = 0; i < list.size(); ++i) {
    lua_pushlstring(L, list[i].data(), list[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

constexpr std::string_view kWriteScriptFromRo =
    "ERR Can not execute a script with write flag using *_ro command.";

}  // namespace

void LuaEngine::RunScript(std::string_view sha, const ScriptRun& run, ReplyBuilder& reply) {
  auto it = scripts_.find(cmd::ToLower(sha));
  if (it == scripts_.end()) {
    reply.Error("NOSCRIPT No matching script. Please use EVAL.");
    return;
  }
  const Script& script = it->second;
  uint32_t flags = script.flags;
  if (run.read_only_command && (flags & kScriptShebang) && !(flags & kScriptNoWrites)) {
    reply.Error(kWriteScriptFromRo);
    return;
  }
  // KEYS and ARGV are globals of the script.
  lua_State* L = L_;
  lua_getfield(L, LUA_REGISTRYINDEX, kHiddenKey);
  PushList(L, run.keys);
  lua_setfield(L, -2, "KEYS");
  PushList(L, run.args);
  lua_setfield(L, -2, "ARGV");
  lua_pop(L, 1);
  Invoke(script.ref, it->first, flags, false, run, reply);
}

int LuaEngine::PushCallee(lua_State* L, int ref, bool is_function, const ScriptRun& run) {
  // A script may have replaced its thread's or its own environment (setfenv): restore both.
  lua_getfield(L, LUA_REGISTRYINDEX, kHiddenKey);
  lua_getfield(L, -1, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfenv(L, -2);
  if (!is_function) return 0;
  PushList(L, run.keys);
  PushList(L, run.args);
  return 2;
}

RunState LuaEngine::NewRunState(const ScriptRun& run, uint32_t flags, bool is_function) const {
  RunState state;
  state.run = &run;
  state.flags = flags;
  state.kind = is_function ? BusyKind::kFunction : BusyKind::kEval;
  state.busy_threshold_ms = run.busy_threshold_ms;
  if (state.busy_threshold_ms >= 0) state.start_ms = MonoMs();
  return state;
}

// The end of an invocation, or of a coroutine run's step: the thread is no longer busy.
void LuaEngine::LeaveRun() {
  cur_.run = nullptr;
  if (busy_kind_ == BusyKind::kNone) return;
  busy_threads_.fetch_sub(1, std::memory_order_relaxed);
  if (BusySlot* slot = MySlot()) {
    slot->kind.store(0);
    slot->wrote.store(false);
    slot->kill.store(false);
  }
  busy_kind_ = BusyKind::kNone;
}

void LuaEngine::Invoke(int ref, std::string_view name, uint32_t flags, bool is_function,
                       const ScriptRun& run, ReplyBuilder& reply) {
  lua_State* L = L_;
  lua_settop(L, 0);
  lua_pushcfunction(L, ErrorHandler);
  int nargs = PushCallee(L, ref, is_function, run);
  cur_ = NewRunState(run, flags, is_function);
  if (cur_.busy_threshold_ms >= 0) lua_sethook(L, Impl::Hook, LUA_MASKCOUNT, kHookInstructions);
  int status = lua_pcall(L, nargs, 1, 1);
  if (cur_.busy_threshold_ms >= 0) lua_sethook(L, nullptr, 0, 0);
  LeaveRun();
  ReplyWithResult(L, status == 0, name, cur_.resp, reply);
  lua_settop(L, 0);
  lua_gc(L, LUA_GCSTEP, 1);
}

// ---- Coroutine runs ----

AsyncScript::~AsyncScript() {
  if (engine_alive_.expired()) return;
  for (int ref : {co_ref_, keys_ref_, argv_ref_}) luaL_unref(main_, LUA_REGISTRYINDEX, ref);
}

std::unique_ptr<AsyncScript> LuaEngine::RunScriptAsync(std::string_view sha, const ScriptRun& run,
                                                       ReplyBuilder& reply) {
  auto it = scripts_.find(cmd::ToLower(sha));
  if (it == scripts_.end()) {
    reply.Error("NOSCRIPT No matching script. Please use EVAL.");
    return nullptr;
  }
  const Script& script = it->second;
  if (run.read_only_command && (script.flags & kScriptShebang) &&
      !(script.flags & kScriptNoWrites)) {
    reply.Error(kWriteScriptFromRo);
    return nullptr;
  }
  std::unique_ptr<AsyncScript> s(new AsyncScript);
  s->run_ = run;
  s->name_ = it->first;
  PushList(L_, run.keys);
  s->keys_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  PushList(L_, run.args);
  s->argv_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  return StartAsync(std::move(s), script.ref, script.flags, false, reply);
}

std::unique_ptr<AsyncScript> LuaEngine::CallFunctionAsync(const Function& fn, const ScriptRun& run,
                                                          ReplyBuilder& reply) {
  if (run.read_only_command && !(fn.flags & kScriptNoWrites)) {
    reply.Error(kWriteScriptFromRo);
    return nullptr;
  }
  std::unique_ptr<AsyncScript> s(new AsyncScript);
  s->run_ = run;
  s->name_ = fn.name;
  return StartAsync(std::move(s), fn.ref, fn.flags | kScriptShebang, true, reply);
}

std::unique_ptr<AsyncScript> LuaEngine::StartAsync(std::unique_ptr<AsyncScript> s, int ref,
                                                   uint32_t flags, bool is_function,
                                                   ReplyBuilder& reply) {
  lua_State* L = L_;
  lua_settop(L, 0);
  s->engine_alive_ = alive_;
  s->main_ = L;
  s->co_ = lua_newthread(L);
  s->co_ref_ = luaL_ref(L, LUA_REGISTRYINDEX);
  int nargs = PushCallee(L, ref, is_function, s->run_);
  lua_xmove(L, s->co_, 1 + nargs);
  s->state_ = NewRunState(s->run_, flags, is_function);
  if (s->state_.busy_threshold_ms >= 0) {
    lua_sethook(s->co_, Impl::Hook, LUA_MASKCOUNT, kHookInstructions);
  }
  if (ResumeCoroutine(*s, nargs, reply)) return nullptr;
  return s;
}

void LuaEngine::SetGlobal(const char* name, const char* registry_key) {
  lua_getfield(L_, LUA_REGISTRYINDEX, kHiddenKey);
  lua_getfield(L_, LUA_REGISTRYINDEX, registry_key);
  lua_setfield(L_, -2, name);
  lua_pop(L_, 1);
}

bool LuaEngine::ResumeCoroutine(AsyncScript& s, int nargs, ReplyBuilder& reply) {
  if (s.keys_ref_ != LUA_NOREF) {  // another script may have run meanwhile: KEYS and ARGV back
    lua_getfield(L_, LUA_REGISTRYINDEX, kHiddenKey);
    lua_rawgeti(L_, LUA_REGISTRYINDEX, s.keys_ref_);
    lua_setfield(L_, -2, "KEYS");
    lua_rawgeti(L_, LUA_REGISTRYINDEX, s.argv_ref_);
    lua_setfield(L_, -2, "ARGV");
    lua_pop(L_, 1);
  }
  cur_ = s.state_;
  cur_.run = &s.run_;
  async_ = &s;
  deferred_ = false;
  SetGlobal("pcall", kYieldingPcallKey);
  int status = lua_resume(s.co_, nargs);
  SetGlobal("pcall", kNativePcallKey);
  async_ = nullptr;
  if (status == LUA_YIELD && deferred_) {
    s.state_ = cur_;
    LeaveRun();
    return false;
  }
  RespVersion resp = cur_.resp;
  LeaveRun();
  lua_State* co = s.co_;
  if (status == 0) {
    lua_settop(co, 1);  // the first result (or nil)
  } else if (status == LUA_YIELD) {
    lua_settop(co, 0);
    lua_pushstring(co, "attempt to yield from outside a coroutine");
  } else {
    AnnotateError(co, lua_gettop(co), 0);
  }
  ReplyWithResult(co, status == 0, s.name_, resp, reply);
  lua_settop(co, 0);
  lua_gc(L_, LUA_GCSTEP, 1);
  return true;
}

bool LuaEngine::Resume(AsyncScript& s, std::string_view call_reply, ReplyBuilder& reply) {
  lua_State* co = s.co_;
  lua_settop(co, 0);
  lua_checkstack(co, 8);
  bool is_error = !call_reply.empty() && call_reply[0] == '-';
  if (call_reply.empty()) {
    PushErrorTable(co, "Script attempted to access a non local key in a cluster node");
    is_error = true;
  } else {
    PushRespAsLua(co, call_reply);
  }
  if (s.call_writes_ && !is_error && !s.state_.wrote) {
    s.state_.wrote = true;
  }
  if (is_error && s.raise_) {
    lua_pushvalue(co, -1);
    raise_ref_ = luaL_ref(co, LUA_REGISTRYINDEX);
    raise_thread_ = s.yielded_;
    lua_sethook(s.yielded_, Impl::Hook, LUA_MASKCOUNT, 1);
  }
  return ResumeCoroutine(s, 1, reply);
}

KeyUse LuaEngine::key_use(std::string_view id) const {
  auto it = key_use_.find(AV(id));
  return it == key_use_.end() ? KeyUse::kUnknown : it->second;
}

void LuaEngine::NoteKeyUse(std::string_view id, bool undeclared) {
  KeyUse& use = key_use_[AV(id)];
  if (use != KeyUse::kUndeclared) use = undeclared ? KeyUse::kUndeclared : KeyUse::kDeclaredOnly;
}

// ---- Functions ----

bool LuaEngine::CompileLibrary(std::string_view code, Library* lib, std::string* error) {
  if (!code.starts_with("#!")) {
    *error = "ERR Missing library metadata";
    return false;
  }
  // Redis's functionExtractLibMetaData: the shebang line split as sdssplitargs does, the
  // engine after "#!", then name=<name> (any case, once); then the name's check, then the engine.
  size_t nl = code.find('\n');
  std::vector<std::string> parts;
  if (nl == std::string_view::npos || !config_parse::SplitArgs(code.substr(0, nl), &parts) ||
      parts.empty()) {
    *error = "ERR Invalid library metadata";
    return false;
  }
  std::string engine = parts[0].size() > 2 ? parts[0].substr(2) : std::string();
  std::optional<std::string> name;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.size() >= 5 && absl::EqualsIgnoreCase(AV(part).substr(0, 5), "name=")) {
      if (name.has_value()) {
        *error = "ERR Invalid metadata value, name argument was given multiple times";
        return false;
      }
      name = part.substr(5);
    } else {
      *error = Cat("ERR Invalid metadata value given: ", part);
      return false;
    }
  }
  if (!name.has_value()) {
    *error = "ERR Library name was not given";
    return false;
  }
  if (!ValidName(*name)) {
    *error =
        "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
        "least one character long";
    return false;
  }
  if (!absl::EqualsIgnoreCase(engine, "lua")) {
    *error = Cat("ERR Engine '", engine, "' not found");
    return false;
  }
  std::string body = CompilableBody(code);
  lua_State* L = L_;
  lua_settop(L, 0);
  if (luaL_loadbuffer(L, body.data(), body.size(), "@user_function") != 0) {
    const char* msg = lua_tostring(L, -1);
    *error = Cat("ERR Error compiling function: ", msg != nullptr ? msg : "");
    lua_settop(L, 0);
    return false;
  }
  lib->name = *name;
  lib->code = std::string(code);
  lib->functions.clear();
  lua_getfield(L, LUA_REGISTRYINDEX, kHiddenKey);
  lua_getfield(L, -1, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
  lua_pushcfunction(L, ErrorHandler);
  lua_insert(L, 1);
  loading_ = lib;
  load_start_ms_ = MonoMs();
  lua_sethook(L, Impl::LoadHook, LUA_MASKCOUNT, kHookInstructions);
  int status = lua_pcall(L, 0, 0, 1);
  lua_sethook(L, nullptr, 0, 0);
  loading_ = nullptr;
  if (status != 0) {
    std::string msg = "unknown error";
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (const char* s = lua_tostring(L, -1)) msg = s;
    } else if (const char* s = lua_tostring(L, -1)) {
      msg = s;
    }
    *error = Cat("ERR Error registering functions: ", msg);
    lua_settop(L, 0);
    UnrefLibrary(*lib);
    lib->functions.clear();
    return false;
  }
  lua_settop(L, 0);
  if (lib->functions.empty()) {
    *error = "ERR No functions registered";
    return false;
  }
  return true;
}

void LuaEngine::UnrefLibrary(const Library& lib) {
  for (const Function& f : lib.functions) luaL_unref(L_, LUA_REGISTRYINDEX, f.ref);
}

bool LuaEngine::LoadLibrary(std::string_view code, bool replace, std::string* name,
                            std::string* error) {
  Library lib;
  if (!CompileLibrary(code, &lib, error)) return false;
  auto existing = libraries_.find(lib.name);
  if (existing != libraries_.end() && !replace) {
    *error = Cat("ERR Library '", lib.name, "' already exists");
    UnrefLibrary(lib);
    return false;
  }
  for (const Function& f : lib.functions) {
    auto it = functions_.find(f.name);
    if (it != functions_.end() && it->second != lib.name) {
      *error = Cat("ERR Function ", f.name, " already exists");
      UnrefLibrary(lib);
      return false;
    }
  }
  if (existing != libraries_.end()) DeleteLibrary(lib.name);
  for (const Function& f : lib.functions) functions_[f.name] = lib.name;
  *name = lib.name;
  libraries_[lib.name] = std::move(lib);
  return true;
}

bool LuaEngine::DeleteLibrary(std::string_view name) {
  auto it = libraries_.find(std::string(name));
  if (it == libraries_.end()) return false;
  for (const Function& f : it->second.functions) functions_.erase(f.name);
  UnrefLibrary(it->second);
  libraries_.erase(it);
  return true;
}

void LuaEngine::FlushLibraries() {
  for (auto& [name, lib] : libraries_) UnrefLibrary(lib);
  libraries_.clear();
  functions_.clear();
  key_use_.clear();
  lua_gc(L_, LUA_GCCOLLECT, 0);
}

const LuaEngine::Function* LuaEngine::FindFunction(std::string_view name) const {
  auto it = functions_.find(AV(name));
  if (it == functions_.end()) return nullptr;
  const Library& lib = libraries_.at(it->second);
  for (const Function& f : lib.functions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void LuaEngine::CallFunction(const Function& fn, const ScriptRun& run, ReplyBuilder& reply) {
  if (run.read_only_command && !(fn.flags & kScriptNoWrites)) {
    reply.Error("ERR Can not execute a script with write flag using *_ro command.");
    return;
  }
  Function copy = fn;  // the library may be replaced by nothing while it runs; keep the values
  Invoke(copy.ref, copy.name, copy.flags | kScriptShebang, true, run, reply);
}

std::vector<std::string> LuaEngine::LibraryCodes() const {
  std::vector<std::string> codes;
  for (const auto& [name, lib] : libraries_) codes.push_back(lib.code);
  return codes;
}

void LuaEngine::InstallLibraries(const std::vector<std::string>& codes, uint64_t generation) {
  if (generation <= library_generation_) return;
  library_generation_ = generation;
  FlushLibraries();
  for (const std::string& code : codes) {
    std::string name, error;
    if (!LoadLibrary(code, false, &name, &error)) {
      Log(LogLevel::kWarning, "Function library failed to load on this thread: %s", error);
    }
  }
}

}  // namespace shardis::scripting
