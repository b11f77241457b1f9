// Unit tests of keyspace notifications: the notifier (storage/notify.h), the message building
// (server/keyspace_events.h), and the events command handlers raise, run through the
// CommandHarness (one test thread; events are read from the shards' notifiers). Expected event
// sequences are redis-server 7.0's.
#include "server/keyspace_events.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/notify.h"
#include "storage/shard_data.h"
#include "tests/unit/server/command_harness.h"

namespace shardis {
namespace {

using testing::CommandHarness;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(KeyspaceNotifierTest, FlagsFromString) {
  EXPECT_EQ(NotifyFlagsFromString(""), 0u);
  EXPECT_EQ(NotifyFlagsFromString("KEA"), kNotifyKeyspace | kNotifyKeyevent | kNotifyAllClasses);
  EXPECT_EQ(NotifyFlagsFromString("E$l"), kNotifyKeyevent | kNotifyString | kNotifyList);
  EXPECT_EQ(NotifyFlagsFromString("Kxn"), kNotifyKeyspace | kNotifyExpired | kNotifyNew);
  EXPECT_EQ(NotifyFlagsFromString("KA") & kNotifyNew, 0u);  // A does not include n
  EXPECT_EQ(NotifyFlagsFromString("KA") & kNotifyKeyMiss, 0u);
}

TEST(KeyspaceNotifierTest, OffWithoutKOrE) {
  KeyspaceNotifier n;
  n.set_flags(NotifyFlagsFromString("A"));  // classes but no channel kind: nothing
  EXPECT_EQ(n.flags(), 0u);
  n.Notify(kNotifyString, "set", "k", 0);
  EXPECT_FALSE(n.has_pending());
}

TEST(KeyspaceNotifierTest, FiltersByClass) {
  KeyspaceNotifier n;
  n.set_flags(NotifyFlagsFromString("K$"));
  n.Notify(kNotifyString, "set", "a", 0);
  n.Notify(kNotifyGeneric, "del", "a", 0);
  n.Notify(kNotifyList, "lpush", "b", 3);
  ASSERT_EQ(n.pending().size(), 1u);
  EXPECT_STREQ(n.pending()[0].event, "set");
  EXPECT_EQ(n.pending()[0].key, "a");
}

TEST(KeyspaceEventsTest, BuildsBothChannelsInOrder) {
  std::vector<KeyspaceEvent> events = {{kNotifyString, 0, "set", "k1"},
                                       {kNotifyGeneric, 5, "del", "k2"}};
  ChannelMessages out;
  BuildKeyspaceMessages(events, kNotifyKeyspace | kNotifyKeyevent | kNotifyAllClasses, &out);
  EXPECT_THAT(out, ElementsAre(std::pair<std::string, std::string>("__keyspace@0__:k1", "set"),
                               std::pair<std::string, std::string>("__keyevent@0__:set", "k1"),
                               std::pair<std::string, std::string>("__keyspace@5__:k2", "del"),
                               std::pair<std::string, std::string>("__keyevent@5__:del", "k2")));
  out.clear();
  BuildKeyspaceMessages(events, kNotifyKeyevent | kNotifyAllClasses, &out);
  EXPECT_THAT(out, ElementsAre(std::pair<std::string, std::string>("__keyevent@0__:set", "k1"),
                               std::pair<std::string, std::string>("__keyevent@5__:del", "k2")));
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override { h_.shard(0).notifier().set_flags(NotifyFlagsFromString("KEA")); }
  // "event key" strings raised so far (and clears them).
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    for (const KeyspaceEvent& e : h_.shard(0).notifier().pending()) {
      out.push_back(std::string(e.event) + " " + e.key);
    }
    h_.shard(0).notifier().pending().clear();
    return out;
  }
  CommandHarness h_{1};
};

TEST_F(EventsTest, Strings) {
  h_.Run({"set", "a", "1"});
  h_.Run({"set", "b", "1", "px", "100"});
  h_.Run({"incrby", "a", "2"});
  h_.Run({"incrbyfloat", "a", "1.5"});
  h_.Run({"append", "a", "x"});
  h_.Run({"setrange", "a", "0", "y"});
  h_.Run({"setrange", "nokey", "0", ""});  // creates nothing: no event
  h_.Run({"getdel", "a"});
  EXPECT_THAT(Take(), ElementsAre("set a", "set b", "expire b", "incrby a", "incrbyfloat a",
                                  "append a", "setrange a", "del a"));
  h_.Run({"incrby", "b", "x"});  // not an integer: no event
  h_.Run({"set", "b", "x", "nx"});
  EXPECT_THAT(Take(), IsEmpty());
}

TEST_F(EventsTest, GenericAndExpiry) {
  h_.Run({"set", "a", "1"});
  h_.Run({"expire", "a", "100"});
  h_.Run({"persist", "a"});
  h_.Run({"persist", "a"});  // no TTL: nothing
  h_.Run({"rename", "a", "b"});
  h_.Run({"copy", "b", "c"});
  h_.Run({"move", "c", "1"});
  h_.Run({"del", "b", "nokey"});
  h_.Run({"set", "e", "1", "px", "10"});
  EXPECT_THAT(Take(),
              ElementsAre("set a", "expire a", "persist a", "rename_from a", "rename_to b",
                          "copy_to c", "move_from c", "move_to c", "del b", "set e", "expire e"));
  h_.AdvanceTime(100);
  h_.Run({"get", "e"});  // lazily expired
  EXPECT_THAT(Take(), ElementsAre("expired e"));
  h_.Run({"set", "f", "1"});
  h_.Run({"expire", "f", "-1"});  // a time in the past deletes
  EXPECT_THAT(Take(), ElementsAre("set f", "del f"));
}

TEST_F(EventsTest, ListsEmitDelAfterTheirOwnEvent) {
  h_.Run({"rpush", "l", "a", "b"});
  h_.Run({"lpush", "l", "c"});
  h_.Run({"lset", "l", "0", "z"});
  h_.Run({"linsert", "l", "before", "nothere", "x"});  // no pivot: nothing
  h_.Run({"linsert", "l", "before", "z", "x"});
  h_.Run({"lrem", "l", "0", "nothere"});  // nothing removed: nothing
  h_.Run({"rpoplpush", "l", "m"});
  h_.Run({"ltrim", "l", "0", "0"});
  h_.Run({"lpop", "l"});
  EXPECT_THAT(Take(), ElementsAre("rpush l", "lpush l", "lset l", "linsert l", "lpush m", "rpop l",
                                  "ltrim l", "lpop l", "del l"));
}

TEST_F(EventsTest, HashesSetsZsets) {
  h_.Run({"hset", "h", "f", "1"});
  h_.Run({"hincrby", "h", "f", "1"});
  h_.Run({"hincrbyfloat", "h", "f", "1.5"});
  h_.Run({"hdel", "h", "nofield"});
  h_.Run({"hdel", "h", "f"});
  EXPECT_THAT(Take(), ElementsAre("hset h", "hincrby h", "hincrbyfloat h", "hdel h", "del h"));
  h_.Run({"sadd", "s", "a", "b"});
  h_.Run({"sadd", "s", "a"});  // nothing added
  h_.Run({"srem", "s", "x"});  // nothing removed
  h_.Run({"smove", "s", "t", "a"});
  h_.Run({"sinterstore", "u", "s", "t"});  // empty: u did not exist, nothing
  h_.Run({"sunionstore", "u", "s", "t"});
  h_.Run({"srem", "s", "b"});
  EXPECT_THAT(Take(),
              ElementsAre("sadd s", "srem s", "sadd t", "sunionstore u", "srem s", "del s"));
  h_.Run({"zadd", "z", "1", "a", "2", "b"});
  h_.Run({"zadd", "z", "1", "a"});  // no change
  h_.Run({"zincrby", "z", "1", "a"});
  h_.Run({"zrem", "z", "nope"});
  h_.Run({"zremrangebyscore", "z", "100", "200"});  // nothing removed
  h_.Run({"zpopmin", "z"});
  h_.Run({"zremrangebyrank", "z", "0", "-1"});
  EXPECT_THAT(Take(), ElementsAre("zadd z", "zincr z", "zpopmin z", "zremrangebyrank z", "del z"));
}

TEST_F(EventsTest, NewOnlyWhenAsked) {
  h_.shard(0).notifier().set_flags(NotifyFlagsFromString("Kn$"));
  h_.Run({"set", "a", "1"});
  h_.Run({"set", "a", "2"});
  EXPECT_THAT(Take(), ElementsAre("new a", "set a", "set a"));
}

// "keymiss" (m, not part of A) comes where a read counts a keyspace miss, EXISTS/TYPE/TTL
// included, and not from writes or OBJECT (redis-server 7.0.15's sequence).
TEST_F(EventsTest, KeyMissOnReads) {
  h_.Run({"set", "s", "v"});
  Take();
  h_.Run({"get", "m1"});
  EXPECT_THAT(Take(), IsEmpty());  // KEA: no m
  h_.shard(0).notifier().set_flags(NotifyFlagsFromString("Em"));
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"get", "m1"},
           {"exists", "m2", "s"},
           {"type", "m3"},
           {"pttl", "m4"},
           {"object", "encoding", "m5"},
           {"lpush", "m6", "x"},
           {"hget", "m7", "f"},
           {"mget", "s", "m8"},
           {"set", "m9", "v"},
           {"getdel", "m10"},
       }) {
    h_.Run(cmd);
  }
  EXPECT_THAT(Take(), ElementsAre("keymiss m1", "keymiss m2", "keymiss m3", "keymiss m4",
                                  "keymiss m7", "keymiss m8", "keymiss m10"));
}

}  // namespace
}  // namespace shardis
