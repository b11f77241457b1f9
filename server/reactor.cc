// Reactor: the event loop, sockets and mailbox delivery. Command dispatch is in dispatch.cc.
#include "server/reactor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/aof.h"
#include "server/command_table.h"
#include "server/logging.h"
#include "server/memory_accounting.h"
#include "server/persistence.h"
#include "server/scripting/lua_engine.h"
#include "server/server.h"

namespace shardis {
namespace {

constexpr size_t kScratchSize = 16 * 1024;
constexpr size_t kKeepInputCapacity = 16 * 1024;
constexpr size_t kKeepOutputCapacity = 16 * 1024;
constexpr size_t kMaxUnprocessedInput = 256 * 1024;  // stop reading past this (backpressure)
constexpr int kMaxEvents = 256;
constexpr int kAcceptsPerTurn = 64;
constexpr int64_t kSnapshotSliceMicros = 1000;  // a BGSAVE's serialization per loop turn

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string FormatAddress(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
  }
  return absl::StrCat(host, ":", port);
}

// Creates a non-blocking SO_REUSEPORT listening socket. Returns -1 and sets *error on failure.
int ListenOn(const std::string& address, int port, int backlog, std::string* error) {
  bool v6 = address.find(':') != std::string::npos;
  std::string host = address;
  if (host == "*") host = "0.0.0.0";
  if (host == "::*") host = "::";
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = absl::StrCat("socket: ", strerror(errno));
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  int rc;
  if (v6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    if (inet_pton(AF_INET6, host.c_str(), &sa.sin6_addr) != 1) {
      close(fd);
      *error = absl::StrCat("Invalid bind address '", address, "'");
      return -1;
    }
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (host == "localhost") host = "127.0.0.1";
    if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) {
      close(fd);
      *error = absl::StrCat("Invalid bind address '", address, "'");
      return -1;
    }
    rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  if (rc != 0 || listen(fd, backlog) != 0) {
    *error = absl::StrCat("Could not create server TCP listening socket ", address, ":", port, ": ",
                          strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void BatchMessage::Deliver(Reactor& reactor) {
  if (is_reply) {
    reactor.CompleteBatch(this);
  } else {
    reactor.ExecuteBatch(this);
  }
}

void BatchMessage::Clear() {
  is_reply = false;
  arena.clear();
  args.clear();
  commands.clear();
  reply.clear();
  transaction = false;
  watch_checks.clear();
  slow_entries.clear();
  origin_gone.reset();
  origin_fd = -1;
}

void MonitorMessage::Deliver(Reactor& reactor) {
  reactor.DeliverMonitorLines(lines);
  delete this;
}

void Reactor::StartMonitor() {
  Connection* c = current_conn_;
  if (c == nullptr || c->state.monitor) return;
  c->state.monitor = true;
  monitors_.push_back(c->state.id);
  local_monitors_.fetch_add(1, std::memory_order_relaxed);
  MonitorCount().fetch_add(1, std::memory_order_relaxed);
}

void Reactor::StopMonitor() {
  Connection* c = current_conn_;
  if (c == nullptr || !c->state.monitor) return;
  c->state.monitor = false;
  std::erase(monitors_, c->state.id);
  local_monitors_.fetch_sub(1, std::memory_order_relaxed);
  MonitorCount().fetch_sub(1, std::memory_order_relaxed);
}

void Reactor::DeliverMonitorLines(const std::string& lines) {
  for (uint64_t id : monitors_) {
    auto it = connections_by_id_.find(id);
    // A monitor that sent QUIT gets nothing after its +OK (not even its QUIT line), as Redis.
    if (it == connections_by_id_.end() || it->second->state.close_after_reply) continue;
    it->second->out.append(lines);
    MarkDirty(it->second);
  }
}

void Reactor::FeedMonitorLine(std::string line) {
  if (!monitors_.empty()) DeliverMonitorLines(line);
  for (int t = 0; t < thread_count(); ++t) {
    if (t == index_ || server_.reactor(t).local_monitors() == 0) continue;
    if (monitor_out_[t] == nullptr) {
      monitor_out_[t] = new MonitorMessage;
      Send(t, monitor_out_[t]);
    }
    monitor_out_[t]->lines.append(line);
  }
}

void UnwatchMessage::Deliver(Reactor& reactor) {
  for (const auto& [db, key] : keys) reactor.shard().db(db).Unwatch(key);
  delete this;
}

void FanOutMessage::Deliver(Reactor& reactor) {
  if (is_reply) {
    reactor.CompleteFanOut(this);
  } else {
    reactor.ExecuteFanOut(this);
  }
}

FanOutMessage::~FanOutMessage() {
  // Only reached with an op at shutdown, for messages that never completed.
  if (op != nullptr && --op->remaining == 0) delete op;
}

Reactor::Reactor(Server& server, int index, const Config& config)
    : server_(server),
      index_(index),
      config_(config),
      shard_(config.databases),
      scratch_(kScratchSize),
      outgoing_(server.thread_count() > 0 ? server.thread_count() : 1),
      command_stats_(CommandTable::Get().specs().size()) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  // (reactors_ is still being filled: the planned count is in the server info.)
  shard_.set_placement(index, server.info().thread_count > 0 ? server.info().thread_count : 1);
  shard_.notifier().set_flags(NotifyFlagsFromString(config.notify_keyspace_events));
  UpdateClock();
}

Reactor::~Reactor() {
  for (auto& [fd, c] : connections_) close(fd);
  for (int fd : listen_fds_) close(fd);
  for (int fd : tls_listen_fds_) close(fd);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  for (auto& queue : outgoing_) {
    for (MailboxMessage* m : queue) delete m;
  }
  for (MailboxMessage* m : local_queue_) delete m;
  for (BatchMessage* b : free_batches_) delete b;
  for (auto& [id, w] : waiters_) delete w->batch;
}

int Reactor::thread_count() const { return server_.thread_count(); }
const ServerInfo& Reactor::server_info() const { return server_.info(); }

std::string Reactor::ListenAll(int port, uint32_t tag, std::vector<int>* fds) {
  for (const std::string& spec : config_.bind) {
    bool optional = !spec.empty() && spec[0] == '-';
    std::string address = optional ? spec.substr(1) : spec;
    std::string error;
    int fd = ListenOn(address, port, config_.tcp_backlog, &error);
    if (fd < 0) {
      if (optional) continue;
      for (int opened : *fds) close(opened);
      fds->clear();
      return error;
    }
    fds->push_back(fd);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(fd) | (static_cast<uint64_t>(tag) << 32);
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  if (fds->empty()) return "Failed listening on any bind address";
  return "";
}

std::string Reactor::Listen() {
  outgoing_.resize(server_.thread_count());
  if (config_.port != 0) {
    std::string error = ListenAll(config_.port, kTagTcpListener, &listen_fds_);
    if (!error.empty()) return error;
  }
  int tls_port = TlsPort(config_);
  if (tls_port != 0) {
    if (tls_ctx_ == nullptr) return "Failed to configure TLS. Check logs for more info.";
    std::string error = ListenAll(tls_port, kTagTlsListener, &tls_listen_fds_);
    if (!error.empty()) return error;
    tls_port_ = tls_port;
  }
  if (unix_listen_fd_ >= 0) {
    // One socket in every reactor's epoll set: EPOLLEXCLUSIVE wakes one reactor (or a few) per
    // new client, not all of them, and spreads the clients over the reactors as they wake.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 =
        static_cast<uint64_t>(unix_listen_fd_) | (static_cast<uint64_t>(kTagUnixListener) << 32);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, unix_listen_fd_, &ev) != 0) {
      return absl::StrCat("Failed opening Unix socket: epoll: ", strerror(errno));
    }
  }
  if (listen_fds_.empty() && tls_listen_fds_.empty() && unix_listen_fd_ < 0) {
    return "Configured to not listen anywhere, exiting.";
  }
  if (index_ == 0 && config_.metrics_port > 0) {
    // The Prometheus endpoint (server/metrics_http.h), on the same addresses.
    metrics_ = std::make_unique<MetricsHttp>(epoll_fd_,
                                             [this](auto done) { ServeMetrics(std::move(done)); });
    for (const std::string& spec : config_.bind) {
      bool optional = !spec.empty() && spec[0] == '-';
      std::string error;
      int fd = ListenOn(optional ? spec.substr(1) : spec, config_.metrics_port, config_.tcp_backlog,
                        &error);
      if (fd >= 0) {
        metrics_->AddListener(fd);
      } else if (!optional) {
        return error;
      }
    }
  }
  // Edge-triggered: every write to the eventfd is an edge, so a wake-up costs no read() of the
  // counter (it only grows, by one per sleep; messages are found by draining the queue, and
  // Mailbox::PrepareToSleep never lets the loop sleep on a non-empty one).
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 =
      static_cast<uint64_t>(mailbox_.event_fd()) | (static_cast<uint64_t>(kTagMailbox) << 32);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, mailbox_.event_fd(), &ev);
  return "";
}

std::string Reactor::SetTls(std::shared_ptr<TlsContext> ctx, int port) {
  tls_ctx_ = std::move(ctx);
  if (port == tls_port_) return "";
  std::vector<int> fds;
  if (port != 0) {
    std::string error = ListenAll(port, kTagTlsListener, &fds);
    if (!error.empty()) return error;  // the old listeners stay
  }
  for (int fd : tls_listen_fds_) close(fd);  // (closing drops it from the epoll set)
  tls_listen_fds_ = std::move(fds);
  tls_port_ = port;
  return "";
}

void Reactor::UpdateClock() { shard_.clock().now_ms = WallMs(); }

void Reactor::Stop() {
  stop_requested_.store(true, std::memory_order_release);
  // Wake the loop: an empty fan-out-free nudge through the eventfd.
  uint64_t one = 1;
  ssize_t n = write(mailbox_.event_fd(), &one, sizeof(one));
  (void)n;
}

void Reactor::RequestShutdown() { server_.RequestShutdown(); }

void Reactor::Run() {
  running_ = true;
  aof::AttachThread();
  scripting::LuaEngine::SetThreadShard(index_, thread_count());
  scripting::LuaEngine::SetBusyPoller([this] { return ServeWhileBusy(); });
  SetThreadMonitorFeed(this);
  SetThreadCallStatsSink(this);
  SetThreadTrackingSink(this);
  for (int i = 0; i < shard_.db_count(); ++i) {
    shard_.db(i).set_expiry_listener(
        [](void* self, std::string_view key) {
          auto* r = static_cast<Reactor*>(self);
          if (r->tracking_.empty()) return;
          ClientRef saved = r->writer_;
          r->writer_ = ClientRef{};  // an expiry is nobody's write (NOLOOP)
          r->InvalidateKey(key);
          r->writer_ = saved;
        },
        this);
  }
  monitor_out_.assign(thread_count(), nullptr);
  memory::RegisterThread();
  SyncEvictionConfig();
  std::vector<epoll_event> events(kMaxEvents);
  next_cron_ms_ = MonoMs();
  while (!stop_requested_.load(std::memory_order_acquire)) {
    int timeout = static_cast<int>(next_cron_ms_ - MonoMs());
    if (int64_t deadline = NextWaiterDeadline(); deadline > 0) {
      int64_t until = deadline - WallMs() + 1;
      if (until < timeout) timeout = static_cast<int>(until);
    }
    if (timeout < 0) timeout = 0;
    if (!ready_.empty() || !local_queue_.empty() || !tls_pending_.empty()) timeout = 0;
    const bool snapshot = SnapshotRunning(index_);  // a BGSAVE serializes this shard: no sleep
    if (snapshot) timeout = 0;
    if (timeout > 0 && !mailbox_.PrepareToSleep()) timeout = 0;
    int n = epoll_wait(epoll_fd_, events.data(), kMaxEvents, timeout);
    mailbox_.Awake();
    ++counters_.loop_turns;
    UpdateClock();
    call_clock_.Break();
    for (int i = 0; i < n; ++i) {
      uint64_t data = events[i].data.u64;
      uint32_t tag = static_cast<uint32_t>(data >> 32);
      int fd = static_cast<int>(data & 0xffffffff);
      if (tag == kTagTcpListener || tag == kTagTlsListener || tag == kTagUnixListener) {
        Accept(fd, tag);
        continue;
      }
      if (tag == kTagMailbox) continue;  // drained below, every turn
      if (tag == MetricsHttp::kListenTag || tag == MetricsHttp::kConnTag) {
        if (metrics_ == nullptr) continue;
        if (tag == MetricsHttp::kListenTag) {
          metrics_->Accept(fd);
        } else {
          metrics_->OnEvent(fd, events[i].events);
        }
        continue;
      }
      auto it = connections_.find(fd);
      if (it == connections_.end()) continue;
      Connection* c = it->second.get();
      if (c->closed) continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) OnReadable(c);
      if (!c->closed && (events[i].events & EPOLLOUT)) OnWritable(c);
    }
    if (!tls_pending_.empty()) ReadTlsPending();
    // Connections with input left from an earlier turn (fairness budget, or resumed).
    if (!ready_.empty()) {
      std::vector<Connection*> ready;
      ready.swap(ready_);
      for (Connection* c : ready) {
        c->in_ready_list = false;
        if (!c->closed && !c->waiting) ResumeConnection(c);
      }
    }
    DrainMailbox();
    if (!waiter_deadlines_.empty()) ExpireWaiters();
    if (!cross_block_deadlines_.empty()) ExpireCrossBlocks();
    if (shard_.notifier().has_pending()) PublishKeyspaceEvents();
    FlushOutgoing();
    FlushWrites();
    // One slice of a running BGSAVE, after this turn's replies have left.
    if (snapshot && SnapshotRunning(index_)) SnapshotSlice(index_, kSnapshotSliceMicros);
    if (MonoMs() >= next_cron_ms_) {
      Cron();
      next_cron_ms_ = MonoMs() + 1000 / (config_.hz > 0 ? config_.hz : 10);
      if (shard_.notifier().has_pending()) PublishKeyspaceEvents();  // e.g. active expiry
    }
    graveyard_.clear();
  }
  StopNow();
  running_ = false;
  scripting::LuaEngine::SetBusyPoller(nullptr);
}

