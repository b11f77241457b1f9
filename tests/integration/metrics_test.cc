// The Prometheus endpoint (--metrics-port): GET /metrics over a plain socket gives a valid text
// exposition (every sample's family declared once by # HELP / # TYPE before its samples, valid
// names and labels) with INFO's figures, per-command counters and latency histograms; other
// paths get 404, other methods 405; Redis clients are served meanwhile.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// Sends `request` to 127.0.0.1:port and reads until the server closes (bounded: 5 s of silence,
// 16 MB).
std::string HttpExchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return "connect-failed";
  }
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[65536];
  while (out.size() < (16u << 20)) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, n);
  }
  close(fd);
  return out;
}

std::string Get(int port, const std::string& path) {
  return HttpExchange(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

std::string Body(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (AgainstRedis()) GTEST_SKIP() << "Shardis only";
    metrics_port_ = PickFreePort();
    std::string error;
    server_ = StartShardis(2, {"--metrics-port", std::to_string(metrics_port_)}, &error);
    ASSERT_NE(server_, nullptr) << error;
    client_ = Client::Connect(server_->port());
    ASSERT_NE(client_, nullptr);
  }
  int metrics_port_ = 0;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(MetricsTest, ExpositionIsValidAndComplete) {
  for (int i = 0; i < 50; ++i) client_->Run({"SET", "key" + std::to_string(i), "v"});
  for (int i = 0; i < 20; ++i) client_->Run({"GET", "key" + std::to_string(i)});
  client_->Run({"HSET", "h", "f", "v"});
  client_->Run({"GET"});                // rejected (arity)
  client_->Run({"HGET", "key1", "x"});  // wrong type
  client_->Run({"CONFIG", "GET", "port"});

  std::string response = Get(metrics_port_, "/metrics");
  ASSERT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response.substr(0, 200);
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  std::string body = Body(response);
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body.back(), '\n');

  // Every line: a comment (# HELP / # TYPE) or a sample of a declared family.
  static const std::regex kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|\+Inf|NaN))");
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::map<std::string, std::string> values;  // sample line without value -> value
  std::string current;                        // the family whose samples may follow
  std::istringstream in(body);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      EXPECT_TRUE(helped.insert(m[1]).second) << "HELP twice: " << line;
      continue;
    }
    if (std::regex_match(line, m, kType)) {
      EXPECT_TRUE(types.emplace(m[1], m[2]).second) << "TYPE twice: " << line;
      current = m[1];
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, kSample)) << "bad line: " << line;
    std::string name = m[1];
    std::string family = name;
    if (types.count(name) == 0) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (name.ends_with(suffix)) family = name.substr(0, name.size() - strlen(suffix));
      }
    }
    EXPECT_EQ(family, current) << "sample outside its family block: " << line;
    ++samples;
    size_t sp = line.rfind(' ');
    values[line.substr(0, sp)] = line.substr(sp + 1);
  }
  EXPECT_GT(samples, 50);

  EXPECT_EQ(types["shardis_connected_clients"], "gauge");
  EXPECT_EQ(types["shardis_total_commands_processed_total"], "counter");
  EXPECT_EQ(types["shardis_used_memory"], "gauge");
  EXPECT_EQ(types["shardis_uptime_in_seconds"], "gauge");
  EXPECT_EQ(types["shardis_rdb_changes_since_last_save"], "gauge");
  EXPECT_EQ(types["shardis_used_cpu_user_total"], "counter");
  EXPECT_EQ(types["shardis_db_keys"], "gauge");
  EXPECT_EQ(types["shardis_thread_connections"], "gauge");
  EXPECT_EQ(types["shardis_command_calls_total"], "counter");
  EXPECT_EQ(types["shardis_command_latency_usec"], "histogram");
  EXPECT_EQ(types["shardis_server_info"], "gauge");

  EXPECT_EQ(values["shardis_db_keys{db=\"0\"}"], "51");
  EXPECT_EQ(values["shardis_command_calls_total{cmd=\"set\"}"], "50");
  EXPECT_EQ(values["shardis_command_calls_total{cmd=\"get\"}"], "20");
  EXPECT_EQ(values["shardis_command_rejected_calls_total{cmd=\"get\"}"], "1");
  EXPECT_TRUE(values.count("shardis_command_failed_calls_total{cmd=\"hget\"}"));
  EXPECT_EQ(values["shardis_command_calls_total{cmd=\"config|get\"}"], "1");
  EXPECT_EQ(values["shardis_command_latency_usec_count{cmd=\"set\"}"], "50");
  EXPECT_EQ(values["shardis_command_latency_usec_bucket{cmd=\"set\",le=\"+Inf\"}"], "50");
  EXPECT_TRUE(values.count("shardis_command_latency_usec_sum{cmd=\"set\"}"));
  EXPECT_TRUE(values.count("shardis_thread_connections{thread=\"1\"}"));
  // Buckets are cumulative.
  int64_t last = 0;
  for (int b = 0; b < 31; ++b) {
    std::string key = "shardis_command_latency_usec_bucket{cmd=\"get\",le=\"" +
                      std::to_string(int64_t{1} << b) + "\"}";
    ASSERT_TRUE(values.count(key)) << key;
    int64_t v = std::stoll(values[key]);
    EXPECT_GE(v, last);
    last = v;
  }
  EXPECT_LE(last, 20);
  EXPECT_EQ(client_->Run({"PING"}), "status:\"PONG\"");
}

TEST_F(MetricsTest, OtherPathsAndMethods) {
  EXPECT_TRUE(Get(metrics_port_, "/").starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(Get(metrics_port_, "/metricsx").starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(Get(metrics_port_, "/metrics?x=1").starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(HttpExchange(metrics_port_, "POST /metrics HTTP/1.1\r\n\r\n")
                  .starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_TRUE(HttpExchange(metrics_port_, "garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
  std::string head = HttpExchange(metrics_port_, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(Body(head), "");
  // An endless header is cut off.
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a');
  EXPECT_TRUE(HttpExchange(metrics_port_, big).starts_with("HTTP/1.1 431"));
  EXPECT_EQ(client_->Run({"PING"}), "status:\"PONG\"");
}

TEST_F(MetricsTest, ManyScrapersWhileServingRedis) {
  // Scrapers connected at once (some idle), interleaved with Redis traffic.
  std::vector<int> idle;
  for (int i = 0; i < 20; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(metrics_port_);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    send(fd, "GET /met", 8, MSG_NOSIGNAL);  // an unfinished request
    idle.push_back(fd);
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client_->Run({"SET", "x", std::to_string(i)}), "status:\"OK\"");
    EXPECT_TRUE(Get(metrics_port_, "/metrics").starts_with("HTTP/1.1 200 OK\r\n"));
  }
  EXPECT_EQ(client_->Run({"GET", "x"}), "str:\"9\"");
  for (int fd : idle) close(fd);
  EXPECT_TRUE(Get(metrics_port_, "/metrics").starts_with("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace shardis::test
