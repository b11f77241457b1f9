// AOF files: the multi-part directory and manifest, writing and syncing the incr file, start-up
// replay, BGREWRITEAOF, INFO fields (see aof.h for the design). The process-wide state lives in
// one Global object: atomics read on the request path (Active, the fsync policy), the current
// incr file (behind a mutex, never taken on a command's path), and the manifest, which only
// one rewrite at a time (or the main thread at start-up) reads and writes.
#include "server/aof.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>

#include "server/client_state.h"
#include "server/command_table.h"
#include "server/coordination.h"
#include "server/logging.h"
#include "server/persistence.h"
#include "server/scripting/lua_engine.h"
#include "server/server_context.h"

namespace shardis {
namespace aof {

std::string& ThreadBuffer();  // aof_propagate.cc
void ResetThreadBuffer();

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum FsyncPolicy : int { kFsyncNo = 0, kFsyncEverysec = 1, kFsyncAlways = 2 };

// One open incr file. Closed (after a final fdatasync) when the last thread lets go of it.
struct File {
  int fd = -1;
  std::string path;
  std::atomic<uint64_t> size{0};
  std::atomic<uint64_t> unsynced{0};
  ~File() {
    if (fd >= 0) {
      fdatasync(fd);
      close(fd);
    }
  }
};

struct Global {
  std::atomic<bool> active{false};
  std::atomic<int> fsync{kFsyncEverysec};
  std::atomic<bool> no_fsync_on_rewrite{false};
  // The current incr file, for threads starting, the everysec thread, INFO and the cron. Never
  // touched on a command's path (each reactor keeps its own reference, t_file), so a plain mutex
  // (libstdc++'s atomic<shared_ptr> is a spinlock that ThreadSanitizer does not understand).
  std::mutex current_mu;
  std::shared_ptr<File> current_file;
  std::shared_ptr<File> Current() {
    std::lock_guard<std::mutex> lock(current_mu);
    return current_file;
  }
  void SetCurrent(std::shared_ptr<File> f) {
    std::lock_guard<std::mutex> lock(current_mu);
    current_file = std::move(f);
  }
  // The directory and manifest: touched by start-up, and by one rewrite at a time.
  std::string dir;       // absolute: dir/appenddirname
  std::string basename;  // appendfilename
  std::vector<ManifestEntry> manifest;
  std::atomic<bool> rewrite_in_progress{false};
  std::atomic<bool> rewrite_scheduled{false};
  std::atomic<bool> last_rewrite_ok{true};
  std::atomic<bool> last_write_ok{true};
  std::atomic<int> last_write_errno{0};
  std::atomic<int64_t> last_rewrite_time_sec{-1};
  std::atomic<int64_t> rewrite_start_ms{0};
  std::atomic<uint64_t> base_size{0};
  // Bytes written to the incr file(s) since the last switch (INFO, auto rewrite): reset when a
  // rewrite starts, so writes of threads not yet switched count too (a slight overestimate).
  std::atomic<uint64_t> incr_size{0};
  std::atomic<uint64_t> rewrites{0};
  std::atomic<uint64_t> delayed_fsync{0};
  std::thread fsync_thread;
  std::atomic<bool> stop{false};
};

Global& G() {
  static Global g;
  return g;
}

thread_local std::shared_ptr<File> t_file;

// Writes as much of `data` as it can; returns the bytes written (errno set when short).
size_t WriteSome(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

bool WriteAll(int fd, std::string_view data) { return WriteSome(fd, data) == data.size(); }

std::string ManifestName() { return G().basename + ".manifest"; }

bool FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

// Replaces the manifest atomically: temp file, fsync, rename, fsync of the directory.
std::string WriteManifest(const std::vector<ManifestEntry>& entries) {
  Global& g = G();
  std::string tmp = g.dir + "/temp-" + ManifestName();
  std::string final_path = g.dir + "/" + ManifestName();
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "Can't open the AOF manifest file " + tmp + ": " + strerror(errno);
  bool ok = WriteAll(fd, FormatManifest(entries)) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), final_path.c_str()) != 0) {
    if (ok) err = errno;
    unlink(tmp.c_str());
    return "Error writing the AOF manifest file " + final_path + ": " + strerror(err);
  }
  FsyncDir(g.dir);
  return "";
}

