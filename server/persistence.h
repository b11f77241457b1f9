// RDB persistence of the whole server: SAVE / BGSAVE / the `save` schedule / shutdown save /
// load at start-up, on top of storage/rdb.
//
// A save is an atomic operation over every shard (whole-shard intents, so no multi-shard
// operation is half done at its instant) whose tasks first meet at a barrier: when the last one
// arrives every shard is paused between commands, which is the snapshot instant. Then:
//  - SAVE (and DEBUG RELOAD, the AOF rewrite's base): each shard serializes its keys in one go
//    (SerializeShard) while paused; the origin thread (SAVE) or a short-lived thread (AOF base)
//    stitches the per-database sections into one file (one header, one SELECTDB/RESIZEDB per
//    database, CRC64 trailer; temp file, fsync, rename).
//  - BGSAVE (issue #6, no fork): each shard attaches an rdb::ShardSnapshot at the instant and
//    goes back to serving; its reactor then serializes a ~1 ms slice per loop turn
//    (SnapshotSlice) in Scan order, and the Db pre-write hook serializes any entry a command is
//    about to reach first, so the file holds every key as it was at the instant (copy-on-write
//    at the entry level, by serializing rather than copying). The last shard to finish starts a
//    short-lived writer thread. The memory held meanwhile is the serialized output not yet
//    spilled to per-shard temp files (at most ~4 MB per shard and database in use; INFO
//    current_cow_size), whatever the dataset and the write load.
//
// The process-wide status (INFO persistence, LASTSAVE, the schedule) lives in PersistenceState:
// atomics written by whichever thread finishes a save, read by INFO on any thread. The change
// counters are one per shard, written only by that shard's thread (a relaxed load + store, no
// read-modify-write) and summed by readers. None of this is on the request path beyond that one
// counter store per write command (and, during a BGSAVE, the pre-write hook).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/command.h"
#include "server/config.h"
#include "storage/rdb/rdb_file.h"
#include "storage/shard_data.h"