bool Reactor::ServeWhileBusy() {
  if (busy_serving_) return stop_requested_.load(std::memory_order_acquire);
  busy_serving_ = true;
  epoll_event events[64];
  int n = epoll_wait(epoll_fd_, events, 64, 0);
  UpdateClock();
  std::vector<Connection*> served;
  for (int i = 0; i < n; ++i) {
    uint64_t data = events[i].data.u64;
    uint32_t tag = static_cast<uint32_t>(data >> 32);
    // New clients are accepted (and told BUSY), as by Redis.
    if (tag == kTagTcpListener || tag == kTagTlsListener || tag == kTagUnixListener) {
      Accept(static_cast<int>(data & 0xffffffff), tag);
      continue;
    }
    if (tag != kTagConnection) continue;  // the mailbox waits for the script's end
    auto it = connections_.find(static_cast<int>(data & 0xffffffff));
    if (it == connections_.end()) continue;
    Connection* c = it->second.get();
    if (c->closed || c == executing_conn_ || c->waiting) continue;
    if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) OnReadable(c);
    if (!c->closed) served.push_back(c);
  }
  // Replies made before the script started (earlier in this loop turn) go out too: their
  // clients may be waiting for them before they send SCRIPT KILL.
  for (Connection* c : dirty_) served.push_back(c);
  for (Connection* c : served) {
    if (!c->closed && c != executing_conn_ && !c->writing && c->pending_output() > 0) {
      WriteConnection(c);
    }
  }
  busy_serving_ = false;
  return stop_requested_.load(std::memory_order_acquire);
}

