// TLS context and per-connection transport over OpenSSL (see tls.h). Context building follows
// redis-server 7.0's tlsConfigure(): same parameters, same checks, same log wording.
#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/config.h"
#include "server/logging.h"

namespace shardis {
namespace {

std::string Param(const Config& config, std::string_view name) {
  std::string v;
  config.Get(name, &v);
  return v;
}

// The oldest queued OpenSSL error as text (and the queue emptied, as SSL_get_error needs).
std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

constexpr int kProtoTls1 = 1, kProtoTls11 = 2, kProtoTls12 = 4, kProtoTls13 = 8;

// tls-protocols: a space-separated subset of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 (default: the last
// two). Returns -1 when invalid.
int ParseProtocols(const std::string& text) {
  if (text.empty()) return kProtoTls12 | kProtoTls13;
  int protocols = 0;
  for (absl::string_view p : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::string lower = absl::AsciiStrToLower(p);
    if (lower == "tlsv1") {
      protocols |= kProtoTls1;
    } else if (lower == "tlsv1.1") {
      protocols |= kProtoTls11;
    } else if (lower == "tlsv1.2") {
      protocols |= kProtoTls12;
    } else if (lower == "tlsv1.3") {
      protocols |= kProtoTls13;
    } else {
      return -1;
    }
  }
  return protocols;
}

int PasswordCallback(char* buf, int size, int rwflag, void* userdata) {
  const auto* pass = static_cast<const std::string*>(userdata);
  if (pass == nullptr || pass->empty() || size <= 0) return 0;
  int n = static_cast<int>(pass->size() < static_cast<size_t>(size) ? pass->size() : size);
  memcpy(buf, pass->data(), n);
  return n;
}

}  // namespace

bool IsTlsParam(std::string_view name) {
  return name.size() > 4 && absl::EqualsIgnoreCase(absl::string_view(name.data(), 4), "tls-");
}

int TlsPort(const Config& config) {
  int port = 0;
  return absl::SimpleAtoi(Param(config, "tls-port"), &port) ? port : 0;
}

std::shared_ptr<TlsContext> TlsContext::Create(const Config& config, std::string* error) {
  std::string cert = Param(config, "tls-cert-file");
  std::string key = Param(config, "tls-key-file");
  std::string ca_file = Param(config, "tls-ca-cert-file");
  std::string ca_dir = Param(config, "tls-ca-cert-dir");
  std::string auth = Param(config, "tls-auth-clients");
  if (cert.empty()) {
    *error = "No tls-cert-file configured!";
    return nullptr;
  }
  if (key.empty()) {
    *error = "No tls-key-file configured!";
    return nullptr;
  }
  bool needs_ca = auth != "no" || Param(config, "tls-cluster") == "yes" ||
                  Param(config, "tls-replication") == "yes";
  if (needs_ca && ca_file.empty() && ca_dir.empty()) {
    *error =
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
        "tls-replication or tls-auth-clients are enabled!";
    return nullptr;
  }
  int protocols = ParseProtocols(Param(config, "tls-protocols"));
  if (protocols <= 0) {
    *error = protocols < 0 ? "Invalid tls-protocols specified. Use a combination of 'TLSv1', "
                             "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."
                           : "No protocols specified";
    return nullptr;
  }

  ERR_clear_error();
  std::shared_ptr<TlsContext> result(new TlsContext);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = absl::StrCat("Failed to create SSL_CTX: ", OpenSslError());
    return nullptr;
  }
  result->ctx_ = ctx;
  uint64_t options = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION |
                     SSL_OP_SINGLE_DH_USE | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (!(protocols & kProtoTls1)) options |= SSL_OP_NO_TLSv1;
  if (!(protocols & kProtoTls11)) options |= SSL_OP_NO_TLSv1_1;
  if (!(protocols & kProtoTls12)) options |= SSL_OP_NO_TLSv1_2;
  if (!(protocols & kProtoTls13)) options |= SSL_OP_NO_TLSv1_3;
  if (Param(config, "tls-prefer-server-ciphers") == "yes") {
    options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  }
  SSL_CTX_set_options(ctx, options);
  // Partial writes and a buffer that may move between retries: the reactor's output string grows
  // while a write waits. Idle connections give their 16 KB record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (Param(config, "tls-session-caching") == "yes") {
    long size = 20480, timeout = 300;
    (void)absl::SimpleAtoi(Param(config, "tls-session-cache-size"), &size);
    (void)absl::SimpleAtoi(Param(config, "tls-session-cache-timeout"), &timeout);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, size);
    SSL_CTX_set_timeout(ctx, timeout);
    static const unsigned char kSessionContext[] = "shardis";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  int verify = SSL_VERIFY_NONE;
  if (auth == "yes") verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (auth == "optional") verify = SSL_VERIFY_PEER;
  SSL_CTX_set_verify(ctx, verify, nullptr);

  result->key_pass_ = Param(config, "tls-key-file-pass");
  SSL_CTX_set_default_passwd_cb(ctx, PasswordCallback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, &result->key_pass_);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) <= 0) {
    *error = absl::StrCat("Failed to load certificate: ", cert, ": ", OpenSslError());
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) <= 0) {
    *error = absl::StrCat("Failed to load private key: ", key, ": ", OpenSslError());
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = absl::StrCat("Failed to load private key: ", key, ": ", OpenSslError());
    return nullptr;
  }
  if ((!ca_file.empty() || !ca_dir.empty()) &&
      SSL_CTX_load_verify_locations(ctx, ca_file.empty() ? nullptr : ca_file.c_str(),
                                    ca_dir.empty() ? nullptr : ca_dir.c_str()) <= 0) {
    *error = absl::StrCat("Failed to configure CA certificate(s) file/directory: ", OpenSslError());
    return nullptr;
  }
  if (!ca_file.empty()) {
    // Tell clients which CAs we accept (lets a client with several certificates pick one).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    ERR_clear_error();
  }
  std::string dh_file = Param(config, "tls-dh-params-file");
  if (!dh_file.empty()) {
    BIO* bio = BIO_new_file(dh_file.c_str(), "r");
    if (bio == nullptr) {
      *error = absl::StrCat("Failed to load ", dh_file, ": ", strerror(errno));
      ERR_clear_error();
      return nullptr;
    }
    EVP_PKEY* dh = PEM_read_bio_Parameters(bio, nullptr);
    BIO_free(bio);
    if (dh == nullptr) {
      *error = absl::StrCat("Failed to load DH params file: ", dh_file, ": ", OpenSslError());
      return nullptr;
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) <= 0) {
      EVP_PKEY_free(dh);
      *error = absl::StrCat("Failed to load DH params file: ", dh_file, ": ", OpenSslError());
      return nullptr;
    }
  } else {
    SSL_CTX_set_dh_auto(ctx, 1);
  }
  std::string ciphers = Param(config, "tls-ciphers");
  if (!ciphers.empty() && !SSL_CTX_set_cipher_list(ctx, ciphers.c_str())) {
    *error = absl::StrCat("Failed to configure ciphers: ", ciphers);
    ERR_clear_error();
    return nullptr;
  }
  std::string suites = Param(config, "tls-ciphersuites");
  if (!suites.empty() && !SSL_CTX_set_ciphersuites(ctx, suites.c_str())) {
    *error = absl::StrCat("Failed to configure ciphersuites: ", suites);
    ERR_clear_error();
    return nullptr;
  }
  return result;
}

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

