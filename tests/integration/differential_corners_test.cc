// Corners found by running Redis's own tcl suite differentially (a redis-server 7.0 passes, we
// did not): each session is a short fixed command sequence sent on one connection, in order, to
// a 2-thread shardis-server and to the reference redis-server; the rendered replies must be
// identical. Sessions are independent (each starts with FLUSHALL) and bounded.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using Cmds = std::vector<std::vector<std::string>>;

std::vector<std::string> Session(int port, const Cmds& cmds) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  out.push_back(c->Run({"FLUSHALL"}));
  for (const auto& cmd : cmds) out.push_back(RenderCommand(cmd) + " -> " + c->Run(cmd));
  return out;
}

class DifferentialCorners : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    shardis_ = StartShardis(2, {}, &error).release();
    ASSERT_NE(shardis_, nullptr) << error;
    redis_ = StartRedis({}, &error).release();
    ASSERT_NE(redis_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete shardis_;
    delete redis_;
    shardis_ = nullptr;
    redis_ = nullptr;
  }
  static void Compare(const Cmds& cmds) {
    CompareSessions([&cmds](int port) { return Session(port, cmds); });
  }
  // Runs `session` (on connections of its own) against each server and compares what it returns.
  static void CompareSessions(const std::function<std::vector<std::string>(int port)>& session) {
    ASSERT_NE(shardis_, nullptr);
    ASSERT_NE(redis_, nullptr);
    std::vector<std::string> want = session(redis_->port());
    std::vector<std::string> got = session(shardis_->port());
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "step " << i;
  }
  static ServerProcess* shardis_;
  static ServerProcess* redis_;
};
ServerProcess* DifferentialCorners::shardis_ = nullptr;
ServerProcess* DifferentialCorners::redis_ = nullptr;

// A refused EXEC (here: wrong arity) discards the transaction and says why, without "ERR".
TEST_F(DifferentialCorners, RefusedExecDiscardsTransaction) {
  Compare({{"EXEC", "foo"},
           {"SET", "k", "1"},
           {"WATCH", "k"},
           {"MULTI"},
           {"INCR", "k"},
           {"EXEC", "extra"},
           {"PING"},
           {"EXEC"},
           {"GET", "k"}});
}

// Any command refused inside MULTI, transaction control included, dooms the transaction.
TEST_F(DifferentialCorners, RefusedControlCommandsAbortMulti) {
  Compare({{"MULTI"},
           {"DISCARD", "x"},
           {"SET", "a", "1"},
           {"EXEC"},
           {"EXISTS", "a"},
           {"MULTI"},
           {"MULTI", "x"},
           {"SET", "a", "1"},
           {"EXEC"},
           {"EXISTS", "a"},
           {"MULTI"},
           {"MULTI"},
           {"SET", "a", "1"},
           {"EXEC"},
           {"EXISTS", "a"}});
}

// FLUSHDB/FLUSHALL only touch WATCHed keys that existed.
TEST_F(DifferentialCorners, FlushTouchesOnlyExistingWatchedKeys) {
  Cmds cmds;
  for (const char* flush : {"FLUSHDB", "FLUSHALL"}) {
    for (const char* key : {"x", "{t}y", "z9"}) {
      cmds.push_back({"WATCH", key});  // does not exist
      cmds.push_back({flush});
      cmds.push_back({"MULTI"});
      cmds.push_back({"PING"});
      cmds.push_back({"EXEC"});
      cmds.push_back({"SET", key, "1"});
      cmds.push_back({"WATCH", key, "nokey"});  // exists
      cmds.push_back({flush});
      cmds.push_back({"MULTI"});
      cmds.push_back({"PING"});
      cmds.push_back({"EXEC"});
    }
  }
  Compare(cmds);
}

