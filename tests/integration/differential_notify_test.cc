// Differential test of keyspace notifications: the same command scripts run against the
// reference redis-server 7.0 and shardis-server (--threads 1 and --threads 3), each with a
// subscriber on PSUBSCRIBE __key*__:* (and SUBSCRIBE on a marker channel). After every command
// the writer PUBLISHes a marker; the subscriber's messages up to that marker are the command's
// events. With one thread they must equal redis-server's exactly, in order; with three threads,
// where one command's keys may live on several shards that publish in parallel, as a multiset
// (one shard's events keep their order, which the one-thread run checks).
//
// Scenarios cover every event family (strings, generic, lists, hashes, sets, sorted sets, geo,
// bitmaps, HyperLogLog) under notify-keyspace-events KEA, a few narrower flag sets, "new" (n),
// and expiry: lazy (DEBUG SET-ACTIVE-EXPIRE 0, then a read) and active (the cron deletes the
// key nobody reads), and streams with their consumer groups.
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

using Cmd = std::vector<std::string>;

// One server under test: a writer and a subscriber.
struct Side {
  std::string name;
  ServerProcess* server = nullptr;
  std::unique_ptr<Client> writer;
  std::unique_ptr<RawConnection> sub;
  std::string last_reply;  // the last bulk reply (for RESTORE's payload)
  int marker = 0;
  bool in_multi = false;  // markers wait for EXEC (a PUBLISH would be queued)
};

bool Connect(Side* s) {
  s->writer = Client::Connect(s->server->port());
  s->sub = RawConnection::Connect(s->server->port());
  if (s->writer == nullptr || s->sub == nullptr) return false;
  if (!s->sub->SendCommand({"PSUBSCRIBE", "__key*__:*"})) return false;
  if (!s->sub->Read()) return false;
  if (!s->sub->SendCommand({"SUBSCRIBE", "marker"})) return false;
  return s->sub->Read().has_value();
}

// Reads the subscriber's messages until marker `n`; "channel payload" per keyspace message.
// Stops (with "timeout") when nothing comes within 10 s, and at 10000 messages.
std::vector<std::string> ReadUntilMarker(Side* s, int n) {
  std::vector<std::string> events;
  for (int i = 0; i < 10000; ++i) {
    std::optional<RespValue> v = s->sub->Read(std::chrono::seconds(10));
    if (!v) {
      events.push_back("timeout");
      return events;
    }
    if (v->elems.size() == 3 && v->elems[0].str == "message" && v->elems[1].str == "marker") {
      if (v->elems[2].str == std::to_string(n)) return events;
      continue;
    }
    if (v->elems.size() == 4 && v->elems[0].str == "pmessage") {
      events.push_back(v->elems[2].str + " " + v->elems[3].str);
    }
  }
  return events;
}

// Runs one command (with "$LAST" replaced by the side's previous bulk reply) and returns its
// events.
std::vector<std::string> RunStep(Side* s, Cmd args, std::string* reply) {
  for (std::string& a : args) {
    if (a == "$LAST") a = s->last_reply;
  }
  ReplyPtr r = s->writer->Command(args);
  *reply = Render(r.get());
  if (r != nullptr && r->type == REDIS_REPLY_STRING) s->last_reply.assign(r->str, r->len);
  std::string name = args[0];
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  if (name == "MULTI") s->in_multi = true;
  if (name == "EXEC" || name == "DISCARD") s->in_multi = false;
  if (s->in_multi) return {};  // queued: its events come with EXEC's
  int n = ++s->marker;
  s->writer->Run({"PUBLISH", "marker", std::to_string(n)});
  return ReadUntilMarker(s, n);
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += "  " + s + "\n";
  return out;
}

class DifferentialNotifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = StartRedis({"--enable-debug-command", "yes"}).release();
    one_ = StartShardis(1).release();
    three_ = StartShardis(3).release();
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete one_;
    delete three_;
    redis_ = one_ = three_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(redis_, nullptr);
    ASSERT_NE(one_, nullptr);
    ASSERT_NE(three_, nullptr);
    sides_[0].name = "redis-server";
    sides_[0].server = redis_;
    sides_[1].name = "shardis --threads 1";
    sides_[1].server = one_;
    sides_[2].name = "shardis --threads 3";
    sides_[2].server = three_;
    for (Side& s : sides_) {
      ASSERT_TRUE(Connect(&s)) << s.name;
      s.writer->Run({"FLUSHALL"});
      ASSERT_EQ(s.writer->Run({"DEBUG", "SET-ACTIVE-EXPIRE", "1"}), "status:\"OK\"") << s.name;
    }
  }
  void TearDown() override {
    for (Side& s : sides_) {
      if (s.writer != nullptr) s.writer->Run({"CONFIG", "SET", "notify-keyspace-events", ""});
    }
  }

  // Sets the flags everywhere, then runs the script and compares each command's events.
  // `expect_events`: the reference publishes something (guards against comparing silences).
  void RunScript(const std::string& flags, const std::vector<Cmd>& script,
                 bool expect_events = true) {
    for (Side& s : sides_) {
      ASSERT_EQ(s.writer->Run({"CONFIG", "SET", "notify-keyspace-events", flags}), "status:\"OK\"");
    }
    size_t reference_events = 0;
    for (const Cmd& cmd : script) {
      std::string replies[3];
      std::vector<std::string> events[3];
      for (int i = 0; i < 3; ++i) events[i] = RunStep(&sides_[i], cmd, &replies[i]);
      reference_events += events[0].size();
      for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(std::find(events[i].begin(), events[i].end(), "timeout") == events[i].end())
            << sides_[i].name << ": no marker after " << RenderCommand(cmd);
      }
      std::string where = "flags " + flags + ", command " + RenderCommand(cmd);
      EXPECT_EQ(replies[1], replies[0]) << where;
      EXPECT_EQ(events[1], events[0]) << where << "\nredis-server:\n"
                                      << Join(events[0]) << sides_[1].name << ":\n"
                                      << Join(events[1]);
      std::vector<std::string> a = events[0], b = events[2];
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      EXPECT_EQ(b, a) << where << "\nredis-server:\n"
                      << Join(events[0]) << sides_[2].name << ":\n"
                      << Join(events[2]);
    }
    if (expect_events)
      EXPECT_GT(reference_events, 0u) << "flags " << flags << ": the script raised no event at all";
  }

  static ServerProcess* redis_;
  static ServerProcess* one_;
  static ServerProcess* three_;
  Side sides_[3];
};

ServerProcess* DifferentialNotifyTest::redis_ = nullptr;
ServerProcess* DifferentialNotifyTest::one_ = nullptr;
ServerProcess* DifferentialNotifyTest::three_ = nullptr;

