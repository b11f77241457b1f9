// MONITOR end to end: Redis's line format (compared with the reference redis-server, times and
// ports aside), redaction, hidden admin commands, scripts' "lua" lines, MULTI/EXEC order; and
// with several threads, every monitor sees every command of every client, in each client's
// order, wherever monitors and clients live.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// "+1700000000.123456 [0 127.0.0.1:5555] ..." -> "[0 127.0.0.1] ..." (or "[0 lua] ...").
std::string Normalize(const std::string& line) {
  size_t open = line.find('[');
  size_t close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return "bad:" + line;
  std::string who = line.substr(open, close - open);
  size_t colon = who.rfind(':');
  if (colon != std::string::npos) who = who.substr(0, colon);
  return who + line.substr(close);
}

// Reads monitor lines until `n` arrived or nothing comes for 2 s.
std::vector<std::string> ReadLines(RawConnection& mon, size_t n) {
  std::vector<std::string> out;
  while (out.size() < n) {
    auto v = mon.Read(std::chrono::seconds(2));
    if (!v) break;
    out.push_back(v->str);
  }
  return out;
}

std::vector<std::string> Session(int port) {
  auto mon = RawConnection::Connect(port);
  if (mon == nullptr) return {"connect-failed"};
  if (mon->Run({"MONITOR"}) != "status:\"OK\"") return {"monitor-failed"};
  auto c = Client::Connect(port);
  c->Run({"SET", "k", "v"});
  c->Run({"GET", "nosuch"});
  c->Run({"LPUSH", "k", "x"});  // fails (WRONGTYPE) but ran: shown
  c->Run({"NOSUCHCOMMAND"});    // rejected before running: hidden
  c->Run({"GET"});              // arity: hidden
  c->Run({"SET", "q\"x\\", std::string("a\nb\r\t\x01\xff", 8)});
  c->Run({"EVAL", "redis.call('set', KEYS[1], 'b') return 1", "1", "sk"});
  c->Run({"MULTI"});
  c->Run({"SET", "m", "1"});
  c->Run({"INCR", "m"});
  c->Run({"EXEC"});
  c->Run({"CONFIG", "GET", "hz"});  // admin: hidden
  c->Run({"SLOWLOG", "LEN"});       // admin: hidden
  c->Run({"AUTH", "x", "y"});
  c->Run({"HELLO", "2", "AUTH", "default", "nopass"});
  c->Run({"CLIENT", "SETNAME", "n1"});
  c->Run({"CLIENT", "LIST"});  // admin subcommand: hidden
  c->Run({"SELECT", "3"});
  c->Run({"SET", "z", "1"});
  c->Run({"PUBLISH", "ch", "m"});
  c->Run({"PING"});
  std::vector<std::string> lines = ReadLines(*mon, 100);
  std::vector<std::string> out;
  for (const std::string& l : lines) out.push_back(Normalize(l));
  return out;
}

TEST(MonitorTest, LinesMatchRedis) {
  auto redis = StartRedis();
  auto shardis = StartShardis(1);
  ASSERT_NE(redis, nullptr);
  ASSERT_NE(shardis, nullptr);
  std::vector<std::string> expected = Session(redis->port());
  std::vector<std::string> got = Session(shardis->port());
  ASSERT_GT(expected.size(), 10u);
  EXPECT_EQ(got, expected);
}

// A monitor that QUITs gets its +OK and nothing after it (not its own QUIT line); RESET ends
// MONITOR mode (no RESET line, no further lines), as Redis (found by hiredis's MONITOR test).
std::vector<std::string> QuitResetSession(int port) {
  auto m1 = RawConnection::Connect(port);
  auto m2 = RawConnection::Connect(port);
  auto m3 = RawConnection::Connect(port);
  auto c = RawConnection::Connect(port);
  if (!m1 || !m2 || !m3 || !c) return {"connect-failed"};
  std::vector<std::string> out;
  for (auto* m : {m1.get(), m2.get(), m3.get()}) out.push_back(m->Run({"MONITOR"}));
  out.push_back(m1->Run({"QUIT"}));
  out.push_back(m1->WaitClosed(std::chrono::seconds(10)) ? "closed" : "open");
  out.push_back("after quit: [" + m1->pending() + "]");
  out.push_back(Normalize(m3->Read(std::chrono::seconds(5)).value_or(RespValue{}).str));
  out.push_back(Normalize(m2->Read(std::chrono::seconds(5)).value_or(RespValue{}).str));
  out.push_back(m2->Run({"RESET"}));
  out.push_back(Normalize(m3->Read(std::chrono::seconds(5)).value_or(RespValue{}).str));
  out.push_back(c->Run({"PING"}));
  out.push_back(Normalize(m3->Read(std::chrono::seconds(5)).value_or(RespValue{}).str));
  // Were m2 still a monitor, the PING line would come before the ECHO reply.
  out.push_back(m2->Run({"ECHO", "done"}));
  std::string info = m2->Run({"CLIENT", "INFO"});
  size_t flags = info.find("flags=");
  out.push_back(flags == std::string::npos ? info
                                           : info.substr(flags, info.find(' ', flags) - flags));
  return out;
}

