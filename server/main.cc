// shardis-server: parses the command line (abseil flags for the core settings, plus any Redis
// parameter as `--name value...`, after an optional redis.conf-style file, as redis-server
// accepts them), raises the open-file limit, starts the Server and waits for shutdown.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/command.h"
#include "server/config.h"
#include "server/logging.h"
#include "server/server.h"
#include "server/tls.h"

#ifdef SHARDIS_JEMALLOC
// As redis-server: jemalloc's background thread returns freed pages to the OS, so RSS follows
// what is in use instead of keeping every page a big DEL freed. Freed pages go back after about
// a second (jemalloc's default is 10 s): the keyspace frees a segment each time one grows, and
// the purging is done by the background thread, not the reactors.
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000";
}
#endif

ABSL_FLAG(int, port, 6379, "TCP port to listen on");
ABSL_FLAG(std::string, bind, "* -::*", "Addresses to listen on, space separated ('-' = optional)");
ABSL_FLAG(int, threads, 0, "Reactor threads, one shard each (0 = the CPUs this process may use)");
ABSL_FLAG(bool, pin, true, "Pin each reactor thread to one CPU (when threads <= CPUs)");
ABSL_FLAG(int, maxclients, 10000, "Maximum number of connected clients");
ABSL_FLAG(int, databases, 16, "Number of logical databases (SELECT 0..N-1)");
ABSL_FLAG(std::string, loglevel, "notice", "debug, verbose, notice or warning");
ABSL_FLAG(std::string, logfile, "", "Log file (empty = standard output)");
ABSL_FLAG(std::string, dir, ".", "Working directory for data files");
ABSL_FLAG(std::string, dbfilename, "dump.rdb", "RDB file name");
ABSL_FLAG(std::string, requirepass, "", "Password clients must AUTH with");
ABSL_FLAG(int, hz, 10, "Frequency of background tasks (expiry, rehash, timeouts)");