TEST_F(DifferentialNotifyTest, Strings) {
  RunScript("KEA", {
                       {"SET", "a", "1"},
                       {"SET", "a", "2", "XX"},
                       {"SET", "b", "1", "NX"},
                       {"SET", "b", "2", "NX"},
                       {"SET", "b", "3", "EX", "100", "GET"},
                       {"SETEX", "c", "100", "v"},
                       {"PSETEX", "c", "100000", "v"},
                       {"SETNX", "c", "v"},
                       {"GETSET", "a", "3"},
                       {"MSET", "m1", "1", "m2", "2", "m3", "3"},
                       {"MSETNX", "m1", "1", "m4", "4"},
                       {"MSETNX", "m5", "1", "m4", "4"},
                       {"APPEND", "a", "xyz"},
                       {"APPEND", "n1", "abc"},
                       {"INCR", "i"},
                       {"INCRBY", "i", "5"},
                       {"DECR", "i"},
                       {"DECRBY", "i", "2"},
                       {"INCRBYFLOAT", "f", "1.5"},
                       {"INCR", "a"},
                       {"SETRANGE", "a", "1", "QQ"},
                       {"SETRANGE", "none", "0", ""},
                       {"SETRANGE", "a", "0", ""},
                       {"SETRANGE", "sr", "3", "x"},
                       {"GETDEL", "a"},
                       {"GETDEL", "a"},
                       {"GETEX", "b", "PX", "100000"},
                       {"GETEX", "b", "PERSIST"},
                       {"GETEX", "b", "PERSIST"},
                       {"GETEX", "b"},
                       {"GETEX", "b", "PXAT", "1"},
                       {"SETBIT", "bits", "7", "1"},
                       {"BITOP", "OR", "dest", "bits"},
                       {"BITOP", "AND", "dest", "nokey1"},
                       {"BITOP", "AND", "dest", "nokey1"},
                       {"BITFIELD", "bf", "SET", "u8", "0", "255"},
                       {"BITFIELD", "bf", "GET", "u8", "0"},
                       {"BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "10"},
                       {"PFADD", "hll", "a", "b"},
                       {"PFADD", "hll", "a"},
                       {"PFMERGE", "hll2", "hll"},
                   });
}

TEST_F(DifferentialNotifyTest, Generic) {
  RunScript("KEA", {
                       {"SET", "b", "1"},
                       {"EXPIRE", "b", "100"},
                       {"PEXPIRE", "b", "100000", "NX"},
                       {"EXPIRE", "b", "1000", "GT"},
                       {"PERSIST", "b"},
                       {"PERSIST", "b"},
                       {"EXPIRE", "b", "100", "XX"},
                       {"EXPIRE", "nokey", "100"},
                       {"RENAME", "b", "bb"},
                       {"RENAME", "bb", "bb"},
                       {"SET", "m1", "x"},
                       {"RENAMENX", "bb", "m1"},
                       {"RENAMENX", "bb", "rn"},
                       {"RENAME", "nokey", "x"},
                       {"COPY", "rn", "cc"},
                       {"COPY", "rn", "cc"},
                       {"COPY", "rn", "cc", "REPLACE"},
                       {"COPY", "rn", "cc", "DB", "2"},
                       {"MOVE", "cc", "1"},
                       {"MOVE", "cc", "1"},
                       {"MSET", "d1", "1", "d2", "2", "d3", "3"},
                       {"DEL", "d1", "d2", "nokey"},
                       {"UNLINK", "d3", "d3"},
                       {"SET", "i", "1"},
                       {"EXPIRE", "i", "-1"},
                       {"PEXPIREAT", "m1", "1"},
                       {"SET", "r", "payload"},
                       {"DUMP", "r"},
                       {"RESTORE", "r2", "0", "$LAST"},
                       {"DUMP", "r"},
                       {"RESTORE", "r2", "0", "$LAST", "REPLACE"},
                       {"DUMP", "r"},
                       {"RESTORE", "r2", "1", "$LAST", "REPLACE", "ABSTTL"},
                       {"RPUSH", "sl", "3", "1", "2"},
                       {"SORT", "sl", "STORE", "sd"},
                       {"SORT", "nokey", "STORE", "sd"},
                       {"SORT", "nokey", "STORE", "sd"},
                   });
}

TEST_F(DifferentialNotifyTest, Lists) {
  RunScript("KEA", {
                       {"RPUSH", "l", "a", "b", "c"},
                       {"LPUSH", "l", "z"},
                       {"LPUSHX", "nol", "x"},
                       {"RPUSHX", "l", "y"},
                       {"LPOP", "l"},
                       {"RPOP", "l", "2"},
                       {"LPOP", "l", "0"},
                       {"LSET", "l", "0", "q"},
                       {"LINSERT", "l", "BEFORE", "q", "p"},
                       {"LINSERT", "l", "AFTER", "zz", "p"},
                       {"LREM", "l", "0", "p"},
                       {"LREM", "l", "0", "nope"},
                       {"RPUSH", "l", "1", "2", "3"},
                       {"LTRIM", "l", "0", "2"},
                       {"LTRIM", "nol", "0", "1"},
                       {"RPOPLPUSH", "l", "l2"},
                       {"RPOPLPUSH", "l2", "l2"},
                       {"LMOVE", "l2", "l3", "LEFT", "RIGHT"},
                       {"LMOVE", "l", "l3", "RIGHT", "LEFT"},
                       {"LMPOP", "2", "nol", "l3", "LEFT", "COUNT", "5"},
                       {"LTRIM", "l", "5", "10"},
                       {"RPUSH", "bl", "x", "y"},
                       {"BLPOP", "bl", "1"},
                       {"BRPOP", "nol", "bl", "1"},
                       {"RPUSH", "bl", "x"},
                       {"BLMOVE", "bl", "bl2", "LEFT", "LEFT", "1"},
                       {"RPOP", "bl2", "5"},
                   });
}

TEST_F(DifferentialNotifyTest, Hashes) {
  RunScript("KEA", {
                       {"HSET", "h", "f1", "v1", "f2", "v2"},
                       {"HSET", "h", "f1", "v1"},
                       {"HSETNX", "h", "f1", "x"},
                       {"HSETNX", "h", "f3", "x"},
                       {"HMSET", "h", "f4", "v"},
                       {"HINCRBY", "h", "n", "5"},
                       {"HINCRBY", "h", "f1", "5"},
                       {"HINCRBYFLOAT", "h", "fl", "1.5"},
                       {"HDEL", "h", "nope"},
                       {"HDEL", "nokey", "nope"},
                       {"HDEL", "h", "f1", "f2", "f3"},
                       {"HDEL", "h", "f4", "n", "fl"},
                   });
}

TEST_F(DifferentialNotifyTest, StreamsAndGroups) {
  RunScript("KEA", {
                       {"XADD", "s", "1-1", "a", "1"},
                       {"XADD", "s", "MAXLEN", "1", "2-1", "a", "2"},
                       {"XTRIM", "s", "MAXLEN", "0"},
                       {"XTRIM", "s", "MAXLEN", "0"},
                       {"XADD", "s", "3-1", "a", "3"},
                       {"XDEL", "s", "3-1", "9-9"},
                       {"XDEL", "s", "9-9"},
                       {"XSETID", "s", "10-1"},
                       {"XGROUP", "CREATE", "s", "g", "0"},
                       {"XGROUP", "CREATE", "s2", "g", "0", "MKSTREAM"},
                       {"XGROUP", "SETID", "s", "g", "0"},
                       {"XGROUP", "CREATECONSUMER", "s", "g", "c1"},
                       {"XGROUP", "CREATECONSUMER", "s", "g", "c1"},
                       {"XADD", "s", "11-1", "a", "1"},
                       {"XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"},
                       {"XCLAIM", "s", "g", "c3", "0", "11-1"},
                       {"XAUTOCLAIM", "s", "g", "c4", "0", "0"},
                       {"XGROUP", "DELCONSUMER", "s", "g", "c1"},
                       {"XGROUP", "DELCONSUMER", "s", "g", "nosuch"},
                       {"XGROUP", "DESTROY", "s", "g"},
                       {"XGROUP", "DESTROY", "s", "g"},
                       {"DEL", "s", "s2"},
                   });
}

TEST_F(DifferentialNotifyTest, Sets) {
  RunScript("KEA", {
                       {"SADD", "s", "a", "b", "c"},
                       {"SADD", "s", "a"},
                       {"SREM", "s", "nope"},
                       {"SREM", "s", "a"},
                       {"SMOVE", "s", "s2", "b"},
                       {"SMOVE", "s", "s2", "nope"},
                       {"SMOVE", "s2", "s2", "b"},
                       {"SPOP", "s"},
                       {"SADD", "s1", "1", "2", "3"},
                       {"SADD", "s2x", "2", "3", "4"},
                       {"SINTERSTORE", "si", "s1", "s2x"},
                       {"SUNIONSTORE", "su", "s1", "s2x"},
                       {"SDIFFSTORE", "sd2", "s1", "s1"},
                       {"SDIFFSTORE", "si", "s1", "s1"},
                       {"SINTERSTORE", "su", "s1", "nokey"},
                       {"SPOP", "s1", "0"},
                       {"SPOP", "s1", "10"},
                       {"SMOVE", "s2", "s3", "b"},
                   });
}

TEST_F(DifferentialNotifyTest, SortedSetsAndGeo) {
  RunScript(
      "KEA",
      {
          {"ZADD", "z", "1", "a", "2", "b", "3", "c"},
          {"ZADD", "z", "1", "a"},
          {"ZADD", "z", "XX", "5", "nope"},
          {"ZADD", "z", "CH", "10", "a"},
          {"ZADD", "z", "INCR", "1", "a"},
          {"ZADD", "z", "NX", "INCR", "1", "a"},
          {"ZINCRBY", "z", "1", "b"},
          {"ZREM", "z", "nope"},
          {"ZREM", "z", "c"},
          {"ZADD", "z2", "1", "x", "2", "y", "3", "w"},
          {"ZREMRANGEBYSCORE", "z2", "100", "200"},
          {"ZREMRANGEBYSCORE", "z2", "1", "1"},
          {"ZREMRANGEBYRANK", "z2", "0", "0"},
          {"ZADD", "zl", "0", "a", "0", "b", "0", "c"},
          {"ZREMRANGEBYLEX", "zl", "[a", "[b"},
          {"ZPOPMIN", "zl"},
          {"ZPOPMAX", "z", "1"},
          {"ZUNIONSTORE", "zu", "2", "z", "z2"},
          {"ZINTERSTORE", "zu", "2", "z", "nokey"},
          {"ZRANGESTORE", "zr", "z", "0", "-1"},
          {"ZRANGESTORE", "zr", "z", "5", "10"},
          {"ZDIFFSTORE", "zd", "1", "z"},
          {"ZADD", "z3", "1", "a"},
          {"BZPOPMIN", "z3", "1"},
          {"ZADD", "z3", "1", "a", "2", "b"},
          {"ZMPOP", "1", "z3", "MAX", "COUNT", "10"},
          {"GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"},
          {"GEOADD", "g", "13.361389", "38.115556", "Palermo"},
          {"GEOSEARCHSTORE", "gs", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"},
          {"GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gr"},
          {"GEOSEARCHSTORE", "gs", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"},
      });
}

TEST_F(DifferentialNotifyTest, TransactionsAndScripts) {
  RunScript(
      "KEA",
      {
          {"MULTI"},
          {"SET", "a", "1"},
          {"RPUSH", "l", "x"},
          {"LPOP", "l"},
          {"EXEC"},
          {"MULTI"},
          {"SET", "{t}a", "1"},
          {"RENAME", "{t}a", "{t}b"},
          {"EXEC"},
          {"EVAL", "redis.call('set', KEYS[1], '1'); redis.call('del', KEYS[1])", "1", "k"},
          {"EVAL", "redis.call('sadd', KEYS[1], 'm'); redis.call('expire', KEYS[1], 9)", "1", "s"},
      });
}

TEST_F(DifferentialNotifyTest, NarrowerFlags) {
  std::vector<Cmd> script = {
      {"SET", "a", "1"},       {"EXPIRE", "a", "100"},  {"RPUSH", "l", "x"},
      {"LPOP", "l"},           {"HSET", "h", "f", "v"}, {"SADD", "s", "m"},
      {"ZADD", "z", "1", "m"}, {"DEL", "a", "h", "s"},  {"RENAME", "z", "z2"},
  };
  for (const char* flags : {"K$", "Eg", "El", "KEh", "Ksz", "KEx", "KE", "gE$lshzxK"}) {
    for (Side& s : sides_) s.writer->Run({"FLUSHALL"});
    std::string f = flags;
    RunScript(f, script, /*expect_events=*/f != "KEx" && f != "KE");  // those: silence
  }
}

TEST_F(DifferentialNotifyTest, NewKeys) {
  RunScript("KEn$lhgs", {
                            {"SET", "a", "1"},
                            {"SET", "a", "2"},
                            {"RPUSH", "l", "x"},
                            {"RPUSH", "l", "y"},
                            {"HSET", "h", "f", "v"},
                            {"INCR", "i"},
                            {"APPEND", "ap", "x"},
                            {"RENAME", "a", "b"},
                            {"RENAME", "b", "ap"},
                            {"COPY", "ap", "c"},
                            {"COPY", "ap", "c", "REPLACE"},
                            {"MOVE", "c", "3"},
                            {"DUMP", "ap"},
                            {"RESTORE", "ap", "0", "$LAST", "REPLACE"},
                            {"SORT", "l", "ALPHA", "STORE", "l"},
                            {"SUNIONSTORE", "su", "nokey"},
                        });
}

TEST_F(DifferentialNotifyTest, LazyExpiry) {
  for (Side& s : sides_) {
    ASSERT_EQ(s.writer->Run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"}), "status:\"OK\"") << s.name;
  }
  RunScript("KEA", {{"SET", "e1", "1", "PX", "20"}, {"RPUSH", "e2", "x"}, {"PEXPIRE", "e2", "20"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the keys' time pass
  RunScript("KEA", {{"GET", "e1"}, {"LPUSH", "e2", "y"}, {"EXISTS", "e2"}});
}

TEST_F(DifferentialNotifyTest, ActiveExpiry) {
  RunScript("KEA", {{"SET", "e", "1", "PX", "50"}});
  // Nobody reads the key: the server's cron deletes it and publishes "expired" on its own.
  for (Side& s : sides_) {
    std::vector<std::string> got;
    for (int i = 0; i < 2; ++i) {
      std::optional<RespValue> v = s.sub->Read(std::chrono::seconds(10));
      ASSERT_TRUE(v.has_value()) << s.name << ": no expired event";
      ASSERT_EQ(v->elems.size(), 4u) << s.name;
      got.push_back(v->elems[2].str + " " + v->elems[3].str);
    }
    EXPECT_EQ(got,
              (std::vector<std::string>{"__keyspace@0__:e expired", "__keyevent@0__:expired e"}))
        << s.name;
  }
}

}  // namespace
}  // namespace shardis::test