std::shared_ptr<File> OpenIncr(const std::string& name, std::string* error, bool fresh = false) {
  auto f = std::make_shared<File>();
  f->path = G().dir + "/" + name;
  f->fd = open(f->path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (fresh ? O_TRUNC : 0),
               0644);
  if (f->fd < 0) {
    *error = "Can't open the append-only file " + f->path + ": " + strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(f->fd, &st) == 0) f->size.store(static_cast<uint64_t>(st.st_size));
  return f;
}

int64_t MaxSeq(char type) {
  int64_t seq = 0;
  for (const ManifestEntry& e : G().manifest) {
    if (e.type == type && e.seq > seq) seq = e.seq;
  }
  return seq;
}

std::string IncrName(int64_t seq) { return G().basename + "." + std::to_string(seq) + ".incr.aof"; }
std::string BaseName(int64_t seq) { return G().basename + "." + std::to_string(seq) + ".base.rdb"; }

int PolicyOf(const Config& config) {
  std::string v;
  config.Get("appendfsync", &v);
  if (v == "always") return kFsyncAlways;
  if (v == "no") return kFsyncNo;
  return kFsyncEverysec;
}

bool BoolParam(const Config& config, const char* name) {
  std::string v;
  config.Get(name, &v);
  return v == "yes";
}

void ApplyConfig(const Config& config) {
  Global& g = G();
  g.fsync.store(PolicyOf(config));
  g.no_fsync_on_rewrite.store(BoolParam(config, "no-appendfsync-on-rewrite"));
}

void StartFsyncThread() {
  Global& g = G();
  if (g.fsync_thread.joinable()) return;
  g.stop.store(false);
  g.fsync_thread = std::thread([] {
    Global& g = G();
    while (!g.stop.load()) {
      for (int i = 0; i < 10 && !g.stop.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (g.fsync.load() != kFsyncEverysec) continue;
      if (g.no_fsync_on_rewrite.load() && g.rewrite_in_progress.load()) continue;
      std::shared_ptr<File> f = g.Current();
      if (f && f->unsynced.exchange(0) != 0) fdatasync(f->fd);
    }
  });
}

// ---- Replay ----

// Runs replayed commands on the shards from the main thread, routed as the dispatcher does
// (single-shard commands on their shard's handler, the others through their connection-side
// handler with fan-outs run synchronously).
class ReplayRunner : public FanOutRunner {
 public:
  ReplayRunner(const Config& config, const std::vector<ShardData*>& shards)
      : config_(config), shards_(shards) {}

  int shard_count() const override { return static_cast<int>(shards_.size()); }
  void RunOnShards(std::vector<int> shards, ShardTask task, FanOutDone done) override {
    for (int s : shards) {
      ShardData& sd = *shards_[s];
      ShardAccess access{sd, sd.db(client_.db_index), client_.db_index, s, config_, shard_count()};
      task(access);
    }
    std::string out;
    ReplyBuilder reply(&out, client_.resp);
    done(reply, *this);
  }

  // Returns "" or an error that stops the load (unknown command).
  std::string Execute(const std::vector<std::string>& argv) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    StripExactTrimLimit(&args);
    const CommandSpec* spec = CommandTable::Get().Find(args[0]);
    if (spec == nullptr) return "Unknown command '" + argv[0] + "'";
    if (spec->name == "select") {
      int64_t db = 0;
      if (!cmd::ParseInt64(args.size() > 1 ? args[1] : "", &db) || db < 0 ||
          db >= config_.databases) {
        return "Invalid SELECT";
      }
      client_.db_index = static_cast<int>(db);
      return "";
    }
    if (!CommandTable::ArityOk(*spec, args.size())) {
      return "Wrong number of arguments for '" + argv[0] + "'";
    }
    std::vector<int> positions;
    CommandTable::KeyPositions(*spec, args, &positions);
    int target = -1;
    bool single = !positions.empty();
    for (int pos : positions) {
      int s = ShardOfKey(args[pos], shard_count());
      if (target == -1) target = s;
      if (s != target) single = false;
    }
    if (spec->on_client != nullptr && spec->prefer_client != nullptr && spec->prefer_client(args)) {
      single = false;
    }
    std::string out;
    ReplyBuilder reply(&out, client_.resp);
    if (spec->on_shard != nullptr && (single || spec->on_client == nullptr)) {
      if (target < 0) target = 0;
      ShardData& sd = *shards_[target];
      ShardCommand cmd{args, sd, sd.db(client_.db_index), client_.db_index, reply, config_};
      spec->on_shard(cmd);
    } else if (spec->on_shard != nullptr || IsKeylessDataCommand(*spec)) {
      ClientCommand cmd(args, client_, reply, nullptr, *this);
      spec->on_client(cmd);
    } else if (spec->name == "function") {
      // Library changes apply to this (the main) thread's engine, whose set every reactor
      // thread starts with. A failing one is skipped, as Redis's loader ignores replies.
      std::string error = scripting::ReplayFunctionCommand(args);
      if (!error.empty())
        Log(LogLevel::kWarning, "AOF: FUNCTION %s: %s", std::string(args[1]), error);
    } else {
      ++skipped_;  // other server commands are not replayed
    }
    return "";
  }
  uint64_t skipped() const { return skipped_; }

  // redis-server logs XADD/XTRIM's "~" trimming as "=" but keeps its LIMIT, which only the AOF
  // loader (and a replica) accept: drop the LIMIT of an exact trim.
  static void StripExactTrimLimit(std::vector<std::string_view>* args) {
    if (!cmd::EqualsIgnoreCase((*args)[0], "xadd") && !cmd::EqualsIgnoreCase((*args)[0], "xtrim")) {
      return;
    }
    for (size_t i = 2; i + 4 < args->size(); ++i) {
      if ((cmd::EqualsIgnoreCase((*args)[i], "maxlen") ||
           cmd::EqualsIgnoreCase((*args)[i], "minid")) &&
          (*args)[i + 1] == "=" && cmd::EqualsIgnoreCase((*args)[i + 3], "limit")) {
        args->erase(args->begin() + static_cast<ptrdiff_t>(i + 3),
                    args->begin() + static_cast<ptrdiff_t>(i + 5));
        return;
      }
    }
  }

 private:
  const Config& config_;
  const std::vector<ShardData*>& shards_;
  ClientState client_;
  uint64_t skipped_ = 0;
};

