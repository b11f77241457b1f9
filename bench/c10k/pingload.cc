// bench/c10k/pingload.cc: many mostly idle connections, one epoll thread. Not part of the main
// build (bench/c10k/run.sh and bench/idle_conns.sh compile it with one g++ line).
//
// It opens --conns N connections to 127.0.0.1:PORT (at most --connect-batch connects in flight,
// default 256; with --src-ips K > 1 the source addresses are spread over 127.0.0.1 .. 127.0.0.K,
// for more than the ~28k ephemeral ports of one address, but redis-server then needs
// --protected-mode no, as it takes only 127.0.0.1 and ::1 for local), sends one RESP PING on each
// and waits for every reply (so that a server that sets up per-connection state lazily has done
// so). Then:
//
// load mode (default): reads the server's /proc figures (with --server-pid), then for --duration
//   seconds every connection sends --rate PINGs per second (default 1), spread evenly: send j
//   of the whole run goes out at t0 + j / (N * rate) on connection j % N. Latency = reply read
//   minus request written, per request. A connection keeps at most 8 requests outstanding: a
//   send due while 8 are unanswered is skipped and counted. After the run it waits up to
//   --grace seconds for the last replies (a request still unanswered then enters the latency
//   percentiles with its age at that moment, so they become lower bounds), reads the server's
//   /proc figures again and prints one line of key=value pairs:
//     conns connect_s sent recv unanswered errors skipped closed p50_us p90_us p99_us p999_us
//     max_us lag_p99_us (how late the client itself sent, p99)  and with --server-pid:
//     rss_kb hwm_kb threads vcsw nvcsw cpu_s kstack_kb
//   vcsw / nvcsw are voluntary / nonvoluntary context switches summed over all threads of the
//   server (/proc/PID/task/*/status), as the difference end - start; cpu_s is utime+stime from
//   /proc/PID/stat, end - start. rss_kb, hwm_kb and threads are read at the end, and so is
//   kstack_kb, KernelStack of /proc/meminfo (machine-wide: compare with a reading taken before
//   the connections were opened to see the kernel stacks of a thread-per-connection server).
//
// hold mode (--hold): after the first PINGs it prints "ready conns=N connect_s=S" and holds the
//   connections open without sending anything until SIGTERM/SIGINT or --hold-max seconds
//   (default 600), then prints "released closed=C" (C = connections the server closed) and exits.
//
// Exit status 0 when every connection was made and (load mode) every request answered.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

constexpr char kPing[] = "*1\r\n$4\r\nPING\r\n";
constexpr int kMaxOutstanding = 8;

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "pingload: %s: %s\n", what, strerror(errno));
  exit(1);
}

struct Conn {
  int fd = -1;
  enum State : uint8_t { kIdle, kConnecting, kOpen, kClosed } state = kIdle;
  uint8_t head = 0, count = 0;  // ring of send times of unanswered requests
  bool line_start = true;
  uint8_t retries = 0;
  uint64_t sent_ns[kMaxOutstanding];
};

struct ServerStats {
  long rss_kb = -1, hwm_kb = -1, threads = -1;
  long long vcsw = 0, nvcsw = 0;
  double cpu_s = 0;
  long kstack_kb = -1;  // KernelStack of /proc/meminfo: the whole machine's kernel stacks
};

long StatusField(const char* text, const char* name) {
  const char* p = strstr(text, name);
  return p ? atol(p + strlen(name)) : -1;
}

bool ReadFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  ssize_t r;
  while ((r = read(fd, buf, sizeof(buf))) > 0) out->append(buf, r);
  close(fd);
  return true;
}

