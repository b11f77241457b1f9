// CLIENT TRACKING end to end: option errors and TRACKINGINFO/GETREDIR/CACHING replies compared
// with the reference redis-server (RESP2 and RESP3); invalidation pushes (RESP3) and RESP2
// redirect messages for reads and writes on any thread, BCAST prefixes, OPTIN/OPTOUT, NOLOOP,
// FLUSHALL's null, expiry, and INFO's tracking fields; a client's own writes pushed after their
// reply, as Redis. Every wait is bounded.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;

std::vector<std::string> OptionSession(int port, bool resp3) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  if (resp3) c->Run({"HELLO", "3"});
  const std::vector<std::vector<std::string>> cmds = {
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "GETREDIR"},
      {"CLIENT", "CACHING", "yes"},
      {"CLIENT", "TRACKING", "on"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "GETREDIR"},
      {"CLIENT", "CACHING", "yes"},
      {"CLIENT", "CACHING", "no"},
      {"CLIENT", "TRACKING", "on", "optin", "noloop"},
      {"CLIENT", "CACHING", "yes"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "CACHING", "maybe"},
      {"CLIENT", "TRACKING", "on", "optout"},
      {"CLIENT", "TRACKING", "on", "bcast"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKING", "on", "optout"},
      {"CLIENT", "CACHING", "no"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKING", "on", "prefix", "a"},
      {"CLIENT", "TRACKING", "on", "bcast", "optin"},
      {"CLIENT", "TRACKING", "on", "optin", "optout"},
      {"CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "ab"},
      {"CLIENT", "TRACKING", "on", "bcast", "prefix", "b", "prefix", "a"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "on", "bcast", "prefix", "a"},
      {"CLIENT", "TRACKING", "on", "bcast", "prefix", "c"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKING", "on", "bcast"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKING", "on", "redirect", "999999"},
      {"CLIENT", "TRACKING", "on", "redirect", "x"},
      {"CLIENT", "TRACKING", "on", "nope"},
      {"CLIENT", "TRACKING", "maybe"},
      {"CLIENT", "TRACKING"},
      {"CLIENT", "TRACKINGINFO", "x"},
      {"CLIENT", "TRACKINGINFO"},
  };
  for (const auto& cmd : cmds) out.push_back(RenderCommand(cmd) + " -> " + c->Run(cmd));
  return out;
}

TEST(TrackingTest, OptionRepliesMatchRedis) {
  auto redis = StartRedis();
  auto shardis = StartShardis(2);
  ASSERT_NE(redis, nullptr);
  ASSERT_NE(shardis, nullptr);
  for (bool resp3 : {false, true}) {
    std::vector<std::string> expected = OptionSession(redis->port(), resp3);
    std::vector<std::string> got = OptionSession(shardis->port(), resp3);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "resp3=" << resp3;
  }
}

// A client's own write invalidates the key it read after the write's reply (Redis 7 defers the
// running command's invalidations), also when the key lives on another thread's shard.
std::vector<std::string> OwnWriteSession(int port) {
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  c->Run({"HELLO", "3"});
  out.push_back(c->Run({"CLIENT", "TRACKING", "on"}));
  auto read = [&c, &out] {
    auto v = c->Read(milliseconds(5000));
    out.push_back(v ? v->Render() : "timeout");
  };
  for (const char* key : {"a", "b", "c", "d", "key:0", "{x}y"}) {
    out.push_back(c->Run({"GET", key}));
    c->SendCommand({"SET", key, "v"});
    read();
    read();
    out.push_back(c->Run({"GET", key}));
    // Pipelined: the push comes right after the SET's reply, before PING's.
    c->Send(EncodeCommand({"SET", key, "w"}) + EncodeCommand({"PING"}));
    read();
    read();
    read();
  }
  return out;
}

TEST(TrackingTest, OwnWriteInvalidationFollowsTheReply) {
  auto redis = StartRedis();
  ASSERT_NE(redis, nullptr);
  std::vector<std::string> expected = OwnWriteSession(redis->port());
  for (int threads : {1, 2}) {
    auto shardis = StartShardis(threads);
    ASSERT_NE(shardis, nullptr);
    EXPECT_EQ(OwnWriteSession(shardis->port()), expected) << "threads=" << threads;
  }
}

// RESET turns client tracking off, as Redis: TRACKINGINFO says off, CLIENT INFO has no 't' flag
// and a later write by another client sends no invalidation.
std::vector<std::string> ResetSession(int port) {
  auto c = RawConnection::Connect(port);
  auto w = RawConnection::Connect(port);
  if (c == nullptr || w == nullptr) return {"connect-failed"};
  std::vector<std::string> out;
  c->Run({"HELLO", "3"});
  out.push_back(c->Run({"CLIENT", "TRACKING", "on"}));
  out.push_back(c->Run({"GET", "rk"}));
  out.push_back(c->Run({"RESET"}));
  out.push_back(c->Run({"CLIENT", "TRACKINGINFO"}));
  std::string info = c->Run({"CLIENT", "INFO"});
  size_t flags = info.find("flags=");
  out.push_back(flags == std::string::npos ? info
                                           : info.substr(flags, info.find(' ', flags) - flags));
  out.push_back(w->Run({"SET", "rk", "v"}));
  out.push_back(c->Run({"PING"}));  // an invalidation would come first
  return out;
}

TEST(TrackingTest, ResetTurnsTrackingOff) {
  auto redis = StartRedis();
  ASSERT_NE(redis, nullptr);
  std::vector<std::string> expected = ResetSession(redis->port());
  for (int threads : {1, 2}) {
    auto shardis = StartShardis(threads);
    ASSERT_NE(shardis, nullptr);
    EXPECT_EQ(ResetSession(shardis->port()), expected) << "threads=" << threads;
  }
}

// Waits (bounded) for the next push/message on `c`, skipping nothing: "timeout" when none.
std::string NextPush(RawConnection& c, milliseconds wait = milliseconds(5000)) {
  auto v = c.Read(wait);
  return v ? v->Render() : "timeout";
}

std::string Push(const std::string& key) {
  return "push:[str:\"invalidate\",arr:[str:\"" + key + "\"]]";
}

class TrackingThreads : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    shardis_ = StartShardis(GetParam());
    ASSERT_NE(shardis_, nullptr);
  }
  std::unique_ptr<RawConnection> Resp3() {
    auto c = RawConnection::Connect(shardis_->port());
    EXPECT_NE(c, nullptr);
    c->Run({"HELLO", "3"});
    return c;
  }
  std::unique_ptr<ServerProcess> shardis_;
};

