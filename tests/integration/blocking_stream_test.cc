// Integration tests of blocking XREAD against shardis-server --threads 4: a reader parked on the
// shard that owns its keys is served by an XADD from another connection (whatever the threads of
// the two connections), times out with nil, reads only what was added after it blocked when it
// asked for "$", waits forever with BLOCK 0, ignores other types written to its key, and waits
// the same way (XREAD and XREADGROUP) when its keys span shards. SHARDIS_TEST_AGAINST_REDIS=1
// runs the same expectations against redis-server.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_server.h"

namespace shardis::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class BlockingStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = StartShardis(4, {}, &error);
    ASSERT_NE(server_, nullptr) << "cannot start " << ShardisLabel() << ": " << error;
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_TRUE(server_->Running()) << server_->DescribeExit() << "\n" << server_->LogTail();
    }
  }

  std::unique_ptr<Client> Connect() {
    std::string error;
    auto c = Client::Connect(server_->port(), seconds(10), &error);
    EXPECT_NE(c, nullptr) << error;
    return c;
  }

  // Waits (bounded) until INFO reports at least `n` blocked clients.
  bool WaitBlocked(Client* probe, int64_t n) {
    for (int i = 0; i < 500; ++i) {
      ReplyPtr r = probe->Command({"INFO", "clients"});
      if (r != nullptr && r->type == REDIS_REPLY_STRING) {
        std::string info(r->str, r->len);
        size_t at = info.find("blocked_clients:");
        int64_t blocked = 0;
        if (at != std::string::npos) {
          size_t end = info.find('\r', at);
          std::string value = info.substr(at + 16, end - at - 16);
          if (absl::SimpleAtoi(value, &blocked) && blocked >= n) return true;
        }
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<ServerProcess> server_;
};

std::string Entry(const std::string& id, const std::string& f, const std::string& v) {
  return absl::StrCat("arr:[str:\"", id, "\",arr:[str:\"", f, "\",str:\"", v, "\"]]");
}
std::string OneStream(const std::string& key, const std::string& entries) {
  return absl::StrCat("arr:[arr:[str:\"", key, "\",arr:[", entries, "]]]");
}

TEST_F(BlockingStreamTest, ServedByXaddFromAnotherConnection) {
  auto probe = Connect();
  // Several keys, so readers, writers and streams sit on different threads.
  for (const std::string key : {"q1", "q2", "q3", "q4", "q5", "q6"}) {
    auto reader = Connect();
    auto writer = Connect();
    ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "5000", "STREAMS", key, "$"}));
    ASSERT_TRUE(reader->Flush());
    ASSERT_TRUE(WaitBlocked(probe.get(), 1)) << key;
    EXPECT_EQ(writer->Run({"XADD", key, "7-1", "hello", "world"}), "str:\"7-1\"");
    ReplyPtr r = reader->GetReply();
    EXPECT_EQ(Render(r.get()), OneStream(key, Entry("7-1", "hello", "world"))) << key;
    EXPECT_TRUE(WaitBlocked(probe.get(), 0));
  }
}

TEST_F(BlockingStreamTest, TimeoutRepliesNil) {
  auto c = Connect();
  Clock::time_point start = Clock::now();
  EXPECT_EQ(c->Run({"XREAD", "BLOCK", "200", "STREAMS", "nothing", "$"}), "nil");
  auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  EXPECT_GE(waited, 190);
  EXPECT_LT(waited, 3000);
  // Entries older than the ID do not count: still a timeout.
  c->Run({"XADD", "old", "1-1", "f", "v"});
  EXPECT_EQ(c->Run({"XREAD", "BLOCK", "100", "STREAMS", "old", "1-1"}), "nil");
  // The connection is usable afterwards.
  EXPECT_EQ(c->Run({"PING"}), "status:\"PONG\"");
}

TEST_F(BlockingStreamTest, DollarMeansOnlyNewEntries) {
  auto probe = Connect();
  auto reader = Connect();
  auto writer = Connect();
  writer->Run({"XADD", "d", "1-1", "f", "before"});
  writer->Run({"XADD", "d", "2-1", "f", "before"});
  ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "5000", "STREAMS", "d", "$"}));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XADD", "d", "3-1", "f", "after"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream("d", Entry("3-1", "f", "after")));
  // An explicit ID is served at once when newer entries exist.
  EXPECT_EQ(reader->Run({"XREAD", "BLOCK", "5000", "COUNT", "1", "STREAMS", "d", "1-1"}),
            OneStream("d", Entry("2-1", "f", "before")));
  // "$" on a missing key: the stream XADD creates is read from its start.
  ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "5000", "STREAMS", "fresh", "$"}));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XADD", "fresh", "5-5", "a", "b"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream("fresh", Entry("5-5", "a", "b")));
}

