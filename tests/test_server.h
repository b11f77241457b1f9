// Integration-test support: free loopback ports, a child server process (Shardis or the reference
// redis-server) that is started, probed with PING and stopped by pid, a hiredis client wrapper,
// a raw RESP2/RESP3 socket client, canonical text renderings of replies for comparisons, and a
// shell-command runner for redis-cli / redis-benchmark.
//
// Environment switches:
//   SHARDIS_TEST_AGAINST_REDIS=1  StartShardis() starts redis-server instead (to validate tests).
//   SHARDIS_SERVER_BIN=path       overrides the shardis-server binary (default
//   SHARDIS_SERVER_PATH). REDIS_SERVER_BIN=path         overrides the reference redis-server
//   binary. SHARDIS_TEST_KEEP_LOGS=1      keeps each server's temp dir (log file) after the test.
//
// Server processes are tied to the thread that forked them (PR_SET_PDEATHSIG): start them from
// the test's main thread.
#pragma once

#include <hiredis/hiredis.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace shardis::test {

// ---------------------------------------------------------------------------------------------
// Environment and processes.

// True when SHARDIS_TEST_AGAINST_REDIS is set to a non-empty value other than "0".
bool AgainstRedis();
// Integer value of an environment variable, or `fallback` when unset or not a number.
int64_t EnvInt(const char* name, int64_t fallback);
// Path of the shardis-server binary and of the reference redis-server.
std::string ShardisServerPath();
std::string RedisServerPath();

// A loopback port that was free a moment ago (bind to port 0 and read it back).
int PickFreePort();
// Creates a fresh directory under $TMPDIR (or /tmp); returns its path.
std::string MakeTempDir(std::string_view prefix);
// Removes a directory tree (best effort).
void RemoveTree(const std::string& path);

// True when process `pid` owns a listening TCP socket on `port` (from /proc/net/tcp{,6}).
bool PidListensOn(pid_t pid, int port);