TEST_P(TrackingThreads, DefaultModeInvalidatesReadKeysOnce) {
  // Several tracking clients (spread over the threads) read keys of every shard; another client
  // writes them.
  std::vector<std::unique_ptr<RawConnection>> trackers;
  for (int i = 0; i < 4; ++i) {
    trackers.push_back(Resp3());
    ASSERT_EQ(trackers.back()->Run({"CLIENT", "TRACKING", "on"}), "status:\"OK\"");
  }
  auto writer = Client::Connect(shardis_->port());
  for (int k = 0; k < 8; ++k) writer->Run({"SET", "key" + std::to_string(k), "v"});
  for (auto& t : trackers) {
    for (int k = 0; k < 8; ++k) {
      ASSERT_EQ(t->Run({"GET", "key" + std::to_string(k)}), "str:\"v\"");
    }
    ASSERT_EQ(t->Run({"MGET", "m1", "m2", "m3"}), "arr:[nil,nil,nil]");
  }
  for (int k = 0; k < 8; ++k) writer->Run({"SET", "key" + std::to_string(k), "w"});
  writer->Run({"MSET", "m1", "x", "m2", "x", "m3", "x"});
  for (auto& t : trackers) {
    std::vector<std::string> got;
    for (int i = 0; i < 11; ++i) got.push_back(NextPush(*t));
    std::sort(got.begin(), got.end());
    std::vector<std::string> want;
    for (int k = 0; k < 8; ++k) want.push_back(Push("key" + std::to_string(k)));
    for (const char* m : {"m1", "m2", "m3"}) want.push_back(Push(m));
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
  }
  // Forgotten after one invalidation: a second write says nothing.
  writer->Run({"SET", "key0", "again"});
  for (auto& t : trackers) EXPECT_EQ(NextPush(*t, milliseconds(300)), "timeout");
  EXPECT_EQ(trackers[0]->Run({"CLIENT", "TRACKING", "off"}), "status:\"OK\"");
}

