// TLS end to end (issue #7): a CA, a server certificate and client certificates are made at test
// time with the openssl CLI; redis-cli --tls and a small blocking OpenSSL client (Debian's
// hiredis has no hiredis_ssl) talk to the tls-port while the plain port keeps working. Covers
// tls-auth-clients yes/no/optional, a plain-text client on the TLS port, pipelined 1 MB values
// on keys of both threads, pub/sub, session resumption, tls-protocols and CONFIG SET of tls-*
// (context reload, tls-port move). With SHARDIS_TEST_AGAINST_REDIS=1 the same tests run against
// redis-server (built with TLS) to validate them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

std::string g_dir;  // certificates of the whole suite
bool g_have_certs = false;

std::string CertPath(const std::string& name) { return g_dir + "/" + name; }

// A blocking TLS client over loopback; every wait is bounded by socket timeouts.
class TlsClient {
 public:
  struct Options {
    bool cert = true;                  // present the suite's client certificate
    std::string cert_name = "client";  // client.crt/.key or rogue.crt/.key
    int max_version = 0;               // e.g. TLS1_2_VERSION
    SSL_SESSION* session = nullptr;    // resume this session
  };

  static std::unique_ptr<TlsClient> Connect(int port, const Options& options, std::string* error) {
    std::unique_ptr<TlsClient> c(new TlsClient);
    c->ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_load_verify_locations(c->ctx_, CertPath("ca.crt").c_str(), nullptr);
    if (options.max_version != 0) SSL_CTX_set_max_proto_version(c->ctx_, options.max_version);
    if (options.cert) {
      SSL_CTX_use_certificate_file(c->ctx_, CertPath(options.cert_name + ".crt").c_str(),
                                   SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(c->ctx_, CertPath(options.cert_name + ".key").c_str(),
                                  SSL_FILETYPE_PEM);
    }
    c->fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{10, 0};
    setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      *error = "connect failed";
      return nullptr;
    }
    c->ssl_ = SSL_new(c->ctx_);
    SSL_set_fd(c->ssl_, c->fd_);
    if (options.session != nullptr) SSL_set_session(c->ssl_, options.session);
    if (SSL_connect(c->ssl_) != 1) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
      *error = absl::StrCat("handshake failed: ", buf);
      ERR_clear_error();
      return nullptr;
    }
    return c;
  }

  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) {
        ERR_clear_error();
        return false;
      }
      bytes.remove_prefix(n);
    }
    return true;
  }

  // The next RESP value, or nullopt on EOF, error or timeout.
  std::optional<RespValue> Read() {
    for (int reads = 0; reads < 100000; ++reads) {
      RespValue v;
      int64_t used = ParseResp(buf_, &v);
      if (used < 0) return std::nullopt;
      if (used > 0) {
        buf_.erase(0, used);
        return v;
      }
      char chunk[16384];
      int n = SSL_read(ssl_, chunk, sizeof(chunk));
      if (n <= 0) {
        ERR_clear_error();
        return std::nullopt;
      }
      buf_.append(chunk, n);
    }
    return std::nullopt;
  }

  std::string Run(const std::vector<std::string>& args) {
    if (!Send(EncodeCommand(args))) return "io-error";
    auto v = Read();
    return v ? v->Render() : "io-error";
  }

  SSL* ssl() { return ssl_; }

 private:
  TlsClient() = default;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buf_;
};

// PING over TLS: "status:\"PONG\"", or what went wrong.
std::string TlsPing(int port, const TlsClient::Options& options = {}) {
  std::string error;
  auto c = TlsClient::Connect(port, options, &error);
  if (c == nullptr) return error;
  return c->Run({"PING"});
}

