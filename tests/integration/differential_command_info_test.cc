// COMMAND against the reference redis-server: COMMAND COUNT, COMMAND LIST, and every command's
// and subcommand's COMMAND INFO (arity, flags, first/last/step, ACL categories, tips, key specs)
// and COMMAND DOCS (every field, RESP2 and RESP3, by name and all at once); COMMAND
// GETKEYSANDFLAGS, MIGRATE, PSYNC/SYNC and LATENCY GRAPH / HISTOGRAM answers.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// Subcommands Shardis has that redis-server 7.0.15 has not (newer Redis's CLIENT SETINFO,
// which client libraries send). The only COMMAND DOCS difference: CLIENT's subcommands map has
// it too (the test drops it before comparing); no other command's docs differ.
bool ShardisOnly(const std::string& name) { return name == "client|setinfo"; }

// COMMAND INFO of every command and subcommand, by name, rendered (flags and ACL categories
// sorted, as their order is not part of the contract).
std::map<std::string, std::string> AllInfo(RawConnection& c) {
  std::map<std::string, std::string> out;
  if (!c.SendCommand({"COMMAND"})) return out;
  auto all = c.Read();
  if (!all) return out;
  std::vector<const RespValue*> to_visit;
  for (const RespValue& v : all->elems) to_visit.push_back(&v);
  while (!to_visit.empty()) {
    const RespValue* e = to_visit.back();
    to_visit.pop_back();
    if (e->elems.size() != 10) {
      out["bad-entry"] = e->Render();
      continue;
    }
    RespValue copy = *e;
    for (int i : {2, 6}) {
      std::sort(copy.elems[i].elems.begin(), copy.elems[i].elems.end(),
                [](const RespValue& a, const RespValue& b) { return a.str < b.str; });
    }
    copy.elems[9].elems.clear();
    out[e->elems[0].str] = copy.Render();
    for (const RespValue& sub : e->elems[9].elems) to_visit.push_back(&sub);
  }
  return out;
}

class CommandInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    shardis_ = StartShardis(2, {}, &error);
    ASSERT_NE(shardis_, nullptr) << error;
    redis_ = StartRedis({}, &error);
    ASSERT_NE(redis_, nullptr) << error;
    s_ = RawConnection::Connect(shardis_->port());
    r_ = RawConnection::Connect(redis_->port());
    ASSERT_NE(s_, nullptr);
    ASSERT_NE(r_, nullptr);
  }
  void Same(const std::vector<std::string>& cmd) {
    EXPECT_EQ(s_->Run(cmd), r_->Run(cmd)) << RenderCommand(cmd);
  }
  std::unique_ptr<ServerProcess> shardis_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<RawConnection> s_;
  std::unique_ptr<RawConnection> r_;
};

TEST_F(CommandInfoTest, CountAndInfoOfEveryCommand) {
  Same({"COMMAND", "COUNT"});
  auto want = AllInfo(*r_);
  auto got = AllInfo(*s_);
  ASSERT_GT(want.size(), 300u);
  for (const auto& [name, info] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << "missing command " << name;
      continue;
    }
    EXPECT_EQ(it->second, info) << name;
  }
  for (const auto& [name, info] : got) {
    if (!ShardisOnly(name)) {
      EXPECT_TRUE(want.count(name)) << "extra command " << name;
    }
  }
}

// COMMAND DOCS of every command, with and without arguments, in RESP2 and RESP3: each entry
// rendered field by field in the order sent (so the order of a doc's fields is compared), its
// "subcommands" map sorted by name (Redis sends its dict's order) without Shardis-only
// subcommands. Keyed by the name each entry is sent under.
std::string RenderDoc(const RespValue& doc);

std::map<std::string, std::string> RenderDocsMap(const RespValue& v) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < v.elems.size(); i += 2) {
    const std::string& name = v.elems[i].str;
    if (ShardisOnly(name)) continue;
    std::string& line = out[name];
    if (!line.empty()) line += " + ";  // a name asked twice is answered twice
    line += v.elems[i].Render() + "=>" + RenderDoc(v.elems[i + 1]);
  }
  return out;
}

std::string RenderDoc(const RespValue& doc) {
  std::string out = doc.type == RespValue::Type::kMap ? "map:{" : "flat:{";
  for (size_t i = 0; i + 1 < doc.elems.size(); i += 2) {
    out += doc.elems[i].Render() + "=>";
    const RespValue& value = doc.elems[i + 1];
    if (doc.elems[i].str == "subcommands") {
      out += value.type == RespValue::Type::kMap ? "map:{" : "flat:{";
      for (const auto& [name, line] : RenderDocsMap(value)) out += line + ",";
      out += "}";
    } else {
      out += value.Render();
    }
    out += ",";
  }
  return out + "}";
}