ServerStats ReadServerStats(int pid) {
  ServerStats s;
  std::string text, base = "/proc/" + std::to_string(pid);
  if (ReadFile(base + "/status", &text)) {
    s.rss_kb = StatusField(text.c_str(), "VmRSS:");
    s.hwm_kb = StatusField(text.c_str(), "VmHWM:");
    s.threads = StatusField(text.c_str(), "Threads:");
  }
  if (DIR* dir = opendir((base + "/task").c_str())) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      if (!ReadFile(base + "/task/" + e->d_name + "/status", &text)) continue;
      s.vcsw += std::max(0L, StatusField(text.c_str(), "\nvoluntary_ctxt_switches:"));
      s.nvcsw += std::max(0L, StatusField(text.c_str(), "nonvoluntary_ctxt_switches:"));
    }
    closedir(dir);
  }
  if (ReadFile("/proc/meminfo", &text)) s.kstack_kb = StatusField(text.c_str(), "KernelStack:");
  if (ReadFile(base + "/stat", &text)) {  // fields 14, 15 after the ")" that ends the name
    size_t p = text.rfind(')');
    if (p != std::string::npos) {
      const char* q = text.c_str() + p + 2;
      long long v[15] = {};
      for (int i = 0; i < 13 && *q; ++i) {  // field 3 .. field 15
        v[i] = atoll(q);
        q = strchr(q, ' ');
        if (!q) break;
        ++q;
      }
      s.cpu_s = static_cast<double>(v[11] + v[12]) / sysconf(_SC_CLK_TCK);
    }
  }
  return s;
}

struct Options {
  int port = 0, conns = 1000, server_pid = 0, batch = 256, src_ips = 1;
  double duration = 20, rate = 1, grace = 5, hold_max = 600, connect_timeout = 120;
  bool hold = false;
};

void Usage() {
  fprintf(stderr,
          "usage: pingload --port P [--conns N] [--duration S] [--rate R] [--server-pid PID]\n"
          "                [--grace S] [--connect-batch B] [--src-ips K] [--connect-timeout S]\n"
          "                [--hold [--hold-max S]]\n");
  exit(2);
}

