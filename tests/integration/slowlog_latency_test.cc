// SLOWLOG and LATENCY end to end: entries of commands run on every thread (inline, in batches
// for other shards, connection-side) are merged newest first with the client's address and
// name; truncation and redaction; slowlog-max-len; replies compared with the reference
// redis-server where they are deterministic (ids, times and durations aside).
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// One SLOWLOG GET entry rendered without its id, time and duration (checked separately).
std::string EntryShape(const redisReply* e) {
  if (e == nullptr || e->type != REDIS_REPLY_ARRAY || e->elements != 6) return "bad-entry";
  std::string out = Render(e->element[3]);
  // The address's port differs between servers: keep the IP.
  std::string addr(e->element[4]->str, e->element[4]->len);
  out += " " + addr.substr(0, addr.rfind(':'));
  out += " " + Render(e->element[5]);
  return out;
}

std::vector<std::string> Shapes(Client& c, const std::string& count) {
  ReplyPtr r = c.Command({"SLOWLOG", "GET", count});
  std::vector<std::string> out;
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return {"bad-reply " + Render(r.get())};
  int64_t last_id = INT64_MAX;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    out.push_back(EntryShape(e));
    if (e->type == REDIS_REPLY_ARRAY && e->elements == 6) {
      EXPECT_LT(e->element[0]->integer, last_id) << "newest first";
      last_id = e->element[0]->integer;
      EXPECT_GT(e->element[1]->integer, 1600000000);
      EXPECT_GE(e->element[2]->integer, 0);
    }
  }
  return out;
}

// The same session on a server: everything logged, then read back.
std::vector<std::string> Session(int port) {
  auto c = Client::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  out.push_back(c->Run({"CONFIG", "SET", "slowlog-log-slower-than", "0"}));
  out.push_back(c->Run({"CLIENT", "SETNAME", "obs"}));
  out.push_back(c->Run({"SLOWLOG", "RESET"}));
  // Keys that spread over the shards of a multi-threaded server.
  for (const char* k : {"a", "b", "c", "d", "e", "f", "{x}1", "{x}2"}) c->Run({"SET", k, "v"});
  c->Run({"MSET", "a", "1", "b", "2", "c", "3"});
  c->Run({"MGET", "a", "b", "c", "d"});
  std::vector<std::string> many = {"RPUSH", "list"};
  for (int i = 0; i < 40; ++i) many.push_back(std::to_string(i));
  c->Run(many);
  c->Run({"SET", "big", std::string(300, 'z')});
  c->Run({"AUTH", "nobody", "secret"});
  c->Run({"PING"});  // skip-slowlog
  c->Run({"DBSIZE"});
  out.push_back(c->Run({"SLOWLOG", "LEN"}));
  for (const std::string& s : Shapes(*c, "-1")) out.push_back(s);
  for (const std::string& s : Shapes(*c, "3")) out.push_back(s);
  out.push_back(c->Run({"SLOWLOG", "GET", "-2"}));
  out.push_back(c->Run({"SLOWLOG", "GET", "x"}));
  out.push_back(c->Run({"SLOWLOG", "GET", "1", "2"}));
  out.push_back(c->Run({"SLOWLOG", "LEN", "1"}));
  out.push_back(c->Run({"SLOWLOG", "NOPE"}));
  out.push_back(c->Run({"SLOWLOG"}));
  out.push_back(c->Run({"SLOWLOG", "HELP"}));
  out.push_back(c->Run({"CONFIG", "SET", "slowlog-max-len", "2"}));
  c->Run({"SET", "a", "1"});
  c->Run({"SET", "b", "1"});
  c->Run({"SET", "c", "1"});
  out.push_back(c->Run({"SLOWLOG", "LEN"}));
  for (const std::string& s : Shapes(*c, "-1")) out.push_back(s);
  out.push_back(c->Run({"CONFIG", "SET", "slowlog-log-slower-than", "-1"}));
  out.push_back(c->Run({"SLOWLOG", "RESET"}));
  c->Run({"SET", "a", "1"});
  out.push_back(c->Run({"SLOWLOG", "LEN"}));
  // A CONFIG SET of the threshold is judged by the new value (Redis applies it, then logs).
  out.push_back(c->Run({"CONFIG", "SET", "slowlog-log-slower-than", "0"}));
  for (const std::string& s : Shapes(*c, "-1")) out.push_back(s);
  out.push_back(c->Run({"SLOWLOG", "RESET"}));
  out.push_back(c->Run({"CONFIG", "SET", "slowlog-log-slower-than", "100000000"}));
  for (const std::string& s : Shapes(*c, "-1")) out.push_back(s);
  return out;
}

