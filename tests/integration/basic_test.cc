// End-to-end basics against a real shardis-server process (threads 1 and 4): PING/ECHO, SET/GET,
// binary and 1 MB values, deep pipelining across shards, 200 concurrent connections, SELECT,
// expiry, multi-key commands across shards, RESP3 HELLO, inline commands, protocol errors, QUIT,
// error texts, redis-cli usage, and exit on SHUTDOWN / SIGTERM with clients on other threads; and
// reactors that share a CPU run under SCHED_BATCH; clients on the Unix socket.
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string RedisCli() {
  const char* v = getenv("REDIS_CLI_BIN");
  return v != nullptr && *v != '\0' ? v : "redis-cli";
}

std::string Str(std::string_view s) { return absl::StrCat("str:\"", Escape(s), "\""); }
std::string Int(int64_t v) { return absl::StrCat("int:", v); }
std::string Err(std::string_view s) { return absl::StrCat("err:\"", Escape(s), "\""); }
const char kOk[] = "status:\"OK\"";
const char kNil[] = "nil";

class BasicTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::string error;
    server_ = StartShardis(GetParam(), {}, &error);
    ASSERT_NE(server_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    client_ = Connect();
    ASSERT_NE(client_, nullptr);
  }

  void TearDown() override {
    client_.reset();
    if (server_ != nullptr && server_->Running()) {
      EXPECT_TRUE(server_->Stop()) << "server did not stop on SIGTERM\n" << server_->LogTail();
    }
  }

  std::unique_ptr<Client> Connect() {
    std::string error;
    auto c = Client::Connect(server_->port(), seconds(10), &error);
    EXPECT_NE(c, nullptr) << "connect: " << error;
    return c;
  }

  std::unique_ptr<RawConnection> ConnectRaw() {
    std::string error;
    auto c = RawConnection::Connect(server_->port(), &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  }

  std::string Run(const std::vector<std::string>& args) { return client_->Run(args); }

  ShellResult Cli(const std::string& args, const std::string& input = "") {
    return RunShell(absl::StrCat(RedisCli(), " -p ", server_->port(), " ", args), input,
                    seconds(60));
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(BasicTest, PingEcho) {
  EXPECT_EQ(Run({"PING"}), "status:\"PONG\"");
  EXPECT_EQ(Run({"ping"}), "status:\"PONG\"");
  EXPECT_EQ(Run({"PING", "hello world"}), Str("hello world"));
  EXPECT_EQ(Run({"ECHO", "x y\r\nz"}), Str("x y\r\nz"));
  EXPECT_EQ(Run({"ECHO", ""}), Str(""));
  EXPECT_EQ(Run({"ECHO"}), Err("ERR wrong number of arguments for 'echo' command"));
  EXPECT_EQ(Run({"PING", "a", "b"}), Err("ERR wrong number of arguments for 'ping' command"));
}

TEST_P(BasicTest, SetGet) {
  EXPECT_EQ(Run({"GET", "k"}), kNil);
  EXPECT_EQ(Run({"SET", "k", "v"}), kOk);
  EXPECT_EQ(Run({"GET", "k"}), Str("v"));
  EXPECT_EQ(Run({"SET", "k", "v2"}), kOk);
  EXPECT_EQ(Run({"get", "k"}), Str("v2"));
  EXPECT_EQ(Run({"SET", "key with spaces", ""}), kOk);
  EXPECT_EQ(Run({"GET", "key with spaces"}), Str(""));
  EXPECT_EQ(Run({"STRLEN", "k"}), Int(2));
  EXPECT_EQ(Run({"DEL", "k"}), Int(1));
  EXPECT_EQ(Run({"GET", "k"}), kNil);
}

TEST_P(BasicTest, BinarySafeKeysAndValues) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::string value = all_bytes + all_bytes + std::string("\0\r\n$-1\r\n*3\r\n", 12);
  std::string key = std::string("bin\0key\r\n\xff", 11);
  EXPECT_EQ(Run({"SET", key, value}), kOk);
  EXPECT_EQ(Run({"GET", key}), Str(value));
  EXPECT_EQ(Run({"STRLEN", key}), Int(static_cast<int64_t>(value.size())));
  EXPECT_EQ(Run({"EXISTS", key}), Int(1));
  EXPECT_EQ(Run({"EXISTS", std::string("bin\0key", 7)}), Int(0));
  EXPECT_EQ(Run({"SET", "", "empty key"}), kOk);
  EXPECT_EQ(Run({"GET", ""}), Str("empty key"));
  EXPECT_EQ(Run({"APPEND", key, std::string("\0", 1)}),
            Int(static_cast<int64_t>(value.size() + 1)));
  EXPECT_EQ(Run({"GETRANGE", key, "-3", "-1"}), Str(std::string("\r\n\0", 3)));
}

TEST_P(BasicTest, OneMegabyteValues) {
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919 + i / 251) & 0xff);
  EXPECT_EQ(Run({"SET", "big", big}), kOk);
  ReplyPtr r = client_->Command({"GET", "big"});
  ASSERT_NE(r, nullptr) << client_->error();
  ASSERT_EQ(r->type, REDIS_REPLY_STRING);
  ASSERT_EQ(r->len, big.size());
  EXPECT_TRUE(std::string_view(r->str, r->len) == big) << "1 MB value came back different";
  EXPECT_EQ(Run({"STRLEN", "big"}), Int(1 << 20));
  EXPECT_EQ(Run({"APPEND", "big", "tail"}), Int((1 << 20) + 4));
  EXPECT_EQ(Run({"GETRANGE", "big", "-4", "-1"}), Str("tail"));
  // Several 1 MB values pipelined, on keys spread over the shards.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(client_->Append({"SET", absl::StrCat("big", i), big}));
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(client_->Append({"GET", absl::StrCat("big", i)}));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(Render(client_->GetReply().get()), kOk) << i;
  for (int i = 0; i < 8; ++i) {
    ReplyPtr g = client_->GetReply();
    ASSERT_NE(g, nullptr) << client_->error();
    ASSERT_EQ(g->type, REDIS_REPLY_STRING);
    EXPECT_TRUE(std::string_view(g->str, g->len) == big) << "value " << i << " differs";
  }
}

