// Differential test of ACL and AUTH: one scripted sequence of ACL SETUSER (good and bad rules),
// AUTH (right and wrong), permission-denied commands (command, key, channel), ACL GETUSER / LIST
// / USERS / CAT / DRYRUN / LOG / DELUSER, requirepass and redis-cli --user/--pass goes to
// shardis-server (--threads 1 and --threads 4) and to the reference redis-server 7.0; replies
// must match. Where Redis's output order depends on its hash table (the single-command part of
// a user's command rules, ACL CAT <category>) the test sorts; ACL LOG is compared on its stable
// fields (count, reason, context, object, username). With 4 threads the user connections land
// on different threads, which checks that ACL changes reach every thread.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// "+@all -@dangerous -get +set" -> categories in order, then the single commands sorted.
std::string NormalizeRules(const std::string& rules) {
  std::vector<std::string> words = absl::StrSplit(rules, ' ', absl::SkipEmpty());
  size_t cats = 0;
  while (cats < words.size() && words[cats].size() > 2 && words[cats][1] == '@') ++cats;
  std::sort(words.begin() + cats, words.end());
  return absl::StrJoin(words, " ");
}

// An ACL LIST line with its command rules normalized.
std::string NormalizeListLine(const std::string& line) {
  size_t pos = line.find(" -@all");
  if (pos == std::string::npos) pos = line.find(" +@all");
  if (pos == std::string::npos) return line;
  return line.substr(0, pos + 1) + NormalizeRules(line.substr(pos + 1));
}

std::string RenderNormalized(const redisReply* r, bool list) {
  if (r == nullptr) return "io-error";
  if (r->type == REDIS_REPLY_ARRAY && list) {
    std::vector<std::string> lines;
    for (size_t i = 0; i < r->elements; ++i) {
      lines.push_back(NormalizeListLine(std::string(r->element[i]->str, r->element[i]->len)));
    }
    return absl::StrJoin(lines, "\n");
  }
  if (r->type == REDIS_REPLY_ARRAY) {  // GETUSER: normalize the "commands" value
    std::vector<std::string> parts;
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      if (i > 0 && e->type == REDIS_REPLY_STRING && r->element[i - 1]->type == REDIS_REPLY_STRING &&
          std::string(r->element[i - 1]->str) == "commands") {
        parts.push_back("commands=" + NormalizeRules(std::string(e->str, e->len)));
      } else {
        parts.push_back(Render(e));
      }
    }
    return absl::StrJoin(parts, ",");
  }
  return Render(r);
}

// ACL LOG's stable fields, one "count|reason|context|object|username" per entry, sorted (entries
// logged within the same millisecond on different threads may list in either order). With
// `merge_counts`, the total count per reason/context/object/username instead.
std::string RenderLog(const redisReply* r, bool merge_counts) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return Render(r);
  std::vector<std::string> entries;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    std::string out;
    for (size_t j = 0; j + 1 < e->elements; j += 2) {
      std::string key(e->element[j]->str, e->element[j]->len);
      if (key == "count" || key == "reason" || key == "context" || key == "object" ||
          key == "username") {
        out += key + "=" + Render(e->element[j + 1]) + "|";
      }
    }
    entries.push_back(out);
  }
  if (merge_counts) {
    // Each thread groups its own entries: only the total per (reason, context, object,
    // username) is comparable with Redis's single log.
    std::map<std::string, int64_t> totals;
    for (const std::string& e : entries) {
      size_t bar = e.find('|');
      totals[e.substr(bar + 1)] += std::stoll(e.substr(10, bar - 10));
    }
    entries.clear();
    for (const auto& [k, n] : totals) entries.push_back(std::to_string(n) + " x " + k);
  }
  std::sort(entries.begin(), entries.end());
  return absl::StrJoin(entries, "\n");
}

class DifferentialAclTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(GetParam(), {}, &error);
    ASSERT_NE(shardis_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << "cannot start redis-server: " << error;
    sh_admin_ = Client::Connect(shardis_->port());
    ref_admin_ = Client::Connect(redis_->port());
    ASSERT_NE(sh_admin_, nullptr);
    ASSERT_NE(ref_admin_, nullptr);
  }

  void TearDown() override {
    if (shardis_ != nullptr) {
      EXPECT_TRUE(shardis_->Running())
          << ShardisLabel() << " died: " << shardis_->DescribeExit() << "\n"
          << shardis_->LogTail();
    }
  }

  // The same command on both admin connections; returns the (shared) rendering.
  std::string Admin(const std::vector<std::string>& args, int mode = 0) {
    ReplyPtr a = sh_admin_->Command(args);
    ReplyPtr b = ref_admin_->Command(args);
    std::string ra, rb;
    if (mode == 1) {
      ra = RenderNormalized(a.get(), true);
      rb = RenderNormalized(b.get(), true);
    } else if (mode == 2) {
      ra = RenderNormalized(a.get(), false);
      rb = RenderNormalized(b.get(), false);
    } else if (mode == 3) {
      ra = RenderSet(a.get());
      rb = RenderSet(b.get());
    } else if (mode == 4) {
      ra = RenderLog(a.get(), GetParam() > 1);
      rb = RenderLog(b.get(), GetParam() > 1);
    } else {
      ra = Render(a.get());
      rb = Render(b.get());
    }
    EXPECT_EQ(ra, rb) << RenderCommand(args) << " (threads=" << GetParam() << ")";
    return ra;
  }

  // A pair of user connections (shardis, redis).
  struct Pair {
    std::unique_ptr<Client> sh, ref;
  };
  Pair Connect() {
    Pair p{Client::Connect(shardis_->port()), Client::Connect(redis_->port())};
    EXPECT_NE(p.sh, nullptr);
    EXPECT_NE(p.ref, nullptr);
    return p;
  }
  std::string Both(Pair& p, const std::vector<std::string>& args) {
    std::string a = p.sh->Run(args);
    std::string b = p.ref->Run(args);
    EXPECT_EQ(a, b) << RenderCommand(args) << " (threads=" << GetParam() << ")";
    return a;
  }

  std::unique_ptr<ServerProcess> shardis_, redis_;
  std::unique_ptr<Client> sh_admin_, ref_admin_;
};

