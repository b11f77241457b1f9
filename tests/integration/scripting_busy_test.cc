// Busy scripts (busy-reply-threshold / lua-time-limit): a script running past the threshold
// lets other clients in, who get BUSY for ordinary commands and may stop it with SCRIPT KILL /
// FUNCTION KILL (refused with UNKILLABLE once it wrote; not caught by the script's pcall) or
// SHUTDOWN NOSAVE. The same scenario
// runs against shardis-server (--threads 1 and 4) and the reference redis-server, and the
// replies must match. Waits are bounded polls on replies, never sleeps that assume timing.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const char kNotBusy[] = "err:\"NOTBUSY No scripts in execution right now.\"";

// Sends `args` on `c` until the reply is not NOTBUSY (the script became busy), bounded.
std::string UntilBusy(RawConnection& c, const std::vector<std::string>& args) {
  std::string reply;
  for (int i = 0; i < 1000; ++i) {
    reply = c.Run(args);
    if (reply != kNotBusy) return reply;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return reply;
}

struct Outcome {
  std::vector<std::string> replies;
};

// The scenario; `check_busy_reply` is false when other clients may live on other threads
// (then their ordinary commands are not checked for BUSY).
Outcome RunScenario(ServerProcess& server, bool check_busy_reply) {
  Outcome out;
  std::string error;
  auto admin = RawConnection::Connect(server.port(), &error);
  auto runner = RawConnection::Connect(server.port(), &error);
  EXPECT_TRUE(admin && runner) << error;
  if (!admin || !runner) return out;
  out.replies.push_back(admin->Run({"CONFIG", "SET", "busy-reply-threshold", "50"}));
  out.replies.push_back(admin->Run({"FUNCTION", "LOAD",
                                    "#!lua name=spin\nredis.register_function('spin', "
                                    "function() while true do end end)"}));

  // An EVAL stopped by SCRIPT KILL.
  runner->SendCommand({"EVAL", "local i = 0\nwhile true do i = i + 1 end", "1", "{t}x"});
  out.replies.push_back(UntilBusy(*admin, {"SCRIPT", "KILL"}));
  auto reply = runner->Read(seconds(20));
  out.replies.push_back(reply ? reply->Render() : "timeout");
  out.replies.push_back(runner->Run({"PING"}));

  // A script that catches errors with pcall (around redis.call) is stopped all the same.
  runner->SendCommand({"EVAL",
                       "local f = function() while 1 do redis.call('ping') end end\n"
                       "local g = function() while 1 do pcall(f) end end\n"
                       "while 1 do pcall(g) end",
                       "0"});
  out.replies.push_back(UntilBusy(*admin, {"SCRIPT", "KILL"}));
  reply = runner->Read(seconds(20));
  out.replies.push_back(reply ? reply->Render() : "timeout");
  out.replies.push_back(runner->Run({"PING"}));

  // A function: SCRIPT KILL is refused, FUNCTION KILL works; others get BUSY meanwhile.
  runner->SendCommand({"FCALL", "spin", "1", "{t}x"});
  out.replies.push_back(UntilBusy(*admin, {"SCRIPT", "KILL"}));
  if (check_busy_reply) {
    auto other = RawConnection::Connect(server.port(), &error);
    EXPECT_TRUE(other) << error;
    if (other) {
      out.replies.push_back(other->Run({"GET", "{t}x"}));
      out.replies.push_back(other->Run({"MULTI"}));  // allow-busy commands still run
    }
  }
  out.replies.push_back(admin->Run({"FUNCTION", "KILL"}));
  reply = runner->Read(seconds(20));
  out.replies.push_back(reply ? reply->Render() : "timeout");

  // A script that wrote cannot be killed; SHUTDOWN NOSAVE ends the server.
  runner->SendCommand({"EVAL", "redis.call('set', KEYS[1], '1')\nwhile true do end", "1", "{t}w"});
  out.replies.push_back(UntilBusy(*admin, {"SCRIPT", "KILL"}));
  out.replies.push_back(admin->Run({"FUNCTION", "KILL"}));
  admin->SendCommand({"SHUTDOWN", "NOSAVE"});
  EXPECT_TRUE(server.WaitForExit(seconds(20))) << server.LogTail();
  return out;
}

class ScriptingBusyTest : public ::testing::TestWithParam<int> {};

TEST_P(ScriptingBusyTest, KillAndBusyRepliesMatchRedis) {
  std::string error;
  auto shardis = StartShardis(GetParam(), {}, &error);
  ASSERT_NE(shardis, nullptr) << error;
  auto redis = StartRedis({}, &error);
  ASSERT_NE(redis, nullptr) << error;
  bool check_busy = GetParam() == 1;
  Outcome a = RunScenario(*shardis, check_busy);
  Outcome b = RunScenario(*redis, check_busy);
  ASSERT_EQ(a.replies.size(), b.replies.size());
  for (size_t i = 0; i < a.replies.size(); ++i) {
    EXPECT_EQ(a.replies[i], b.replies[i]) << "step " << i;
  }
  EXPECT_EQ(b.replies[2], "status:\"OK\"");  // the scenario did what it means to
}

INSTANTIATE_TEST_SUITE_P(Threads, ScriptingBusyTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("threads", info.param);
                         });

}  // namespace
}  // namespace shardis::test
