// Server: creates the reactors (one per thread), starts and pins their threads, waits for a
// shutdown request (SIGTERM, SIGINT or SHUTDOWN) and stops them. Owns what all threads share
// read-only (ServerInfo) and the few atomics of the accept path (client ids, client count).
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "server/config.h"
#include "server/lazy_free.h"
#include "server/reactor.h"
#include "server/server_context.h"

namespace shardis {

class Server {
 public:
  Server(const Config& config, ServerInfo info);
  ~Server();

  // Opens the listening sockets and starts the reactor threads.
  absl::Status Start();
  // Blocks until a shutdown is requested, then stops every reactor and joins the threads.
  void WaitForShutdown();
  // The process exit status after WaitForShutdown (1 when the shutdown save failed).
  int exit_code() const { return exit_code_; }
  // Any thread.
  void RequestShutdown();

  int thread_count() const { return static_cast<int>(reactors_.size()); }
  Reactor& reactor(int i) { return *reactors_[i]; }
  const ServerInfo& info() const { return info_; }

  uint64_t NextClientId() { return next_client_id_.fetch_add(1, std::memory_order_relaxed); }
  // Reserves a client slot under maxclients; false when full.
  bool AcquireClientSlot(int maxclients) {
    int n = clients_.fetch_add(1, std::memory_order_relaxed);
    if (n >= maxclients) {
      clients_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void ReleaseClientSlot() { clients_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  // Every reactor's shard, for start-up load and shutdown save (threads not running).
  std::vector<ShardData*> Shards();
  // Closes the Unix listening socket and removes its file (no-op without one).
  void CloseUnixSocket();

  Config config_;
  ServerInfo info_;
  int exit_code_ = 0;
  std::vector<std::unique_ptr<Reactor>> reactors_;
  std::vector<std::thread> threads_;
  LazyFreer lazy_freer_;
  int unix_fd_ = -1;  // the Unix socket every reactor accepts on (unixsocket), or -1
  std::atomic<uint64_t> next_client_id_{1};
  std::atomic<int> clients_{0};
};

// The CPUs in this process's affinity mask, in order.
std::vector<int> AllowedCpus();

}  // namespace shardis
