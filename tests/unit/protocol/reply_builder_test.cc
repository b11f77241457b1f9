// Tests for ReplyBuilder: the RESP2 and RESP3 bytes of every method, as redis-server 7.0 writes
// them (RESP3-only types degraded for RESP2, doubles as "%.17g", errors kept on one line).
#include "protocol/reply_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

namespace shardis {
namespace {

std::string Encode(RespVersion version, const std::function<void(ReplyBuilder&)>& fn) {
  std::string out;
  ReplyBuilder rb(&out, version);
  fn(rb);
  return out;
}

std::string R2(const std::function<void(ReplyBuilder&)>& fn) {
  return Encode(RespVersion::kResp2, fn);
}
std::string R3(const std::function<void(ReplyBuilder&)>& fn) {
  return Encode(RespVersion::kResp3, fn);
}

// Expects the same bytes in both protocol versions.
void ExpectBoth(const std::function<void(ReplyBuilder&)>& fn, std::string_view want) {
  EXPECT_EQ(R2(fn), want);
  EXPECT_EQ(R3(fn), want);
}

TEST(ReplyBuilderTest, Version) {
  std::string out;
  ReplyBuilder r2(&out, RespVersion::kResp2);
  ReplyBuilder r3(&out, RespVersion::kResp3);
  EXPECT_FALSE(r2.resp3());
  EXPECT_TRUE(r3.resp3());
  EXPECT_EQ(r3.version(), RespVersion::kResp3);
  EXPECT_EQ(r3.buffer(), &out);
}

TEST(ReplyBuilderTest, SimpleReplies) {
  ExpectBoth([](ReplyBuilder& rb) { rb.Ok(); }, "+OK\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.SimpleString("PONG"); }, "+PONG\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.SimpleString(""); }, "+\r\n");
}

TEST(ReplyBuilderTest, Integer) {
  ExpectBoth([](ReplyBuilder& rb) { rb.Integer(0); }, ":0\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.Integer(-42); }, ":-42\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.Integer(std::numeric_limits<int64_t>::max()); },
             ":9223372036854775807\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.Integer(std::numeric_limits<int64_t>::min()); },
             ":-9223372036854775808\r\n");
}

