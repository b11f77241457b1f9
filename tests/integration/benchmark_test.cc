// redis-benchmark against shardis-server (--threads 2): the string/ping tests, plain and pipelined,
// must each print a result line with no error, and the server state they leave must be right
// (the INCR counter counts every request). The full default suite also runs, but only its
// string/ping results are checked until the list/set/hash/zset types exist.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::seconds;

std::string RedisBenchmark() {
  const char* v = getenv("REDIS_BENCHMARK_BIN");
  return v != nullptr && *v != '\0' ? v : "redis-benchmark";
}

// The final line of each test in -q mode: "NAME: 12345.67 requests per second, p50=...".
// Progress updates are separated by \r, so the output is split on both \r and \n.
struct BenchOutput {
  std::map<std::string, double> rps;  // test name -> requests per second
  std::vector<std::string> lines;     // every non-empty line
};

BenchOutput ParseQuiet(const std::string& out) {
  BenchOutput result;
  for (absl::string_view piece : absl::StrSplit(out, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    absl::string_view line = absl::StripAsciiWhitespace(piece);
    if (line.empty()) continue;
    result.lines.emplace_back(line);
    size_t pos = line.find(": ");
    if (pos == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(pos + 2);
    size_t sp = rest.find(' ');
    if (sp == absl::string_view::npos) continue;
    double rps;
    if (absl::StartsWith(rest.substr(sp), " requests per second") &&
        absl::SimpleAtod(rest.substr(0, sp), &rps)) {
      result.rps[std::string(line.substr(0, pos))] = rps;
    }
  }
  return result;
}

bool HasErrorWord(absl::string_view line) {
  return absl::StrContains(line, "ERR") || absl::StrContains(line, "error") ||
         absl::StrContains(line, "Error");
}

class BenchmarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = StartShardis(2, {}, &error);
    ASSERT_NE(server_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
  }

  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_TRUE(server_->Running())
          << ShardisLabel() << " died: " << server_->DescribeExit() << "\n"
          << server_->LogTail();
      EXPECT_TRUE(server_->Stop()) << server_->LogTail();
    }
  }

  // Runs redis-benchmark with `args` and prints its results.
  ShellResult Run(const std::string& args, BenchOutput* parsed) {
    std::string cmd = absl::StrCat(RedisBenchmark(), " -p ", server_->port(), " ", args);
    ShellResult r = RunShell(cmd, "", seconds(300));
    std::printf("$ %s  (exit %d)\n", cmd.c_str(), r.exit_code);
    *parsed = ParseQuiet(r.out);
    for (const auto& [name, rps] : parsed->rps) std::printf("  %s: %.0f rps\n", name.c_str(), rps);
    if (!r.err.empty()) std::printf("  stderr: %s\n", r.err.c_str());
    EXPECT_FALSE(r.timed_out) << cmd;
    return r;
  }

  // Checks that each of `expected` printed a result line and that no line of those tests nor
  // stderr holds an error word.
  void CheckResults(const ShellResult& r, const BenchOutput& parsed,
                    const std::vector<std::string>& expected) {
    for (const std::string& name : expected) {
      EXPECT_EQ(parsed.rps.count(name), 1u) << "no result line for " << name << "\nstdout:\n"
                                            << r.out << "\nstderr:\n"
                                            << r.err;
    }
    for (const std::string& line : parsed.lines) {
      for (const std::string& name : expected) {
        if (absl::StartsWith(line, name + ":") && HasErrorWord(line)) {
          ADD_FAILURE() << "error in " << name << " output: " << line;
        }
      }
    }
  }

  // Runs a benchmark of string/ping tests only: exit 0, every test has a result, no error
  // anywhere in the output.
  void BenchStrings(const std::string& args, const std::vector<std::string>& expected) {
    BenchOutput parsed;
    ShellResult r = Run(args, &parsed);
    EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
    CheckResults(r, parsed, expected);
    for (const std::string& line : parsed.lines) EXPECT_FALSE(HasErrorWord(line)) << line;
    EXPECT_FALSE(HasErrorWord(r.err)) << r.err;
  }

  std::string Get(const std::string& key) {
    std::string error;
    auto c = Client::Connect(server_->port(), seconds(10), &error);
    EXPECT_NE(c, nullptr) << error;
    return c == nullptr ? "" : c->Run({"GET", key});
  }

  std::unique_ptr<ServerProcess> server_;
};

// The default suite of redis-benchmark 7.0, in order.
const std::vector<std::string> kDefaultSuite = {"PING_INLINE",
                                                "PING_MBULK",
                                                "SET",
                                                "GET",
                                                "INCR",
                                                "LPUSH",
                                                "RPUSH",
                                                "LPOP",
                                                "RPOP",
                                                "SADD",
                                                "HSET",
                                                "SPOP",
                                                "ZADD",
                                                "ZPOPMIN",
                                                "LPUSH (needed to benchmark LRANGE)",
                                                "LRANGE_100 (first 100 elements)",
                                                "LRANGE_300 (first 300 elements)",
                                                "LRANGE_500 (first 500 elements)",
                                                "LRANGE_600 (first 600 elements)",
                                                "MSET (10 keys)"};
const std::vector<std::string> kStringTests = {"PING_INLINE", "PING_MBULK", "SET",
                                               "GET",         "INCR",       "MSET (10 keys)"};

TEST_F(BenchmarkTest, StringAndPingTests) {
  BenchStrings("-q -n 20000 -t ping_inline,ping_mbulk,set,get,incr,mset", kStringTests);
  // Every INCR of counter:__rand_int__ (no -r) was applied exactly once.
  EXPECT_EQ(Get("counter:__rand_int__"), "str:\"20000\"");
  EXPECT_EQ(Get("key:__rand_int__"), "str:\"VXK\"");
}

TEST_F(BenchmarkTest, PipelinedManyClients) {
  BenchStrings("-t set,get,mset,incr -P 16 -c 50 -n 200000 -q",
               {"SET", "GET", "INCR", "MSET (10 keys)"});
  EXPECT_EQ(Get("counter:__rand_int__"), "str:\"200000\"");
}

// redis-benchmark's whole default suite (strings, lists, sets, hashes, sorted sets) runs clean:
// exit 0, a result line for every test, no error line.
TEST_F(BenchmarkTest, WholeDefaultSuite) {
  BenchOutput parsed;
  ShellResult r = Run("-q -n 2000", &parsed);
  EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  CheckResults(r, parsed, kDefaultSuite);
}

}  // namespace
}  // namespace shardis::test