std::unique_ptr<TlsConn> TlsConn::Accept(const TlsContext& context, int fd) {
  SSL* ssl = SSL_new(context.ctx());
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    Log(LogLevel::kWarning, "Error creating TLS connection: %s", OpenSslError());
    if (ssl != nullptr) SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  std::unique_ptr<TlsConn> conn(new TlsConn);
  conn->ssl_ = ssl;
  return conn;
}

TlsConn::~TlsConn() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

ssize_t TlsConn::Fail(int ret, bool reading) {
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      if (!reading) write_wants_read_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      if (reading) read_wants_write_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify (or an EOF, with SSL_OP_IGNORE_UNEXPECTED_EOF)
      failed_ = true;
      failed_errno_ = 0;
      ERR_clear_error();
      return reading ? 0 : (errno = EPIPE, -1);
    case SSL_ERROR_SYSCALL: {
      if (errno == EINTR) {
        ERR_clear_error();
        errno = EAGAIN;  // level-triggered epoll reports the socket again
        return -1;
      }
      int saved = errno != 0 && errno != EAGAIN ? errno : ECONNRESET;
      ERR_clear_error();
      failed_ = true;
      failed_errno_ = saved;
      errno = saved;
      return -1;
    }
    default: {
      std::string text = OpenSslError();
      Log(LogLevel::kVerbose, "Error %s TLS connection: %s",
          handshake_done_ ? (reading ? "reading from" : "writing to") : "accepting a client", text);
      failed_ = true;
      failed_errno_ = EPROTO;
      errno = EPROTO;
      return -1;
    }
  }
}

ssize_t TlsConn::Read(char* buf, size_t len) {
  read_wants_write_ = false;
  if (failed_) {
    if (failed_errno_ == 0) return 0;
    errno = failed_errno_;
    return -1;
  }
  if (!handshake_done_) {
    errno = 0;
    int r = SSL_do_handshake(ssl_);
    if (r != 1) return Fail(r, /*reading=*/true);
    handshake_done_ = true;
  }
  size_t total = 0;
  while (total < len) {
    size_t chunk = len - total;
    if (chunk > INT_MAX) chunk = INT_MAX;
    errno = 0;
    int r = SSL_read(ssl_, buf + total, static_cast<int>(chunk));
    if (r > 0) {
      total += r;
      continue;
    }
    ssize_t f = Fail(r, /*reading=*/true);
    if (total == 0) return f;
    break;  // the bytes first; a fatal error is remembered (failed_) for the next call
  }
  return static_cast<ssize_t>(total);
}

ssize_t TlsConn::Write(const char* buf, size_t len) {
  write_wants_read_ = false;
  if (failed_) {
    errno = failed_errno_ != 0 ? failed_errno_ : EPIPE;
    return -1;
  }
  if (!handshake_done_) {  // nothing is written before the client spoke; wait for it
    errno = EAGAIN;
    return -1;
  }
  if (len > INT_MAX) len = INT_MAX;
  errno = 0;
  int r = SSL_write(ssl_, buf, static_cast<int>(len));
  if (r > 0) return r;
  return Fail(r, /*reading=*/false);
}

bool TlsConn::HasPending() const { return !failed_ && SSL_pending(ssl_) > 0; }

void TlsConn::Shutdown() {
  if (failed_ || !handshake_done_) return;
  errno = 0;
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
  failed_ = true;
}

}  // namespace shardis
