// Key -> Redis Cluster hash slot: CRC16-XMODEM of the key, or of its {hashtag}, mod 16384.
// Pure functions, callable from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace shardis {

inline constexpr uint32_t kSlotCount = 16384;

uint16_t Crc16(std::string_view data);
// The part of the key that is hashed: the text between the first '{' and the next '}' when that
// is non-empty, else the whole key (the Redis Cluster rule).
std::string_view HashTag(std::string_view key);
inline uint32_t KeySlot(std::string_view key) { return Crc16(HashTag(key)) & (kSlotCount - 1); }

}  // namespace shardis
