// Unit tests of AclStore: rule parsing and errors, passwords, describe output (as Redis 7.0's
// ACL LIST / GETUSER), permission checks for commands, subcommands, categories, keys, channels,
// the ACL file format and the ACL LOG grouping.
#include "server/acl.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/command_table.h"

namespace shardis {
namespace {

const CommandSpec& Spec(std::string_view name) {
  const CommandTable& t = CommandTable::Get();
  size_t bar = name.find('|');
  const CommandSpec* s = bar == std::string_view::npos
                             ? t.Find(name)
                             : t.FindSubcommand(name.substr(0, bar), name.substr(bar + 1));
  EXPECT_NE(s, nullptr) << name;
  return *s;
}

AclResult CheckCmd(const AclUser& u, std::vector<std::string_view> args, int* pos = nullptr) {
  int ignored = 0;
  const CommandTable& t = CommandTable::Get();
  const CommandSpec* s = t.Find(args[0]);
  if (args.size() >= 2) {
    if (const CommandSpec* sub = t.FindSubcommand(args[0], args[1])) s = sub;
  }
  return AclStore::Check(u, *s, args, pos != nullptr ? pos : &ignored);
}

TEST(AclTest, Sha256MatchesRedis) {
  // ACL SETUSER alice >pw in redis-server 7.0 stores this hash.
  EXPECT_EQ(Sha256Hex("pw"), "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
}

TEST(AclTest, DefaultUser) {
  AclStore acl;
  const AclUser* def = acl.Find("default");
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(def->unrestricted);
  EXPECT_TRUE(acl.DefaultAutoAuth());
  EXPECT_EQ(acl.Describe(*def), "user default on nopass ~* &* +@all");
  acl.SetRequirepass("secret");
  EXPECT_FALSE(acl.DefaultAutoAuth());
  EXPECT_TRUE(acl.CheckCredentials("default", "secret"));
  EXPECT_FALSE(acl.CheckCredentials("default", "nope"));
  EXPECT_EQ(acl.Describe(*acl.Find("default")),
            "user default on #" + Sha256Hex("secret") + " ~* &* +@all");
  acl.SetRequirepass("");
  EXPECT_TRUE(acl.DefaultAutoAuth());
}

TEST(AclTest, DescribeLikeRedis) {
  AclStore acl;
  std::string error;
  ASSERT_TRUE(acl.SetUser(
      "alice", {"on", ">pw", "~foo*", "%R~bar", "&chan", "+@read", "-get", "+config|get"}, &error))
      << error;
  const AclUser* u = acl.Find("alice");
  EXPECT_FALSE(u->unrestricted);
  EXPECT_EQ(acl.Describe(*u), "user alice on #" + Sha256Hex("pw") +
                                  " ~foo* %R~bar resetchannels &chan -@all +@read "
                                  "+config|get -get");
  ASSERT_TRUE(acl.SetUser("bob", {}, &error));
  EXPECT_EQ(acl.Describe(*acl.Find("bob")), "user bob off resetchannels -@all");
  ASSERT_TRUE(acl.SetUser("dave", {"on", "nopass", "+config|get"}, &error));
  EXPECT_EQ(AclStore::DescribeCommands(*acl.Find("dave")), "-@all +config|get");
  ASSERT_TRUE(acl.SetUser("dave", {"+config"}, &error));
  EXPECT_EQ(AclStore::DescribeCommands(*acl.Find("dave")), "-@all +config");
  ASSERT_TRUE(acl.SetUser("dave", {"-config", "+config|set", "allkeys", "allchannels"}, &error));
  EXPECT_EQ(acl.Describe(*acl.Find("dave")), "user dave on nopass ~* &* -@all +config|set");
  ASSERT_TRUE(acl.SetUser("dave", {"reset"}, &error));
  EXPECT_EQ(acl.Describe(*acl.Find("dave")), "user dave off sanitize-payload resetchannels -@all");
  ASSERT_TRUE(acl.SetUser("eve", {"+@all", "-@dangerous", "-get"}, &error));
  EXPECT_EQ(AclStore::DescribeCommands(*acl.Find("eve")), "+@all -@dangerous -get");
  std::vector<std::string> names = acl.UserNames();
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "bob", "dave", "default", "eve"}));
}