TEST_P(BasicTest, Pipeline10000CommandsInOrder) {
  // SET/GET on 97 keys and INCR on 89 counters, all pipelined on one connection: replies must
  // come back in order although the keys live on different shards.
  constexpr int kCommands = 10000;
  std::map<std::string, std::string> values;
  std::map<std::string, int64_t> counters;
  std::vector<std::string> expected;
  std::vector<std::string> commands;
  for (int i = 0; i < kCommands; ++i) {
    std::vector<std::string> cmd;
    if (i % 3 == 0) {
      std::string key = absl::StrCat("pipe:", i % 97);
      std::string value = absl::StrCat("value-", i);
      cmd = {"SET", key, value};
      values[key] = value;
      expected.push_back(kOk);
    } else if (i % 3 == 1) {
      std::string key = absl::StrCat("pipe:", (i * 31) % 97);
      cmd = {"GET", key};
      auto it = values.find(key);
      expected.push_back(it == values.end() ? kNil : Str(it->second));
    } else {
      std::string key = absl::StrCat("ctr:", i % 89);
      cmd = {"INCR", key};
      expected.push_back(Int(++counters[key]));
    }
    commands.push_back(RenderCommand(cmd));
    ASSERT_TRUE(client_->Append(cmd));
  }
  int mismatches = 0;
  for (int i = 0; i < kCommands; ++i) {
    ReplyPtr r = client_->GetReply();
    ASSERT_NE(r, nullptr) << "reply " << i << ": " << client_->error();
    std::string got = Render(r.get());
    if (got != expected[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "reply " << i << " to " << commands[i] << ": expected " << expected[i]
                    << ", got " << got;
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(Run({"PING"}), "status:\"PONG\"");
}

// A pipeline whose keys live on several shards is answered in one write, not one per switch
// between this thread's shard and another (total_writes_processed counts the server's writes).
TEST_P(BasicTest, CrossShardPipelineAnsweredInOneWrite) {
  auto pipe = Connect();
  ASSERT_NE(pipe, nullptr);
  constexpr int kCommands = 64;
  for (int i = 0; i < kCommands; ++i)
    ASSERT_EQ(client_->Run({"SET", absl::StrCat("k", i), "v"}), kOk);
  int64_t before = InfoInt(*client_, "total_writes_processed", "stats");
  for (int i = 0; i < kCommands; ++i) {
    std::string key = absl::StrCat("k", i);
    ASSERT_TRUE(i % 3 == 0 ? pipe->Append({"SET", key, "v"}) : pipe->Append({"GET", key}));
  }
  for (int i = 0; i < kCommands; ++i) {
    ReplyPtr r = pipe->GetReply();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(Render(r.get()), i % 3 == 0 ? kOk : Str("v"));
  }
  int64_t after = InfoInt(*client_, "total_writes_processed", "stats");
  // One write for the first INFO's reply, one for the pipeline (two if its bytes arrived in two
  // reads).
  EXPECT_LE(after - before, 3);
}

TEST_P(BasicTest, ManyConcurrentConnections) {
  constexpr int kConnections = 200;
  constexpr int kRounds = 20;
  constexpr int kWorkers = 8;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(Connect());
    ASSERT_NE(clients.back(), nullptr) << "connection " << i;
  }
  std::atomic<int> failures{0};
  std::mutex mu;
  std::vector<std::string> messages;
  auto fail = [&](std::string msg) {
    failures.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    if (messages.size() < 10) messages.push_back(std::move(msg));
  };
  auto check = [&](Client* c, int conn, const std::vector<std::string>& cmd,
                   const std::string& want) {
    std::string got = c->Run(cmd);
    if (got != want) {
      fail(absl::StrCat("connection ", conn, ": ", RenderCommand(cmd), " expected ", want, ", got ",
                        got));
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      // Each worker drives its connections round-robin so all of them are active together.
      for (int round = 0; round < kRounds && failures.load() < 10; ++round) {
        for (int conn = w; conn < kConnections; conn += kWorkers) {
          Client* c = clients[conn].get();
          std::string key = absl::StrCat("conn:", conn, ":", round);
          std::string value = absl::StrCat("v", conn, "-", round);
          check(c, conn, {"SET", key, value}, kOk);
          check(c, conn, {"GET", key}, Str(value));
          ReplyPtr r = c->Command({"INCR", "shared:counter"});
          if (r == nullptr || r->type != REDIS_REPLY_INTEGER) {
            fail(absl::StrCat("connection ", conn, ": INCR got ", Render(r.get())));
          }
          check(c, conn, {"APPEND", absl::StrCat("log:", conn), "x"}, Int(round + 1));
          check(c, conn, {"MGET", key, absl::StrCat("log:", conn)},
                absl::StrCat("arr:[", Str(value), ",", Str(std::string(round + 1, 'x')), "]"));
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  for (const std::string& m : messages) ADD_FAILURE() << m;
  ASSERT_EQ(failures.load(), 0);
  EXPECT_EQ(Run({"GET", "shared:counter"}), Str(absl::StrCat(kConnections * kRounds)));
  EXPECT_EQ(Run({"DBSIZE"}), Int(kConnections * kRounds + kConnections + 1));
}

TEST_P(BasicTest, SelectIsolation) {
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Run({"SELECT", "1"}), kOk);
  EXPECT_EQ(Run({"SET", "k", "db0"}), kOk);
  EXPECT_EQ(other->Run({"GET", "k"}), kNil);
  EXPECT_EQ(other->Run({"SET", "k", "db1"}), kOk);
  EXPECT_EQ(Run({"GET", "k"}), Str("db0"));
  EXPECT_EQ(other->Run({"GET", "k"}), Str("db1"));
  // Keys on every shard of db 3; db 0 is unaffected by them and by FLUSHDB there.
  EXPECT_EQ(other->Run({"SELECT", "3"}), kOk);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(other->Run({"SET", absl::StrCat("d3:", i), "x"}), kOk);
  }
  EXPECT_EQ(other->Run({"DBSIZE"}), Int(50));
  EXPECT_EQ(Run({"DBSIZE"}), Int(1));
  EXPECT_EQ(other->Run({"FLUSHDB"}), kOk);
  EXPECT_EQ(other->Run({"DBSIZE"}), Int(0));
  EXPECT_EQ(Run({"DBSIZE"}), Int(1));
  EXPECT_EQ(other->Run({"SELECT", "1"}), kOk);
  EXPECT_EQ(other->Run({"GET", "k"}), Str("db1"));
  EXPECT_EQ(Run({"SELECT", "15"}), kOk);
  EXPECT_EQ(Run({"GET", "k"}), kNil);
  EXPECT_EQ(Run({"SELECT", "16"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"SELECT", "-1"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"SELECT", "abc"}), Err("ERR value is not an integer or out of range"));
  // A failed SELECT keeps the previous database.
  EXPECT_EQ(Run({"SET", "in15", "y"}), kOk);
  EXPECT_EQ(Run({"SELECT", "0"}), kOk);
  EXPECT_EQ(Run({"GET", "in15"}), kNil);
  EXPECT_EQ(Run({"GET", "k"}), Str("db0"));
}

TEST_P(BasicTest, Expiry) {
  EXPECT_EQ(Run({"SET", "e1", "v", "PX", "100"}), kOk);
  EXPECT_EQ(Run({"SET", "e2", "v"}), kOk);
  EXPECT_EQ(Run({"PEXPIRE", "e2", "100"}), Int(1));
  EXPECT_EQ(Run({"SET", "e3", "v", "EX", "1000"}), kOk);
  EXPECT_EQ(Run({"SET", "e4", "v"}), kOk);
  ReplyPtr pttl = client_->Command({"PTTL", "e1"});
  ASSERT_NE(pttl, nullptr);
  ASSERT_EQ(pttl->type, REDIS_REPLY_INTEGER);
  EXPECT_LE(pttl->integer, 100);
  EXPECT_GE(pttl->integer, -2);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(Run({"GET", "e1"}), kNil);
  EXPECT_EQ(Run({"EXISTS", "e1", "e2"}), Int(0));
  EXPECT_EQ(Run({"TTL", "e1"}), Int(-2));
  EXPECT_EQ(Run({"GET", "e3"}), Str("v"));
  ReplyPtr ttl = client_->Command({"TTL", "e3"});
  ASSERT_NE(ttl, nullptr);
  ASSERT_EQ(ttl->type, REDIS_REPLY_INTEGER);
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 1000);
  EXPECT_EQ(Run({"TTL", "e4"}), Int(-1));
  EXPECT_EQ(Run({"PERSIST", "e3"}), Int(1));
  EXPECT_EQ(Run({"TTL", "e3"}), Int(-1));
}

TEST_P(BasicTest, MultiKeyAcrossShards) {
  std::vector<std::string> mset = {"MSET"};
  std::vector<std::string> mget = {"MGET"};
  std::string expected = "arr:[";
  for (int i = 0; i < 20; ++i) {
    std::string key = i % 5 == 0 ? absl::StrCat("{tag}k", i) : absl::StrCat("mk", i);
    mset.push_back(key);
    mset.push_back(absl::StrCat("val", i));
    mget.push_back(key);
    absl::StrAppend(&expected, Str(absl::StrCat("val", i)), ",");
  }
  mget.push_back("missing");
  absl::StrAppend(&expected, kNil, "]");
  EXPECT_EQ(Run(mset), kOk);
  EXPECT_EQ(Run(mget), expected);
  EXPECT_EQ(Run({"EXISTS", "mk1", "mk1", "mk2", "{tag}k0", "missing"}), Int(4));
  EXPECT_EQ(Run({"DEL", "mk1", "mk2", "missing", "mk1", "{tag}k5"}), Int(3));
  EXPECT_EQ(Run({"MGET", "mk1", "mk2", "mk3", "{tag}k5", "{tag}k10"}),
            absl::StrCat("arr:[nil,nil,", Str("val3"), ",nil,", Str("val10"), "]"));
  EXPECT_EQ(Run({"UNLINK", "mk3", "mk4", "missing"}), Int(2));
  EXPECT_EQ(Run({"MSETNX", "new1", "a", "mk6", "b", "new2", "c"}), Int(0));
  EXPECT_EQ(Run({"EXISTS", "new1", "new2"}), Int(0));
  EXPECT_EQ(Run({"GET", "mk6"}), Str("val6"));
  EXPECT_EQ(Run({"MSETNX", "new1", "a", "new2", "b", "{tag}new3", "c"}), Int(1));
  EXPECT_EQ(Run({"MGET", "new1", "new2", "{tag}new3"}),
            absl::StrCat("arr:[", Str("a"), ",", Str("b"), ",", Str("c"), "]"));
  EXPECT_EQ(Run({"DBSIZE"}), Int(20 - 5 + 3));
  EXPECT_EQ(Run({"MSET", "a", "1", "b"}), Err("ERR wrong number of arguments for 'mset' command"));
  EXPECT_EQ(Run({"MGET"}), Err("ERR wrong number of arguments for 'mget' command"));
}

TEST_P(BasicTest, Resp3Hello) {
  auto raw = ConnectRaw();
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->SendCommand({"HELLO", "3"}));
  std::optional<RespValue> hello = raw->Read();
  ASSERT_TRUE(hello.has_value()) << "no reply to HELLO 3; pending: " << Escape(raw->pending());
  ASSERT_EQ(hello->type, RespValue::Type::kMap) << hello->Render();
  EXPECT_EQ(hello->elems.size(), 14u) << hello->Render();
  auto field = [&](const char* name) {
    const RespValue* v = hello->Find(name);
    return v == nullptr ? std::string("<missing>") : v->Render();
  };
  EXPECT_EQ(field("server"), Str("redis"));
  EXPECT_EQ(field("version"), Str("7.0.15"));
  EXPECT_EQ(field("proto"), Int(3));
  const RespValue* id = hello->Find("id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->type, RespValue::Type::kInteger);
  EXPECT_EQ(field("mode"), Str("standalone"));
  EXPECT_EQ(field("role"), Str("master"));
  EXPECT_EQ(field("modules"), "arr:[]");
  // RESP3 null for a missing key, RESP2 null after HELLO 2.
  EXPECT_EQ(raw->Run({"SET", "k", "v"}), kOk);
  ASSERT_TRUE(raw->SendCommand({"GET", "missing"}));
  ASSERT_TRUE(raw->Read().has_value());
  EXPECT_EQ(raw->last_raw(), "_\r\n");
  EXPECT_EQ(raw->Run({"GET", "k"}), Str("v"));
  EXPECT_EQ(raw->Run({"HELLO", "4"}), Err("NOPROTO unsupported protocol version"));
  ASSERT_TRUE(raw->SendCommand({"HELLO", "2"}));
  std::optional<RespValue> hello2 = raw->Read();
  ASSERT_TRUE(hello2.has_value());
  ASSERT_EQ(hello2->type, RespValue::Type::kArray) << hello2->Render();
  ASSERT_EQ(hello2->elems.size(), 14u) << hello2->Render();
  EXPECT_EQ(hello2->elems[4].Render(), Str("proto"));
  EXPECT_EQ(hello2->elems[5].Render(), Int(2));
  ASSERT_TRUE(raw->SendCommand({"GET", "missing"}));
  ASSERT_TRUE(raw->Read().has_value());
  EXPECT_EQ(raw->last_raw(), "$-1\r\n");
}

TEST_P(BasicTest, InlineCommands) {
  auto raw = ConnectRaw();
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->Send("PING\r\n"));
  auto v = raw->Read();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(raw->last_raw(), "+PONG\r\n");
  ASSERT_TRUE(raw->Send("set a b\r\n"));
  v = raw->Read();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(raw->last_raw(), "+OK\r\n");
  ASSERT_TRUE(raw->Send("get a\r\n"));
  v = raw->Read();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(raw->last_raw(), "$1\r\nb\r\n");
  // Quotes, escapes, extra spaces, bare \n, empty lines (ignored), and inline mixed with RESP in
  // one write.
  ASSERT_TRUE(
      raw->Send("set k \"hello world\"\r\nget k\r\n\r\n  get   a  \r\nPING\n*1\r\n$4\r\nPING\r\n"
                "ECHO \"a\\x41\\n\"\r\nECHO 'single quoted'\r\n"));
  std::vector<std::string> want = {
      kOk,         Str("hello world"),  Str("b"), "status:\"PONG\"", "status:\"PONG\"",
      Str("aA\n"), Str("single quoted")};
  for (size_t i = 0; i < want.size(); ++i) {
    v = raw->Read();
    ASSERT_TRUE(v.has_value()) << "reply " << i << " missing; pending " << Escape(raw->pending());
    EXPECT_EQ(v->Render(), want[i]) << "reply " << i;
  }
  EXPECT_EQ(Run({"GET", "k"}), Str("hello world"));
}

TEST_P(BasicTest, ProtocolErrorClosesOnlyThatConnection) {
  auto other = Connect();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Run({"SET", "before", "1"}), kOk);
  struct Case {
    const char* bytes;
    const char* error;
  };
  const Case cases[] = {
      {"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"},
      {"*a\r\n", "ERR Protocol error: invalid multibulk length"},
      {"set k \"abc\r\n", "ERR Protocol error: unbalanced quotes in request"},
  };
  for (const Case& c : cases) {
    auto raw = ConnectRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_TRUE(raw->Send(c.bytes));
    std::optional<RespValue> v = raw->Read();
    ASSERT_TRUE(v.has_value()) << Escape(c.bytes) << ": no reply, pending "
                               << Escape(raw->pending());
    EXPECT_EQ(v->type, RespValue::Type::kError) << v->Render();
    EXPECT_TRUE(absl::StartsWith(v->str, "ERR Protocol error: ")) << v->Render();
    EXPECT_EQ(v->str, c.error) << "for " << Escape(c.bytes);
    EXPECT_TRUE(raw->WaitClosed(seconds(5)))
        << Escape(c.bytes) << ": connection not closed after the protocol error";
    EXPECT_EQ(other->Run({"PING"}), "status:\"PONG\"");
  }
  EXPECT_EQ(other->Run({"GET", "before"}), Str("1"));
  auto fresh = Connect();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->Run({"GET", "before"}), Str("1"));
}