// Option and arity errors of admin subcommands, each as Redis words it; none may act (a
// contradictory SHUTDOWN must not stop the server).
TEST_F(DifferentialCorners, AdminOptionErrors) {
  Compare({{"SHUTDOWN", "NOSAVE", "SAVE"},
           {"SHUTDOWN", "save", "NOW", "nosave"},
           {"PING"},
           {"PUBSUB", "CHANNELS", "a", "b"},
           {"PUBSUB", "shardchannels", "a", "b"},
           {"ACL", "GENPASS", "1", "2"},
           {"ACL", "CAT", "a", "b"},
           {"acl", "log", "a", "b"},
           {"CLIENT", "PAUSE", "100", "WRITE", "x"},
           {"CLIENT", "PAUSE", "-1"},
           {"CLIENT", "PAUSE", "abc"},
           {"FUNCTION", "FLUSH", "a", "b"},
           {"FUNCTION", "FLUSH", "a"},
           {"FUNCTION", "RESTORE", "a", "b", "c"},
           {"MEMORY", "USAGE", "k", "SAMPLES", "-1"},
           {"MEMORY", "USAGE", "k", "SAMPLES", "x"},
           {"FAILOVER", "x"},
           {"FAILOVER", "TO"},
           {"FAILOVER", "TO", "h", "abc"},
           {"FAILOVER", "TIMEOUT", "abc"},
           {"FAILOVER", "TIMEOUT", "-1"},
           {"FAILOVER", "ABORT", "x"},
           {"FAILOVER", "ABORT"},
           {"FAILOVER", "TO", "h", "1", "FORCE"},
           {"PING"}});
}

