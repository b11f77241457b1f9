// Config: every configuration parameter, by Redis's name, with its aliases, type, default and
// validation; redis.conf parsing; CONFIG GET / CONFIG SET semantics.
//
// Each reactor thread holds its own copy; CONFIG SET validates on the connection's thread and the
// change is sent to every thread as a message, so no config is shared between threads. Typed
// fields serve the hot path; the name-based API serves CONFIG and the config file. Parameters
// whose feature is not built yet are still accepted, stored and reported (docs/config.md lists
// them), because clients and tools set them.
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
  // - 'foo'"), so the caller can reply with "ERR " + message.
  absl::Status Set(std::string_view name, std::string_view value);
  // Applies several name/value pairs atomically: all are validated first; none applies if one
  // fails (CONFIG SET with many pairs, as Redis 7).
  absl::Status SetMany(const std::vector<std::pair<std::string, std::string>>& pairs);
  // The current value of a parameter, formatted as CONFIG GET prints it.
  bool Get(std::string_view name, std::string* value) const;
  // CONFIG GET: every (name, value) whose name or alias matches the glob pattern, no duplicates.
  std::vector<std::pair<std::string, std::string>> Match(std::string_view pattern) const;
  // Reads a redis.conf-syntax file: "name value..." lines, # comments, quoted arguments,
  // "include path". The error names the file and line.
  absl::Status LoadFile(const std::string& path);
  // True when `name` (or an alias) is a known parameter.
  static bool IsKnown(std::string_view name);
  // All canonical parameter names.
  static std::vector<std::string> Names();

  // Typed values used by the server. Kept in sync by Set().
  int port = 6379;
  std::vector<std::string> bind = {"*", "-::*"};
  int threads = 0;  // 0: the CPUs in the process's affinity mask
  bool pin = true;
  int maxclients = 10000;
  int databases = 16;
  std::string loglevel = "notice";
  std::string logfile;  // empty: stdout
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  int hz = 10;
  int timeout = 0;
  int tcp_keepalive = 300;
  int tcp_backlog = 511;
  std::string requirepass;
  bool protected_mode = true;
  int64_t maxmemory = 0;
  std::string maxmemory_policy = "noeviction";
  std::string dir = ".";
  std::string dbfilename = "dump.rdb";
  bool appendonly = false;
  bool daemonize = false;
  std::string pidfile;
  int64_t slowlog_log_slower_than = 10000;
  int64_t slowlog_max_len = 128;
  bool lazyfree_lazy_user_del = false;
  bool lazyfree_lazy_user_flush = false;
  bool enable_debug_command = true;

 private:
  std::vector<std::string> values_;  // indexed like the parameter table
};

}  // namespace shardis