TEST_P(TrackingThreads, Resp2RedirectToAnyThread) {
  for (int round = 0; round < 4; ++round) {
    auto sink = RawConnection::Connect(shardis_->port());
    ASSERT_EQ(sink->Run({"SUBSCRIBE", "__redis__:invalidate"}),
              "arr:[str:\"subscribe\",str:\"__redis__:invalidate\",int:1]");
    auto id_conn = RawConnection::Connect(shardis_->port());
    auto ask = RawConnection::Connect(shardis_->port());
    std::string sink_id;
    {
      // The sink's id, from CLIENT LIST (the sink is subscribed).
      std::string list = ask->Run({"CLIENT", "LIST"});
      size_t p = list.find("flags=P");
      ASSERT_NE(p, std::string::npos) << list;
      size_t id = list.rfind("id=", p);
      sink_id = list.substr(id + 3, list.find(' ', id) - id - 3);
    }
    auto tracker = RawConnection::Connect(shardis_->port());
    ASSERT_EQ(tracker->Run({"CLIENT", "TRACKING", "on", "REDIRECT", sink_id}), "status:\"OK\"");
    EXPECT_EQ(tracker->Run({"CLIENT", "GETREDIR"}), "int:" + sink_id);
    std::string key = "rk" + std::to_string(round);
    tracker->Run({"GET", key});
    auto writer = Client::Connect(shardis_->port());
    writer->Run({"SET", key, "1"});
    EXPECT_EQ(NextPush(*sink),
              "arr:[str:\"message\",str:\"__redis__:invalidate\",arr:[str:\"" + key + "\"]]");
    // FLUSHALL: a null to every tracking client.
    writer->Run({"FLUSHALL"});
    EXPECT_EQ(NextPush(*sink), "arr:[str:\"message\",str:\"__redis__:invalidate\",nil]");
  }
}