// redis-cli --tls against `port`; `cert`: with the client certificate.
ShellResult Cli(int port, bool cert, const std::string& args, const std::string& input = "") {
  std::string cmd = absl::StrCat("redis-cli -p ", port, " --tls --cacert ", CertPath("ca.crt"));
  if (cert) {
    absl::StrAppend(&cmd, " --cert ", CertPath("client.crt"), " --key ", CertPath("client.key"));
  }
  absl::StrAppend(&cmd, " ", args, " 2>&1");
  return RunShell(cmd, input, std::chrono::seconds(30));
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_dir = MakeTempDir("tls-certs");
    // A CA, a server certificate for localhost/127.0.0.1, a client certificate it signed, and a
    // client certificate from another (untrusted) CA.
    std::string script = R"(set -e
      gen() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -subj "/CN=$2" -keyout $1.key -out $1.csr 2>/dev/null; }
      openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 2 -subj "/CN=Test CA" -keyout ca.key -out ca.crt 2>/dev/null
      openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 2 -subj "/CN=Rogue CA" -keyout rogue-ca.key -out rogue-ca.crt 2>/dev/null
      gen server localhost; gen client client; gen rogue rogue
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
      openssl x509 -req -sha256 -days 2 -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -extfile san.ext -out server.crt 2>/dev/null
      openssl x509 -req -sha256 -days 2 -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt 2>/dev/null
      openssl x509 -req -sha256 -days 2 -in rogue.csr -CA rogue-ca.crt -CAkey rogue-ca.key -CAcreateserial -out rogue.crt 2>/dev/null
    )";
    ShellResult r =
        RunShell(absl::StrCat("cd ", ShellQuote(g_dir), " && sh -c ", ShellQuote(script)));
    g_have_certs = r.exit_code == 0;
    if (!g_have_certs) fprintf(stderr, "openssl failed: %s\n", r.err.c_str());
  }
  static void TearDownTestSuite() { RemoveTree(g_dir); }

  void SetUp() override {
    if (!g_have_certs) GTEST_SKIP() << "no openssl CLI";
  }

  // Starts a server with TLS on tls_port_ (and the plain port for readiness).
  void Start(int threads, std::vector<std::string> extra = {}) {
    tls_port_ = PickFreePort();
    std::vector<std::string> args = {
        "--tls-port",     absl::StrCat(tls_port_), "--tls-cert-file",    CertPath("server.crt"),
        "--tls-key-file", CertPath("server.key"),  "--tls-ca-cert-file", CertPath("ca.crt")};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = AgainstRedis() ? StartRedis(args, &error) : StartShardis(threads, args, &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  std::unique_ptr<Client> Plain() {
    auto c = Client::Connect(server_->port());
    EXPECT_NE(c, nullptr);
    return c;
  }

  int tls_port_ = 0;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(TlsTest, RedisCliWithClientCertAndThePlainPortAlongside) {
  Start(2);
  EXPECT_EQ(Cli(tls_port_, true, "PING").out, "PONG\n");
  EXPECT_EQ(Cli(tls_port_, true, "SET greeting hello").out, "OK\n");
  EXPECT_EQ(Cli(tls_port_, true, "GET greeting").out, "hello\n");
  // Keys of both threads, set over TLS, read on the plain port.
  std::string input;
  for (int i = 0; i < 40; ++i) absl::StrAppend(&input, "SET key:", i, " value:", i, "\n");
  ShellResult r = Cli(tls_port_, true, "", input);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(plain->Run({"GET", absl::StrCat("key:", i)}), absl::StrFormat("str:\"value:%d\"", i));
  }
  EXPECT_EQ(plain->Run({"GET", "greeting"}), "str:\"hello\"");
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");
}

TEST_F(TlsTest, AuthClientsYesRefusesClientsWithoutTrustedCert) {
  Start(1);
  ShellResult r = Cli(tls_port_, false, "PING");
  EXPECT_EQ(r.out.find("PONG"), std::string::npos) << r.out;
  TlsClient::Options no_cert;
  no_cert.cert = false;
  EXPECT_NE(TlsPing(tls_port_, no_cert), "status:\"PONG\"");
  TlsClient::Options rogue;
  rogue.cert_name = "rogue";
  EXPECT_NE(TlsPing(tls_port_, rogue), "status:\"PONG\"");
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");
  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->Run({"PING"}), "status:\"PONG\"");
}

