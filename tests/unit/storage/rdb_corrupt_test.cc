// Corrupt DUMP payloads (from Redis's corrupt-dump.tcl findings and hand-built ones) must get
// RESTORE's "Bad data format" outcome from the decoder, never a crash: ziplist prevlen / tail /
// count checks, listpack back-lengths, stream lp-count and master terminator, empty plain nodes.
#include <gtest/gtest.h>

#include <string>

#include "storage/rdb/rdb_codec.h"
#include "storage/rdb/rdb_format.h"

namespace shardis::rdb {
namespace {

RestoreStatus Restore(std::string_view payload) {
  LoadLimits limits;
  limits.skip_checksum = true;  // as DEBUG SET-SKIP-CHECKSUM-VALIDATION 1
  Value v;
  return ParseDumpPayload(payload, limits, &v);
}

// type byte + body + RDB version 10 + a CRC64 that is not checked.
std::string Payload(std::string_view body) {
  std::string p(body);
  p += std::string("\x0A\x00", 2);
  p += std::string(8, '\x5A');
  return p;
}

// A well-formed ziplist of single-byte strings "a", "b", "c" with fields patchable by the tests.
std::string Ziplist3() {
  // header: zlbytes (4), zltail (4), zllen (2); entries: prevlen, 0x01, char (3 bytes each).
  std::string zl;
  zl += std::string("\x14\x00\x00\x00", 4);  // 20 bytes
  zl += std::string("\x10\x00\x00\x00", 4);  // tail at 16
  zl += std::string("\x03\x00", 2);
  zl += std::string(
      "\x00\x01"
      "a",
      3);
  zl += std::string(
      "\x03\x01"
      "b",
      3);
  zl += std::string(
      "\x03\x01"
      "c",
      3);
  zl += '\xFF';
  return zl;
}

std::string ListZiplistBody(const std::string& zl) {
  std::string body = "\x0A";  // RDB_TYPE_LIST_ZIPLIST
  body += static_cast<char>(zl.size());
  body += zl;
  return body;
}

TEST(RdbCorruptTest, ZiplistStructureChecks) {
  EXPECT_EQ(Restore(Payload(ListZiplistBody(Ziplist3()))), RestoreStatus::kOk);
  std::string bad = Ziplist3();
  bad[13] = '\x02';  // prevlen of "b" is 2, not 3
  EXPECT_EQ(Restore(Payload(ListZiplistBody(bad))), RestoreStatus::kBadFormat);
  bad = Ziplist3();
  bad[4] = '\x0D';  // zltail points at "b"
  EXPECT_EQ(Restore(Payload(ListZiplistBody(bad))), RestoreStatus::kBadFormat);
  bad = Ziplist3();
  bad[8] = '\x04';  // zllen 4 for 3 entries
  EXPECT_EQ(Restore(Payload(ListZiplistBody(bad))), RestoreStatus::kBadFormat);
  bad = Ziplist3();
  bad[8] = '\xFF';  // zllen 0xFFFF: unknown, counted
  bad[9] = '\xFF';
  EXPECT_EQ(Restore(Payload(ListZiplistBody(bad))), RestoreStatus::kOk);
  bad = Ziplist3();
  bad[16] = '\xFF';  // end marker where the last entry starts
  EXPECT_EQ(Restore(Payload(ListZiplistBody(bad))), RestoreStatus::kBadFormat);
}

TEST(RdbCorruptTest, ListpackBacklenChecked) {
  ListpackBuilder b;
  b.Append("f1");
  b.Append("v1");
  std::string lp = b.Finish();
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ListpackElements(lp, &out, &error)) << error;
  // Entry "f1" is 0x82 'f' '1' + backlen 0x03 at offset 9.
  ASSERT_EQ(lp[9], '\x03');
  lp[9] = '\x04';
  out.clear();
  EXPECT_FALSE(ListpackElements(lp, &out, &error));
  lp[9] = '\x83';  // continuation bit: decodes into the entry's bytes
  out.clear();
  EXPECT_FALSE(ListpackElements(lp, &out, &error));
}

TEST(RdbCorruptTest, QuicklistEmptyPlainNode) {
  // Redis's "quicklist encoded_len is 0": one PLAIN container holding an empty string.
  EXPECT_EQ(Restore(Payload(std::string("\x12\x01\x01\x00", 4))), RestoreStatus::kBadFormat);
  EXPECT_EQ(Restore(Payload(std::string("\x12\x01\x01\x01x", 5))), RestoreStatus::kOk);
}

// Redis's corrupt-dump.tcl "quicklist big ziplist prev len" (RESTORE with a valid CRC).
TEST(RdbCorruptTest, RedisQuicklistZiplistPrevlen) {
  const std::string p(
      "\x0E\x01\x13\x13\x00\x00\x00\x0E\x00\x00\x00\x02\x00\x00\x02\x61\x00\x0E\x02\x62\x00\xFF"
      "\x09\x00\x49\x97\x30\xB2\x0D\xA1\xED\xAA",
      32);
  Value v;
  EXPECT_EQ(ParseDumpPayload(p, LoadLimits{}, &v), RestoreStatus::kBadFormat);
}

// A stream node whose entry lp-count is wrong, and one without the master's zero terminator.
TEST(RdbCorruptTest, StreamNodeLpCount) {
  auto stream_body = [](int lp_count, int terminator) {
    ListpackBuilder lp;
    lp.AppendInt(1);  // count
    lp.AppendInt(0);  // deleted
    lp.AppendInt(1);  // master fields
    lp.Append("f");
    lp.AppendInt(terminator);
    lp.AppendInt(2);  // flags: same fields
    lp.AppendInt(0);
    lp.AppendInt(0);
    lp.Append("v");
    lp.AppendInt(lp_count);
    std::string node = lp.Finish();
    std::string body = "\x0F\x01";  // RDB_TYPE_STREAM_LISTPACKS, 1 node
    body += '\x10';
    body += std::string("\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00", 16);
    body += static_cast<char>(0x40 | (node.size() >> 8));
    body += static_cast<char>(node.size() & 0xFF);
    body += node;
    body += std::string("\x01\x01\x00\x00", 4);  // length 1, last id 1-0, no groups
    return body;
  };
  EXPECT_EQ(Restore(Payload(stream_body(4, 0))), RestoreStatus::kOk);
  EXPECT_EQ(Restore(Payload(stream_body(5, 0))), RestoreStatus::kBadFormat);
  EXPECT_EQ(Restore(Payload(stream_body(4, 1))), RestoreStatus::kBadFormat);
}

TEST(RdbCorruptTest, ListpackTerminatorChecked) {
  ListpackBuilder b;
  b.Append("f0");
  b.Append("vvvvvvv8");
  std::string lp = b.Finish();
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ListpackElements(lp, &out, &error)) << error;
  lp.back() = '\xC1';  // a 13-bit int header where the terminator belongs
  out.clear();
  EXPECT_FALSE(ListpackElements(lp, &out, &error));
}

TEST(RdbCorruptTest, EncodedByteAsPlainLengthReadAsRedis) {
  // A set whose element count is written 0xC2 (11000010): Redis's rdbLoadLen takes the low 6
  // bits, 2, and so does the reader.
  const std::string body(
      "\x02\xC2\x01"
      "a"
      "\x01"
      "b",
      7);
  Value v;
  EXPECT_EQ(Restore(Payload(body)), RestoreStatus::kOk);
}

TEST(RdbCorruptTest, StreamLengthWithoutNodes) {
  // STREAM_LISTPACKS: 0 nodes, length, last ID 0-0, no groups (Redis's "streamLastValidID
  // panic" payload reads so once its 0xC0 node count is taken as 0).
  EXPECT_EQ(Restore(Payload(std::string("\x0F\x00\x00\x00\x00\x00", 6))), RestoreStatus::kOk);
  EXPECT_EQ(Restore(Payload(std::string("\x0F\x00\x10\x00\x00\x00", 6))),
            RestoreStatus::kBadFormat);
}

}  // namespace
}  // namespace shardis::rdb