// A server binary run as a child process. Its stdout and stderr go to <temp dir>/server.log.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();  // stops the process if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Forks and execs `binary` with `args` (not including argv[0]), then waits until a PING on
  // 127.0.0.1:`port` gets +PONG and the process listens on that port, up to `ready_timeout`.
  // On failure returns false, sets error() and leaves the process stopped.
  bool Start(const std::string& binary, const std::vector<std::string>& args, int port,
             std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));

  // Sends SIGTERM, waits up to `timeout`, then SIGKILLs. Returns true when the process exited
  // by itself (not SIGKILLed by us). Idempotent.
  bool Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends `signal` to the process (e.g. SIGTERM), without waiting.
  bool Signal(int signal);
  // Waits until the process exits by itself (e.g. after SHUTDOWN). False on timeout.
  bool WaitForExit(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reaps the process if it has exited; true while it still runs.
  bool Running();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& binary() const { return binary_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  std::string log_path() const { return dir_ + "/server.log"; }
  // The whole log, and its last `max_bytes` bytes (for failure messages).
  std::string Log() const;
  std::string LogTail(size_t max_bytes = 4000) const;

  // Exit status, valid after the process has been reaped.
  bool reaped() const { return reaped_; }
  bool exited() const;      // exited normally (not by a signal)
  int exit_code() const;    // -1 unless exited()
  int term_signal() const;  // 0 unless killed by a signal
  bool killed_by_us() const { return killed_by_us_; }
  // e.g. "exit code 0", "killed by signal 9 (SIGKILL by the test)", "running".
  std::string DescribeExit() const;

 private:
  bool WaitReady(std::chrono::milliseconds timeout);
  bool Reap(bool block);

  std::string binary_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  int wait_status_ = 0;
  bool killed_by_us_ = false;
  std::string error_;
};

// Starts shardis-server --port P --threads N --bind 127.0.0.1 --pin=false --save '' (no snapshot
// schedule, as StartRedis) plus `extra_args` (a later --save adds points) on a
// free port (retrying with another port when startup fails). With SHARDIS_TEST_AGAINST_REDIS
// it starts the reference redis-server instead and ignores `threads` and `extra_args`.
// Returns nullptr on failure and writes why into *error when given.
std::unique_ptr<ServerProcess> StartShardis(int threads,
                                            const std::vector<std::string>& extra_args = {},
                                            std::string* error = nullptr);
// Starts redis-server --port P --bind 127.0.0.1 --save '' --appendonly no plus `extra_args`.
std::unique_ptr<ServerProcess> StartRedis(const std::vector<std::string>& extra_args = {},
                                          std::string* error = nullptr);
// Name of what StartShardis() starts, for messages: "shardis" or "redis-server (as shardis)".
std::string ShardisLabel();

// Output of a shell command.
struct ShellResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `command` with /bin/sh -c, feeding `input` on stdin, bounded by `timeout` (the process
// group is SIGKILLed after it).
ShellResult RunShell(const std::string& command, const std::string& input = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(120));
// Quotes a string for /bin/sh.
std::string ShellQuote(std::string_view s);

// ---------------------------------------------------------------------------------------------
// Replies and their renderings.

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Escapes bytes for display: printable ASCII as is, \" \\ \r \n \t, others as \xHH.
std::string Escape(std::string_view s);
// Canonical type-tagged rendering: str:"abc", status:"OK", int:5, nil, err:"ERR ...",
// arr:[int:1,str:"x"]. A null reply pointer renders as "io-error".
std::string Render(const redisReply* reply);
// Like Render, but the elements of every array are sorted (recursively), for replies whose
// order is unspecified (KEYS, SMEMBERS...).
std::string RenderSet(const redisReply* reply);
// Renders a command line for messages: SET "k" "v".
std::string RenderCommand(const std::vector<std::string>& args);

// A RESP value parsed by RawConnection (covers RESP2 and RESP3).
struct RespValue {
  enum class Type {
    kSimple,     // +
    kError,      // -
    kInteger,    // :
    kBulk,       // $
    kNull,       // $-1, *-1, _
    kArray,      // *
    kMap,        // %
    kSet,        // ~
    kDouble,     // ,
    kBool,       // #
    kVerbatim,   // =
    kBigNumber,  // (
    kPush,       // >
    kBlobError,  // !
    kAttribute,  // |
  };
  Type type = Type::kNull;
  std::string str;               // simple/error/bulk/double/verbatim/bignumber text
  int64_t integer = 0;           // integer, bool (0/1)
  std::vector<RespValue> elems;  // arrays, sets, pushes; maps as k1,v1,k2,v2...

  // Same tags as Render() for the RESP2 types; map:{k=>v,...}, set:[...], double:"1.5",
  // bool:true, verb:"txt:...", big:"...", push:[...].
  std::string Render() const;
  // For maps: the value for a bulk/simple-string key, or nullptr.
  const RespValue* Find(std::string_view key) const;
};

// Parses one RESP value from the front of `buf`. Returns the number of bytes consumed, 0 when
// more bytes are needed, or -1 on a malformed stream.
int64_t ParseResp(std::string_view buf, RespValue* out);

// ---------------------------------------------------------------------------------------------
// Clients.

// A blocking hiredis connection (RESP2).
class Client {
 public:
  // Connects to 127.0.0.1:port with `timeout` for the connect and for every read/write.
  // Returns nullptr on failure (and sets *error when given).
  static std::unique_ptr<Client> Connect(
      int port, std::chrono::milliseconds timeout = std::chrono::seconds(10),
      std::string* error = nullptr);
  // The same through a Unix socket.
  static std::unique_ptr<Client> ConnectUnix(
      const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(10),
      std::string* error = nullptr);
  ~Client();

  // Sends a command and reads its reply. nullptr on an I/O error (see error()).
  ReplyPtr Command(const std::vector<std::string>& args);
  // Command() rendered with Render(); "io-error" on I/O errors.
  std::string Run(const std::vector<std::string>& args);
  // Pipelining: Append() queues a command in the output buffer; GetReply() flushes the buffer
  // (on its first call) and reads the next reply.
  bool Append(const std::vector<std::string>& args);
  ReplyPtr GetReply();
  // Sends everything appended so far without reading.
  bool Flush();

  bool ok() const { return ctx_ != nullptr && ctx_->err == 0; }
  std::string error() const;
  redisContext* ctx() { return ctx_; }
  int fd() const { return ctx_ == nullptr ? -1 : ctx_->fd; }

 private:
  explicit Client(redisContext* ctx) : ctx_(ctx) {}
  // Unix socket `where` when port < 0, else host `where` and TCP port `port`.
  static std::unique_ptr<Client> ConnectTo(const std::string& where, int port,
                                           std::chrono::milliseconds timeout, std::string* error);
  redisContext* ctx_;
};

// A raw TCP connection that sends arbitrary bytes and parses RESP2/RESP3 replies itself
// (hiredis 0.14 does not speak RESP3). Every wait is bounded.
class RawConnection {
 public:
  static std::unique_ptr<RawConnection> Connect(int port, std::string* error = nullptr);
  ~RawConnection();

  bool Send(std::string_view bytes);
  // Sends a command encoded as a RESP array of bulk strings.
  bool SendCommand(const std::vector<std::string>& args);
  // Reads and parses the next value. nullopt on timeout, EOF or a malformed stream (see
  // eof()/malformed()).
  std::optional<RespValue> Read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SendCommand + Read, rendered; "io-error" on failure.
  std::string Run(const std::vector<std::string>& args);
  // Waits until the peer closes the connection; true when EOF (or a reset) was seen within
  // `timeout`. Bytes received before it are kept in pending().
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads whatever arrives within `timeout` into pending() (without parsing).
  void ReadFor(std::chrono::milliseconds timeout);

  bool eof() const { return eof_; }
  bool malformed() const { return malformed_; }
  const std::string& pending() const { return buf_; }
  // The raw bytes of the value returned by the last successful Read().
  const std::string& last_raw() const { return last_raw_; }
  int fd() const { return fd_; }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  // Reads once (waiting up to `timeout`); false on EOF/error/timeout.
  bool Fill(std::chrono::milliseconds timeout);

  int fd_;
  std::string buf_;
  std::string last_raw_;
  bool eof_ = false;
  bool malformed_ = false;
};

// Encodes a command as a RESP array of bulk strings.
std::string EncodeCommand(const std::vector<std::string>& args);

// The value of INFO field `name` ("" when absent), read from `section`.
std::string InfoField(Client& c, const std::string& name,
                      const std::string& section = "everything");

// Polls `pred` every 20 ms until it holds; false if it still does not after `timeout`.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  for (auto waited = std::chrono::milliseconds(0); waited < timeout;
       waited += std::chrono::milliseconds(20)) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// The same as an integer (-1 when absent or not a number).
int64_t InfoInt(Client& c, const std::string& name, const std::string& section = "everything");

// A whole file's bytes ("" when it cannot be read).
std::string ReadAll(const std::string& path);

}  // namespace shardis::test
