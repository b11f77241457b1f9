// BlockingTest: the fixture of the blocking-command integration tests (lists, sorted sets). Each
// instance runs against Shardis with `threads` reactors, or the reference redis-server (0); it
// starts the server, keeps an admin connection, and waits on INFO's blocked_clients so a test can
// order its events deterministically. Also small renderers for expected replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

inline std::string Str(std::string_view s) { return absl::StrCat("str:\"", Escape(s), "\""); }
inline std::string Int(int64_t v) { return absl::StrCat("int:", v); }
inline std::string Arr(const std::vector<std::string>& items) {
  std::string out = "arr:[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    out += items[i];
  }
  return out + "]";
}
inline constexpr char kNil[] = "nil";

// Which server a test instance runs against: Shardis with `threads`, or redis-server (0).
struct Target {
  int threads;
};

class BlockingTest : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    std::string error;
    if (IsRedis()) {
      server_ = StartRedis({}, &error);
    } else {
      server_ = StartShardis(GetParam().threads, {}, &error);
    }
    ASSERT_NE(server_, nullptr) << "cannot start server: " << error;
    admin_ = Connect();
    ASSERT_NE(admin_, nullptr);
  }

  void TearDown() override {
    admin_.reset();
    if (server_ != nullptr && server_->Running()) {
      EXPECT_TRUE(server_->Stop()) << server_->LogTail();
    }
  }

  bool IsRedis() const { return GetParam().threads == 0; }

  std::unique_ptr<Client> Connect() {
    std::string error;
    auto c = Client::Connect(server_->port(), seconds(15), &error);
    EXPECT_NE(c, nullptr) << "connect: " << error;
    return c;
  }

  // INFO clients' blocked_clients, or -1.
  int64_t BlockedClients() {
    ReplyPtr r = admin_->Command({"INFO", "clients"});
    if (r == nullptr || r->type != REDIS_REPLY_STRING) return -1;
    std::string info(r->str, r->len);
    size_t pos = info.find("blocked_clients:");
    if (pos == std::string::npos) return -1;
    size_t end = info.find("\r\n", pos);
    int64_t n = -1;
    if (!absl::SimpleAtoi(info.substr(pos + 16, end - pos - 16), &n)) return -1;
    return n;
  }

  // Waits (up to 10 s) until INFO reports `n` blocked clients.
  bool WaitBlocked(int64_t n) {
    Clock::time_point until = Clock::now() + seconds(10);
    while (Clock::now() < until) {
      if (BlockedClients() == n) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    ADD_FAILURE() << "blocked_clients never reached " << n << " (now " << BlockedClients() << ")";
    return false;
  }

  // Sends a command on c without reading its reply.
  static void Send(Client* c, const std::vector<std::string>& args) {
    ASSERT_TRUE(c->Append(args));
    ASSERT_TRUE(c->Flush());
  }
  static std::string Reply(Client* c) {
    ReplyPtr r = c->GetReply();
    return r == nullptr ? "io-error: " + c->error() : Render(r.get());
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> admin_;
};

// Instantiates a BlockingTest subclass for Shardis with 4 and 1 threads and for redis-server.
#define SHARDIS_INSTANTIATE_BLOCKING_TEST(Suite)                                               \
  INSTANTIATE_TEST_SUITE_P(Servers, Suite, ::testing::Values(Target{4}, Target{1}, Target{0}), \
                           [](const ::testing::TestParamInfo<Target>& info) {                  \
                             return info.param.threads == 0                                    \
                                        ? std::string("Redis")                                 \
                                        : absl::StrCat("Shardis", info.param.threads);         \
                           })

}  // namespace shardis::test
