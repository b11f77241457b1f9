// CRC-64 as Redis computes it for RDB files and DUMP payloads: the "Jones" polynomial
// (0xad93d23594c935a9), reflected input and output, initial value 0, no final xor;
// Crc64(0, "123456789") == 0xe9c6d914c4b8d9ca. Slice-by-8 tables built once; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace shardis::rdb {

// Continues the CRC `crc` over `data` (start with 0).
uint64_t Crc64(uint64_t crc, std::string_view data);

}  // namespace shardis::rdb