// COMMAND DOCS <args...> on `c`, rendered; a "reply" entry holds what is not a docs map.
std::map<std::string, std::string> Docs(RawConnection& c, std::vector<std::string> args) {
  args.insert(args.begin(), {"COMMAND", "DOCS"});
  std::optional<RespValue> v;
  if (c.SendCommand(args)) v = c.Read();
  if (!v) return {{"reply", "io-error"}};
  if (v->type != RespValue::Type::kMap && v->type != RespValue::Type::kArray) {
    return {{"reply", v->Render()}};
  }
  auto out = RenderDocsMap(*v);
  out["reply"] = (v->type == RespValue::Type::kMap ? "map:" : "arr:") + std::to_string(out.size());
  return out;
}

TEST_F(CommandInfoTest, DocsOfEveryCommandAndSubcommand) {
  r_->SendCommand({"COMMAND", "LIST"});
  auto list = r_->Read();
  ASSERT_TRUE(list.has_value());
  std::vector<std::string> names;
  for (const RespValue& e : list->elems) names.push_back(e.str);
  ASSERT_GT(names.size(), 200u);
  // Subcommands by their "container|sub" names, as Redis's lookupCommandBySds accepts them.
  ASSERT_FALSE(r_->Run({"HELLO", "3"}).starts_with("err"));
  r_->SendCommand({"COMMAND", "DOCS"});
  auto all = r_->Read();
  ASSERT_TRUE(all.has_value());
  std::vector<std::string> subs;
  for (size_t i = 0; i + 1 < all->elems.size(); i += 2) {
    if (const RespValue* s = all->elems[i + 1].Find("subcommands")) {
      for (size_t j = 0; j < s->elems.size(); j += 2) subs.push_back(s->elems[j].str);
    }
  }
  ASSERT_GT(subs.size(), 100u);
  for (const char* protocol : {"2", "3"}) {
    SCOPED_TRACE(std::string("RESP") + protocol);
    ASSERT_FALSE(s_->Run({"HELLO", protocol}).starts_with("err"));
    ASSERT_FALSE(r_->Run({"HELLO", protocol}).starts_with("err"));
    // The rendering sees the fields client libraries read.
    std::string set_doc = Docs(*r_, {"set"})["set"];
    for (const char* field : {"complexity", "history", "arguments", "token", "optional"}) {
      EXPECT_NE(set_doc.find(field), std::string::npos) << field << " in " << set_doc;
    }
    for (const std::vector<std::string>& names_list : {names, subs}) {
      for (const std::string& name : names_list) EXPECT_EQ(Docs(*s_, {name}), Docs(*r_, {name}));
    }
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"GET", "config|get", "CONFIG|GET", "Client|List"},
             {"nosuch"},
             {"get", "nosuch", "get", "get|x", "config|get|x", "config|", "|get", "config|nosuch"},
             {"client", "client|setinfo", "object"},
             {""},
         }) {
      EXPECT_EQ(Docs(*s_, args), Docs(*r_, args)) << RenderCommand(args);
    }
  }
}

TEST_F(CommandInfoTest, DocsOfAllCommands) {
  for (const char* protocol : {"2", "3"}) {
    SCOPED_TRACE(std::string("RESP") + protocol);
    ASSERT_FALSE(s_->Run({"HELLO", protocol}).starts_with("err"));
    ASSERT_FALSE(r_->Run({"HELLO", protocol}).starts_with("err"));
    auto want = Docs(*r_, {});
    auto got = Docs(*s_, {});
    ASSERT_GT(want.size(), 200u);
    EXPECT_EQ(got.size(), want.size());
    for (const auto& [name, line] : want) EXPECT_EQ(got[name], line) << name;
    for (const auto& [name, line] : got) EXPECT_TRUE(want.count(name)) << "extra " << name;
  }
}

