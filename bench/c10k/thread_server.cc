// bench/c10k/thread_server.cc: the design Shardis is NOT, for comparison. One blocking thread per
// connection (default 8 MiB stack, a 4 KiB read buffer on it), answering "+PONG\r\n" to every
// complete command it reads: an inline line ("PING\r\n") or a RESP array ("*1\r\n$4\r\nPING\r\n").
// Only PING is sent to it, so the command name is not looked at. Not part of the main build.
// Usage: thread_server PORT   (listens on 127.0.0.1)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

// Length of the first complete command in buf[0..n), 0 if incomplete.
static size_t CommandLength(const char* buf, size_t n) {
  const char* nl = static_cast<const char*>(memchr(buf, '\n', n));
  if (!nl) return 0;
  size_t pos = nl - buf + 1;
  if (buf[0] != '*') return pos;  // inline command: one line
  long items = atol(buf + 1);
  for (long i = 0; i < items; ++i) {  // each item: "$LEN\r\n" then LEN bytes and "\r\n"
    nl = static_cast<const char*>(memchr(buf + pos, '\n', n - pos));
    if (!nl) return 0;
    size_t len = atol(buf + pos + 1);
    pos = nl - buf + 1 + len + 2;
    if (pos > n) return 0;
  }
  return pos;
}

static void Serve(int fd) {
  char buf[4096];
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - have);
    if (r <= 0) break;
    have += r;
    std::string out;
    size_t len;
    while (have > 0 && (len = CommandLength(buf, have)) > 0) {
      out += "+PONG\r\n";
      memmove(buf, buf + len, have - len);
      have -= len;
    }
    if (have == sizeof(buf)) break;  // a command larger than the buffer: not for this server
    if (!out.empty() && write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size()))
      break;
  }
  close(fd);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  rlimit lim;  // as the real servers do: soft open-file limit up to the hard one
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(atoi(argv[1]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(lfd, 4096) != 0) {
    perror("bind/listen");
    return 1;
  }
  for (;;) {
    int fd = accept(lfd, nullptr, nullptr);
    if (fd < 0) {  // e.g. EMFILE: do not spin
      usleep(1000);
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::thread(Serve, fd).detach();
  }
}
