// Tests for the key -> cluster slot mapping: CRC16-XMODEM vectors, hashtag rules and slots
// checked against redis-server 7.0's CLUSTER KEYSLOT.
#include "storage/slot.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace shardis {
namespace {

TEST(Crc16Test, KnownVectors) {
  EXPECT_EQ(Crc16(""), 0x0000);
  EXPECT_EQ(Crc16("123456789"), 0x31C3);  // CRC-16/XMODEM check value
  EXPECT_EQ(Crc16("A"), 0x58E5);
  EXPECT_EQ(Crc16(std::string_view("\0", 1)), 0x0000);
  EXPECT_EQ(Crc16(std::string_view("\xff", 1)), 0x1EF0);
}

// The sliced CRC equals the plain bit-by-bit definition for every length around the 8-byte
// stride and for random bytes.
TEST(Crc16Test, MatchesBitwiseDefinition) {
  auto bitwise = [](std::string_view data) {
    uint16_t crc = 0;
    for (unsigned char c : data) {
      crc ^= static_cast<uint16_t>(c << 8);
      for (int bit = 0; bit < 8; ++bit) {
        crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                             : static_cast<uint16_t>(crc << 1);
      }
    }
    return crc;
  };
  uint32_t seed = 12345;
  std::string data;
  for (int len = 0; len < 100; ++len) {
    for (int round = 0; round < 20; ++round) {
      data.clear();
      for (int i = 0; i < len; ++i) {
        seed = seed * 1103515245 + 12345;
        data.push_back(static_cast<char>(seed >> 16));
      }
      ASSERT_EQ(Crc16(data), bitwise(data)) << "length " << len;
    }
  }
}

TEST(HashTagTest, Rules) {
  EXPECT_EQ(HashTag("{user1000}.following"), "user1000");
  EXPECT_EQ(HashTag("{user1000}.followers"), "user1000");
  EXPECT_EQ(HashTag("foo{}{bar}"), "foo{}{bar}");  // first '{' then '}' right away: whole key
  EXPECT_EQ(HashTag("foo{{bar}}zap"), "{bar");     // from the first '{' to the next '}'
  EXPECT_EQ(HashTag("foo{bar}{zap}"), "bar");      // only the first tag counts
  EXPECT_EQ(HashTag("{bar"), "{bar");
  EXPECT_EQ(HashTag("bar}"), "bar}");
  EXPECT_EQ(HashTag("{}"), "{}");
  EXPECT_EQ(HashTag(""), "");
  EXPECT_EQ(HashTag("a{b}c"), "b");
  EXPECT_EQ(HashTag("}{a}"), "a");
}

TEST(KeySlotTest, MatchesRedisClusterKeyslot) {
  // Expected values from redis-server 7.0.15: CLUSTER KEYSLOT <key>.
  struct Case {
    std::string key;
    uint32_t slot;
  };
  const Case cases[] = {
      {"", 0},
      {"a", 15495},
      {"foo", 12182},
      {"bar", 5061},
      {"123456789", 12739},
      {"{user1000}.following", 3443},
      {"{user1000}.followers", 3443},
      {"user1000", 3443},
      {"foo{}{bar}", 8363},
      {"foo{{bar}}zap", 4015},
      {"foo{bar}{zap}", 5061},
      {"{bar", 4015},
      {"bar}", 6624},
      {"{}", 15257},
      {"{", 4092},
      {"}", 12090},
      {"a{b}c", 3300},
      {"hello world", 15332},
      {"key:000001", 5493},
      {"{a}", 15495},
      {"\xce\xa9", 4504},  // "Ω" in UTF-8
      {std::string("\0", 1), 0},
      {std::string("\xff\x00\x80"
                   "abc",
                   6),
       5201},
      {std::string("{\0}x", 4), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(KeySlot(c.key), c.slot);
  }
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(KeySlot(all_bytes), 16155u);
}

TEST(KeySlotTest, AlwaysInRange) {
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(KeySlot("key:" + std::to_string(i)), kSlotCount);
  }
}

}  // namespace
}  // namespace shardis
