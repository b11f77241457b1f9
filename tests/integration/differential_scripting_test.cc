// Differential test of Lua scripting: the same EVAL / EVALSHA / SCRIPT / FUNCTION / FCALL
// commands go to shardis-server (--threads 1 and --threads 4) and to the reference redis-server
// 7.0, over RESP2 and RESP3 connections, and the replies must match exactly (error texts with
// their "script: <sha>, on @user_script:N." suffix included).
//
// Part one is a fixed list: conversions, sandbox, error texts, shebang flags, read-only scripts,
// the script cache, function libraries and their errors, DUMP/RESTORE across the two servers,
// and redis-cli --eval. Part two generates seeded random scripts that return nested values of
// every Lua type and the converted replies of data commands (redis.call and redis.pcall, with
// and without redis.setresp(3)). Every key carries the {t} hashtag so that with 4 threads each
// script's keys live on one shard; new connections (spread over the threads by the kernel) check
// that scripts and functions reach every thread.
//
// Environment: SHARDIS_DIFF_SCRIPTS (random scripts per run, default 1500), SHARDIS_DIFF_SEED.
#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

class DifferentialScriptingTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(GetParam(), {}, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    for (int resp : {2, 3}) {
      for (ServerProcess* p : {shardis_.get(), redis_.get()}) {
        std::unique_ptr<RawConnection> c = RawConnection::Connect(p->port(), &error);
        ASSERT_NE(c, nullptr) << error;
        if (resp == 3) {
          ASSERT_NE(c->Run({"HELLO", "3"}), "io-error");
        }
        (p == shardis_.get() ? sh_ : ref_)[resp == 3] = std::move(c);
      }
    }
  }

  void TearDown() override {
    if (shardis_ != nullptr) {
      EXPECT_TRUE(shardis_->Running())
          << ShardisLabel() << " died: " << shardis_->DescribeExit() << "\n"
          << shardis_->LogTail();
    }
  }

  // Sends `args` to both servers over the RESP2 (or RESP3) connection; returns whether the
  // replies are equal, recording a failure otherwise.
  bool Same(const std::vector<std::string>& args, bool resp3 = false) {
    std::string a = sh_[resp3]->Run(args);
    std::string b = ref_[resp3]->Run(args);
    EXPECT_EQ(a, b) << (resp3 ? "RESP3 " : "RESP2 ") << RenderCommand(args);
    return a == b;
  }
  void SameBoth(const std::vector<std::string>& args) {
    Same(args, false);
    Same(args, true);
  }
  // For replies whose order Redis leaves unspecified (FUNCTION LIST: libraries and functions
  // come in dict order): every aggregate's elements are compared sorted, recursively.
  static std::string SortedRender(RespValue v) {
    if (v.elems.empty()) return v.Render();
    std::vector<std::string> parts;
    for (RespValue& e : v.elems) parts.push_back(SortedRender(std::move(e)));
    std::sort(parts.begin(), parts.end());
    return absl::StrCat(static_cast<int>(v.type), "[", absl::StrJoin(parts, ","), "]");
  }
  void SameUnordered(const std::vector<std::string>& args) {
    for (int resp3 = 0; resp3 < 2; ++resp3) {
      ASSERT_TRUE(sh_[resp3]->SendCommand(args));
      ASSERT_TRUE(ref_[resp3]->SendCommand(args));
      std::optional<RespValue> a = sh_[resp3]->Read();
      std::optional<RespValue> b = ref_[resp3]->Read();
      ASSERT_TRUE(a && b);
      EXPECT_EQ(SortedRender(*a), SortedRender(*b))
          << "RESP" << (resp3 ? 3 : 2) << " " << RenderCommand(args) << "\n  " << a->Render()
          << "\n  " << b->Render();
    }
  }
  std::vector<std::string> Eval(const std::string& body, std::vector<std::string> keys = {},
                                std::vector<std::string> argv = {}) {
    std::vector<std::string> args = {"EVAL", body, absl::StrCat(keys.size())};
    args.insert(args.end(), keys.begin(), keys.end());
    args.insert(args.end(), argv.begin(), argv.end());
    return args;
  }

  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<RawConnection> sh_[2];
  std::unique_ptr<RawConnection> ref_[2];
};

