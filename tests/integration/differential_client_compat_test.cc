// Differential regression cases found by running a client library's own test suite (redis-py)
// against shardis-server (--threads 2) and the reference redis-server 7.0: replies must match.
// Each case is a command a client library's tests (or its users) send whose reply differed:
// DEBUG ERROR (clients fake LOADING / READONLY errors with it), DEBUG OBJECT, COMMAND GETKEYS's
// arity and subcommands, COMMAND GETKEYSANDFLAGS, CLIENT KILL USER of an unknown user, CLIENT REPLY
// ON, ACL LOG's count argument, the cmsgpack and struct libraries of Lua scripts (byte-exact
// packing, unpacking, their errors), ACL selectors (SETUSER "(...)", GETUSER, LIST, DRYRUN and the
// permissions they grant), INFO's field names and pub/sub counts, DEBUG PROTOCOL. Both servers run
// with enable-debug-command yes, as client libraries' CI runs redis-server.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/side_by_side.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

class DifferentialClientCompatTest : public SideBySideTest {
 protected:
  void SetUp() override { StartBoth({"--enable-debug-command", "yes"}); }
};

TEST_F(DifferentialClientCompatTest, DebugErrorAndObject) {
  Both({"DEBUG", "ERROR", "LOADING fake message"});
  Both({"DEBUG", "ERROR", "READONLY You can't write against a read only replica."});
  Both({"DEBUG", "ERROR", "ERR with\r\nnewlines"});
  Both({"DEBUG", "OBJECT", "nokey"});
  // DEBUG SLEEP reads its argument as strtod does: hiredis's tests send "0\r\n".
  for (const char* arg : {"0\r\n", "abc", "nan", "inf", "-1", "0.001x", "0.001"}) {
    Both({"DEBUG", "SLEEP", arg});
  }
  Both({"SET", "a", "1"});
  // The address and clock differ; the reply is a status line with Redis's fields.
  for (Client* c : {sh_.get(), ref_.get()}) {
    std::string line = c->Run({"DEBUG", "OBJECT", "a"});
    EXPECT_NE(line.find("Value at:"), std::string::npos) << line;
    EXPECT_NE(line.find(" refcount:"), std::string::npos) << line;
    EXPECT_NE(line.find(" encoding:int serializedlength:"), std::string::npos) << line;
    EXPECT_NE(line.find(" lru_seconds_idle:"), std::string::npos) << line;
  }
}