TEST_P(BasicTest, QuitRepliesOkAndCloses) {
  for (const char* quit : {"QUIT\r\n", "*1\r\n$4\r\nquit\r\n"}) {
    auto raw = ConnectRaw();
    ASSERT_NE(raw, nullptr);
    ASSERT_TRUE(raw->Send(std::string("SET q 1\r\n") + quit + "GET q\r\n"));
    auto v = raw->Read();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->Render(), kOk);
    v = raw->Read();
    ASSERT_TRUE(v.has_value()) << "no reply to " << Escape(quit);
    EXPECT_EQ(raw->last_raw(), "+OK\r\n");
    EXPECT_TRUE(raw->WaitClosed(seconds(5))) << "not closed after " << Escape(quit);
    EXPECT_EQ(raw->pending(), "") << "a command after QUIT was answered";
  }
  EXPECT_EQ(Run({"PING"}), "status:\"PONG\"");
}

TEST_P(BasicTest, ErrorTexts) {
  EXPECT_EQ(Run({"FOOBAR", "a", "b"}),
            Err("ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' "));
  EXPECT_EQ(Run({"foobar"}), Err("ERR unknown command 'foobar', with args beginning with: "));
  EXPECT_EQ(Run({"GET"}), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(Run({"get", "a", "b"}), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(Run({"SET", "k"}), Err("ERR wrong number of arguments for 'set' command"));
  EXPECT_EQ(Run({"Expire", "k"}), Err("ERR wrong number of arguments for 'expire' command"));
  EXPECT_EQ(Run({"SET", "k", "v", "bogus"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SET", "n", "abc"}), kOk);
  EXPECT_EQ(Run({"INCR", "n"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"PING"}), "status:\"PONG\"");
}

TEST_P(BasicTest, RedisCli) {
  ShellResult r = Cli("set k v");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n");
  r = Cli("get k");
  EXPECT_EQ(r.out, "v\n");
  r = Cli("--no-raw get k");
  EXPECT_EQ(r.out, "\"v\"\n");
  r = Cli("--no-raw get missing");
  EXPECT_EQ(r.out, "(nil)\n");
  r = Cli("--no-raw mget k missing");
  EXPECT_EQ(r.out, "1) \"v\"\n2) (nil)\n");
  r = Cli("ping");
  EXPECT_EQ(r.out, "PONG\n");
  r = Cli("-n 2 set indb2 x");
  EXPECT_EQ(r.out, "OK\n");
  r = Cli("-n 2 dbsize");
  EXPECT_EQ(r.out, "1\n");
  r = Cli("", "set a 1\nincr a\nget a\nget nokey\nappend a 0\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK\n2\n2\n\n2\n");
  r = Cli("INFO server");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "redis_version:7.0.15")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "# Server")) << r.out;
  r = Cli("foobar");
  EXPECT_TRUE(absl::StartsWith(r.out, "ERR unknown command 'foobar'")) << r.out;
}

TEST_P(BasicTest, ShutdownCommandExitsZero) {
  EXPECT_EQ(Run({"SET", "k", "v"}), kOk);
  ReplyPtr r = client_->Command({"SHUTDOWN"});
  // The server closes the connection without a reply (or replies with an error on failure).
  if (r != nullptr) ADD_FAILURE() << "SHUTDOWN replied " << Render(r.get());
  ASSERT_TRUE(server_->WaitForExit(seconds(10))) << "still running 10 s after SHUTDOWN\n"
                                                 << server_->LogTail();
  EXPECT_TRUE(server_->exited()) << server_->DescribeExit() << "\n" << server_->LogTail();
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeExit() << "\n" << server_->LogTail();
}

TEST_P(BasicTest, SigtermExitsZero) {
  EXPECT_EQ(Run({"SET", "k", "v"}), kOk);
  EXPECT_TRUE(server_->Stop(seconds(10))) << server_->DescribeExit() << "\n" << server_->LogTail();
  EXPECT_TRUE(server_->exited()) << server_->DescribeExit();
  EXPECT_EQ(server_->exit_code(), 0) << server_->DescribeExit() << "\n" << server_->LogTail();
}

// Clients on (likely) every reactor thread keep pipelining INCRs while the server is shut down:
// each must see only correct replies, then the connection closing (not a hang); the process
// exits 0.
void ShutdownWithBusyClients(BasicTest* test, ServerProcess* server, bool use_sigterm) {
  constexpr int kClients = 8;
  constexpr int kBatch = 10;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    std::string error;
    clients.push_back(Client::Connect(server->port(), seconds(10), &error));
    ASSERT_NE(clients.back(), nullptr) << error;
    // A first complete round trip per connection before the shutdown starts.
    ASSERT_EQ(clients.back()->Run({"SET", absl::StrCat("w:", i), "0"}), kOk);
  }
  std::atomic<int> ready{0};
  std::atomic<int> wrong{0};
  std::mutex mu;
  std::vector<std::string> messages;
  std::vector<std::string> endings(kClients);
  std::vector<int64_t> done(kClients, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Client* c = clients[i].get();
      std::string key = absl::StrCat("w:", i);
      int64_t expect = 0;
      bool counted = false;
      for (int iter = 0; iter < 100000; ++iter) {
        for (int b = 0; b < kBatch; ++b) c->Append({"INCR", key});
        for (int b = 0; b < kBatch; ++b) {
          ReplyPtr r = c->GetReply();
          if (r == nullptr) {
            endings[i] = c->error();
            done[i] = expect;
            return;
          }
          ++expect;
          if (r->type != REDIS_REPLY_INTEGER || r->integer != expect) {
            wrong.fetch_add(1);
            std::lock_guard<std::mutex> lock(mu);
            messages.push_back(
                absl::StrCat("client ", i, ": INCR #", expect, " got ", Render(r.get())));
            endings[i] = "wrong reply";
            done[i] = expect;
            return;
          }
        }
        if (!counted && expect >= 50) {
          counted = true;
          ready.fetch_add(1);
        }
      }
      endings[i] = "loop bound reached without the connection closing";
    });
  }
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (ready.load() < kClients && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(ready.load(), kClients) << "clients did not all get going";
  if (use_sigterm) {
    EXPECT_TRUE(server->Signal(SIGTERM));
  } else {
    std::string error;
    auto admin = Client::Connect(server->port(), seconds(10), &error);
    ASSERT_NE(admin, nullptr) << error;
    ReplyPtr r = admin->Command({"SHUTDOWN"});
    if (r != nullptr) ADD_FAILURE() << "SHUTDOWN replied " << Render(r.get());
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& m : messages) ADD_FAILURE() << m;
  EXPECT_EQ(wrong.load(), 0);
  for (int i = 0; i < kClients; ++i) {
    // hiredis reports a read timeout as "Resource temporarily unavailable": that is a hang.
    EXPECT_FALSE(absl::StrContains(endings[i], "temporarily unavailable"))
        << "client " << i << " timed out instead of seeing the connection close";
    EXPECT_FALSE(endings[i] == "wrong reply" || absl::StrContains(endings[i], "loop bound"))
        << "client " << i << ": " << endings[i];
  }
  ASSERT_TRUE(server->WaitForExit(seconds(10))) << "still running\n" << server->LogTail();
  EXPECT_TRUE(server->exited()) << server->DescribeExit() << "\n" << server->LogTail();
  EXPECT_EQ(server->exit_code(), 0) << server->DescribeExit() << "\n" << server->LogTail();
}

