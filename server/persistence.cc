// RDB persistence orchestration (see persistence.h).
#include "server/persistence.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "server/logging.h"
#include "server/scripting/lua_engine.h"
#include "storage/rdb/rdb_db.h"
#include "storage/rdb/rdb_snapshot.h"

namespace shardis {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t TotalDirty() {
  PersistenceState& p = Persistence();
  uint64_t total = 0;
  for (int i = 0; i < p.shards; ++i) total += p.dirty[i].load(std::memory_order_relaxed);
  return total;
}

// The serialized shards of one save, shared by the fan-out tasks (each writes its own slot) and
// the writer.
struct Snapshot {
  std::vector<std::vector<rdb::DbSection>> shards;  // [shard][db]
  std::vector<uint64_t> dirty;                      // each shard's counter when serialized
  std::vector<std::string> functions;  // the function libraries' code at the snapshot instant
  std::string dir;
  std::string filename;
  bool checksum = true;
  int databases = 16;
  int64_t start_ms = 0;
  // The barrier that makes the snapshot one instant across shards (see ArriveAndWait).
  std::atomic<int> arrived{0};
  std::atomic<bool> aborted{false};
  // BGSAVE: shards still serializing incrementally; the last one to finish starts the writer.
  std::atomic<int> pending{0};
  // BGSAVE: each shard's finished walk, kept until the file is written (it owns the spill
  // files that the sections name).
  std::vector<std::unique_ptr<rdb::ShardSnapshot>> walks;
  std::vector<std::string> errors;  // per shard: a failed spill ("" if none)
  // An AOF rewrite's base (StartAofBaseSave) rather than a BGSAVE: the writer calls this with
  // the outcome instead of recording a save.
  std::function<void(const std::string&)> aof_base_written;
};

// A shard's part of a running BGSAVE (incremental): touched only by that shard's thread, or by
// the main thread once the reactors have stopped.
struct ShardJob {
  std::shared_ptr<Snapshot> snap;
  std::unique_ptr<rdb::ShardSnapshot> work;
  uint64_t reported_keys = 0;  // what this shard last added to the INFO counters
  uint64_t reported_bytes = 0;
};
std::vector<std::unique_ptr<ShardJob>>& Jobs() {
  static std::vector<std::unique_ptr<ShardJob>> jobs;
  return jobs;
}

// INFO progress: this shard's counters moved from what it reported last to now.
void ReportProgress(ShardJob& job) {
  PersistenceState& p = Persistence();
  uint64_t keys = job.work->keys_saved();
  uint64_t bytes = job.work->bytes();
  p.snapshot_keys_saved.fetch_add(keys - job.reported_keys, std::memory_order_relaxed);
  // Unsigned wrap-around makes this a subtraction when the shard spilled since.
  uint64_t held =
      p.snapshot_buffer_bytes.fetch_add(bytes - job.reported_bytes, std::memory_order_relaxed) +
      (bytes - job.reported_bytes);
  uint64_t peak = p.snapshot_buffer_peak.load(std::memory_order_relaxed);
  while (held > peak && !p.snapshot_buffer_peak.compare_exchange_weak(peak, held)) {
  }
  job.reported_keys = keys;
  job.reported_bytes = bytes;
}

// Each shard's task waits here until every shard has reached its task, so that at the moment
// the last one arrives all of them are paused between two commands: the shards then serialize
// what they hold at that one instant. (The save runs as an all-shards atomic operation, so no
// multi-shard operation is half done then.) The wait polls with short sleeps, and
// gives up when the server is shutting down (a stopped reactor never arrives); false then.
bool ArriveAndWait(Snapshot& snap, int shards) {
  if (snap.arrived.fetch_add(1) + 1 >= shards) return true;
  while (snap.arrived.load() < shards) {
    if (Persistence().stopping.load() || snap.aborted.load()) {
      snap.aborted.store(true);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

std::vector<rdb::DbSection> SerializeShard(ShardData& shard, const rdb::SaveOptions& options) {
  std::vector<rdb::DbSection> sections(shard.db_count());
  for (int db = 0; db < shard.db_count(); ++db) {
    rdb::SerializeDb(shard.db(db), options, &sections[db]);
  }
  return sections;
}

// The snapshot's sections by database, each database's pieces in shard order.
std::vector<std::vector<rdb::DbSection*>> SectionsByDb(const Snapshot& snap) {
  std::vector<std::vector<rdb::DbSection*>> dbs(snap.databases);
  for (const auto& shard : snap.shards) {
    for (size_t db = 0; db < shard.size() && db < dbs.size(); ++db) {
      dbs[db].push_back(const_cast<rdb::DbSection*>(&shard[db]));
    }
  }
  return dbs;
}

// The header (AUX fields as redis-server 7.0 writes them) and the function libraries. A
// transfer (SYNC) names the replication stream it starts, `repl_id` at offset 0.
std::string SnapshotHeader(const Snapshot& snap, bool aof_base, const std::string& repl_id = "") {
  std::vector<std::pair<std::string, std::string>> aux = {
      {"redis-ver", std::string(kRedisCompatVersion)},
      {"redis-bits", "64"},
      {"ctime", std::to_string(NowMs() / 1000)},
      {"used-mem", "0"}};
  if (!repl_id.empty()) {
    aux.insert(aux.end(), {{"repl-stream-db", "0"}, {"repl-id", repl_id}, {"repl-offset", "0"}});
  }
  aux.emplace_back("aof-base", aof_base ? "1" : "0");
  std::string header = rdb::FileHeader(aux);
  rdb::AppendFunctions(&header, snap.functions);
  return header;
}

std::string WriteSnapshot(const Snapshot& snap, uint64_t* bytes, bool aof_base = false) {
  return rdb::WriteFile(snap.dir, snap.filename, SnapshotHeader(snap, aof_base), SectionsByDb(snap),
                        snap.checksum, bytes);
}

// Records the outcome of a save (any thread).
void FinishSave(const Snapshot& snap, const std::string& error, bool background) {
  PersistenceState& p = Persistence();
  int64_t now = NowMs();
  if (error.empty()) {
    uint64_t dirty = 0;
    for (uint64_t d : snap.dirty) dirty += d;
    p.dirty_at_last_save.store(dirty);
    p.last_save_time_s.store(now / 1000);
    p.saves.fetch_add(1);
    p.last_bgsave_ok.store(true);
    Log(LogLevel::kNotice, "%s",
        background ? "Background saving terminated with success" : "DB saved on disk");
  } else {
    // As Redis: only a failed BGSAVE marks the status (a failed SAVE leaves it).
    if (background) p.last_bgsave_ok.store(false);
    Log(LogLevel::kWarning, "%s", error);
    Log(LogLevel::kWarning, "%s", background ? "Background saving error" : "Error saving DB");
  }
  if (background) {
    p.last_bgsave_time_sec.store((now - snap.start_ms) / 1000);
    p.bgsave_in_progress.store(false);
  }
  p.save_in_progress.store(false);
}

// The BGSAVE writer: a short-lived thread writes the file, then records the outcome.
void StartWriter(std::shared_ptr<Snapshot> snap) {
  Persistence().writer_running.store(true);
  std::thread([snap] {
    uint64_t bytes = 0;
    std::string error;
    for (const std::string& e : snap->errors) {
      if (error.empty()) error = e;
    }
    const bool aof_base = snap->aof_base_written != nullptr;
    if (error.empty()) error = WriteSnapshot(*snap, &bytes, aof_base);
    snap->walks.clear();  // removes the spill files
    PersistenceState& p = Persistence();
    p.last_snapshot_bytes.store(p.snapshot_buffer_peak.load());
    p.snapshot_buffer_bytes.store(0);
    if (aof_base) {
      p.save_in_progress.store(false);
      snap->aof_base_written(error);
    } else {
      FinishSave(*snap, error, true);
    }
    p.writer_running.store(false);
  }).detach();
}

// Makes a snapshot background (incremental): resets the INFO progress counters and prepares
// the per-shard slots; every shard then attaches at the instant (AttachShard).
void PrepareBackground(Snapshot& snap, int shards) {
  PersistenceState& p = Persistence();
  p.snapshot_keys_total.store(0);
  p.snapshot_keys_saved.store(0);
  p.snapshot_buffer_bytes.store(0);
  p.snapshot_buffer_peak.store(0);
  snap.pending.store(shards);
  snap.walks.resize(shards);
  snap.errors.resize(shards);
}

// The instant, on the shard's thread: attaches the shard's walk, which then serializes in
// slices between commands (SnapshotSlice). Spill files are named after `kind`.
void AttachShard(const std::shared_ptr<Snapshot>& snap, ShardAccess& access,
                 const rdb::SaveOptions& options, std::string_view kind) {
  int i = access.shard_index;
  auto job = std::make_unique<ShardJob>();
  job->snap = snap;
  job->work =
      std::make_unique<rdb::ShardSnapshot>(access.shard, options, access.shard.now_ms(),
                                           snap->dir + "/temp-" + std::to_string(getpid()) + "-" +
                                               std::string(kind) + "-" + std::to_string(i));
  Persistence().snapshot_keys_total.fetch_add(job->work->keys_at_start());
  Jobs()[i] = std::move(job);
}

// A shard's incremental serialization is complete: its sections join the snapshot; the last
// shard starts the writer.
void CompleteJob(int shard) {
  std::unique_ptr<ShardJob> job = std::move(Jobs()[shard]);
  ReportProgress(*job);
  job->snap->errors[shard] = job->work->spill_error();
  job->snap->shards[shard] = std::move(job->work->sections());
  std::shared_ptr<Snapshot> snap = job->snap;
  snap->walks[shard] = std::move(job->work);
  job.reset();
  if (snap->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) StartWriter(std::move(snap));
}

}  // namespace

bool SnapshotRunning(int shard) {
  std::vector<std::unique_ptr<ShardJob>>& jobs = Jobs();
  return shard < static_cast<int>(jobs.size()) && jobs[shard] != nullptr &&
         !Persistence().snapshot_paused.load(std::memory_order_relaxed);
}

void SnapshotSlice(int shard, int64_t budget_us) {
  ShardJob& job = *Jobs()[shard];
  bool complete = job.work->Step(budget_us);
  if (complete) {
    CompleteJob(shard);
  } else {
    ReportProgress(job);
  }
}

PersistenceState& Persistence() {
  static PersistenceState state;
  return state;
}

void InitPersistence(int shards, int64_t now_s) {
  PersistenceState& p = Persistence();
  p.dirty.reset(new std::atomic<uint64_t>[shards]);
  for (int i = 0; i < shards; ++i) p.dirty[i].store(0);
  p.shards = shards;
  Jobs().clear();
  Jobs().resize(shards);
  p.dirty_at_last_save.store(0);
  p.last_save_time_s.store(now_s);
}

uint64_t ChangesSinceLastSave() {
  uint64_t total = TotalDirty();
  uint64_t saved = Persistence().dirty_at_last_save.load();
  return total > saved ? total - saved : 0;
}

FanOutStarter AtomicAllShardsStarter(FanOutRunner& runner) {
  return [&runner](ShardTask task, FanOutDone done) {
    AtomicScope scope;
    scope.all_shards = true;
    runner.RunAtomic(std::move(scope), [task = std::move(task), done = std::move(done)](
                                           ReplyBuilder&, FanOutRunner& inner) mutable {
      std::vector<int> all(inner.shard_count());
      for (int i = 0; i < inner.shard_count(); ++i) all[i] = i;
      inner.RunOnShards(std::move(all), std::move(task), std::move(done));
    });
  };
}

rdb::SaveOptions SaveOptionsFrom(const Config& config) {
  rdb::SaveOptions o;
  o.compress = config.rdbcompression;
  o.list_fill = config.list_max_listpack_size;
  return o;
}

rdb::LoadLimits LoadLimitsFrom(const Config& config) {
  rdb::LoadLimits l;
  l.list_fill = config.list_max_listpack_size;
  l.hash_max_listpack_entries = static_cast<size_t>(config.hash_max_listpack_entries);
  l.hash_max_listpack_value = static_cast<size_t>(config.hash_max_listpack_value);
  l.set_max_intset_entries = static_cast<size_t>(config.set_max_intset_entries);
  l.zset.max_listpack_entries = static_cast<size_t>(config.zset_max_listpack_entries);
  l.zset.max_listpack_value = static_cast<size_t>(config.zset_max_listpack_value);
  l.stream.max_entries = config.stream_node_max_entries;
  l.stream.max_bytes = config.stream_node_max_bytes;
  l.skip_checksum = Persistence().skip_checksum_validation.load(std::memory_order_relaxed);
  return l;
}

bool StartSave(const Config& config, SaveMode mode, const FanOutStarter& start,
               SaveFinished finished) {
  PersistenceState& p = Persistence();
  bool expected = false;
  if (!p.save_in_progress.compare_exchange_strong(expected, true)) return false;
  bool background = mode == SaveMode::kBackground;
  auto snap = std::make_shared<Snapshot>();
  snap->shards.resize(p.shards);
  snap->dirty.resize(p.shards);
  snap->dir = config.dir;
  snap->filename = config.dbfilename;
  snap->checksum = config.rdbchecksum;
  snap->databases = config.databases;
  snap->start_ms = NowMs();
  if (background) {
    p.bgsave_in_progress.store(true);
    p.bgsave_start_ms.store(snap->start_ms);
    p.last_bgsave_try_s.store(snap->start_ms / 1000);
    Log(LogLevel::kNotice, "Background saving started");
  }
  rdb::SaveOptions options = SaveOptionsFrom(config);
  if (background) PrepareBackground(*snap, p.shards);
  start(
      [snap, options, background](ShardAccess& access) {
        if (!ArriveAndWait(*snap, static_cast<int>(snap->shards.size()))) return;
        int i = access.shard_index;
        snap->dirty[i] = Persistence().dirty[i].load(std::memory_order_relaxed);
        // Library changes are ordered on thread 0 (shard 0's): its set is the one of this instant.
        if (i == 0) snap->functions = scripting::LuaEngine::ThisThread().LibraryCodes();
        if (!background) {
          snap->shards[i] = SerializeShard(access.shard, options);
          return;
        }
        AttachShard(snap, access, options, "bgsave");
      },
      [snap, background, finished](ReplyBuilder& reply, FanOutRunner& runner) {
        if (snap->aborted.load()) {
          // Shutdown began before every shard arrived: the attached shards are abandoned by
          // SaveOnShutdown (AbandonSnapshots).
          if (!background)
            FinishSave(*snap, "Snapshot aborted: the server is shutting down", false);
          finished(reply, runner, "aborted");
          return;
        }
        if (!background) {
          uint64_t bytes = 0;
          std::string error = WriteSnapshot(*snap, &bytes);
          FinishSave(*snap, error, false);
          finished(reply, runner, error);
          return;
        }
        // The shards serialize in the background; the last one starts the writer.
        finished(reply, runner, "");
      });
  return true;
}

void StartTransfer(const Config& config, const FanOutStarter& start, bool with_data,
                   const std::string& repl_id, TransferReady ready) {
  PersistenceState& p = Persistence();
  auto snap = std::make_shared<Snapshot>();
  snap->shards.resize(p.shards);
  snap->checksum = config.rdbchecksum;
  snap->databases = config.databases;
  rdb::SaveOptions options = SaveOptionsFrom(config);
  start(
      [snap, options, with_data](ShardAccess& access) {
        if (!ArriveAndWait(*snap, static_cast<int>(snap->shards.size()))) return;
        int i = access.shard_index;
        if (i == 0) snap->functions = scripting::LuaEngine::ThisThread().LibraryCodes();
        if (with_data) snap->shards[i] = SerializeShard(access.shard, options);
      },
      [snap, repl_id, ready](ReplyBuilder& reply, FanOutRunner& runner) {
        if (snap->aborted.load()) {
          ready(reply, runner, "");
          return;
        }
        ready(reply, runner,
              rdb::FileBytes(SnapshotHeader(*snap, false, repl_id), SectionsByDb(*snap),
                             snap->checksum));
      });
}

bool StartAofBaseSave(const Config& config, const FanOutStarter& start, const std::string& dir,
                      const std::string& filename, std::function<void(int)> at_instant,
                      std::function<void(const std::string&)> written, FanOutDone serialized) {
  PersistenceState& p = Persistence();
  bool expected = false;
  if (!p.save_in_progress.compare_exchange_strong(expected, true)) return false;
  auto snap = std::make_shared<Snapshot>();
  snap->shards.resize(p.shards);
  snap->dirty.resize(p.shards);
  snap->dir = dir;
  snap->filename = filename;
  snap->checksum = config.rdbchecksum;
  snap->databases = config.databases;
  snap->start_ms = NowMs();
  rdb::SaveOptions options = SaveOptionsFrom(config);
  // Serialized as a BGSAVE is: incrementally after the instant, copy-on-write, then written by
  // the writer thread, which reports to `written`.
  PrepareBackground(*snap, p.shards);
  snap->aof_base_written = std::move(written);
  start(
      [snap, options, at_instant](ShardAccess& access) {
        if (!ArriveAndWait(*snap, static_cast<int>(snap->shards.size()))) return;
        at_instant(access.shard_index);
        // Library changes are ordered on thread 0 (shard 0's): its set is the one of this instant.
        if (access.shard_index == 0) {
          snap->functions = scripting::LuaEngine::ThisThread().LibraryCodes();
        }
        AttachShard(snap, access, options, "aofbase");
      },
      [snap, serialized](ReplyBuilder& reply, FanOutRunner& runner) {
        if (snap->aborted.load()) {
          // Shutdown began before every shard arrived: the attached shards are abandoned by
          // SaveOnShutdown (AbandonSnapshots).
          Persistence().save_in_progress.store(false);
          snap->aof_base_written("aborted: the server is shutting down");
          serialized(reply, runner);
          return;
        }
        serialized(reply, runner);  // the shards serialize in the background
      });
  return true;
}

std::string WriteShardsNow(const Config& config, const std::vector<ShardData*>& shards,
                           const std::string& dir, const std::string& filename, bool aof_base) {
  Snapshot snap;
  snap.dir = dir;
  snap.filename = filename;
  snap.checksum = config.rdbchecksum;
  snap.databases = config.databases;
  snap.functions = scripting::LuaEngine::LatestLibraries();
  rdb::SaveOptions options = SaveOptionsFrom(config);
  for (ShardData* s : shards) snap.shards.push_back(SerializeShard(*s, options));
  uint64_t bytes = 0;
  return WriteSnapshot(snap, &bytes, aof_base);
}

std::string ReadRdbFile(const std::string& path, const Config& config, int shard_count,
                        int64_t now_ms, std::vector<std::vector<rdb::LoadedKey>>* per_shard,
                        rdb::LoadStats* stats, bool log_progress) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("Can't open the RDB file ") + path + ": " + strerror(errno);
  struct stat st;
  std::string data;
  if (fstat(fd, &st) == 0) data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  data.resize(got);
  per_shard->assign(shard_count, {});
  auto sink = [&](rdb::LoadedKey&& k) {
    (*per_shard)[ShardOfKey(k.key, shard_count)].push_back(std::move(k));
    return std::string();
  };
  rdb::LoadProgress progress;
  if (log_progress) {
    double total = static_cast<double>(data.size());
    progress = [total](uint64_t offset, uint64_t keys) {
      Log(LogLevel::kNotice, "Loading RDB: %.1f%% (%d keys)", 100.0 * offset / total,
          static_cast<int64_t>(keys));
    };
  }
  return rdb::ParseFile(data, LoadLimitsFrom(config), now_ms, config.databases, sink, stats,
                        progress);
}

std::string InsertLoadedKeys(ShardData& shard, std::vector<rdb::LoadedKey>* keys) {
  for (rdb::LoadedKey& k : *keys) {
    Db& db = shard.db(k.db);
    if (rdb::KeyExists(db, k.key)) {
      return "RDB has duplicated key '" + k.key + "' in DB " + std::to_string(k.db);
    }
    rdb::StoreKey(db, k.key, std::move(k.value), k.expire_ms, k.idle_s);
  }
  keys->clear();
  return "";
}

std::string LoadAtStartup(const Config& config, const std::vector<ShardData*>& shards) {
  std::string path = config.dir + "/" + config.dbfilename;
  if (access(path.c_str(), F_OK) != 0) return "";
  int64_t start = NowMs();
  for (ShardData* s : shards) s->clock().now_ms = start;
  std::vector<std::vector<rdb::LoadedKey>> per_shard;
  rdb::LoadStats stats;
  Log(LogLevel::kNotice, "Loading RDB file %s", path);
  std::string error =
      ReadRdbFile(path, config, static_cast<int>(shards.size()), start, &per_shard, &stats, true);
  if (error.empty()) error = scripting::LoadLibrariesAtStartup(stats.functions);
  if (!error.empty()) {
    return "Error loading the RDB file " + path + ": " + error +
           ". Refusing to start with an incomplete dataset: fix or remove the file.";
  }
  // Each shard's keys go into it on a thread of its own (the shards share nothing, and the
  // reactor threads that will own them start after these are joined).
  std::vector<std::string> errors(shards.size());
  std::vector<std::thread> inserters;
  for (size_t i = 0; i < shards.size(); ++i) {
    inserters.emplace_back([&, i] { errors[i] = InsertLoadedKeys(*shards[i], &per_shard[i]); });
  }
  for (std::thread& t : inserters) t.join();
  for (const std::string& e : errors) {
    if (!e.empty()) return "Error loading the RDB file " + path + ": " + e;
  }
  PersistenceState& p = Persistence();
  p.last_load_keys.store(stats.keys);
  p.last_load_expired.store(stats.expired_skipped);
  Log(LogLevel::kNotice, "Done loading RDB (version %d), keys loaded: %d, keys expired: %d.",
      stats.version, static_cast<int64_t>(stats.keys), static_cast<int64_t>(stats.expired_skipped));
  Log(LogLevel::kNotice, "DB loaded from disk: %.3f seconds", (NowMs() - start) / 1000.0);
  return "";
}

std::string SaveOnShutdown(const Config& config, const std::vector<ShardData*>& shards) {
  PersistenceState& p = Persistence();
  AbandonSnapshots();
  // A BGSAVE's writer may still run: let it finish (bounded) so no temp file is left behind. (A
  // save whose shards had not all answered when the reactors stopped never writes anything.)
  for (int i = 0; i < 600 && p.writer_running.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int mode = p.shutdown_mode.load();
  bool save = mode == 1 || (mode == 0 && !config.save_params.empty());
  if (!save) return "";
  Log(LogLevel::kNotice, "Saving the final RDB snapshot before exiting.");
  Snapshot snap;
  snap.dir = config.dir;
  snap.filename = config.dbfilename;
  snap.checksum = config.rdbchecksum;
  snap.databases = config.databases;
  snap.start_ms = NowMs();
  snap.functions = scripting::LuaEngine::LatestLibraries();
  rdb::SaveOptions options = SaveOptionsFrom(config);
  for (size_t i = 0; i < shards.size(); ++i) {
    shards[i]->clock().now_ms = snap.start_ms;
    snap.dirty.push_back(p.dirty[i].load());
    snap.shards.push_back(SerializeShard(*shards[i], options));
  }
  uint64_t bytes = 0;
  std::string error = WriteSnapshot(snap, &bytes);
  FinishSave(snap, error, false);
  return error;
}

void AbandonSnapshots() {
  // As Redis kills its saving child at shutdown: a BGSAVE still serializing writes nothing. Each
  // shard still completes its walk (it only marks entries) so no table is left mid-epoch.
  std::shared_ptr<Snapshot> abandoned;
  for (std::unique_ptr<ShardJob>& job : Jobs()) {
    if (job == nullptr) continue;
    abandoned = job->snap;
    abandoned->aborted.store(true);
    job->work->Abandon();
    job.reset();
  }
  if (abandoned != nullptr) {
    PersistenceState& p = Persistence();
    p.snapshot_buffer_bytes.store(0);
    FinishSave(*abandoned, "Background saving aborted: the server is shutting down", true);
  }
}

std::string CheckShutdownSave(const Config& config, int mode) {
  bool save = mode == 1 || (mode == 0 && !config.save_params.empty());
  if (!save) return "";
  std::string probe = config.dir + "/temp-shutdown-" + std::to_string(getpid()) + ".rdb";
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return "Failed opening the temp RDB file " + probe + " for saving: " + strerror(errno);
  }
  close(fd);
  unlink(probe.c_str());
  return "";
}

void PersistenceCron(const Config& config, const FanOutStarter& start) {
  PersistenceState& p = Persistence();
  if (p.save_in_progress.load(std::memory_order_relaxed)) return;
  int64_t now_s = NowMs() / 1000;
  bool go = p.bgsave_scheduled.load();
  if (!go) {
    uint64_t changes = ChangesSinceLastSave();
    int64_t since = now_s - p.last_save_time_s.load();
    // After a failed BGSAVE, retry only every 5 seconds (as Redis).
    bool may_retry = p.last_bgsave_ok.load() || now_s - p.last_bgsave_try_s.load() > 5;
    for (const auto& [secs, need] : config.save_params) {
      if (changes >= static_cast<uint64_t>(need) && since > secs && may_retry) {
        Log(LogLevel::kNotice, "%d changes in %d seconds. Saving...", static_cast<int64_t>(need),
            secs);
        go = true;
        break;
      }
    }
  }
  if (!go) return;
  if (StartSave(config, SaveMode::kBackground, start,
                [](ReplyBuilder&, FanOutRunner&, const std::string&) {})) {
    p.bgsave_scheduled.store(false);
  }
}

}  // namespace shardis
