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
// its RESP reply; the engine converts that reply to Lua values with Redis's rules. A target
// runs commands inline on the shard the script runs on (call_target.h), or defers a command it
// must send to another shard: the script then runs as a coroutine (RunScriptAsync /
// CallFunctionAsync) that suspends at that redis.call until Resume brings its reply
// (script_run.h drives this over the shards of an atomic operation).
//
// Coroutine runs and Lua 5.1: a yield cannot cross a C call boundary, so while a coroutine run
// executes, the global `pcall` is a Lua version that runs its callee in a coroutine of its own
// and passes yields through (a redis.call under xpcall, a metamethod or a sort comparator still
// cannot reach another shard). redis.call raises an error reply where the script called it:
// resuming cannot raise, so a one-shot count hook on the yielding coroutine raises it at the
// caller's next instruction.
#pragma once

#include <atomic>
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

namespace shardis {
struct AclUser;
}

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

// The flags of an EVAL script body (its "#!lua flags=..." line); 0 without one or when bad.
uint32_t EvalScriptFlags(std::string_view body);

enum class CallStatus : uint8_t {
  kReplied,   // one RESP reply appended (an error reply included)
  kFailed,    // *error set, nothing appended
  kDeferred,  // the target keeps the command and runs it elsewhere; the script suspends
};

// Where redis.call / redis.pcall send commands.
class ScriptCallTarget {
 public:
  virtual ~ScriptCallTarget() = default;
  // Executes one command whose spec, arity and permissions the engine has checked. Only a
  // coroutine run may be deferred.
  virtual CallStatus Call(const CommandSpec& spec, ArgList args, ReplyBuilder& reply,
                          std::string* error) = 0;
};

// What this thread has seen a script's (or function's) coroutine runs touch: keys it declared
// only, or others too. Decides how it is routed next time (scripting_family.cc).
enum class KeyUse : uint8_t { kUnknown, kDeclaredOnly, kUndeclared };

// One script or function invocation.
struct ScriptRun {
  ArgList keys;
  ArgList args;
  bool read_only_command = false;  // EVAL_RO, EVALSHA_RO, FCALL_RO
  ScriptCallTarget* target = nullptr;
  // busy-reply-threshold: past this many ms the script is "busy" (SCRIPT KILL applies and the
  // thread's busy poller serves other clients). Negative: never.
  int64_t busy_threshold_ms = -1;
  // The calling user's permissions, checked at every redis.call; null: every permission.
  const AclUser* acl_user = nullptr;
};

enum class BusyKind : int { kNone = 0, kEval = 1, kFunction = 2 };

class AsyncScript;

// Function persistence at start-up (main thread, reactors not running; function_family.cc).
// Loads libraries read from an RDB file into this thread's engine; returns "" or the error.
std::string LoadLibrariesAtStartup(const std::vector<std::string>& codes);
// Applies a FUNCTION LOAD/DELETE/FLUSH/RESTORE read from the AOF; returns "" or its error.
std::string ReplayFunctionCommand(ArgList args);
// Makes this thread's library set the start-up set of every engine.
void FinishStartupLibraries();