bool ReadWholeFile(const std::string& path, std::string* data) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) == 0) data->resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data->size()) {
    ssize_t n = read(fd, data->data() + got, data->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  data->resize(got);
  return true;
}

std::string LoadRdbInto(const std::string& path, const Config& config,
                        const std::vector<ShardData*>& shards) {
  std::vector<std::vector<rdb::LoadedKey>> per_shard;
  rdb::LoadStats stats;
  std::string error =
      ReadRdbFile(path, config, static_cast<int>(shards.size()), NowMs(), &per_shard, &stats, true);
  for (size_t i = 0; error.empty() && i < shards.size(); ++i) {
    error = InsertLoadedKeys(*shards[i], &per_shard[i]);
  }
  if (error.empty()) error = scripting::LoadLibrariesAtStartup(stats.functions);
  return error;
}

// Replays one AOF file. `last`: it may be truncated (aof-load-truncated decides).
std::string ReplayFile(const std::string& path, bool last, const Config& config,
                       const std::vector<ShardData*>& shards, ReplayRunner& runner,
                       uint64_t* commands) {
  std::string data;
  if (!ReadWholeFile(path, &data)) {
    return "Fatal error: can't open the append log file " + path +
           " for reading: " + strerror(errno);
  }
  if (data.size() >= 5 && data.compare(0, 5, "REDIS") == 0) {
    // An RDB base (or an old-style RDB preamble with no AOF tail).
    std::string error = LoadRdbInto(path, config, shards);
    if (!error.empty()) return "Error reading the RDB base file " + path + ": " + error;
    return "";
  }
  std::vector<std::vector<std::string>> multi;
  bool in_multi = false;
  size_t multi_start = 0;
  std::string exec_error;
  bool truncated = false;
  std::string parse_error;
  size_t valid = ParseCommands(
      data,
      [&](std::vector<std::string>&& argv, size_t offset) {
        ++*commands;
        if (cmd::EqualsIgnoreCase(argv[0], "multi")) {
          in_multi = true;
          multi_start = offset;
          multi.clear();
          return true;
        }
        if (cmd::EqualsIgnoreCase(argv[0], "exec")) {
          in_multi = false;
          for (const auto& q : multi) {
            exec_error = runner.Execute(q);
            if (!exec_error.empty()) return false;
          }
          multi.clear();
          return true;
        }
        if (in_multi) {
          multi.push_back(std::move(argv));
          return true;
        }
        exec_error = runner.Execute(argv);
        if (!exec_error.empty()) exec_error += " at offset " + std::to_string(offset);
        return exec_error.empty();
      },
      &truncated, &parse_error);
  if (!exec_error.empty()) {
    return exec_error + " reading the append only file " + path;
  }
  if (!parse_error.empty()) {
    return "Bad file format reading the append only file " + path + " (" + parse_error +
           "): make a backup of your AOF file, then use ./redis-check-aof --fix "
           "<filename.manifest>";
  }
  if (in_multi) {
    // A transaction with no EXEC: Redis reverts it (the file is cut before its MULTI).
    truncated = true;
    valid = multi_start;
  }
  if (!truncated) return "";
  if (!last) {
    return "Unexpected end of file reading the append only file " + path +
           " (only the last file may be truncated)";
  }
  if (!BoolParam(config, "aof-load-truncated")) {
    return "Unexpected end of file reading the append only file " + path + " at offset " +
           std::to_string(valid) +
           ". You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
           "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
           "configuration option to yes and restart the server.";
  }
  Log(LogLevel::kWarning, "!!! Warning: short read while loading the AOF file %s!!!", path);
  Log(LogLevel::kWarning, "!!! Truncating the AOF %s at offset %d !!!", path,
      static_cast<int64_t>(valid));
  if (truncate(path.c_str(), static_cast<off_t>(valid)) != 0) {
    return "Error truncating the AOF file " + path + ": " + strerror(errno);
  }
  Log(LogLevel::kWarning, "AOF %s loaded anyway because aof-load-truncated is enabled", path);
  return "";
}

}  // namespace