TEST_P(TrackingThreads, BcastOptinOptoutNoloopFlushExpiry) {
  auto writer = Client::Connect(shardis_->port());
  // BCAST with a prefix: every matching key written anywhere, read or not.
  auto b = Resp3();
  ASSERT_EQ(b->Run({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:"}), "status:\"OK\"");
  writer->Run({"SET", "user:1", "x"});
  EXPECT_EQ(NextPush(*b), Push("user:1"));
  writer->Run({"SET", "other", "x"});
  writer->Run({"SET", "user:2", "x"});
  EXPECT_EQ(NextPush(*b), Push("user:2"));
  // OPTIN: only reads after CLIENT CACHING yes are remembered.
  auto in = Resp3();
  ASSERT_EQ(in->Run({"CLIENT", "TRACKING", "on", "OPTIN"}), "status:\"OK\"");
  in->Run({"GET", "oi1"});
  ASSERT_EQ(in->Run({"CLIENT", "CACHING", "yes"}), "status:\"OK\"");
  in->Run({"GET", "oi2"});
  in->Run({"GET", "oi3"});  // CACHING held for one command only
  writer->Run({"MSET", "oi1", "1", "oi2", "2", "oi3", "3"});
  EXPECT_EQ(NextPush(*in), Push("oi2"));
  EXPECT_EQ(NextPush(*in, milliseconds(300)), "timeout");
  // OPTOUT: everything but the command after CLIENT CACHING no.
  auto out = Resp3();
  ASSERT_EQ(out->Run({"CLIENT", "TRACKING", "on", "OPTOUT"}), "status:\"OK\"");
  ASSERT_EQ(out->Run({"CLIENT", "CACHING", "no"}), "status:\"OK\"");
  out->Run({"GET", "oo1"});
  out->Run({"GET", "oo2"});
  writer->Run({"MSET", "oo1", "1", "oo2", "2"});
  EXPECT_EQ(NextPush(*out), Push("oo2"));
  EXPECT_EQ(NextPush(*out, milliseconds(300)), "timeout");
  // NOLOOP: the client's own writes say nothing to it.
  auto loop = Resp3();
  ASSERT_EQ(loop->Run({"CLIENT", "TRACKING", "on", "NOLOOP"}), "status:\"OK\"");
  loop->Run({"GET", "nl1"});
  loop->Run({"GET", "nl2"});
  EXPECT_EQ(loop->Run({"SET", "nl1", "x"}), "status:\"OK\"");
  EXPECT_EQ(NextPush(*loop, milliseconds(300)), "timeout");
  writer->Run({"SET", "nl2", "x"});
  EXPECT_EQ(NextPush(*loop), Push("nl2"));
  // Expiry of a tracked key (active expiry finds it).
  writer->Run({"SET", "ex1", "x", "PX", "50"});
  loop->Run({"GET", "ex1"});
  EXPECT_EQ(NextPush(*loop), Push("ex1"));
  // INFO counts the tracking clients (b, in, out, loop).
  std::string info = writer->Run({"INFO", "clients"});
  EXPECT_NE(info.find("tracking_clients:4"), std::string::npos) << info;
  // FLUSHALL: every tracking client gets a null invalidation (BCAST included).
  writer->Run({"FLUSHALL"});
  for (RawConnection* c : {b.get(), in.get(), out.get(), loop.get()}) {
    EXPECT_EQ(NextPush(*c), "push:[str:\"invalidate\",nil]");
  }
  info = writer->Run({"INFO", "stats"});
  EXPECT_NE(info.find("tracking_total_keys:0"), std::string::npos) << info;
  EXPECT_NE(info.find("tracking_total_prefixes:1"), std::string::npos) << info;
  b.reset();
  in.reset();
  // Bounded wait for the closes to be noticed.
  for (int i = 0; i < 50; ++i) {
    info = writer->Run({"INFO", "clients"});
    if (info.find("tracking_clients:2") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_NE(info.find("tracking_clients:2"), std::string::npos) << info;
}

// BCAST: the keys of one prefix written by one command (or one transaction) come in one push,
// one push per prefix, as Redis gathers them before it sleeps. Keys of one slot share a shard.
TEST_P(TrackingThreads, BcastGathersKeysPerPrefix) {
  auto writer = Client::Connect(shardis_->port());
  auto b = Resp3();
  ASSERT_EQ(b->Run({"CLIENT", "TRACKING", "on", "BCAST"}), "status:\"OK\"");
  writer->Run({"MSET", "a{t}", "1", "b{t}", "2", "c{t}", "3"});
  EXPECT_EQ(NextPush(*b), "push:[str:\"invalidate\",arr:[str:\"a{t}\",str:\"b{t}\",str:\"c{t}\"]]");
  ASSERT_EQ(b->Run({"CLIENT", "TRACKING", "off"}), "status:\"OK\"");
  ASSERT_EQ(b->Run({"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:"}),
            "status:\"OK\"");
  auto tx = RawConnection::Connect(shardis_->port());
  tx->Run({"MULTI"});
  for (const char* k : {"a:1{t}", "a:2{t}", "b:1{t}", "c:1{t}", "a:1{t}"}) tx->Run({"INCR", k});
  tx->Run({"EXEC"});
  std::vector<std::string> got = {NextPush(*b), NextPush(*b)};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "push:[str:\"invalidate\",arr:[str:\"a:1{t}\",str:\"a:2{t}\"]]", Push("b:1{t}")}));
  EXPECT_EQ(NextPush(*b, milliseconds(300)), "timeout");
}

TEST_P(TrackingThreads, TableLimitEvictsWithInvalidation) {
  auto writer = Client::Connect(shardis_->port());
  ASSERT_EQ(writer->Run({"CONFIG", "SET", "tracking-table-max-keys", "8"}), "status:\"OK\"");
  auto t = Resp3();
  ASSERT_EQ(t->Run({"CLIENT", "TRACKING", "on"}), "status:\"OK\"");
  for (int k = 0; k < 40; ++k) t->Run({"GET", "lim" + std::to_string(k)});
  // The periodic task brings the table back under the limit, telling the client.
  int pushes = 0;
  while (NextPush(*t, milliseconds(1000)) != "timeout" && pushes < 100) ++pushes;
  EXPECT_GE(pushes, 40 - 8);
  std::string info = writer->Run({"INFO", "stats"});
  size_t p = info.find("tracking_total_keys:");
  ASSERT_NE(p, std::string::npos);
  EXPECT_LE(std::stoi(info.substr(p + 20)), 8) << info;
}

INSTANTIATE_TEST_SUITE_P(Threads, TrackingThreads, ::testing::Values(1, 4));

}  // namespace
}  // namespace shardis::test