TEST(AclTest, RuleErrors) {
  AclStore acl;
  std::string error;
  EXPECT_FALSE(acl.SetUser("c", {"~*", "~foo"}, &error));
  EXPECT_EQ(error,
            "ERR Error in ACL SETUSER modifier '~foo': Adding a pattern after the * pattern (or "
            "the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to "
            "start with an empty list of patterns");
  EXPECT_EQ(acl.Find("c"), nullptr);  // all or nothing
  EXPECT_FALSE(acl.SetUser("c", {"+nosuch"}, &error));
  EXPECT_EQ(error,
            "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL");
  EXPECT_FALSE(acl.SetUser("c", {"+@nosuch"}, &error));
  EXPECT_FALSE(acl.SetUser("c", {"#abc"}, &error));
  EXPECT_EQ(error,
            "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 "
            "characters and contain only lowercase hexadecimal characters");
  EXPECT_FALSE(acl.SetUser("c", {"<nope"}, &error));
  EXPECT_EQ(error,
            "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove "
            "from the user does not exist");
  EXPECT_FALSE(acl.SetUser("c", {"foo"}, &error));
  EXPECT_EQ(error, "ERR Error in ACL SETUSER modifier 'foo': Syntax error");
  EXPECT_FALSE(acl.SetUser("c", {"%X~foo"}, &error));
  EXPECT_FALSE(acl.SetUser("c", {"%R"}, &error));
  EXPECT_FALSE(acl.SetUser("c d", {}, &error));
  EXPECT_EQ(error, "ERR Usernames can't contain spaces or null characters");
  EXPECT_FALSE(acl.SetUser("c", {"&*", "&x"}, &error));
  EXPECT_TRUE(acl.ValidateSetUser("c", {"on"}, &error));
  EXPECT_EQ(acl.Find("c"), nullptr);
}

TEST(AclTest, Passwords) {
  AclStore acl;
  std::string error;
  ASSERT_TRUE(acl.SetUser("u", {"on", ">a", ">b", "<a"}, &error));
  EXPECT_FALSE(acl.CheckCredentials("u", "a"));
  EXPECT_TRUE(acl.CheckCredentials("u", "b"));
  ASSERT_TRUE(acl.SetUser("u", {"#" + Sha256Hex("c")}, &error));
  EXPECT_TRUE(acl.CheckCredentials("u", "c"));
  ASSERT_TRUE(acl.SetUser("u", {"!" + Sha256Hex("c")}, &error));
  EXPECT_FALSE(acl.CheckCredentials("u", "c"));
  ASSERT_TRUE(acl.SetUser("u", {"off"}, &error));
  EXPECT_FALSE(acl.CheckCredentials("u", "b"));  // disabled
  ASSERT_TRUE(acl.SetUser("u", {"on", "nopass"}, &error));
  EXPECT_TRUE(acl.CheckCredentials("u", "anything"));
  ASSERT_TRUE(acl.SetUser("u", {"resetpass"}, &error));
  EXPECT_FALSE(acl.CheckCredentials("u", "anything"));
  EXPECT_FALSE(acl.CheckCredentials("nobody", "x"));
}

TEST(AclTest, CommandAndCategoryChecks) {
  AclStore acl;
  std::string error;
  ASSERT_TRUE(acl.SetUser(
      "u", {"on", "nopass", "allkeys", "+@read", "-get", "+client", "-client|kill"}, &error));
  const AclUser& u = *acl.Find("u");
  EXPECT_EQ(CheckCmd(u, {"get", "k"}), AclResult::kDeniedCommand);
  EXPECT_EQ(CheckCmd(u, {"strlen", "k"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"set", "k", "v"}), AclResult::kDeniedCommand);
  EXPECT_EQ(CheckCmd(u, {"client", "id"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"client", "kill", "1.2.3.4:5"}), AclResult::kDeniedCommand);
  EXPECT_EQ(CheckCmd(u, {"auth", "x"}), AclResult::kOk);  // no-auth commands always run
  EXPECT_TRUE(AclStore::InCategory(Spec("get"), "read"));
  EXPECT_TRUE(AclStore::InCategory(Spec("set"), "write"));
  EXPECT_TRUE(AclStore::InCategory(Spec("config|set"), "dangerous"));
  EXPECT_FALSE(AclStore::InCategory(Spec("get"), "write"));
  ASSERT_TRUE(acl.SetUser("v", {"+@all", "-@dangerous"}, &error));
  const AclUser& v = *acl.Find("v");
  EXPECT_EQ(CheckCmd(v, {"config", "set", "a", "b"}), AclResult::kDeniedCommand);
  EXPECT_EQ(CheckCmd(v, {"config", "help"}), AclResult::kOk);
  ASSERT_TRUE(acl.SetUser("v", {"allkeys", "allchannels", "+@dangerous"}, &error));
  EXPECT_TRUE(acl.Find("v")->unrestricted);
}