TEST_F(BlockingStreamTest, BlockZeroWaitsUntilServed) {
  auto probe = Connect();
  auto reader = Connect();
  auto writer = Connect();
  ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "0", "STREAMS", "forever", "$"}));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));  // still waiting
  writer->Run({"XADD", "forever", "9-9", "k", "v"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream("forever", Entry("9-9", "k", "v")));
}

TEST_F(BlockingStreamTest, SeveralKeysAndSeveralReaders) {
  auto probe = Connect();
  auto r1 = Connect();
  auto r2 = Connect();
  auto writer = Connect();
  // Keys of one hash tag share a shard.
  ASSERT_TRUE(r1->Append({"XREAD", "BLOCK", "5000", "STREAMS", "{t}a", "{t}b", "$", "$"}));
  ASSERT_TRUE(r1->Flush());
  ASSERT_TRUE(r2->Append({"XREAD", "BLOCK", "5000", "STREAMS", "{t}b", "$"}));
  ASSERT_TRUE(r2->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 2));
  writer->Run({"XADD", "{t}b", "1-0", "x", "1"});
  // Both readers get the entry; r1's reply names only the stream that has data.
  EXPECT_EQ(Render(r1->GetReply().get()), OneStream("{t}b", Entry("1-0", "x", "1")));
  EXPECT_EQ(Render(r2->GetReply().get()), OneStream("{t}b", Entry("1-0", "x", "1")));
}

TEST_F(BlockingStreamTest, OtherTypesAndTrimmedEntries) {
  auto probe = Connect();
  auto reader = Connect();
  auto writer = Connect();
  // A string written to the key does not wake the reader; the stream created later does.
  ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "5000", "STREAMS", "w", "$"}));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"SET", "w", "string"});
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"DEL", "w"});
  writer->Run({"XADD", "w", "1-1", "a", "b"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream("w", Entry("1-1", "a", "b")));
  // An XADD whose entry is trimmed away at once: the reader gets the stream with no entries,
  // as Redis serves a stream whose last ID moved.
  ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "5000", "STREAMS", "w", "$"}));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XADD", "w", "MAXLEN", "0", "2-1", "a", "b"});
  EXPECT_EQ(Render(reader->GetReply().get()), "arr:[arr:[str:\"w\",arr:[]]]");
}

TEST_F(BlockingStreamTest, PipelinedCommandsWaitForTheBlockedRead) {
  auto probe = Connect();
  auto reader = Connect();
  auto writer = Connect();
  ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "5000", "STREAMS", "p", "$"}));
  ASSERT_TRUE(reader->Append({"XLEN", "p"}));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XADD", "p", "1-1", "f", "v"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream("p", Entry("1-1", "f", "v")));
  EXPECT_EQ(Render(reader->GetReply().get()), "int:1");  // ran after the XADD, not before
}

TEST_F(BlockingStreamTest, DisconnectWhileBlocked) {
  auto probe = Connect();
  {
    auto reader = Connect();
    ASSERT_TRUE(reader->Append({"XREAD", "BLOCK", "0", "STREAMS", "gone", "$"}));
    ASSERT_TRUE(reader->Flush());
    ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  }  // the reader disconnects
  ASSERT_TRUE(WaitBlocked(probe.get(), 0));
  EXPECT_EQ(probe->Run({"XADD", "gone", "1-1", "f", "v"}), "str:\"1-1\"");
  EXPECT_EQ(probe->Run({"XLEN", "gone"}), "int:1");
}

