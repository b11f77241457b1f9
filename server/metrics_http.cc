// See metrics_http.h. Reactor 0's thread only.
#include "server/metrics_http.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/command.h"

namespace shardis {

MetricsHttp::~MetricsHttp() {
  for (int fd : listeners_) close(fd);
  for (auto& [fd, c] : conns_) close(fd);
}

void MetricsHttp::AddListener(int fd) {
  listeners_.push_back(fd);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(fd) | (uint64_t{kListenTag} << 32);
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void MetricsHttp::Accept(int listen_fd) {
  for (int i = 0; i < 64; ++i) {  // bounded work per turn
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (conns_.size() >= kMaxConnections) {
      close(fd);
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(fd) | (uint64_t{kConnTag} << 32);
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    fd_of_id_[c->id] = fd;
    conns_[fd] = std::move(c);
  }
}

void MetricsHttp::OnEvent(int fd, uint32_t events) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn* c = it->second.get();
  if (events & (EPOLLERR | EPOLLHUP)) {
    Close(c);
    return;
  }
  if ((events & EPOLLIN) && !c->responding) {
    Read(c);
    return;
  }
  if (events & EPOLLOUT) Write(c);
}

std::string MetricsHttp::OkResponse(std::string_view body, bool head_only) {
  return Cat("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
             "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
             head_only ? std::string_view() : body);
}

std::string MetricsHttp::Respond(std::string_view head, bool* wants_metrics) {
  *wants_metrics = false;
  auto simple = [](std::string_view status, std::string_view body) {
    return Cat("HTTP/1.1 ", status, "\r\nContent-Type: text/plain; charset=utf-8\r\n",
               "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
  };
  size_t end = head.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (head.size() >= kMaxRequest) return simple("431 Request Header Fields Too Large", "");
    return "";
  }
  std::string_view line = head.substr(0, head.find("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    return simple("400 Bad Request", "bad request\n");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") {
    return simple("405 Method Not Allowed", "only GET and HEAD\n");
  }
  if (target != "/metrics") return simple("404 Not Found", "not found: try /metrics\n");
  *wants_metrics = true;
  return method == "HEAD" ? "HEAD" : "GET";
}

void MetricsHttp::Read(Conn* c) {
  char buf[4096];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c->in.append(buf, std::min(static_cast<size_t>(n), kMaxRequest + 1 - c->in.size()));
      if (c->in.size() > kMaxRequest) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close(c);  // EOF or error before a whole request
    return;
  }
  bool wants_metrics = false;
  std::string response = Respond(c->in, &wants_metrics);
  if (response.empty()) return;  // more to come
  c->responding = true;
  c->in.clear();
  if (!wants_metrics) {
    c->out = std::move(response);
    Write(c);
    return;
  }
  bool head_only = response == "HEAD";
  uint64_t id = c->id;
  collect_([this, id, head_only](std::string body) {
    auto it = fd_of_id_.find(id);
    if (it == fd_of_id_.end()) return;  // the scraper left meanwhile
    Conn* conn = conns_[it->second].get();
    conn->out = OkResponse(body, head_only);
    Write(conn);
  });
}

void MetricsHttp::Write(Conn* c) {
  while (c->out_pos < c->out.size()) {
    ssize_t n = send(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u64 = static_cast<uint64_t>(c->fd) | (uint64_t{kConnTag} << 32);
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    break;
  }
  Close(c);
}

void MetricsHttp::Close(Conn* c) {
  int fd = c->fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  fd_of_id_.erase(c->id);
  conns_.erase(fd);  // frees c
}

}  // namespace shardis
