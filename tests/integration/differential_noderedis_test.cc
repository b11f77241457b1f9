// Differential regression cases found by running node-redis (npm `redis` v5) command specs against
// shardis-server (--threads 2) and the reference redis-server 7.0: replies must match.
// node-redis's specs pass Number.MIN_VALUE (5e-324) as the timeout of blocking commands on
// Redis >= 7: Redis rounds the milliseconds up (a tiny positive timeout waits 1 ms), so they
// must time out at once rather than block forever, on one shard and across shards. HELLO's
// NOAUTH error carries Redis 7.0's text. ACL LOG groups similar failures that came through
// different threads into one entry, as Redis's single log does. CLIENT KILL reads its filters
// in order (node-redis may send an odd count); LOLWUT VERSION 5/6 check their size arguments,
// and scripts may call LOLWUT. In RESP3, COMMAND INFO's tips and key specs are sets (and an
// empty subcommand list too), as node-redis's type mapping can tell.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/side_by_side.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

// ACL LOG without its volatile fields (age-seconds, client-info): "count reason context object
// username" per entry, sorted (entries of the same millisecond may list in either order).
std::string StableLog(Client* c) {
  ReplyPtr r = c->Command({"ACL", "LOG"});
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return "bad reply";
  std::vector<std::string> entries;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    std::string entry;
    for (size_t j = 0; j + 1 < e->elements; j += 2) {
      std::string key(e->element[j]->str, e->element[j]->len);
      if (key != "age-seconds" && key != "client-info") entry += Render(e->element[j + 1]) + " ";
    }
    entries.push_back(entry);
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const std::string& e : entries) out += e + "; ";
  return out;
}

class DifferentialNodeRedisTest : public SideBySideTest {
 protected:
  // A blocking command that never times out fails the read after 5 s instead of hanging.
  void Start(const std::vector<std::string>& extra) { StartBoth(extra, seconds(5)); }
};

TEST_F(DifferentialNodeRedisTest, TinyBlockingTimeoutsExpire) {
  Start({});
  // Keys {a} and {b} hash to different slots: with 2 threads some of these block across shards.
  // (Redis checks timeouts about every 100 ms: few cases keep the test quick.)
  for (const char* t : {"5e-324"}) {
    Both({"BLPOP", "{a}k", t});
    Both({"BRPOP", "{a}k", "{b}k", t});
    Both({"BLMOVE", "{a}k", "{b}k", "LEFT", "RIGHT", t});
    Both({"BRPOPLPUSH", "{a}k", "{b}k", t});
    Both({"BLMPOP", t, "2", "{a}k", "{b}k", "LEFT"});
    Both({"BZPOPMIN", "{a}z", t});
    Both({"BZPOPMAX", "{a}z", "{b}z", t});
    Both({"BZMPOP", t, "2", "{a}z", "{b}z", "MIN"});
  }
  // Still served at once when there is data; a tiny negative timeout rounds to 0 (not an
  // error); the error cases are unchanged.
  Both({"RPUSH", "{a}k", "x", "y"});
  Both({"BLPOP", "{a}k", "5e-324"});
  Both({"BLPOP", "{a}k", "-0.0001"});
  Both({"BLPOP", "{a}k", "-1"});
  Both({"BLPOP", "{a}k", "1e30"});
  Both({"BLPOP", "{a}k", "abc"});
  Both({"BLPOP", "{a}k", "0.0009"});
  Both({"BLMPOP", "0.0001", "2", "{a}k", "{b}k", "RIGHT"});
}