TEST(ReplyBuilderTest, Bulk) {
  ExpectBoth([](ReplyBuilder& rb) { rb.Bulk("hello"); }, "$5\r\nhello\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.Bulk(""); }, "$0\r\n\r\n");
  std::string binary("a\r\n\0b", 5);
  ExpectBoth([&](ReplyBuilder& rb) { rb.Bulk(binary); }, "$5\r\n" + binary + "\r\n");
  std::string big(100000, 'z');
  ExpectBoth([&](ReplyBuilder& rb) { rb.Bulk(big); }, "$100000\r\n" + big + "\r\n");
}

TEST(ReplyBuilderTest, Error) {
  ExpectBoth([](ReplyBuilder& rb) { rb.Error("ERR syntax error"); }, "-ERR syntax error\r\n");
  // CR and LF become spaces so the error stays one line.
  ExpectBoth([](ReplyBuilder& rb) { rb.Error("ERR bad\r\nthing\nhere\r"); },
             "-ERR bad  thing here \r\n");
  // Only the message is sanitised, not what the buffer held before.
  std::string out = "+A\r\n";
  ReplyBuilder rb(&out, RespVersion::kResp2);
  rb.Error("ERR x\ny");
  EXPECT_EQ(out, "+A\r\n-ERR x y\r\n");
}

TEST(ReplyBuilderTest, Nulls) {
  EXPECT_EQ(R2([](ReplyBuilder& rb) { rb.Null(); }), "$-1\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.Null(); }), "_\r\n");
  EXPECT_EQ(R2([](ReplyBuilder& rb) { rb.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.NullArray(); }), "_\r\n");
}

TEST(ReplyBuilderTest, Array) {
  ExpectBoth([](ReplyBuilder& rb) { rb.ArrayHeader(0); }, "*0\r\n");
  ExpectBoth([](ReplyBuilder& rb) { rb.ArrayHeader(12345); }, "*12345\r\n");
}

TEST(ReplyBuilderTest, ArrayWithMixedElements) {
  auto fn = [](ReplyBuilder& rb) {
    rb.ArrayHeader(3);
    rb.Bulk("a");
    rb.Integer(1);
    rb.Null();
  };
  EXPECT_EQ(R2(fn), "*3\r\n$1\r\na\r\n:1\r\n$-1\r\n");
  EXPECT_EQ(R3(fn), "*3\r\n$1\r\na\r\n:1\r\n_\r\n");
}

TEST(ReplyBuilderTest, BulkArray) {
  std::string_view items[] = {"x", "", "yz"};
  ExpectBoth([&](ReplyBuilder& rb) { rb.BulkArray(items, 3); },
             "*3\r\n$1\r\nx\r\n$0\r\n\r\n$2\r\nyz\r\n");
  ExpectBoth([&](ReplyBuilder& rb) { rb.BulkArray(nullptr, 0); }, "*0\r\n");
}

TEST(ReplyBuilderTest, Map) {
  auto fn = [](ReplyBuilder& rb) {
    rb.MapHeader(2);
    rb.Bulk("k1");
    rb.Integer(1);
    rb.Bulk("k2");
    rb.Bulk("v");
  };
  EXPECT_EQ(R2(fn), "*4\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n$1\r\nv\r\n");
  EXPECT_EQ(R3(fn), "%2\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n$1\r\nv\r\n");
  EXPECT_EQ(R2([](ReplyBuilder& rb) { rb.MapHeader(0); }), "*0\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.MapHeader(0); }), "%0\r\n");
}

TEST(ReplyBuilderTest, Set) {
  auto fn = [](ReplyBuilder& rb) {
    rb.SetHeader(2);
    rb.Bulk("a");
    rb.Bulk("b");
  };
  EXPECT_EQ(R2(fn), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(R3(fn), "~2\r\n$1\r\na\r\n$1\r\nb\r\n");
}

TEST(ReplyBuilderTest, Push) {
  auto fn = [](ReplyBuilder& rb) {
    rb.PushHeader(3);
    rb.Bulk("message");
    rb.Bulk("ch");
    rb.Bulk("hi");
  };
  EXPECT_EQ(R2(fn), "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(R3(fn), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
}

TEST(ReplyBuilderTest, Double) {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {1.5, "1.5"},
      {0.1, "0.10000000000000001"},
      {3.0, "3"},
      {-2.25, "-2.25"},
      {0.0, "0"},
      {-0.0, "-0"},
      {1e300, "1.0000000000000001e+300"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {1.0 / 3, "0.33333333333333331"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    std::string text = c.text;
    EXPECT_EQ(FormatDouble(c.value), text);
    EXPECT_EQ(R2([&](ReplyBuilder& rb) { rb.Double(c.value); }),
              "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n");
    EXPECT_EQ(R3([&](ReplyBuilder& rb) { rb.Double(c.value); }), "," + text + "\r\n");
  }
  // NaN prints as glibc's "%.17g" does, as in Redis.
  EXPECT_EQ(FormatDouble(std::nan("")), "nan");
  EXPECT_EQ(FormatDouble(-std::nan("")), "-nan");
}

TEST(ReplyBuilderTest, Bool) {
  EXPECT_EQ(R2([](ReplyBuilder& rb) { rb.Bool(true); }), ":1\r\n");
  EXPECT_EQ(R2([](ReplyBuilder& rb) { rb.Bool(false); }), ":0\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.Bool(true); }), "#t\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.Bool(false); }), "#f\r\n");
}

TEST(ReplyBuilderTest, Verbatim) {
  EXPECT_EQ(R2([](ReplyBuilder& rb) { rb.Verbatim("hello\r\nworld"); }),
            "$12\r\nhello\r\nworld\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.Verbatim("hello\r\nworld"); }),
            "=16\r\ntxt:hello\r\nworld\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.Verbatim("# Server", "mkd"); }),
            "=12\r\nmkd:# Server\r\n");
  EXPECT_EQ(R3([](ReplyBuilder& rb) { rb.Verbatim(""); }), "=4\r\ntxt:\r\n");
}

TEST(ReplyBuilderTest, RawAndAppending) {
  std::string out = "prefix";
  ReplyBuilder rb(&out, RespVersion::kResp3);
  rb.Raw("+X\r\n");
  rb.Integer(7);
  EXPECT_EQ(out, "prefix+X\r\n:7\r\n");
}

}  // namespace
}  // namespace shardis
