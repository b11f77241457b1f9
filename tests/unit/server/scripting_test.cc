// Tests for Lua scripting (server/scripting/lua_engine.cc, server/commands/scripting_family.cc,
// function_family.cc): the Lua <-> RESP conversions in both directions and both protocols, the
// sandbox, error texts, KEYS/ARGV, the script cache and the function libraries, run through the
// command table with the in-process CommandHarness (one shard). Expected replies come from
// redis-server 7.0.15. The thread's LuaEngine outlives each test, so each test starts by
// flushing scripts and libraries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/scripting/lua_engine.h"
#include "server/scripting/sha1.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
std::string Err(const std::string& msg) { return "-" + msg + "\r\n"; }

class ScriptingTest : public ::testing::Test {
 protected:
  explicit ScriptingTest(RespVersion resp = RespVersion::kResp2) : h_(1, resp) {
    h_.Run({"SCRIPT", "FLUSH"});
    h_.Run({"FUNCTION", "FLUSH"});
  }
  std::string Eval(const std::string& body, std::vector<std::string> keys = {},
                   std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"EVAL", body, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return h_.Run(argv);
  }
  // The reply of a script raising `msg` on line 1.
  static std::string ScriptErr(const std::string& msg, const std::string& body) {
    return Err(msg + " script: " + scripting::Sha1Hex(body) + ", on @user_script:1.");
  }

  CommandHarness h_;
};