void Reactor::StopNow() {
  for (int fd : listen_fds_) close(fd);
  listen_fds_.clear();
  for (int fd : tls_listen_fds_) close(fd);
  tls_listen_fds_.clear();
  // Deliver what other threads already answered, then write what we have.
  DrainMailbox();
  FlushWrites();
  std::vector<Connection*> all;
  for (auto& [fd, c] : connections_) all.push_back(c.get());
  for (Connection* c : all) CloseConnection(c);
  graveyard_.clear();
}

void Reactor::Accept(int listen_fd, uint32_t listener_tag) {
  for (int i = 0; i < kAcceptsPerTurn; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd =
        accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        Log(LogLevel::kWarning, "Accepting client connection: %s", strerror(errno));
      }
      return;
    }
    ++counters_.connections_received;
    if (!server_.AcquireClientSlot(config_.maxclients)) {
      static constexpr char kErr[] = "-ERR max number of clients reached\r\n";
      ssize_t w = write(fd, kErr, sizeof(kErr) - 1);
      (void)w;
      close(fd);
      ++counters_.rejected_connections;
      continue;
    }
    if (listener_tag == kTagUnixListener) {
      // The kernel does not spread a Unix socket's clients over the reactors (SO_REUSEPORT is
      // for TCP): whichever accepts one hands it on, in turn.
      int target = static_cast<int>(next_unix_target_++ % server_.thread_count());
      if (target != index_) {
        auto* m = new AdoptUnixClientMessage;
        m->fd = fd;
        Send(target, m);
        continue;
      }
    }
    AdoptConnection(fd, listener_tag, peer);
  }
}

