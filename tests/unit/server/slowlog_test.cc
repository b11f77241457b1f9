// Slow log entries (truncation, redaction, trimming) and latency series (per-second samples,
// merging threads, DOCTOR's report).
#include "server/slowlog.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/latency.h"

namespace shardis {
namespace {

std::vector<std::string> Args(std::vector<std::string_view> v) {
  SlowlogEntry e = MakeSlowlogEntry(ArgList(v.data(), v.size()), 5, 100);
  return e.args;
}

TEST(SlowlogTest, TruncatesArgumentsAndStrings) {
  std::vector<std::string> many = {"rpush", "k"};
  for (int i = 0; i < 40; ++i) many.push_back(std::to_string(i));
  std::vector<std::string_view> views(many.begin(), many.end());
  SlowlogEntry e = MakeSlowlogEntry(ArgList(views.data(), views.size()), 7, 123);
  ASSERT_EQ(e.args.size(), 32u);
  EXPECT_EQ(e.args[30], "28");
  EXPECT_EQ(e.args[31], "... (11 more arguments)");
  EXPECT_EQ(e.duration_us, 7);
  EXPECT_EQ(e.time_sec, 123);

  std::string big(200, 'x');
  auto args = Args({"set", "k", big});
  EXPECT_EQ(args[2], std::string(128, 'x') + "... (72 more bytes)");
  EXPECT_EQ(Args({"set", "k", std::string(128, 'y')})[2], std::string(128, 'y'));
}

TEST(SlowlogTest, RedactsAsRedis) {
  EXPECT_EQ(Args({"AUTH", "u", "p"}),
            (std::vector<std::string>{"AUTH", "(redacted)", "(redacted)"}));
  EXPECT_EQ(
      Args({"hello", "3", "AUTH", "u", "p", "SETNAME", "n"}),
      (std::vector<std::string>{"hello", "3", "AUTH", "(redacted)", "(redacted)", "SETNAME", "n"}));
  EXPECT_EQ(Args({"acl", "setuser", "bob", "on"}),
            (std::vector<std::string>{"acl", "setuser", "(redacted)", "(redacted)"}));
  EXPECT_EQ(Args({"config", "set", "requirepass", "x", "hz", "5"}),
            (std::vector<std::string>{"config", "set", "requirepass", "(redacted)", "hz", "5"}));
  EXPECT_EQ(Args({"migrate", "h", "1", "k", "0", "10", "AUTH", "pw"}),
            (std::vector<std::string>{"migrate", "h", "1", "k", "0", "10", "AUTH", "(redacted)"}));
  EXPECT_EQ(Args({"get", "auth"}), (std::vector<std::string>{"get", "auth"}));
}

TEST(SlowlogTest, IdsGrowAndLogTrims) {
  Slowlog log;
  std::vector<std::string_view> v = {"get", "k"};
  for (int i = 0; i < 25; ++i) log.Push(MakeSlowlogEntry(ArgList(v.data(), 2), i, 1), 3);
  ASSERT_EQ(log.size(), 3u + Slowlog::kSlack);
  EXPECT_GT(log.entries()[0].id, log.entries()[1].id);  // newest first
  EXPECT_EQ(log.entries()[0].duration_us, 24);
  EXPECT_EQ(log.entries()[2].duration_us, 22);
  log.Trim(1);
  EXPECT_EQ(log.size(), 1u);
  log.Reset();
  EXPECT_EQ(log.size(), 0u);
  EXPECT_GE(PeekSlowlogId(), 5);
}

TEST(LatencyTest, OneSamplePerSecondKeepsTheWorst) {
  LatencyMonitor m;
  m.AddIfNeeded("command", 0, 50, 10);  // monitor off
  EXPECT_TRUE(m.series().empty());
  m.AddIfNeeded("command", 10, 5, 10);  // under the threshold
  EXPECT_TRUE(m.series().empty());
  m.AddIfNeeded("command", 10, 12, 10);
  m.AddIfNeeded("command", 10, 30, 10);
  m.AddIfNeeded("command", 10, 20, 10);
  m.AddIfNeeded("command", 10, 11, 11);
  const LatencySeries& s = m.series().at("command");
  ASSERT_EQ(s.samples.size(), 2u);
  EXPECT_EQ(s.samples[0].latency_ms, 30u);
  EXPECT_EQ(s.samples[1].latency_ms, 11u);
  EXPECT_EQ(s.max_ms, 30u);
  for (int t = 0; t < 200; ++t) m.AddIfNeeded("command", 10, 15, 100 + t);
  EXPECT_EQ(m.series().at("command").samples.size(), 160u);
  EXPECT_EQ(m.Reset({"nosuch"}), 0);
  EXPECT_EQ(m.Reset({}), 1);
}

TEST(LatencyTest, MergeAcrossThreads) {
  LatencySeries a, b;
  a.Add(10, 5);
  a.Add(12, 7);
  b.Add(10, 9);
  b.Add(11, 3);
  a.Merge(b);
  ASSERT_EQ(a.samples.size(), 3u);
  EXPECT_EQ(a.samples[0].time, 10);
  EXPECT_EQ(a.samples[0].latency_ms, 9u);
  EXPECT_EQ(a.samples[1].time, 11);
  EXPECT_EQ(a.samples[2].latency_ms, 7u);
  EXPECT_EQ(a.max_ms, 9u);
}

TEST(LatencyTest, DoctorReport) {
  std::map<std::string, LatencySeries> none;
  EXPECT_TRUE(LatencyDoctorReport(none, 0, 10000, 128, 0).starts_with("I'm sorry, Dave"));
  EXPECT_TRUE(LatencyDoctorReport(none, 5, 10000, 128, 0).starts_with("Dave, no latency spike"));
  std::map<std::string, LatencySeries> some;
  some["command"].Add(100, 14);
  std::string report = LatencyDoctorReport(some, 1, 0, 128, 100);
  EXPECT_NE(report.find("1. command: 1 latency spikes (average 14ms, mean deviation 0ms, period "
                        "1.00 sec). Worst all time event 14ms."),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("- Check your Slow Log"), std::string::npos);
}

}  // namespace
}  // namespace shardis
