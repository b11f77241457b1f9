// Implementation of the integration-test support library (see test_server.h): child server
// processes, free ports, hiredis and raw RESP clients, reply renderings and a shell runner.
#include "tests/test_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#ifndef SHARDIS_SERVER_PATH
#define SHARDIS_SERVER_PATH "shardis-server"
#endif

namespace shardis::test {

namespace {

using Clock = std::chrono::steady_clock;

// Debian's absl has its own string_view type (not std::string_view).
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
using std::chrono::milliseconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Closes every descriptor >= 3 in a forked child (async-signal-safe).
void CloseInheritedFds() {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  for (int fd = 3; fd < 65536; ++fd) close(fd);
}

const char* EnvOr(const char* name, const char* fallback) {
  const char* v = getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

// Sets the socket to non-blocking; returns the fd or -1.
int ConnectLoopback(int port, milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return -1;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// One PING over a fresh connection; true on +PONG.
bool PingOnce(int port, milliseconds timeout) {
  int fd = ConnectLoopback(port, timeout);
  if (fd < 0) return false;
  bool ok = false;
  const char kPing[] = "*1\r\n$4\r\nPING\r\n";
  if (send(fd, kPing, sizeof(kPing) - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(kPing) - 1)) {
    std::string got;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline && got.size() < 7) {
      pollfd p{fd, POLLIN, 0};
      int left = static_cast<int>(
          std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count());
      if (poll(&p, 1, std::max(left, 1)) != 1) break;
      char buf[64];
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ok = got.rfind("+PONG\r\n", 0) == 0;
  }
  close(fd);
  return ok;
}

// Inodes of listening sockets on `port` from one /proc/net/tcp{,6} file.
void ListeningInodes(const std::string& path, int port, std::vector<std::string>* inodes) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.size() < 10 || f[3] != "0A") continue;
    size_t colon = f[1].rfind(':');
    if (colon == std::string::npos) continue;
    int p = static_cast<int>(strtol(f[1].c_str() + colon + 1, nullptr, 16));
    if (p == port) inodes->push_back(f[9]);
  }
}

std::string RenderImpl(const redisReply* r, bool sorted) {
  if (r == nullptr) return "io-error";
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return absl::StrCat("str:\"", Escape(std::string_view(r->str, r->len)), "\"");
    case REDIS_REPLY_STATUS:
      return absl::StrCat("status:\"", Escape(std::string_view(r->str, r->len)), "\"");
    case REDIS_REPLY_ERROR:
      return absl::StrCat("err:\"", Escape(std::string_view(r->str, r->len)), "\"");
    case REDIS_REPLY_INTEGER:
      return absl::StrCat("int:", r->integer);
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_ARRAY: {
      std::vector<std::string> parts;
      parts.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) parts.push_back(RenderImpl(r->element[i], sorted));
      if (sorted) std::sort(parts.begin(), parts.end());
      return absl::StrCat("arr:[", absl::StrJoin(parts, ","), "]");
    }
    default:
      return absl::StrCat("unknown-type:", r->type);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Environment and processes.

bool AgainstRedis() {
  const char* v = getenv("SHARDIS_TEST_AGAINST_REDIS");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = getenv(name);
  int64_t out;
  if (v == nullptr || !absl::SimpleAtoi(v, &out)) return fallback;
  return out;
}

std::string ShardisServerPath() { return EnvOr("SHARDIS_SERVER_BIN", SHARDIS_SERVER_PATH); }
std::string RedisServerPath() { return EnvOr("REDIS_SERVER_BIN", "/usr/bin/redis-server"); }

std::string ShardisLabel() { return AgainstRedis() ? "redis-server (as shardis)" : "shardis"; }

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string MakeTempDir(std::string_view prefix) {
  std::string tmpl = absl::StrCat(EnvOr("TMPDIR", "/tmp"), "/", AV(prefix), "-XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "";
  return std::string(buf.data());
}

void RemoveTree(const std::string& path) {
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool PidListensOn(pid_t pid, int port) {
  std::vector<std::string> inodes;
  ListeningInodes("/proc/net/tcp", port, &inodes);
  ListeningInodes("/proc/net/tcp6", port, &inodes);
  if (inodes.empty()) return false;
  std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (dirent* e = readdir(dir)) {
    char target[256];
    std::string link = absl::StrCat(fd_dir, "/", e->d_name);
    ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    std::string_view t(target, static_cast<size_t>(n));
    for (const std::string& inode : inodes) {
      if (t == absl::StrCat("socket:[", inode, "]")) found = true;
    }
    if (found) break;
  }
  closedir(dir);
  return found;
}

ServerProcess::~ServerProcess() {
  Stop();
  const char* keep = getenv("SHARDIS_TEST_KEEP_LOGS");
  if (keep == nullptr || *keep == '\0' || std::string_view(keep) == "0") RemoveTree(dir_);
}

bool ServerProcess::Start(const std::string& binary, const std::vector<std::string>& args, int port,
                          milliseconds ready_timeout) {
  binary_ = binary;
  port_ = port;
  if (dir_.empty()) dir_ = MakeTempDir("shardis-test");
  if (dir_.empty()) {
    error_ = absl::StrCat("mkdtemp failed: ", strerror(errno));
    return false;
  }
  if (access(binary.c_str(), X_OK) != 0) {
    error_ = absl::StrCat("binary not executable: ", binary);
    return false;
  }
  // Everything the child needs is prepared before fork (only async-signal-safe calls after).
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log = log_path();
  {
    std::ofstream out(log, std::ios::app);
    out << "### " << RenderCommand(argv_storage) << "\n";
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    error_ = absl::StrCat("fork failed: ", strerror(errno));
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    int logfd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    int nullfd = open("/dev/null", O_RDONLY);
    if (logfd < 0 || nullfd < 0) _exit(125);
    dup2(nullfd, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    CloseInheritedFds();
    if (chdir(dir_.c_str()) != 0) _exit(124);
    execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  reaped_ = false;
  killed_by_us_ = false;
  wait_status_ = 0;
  if (!WaitReady(ready_timeout)) {
    Stop(milliseconds(3000));
    return false;
  }
  return true;
}

bool ServerProcess::WaitReady(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!Running()) {
      error_ = absl::StrCat(binary_, " exited during startup (", DescribeExit(), ")");
      return false;
    }
    if (PingOnce(port_, milliseconds(500))) {
      if (PidListensOn(pid_, port_)) return true;
      // Someone else answers on this port; ours may still be starting or may have failed.
      if (!Running()) {
        error_ = absl::StrCat(binary_, " exited during startup (", DescribeExit(), ")");
        return false;
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  error_ = absl::StrFormat("%s did not answer PING on port %d within %d ms", binary_, port_,
                           static_cast<int>(timeout.count()));
  return false;
}

bool ServerProcess::Reap(bool block) {
  if (pid_ <= 0 || reaped_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    wait_status_ = status;
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    reaped_ = true;
    wait_status_ = 0;
    return true;
  }
  return false;
}

bool ServerProcess::Running() {
  if (pid_ <= 0) return false;
  return !Reap(false);
}

bool ServerProcess::Signal(int signal) {
  if (!Running()) return false;
  return kill(pid_, signal) == 0;
}

bool ServerProcess::WaitForExit(milliseconds timeout) {
  if (pid_ <= 0) return true;
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (Reap(false)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

bool ServerProcess::Stop(milliseconds timeout) {
  if (pid_ <= 0) return true;
  if (reaped_) return !killed_by_us_;
  if (Running()) kill(pid_, SIGTERM);
  if (!WaitForExit(timeout)) {
    kill(pid_, SIGKILL);
    killed_by_us_ = true;
    Reap(true);
  }
  return !killed_by_us_;
}

bool ServerProcess::exited() const { return reaped_ && WIFEXITED(wait_status_); }
int ServerProcess::exit_code() const { return exited() ? WEXITSTATUS(wait_status_) : -1; }
int ServerProcess::term_signal() const {
  return reaped_ && WIFSIGNALED(wait_status_) ? WTERMSIG(wait_status_) : 0;
}

std::string ServerProcess::DescribeExit() const {
  if (pid_ <= 0) return "not started";
  if (!reaped_) return "running";
  if (exited()) return absl::StrCat("exit code ", exit_code());
  if (term_signal() != 0) {
    return absl::StrCat("killed by signal ", term_signal(), " (", strsignal(term_signal()), ")",
                        killed_by_us_ ? " sent by the test after the stop timeout" : "");
  }
  return absl::StrCat("wait status ", wait_status_);
}

std::string ServerProcess::Log() const { return ReadFile(log_path()); }

std::string ServerProcess::LogTail(size_t max_bytes) const {
  std::string log = Log();
  if (log.size() > max_bytes) log = "..." + log.substr(log.size() - max_bytes);
  return log;
}

namespace {

std::unique_ptr<ServerProcess> StartWithRetry(
    const std::string& binary, const std::function<std::vector<std::string>(int)>& make_args,
    std::string* error) {
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int port = PickFreePort();
    if (port <= 0) {
      last_error = "no free port";
      continue;
    }
    auto proc = std::make_unique<ServerProcess>();
    if (proc->Start(binary, make_args(port), port)) return proc;
    last_error = absl::StrCat(proc->error(), "\n--- log ---\n", proc->LogTail());
  }
  if (error != nullptr) *error = last_error;
  fprintf(stderr, "server start failed: %s\n", last_error.c_str());
  return nullptr;
}

}  // namespace

std::unique_ptr<ServerProcess> StartRedis(const std::vector<std::string>& extra_args,
                                          std::string* error) {
  return StartWithRetry(
      RedisServerPath(),
      [&](int port) {
        std::vector<std::string> args = {
            "--port", absl::StrCat(port), "--bind", "127.0.0.1",   "--save",
            "",       "--appendonly",     "no",     "--daemonize", "no"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        return args;
      },
      error);
}

std::unique_ptr<ServerProcess> StartShardis(int threads, const std::vector<std::string>& extra_args,
                                            std::string* error) {
  if (AgainstRedis()) return StartRedis({}, error);
  return StartWithRetry(
      ShardisServerPath(),
      [&](int port) {
        std::vector<std::string> args = {
            "--port", absl::StrCat(port), "--threads",   absl::StrCat(threads),
            "--bind", "127.0.0.1",        "--pin=false", "--save",
            ""};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        return args;
      },
      error);
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

ShellResult RunShell(const std::string& command, const std::string& input, milliseconds timeout) {
  ShellResult result;
  std::string dir = MakeTempDir("shardis-shell");
  if (dir.empty()) {
    result.err = "mkdtemp failed";
    return result;
  }
  std::string in_path = dir + "/stdin", out_path = dir + "/stdout", err_path = dir + "/stderr";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  pid_t pid = fork();
  if (pid < 0) {
    result.err = "fork failed";
    RemoveTree(dir);
    return result;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(125);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    CloseInheritedFds();
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) break;
    if (Clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  RemoveTree(dir);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Renderings.

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += absl::StrFormat("\\x%02x", c);
        }
    }
  }
  return out;
}

std::string Render(const redisReply* reply) { return RenderImpl(reply, false); }
std::string RenderSet(const redisReply* reply) { return RenderImpl(reply, true); }

std::string RenderCommand(const std::vector<std::string>& args) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < args.size(); ++i) {
    bool plain = i == 0 && !args[i].empty();
    for (char c : args[i]) {
      if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') plain = false;
    }
    parts.push_back(plain ? args[i] : absl::StrCat("\"", Escape(args[i]), "\""));
  }
  return absl::StrJoin(parts, " ");
}

std::string RespValue::Render() const {
  auto join = [this](std::string_view open, std::string_view close) {
    std::vector<std::string> parts;
    for (const RespValue& e : elems) parts.push_back(e.Render());
    return absl::StrCat(AV(open), absl::StrJoin(parts, ","), AV(close));
  };
  switch (type) {
    case Type::kSimple:
      return absl::StrCat("status:\"", Escape(str), "\"");
    case Type::kError:
    case Type::kBlobError:
      return absl::StrCat("err:\"", Escape(str), "\"");
    case Type::kInteger:
      return absl::StrCat("int:", integer);
    case Type::kBulk:
      return absl::StrCat("str:\"", Escape(str), "\"");
    case Type::kNull:
      return "nil";
    case Type::kArray:
      return join("arr:[", "]");
    case Type::kSet:
      return join("set:[", "]");
    case Type::kPush:
      return join("push:[", "]");
    case Type::kMap:
    case Type::kAttribute: {
      std::vector<std::string> parts;
      for (size_t i = 0; i + 1 < elems.size(); i += 2) {
        parts.push_back(absl::StrCat(elems[i].Render(), "=>", elems[i + 1].Render()));
      }
      return absl::StrCat(type == Type::kMap ? "map:{" : "attr:{", absl::StrJoin(parts, ","), "}");
    }
    case Type::kDouble:
      return absl::StrCat("double:\"", Escape(str), "\"");
    case Type::kBool:
      return integer != 0 ? "bool:true" : "bool:false";
    case Type::kVerbatim:
      return absl::StrCat("verb:\"", Escape(str), "\"");
    case Type::kBigNumber:
      return absl::StrCat("big:\"", Escape(str), "\"");
  }
  return "unknown";
}

const RespValue* RespValue::Find(std::string_view key) const {
  if (type != Type::kMap) return nullptr;
  for (size_t i = 0; i + 1 < elems.size(); i += 2) {
    if ((elems[i].type == Type::kBulk || elems[i].type == Type::kSimple) && elems[i].str == key) {
      return &elems[i + 1];
    }
  }
  return nullptr;
}

int64_t ParseResp(std::string_view buf, RespValue* out) {
  if (buf.empty()) return 0;
  size_t eol = buf.find("\r\n");
  if (eol == std::string_view::npos) return 0;
  char tag = buf[0];
  std::string_view line = buf.substr(1, eol - 1);
  int64_t consumed = static_cast<int64_t>(eol + 2);
  using T = RespValue::Type;
  auto parse_len = [&](int64_t* n) { return absl::SimpleAtoi(AV(line), n); };
  switch (tag) {
    case '+':
      out->type = T::kSimple;
      out->str = std::string(line);
      return consumed;
    case '-':
      out->type = T::kError;
      out->str = std::string(line);
      return consumed;
    case ':':
      out->type = T::kInteger;
      return absl::SimpleAtoi(AV(line), &out->integer) ? consumed : -1;
    case ',':
      out->type = T::kDouble;
      out->str = std::string(line);
      return consumed;
    case '(':
      out->type = T::kBigNumber;
      out->str = std::string(line);
      return consumed;
    case '_':
      out->type = T::kNull;
      return line.empty() ? consumed : -1;
    case '#':
      out->type = T::kBool;
      if (line != "t" && line != "f") return -1;
      out->integer = line == "t" ? 1 : 0;
      return consumed;
    case '$':
    case '=':
    case '!': {
      int64_t n;
      if (!parse_len(&n)) return -1;
      if (n < 0) {
        out->type = T::kNull;
        return consumed;
      }
      if (buf.size() < static_cast<size_t>(consumed + n + 2)) return 0;
      if (buf.substr(static_cast<size_t>(consumed + n), 2) != "\r\n") return -1;
      out->type = tag == '$' ? T::kBulk : tag == '=' ? T::kVerbatim : T::kBlobError;
      out->str = std::string(buf.substr(static_cast<size_t>(consumed), static_cast<size_t>(n)));
      return consumed + n + 2;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      int64_t n;
      if (!parse_len(&n)) return -1;
      if (n < 0) {
        out->type = T::kNull;
        return consumed;
      }
      out->type = tag == '*'   ? T::kArray
                  : tag == '~' ? T::kSet
                  : tag == '>' ? T::kPush
                  : tag == '%' ? T::kMap
                               : T::kAttribute;
      int64_t count = (tag == '%' || tag == '|') ? 2 * n : n;
      out->elems.clear();
      out->elems.reserve(static_cast<size_t>(std::min<int64_t>(count, 1 << 20)));
      for (int64_t i = 0; i < count; ++i) {
        RespValue child;
        int64_t used = ParseResp(buf.substr(static_cast<size_t>(consumed)), &child);
        if (used <= 0) return used;
        consumed += used;
        out->elems.push_back(std::move(child));
      }
      return consumed;
    }
    default:
      return -1;
  }
}

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (const std::string& a : args) absl::StrAppend(&out, "$", a.size(), "\r\n", a, "\r\n");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Clients.

std::unique_ptr<Client> Client::Connect(int port, milliseconds timeout, std::string* error) {
  return ConnectTo("127.0.0.1", port, timeout, error);
}

std::unique_ptr<Client> Client::ConnectUnix(const std::string& path, milliseconds timeout,
                                            std::string* error) {
  return ConnectTo(path, -1, timeout, error);
}

std::unique_ptr<Client> Client::ConnectTo(const std::string& where, int port, milliseconds timeout,
                                          std::string* error) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  redisContext* ctx = port < 0 ? redisConnectUnixWithTimeout(where.c_str(), tv)
                               : redisConnectWithTimeout(where.c_str(), port, tv);
  if (ctx == nullptr || ctx->err != 0) {
    if (error != nullptr) *error = ctx == nullptr ? "allocation failed" : ctx->errstr;
    if (ctx != nullptr) redisFree(ctx);
    return nullptr;
  }
  redisSetTimeout(ctx, tv);
  fcntl(ctx->fd, F_SETFD, FD_CLOEXEC);
  return std::unique_ptr<Client>(new Client(ctx));
}

Client::~Client() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::string Client::error() const {
  if (ctx_ == nullptr) return "no context";
  if (ctx_->err == 0) return "";
  return absl::StrCat("hiredis error ", ctx_->err, ": ", ctx_->errstr);
}

bool Client::Append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data()) ==
         REDIS_OK;
}

ReplyPtr Client::GetReply() {
  void* reply = nullptr;
  if (redisGetReply(ctx_, &reply) != REDIS_OK) return nullptr;
  return ReplyPtr(static_cast<redisReply*>(reply));
}

bool Client::Flush() {
  int done = 0;
  while (!done) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return false;
  }
  return true;
}

ReplyPtr Client::Command(const std::vector<std::string>& args) {
  if (ctx_ == nullptr || ctx_->err != 0) return nullptr;
  if (!Append(args)) return nullptr;
  return GetReply();
}

std::string Client::Run(const std::vector<std::string>& args) {
  ReplyPtr r = Command(args);
  return Render(r.get());
}

std::unique_ptr<RawConnection> RawConnection::Connect(int port, std::string* error) {
  int fd = ConnectLoopback(port, milliseconds(5000));
  if (fd < 0) {
    if (error != nullptr) *error = absl::StrCat("connect to port ", port, " failed");
    return nullptr;
  }
  return std::unique_ptr<RawConnection>(new RawConnection(fd));
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (Clock::now() >= deadline) return false;
      pollfd p{fd_, POLLOUT, 0};
      poll(&p, 1, 100);
      continue;
    }
    return false;
  }
  return true;
}

