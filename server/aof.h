// AOF persistence: Redis 7.0's multi-part append-only file (appenddirname/ with a base file,
// .incr.aof files and the manifest), written by every reactor thread without locks.
//
// Recording (each reactor thread, its own state only): after a shard handler of a write command
// ran, its effect is appended as RESP to a thread-local buffer, in the form Redis propagates it
// (EXPIRE -> PEXPIREAT, SET EX -> SET PXAT, INCRBYFLOAT -> SET KEEPTTL, SPOP -> SREM, served
// blocking pops -> their non-blocking form, XADD * -> the id chosen, scripts -> their writes in
// MULTI/EXEC, XREADGROUP / XCLAIM / XAUTOCLAIM -> XCLAIMs with explicit times and counts plus
// XGROUP SETID ... ENTRIESREAD, so that a replay gives back the same PEL whatever the clock).
// Operations spanning shards (cross-shard commands, cross-shard EXEC) are recorded by the
// coordinating thread, as one command or one MULTI/EXEC, before their intents are released.
// FUNCTION LOAD/DELETE/FLUSH/RESTORE are recorded as given by thread 0, which orders library
// changes; the base (an RDB file) holds the libraries, as redis-server's does.
//
// Writing: a thread writes its buffer to the current incr file (one O_APPEND write(2)) before any
// message or reply leaves it (Reactor::FlushOutgoing, WriteConnection): so whatever another thread
// or a client can have seen is in the file before anything that depends on it, which orders the
// records of one key across threads. `appendfsync always` fdatasyncs there too (a group commit per
// loop turn: replies are sent after it); `everysec` leaves that to a background thread, once a
// second; `no` never syncs.
//
// BGREWRITEAOF (and CONFIG SET appendonly yes) writes a new base: an RDB snapshot taken at one
// instant of every shard (the existing snapshot code, run as an all-shards atomic operation),
// at which each thread switches to a new incr file (already in the manifest). Once the base is
// written the manifest is replaced (temp + rename) and the old files are deleted.
//
// Startup replays base + incr files in manifest order through the command handlers, on the main
// thread, before the reactor threads run (FUNCTION commands on the main thread's Lua engine,
// whose libraries every reactor thread's engine then starts with).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/config.h"
#include "storage/shard_data.h"

namespace shardis {
namespace aof {

// True while records are being written (appendonly on, or being turned on). One relaxed load.
bool Active();
// The errno of the last failed write to the AOF while it is still failing, else 0 (writes then
// get Redis's MISCONF error).
int WriteErrno();

// Records of the current thread go into a Sink: RESP commands with SELECTs where the database
// changes.
struct Sink {
  std::string buf;
  int db = -1;
  int commands = 0;
  size_t first_select_end = 0;  // where the commands start after an initial SELECT
};

// Appends one command record for database `db` to this thread's current sink.
void Record(int db, ArgList args);
void Record(int db, const std::vector<std::string>& args);
// Derives the record of a shard handler's run from its arguments and RESP reply (empty: the
// command blocked). Nothing for failed or non-writing commands.
void Propagate(const CommandSpec& spec, const ShardCommand& cmd, std::string_view reply);
// Appends sink `s` to this thread's current sink, wrapped in MULTI/EXEC when it holds more than
// one command.
void AppendTransaction(const Sink& s);

// While alive, this thread's records go to `sink` instead (a transaction, a script, a task of a
// cross-shard EXEC).
class Capture {
 public:
  explicit Capture(Sink* sink);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

 private:
  Sink* saved_;
};

// Runs a shard handler, recording its effect when the AOF is active. Every place that runs
// on_shard for a client goes through this.
void RunShardHandler(const CommandSpec& spec, ShardCommand& cmd);

// Writes this thread's records to the current incr file (and fdatasyncs under appendfsync
// always). Cheap when there is nothing to write.
void Flush();
// A reactor thread starting: it writes to the current incr file.
void AttachThread();

// ---- Lifecycle (main thread) ----

// Start-up with appendonly yes: loads the AOF directory (or, when it does not exist, the RDB
// file, then creates the directory with a base of that data), opens the incr file. With
// appendonly no: loads the RDB file as before. Returns "" or the error (refuse to start).
std::string StartupLoad(const Config& config, const std::vector<ShardData*>& shards);
// After the reactors stopped: flushes, fsyncs, stops the fsync thread.
void Shutdown();

// ---- Runtime ----

// BGREWRITEAOF.
void BgRewriteCommand(ClientCommand& c);
// After CONFIG SET changed AOF parameters (every thread has the new configuration): applies
// appendfsync and friends; appendonly yes starts a rewrite (the reply comes when its snapshot is
// taken), no stops logging. Writes the reply.
void ConfigChanged(ReplyBuilder& reply, FanOutRunner& runner, const Config& config);
// Reactor 0's periodic work: a scheduled BGREWRITEAOF (asked during a BGSAVE), and
// auto-aof-rewrite-percentage / auto-aof-rewrite-min-size.
void Cron(const Config& config, FanOutRunner& runner);
// INFO persistence's aof_* fields, as "name:value\r\n" lines.
void InfoFields(std::vector<std::pair<std::string, std::string>>* out);

// ---- Pieces exposed for unit tests ----

struct ManifestEntry {
  std::string name;
  int64_t seq = 0;
  char type = 'i';  // 'b' base, 'h' history, 'i' incr
};
// Parses Redis 7.0's manifest text. Returns "" or an error.
std::string ParseManifest(std::string_view text, std::vector<ManifestEntry>* out);
std::string FormatManifest(const std::vector<ManifestEntry>& entries);

// Reads RESP commands from `data`: calls `on_command` for each complete one. Returns the offset
// just past the last complete command; *truncated is set when the data ends inside a command,
// *error (with the offset) when it is malformed.
size_t ParseCommands(std::string_view data,
                     const std::function<bool(std::vector<std::string>&&, size_t)>& on_command,
                     bool* truncated, std::string* error);

}  // namespace aof
}  // namespace shardis