TEST_F(DifferentialNodeRedisTest, HelloNoAuthError) {
  Start({});
  Both({"CONFIG", "SET", "requirepass", "password"});
  // The connections that set it stay authenticated: fresh ones are not.
  std::string error;
  sh_ = Client::Connect(shardis_->port(), seconds(5), &error);
  ASSERT_NE(sh_, nullptr) << error;
  ref_ = Client::Connect(redis_->port(), seconds(5), &error);
  ASSERT_NE(ref_, nullptr) << error;
  Both({"HELLO", "3"});
  Both({"HELLO", "2", "SETNAME", "n"});
  Both({"HELLO", "2", "AUTH", "default", "wrong"});
  // The reply carries the connection id: only its type is compared.
  for (Client* c : {sh_.get(), ref_.get()}) {
    ReplyPtr r = c->Command({"HELLO", "2", "AUTH", "default", "password", "SETNAME", "n"});
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->type, REDIS_REPLY_ARRAY);
  }
  Both({"CLIENT", "GETNAME"});
}

TEST_F(DifferentialNodeRedisTest, AclLogGroupsAcrossThreads) {
  Start({});
  Both({"ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*"});
  // Fresh connections land on either thread: each fails AUTH twice, then as another user.
  for (int i = 0; i < 6; ++i) {
    for (int port : {shardis_->port(), redis_->port()}) {
      std::string error;
      std::unique_ptr<Client> c = Client::Connect(port, seconds(5), &error);
      ASSERT_NE(c, nullptr) << error;
      c->Run({"AUTH", "u", "wrong"});
      c->Run({"AUTH", "u", "wrong"});
      c->Run({"AUTH", "nouser", "x"});
    }
  }
  Both({"AUTH", "u", "bad"});
  EXPECT_EQ(StableLog(sh_.get()), StableLog(ref_.get()));
}

TEST_F(DifferentialNodeRedisTest, ClientKillFiltersInOrderAndLolwutSizes) {
  Start({});
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"CLIENT", "KILL", "USER", "MAXAGE", "10"},
           {"CLIENT", "KILL", "ID", "abc", "SKIPME"},
           {"CLIENT", "KILL", "TYPE", "bogus", "ID"},
           {"CLIENT", "KILL", "SKIPME", "maybe", "ID"},
           {"CLIENT", "KILL", "ID", "1", "BOGUS"},
           {"CLIENT", "KILL", "TYPE", "master", "SKIPME"},
           {"CLIENT", "KILL", "MAXAGE", "10"},
           {"CLIENT", "KILL", "ADDR", "1.1.1.1:1", "SKIPME", "no"},
           {"CLIENT", "KILL", "1.1.1.1:1"},
           {"LOLWUT", "VERSION", "5", "bogus"},
           {"LOLWUT", "VERSION", "5", "1", "2", "x"},
           {"LOLWUT", "VERSION", "6", "1", "x"},
           {"LOLWUT", "VERSION", "4", "x"},
           {"LOLWUT", "VERSION", "x"},
       }) {
    Both(cmd);
  }
}

// The raw RESP3 bytes of each reply, after HELLO 3, on one connection.
std::vector<std::string> Resp3Replies(int port, const std::vector<std::vector<std::string>>& cmds) {
  std::vector<std::string> out;
  auto c = RawConnection::Connect(port);
  if (c == nullptr) return {"connect-failed"};
  if (!c->SendCommand({"HELLO", "3"}) || !c->Read()) return {"hello-failed"};
  for (const auto& cmd : cmds) {
    if (!c->SendCommand(cmd) || !c->Read()) {
      out.push_back("read-failed");
      break;
    }
    out.push_back(c->last_raw());
  }
  return out;
}

TEST_F(DifferentialNodeRedisTest, Resp3CommandInfoShapesAndLolwutInScripts) {
  Start({});
  std::vector<std::vector<std::string>> cmds = {
      {"COMMAND", "INFO", "get", "client|list", "ping", "config|get", "nosuch"},
      {"COMMAND", "INFO", "lmove", "eval", "sort"},
      {"EVAL", "return redis.call('LOLWUT', 'VERSION', '7')", "0"},
      {"EVAL", "redis.setresp(3); return redis.call('LOLWUT', 'VERSION', '42')", "0"},
  };
  EXPECT_EQ(Resp3Replies(shardis_->port(), cmds), Resp3Replies(redis_->port(), cmds));
}

}  // namespace
}  // namespace shardis::test