TEST_P(DifferentialScriptingTest, FixedCases) {
  for (const char* cmd : {"FLUSHALL", "SCRIPT FLUSH", "FUNCTION FLUSH"}) {
    std::vector<std::string> args;
    for (absl::string_view w : absl::StrSplit(cmd, ' ')) args.emplace_back(w);
    SameBoth(args);
  }
  const std::vector<std::string> k = {"{t}a", "{t}b", "{t}c"};
  const std::vector<std::string> bodies = {
      // Lua -> RESP.
      "return 1",
      "return 3.99",
      "return -3.99",
      "return 1e30",
      "return 'x'",
      "return true",
      "return false",
      "return nil",
      "return {}",
      "return {1,2,3,'x',nil,5}",
      "return {true,false,1.5,{2,{3}}}",
      "return {ok='fine'}",
      "return {err='plain'}",
      "return redis.status_reply('S')",
      "return redis.error_reply('My err')",
      "return redis.error_reply('-My err')",
      "return {double=1.5}",
      "return {map={a=1}}",
      "return {set={a=true}}",
      "return {big_number='123'}",
      "return {verbatim_string={format='txt', string='hi'}}",
      "return {1, {err='inner'}, 3}",
      "return {ok='a\\r\\nb'}",
      // RESP -> Lua.
      "return redis.call('set', KEYS[1], 'v')",
      "return redis.call('get', KEYS[1])",
      "return type(redis.call('get', 'nokey{t}'))",
      "return redis.call('incr', KEYS[2])",
      "return redis.pcall('incr', KEYS[1])",
      "return redis.call('incr', KEYS[1])",
      "return redis.call('rpush', KEYS[3], 'a', 'b')",
      "return redis.call('lrange', KEYS[3], 0, -1)",
      "redis.setresp(3); return redis.call('hgetall', 'nokey{t}')",
      "redis.call('hset', 'h{t}', 'f', 'v'); redis.setresp(3); return redis.call('hgetall', "
      "'h{t}')",
      "redis.call('zadd', 'z{t}', 1.5, 'm'); redis.setresp(3); return redis.call('zscore', "
      "'z{t}', 'm')",
      "redis.setresp(3); return redis.call('zrange', 'z{t}', 0, -1, 'withscores')",
      "redis.setresp(3); return true",
      "redis.setresp(3); return false",
      "redis.setresp(3); return redis.call('get', 'nokey{t}')",
      "return {pcall(redis.call, 'nosuch')}",
      "local ok, e = pcall(error, {err='x'}); return type(e)",
      "return redis.call('set', 'n{t}', 1.5)",
      "return redis.call('get', 'n{t}')",
      "return redis.call('set', 'n{t}', 12345678901234)",
      "return redis.call('get', 'n{t}')",
      "return redis.call('ping')",
      "return redis.call('echo', 'hi')",
      // Errors.
      "a = 5",
      "return b",
      "redis.call = nil",
      "string.x = 1",
      "return os",
      "return io",
      "return loadfile",
      "return dofile",
      "return require",
      "return redis.call('nosuch')",
      "return redis.call('get')",
      "return redis.pcall('get')",
      "error('boom')",
      "error({err='X y'})",
      "return redis.call('set','a{t}','b','c')",
      "syntax error here",
      "return redis.call('eval','return 1',0)",
      "return redis.call('multi')",
      "return redis.call()",
      "return redis.call({})",
      "return redis.call('set','k{t}',{})",
      "return redis.setresp(4)",
      "return redis.sha1hex()",
      "redis.log(redis.LOG_NOTICE, 'hi')",
      "redis.log(9, 'x')",
      "return redis.set_repl(redis.REPL_ALL)",
      "return redis.replicate_commands()",
      "\n\nerror('line three')",
      // Libraries.
      "return cjson.encode({1,2,{a=1}})",
      "return cjson.decode('[1,2,{\"a\":3}]')[3].a",
      "return cjson.decode('{bad')",
      "return bit.band(7,3)",
      "return bit.tohex(255)",
      "return bit.bxor(5, 3)",
      "return string.rep('ab', 3)",
      "return math.floor(2.7)",
      "return table.concat({'a','b'}, '-')",
      "return tonumber('12') + 1",
      "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}",
      // Odd values and commands scripts may not call.
      "error(5)",
      "return {err=5}",
      "return redis.error_reply(5)",
      "return redis.call('blpop', KEYS[1], 0)",
      "return redis.pcall('xread', 'BLOCK', 0, 'STREAMS', 'nos{t}', '$')",
      "return redis.call('xreadgroup', 'GROUP', 'g', 'c', 'block', 'x', 'STREAMS', 'nos{t}', '>')",
      "return redis.call('xread', 'STREAMS', 'nos{t}', '0')",
      "return redis.call('client', 'id')",
      "return redis.call('config', 'get', 'maxmemory')",
      "return redis.call('object', 'encoding', KEYS[1])",
      // Shebang flags.
      "#!lua flags=no-writes\nreturn redis.call('set','a{t}','1')",
      "#!lua flags=no-writes,bad\nreturn 1",
      "#!luax\nreturn 1",
      "#!lua\nreturn 1",
      "#!lua flags=allow-oom,no-writes\nreturn redis.call('get', KEYS[1])",
  };
  for (const std::string& body : bodies) SameBoth(Eval(body, k, {"a1", "a2"}));
  if (GetParam() == 1) {
    // Keyless commands that visit every shard work when there is one.
    for (const char* body : {"return #redis.call('keys', '*')", "return redis.call('dbsize')",
                             "return #redis.call('scan', 0, 'count', 1000)[2]",
                             "return redis.call('randomkey') ~= nil"}) {
      SameBoth(Eval(body));
    }
  }
  for (const std::string& body :
       {std::string("return redis.call('set','a{t}','1')"), std::string("#!lua\nreturn 1"),
        std::string("#!lua flags=no-writes\nreturn 1"),
        std::string("return redis.call('get', KEYS[1])")}) {
    SameBoth({"EVAL_RO", body, "1", "{t}a"});
  }
  // Argument errors.
  SameBoth({"EVAL", "return 1", "2", "a"});
  SameBoth({"EVAL", "return 1", "-1"});
  SameBoth({"EVAL", "return 1", "x"});
  SameBoth({"EVAL", "return 1"});
  SameBoth({"EVALSHA", "0123456789012345678901234567890123456789", "0"});
  SameBoth({"EVALSHA", "short", "0"});
  SameBoth({"EVALSHA", "0123456789012345678901234567890123456789", "x"});
  // The script cache.
  std::string body = "return {KEYS[1], ARGV[1]}";
  SameBoth({"SCRIPT", "LOAD", body});
  SameBoth({"SCRIPT", "LOAD", "syntax error"});
  SameBoth({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "{t}x", "y"});
  SameBoth({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "nope"});
  SameBoth({"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "{t}x", "y"});
  SameBoth({"SCRIPT", "KILL"});
  SameBoth({"SCRIPT", "FLUSH", "bad"});
  SameBoth({"SCRIPT", "NOSUCH"});
  SameBoth({"SCRIPT", "HELP"});
  SameBoth({"SCRIPT", "FLUSH", "SYNC"});
  SameBoth({"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"});
  SameBoth({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "{t}x", "y"});
  // Every thread knows a script loaded through one connection (new connections spread over
  // the threads), and an EVAL'd body as well.
  SameBoth({"SCRIPT", "LOAD", body});
  SameBoth(Eval("return 'evald'"));
  for (int i = 0; i < 12; ++i) {
    std::string error;
    auto sh = RawConnection::Connect(shardis_->port(), &error);
    auto ref = RawConnection::Connect(redis_->port(), &error);
    ASSERT_NE(sh, nullptr);
    ASSERT_NE(ref, nullptr);
    std::vector<std::string> a = {"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1",
                                  absl::StrCat("{t}k", i), "v"};
    EXPECT_EQ(sh->Run(a), ref->Run(a));
    std::vector<std::string> b = {"EVALSHA", "7c1ba7b6d0a7b1a4d7e3b6f9b8a65c1f1b2d0a2e", "0"};
    EXPECT_EQ(sh->Run(b), ref->Run(b));
    b = {"EVALSHA", ref->Run({"SCRIPT", "LOAD", "return 'evald'"}).substr(5, 40), "0"};
    EXPECT_EQ(sh->Run(b), ref->Run(b));
  }
}

TEST_P(DifferentialScriptingTest, Functions) {
  SameBoth({"FUNCTION", "FLUSH"});
  const std::string lib1 =
      "#!lua name=l1\n"
      "redis.register_function('f1', function(keys, args) return keys[1] end)\n"
      "redis.register_function{function_name='ro', callback=function(keys, args) return "
      "redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"
      "redis.register_function('w', function(keys, args) return redis.call('set', keys[1], "
      "args[1]) end)\n"
      "redis.register_function('boom', function() error('inner') end)\n";
  std::vector<std::vector<std::string>> cases = {
      {"FUNCTION", "LOAD", lib1},
      {"FUNCTION", "LOAD", lib1},
      {"FUNCTION", "LOAD", "REPLACE", lib1},
      {"FUNCTION", "LOAD", "#!lua name=l2\nredis.register_function('f1', function() end)"},
      {"FUNCTION", "LOAD", "return 1"},
      {"FUNCTION", "LOAD", "#!lua"},
      {"FUNCTION", "LOAD", "#!lua name="},
      {"FUNCTION", "LOAD", "#!lua name=x y=z\nreturn 1"},
      {"FUNCTION", "LOAD", "#!lua name=x\nreturn 1"},
      {"FUNCTION", "LOAD", "#!lua name=x\nlocal a = "},
      {"FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')"},
      {"FUNCTION", "LOAD", "#!lua name=x\nlocal s = string.format('%d', 1)"},
      {"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f', 1)"},
      {"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f')"},
      {"FUNCTION", "LOAD",
       "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, "
       "flags={'bad'}}"},
      {"FUNCTION", "LOAD",
       "#!lua name=x\nredis.register_function{function_name='f', callback=function() end, "
       "foo=1}"},
      {"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function{callback=function() end}"},
      {"FUNCTION", "LOAD",
       "#!lua name=x\nredis.register_function('f', function() end) "
       "redis.register_function('f', function() end)"},
      {"FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('a b', function() end)"},
      {"FUNCTION", "LOAD", "#!lua name=x\nx = 1"},
      {"FUNCTION", "LOAD", "foo", "bar"},
      {"FCALL", "f1", "1", "{t}kk"},
      {"FCALL", "w", "1", "{t}kk", "val"},
      {"FCALL_RO", "ro", "1", "{t}kk"},
      {"FCALL_RO", "w", "1", "{t}kk", "v"},
      {"FCALL", "boom", "0"},
      {"FCALL", "nosuch", "0"},
      {"FCALL", "f1", "x"},
      {"FCALL", "f1", "5", "a"},
      {"FCALL", "f1", "-1"},
      {"FUNCTION", "LIST"},
      {"FUNCTION", "LIST", "WITHCODE"},
      {"FUNCTION", "LIST", "LIBRARYNAME", "l*"},
      {"FUNCTION", "LIST", "LIBRARYNAME", "zz*"},
      {"FUNCTION", "LIST", "bad"},
      {"FUNCTION", "LIST", "LIBRARYNAME"},
      {"FUNCTION", "LIST", "WITHCODE", "WITHCODE"},
      {"FUNCTION", "STATS"},
      {"FUNCTION", "KILL"},
      {"FUNCTION", "DELETE", "nosuch"},
      {"FUNCTION", "FLUSH", "bad"},
      {"FUNCTION", "RESTORE", "abc"},
      {"FUNCTION", "HELP"},
  };
  for (const auto& args : cases) {
    if (args.size() >= 2 && args[0] == "FUNCTION" && args[1] == "LIST") {
      SameUnordered(args);
    } else {
      SameBoth(args);
    }
  }
  // Every thread has the library.
  for (int i = 0; i < 12; ++i) {
    std::string error;
    auto sh = RawConnection::Connect(shardis_->port(), &error);
    auto ref = RawConnection::Connect(redis_->port(), &error);
    ASSERT_NE(sh, nullptr);
    ASSERT_NE(ref, nullptr);
    std::vector<std::string> a = {"FCALL", "f1", "1", absl::StrCat("{t}k", i)};
    EXPECT_EQ(sh->Run(a), ref->Run(a));
  }
  // DUMP / RESTORE both ways between the two servers.
  std::optional<RespValue> dump_ref, dump_sh;
  ASSERT_TRUE(ref_[0]->SendCommand({"FUNCTION", "DUMP"}));
  dump_ref = ref_[0]->Read();
  ASSERT_TRUE(sh_[0]->SendCommand({"FUNCTION", "DUMP"}));
  dump_sh = sh_[0]->Read();
  ASSERT_TRUE(dump_ref && dump_sh);
  for (std::string policy : {"", "APPEND", "REPLACE", "FLUSH", "BAD"}) {
    std::vector<std::string> a = {"FUNCTION", "RESTORE", dump_ref->str};
    std::vector<std::string> b = {"FUNCTION", "RESTORE", dump_sh->str};
    if (!policy.empty()) {
      a.push_back(policy);
      b.push_back(policy);
    }
    EXPECT_EQ(sh_[0]->Run(a), ref_[0]->Run(b)) << policy;
  }
  SameBoth({"FUNCTION", "FLUSH"});
  EXPECT_EQ(sh_[0]->Run({"FUNCTION", "RESTORE", dump_ref->str}),
            ref_[0]->Run({"FUNCTION", "RESTORE", dump_sh->str}));
  SameBoth({"FCALL", "w", "1", "{t}r", "restored"});
  SameBoth({"FUNCTION", "DELETE", "l1"});
  SameBoth({"FCALL", "f1", "1", "{t}kk"});
  SameBoth({"FUNCTION", "STATS"});
  // One library: the payload is byte for byte Redis's, its code LZF-compressed as Redis writes
  // an RDB string (or raw with rdbcompression no).
  SameBoth({"FUNCTION", "FLUSH"});
  SameBoth({"FUNCTION", "LOAD",
            "#!lua name=one\nredis.register_function('one', function(keys, args) return "
            "redis.call('get', keys[1]) end)"});
  SameBoth({"FUNCTION", "DUMP"});
  SameBoth({"CONFIG", "SET", "rdbcompression", "no"});
  SameBoth({"FUNCTION", "DUMP"});
  SameBoth({"CONFIG", "SET", "rdbcompression", "yes"});
}

TEST_P(DifferentialScriptingTest, RedisCliEval) {
  std::string dir = MakeTempDir("lua-cli");
  std::string file = dir + "/script.lua";
  {
    std::ofstream out(file);
    out << "redis.call('set', KEYS[1], ARGV[1])\nreturn {KEYS[1], redis.call('get', KEYS[1]), "
           "ARGV[2]}\n";
  }
  std::string outputs[2];
  int i = 0;
  for (ServerProcess* p : {shardis_.get(), redis_.get()}) {
    ShellResult r = RunShell(
        absl::StrCat("redis-cli -p ", p->port(), " --eval ", ShellQuote(file), " {t}k1 , a1 a2"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    outputs[i++] = r.out;
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(outputs[0], "{t}k1\na1\na2\n");
  RemoveTree(dir);
}

// Scripts inside transactions, and a script's writes seen by WATCH (also from another
// connection, and with 4 threads from another thread).
TEST_P(DifferentialScriptingTest, TransactionsAndWatch) {
  SameBoth({"FLUSHALL"});
  const std::string incr = "return redis.call('incrby', KEYS[1], ARGV[1])";
  SameBoth({"MULTI"});
  SameBoth({"EVAL", incr, "1", "{t}n", "5"});
  SameBoth({"EVAL", "return redis.call('get', KEYS[1])", "1", "{t}n"});
  SameBoth({"EVAL", "return redis.call('nosuch')", "0"});
  SameBoth({"EXEC"});
  SameBoth({"MULTI"});
  SameBoth({"EVAL", incr, "x"});  // queued, fails at EXEC
  SameBoth({"EXEC"});
  for (int i = 0; i < 6; ++i) {
    std::string error;
    auto other_sh = RawConnection::Connect(shardis_->port(), &error);
    auto other_ref = RawConnection::Connect(redis_->port(), &error);
    ASSERT_TRUE(other_sh && other_ref);
    std::string key = absl::StrCat("{t}w", i);
    SameBoth({"WATCH", key});
    std::vector<std::string> write = {"EVAL", incr, "1", key, "1"};
    if (i % 2 == 0) EXPECT_EQ(other_sh->Run(write), other_ref->Run(write));  // touches it
    SameBoth({"MULTI"});
    SameBoth({"GET", key});
    SameBoth({"EXEC"});  // nil when the script wrote the key
  }
}

// COMMAND INFO (name, arity, flags, key positions, ACL categories) and COMMAND DOCS (summary,
// since, group) of the scripting commands match; key specs and tips are not modelled.
TEST_P(DifferentialScriptingTest, CommandTable) {
  const std::vector<std::string> names = {
      "eval",           "evalsha",       "eval_ro",          "evalsha_ro",
      "fcall",          "fcall_ro",      "script",           "script|load",
      "script|exists",  "script|flush",  "script|kill",      "script|help",
      "function",       "function|load", "function|list",    "function|delete",
      "function|flush", "function|dump", "function|restore", "function|stats",
      "function|kill",  "function|help"};
  for (const std::string& name : names) {
    std::optional<RespValue> a, b;
    ASSERT_TRUE(sh_[0]->SendCommand({"COMMAND", "INFO", name}));
    ASSERT_TRUE(ref_[0]->SendCommand({"COMMAND", "INFO", name}));
    a = sh_[0]->Read();
    b = ref_[0]->Read();
    ASSERT_TRUE(a && b && a->elems.size() == 1 && b->elems.size() == 1) << name;
    for (size_t i = 0; i < 7; ++i) {
      EXPECT_EQ(a->elems[0].elems[i].Render(), b->elems[0].elems[i].Render()) << name << " " << i;
    }
    ASSERT_TRUE(sh_[1]->SendCommand({"COMMAND", "DOCS", name}));
    ASSERT_TRUE(ref_[1]->SendCommand({"COMMAND", "DOCS", name}));
    a = sh_[1]->Read();
    b = ref_[1]->Read();
    ASSERT_TRUE(a && b && a->elems.size() == 2 && b->elems.size() == 2) << name;
    for (const char* field : {"summary", "since", "group"}) {
      const RespValue* fa = a->elems[1].Find(field);
      const RespValue* fb = b->elems[1].Find(field);
      ASSERT_TRUE(fa && fb) << name << " " << field;
      EXPECT_EQ(fa->Render(), fb->Render()) << name << " " << field;
    }
  }
  SameBoth({"COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"});
  SameBoth({"COMMAND", "GETKEYS", "EVAL", "return 1", "0"});
  SameBoth({"COMMAND", "GETKEYS", "FCALL", "f", "1", "a"});
}

// ---- Random scripts ----

class ScriptGenerator {
 public:
  explicit ScriptGenerator(uint64_t seed) : rng_(seed) {}

  std::string Next() {
    std::string body = Chance(0.3) ? "redis.setresp(3); " : "";
    if (Chance(0.15)) body += absl::StrCat("redis.call(", Command(), "); ");
    return body + "return " + Value(0);
  }

 private:
  int Rand(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  std::string Key() { return absl::StrCat("KEYS[", 1 + Rand(3), "]"); }

  std::string Command() {
    std::string k = Key();
    switch (Rand(26)) {
      case 0:
        return absl::StrCat("'set', ", k, ", ARGV[1]");
      case 1:
        return absl::StrCat("'get', ", k);
      case 2:
        return absl::StrCat("'incr', ", k);
      case 3:
        return absl::StrCat("'incrbyfloat', ", k, ", '1.5'");
      case 4:
        return absl::StrCat("'lpush', ", k, ", 'x', 'y'");
      case 5:
        return absl::StrCat("'lrange', ", k, ", 0, -1");
      case 6:
        return absl::StrCat("'rpop', ", k);
      case 7:
        return absl::StrCat("'hset', ", k, ", 'f', 'v', 'g', ", Rand(100));
      case 8:
        return absl::StrCat("'hgetall', ", k);
      case 9:
        return absl::StrCat("'hget', ", k, ", 'f'");
      case 10:
        return absl::StrCat("'zadd', ", k, ", ", Rand(10), ".5, 'm", Rand(3), "'");
      case 11:
        return absl::StrCat("'zrange', ", k, ", 0, -1, 'withscores'");
      case 12:
        return absl::StrCat("'zscore', ", k, ", 'm1'");
      case 13:
        return absl::StrCat("'sadd', ", k, ", 'a', ", Rand(5));
      case 14:
        return absl::StrCat("'scard', ", k);
      case 15:
        return absl::StrCat("'del', ", k);
      case 16:
        return "'exists', KEYS[1], KEYS[2], KEYS[3]";
      case 17:
        return absl::StrCat("'type', ", k);
      case 18:
        return "'nosuch'";
      case 19:
        return "'get'";
      case 20:
        return absl::StrCat("'expire', ", k, ", 1000");
      case 21:
        return absl::StrCat("'ttl', ", k);
      case 22:
        return "'ping'";
      case 23:
        return "'mget', KEYS[1], KEYS[2], 'missing{t}'";
      case 24:
        return absl::StrCat("'sismember', ", k, ", 'a'");
      default:
        return absl::StrCat("'hincrby', ", k, ", 'g', ", Rand(5));
    }
  }

  std::string Value(int depth) {
    int pick = Rand(depth >= 3 ? 12 : 18);
    switch (pick) {
      case 0:
        return absl::StrCat(Rand(2001) - 1000);
      case 1:
        return absl::StrCat(Rand(2) ? "-" : "", Rand(1000), ".", Rand(1000));
      case 2:
        return absl::StrCat("'s", Rand(100), "'");
      case 3:
        return "true";
      case 4:
        return "false";
      case 5:
        return "nil";
      case 6:
        return absl::StrCat("{ok='st", Rand(10), "'}");
      case 7:
        return absl::StrCat("redis.error_reply('E", Rand(10), " x')");
      case 8:
        return absl::StrCat("redis.pcall(", Command(), ")");
      case 9:
        return absl::StrCat("{double=", Rand(100), ".25}");
      case 10:
        return "1e30";
      case 11:
        return absl::StrCat("redis.status_reply('S", Rand(5), "')");
      case 12:
        return absl::StrCat("{map={k", Rand(3), "=", Value(depth + 1), "}}");
      case 13:
        return absl::StrCat("{set={", Value(depth + 1), "}}");
      default: {
        int n = Rand(5);
        std::vector<std::string> items;
        for (int i = 0; i < n; ++i) items.push_back(Value(depth + 1));
        return absl::StrCat("{", absl::StrJoin(items, ", "), "}");
      }
    }
  }

  std::mt19937_64 rng_;
};

TEST_P(DifferentialScriptingTest, RandomScripts) {
  SameBoth({"FLUSHALL"});
  const int64_t scripts = EnvInt("SHARDIS_DIFF_SCRIPTS", 1500);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("SHARDIS_DIFF_SEED", 12345));
  ScriptGenerator gen(seed + GetParam());
  int failures = 0;
  for (int64_t i = 0; i < scripts && failures < 10; ++i) {
    std::string body = gen.Next();
    bool resp3 = i % 3 == 2;
    std::vector<std::string> args = {"EVAL", body, "3", "{t}a", "{t}b", "{t}c", "av"};
    if (!Same(args, resp3)) ++failures;
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, DifferentialScriptingTest, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return absl::StrCat("threads", info.param);
                         });

}  // namespace
}  // namespace shardis::test