TEST_F(TlsTest, AuthClientsNoAndOptional) {
  Start(1, {"--tls-auth-clients", "optional"});
  TlsClient::Options no_cert;
  no_cert.cert = false;
  TlsClient::Options rogue;
  rogue.cert_name = "rogue";
  EXPECT_EQ(Cli(tls_port_, false, "PING").out, "PONG\n");
  EXPECT_EQ(TlsPing(tls_port_, no_cert), "status:\"PONG\"");
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");
  EXPECT_NE(TlsPing(tls_port_, rogue), "status:\"PONG\"");  // a certificate is still verified

  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-auth-clients", "no"}), "status:\"OK\"");
  EXPECT_EQ(plain->Run({"CONFIG", "GET", "tls-auth-clients"}),
            "arr:[str:\"tls-auth-clients\",str:\"no\"]");
  EXPECT_EQ(TlsPing(tls_port_, no_cert), "status:\"PONG\"");
  EXPECT_EQ(TlsPing(tls_port_, rogue), "status:\"PONG\"");  // not even looked at
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-auth-clients", "yes"}), "status:\"OK\"");
  EXPECT_NE(TlsPing(tls_port_, no_cert), "status:\"PONG\"");
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");
}

TEST_F(TlsTest, PlainTextClientOnTheTlsPortIsDropped) {
  Start(2);
  for (int i = 0; i < 4; ++i) {  // whichever thread the kernel picks
    auto raw = RawConnection::Connect(tls_port_);
    ASSERT_NE(raw, nullptr);
    raw->Send("PING\r\n");
    EXPECT_TRUE(raw->WaitClosed(std::chrono::seconds(10)));
    EXPECT_EQ(raw->pending().find("PONG"), std::string::npos);
  }
  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->Run({"PING"}), "status:\"PONG\"");
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");
}

TEST_F(TlsTest, PipelinedLargeValuesOnKeysOfEveryThread) {
  Start(2);
  std::string error;
  auto c = TlsClient::Connect(tls_port_, {}, &error);
  ASSERT_NE(c, nullptr) << error;
  constexpr int kKeys = 8;
  constexpr size_t kSize = 1 << 20;
  std::vector<std::string> values;
  std::string pipeline;
  for (int i = 0; i < kKeys; ++i) {
    std::string v(kSize, static_cast<char>('a' + i));
    for (size_t j = 0; j < kSize; j += 4099) v[j] = static_cast<char>('0' + (j / 4099) % 10);
    values.push_back(v);
    pipeline += EncodeCommand({"SET", absl::StrCat("big:", i), v});
  }
  for (int i = 0; i < kKeys; ++i) pipeline += EncodeCommand({"GET", absl::StrCat("big:", i)});
  pipeline += EncodeCommand({"STRLEN", "big:3"});
  ASSERT_TRUE(c->Send(pipeline));
  for (int i = 0; i < kKeys; ++i) {
    auto v = c->Read();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->Render(), "status:\"OK\"");
  }
  for (int i = 0; i < kKeys; ++i) {
    auto v = c->Read();
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->type, RespValue::Type::kBulk);
    EXPECT_TRUE(v->str == values[i]) << "value " << i << " differs";
  }
  EXPECT_EQ(c->Run({"PING"}), absl::StrCat("int:", kSize));  // STRLEN's reply comes first
  auto last = c->Read();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->Render(), "status:\"PONG\"");
  // The plain port sees the same data.
  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->Run({"STRLEN", "big:7"}), absl::StrCat("int:", kSize));
}