TEST_P(DifferentialAclTest, ScriptedSequence) {
  // Defaults.
  Admin({"ACL", "LIST"});
  Admin({"ACL", "GETUSER", "default"});
  Admin({"ACL", "WHOAMI"});
  Admin({"ACL", "CAT"});
  for (const char* cat : {"hash", "string", "transaction", "pubsub", "scripting", "bitmap"}) {
    Admin({"ACL", "CAT", cat}, 3);
  }
  Admin({"ACL", "CAT", "nosuch"});
  Admin({"AUTH", "x"});
  Admin({"AUTH", "default", "x"});

  // Rules, good and bad.
  Admin({"ACL", "SETUSER", "alice", "on", ">pw", "~foo*", "%R~bar*", "%W~w*", "&chan*", "+@read",
         "+@write", "-del", "+config|get", "+client", "-client|kill"});
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"~*", "~foo"},
           {"&*", "&x"},
           {"+nosuch"},
           {"+config|get|maxmemory"},
           {"-config|get|maxmemory"},
           {"+get|a|b"},
           {"+config|nosuch"},
           {"+@nosuch"},
           {"#abc"},
           {"<nope"},
           {"!961b6dd3ede3cb8ecbaacbd68de040cd78eb2ed5889130cceb4c49268ea4d506"},
           {"foo"},
           {"%X~k"},
       }) {
    std::vector<std::string> args = {"ACL", "SETUSER", "carol"};
    args.insert(args.end(), bad.begin(), bad.end());
    Admin(args);
  }
  Admin({"ACL", "SETUSER", "bad user"});
  Admin({"ACL", "SETUSER", "bob"});
  Admin(
      {"ACL", "SETUSER", "eve", "on", ">a", ">b", "<a", "+@all", "-@dangerous", "-get", "allkeys"});
  Admin({"ACL", "SETUSER", "dave", "on", "nopass", "+config|get"});
  Admin({"ACL", "SETUSER", "dave", "+config"});
  Admin({"ACL", "GETUSER", "dave"}, 2);
  Admin({"ACL", "SETUSER", "dave", "-config", "+config|set", "allkeys", "allchannels"});
  Admin({"ACL", "SETUSER", "dave", "reset"});
  Admin({"ACL", "GETUSER", "alice"}, 2);
  Admin({"ACL", "GETUSER", "eve"}, 2);
  Admin({"ACL", "GETUSER", "nobody"});
  Admin({"ACL", "LIST"}, 1);
  Admin({"ACL", "USERS"});
  Admin({"ACL", "DRYRUN", "alice", "set", "foo1", "v"});
  Admin({"ACL", "DRYRUN", "alice", "get", "zz"});
  Admin({"ACL", "DRYRUN", "alice", "del", "foo1"});
  Admin({"ACL", "DRYRUN", "nobody", "get", "x"});
  // Read/write needs per key, as Redis's key specs give them.
  Admin({"ACL", "SETUSER", "kim", "on", "nopass", "+@all", "%R~r*", "%W~w*", "~both*"});
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"get", "w1"},
           {"set", "w1", "v"},
           {"set", "w1", "v", "GET"},
           {"set", "r1", "v"},
           {"incr", "w1"},
           {"incr", "both1"},
           {"append", "w1", "x"},
           {"exists", "w1", "r1"},
           {"exists", "zz"},
           {"strlen", "w1"},
           {"type", "w1"},
           {"ttl", "w1"},
           {"del", "w1"},
           {"del", "r1"},
           {"lpush", "w1", "x"},
           {"lpop", "w1"},
           {"lmove", "r1", "w1", "left", "right"},
           {"lmove", "both1", "w1", "left", "right"},
           {"rename", "both1", "w1"},
           {"copy", "r1", "w1"},
           {"zunionstore", "w1", "2", "r1", "both1"},
           {"zunionstore", "r1", "2", "r1", "both1"},
           {"sinterstore", "w1", "r1", "r2"},
           {"mset", "w1", "a", "w2", "b"},
           {"mget", "r1", "w1"},
           {"hset", "w1", "f", "v"},
           {"hget", "w1", "f"},
           {"sadd", "w1", "m"},
           {"pfadd", "w1", "a"},
           {"xadd", "w1", "*", "f", "v"},
           {"expire", "w1", "10"},
           {"object", "encoding", "w1"},
           {"eval", "return 1", "1", "r1"},
           {"sort", "r1", "store", "w1"},  // the STORE destination is only written
           {"sort", "r1", "store", "r2"},
           {"sort", "w1", "store", "w2"},
       }) {
    std::vector<std::string> args = {"ACL", "DRYRUN", "kim"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    Admin(args);
  }

  // Denied by every selector: the later key wins a tie.
  Admin({"ACL", "SETUSER", "sel", "on", "nopass", "+mget", "~key", "(+mget ~key ~otherkey)"});
  Admin({"ACL", "DRYRUN", "sel", "mget", "otherkey", "someotherkey"});
  Admin({"ACL", "DRYRUN", "sel", "mget", "key", "otherkey", "someotherkey"});
  Admin({"ACL", "DELUSER", "sel"});

  // Users on several connections (spread over the threads).
  std::vector<Pair> users;
  for (int i = 0; i < 4; ++i) users.push_back(Connect());
  for (Pair& p : users) {
    Both(p, {"AUTH", "alice", "wrong"});
    Both(p, {"AUTH", "nobody", "pw"});
    Both(p, {"AUTH", "bob", "x"});  // disabled
    Both(p, {"AUTH", "alice", "pw"});
    Both(p, {"GET", "foo1"});
    Both(p, {"SET", "foo1", "v"});
    Both(p, {"GET", "bar1"});
    Both(p, {"SET", "bar1", "v"});
    Both(p, {"GET", "w1"});
    Both(p, {"SET", "w1", "v"});
    Both(p, {"GET", "zz"});
    Both(p, {"DEL", "foo1"});
    Both(p, {"PING"});
    Both(p, {"CONFIG", "GET", "maxmemory"});
    Both(p, {"CONFIG", "SET", "maxmemory", "0"});
    Both(p, {"CLIENT", "KILL", "ID", "999999"});
    Both(p, {"CLIENT", "GETNAME"});
    Both(p, {"ACL", "WHOAMI"});
    Both(p, {"PUBLISH", "chan1", "m"});
    Both(p, {"MULTI"});
  }
  Admin({"ACL", "SETUSER", "alice", "+publish", "+subscribe", "+ping", "+acl|whoami", "+multi",
         "+exec", "+spublish", "+ssubscribe"});
  for (Pair& p : users) {
    Both(p, {"PING"});
    Both(p, {"ACL", "WHOAMI"});
    Both(p, {"PUBLISH", "chan1", "m"});
    Both(p, {"PUBLISH", "other", "m"});
    // Shard channels are channels, not keys (alice's key patterns do not match them).
    Both(p, {"SPUBLISH", "chan1", "m"});
    Both(p, {"SPUBLISH", "other", "m"});
    Both(p, {"SSUBSCRIBE", "other"});
    Both(p, {"MULTI"});
    Both(p, {"GET", "zz"});  // NOPERM inside MULTI: flags the transaction
    Both(p, {"EXEC"});
    Both(p, {"SUBSCRIBE", "other"});
  }
  // HELLO ... AUTH, and the RESP3 shapes of GETUSER and ACL LOG.
  {
    std::string error;
    auto a = RawConnection::Connect(shardis_->port(), &error);
    auto b = RawConnection::Connect(redis_->port(), &error);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
             {"HELLO", "3", "AUTH", "alice", "wrong"},
             {"HELLO", "3", "AUTH", "alice", "pw", "SETNAME", "n"},
             {"ACL", "WHOAMI"},
             {"GET", "zz"},
             {"HELLO", "3", "AUTH", "default", "x"},
             {"ACL", "WHOAMI"},
             {"ACL", "GETUSER", "bob"},
             {"ACL", "DRYRUN", "alice", "get", "zz"},
         }) {
      std::string ra = a->Run(cmd), rb = b->Run(cmd);
      if (cmd[0] == "HELLO" && ra.starts_with("map:")) {
        // Server identity fields differ; compare the shape only.
        ra = ra.substr(0, 4);
        rb = rb.substr(0, 4);
      }
      EXPECT_EQ(ra, rb) << RenderCommand(cmd);
    }
  }
  std::string list = sh_admin_->Run({"CLIENT", "LIST"});
  EXPECT_NE(list.find("user=alice"), std::string::npos) << list;

  // ACL LOG: stable fields; then a limited count and RESET.
  // The 10 newest entries depend on per-thread grouping: compared at 1 thread only.
  if (GetParam() == 1) Admin({"ACL", "LOG"}, 4);
  Admin({"ACL", "LOG", "100"}, 4);
  {
    ReplyPtr a = sh_admin_->Command({"ACL", "LOG", "2"});
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->elements, 2u);
  }
  Admin({"ACL", "LOG", "RESET"});
  Admin({"ACL", "LOG"});

  // redis-cli --user/--pass.
  for (const char* cmd : {"GET foo1", "SET bar1 x", "PING"}) {
    std::string base = " --user alice --pass pw --no-auth-warning ";
    ShellResult a = RunShell("redis-cli -p " + std::to_string(shardis_->port()) + base + cmd);
    ShellResult b = RunShell("redis-cli -p " + std::to_string(redis_->port()) + base + cmd);
    EXPECT_EQ(a.out, b.out) << cmd;
  }
  {
    std::string base = " --user alice --pass nope --no-auth-warning PING";
    ShellResult a = RunShell("redis-cli -p " + std::to_string(shardis_->port()) + base);
    ShellResult b = RunShell("redis-cli -p " + std::to_string(redis_->port()) + base);
    EXPECT_EQ(a.out + a.err, b.out + b.err);
  }

  // DELUSER disconnects the user's clients.
  Admin({"ACL", "DELUSER", "default"});
  Admin({"ACL", "DELUSER", "alice", "nobody", "eve"});
  for (Pair& p : users) {
    EXPECT_EQ(p.sh->Run({"GET", "foo1"}), "io-error");
    EXPECT_EQ(p.ref->Run({"GET", "foo1"}), "io-error");
  }
  Admin({"ACL", "USERS"});
  // A user deleting itself gets its reply, then the connection closes.
  Admin({"ACL", "SETUSER", "self", "on", "nopass", "+@all"});
  {
    Pair p = Connect();
    Both(p, {"AUTH", "self", "x"});
    Both(p, {"ACL", "DELUSER", "self"});
    EXPECT_EQ(p.sh->Run({"PING"}), "io-error");
    EXPECT_EQ(p.ref->Run({"PING"}), "io-error");
  }

  // requirepass is the default user's password.
  Admin({"CONFIG", "SET", "requirepass", "secret"});
  Admin({"ACL", "LIST"}, 1);
  {
    Pair p = Connect();
    Both(p, {"PING"});
    Both(p, {"AUTH", "wrong"});
    Both(p, {"AUTH", "secret"});
    Both(p, {"PING"});
    Both(p, {"CONFIG", "SET", "requirepass", ""});
  }
  {
    Pair p = Connect();
    Both(p, {"PING"});
  }
  Admin({"ACL", "LIST"}, 1);
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// aclfile: loaded at start; ACL SAVE writes it, ACL LOAD reads it (errors leave users as they
// were), compared with redis-server given the same file contents.
TEST_P(DifferentialAclTest, AclFile) {
  char tmpl[] = "/tmp/shardis-acl-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string sh_file = dir + "/sh.acl", ref_file = dir + "/ref.acl";
  std::string initial =
      "user default on nopass ~* &* +@all\nuser x on >p ~k* resetchannels -@all +get\n";
  WriteAll(sh_file, initial);
  WriteAll(ref_file, initial);
  std::string error;
  auto sh = StartShardis(GetParam(), {"--aclfile", sh_file}, &error);
  ASSERT_NE(sh, nullptr) << error;
  auto ref = StartRedis({"--aclfile", ref_file}, &error);
  ASSERT_NE(ref, nullptr) << error;
  auto a = Client::Connect(sh->port());
  auto b = Client::Connect(ref->port());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto both = [&](const std::vector<std::string>& args) {
    std::string ra = Render(a->Command(args).get());
    std::string rb = Render(b->Command(args).get());
    // Error texts name the file: compare them without it.
    for (auto [text, path] : {std::pair{&ra, sh_file}, std::pair{&rb, ref_file}}) {
      for (size_t at; (at = text->find(path)) != std::string::npos;) {
        text->replace(at, path.size(), "<file>");
      }
    }
    EXPECT_EQ(ra, rb) << RenderCommand(args);
  };
  both({"ACL", "LIST"});
  both({"AUTH", "x", "p"});
  both({"GET", "k1"});
  both({"GET", "z"});
  both({"AUTH", "default", "any"});
  both({"ACL", "SETUSER", "y", "on", "nopass", "%R~r*", "&c", "+@hash"});
  both({"ACL", "SAVE"});
  EXPECT_EQ(ReadAll(sh_file), ReadAll(ref_file));
  for (const std::string& extra :
       {std::string("user z on\n"), std::string("bogus\n"), std::string("user q +nosuch\n"),
        std::string("user x off\n"), std::string("\n\nuser w on ~a\n")}) {
    WriteAll(sh_file, initial + extra);
    WriteAll(ref_file, initial + extra);
    both({"ACL", "LOAD"});
    both({"ACL", "USERS"});
  }
  both({"ACL", "LIST"});
  sh->Stop();
  ref->Stop();
  // A broken file stops the start, as in Redis.
  WriteAll(sh_file, "bogus\n");
  EXPECT_EQ(StartShardis(GetParam(), {"--aclfile", sh_file}, &error), nullptr);
  std::remove(sh_file.c_str());
  std::remove(ref_file.c_str());
  rmdir(dir.c_str());
}

