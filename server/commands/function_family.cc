// Function commands: FCALL, FCALL_RO and FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/
// KILL/HELP.
//
// Every thread's LuaEngine holds the same libraries. A change (LOAD, DELETE, FLUSH, RESTORE) is
// applied first on thread 0, which validates it, numbers the resulting library set (a
// generation) and replies its error if any; the resulting set then goes to every thread, which
// installs it only when it is newer than its own. Concurrent changes from clients of different
// threads are thus ordered by thread 0, and every thread ends on the latest set.
//
// FCALL is routed like EVALSHA (scripting_family.cc): in one step on the shard of its declared
// keys (or the connection's own) once this thread has seen it keep to them, else across shards
// (server/scripting/script_run.h). FUNCTION DUMP/RESTORE use Redis's payload: per library the RDB
// opcode 245 and the code as an RDB string, then the RDB version (10) and a CRC64 (Jones), so
// payloads move between Shardis and redis-server 7.0 both ways (the code LZF-compressed as
// Redis writes it, with rdbcompression, so the payloads are byte for byte Redis's).
#include <memory>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/persistence.h"
#include "server/scripting/call_target.h"
#include "server/scripting/lua_engine.h"
#include "server/scripting/script_run.h"
#include "server/server_context.h"
#include "storage/glob.h"
#include "storage/rdb/lzf.h"