void AdoptUnixClientMessage::Deliver(Reactor& reactor) {
  reactor.AdoptConnection(fd, Reactor::kTagUnixListener, sockaddr_storage{});
  delete this;
}

void Reactor::AdoptConnection(int fd, uint32_t listener_tag, const sockaddr_storage& peer) {
  const bool unix_socket = listener_tag == kTagUnixListener;
  int one = 1;
  if (!unix_socket) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (config_.tcp_keepalive > 0) {
      setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
      int idle = config_.tcp_keepalive;
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
      int interval = idle / 3 > 0 ? idle / 3 : 1;
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
      int count = 3;
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
    }
  }
  auto conn = std::make_unique<Connection>();
  Connection* c = conn.get();
  if (listener_tag == kTagTlsListener) {
    if (tls_ctx_ != nullptr) c->tls = TlsConn::Accept(*tls_ctx_, fd);
    if (c->tls == nullptr) {
      close(fd);
      server_.ReleaseClientSlot();
      return;
    }
  }
  c->state.id = server_.NextClientId();
  c->state.fd = fd;
  c->state.thread_index = index_;
  c->state.created_ms = shard_.now_ms();
  c->state.last_interaction_ms = c->state.created_ms;
  if (unix_socket) {
    c->state.unix_socket = true;
    c->state.addr = absl::StrCat(config_.unixsocket, ":0");  // as Redis shows such a client
    c->state.laddr = c->state.addr;
  } else {
    c->state.addr = FormatAddress(peer);
    sockaddr_storage local{};
    socklen_t local_len = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0) {
      c->state.laddr = FormatAddress(local);
    }
  }
  c->state.authenticated = acl_.DefaultAutoAuth();
  ParserLimits limits;
  limits.max_bulk_len = config_.proto_max_bulk_len;
  c->parser.set_limits(limits);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(fd);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  connections_by_id_[c->state.id] = c;
  connections_[fd] = std::move(conn);
}

void Reactor::UpdateInterest(Connection* c) {
  if (c->closed) return;
  // Backpressure: stop reading while complete but unprocessed commands or unwritten output pile
  // up. A command still arriving (a big bulk) is always read to its end.
  bool want_read = (c->in.size() < kMaxUnprocessedInput || c->parser.in_progress()) &&
                   c->pending_output() < kMaxPendingOutput && !c->peer_closed;
  uint32_t mask = (want_read ? static_cast<uint32_t>(EPOLLIN) : 0u) |
                  (c->writing ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (mask == c->events) return;
  epoll_event ev{};
  ev.events = mask;
  ev.data.u64 = static_cast<uint64_t>(c->state.fd);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->state.fd, &ev);
  c->events = mask;
}

ssize_t Reactor::ConnRead(Connection* c, char* buf, size_t len) {
  if (c->tls == nullptr) [[likely]]
    return read(c->state.fd, buf, len);
  return c->tls->Read(buf, len);
}

ssize_t Reactor::ConnWrite(Connection* c, const char* buf, size_t len) {
  if (c->tls == nullptr) [[likely]]
    return send(c->state.fd, buf, len, MSG_NOSIGNAL);
  return c->tls->Write(buf, len);
}