bool RawConnection::SendCommand(const std::vector<std::string>& args) {
  return Send(EncodeCommand(args));
}

bool RawConnection::Fill(milliseconds timeout) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  int rc = poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout.count(), 0)));
  if (rc <= 0) return false;
  char buf[65536];
  ssize_t n = recv(fd_, buf, sizeof(buf), 0);
  if (n > 0) {
    buf_.append(buf, static_cast<size_t>(n));
    return true;
  }
  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) eof_ = true;
  return false;
}

std::optional<RespValue> RawConnection::Read(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    RespValue v;
    int64_t used = ParseResp(buf_, &v);
    if (used < 0) {
      malformed_ = true;
      return std::nullopt;
    }
    if (used > 0) {
      last_raw_ = buf_.substr(0, static_cast<size_t>(used));
      buf_.erase(0, static_cast<size_t>(used));
      return v;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || eof_) return std::nullopt;
    Fill(left);
  }
}

std::string RawConnection::Run(const std::vector<std::string>& args) {
  if (!SendCommand(args)) return "io-error";
  std::optional<RespValue> v = Read();
  return v ? v->Render() : "io-error";
}

bool RawConnection::WaitClosed(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    Fill(left);
  }
  return true;
}

void RawConnection::ReadFor(milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return;
    Fill(left);
  }
}

std::string InfoField(Client& c, const std::string& name, const std::string& section) {
  ReplyPtr r = c.Command({"INFO", section});
  if (r == nullptr || r->type != REDIS_REPLY_STRING) return "";
  std::string text(r->str, r->len);
  std::string key = name + ":";
  size_t pos = text.find(key);
  if (pos == std::string::npos || (pos > 0 && text[pos - 1] != '\n')) return "";
  size_t end = text.find("\r\n", pos);
  return text.substr(pos + key.size(), end - pos - key.size());
}

int64_t InfoInt(Client& c, const std::string& name, const std::string& section) {
  int64_t value = -1;
  return absl::SimpleAtoi(InfoField(c, name, section), &value) ? value : -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace shardis::test