namespace shardis {
namespace scripting {
void NumkeysKeys(ArgList args, std::vector<int>* positions);  // scripting_family.cc
}  // namespace scripting

namespace {

using scripting::LocalShardTarget;
using scripting::LuaEngine;
using scripting::ScriptRun;

// ---- FCALL ----

// FCALL function numkeys key... arg...: numkeys, or Redis's error (empty when valid).
std::string_view ParseFcallNumkeys(ArgList args, int64_t* numkeys) {
  if (!cmd::ParseInt64(args[2], numkeys)) return "ERR Bad number of keys provided";
  if (*numkeys > static_cast<int64_t>(args.size()) - 3) {
    return "ERR Number of keys can't be greater than number of args";
  }
  if (*numkeys < 0) return "ERR Number of keys can't be negative";
  return {};
}

void RunFcallHere(ArgList args, ShardData& shard, int db_index, const Config& config,
                  int shard_index, ReplyBuilder& reply) {
  LuaEngine& engine = LuaEngine::ThisThread();
  const LuaEngine::Function* fn = engine.FindFunction(args[1]);
  if (fn == nullptr) {
    reply.Error("ERR Function not found");
    return;
  }
  int64_t numkeys;
  if (std::string_view error = ParseFcallNumkeys(args, &numkeys); !error.empty()) {
    reply.Error(error);
    return;
  }
  bool ro = args[0].size() == 8;  // fcall_ro
  LocalShardTarget target(shard, db_index, config, shard_index, LuaEngine::ThreadShardCount());
  ScriptRun run{args.subspan(3, numkeys), args.subspan(3 + numkeys), ro, &target};
  run.busy_threshold_ms = config.busy_reply_threshold;
  engine.CallFunction(*fn, run, reply);
}

void FcallShard(ShardCommand& c) {
  RunFcallHere(c.args, c.shard, c.db_index, c.config, LuaEngine::ThreadShardIndex(), c.reply);
}

// As EVAL's (scripting_family.cc): the fast path is for functions this thread has seen keep to
// their declared keys; the others run on the connection's thread across shards, holding every
// shard unless they are known to keep to their declared keys.
bool FcallPreferClient(ArgList args) {
  if (LuaEngine::ThreadShardCount() == 1) return false;
  return LuaEngine::ThisThread().key_use(scripting::ScriptKeyUseId(true, args[1])) !=
         scripting::KeyUse::kDeclaredOnly;
}

void FcallWidenScope(ArgList args, AtomicScope* scope) {
  if (LuaEngine::ThisThread().key_use(scripting::ScriptKeyUseId(true, args[1])) !=
      scripting::KeyUse::kDeclaredOnly) {
    scope->all_shards = true;
  }
}

void FcallClient(ClientCommand& c) {
  std::vector<int> positions;
  scripting::NumkeysKeys(c.args, &positions);
  if (c.server == nullptr) {  // unit tests: no coordinator; run on the first key's shard
    int target = positions.empty() ? 0 : c.ShardOf(c.args[positions[0]]);
    auto argv = std::make_shared<std::vector<std::string>>(c.args.begin(), c.args.end());
    auto out = std::make_shared<std::string>();
    RespVersion resp = c.client.resp;
    c.RunOnShards(
        {target},
        [argv, out, resp](ShardAccess& a) {
          std::vector<std::string_view> args(argv->begin(), argv->end());
          ReplyBuilder reply(out.get(), resp);
          RunFcallHere(args, a.shard, a.db_index, a.config, a.shard_index, reply);
        },
        [out](ReplyBuilder& reply, FanOutRunner&) { reply.Raw(*out); });
    return;
  }
  if (LuaEngine::ThisThread().FindFunction(c.args[1]) == nullptr) {
    c.reply.Error("ERR Function not found");
    return;
  }
  int64_t numkeys;
  if (std::string_view error = ParseFcallNumkeys(c.args, &numkeys); !error.empty()) {
    c.reply.Error(error);
    return;
  }
  scripting::CrossShardScript script;
  script.argv.assign(c.args.begin(), c.args.end());
  script.is_function = true;
  script.numkeys = static_cast<size_t>(numkeys);
  script.read_only = c.args[0].size() == 8;  // fcall_ro
  script.db_index = c.client.db_index;
  script.busy_threshold_ms = c.server->config().busy_reply_threshold;
  script.acl_user = scripting::ScriptAclUser(c);
  scripting::RunScriptAcrossShards(std::move(script), c.server->shard(), c.server->config(),
                                   c.server->thread_index(), c.reply, c.runner());
}

// ---- DUMP / RESTORE payloads ----

constexpr unsigned char kOpcodeFunction2 = 245;
constexpr unsigned char kOpcodeFunction = 246;  // pre-7.0 GA format: refused
constexpr uint16_t kRdbVersion = 10;

uint64_t Crc64(uint64_t crc, std::string_view data) {
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0x95AC9329AC4BC9B5ULL : crc >> 1;
  }
  return crc;
}

void AppendRdbLen(std::string* out, size_t n) {
  if (n < 64) {
    out->push_back(static_cast<char>(n));
  } else if (n < 16384) {
    out->push_back(static_cast<char>(0x40 | (n >> 8)));
    out->push_back(static_cast<char>(n & 0xff));
  } else if (n <= 0xffffffffULL) {
    out->push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  } else {
    out->push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
}

// A library's code as Redis's rdbSaveRawString writes it: LZF-compressed (with rdbcompression,
// past 20 bytes, when that saves more than 4 bytes), else raw.
void AppendRdbString(std::string* out, std::string_view s, bool compress) {
  if (compress && s.size() > 20) {
    std::string buf(s.size() - 4, '\0');
    size_t n = rdb::LzfCompress(s, reinterpret_cast<uint8_t*>(buf.data()), buf.size());
    if (n > 0) {
      out->push_back(static_cast<char>(0xC3));  // RDB_ENCVAL | RDB_ENC_LZF
      AppendRdbLen(out, n);
      AppendRdbLen(out, s.size());
      out->append(buf.data(), n);
      return;
    }
  }
  AppendRdbLen(out, s.size());
  out->append(s);
}

std::string DumpPayload(const std::vector<std::string>& codes, bool compress) {
  std::string out;
  for (const std::string& code : codes) {
    out.push_back(static_cast<char>(kOpcodeFunction2));
    AppendRdbString(&out, code, compress);
  }
  out.push_back(static_cast<char>(kRdbVersion & 0xff));
  out.push_back(static_cast<char>(kRdbVersion >> 8));
  uint64_t crc = Crc64(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

bool LzfDecompress(std::string_view in, size_t out_len, std::string* out) {
  out->clear();
  out->reserve(out_len);
  size_t i = 0;
  while (i < in.size()) {
    unsigned ctrl = static_cast<unsigned char>(in[i++]);
    if (ctrl < 32) {
      size_t len = ctrl + 1;
      if (i + len > in.size() || out->size() + len > out_len) return false;
      out->append(in.substr(i, len));
      i += len;
    } else {
      size_t len = ctrl >> 5;
      if (len == 7) {
        if (i >= in.size()) return false;
        len += static_cast<unsigned char>(in[i++]);
      }
      if (i >= in.size()) return false;
      size_t back = ((ctrl & 0x1f) << 8) + static_cast<unsigned char>(in[i++]) + 1;
      len += 2;
      if (back > out->size() || out->size() + len > out_len) return false;
      size_t from = out->size() - back;
      for (size_t k = 0; k < len; ++k) out->push_back((*out)[from + k]);
    }
  }
  return out->size() == out_len;
}

struct PayloadReader {
  std::string_view data;
  size_t pos = 0;

  bool Len(uint64_t* len, bool* special) {
    *special = false;
    if (pos >= data.size()) return false;
    unsigned char b = static_cast<unsigned char>(data[pos++]);
    switch (b >> 6) {
      case 0:
        *len = b & 0x3f;
        return true;
      case 1:
        if (pos >= data.size()) return false;
        *len = ((b & 0x3f) << 8) | static_cast<unsigned char>(data[pos++]);
        return true;
      case 2: {
        int bytes = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (bytes == 0 || pos + bytes > data.size()) return false;
        *len = 0;
        for (int i = 0; i < bytes; ++i)
          *len = (*len << 8) | static_cast<unsigned char>(data[pos++]);
        return true;
      }
      default:
        *special = true;
        *len = b & 0x3f;
        return true;
    }
  }

  bool String(std::string* out) {
    uint64_t len;
    bool special;
    if (!Len(&len, &special)) return false;
    if (!special) {
      if (pos + len > data.size()) return false;
      *out = std::string(data.substr(pos, len));
      pos += len;
      return true;
    }
    if (len <= 2) {  // an integer stored as 1, 2 or 4 little-endian bytes
      int bytes = 1 << len;
      if (pos + bytes > data.size()) return false;
      int64_t v = 0;
      for (int i = 0; i < bytes; ++i) {
        v |= static_cast<int64_t>(static_cast<unsigned char>(data[pos + i])) << (8 * i);
      }
      if (bytes == 1) v = static_cast<int8_t>(v);
      if (bytes == 2) v = static_cast<int16_t>(v);
      if (bytes == 4) v = static_cast<int32_t>(v);
      pos += bytes;
      *out = Cat(v);
      return true;
    }
    if (len == 3) {  // LZF
      uint64_t clen, ulen;
      bool s1, s2;
      if (!Len(&clen, &s1) || !Len(&ulen, &s2) || s1 || s2 || pos + clen > data.size()) {
        return false;
      }
      if (!LzfDecompress(data.substr(pos, clen), ulen, out)) return false;
      pos += clen;
      return true;
    }
    return false;
  }
};

// Parses a FUNCTION DUMP payload into library codes; on failure sets Redis's error.
bool ParsePayload(std::string_view payload, std::vector<std::string>* codes, std::string* error) {
  if (payload.size() < 10) {
    *error = "ERR DUMP payload version or checksum are wrong";
    return false;
  }
  size_t body = payload.size() - 10;
  uint16_t version = static_cast<unsigned char>(payload[body]) |
                     (static_cast<unsigned char>(payload[body + 1]) << 8);
  uint64_t crc = 0;
  for (int i = 0; i < 8; ++i) {
    crc |= static_cast<uint64_t>(static_cast<unsigned char>(payload[body + 2 + i])) << (8 * i);
  }
  if (version > kRdbVersion ||
      (Crc64(0, payload.substr(0, body + 2)) != crc &&
       !Persistence().skip_checksum_validation.load(std::memory_order_relaxed))) {
    *error = "ERR DUMP payload version or checksum are wrong";
    return false;
  }
  PayloadReader r{payload.substr(0, body)};
  while (r.pos < r.data.size()) {
    unsigned char op = static_cast<unsigned char>(r.data[r.pos++]);
    if (op == kOpcodeFunction) {
      *error = "ERR Pre-GA function format not supported";
      return false;
    }
    if (op != kOpcodeFunction2) {
      *error = "ERR given type is not a function";
      return false;
    }
    std::string code;
    if (!r.String(&code)) {
      *error = "ERR Failed loading library";
      return false;
    }
    codes->push_back(std::move(code));
  }
  return true;
}

// ---- Library changes: thread 0 first, then every thread ----

struct Change {
  enum Kind { kLoad, kDelete, kFlush, kRestore } kind;
  std::string text;  // code, library name or payload
  bool replace = false;
  int policy = 0;                 // restore: 0 append, 1 replace, 2 flush
  std::vector<std::string> argv;  // the command, for the AOF (recorded as given, as Redis)
  int db = 0;                     // the client's database (Redis's record SELECTs it)
  // Results (written on thread 0).
  std::string error;
  std::string name;
  std::vector<std::string> codes;
  uint64_t generation = 0;
};

void ApplyChange(LuaEngine& e, Change& ch) {
  switch (ch.kind) {
    case Change::kLoad:
      if (!e.LoadLibrary(ch.text, ch.replace, &ch.name, &ch.error)) return;
      break;
    case Change::kDelete:
      if (!e.DeleteLibrary(ch.text)) {
        ch.error = "ERR Library not found";
        return;
      }
      break;
    case Change::kFlush:
      e.FlushLibraries();
      break;
    case Change::kRestore: {
      std::vector<std::string> incoming;
      if (!ParsePayload(ch.text, &incoming, &ch.error)) return;
      std::vector<std::string> old = e.LibraryCodes();
      if (ch.policy == 2) e.FlushLibraries();
      std::string name, failure;
      for (const std::string& code : incoming) {
        if (!e.LoadLibrary(code, ch.policy == 1, &name, &failure)) {
          // RESTORE words a name collision without FUNCTION LOAD's quotes.
          if (failure.starts_with("ERR Library '") && failure.ends_with("' already exists")) {
            failure = Cat("ERR Library ", failure.substr(13, failure.size() - 13 - 16),
                          " already exists");
          }
          break;
        }
      }
      if (!failure.empty()) {  // all or nothing: put back what was there
        e.FlushLibraries();
        std::string ignored;
        for (const std::string& code : old) e.LoadLibrary(code, false, &name, &ignored);
        ch.error = failure;
        return;
      }
      break;
    }
  }
  ch.generation = e.library_generation() + 1;
  e.set_library_generation(ch.generation);
  ch.codes = e.LibraryCodes();
  LuaEngine::NoteLatestLibraries(ch.codes);
}

void ReplyChange(const Change& ch, ReplyBuilder& reply) {
  if (!ch.error.empty()) {
    reply.Error(ch.error);
  } else if (ch.kind == Change::kLoad) {
    reply.Bulk(ch.name);
  } else {
    reply.Ok();
  }
}

void RunChange(ClientCommand& c, std::shared_ptr<Change> ch) {
  ServerContext* server = c.server;
  c.RunOnShards(
      {0},
      [ch](ShardAccess&) {
        ApplyChange(LuaEngine::ThisThread(), *ch);
        // Logged by the thread that orders the changes, in that order, before any reply.
        if (ch->error.empty() && aof::Active()) aof::Record(ch->db, ch->argv);
      },
      [ch, server](ReplyBuilder& reply, FanOutRunner&) {
        if (!ch->error.empty() || server == nullptr || server->thread_count() == 1) {
          ReplyChange(*ch, reply);
          return;
        }
        server->ForEachThread(
            [ch](ServerContext&) {
              LuaEngine::ThisThread().InstallLibraries(ch->codes, ch->generation);
            },
            [ch](ReplyBuilder& reply, FanOutRunner&) { ReplyChange(*ch, reply); });
      });
}

// ---- FUNCTION ----

void CmdFunction(ClientCommand& c) {
  const CommandSpec* sub = CommandTable::Get().ResolveSubcommand(c.args, c.reply);
  if (sub == nullptr) return;
  c.client.last_command = sub->name;
  sub->on_client(c);
}

// Parses FUNCTION LOAD/DELETE/FLUSH/RESTORE (args[1] names which); null with *error set when
// the arguments are wrong.
std::shared_ptr<Change> ParseChange(ArgList args, std::string* error) {
  auto ch = std::make_shared<Change>();
  ch->argv.assign(args.begin(), args.end());
  std::string_view sub = args[1];
  if (cmd::EqualsIgnoreCase(sub, "load")) {
    ch->kind = Change::kLoad;
    for (size_t i = 2; i + 1 < args.size(); ++i) {
      if (cmd::EqualsIgnoreCase(args[i], "replace")) {
        ch->replace = true;
      } else {
        *error = Cat("ERR Unknown option given: ", args[i]);
        return nullptr;
      }
    }
    ch->text = std::string(args.back());
  } else if (cmd::EqualsIgnoreCase(sub, "delete")) {
    ch->kind = Change::kDelete;
    ch->text = std::string(args[2]);
  } else if (cmd::EqualsIgnoreCase(sub, "flush")) {
    if (args.size() > 3 || (args.size() == 3 && !cmd::EqualsIgnoreCase(args[2], "async") &&
                            !cmd::EqualsIgnoreCase(args[2], "sync"))) {
      *error = args.size() > 3 ? Cat("ERR unknown subcommand or wrong number of arguments for '",
                                     args[1], "'. Try FUNCTION HELP.")
                               : std::string("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
      return nullptr;
    }
    ch->kind = Change::kFlush;
  } else {
    ch->kind = Change::kRestore;
    ch->text = std::string(args[2]);
    if (args.size() > 4) {
      *error = Cat("ERR unknown subcommand or wrong number of arguments for '", args[1],
                   "'. Try FUNCTION HELP.");
      return nullptr;
    }
    if (args.size() == 4) {
      if (cmd::EqualsIgnoreCase(args[3], "append")) {
        ch->policy = 0;
      } else if (cmd::EqualsIgnoreCase(args[3], "replace")) {
        ch->policy = 1;
      } else if (cmd::EqualsIgnoreCase(args[3], "flush")) {
        ch->policy = 2;
      } else {
        *error = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
        return nullptr;
      }
    }
  }
  return ch;
}

void CmdFunctionChange(ClientCommand& c) {
  std::string error;
  std::shared_ptr<Change> ch = ParseChange(c.args, &error);
  if (ch == nullptr) {
    c.reply.Error(error);
    return;
  }
  ch->db = c.client.db_index;
  RunChange(c, ch);
}

void CmdFunctionDump(ClientCommand& c) {
  bool compress = c.server == nullptr || c.server->config().rdbcompression;
  c.reply.Bulk(DumpPayload(LuaEngine::ThisThread().LibraryCodes(), compress));
}

void CmdFunctionList(ClientCommand& c) {
  bool with_code = false;
  std::string_view pattern;
  bool has_pattern = false;
  for (size_t i = 2; i < c.args.size(); ++i) {
    if (!with_code && cmd::EqualsIgnoreCase(c.args[i], "withcode")) {
      with_code = true;
    } else if (!has_pattern && cmd::EqualsIgnoreCase(c.args[i], "libraryname")) {
      if (i + 1 >= c.args.size()) {
        c.reply.Error("ERR library name argument was not given");
        return;
      }
      pattern = c.args[++i];
      has_pattern = true;
    } else {
      c.reply.Error(Cat("ERR Unknown argument ", c.args[i]));
      return;
    }
  }
  const auto& libs = LuaEngine::ThisThread().libraries();
  std::vector<const LuaEngine::Library*> shown;
  for (const auto& [name, lib] : libs) {
    if (!has_pattern || GlobMatch(pattern, name)) shown.push_back(&lib);
  }
  c.reply.ArrayHeader(shown.size());
  for (const LuaEngine::Library* lib : shown) {
    c.reply.MapHeader(with_code ? 4 : 3);
    c.reply.Bulk("library_name");
    c.reply.Bulk(lib->name);
    c.reply.Bulk("engine");
    c.reply.Bulk("LUA");
    c.reply.Bulk("functions");
    c.reply.ArrayHeader(lib->functions.size());
    for (const LuaEngine::Function& f : lib->functions) {
      c.reply.MapHeader(3);
      c.reply.Bulk("name");
      c.reply.Bulk(f.name);
      c.reply.Bulk("description");
      if (f.description.empty()) {
        c.reply.Null();
      } else {
        c.reply.Bulk(f.description);
      }
      c.reply.Bulk("flags");
      std::vector<std::string_view> flags;
      if (f.flags & scripting::kScriptNoWrites) flags.push_back("no-writes");
      if (f.flags & scripting::kScriptAllowOom) flags.push_back("allow-oom");
      if (f.flags & scripting::kScriptAllowStale) flags.push_back("allow-stale");
      if (f.flags & scripting::kScriptNoCluster) flags.push_back("no-cluster");
      if (f.flags & scripting::kScriptAllowCrossSlot) flags.push_back("allow-cross-slot-keys");
      c.reply.SetHeader(flags.size());
      for (std::string_view fl : flags) c.reply.SimpleString(fl);
    }
    if (with_code) {
      c.reply.Bulk("library_code");
      c.reply.Bulk(lib->code);
    }
  }
}

void CmdFunctionStats(ClientCommand& c) {
  LuaEngine& e = LuaEngine::ThisThread();
  if (e.busy_kind() == scripting::BusyKind::kEval) {  // as Redis, while a busy EVAL runs
    c.reply.Error(LuaEngine::BusyError(scripting::BusyKind::kEval));
    return;
  }
  c.reply.MapHeader(2);
  c.reply.Bulk("running_script");
  c.reply.Null();
  c.reply.Bulk("engines");
  c.reply.MapHeader(1);
  c.reply.Bulk("LUA");
  c.reply.MapHeader(2);
  c.reply.Bulk("libraries_count");
  c.reply.Integer(static_cast<int64_t>(e.libraries().size()));
  c.reply.Bulk("functions_count");
  c.reply.Integer(static_cast<int64_t>(e.function_count()));
}

void CmdFunctionKill(ClientCommand& c) {
  std::string error =
      LuaEngine::RequestKill(c.server != nullptr ? c.server->thread_count() : 1, false);
  if (error.empty()) {
    c.reply.Ok();
  } else {
    c.reply.Error(error);
  }
}

void CmdFunctionHelp(ClientCommand& c) {
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME "
      "argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, can be restored "
      "using FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is possible to give a "
      "restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
      "abort.",
      "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
      "replace the old",
      "      libraries with the new libraries (notice that even on this option there is a "
      "chance of failure",
      "      in case of functions name collision with another library).",
      "HELP",
      "    Prints this help.",
  };
  c.reply.ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) c.reply.SimpleString(line);
}

}  // namespace

void RegisterFunctionCommands(std::vector<CommandSpec>* table) {
  constexpr uint32_t kFcallFlags =
      kCmdNoscript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys | kCmdMovableKeys;
  for (auto [name, flags, summary] :
       {std::tuple{"fcall", kFcallFlags, "Invoke a function"},
        std::tuple{"fcall_ro", kFcallFlags | kCmdReadonly, "Invoke a read-only function"}}) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = -3;
    spec.flags = flags;
    spec.acl_categories = "@slow @scripting";
    spec.group = "scripting";
    spec.summary = summary;
    spec.since = "7.0.0";
    spec.on_shard = FcallShard;
    spec.on_client = FcallClient;
    spec.get_keys = scripting::NumkeysKeys;
    spec.prefer_client = FcallPreferClient;
    spec.widen_scope = FcallWidenScope;
    table->push_back(spec);
  }
  auto add = [table](std::string_view name, int arity, uint32_t flags, std::string_view acl,
                     std::string_view summary, ClientHandler handler) {
    CommandSpec spec{};
    spec.name = name;
    spec.arity = arity;
    spec.flags = flags;
    spec.acl_categories = acl;
    spec.group = "scripting";
    spec.summary = summary;
    spec.since = "7.0.0";
    spec.on_client = handler;
    table->push_back(spec);
  };
  constexpr std::string_view kSlow = "@slow @scripting";
  constexpr std::string_view kWrite = "@write @slow @scripting";
  add("function", -2, 0, "@slow", "A container for function commands", CmdFunction);
  add("function|load", -3, kCmdWrite | kCmdDenyOom | kCmdNoscript, kWrite,
      "Create a function with the given arguments (name, code, description)", CmdFunctionChange);
  add("function|list", -2, kCmdNoscript, kSlow, "List information about all the functions",
      CmdFunctionList);
  add("function|delete", 3, kCmdWrite | kCmdNoscript, kWrite, "Delete a function by name",
      CmdFunctionChange);
  add("function|flush", -2, kCmdWrite | kCmdNoscript, kWrite, "Deleting all functions",
      CmdFunctionChange);
  add("function|dump", 2, kCmdNoscript, kSlow,
      "Dump all functions into a serialized binary payload", CmdFunctionDump);
  add("function|restore", -3, kCmdWrite | kCmdDenyOom | kCmdNoscript, kWrite,
      "Restore all the functions on the given payload", CmdFunctionChange);
  add("function|stats", 2, kCmdNoscript | kCmdAllowBusy, kSlow,
      "Return information about the function currently running (name, description, duration)",
      CmdFunctionStats);
  add("function|kill", 2, kCmdNoscript | kCmdAllowBusy, kSlow,
      "Kill the function currently in execution.", CmdFunctionKill);
  add("function|help", 2, kCmdLoading | kCmdStale, kSlow,
      "Show helpful text about the different subcommands", CmdFunctionHelp);
}

namespace scripting {

std::string LoadLibrariesAtStartup(const std::vector<std::string>& codes) {
  LuaEngine& e = LuaEngine::ThisThread();
  for (const std::string& code : codes) {
    std::string name, error;
    if (!e.LoadLibrary(code, false, &name, &error)) return "Failed loading library: " + error;
  }
  if (!codes.empty()) {
    e.set_library_generation(e.library_generation() + 1);
    LuaEngine::NoteLatestLibraries(e.LibraryCodes());
  }
  return "";
}

std::string ReplayFunctionCommand(ArgList args) {
  if (args.size() < 2) return "";
  std::string_view sub = args[1];
  if (!cmd::EqualsIgnoreCase(sub, "load") && !cmd::EqualsIgnoreCase(sub, "delete") &&
      !cmd::EqualsIgnoreCase(sub, "flush") && !cmd::EqualsIgnoreCase(sub, "restore")) {
    return "";  // LIST, DUMP, STATS...: nothing to apply
  }
  const CommandSpec* spec = CommandTable::Get().FindSubcommand(args[0], args[1]);
  if (spec == nullptr || !CommandTable::ArityOk(*spec, args.size())) {
    return "ERR wrong number of arguments";
  }
  std::string error;
  std::shared_ptr<Change> ch = ParseChange(args, &error);
  if (ch == nullptr) return error;
  ApplyChange(LuaEngine::ThisThread(), *ch);
  return ch->error;
}

void FinishStartupLibraries() {
  LuaEngine::SetStartupLibraries(LuaEngine::ThisThread().LibraryCodes());
}

}  // namespace scripting
}  // namespace shardis
