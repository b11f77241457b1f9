#include "server/server.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "server/acl.h"
#include "server/aof.h"
#include "server/logging.h"
#include "server/persistence.h"
#include "server/reactor.h"
#include "server/tls.h"

namespace shardis {

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

namespace {

// Redis's anetUnixServer: a stale socket file goes first; then bind, the configured permissions
// (0: the umask's), listen. Returns the non-blocking listening fd, or -1 and sets *error.
int ListenUnix(const std::string& path, int perm, int backlog, std::string* error) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    *error = "Unix socket path too long (" + std::to_string(sizeof(addr.sun_path) - 1) + ")";
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (perm != 0 && chmod(path.c_str(), static_cast<mode_t>(perm)) != 0) ||
      listen(fd, backlog) != 0) {
    *error = std::string("bind: ") + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Server::Server(const Config& config, ServerInfo info) : config_(config), info_(std::move(info)) {}

Server::~Server() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  CloseUnixSocket();
}

void Server::CloseUnixSocket() {
  if (unix_fd_ < 0) return;
  close(unix_fd_);
  unix_fd_ = -1;
  unlink(config_.unixsocket.c_str());  // as Redis, on the way out
}

absl::Status Server::Start() {
  std::vector<int> cpus = AllowedCpus();
  int n = config_.threads > 0 ? config_.threads : static_cast<int>(cpus.size());
  info_.thread_count = n;
  AclStore acl;
  std::string acl_error;
  if (!AclStore::FromConfig(config_, &acl, &acl_error)) {
    return absl::FailedPreconditionError(acl_error);
  }
  for (int i = 0; i < n; ++i) {
    reactors_.push_back(std::make_unique<Reactor>(*this, i, config_));
    reactors_.back()->SetAcl(acl);
  }
  InitPersistence(n, info_.start_time_ms / 1000);
  // The threads do not run yet: the main thread may fill every shard directly.
  std::string load_error = aof::StartupLoad(config_, Shards());
  if (!load_error.empty()) return absl::FailedPreconditionError(load_error);
  if (TlsPort(config_) != 0) {
    std::string tls_error;
    std::shared_ptr<TlsContext> tls = TlsContext::Create(config_, &tls_error);
    if (tls == nullptr) {
      Log(LogLevel::kWarning, "%s", tls_error);
      return absl::FailedPreconditionError("Failed to configure TLS. Check logs for more info.");
    }
    for (auto& r : reactors_) r->set_tls_context(tls);
  }
  if (!config_.unixsocket.empty()) {
    std::string error;
    unix_fd_ = ListenUnix(config_.unixsocket, config_.unixsocketperm, config_.tcp_backlog, &error);
    if (unix_fd_ < 0) return absl::UnavailableError("Failed opening Unix socket: " + error);
    for (auto& r : reactors_) r->set_unix_listener(unix_fd_);
  }
  for (auto& r : reactors_) {
    std::string error = r->Listen();
    if (!error.empty()) return absl::UnavailableError(error);
  }
  lazy_freer_.Start();
  bool pin = config_.pin && n <= static_cast<int>(cpus.size());
  // More reactors than CPUs: some take turns on a CPU. A reactor woken by a message from another
  // would preempt the one running mid-turn (the kernel favours a task waking from sleep), only to
  // wait for its reply; under SCHED_BATCH a woken reactor waits until the running one sleeps or
  // its time slice ends. Measured with two reactors on one CPU: involuntary context switches
  // nearly gone, and about 9% less CPU per cross-shard GET (docs/benchmarks.md). With a CPU
  // each, reactors stay SCHED_OTHER, so that they preempt whatever else runs there as soon as a
  // request comes.
  bool shared_cpus = n > static_cast<int>(cpus.size());
  bool batch = shared_cpus;  // false once the kernel refuses (a seccomp profile may)
  for (int i = 0; i < n; ++i) {
    threads_.emplace_back([this, i] { reactors_[i]->Run(); });
    if (pin) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpus[i % cpus.size()], &set);
      pthread_setaffinity_np(threads_.back().native_handle(), sizeof(set), &set);
    }
    if (shared_cpus) {
      sched_param param{};
      param.sched_priority = 0;
      if (pthread_setschedparam(threads_.back().native_handle(), SCHED_BATCH, &param) != 0) {
        batch = false;
      }
    }
  }
  Log(LogLevel::kNotice, "Started %d reactor thread%s%s%s", n, n == 1 ? "" : "s",
      pin ? ", each pinned to one CPU" : " (not pinned)",
      !shared_cpus ? ""
      : batch      ? "; more threads than CPUs, so they run under SCHED_BATCH"
                   : "; more threads than CPUs (SCHED_BATCH refused)");
  return absl::OkStatus();
}

std::vector<ShardData*> Server::Shards() {
  std::vector<ShardData*> shards;
  for (auto& r : reactors_) shards.push_back(&r->shard());
  return shards;
}

void Server::RequestShutdown() { kill(getpid(), SIGUSR2); }

void Server::WaitForShutdown() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  if (sig == SIGTERM || sig == SIGINT) {
    Log(LogLevel::kWarning, "Received %s scheduling shutdown...",
        sig == SIGTERM ? "SIGTERM" : "SIGINT");
  } else {
    Log(LogLevel::kWarning, "User requested shutdown...");
  }
  Persistence().stopping.store(true);  // a snapshot barrier must not wait for stopped reactors
  for (auto& r : reactors_) r->Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  CloseUnixSocket();
  // Every loop has stopped: messages still queued can be freed without running them.
  for (auto& r : reactors_) {
    while (MailboxMessage* m = r->mailbox().Pop()) delete m;
  }
  // The threads have stopped: the main thread may read every shard directly.
  aof::Shutdown();
  std::string save_error = SaveOnShutdown(config_, Shards());
  if (!save_error.empty()) {
    Log(LogLevel::kWarning, "Error trying to save the DB: %s", save_error);
    exit_code_ = 1;
  }
  reactors_.clear();  // their data goes through the lazy freer too
  lazy_freer_.Stop();
  Log(LogLevel::kWarning, "Shardis is now ready to exit, bye bye...");
}

}  // namespace shardis