TEST(SlowlogLatencyTest, SlowlogMatchesRedis) {
  auto redis = StartRedis();
  ASSERT_NE(redis, nullptr);
  std::vector<std::string> expected = Session(redis->port());
  for (int threads : {1, 4}) {
    auto shardis = StartShardis(threads);
    ASSERT_NE(shardis, nullptr);
    std::vector<std::string> got = Session(shardis->port());
    EXPECT_EQ(got.size(), expected.size()) << "threads=" << threads;
    for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) {
      EXPECT_EQ(got[i], expected[i]) << "threads=" << threads << " line " << i;
    }
  }
}

TEST(SlowlogLatencyTest, EntriesCarryTheClientOfEveryThread) {
  auto shardis = StartShardis(4);
  ASSERT_NE(shardis, nullptr);
  auto admin = Client::Connect(shardis->port());
  ASSERT_NE(admin, nullptr);
  ASSERT_EQ(admin->Run({"CONFIG", "SET", "slowlog-log-slower-than", "0"}), "status:\"OK\"");
  ASSERT_EQ(admin->Run({"CONFIG", "SET", "slowlog-max-len", "1000"}), "status:\"OK\"");
  // Several clients (the kernel spreads them over the threads), each touching every shard.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(Client::Connect(shardis->port()));
    ASSERT_NE(clients.back(), nullptr);
    ASSERT_EQ(clients.back()->Run({"CLIENT", "SETNAME", "c" + std::to_string(i)}), "status:\"OK\"");
    for (int k = 0; k < 16; ++k) {
      clients.back()->Run({"SET", "key" + std::to_string(k), "c" + std::to_string(i)});
    }
  }
  ReplyPtr r = admin->Command({"SLOWLOG", "GET", "-1"});
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  int sets = 0;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    std::string name(e->element[3]->element[0]->str, e->element[3]->element[0]->len);
    if (name != "SET") continue;
    ++sets;
    // The value names the client: its entry has that client's name and address.
    std::string value(e->element[3]->element[2]->str, e->element[3]->element[2]->len);
    EXPECT_EQ(std::string(e->element[5]->str, e->element[5]->len), value);
    EXPECT_TRUE(std::string(e->element[4]->str).starts_with("127.0.0.1:"));
  }
  EXPECT_EQ(sets, 8 * 16);
}

TEST(SlowlogLatencyTest, LatencyMonitor) {
  auto shardis = StartShardis(2);
  ASSERT_NE(shardis, nullptr);
  auto c = Client::Connect(shardis->port());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Run({"LATENCY", "LATEST"}), "arr:[]");
  EXPECT_TRUE(c->Run({"LATENCY", "DOCTOR"}).find("I'm sorry, Dave") != std::string::npos);
  ASSERT_EQ(c->Run({"CONFIG", "SET", "latency-monitor-threshold", "1"}), "status:\"OK\"");
  EXPECT_TRUE(c->Run({"LATENCY", "DOCTOR"}).find("no latency spike") != std::string::npos);
  // A script (cached first, so it runs as one command on its shard) busy for over 1 ms.
  const std::string body = "local i=0 while i<3000000 do i=i+1 end return 1";
  c->Run({"SCRIPT", "LOAD", body});
  ASSERT_EQ(c->Run({"EVAL", body, "0"}), "int:1");
  ReplyPtr latest = c->Command({"LATENCY", "LATEST"});
  ASSERT_NE(latest, nullptr);
  ASSERT_EQ(latest->elements, 1u) << Render(latest.get());
  const redisReply* ev = latest->element[0];
  ASSERT_EQ(ev->elements, 4u);
  EXPECT_EQ(std::string(ev->element[0]->str), "command");
  EXPECT_GE(ev->element[2]->integer, 1);
  EXPECT_GE(ev->element[3]->integer, ev->element[2]->integer);
  ReplyPtr history = c->Command({"LATENCY", "HISTORY", "command"});
  ASSERT_NE(history, nullptr);
  ASSERT_GE(history->elements, 1u);
  EXPECT_EQ(history->element[0]->elements, 2u);
  EXPECT_EQ(c->Run({"LATENCY", "HISTORY", "nosuch"}), "arr:[]");
  std::string doctor = c->Run({"LATENCY", "DOCTOR"});
  EXPECT_NE(doctor.find("1. command: "), std::string::npos) << doctor;
  EXPECT_EQ(c->Run({"LATENCY", "RESET", "nosuch"}), "int:0");
  EXPECT_EQ(c->Run({"LATENCY", "RESET", "command"}), "int:1");
  EXPECT_EQ(c->Run({"LATENCY", "LATEST"}), "arr:[]");
  EXPECT_EQ(c->Run({"LATENCY", "RESET"}), "int:0");
}