TEST_F(BlockingStreamTest, Resp3Reply) {
  auto probe = Connect();
  std::string error;
  auto reader = RawConnection::Connect(server_->port(), &error);
  ASSERT_NE(reader, nullptr) << error;
  auto writer = Connect();
  reader->Run({"HELLO", "3"});
  ASSERT_TRUE(reader->SendCommand({"XREAD", "BLOCK", "5000", "STREAMS", "r3", "$"}));
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XADD", "r3", "4-4", "f", "v"});
  std::optional<RespValue> v = reader->Read();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(reader->last_raw(),
            "%1\r\n$2\r\nr3\r\n*1\r\n*2\r\n$3\r\n4-4\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(reader->Run({"XREAD", "BLOCK", "50", "STREAMS", "r3", "$"}), "nil");
  EXPECT_EQ(reader->last_raw(), "_\r\n");
}

// Eight keys: with four threads they live on several shards.
std::vector<std::string> SpreadKeys(const std::string& prefix) {
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back(absl::StrCat(prefix, i));
  return keys;
}

TEST_F(BlockingStreamTest, XreadBlockingAcrossShards) {
  auto probe = Connect();
  auto reader = Connect();
  auto writer = Connect();
  std::vector<std::string> keys = SpreadKeys("xs");
  writer->Run({"XADD", keys[2], "1-1", "f", "old"});
  // Data at the call: every stream that has some answers at once, in key order.
  std::vector<std::string> read = {"XREAD", "BLOCK", "0", "STREAMS"};
  read.insert(read.end(), keys.begin(), keys.end());
  std::vector<std::string> from_zero = read;
  for (size_t i = 0; i < keys.size(); ++i) from_zero.push_back("0");
  writer->Run({"XADD", keys[6], "1-1", "f", "old"});
  EXPECT_EQ(reader->Run(from_zero),
            absl::StrCat("arr:[arr:[str:\"", keys[2], "\",arr:[", Entry("1-1", "f", "old"),
                         "]],arr:[str:\"", keys[6], "\",arr:[", Entry("1-1", "f", "old"), "]]]"));
  // Nothing after "$": it waits, and the first stream written serves it (that one only).
  std::vector<std::string> from_now = read;
  for (size_t i = 0; i < keys.size(); ++i) from_now.push_back("$");
  ASSERT_TRUE(reader->Append(from_now));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"SET", keys[0], "not a stream"});  // other types are ignored
  writer->Run({"XADD", keys[5], "2-2", "f", "new"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream(keys[5], Entry("2-2", "f", "new")));
  // A timeout gives nil; the connection goes on.
  std::vector<std::string> timed = {"XREAD", "COUNT", "5", "BLOCK", "50", "STREAMS"};
  timed.insert(timed.end(), keys.begin() + 1, keys.end());
  for (size_t i = 1; i < keys.size(); ++i) timed.push_back("$");
  EXPECT_EQ(reader->Run(timed), "nil");
  EXPECT_EQ(reader->Run({"PING"}), "status:\"PONG\"");
  // In MULTI it does not block.
  reader->Run({"MULTI"});
  reader->Run(timed);
  EXPECT_EQ(reader->Run({"EXEC"}), "arr:[nil]");
}

TEST_F(BlockingStreamTest, XreadgroupBlockingAcrossShards) {
  auto probe = Connect();
  auto reader = Connect();
  auto writer = Connect();
  std::vector<std::string> keys = SpreadKeys("gs");
  for (const std::string& k : keys) writer->Run({"XGROUP", "CREATE", k, "g", "$", "MKSTREAM"});
  std::vector<std::string> read = {"XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS"};
  read.insert(read.end(), keys.begin(), keys.end());
  for (size_t i = 0; i < keys.size(); ++i) read.push_back(">");
  ASSERT_TRUE(reader->Append(read));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XADD", keys[3], "5-5", "f", "v"});
  EXPECT_EQ(Render(reader->GetReply().get()), OneStream(keys[3], Entry("5-5", "f", "v")));
  // The entry is now pending for alice.
  EXPECT_EQ(writer->Run({"XPENDING", keys[3], "g"}),
            "arr:[int:1,str:\"5-5\",str:\"5-5\",arr:[arr:[str:\"alice\",str:\"1\"]]]");
  // A group destroyed while the client waits: Redis's error.
  ASSERT_TRUE(reader->Append(read));
  ASSERT_TRUE(reader->Flush());
  ASSERT_TRUE(WaitBlocked(probe.get(), 1));
  writer->Run({"XGROUP", "DESTROY", keys[6], "g"});
  EXPECT_EQ(Render(reader->GetReply().get()),
            "err:\"NOGROUP the consumer group this client was blocked on no longer exists\"");
}

}  // namespace
}  // namespace shardis::test