void Reactor::ReadTlsPending() {
  std::vector<Connection*> pending;
  pending.swap(tls_pending_);
  for (Connection* c : pending) {
    c->tls->in_pending_list = false;
    // Reads only when the connection reads at all (not held back by backpressure);
    // UpdateInterest puts it back here when it does again.
    if (!c->closed && (c->events & EPOLLIN) && c->tls->HasPending()) OnReadable(c);
  }
}

void Reactor::OnReadable(Connection* c) {
  if (c->tls != nullptr && c->tls->write_wants_read()) [[unlikely]] {
    WriteConnection(c);  // a write waited for the socket to be readable
    if (c->closed) return;
  }
  // Read into the shared scratch buffer when nothing is pending (the common case), so an idle
  // connection keeps no buffer of its own; big bulks are read straight into the connection's.
  size_t want = kScratchSize;
  size_t big = c->parser.pending_bulk_len();
  // While a busy script runs, the scratch buffer may hold the input its command came from.
  bool direct = !c->in.empty() || c->waiting || big > kScratchSize || busy_serving_;
  ssize_t n;
  if (!direct) {
    n = ConnRead(c, scratch_.data(), kScratchSize);
  } else {
    if (big > want) want = big + 2 > c->in.size() ? big + 2 : kScratchSize;
    if (want > 1024 * 1024) want = 1024 * 1024;
    size_t old = c->in.size();
    c->in.resize(old + want);
    n = ConnRead(c, c->in.data() + old, want);
    c->in.resize(old + (n > 0 ? n : 0));
  }
  if (n == 0 && (c->waiting || c->in_ready_list) && !c->state.blocked && !c->peer_closed) {
    // The client half-closed (it may, after a pipeline): the commands read before the EOF still
    // run and their replies are written before the connection closes, as Redis runs all it read
    // before it sees the EOF. Only a blocked wait is dropped at once (as Redis frees it).
    c->peer_closed = true;
    UpdateInterest(c);
    return;
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    CloseConnection(c);
    return;
  }
  if (n < 0) {
    if (c->tls != nullptr) UpdateInterest(c);  // the handshake may wait for EPOLLOUT
    return;
  }
  counters_.net_input_bytes += n;
  ++counters_.reads_processed;
  c->state.last_interaction_ms = shard_.now_ms();
  if (static_cast<int64_t>(c->in.size() + (direct ? 0 : n)) > config_.client_query_buffer_limit) {
    Log(LogLevel::kWarning, "Closing client that reached max query buffer length (id=%d)",
        c->state.id);
    CloseConnection(c);
    return;
  }
  if (!direct) {
    std::string_view input(scratch_.data(), n);
    PrefetchKeys(c, input);
    call_clock_.Break();  // the read() that brought this input is nobody's command
    size_t used = ProcessInput(c, input);
    if (!c->closed && used < input.size()) c->in.assign(input.substr(used));
  } else if (!c->waiting) {
    PrefetchKeys(c, c->in);
    call_clock_.Break();
    size_t used = ProcessInput(c, c->in);
    if (!c->closed) c->in.erase(0, used);
  }
  if (!c->closed) {
    if (c->in.empty() && c->in.capacity() > kKeepInputCapacity) std::string().swap(c->in);
    UpdateInterest(c);
  }
}

// Pipelined input: before a read's commands run, look ahead at them and prefetch their keys'
// table slots, then the keys' heap blocks, so that the cache misses of the lookups overlap
// instead of coming one after another (they bound a pipeline of GETs).
void Reactor::PrefetchKeys(const Connection* c, std::string_view input) {
  hinted_keys_.clear();
  HintLocalRun(c, input, /*alone_too=*/false);
  for (const PrefetchedKey& key : hinted_keys_) key.keyspace->PrefetchBlock(key.hash);
}

// Hints the table slots of the keys that the commands at the head of `input` look up on this
// shard, up to kPrefetchAhead commands, and adds the keys to hinted_keys_ for a block pass. The
// look-ahead stops at the first command of another shard: the connection then waits for a
// remote batch, and lines hinted for the commands after it would be gone (with their TLB
// entries) by the time it resumes; the reply's arrival hints them then (DrainMailbox).
// `alone_too`: hint a lone command as well (a drained group overlaps it with other connections').
void Reactor::HintLocalRun(const Connection* c, std::string_view input, bool alone_too) {
  constexpr int kPrefetchAhead = 16;
  size_t at = 0;
  const CommandTable& table = CommandTable::Get();
  const Keyspace& keys = shard_.db(c->state.db_index).keyspace();
  lookahead_.Reset();
  for (int i = 0; i < kPrefetchAhead && at < input.size(); ++i) {
    if (lookahead_.Parse(input.substr(at)) != RequestParser::Result::kCommand) break;
    at += lookahead_.consumed();
    if (!alone_too && i == 0 && at == input.size()) break;  // no lookups to overlap
    const std::vector<std::string_view>& args = lookahead_.args();
    if (args.size() < 2) continue;
    const CommandSpec* spec = table.Find(args[0]);
    if (spec == nullptr || spec->first_key != 1) continue;
    if (thread_count() > 1 && ShardOfKey(args[1], thread_count()) != index_) break;
    uint64_t hash = Keyspace::HashKey(args[1]);
    keys.PrefetchSlot(hash);
    hinted_keys_.push_back(PrefetchedKey{&keys, hash});
  }
  lookahead_.Reset();
}