bool Active() { return G().active.load(std::memory_order_relaxed); }

int WriteErrno() {
  Global& g = G();
  if (!g.active.load(std::memory_order_relaxed) ||
      g.last_write_ok.load(std::memory_order_relaxed)) {
    return 0;
  }
  return g.last_write_errno.load(std::memory_order_relaxed);
}

void AttachThread() { t_file = G().Current(); }

void Flush() {
  std::string& buf = ThreadBuffer();
  if (buf.empty()) return;
  Global& g = G();
  if (t_file) {
    size_t written = WriteSome(t_file->fd, buf);
    if (written < buf.size()) {
      int err = errno != 0 ? errno : ENOSPC;
      g.last_write_errno.store(err);
      if (g.last_write_ok.exchange(false)) {
        Log(LogLevel::kWarning, "Error writing to the AOF file: %s", strerror(err));
      }
      if (g.fsync.load(std::memory_order_relaxed) == kFsyncAlways) {
        // The replies of these writes must not go out (Redis exits too).
        Log(LogLevel::kWarning,
            "Can't recover from AOF write error when the AOF fsync policy is 'always'. "
            "Exiting...");
        _exit(1);
      }
      // Keep what did not get written, to retry at the next flush (as Redis keeps its AOF
      // buffer); meanwhile write commands get MISCONF. (Another thread's write landing between
      // the two parts of a cut record would corrupt the file: known limitation.)
      g.incr_size.fetch_add(written, std::memory_order_relaxed);
      buf.erase(0, written);
      return;
    } else {
      if (!g.last_write_ok.load(std::memory_order_relaxed)) {
        g.last_write_ok.store(true);
        Log(LogLevel::kWarning, "AOF write error looks solved, Redis can write again.");
      }
      g.incr_size.fetch_add(buf.size(), std::memory_order_relaxed);
      int policy = g.fsync.load(std::memory_order_relaxed);
      if (policy == kFsyncAlways) {
        if (!(g.no_fsync_on_rewrite.load(std::memory_order_relaxed) &&
              g.rewrite_in_progress.load(std::memory_order_relaxed))) {
          fdatasync(t_file->fd);
        }
      } else if (policy == kFsyncEverysec) {
        t_file->unsynced.store(1, std::memory_order_relaxed);
      }
    }
  }
  ResetThreadBuffer();
}

// ---- Manifest ----