// redis.acl_check_cmd answers for the script's caller, as Redis's: allowed, denied by command
// or by key, a container's subcommand, and its errors.
TEST_P(DifferentialAclTest, ScriptAclCheckCmd) {
  Admin({"ACL", "SETUSER", "sam", "on", "nopass", "+@all", "-del", "-config|set", "~k*"});
  Pair p = Connect();
  Both(p, {"AUTH", "sam", "x"});
  const std::string body = "return redis.acl_check_cmd(unpack(ARGV))";
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"get", "k1"},
           {"get", "x1"},
           {"set", "k1", "v"},
           {"mset", "k1", "v", "x1", "v"},
           {"del", "k1"},
           {"config", "get", "maxmemory"},
           {"config", "set", "maxmemory", "0"},
           {"config", "nosuch"},
           {"nosuch", "k1"},
           {},
       }) {
    std::vector<std::string> args = {"EVAL", body, "0"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    Both(p, args);
  }
  Both(p, {"EVAL", "return redis.acl_check_cmd('get', {})", "0"});
  Admin({"EVAL", "return redis.acl_check_cmd('del', 'x1')", "0"});  // the default user: all
}

INSTANTIATE_TEST_SUITE_P(Threads, DifferentialAclTest, ::testing::Values(1, 4),
                         [](const auto& info) { return "threads" + std::to_string(info.param); });

}  // namespace
}  // namespace shardis::test