void Reactor::ResumeConnection(Connection* c, bool chained) {
  if (c->closed || c->waiting) return;
  if (!chained) call_clock_.Break();
  if (!c->own_invalidations.empty()) FlushOwnInvalidations(c);
  if (!c->in.empty()) {
    size_t used = ProcessInput(c, c->in);
    if (c->closed) return;
    c->in.erase(0, used);
    if (c->in.empty() && c->in.capacity() > kKeepInputCapacity) std::string().swap(c->in);
  }
  if (c->peer_closed && c->state.blocked) {
    // A wait for a client that left: the replies before it go out, then it closes (as Redis
    // writes them before it reads the EOF and frees the blocked client).
    if (c->pending_output() > 0) WriteConnection(c);
    if (!c->closed) CloseConnection(c);
    return;
  }
  if (c->peer_closed && !c->waiting && !c->in_ready_list) {
    c->state.close_after_reply = true;  // all it sent before the EOF has run: close once written
    MarkDirty(c);
  }
  UpdateInterest(c);
}

void Reactor::MarkDirty(Connection* c) {
  if (!c->in_dirty_list) {
    c->in_dirty_list = true;
    dirty_.push_back(c);
  }
}

void Reactor::MarkReady(Connection* c) {
  if (!c->in_ready_list) {
    c->in_ready_list = true;
    ready_.push_back(c);
  }
}

void Reactor::WriteConnection(Connection* c) {
  aof::Flush();  // (and is fsynced, under appendfsync always) before any reply goes out
  if (c->tls != nullptr && !c->tls->handshake_done()) return;  // nothing to say before that
  // CLIENT REPLY OFF/SKIP: the part of a dropped reply already made (a multi-phase operation
  // writes its reply in pieces) stays unsent until the operation ends and drops it.
  size_t end = c->silent_op ? std::min(c->silent_mark, c->out.size()) : c->out.size();
  if (c->out_pos < end) ++counters_.writes_processed;
  while (c->out_pos < end) {
    ssize_t n = ConnWrite(c, c->out.data() + c->out_pos, end - c->out_pos);
    if (n > 0) {
      c->out_pos += n;
      counters_.net_output_bytes += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    CloseConnection(c);
    return;
  }
  if (c->tls != nullptr && c->tls->write_wants_read()) [[unlikely]] {
    UpdateInterest(c);  // retried from OnReadable, not on EPOLLOUT (which would spin)
    return;
  }
  if (c->out_pos == end && end < c->out.size()) return;  // the rest waits (see above)
  if (c->pending_output() == 0) {
    c->out.clear();
    c->out_pos = 0;
    if (c->pending_call) c->pending_call->reply_at = 0;
    c->silent_mark = 0;
    c->over_soft_limit_since_ms = 0;  // the soft output limit's period starts again
    if (c->out.capacity() > kKeepOutputCapacity) std::string().swap(c->out);
    if (c->state.close_after_reply && !c->waiting) {
      CloseConnection(c);
      return;
    }
    if (c->writing) {
      c->writing = false;
      UpdateInterest(c);
    }
    // Output drained: input held back by backpressure can go on.
    if (!c->in.empty() && !c->waiting && !c->paused) MarkReady(c);
  } else {
    // Output the client does not read fast enough: client-output-buffer-limit (normal or
    // pubsub class, as Redis's getClientType) closes it.
    if (EnforceOutputLimit(
            c, c->state.subscribed() ? config_.output_limit_pubsub : config_.output_limit_normal)) {
      return;
    }
    if (!c->writing) {
      c->writing = true;
      UpdateInterest(c);
    }
  }
}

void Reactor::OnWritable(Connection* c) {
  if (c->tls != nullptr && c->tls->read_wants_write()) [[unlikely]] {
    OnReadable(c);  // a read or the handshake waited for the socket to be writable
    if (c->closed) return;
  }
  WriteConnection(c);
}

void Reactor::FlushWrites() {
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Connection* c = dirty_[i];
    c->in_dirty_list = false;
    if (c->closed) continue;
    if (c->writing) {  // EPOLLOUT will tell us when the socket takes more
      EnforceOutputLimit(
          c, c->state.subscribed() ? config_.output_limit_pubsub : config_.output_limit_normal);
      continue;
    }
    if (c->waiting && c->hold_output && c->pending_output() < kHeldOutputLimit) continue;
    if (c->pending_output() > 0) {
      WriteConnection(c);
    } else if (c->state.close_after_reply && !c->waiting) {
      CloseConnection(c);
    }
  }
  dirty_.clear();
}

