// LuaEngine: one Lua 5.1 state per reactor thread, with Redis 7.0's sandbox and `redis` API, the
// EVAL script cache and the FUNCTION libraries of that thread.
//
// Owned by its thread (LuaEngine::ThisThread(), created on first use) and only ever touched
// there: no locks. Every thread holds the same scripts and libraries because the commands that
// change them (SCRIPT LOAD/FLUSH, EVAL of a new body, FUNCTION LOAD/DELETE/FLUSH/RESTORE) visit
// every thread (ForEachThread) before they reply.
//
// A running script reaches commands only through a ScriptCallTarget (redis.call / redis.pcall):
// the engine finds the command, checks its arity and the script's permissions (noscript, write
// commands in read-only scripts), then hands it to the target, which executes it and returns
// its RESP reply; the engine converts that reply to Lua values with Redis's rules. Today's
// target runs commands inline on the shard the script runs on (call_target.h); a target that
// reaches every shard of an atomic multi-shard transaction can plug in the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "protocol/reply_builder.h"
#include "server/command.h"

struct lua_State;

namespace shardis::scripting {

// Script flags: from an EVAL script's "#!lua flags=..." line or a function's registration.
enum ScriptFlag : uint32_t {
  kScriptNoWrites = 1u << 0,
  kScriptAllowOom = 1u << 1,
  kScriptAllowStale = 1u << 2,
  kScriptNoCluster = 1u << 3,
  kScriptAllowCrossSlot = 1u << 4,
  kScriptShebang = 1u << 8,  // an EVAL script that declared flags (even none)
};

// Where redis.call / redis.pcall send commands.
class ScriptCallTarget {
 public:
  virtual ~ScriptCallTarget() = default;
  // Executes one command whose spec, arity and permissions the engine has checked: appends
  // exactly one RESP reply to `reply` (an error reply included) and returns true, or returns
  // false with *error set ("Script attempted to access a non local key...") without replying.
  virtual bool Call(const CommandSpec& spec, ArgList args, ReplyBuilder& reply,
                    std::string* error) = 0;
};

// One script or function invocation.
struct ScriptRun {
  ArgList keys;
  ArgList args;
  bool read_only_command = false;  // EVAL_RO, EVALSHA_RO, FCALL_RO
  ScriptCallTarget* target = nullptr;
  // busy-reply-threshold: past this many ms the script is "busy" (SCRIPT KILL applies and the
  // thread's busy poller serves other clients). Negative: never.
  int64_t busy_threshold_ms = -1;
};

enum class BusyKind : int { kNone = 0, kEval = 1, kFunction = 2 };

class LuaEngine {
 public:
  struct Function {
    std::string name;
    std::string description;
    uint32_t flags = 0;
    int ref = 0;  // the callback, in the Lua registry
  };
  struct Library {
    std::string name;
    std::string code;
    std::vector<Function> functions;
  };

  // The engine of the calling thread.
  static LuaEngine& ThisThread();
  // Called by each reactor when it starts: the shard this thread owns, among how many.
  static void SetThreadShard(int index, int count);
  static int ThreadShardIndex();
  static int ThreadShardCount();
  // Called by the running script's thread, from a Lua hook, every few milliseconds while a
  // script is busy: the reactor answers its other connections (BUSY, or SCRIPT KILL...).
  // Returns true when the script must stop now (server shutting down).
  static void SetBusyPoller(std::function<bool()> poller);
  // SCRIPT KILL (is_eval) / FUNCTION KILL, from any thread: asks the busy script of one of the
  // first `thread_count` threads to stop. Returns the error reply text, or "" for OK.
  static std::string RequestKill(int thread_count, bool is_eval);
  // The reply other commands get while a script of this kind is busy.
  static std::string_view BusyError(BusyKind kind);

  LuaEngine();
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  // Bytes in use by this thread's Lua heap (INFO used_memory_lua).
  size_t memory_bytes() const;

  // A script of this thread's engine running past its busy threshold.
  BusyKind busy_kind() const { return busy_kind_; }

  // ---- EVAL scripts ----
  // Finds `body` in the cache or compiles it (checking its shebang); sets *sha. On failure
  // writes the error reply text (without '-') to *error.
  bool LoadScript(std::string_view body, std::string* sha, std::string* error);
  bool KnowsBody(std::string_view body) const { return by_body_.contains(AV(body)); }
  // `sha` in any case.
  bool HasScript(std::string_view sha) const;
  void FlushScripts();
  size_t script_count() const { return scripts_.size(); }
  // Runs a cached script (EVALSHA semantics: NOSCRIPT when missing); replies to `reply`.
  void RunScript(std::string_view sha, const ScriptRun& run, ReplyBuilder& reply);

  // ---- Functions ----
  // FUNCTION LOAD: on success sets *name, else *error (the reply text without '-').
  bool LoadLibrary(std::string_view code, bool replace, std::string* name, std::string* error);
  bool DeleteLibrary(std::string_view name);
  void FlushLibraries();
  const std::map<std::string, Library>& libraries() const { return libraries_; }
  size_t function_count() const { return functions_.size(); }
  const Function* FindFunction(std::string_view name) const;
  // FCALL / FCALL_RO; replies to `reply`.
  void CallFunction(const Function& fn, const ScriptRun& run, ReplyBuilder& reply);
  // Every thread converges on the library set of the latest generation (assigned by thread 0,
  // which applies each change first): a thread installs a set only if it is newer than its own.
  uint64_t library_generation() const { return library_generation_; }
  void set_library_generation(uint64_t g) { library_generation_ = g; }
  std::vector<std::string> LibraryCodes() const;
  void InstallLibraries(const std::vector<std::string>& codes, uint64_t generation);

  // Called by the Lua C functions (lua_engine.cc).
  struct Impl;

 private:
  friend struct Impl;
  struct Script {
    std::string body;
    uint32_t flags = 0;
    int ref = 0;
  };

  void Invoke(int ref, std::string_view name, uint32_t flags, bool is_function,
              const ScriptRun& run, ReplyBuilder& reply);
  bool CompileLibrary(std::string_view code, Library* lib, std::string* error);
  void UnrefLibrary(const Library& lib);

  lua_State* L_ = nullptr;
  absl::flat_hash_map<std::string, Script> scripts_;       // by sha (lowercase)
  absl::flat_hash_map<std::string, std::string> by_body_;  // body -> sha
  std::map<std::string, Library> libraries_;
  absl::flat_hash_map<std::string, std::string> functions_;  // function -> library
  uint64_t library_generation_ = 0;

  // The invocation in progress (null between scripts).
  const ScriptRun* run_ = nullptr;
  uint32_t run_flags_ = 0;
  RespVersion script_resp_ = RespVersion::kResp2;
  // Library loading in progress: register_function adds here.
  Library* loading_ = nullptr;
  int64_t load_start_ms_ = 0;
  std::string load_error_;
  // Busy scripts.
  int64_t run_start_ms_ = 0;
  int64_t busy_threshold_ms_ = -1;
  BusyKind run_kind_ = BusyKind::kNone;
  BusyKind busy_kind_ = BusyKind::kNone;
  bool wrote_ = false;   // the running script executed a write command
  bool killed_ = false;  // SCRIPT KILL reached it: raise again at every line
  void OnHook(lua_State* L);
  std::vector<std::string> call_args_;  // scratch for redis.call
  std::string call_reply_;
};

}  // namespace shardis::scripting
