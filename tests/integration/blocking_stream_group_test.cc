// XREADGROUP BLOCK against Shardis (4 and 1 threads) and the reference redis-server: a blocked
// group reader is served by XADD (entries then pending for it), shares new entries with other
// readers of its group, times out with nil, and gets Redis 7.0's errors when its group is
// destroyed (NOGROUP), or its key deleted, overwritten, flushed or expired (UNBLOCKED); RENAME
// onto the key serves it when the new stream has the group, else NOGROUP.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/blocking_test.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

class BlockingStreamGroupTest : public BlockingTest {
 protected:
  // A stream `key` with one entry and group g positioned after it.
  void MakeGroup(const std::string& key) {
    ASSERT_EQ(admin_->Run({"XADD", key, "1-0", "f", "old"}), Str("1-0"));
    ASSERT_EQ(admin_->Run({"XGROUP", "CREATE", key, "g", "$"}), "status:\"OK\"");
  }
  static std::string OneEntry(const std::string& key, const std::string& id,
                              const std::string& value) {
    return Arr({Arr({Str(key), Arr({Arr({Str(id), Arr({Str("f"), Str(value)})})})})});
  }
};

TEST_P(BlockingStreamGroupTest, ServedByXadd) {
  for (const std::string key : {"q1", "q2", "q3", "q4"}) {
    MakeGroup(key);
    auto reader = Connect();
    Send(reader.get(), {"XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", key, ">"});
    ASSERT_TRUE(WaitBlocked(1));
    EXPECT_EQ(admin_->Run({"XADD", key, "2-0", "f", "new"}), Str("2-0"));
    EXPECT_EQ(Reply(reader.get()), OneEntry(key, "2-0", "new"));
    ASSERT_TRUE(WaitBlocked(0));
    // The entry is pending for alice; the group moved past it.
    ReplyPtr pending = admin_->Command({"XPENDING", key, "g"});
    ASSERT_NE(pending, nullptr);
    ASSERT_EQ(pending->type, REDIS_REPLY_ARRAY);
    EXPECT_EQ(Render(pending->element[0]), Int(1));
    EXPECT_EQ(Render(pending->element[3]), Arr({Arr({Str("alice"), Str("1")})}));
    EXPECT_EQ(reader->Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", key, ">"}), kNil);
  }
}

TEST_P(BlockingStreamGroupTest, TwoReadersShareNewEntries) {
  MakeGroup("{s}k");
  auto a = Connect();
  auto b = Connect();
  Send(a.get(), {"XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "{s}k", ">"});
  ASSERT_TRUE(WaitBlocked(1));
  Send(b.get(), {"XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "{s}k", ">"});
  ASSERT_TRUE(WaitBlocked(2));
  EXPECT_EQ(admin_->Run({"XADD", "{s}k", "2-0", "f", "x"}), Str("2-0"));
  EXPECT_EQ(Reply(a.get()), OneEntry("{s}k", "2-0", "x"));
  ASSERT_TRUE(WaitBlocked(1));  // b waits for the next one
  EXPECT_EQ(admin_->Run({"XADD", "{s}k", "3-0", "f", "y"}), Str("3-0"));
  EXPECT_EQ(Reply(b.get()), OneEntry("{s}k", "3-0", "y"));
  ASSERT_TRUE(WaitBlocked(0));
}

TEST_P(BlockingStreamGroupTest, TimeoutRepliesNil) {
  MakeGroup("t");
  auto c = Connect();
  EXPECT_EQ(c->Run({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "t", ">"}), kNil);
  EXPECT_EQ(c->Run({"PING"}), "status:\"PONG\"");
  // In MULTI it cannot block: nil at once.
  EXPECT_EQ(c->Run({"MULTI"}), "status:\"OK\"");
  EXPECT_EQ(c->Run({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "t", ">"}),
            "status:\"QUEUED\"");
  EXPECT_EQ(c->Run({"EXEC"}), Arr({kNil}));
}

TEST_P(BlockingStreamGroupTest, GroupDestroyedOrKeyGone) {
  struct Case {
    std::vector<std::vector<std::string>> actions;
    std::string reply;
  };
  const std::string nogroup =
      "err:\"NOGROUP the consumer group this client was blocked on no longer exists\"";
  const std::string unblocked = "err:\"UNBLOCKED the stream key no longer exists\"";
  const std::vector<Case> cases = {
      {{{"XGROUP", "DESTROY", "{b}k", "g"}}, nogroup},
      {{{"DEL", "{b}k"}}, unblocked},
      {{{"SET", "{b}k", "x"}}, unblocked},
      {{{"FLUSHALL"}}, unblocked},
      {{{"PEXPIRE", "{b}k", "20"}}, unblocked},
      {{{"XADD", "{b}tmp", "5-0", "a", "b"}, {"RENAME", "{b}tmp", "{b}k"}}, nogroup},
      {{{"XADD", "{b}tmp", "5-0", "a", "b"},
        {"XGROUP", "CREATE", "{b}tmp", "g", "0"},
        {"RENAME", "{b}tmp", "{b}k"}},
       Arr({Arr({Str("{b}k"), Arr({Arr({Str("5-0"), Arr({Str("a"), Str("b")})})})})})},
  };
  for (const Case& c : cases) {
    admin_->Run({"DEL", "{b}k", "{b}tmp"});
    MakeGroup("{b}k");
    auto reader = Connect();
    Send(reader.get(), {"XREADGROUP", "GROUP", "g", "r", "BLOCK", "0", "STREAMS", "{b}k", ">"});
    ASSERT_TRUE(WaitBlocked(1));
    for (const auto& action : c.actions) admin_->Run(action);
    EXPECT_EQ(Reply(reader.get()), c.reply) << RenderCommand(c.actions.back());
    ASSERT_TRUE(WaitBlocked(0));
    EXPECT_EQ(reader->Run({"PING"}), "status:\"PONG\"");
  }
}

SHARDIS_INSTANTIATE_BLOCKING_TEST(BlockingStreamGroupTest);

}  // namespace
}  // namespace shardis::test
