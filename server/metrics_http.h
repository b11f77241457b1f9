// MetricsHttp: the Prometheus text endpoint (`--metrics-port N`): a minimal HTTP/1.1 server on
// reactor 0's epoll loop. It serves GET /metrics (404 for other paths, 405 for other methods),
// one request per connection (Connection: close). Sockets are non-blocking and requests are
// bounded (8 KB, 256 connections at once), so it never blocks the reactor; the metrics are
// gathered from every thread through the reactor's fan-out (like INFO) and the response is
// written when they arrive. Owned and used by reactor 0's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace shardis {

class ServerContext;

// Gathers INFO's figures and the per-command statistics from every thread (a fan-out from
// `ctx`'s thread, inside an operation of its own) and calls `done` there with the Prometheus
// text. Implemented in commands/info_command.cc.
void CollectPrometheusMetrics(ServerContext& ctx, std::function<void(std::string)> done);

class MetricsHttp {
 public:
  // Gathers the metrics text and hands it to the callback later, on this thread.
  using Collect = std::function<void(std::function<void(std::string)>)>;
  static constexpr uint32_t kListenTag = 5;  // epoll data tags (high 32 bits), see Reactor
  static constexpr uint32_t kConnTag = 6;
  static constexpr size_t kMaxRequest = 8192;
  static constexpr size_t kMaxConnections = 256;

  MetricsHttp(int epoll_fd, Collect collect) : epoll_fd_(epoll_fd), collect_(std::move(collect)) {}
  ~MetricsHttp();
  MetricsHttp(const MetricsHttp&) = delete;
  MetricsHttp& operator=(const MetricsHttp&) = delete;

  void AddListener(int fd);  // takes ownership
  void Accept(int listen_fd);
  void OnEvent(int fd, uint32_t events);

  // The response to a request's head (exposed for tests): "" when more bytes are needed.
  // Sets *wants_metrics when the response is the metrics (then only the status line is known).
  static std::string Respond(std::string_view head, bool* wants_metrics);
  static std::string OkResponse(std::string_view body, bool head_only);

 private:
  struct Conn {
    int fd = -1;
    uint64_t id = 0;
    std::string in;
    std::string out;
    size_t out_pos = 0;
    bool responding = false;  // request read; response pending or being written
  };
  void Read(Conn* c);
  void Write(Conn* c);
  void Close(Conn* c);

  int epoll_fd_;
  Collect collect_;
  std::vector<int> listeners_;
  absl::flat_hash_map<int, std::unique_ptr<Conn>> conns_;  // by fd
  absl::flat_hash_map<uint64_t, int> fd_of_id_;
  uint64_t next_id_ = 1;
};

}  // namespace shardis