TEST_F(CommandInfoTest, GetKeysAndFlags) {
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b"},
           {"COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET"},
           {"COMMAND", "GETKEYSANDFLAGS", "GET", "a"},
           {"COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "RIGHT"},
           {"COMMAND", "GETKEYSANDFLAGS", "MSET", "a", "1", "b", "2"},
           {"COMMAND", "GETKEYSANDFLAGS", "DEL", "a", "b", "c"},
           {"COMMAND", "GETKEYSANDFLAGS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"},
           {"COMMAND", "GETKEYSANDFLAGS", "EVAL", "return 1", "2", "a", "b", "c"},
           {"COMMAND", "GETKEYSANDFLAGS", "EVAL", "return 1", "0"},
           {"COMMAND", "GETKEYSANDFLAGS", "XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"},
           {"COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"},
           {"COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "k", "0", "5"},
           {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8", "0"},
           {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "SET", "u8", "0", "1"},
           {"COMMAND", "GETKEYSANDFLAGS", "RENAME", "a", "b"},
           {"COMMAND", "GETKEYSANDFLAGS", "GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS",
            "1", "km"},
           {"COMMAND", "GETKEYSANDFLAGS", "OBJECT", "ENCODING", "k"},
           {"COMMAND", "GETKEYSANDFLAGS", "PING", "x"},
           {"COMMAND", "GETKEYSANDFLAGS", "NOSUCH", "x"},
           {"COMMAND", "GETKEYSANDFLAGS", "GET"},
           {"COMMAND", "GETKEYSANDFLAGS", "GET", "a", "b"},
       }) {
    Same(cmd);
  }
}

TEST_F(CommandInfoTest, MigrateSyncLatency) {
  Same({"SET", "k", "v"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "0", "100"});
  Same({"MIGRATE", "127.0.0.1", "1", "nokey", "0", "100"});
  Same({"MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", "nokey", "k"});
  Same({"MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", "nokey"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "0", "100", "KEYS", "k"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "x", "100"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "0", "100", "BOGUS"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "0", "100", "COPY", "REPLACE", "AUTH2", "u", "p"});
  Same({"MIGRATE", "127.0.0.1", "1", "k", "0"});
  Same({"MULTI"});
  Same({"PSYNC", "?", "-1"});
  Same({"SYNC"});
  Same({"EXEC"});
  Same({"PSYNC", "?"});
  // Shardis cannot be a replication master: PSYNC and SYNC are refused at once.
  EXPECT_TRUE(s_->Run({"PSYNC", "?", "-1"}).starts_with("err:")) << s_->Run({"PING"});
  EXPECT_TRUE(s_->Run({"SYNC"}).starts_with("err:"));
  EXPECT_EQ(s_->Run({"PING"}), "status:\"PONG\"");

  Same({"LATENCY", "GRAPH", "command"});
  Same({"LATENCY", "GRAPH"});
  Same({"LATENCY", "HISTOGRAM", "nosuchcommand"});
  // Histograms: the same shape (calls and cumulative buckets) for commands run the same way.
  Same({"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 5; ++i) Same({"SET", "h" + std::to_string(i), "v"});
  Same({"CONFIG", "GET", "hz"});
  auto shape = [](RawConnection& c, std::vector<std::string> cmd) {
    c.SendCommand(cmd);
    auto v = c.Read();
    if (!v) return std::string("io-error");
    // Redis walks a container's subcommands in its dict's (seeded) order: compare them sorted.
    std::vector<std::string> entries;
    for (size_t i = 0; i + 1 < v->elems.size(); i += 2) {
      std::string out;
      const RespValue& h = v->elems[i + 1];
      auto find = [](const RespValue& m, std::string_view key) -> const RespValue* {
        for (size_t k = 0; k + 1 < m.elems.size(); k += 2) {
          if (m.elems[k].str == key) return &m.elems[k + 1];
        }
        return nullptr;
      };
      const RespValue* calls = find(h, "calls");
      const RespValue* hist = find(h, "histogram_usec");
      out += v->elems[i].str + ":" + (calls ? std::to_string(calls->integer) : "?");
      int64_t last = 0;
      bool monotone = hist != nullptr;
      for (size_t j = 0; hist && j + 1 < hist->elems.size(); j += 2) {
        monotone = monotone && hist->elems[j + 1].integer > last;
        last = hist->elems[j + 1].integer;
      }
      out += monotone ? " total=" + std::to_string(last) : " bad";
      out += ";";
      entries.push_back(std::move(out));
    }
    std::sort(entries.begin(), entries.end());
    return absl::StrJoin(entries, "");
  };
  EXPECT_EQ(shape(*s_, {"LATENCY", "HISTOGRAM", "set"}),
            shape(*r_, {"LATENCY", "HISTOGRAM", "set"}));
  EXPECT_EQ(shape(*s_, {"LATENCY", "HISTOGRAM", "set", "config|get"}),
            shape(*r_, {"LATENCY", "HISTOGRAM", "set", "config|get"}));
  // A container names its subcommands (RESETSTAT's own call counts, after the reset).
  EXPECT_EQ(shape(*s_, {"LATENCY", "HISTOGRAM", "config"}),
            shape(*r_, {"LATENCY", "HISTOGRAM", "config"}));
  // LATENCY GRAPH from recorded samples.
  EXPECT_EQ(s_->Run({"CONFIG", "SET", "latency-monitor-threshold", "1"}), "status:\"OK\"");
  s_->Run({"DEBUG", "SLEEP", "0.01"});
  std::string graph = s_->Run({"LATENCY", "GRAPH", "command"});
  EXPECT_NE(graph.find("command - high "), std::string::npos) << graph;
  EXPECT_NE(graph.find("ms (all time high "), std::string::npos) << graph;
  EXPECT_NE(graph.find("#"), std::string::npos) << graph;
}

}  // namespace
}  // namespace shardis::test