TEST_F(TlsTest, PubSubOverTls) {
  Start(2);
  std::string error;
  auto sub = TlsClient::Connect(tls_port_, {}, &error);
  ASSERT_NE(sub, nullptr) << error;
  EXPECT_EQ(sub->Run({"SUBSCRIBE", "news"}), "arr:[str:\"subscribe\",str:\"news\",int:1]");
  EXPECT_EQ(sub->Run({"PSUBSCRIBE", "n*"}), "arr:[str:\"psubscribe\",str:\"n*\",int:2]");
  auto pub = TlsClient::Connect(tls_port_, {}, &error);
  ASSERT_NE(pub, nullptr) << error;
  EXPECT_EQ(pub->Run({"PUBLISH", "news", "over tls"}), "int:2");
  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->Run({"PUBLISH", "news", "from plain"}), "int:2");
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) {
    auto v = sub->Read();
    got.push_back(v ? v->Render() : "io-error");
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "arr:[str:\"message\",str:\"news\",str:\"over tls\"]",
                     "arr:[str:\"pmessage\",str:\"n*\",str:\"news\",str:\"over tls\"]",
                     "arr:[str:\"message\",str:\"news\",str:\"from plain\"]",
                     "arr:[str:\"pmessage\",str:\"n*\",str:\"news\",str:\"from plain\"]"}));
}

TEST_F(TlsTest, SessionResumption) {
  Start(2);
  std::string error;
  auto first = TlsClient::Connect(tls_port_, {}, &error);
  ASSERT_NE(first, nullptr) << error;
  EXPECT_EQ(first->Run({"PING"}), "status:\"PONG\"");  // TLS 1.3 tickets come after the handshake
  SSL_SESSION* session = SSL_get1_session(first->ssl());
  ASSERT_NE(session, nullptr);
  for (int i = 0; i < 4; ++i) {  // whichever thread accepts it
    TlsClient::Options options;
    options.session = session;
    auto again = TlsClient::Connect(tls_port_, options, &error);
    ASSERT_NE(again, nullptr) << error;
    EXPECT_EQ(again->Run({"PING"}), "status:\"PONG\"");
    EXPECT_EQ(SSL_session_reused(again->ssl()), 1);
  }
  SSL_SESSION_free(session);
}

TEST_F(TlsTest, ConfigSetReloadsTheContext) {
  Start(2);
  auto plain = Plain();
  ASSERT_NE(plain, nullptr);
  // A context that does not load refuses the change; TLS goes on with the old one.
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-cert-file", "/nonexistent/server.crt"}),
            "err:\"ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable "
            "to update TLS configuration. Check server logs.\"");
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-protocols", "TLSv1.4"}),
            "err:\"ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - Unable "
            "to update TLS configuration. Check server logs.\"");
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-auth-clients", "no", "tls-ciphers", "NO-SUCH"}),
            "err:\"ERR CONFIG SET failed (possibly related to argument 'tls-ciphers') - Unable "
            "to update TLS configuration. Check server logs.\"");
  EXPECT_EQ(plain->Run({"CONFIG", "GET", "tls-cert-file"}),
            absl::StrCat("arr:[str:\"tls-cert-file\",str:\"", CertPath("server.crt"), "\"]"));
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");

  // tls-protocols: a TLS 1.2 client is refused once only TLS 1.3 is allowed.
  TlsClient::Options tls12;
  tls12.max_version = TLS1_2_VERSION;
  EXPECT_EQ(TlsPing(tls_port_, tls12), "status:\"PONG\"");
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-protocols", "TLSv1.3"}), "status:\"OK\"");
  EXPECT_NE(TlsPing(tls_port_, tls12), "status:\"PONG\"");
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");

  // A connection opened before a change keeps working.
  std::string error;
  auto old = TlsClient::Connect(tls_port_, {}, &error);
  ASSERT_NE(old, nullptr) << error;
  // A port another socket holds: refused, the listeners and tls-port stay.
  int busy_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sa_len = sizeof(sa);
  ASSERT_EQ(bind(busy_fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(busy_fd, 1), 0);
  getsockname(busy_fd, reinterpret_cast<sockaddr*>(&sa), &sa_len);
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-port", absl::StrCat(ntohs(sa.sin_port))}),
            "err:\"ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to "
            "listen on this port. Check server logs.\"");
  close(busy_fd);
  EXPECT_EQ(plain->Run({"CONFIG", "GET", "tls-port"}),
            absl::StrCat("arr:[str:\"tls-port\",str:\"", tls_port_, "\"]"));
  EXPECT_EQ(TlsPing(tls_port_), "status:\"PONG\"");
  // tls-port moves the listeners.
  int moved = PickFreePort();
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-port", absl::StrCat(moved)}), "status:\"OK\"");
  EXPECT_EQ(TlsPing(moved), "status:\"PONG\"");
  EXPECT_NE(TlsPing(tls_port_), "status:\"PONG\"");
  EXPECT_EQ(Cli(moved, true, "PING").out, "PONG\n");
  EXPECT_EQ(old->Run({"PING"}), "status:\"PONG\"");
  // tls-port 0 closes them.
  EXPECT_EQ(plain->Run({"CONFIG", "SET", "tls-port", "0"}), "status:\"OK\"");
  EXPECT_NE(TlsPing(moved), "status:\"PONG\"");
  EXPECT_EQ(old->Run({"PING"}), "status:\"PONG\"");
}