// The state of the invocation in progress; a suspended coroutine run keeps its own copy.
struct RunState {
  const ScriptRun* run = nullptr;  // null between scripts
  uint32_t flags = 0;
  RespVersion resp = RespVersion::kResp2;  // redis.setresp
  int64_t start_ms = 0;
  int64_t busy_threshold_ms = -1;
  BusyKind kind = BusyKind::kNone;
  bool wrote = false;   // the script executed a write command
  bool killed = false;  // SCRIPT KILL reached it: raise again at every line
};

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
  // Persistence of the function libraries (RDB, AOF). The start-up set: the main thread sets it
  // once the data is loaded, before the reactor threads run; every engine created afterwards
  // starts with it. The latest set: noted by thread 0 after each library change (and by the
  // set above), read by the main thread while no reactor runs (start-up base, shutdown save).
  static void SetStartupLibraries(const std::vector<std::string>& codes);
  static void NoteLatestLibraries(const std::vector<std::string>& codes);
  static std::vector<std::string> LatestLibraries();
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
  // Whether a script on any thread is busy (as Redis, the whole server then answers BUSY): one
  // relaxed load of a counter written only when a script crosses its threshold or ends.
  static bool AnyBusy() { return busy_threads_.load(std::memory_order_relaxed) != 0; }
  // The kind of some thread's busy script (kNone if none), for the BUSY reply.
  static BusyKind AnyBusyKind(int thread_count);

  LuaEngine();
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  // Bytes in use by this thread's Lua heap (INFO used_memory_lua).
  size_t memory_bytes() const;

  // A script of this thread's engine running past its busy threshold.
  BusyKind busy_kind() const { return busy_kind_; }

 private:
  static inline std::atomic<int> busy_threads_{0};

 public:
  // ---- EVAL scripts ----
  // Finds `body` in the cache or compiles it (checking its shebang); sets *sha. On failure
  // writes the error reply text (without '-') to *error.
  bool LoadScript(std::string_view body, std::string* sha, std::string* error);
  bool KnowsBody(std::string_view body) const { return by_body_.contains(AV(body)); }
  // The sha of a cached body, or "".
  std::string_view ShaOfBody(std::string_view body) const {
    auto it = by_body_.find(AV(body));
    return it == by_body_.end() ? std::string_view() : std::string_view(it->second);
  }
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
  // ---- Coroutine runs (see the top of this file) ----
  // As RunScript / CallFunction, but a call the target defers suspends the script: they return
  // null when the script finished (its reply written to `reply`), else the suspended run. Run
  // the deferred call, then Resume with its RESP reply (in the script's RESP version), again
  // until Resume returns true. `run` (and what it points to) must live until then.
  std::unique_ptr<AsyncScript> RunScriptAsync(std::string_view sha, const ScriptRun& run,
                                              ReplyBuilder& reply);
  std::unique_ptr<AsyncScript> CallFunctionAsync(const Function& fn, const ScriptRun& run,
                                                 ReplyBuilder& reply);
  bool Resume(AsyncScript& script, std::string_view call_reply, ReplyBuilder& reply);
  // `id`: "s:" + sha or "f:" + function name.
  KeyUse key_use(std::string_view id) const;
  void NoteKeyUse(std::string_view id, bool undeclared);

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
  // Pushes the callee (with the globals as its environment) and its arguments; returns nargs.
  int PushCallee(lua_State* L, int ref, bool is_function, const ScriptRun& run);
  RunState NewRunState(const ScriptRun& run, uint32_t flags, bool is_function) const;
  void LeaveRun();
  std::unique_ptr<AsyncScript> StartAsync(std::unique_ptr<AsyncScript> s, int ref, uint32_t flags,
                                          bool is_function, ReplyBuilder& reply);
  // Resumes the coroutine with `nargs` values on its stack; true when the script finished.
  bool ResumeCoroutine(AsyncScript& s, int nargs, ReplyBuilder& reply);
  void SetGlobal(const char* name, const char* registry_key);
  bool CompileLibrary(std::string_view code, Library* lib, std::string* error);
  void UnrefLibrary(const Library& lib);

  lua_State* L_ = nullptr;
  absl::flat_hash_map<std::string, Script> scripts_;       // by sha (lowercase)
  absl::flat_hash_map<std::string, std::string> by_body_;  // body -> sha
  std::map<std::string, Library> libraries_;
  absl::flat_hash_map<std::string, std::string> functions_;  // function -> library
  uint64_t library_generation_ = 0;

  RunState cur_;  // the invocation in progress
  // Coroutine runs: the one executing now, whether it deferred a call, and a pending raise.
  AsyncScript* async_ = nullptr;
  bool deferred_ = false;
  lua_State* raise_thread_ = nullptr;
  int raise_ref_ = -2;                                       // LUA_NOREF
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // AsyncScripts outliving us
  absl::flat_hash_map<std::string, KeyUse> key_use_;
  // Library loading in progress: register_function adds here.
  Library* loading_ = nullptr;
  int64_t load_start_ms_ = 0;
  std::string load_error_;
  BusyKind busy_kind_ = BusyKind::kNone;  // this thread's script is past its busy threshold
  void OnHook(lua_State* L);
  std::vector<std::string> call_args_;  // scratch for redis.call
  std::string call_reply_;
};

// A script suspended at a deferred redis.call (LuaEngine::RunScriptAsync). Owned by whoever
// drives it, on the engine's thread; destroying it drops the coroutine.
class AsyncScript {
 public:
  ~AsyncScript();
  AsyncScript(const AsyncScript&) = delete;
  AsyncScript& operator=(const AsyncScript&) = delete;

 private:
  friend class LuaEngine;
  friend struct LuaEngine::Impl;
  AsyncScript() = default;

  std::weak_ptr<char> engine_alive_;
  lua_State* main_ = nullptr;  // the engine's state, for the registry
  lua_State* co_ = nullptr;
  int co_ref_ = -2;  // LUA_NOREF
  int keys_ref_ = -2;
  int argv_ref_ = -2;
  std::string name_;  // sha or function name, for error replies
  ScriptRun run_;
  RunState state_;
  // The deferred call: the coroutine that yielded, redis.call (raise) or redis.pcall, writes.
  lua_State* yielded_ = nullptr;
  bool raise_ = false;
  bool call_writes_ = false;
};

}  // namespace shardis::scripting
