// LZF encoder and decoder (see lzf.h). The encoder finds matches with a hash table of the last
// position of each 3-byte sequence (one probe, no chains), as the format's reference design does.
// The table is per thread and reused (see LzfCompress), so compressing a short string costs no
// allocation or clearing.
#include "storage/rdb/lzf.h"

#include <cstring>

namespace shardis::rdb {
namespace {

constexpr size_t kMaxLiteral = 32;
constexpr size_t kMaxOffset = 8192;
constexpr size_t kMaxMatch = 264;  // (7 + 255) + 2
constexpr int kHashBits = 14;

inline uint32_t Hash3(const uint8_t* p) {
  uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
  return (v * 2654435761u) >> (32 - kHashBits);
}

}  // namespace

size_t LzfCompress(std::string_view input, uint8_t* out, size_t out_cap) {
  const uint8_t* in = reinterpret_cast<const uint8_t*>(input.data());
  const size_t n = input.size();
  if (n == 0) return 0;
  // The hash table is reused across calls without clearing: a stale entry is just a candidate
  // position, verified (it must be behind ip, within reach, with equal bytes) before use.
  thread_local uint32_t table[size_t{1} << kHashBits];
  size_t op = 0;
  size_t lit_start = 0;  // first byte of the pending literal run
  size_t ip = 0;

  // Writes in[lit_start, end) as literal runs of at most 32 bytes.
  auto flush_literals = [&](size_t end) -> bool {
    while (lit_start < end) {
      size_t run = end - lit_start;
      if (run > kMaxLiteral) run = kMaxLiteral;
      if (op + 1 + run > out_cap) return false;
      out[op++] = static_cast<uint8_t>(run - 1);
      memcpy(out + op, in + lit_start, run);
      op += run;
      lit_start += run;
    }
    return true;
  };

  while (ip + 2 < n) {
    uint32_t h = Hash3(in + ip);
    uint32_t ref = table[h];
    table[h] = static_cast<uint32_t>(ip);
    if (ref < ip && ip - ref <= kMaxOffset && in[ref] == in[ip] && in[ref + 1] == in[ip + 1] &&
        in[ref + 2] == in[ip + 2]) {
      size_t max_len = n - ip;
      if (max_len > kMaxMatch) max_len = kMaxMatch;
      size_t len = 3;
      while (len < max_len && in[ref + len] == in[ip + len]) ++len;
      if (!flush_literals(ip)) return 0;
      size_t off = ip - ref - 1;
      size_t l = len - 2;  // 1..262
      if (l < 7) {
        if (op + 2 > out_cap) return 0;
        out[op++] = static_cast<uint8_t>((l << 5) | (off >> 8));
      } else {
        if (op + 3 > out_cap) return 0;
        out[op++] = static_cast<uint8_t>((7 << 5) | (off >> 8));
        out[op++] = static_cast<uint8_t>(l - 7);
      }
      out[op++] = static_cast<uint8_t>(off & 0xff);
      // Index the positions the match covers so later data can refer to them.
      size_t end = ip + len;
      for (size_t p = ip + 1; p + 2 < n && p < end; ++p) {
        table[Hash3(in + p)] = static_cast<uint32_t>(p);
      }
      ip = end;
      lit_start = ip;
    } else {
      ++ip;
    }
  }
  if (!flush_literals(n)) return 0;
  return op;
}

bool LzfDecompress(std::string_view input, size_t out_len, std::string* out) {
  const uint8_t* in = reinterpret_cast<const uint8_t*>(input.data());
  const size_t n = input.size();
  out->resize(out_len);
  char* dst = out->data();
  size_t ip = 0;
  size_t op = 0;
  while (ip < n) {
    uint32_t ctrl = in[ip++];
    if (ctrl < 32) {
      size_t run = ctrl + 1;
      if (ip + run > n || op + run > out_len) return false;
      memcpy(dst + op, in + ip, run);
      ip += run;
      op += run;
    } else {
      size_t len = ctrl >> 5;
      if (len == 7) {
        if (ip >= n) return false;
        len += in[ip++];
      }
      len += 2;
      if (ip >= n) return false;
      size_t back = ((ctrl & 0x1f) << 8) + in[ip++] + 1;
      if (back > op || op + len > out_len) return false;
      // Byte by byte: source and destination overlap when back < len (a repeated pattern).
      for (size_t i = 0; i < len; ++i) dst[op + i] = dst[op - back + i];
      op += len;
    }
  }
  return op == out_len;
}

}  // namespace shardis::rdb