TEST(Sha1Test, KnownDigests) {
  EXPECT_EQ(scripting::Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(scripting::Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(scripting::Sha1Hex(std::string(1000, 'a')), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST_F(ScriptingTest, LuaToRespConversions) {
  EXPECT_EQ(Eval("return 1"), Int(1));
  EXPECT_EQ(Eval("return 3.99"), Int(3));    // numbers truncate to integers
  EXPECT_EQ(Eval("return -3.99"), Int(-3));  // towards zero
  EXPECT_EQ(Eval("return 'x'"), Bulk("x"));
  EXPECT_EQ(Eval("return true"), Int(1));
  EXPECT_EQ(Eval("return false"), "$-1\r\n");
  EXPECT_EQ(Eval("return nil"), "$-1\r\n");
  EXPECT_EQ(Eval("return {ok='fine'}"), "+fine\r\n");
  EXPECT_EQ(Eval("return redis.status_reply('S')"), "+S\r\n");
  EXPECT_EQ(Eval("return {err='plain'}"), Err("plain"));
  EXPECT_EQ(Eval("return redis.error_reply('My err')"), Err("My err"));
  EXPECT_EQ(Eval("return redis.error_reply('-My err')"), Err("My err"));
  // Arrays stop at the first nil; nested tables; booleans inside.
  EXPECT_EQ(Eval("return {1,2,'x',nil,5}"), "*3\r\n:1\r\n:2\r\n$1\r\nx\r\n");
  EXPECT_EQ(Eval("return {true,false,1.5,{2,{3}}}"),
            "*4\r\n:1\r\n$-1\r\n:1\r\n*2\r\n:2\r\n*1\r\n:3\r\n");
  EXPECT_EQ(Eval("return {}"), "*0\r\n");
  // RESP3-only shapes degrade for a RESP2 client.
  EXPECT_EQ(Eval("return {double=1.5}"), Bulk("1.5"));
}

TEST_F(ScriptingTest, RespToLuaConversions) {
  h_.Run({"SET", "s", "abc"});
  h_.Run({"RPUSH", "l", "a", "b"});
  EXPECT_EQ(Eval("return type(redis.call('get', 'missing'))"), Bulk("boolean"));
  EXPECT_EQ(Eval("return redis.call('get', 'missing') == false and 1 or 0"), Int(1));
  EXPECT_EQ(Eval("return type(redis.call('strlen', 's'))"), Bulk("number"));
  EXPECT_EQ(Eval("return redis.call('set', 'x', 1).ok"), Bulk("OK"));
  EXPECT_EQ(Eval("return redis.call('lrange', 'l', 0, -1)"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(Eval("return redis.pcall('incr', 's')"),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Eval("local r = redis.pcall('incr', 's'); return r.err"),
            Bulk("ERR value is not an integer or out of range"));
  // Numbers become arguments with %.17g.
  EXPECT_EQ(Eval("redis.call('set', 'n', 1.5); return redis.call('get', 'n')"), Bulk("1.5"));
  EXPECT_EQ(Eval("redis.call('set', 'n', 12345678901234); return redis.call('get', 'n')"),
            Bulk("12345678901234"));
  // pcall turns an error table into its message (Redis 7).
  EXPECT_EQ(Eval("local ok, e = pcall(redis.call, 'nosuch'); return e"),
            Bulk("ERR Unknown Redis command called from script"));
}

TEST_F(ScriptingTest, SetRespThreeInsideScriptForResp2Client) {
  h_.Run({"HSET", "h", "f", "v"});
  h_.Run({"ZADD", "z", "1.5", "m"});
  // The map reaches Lua as {map={...}}, and a RESP2 client gets it back flattened.
  EXPECT_EQ(Eval("redis.setresp(3); return redis.call('hgetall', 'h')"),
            "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return redis.call('hgetall', 'h').map.f"), Bulk("v"));
  EXPECT_EQ(Eval("redis.setresp(3); return redis.call('zscore', 'z', 'm').double * 2"), Int(3));
  // RESP3 null -> nil; booleans follow the script's protocol: RESP3 true/false -> :1 / :0.
  EXPECT_EQ(Eval("redis.setresp(3); return type(redis.call('get', 'missing'))"), Bulk("nil"));
  EXPECT_EQ(Eval("redis.setresp(3); return false"), Int(0));
  EXPECT_EQ(Eval("redis.setresp(3); return true"), Int(1));
  EXPECT_EQ(Eval("redis.setresp(4)"),
            Err("ERR RESP version must be 2 or 3. script: " +
                scripting::Sha1Hex("redis.setresp(4)") + ", on @user_script:1."));
}

class ScriptingResp3Test : public ScriptingTest {
 protected:
  ScriptingResp3Test() : ScriptingTest(RespVersion::kResp3) {}
};

TEST_F(ScriptingResp3Test, Resp3Shapes) {
  h_.Run({"HSET", "h", "f", "v"});
  EXPECT_EQ(Eval("redis.setresp(3); return redis.call('hgetall', 'h')"),
            "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}"), "%1\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {set={a=true}}"), "~1\r\n$1\r\na\r\n");
  EXPECT_EQ(Eval("return {double=1.5}"), ",1.5\r\n");
  EXPECT_EQ(Eval("return {big_number='123'}"), "(123\r\n");
  EXPECT_EQ(Eval("return {verbatim_string={format='txt', string='hi'}}"), "=6\r\ntxt:hi\r\n");
  EXPECT_EQ(Eval("return nil"), "_\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return true"), "#t\r\n");
  EXPECT_EQ(Eval("return true"), ":1\r\n");  // a RESP2 script: true is 1
}

TEST_F(ScriptingTest, Sandbox) {
  for (std::string name : {"os", "io", "loadfile", "dofile", "require", "print", "debug"}) {
    std::string body = "return " + name;
    EXPECT_EQ(Eval(body),
              ScriptErr("ERR user_script:1: Script attempted to access nonexistent global "
                        "variable '" +
                            name + "'",
                        body))
        << name;
  }
  for (std::string body :
       {"a = 5", "redis.call = nil", "string.x = 1", "cjson.x = 1", "_G.x = 1"}) {
    EXPECT_EQ(Eval(body), ScriptErr("ERR user_script:1: Attempt to modify a readonly table", body))
        << body;
  }
  EXPECT_EQ(Eval("local t = {}; t.x = 1; return t.x"), Int(1));  // locals are fine
  EXPECT_EQ(Eval("return cjson.encode({1,2,{a=1}})"), Bulk("[1,2,{\"a\":1}]"));
  EXPECT_EQ(Eval("return cjson.decode('[1,2,{\"a\":3}]')[3].a"), Int(3));
  EXPECT_EQ(Eval("return bit.band(7, 3)"), Int(3));
  EXPECT_EQ(Eval("return bit.tohex(255)"), Bulk("000000ff"));
  EXPECT_EQ(Eval("return string.format('%d-%s', 5, 'x')"), Bulk("5-x"));
  EXPECT_EQ(Eval("return redis.sha1hex('')"), Bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  // A script that replaced its environment does not break the next ones.
  Eval("setfenv(0, {})");
  EXPECT_EQ(Eval("return redis.call('ping')"), "+PONG\r\n");
}

TEST_F(ScriptingTest, KeysArgvAndCommands) {
  EXPECT_EQ(Eval("return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", {"k1", "k2"}, {"a1", "a2"}),
            "*4\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\na1\r\n:2\r\n");
  EXPECT_EQ(Eval("return redis.call('set', KEYS[1], ARGV[1])", {"k"}, {"v"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"GET", "k"}), Bulk("v"));
  EXPECT_EQ(Eval("return redis.call('dbsize')"), Int(1));
  EXPECT_EQ(Eval("redis.call('select', 1); redis.call('set', 'k', 'one'); return "
                 "redis.call('dbsize')"),
            Int(1));
  EXPECT_EQ(h_.Run({"GET", "k"}), Bulk("v"));  // the client's db did not change
}

TEST_F(ScriptingTest, ErrorTexts) {
  EXPECT_EQ(
      Eval("return redis.call('nosuch')"),
      ScriptErr("ERR Unknown Redis command called from script", "return redis.call('nosuch')"));
  EXPECT_EQ(Eval("return redis.call('get')"),
            ScriptErr("ERR Wrong number of args calling Redis command from script",
                      "return redis.call('get')"));
  EXPECT_EQ(
      Eval("return redis.call('multi')"),
      ScriptErr("ERR This Redis command is not allowed from script", "return redis.call('multi')"));
  EXPECT_EQ(Eval("return redis.call()"),
            ScriptErr("ERR Please specify at least one argument for this redis lib call",
                      "return redis.call()"));
  EXPECT_EQ(Eval("return redis.call('set', 'k', {})"),
            ScriptErr("ERR Lua redis lib command arguments must be strings or integers",
                      "return redis.call('set', 'k', {})"));
  EXPECT_EQ(Eval("error('boom')"), ScriptErr("ERR user_script:1: boom", "error('boom')"));
  EXPECT_EQ(Eval("error({err='X y'})"), ScriptErr("X y", "error({err='X y'})"));
  EXPECT_EQ(Eval("syntax error here"),
            Err("ERR Error compiling script (new function): user_script:1: '=' expected near "
                "'error'"));
  EXPECT_EQ(Eval("return 1", {"a"}, {}), Int(1));
  EXPECT_EQ(h_.Run({"EVAL", "return 1", "2", "a"}),
            Err("ERR Number of keys can't be greater than number of args"));
  EXPECT_EQ(h_.Run({"EVAL", "return 1", "-1"}), Err("ERR Number of keys can't be negative"));
  EXPECT_EQ(h_.Run({"EVAL", "return 1", "x"}), Err("ERR value is not an integer or out of range"));
  // Read-only scripts.
  EXPECT_EQ(h_.Run({"EVAL_RO", "return redis.call('set','a','1')", "0"}),
            ScriptErr("ERR Write commands are not allowed from read-only scripts.",
                      "return redis.call('set','a','1')"));
  std::string no_writes = "#!lua flags=no-writes\nreturn redis.call('set','a','1')";
  EXPECT_EQ(h_.Run({"EVAL", no_writes, "0"}),
            Err("ERR Write commands are not allowed from read-only scripts. script: " +
                scripting::Sha1Hex(no_writes) + ", on @user_script:2."));
  EXPECT_EQ(h_.Run({"EVAL_RO", "#!lua\nreturn 1", "0"}),
            Err("ERR Can not execute a script with write flag using *_ro command."));
  EXPECT_EQ(h_.Run({"EVAL", "#!lua flags=no-writes,bad\nreturn 1", "0"}),
            Err("ERR Unexpected flag in script shebang: bad"));
  EXPECT_EQ(h_.Run({"EVAL", "#!luax\nreturn 1", "0"}),
            Err("ERR Unexpected engine in script shebang: #!luax"));
}

TEST_F(ScriptingTest, ScriptCache) {
  std::string body = "return ARGV[1]";
  std::string sha = scripting::Sha1Hex(body);
  EXPECT_EQ(h_.Run({"EVALSHA", sha, "0", "x"}),
            Err("NOSCRIPT No matching script. Please use EVAL."));
  EXPECT_EQ(h_.Run({"SCRIPT", "LOAD", body}), Bulk(sha));
  EXPECT_EQ(h_.Run({"EVALSHA", sha, "0", "x"}), Bulk("x"));
  EXPECT_EQ(h_.Run({"EVALSHA_RO", sha, "0", "y"}), Bulk("y"));
  std::string upper = sha;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(h_.Run({"EVALSHA", upper, "0", "z"}), Bulk("z"));
  EXPECT_EQ(h_.Run({"SCRIPT", "EXISTS", sha, "nope"}), "*2\r\n:1\r\n:0\r\n");
  EXPECT_EQ(h_.Run({"SCRIPT", "FLUSH", "bad"}),
            Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
  EXPECT_EQ(h_.Run({"SCRIPT", "FLUSH", "ASYNC"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"SCRIPT", "EXISTS", sha}), "*1\r\n:0\r\n");
  EXPECT_EQ(Eval(body, {}, {"w"}), Bulk("w"));  // EVAL caches it too
  EXPECT_EQ(h_.Run({"SCRIPT", "EXISTS", sha}), "*1\r\n:1\r\n");
  EXPECT_EQ(h_.Run({"SCRIPT", "KILL"}), Err("NOTBUSY No scripts in execution right now."));
}

TEST_F(ScriptingTest, Functions) {
  std::string lib =
      "#!lua name=mylib\n"
      "redis.register_function('echo_key', function(keys, args) return keys[1] end)\n"
      "redis.register_function{function_name='ro', callback=function(keys, args) return "
      "redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"
      "redis.register_function('writer', function(keys, args) return redis.call('set', keys[1], "
      "args[1]) end)\n";
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD", lib}), Bulk("mylib"));
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD", lib}), Err("ERR Library 'mylib' already exists"));
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD", "REPLACE", lib}), Bulk("mylib"));
  EXPECT_EQ(h_.Run({"FCALL", "echo_key", "1", "kk"}), Bulk("kk"));
  EXPECT_EQ(h_.Run({"FCALL", "writer", "1", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FCALL_RO", "ro", "1", "k"}), Bulk("v"));
  EXPECT_EQ(h_.Run({"FCALL_RO", "writer", "1", "k", "v"}),
            Err("ERR Can not execute a script with write flag using *_ro command."));
  EXPECT_EQ(h_.Run({"FCALL", "nosuch", "0"}), Err("ERR Function not found"));
  EXPECT_EQ(h_.Run({"FCALL", "ro", "x"}), Err("ERR Bad number of keys provided"));
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD",
                    "#!lua name=other\nredis.register_function('ro', "
                    "function() end)"}),
            Err("ERR Function ro already exists"));
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD", "#!lua name=bad\nredis.call('ping')"}),
            Err("ERR Error registering functions: ERR user_function:2: Script attempted to "
                "access nonexistent global variable 'call'"));
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD", "return 1"}), Err("ERR Missing library metadata"));
  // Load-time code that never ends is stopped (after 500 ms, as Redis).
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD", "#!lua name=spin\nwhile true do end"}),
            Err("ERR Error registering functions: ERR FUNCTION LOAD timeout"));
  EXPECT_EQ(h_.Run({"FUNCTION", "LOAD",
                    "#!lua name=e\nredis.register_function('f4', function() "
                    "error('inner') end)"}),
            Bulk("e"));
  EXPECT_EQ(h_.Run({"FCALL", "f4", "0"}),
            Err("ERR user_function:2: inner script: f4, on @user_function:2."));
  EXPECT_EQ(h_.Run({"FUNCTION", "LIST", "LIBRARYNAME", "e"}),
            "*1\r\n*6\r\n$12\r\nlibrary_name\r\n$1\r\ne\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
            "$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$2\r\nf4\r\n$11\r\ndescription\r\n"
            "$-1\r\n$5\r\nflags\r\n*0\r\n");
  EXPECT_EQ(h_.Run({"FUNCTION", "STATS"}),
            "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n"
            "$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:4\r\n");
  // DUMP / RESTORE round trip.
  std::string dump = h_.Run({"FUNCTION", "DUMP"});
  size_t header = dump.find("\r\n");
  std::string payload = dump.substr(header + 2, dump.size() - header - 4);
  EXPECT_EQ(h_.Run({"FUNCTION", "RESTORE", payload}), Err("ERR Library e already exists"));
  EXPECT_EQ(h_.Run({"FUNCTION", "FLUSH"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FCALL", "echo_key", "1", "kk"}), Err("ERR Function not found"));
  EXPECT_EQ(h_.Run({"FUNCTION", "RESTORE", payload}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FCALL", "echo_key", "1", "kk"}), Bulk("kk"));
  EXPECT_EQ(h_.Run({"FUNCTION", "RESTORE", payload, "REPLACE"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FUNCTION", "RESTORE", payload + "x"}),
            Err("ERR DUMP payload version or checksum are wrong"));
  EXPECT_EQ(h_.Run({"FUNCTION", "DELETE", "e"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FUNCTION", "DELETE", "e"}), Err("ERR Library not found"));
  EXPECT_EQ(h_.Run({"FCALL", "f4", "0"}), Err("ERR Function not found"));
}

// A payload from redis-server 7.0.15's FUNCTION DUMP (its library code LZF-compressed) restores,
// and Shardis's own DUMP of it restores too.
TEST_F(ScriptingTest, RestoresRedisPayload) {
  const std::string payload(
      "\xf5\xc3\x40\x81\x41\xb1\x1f\x23\x21\x6c\x75\x61\x20\x6e\x61\x6d"
      "\x65\x3d\x7a\x0a\x72\x65\x64\x69\x73\x2e\x72\x65\x67\x69\x73\x74"
      "\x65\x72\x5f\x66\x75\x6e\x63\x0b\x74\x69\x6f\x6e\x28\x27\x7a\x66"
      "\x30\x27\x2c\x20\xe0\x00\x0f\x0c\x29\x20\x72\x65\x74\x75\x72\x6e"
      "\x20\x27\x61\x62\x63\xe0\x00\x02\x06\x30\x27\x20\x65\x6e\x64\x29"
      "\xe0\x13\x45\x00\x31\xe0\x19\x45\x00\x31\xe0\x19\x45\x00\x32\xe0"
      "\x19\x45\x00\x32\xe0\x19\x45\x00\x33\xe0\x19\x45\x00\x33\xe0\x19"
      "\x45\x00\x34\xe0\x19\x45\x00\x34\xe0\x19\x45\x00\x35\xe0\x19\x45"
      "\x00\x35\x60\x45\x01\x29\x0a\x0a\x00\xb0\x85\xfd\x18\x0f\x75\x3b"
      "\x92",
      145);
  ASSERT_EQ(h_.Run({"FUNCTION", "RESTORE", payload}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FCALL", "zf5", "0"}), Bulk("abcabcabcabc5"));
  std::string dump = h_.Run({"FUNCTION", "DUMP"});
  size_t header = dump.find("\r\n");
  std::string ours = dump.substr(header + 2, dump.size() - header - 4);
  EXPECT_EQ(h_.Run({"FUNCTION", "RESTORE", ours, "FLUSH"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"FCALL", "zf0", "0"}), Bulk("abcabcabcabc0"));
}

// Errors as Redis words them: error_reply without a code gets ERR, error() of a non-string
// value is 'ERR ' .. tostring(value) (checked against redis-server 7.0.15).
TEST_F(ScriptingTest, ErrorValues) {
  EXPECT_EQ(Eval("return redis.error_reply('E')"), Err("ERR E"));
  EXPECT_EQ(Eval("return redis.error_reply('-E2 y')"), Err("E2 y"));
  for (const char* value : {"nil", "true", "false"}) {
    std::string body = std::string("error(") + value + ")";
    EXPECT_EQ(Eval(body), ScriptErr(std::string("ERR ") + value, body));
  }
}

// No script can change the string metatable for the scripts after it: getmetatable('') is a
// read-only view, and the string library it reaches is read-only too.
TEST_F(ScriptingTest, StringMetatableIsReadonly) {
  for (const std::string body :
       {"getmetatable('').__index = {} return 1", "getmetatable('').__index.upper = nil return 1",
        "getmetatable('').__index = function() return 'pwned' end return 1"}) {
    EXPECT_EQ(Eval(body), ScriptErr("ERR user_script:1: Attempt to modify a readonly table", body));
  }
  EXPECT_EQ(Eval("return getmetatable('').__index == string"), ":1\r\n");
  for (const std::string name : {"setfenv", "getfenv", "newproxy"}) {  // as Redis: absent
    std::string body = "return type(" + name + ")";
    EXPECT_EQ(Eval(body), ScriptErr("ERR user_script:1: Script attempted to access nonexistent "
                                    "global variable '" +
                                        name + "'",
                                    body));
  }
  // Nor can rawset write into a read-only table (the globals, a library, the view): later
  // scripts would see it, e.g. a redis.call replaced for other users' scripts.
  for (const std::string body :
       {"rawset(getmetatable(''), '__index', {}) return 1", "rawset(redis, 'call', 1) return 1",
        "rawset(_G, 'redis', 1) return 1", "rawset(string, 'upper', 1) return 1"}) {
    EXPECT_EQ(Eval(body), ScriptErr("ERR Attempt to modify a readonly table", body));
  }
  EXPECT_EQ(Eval("local t = {} rawset(t, 'a', 7) return t.a"), ":7\r\n");
  EXPECT_EQ(Eval("return #rawset({}, 1, 2)"), ":1\r\n");
  EXPECT_EQ(Eval("return ('x'):upper() .. ('%d'):format(5) .. string.rep('a', 2)"), Bulk("X5aa"));
}

// SCRIPT DEBUG: NO is accepted, a bad mode gets Redis's usage error; the debugger itself is
// not implemented.
TEST_F(ScriptingTest, ScriptDebugModes) {
  EXPECT_EQ(h_.Run({"SCRIPT", "DEBUG", "no"}), "+OK\r\n");
  EXPECT_EQ(h_.Run({"SCRIPT", "DEBUG", "foo"}), Err("ERR Use SCRIPT DEBUG YES/SYNC/NO"));
  EXPECT_EQ(h_.Run({"SCRIPT", "DEBUG", "yes"}),
            Err("ERR SCRIPT DEBUG is not supported by this server"));
}

// redis.acl_check_cmd for an unrestricted caller, and its errors (as redis-server 7.0.15).
TEST_F(ScriptingTest, AclCheckCmd) {
  EXPECT_EQ(Eval("return redis.acl_check_cmd('set', 'a', 'b')"), ":1\r\n");
  EXPECT_EQ(Eval("return redis.acl_check_cmd('config', 'get', 'x')"), ":1\r\n");
  EXPECT_EQ(Eval("return redis.acl_check_cmd('get', 12)"), ":1\r\n");
  for (const std::string body :
       {"return redis.acl_check_cmd('nosuch')", "return redis.acl_check_cmd('config', 'nosuch')"}) {
    EXPECT_EQ(Eval(body), ScriptErr("ERR Invalid command passed to redis.acl_check_cmd()", body));
  }
  std::string body = "return redis.acl_check_cmd()";
  EXPECT_EQ(Eval(body),
            ScriptErr("ERR Please specify at least one argument for this redis lib call", body));
  body = "return redis.acl_check_cmd('get', {})";
  EXPECT_EQ(Eval(body),
            ScriptErr("ERR Lua redis lib command arguments must be strings or integers", body));
}

// The shebang line is read as Redis's functionExtractLibMetaData does (checked against
// redis-server 7.0.15): sdssplitargs tokens, NAME= in any case, the name's check before the
// engine's, and the engine named in its error.
TEST_F(ScriptingTest, FunctionLibraryMetadata) {
  const std::string kNameErr =
      "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
      "least one character long";
  auto load = [&](const std::string& code) { return h_.Run({"FUNCTION", "LOAD", code}); };
  EXPECT_EQ(load("#!lua name=a"), Err("ERR Invalid library metadata"));  // no newline
  EXPECT_EQ(load("#!lua\n"), Err("ERR Library name was not given"));
  EXPECT_EQ(load("#!\n"), Err("ERR Library name was not given"));
  EXPECT_EQ(load("#!lua name=a name=b\n"),
            Err("ERR Invalid metadata value, name argument was given multiple times"));
  EXPECT_EQ(load("#!lua name=\n"), Err(kNameErr));
  EXPECT_EQ(load("#!js name=x-y\n"), Err(kNameErr));
  EXPECT_EQ(load("#!js name=a\n"), Err("ERR Engine 'js' not found"));
  EXPECT_EQ(load("#! name=a\n"), Err("ERR Engine '' not found"));
  EXPECT_EQ(load("#!js name=a b\n"), Err("ERR Invalid metadata value given: b"));
  EXPECT_EQ(load("#!lua \"name=q\n"), Err("ERR Invalid library metadata"));
  EXPECT_EQ(load("#!lua\tname=t\n"), Err("ERR No functions registered"));
  const std::string body = "\nredis.register_function('f', function() return 1 end)";
  EXPECT_EQ(load("#!LUA NAME=up" + body), Bulk("up"));
  EXPECT_EQ(load("#!lua \"name=q\"\nredis.register_function('g', function() return 2 end)"),
            Bulk("q"));
  EXPECT_EQ(h_.Run({"FCALL", "f", "0"}), ":1\r\n");
}

}  // namespace
}  // namespace shardis