TEST_F(TlsTest, TlsOnlyWithPortZero) {
  int tls_port = PickFreePort();
  std::string bin = AgainstRedis() ? RedisServerPath() : ShardisServerPath();
  std::string extra = AgainstRedis() ? "" : " --threads 2 --pin no";
  std::string cli =
      absl::StrCat("redis-cli -p ", tls_port, " --tls --cacert ", CertPath("ca.crt"), " --cert ",
                   CertPath("client.crt"), " --key ", CertPath("client.key"));
  // The server runs in this shell only, and is stopped by its pid.
  std::string script =
      absl::StrCat(ShellQuote(bin), " --port 0 --bind 127.0.0.1 --save '' --tls-port ", tls_port,
                   " --tls-cert-file ", CertPath("server.crt"), " --tls-key-file ",
                   CertPath("server.key"), " --tls-ca-cert-file ", CertPath("ca.crt"), extra, " >",
                   g_dir, "/tls-only.log 2>&1 & pid=$!\n", "ok=0; for i in $(seq 200); do if ", cli,
                   " PING 2>/dev/null | grep -q PONG; then ok=1; break; fi; sleep 0.05; done\n",
                   cli, " CONFIG GET port\n", "kill $pid; wait $pid; echo ok=$ok\n");
  ShellResult r = RunShell(script, "", std::chrono::seconds(60));
  EXPECT_NE(r.out.find("port\n0\n"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("ok=1"), std::string::npos) << r.out << r.err;
}

TEST_F(TlsTest, BadTlsSetupStopsTheServerAtStartup) {
  int port = PickFreePort();
  std::vector<std::string> args = {"--port",
                                   absl::StrCat(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--tls-port",
                                   absl::StrCat(PickFreePort()),
                                   "--tls-cert-file",
                                   "/nonexistent/server.crt",
                                   "--tls-key-file",
                                   CertPath("server.key"),
                                   "--tls-ca-cert-file",
                                   CertPath("ca.crt")};
  if (!AgainstRedis()) args.insert(args.end(), {"--threads", "1", "--pin", "no"});
  ServerProcess p;
  EXPECT_FALSE(p.Start(AgainstRedis() ? RedisServerPath() : ShardisServerPath(), args, port,
                       std::chrono::seconds(5)));
  std::string log = p.Log();
  EXPECT_NE(log.find("Failed to load certificate: /nonexistent/server.crt"), std::string::npos)
      << log;
  EXPECT_NE(log.find("Failed to configure TLS. Check logs for more info."), std::string::npos)
      << log;
}

}  // namespace
}  // namespace shardis::test