TEST_P(BasicTest, ShutdownWithBusyClientsOnOtherThreads) {
  ShutdownWithBusyClients(this, server_.get(), /*use_sigterm=*/false);
}

TEST_P(BasicTest, SigtermWithBusyClientsOnOtherThreads) {
  ShutdownWithBusyClients(this, server_.get(), /*use_sigterm=*/true);
}

// Threads of process `pid` whose scheduling policy is SCHED_BATCH.
int SchedBatchThreads(pid_t pid) {
  int count = 0;
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    int tid = atoi(entry->d_name);
    if (tid > 0 && sched_getscheduler(tid) == SCHED_BATCH) ++count;
  }
  closedir(dir);
  return count;
}

// Two reactors confined to one CPU take turns there: they run under SCHED_BATCH, so that one
// woken by the other's message does not preempt it mid-turn. One reactor per CPU stays as it was.
TEST(SchedulingTest, ReactorsSharingACpuRunUnderSchedBatch) {
  if (ShardisLabel() != "shardis") GTEST_SKIP() << "a Shardis policy";
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);  // inherited by the servers forked here
  std::string error;
  auto shared = StartShardis(2, {}, &error);
  auto alone = StartShardis(1, {}, &error);
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  ASSERT_NE(shared, nullptr) << error;
  ASSERT_NE(alone, nullptr) << error;
  EXPECT_EQ(SchedBatchThreads(shared->pid()), 2);
  EXPECT_EQ(SchedBatchThreads(alone->pid()), 0);
  EXPECT_TRUE(absl::StrContains(shared->Log(), "they run under SCHED_BATCH")) << shared->LogTail();

  // Cross-shard traffic between the two goes on as usual.
  auto client = Client::Connect(shared->port(), seconds(10), &error);
  ASSERT_NE(client, nullptr) << error;
  std::vector<std::string> mset = {"MSET"};
  for (int i = 0; i < 50; ++i) {
    mset.push_back(absl::StrCat("key:", i));
    mset.push_back(absl::StrCat("value:", i));
  }
  ASSERT_EQ(client->Run(mset), kOk);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client->Append({"GET", absl::StrCat("key:", i)}));
  }
  for (int i = 0; i < 50; ++i) {
    ReplyPtr r = client->GetReply();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(Render(r.get()), Str(absl::StrCat("value:", i)));
  }
  EXPECT_TRUE(shared->Stop());
  EXPECT_TRUE(alone->Stop());
}