namespace shardis {

struct PersistenceState {
  std::unique_ptr<std::atomic<uint64_t>[]> dirty;  // per shard: write commands executed
  int shards = 0;
  std::atomic<uint64_t> dirty_at_last_save{0};
  std::atomic<bool> save_in_progress{false};    // any save (one at a time)
  std::atomic<bool> bgsave_in_progress{false};  // a BGSAVE (INFO rdb_bgsave_in_progress)
  std::atomic<bool> bgsave_scheduled{false};    // BGSAVE SCHEDULE
  std::atomic<bool> writer_running{false};      // a BGSAVE writer thread exists
  std::atomic<bool> stopping{false};            // shutdown began: abandon snapshot barriers
  std::atomic<int64_t> last_save_time_s{0};
  std::atomic<int64_t> bgsave_start_ms{0};
  std::atomic<int64_t> last_bgsave_time_sec{-1};
  std::atomic<int64_t> last_bgsave_try_s{0};
  std::atomic<bool> last_bgsave_ok{true};
  std::atomic<uint64_t> saves{0};
  std::atomic<uint64_t> last_load_keys{0};
  // The running BGSAVE's progress (INFO persistence): keys live at the instant, keys serialized
  // so far, and the serialized bytes held in memory until the file is written.
  std::atomic<uint64_t> snapshot_keys_total{0};
  std::atomic<uint64_t> snapshot_keys_saved{0};
  std::atomic<uint64_t> snapshot_buffer_bytes{0};
  std::atomic<uint64_t> snapshot_buffer_peak{0};
  std::atomic<uint64_t> last_snapshot_bytes{0};
  std::atomic<bool> skip_checksum_validation{false};  // DEBUG SET-SKIP-CHECKSUM-VALIDATION
  std::atomic<bool> snapshot_paused{
      false};  // DEBUG SNAPSHOT-PAUSE (tests)  // the last BGSAVE's (INFO rdb_last_cow_size)
  std::atomic<uint64_t> last_load_expired{0};
  // SHUTDOWN's choice for the main thread: 0 default (save when a schedule is set), 1 SAVE,
  // 2 NOSAVE.
  std::atomic<int> shutdown_mode{0};
};

PersistenceState& Persistence();
// Sizes the per-shard counters; call before the reactor threads start.
void InitPersistence(int shards, int64_t now_s);
// Counts `n` changes on `shard` (its own thread only).
inline void NoteWrites(int shard, uint64_t n = 1) {
  std::atomic<uint64_t>& d = Persistence().dirty[shard];
  d.store(d.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
uint64_t ChangesSinceLastSave();

rdb::SaveOptions SaveOptionsFrom(const Config& config);
rdb::LoadLimits LoadLimitsFrom(const Config& config);

// Runs `task` on every shard, then `done` on the calling thread (a connection's fan-out, or the
// cron's connection-less one).
using FanOutStarter = std::function<void(ShardTask, FanOutDone)>;
// The starter of a save: an atomic operation over every shard (whole-shard intents), so the
// snapshot instant falls between multi-shard operations, never inside one; its tasks then run on
// every shard. `runner` must outlive the call of the starter only.
FanOutStarter AtomicAllShardsStarter(FanOutRunner& runner);
enum class SaveMode : uint8_t { kForeground, kBackground };
// Called when a save has finished (foreground) or its serialization has (background), on the
// origin thread; `error` is "" on success.
using SaveFinished =
    std::function<void(ReplyBuilder& reply, FanOutRunner& runner, const std::string& error)>;
// Starts a save unless one is in progress (then returns false and does nothing).
bool StartSave(const Config& config, SaveMode mode, const FanOutStarter& start,
               SaveFinished finished);

// A replica's or `redis-cli --rdb`'s transfer (SYNC): the RDB bytes of one instant across the
// shards (every shard serializes at that instant, as SAVE's do), handed to `ready` on the origin
// thread, or "" when the server began shutting down first. Only the function libraries when
// !with_data. Not a save: it records nothing and may run beside one.
using TransferReady =
    std::function<void(ReplyBuilder& reply, FanOutRunner& runner, const std::string& rdb)>;
void StartTransfer(const Config& config, const FanOutStarter& start, bool with_data,
                   const std::string& repl_id, TransferReady ready);

// The AOF rewrite's base (server/aof.h): a snapshot as BGSAVE's (one instant across shards,
// where `at_instant` runs on each shard's thread), written as an RDB file `dir`/`filename` (AUX
// aof-base 1) by a background thread, which then calls `written` with "" or the error.
// `serialized` runs on the origin thread once every shard has serialized. False (nothing done)
// when a save is in progress.
bool StartAofBaseSave(const Config& config, const FanOutStarter& start, const std::string& dir,
                      const std::string& filename, std::function<void(int)> at_instant,
                      std::function<void(const std::string&)> written, FanOutDone serialized);
// Writes the shards as an RDB file now, on the calling thread (the reactors must not run).
std::string WriteShardsNow(const Config& config, const std::vector<ShardData*>& shards,
                           const std::string& dir, const std::string& filename, bool aof_base);

// Start-up: loads `dir`/`dbfilename` into the shards (threads not running yet). Returns "" when
// loaded or absent, else the error (the server must refuse to start).
std::string LoadAtStartup(const Config& config, const std::vector<ShardData*>& shards);
// Parses an RDB file and hands each key to the shard that owns it: per_shard[i] receives shard
// i's keys. Returns "" or an error.
std::string ReadRdbFile(const std::string& path, const Config& config, int shard_count,
                        int64_t now_ms, std::vector<std::vector<rdb::LoadedKey>>* per_shard,
                        rdb::LoadStats* stats, bool log_progress = false);
// Stores loaded keys into a shard (its own thread). Returns "" or an error (duplicate key).
std::string InsertLoadedKeys(ShardData& shard, std::vector<rdb::LoadedKey>* keys);

// Shutdown (after the reactor threads have stopped): waits for a running BGSAVE, then saves when
// SHUTDOWN SAVE asked, or by default when a save schedule is set and NOSAVE was not given.
// Returns "" or the error.
std::string SaveOnShutdown(const Config& config, const std::vector<ShardData*>& shards);

// SHUTDOWN's check before it commits to exiting: whether the shutdown save (when one will run)
// can create its file in `dir`. Returns "" or the error. (A disk that fills up during the final
// save is only seen then: the process exits 1 with the error logged.)
std::string CheckShutdownSave(const Config& config, int mode);

// Incremental BGSAVE: whether `shard` has serialization left (its reactor then does not sleep),
// and one slice of it, for about budget_us (the shard's thread, between commands). The last
// shard to finish starts the file writer.
bool SnapshotRunning(int shard);
void SnapshotSlice(int shard, int64_t budget_us);
// Shutdown (main thread, reactors stopped): drops a BGSAVE still serializing (nothing written,
// as Redis kills its child). Called by SaveOnShutdown.
void AbandonSnapshots();

// The schedule, called from reactor 0's periodic work: BGSAVE SCHEDULE, and `save` points.
void PersistenceCron(const Config& config, const FanOutStarter& start);

}  // namespace shardis