std::string ParseManifest(std::string_view text, std::vector<ManifestEntry>* out) {
  out->clear();
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t start = i;
      while (i < line.size() && line[i] != ' ') ++i;
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    if (words.size() % 2 != 0) {
      return "Invalid AOF manifest file format (line " + std::to_string(line_no) + ")";
    }
    ManifestEntry e;
    e.seq = -1;
    e.type = 0;
    for (size_t w = 0; w < words.size(); w += 2) {
      if (words[w] == "file") {
        e.name = std::string(words[w + 1]);
      } else if (words[w] == "seq") {
        if (!cmd::ParseInt64(words[w + 1], &e.seq)) e.seq = -1;
      } else if (words[w] == "type" && words[w + 1].size() == 1) {
        e.type = words[w + 1][0];
      }
    }
    if (e.name.empty() || e.seq < 0 || (e.type != 'b' && e.type != 'h' && e.type != 'i')) {
      return "Invalid AOF manifest file format (line " + std::to_string(line_no) + ")";
    }
    out->push_back(std::move(e));
  }
  int bases = 0;
  for (const ManifestEntry& e : *out) bases += e.type == 'b';
  if (bases > 1) return "Found duplicate base file information in the AOF manifest";
  return "";
}

std::string FormatManifest(const std::vector<ManifestEntry>& entries) {
  std::string out;
  for (char type : {'b', 'h', 'i'}) {
    for (const ManifestEntry& e : entries) {
      if (e.type == type) CatAppend(&out, "file ", e.name, " seq ", e.seq, " type ", type, '\n');
    }
  }
  return out;
}

size_t ParseCommands(std::string_view data,
                     const std::function<bool(std::vector<std::string>&&, size_t)>& on_command,
                     bool* truncated, std::string* error) {
  *truncated = false;
  size_t pos = 0;
  auto read_line = [&](size_t* p, std::string_view* line) {
    size_t end = data.find("\r\n", *p);
    if (end == std::string_view::npos) return false;
    *line = data.substr(*p, end - *p);
    *p = end + 2;
    return true;
  };
  while (pos < data.size()) {
    size_t start = pos;
    size_t p = pos;
    std::string_view line;
    if (!read_line(&p, &line)) {
      *truncated = true;
      return start;
    }
    int64_t argc = 0;
    if (line.empty() || line[0] != '*' || !cmd::ParseInt64(line.substr(1), &argc) || argc < 1) {
      *error = "expected a multibulk at offset " + std::to_string(start);
      return start;
    }
    std::vector<std::string> argv;
    argv.reserve(static_cast<size_t>(argc));
    for (int64_t i = 0; i < argc; ++i) {
      if (!read_line(&p, &line)) {
        *truncated = true;
        return start;
      }
      int64_t len = 0;
      if (line.empty() || line[0] != '$' || !cmd::ParseInt64(line.substr(1), &len) || len < 0) {
        *error = "expected a bulk string at offset " + std::to_string(p - line.size() - 2);
        return start;
      }
      if (p + static_cast<size_t>(len) + 2 > data.size()) {
        *truncated = true;
        return start;
      }
      if (data.compare(p + static_cast<size_t>(len), 2, "\r\n") != 0) {
        *error = "bad bulk string terminator at offset " + std::to_string(p + len);
        return start;
      }
      argv.emplace_back(data.substr(p, static_cast<size_t>(len)));
      p += static_cast<size_t>(len) + 2;
    }
    pos = p;
    if (!on_command(std::move(argv), start)) return start;
  }
  return pos;
}

// ---- Start-up ----