// unixsocket: clients connect through the socket file (with unixsocketperm's permissions), are
// spread over the reactors, show as Redis shows them in CLIENT INFO (addr and laddr the path
// with ":0", flag U), reach keys on every shard; the file goes when the server stops.
TEST(UnixSocketTest, ClientsOnEveryReactorAndTheFileRemovedAtExit) {
  if (ShardisLabel() != "shardis") GTEST_SKIP() << "StartShardis ignores extra arguments";
  std::string dir = MakeTempDir("shardis-unix");
  std::string path = dir + "/s.sock";
  std::string error;
  auto server = StartShardis(2, {"--unixsocket", path, "--unixsocketperm", "700"}, &error);
  ASSERT_NE(server, nullptr) << error;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(Client::ConnectUnix(path, seconds(10), &error));
    ASSERT_NE(clients.back(), nullptr) << error;
    EXPECT_EQ(clients.back()->Run({"PING"}), "status:\"PONG\"");
  }
  std::string info = clients[0]->Run({"CLIENT", "INFO"});
  EXPECT_TRUE(absl::StrContains(info, absl::StrCat(" addr=", path, ":0 laddr=", path, ":0 ")))
      << info;
  EXPECT_TRUE(absl::StrContains(info, " flags=U ")) << info;
  auto tcp = Client::Connect(server->port(), seconds(10), &error);
  ASSERT_NE(tcp, nullptr) << error;
  EXPECT_EQ(tcp->Run({"CONFIG", "GET", "unixsocket"}),
            absl::StrCat("arr:[str:\"unixsocket\",", Str(path), "]"));
  // Handed out in turn: both reactors hold some of the four.
  for (int t = 0; t < 2; ++t) {
    std::string line = InfoField(*tcp, absl::StrCat("thread", t), "threads");
    EXPECT_FALSE(absl::StartsWith(line, "connections=0,")) << t << ": " << line;
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(clients[i % 4]->Run({"SET", absl::StrCat("k", i), absl::StrCat(i)}), kOk);
  }
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(clients[(i + 1) % 4]->Run({"GET", absl::StrCat("k", i)}), Str(absl::StrCat(i)));
  }
  clients.clear();
  tcp.reset();
  EXPECT_TRUE(server->Stop());
  EXPECT_NE(stat(path.c_str(), &st), 0);  // removed
  RemoveTree(dir);
}

INSTANTIATE_TEST_SUITE_P(Threads, BasicTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("Threads", info.param);
                         });

}  // namespace
}  // namespace shardis::test