// INFO latencystats: one line per command called, the percentiles of
// latency-tracking-info-percentiles in Redis's format; empty with latency-tracking no.
TEST(SlowlogLatencyTest, InfoLatencystats) {
  auto shardis = StartShardis(2);
  ASSERT_NE(shardis, nullptr);
  auto c = Client::Connect(shardis->port());
  ASSERT_NE(c, nullptr);
  for (int i = 0; i < 20; ++i) c->Run({"SET", "k" + std::to_string(i), "v"});
  c->Run({"CONFIG", "GET", "port"});
  auto info = [&c] {
    ReplyPtr r = c->Command({"INFO", "latencystats"});
    return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
  };
  std::string text = info();
  EXPECT_EQ(text.rfind("# Latencystats\r\n", 0), 0u) << text;
  const std::regex set_line(
      R"(latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n)");
  EXPECT_TRUE(std::regex_search(text, set_line)) << text;
  EXPECT_NE(text.find("latency_percentiles_usec_config|get:p50="), std::string::npos) << text;
  EXPECT_EQ(text.find("latency_percentiles_usec_get:"), std::string::npos) << text;  // not called
  ASSERT_EQ(c->Run({"CONFIG", "SET", "latency-tracking-info-percentiles", "50 100"}),
            "status:\"OK\"");
  EXPECT_TRUE(std::regex_search(
      info(), std::regex(R"(latency_percentiles_usec_set:p50=\d+\.\d{3},p100=\d+\.\d{3}\r\n)")));
  // In INFO everything, not in the default sections.
  std::string everything = c->Run({"INFO", "everything"});
  EXPECT_NE(everything.find("# Latencystats"), std::string::npos);
  EXPECT_EQ(c->Run({"INFO"}).find("# Latencystats"), std::string::npos);
  ASSERT_EQ(c->Run({"CONFIG", "SET", "latency-tracking", "no"}), "status:\"OK\"");
  EXPECT_EQ(info(), "# Latencystats\r\n");
}

// A fanned-out command's duration is its own work, as Redis times a command: waiting for a
// thread busy with something else (here DEBUG SLEEP) is not the command's, so it is not logged.
TEST(SlowlogLatencyTest, FanOutWaitIsNotTheCommandsTime) {
  auto shardis = StartShardis(2);
  ASSERT_NE(shardis, nullptr);
  auto admin = Client::Connect(shardis->port());
  ASSERT_NE(admin, nullptr);
  ASSERT_EQ(admin->Run({"CONFIG", "SET", "slowlog-log-slower-than", "100000"}), "status:\"OK\"");
  auto sleeper = RawConnection::Connect(shardis->port());
  ASSERT_NE(sleeper, nullptr);
  // Several clients, so that some live on the thread that does not sleep (the kernel spreads
  // them); their PUBSUB CHANNELS needs the sleeping thread too.
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(RawConnection::Connect(shardis->port()));
    ASSERT_NE(clients.back(), nullptr);
    ASSERT_EQ(clients.back()->Run({"PING"}), "status:\"PONG\"");
  }
  ASSERT_EQ(admin->Run({"SLOWLOG", "RESET"}), "status:\"OK\"");
  ASSERT_TRUE(sleeper->SendCommand({"DEBUG", "SLEEP", "0.4"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (auto& c : clients) ASSERT_TRUE(c->SendCommand({"PUBSUB", "CHANNELS"}));
  for (auto& c : clients) {
    std::optional<RespValue> v = c->Read(std::chrono::seconds(10));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->Render(), "arr:[]");
  }
  ASSERT_TRUE(sleeper->Read(std::chrono::seconds(10)).has_value());
  ReplyPtr r = admin->Command({"SLOWLOG", "GET", "-1"});
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->type, REDIS_REPLY_ARRAY);
  for (size_t i = 0; i < r->elements; ++i) {
    EXPECT_EQ(Render(r->element[i]->element[3]->element[0]), "str:\"DEBUG\"")
        << Render(r->element[i]->element[3]);
  }
}

TEST(SlowlogLatencyTest, LatencyErrorsMatchRedis) {
  auto redis = StartRedis();
  auto shardis = StartShardis(2);
  ASSERT_NE(redis, nullptr);
  ASSERT_NE(shardis, nullptr);
  auto a = Client::Connect(redis->port());
  auto b = Client::Connect(shardis->port());
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"LATENCY"},
                                                               {"LATENCY", "HELP"},
                                                               {"LATENCY", "NOPE"},
                                                               {"LATENCY", "LATEST", "x"},
                                                               {"LATENCY", "HISTORY"},
                                                               {"LATENCY", "HISTORY", "command"},
                                                               {"LATENCY", "RESET"},
                                                               {"LATENCY", "LATEST"}}) {
    EXPECT_EQ(b->Run(cmd), a->Run(cmd)) << RenderCommand(cmd);
  }
}

}  // namespace
}  // namespace shardis::test