namespace shardis {
namespace {

const std::set<std::string> kAbslFlags = {"port",       "bind",       "threads",     "pin",
                                          "maxclients", "databases",  "loglevel",    "logfile",
                                          "dir",        "dbfilename", "requirepass", "hz"};

std::string RandomHex(int n) {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (char& ch : s) ch = kHex[rng() % 16];
  return s;
}

[[noreturn]] void Fatal(const std::string& message) {
  fprintf(stderr, "\n*** FATAL CONFIG ERROR ***\n%s\n", message.c_str());
  exit(1);
}

// Raises the soft open-file limit to the hard one and lowers maxclients when even that is too
// small, as redis-server does.
void AdjustOpenFilesLimit(Config& config) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(config.maxclients) + 32 + config.threads * 4;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < wanted) {
    int reduced = static_cast<int>(limit.rlim_cur) - 32 - config.threads * 4;
    if (reduced < 1) reduced = 1;
    Log(LogLevel::kWarning,
        "You requested maxclients of %d requiring at least %d max file descriptors. Current "
        "maximum open files is %d. maxclients has been reduced to %d to compensate for low "
        "ulimit. If you need higher maxclients increase 'ulimit -n'.",
        config.maxclients, static_cast<int64_t>(wanted), static_cast<int64_t>(limit.rlim_cur),
        reduced);
    config.maxclients = reduced;
    (void)config.Set("maxclients", std::to_string(reduced));
  }
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Shardis: a Redis-compatible multi-threaded server.\n"
      "Usage: shardis-server [/path/to/shardis.conf] [--port 6379] [--threads N] [--<redis "
      "parameter> value...]");
  std::string config_file;
  int first = 1;
  if (argc > 1 && argv[1][0] != '-') {
    config_file = argv[1];
    first = 2;
  }
  // Split "--name value value..." and "--name=value" options.
  std::vector<std::pair<std::string, std::vector<std::string>>> options;
  std::vector<char*> absl_argv = {argv[0]};
  std::vector<std::string> absl_storage;
  for (int i = first; i < argc;) {
    std::string token = argv[i++];
    if (token.rfind("--", 0) != 0) Fatal(Cat("Invalid argument '", token, "'"));
    std::string name = token.substr(2);
    std::string value;
    size_t eq = name.find('=');
    std::vector<std::string> values;
    if (eq != std::string::npos) {
      values.push_back(name.substr(eq + 1));
      name.resize(eq);
    } else {
      while (i < argc && std::string(argv[i]).rfind("--", 0) != 0) values.push_back(argv[i++]);
    }
    value = absl::StrJoin(values, " ");
    std::string lower = cmd::ToLower(name);
    if (lower == "help" || lower == "helpfull" || lower == "version" || lower == "nopin") {
      absl_storage.push_back(token);
      if (lower == "nopin") options.push_back({"pin", {"no"}});
      continue;
    }
    if (kAbslFlags.contains(lower)) {
      std::string v = value;
      if (lower == "pin") v = (v == "no" || v == "false" || v == "0") ? "false" : "true";
      absl_storage.push_back(Cat("--", lower, "=", v));
    } else if (!Config::IsKnown(lower)) {
      Fatal(Cat("Bad directive or wrong number of arguments: '", name, "'"));
    }
    if (lower == "pin") values = {value == "false" || value == "no" || value == "0" ? "no" : "yes"};
    options.emplace_back(lower, values);
  }
  for (std::string& s : absl_storage) absl_argv.push_back(s.data());
  absl::ParseCommandLine(static_cast<int>(absl_argv.size()), absl_argv.data());

  Config config;
  if (!config_file.empty()) {
    absl::Status status = config.LoadFile(config_file);
    if (!status.ok()) Fatal(std::string(status.message()));
  }
  // Flags override the file, in the order given.
  for (const auto& [name, values] : options) {
    absl::Status status = config.ApplyDirective(name, values);
    if (!status.ok()) {
      Fatal(Cat("Bad directive or wrong number of arguments: '--", name, " ",
                absl::StrJoin(values, " "), "': ", status.message()));
    }
  }
  InitLogging(config.logfile, config.loglevel);
  AdjustOpenFilesLimit(config);
  std::string resolved_config_file;
  if (!config_file.empty()) {
    char resolved[4096];
    resolved_config_file = realpath(config_file.c_str(), resolved) ? resolved : config_file;
  }
  // As redis-server: data files (and relative paths) live in `dir`.
  if (chdir(config.dir.c_str()) != 0) {
    Fatal(Cat("Can't chdir to '", config.dir, "': ", strerror(errno)));
  }

  ServerInfo info;
  info.start_time_ms = absl::ToUnixMillis(absl::Now());
  info.pid = getpid();
  info.run_id = RandomHex(40);
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  info.executable = len > 0 ? std::string(exe, len) : argv[0];
  info.config_file = resolved_config_file;

  Log(LogLevel::kNotice, "oO0OoO0OoO0Oo Shardis is starting oO0OoO0OoO0Oo");
  Log(LogLevel::kNotice,
      "Shardis version=%s (redis_version=%s compatible), bits=%d, pid=%d, just started",
      SHARDIS_VERSION, kRedisCompatVersion, static_cast<int>(sizeof(void*) * 8), info.pid);
  if (config_file.empty()) {
    Log(LogLevel::kWarning, "No config file specified, using the default config.");
  } else {
    Log(LogLevel::kNotice, "Configuration loaded from %s", info.config_file);
  }

  // Signals are taken by the main thread only (sigwait); reactors never see them.
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Server server(config, info);
  absl::Status status = server.Start();
  if (!status.ok()) {
    Log(LogLevel::kWarning, "%s", status.message());
    return 1;
  }
  if (!config.pidfile.empty()) {
    std::ofstream(config.pidfile) << info.pid << "\n";
  }
  Log(LogLevel::kNotice, "Running mode=standalone, port=%d, threads=%d, bind=%s", config.port,
      server.thread_count(), absl::StrJoin(config.bind, " "));
  Log(LogLevel::kNotice, "Server initialized");
  if (config.port != 0) Log(LogLevel::kNotice, "Ready to accept connections tcp");
  if (TlsPort(config) != 0) Log(LogLevel::kNotice, "Ready to accept connections tls");
  if (!config.unixsocket.empty()) Log(LogLevel::kNotice, "Ready to accept connections unix");
  server.WaitForShutdown();
  if (!config.pidfile.empty()) unlink(config.pidfile.c_str());
  return server.exit_code();
}

}  // namespace
}  // namespace shardis

int main(int argc, char** argv) { return shardis::Main(argc, argv); }