// A busy script makes the whole server answer BUSY, whichever thread a client lives on: a
// command queued in MULTI is refused (dooming the transaction) and a refused EXEC discards it.
// Six clients spread over the threads; each polls until refused (bounded), so nothing depends
// on timing.
std::vector<std::string> BusySession(int port) {
  std::vector<std::string> out;
  auto admin = RawConnection::Connect(port);
  auto runner = RawConnection::Connect(port);
  if (admin == nullptr || runner == nullptr) return {"connect-failed"};
  out.push_back(admin->Run({"CONFIG", "SET", "busy-reply-threshold", "50"}));
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(RawConnection::Connect(port));
    if (clients.back() == nullptr) return {"connect-failed"};
    out.push_back(clients.back()->Run({"MULTI"}));
  }
  runner->SendCommand({"EVAL", "while true do end", "0"});
  for (auto& c : clients) {
    std::string reply;
    for (int tries = 0; tries < 500; ++tries) {
      reply = c->Run({"INCR", "counter"});
      if (reply.find("BUSY") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    out.push_back(reply);
    out.push_back(c->Run({"EXEC"}));
  }
  std::string kill;
  for (int tries = 0; tries < 500; ++tries) {
    kill = admin->Run({"SCRIPT", "KILL"});
    if (kill.find("NOTBUSY") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  out.push_back(kill);
  auto ended = runner->Read(std::chrono::seconds(20));
  out.push_back(ended ? ended->Render() : "timeout");
  for (auto& c : clients) out.push_back(c->Run({"EXEC"}));
  out.push_back(admin->Run({"GET", "counter"}));
  out.push_back(admin->Run({"CONFIG", "SET", "busy-reply-threshold", "5000"}));
  return out;
}

TEST_F(DifferentialCorners, BusyScriptRefusesEveryThreadsClients) { CompareSessions(BusySession); }

// SWAPDB touches a WATCHed key only when it exists in either database, and WATCHes stay with
// their database index (the data moves, the clients do not).
TEST_F(DifferentialCorners, SwapdbTouchesOnlyExistingWatchedKeys) {
  Compare({{"SET", "x", "1"},
           {"SELECT", "1"},
           {"SET", "{t}y", "1"},
           {"SELECT", "0"},
           {"WATCH", "z9"},  // in neither database
           {"SWAPDB", "0", "1"},
           {"MULTI"},
           {"PING"},
           {"EXEC"},
           {"WATCH", "x"},  // now in database 1 only
           {"SWAPDB", "0", "1"},
           {"MULTI"},
           {"PING"},
           {"EXEC"},
           {"WATCH", "x"},  // in database 0, which this SWAPDB leaves alone
           {"SWAPDB", "1", "2"},
           {"MULTI"},
           {"PING"},
           {"EXEC"},
           {"WATCH", "{t}y"},  // in database 2 now, watched from 0
           {"SWAPDB", "2", "3"},
           {"MULTI"},
           {"PING"},
           {"EXEC"},
           {"GET", "x"},
           {"SELECT", "3"},
           {"GET", "{t}y"},
           {"SELECT", "0"}});
}

// A client blocked on a key of database 9 stays on database 9 across SWAPDB, and is served when
// the key arrives there with the other database's data (Redis's "SWAPDB awakes blocked client").
std::vector<std::string> SwapdbBlockedSession(int port) {
  std::vector<std::string> out;
  auto admin = RawConnection::Connect(port);
  auto blocked = RawConnection::Connect(port);
  if (admin == nullptr || blocked == nullptr) return {"connect-failed"};
  out.push_back(admin->Run({"FLUSHALL"}));
  out.push_back(admin->Run({"SELECT", "1"}));
  for (const char* key : {"k", "{t}k2"}) out.push_back(admin->Run({"RPUSH", key, "hello"}));
  out.push_back(blocked->Run({"SELECT", "9"}));
  blocked->SendCommand({"BRPOP", "nokey", "k", "10"});
  std::string clients;
  for (int tries = 0; tries < 500; ++tries) {
    clients = admin->Run({"INFO", "clients"});
    if (clients.find("blocked_clients:1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  out.push_back(admin->Run({"SWAPDB", "1", "9"}));
  auto served = blocked->Read(std::chrono::seconds(10));
  out.push_back(served ? served->Render() : "timeout");
  out.push_back(blocked->Run({"LLEN", "{t}k2"}));
  out.push_back(admin->Run({"LLEN", "k"}));  // database 1 holds database 9's old data
  return out;
}

TEST_F(DifferentialCorners, SwapdbServesBlockedClients) { CompareSessions(SwapdbBlockedSession); }

// INFO commandstats as Redis counts: a command once it has run (INFO does not count itself;
// CONFIG RESETSTAT counts, after the reset), and the commands scripts run (redis.call and
// redis.pcall, failed ones as failed calls) like any other, in total_commands_processed too.
std::vector<std::string> CommandStatsSession(int port) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  out.push_back(c->Run({"FLUSHALL"}));
  out.push_back(c->Run({"CONFIG", "RESETSTAT"}));
  out.push_back(c->Run({"SET", "a", "b"}));
  out.push_back(
      c->Run({"EVAL", "redis.call('set', KEYS[1], 'b') redis.call('get', KEYS[1])", "1", "a"}));
  out.push_back(c->Run({"EVAL", "redis.pcall('incr', KEYS[1]) return 1", "1", "a"}));
  std::optional<RespValue> info = [&] {
    c->SendCommand({"INFO", "commandstats"});
    return c->Read();
  }();
  if (!info) return {"no-info"};
  // Each line without its timings: cmdstat_set:calls=2,...,failed_calls=0.
  std::vector<std::string> lines = absl::StrSplit(info->str, "\r\n", absl::SkipEmpty());
  for (const std::string& line : lines) {
    if (line.rfind("cmdstat_", 0) != 0) continue;
    size_t rejected = line.find(",rejected_calls");
    if (rejected == std::string::npos) continue;
    out.push_back(line.substr(0, line.find(',')) + line.substr(rejected));
  }
  std::sort(out.begin() + 5, out.end());
  std::string stats = c->Run({"INFO", "stats"});
  size_t at = stats.find("total_commands_processed:");
  out.push_back(at == std::string::npos ? "?" : stats.substr(at, stats.find("\\r", at) - at));
  return out;
}

TEST_F(DifferentialCorners, CommandStatsCountScriptCallsAndNotTheRunningInfo) {
  CompareSessions(CommandStatsSession);
}

// A blocking command counts one call in INFO commandstats however it ends: served after
// blocking, timed out, or ended by CLIENT UNBLOCK ... ERROR (a failed call, its error in
// errorstats); the runs that found nothing and parked are not calls of their own.
std::vector<std::string> BlockedCallStatsSession(int port) {
  auto admin = RawConnection::Connect(port);
  auto blocked = RawConnection::Connect(port);
  if (admin == nullptr || blocked == nullptr) return {"connect-failed"};
  auto wait_blocked = [&admin] {
    for (int tries = 0; tries < 500; ++tries) {
      if (admin->Run({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  std::vector<std::string> out;
  out.push_back(admin->Run({"FLUSHALL"}));
  out.push_back(admin->Run({"CONFIG", "RESETSTAT"}));
  auto id = [&] {
    blocked->SendCommand({"CLIENT", "ID"});
    return blocked->Read();
  }();
  if (!id) return {"no-id"};
  out.push_back(blocked->Run({"BLPOP", "q", "0.05"}));  // times out
  blocked->SendCommand({"BLPOP", "q", "0"});
  wait_blocked();
  out.push_back(admin->Run({"CLIENT", "UNBLOCK", std::to_string(id->integer), "ERROR"}));
  auto unblocked = blocked->Read(std::chrono::seconds(10));
  out.push_back(unblocked ? unblocked->Render() : "timeout");
  blocked->SendCommand({"BLPOP", "q", "0"});
  wait_blocked();
  out.push_back(admin->Run({"RPUSH", "q", "x"}));
  auto served = blocked->Read(std::chrono::seconds(10));
  out.push_back(served ? served->Render() : "timeout");
  auto line = [&admin](const std::string& section, const std::string& prefix) {
    std::string info = admin->Run({"INFO", section});
    size_t at = info.find(prefix);
    if (at == std::string::npos) return prefix + " missing";
    std::string l = info.substr(at, info.find("\\r", at) - at);
    size_t usec = l.find(",usec=");
    size_t rejected = l.find(",rejected_calls");
    if (usec != std::string::npos && rejected != std::string::npos) l.erase(usec, rejected - usec);
    return l;
  };
  out.push_back(line("commandstats", "cmdstat_blpop:"));
  out.push_back(line("errorstats", "errorstat_UNBLOCKED:"));
  out.push_back(line("stats", "total_error_replies:"));
  return out;
}

TEST_F(DifferentialCorners, BlockedCommandCountsOneCall) {
  CompareSessions(BlockedCallStatsSession);
}

// CLIENT REPLY OFF drops replies, but the (un)subscribe confirmations are pushes to Redis and
// still come, in RESP3 and RESP2.
std::vector<std::string> ReplyOffSubscribeSession(int port) {
  std::vector<std::string> out;
  for (const char* proto : {"3", "2"}) {
    auto c = RawConnection::Connect(port);
    if (c == nullptr) return {"connect-failed"};
    c->SendCommand({"HELLO", proto});
    auto hello = c->Read();
    if (!hello) return {"no-hello"};
    c->SendCommand({"CLIENT", "REPLY", "OFF"});
    c->SendCommand({"PING"});
    c->SendCommand({"SSUBSCRIBE", "ch"});
    c->SendCommand({"SUNSUBSCRIBE", "ch"});
    c->SendCommand({"SUBSCRIBE", "a", "b"});
    c->SendCommand({"UNSUBSCRIBE", "a", "b"});  // named: without, the order is dict order
    c->SendCommand({"CLIENT", "REPLY", "ON"});
    for (int i = 0; i < 10; ++i) {
      auto r = c->Read(std::chrono::seconds(2));
      if (!r) break;
      out.push_back(std::string(proto) + ": " + r->Render());
      if (r->Render() == "status:\"OK\"") break;
    }
  }
  return out;
}

TEST_F(DifferentialCorners, ReplyOffKeepsSubscribeConfirmations) {
  CompareSessions(ReplyOffSubscribeSession);
}

// Before AUTH a client may send at most 10 arguments of at most 16 KB (Redis's limits): more
// is a protocol error that closes the connection; once authenticated the limits go.
std::vector<std::string> UnauthenticatedLimitsSession(int port) {
  auto admin = RawConnection::Connect(port);
  if (admin == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  out.push_back(admin->Run({"CONFIG", "SET", "requirepass", "pw"}));
  for (std::string frame : {std::string("*11\r\n"), std::string("*1\r\n$16385\r\n")}) {
    auto c = RawConnection::Connect(port);
    if (c == nullptr) return {"connect-failed"};
    c->Send(frame);
    auto r = c->Read(std::chrono::seconds(5));
    out.push_back(r ? r->Render() : "no-reply");
    out.push_back(c->WaitClosed(std::chrono::seconds(5)) ? "closed" : "open");
  }
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  out.push_back(c->Run({"AUTH", "pw"}));
  out.push_back(
      c->Run({"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", std::string(20000, 'v')}));
  out.push_back(admin->Run({"CONFIG", "SET", "requirepass", ""}));
  return out;
}

TEST_F(DifferentialCorners, UnauthenticatedClientsAreLimited) {
  CompareSessions(UnauthenticatedLimitsSession);
}

// INFO errorstats and commandstats of scripts as Redis 7.0 counts them: an error a command
// called by the script replies, or a call the script layer refuses, is counted when it happens
// (caught by redis.pcall or not), and the script's reply or raised error made of that error
// table (ignore_error_stats_update) is not counted again, yet fails the script's command; errors
// inside an array reply fail it too. Scripts over keys of both threads (a and b) included.
std::vector<std::string> ScriptErrorStatsSession(int port) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  for (const auto& cmd : Cmds{{"FLUSHALL"}, {"MSET", "s", "abc", "a", "abc", "b", "abc"}}) {
    out.push_back(c->Run(cmd));
  }
  const std::string pairs =
      "local r = {} for k, v in pairs(t) do r[#r + 1] = k .. '=' .. tostring(v) end return r";
  const Cmds scripts = {
      {"EVAL", "redis.pcall('nosuchcmd') return 1", "0"},
      {"EVAL", "redis.pcall('get') return 1", "0"},
      {"EVAL", "redis.pcall('incr', KEYS[1]) return 1", "1", "s"},
      {"EVAL", "return redis.pcall('incr', KEYS[1])", "1", "s"},
      {"EVAL", "return redis.call('incr', KEYS[1])", "1", "s"},
      {"EVAL", "redis.pcall('incr', KEYS[1]) return redis.error_reply('MY fault')", "1", "s"},
      {"EVAL", "redis.pcall('incr', KEYS[1]) error('boom')", "1", "s"},
      {"EVAL", "local e = redis.pcall('incr', KEYS[1]) error(e)", "1", "s"},
      {"EVAL",
       "return {redis.pcall('incr', KEYS[1]), redis.error_reply('Q x'), "
       "redis.pcall('incr', KEYS[1])}",
       "1", "s"},
      {"EVAL", "return redis.pcall('set', KEYS[1])", "1", "s"},
      {"EVAL", "pcall(redis.call, 'incr', KEYS[1]) return 2", "1", "s"},
      {"EVAL", "local t = redis.pcall('incr', KEYS[1]) " + pairs, "1", "s"},
      {"EVAL", "local t = redis.pcall('nosuchcmd') " + pairs, "0"},
      {"EVAL_RO", "return redis.pcall('set', KEYS[1], 'x')", "1", "s"},
      {"EVAL", "return {err = 'NB x'}", "0"},
      {"EVAL", "redis.pcall('incr', KEYS[1]) redis.pcall('incr', KEYS[2]) return 1", "2", "a", "b"},
      {"EVAL", "redis.pcall('incr', KEYS[1]) return redis.call('incr', KEYS[2])", "2", "a", "b"},
      {"EVAL", "return redis.error_reply('XS ' .. redis.call('get', KEYS[2]))", "2", "a", "b"},
      {"EVAL", "return redis.call('object', 'freq', KEYS[2])", "2", "a", "b"},
  };
  out.push_back(c->Run({"CONFIG", "RESETSTAT"}));
  for (const auto& cmd : scripts) out.push_back(RenderCommand(cmd) + " -> " + c->Run(cmd));
  // The same inside a transaction over both threads' keys.
  for (const auto& cmd : Cmds{{"MULTI"},
                              {"EVAL", "return redis.pcall('incr', KEYS[1])", "1", "s"},
                              {"EVAL", "return {redis.pcall('incr', KEYS[1])}", "1", "a"},
                              {"EVAL", "return redis.call('incr', KEYS[1])", "1", "b"},
                              {"INCR", "s"},
                              {"EXEC"}}) {
    out.push_back(RenderCommand(cmd) + " -> " + c->Run(cmd));
  }
  const size_t sorted_from = out.size();
  // INFO's lines without timings: errorstat_ERR:count=3, cmdstat_get:calls=0,rejected_calls=1,...
  for (const char* section : {"errorstats", "commandstats"}) {
    c->SendCommand({"INFO", section});
    std::optional<RespValue> info = c->Read();
    if (!info) return {"no-info"};
    std::vector<std::string> lines = absl::StrSplit(info->str, "\r\n", absl::SkipEmpty());
    for (const std::string& line : lines) {
      if (line.rfind("errorstat_", 0) == 0) out.push_back(line);
      if (line.rfind("cmdstat_", 0) != 0 || line.rfind("cmdstat_config|", 0) == 0) continue;
      size_t rejected = line.find(",rejected_calls");
      if (rejected != std::string::npos) {
        out.push_back(line.substr(0, line.find(',')) + line.substr(rejected));
      }
    }
  }
  std::sort(out.begin() + sorted_from, out.end());
  std::string stats = c->Run({"INFO", "stats"});
  size_t at = stats.find("total_error_replies:");
  out.push_back(at == std::string::npos ? "?" : stats.substr(at, stats.find("\\r", at) - at));
  return out;
}

TEST_F(DifferentialCorners, ScriptErrorsInErrorstatsOnce) {
  CompareSessions(ScriptErrorStatsSession);
}

}  // namespace
}  // namespace shardis::test
