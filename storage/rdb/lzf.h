// LZF compression in the format liblzf defines (and Redis uses for RDB strings): a stream of
// literal runs (control byte 000LLLLL, then L+1 bytes) and back references (control byte LLLOOOOO
// with L in 1..7, one more length byte when L is 7, then the low offset byte; the copy is L+2
// bytes long and starts offset+1 bytes back). Our own implementation, written from the format;
// pure functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shardis::rdb {

// Compresses `in` into out[0, out_cap). Returns the compressed size, or 0 when the result does
// not fit in out_cap bytes (callers pass less than in.size() to keep only useful compressions).
size_t LzfCompress(std::string_view in, uint8_t* out, size_t out_cap);

// Decompresses `in`, which must expand to exactly `out_len` bytes, into *out. False on any
// malformed input (a reference before the start, a run past either end, a wrong final size).
bool LzfDecompress(std::string_view in, size_t out_len, std::string* out);

}  // namespace shardis::rdb