TEST(MonitorTest, QuitAndResetEndMonitoringAsRedis) {
  auto redis = StartRedis();
  ASSERT_NE(redis, nullptr);
  std::vector<std::string> expected = QuitResetSession(redis->port());
  ASSERT_EQ(expected.size(), 14u);
  EXPECT_EQ(expected[5], "after quit: []");
  for (int threads : {1, 2}) {
    auto shardis = StartShardis(threads);
    ASSERT_NE(shardis, nullptr);
    EXPECT_EQ(QuitResetSession(shardis->port()), expected) << "threads=" << threads;
  }
}

TEST(MonitorTest, TimestampFormat) {
  auto shardis = StartShardis(2);
  ASSERT_NE(shardis, nullptr);
  auto mon = RawConnection::Connect(shardis->port());
  ASSERT_EQ(mon->Run({"MONITOR"}), "status:\"OK\"");
  auto c = Client::Connect(shardis->port());
  c->Run({"SET", "a", "1"});
  auto v = mon->Read(std::chrono::seconds(5));
  ASSERT_TRUE(v.has_value());
  const std::string& line = v->str;
  // <seconds>.<6 digits> [0 127.0.0.1:<port>] "SET" "a" "1"
  size_t dot = line.find('.');
  ASSERT_NE(dot, std::string::npos) << line;
  EXPECT_EQ(dot, 10u) << line;
  EXPECT_EQ(line[dot + 7], ' ') << line;
  EXPECT_TRUE(line.find(" [0 127.0.0.1:") == dot + 7) << line;
  EXPECT_TRUE(line.ends_with("] \"SET\" \"a\" \"1\"")) << line;
  // A monitor leaving stops nothing; the count of monitors goes back to zero.
  mon.reset();
  EXPECT_EQ(c->Run({"SET", "a", "2"}), "status:\"OK\"");
}

TEST(MonitorTest, EveryMonitorSeesEveryClientInOrder) {
  constexpr int kThreads = 4;
  constexpr int kMonitors = 6;
  constexpr int kClients = 8;
  constexpr int kCommands = 60;
  auto shardis = StartShardis(kThreads);
  ASSERT_NE(shardis, nullptr);
  std::vector<std::unique_ptr<RawConnection>> monitors;
  for (int i = 0; i < kMonitors; ++i) {
    monitors.push_back(RawConnection::Connect(shardis->port()));
    ASSERT_NE(monitors.back(), nullptr);
    ASSERT_EQ(monitors.back()->Run({"MONITOR"}), "status:\"OK\"");
  }
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Client::Connect(shardis->port()));
    ASSERT_NE(clients.back(), nullptr);
  }
  // Pipelined, interleaved: each client's keys spread over every shard.
  for (int n = 0; n < kCommands; ++n) {
    for (int i = 0; i < kClients; ++i) {
      clients[i]->Append(
          {"SET", "key" + std::to_string(n), "c" + std::to_string(i) + ":" + std::to_string(n)});
    }
  }
  for (int i = 0; i < kClients; ++i) {
    for (int n = 0; n < kCommands; ++n) {
      ReplyPtr r = clients[i]->GetReply();
      ASSERT_NE(r, nullptr);
    }
  }
  for (auto& mon : monitors) {
    std::vector<std::string> lines = ReadLines(*mon, kClients * kCommands);
    ASSERT_EQ(lines.size(), static_cast<size_t>(kClients * kCommands));
    std::map<std::string, int> next;  // client value prefix -> next expected n
    std::map<std::string, std::string> addr_of;
    for (const std::string& line : lines) {
      // ... [0 127.0.0.1:port] "SET" "keyN" "cI:N"
      size_t v = line.rfind(" \"c");
      ASSERT_NE(v, std::string::npos) << line;
      std::string value = line.substr(v + 2, line.size() - v - 3);
      std::string client = value.substr(0, value.find(':'));
      int n = std::stoi(value.substr(value.find(':') + 1));
      EXPECT_EQ(n, next[client]) << line;
      next[client] = n + 1;
      std::string addr = line.substr(line.find('['), line.find(']') - line.find('['));
      if (addr_of.count(client)) EXPECT_EQ(addr_of[client], addr);
      addr_of[client] = addr;
    }
    EXPECT_EQ(next.size(), static_cast<size_t>(kClients));
  }
}

}  // namespace
}  // namespace shardis::test
