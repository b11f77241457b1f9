// CRC-64/Jones, reflected, slice-by-8 (see crc64.h).
#include "storage/rdb/crc64.h"

#include <cstring>

namespace shardis::rdb {
namespace {

constexpr uint64_t kPolyReflected = 0x95ac9329ac4bc9b5ULL;  // 0xad93d23594c935a9 bit-reversed

struct Tables {
  uint64_t t[8][256];
  Tables() {
    for (int i = 0; i < 256; ++i) {
      uint64_t crc = static_cast<uint64_t>(i);
      for (int b = 0; b < 8; ++b) crc = (crc & 1) ? (crc >> 1) ^ kPolyReflected : crc >> 1;
      t[0][i] = crc;
    }
    for (int i = 0; i < 256; ++i) {
      for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view data) {
  const Tables& tb = GetTables();
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  while (n >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);  // little-endian host (x86-64, aarch64)
    crc ^= word;
    crc = tb.t[7][crc & 0xff] ^ tb.t[6][(crc >> 8) & 0xff] ^ tb.t[5][(crc >> 16) & 0xff] ^
          tb.t[4][(crc >> 24) & 0xff] ^ tb.t[3][(crc >> 32) & 0xff] ^ tb.t[2][(crc >> 40) & 0xff] ^
          tb.t[1][(crc >> 48) & 0xff] ^ tb.t[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = tb.t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace shardis::rdb