void Reactor::CloseConnection(Connection* c) {
  if (c->closed) return;
  c->closed = true;
  if (c->gone != nullptr) c->gone->gone.store(true);
  if (c->waiting && c->inflight_shard >= 0) {
    // It may be blocked (BLPOP...) on that shard: drop the wait so nothing is served to nobody.
    auto* cancel = new CancelWaitMessage;
    cancel->conn_id = c->state.id;
    cancel->origin_thread = index_;
    Send(c->inflight_shard, cancel);
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->state.fd, nullptr);
  if (c->tls != nullptr) {
    c->tls->Shutdown();  // close_notify, best effort (the SSL is freed with the connection)
    if (c->tls->in_pending_list) std::erase(tls_pending_, c);
  }
  // (Another thread peeking the socket then closes it: see CloseFlag.)
  if (c->gone == nullptr || !c->gone->HandOverClose()) close(c->state.fd);
  if (c->batch != nullptr) {
    FreeBatch(c->batch);
    c->batch = nullptr;
  }
  server_.ReleaseClientSlot();
  if (c->in_ready_list) std::erase(ready_, c);
  if (c->in_dirty_list) std::erase(dirty_, c);
  if (c->paused) std::erase(paused_, c->state.id);
  if (c->state.subscribed()) pubsub_.RemoveAll(c->state.id);
  if (c->state.tracking.on) {
    ClientTracking before = c->state.tracking;
    c->state.tracking = ClientTracking{};
    TrackingChanged(c->state, before);
  }
  if (c->state.monitor) {
    std::erase(monitors_, c->state.id);
    local_monitors_.fetch_sub(1, std::memory_order_relaxed);
    MonitorCount().fetch_sub(1, std::memory_order_relaxed);
  }
  if (c->state.tx != nullptr) ReleaseWatches(c->state);
  if (!cross_block_by_conn_.empty()) CancelCrossBlock(c->state.id);
  if (auto held = held_for_test_.find(c->state.id); held != held_for_test_.end()) {
    for (uint64_t op : held->second) ReleaseAtomic(op);
    held_for_test_.erase(held);
  }
  connections_by_id_.erase(c->state.id);
  auto it = connections_.find(c->state.fd);
  if (it != connections_.end()) {
    graveyard_.push_back(std::move(it->second));
    connections_.erase(it);
  }
}

void Reactor::Send(int target, MailboxMessage* message) {
  ++counters_.messages_sent;
  if (target == index_) {
    local_queue_.push_back(message);
  } else {
    outgoing_[target].push_back(message);
  }
}

void Reactor::FlushOutgoing() {
  // What this thread logged goes to the AOF before any message that could depend on it leaves.
  aof::Flush();
  for (size_t t = 0; t < outgoing_.size(); ++t) {
    auto& queue = outgoing_[t];
    if (queue.empty()) continue;
    for (size_t i = 0; i + 1 < queue.size(); ++i) {
      queue[i]->next.store(queue[i + 1], std::memory_order_relaxed);
    }
    if (!monitor_out_.empty()) monitor_out_[t] = nullptr;  // filled no more: it is on its way
    server_.reactor(static_cast<int>(t)).mailbox().PushChain(queue.front(), queue.back());
    queue.clear();
  }
}

// Messages are taken from the mailbox a group at a time. The keys of the batches in a group have
// their table slots hinted to the cache, then their heap blocks, before any of them runs: each
// batch from a pipeline holds a command or two, too few to overlap its own lookups, but a group
// holds the batches of many connections (as PrefetchKeys does for a local pipeline). Messages to
// self go first, as soon as they are queued, as if taken one at a time.
void Reactor::DrainMailbox() {
  constexpr int kGroup = 32;
  int budget = 4096;  // so a flood of messages cannot starve the sockets; the rest waits
  auto deliver_local = [&] {
    while (!local_queue_.empty() && budget > 0) {
      MailboxMessage* m = local_queue_.front();
      local_queue_.pop_front();
      --budget;
      ++counters_.messages_received;
      m->Deliver(*this);
    }
  };
  deliver_local();
  while (budget > 0) {
    MailboxMessage* group[kGroup];
    int n = 0;
    while (n < kGroup && n < budget && (group[n] = mailbox_.Pop()) != nullptr) ++n;
    if (n == 0) break;
    budget -= n;
    call_clock_.Break();  // then batches chain, as a pipeline's commands do
    if (n > 1) {
      hinted_keys_.clear();
      for (int i = 0; i < n; ++i) group[i]->Prefetch(*this);
      for (const PrefetchedKey& key : hinted_keys_) key.keyspace->PrefetchBlock(key.hash);
    }
    for (int i = 0; i < n; ++i) {
      ++counters_.messages_received;
      group[i]->Deliver(*this);
      deliver_local();
    }
  }
}

void BatchMessage::Prefetch(Reactor& reactor) const {
  if (is_reply) {
    reactor.HintResumedCommands(origin.conn_id);
  } else {
    reactor.PrefetchBatchSlots(*this);
  }
}

// A reply resumes its connection's pipeline: hint the local commands it runs next.
void Reactor::HintResumedCommands(uint64_t conn_id) {
  auto it = connections_by_id_.find(conn_id);
  if (it == connections_by_id_.end() || it->second->in.empty()) return;
  HintLocalRun(it->second, it->second->in, /*alone_too=*/true);
}

void Reactor::PrefetchBatchSlots(const BatchMessage& batch) {
  const Keyspace& keys = shard_.db(batch.origin.db_index).keyspace();
  for (const BatchMessage::Command& command : batch.commands) {
    if (command.spec->first_key != 1 || command.argc < 2) continue;
    auto [offset, len] = batch.args[command.first_arg + 1];
    uint64_t hash = Keyspace::HashKey(std::string_view(batch.arena.data() + offset, len));
    keys.PrefetchSlot(hash);
    hinted_keys_.push_back(PrefetchedKey{&keys, hash});
  }
}

