// TrackingTable (keys -> clients, BCAST prefixes), CLIENT TRACKING's option rules, the
// invalidation frames, and MONITOR's line format.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/monitor.h"
#include "server/tracking.h"

namespace shardis {
namespace {

TEST(TrackingTableTest, RememberTakeForget) {
  TrackingTable t;
  EXPECT_TRUE(t.empty());
  t.Remember("k", {0, 1});
  t.Remember("k", {0, 1});  // once per client
  t.Remember("k", {2, 7});
  t.Remember("j", {0, 1});
  EXPECT_EQ(t.keys(), 2u);
  EXPECT_EQ(t.items(), 3u);
  std::vector<ClientRef> got = t.Take("k");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], (ClientRef{2, 7}));
  EXPECT_TRUE(t.Take("k").empty());  // forgotten
  EXPECT_EQ(t.items(), 1u);
  EXPECT_EQ(t.KeysBeyond(0, 10), std::vector<std::string>{"j"});
  EXPECT_TRUE(t.KeysBeyond(1, 10).empty());
  t.Clear();
  EXPECT_TRUE(t.empty());
}

TEST(TrackingTableTest, Prefixes) {
  TrackingTable t;
  t.AddPrefix({0, 1}, "user:");
  t.AddPrefix({0, 1}, "us");
  t.AddPrefix({1, 2}, "user:");
  t.AddPrefix({1, 3}, "");
  EXPECT_EQ(t.prefixes(), 3u);
  EXPECT_EQ(t.MatchPrefixes("user:1").size(), 3u);  // client 1 once
  EXPECT_EQ(t.MatchPrefixes("other").size(), 1u);
  t.RemoveClient({0, 1});
  EXPECT_EQ(t.MatchPrefixes("user:1").size(), 2u);
  EXPECT_FALSE(t.empty());
}

std::string Parse(const ClientTracking& current, std::vector<std::string> args,
                  ClientTracking* next) {
  args.insert(args.begin(), {"CLIENT", "TRACKING"});
  return ParseTracking(current, args, next);
}

TEST(TrackingTableTest, OptionRules) {
  ClientTracking off, next;
  EXPECT_EQ(Parse(off, {"on"}, &next), "");
  EXPECT_TRUE(next.on);
  EXPECT_EQ(Parse(off, {"on", "prefix", "a"}, &next),
            "ERR PREFIX option requires BCAST mode to be enabled");
  EXPECT_EQ(Parse(off, {"on", "bcast", "optin"}, &next),
            "ERR OPTIN and OPTOUT are not compatible with BCAST");
  EXPECT_EQ(Parse(off, {"on", "optin", "optout"}, &next),
            "ERR You can't specify both OPTIN mode and OPTOUT mode");
  EXPECT_EQ(Parse(off, {"on", "bcast", "prefix", "a", "prefix", "ab"}, &next),
            "ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single "
            "client must not overlap.");
  EXPECT_EQ(Parse(off, {"on", "redirect", "1", "redirect", "2"}, &next),
            "ERR A client can only redirect to a single other client");
  EXPECT_EQ(Parse(off, {"on", "bogus"}, &next), "ERR syntax error");
  EXPECT_EQ(Parse(off, {"on", "bcast"}, &next), "");
  EXPECT_EQ(next.prefixes, std::vector<std::string>{""});  // every key
  ClientTracking bcast = next;
  EXPECT_NE(Parse(bcast, {"on"}, &next), "");  // can't switch BCAST off while on
  EXPECT_EQ(Parse(bcast, {"off"}, &next), "");
  EXPECT_FALSE(next.on);
}

TEST(TrackingTableTest, InvalidateFrames) {
  std::string out;
  AppendInvalidatePush(&out, true, {"a", "bc"}, false, "_\r\n");
  EXPECT_EQ(out, ">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$2\r\nbc\r\n");
  out.clear();
  AppendInvalidatePush(&out, false, {}, true, "$-1\r\n");
  EXPECT_EQ(out, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
}

TEST(MonitorLineTest, FormatAsRedis) {
  std::vector<std::string_view> args = {"set", "k\"\\", "a\n\x01\xff"};
  EXPECT_EQ(FormatMonitorLine(1700000000123456, 3, "127.0.0.1:5555", ArgList(args)),
            "+1700000000.123456 [3 127.0.0.1:5555] \"set\" \"k\\\"\\\\\" \"a\\n\\x01\\xff\"\r\n");
  std::vector<std::string_view> auth = {"auth", "pw"};
  EXPECT_EQ(FormatMonitorLine(1000000000000005, 0, "lua", ArgList(auth)),
            "+1000000000.000005 [0 lua] \"auth\" \"(redacted)\"\r\n");
}

}  // namespace
}  // namespace shardis