// INFO errorstats, total_error_replies and the rejected/failed call counts of commandstats
// (redis_exporter and dashboards read them): same counts as Redis's for the same errors, whether
// the command ran on the connection's shard or on another.
TEST_F(DifferentialClientCompatTest, ErrorStatsAndFailedCalls) {
  auto info = [](Client* c, const std::string& section) {
    ReplyPtr r = c->Command({"INFO", section});
    return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
  };
  // Each cmdstat line without its timings: "cmdstat_x:calls=..,rejected_calls=..,failed_calls=..".
  // Sorted: Redis lists them in its dict's order.
  auto counts = [&info](Client* c) {
    std::vector<std::string> lines;
    std::string text = info(c, "commandstats");
    for (size_t at = text.find("cmdstat_"); at != std::string::npos;
         at = text.find("cmdstat_", at + 1)) {
      std::string line = text.substr(at, text.find("\r\n", at) - at);
      if (line.starts_with("cmdstat_info:") || line.starts_with("cmdstat_config|")) continue;
      std::string calls = line.substr(0, line.find(",usec="));
      lines.push_back(calls + line.substr(line.find(",rejected_calls=")));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  for (Client* c : {sh_.get(), ref_.get()})
    ASSERT_EQ(c->Run({"CONFIG", "RESETSTAT"}), "status:\"OK\"");
  for (const std::string key : {"a", "b", "c", "d", "e", "f"}) {
    Both({"SET", key, "text"});
    Both({"LPUSH", key, "x"});    // WRONGTYPE: a failed call
    Both({"INCR", key});          // ERR not an integer: a failed call
    Both({"GET", key, "extra"});  // arity: a rejected call
    Both({"HSET", key, "f"});     // arity
  }
  Both({"NOSUCHCOMMAND", "x"});  // unknown: no command to count it for
  Both({"EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"});  // NOSCRIPT
  Both({"XADD", "a", "1-1", "f", "v"});
  Both({"DEBUG", "ERROR", "MYERR faked"});  // a raw reply: not counted, not a failed call
  EXPECT_EQ(info(sh_.get(), "errorstats"), info(ref_.get(), "errorstats"));
  EXPECT_EQ(counts(sh_.get()), counts(ref_.get()));
  auto total = [&info](Client* c) {
    std::string text = info(c, "stats");
    size_t at = text.find("total_error_replies:");
    return text.substr(at, text.find("\r\n", at) - at);
  };
  EXPECT_EQ(total(sh_.get()), total(ref_.get()));
  for (Client* c : {sh_.get(), ref_.get()})
    ASSERT_EQ(c->Run({"CONFIG", "RESETSTAT"}), "status:\"OK\"");
  EXPECT_EQ(info(sh_.get(), "errorstats"), "# Errorstats\r\n");
}

// INFO's field names, in Redis's order, for the sections monitoring tools read; and the pub/sub
// counts of INFO stats with subscribers on several connections (so on both threads), a channel
// subscribed from several of them counted once.
TEST_F(DifferentialClientCompatTest, InfoFieldsAndPubsubCounts) {
  auto info = [](Client* c, const std::string& section) {
    ReplyPtr r = c->Command({"INFO", section});
    return r != nullptr && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
  };
  auto names = [&info](Client* c, const std::string& section) {
    std::vector<std::string> out;
    std::string text = info(c, section);
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find("\r\n", at);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(at, end - at);
      if (!line.empty() && line[0] != '#') out.push_back(line.substr(0, line.find(':')));
      at = end + 2;
    }
    return out;
  };
  for (const char* section : {"clients", "memory", "stats", "cpu", "replication"}) {
    EXPECT_EQ(names(sh_.get(), section), names(ref_.get(), section)) << section;
  }
  std::vector<std::unique_ptr<Client>> subscribers;
  for (auto* server : {shardis_.get(), redis_.get()}) {
    for (int i = 0; i < 6; ++i) {
      auto c = Client::Connect(server->port());
      ASSERT_NE(c, nullptr);
      std::string n = std::to_string(i);
      ASSERT_NE(c->Run({"SUBSCRIBE", "ch", "ch" + n}), "io-error");
      ASSERT_NE(c->GetReply(), nullptr);
      ASSERT_NE(c->Run({"PSUBSCRIBE", "p*"}), "io-error");
      ASSERT_NE(c->Run({"SSUBSCRIBE", "s" + std::to_string(i % 2)}), "io-error");
      subscribers.push_back(std::move(c));
    }
  }
  auto pubsub = [&info](Client* c) {
    std::string out;
    std::string text = info(c, "stats");
    for (const char* f : {"pubsub_channels:", "pubsub_patterns:", "pubsubshard_channels:"}) {
      size_t at = text.find(std::string("\r\n") + f);
      out += at == std::string::npos ? "missing "
                                     : text.substr(at + 2, text.find("\r\n", at + 2) - at);
    }
    return out;
  };
  EXPECT_EQ(pubsub(sh_.get()), pubsub(ref_.get()));
  EXPECT_EQ(pubsub(ref_.get()),
            "pubsub_channels:7\r\npubsub_patterns:1\r\npubsubshard_channels:2\r\n");
  for (Client* c : {sh_.get(), ref_.get()}) {
    EXPECT_GT(InfoInt(*c, "total_reads_processed", "stats"), 0);
    EXPECT_GT(InfoInt(*c, "total_writes_processed", "stats"), 0);
  }
}

// Replies found different by a sweep of less common commands: COMMAND INFO of an unknown name
// (a null bulk), CLIENT PAUSE's timeout errors, MEMORY USAGE's negative SAMPLES, MEMORY DOCTOR's
// final newline.
TEST_F(DifferentialClientCompatTest, MiscReplies) {
  Both({"SET", "a", "1"});
  Both({"COMMAND", "INFO", "nope"});
  Both({"COMMAND", "INFO", "get", "nope", "client|nope"});
  Both({"CLIENT", "PAUSE", "-1"});
  Both({"CLIENT", "PAUSE", "x"});
  Both({"CLIENT", "PAUSE", "9223372036854775807"});
  Both({"MEMORY", "USAGE", "a", "SAMPLES", "-1"});
  Both({"MEMORY", "USAGE", "a", "SAMPLES", "x"});
  Both({"MEMORY", "USAGE", "a", "SAMPLE", "1"});
  Both({"MEMORY", "DOCTOR"});
}

// DEBUG PROTOCOL (client libraries' RESP3 tests read every type from it) in RESP2 and RESP3, and
// PUBSUB NUMSUB / SHARDNUMSUB: a flat array in RESP3 too.
TEST_F(DifferentialClientCompatTest, DebugProtocolAndNumsub) {
  const std::vector<std::string> types = {"string",   "integer", "double", "bignum", "null",
                                          "array",    "set",     "map",    "attrib", "push",
                                          "verbatim", "true",    "false",  "nope"};
  for (const std::string& type : types) Both({"DEBUG", "PROTOCOL", type});
  Both({"PUBSUB", "NUMSUB", "x", "y"});
  auto resp3 = [&types](int port) {
    std::vector<std::string> out;
    auto c = RawConnection::Connect(port);
    if (c == nullptr) return out;
    c->Run({"HELLO", "3"});
    for (const std::string& type : types) {
      out.push_back(c->Run({"DEBUG", "PROTOCOL", type}));
      if (type == "attrib" || type == "push") {  // the reply that follows
        auto v = c->Read();
        out.push_back(v ? v->Render() : "timeout");
      }
    }
    out.push_back(c->Run({"PUBSUB", "NUMSUB", "x", "y"}));
    out.push_back(c->Run({"PUBSUB", "SHARDNUMSUB", "x"}));
    return out;
  };
  EXPECT_EQ(resp3(shardis_->port()), resp3(redis_->port()));
}

// CLIENT LIST flags of another client, in Redis's order: x (in MULTI), t/B (tracking), e
// (no-evict), P (subscribed), N (none).
TEST_F(DifferentialClientCompatTest, ClientListFlags) {
  auto flags_seen = [](int port) {
    std::vector<std::string> out;
    auto admin = Client::Connect(port);
    auto other = Client::Connect(port);
    if (admin == nullptr || other == nullptr) return out;
    std::string id = other->Run({"CLIENT", "ID"}).substr(4);  // "int:N"
    auto flags = [&admin, &id] {
      ReplyPtr r = admin->Command({"CLIENT", "LIST", "ID", id});
      if (r == nullptr || r->type != REDIS_REPLY_STRING) return std::string("bad reply");
      std::string line(r->str, r->len);
      size_t at = line.find(" flags=");
      return at == std::string::npos ? line : line.substr(at + 1, line.find(' ', at + 1) - at - 1);
    };
    out.push_back(flags());
    other->Run({"CLIENT", "NO-EVICT", "on"});
    out.push_back(flags());
    other->Run({"MULTI"});
    out.push_back(flags());
    other->Run({"DISCARD"});
    other->Run({"CLIENT", "TRACKING", "on", "BCAST"});
    out.push_back(flags());
    other->Run({"CLIENT", "TRACKING", "off"});
    other->Run({"CLIENT", "NO-EVICT", "off"});
    other->Run({"SUBSCRIBE", "ch"});
    out.push_back(flags());
    return out;
  };
  std::vector<std::string> got = flags_seen(shardis_->port());
  EXPECT_EQ(got, flags_seen(redis_->port()));
  EXPECT_EQ(got.size(), 5u);
}

TEST_F(DifferentialClientCompatTest, CommandGetKeysArity) {
  Both({"COMMAND", "GETKEYS", "GET"});
  Both({"COMMAND", "GETKEYS", "PING"});
  Both({"COMMAND", "GETKEYS", "PING", "x"});
  Both({"COMMAND", "GETKEYS", "SET", "a", "b"});
  Both({"COMMAND", "GETKEYS", "NOSUCH", "a"});
  Both({"COMMAND", "GETKEYS", "GET", "a", "b"});
  Both({"COMMAND", "INFO", "command|getkeys"});
  Both({"COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"});
  Both({"COMMAND", "GETKEYS", "OBJECT", "FOO", "k"});
  Both({"COMMAND", "GETKEYS", "MEMORY", "USAGE", "k"});
  // Redis's order: whether the command takes keys (a shard channel is not a key), its arity,
  // then its keys (found none: not "no key arguments").
  Both({"COMMAND", "GETKEYS", "SPUBLISH", "c", "m"});
  Both({"COMMAND", "GETKEYS", "SSUBSCRIBE", "a", "b"});
  Both({"COMMAND", "GETKEYSANDFLAGS", "SPUBLISH", "c", "m"});
  Both({"COMMAND", "GETKEYS", "CONFIG", "GET"});
  Both({"COMMAND", "GETKEYS", "ZINTER", "2", "a"});
  Both({"COMMAND", "GETKEYS", "SINTERCARD", "0", "a"});
  Both({"COMMAND", "GETKEYS", "XREAD", "COUNT", "1", "STREAMS", "a"});
  Both({"COMMAND", "GETKEYS", "EVAL", "return 1", "0"});
}

TEST_F(DifferentialClientCompatTest, CommandGetKeysAndFlags) {
  const std::vector<std::vector<std::string>> commands = {
      {"LMOVE", "a", "b", "LEFT", "RIGHT"},
      {"SET", "a", "b"},
      {"SET", "a", "b", "GET"},
      {"BITFIELD", "k", "GET", "u8", "0"},
      {"BITFIELD", "k", "SET", "u8", "0", "1"},
      {"GEORADIUS", "k", "1", "2", "3", "km", "STORE", "d"},
      {"GEORADIUS", "k", "1", "2", "3", "km", "STOREDIST", "d"},
      {"SORT", "k", "BY", "x", "GET", "y", "STORE", "d"},
      {"SORT", "k"},
      {"ZADD", "k", "1", "a"},
      {"ZUNIONSTORE", "d", "2", "a", "b"},
      {"EVAL", "return 1", "2", "a", "b"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "t", "0", "0"},
      {"OBJECT", "ENCODING", "k"},
      {"XINFO", "STREAM", "s"},
      {"DEL", "a", "b", "c"},
      {"MSET", "a", "1", "b", "2"},
      {"RENAME", "a", "b"},
      {"BLMPOP", "0", "2", "a", "b", "LEFT"},
      {"GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"},
      {"COPY", "a", "b"},
      {"SMOVE", "a", "b", "m"},
      {"PFMERGE", "d", "a", "b"},
      {"GET"},
      {"PING", "x"},
      {"NOSUCH", "a"},
      {"CONFIG", "GET", "x"},
  };
  for (const auto& cmd : commands) {
    std::vector<std::string> args = {"COMMAND", "GETKEYSANDFLAGS"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    Both(args);
  }
  Both({"COMMAND", "GETKEYSANDFLAGS"});
  Both({"COMMAND", "INFO", "command|getkeysandflags"});
}

TEST_F(DifferentialClientCompatTest, ClientKillUserAndReply) {
  Both({"CLIENT", "KILL", "USER", "nouser"});
  Both({"CLIENT", "KILL", "USER", "default", "SKIPME", "yes"});
  Both({"CLIENT", "KILL", "USER", "nouser", "SKIPME", "yes"});
  Both({"CLIENT", "REPLY", "ON"});
  Both({"CLIENT", "REPLY", "bogus"});
  Both({"PING"});
}

TEST_F(DifferentialClientCompatTest, AclLogCount) {
  Both({"ACL", "LOG", "x"});
  Both({"ACL", "LOG", "-1"});
  Both({"ACL", "LOG", "0"});
  Both({"AUTH", "nouser", "wrong"});
  Both({"ACL", "LOG", "-5"});
  Both({"ACL", "LOG", "0"});
  Both({"ACL", "LOG", "RESET"});
}

TEST_F(DifferentialClientCompatTest, AclSelectors) {
  Both({"ACL", "SETUSER", "u1", "(+set"});
  Both({"ACL", "SETUSER", "u1", "(on)"});
  Both({"ACL", "SETUSER", "u1", "(reset)"});
  Both({"ACL", "SETUSER", "u1", "(+nosuch)"});
  Both({"ACL", "SETUSER", "u1", "(+set", "~x)"});
  Both({"ACL", "SETUSER", "u1", "()", "(allkeys allchannels allcommands)", "(%R~r* &ch)"});
  Both({"ACL", "GETUSER", "u1"});
  Both({"ACL", "LIST"});
  Both({"ACL", "SETUSER", "u1", "clearselectors"});
  Both({"ACL", "LIST"});
  Both(
      {"ACL", "SETUSER", "u1", "reset", "on", ">pw", "+get", "~a*", "(+set ~b*)", "(+hset %W~h*)"});
  Both({"ACL", "GETUSER", "u1"});
  Both({"ACL", "LIST"});
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"get", "a1"},
                                             {"get", "b1"},
                                             {"set", "b1", "1"},
                                             {"set", "a1", "1"},
                                             {"hset", "h1", "f", "v"},
                                             {"hset", "a1", "f", "v"},
                                             {"hget", "h1", "f"},
                                             {"publish", "c", "m"}}) {
    std::vector<std::string> dry = {"ACL", "DRYRUN", "u1"};
    dry.insert(dry.end(), cmd.begin(), cmd.end());
    Both(dry);
  }
  // The permissions hold for a client authenticated as the user.
  std::string error;
  std::unique_ptr<Client> sh_user = Client::Connect(shardis_->port(), seconds(10), &error);
  ASSERT_NE(sh_user, nullptr) << error;
  std::unique_ptr<Client> ref_user = Client::Connect(redis_->port(), seconds(10), &error);
  ASSERT_NE(ref_user, nullptr) << error;
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"AUTH", "u1", "pw"},
                                             {"SET", "b1", "1"},
                                             {"SET", "a1", "1"},
                                             {"GET", "a1"},
                                             {"GET", "b1"},
                                             {"HSET", "h1", "f", "v"},
                                             {"HGET", "h1", "f"}}) {
    EXPECT_EQ(sh_user->Run(cmd), ref_user->Run(cmd)) << RenderCommand(cmd);
  }
  Both({"ACL", "DELUSER", "u1"});
}

