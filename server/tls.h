// TLS (OpenSSL): the server context built from the tls-* parameters, and the TLS transport of
// one connection.
//
// TlsContext wraps one SSL_CTX. It is built on one thread (startup, or the CONFIG SET client's
// thread, which validates it before anything changes) and then shared read-only by every reactor
// through a shared_ptr: OpenSSL allows SSL_new() on one SSL_CTX from many threads, and one shared
// session cache lets a client resume its session whichever reactor the kernel hands it to. A
// CONFIG SET of a tls-* parameter builds a new context; connections already open keep theirs
// (each SSL holds a reference to its SSL_CTX).
//
// TlsConn is the transport of one connection, owned by it and used only on its reactor thread.
// Read() and Write() follow read()/send()'s contract, so the reactor's plain path stays a direct
// system call and a TLS connection costs one branch per call: > 0 bytes moved; 0 (Read) the peer
// closed; -1 with errno EAGAIN when it must wait for the socket, or another errno when the
// connection is broken. The handshake runs inside Read(). OpenSSL's SSL_ERROR_WANT_WRITE during
// a read (or WANT_READ during a write) sets a flag telling the reactor which epoll event to wait
// for before retrying. Buffers are released while idle (SSL_MODE_RELEASE_BUFFERS).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace shardis {

class Config;

class TlsContext {
 public:
  // Builds the context from the tls-* parameters of `config` (cert, key, CA, protocols, ciphers,
  // session caching, DH params, client authentication). On failure returns nullptr and sets
  // *error to Redis's log wording (e.g. "No tls-cert-file configured!").
  static std::shared_ptr<TlsContext> Create(const Config& config, std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* ctx() const { return ctx_; }

 private:
  TlsContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::string key_pass_;  // tls-key-file-pass, for OpenSSL's password callback
};

// True for the parameters that make up the TLS context (tls-port included: enabling TLS needs
// a context).
bool IsTlsParam(std::string_view name);
// The configured tls-port (0: TLS is off).
int TlsPort(const Config& config);

class TlsConn {
 public:
  // A server-side TLS connection on socket `fd` (not owned), or nullptr (error logged).
  static std::unique_ptr<TlsConn> Accept(const TlsContext& ctx, int fd);
  ~TlsConn();
  TlsConn(const TlsConn&) = delete;
  TlsConn& operator=(const TlsConn&) = delete;

  // Handshake first, then decrypted bytes into buf (as many records as fit).
  ssize_t Read(char* buf, size_t len);
  ssize_t Write(const char* buf, size_t len);
  // Decrypted bytes already buffered by OpenSSL: epoll will not report them.
  bool HasPending() const;
  // Sends close_notify when the session is healthy (never waits).
  void Shutdown();

  bool handshake_done() const { return handshake_done_; }
  // The last Read() (or handshake) waits for the socket to be writable.
  bool read_wants_write() const { return read_wants_write_; }
  // The last Write() waits for the socket to be readable.
  bool write_wants_read() const { return write_wants_read_; }
  bool in_pending_list = false;  // the reactor's list of connections with buffered input

 private:
  TlsConn() = default;
  // Maps a failed SSL call's result to errno (EAGAIN and a want flag, or a fatal errno).
  ssize_t Fail(int ret, bool reading);

  ssl_st* ssl_ = nullptr;
  bool handshake_done_ = false;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  bool failed_ = false;  // fatal error seen: no more I/O, no close_notify
  int failed_errno_ = 0;
};

}  // namespace shardis