std::string StartupLoad(const Config& config, const std::vector<ShardData*>& shards) {
  Global& g = G();
  ApplyConfig(config);
  std::string dirname;
  config.Get("appenddirname", &dirname);
  config.Get("appendfilename", &g.basename);
  g.dir = config.dir + "/" + dirname;
  std::string manifest_path = g.dir + "/" + ManifestName();
  std::string text;
  if (!config.appendonly) {
    // Remember an existing directory's sequence numbers, for a later CONFIG SET appendonly yes.
    if (ReadWholeFile(manifest_path, &text)) (void)ParseManifest(text, &g.manifest);
    std::string error = LoadAtStartup(config, shards);
    scripting::FinishStartupLibraries();
    return error;
  }

  int64_t start = NowMs();
  for (ShardData* s : shards) s->clock().now_ms = start;
  if (access(manifest_path.c_str(), F_OK) != 0) {
    // No AOF yet: start from the RDB file if there is one, and create the AOF from that.
    std::string error = LoadAtStartup(config, shards);
    if (!error.empty()) return error;
    if (mkdir(g.dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return "Can't create the append-only dir " + g.dir + ": " + strerror(errno);
    }
    g.manifest = {{BaseName(1), 1, 'b'}, {IncrName(1), 1, 'i'}};
    error = WriteShardsNow(config, shards, g.dir, BaseName(1), true);
    if (!error.empty()) return error;
    Log(LogLevel::kNotice, "Creating AOF base file %s on server start", BaseName(1));
    Log(LogLevel::kNotice, "Creating AOF incr file %s on server start", IncrName(1));
  } else {
    if (!ReadWholeFile(manifest_path, &text)) {
      return "Can't open the AOF manifest " + manifest_path + ": " + strerror(errno);
    }
    std::string error = ParseManifest(text, &g.manifest);
    if (!error.empty()) return error + ": " + manifest_path;
    std::vector<const ManifestEntry*> order;
    for (const ManifestEntry& e : g.manifest) {
      if (e.type == 'b') order.push_back(&e);
    }
    std::vector<const ManifestEntry*> incrs;
    for (const ManifestEntry& e : g.manifest) {
      if (e.type == 'i') incrs.push_back(&e);
    }
    std::sort(incrs.begin(), incrs.end(),
              [](const ManifestEntry* a, const ManifestEntry* b) { return a->seq < b->seq; });
    order.insert(order.end(), incrs.begin(), incrs.end());
    ReplayRunner runner(config, shards);
    uint64_t commands = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      std::string path = g.dir + "/" + order[i]->name;
      struct stat st;
      if (stat(path.c_str(), &st) != 0) {
        if (order[i]->type == 'i' && i + 1 == order.size() && errno == ENOENT) continue;
        return "The AOF file " + path + " doesn't exist";
      }
      error = ReplayFile(path, i + 1 == order.size(), config, shards, runner, &commands);
      if (!error.empty()) return error;
      Log(LogLevel::kNotice, "DB loaded from %s file %s", order[i]->type == 'b' ? "base" : "incr",
          order[i]->name);
    }
    if (runner.skipped() > 0) {
      Log(LogLevel::kWarning, "AOF: %d server commands were not replayed",
          static_cast<int64_t>(runner.skipped()));
    }
    Log(LogLevel::kNotice, "DB loaded from append only file: %.3f seconds",
        (NowMs() - start) / 1000.0);
    if (incrs.empty()) g.manifest.push_back({IncrName(MaxSeq('i') + 1), MaxSeq('i') + 1, 'i'});
  }
  scripting::FinishStartupLibraries();
  std::string error;
  std::string incr_name;
  for (const ManifestEntry& e : g.manifest) {
    if (e.type == 'i' && (incr_name.empty() || e.seq >= MaxSeq('i'))) incr_name = e.name;
  }
  std::shared_ptr<File> f = OpenIncr(incr_name, &error);
  if (!f) return error;
  error = WriteManifest(g.manifest);
  if (!error.empty()) return error;
  for (const ManifestEntry& e : g.manifest) {
    if (e.type == 'b') {
      struct stat st;
      if (stat((g.dir + "/" + e.name).c_str(), &st) == 0) g.base_size.store(st.st_size);
    }
  }
  g.incr_size.store(f->size.load());
  g.SetCurrent(f);
  g.active.store(true);
  StartFsyncThread();
  return "";
}