void Reactor::Cron() {
  EvictionCron();
  if (active_expire_) {
    for (int i = 0; i < shard_.db_count(); ++i) {
      Db& db = shard_.db(i);
      if (db.expires_count() > 0) db.ActiveExpire(1000);
    }
  }
  for (int i = 0; i < shard_.db_count(); ++i) shard_.db(i).Maintain(500);
  // Expired keys wake their blocked clients (a blocked XREADGROUP then gets its error).
  if (!shard_.ready_keys().empty()) ServeReadyKeys();
  if (tracking_.keys() > 0) LimitTrackingTable();
  if (config_.timeout > 0) {
    int64_t limit = shard_.now_ms() - static_cast<int64_t>(config_.timeout) * 1000;
    std::vector<Connection*> idle;
    for (auto& [fd, c] : connections_) {
      if (!c->waiting && c->state.last_interaction_ms < limit) idle.push_back(c.get());
    }
    for (Connection* c : idle) CloseConnection(c);
  }
  if (pause_until_ms_ != 0 && shard_.now_ms() >= pause_until_ms_) PauseClients(0, false);
  if (index_ == 0) {
    // AOF rewrites, then the `save` schedule and BGSAVE SCHEDULE: connection-less operations.
    AofCron();
  }
}

void Reactor::ResetStats() {
  counters_ = ThreadCounters{};
  for (CommandStat& s : command_stats_) s = CommandStat{};
  error_stats_.clear();
  shard_.stats() = ShardStats{};
}

void Reactor::ForEachClient(const std::function<void(const ClientSnapshot&)>& fn) const {
  for (const auto& [fd, c] : connections_) {
    ClientSnapshot snap;
    snap.state = c->state;
    snap.query_buffer = c->in.size();
    snap.query_buffer_free = c->in.capacity() - c->in.size();
    snap.output_bytes = c->pending_output();
    fn(snap);
  }
}

bool Reactor::KillClient(uint64_t id) {
  auto it = connections_by_id_.find(id);
  if (it == connections_by_id_.end()) return false;
  Connection* c = it->second;
  if (c->waiting) {
    CloseConnection(c);  // e.g. blocked: Redis closes it at once
    return true;
  }
  c->state.close_after_reply = true;
  MarkDirty(c);
  return true;
}

size_t Reactor::DeliverMessage(SubKind kind, std::string_view channel, std::string_view message) {
  size_t receivers = 0;
  auto push = [&](uint64_t id, std::string_view kind_name, const std::string* pattern) {
    auto it = connections_by_id_.find(id);
    if (it == connections_by_id_.end() || it->second->closed) return;
    Connection* c = it->second;
    ReplyBuilder reply(&c->out, c->state.resp);
    reply.PushHeader(pattern != nullptr ? 4 : 3);
    reply.Bulk(kind_name);
    if (pattern != nullptr) reply.Bulk(*pattern);
    reply.Bulk(channel);
    reply.Bulk(message);
    ++receivers;
    MarkDirty(c);
    EnforceOutputLimit(c, config_.output_limit_pubsub);
  };
  if (kind == SubKind::kShardChannel) {
    pubsub_.ForEachChannelSubscriber(kind, channel,
                                     [&](uint64_t id) { push(id, "smessage", nullptr); });
    return receivers;
  }
  pubsub_.ForEachChannelSubscriber(SubKind::kChannel, channel,
                                   [&](uint64_t id) { push(id, "message", nullptr); });
  pubsub_.ForEachPatternSubscriber(
      channel, [&](const std::string& pattern, uint64_t id) { push(id, "pmessage", &pattern); });
  return receivers;
}

bool Reactor::EnforceOutputLimit(Connection* c, const Config::OutputLimit& limit) {
  int64_t pending = static_cast<int64_t>(c->pending_output());
  bool over_hard = limit.hard > 0 && pending >= limit.hard;
  bool over_soft = false;
  if (limit.soft > 0 && pending >= limit.soft) {
    if (c->over_soft_limit_since_ms == 0) c->over_soft_limit_since_ms = shard_.now_ms();
    over_soft = shard_.now_ms() - c->over_soft_limit_since_ms >= limit.soft_seconds * 1000;
  } else {
    c->over_soft_limit_since_ms = 0;
  }
  if (!over_hard && !over_soft) return false;
  Log(LogLevel::kWarning, "Client id=%d addr=%s closed for overcoming of output buffer limits.",
      c->state.id, c->state.addr);
  CloseConnection(c);
  return true;
}

void Reactor::PauseClients(int64_t until_ms, bool write_only) {
  pause_until_ms_ = until_ms;
  pause_write_only_ = write_only;
  if (until_ms == 0) {
    std::vector<uint64_t> paused;
    paused.swap(paused_);
    for (uint64_t id : paused) {
      auto it = connections_by_id_.find(id);
      if (it != connections_by_id_.end()) {
        it->second->paused = false;
        MarkReady(it->second);
      }
    }
  }
}

}  // namespace shardis
