// Config: every configuration parameter, by Redis's name, with its aliases, type, default and
// validation; redis.conf parsing; CONFIG GET / CONFIG SET semantics.
//
// Each reactor thread holds its own copy; CONFIG SET validates on the connection's thread and the
// change is sent to every thread as a message, so no config is shared between threads. Typed
// fields serve the hot path; the name-based API serves CONFIG and the config file. Parameters
// whose feature is not built yet are still accepted, stored and reported (docs/config.md lists
// them), because clients and tools set them.
//
// Two ways in, as in redis-server:
//  - Set()/SetMany() are CONFIG SET: immutable parameters are refused, protected ones (dir,
//    dbfilename) need enable-protected-configs, and errors carry redis-server's wording.
//  - LoadFile()/LoadString()/LoadCommandLine()/ApplyDirective() are startup: any parameter may be
//    set, one directive at a time, with redis.conf's argument rules.
//
// `dir` is stored as an absolute path and never chdir()ed to here (that would be a process-wide
// side effect of a per-thread object); relative `include` paths resolve against it, as they do in
// Redis after a `dir` line. The server chdir()s to it once at startup.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace shardis {

class Config {
 public:
  Config();

  // Sets a parameter by name or alias (case-insensitive). Errors carry redis-server 7.0's
  // CONFIG SET wording after "ERR " (e.g. "Unknown option or number of arguments for CONFIG SET
  // - 'foo'"), so the caller can reply with "ERR " + message. `local_client`: the client connects
  // over loopback or a unix socket (matters when enable-protected-configs is "local").
  absl::Status Set(std::string_view name, std::string_view value, bool local_client = false);
  // Applies several name/value pairs atomically: all are validated first; none applies if one
  // fails (CONFIG SET with many pairs, as Redis 7). A parameter given twice is an error.
  absl::Status SetMany(const std::vector<std::pair<std::string, std::string>>& pairs,
                       bool local_client = false);
  // The current value of a parameter, formatted as CONFIG GET prints it.
  bool Get(std::string_view name, std::string* value) const;
  // CONFIG GET: every (name, value) whose name or alias matches the glob pattern, no duplicates.
  // A pattern without glob characters is an exact lookup and echoes the name as given.
  std::vector<std::pair<std::string, std::string>> Match(std::string_view pattern) const;
  // Reads a redis.conf-syntax file: "name value..." lines, # comments, quoted arguments,
  // "include path". The error names the file and line, in redis-server's
  // "*** FATAL CONFIG FILE ERROR ***" block (print it and exit 1). Records the file's absolute
  // path in config_file.
  absl::Status LoadFile(const std::string& path);
  // Applies redis.conf-syntax text. `source` names it in error messages.
  absl::Status LoadString(std::string_view text,
                          std::string_view source = "the configuration text");
  // redis-server's command line without argv[0]: an optional config file first (an argument not
  // starting with '-'), "-" (first or last) to read more config from stdin, then "--name value..."
  // options, applied after the file as if appended to it. -v/--help are the caller's business.
  absl::Status LoadCommandLine(const std::vector<std::string>& args);
  // One startup directive as a config file line would give it ("save", {"900", "1"}): no
  // mutability check. Error text is the bare reason (e.g. "wrong number of arguments").
  absl::Status ApplyDirective(std::string_view name, const std::vector<std::string>& args);
  // True when `name` (or an alias) is a known parameter.
  static bool IsKnown(std::string_view name);
  // All canonical parameter names, in table order.
  static std::vector<std::string> Names();
  // True for parameters whose CONFIG SET value must be redacted from SLOWLOG/MONITOR.
  static bool IsSensitive(std::string_view name);
  // enable-debug-command allows DEBUG for this client ("yes", or "local" and a local client).
  bool DebugCommandAllowed(bool local_client) const;

  // Typed values used by the server. Kept in sync by Set() and the Load*() calls; treat them as
  // read-only elsewhere, or CONFIG GET would disagree.
  int port = 6379;
  std::vector<std::string> bind = {"*", "-::*"};
  int threads = 0;       // 0: the CPUs in the process's affinity mask
  int metrics_port = 0;  // Prometheus text endpoint (server/metrics_http.h); 0: off
  bool pin = true;
  int maxclients = 10000;
  // Collection encoding thresholds (Redis's names; see storage/*_value.h).
  int list_max_listpack_size = -2;
  int list_compress_depth = 0;
  int hash_max_listpack_entries = 512;
  int hash_max_listpack_value = 64;
  int set_max_intset_entries = 512;
  int zset_max_listpack_entries = 128;
  int zset_max_listpack_value = 64;
  int stream_node_max_entries = 100;
  int stream_node_max_bytes = 4096;
  int hll_sparse_max_bytes = 3000;
  // client-output-buffer-limit, per class: hard bytes, soft bytes, soft seconds (0 = none).
  struct OutputLimit {
    int64_t hard = 0;
    int64_t soft = 0;
    int64_t soft_seconds = 0;
  };
  OutputLimit output_limit_normal;
  OutputLimit output_limit_pubsub{32LL << 20, 8LL << 20, 60};
  int databases = 16;
  std::string loglevel = "notice";
  std::string logfile;     // empty: stdout
  std::string unixsocket;  // empty: no Unix socket
  int unixsocketperm = 0;  // its file's permissions (0: as the umask leaves them)
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  int hz = 10;  // clamped to 1..500 as Redis does
  int timeout = 0;
  int tcp_keepalive = 300;
  int tcp_backlog = 511;
  std::string requirepass;
  bool protected_mode = true;
  int64_t maxmemory = 0;  // values above INT64_MAX (CONFIG GET still prints them) clamp
  std::string maxmemory_policy = "noeviction";
  std::string dir = ".";  // absolute after construction
  std::string dbfilename = "dump.rdb";
  bool appendonly = false;
  // RDB persistence (server/persistence.h).
  bool rdbcompression = true;
  bool rdbchecksum = true;
  bool stop_writes_on_bgsave_error = true;
  std::vector<std::pair<int64_t, int64_t>> save_params;  // `save`: (seconds, changes) pairs
  bool daemonize = false;
  std::string pidfile;
  int64_t slowlog_log_slower_than = 10000;
  int64_t slowlog_max_len = 128;
  int64_t latency_monitor_threshold = 0;
  int64_t tracking_table_max_keys = 1000000;  // ms; 0: the latency monitor is off
  int64_t busy_reply_threshold = 5000;        // ms a script runs before other clients get BUSY
  bool lazyfree_lazy_user_del = false;
  bool lazyfree_lazy_user_flush = false;
  std::string notify_keyspace_events;  // normalized flag string, e.g. "AKE" (storage/notify.h)
  bool enable_debug_command = true;    // "yes" or "local"; see DebugCommandAllowed()
  // Startup-only state from the config file / command line.
  std::string config_file;  // absolute path of the main config file, "" when none
  std::vector<std::pair<std::string, std::string>> renamed_commands;  // rename-command lines
  std::vector<std::vector<std::string>> acl_users;  // "user" lines, arguments after "user"

 private:
  absl::Status SetOne(size_t index, std::vector<std::string> args, bool loading);
  absl::Status LoadFileImpl(const std::string& path, int depth);
  absl::Status LoadText(std::string_view text, std::string_view source, int depth);
  absl::Status FinishLoad() const;
  void SyncTyped(size_t index);
  std::string Resolve(const std::string& path) const;  // relative to dir

  std::vector<std::string> values_;  // indexed like the parameter table
  bool save_loaded_ = false;         // a startup "save" line replaced the default list already
};

}  // namespace shardis