void Shutdown() {
  Global& g = G();
  Flush();
  g.stop.store(true);
  if (g.fsync_thread.joinable()) g.fsync_thread.join();
  for (int i = 0; i < 600 && g.rewrite_in_progress.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::shared_ptr<File> f = g.Current();
  if (f) fdatasync(f->fd);
}

// ---- Rewrite ----

namespace {

// Runs on the writer thread once the new base is written (or failed).
void FinishRewrite(const std::string& error, std::vector<ManifestEntry> old_entries,
                   ManifestEntry base, ManifestEntry incr) {
  Global& g = G();
  int64_t elapsed = (NowMs() - g.rewrite_start_ms.load()) / 1000;
  g.last_rewrite_time_sec.store(elapsed);
  if (!error.empty()) {
    Log(LogLevel::kWarning, "Background AOF rewrite failed: %s", error);
    unlink((g.dir + "/" + base.name).c_str());
    g.last_rewrite_ok.store(false);
    g.rewrite_in_progress.store(false);
    return;
  }
  std::vector<ManifestEntry> next = {base, incr};
  std::string werr = WriteManifest(next);
  if (!werr.empty()) {
    Log(LogLevel::kWarning, "Background AOF rewrite failed: %s", werr);
    g.last_rewrite_ok.store(false);
    g.rewrite_in_progress.store(false);
    return;
  }
  g.manifest = next;
  for (const ManifestEntry& e : old_entries) {
    if (e.name != incr.name && e.name != base.name) unlink((g.dir + "/" + e.name).c_str());
  }
  struct stat st;
  if (stat((g.dir + "/" + base.name).c_str(), &st) == 0) g.base_size.store(st.st_size);
  g.rewrites.fetch_add(1);
  g.last_rewrite_ok.store(true);
  Log(LogLevel::kNotice, "Background AOF rewrite terminated with success");
  Log(LogLevel::kNotice, "Background AOF rewrite finished successfully");
  g.rewrite_in_progress.store(false);
}

// Starts a rewrite from a connection-side handler; `done` replies.
bool StartRewrite(const Config& config, FanOutRunner& runner, bool turning_on, std::string* error,
                  FanOutDone done) {
  Global& g = G();
  bool expected = false;
  if (!g.rewrite_in_progress.compare_exchange_strong(expected, true)) {
    *error = "ERR Background append only file rewriting already in progress";
    return false;
  }
  if (Persistence().save_in_progress.load()) {
    // As Redis: the rewrite starts once the running BGSAVE is done (Cron).
    g.rewrite_in_progress.store(false);
    g.rewrite_scheduled.store(true);
    *error = "";
    return false;
  }
  g.rewrite_scheduled.store(false);
  ApplyConfig(config);
  if (g.basename.empty()) {
    std::string dirname;
    config.Get("appenddirname", &dirname);
    config.Get("appendfilename", &g.basename);
    g.dir = config.dir + "/" + dirname;
  }
  if (mkdir(g.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    g.rewrite_in_progress.store(false);
    *error = "ERR Can't create the append-only dir " + g.dir + ": " + strerror(errno);
    return false;
  }
  // The new incr file joins the manifest first: what is written after the snapshot instant is
  // then loaded after the old files even if the rewrite never finishes.
  std::vector<ManifestEntry> old_entries = g.manifest;
  ManifestEntry incr{IncrName(MaxSeq('i') + 1), MaxSeq('i') + 1, 'i'};
  ManifestEntry base{BaseName(MaxSeq('b') + 1), MaxSeq('b') + 1, 'b'};
  std::string open_error;
  std::shared_ptr<File> file = OpenIncr(incr.name, &open_error, true);
  std::vector<ManifestEntry> during = g.manifest;
  during.push_back(incr);
  std::string werr = file ? WriteManifest(during) : open_error;
  if (!werr.empty()) {
    g.rewrite_in_progress.store(false);
    g.last_rewrite_ok.store(false);
    *error = "ERR " + werr;
    return false;
  }
  g.manifest = during;
  // The everysec thread syncs the new file from now on; the old one is synced when the last
  // thread lets go of it.
  g.incr_size.store(0);
  g.SetCurrent(file);
  g.rewrite_start_ms.store(NowMs());
  Log(LogLevel::kNotice, "Background append only file rewriting started");
  if (turning_on) g.active.store(true);
  auto cfg = std::make_shared<Config>(config);
  std::string dir = g.dir;
  AtomicScope scope;
  scope.all_shards = true;
  runner.RunAtomic(std::move(scope), [cfg, dir, base, incr, file, old_entries, done](
                                         ReplyBuilder& reply, FanOutRunner& runner) {
    FanOutStarter start = [&runner](ShardTask task, FanOutDone d) {
      std::vector<int> all(runner.shard_count());
      for (int i = 0; i < runner.shard_count(); ++i) all[i] = i;
      runner.RunOnShards(std::move(all), std::move(task), std::move(d));
    };
    bool started = StartAofBaseSave(
        *cfg, start, dir, base.name,
        [file](int) {
          // The snapshot instant on this shard's thread: what it recorded so far belongs to the
          // old files; from now on it writes to the new incr file.
          Flush();
          t_file = file;
        },
        [old_entries, base, incr](const std::string& err) {
          FinishRewrite(err, old_entries, base, incr);
        },
        done);
    if (!started) {
      // A BGSAVE got in first: the threads still write to the old incr file (listed before the
      // new, empty one); the cron starts the rewrite again once the save is done.
      G().rewrite_in_progress.store(false);
      G().rewrite_scheduled.store(true);
      reply.SimpleString("Background append only file rewriting scheduled");
    }
  });
  return true;
}

}  // namespace

void BgRewriteCommand(ClientCommand& c) {
  std::string error;
  bool ok = StartRewrite(c.server->config(), c.runner(), false, &error,
                         [](ReplyBuilder& reply, FanOutRunner&) {
                           reply.SimpleString("Background append only file rewriting started");
                         });
  if (ok) return;
  if (error.empty()) {
    c.reply.SimpleString("Background append only file rewriting scheduled");
  } else {
    c.reply.Error(error);
  }
}

void Cron(const Config& config, FanOutRunner& runner) {
  Global& g = G();
  if (g.rewrite_in_progress.load(std::memory_order_relaxed) ||
      Persistence().save_in_progress.load(std::memory_order_relaxed)) {
    return;
  }
  bool go = g.rewrite_scheduled.load();
  if (!go && g.active.load(std::memory_order_relaxed)) {
    std::string perc_text, min_text;
    int64_t perc = 0, min_size = 0;
    config.Get("auto-aof-rewrite-percentage", &perc_text);
    config.Get("auto-aof-rewrite-min-size", &min_text);
    cmd::ParseInt64(perc_text, &perc);
    cmd::ParseInt64(min_text, &min_size);
    uint64_t base = g.base_size.load();
    uint64_t incr = g.incr_size.load(std::memory_order_relaxed);
    if (perc > 0 && base + incr > static_cast<uint64_t>(min_size)) {
      uint64_t growth = incr * 100 / (base > 0 ? base : 1);
      if (growth >= static_cast<uint64_t>(perc)) {
        Log(LogLevel::kNotice, "Starting automatic rewriting of AOF on %d%% growth",
            static_cast<int64_t>(growth));
        go = true;
      }
    }
  }
  if (!go) return;
  std::string error;
  if (!StartRewrite(config, runner, false, &error, [](ReplyBuilder&, FanOutRunner&) {}) &&
      !error.empty()) {
    g.rewrite_scheduled.store(false);
  }
}

void ConfigChanged(ReplyBuilder& reply, FanOutRunner& runner, const Config& config) {
  Global& g = G();
  ApplyConfig(config);
  if (config.appendonly && !g.active.load()) {
    std::string error;
    bool ok = StartRewrite(config, runner, true, &error,
                           [](ReplyBuilder& reply, FanOutRunner&) { reply.Ok(); });
    if (!ok) {
      if (error.empty()) {
        // A BGSAVE runs (Redis would schedule the rewrite; here turning on waits for nothing).
        G().rewrite_scheduled.store(false);
        error = "ERR Background save in progress: try CONFIG SET appendonly yes later";
      }
      reply.Error(error);
      return;
    }
    StartFsyncThread();
    return;
  }
  if (!config.appendonly && g.active.load()) {
    g.active.store(false);
    Log(LogLevel::kNotice, "AOF disabled");
  }
  reply.Ok();
}

void InfoFields(std::vector<std::pair<std::string, std::string>>* out) {
  Global& g = G();
  auto add = [&](const char* name, auto value) {
    if constexpr (std::is_same_v<decltype(value), const char*>) {
      out->emplace_back(name, value);
    } else {
      out->emplace_back(name, std::to_string(value));
    }
  };
  bool on = g.active.load();
  bool rewriting = g.rewrite_in_progress.load();
  add("aof_enabled", on ? 1 : 0);
  add("aof_rewrite_in_progress", rewriting ? 1 : 0);
  add("aof_rewrite_scheduled", g.rewrite_scheduled.load() ? 1 : 0);
  add("aof_last_rewrite_time_sec", g.last_rewrite_time_sec.load());
  add("aof_current_rewrite_time_sec",
      rewriting ? (NowMs() - g.rewrite_start_ms.load()) / 1000 : int64_t{-1});
  add("aof_last_bgrewrite_status", g.last_rewrite_ok.load() ? "ok" : "err");
  add("aof_rewrites", g.rewrites.load());
  add("aof_rewrites_consecutive_failures", 0);
  add("aof_last_write_status", g.last_write_ok.load() ? "ok" : "err");
  add("aof_last_cow_size", 0);
  add("module_fork_in_progress", 0);
  add("module_fork_last_cow_size", 0);
  if (on) {
    add("aof_current_size", g.base_size.load() + g.incr_size.load());
    add("aof_base_size", g.base_size.load());
    add("aof_pending_rewrite", 0);
    add("aof_buffer_length", 0);
    add("aof_pending_bio_fsync", 0);
    add("aof_delayed_fsync", g.delayed_fsync.load());
  }
}

}  // namespace aof
}  // namespace shardis