TEST_F(DifferentialClientCompatTest, LuaCmsgpack) {
  const std::vector<std::vector<std::string>> scripts = {
      {"return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, "
       "-32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, 1.5, 0.1, 1e300, -0.0, "
       "2^53, 2^63, -2^63, 1/0, -1/0)"},
      {"return cmsgpack.pack(true, false, nil, 'abc', string.rep('x', 31), string.rep('x', 32), "
       "string.rep('y', 255), string.rep('z', 256), string.rep('w', 70000))"},
      {"return cmsgpack.pack({}, {1,2,3}, {a=1}, {1,2,nil,4}, {[1]=1,[3]=3}, {[0]=1}, "
       "{[1.5]=2}, {x={y={z={1}}}})"},
      {"local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)"},
      {"local t = {} for i=1,70000 do t[i]=i end return cmsgpack.pack(t)"},
      {"local m = cmsgpack.unpack(ARGV[1]) return 'hello ' .. m['name']", "\x81\xa4name\xa3Joe"},
      {"local m = cmsgpack.unpack(ARGV[1]) return 'hello ' .. name", "\x81\xa4name\xa3Joe"},
      {"return {cmsgpack.unpack(cmsgpack.pack(1, 2, 'x', {1,2}))}"},
      {"return {cmsgpack.unpack_one(ARGV[1])}", "\x01\x02\x03"},
      {"return {cmsgpack.unpack_one(ARGV[1], 2)}", "\x01\x02\x03"},
      {"return {cmsgpack.unpack_limit(ARGV[1], 2, 1)}", "\x01\x02\x03"},
      {"return {cmsgpack.unpack_one(ARGV[1], 5)}", "\x01\x02\x03"},
      {"return {cmsgpack.unpack_one(ARGV[1], -1)}", "\x01\x02\x03"},
      {"return {cmsgpack.unpack(ARGV[1])}", "\x92\x01"},
      {"return {cmsgpack.unpack(ARGV[1])}", "\xc1"},
      {"return {cmsgpack.unpack(ARGV[1])}",
       "\xc4\x01"
       "a"},
      {"return cmsgpack.pack()"},
      {"return tostring(cmsgpack.unpack(ARGV[1]))",
       std::string("\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a", 9)},
      {"return tostring(cmsgpack.unpack(ARGV[1]))", std::string("\xca\x3f\xc0\x00\x00", 5)},
      {"return tostring(cmsgpack.unpack(ARGV[1]))", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff"},
      {"return cmsgpack.pack(cmsgpack.unpack(ARGV[1]))",
       std::string("\xde\x00\x01\xa1k\xdc\x00\x02\x01\x02", 10)},
      {"return {cmsgpack._NAME, cmsgpack._VERSION}"},
      {"cmsgpack.pack = nil return 1"},
      // Deep input is refused, not a crash.
      {"return tostring(pcall(cmsgpack.unpack, string.rep(string.char(0x91), 100000)))"},
  };
  for (const auto& s : scripts) {
    std::vector<std::string> args = {"EVAL", s[0], "0"};
    args.insert(args.end(), s.begin() + 1, s.end());
    Both(args);
  }
}

// The struct library of Lua scripts: byte-exact packing (endianness, alignment, integer sizes,
// floats, strings), unpacking, sizes, and the errors of bad formats, data and arguments.
TEST_F(DifferentialClientCompatTest, LuaStruct) {
  const std::vector<std::string> scripts = {
      "return struct.pack(\"HH\", 1, 2)",
      "return struct.pack(\">i4<i4\", 1, -2)",
      "return struct.pack(\"bBhHlLTiI\", -1, 255, -300, 65535, -5, 5, 7, -9, 9)",
      "return struct.pack(\"!4 b i\", 1, 2)",
      "return struct.pack(\"!bd\", 1, 2.5)",
      "return struct.pack(\"!2bxi8\", 1, 2)",
      "return struct.pack(\">fd\", 1.5, -2.25)",
      "return struct.pack(\"s\", \"abc\")",
      "return struct.pack(\"c0\", \"abcd\")",
      "return struct.pack(\"c3\", \"abcd\")",
      "return struct.pack(\"c5\", \"abcd\")",
      "return struct.pack(\"i16\", -1)",
      "return struct.pack(\">I12\", 258)",
      "return struct.pack(\"i33\", 1)",
      "return struct.pack(\"z\", 1)",
      "return struct.pack(\"!3i\", 1)",
      "return struct.pack(\"i\")",
      "return struct.pack(\"i\", \"x\")",
      "return struct.pack(\"i99999999999\", 1)",
      "return struct.pack(\"B\", 256)",
      "return struct.pack(\"b\", 1e30)",
      "return struct.pack(\"l\", -1e30)",
      "return struct.pack(\"f\", 1e300)",
      "return {struct.unpack(\"HH\", \"\\1\\0\\2\\0\")}",
      "return {struct.unpack(\">i4<i4\", struct.pack(\">i4<i4\", 1, -2))}",
      "return {struct.unpack(\"bBhHlLTiI\", struct.pack(\"bBhHlLTiI\", -1, 255, -300, 65535, -5, "
      "5, 7, -9, 9))}",
      "return {struct.unpack(\"!4 b i\", struct.pack(\"!4 b i\", 1, 2))}",
      "return {struct.unpack(\"s\", \"abc\\0def\")}",
      "return {struct.unpack(\"ss\", \"abc\\0def\")}",
      "return {struct.unpack(\"Bc0\", \"\\3abcdef\")}",
      "return {struct.unpack(\"c0\", \"abc\")}",
      "return {struct.unpack(\"Bc0\", \"\\9abc\")}",
      "return {struct.unpack(\"i\", \"ab\")}",
      "return {struct.unpack(\"i\", \"abcdabcd\", 5)}",
      "return {struct.unpack(\"i\", \"abcdabcd\", 6)}",
      "return {struct.unpack(\"i\", \"abcdabcd\", 0)}",
      "return {struct.unpack(\"i\", \"abcdabcd\", 20)}",
      "return {struct.unpack(\"i16\", string.rep(\"\\255\", 16))}",
      "return {struct.unpack(\">i12\", string.rep(\"\\255\", 12))}",
      "return {struct.unpack(\"I9\", string.rep(\"\\255\", 9))}",
      "return {struct.unpack(\"x\", \"a\")}",
      "return {struct.unpack(\"d\", struct.pack(\"d\", 0.1))}",
      "return tostring(struct.unpack(\"f\", struct.pack(\"f\", 0.1)))",
      "return {struct.unpack(\">d\", struct.pack(\">d\", 3.5))}",
      "return {struct.unpack(\"z\", \"abc\")}",
      "return struct.size(\"i!4bi\")",
      "return struct.size(\"!bd\")",
      "return struct.size(\"s\")",
      "return struct.size(\"c0\")",
      "return struct.size(\"c7zq\")",
      "return struct.size(\"!5\")",
      "return struct.size(\">hh!8d\")",
      "struct.foo = 1",
      "return type(struct)",
      "return struct.pack(\"!\", 1)",
      "return {struct.unpack(\"!bd\", struct.pack(\"!bd\", 1, 2.5))}",
      "return struct.pack(\"!0i\", 1)",
      "return {struct.unpack(\"s\", \"abc\")}",
      "return struct.unpack()",
      "return struct.pack()",
      "return struct.size()",
      "return struct.pack(\"c\", \"\")",
      "return {struct.unpack(\" < > = i\", \"abcd\")}",
  };
  for (const std::string& script : scripts) Both({"EVAL", script, "0"});
}

}  // namespace
}  // namespace shardis::test