TEST(AclTest, KeyPatterns) {
  AclStore acl;
  std::string error;
  ASSERT_TRUE(acl.SetUser("u", {"on", "nopass", "+@all", "~foo*", "%R~r*", "%W~w*"}, &error));
  const AclUser& u = *acl.Find("u");
  int pos = 0;
  EXPECT_EQ(CheckCmd(u, {"get", "foo1"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"set", "foo1", "v"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"get", "r1"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"set", "r1", "v"}), AclResult::kDeniedKey);
  EXPECT_EQ(CheckCmd(u, {"set", "w1", "v"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"get", "w1"}), AclResult::kDeniedKey);
  EXPECT_EQ(CheckCmd(u, {"mget", "foo1", "r2", "zz"}, &pos), AclResult::kDeniedKey);
  EXPECT_EQ(pos, 3);
  EXPECT_EQ(CheckCmd(u, {"ping"}), AclResult::kOk);
  // Redis's key specs: INCR reads and writes, EXISTS needs any pattern, LMOVE's destination
  // only W, SET needs R only with GET.
  EXPECT_EQ(CheckCmd(u, {"incr", "w1"}), AclResult::kDeniedKey);
  EXPECT_EQ(CheckCmd(u, {"incr", "foo1"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"exists", "w1"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"lmove", "foo", "w1", "left", "right"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"lmove", "w1", "foo", "left", "right"}), AclResult::kDeniedKey);
  EXPECT_EQ(CheckCmd(u, {"set", "w1", "v", "GET"}), AclResult::kDeniedKey);
  EXPECT_EQ(CheckCmd(u, {"zunionstore", "w1", "2", "r1", "foo"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"zunionstore", "r1", "2", "r1", "foo"}), AclResult::kDeniedKey);
  ASSERT_TRUE(acl.SetUser("u", {"resetkeys"}, &error));
  EXPECT_EQ(CheckCmd(*acl.Find("u"), {"get", "foo1"}), AclResult::kDeniedKey);
  EXPECT_EQ(AclStore::DescribeKeys(*acl.Find("u")), "");
  ASSERT_TRUE(acl.SetUser("u", {"%R~a", "%W~a"}, &error));  // same pattern: flags merge
  EXPECT_EQ(AclStore::DescribeKeys(*acl.Find("u")), "~a");
}

TEST(AclTest, ChannelPatterns) {
  AclStore acl;
  std::string error;
  ASSERT_TRUE(acl.SetUser("u", {"on", "nopass", "+@all", "&news.*"}, &error));
  const AclUser& u = *acl.Find("u");
  int pos = 0;
  EXPECT_EQ(CheckCmd(u, {"publish", "news.a", "m"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"publish", "other", "m"}), AclResult::kDeniedChannel);
  EXPECT_EQ(CheckCmd(u, {"subscribe", "news.x", "other"}, &pos), AclResult::kDeniedChannel);
  EXPECT_EQ(pos, 2);
  // PSUBSCRIBE patterns must equal an allowed pattern literally.
  EXPECT_EQ(CheckCmd(u, {"psubscribe", "news.*"}), AclResult::kOk);
  EXPECT_EQ(CheckCmd(u, {"psubscribe", "news.a*"}), AclResult::kDeniedChannel);
  EXPECT_EQ(CheckCmd(u, {"unsubscribe", "zzz"}), AclResult::kOk);
}

TEST(AclTest, FileRoundTrip) {
  AclStore acl;
  std::string error;
  ASSERT_TRUE(acl.SetUser("alice", {"on", ">pw", "~k*", "&c", "+@read", "-get"}, &error));
  std::string text = acl.SaveText();
  AclStore other;
  ASSERT_TRUE(other.LoadText(text, "users.acl", &error)) << error;
  EXPECT_EQ(other.SaveText(), text);
  EXPECT_TRUE(other.CheckCredentials("alice", "pw"));
  EXPECT_FALSE(other.LoadText("user a on\nbogus line\n", "users.acl", &error));
  EXPECT_EQ(error,
            "users.acl:2 should start with user keyword followed by the username. WARNING: ACL "
            "errors detected, no change to the previously active ACL rules was performed");
  EXPECT_FALSE(other.LoadText("user a +nosuch\n", "users.acl", &error));
  EXPECT_EQ(error,
            "users.acl:1: Error in applying operation '+nosuch': Unknown command or category "
            "name in ACL. WARNING: ACL errors detected, no change to the previously active ACL "
            "rules was performed");
  EXPECT_TRUE(other.CheckCredentials("alice", "pw"));  // unchanged after a failed load
  ASSERT_TRUE(other.LoadText("\n  \nuser bob on nopass +ping\n", "f", &error));
  EXPECT_EQ(other.Find("alice"), nullptr);
  ASSERT_NE(other.Find("default"), nullptr);  // recreated when the file lacks it
  EXPECT_TRUE(other.Find("default")->unrestricted);
}

TEST(AclTest, LogGroupsSimilarEntries) {
  AclStore acl;
  AclLogEntry e;
  e.reason = "command";
  e.context = "toplevel";
  e.object = "get";
  e.username = "u";
  e.created_ms = e.updated_ms = 1000;
  acl.AddLog(e, 3);
  e.updated_ms = 2000;
  acl.AddLog(e, 3);
  ASSERT_EQ(acl.log().size(), 1u);
  EXPECT_EQ(acl.log().front().count, 2u);
  for (int i = 0; i < 5; ++i) {
    e.object = "cmd" + std::to_string(i);
    acl.AddLog(e, 3);
  }
  EXPECT_EQ(acl.log().size(), 3u);
  EXPECT_EQ(acl.log().front().object, "cmd4");
  acl.ResetLog();
  EXPECT_TRUE(acl.log().empty());
}

TEST(AclTest, CopiesAreDeepAndBumpEpoch) {
  AclStore a;
  std::string error;
  ASSERT_TRUE(a.SetUser("u", {"on"}, &error));
  AclStore b;
  uint64_t before = b.epoch();
  b = a;
  EXPECT_GT(b.epoch(), before);
  ASSERT_TRUE(a.SetUser("u", {"off"}, &error));
  EXPECT_TRUE(b.Find("u")->enabled);
}

}  // namespace
}  // namespace shardis