class Load {
 public:
  explicit Load(const Options& o) : o_(o), conns_(o.conns) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) Die("epoll_create1");
    events_.resize(1024);
  }

  // Opens every connection and has each answer one PING. Returns seconds taken.
  double Connect() {
    uint64_t start = NowNs(), deadline = start + static_cast<uint64_t>(o_.connect_timeout * 1e9);
    int next = 0, in_flight = 0, ready = 0;
    while (ready + failed_ < o_.conns) {
      while (next < o_.conns && in_flight < o_.batch) {
        StartConnect(next++);
        ++in_flight;
      }
      if (NowNs() > deadline) {
        fprintf(stderr, "pingload: connect phase timed out (%d of %d ready)\n", ready, o_.conns);
        break;
      }
      int n = epoll_wait(ep_, events_.data(), events_.size(), 100);
      if (n < 0 && errno != EINTR) Die("epoll_wait");
      for (int i = 0; i < n; ++i) {
        int idx = static_cast<int>(events_[i].data.u32);
        Conn& c = conns_[idx];
        if (c.state == Conn::kConnecting) {
          int err = 0;
          socklen_t len = sizeof(err);
          getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            close(c.fd);
            c.state = Conn::kIdle;
            if (++c.retries > 3) {
              fprintf(stderr, "pingload: connect: %s\n", strerror(err));
              ++failed_;
              --in_flight;
            } else {
              StartConnect(idx);
            }
            continue;
          }
          c.state = Conn::kOpen;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u32 = idx;
          epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
          Send(idx, NowNs());
        } else if (c.state == Conn::kOpen) {
          bool was_waiting = c.count > 0;
          OnReadable(idx, /*record=*/false);
          if (was_waiting && c.count == 0) {
            ++ready;
            --in_flight;
          } else if (c.state == Conn::kClosed) {
            ++failed_;
            --in_flight;
          }
        }
      }
    }
    return (NowNs() - start) / 1e9;
  }

  int failed() const { return failed_; }
  long errors() const { return errors_; }
  long closed() const { return closed_; }

  void Run() {
    const uint64_t total = static_cast<uint64_t>(o_.duration * o_.rate * o_.conns);
    const double interval_ns = 1e9 / (o_.rate * o_.conns);
    const uint64_t t0 = NowNs() + 1000000;  // 1 ms from now
    const uint64_t end = t0 + static_cast<uint64_t>(o_.duration * 1e9);
    const uint64_t grace_end = end + static_cast<uint64_t>(o_.grace * 1e9);
    sent_ = 0;  // the first PINGs of Connect() are not counted
    latencies_.reserve(total);
    lags_.reserve(total);
    uint64_t j = 0;
    for (;;) {
      uint64_t now = NowNs();
      while (j < total && t0 + static_cast<uint64_t>(j * interval_ns) <= now) {
        uint64_t due = t0 + static_cast<uint64_t>(j * interval_ns);
        int idx = static_cast<int>(j % o_.conns);
        ++j;
        Conn& c = conns_[idx];
        if (c.state != Conn::kOpen) continue;
        if (c.count == kMaxOutstanding) {
          ++skipped_;
          continue;
        }
        Send(idx, now);
        lags_.push_back(static_cast<uint32_t>((now - due) / 1000));
      }
      if (j >= total && (outstanding_ == 0 || now >= grace_end)) break;
      timespec timeout{0, 0};
      if (j < total) {
        uint64_t due = t0 + static_cast<uint64_t>(j * interval_ns);
        if (due > now)
          timeout.tv_nsec = static_cast<long>(std::min<uint64_t>(due - now, 999999999));
      } else {
        timeout.tv_nsec = 10000000;  // waiting for the last replies
      }
      int n = epoll_pwait2(ep_, events_.data(), events_.size(), &timeout, nullptr);
      if (n < 0 && errno != EINTR) Die("epoll_pwait2");
      for (int i = 0; i < n; ++i) OnReadable(static_cast<int>(events_[i].data.u32), true);
    }
    // Requests still unanswered after the grace period count with their age so far: the
    // percentiles are then lower bounds, not figures from the answered requests only.
    received_ = latencies_.size();
    uint64_t now = NowNs();
    for (Conn& c : conns_) {
      for (int k = 0; k < c.count; ++k) {
        uint64_t age = now - c.sent_ns[(c.head + k) % kMaxOutstanding];
        latencies_.push_back(static_cast<uint32_t>(std::min<uint64_t>(age / 1000, UINT32_MAX)));
      }
    }
  }

  void Hold() {
    uint64_t end = NowNs() + static_cast<uint64_t>(o_.hold_max * 1e9);
    while (!g_stop && NowNs() < end) {
      int n = epoll_wait(ep_, events_.data(), events_.size(), 200);
      if (n < 0 && errno != EINTR) Die("epoll_wait");
      for (int i = 0; i < n; ++i) OnReadable(static_cast<int>(events_[i].data.u32), false);
    }
  }

  void CloseAll() {
    for (Conn& c : conns_)
      if (c.fd >= 0) close(c.fd);
  }

  void PrintLatency() {
    std::sort(latencies_.begin(), latencies_.end());
    std::sort(lags_.begin(), lags_.end());
    auto pct = [](const std::vector<uint32_t>& v, double p) -> uint32_t {
      if (v.empty()) return 0;
      size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
      return v[std::min(i, v.size() - 1)];
    };
    printf(" sent=%llu recv=%zu unanswered=%zu errors=%ld skipped=%ld closed=%ld",
           (unsigned long long)sent_, received_, latencies_.size() - received_, errors_, skipped_,
           closed_);
    printf(" p50_us=%u p90_us=%u p99_us=%u p999_us=%u max_us=%u lag_p99_us=%u",
           pct(latencies_, 0.5), pct(latencies_, 0.9), pct(latencies_, 0.99),
           pct(latencies_, 0.999), latencies_.empty() ? 0 : latencies_.back(), pct(lags_, 0.99));
  }

  uint64_t sent() const { return sent_; }
  size_t received() const { return received_; }

 private:
  void StartConnect(int idx) {
    Conn& c = conns_[idx];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) Die("socket (raise ulimit -n?)");
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (o_.src_ips > 1) {
      setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + idx % o_.src_ips);
      if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) Die("bind");
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o_.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(c.fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    if (rc != 0 && errno != EINPROGRESS) Die("connect");
    c.state = Conn::kConnecting;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u32 = idx;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) Die("epoll_ctl");
  }

  void Send(int idx, uint64_t now) {
    Conn& c = conns_[idx];
    ssize_t w = write(c.fd, kPing, sizeof(kPing) - 1);
    if (w != static_cast<ssize_t>(sizeof(kPing) - 1)) {  // 14 bytes to an idle socket: never short
      ++errors_;
      MarkClosed(c);
      return;
    }
    c.sent_ns[(c.head + c.count) % kMaxOutstanding] = now;
    ++c.count;
    ++outstanding_;
    ++sent_;
  }

  void MarkClosed(Conn& c) {
    if (c.state == Conn::kClosed) return;
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    c.state = Conn::kClosed;
    outstanding_ -= c.count;
    c.count = 0;
    ++closed_;
  }

  // Reads replies; each one is a line: "+PONG\r\n" or an error "-...\r\n".
  void OnReadable(int idx, bool record) {
    Conn& c = conns_[idx];
    char buf[4096];
    ssize_t r = read(c.fd, buf, sizeof(buf));
    if (r <= 0) {
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (closed_ < 3) {
        fprintf(stderr, "pingload: connection %d: %s\n", idx,
                r == 0 ? "closed by the server" : strerror(errno));
      }
      MarkClosed(c);
      return;
    }
    uint64_t now = NowNs();
    for (ssize_t i = 0; i < r; ++i) {
      if (c.line_start && buf[i] == '-') ++errors_;
      c.line_start = buf[i] == '\n';
      if (!c.line_start) continue;
      if (c.count == 0) {
        ++errors_;  // a reply nobody asked for
        continue;
      }
      uint64_t sent = c.sent_ns[c.head];
      c.head = (c.head + 1) % kMaxOutstanding;
      --c.count;
      --outstanding_;
      if (record)
        latencies_.push_back(
            static_cast<uint32_t>(std::min<uint64_t>((now - sent) / 1000, UINT32_MAX)));
    }
  }

  Options o_;
  std::vector<Conn> conns_;
  std::vector<epoll_event> events_;
  std::vector<uint32_t> latencies_, lags_;
  int ep_ = -1, failed_ = 0;
  long errors_ = 0, skipped_ = 0, closed_ = 0, outstanding_ = 0;
  uint64_t sent_ = 0;
  size_t received_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--port")
      o.port = atoi(next());
    else if (a == "--conns")
      o.conns = atoi(next());
    else if (a == "--duration")
      o.duration = atof(next());
    else if (a == "--rate")
      o.rate = atof(next());
    else if (a == "--server-pid")
      o.server_pid = atoi(next());
    else if (a == "--grace")
      o.grace = atof(next());
    else if (a == "--connect-batch")
      o.batch = atoi(next());
    else if (a == "--src-ips")
      o.src_ips = atoi(next());
    else if (a == "--connect-timeout")
      o.connect_timeout = atof(next());
    else if (a == "--hold")
      o.hold = true;
    else if (a == "--hold-max")
      o.hold_max = atof(next());
    else
      Usage();
  }
  if (o.port <= 0 || o.conns <= 0 || o.rate <= 0 || o.duration <= 0 || o.batch <= 0 ||
      o.src_ips <= 0 || o.src_ips > 250)
    Usage();
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < static_cast<rlim_t>(o.conns) + 16) {
      fprintf(stderr, "pingload: open-file limit %llu is too low for %d connections\n",
              (unsigned long long)lim.rlim_cur, o.conns);
      return 1;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  Load load(o);
  double connect_s = load.Connect();
  if (load.failed() > 0) {
    fprintf(stderr, "pingload: %d of %d connections failed\n", load.failed(), o.conns);
    load.CloseAll();
    return 1;
  }
  if (o.hold) {
    printf("ready conns=%d connect_s=%.2f\n", o.conns, connect_s);
    fflush(stdout);
    load.Hold();
    printf("released closed=%ld\n", load.closed());
    load.CloseAll();
    return load.closed() == 0 ? 0 : 1;
  }
  ServerStats before;
  if (o.server_pid > 0) before = ReadServerStats(o.server_pid);
  load.Run();
  ServerStats after;
  if (o.server_pid > 0) after = ReadServerStats(o.server_pid);
  printf("conns=%d connect_s=%.2f", o.conns, connect_s);
  load.PrintLatency();
  if (o.server_pid > 0) {
    printf(" rss_kb=%ld hwm_kb=%ld threads=%ld vcsw=%lld nvcsw=%lld cpu_s=%.2f kstack_kb=%ld",
           after.rss_kb, after.hwm_kb, after.threads, after.vcsw - before.vcsw,
           after.nvcsw - before.nvcsw, after.cpu_s - before.cpu_s, after.kstack_kb);
  }
  printf("\n");
  fflush(stdout);
  load.CloseAll();
  bool ok = load.errors() == 0 && load.closed() == 0 && load.received() == load.sent();
  return ok ? 0 : 1;
}
