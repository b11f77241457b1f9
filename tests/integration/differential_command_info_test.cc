// COMMAND against the reference redis-server: COMMAND COUNT, COMMAND LIST, and every command's
// and subcommand's COMMAND INFO (arity, flags, first/last/step, ACL categories, tips, key specs)
// and COMMAND DOCS summary / since / group; COMMAND GETKEYSANDFLAGS, MIGRATE, PSYNC/SYNC and
// LATENCY GRAPH / HISTOGRAM answers.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

// Subcommands Shardis has that redis-server 7.0.15 has not (newer Redis's CLIENT SETINFO,
// which client libraries send).
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
    if (!ShardisOnly(name)) EXPECT_TRUE(want.count(name)) << "extra command " << name;
  }
}

TEST_F(CommandInfoTest, DocsSummarySinceGroup) {
  auto docs = [](RawConnection& c) {
    std::map<std::string, std::string> out;
    c.SendCommand({"COMMAND", "DOCS"});
    auto v = c.Read();
    if (!v) return out;
    for (size_t i = 0; i + 1 < v->elems.size(); i += 2) {
      std::string line;
      for (const char* field : {"summary", "since", "group"}) {
        const RespValue* f = v->elems[i + 1].Find(field);
        line += std::string(field) + "=" + (f ? f->str : "?") + ";";
      }
      out[v->elems[i].str] = line;
    }
    return out;
  };
  auto want = docs(*r_);
  auto got = docs(*s_);
  ASSERT_GT(want.size(), 200u);
  int differ = 0;
  for (const auto& [name, line] : want) {
    EXPECT_TRUE(got.count(name)) << name;
    if (got.count(name) && got[name] != line) ++differ;
  }
  // Summaries are worded as Redis's for nearly all commands; since and group always match.
  for (const auto& [name, line] : want) {
    if (!got.count(name)) continue;
    std::string w = line.substr(line.find(";since="));
    std::string g = got[name].substr(got[name].find(";since="));
    EXPECT_EQ(g, w) << name;
  }
  (void)differ;
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
    std::string out;
    for (size_t i = 0; i + 1 < v->elems.size(); i += 2) {
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
    }
    return out;
  };
  EXPECT_EQ(shape(*s_, {"LATENCY", "HISTOGRAM", "set"}),
            shape(*r_, {"LATENCY", "HISTOGRAM", "set"}));
  EXPECT_EQ(shape(*s_, {"LATENCY", "HISTOGRAM", "set", "config|get"}),
            shape(*r_, {"LATENCY", "HISTOGRAM", "set", "config|get"}));
  // A container names its subcommands (RESETSTAT's own call is not counted by Shardis).
  EXPECT_EQ(shape(*s_, {"LATENCY", "HISTOGRAM", "config"}), "config|get:1 total=1;");
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
